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
