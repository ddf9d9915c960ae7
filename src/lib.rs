//! Custodian: a governance and lineage catalog. One binary serves the web app and the JSON API,
//! keeps the catalog in SQLite or PostgreSQL, crawls the databases it catalogs and acts on them.
//!
//! Layers, with data flowing one way: `web` (pages, API) → `jobs` (background work) and
//! `lineage` (pure SQL → lineage) → `db` (the catalog) and `targets` (the databases being
//! cataloged). `commands` holds the CLI.

pub mod accounts;
pub mod catalog;
pub mod classification;
pub mod commands;
pub mod config;
pub mod csv;
pub mod db;
pub mod dbt;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod governance;
pub mod graph;
pub mod ingest;
pub mod jobs;
pub mod keys;
pub mod lineage;
pub mod lineage_graph;
pub mod metrics;
pub mod openlineage;
pub mod parallel;
pub mod propagation;
pub mod retention;
pub mod suggestions;
pub mod targets;
pub mod telemetry;
pub mod web;

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, web as aweb};

pub use web::AppState;

/// Headers on every response: no inline script, no framing, no MIME sniffing, no referrer leaks.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The application, as production serves it and tests boot it.
pub fn app(
    state: aweb::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(state)
        .app_data(web::errors::path_config())
        .app_data(web::errors::query_config())
        .app_data(web::errors::form_config())
        .app_data(web::errors::json_config())
        .app_data(aweb::PayloadConfig::new(web::errors::FORM_LIMIT))
        .configure(web::routes)
        .default_service(aweb::to(web::errors::not_found))
        .wrap(from_fn(web::auth::check_csrf))
        .wrap(from_fn(web::auth::authenticate))
        .wrap(web::errors::pages())
        .wrap(
            DefaultHeaders::new()
                .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("Referrer-Policy", "same-origin"))
                .add(("X-Frame-Options", "DENY")),
        )
        .wrap(from_fn(log_request))
        .wrap(from_fn(answer_head))
}

/// HEAD is answered like GET, without the body.
async fn answer_head(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_head = req.method() == Method::HEAD;
    if is_head {
        req.head_mut().method = Method::GET;
    }
    let res = next.call(req).await?;
    if is_head {
        return Ok(res.map_body(|_, _| BoxBody::new(())));
    }
    Ok(res.map_into_boxed_body())
}

/// The id of one request: in its log line, its audit events and the `X-Request-Id` header.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Gives each request an id and writes one log line per request: method, route path, status and
/// time taken. Query strings are left out: they may carry search terms about people.
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    use actix_web::HttpMessage;
    let started = Instant::now();
    let request_id = uuid::Uuid::now_v7().simple().to_string();
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let path = req.path().to_owned();
    let mut res = next.call(req).await?;
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-request-id"), value);
    }
    let status = res.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    // `/datasets/{id}` is labelled `/datasets/:id` (braces trip some scrapers' parsers).
    let route = res
        .request()
        .match_pattern()
        .map(|p| p.replace('{', ":").replace('}', ""))
        .unwrap_or_else(|| "unmatched".to_owned());
    metrics::request(method.as_str(), &route, status, micros as f64 / 1e6);
    if status >= 500 {
        tracing::warn!(%method, %path, status, micros, request_id, "request");
    } else {
        tracing::debug!(%method, %path, status, micros, request_id, "request");
    }
    Ok(res)
}
