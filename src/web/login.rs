//! Signing in and out. Sign-in is throttled per account and per address; a new session (and a new
//! cookie) replaces any previous one, and signing out ends the session on the server.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{self, CurrentUser};
use super::{AppState, Layout, render_status, write};
use crate::accounts::{self, PasswordCheck};
use crate::db::audit::{self, AuditActor};
use crate::db::{accounts as repo, now};
use crate::demo::{DEMO_ACCOUNTS, DemoAccount};
use crate::error::AppError;
use crate::governance::audit::actors::ANONYMOUS;
use serde_json::json;

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub username: String,
    pub next: String,
    pub error: Option<String>,
    pub demo_accounts: &'static [DemoAccount],
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    pub next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub username: Option<String>,
    pub password: Option<String>,
    pub next: Option<String>,
}

/// Only paths of this site are followed after sign-in (no `//host` or `https://…`).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.contains(['\r', '\n']) => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn demo_accounts(state: &AppState) -> &'static [DemoAccount] {
    if state.config.demo { DEMO_ACCOUNTS } else { &[] }
}

fn page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    username: String,
    next: String,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let (csrf, cookie) = auth::anonymous_csrf(req, state)?;
    let body = LoginPage {
        layout: Layout::anonymous(state.config.demo, "Sign in", csrf),
        username,
        next,
        error,
        demo_accounts: demo_accounts(state),
    };
    let mut res = render_status(status, &body)?;
    if let Some(cookie) = cookie {
        res.add_cookie(&cookie).map_err(AppError::internal)?;
    }
    Ok(res)
}

pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    if req.extensions().get::<CurrentUser>().is_some() {
        return Ok(HttpResponse::SeeOther().insert_header((LOCATION, safe_next(query.next.as_deref()))).finish());
    }
    page(&req, &state, StatusCode::OK, String::new(), safe_next(query.next.as_deref()), None)
}

/// The client's address for throttling: the socket peer (a proxy in front should be trusted to
/// pass its own limits; forwarded headers are not believed).
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr().map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let username = form.username.unwrap_or_default().trim().to_owned();
    let password = form.password.unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    if username.is_empty() || password.is_empty() || username.chars().count() > accounts::USERNAME_MAX {
        return page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            username,
            next,
            Some("Enter your username and password.".into()),
        );
    }
    let address = client_address(&req);

    let db = state.db.clone();
    let (name, addr) = (username.clone(), address.clone());
    let (wait, check) = web::block(move || -> Result<_, AppError> {
        let mut conn = db.reader()?;
        let wait = accounts::throttled(&mut conn, &name, &addr, now()).map_err(AppError::internal)?;
        if wait.is_some() {
            return Ok((wait, None));
        }
        // The password check is slow on purpose; it runs on a reader, outside any transaction.
        let check = accounts::check_password(&mut conn, &name, &password).map_err(AppError::internal)?;
        Ok((None, Some(check)))
    })
    .await??;
    if let Some(seconds) = wait {
        let minutes = (seconds + 59) / 60;
        tracing::warn!(address = %address, "sign-in throttled");
        return Err(AppError::TooManyRequests(format!(
            "Too many failed sign-ins for this account or from this address. Try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        )));
    }
    let old_session = auth::session_token(&req, &state);
    let request_id = req.extensions().get::<crate::RequestId>().map(|r| r.0.clone());
    let policy = state.config.session_policy;
    match check {
        Some(PasswordCheck::Valid(user)) => {
            let started = write(&state, move |conn| {
                let now = now();
                if let Some(old) = old_session
                    && let Some((session, _)) = repo::find_session(conn, &accounts::token_hash(&old))?
                {
                    repo::revoke_session(conn, session.id, now)?;
                }
                let started = accounts::start_session(conn, &user, &policy, now).map_err(AppError::internal)?;
                let by = AuditActor { actor: user.username.clone(), role: Some(user.role.clone()), request_id };
                audit::append(
                    conn,
                    &by.event("login.success", "user")
                        .entity_id(user.id)
                        .after(json!({ "session": started.session.id })),
                    now,
                )?;
                Ok(started)
            })
            .await?;
            let cookie = auth::session_cookie(&state, &started.token);
            Ok(HttpResponse::SeeOther().insert_header((LOCATION, next)).cookie(cookie).finish())
        }
        _ => {
            let (name, addr) = (username.clone(), address.clone());
            write(&state, move |conn| {
                let now = now();
                repo::record_login_failure(conn, &name, &addr, now)?;
                // The attempted name is kept only when it is an account's: people type passwords
                // into the username field, and those must not reach the log.
                let known = repo::find_user_by_name(conn, &name)?;
                let by = AuditActor { actor: ANONYMOUS.to_owned(), role: None, request_id };
                let event = by.event("login.failure", "user");
                let event = match known {
                    Some(user) => event.entity_id(user.id),
                    None => event.after(json!({ "known_account": false })),
                };
                audit::append(conn, &event, now)?;
                Ok(())
            })
            .await?;
            page(&req, &state, StatusCode::UNAUTHORIZED, username, next, Some("Wrong username or password.".into()))
        }
    }
}

pub async fn logout(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    if let Some(id) = user.session_id {
        let by = user.audit();
        let user_id = user.user_id;
        write(&state, move |conn| {
            let now = now();
            repo::revoke_session(conn, id, now)?;
            let event = by.event("session.end", "user");
            let event = match user_id {
                Some(uid) => event.entity_id(uid),
                None => event,
            };
            audit::append(conn, &event, now)?;
            Ok(())
        })
        .await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/login"))
        .cookie(auth::expired_session_cookie(&state))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/datasets/4?x=1")), "/datasets/4?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
