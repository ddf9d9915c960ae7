//! The home page (catalog counts, latest crawls, recently changed datasets) and the liveness and
//! readiness probes.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::CurrentUser;
use super::view;
use super::{AppState, Layout, Section, read, render};
use crate::db::catalog::{self, CatalogCounts};
use crate::error::AppError;

pub struct CrawlLine {
    pub source_id: i64,
    pub source_name: String,
    pub status: String,
    pub when: String,
    pub when_iso: String,
    pub summary: String,
}

pub struct ChangedLine {
    pub id: i64,
    pub path: String,
    pub kind: String,
    pub status: String,
    pub when: String,
    pub when_iso: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    pub counts: CatalogCounts,
    pub sources: String,
    pub datasets: String,
    pub columns: String,
    pub crawls: Vec<CrawlLine>,
    pub changed: Vec<ChangedLine>,
}

pub async fn show(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let (counts, runs, changed) = read(&state, |conn| {
        Ok((
            catalog::catalog_counts(conn)?,
            catalog::list_recent_crawl_runs(conn, 8)?,
            catalog::list_recently_changed_datasets(conn, 10)?,
        ))
    })
    .await?;
    let crawls = runs
        .into_iter()
        .map(|(run, source_name)| {
            let when = run.finished_at.or(run.started_at).unwrap_or(run.queued_at);
            CrawlLine {
                source_id: run.source_id,
                source_name,
                summary: super::sources::run_summary(&run),
                status: run.status,
                when: view::relative(&when),
                when_iso: view::iso(&when),
            }
        })
        .collect();
    let changed = changed
        .into_iter()
        .map(|item| ChangedLine {
            id: item.dataset.id,
            path: format!("{}.{}.{}", item.source_name, item.dataset.schema_name, item.dataset.name),
            kind: item.dataset.kind,
            status: item.dataset.status,
            when: view::relative(&item.dataset.updated_at),
            when_iso: view::iso(&item.dataset.updated_at),
        })
        .collect();
    render(&HomePage {
        layout: Layout::new(&state, &user, "Home", Section::Home),
        sources: view::count(counts.sources),
        datasets: view::count(counts.datasets),
        columns: view::count(counts.columns),
        counts,
        crawls,
        changed,
    })
}

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// `GET /metrics`: Prometheus text format. Open like `/healthz` unless `CUSTODIAN_METRICS_TOKEN`
/// is set; then it needs `Authorization: Bearer <token>`.
pub async fn metrics(state: web::Data<AppState>, req: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    if let Some(token) = &state.config.metrics_token {
        let given = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| {
            use sha2::Digest as _;
            // Compare digests, so the time taken says nothing about the token.
            sha2::Sha256::digest(g.as_bytes()) == sha2::Sha256::digest(token.as_bytes())
        });
        if !ok {
            return Err(AppError::Unauthenticated("Metrics need the metrics token: Authorization: Bearer ….".into()));
        }
    }
    let queues = read(&state, |conn| Ok(catalog::queue_depths(conn)?)).await?;
    let body = crate::metrics::render(state.db.pool_state(), &queues);
    Ok(HttpResponse::Ok().content_type("application/openmetrics-text; version=1.0.0; charset=utf-8").body(body))
}

/// Readiness: the catalog answers a query.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    read(&state, |conn| Ok(catalog::ping(conn)?)).await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
