//! `custodian ingest sql PATH...`: reads pipeline SQL from files, directories (recursively, every
//! `*.sql`) and glob patterns, and ingests each file as a pipeline (see [`crate::ingest`]) with
//! a progress bar. A file is identified by its path: relative to the current directory when it
//! lies under it, absolute otherwise, so ingesting the same checkout from its root again finds
//! the same pipelines.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::actor::Actor;
use crate::db::Db;
use crate::ingest::{self, IngestTarget, Outcome, SqlInput};

#[derive(Subcommand)]
pub enum IngestCommand {
    /// Ingest SQL files as pipelines: table and column lineage into the catalog.
    Sql(SqlArgs),
    /// Ingest a dbt manifest: models, seeds, snapshots and sources as datasets, their
    /// descriptions, tags and meta as suggestions, each model's compiled SQL as lineage.
    Dbt(DbtArgs),
}

#[derive(Args)]
pub struct DbtArgs {
    /// target/manifest.json (after `dbt compile`, `dbt run` or `dbt docs generate`).
    #[arg(value_name = "MANIFEST")]
    pub manifest: std::path::PathBuf,
    /// target/catalog.json (from `dbt docs generate`): column names of tables no crawl has found.
    #[arg(long)]
    pub catalog: Option<std::path::PathBuf>,
    /// The source the dbt project builds in (needed when the catalog has more than one).
    #[arg(long)]
    pub source: Option<String>,
}

#[derive(Args)]
pub struct SqlArgs {
    /// Files, directories (searched recursively for *.sql) or glob patterns (quote them).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// The SQL dialect (postgres, sqlite, bigquery, hive, snowflake, tsql, ...); default: the source's kind.
    #[arg(long)]
    pub dialect: Option<String>,
    /// The source the SQL runs against (needed when the catalog has more than one).
    #[arg(long)]
    pub source: Option<String>,
    /// The schema unqualified table names live in; default: the source's (public, main).
    #[arg(long)]
    pub default_schema: Option<String>,
}

/// What a run of `ingest sql` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestSummary {
    pub files: usize,
    pub created: usize,
    pub replaced: usize,
    pub unchanged: usize,
    pub statements: usize,
    pub files_with_errors: usize,
    pub parse_errors: usize,
    pub table_edges: usize,
    pub column_edges: usize,
    pub datasets_created: usize,
}

pub fn run(db: &Db, actor: &Actor, command: IngestCommand, show_progress: bool) -> anyhow::Result<IngestSummary> {
    match command {
        IngestCommand::Sql(args) => sql(db, actor, &args, show_progress),
        IngestCommand::Dbt(args) => {
            let mapping = crate::config::Config::from_env()?.dbt_mapping;
            dbt(db, actor, &args, mapping.as_deref()).map(|_| IngestSummary::default())
        }
    }
}

/// Ingests a dbt manifest (and catalog); prints what it did.
pub fn dbt(
    db: &Db,
    actor: &Actor,
    args: &DbtArgs,
    mapping: Option<&std::path::Path>,
) -> anyhow::Result<crate::dbt::DbtReport> {
    use anyhow::Context as _;
    let read = |p: &std::path::Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let manifest: crate::dbt::Manifest = serde_json::from_str(&read(&args.manifest)?)
        .with_context(|| format!("{} is not a dbt manifest", args.manifest.display()))?;
    let catalog: Option<crate::dbt::Catalog> = match &args.catalog {
        Some(p) => {
            Some(serde_json::from_str(&read(p)?).with_context(|| format!("{} is not a dbt catalog", p.display()))?)
        }
        None => None,
    };
    let mapping = crate::dbt::mapping_from(mapping).map_err(anyhow::Error::msg)?;
    let mut conn = db.writer()?;
    let source = ingest::choose_source(&mut conn, args.source.as_deref())?;
    let r = crate::dbt::ingest(&mut conn, &actor.audit(), source, &manifest, catalog.as_ref(), &mapping)?;
    println!(
        "dbt {}: {} models, {} seeds, {} snapshots, {} sources; {} datasets matched to crawled ones, {} referenced; \
         pipelines {} new, {} changed, {} unchanged; {} descriptions written, {} kept (edited in Custodian); \
         {} columns added; {} classification suggestions",
        manifest.metadata.dbt_version,
        r.models,
        r.seeds,
        r.snapshots,
        r.sources,
        r.matched,
        r.referenced,
        r.pipelines_created,
        r.pipelines_replaced,
        r.pipelines_unchanged,
        r.descriptions_written,
        r.descriptions_kept,
        r.columns_created,
        r.suggestions
    );
    Ok(r)
}

