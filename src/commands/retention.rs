//! `custodian retention …` and `custodian hold …`: retention policies, where they apply, the
//! column that dates a dataset, purges (`run [--dry-run]`, in the foreground with progress),
//! their receipts, the storage-limitation report and the records of processing; legal holds.
//! Each command that changes something acts as `--as USER` with that user's role.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;

use super::actor::Actor;
use super::lookup;
use crate::config::Config;
use crate::db::retention as repo;
use crate::db::{Db, now};
use crate::governance::access::Permission;
use crate::keys::Keys;
use crate::retention::{self, HoldInput, HoldScope, PolicyInput, ScopeRef};

#[derive(Debug, Clone, clap::Subcommand)]
pub enum RetentionCommand {
    /// Create a policy (compliance).
    PolicyAdd(PolicyArgs),
    /// List policies and where each is assigned.
    Policies,
    /// Attach a policy to a source, schema, dataset or category (replacing what was there).
    Assign {
        /// The policy's name.
        policy: String,
        /// A source name.
        #[arg(long, group = "scope")]
        source: Option<String>,
        /// SOURCE.SCHEMA
        #[arg(long, group = "scope")]
        schema: Option<String>,
        /// SOURCE.SCHEMA.TABLE
        #[arg(long, group = "scope")]
        dataset: Option<String>,
        /// A personal-data category key (e.g. health).
        #[arg(long, group = "scope")]
        category: Option<String>,
    },
    /// Set the column that dates a dataset's rows (`none` clears it).
    Timestamp {
        /// SOURCE.SCHEMA.TABLE
        dataset: String,
        column: String,
    },
    /// Show the policy in force for a dataset and where it comes from.
    Show {
        /// SOURCE.SCHEMA.TABLE
        dataset: String,
    },
    /// Purge rows past their retention period now, in the foreground (`--dry-run`: count them
    /// and write nothing).
    Run {
        #[arg(long)]
        dry_run: bool,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a purge and its datasets.
    Runs {
        /// One run's id (default: the latest runs).
        id: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Write a purge's signed receipt.
    Receipt {
        id: i64,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Datasets with personal data and no policy in force, or rows past their period waiting.
    Report {
        #[arg(long)]
        json: bool,
    },
    /// The records of processing (Art. 30).
    Records {
        /// csv or json
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct PolicyArgs {
    #[arg(long)]
    name: String,
    /// An ISO 8601 period: P90D, P13M, P7Y …
    #[arg(long)]
    period: String,
    /// delete or mask
    #[arg(long, default_value = "delete")]
    action: String,
    /// For mask: the columns to mask (comma-separated; default every personal-data column).
    #[arg(long, default_value = "")]
    mask_columns: String,
    /// Why the data is kept this long (e.g. "Art. 6(1)(c): tax law, 10 years").
    #[arg(long)]
    basis: String,
    #[arg(long, default_value = "")]
    description: String,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum HoldCommand {
    /// Place a legal hold; prints its id.
    Add(HoldArgs),
    /// List holds, active and released.
    List,
    /// Release a hold.
    Release {
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct HoldArgs {
    /// What the hold covers: source, dataset, column, category or subject.
    #[arg(long)]
    scope: String,
    /// A source name, SOURCE.SCHEMA.TABLE, SOURCE.SCHEMA.TABLE.COLUMN, a category key, or for a
    /// subject TYPE:VALUE.
    #[arg(long)]
    target: String,
    /// The Art. 17(3) basis: art17_3_a … art17_3_e.
    #[arg(long)]
    basis: String,
    #[arg(long)]
    reason: String,
    /// When the hold ends (YYYY-MM-DD).
    #[arg(long)]
    until: Option<NaiveDate>,
}

fn keys(config: &Config) -> anyhow::Result<Keys> {
    Keys::load_or_create(&config.key_path())
}

fn category_id(conn: &mut crate::db::AnyConnection, key: &str) -> anyhow::Result<i64> {
    crate::db::classification::list_categories(conn)?
        .into_iter()
        .find(|c| c.key == key)
        .map(|c| c.id)
        .with_context(|| format!("there is no category {key:?}"))
}

fn print_run(v: &retention::RunView) {
    println!(
        "purge {} ({}, {}) {}: {} rows past their period, {} changed, {} held",
        v.id,
        if v.mode == "dry_run" { "dry run" } else { "purge" },
        v.trigger,
        v.status,
        v.rows_past_period,
        v.rows_changed,
        v.held_rows
    );
    if let Some(e) = &v.error {
        println!("  ! {e}");
    }
    for s in &v.steps {
        let what = match s.status.as_str() {
            "skipped" => format!("skipped: {}", s.error.as_deref().unwrap_or("")),
            "held" => format!("held ({})", s.hold_basis.as_deref().unwrap_or("")),
            _ if v.mode == "dry_run" => format!("{} past {}, would {}", s.expected_rows, s.cutoff, s.action),
            _ => format!("{} past {} → {} {}", s.expected_rows, s.cutoff, s.affected_rows, s.action),
        };
        let held =
            if s.held_rows > 0 && s.status != "held" { format!(", {} held", s.held_rows) } else { String::new() };
        println!("  {:<40} {:<18} {:<10} {what}{held}", format!("{}.{}", s.source, s.table), s.policy, s.status);
    }
}

pub fn run(command: RetentionCommand, actor: Option<&str>, config: &Config, db: &Db) -> anyhow::Result<ExitCode> {
    match command {
        RetentionCommand::PolicyAdd(a) => {
            let actor = Actor::require(db, actor, Permission::ManageRetention)?;
            let input = PolicyInput {
                name: a.name,
                period: a.period,
                action: a.action,
                mask_columns: a.mask_columns,
                legal_basis: a.basis,
                description: a.description,
            };
            println!("{}", retention::create_policy(&mut *db.writer()?, &actor.audit(), &input)?);
        }
        RetentionCommand::Policies => {
            let mut conn = db.reader()?;
            let assignments = repo::list_assignments(&mut conn)?;
            for p in repo::list_policies(&mut conn)? {
                println!("{}  {}  {}  {}  ({})", p.id, p.name, p.period, p.action, p.legal_basis);
                for a in assignments.iter().filter(|a| a.policy_id == p.id) {
                    let schema = if a.schema_name.is_empty() { String::new() } else { format!(" {}", a.schema_name) };
                    println!("     assignment {}: {} {}{schema}", a.id, a.scope, a.scope_id);
                }
            }
        }
        RetentionCommand::Assign { policy, source, schema, dataset, category } => {
            let actor = Actor::require(db, actor, Permission::ManageRetention)?;
            let mut conn = db.writer()?;
            let policy = repo::find_policy_by_name(&mut conn, &policy)?
                .with_context(|| format!("there is no policy named {policy:?}"))?;
            let scope = match (source, schema, dataset, category) {
                (Some(s), None, None, None) => ScopeRef::Source(lookup::source(&mut conn, &s)?.id),
                (None, Some(s), None, None) => {
                    let (source, schema) = s.split_once('.').context("name a schema as SOURCE.SCHEMA")?;
                    ScopeRef::Schema(lookup::source(&mut conn, source)?.id, schema.to_owned())
                }
                (None, None, Some(d), None) => ScopeRef::Dataset(lookup::dataset(&mut conn, &d)?.id),
                (None, None, None, Some(c)) => ScopeRef::Category(category_id(&mut conn, &c)?),
                _ => bail!("give one of --source, --schema, --dataset or --category"),
            };
            retention::assign(&mut conn, &actor.audit(), policy.id, &scope)?;
            println!("Assigned {}.", policy.name);
        }
        RetentionCommand::Timestamp { dataset, column } => {
            let actor = Actor::require_any(db, actor, &[Permission::ManageRetention, Permission::EditCatalog])?;
            let mut conn = db.writer()?;
            let d = lookup::dataset(&mut conn, &dataset)?;
            let column = (column != "none").then_some(column);
            retention::set_timestamp(&mut conn, &actor.audit(), d.id, column.as_deref())?;
        }
        RetentionCommand::Show { dataset } => {
            let mut conn = db.reader()?;
            let d = lookup::dataset(&mut conn, &dataset)?;
            let r = retention::dataset_retention(&mut conn, d.id)?;
            match &r.in_force {
                Some(f) => println!("{} ({}, {} rows) from {}", f.policy, f.period, f.action, f.from),
                None => println!("no retention policy in force"),
            }
            match (&r.timestamp_column, &r.suggested_column) {
                (Some(c), _) => println!("rows dated by {c}"),
                (None, Some(s)) => println!("no column dates the rows yet (suggested: {s})"),
                (None, None) => println!("no column dates the rows yet"),
            }
        }
        RetentionCommand::Run { dry_run, json } => {
            let actor = Actor::require(db, actor, Permission::ManageRetention)?;
            let keys = keys(config)?;
            let id = retention::request_run(&mut *db.writer()?, &actor.audit(), dry_run, "manual")?;
            let claimed = repo::claim_run(
                &mut *db.writer()?,
                &crate::jobs::erasure::worker_name(),
                crate::erasure::lease(config.erasure),
                now(),
            )?
            .filter(|r| r.id == id)
            .context("another worker claimed the run; follow it with: custodian retention runs ID")?;
            let mut bar = super::Bar::new("rows");
            retention::execute(db, &keys, config.erasure, config.retention, &claimed, &mut bar)?;
            bar.0.finish_and_clear();
            let v = retention::run_view(&mut *db.reader()?, id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                print_run(&v);
            }
            if v.status != "done" {
                return Ok(ExitCode::from(2));
            }
        }
        RetentionCommand::Runs { id, json } => {
            let mut conn = db.reader()?;
            let views = match id {
                Some(id) => vec![retention::run_view(&mut conn, id)?],
                None => retention::recent_runs(&mut conn, 20)?,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                views.iter().for_each(print_run);
            }
        }
        RetentionCommand::Receipt { id, out } => {
            let text = retention::receipt(&mut *db.reader()?, id)?;
            match out {
                Some(path) => std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
        }
        RetentionCommand::Report { json } => {
            let lines = retention::storage_limitation(&mut *db.reader()?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&lines)?);
            } else if lines.is_empty() {
                println!("Every dataset with personal data has a policy in force and nothing waits past its period.");
            } else {
                for l in &lines {
                    println!("{:<13} {}.{}  {}", l.problem, l.source, l.dataset, l.detail);
                }
            }
        }
        RetentionCommand::Records { format } => {
            let records = retention::records_of_processing(&mut *db.reader()?)?;
            match format.as_str() {
                "csv" => print!("{}", retention::records_csv(&records)),
                "json" => println!("{}", serde_json::to_string_pretty(&records)?),
                other => bail!("the format is csv or json, not {other}"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn hold(command: HoldCommand, actor: Option<&str>, config: &Config, db: &Db) -> anyhow::Result<()> {
    match command {
        HoldCommand::Add(args) => {
            let actor = Actor::require(db, actor, Permission::ManageRetention)?;
            let mut conn = db.writer()?;
            let scope = match args.scope.as_str() {
                "source" => HoldScope::Source(lookup::source(&mut conn, &args.target)?.id),
                "dataset" => HoldScope::Dataset(lookup::dataset(&mut conn, &args.target)?.id),
                "column" => HoldScope::Column(lookup::column(&mut conn, &args.target)?.1.id),
                "category" => HoldScope::Category(category_id(&mut conn, &args.target)?),
                "subject" => {
                    let (kind, value) =
                        args.target.split_once(':').context("a subject is TYPE:VALUE, e.g. email:a@example.com")?;
                    HoldScope::Subject { identifier_type: kind.to_owned(), value: value.to_owned() }
                }
                other => bail!("a hold's scope is source, dataset, column, category or subject, not {other}"),
            };
            let input = HoldInput { scope, basis: args.basis, reason: args.reason, until: args.until };
            let id = retention::add_hold(&mut conn, &keys(config)?, &actor.audit(), &input)?;
            println!("{id}");
        }
        HoldCommand::List => {
            for h in retention::holds(&mut *db.reader()?)? {
                println!(
                    "{:>4}  {:<8} {:<50} {:<10} {}{}",
                    h.id,
                    if h.active { "active" } else { "ended" },
                    h.target,
                    h.basis,
                    h.reason,
                    h.ends_on.map(|d| format!(" (until {d})")).unwrap_or_default()
                );
            }
        }
        HoldCommand::Release { id, reason } => {
            let actor = Actor::require(db, actor, Permission::ManageRetention)?;
            retention::release_hold(&mut *db.writer()?, &actor.audit(), id, &reason)?;
            println!("Released hold {id}.");
        }
    }
    Ok(())
}
