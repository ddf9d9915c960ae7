//! Purges for the worker (R2): queue a scheduled purge when its interval has passed, claim the
//! oldest due run (or one whose worker stopped reporting), execute it under its lease, and
//! requeue it with backoff when the catalog or a connection fails.

use std::sync::Arc;

use chrono::TimeDelta;

use super::{BoardSink, ProgressBoard};
use crate::config::{ErasureSettings, RetentionSettings};
use crate::db::retention as repo;
use crate::db::{Db, now};
use crate::erasure;
use crate::keys::Keys;
use crate::retention::{self, RetentionError};

/// Board ids of purges sit far below erasure runs' negative ids, so the three kinds never
/// collide.
pub fn board_id(run_id: i64) -> i64 {
    -(1_i64 << 40) - run_id
}

/// Claims and executes one run; false when there was none to claim.
pub fn run_next(
    db: &Db,
    keys: &Arc<Keys>,
    settings: ErasureSettings,
    retention_settings: RetentionSettings,
    board: &ProgressBoard,
) -> Result<bool, RetentionError> {
    let claimed = {
        let mut conn = db.writer()?;
        retention::schedule_due(&mut conn, retention_settings)?;
        repo::claim_run(&mut conn, &super::erasure::worker_name(), erasure::lease(settings), now())?
    };
    let Some(run) = claimed else {
        return Ok(false);
    };
    let mut sink = BoardSink::new(board.clone(), board_id(run.id));
    let started = std::time::Instant::now();
    let result = retention::execute(db, keys, settings, retention_settings, &run, &mut sink);
    board.clear(board_id(run.id));
    let outcome = if result.is_ok() { "finished" } else { "interrupted" };
    crate::metrics::job("retention", outcome, started.elapsed().as_secs_f64());
    if let Err(e) = result {
        tracing::warn!(run = run.id, error = %e, "purge interrupted");
        let backoff = TimeDelta::seconds(30 * i64::from(run.attempts.clamp(1, 20)));
        let mut conn = db.writer()?;
        repo::requeue_run(&mut conn, run.id, run.lease, now() + backoff, &e.to_string())?;
    }
    Ok(true)
}
