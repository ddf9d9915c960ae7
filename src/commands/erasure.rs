//! `custodian erasure …`, `custodian receipt verify` (erasure and purge receipts) and
//! `custodian worker`: GDPR erasure from the command line, for the privacy desk, compliance
//! officers and operators. Each command acts as `--as USER` with that user's role.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;

use super::actor::Actor;
use crate::config::Config;
use crate::db::erasure as repo;
use crate::db::{Db, now};
use crate::erasure::{self, Submission};
use crate::governance::access::Permission;
use crate::governance::erasure::receipt::{self, Receipt};
use crate::governance::retention::PurgeReceipt;
use crate::jobs::{self, ProgressBoard, WorkerContext};
use crate::keys::Keys;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ErasureCommand {
    /// Submit a deletion request (privacy desk); prints the request id.
    Submit {
        /// The identifier type (e.g. email, customer_id, phone).
        #[arg(long = "type")]
        identifier_type: String,
        /// The subject's identifier.
        #[arg(long)]
        value: String,
        /// When the request was received (YYYY-MM-DD; default today).
        #[arg(long)]
        received: Option<NaiveDate>,
        /// How it arrived: web_form, email, letter, phone, in_person, api.
        #[arg(long)]
        channel: Option<String>,
        /// The requester's own reference.
        #[arg(long)]
        requester_ref: Option<String>,
        /// Submitting again with the same key returns the same request.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Plan a request: every table with the subject's rows, the action, exact dry-run counts.
    Plan { id: i64 },
    /// Approve a planned request (a compliance officer other than the submitter).
    Approve { id: i64 },
    /// Refuse a request, with the reason.
    Refuse {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Extend the due date once, by 1 or 2 months, before the original due date.
    Extend {
        id: i64,
        #[arg(long)]
        months: u32,
        #[arg(long)]
        reason: String,
    },
    /// Run an approved request in the foreground, with progress (or verify an ended one).
    Run { id: i64 },
    /// Print the request, its plan, per-target results and outcome.
    Show {
        id: i64,
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a finished request's signed receipt.
    Receipt {
        id: i64,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// How a dataset's rows are erased: delete rows (default) or mask its personal-data columns.
    SetAction {
        /// SOURCE.SCHEMA.TABLE
        dataset: String,
        /// delete or mask
        action: String,
    },
    /// Print the public key that verifies this instance's receipts.
    PublicKey,
}

fn keys(config: &Config) -> anyhow::Result<Keys> {
    Keys::load_or_create(&config.key_path())
}

pub fn run(command: ErasureCommand, actor: Option<&str>, config: &Config, db: &Db) -> anyhow::Result<ExitCode> {
    let today = now().date();
    match command {
        ErasureCommand::Submit { identifier_type, value, received, channel, requester_ref, idempotency_key } => {
            let actor = Actor::require(db, actor, Permission::SubmitErasure)?;
            let keys = keys(config)?;
            let submission = Submission {
                identifier_type,
                value,
                received_on: received,
                channel,
                requester_ref,
                idempotency_key,
                notes: None,
            };
            let (request, new) = erasure::submit(&mut *db.writer()?, &keys, &actor.audit(), &submission, now())?;
            if !new {
                eprintln!("(already submitted with this idempotency key)");
            }
            println!("{}", request.id);
        }
        ErasureCommand::Plan { id } => {
            let actor = Actor::require_any(db, actor, &[Permission::SubmitErasure, Permission::ApproveErasure])?;
            let keys = keys(config)?;
            let report = erasure::plan(db, &keys, config.erasure, &actor.audit(), id)?;
            for (i, (step, count)) in report.steps.iter().enumerate() {
                println!(
                    "{:>3}  {:<8} {}.{}  {} rows  ({})",
                    i + 1,
                    step.action.as_str(),
                    step.schema,
                    step.table,
                    count,
                    step.reached_via
                );
            }
            for r in &report.plan.recipients {
                println!("  notify {}", r.name);
            }
            if !report.is_executable() {
                eprintln!("The plan is refused:");
                for line in report.refusals() {
                    eprintln!("  - {line}");
                }
                return Ok(ExitCode::from(2));
            }
            println!("planned: {} steps, {} rows", report.steps.len(), report.steps.iter().map(|s| s.1).sum::<i64>());
        }
        ErasureCommand::Approve { id } => {
            let actor = Actor::require(db, actor, Permission::ApproveErasure)?;
            erasure::approve(&mut *db.writer()?, &actor.audit(), id, now())?;
            println!("approved request {id}");
        }
        ErasureCommand::Refuse { id, reason } => {
            let actor = Actor::require(db, actor, Permission::ApproveErasure)?;
            erasure::refuse(&mut *db.writer()?, &actor.audit(), id, &reason, now())?;
            println!("refused request {id}");
        }
        ErasureCommand::Extend { id, months, reason } => {
            let actor = Actor::require_any(db, actor, &[Permission::SubmitErasure, Permission::ApproveErasure])?;
            let request = erasure::extend(&mut *db.writer()?, &actor.audit(), id, months, &reason, now())?;
            println!("request {id} is now due on {}", request.due_on);
        }
        ErasureCommand::Run { id } => {
            let actor = Actor::require_any(db, actor, &[Permission::SubmitErasure, Permission::ApproveErasure])?;
            let keys = keys(config)?;
            let queued = erasure::request_run(&mut *db.writer()?, &actor.audit(), id, now())?;
            let claimed = repo::claim_run(
                &mut *db.writer()?,
                &jobs::erasure::worker_name(),
                erasure::lease(config.erasure),
                now(),
            )?
            .filter(|r| r.id == queued.id)
            .context("another worker claimed the run; follow it with: custodian erasure show ID")?;
            let mut bar = super::Bar::new("tables");
            erasure::execute(db, &keys, config.erasure, &claimed, &mut bar)?;
            bar.0.finish_and_clear();
            let details = erasure::details(&mut *db.reader()?, id, today)?;
            print_details(&details);
            if details.status == "blocked" {
                return Ok(ExitCode::from(2));
            }
        }
        ErasureCommand::Show { id, json } => {
            let details = erasure::details(&mut *db.reader()?, id, today)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&details)?);
            } else {
                print_details(&details);
            }
        }
        ErasureCommand::Receipt { id, out } => {
            let receipt = repo::receipt_of(&mut *db.reader()?, id)?
                .with_context(|| format!("request {id} has no receipt (it has not completed)"))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &receipt.body).with_context(|| format!("writing {}", path.display()))?
                }
                None => print!("{}", receipt.body),
            }
        }
        ErasureCommand::SetAction { dataset, action } => {
            let actor = Actor::require(db, actor, Permission::ApproveErasure)?;
            let mut conn = db.writer()?;
            let found = super::lookup::dataset(&mut conn, &dataset)?.id;
            erasure::set_dataset_action(&mut conn, &actor.audit(), found, &action, now())?;
            println!("{dataset}: {action}");
        }
        ErasureCommand::PublicKey => println!("{}", keys(config)?.receipt_public_key()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `SOURCE.SCHEMA.TABLE` → the dataset's id.
fn print_details(d: &erasure::Details) {
    println!("request {}  {}  ({})", d.id, d.status_label, d.status);
    println!(
        "  identifier type {}, received {}, due {} ({} days left)",
        d.identifier_type, d.received_on, d.due_on, d.days_left
    );
    if let Some(reason) = &d.status_reason {
        for line in reason.lines() {
            println!("  ! {line}");
        }
    }
    for s in &d.steps {
        println!(
            "  {:>3} {:<8} {:<40} planned {:>6}  changed {:>6}  remaining {:>4}  {}{}",
            s.position + 1,
            s.action,
            s.table,
            s.expected_rows,
            s.affected_rows,
            s.remaining_rows.map_or("-".into(), |n| n.to_string()),
            s.status,
            s.error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        );
    }
    for r in &d.recipients {
        println!("  recipient {} [{}] {}", r.id, r.status, r.recipient);
    }
}

/// `custodian receipt verify FILE --public-key KEY`: exit 0 when the receipt is authentic,
/// 3 when it is not.
pub fn verify_receipt(file: &PathBuf, public_key: &str) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let key = super::audit::read_public_key(public_key)?;
    let checked = match receipt::format_of(&text) {
        Ok(format) if format == crate::governance::retention::RECEIPT_FORMAT => {
            PurgeReceipt::verify(&text, &key).map(|r| {
                format!(
                    "valid purge receipt: run {} as of {}, outcome {}, {} datasets, {} rows, {} held, audit events {}–{}",
                    r.run_id,
                    r.as_of,
                    r.outcome,
                    r.datasets.len(),
                    r.datasets.iter().map(|d| d.rows).sum::<i64>(),
                    r.datasets.iter().map(|d| d.held_rows).sum::<i64>(),
                    r.audit_from,
                    r.audit_to
                )
            })
        }
        _ => Receipt::verify(&text, &key).map(|r| {
            format!(
                "valid receipt: request {} ({}), outcome {}, {} targets, {} rows, audit events {}–{}",
                r.request_id,
                r.identifier_type,
                r.outcome,
                r.targets.len(),
                r.targets.iter().map(|t| t.rows).sum::<i64>(),
                r.audit_from,
                r.audit_to
            )
        }),
    };
    match checked {
        Ok(summary) => {
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("INVALID: {e}");
            Ok(ExitCode::from(3))
        }
    }
}

/// `custodian worker`: runs queued jobs (crawls, scans, erasures) without serving pages; with
/// `until_idle`, exits when none is left.
pub fn worker(config: &Config, db: &Db, until_idle: bool) -> anyhow::Result<()> {
    let cx = WorkerContext::new(Arc::new(keys(config)?), config);
    let board = ProgressBoard::default();
    if until_idle {
        let ran = jobs::drain(db, &board, &cx);
        eprintln!("ran {ran} jobs");
        return Ok(());
    }
    let (_queue, handle) = jobs::spawn_worker(db.clone(), board, cx)?;
    handle.join().map_err(|_| anyhow::anyhow!("the worker stopped"))?;
    Ok(())
}
