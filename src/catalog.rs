//! Changes people make to the catalog — from the web app, the API or the command line — each
//! written with its audit event in the same transaction (A1), so every way in records the same
//! thing. Callers open the transaction; these functions take its connection.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::audit::{self, AuditActor};
use crate::db::models::{CrawlRun, Dataset, NewSource, Source, run_kind};
use crate::db::{AnyConnection, catalog};
use crate::jobs::crawl;
use crate::targets::registration::Registration;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("catalog: {0}")]
    Db(#[from] diesel::result::Error),
}

/// Registers a source; refused when the name is taken.
pub fn register_source(
    conn: &mut AnyConnection,
    by: &AuditActor,
    registration: &Registration,
    description: Option<String>,
    owner: Option<String>,
    now: NaiveDateTime,
) -> Result<Source, ActionError> {
    if catalog::find_source_by_name(conn, &registration.name)?.is_some() {
        return Err(ActionError::Conflict(format!("A source named {:?} exists already.", registration.name)));
    }
    let source = catalog::insert_source(
        conn,
        &NewSource {
            name: registration.name.clone(),
            kind: registration.kind.as_str().to_owned(),
            connection_kind: registration.connection.kind().to_owned(),
            connection_ref: registration.connection.reference().to_owned(),
            default_schema: registration.kind.default_schema().to_owned(),
            description,
            owner,
            created_at: now,
            updated_at: now,
        },
    )?;
    audit::append(
        conn,
        &by.event("source.create", "source").entity_id(source.id).after(json!({
            "name": source.name,
            "kind": source.kind,
            // The display form: a password-free URL, a path, or `$VARIABLE`.
            "connection": registration.connection.display(),
            "description": source.description,
            "owner": source.owner,
        })),
        now,
    )?;
    Ok(source)
}

/// Sets a source's description and owner.
pub fn edit_source(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    description: Option<&str>,
    owner: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ActionError> {
    let before = catalog::find_source(conn, id)?.ok_or_else(|| ActionError::NotFound(format!("Source {id}")))?;
    catalog::update_source_details(conn, id, description, owner, now)?;
    audit::append(
        conn,
        &by.event("source.update", "source")
            .entity_id(id)
            .before(json!({ "description": before.description, "owner": before.owner }))
            .after(json!({ "description": description, "owner": owner })),
        now,
    )?;
    Ok(())
}

/// Sets a dataset's description and owner; returns the dataset as it now is.
pub fn edit_dataset(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    description: Option<&str>,
    owner: Option<&str>,
    now: NaiveDateTime,
) -> Result<Dataset, ActionError> {
    let (before, _) = catalog::find_dataset(conn, id)?.ok_or_else(|| ActionError::NotFound(format!("Dataset {id}")))?;
    catalog::update_dataset_details(conn, id, description, owner, now)?;
    audit::append(
        conn,
        &by.event("dataset.update", "dataset")
            .entity_id(id)
            .before(json!({ "description": before.description, "owner": before.owner }))
            .after(json!({ "description": description, "owner": owner })),
        now,
    )?;
    let (after, _) = catalog::find_dataset(conn, id)?.ok_or_else(|| ActionError::NotFound(format!("Dataset {id}")))?;
    Ok(after)
}

/// Sets a column's description. The event names the dataset as its entity (a column's history
/// is part of its dataset's) and the column in its details.
pub fn edit_column(
    conn: &mut AnyConnection,
    by: &AuditActor,
    dataset_id: i64,
    column_id: i64,
    description: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ActionError> {
    let before = catalog::find_column(conn, dataset_id, column_id)?
        .ok_or_else(|| ActionError::NotFound(format!("Column {column_id} of dataset {dataset_id}")))?;
    catalog::update_column_description(conn, column_id, description, now)?;
    audit::append(
        conn,
        &by.event("column.update", "dataset")
            .entity_id(dataset_id)
            .before(json!({ "column": before.name, "column_id": column_id, "description": before.description }))
            .after(json!({ "column": before.name, "column_id": column_id, "description": description })),
        now,
    )?;
    Ok(())
}

/// Queues a crawl of a source unless one is queued or running; the request is audited when it
/// queues a new run.
pub fn request_crawl(
    conn: &mut AnyConnection,
    by: &AuditActor,
    source_id: i64,
    now: NaiveDateTime,
) -> Result<(CrawlRun, bool), ActionError> {
    let source =
        catalog::find_source(conn, source_id)?.ok_or_else(|| ActionError::NotFound(format!("Source {source_id}")))?;
    let (run, created) = crawl::enqueue(conn, &source, run_kind::CRAWL, &by.actor)?;
    if created {
        audit::append(
            conn,
            &by.event("crawl.request", "source").entity_id(source_id).after(json!({ "crawl_run": run.id })),
            now,
        )?;
    }
    Ok((run, created))
}

/// Queues a scan of a source's sampled values for suggestions unless a run is queued or running.
pub fn request_scan(
    conn: &mut AnyConnection,
    by: &AuditActor,
    source_id: i64,
    now: NaiveDateTime,
) -> Result<(CrawlRun, bool), ActionError> {
    let source =
        catalog::find_source(conn, source_id)?.ok_or_else(|| ActionError::NotFound(format!("Source {source_id}")))?;
    let (run, created) = crawl::enqueue(conn, &source, run_kind::SCAN, &by.actor)?;
    if created {
        audit::append(
            conn,
            &by.event("scan.request", "source").entity_id(source_id).after(json!({ "run": run.id })),
            now,
        )?;
    }
    Ok((run, created))
}
