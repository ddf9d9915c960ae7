//! Background work: the worker thread that claims queued jobs from the catalog and runs them,
//! and a board of live progress that pages read. Jobs are crawls (`crawl.rs`), value scans
//! (`scan.rs`), erasure runs (`erasure.rs`) and purges (`retention.rs`).

pub mod crawl;
pub mod erasure;
pub mod retention;
pub mod scan;

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::{ErasureSettings, RetentionSettings};
use crate::db::Db;
use crate::keys::Keys;

/// How often an idle worker looks for work queued by other instances.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Live progress of running jobs in this process, keyed by job (crawl run) id.
#[derive(Clone, Default)]
pub struct ProgressBoard {
    inner: Arc<Mutex<HashMap<i64, Progress>>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub stage: String,
    pub done: u64,
    pub total: u64,
}

impl ProgressBoard {
    pub fn set(&self, id: i64, progress: Progress) {
        if let Ok(mut map) = self.inner.lock() {
            map.insert(id, progress);
        }
    }

    pub fn get(&self, id: i64) -> Option<Progress> {
        self.inner.lock().ok().and_then(|map| map.get(&id).cloned())
    }

    pub fn clear(&self, id: i64) {
        if let Ok(mut map) = self.inner.lock() {
            map.remove(&id);
        }
    }
}

/// Receives progress from a running job.
pub trait ProgressSink {
    fn stage(&mut self, stage: &str);
    fn advance(&mut self, done: u64, total: u64);
}

/// Progress that goes to the board (for pages).
pub struct BoardSink {
    board: ProgressBoard,
    id: i64,
    current: Progress,
}

impl BoardSink {
    pub fn new(board: ProgressBoard, id: i64) -> Self {
        Self { board, id, current: Progress::default() }
    }
}

impl ProgressSink for BoardSink {
    fn stage(&mut self, stage: &str) {
        self.current.stage = stage.to_owned();
        self.board.set(self.id, self.current.clone());
    }

    fn advance(&mut self, done: u64, total: u64) {
        self.current.done = done;
        self.current.total = total;
        self.board.set(self.id, self.current.clone());
    }
}

/// Wakes the worker when work is queued.
#[derive(Clone)]
pub struct JobQueue {
    wake: Sender<()>,
}

impl JobQueue {
    /// Tells the worker to look for work now (queued jobs are also found by polling).
    pub fn notify(&self) {
        let _ = self.wake.send(());
    }
}

/// What the worker needs besides the catalog: the instance keys, erasure limits and the
/// retention batch size and schedule.
#[derive(Clone)]
pub struct WorkerContext {
    pub keys: Arc<Keys>,
    pub erasure: ErasureSettings,
    pub retention: RetentionSettings,
}

impl WorkerContext {
    pub fn new(keys: Arc<Keys>, config: &crate::config::Config) -> Self {
        Self { keys, erasure: config.erasure, retention: config.retention }
    }
}

/// Starts the worker thread; returns the queue handle that wakes it.
pub fn spawn_worker(db: Db, board: ProgressBoard, cx: WorkerContext) -> std::io::Result<(JobQueue, JoinHandle<()>)> {
    let (wake, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("custodian-worker".into())
        .spawn(move || worker_loop(&db, &board, &cx, &rx))?;
    Ok((JobQueue { wake }, handle))
}

/// Runs queued jobs until none is left (`custodian worker --until-idle`); returns how many ran.
pub fn drain(db: &Db, board: &ProgressBoard, cx: &WorkerContext) -> usize {
    crawl::recover_interrupted(db);
    let mut ran = 0;
    while run_one(db, board, cx) {
        ran += 1;
    }
    ran
}

/// Runs one job of any kind; false when there was nothing to do (or the catalog failed).
fn run_one(db: &Db, board: &ProgressBoard, cx: &WorkerContext) -> bool {
    match erasure::run_next(db, &cx.keys, cx.erasure, board) {
        Ok(true) => return true,
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "worker could not run an erasure"),
    }
    match retention::run_next(db, &cx.keys, cx.erasure, cx.retention, board) {
        Ok(true) => return true,
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "worker could not run a purge"),
    }
    match crawl::run_next(db, board) {
        Ok(ran) => ran,
        Err(e) => {
            tracing::error!(error = %e, "worker could not claim a job");
            false
        }
    }
}

/// A queue handle with no worker behind it (when `CUSTODIAN_WORKER=false`): jobs wait for a
/// worker elsewhere.
pub fn detached_queue() -> JobQueue {
    let (wake, _rx) = mpsc::channel();
    JobQueue { wake }
}

fn worker_loop(db: &Db, board: &ProgressBoard, cx: &WorkerContext, wake: &Receiver<()>) {
    crawl::recover_interrupted(db);
    loop {
        while run_one(db, board, cx) {}
        match wake.recv_timeout(POLL_INTERVAL) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
