//! Error pages: every error response gets its body here, as an HTML page for the browser or a
//! JSON object under `/api/`, and extractor failures (bad path, query, form or JSON) become
//! [`AppError`]s so they look like every other error.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::CurrentUser;
use super::{AppState, Layout, Section};
use crate::error::AppError;

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

/// The middleware that writes error bodies.
pub fn pages<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(render_error)
}

fn render_error<B: MessageBody + 'static>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let status = res.status();
    let (message, key) = match res.response().error().and_then(|e| e.as_error::<AppError>()) {
        Some(app) => (app.public_message(), app.key()),
        // Errors that did not come through AppError (a handler's own short-circuit): keep
        // whatever body they have unless it is empty.
        None if res.response().body().size() != actix_web::body::BodySize::Sized(0) => {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        None => (status.canonical_reason().unwrap_or("Error").to_owned(), "error"),
    };
    let (req, res) = res.into_parts();
    let is_api = req.path().starts_with("/api/");
    let body = if is_api {
        serde_json::json!({ "error": { "status": status.as_u16(), "key": key, "message": message } }).to_string()
    } else {
        html_body(&req, status.as_u16(), message)
    };
    let mut res = res.set_body(body);
    let content_type = if is_api { "application/json" } else { "text/html; charset=utf-8" };
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    let res = ServiceResponse::new(req, res).map_into_boxed_body().map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

fn html_body(req: &HttpRequest, status: u16, message: String) -> String {
    let heading = match status {
        400 => "That request was not understood",
        403 => "Not allowed",
        404 => "Not found",
        409 => "That conflicts with the current state",
        413 => "Too large",
        422 => "That cannot be processed",
        503 => "Busy",
        s if s >= 500 => "Something went wrong",
        _ => "Error",
    };
    let state = req.app_data::<web::Data<AppState>>();
    let user = req.extensions().get::<CurrentUser>().cloned();
    let layout = match (state, user) {
        (Some(state), Some(user)) => Layout::new(state, &user, heading, Section::None),
        (state, _) => Layout::anonymous(state.is_some_and(|s| s.config.demo), heading, String::new()),
    };
    let page = ErrorPage { layout, status, heading, message };
    page.render().unwrap_or_else(|_| format!("{status} {heading}"))
}

/// The default service: no route matched.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let what = if req.path().starts_with("/api/") { "No API endpoint" } else { "No page" };
    Err(AppError::NotFound(format!("{what} at {}.", truncate(req.path(), 200))))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Extractor configuration: failures become AppErrors with a helpful message.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_, _| AppError::NotFound("No such item: the address is not valid.".into()).into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|e, _| AppError::BadRequest(format!("The query string is not valid: {e}.")).into())
}

/// Largest form body accepted.
pub const FORM_LIMIT: usize = 256 * 1024;

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(FORM_LIMIT).error_handler(|e, _| {
        use actix_web::error::UrlencodedError;
        match e {
            UrlencodedError::Overflow { .. } => {
                AppError::PayloadTooLarge(format!("The form is larger than {} KiB.", FORM_LIMIT / 1024)).into()
            }
            other => AppError::BadRequest(format!("The form could not be read: {other}.")).into(),
        }
    })
}

/// Largest JSON body accepted.
pub const JSON_LIMIT: usize = 1024 * 1024;

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(JSON_LIMIT).error_handler(|e, _| {
        use actix_web::error::JsonPayloadError;
        match e {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                AppError::PayloadTooLarge(format!("The JSON body is larger than {} KiB.", JSON_LIMIT / 1024)).into()
            }
            other => AppError::BadRequest(format!("The JSON body is not valid: {other}.")).into(),
        }
    })
}
