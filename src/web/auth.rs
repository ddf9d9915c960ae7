//! Who is asking, and may they: the session and bearer-token middleware that attaches a
//! [`CurrentUser`] to each request, the CSRF check on every form post, and the [`Authorized`]
//! extractor that turns a missing permission into a 403.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, CookieJar, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{AUTHORIZATION, LOCATION};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};

use super::AppState;
use crate::accounts::{self, TOUCH_AFTER};
use crate::db::audit::AuditActor;
use crate::db::{accounts as repo, now};
use crate::error::AppError;
use crate::governance::access::{Permission, Role};

pub const SESSION_COOKIE: &str = "custodian_session";
/// The double-submit token for forms shown before sign-in (the login form).
pub const CSRF_COOKIE: &str = "custodian_csrf";
/// The form field (or `X-CSRF-Token` header) that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";

/// The person (or API token) making the request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user_id: Option<i64>,
    /// A username, or `token:<name>` for an API token.
    pub actor: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub session_id: Option<i64>,
    pub csrf_token: Option<String>,
    pub token_id: Option<i64>,
    /// The request's id, for its audit events.
    pub request_id: Option<String>,
}

impl CurrentUser {
    /// This person, for the audit events of this request.
    pub fn audit(&self) -> AuditActor {
        AuditActor {
            actor: self.actor.clone(),
            role: Some(self.role.as_str().to_owned()),
            request_id: self.request_id.clone(),
        }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.allows(permission)
    }

    /// Refuses with a 403 that says what is needed.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.can(permission) {
            return Ok(());
        }
        let holders: Vec<&str> = permission.holders().iter().map(|r| r.label()).collect();
        Err(AppError::Forbidden(format!(
            "You are signed in as {} ({}), and to {} you need the role of {}.",
            self.actor,
            self.role.label(),
            permission.describe(),
            holders.join(" or ")
        )))
    }
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<CurrentUser>()
                .cloned()
                .ok_or_else(|| AppError::Unauthenticated("Sign in to continue.".into())),
        )
    }
}

/// A permission an [`Authorized`] extractor demands.
pub trait Requirement {
    const PERMISSION: Permission;
}

macro_rules! requirements {
    ($($name:ident),* $(,)?) => {
        $(
            #[doc = concat!("Requires [`Permission::", stringify!($name), "`].")]
            pub struct $name;
            impl Requirement for $name {
                const PERMISSION: Permission = Permission::$name;
            }
        )*
    };
}

requirements!(
    ReadCatalog,
    EditCatalog,
    ManageUsers,
    ManageTokens,
    ReadAudit,
    Classify,
    ProposeClassification,
    ManageRetention
);

/// The current user, known to hold `P`'s permission; anyone else gets a 403 and nothing runs.
pub struct Authorized<P: Requirement> {
    pub user: CurrentUser,
    _permission: PhantomData<P>,
}

impl<P: Requirement> FromRequest for Authorized<P> {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = req
            .extensions()
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| AppError::Unauthenticated("Sign in to continue.".into()))
            .and_then(|user| user.require(P::PERMISSION).map(|()| Self { user, _permission: PhantomData }));
        ready(result)
    }
}

/// Paths anyone may reach.
fn is_public(path: &str) -> bool {
    path == "/login" || path == "/healthz" || path == "/readyz" || path.starts_with("/static/")
}

fn bearer_token(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

/// The session token in the signed cookie, if the signature holds.
pub fn session_token(req: &HttpRequest, state: &AppState) -> Option<String> {
    session_token_of_cookie(state, &req.cookie(SESSION_COOKIE)?)
}

/// The session token inside a signed cookie, if the signature holds.
pub fn session_token_of_cookie(state: &AppState, cookie: &Cookie<'_>) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(cookie.clone().into_owned());
    jar.signed(&state.cookie_key).get(SESSION_COOKIE).map(|c| c.value().to_owned())
}

/// A signed session cookie for `token`.
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    jar.signed_mut(&state.cookie_key).add(
        Cookie::build(SESSION_COOKIE, token.to_owned())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(state.config.secure_cookies)
            .finish(),
    );
    jar.get(SESSION_COOKIE).cloned().unwrap_or_else(|| Cookie::new(SESSION_COOKIE, ""))
}

/// A cookie that removes the session cookie.
pub fn expired_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .finish();
    cookie.make_removal();
    cookie
}

/// Finds who is asking (session cookie, or bearer token on the API) and attaches it; sends
/// everyone else to the sign-in page (or a 401 on the API).
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let path = req.path().to_owned();
    if path.starts_with("/static/")
        || path == "/healthz"
        || path == "/readyz"
        || path == "/metrics"
        || path == "/api/v1/openapi.json"
    {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let is_api = path.starts_with("/api/");
    let user = if let Some(secret) = bearer_token(&req).filter(|_| is_api) {
        match token_user(&state, secret).await {
            Ok(Some(user)) => Some(user),
            Ok(None) => {
                return Ok(req.error_response(AppError::Unauthenticated(
                    "The API token is not valid or has been revoked.".into(),
                )));
            }
            Err(e) => return Ok(req.error_response(e)),
        }
    } else if let Some(token) = session_token(req.request(), &state) {
        match session_user(&state, token).await {
            Ok(user) => user,
            Err(e) => return Ok(req.error_response(e)),
        }
    } else {
        None
    };
    match user {
        Some(mut user) => {
            user.request_id = req.extensions().get::<crate::RequestId>().map(|r| r.0.clone());
            req.extensions_mut().insert(user);
        }
        None if is_public(&path) => {}
        None if is_api => {
            return Ok(req.error_response(AppError::Unauthenticated(
                "Sign in, or send an API token as `Authorization: Bearer …`.".into(),
            )));
        }
        None => {
            let target = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
            let location = format!("/login?next={}", super::datasets::encode(&target));
            return Ok(req.into_response(HttpResponse::SeeOther().insert_header((LOCATION, location)).finish()));
        }
    }
    next.call(req).await.map(ServiceResponse::map_into_boxed_body)
}

