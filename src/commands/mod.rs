//! The command-line interface's work: one function per `custodian` subcommand. `main.rs` parses
//! arguments and calls these. Commands print results for people on stdout and fail with a
//! message that says what to do.

pub mod actor;
pub mod audit;
pub mod classify;
pub mod crawl;
pub mod demo;
pub mod erasure;
pub mod ingest;
pub mod lineage;
pub mod lookup;
pub mod migrate;
pub mod retention;
pub mod seed;
pub mod serve;
pub mod source;
pub mod user;

use anyhow::Context;

use crate::config::Config;
use crate::db::Db;

/// Opens (and migrates) the configured catalog.
pub fn open_catalog(config: &Config) -> anyhow::Result<Db> {
    Db::open(&config.database_url, &config.pool_settings())
        .with_context(|| format!("opening the catalog at {}", config.database_url.redacted()))
}

/// A progress bar on the terminal for a job run in the foreground (an erasure, a purge).
pub(crate) struct Bar(pub(crate) indicatif::ProgressBar);

impl Bar {
    /// A bar whose counter is labelled with `unit` ("tables", "rows").
    pub(crate) fn new(unit: &str) -> Self {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit}"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Self(bar)
    }
}

impl crate::jobs::ProgressSink for Bar {
    fn stage(&mut self, stage: &str) {
        self.0.set_message(stage.to_owned());
    }

    fn advance(&mut self, done: u64, total: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }
}
