//! `custodian user add|list|disable|enable|reset-password`: managing people from the command line.
//! The first user of an empty catalog may be added without `--as`, and must be an administrator.

use anyhow::{Context, bail};

use super::actor::Actor;
use crate::accounts::{self, AccountError};
use serde_json::json;

use crate::db::audit::{self, AuditActor};
use crate::db::{Db, accounts as repo, dialect, now};
use crate::governance::access::{Permission, Role};

/// Where a new password comes from.
pub enum PasswordSource {
    /// The named environment variable.
    Env(String),
    /// Asked for twice on the terminal, without echo.
    Prompt,
}

pub fn read_password(source: &PasswordSource) -> anyhow::Result<String> {
    let password = match source {
        PasswordSource::Env(var) => {
            std::env::var(var).with_context(|| format!("the environment variable {var} is not set"))?
        }
        PasswordSource::Prompt => {
            let first = rpassword::prompt_password("Password: ").context("reading the password")?;
            let second = rpassword::prompt_password("Again: ").context("reading the password")?;
            if first != second {
                bail!("the two passwords differ");
            }
            first
        }
    };
    accounts::validate_password(&password).map_err(|m| anyhow::anyhow!("password: {m}"))?;
    Ok(password)
}

pub fn add(
    db: &Db,
    actor: Option<&str>,
    username: &str,
    role: Role,
    display_name: Option<String>,
    password: &PasswordSource,
) -> anyhow::Result<()> {
    let first = repo::count_users(&mut *db.reader()?)? == 0;
    let by = if first {
        if role != Role::Admin {
            bail!("the catalog has no users yet: the first one must be an administrator (--role admin)");
        }
        AuditActor::system()
    } else {
        Actor::require(db, actor, Permission::ManageUsers)?.audit()
    };
    accounts::validate_username(username).map_err(|m| anyhow::anyhow!("username: {m}"))?;
    let password = read_password(password)?;
    let mut conn = db.writer()?;
    let user = dialect::write_transaction(&mut conn, |conn| {
        let now = now();
        let user = accounts::create_user(conn, username, display_name.clone(), role, &password, now)?;
        let event = by
            .event("user.create", "user")
            .entity_id(user.id)
            .after(json!({ "username": user.username, "role": user.role }));
        let event = if first { event.reason("the first administrator of an empty catalog") } else { event };
        audit::append(conn, &event, now)?;
        Ok(user)
    })
    .map_err(|e| match e {
        AccountError::Invalid(m) => anyhow::anyhow!(m),
        other => anyhow::anyhow!(other),
    })?;
    println!("Added {} as {} (#{}).", user.username, role.label(), user.id);
    Ok(())
}

pub fn list(db: &Db) -> anyhow::Result<()> {
    let users = repo::list_users(&mut *db.reader()?)?;
    if users.is_empty() {
        println!("No users yet. Add the first administrator with: custodian user add NAME --role admin");
        return Ok(());
    }
    println!("{:<24} {:<14} {:<9} last sign-in", "username", "role", "status");
    for u in users {
        let last = u.last_login_at.map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
        println!("{:<24} {:<14} {:<9} {last}", u.username, u.role, if u.disabled { "disabled" } else { "active" });
    }
    Ok(())
}

pub fn set_disabled(db: &Db, actor: Option<&str>, username: &str, disabled: bool) -> anyhow::Result<()> {
    let actor = Actor::require(db, actor, Permission::ManageUsers)?;
    if disabled && actor.name == username {
        bail!("you cannot disable yourself");
    }
    let mut conn = db.writer()?;
    dialect::write_transaction(&mut conn, |conn| {
        let user =
            repo::find_user_by_name(conn, username)?.with_context(|| format!("there is no user named {username:?}"))?;
        if disabled && user.role == Role::Admin.as_str() {
            let admins =
                repo::list_users(conn)?.iter().filter(|u| u.role == "admin" && !u.disabled && u.id != user.id).count();
            if admins == 0 {
                bail!("{username} is the only enabled administrator");
            }
        }
        let now = now();
        repo::set_user_disabled(conn, user.id, disabled, now)?;
        let ended = if disabled { repo::revoke_user_sessions(conn, user.id, now)? } else { 0 };
        let action = if disabled { "user.disable" } else { "user.enable" };
        audit::append(
            conn,
            &actor.audit().event(action, "user").entity_id(user.id).after(json!({ "sessions_ended": ended })),
            now,
        )?;
        Ok(())
    })?;
    println!("{username} is now {}.", if disabled { "disabled (their sessions have ended)" } else { "enabled" });
    Ok(())
}

pub fn reset_password(db: &Db, actor: Option<&str>, username: &str, password: &PasswordSource) -> anyhow::Result<()> {
    let actor = Actor::require(db, actor, Permission::ManageUsers)?;
    let password = read_password(password)?;
    let hash = accounts::hash_password(&password)?;
    let mut conn = db.writer()?;
    dialect::write_transaction(&mut conn, |conn| {
        let user =
            repo::find_user_by_name(conn, username)?.with_context(|| format!("there is no user named {username:?}"))?;
        let now = now();
        repo::set_password_hash(conn, user.id, &hash, now)?;
        let ended = repo::revoke_user_sessions(conn, user.id, now)?;
        audit::append(
            conn,
            &actor.audit().event("user.password", "user").entity_id(user.id).after(json!({ "sessions_ended": ended })),
            now,
        )?;
        Ok::<_, anyhow::Error>(())
    })?;
    println!("The password of {username} is set; their sessions have ended.");
    Ok(())
}