async fn session_user(state: &AppState, token: String) -> Result<Option<CurrentUser>, AppError> {
    let policy = state.config.session_policy;
    // Every page asks this; on SQLite the lookup is one indexed read of a local file, cheaper
    // than handing it to a blocking thread and back.
    let found = match state.db.quick_reader() {
        Some(mut conn) => accounts::live_session(&mut conn, &token, &policy, now()).map_err(AppError::internal)?,
        None => {
            let db = state.db.clone();
            web::block(move || -> Result<_, AppError> {
                let mut conn = db.reader()?;
                accounts::live_session(&mut conn, &token, &policy, now()).map_err(AppError::internal)
            })
            .await??
        }
    };
    let Some((session, user)) = found else {
        return Ok(None);
    };
    let current = now();
    if current - session.last_seen_at >= TOUCH_AFTER {
        let db = state.db.clone();
        let id = session.id;
        web::block(move || -> Result<_, AppError> { Ok(repo::touch_session(&mut *db.writer()?, id, current)?) })
            .await??;
    }
    let role =
        Role::parse(&user.role).ok_or_else(|| AppError::internal(format!("user {} has unknown role", user.id)))?;
    Ok(Some(CurrentUser {
        user_id: Some(user.id),
        actor: user.username,
        display_name: user.display_name,
        role,
        session_id: Some(session.id),
        csrf_token: Some(session.csrf_token),
        token_id: None,
        request_id: None,
    }))
}

async fn token_user(state: &AppState, secret: String) -> Result<Option<CurrentUser>, AppError> {
    let db = state.db.clone();
    let token = web::block(move || -> Result<_, AppError> {
        let mut conn = db.reader()?;
        Ok(repo::find_api_token(&mut conn, &accounts::token_hash(&secret))?)
    })
    .await??;
    let Some(token) = token else {
        return Ok(None);
    };
    let current = now();
    if token.last_used_at.is_none_or(|t| current - t >= TOUCH_AFTER) {
        let db = state.db.clone();
        let id = token.id;
        web::block(move || -> Result<_, AppError> { Ok(repo::touch_api_token(&mut *db.writer()?, id, current)?) })
            .await??;
    }
    let role =
        Role::parse(&token.role).ok_or_else(|| AppError::internal(format!("token {} has unknown role", token.id)))?;
    Ok(Some(CurrentUser {
        user_id: None,
        actor: format!("token:{}", token.name),
        display_name: None,
        role,
        session_id: None,
        csrf_token: None,
        token_id: Some(token.id),
        request_id: None,
    }))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The request's body, up to `limit` bytes; `None` when it is longer or cannot be read.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Option<Bytes> {
    use futures_core::Stream;
    let mut payload = req.take_payload();
    let mut body = actix_web::web::BytesMut::new();
    loop {
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut payload).poll_next(cx)).await;
        match next {
            None => return Some(body.freeze()),
            Some(Ok(chunk)) if body.len() + chunk.len() <= limit => body.extend_from_slice(&chunk),
            Some(_) => return None,
        }
    }
}

/// Every form post outside the API must carry the token of its session (or, before sign-in, the
/// token of the CSRF cookie). A missing or wrong token is a 403 and the handler never runs.
pub async fn check_csrf(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !unsafe_method || req.path().starts_with("/api/") {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    // The sign-in form is shown before there is a session, so it always carries the cookie's
    // token (also when someone signed in signs in again, which rotates their session).
    let expected = match req.extensions().get::<CurrentUser>() {
        Some(user) if req.path() != "/login" => user.csrf_token.clone(),
        _ => req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()),
    };
    let header = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let is_form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut given = header;
    if given.is_none() && is_form {
        // A signed-in user's dbt manifest may be large; every other form is small.
        let limit = if req.path() == "/pipelines/dbt" && req.extensions().get::<CurrentUser>().is_some() {
            super::dbt::MANIFEST_LIMIT
        } else {
            super::errors::FORM_LIMIT
        };
        let body = match read_body(&mut req, limit).await {
            Some(body) => body,
            None => {
                return Ok(req.error_response(AppError::PayloadTooLarge(format!(
                    "The form is larger than {} KiB.",
                    limit / 1024
                ))));
            }
        };
        given = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v));
        req.set_payload(Payload::from(body));
    }
    match (expected, given) {
        (Some(expected), Some(given)) if !expected.is_empty() && constant_time_eq(expected.as_bytes(), given.as_bytes()) => {
            next.call(req).await.map(ServiceResponse::map_into_boxed_body)
        }
        _ => Ok(req.error_response(AppError::Forbidden(
            "This form's security token is missing or out of date, so nothing was changed. Reload the page and try again."
                .into(),
        ))),
    }
}

/// The CSRF cookie for pages shown before sign-in, created when missing.
pub fn anonymous_csrf(req: &HttpRequest, state: &AppState) -> Result<(String, Option<Cookie<'static>>), AppError> {
    if let Some(c) = req.cookie(CSRF_COOKIE).filter(|c| c.value().len() >= 32) {
        return Ok((c.value().to_owned(), None));
    }
    let token = accounts::random_token(32).map_err(AppError::internal)?;
    let cookie = Cookie::build(CSRF_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .max_age(actix_web::cookie::time::Duration::hours(12))
        .finish();
    Ok((token, Some(cookie)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_in_constant_time_and_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
