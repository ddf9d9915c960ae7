//! Administration: users and their roles (add, change role, disable, enable, reset password) and
//! API tokens (create — shown once —, list, revoke). Administrators only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{Authorized, CurrentUser, ManageTokens, ManageUsers};
use super::forms::FieldErrors;
use super::{AppState, Layout, Section, read, render_status, see_other, view, write};
use crate::accounts::{self, AccountError};
use crate::db::audit::{self, AuditActor};
use crate::db::models::{ApiToken, User};
use crate::db::{accounts as repo, now};
use crate::error::AppError;
use crate::governance::access::Role;
use serde_json::json;

pub struct RoleChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn role_choices(selected: Option<&str>) -> Vec<RoleChoice> {
    Role::ALL
        .iter()
        .map(|r| RoleChoice { value: r.as_str(), label: r.label(), selected: selected == Some(r.as_str()) })
        .collect()
}

pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub disabled: bool,
    pub last_login: String,
}

fn role_label(role: &str) -> &'static str {
    Role::parse(role).map_or("unknown", Role::label)
}

fn user_row(u: &User) -> UserRow {
    UserRow {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone().unwrap_or_default(),
        role: role_label(&u.role),
        disabled: u.disabled,
        last_login: u.last_login_at.as_ref().map_or_else(|| "never".to_owned(), view::relative),
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct NewUserForm {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub password: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    pub layout: Layout,
    pub users: Vec<UserRow>,
    pub form: NewUserForm,
    pub roles: Vec<RoleChoice>,
    pub errors: FieldErrors,
}

impl UsersPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

async fn users_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    form: NewUserForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let users = read(state, |conn| Ok(repo::list_users(conn)?)).await?;
    let roles = role_choices(form.role.as_deref().or(Some("viewer")));
    render_status(
        status,
        &UsersPage {
            layout: Layout::new(state, user, "Users", Section::Admin),
            users: users.iter().map(user_row).collect(),
            form,
            roles,
            errors,
        },
    )
}

pub async fn users(state: web::Data<AppState>, auth: Authorized<ManageUsers>) -> Result<HttpResponse, AppError> {
    users_page(&state, &auth.user, StatusCode::OK, NewUserForm::default(), FieldErrors::default()).await
}

pub async fn create_user(
    state: web::Data<AppState>,
    auth: Authorized<ManageUsers>,
    form: web::Form<NewUserForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let username = form.username.clone().unwrap_or_default().trim().to_owned();
    if let Err(m) = accounts::validate_username(&username) {
        errors.add("username", m);
    }
    let role = form.role.as_deref().and_then(Role::parse);
    if role.is_none() {
        errors.add("role", "Choose a role.");
    }
    let password = form.password.clone().unwrap_or_default();
    if let Err(m) = accounts::validate_password(&password) {
        errors.add("password", m);
    }
    let display_name = form.display_name.clone().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if display_name.as_ref().is_some_and(|d| d.chars().count() > 200) {
        errors.add("display_name", "At most 200 characters.");
    }
    let (Some(role), true) = (role, errors.is_empty()) else {
        return users_page(&state, &auth.user, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await;
    };
    let name = username.clone();
    let by = auth.user.audit();
    let created = write(&state, move |conn| {
        let now = now();
        match accounts::create_user(conn, &name, display_name, role, &password, now) {
            Ok(user) => {
                audit::append(
                    conn,
                    &by.event("user.create", "user")
                        .entity_id(user.id)
                        .after(json!({ "username": user.username, "role": user.role })),
                    now,
                )?;
                Ok(Ok(user))
            }
            Err(AccountError::Invalid(m)) => Ok(Err(m)),
            Err(e) => Err(AppError::internal(e)),
        }
    })
    .await?;
    match created {
        Ok(user) => Ok(see_other(&format!("/admin/users/{}", user.id))),
        Err(message) => {
            errors.add("username", message);
            users_page(&state, &auth.user, StatusCode::UNPROCESSABLE_ENTITY, form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
pub struct UserPage {
    pub layout: Layout,
    pub target: UserRow,
    pub roles: Vec<RoleChoice>,
    pub created: String,
    pub is_self: bool,
    pub password_error: Option<String>,
}

async fn find_user(state: &AppState, id: i64) -> Result<User, AppError> {
    read(state, move |conn| repo::find_user(conn, id)?.ok_or_else(|| AppError::not_found(format!("User {id}")))).await
}

async fn user_page(
    state: &AppState,
    me: &CurrentUser,
    target: User,
    status: StatusCode,
    password_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    render_status(
        status,
        &UserPage {
            layout: Layout::new(state, me, format!("User {}", target.username), Section::Admin),
            roles: role_choices(Some(&target.role)),
            created: view::time(&target.created_at),
            is_self: me.user_id == Some(target.id),
            target: user_row(&target),
            password_error,
        },
    )
}

pub async fn user(
    state: web::Data<AppState>,
    auth: Authorized<ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let target = find_user(&state, id.into_inner()).await?;
    user_page(&state, &auth.user, target, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    pub role: Option<String>,
}

/// Refuses a change that would leave no enabled administrator.
fn keeps_an_admin(
    conn: &mut crate::db::AnyConnection,
    target: &User,
    new_role: Role,
    disabled: bool,
) -> Result<(), AppError> {
    let was_admin = target.role == Role::Admin.as_str() && !target.disabled;
    let stays_admin = new_role == Role::Admin && !disabled;
    if was_admin && !stays_admin {
        let admins = repo::list_users(conn)?
            .iter()
            .filter(|u| u.role == Role::Admin.as_str() && !u.disabled && u.id != target.id)
            .count();
        if admins == 0 {
            return Err(AppError::Conflict(
                "This is the only enabled administrator; make another user an administrator first.".into(),
            ));
        }
    }
    Ok(())
}

pub async fn set_role(
    state: web::Data<AppState>,
    auth: Authorized<ManageUsers>,
    id: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let role =
        form.role.as_deref().and_then(Role::parse).ok_or_else(|| AppError::BadRequest("Unknown role.".into()))?;
    let by = auth.user.audit();
    write(&state, move |conn| {
        let target = repo::find_user(conn, id)?.ok_or_else(|| AppError::not_found(format!("User {id}")))?;
        keeps_an_admin(conn, &target, role, target.disabled)?;
        let now = now();
        repo::update_user_role(conn, id, role.as_str(), now)?;
        audit::append(
            conn,
            &by.event("user.role", "user")
                .entity_id(id)
                .before(json!({ "role": target.role }))
                .after(json!({ "role": role.as_str() })),
            now,
        )?;
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/admin/users/{id}")))
}

async fn set_disabled(state: &AppState, by: AuditActor, id: i64, disabled: bool) -> Result<HttpResponse, AppError> {
    write(state, move |conn| {
        let target = repo::find_user(conn, id)?.ok_or_else(|| AppError::not_found(format!("User {id}")))?;
        let role = Role::parse(&target.role).unwrap_or(Role::Viewer);
        keeps_an_admin(conn, &target, role, disabled)?;
        let now = now();
        repo::set_user_disabled(conn, id, disabled, now)?;
        let ended = if disabled { repo::revoke_user_sessions(conn, id, now)? } else { 0 };
        let action = if disabled { "user.disable" } else { "user.enable" };
        audit::append(conn, &by.event(action, "user").entity_id(id).after(json!({ "sessions_ended": ended })), now)?;
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/admin/users/{id}")))
}

pub async fn disable(
    state: web::Data<AppState>,
    auth: Authorized<ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(&state, auth.user.audit(), id.into_inner(), true).await
}

pub async fn enable(
    state: web::Data<AppState>,
    auth: Authorized<ManageUsers>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_disabled(&state, auth.user.audit(), id.into_inner(), false).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub password: Option<String>,
}

pub async fn reset_password(
    state: web::Data<AppState>,
    auth: Authorized<ManageUsers>,
    id: web::Path<i64>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let target = find_user(&state, id).await?;
    let password = form.password.clone().unwrap_or_default();
    if let Err(m) = accounts::validate_password(&password) {
        return user_page(&state, &auth.user, target, StatusCode::UNPROCESSABLE_ENTITY, Some(m)).await;
    }
    let hash = web::block(move || accounts::hash_password(&password)).await?.map_err(AppError::internal)?;
    let by = auth.user.audit();
    write(&state, move |conn| {
        let now = now();
        repo::set_password_hash(conn, id, &hash, now)?;
        let ended = repo::revoke_user_sessions(conn, id, now)?;
        // The event says that the password changed, never what it is (not even its hash).
        audit::append(
            conn,
            &by.event("user.password", "user").entity_id(id).after(json!({ "sessions_ended": ended })),
            now,
        )?;
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/admin/users/{id}")))
}

// ---------------------------------------------------------------------------------------------
// API tokens

pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub role: &'static str,
    pub prefix: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

fn token_row(t: &ApiToken) -> TokenRow {
    TokenRow {
        id: t.id,
        name: t.name.clone(),
        role: role_label(&t.role),
        prefix: t.prefix.clone(),
        created: view::time(&t.created_at),
        last_used: t.last_used_at.as_ref().map_or_else(|| "never".to_owned(), view::relative),
        revoked: t.revoked_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    pub layout: Layout,
    pub tokens: Vec<TokenRow>,
    pub roles: Vec<RoleChoice>,
    pub name: String,
    pub errors: FieldErrors,
    /// A token just created: its secret, shown this once.
    pub created: Option<(String, String)>,
}

async fn tokens_page(
    state: &AppState,
    user: &CurrentUser,
    status: StatusCode,
    name: String,
    errors: FieldErrors,
    created: Option<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let tokens = read(state, |conn| Ok(repo::list_api_tokens(conn)?)).await?;
    let mut res = render_status(
        status,
        &TokensPage {
            layout: Layout::new(state, user, "API tokens", Section::Admin),
            tokens: tokens.iter().map(token_row).collect(),
            roles: role_choices(Some("viewer")),
            name,
            errors,
            created,
        },
    )?;
    // A page that shows a secret must not be cached anywhere.
    res.headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(res)
}

pub async fn tokens(state: web::Data<AppState>, auth: Authorized<ManageTokens>) -> Result<HttpResponse, AppError> {
    tokens_page(&state, &auth.user, StatusCode::OK, String::new(), FieldErrors::default(), None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    pub name: Option<String>,
    pub role: Option<String>,
}

pub async fn create_token(
    state: web::Data<AppState>,
    auth: Authorized<ManageTokens>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let name = form.name.clone().unwrap_or_default().trim().to_owned();
    let mut errors = FieldErrors::default();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("name", "Between 1 and 100 characters.");
    }
    let role = form.role.as_deref().and_then(Role::parse);
    if role.is_none() {
        errors.add("role", "Choose a role.");
    }
    let (Some(role), true) = (role, errors.is_empty()) else {
        return tokens_page(&state, &auth.user, StatusCode::UNPROCESSABLE_ENTITY, name, errors, None).await;
    };
    let created_by = auth.user.user_id;
    let token_name = name.clone();
    let by = auth.user.audit();
    let created = write(&state, move |conn| {
        let now = now();
        let created =
            accounts::create_api_token(conn, &token_name, role, created_by, now).map_err(AppError::internal)?;
        audit::append(
            conn,
            &by.event("token.create", "api_token").entity_id(created.token.id).after(
                json!({ "name": created.token.name, "role": created.token.role, "prefix": created.token.prefix }),
            ),
            now,
        )?;
        Ok(created)
    })
    .await?;
    tokens_page(
        &state,
        &auth.user,
        StatusCode::CREATED,
        String::new(),
        FieldErrors::default(),
        Some((name, created.secret)),
    )
    .await
}

pub async fn revoke_token(
    state: web::Data<AppState>,
    auth: Authorized<ManageTokens>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = auth.user.audit();
    write(&state, move |conn| {
        let token =
            repo::find_api_token_by_id(conn, id)?.ok_or_else(|| AppError::not_found(format!("API token {id}")))?;
        let now = now();
        if repo::revoke_api_token(conn, id, now)? > 0 {
            audit::append(
                conn,
                &by.event("token.revoke", "api_token").entity_id(id).before(json!({ "name": token.name })),
                now,
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(see_other("/admin/tokens"))
}
