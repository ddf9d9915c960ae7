//! Crawling a source: read its target's schema and apply it to the catalog in one transaction.
//! The CLI runs a crawl in the foreground; the web app queues one for the worker.

use chrono::{NaiveDateTime, TimeDelta};

use super::{BoardSink, ProgressBoard, ProgressSink};
use crate::db::models::{CrawlRun, Source, run_kind};
use serde_json::json;

use crate::db::audit::{self, AuditActor};
use crate::db::{AnyConnection, Db, catalog, dialect, now};
use crate::targets::{ResolvedTarget, TargetError};

/// A run still `running` after this long belongs to a process that died.
const STALE_AFTER_MINUTES: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("catalog: {0}")]
    Catalog(#[from] diesel::result::Error),
    #[error("catalog connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
}

/// Whether a run blocks another crawl of its source (queued, or running and not stale).
pub fn is_in_progress(run: &CrawlRun, now: NaiveDateTime) -> bool {
    match run.status.as_str() {
        "queued" => true,
        "running" => run.started_at.is_none_or(|t| now - t < TimeDelta::minutes(STALE_AFTER_MINUTES)),
        _ => false,
    }
}

/// Queues a crawl of `source` unless one is already queued or running; returns the run and
/// whether it is new.
pub fn enqueue(
    conn: &mut AnyConnection,
    source: &Source,
    kind: &str,
    triggered_by: &str,
) -> diesel::QueryResult<(CrawlRun, bool)> {
    dialect::write_transaction(conn, |conn| {
        let now = now();
        if let Some(run) = catalog::active_crawl_run(conn, source.id)?
            && is_in_progress(&run, now)
        {
            return Ok((run, false));
        }
        Ok((catalog::enqueue_crawl_run(conn, source.id, kind, triggered_by, now)?, true))
    })
}

/// Claims and runs the oldest queued crawl; false when there was none to claim.
pub fn run_next(db: &Db, board: &ProgressBoard) -> Result<bool, CrawlError> {
    let claimed = {
        let mut conn = db.writer()?;
        match catalog::next_queued_crawl_run(&mut conn)? {
            Some(run) if catalog::claim_crawl_run(&mut conn, run.id, now())? => Some(run),
            Some(_) => return Ok(true),
            None => None,
        }
    };
    let Some(run) = claimed else {
        return Ok(false);
    };
    let mut sink = BoardSink::new(board.clone(), run.id);
    let started = std::time::Instant::now();
    let result = if run.kind == run_kind::SCAN {
        super::scan::execute(db, &run, &mut sink).map(drop)
    } else {
        execute(db, &run, &mut sink).map(drop)
    };
    board.clear(run.id);
    let outcome = if result.is_ok() { "succeeded" } else { "failed" };
    crate::metrics::job(&run.kind, outcome, started.elapsed().as_secs_f64());
    crate::metrics::operation(&run.kind, outcome);
    if let Err(e) = result {
        tracing::warn!(run = run.id, kind = %run.kind, error = %e, "run failed");
    }
    Ok(true)
}

/// Runs a claimed crawl to its end and records the outcome on the run.
pub fn execute(db: &Db, run: &CrawlRun, progress: &mut dyn ProgressSink) -> Result<catalog::CrawlChanges, CrawlError> {
    let outcome = crawl_source(db, run, progress);
    match &outcome {
        Ok(changes) => {
            tracing::info!(
                run = run.id,
                source = run.source_id,
                added = changes.datasets_added,
                changed = changes.datasets_changed,
                removed = changes.datasets_removed,
                "crawl finished"
            );
        }
        Err(e) => {
            let message = e.to_string();
            let mut conn = db.writer()?;
            dialect::write_transaction(&mut conn, |conn| {
                let now = now();
                catalog::finish_crawl_run(conn, run.id, Err(&message), now)?;
                audit::append(
                    conn,
                    &AuditActor::system()
                        .event("crawl.fail", "source")
                        .entity_id(run.source_id)
                        .after(json!({ "crawl_run": run.id, "requested_by": run.triggered_by, "error": message })),
                    now,
                )
            })?;
        }
    }
    outcome
}

fn crawl_source(db: &Db, run: &CrawlRun, progress: &mut dyn ProgressSink) -> Result<catalog::CrawlChanges, CrawlError> {
    progress.stage("connecting");
    let source = {
        let mut conn = db.reader()?;
        catalog::find_source(&mut conn, run.source_id)?.ok_or(diesel::result::Error::NotFound)?
    };
    let target = resolve(&source)?;
    progress.stage("reading the schema");
    let snapshot = target.introspect()?;
    progress.stage("saving to the catalog");
    progress.advance(0, snapshot.datasets.len() as u64);
    let mut conn = db.writer()?;
    // The catalog's changes, the run's outcome and the audit event commit together.
    let changes = dialect::write_transaction(&mut conn, |conn| {
        let now = now();
        let changes =
            catalog::apply_snapshot(conn, source.id, &snapshot, now, &mut |done, total| progress.advance(done, total))?;
        catalog::finish_crawl_run(conn, run.id, Ok(&changes), now)?;
        // Column names suggest categories; a compliance officer reviews them.
        crate::suggestions::from_names(conn, source.id, now)?;
        audit::append(
            conn,
            &AuditActor::system().event("crawl.finish", "source").entity_id(source.id).after(json!({
                "crawl_run": run.id,
                "requested_by": run.triggered_by,
                "datasets": changes.datasets_seen,
                "datasets_added": changes.datasets_added,
                "datasets_changed": changes.datasets_changed,
                "datasets_removed": changes.datasets_removed,
                "columns_added": changes.columns_added,
                "columns_changed": changes.columns_changed,
                "columns_removed": changes.columns_removed,
                "foreign_keys_added": changes.foreign_keys_added,
                "foreign_keys_removed": changes.foreign_keys_removed,
            })),
            now,
        )?;
        Ok::<_, diesel::result::Error>(changes)
    })?;
    dialect::refresh_statistics(&mut conn, changes.rows_changed())?;
    Ok(changes)
}

/// The live target of a cataloged source.
pub fn resolve(source: &Source) -> Result<ResolvedTarget, CrawlError> {
    Ok(ResolvedTarget::stored(&source.kind, &source.connection_kind, &source.connection_ref)?)
}

/// Fails runs that a dead process left `running`, so their sources can be crawled again.
pub fn recover_interrupted(db: &Db) {
    let result = db.writer().map_err(CrawlError::from).and_then(|mut conn| {
        let now = now();
        Ok(catalog::fail_stale_crawl_runs(&mut conn, now - TimeDelta::minutes(STALE_AFTER_MINUTES), now)?)
    });
    match result {
        Ok(0) => {}
        Ok(n) => tracing::warn!(runs = n, "marked interrupted crawl runs as failed"),
        Err(e) => tracing::error!(error = %e, "could not recover interrupted crawl runs"),
    }
}
