//! `POST /api/v1/lineage`: OpenLineage run events as the official clients' HTTP transport sends
//! them, with a bearer token. The job becomes a pipeline (`openlineage:NAMESPACE/NAME`), the
//! run is recorded with its state, and the datasets, schema and column-lineage facets become
//! catalog lineage (a `sql` facet goes through Custodian's own extractor when no column-lineage
//! facet came). A bad event gets a 400 with the reason and stores nothing.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::AppState;
use super::auth::{Authorized, EditCatalog};
#[allow(unused_imports)]
use super::openapi::ApiError;
use crate::db::{AnyConnection, catalog, dialect, now};
use crate::error::AppError;
use crate::ingest::{self, IngestError, IngestTarget, SqlInput};
use crate::openlineage::{self, Checked, RunEvent};

#[derive(Deserialize)]
pub struct LineageQuery {
    /// The source the job's datasets live in, when their namespace does not say.
    pub source: Option<String>,
}

impl From<IngestError> for AppError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Invalid(m) => Self::BadRequest(m),
            other => Self::internal(other),
        }
    }
}

/// `host:port[/db]` of a URL or an OpenLineage namespace, without scheme, user or options.
fn address(s: &str) -> String {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['?', '#']).next().unwrap_or("").trim_end_matches('/').to_ascii_lowercase()
}

/// The source an event's datasets live in: the one named in `?source=`, else the one whose
/// name or address the datasets' namespace gives, else the only source there is.
fn source_for(
    conn: &mut AnyConnection,
    named: Option<&str>,
    namespace: Option<&str>,
) -> Result<crate::db::models::Source, AppError> {
    if named.is_none()
        && let Some(ns) = namespace
    {
        let wanted = address(ns);
        let sources = catalog::list_sources(conn)?;
        let matched: Vec<_> = sources
            .into_iter()
            .filter(|s| {
                s.name == ns || {
                    let have = address(&s.connection_ref);
                    !wanted.is_empty() && (have == wanted || have.starts_with(&format!("{wanted}/")))
                }
            })
            .collect();
        if matched.len() == 1 {
            return Ok(matched.into_iter().next().expect("one"));
        }
    }
    ingest::choose_source(conn, named).map_err(|e| match e {
        IngestError::Invalid(m) => AppError::BadRequest(format!(
            "The datasets' namespace {:?} names no source Custodian knows: {m}, or add ?source=NAME.",
            namespace.unwrap_or("")
        )),
        other => AppError::internal(other),
    })
}

/// The pipeline text stored for lineage sent as facets: what the event said, readable.
fn describe(c: &Checked) -> String {
    let mut out = format!("-- OpenLineage job {}\n", c.job);
    out.push_str(&format!("-- reads: {}\n", c.lineage.sources.join(", ")));
    out.push_str(&format!("-- writes: {}\n", c.lineage.targets.join(", ")));
    for e in &c.lineage.column_edges {
        out.push_str(&format!("-- {} -> {} ({:?})\n", e.source, e.target, e.kind).to_lowercase());
    }
    for (table, columns) in &c.columns {
        out.push_str(&format!("-- schema of {table}: {}\n", columns.join(", ")));
    }
    out
}

/// `POST /api/v1/lineage`.
#[utoipa::path(post, path = "/api/v1/lineage", tag = "Lineage", params(("source" = Option<String>, Query, description = "The source the datasets live in, when their namespace does not say")), request_body = serde_json::Value, responses((status = 201, description = "The event was recorded", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn receive(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    query: web::Query<LineageQuery>,
    body: web::Json<RunEvent>,
) -> Result<HttpResponse, AppError> {
    super::api::require_token(&auth.user)?;
    let event = body.into_inner();
    let checked =
        openlineage::check(&event).map_err(|m| AppError::BadRequest(format!("Not a valid run event: {m}.")))?;
    let by = auth.user.audit();
    let named = query.into_inner().source;
    let db = state.db.clone();
    let answer = web::block(move || -> Result<serde_json::Value, AppError> {
        let mut conn = db.writer()?;
        let source = source_for(&mut conn, named.as_deref(), checked.dataset_namespace.as_deref())?;
        let path = format!("openlineage:{}", checked.job);
        let name = checked.job.clone();
        // A run's lineage is what its COMPLETE event says; earlier events only create the
        // pipeline when it is new, so a START does not undo the last run's lineage.
        let known = crate::db::lineage::find_pipeline_key(&mut conn, &path)?.is_some();
        let report = if checked.lineage.statements.is_empty() || (known && checked.state != "COMPLETE") {
            None
        } else if let (false, Some(sql)) = (checked.has_column_lineage, &checked.sql) {
            // No column lineage sent: Custodian's extractor reads the job's SQL (in the source's
            // dialect).
            let target = IngestTarget::new(source, None, None)?;
            let input = SqlInput { name, path: path.clone(), sql: sql.clone() };
            Some(ingest::ingest(&mut conn, &by, &target, &input, false, Some("OpenLineage run event"))?)
        } else {
            let target = IngestTarget::new(source, None, None)?;
            let input = SqlInput { name, path: path.clone(), sql: describe(&checked) };
            Some(ingest::ingest_lineage(&mut conn, &by, &target, &input, checked.lineage.clone(), &checked.columns)?)
        };
        let pipeline_id = match &report {
            Some(r) => Some(r.pipeline_id),
            None => crate::db::lineage::find_pipeline_key(&mut conn, &path)?.map(|k| k.id),
        };
        let Some(pipeline_id) = pipeline_id else {
            return Err(AppError::BadRequest(
                "The event names no input or output dataset, and no earlier event of this job did.".into(),
            ));
        };
        let run = dialect::write_transaction(&mut conn, |conn| {
            crate::db::lineage::record_run_event(
                conn,
                pipeline_id,
                &checked.run_id,
                &checked.state,
                checked.time.naive_utc(),
                &event.producer,
                now(),
            )
        })?;
        Ok(serde_json::json!({
            "pipeline_id": pipeline_id,
            "run": { "run_id": run.run_id, "state": run.state },
            "lineage": report.map(|r| serde_json::json!({
                "outcome": format!("{:?}", r.outcome).to_lowercase(),
                "table_edges": r.table_edges,
                "column_edges": r.column_edges,
                "datasets_created": r.datasets_created,
                "columns_created": r.columns_created,
            })),
        }))
    })
    .await??;
    Ok(HttpResponse::Created().json(answer))
}
