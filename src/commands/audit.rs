//! `custodian audit`: verify the audit log's hash chain (and that it still extends a signed
//! checkpoint), create the checkpoint key, write signed checkpoints, and export the log as JSON
//! Lines or CSV.
//!
//! Exit codes: 0 when all is well, 1 when the command could not run (no catalog, unreadable
//! file), [`TAMPERED`] when the log or the checkpoint fails verification.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDateTime;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::db::audit::{self, AuditFilter, CSV_HEADER};
use crate::db::{AnyConnection, ConnectionManager, dialect, now};
use crate::governance::audit::{ChainError, ChainHead, Checkpoint, CheckpointError, PublicKey, SigningKey};

/// The exit code of a log or checkpoint that fails verification.
pub const TAMPERED: u8 = 3;

/// The environment variable naming the checkpoint key file.
pub const KEY_FILE_ENV: &str = "CUSTODIAN_AUDIT_KEY_FILE";

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain and name the first altered, missing or reordered event;
    /// with --checkpoint, also prove the log still extends that signed checkpoint.
    /// Exits with 3 when verification fails.
    Verify(VerifyArgs),
    /// Create a checkpoint signing key: writes FILE (mode 0600, a base64 Ed25519 seed) and
    /// FILE.pub, and prints the public key.
    Keygen {
        /// Where the private key goes (refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify the log, then write a checkpoint (sequence number, head hash, time, Ed25519
    /// signature) to keep outside the database.
    Checkpoint {
        /// Where the checkpoint goes (JSON).
        #[arg(long)]
        out: PathBuf,
        /// The signing key written by `custodian audit keygen`.
        #[arg(long, env = KEY_FILE_ENV)]
        key_file: PathBuf,
    },
    /// Write the log (or the events matching the filters) in sequence order.
    Export(ExportArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// A checkpoint written by `custodian audit checkpoint`.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The public key that must have signed the checkpoint (base64, or a file holding it);
    /// default: the public half of the key file.
    #[arg(long, requires = "checkpoint")]
    pub public_key: Option<String>,
    /// The signing key, when --public-key is not given.
    #[arg(long, env = KEY_FILE_ENV)]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub actor: Option<String>,
    /// An action (dataset.update) or a family (dataset).
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub entity_type: Option<String>,
    #[arg(long, requires = "entity_type")]
    pub entity_id: Option<String>,
    /// Events at or after this UTC time (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<NaiveDateTime>,
    /// Events before this UTC time (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<NaiveDateTime>,
}

pub fn parse_time(s: &str) -> Result<NaiveDateTime, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time or a YYYY-MM-DD date"))
}

/// Runs an audit subcommand.
pub fn run(command: AuditCommand, config: &Config) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Keygen { out } => {
            let public = keygen(&out)?;
            println!(
                "Wrote the private key to {} (keep it secret) and the public key to {}.",
                out.display(),
                pub_path(&out).display()
            );
            println!("Public key: {public}");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify(args) => verify(&mut connect(config)?, &args),
        AuditCommand::Checkpoint { out, key_file } => checkpoint(&mut connect(config)?, &key_file, &out),
        AuditCommand::Export(args) => {
            let mut conn = connect(config)?;
            let n = match &args.out {
                Some(path) => {
                    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
                    let n = export(&mut conn, &args, BufWriter::new(file), true)?;
                    eprintln!("Exported {n} events to {}.", path.display());
                    n
                }
                None => export(&mut conn, &args, BufWriter::new(std::io::stdout().lock()), true)?,
            };
            tracing::debug!(events = n, "audit export");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One catalog connection, migrated. These commands need no pool, and a pool would keep opening
/// connections in the background: a PostgreSQL connection still in its TLS handshake when the
/// process exits crashes in OpenSSL's exit handler.
fn connect(config: &Config) -> anyhow::Result<AnyConnection> {
    let mut conn = ConnectionManager::new(config.database_url.clone(), false)
        .establish()
        .with_context(|| format!("connecting to the catalog at {}", config.database_url.redacted()))?;
    dialect::run_migrations(&mut conn)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("migrating the catalog at {}", config.database_url.redacted()))?;
    Ok(conn)
}

fn pub_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Writes a new signing key to `out` (created with mode 0600; an existing file is never
/// replaced) and its public half to `out.pub`; returns the public key.
pub fn keygen(out: &Path) -> anyhow::Result<PublicKey> {
    let key = SigningKey::generate();
    crate::keys::write_private_file(out, &key.to_base64())?;
    let public = key.public_key();
    std::fs::write(pub_path(out), format!("{public}\n"))
        .with_context(|| format!("cannot write {}", pub_path(out).display()))?;
    Ok(public)
}

/// Reads the signing key; warns when others may read the file.
pub fn read_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read the audit key file {} (set --key-file or {KEY_FILE_ENV})", path.display())
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            eprintln!("warning: {} can be read by other users; run: chmod 600 {}", path.display(), path.display());
        }
    }
    SigningKey::from_base64(&text).with_context(|| format!("{} does not hold an audit key", path.display()))
}

