//! Erasure runs for the worker (E14, E15): claim the oldest due run (or one whose worker stopped
//! reporting), execute it under its lease, and record failures for a retry with backoff.

use std::sync::Arc;

use chrono::TimeDelta;

use super::{BoardSink, ProgressBoard};
use crate::config::ErasureSettings;
use crate::db::erasure as repo;
use crate::db::{Db, now};
use crate::erasure::{self, ErasureError};
use crate::keys::Keys;

/// Board ids of erasure runs are negative, so they never collide with crawl runs'.
pub fn board_id(run_id: i64) -> i64 {
    -run_id
}

/// A name for this worker in the run table: host and process.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "host".into());
    format!("{host}:{}", std::process::id())
}

/// Claims and executes one run; false when there was none to claim.
pub fn run_next(
    db: &Db,
    keys: &Arc<Keys>,
    settings: ErasureSettings,
    board: &ProgressBoard,
) -> Result<bool, ErasureError> {
    let claimed = {
        let mut conn = db.writer()?;
        repo::claim_run(&mut conn, &worker_name(), erasure::lease(settings), now())?
    };
    let Some(run) = claimed else {
        return Ok(false);
    };
    let mut sink = BoardSink::new(board.clone(), board_id(run.id));
    let started = std::time::Instant::now();
    let result = erasure::execute(db, keys, settings, &run, &mut sink);
    board.clear(board_id(run.id));
    let outcome = if result.is_ok() { "finished" } else { "interrupted" };
    crate::metrics::job("erasure", outcome, started.elapsed().as_secs_f64());
    if let Err(e) = result {
        // Catalog or connection trouble: leave the run for a retry after a pause that grows
        // with the attempts (its lease also lets another worker take it over).
        tracing::warn!(run = run.id, request = run.request_id, error = %e, "erasure run interrupted");
        let backoff = TimeDelta::seconds(30 * i64::from(run.attempts.clamp(1, 20)));
        let mut conn = db.writer()?;
        repo::requeue_run(&mut conn, run.id, run.lease, now() + backoff, &e.to_string())?;
    }
    Ok(true)
}
