//! dbt manifests from the web app and the API: a page to upload (or paste) `manifest.json` and
//! optionally `catalog.json` for a source, and `POST /api/v1/dbt/manifest` for CI jobs. The work
//! is `crate::dbt::ingest`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{Authorized, EditCatalog};
#[allow(unused_imports)]
use super::openapi::ApiError;
use super::{AppState, Layout, Section, render_status};
use crate::db::catalog;
use crate::dbt::{self, Catalog, DbtReport, Manifest};
use crate::error::AppError;

/// Largest manifest accepted by the form and the API.
pub const MANIFEST_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Template)]
#[template(path = "pipelines/dbt.html")]
pub struct DbtPage {
    pub layout: Layout,
    pub sources: Vec<(String, String)>,
    pub message: Option<String>,
    pub report: Option<DbtReport>,
}

async fn page(
    state: &AppState,
    auth: &Authorized<EditCatalog>,
    message: Option<String>,
    report: Option<DbtReport>,
) -> Result<DbtPage, AppError> {
    let sources = super::read(state, |conn| Ok(catalog::list_sources(conn)?)).await?;
    Ok(DbtPage {
        layout: Layout::new(state, &auth.user, "Ingest a dbt manifest", Section::Lineage),
        sources: sources.into_iter().map(|s| (s.name.clone(), s.name)).collect(),
        message,
        report,
    })
}

/// `GET /pipelines/dbt`.
pub async fn form(state: web::Data<AppState>, auth: Authorized<EditCatalog>) -> Result<HttpResponse, AppError> {
    render_status(StatusCode::OK, &page(&state, &auth, None, None).await?)
}

#[derive(Deserialize)]
pub struct DbtForm {
    pub source: Option<String>,
    pub manifest: String,
    #[serde(default)]
    pub catalog: String,
}

fn run(
    state: &AppState,
    by: crate::db::audit::AuditActor,
    source: Option<String>,
    manifest: &str,
    dbt_catalog: &str,
) -> Result<impl FnOnce() -> Result<DbtReport, AppError> + Send + 'static, AppError> {
    let manifest: Manifest = serde_json::from_str(manifest)
        .map_err(|e| AppError::BadRequest(format!("That is not a dbt manifest.json: {e}.")))?;
    let dbt_catalog: Option<Catalog> = match dbt_catalog.trim() {
        "" => None,
        text => Some(
            serde_json::from_str(text)
                .map_err(|e| AppError::BadRequest(format!("That is not a dbt catalog.json: {e}.")))?,
        ),
    };
    let mapping_path = state.config.dbt_mapping.clone();
    let db = state.db.clone();
    Ok(move || {
        let mapping = dbt::mapping_from(mapping_path.as_deref()).map_err(|m| AppError::internal(anyhow::anyhow!(m)))?;
        let mut conn = db.writer()?;
        let source = crate::ingest::choose_source(&mut conn, source.as_deref().filter(|s| !s.is_empty()))?;
        Ok(dbt::ingest(&mut conn, &by, source, &manifest, dbt_catalog.as_ref(), &mapping)?)
    })
}

/// `POST /pipelines/dbt`.
pub async fn upload(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    form: web::Form<DbtForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let outcome = match run(&state, auth.user.audit(), form.source, &form.manifest, &form.catalog) {
        Ok(job) => web::block(job).await?,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(report) => render_status(StatusCode::OK, &page(&state, &auth, None, Some(report)).await?),
        Err(AppError::BadRequest(m)) => {
            render_status(StatusCode::BAD_REQUEST, &page(&state, &auth, Some(m), None).await?)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct DbtBody {
    pub source: Option<String>,
    pub manifest: serde_json::Value,
    #[serde(default)]
    pub catalog: Option<serde_json::Value>,
}

/// `POST /api/v1/dbt/manifest` (`{"source", "manifest", "catalog"}`): what the ingest did.
#[utoipa::path(post, path = "/api/v1/dbt/manifest", tag = "Lineage", request_body = serde_json::Value, responses((status = 200, description = "What the ingest did", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_upload(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    body: web::Json<DbtBody>,
) -> Result<HttpResponse, AppError> {
    super::api::require_token(&auth.user)?;
    let body = body.into_inner();
    let catalog_text = body.catalog.map(|c| c.to_string()).unwrap_or_default();
    let job = run(&state, auth.user.audit(), body.source, &body.manifest.to_string(), &catalog_text)?;
    let report = web::block(job).await??;
    Ok(HttpResponse::Ok().json(report))
}