/// The public key given as base64 or as a file holding it (checkpoints and erasure receipts).
pub fn read_public_key(value: &str) -> anyhow::Result<PublicKey> {
    let path = Path::new(value);
    if path.is_file() {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        return PublicKey::from_base64(&text).with_context(|| format!("{} does not hold a public key", path.display()));
    }
    PublicKey::from_base64(value).context("--public-key is neither a base64 Ed25519 public key nor a readable file")
}

fn progress_bar(total: i64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(u64::try_from(total).unwrap_or(0));
    bar.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {what} [{{bar:30}}] {{pos}}/{{len}} events ({{eta}})"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// What verification found.
#[derive(Debug)]
pub enum Verdict {
    /// The chain is intact up to `head` (and extends the checkpoint, when one was given).
    Intact { head: ChainHead, checkpoint: Option<Box<Checkpoint>> },
    /// The log is not what was appended.
    Broken(ChainError),
    /// The checkpoint itself cannot be trusted.
    Untrusted(CheckpointError),
}

/// Verifies the log (and a checkpoint's signature under `trusted`, then that the log extends it).
pub fn check(
    conn: &mut AnyConnection,
    checkpoint: Option<(Checkpoint, PublicKey)>,
    show_progress: bool,
) -> anyhow::Result<Verdict> {
    if let Some((cp, trusted)) = &checkpoint
        && let Err(e) = cp.verify_signature(trusted)
    {
        return Ok(Verdict::Untrusted(e));
    }
    let bar = if show_progress { progress_bar(audit::head(conn)?.seq, "verifying") } else { ProgressBar::hidden() };
    let cp = checkpoint.as_ref().map(|(cp, _)| cp);
    let result = audit::verify_chain(conn, cp, |done, total| {
        bar.set_length(u64::try_from(total).unwrap_or(0));
        bar.set_position(u64::try_from(done).unwrap_or(0));
    });
    bar.finish_and_clear();
    Ok(match result.context("reading the audit log")? {
        Ok(head) => Verdict::Intact { head, checkpoint: checkpoint.map(|(cp, _)| Box::new(cp)) },
        Err(e) => Verdict::Broken(e),
    })
}

/// `custodian audit verify`.
pub fn verify(conn: &mut AnyConnection, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let checkpoint = match &args.checkpoint {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let cp = match Checkpoint::from_json(&text) {
                Ok(cp) => cp,
                Err(e) => {
                    eprintln!("error: the checkpoint {} cannot be trusted: {e}", path.display());
                    return Ok(ExitCode::from(TAMPERED));
                }
            };
            let trusted = match (&args.public_key, &args.key_file) {
                (Some(value), _) => read_public_key(value)?,
                (None, Some(key_file)) => read_key(key_file)?.public_key(),
                (None, None) => bail!(
                    "give the public key that signed the checkpoint (--public-key) or the key file ({KEY_FILE_ENV})"
                ),
            };
            Some((cp, trusted))
        }
    };
    let started = Instant::now();
    match check(conn, checkpoint, true)? {
        Verdict::Intact { head, checkpoint } => {
            println!(
                "The audit log is intact: {} events, head {} ({}), verified in {:.2} s.",
                head.seq,
                head.seq,
                head.hash,
                started.elapsed().as_secs_f64()
            );
            if let Some(cp) = checkpoint {
                println!(
                    "It extends the checkpoint of event {} signed at {} by key {}.",
                    cp.seq,
                    cp.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    cp.public_key
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Verdict::Broken(e) => {
            eprintln!("error: the audit log fails verification at event {} ({}): {}", e.seq, e.kind, e.detail);
            Ok(ExitCode::from(TAMPERED))
        }
        Verdict::Untrusted(e) => {
            eprintln!("error: the checkpoint cannot be trusted: {e}");
            Ok(ExitCode::from(TAMPERED))
        }
    }
}

/// `custodian audit checkpoint`: verifies the log first, so a checkpoint never vouches for a
/// tampered log.
pub fn checkpoint(conn: &mut AnyConnection, key_file: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let key = read_key(key_file)?;
    let head = match check(conn, None, true)? {
        Verdict::Intact { head, .. } => head,
        Verdict::Broken(e) => {
            eprintln!(
                "error: no checkpoint written: the audit log fails verification at event {} ({}): {}",
                e.seq, e.kind, e.detail
            );
            return Ok(ExitCode::from(TAMPERED));
        }
        Verdict::Untrusted(e) => return Err(anyhow!(e)),
    };
    if head.seq == 0 {
        bail!("the audit log is empty: there is nothing to checkpoint yet");
    }
    let cp = Checkpoint::sign(&head, now(), &key);
    write_atomically(out, cp.to_json().as_bytes())?;
    // The log records that a checkpoint was taken (the audit page shows the latest one).
    dialect::write_transaction(conn, |conn| {
        audit::append(
            conn,
            &audit::AuditActor::system().event("audit.checkpoint", "audit_log").after(serde_json::json!({
                "seq": cp.seq,
                "head_hash": cp.head_hash,
                "public_key": cp.public_key.to_string(),
            })),
            now(),
        )
    })?;
    println!(
        "Wrote a checkpoint of event {} ({}) signed by key {} to {}.",
        cp.seq,
        cp.head_hash,
        cp.public_key,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a file whole or not at all (a temporary file beside it, renamed).
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Writes the events matching the filters, in sequence order, from one consistent snapshot;
/// returns how many.
pub fn export(
    conn: &mut AnyConnection,
    args: &ExportArgs,
    mut out: impl Write,
    show_progress: bool,
) -> anyhow::Result<u64> {
    let filter = AuditFilter {
        actor: args.actor.clone(),
        action: args.action.clone(),
        entity_type: args.entity_type.clone(),
        entity_id: args.entity_id.clone(),
        from: args.from,
        to: args.to,
    };
    let mut written = 0u64;
    let mut io_error = None;
    let mut line = String::with_capacity(1024);
    if args.format == ExportFormat::Csv {
        write!(out, "{CSV_HEADER}\r\n").context("writing the export")?;
    }
    let bar = if show_progress { progress_bar(audit::head(conn)?.seq, "exporting") } else { ProgressBar::hidden() };
    dialect::read_snapshot(conn, |conn| {
        audit::for_each_batch(conn, &filter, 0, audit::STREAM_BATCH, |rows| {
            for row in &rows {
                line.clear();
                match args.format {
                    ExportFormat::Jsonl => {
                        line.push_str(&row.to_json().to_string());
                        line.push('\n');
                    }
                    ExportFormat::Csv => row.write_csv_record(&mut line),
                }
                if let Err(e) = out.write_all(line.as_bytes()) {
                    io_error = Some(e);
                    return ControlFlow::Break(());
                }
                written += 1;
            }
            if let Some(last) = rows.last() {
                bar.set_position(u64::try_from(last.seq).unwrap_or(0));
            }
            ControlFlow::Continue(())
        })
    })
    .context("reading the audit log")?;
    bar.finish_and_clear();
    if let Some(e) = io_error {
        return Err(e).context("writing the export");
    }
    out.flush().context("writing the export")?;
    Ok(written)
}
