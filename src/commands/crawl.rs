//! `custodian crawl NAME`: crawl a source in the foreground with a progress bar.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use super::actor::Actor;
use crate::db::catalog::{self, CrawlChanges};
use crate::db::now;
use crate::db::{Db, dialect};
use crate::jobs::ProgressSink;
use crate::jobs::crawl as job;

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

/// Crawls the named source now; returns what changed.
pub fn run(db: &Db, name: &str, actor: &Actor, show_progress: bool) -> anyhow::Result<CrawlChanges> {
    let (source, run) = {
        let mut conn = db.writer()?;
        let source = catalog::find_source_by_name(&mut conn, name)?
            .with_context(|| format!("there is no source named {name:?} (see: custodian source list)"))?;
        let (run, new) = dialect::write_transaction(&mut conn, |conn| {
            crate::catalog::request_crawl(conn, &actor.audit(), source.id, now())
        })?;
        if !new && run.status != "queued" {
            bail!("a crawl of {name} is already running (run #{})", run.id);
        }
        if !catalog::claim_crawl_run(&mut conn, run.id, now())? {
            bail!("a crawl of {name} was just started by a worker (run #{})", run.id);
        }
        (source, run)
    };
    let started = Instant::now();
    let bar = if show_progress { ProgressBar::new_spinner() } else { ProgressBar::hidden() };
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut sink = Bar { bar };
    let result = job::execute(db, &run, &mut sink);
    sink.bar.finish_and_clear();
    let changes = result.with_context(|| format!("crawling {} failed; the catalog is unchanged", source.name))?;
    println!(
        "Crawled {} in {:.2} s: {} datasets; {}.",
        source.name,
        started.elapsed().as_secs_f64(),
        changes.datasets_seen,
        describe(&changes)
    );
    Ok(changes)
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