/// Ingests the SQL files `args` names.
pub fn sql(db: &Db, actor: &Actor, args: &SqlArgs, show_progress: bool) -> anyhow::Result<IngestSummary> {
    let files = collect_files(&args.paths)?;
    let mut conn = db.writer()?;
    let source = ingest::choose_source(&mut conn, args.source.as_deref())?;
    let target = IngestTarget::new(source, args.dialect.as_deref(), args.default_schema.as_deref())?.batch();
    let cwd = std::env::current_dir().ok().and_then(|d| d.canonicalize().ok());
    let by = actor.audit();

    let started = Instant::now();
    let bar = if show_progress { ProgressBar::new(files.len() as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut summary = IngestSummary { files: files.len(), ..Default::default() };
    let mut problems: Vec<String> = Vec::new();
    let mut unreadable = 0;
    for file in &files {
        let path = pipeline_path(file, cwd.as_deref());
        bar.set_message(path.clone());
        let sql = match std::fs::read(file) {
            Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|e| {
                problems.push(format!("{path}: not valid UTF-8; invalid bytes were replaced"));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }),
            Err(e) => {
                problems.push(format!("{path}: cannot be read: {e}"));
                unreadable += 1;
                bar.inc(1);
                continue;
            }
        };
        let name = file.file_name().map_or_else(|| path.clone(), |n| n.to_string_lossy().into_owned());
        let input = SqlInput { name, path: path.clone(), sql };
        let report = match ingest::ingest(&mut conn, &by, &target, &input, false, None) {
            Ok(report) => report,
            Err(e) => {
                bar.finish_and_clear();
                // What was stored before this file stays stored, durably.
                let _ = crate::db::dialect::flush_commits(&mut conn);
                return Err(e).with_context(|| format!("ingesting {path} failed; the files before it are stored"));
            }
        };
        match report.outcome {
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Created => summary.created += 1,
            Outcome::Replaced => summary.replaced += 1,
        }
        summary.statements += report.statements;
        summary.parse_errors += report.errors;
        summary.table_edges += report.table_edges;
        summary.column_edges += report.column_edges;
        summary.datasets_created += report.datasets_created;
        if report.errors > 0 {
            summary.files_with_errors += 1;
        }
        bar.inc(1);
    }
    // Every ingest of the batch committed without waiting for the disk: wait once, now.
    crate::db::dialect::flush_commits(&mut conn)?;
    bar.finish_and_clear();
    drop(conn);
    if show_progress {
        println!(
            "Ingested {} {} against {} in {:.2} s: {}.",
            summary.files,
            if summary.files == 1 { "file" } else { "files" },
            target.source.name,
            started.elapsed().as_secs_f64(),
            describe(&summary)
        );
        for p in problems.iter().take(20) {
            eprintln!("warning: {p}");
        }
    }
    if unreadable > 0 {
        bail!("{unreadable} of {} files could not be read; the others are ingested", files.len());
    }
    Ok(summary)
}

pub fn describe(s: &IngestSummary) -> String {
    let mut parts = vec![format!("{} new, {} changed, {} unchanged", s.created, s.replaced, s.unchanged)];
    if s.created + s.replaced > 0 {
        parts.push(format!(
            "{} statements, {} table and {} column lineage edges",
            s.statements, s.table_edges, s.column_edges
        ));
        if s.parse_errors > 0 {
            parts.push(format!(
                "{} statements did not parse, in {} files (see the pipelines' pages)",
                s.parse_errors, s.files_with_errors
            ));
        }
        if s.datasets_created > 0 {
            parts.push(format!("{} tables never crawled are listed as referenced datasets", s.datasets_created));
        }
    }
    parts.join("; ")
}

/// How a file is identified: relative to `cwd` when under it, absolute otherwise, with `/`.
fn pipeline_path(file: &Path, cwd: Option<&Path>) -> String {
    let absolute = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    let shown = match cwd.and_then(|cwd| absolute.strip_prefix(cwd).ok()) {
        Some(relative) => relative.to_path_buf(),
        None => absolute,
    };
    shown.to_string_lossy().replace('\\', "/")
}

fn is_sql(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("sql"))
}

/// Every `*.sql` under `dir`, in path order.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading the directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_sql(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// The files the arguments name: files as given, directories searched for `*.sql`, glob
/// patterns expanded; each file once, in the order found.
pub fn collect_files(args: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        let mut found = Vec::new();
        if path.is_dir() {
            walk(path, &mut found)?;
        } else if path.is_file() {
            found.push(path.to_path_buf());
        } else if arg.contains(['*', '?', '[']) {
            let matches = glob::glob(arg).with_context(|| format!("{arg:?} is not a valid glob pattern"))?;
            for m in matches {
                let m = m.with_context(|| format!("reading what {arg:?} matches"))?;
                if m.is_dir() {
                    walk(&m, &mut found)?;
                } else if m.is_file() {
                    found.push(m);
                }
            }
            if found.is_empty() {
                bail!("no file matches {arg:?}");
            }
        } else {
            bail!("{arg} does not exist");
        }
        for f in found {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    if out.is_empty() {
        bail!("no .sql files found in {}", args.join(", "));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_directories_and_globs_are_collected_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("dirs");
        for f in ["a/one.sql", "a/b/two.SQL", "a/b/notes.txt", "three.sql"] {
            std::fs::write(root.join(f), "select 1").expect("write");
        }
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let files =
            collect_files(&[s(&root.join("a")), s(&root.join("three.sql")), s(&root.join("*.sql"))]).expect("collect");
        let names: Vec<String> = files.iter().map(|f| f.strip_prefix(root).map(s).unwrap_or_default()).collect();
        assert_eq!(names, ["a/b/two.SQL", "a/one.sql", "three.sql"]);
        assert!(collect_files(&[s(&root.join("nothing-*.sql"))]).is_err());
        assert!(collect_files(&[s(&root.join("missing.sql"))]).is_err());
    }

    #[test]
    fn paths_are_relative_under_the_current_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir_all(root.join("etl")).expect("dir");
        std::fs::write(root.join("etl/x.sql"), "select 1").expect("write");
        assert_eq!(pipeline_path(&root.join("etl/x.sql"), Some(&root)), "etl/x.sql");
        let elsewhere = pipeline_path(&root.join("etl/x.sql"), Some(Path::new("/nonexistent")));
        assert!(elsewhere.starts_with('/') && elsewhere.ends_with("etl/x.sql"), "{elsewhere}");
    }
}
