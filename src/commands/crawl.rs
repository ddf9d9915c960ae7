//! `custodian crawl NAME` and `custodian scan NAME`: crawl a source, or sample its values for
//! classification suggestions, in the foreground with a progress bar.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::actor::Actor;
use crate::db::catalog::{self, CrawlChanges};
use crate::db::models::{CrawlRun, Source, run_kind};
use crate::db::now;
use crate::db::{Db, dialect};
use crate::jobs::ProgressSink;
use crate::jobs::crawl as job;
use crate::jobs::scan::ScanOutcome;

/// Progress on the terminal.
struct Bar {
    bar: ProgressBar,
}

impl ProgressSink for Bar {
    fn stage(&mut self, stage: &str) {
        self.bar.set_message(stage.to_owned());
    }

    fn advance(&mut self, done: u64, total: u64) {
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} datasets")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_length(total);
        self.bar.set_position(done);
    }
}

/// A run claimed for the foreground, with its progress bar.
struct Foreground {
    source: Source,
    run: CrawlRun,
    sink: Bar,
    started: Instant,
}

/// Queues a run of `kind` for the named source as `actor` and claims it for this process.
fn claim(db: &Db, name: &str, actor: &Actor, kind: &str, show_progress: bool) -> anyhow::Result<Foreground> {
    let mut conn = db.writer()?;
    let source = catalog::find_source_by_name(&mut conn, name)?
        .with_context(|| format!("there is no source named {name:?} (see: custodian source list)"))?;
    let by = actor.audit();
    let (run, new) = dialect::write_transaction(&mut conn, |conn| {
        if kind == run_kind::SCAN {
            crate::catalog::request_scan(conn, &by, source.id, now())
        } else {
            crate::catalog::request_crawl(conn, &by, source.id, now())
        }
    })?;
    if !new && run.status != "queued" {
        bail!("a {} of {name} is already running (run #{})", run.kind, run.id);
    }
    if !new && run.kind != kind {
        bail!("a {} of {name} is queued (run #{}); try again when it has finished", run.kind, run.id);
    }
    if !catalog::claim_crawl_run(&mut conn, run.id, now())? {
        bail!("the {} of {name} was just started by a worker (run #{})", run.kind, run.id);
    }
    let bar = if show_progress { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    bar.enable_steady_tick(Duration::from_millis(120));
    Ok(Foreground { source, run, sink: Bar { bar }, started: Instant::now() })
}

/// Crawls the named source now; returns what changed.
pub fn run(db: &Db, name: &str, actor: &Actor, show_progress: bool) -> anyhow::Result<CrawlChanges> {
    let mut fg = claim(db, name, actor, run_kind::CRAWL, show_progress)?;
    let result = job::execute(db, &fg.run, &mut fg.sink);
    fg.sink.bar.finish_and_clear();
    let changes = result.with_context(|| format!("crawling {} failed; the catalog is unchanged", fg.source.name))?;
    println!(
        "Crawled {} in {:.2} s: {} datasets; {}.",
        fg.source.name,
        fg.started.elapsed().as_secs_f64(),
        changes.datasets_seen,
        describe(&changes)
    );
    Ok(changes)
}

/// Samples the named source's values now and stores suggestions for review.
pub fn scan(db: &Db, name: &str, actor: &Actor, show_progress: bool) -> anyhow::Result<ScanOutcome> {
    let mut fg = claim(db, name, actor, run_kind::SCAN, show_progress)?;
    let result = crate::jobs::scan::execute(db, &fg.run, &mut fg.sink);
    fg.sink.bar.finish_and_clear();
    let outcome = result.with_context(|| format!("scanning {} failed", fg.source.name))?;
    println!(
        "Scanned {} in {:.2} s: {}. Review them at /classification/suggestions.",
        fg.source.name,
        fg.started.elapsed().as_secs_f64(),
        outcome.describe()
    );
    Ok(outcome)
}

pub fn describe(c: &CrawlChanges) -> String {
    if c.is_empty() {
        return "no changes".to_owned();
    }
    let parts = [
        (c.datasets_added, "datasets added"),
        (c.datasets_changed, "datasets changed"),
        (c.datasets_removed, "datasets removed"),
        (c.columns_added, "columns added"),
        (c.columns_changed, "columns changed"),
        (c.columns_removed, "columns removed"),
        (c.foreign_keys_added, "foreign keys added or changed"),
        (c.foreign_keys_removed, "foreign keys removed"),
    ];
    parts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect::<Vec<_>>().join(", ")
}
