//! The `custodian` binary: parses the command line, sets up logging and configuration, and calls
//! into the library, where all the work happens.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use custodian::commands::actor::Actor;
use custodian::commands::user::{self, PasswordSource};
use custodian::commands::{
    self, audit, crawl, demo, erasure, ingest, lineage, migrate, retention, seed, serve, source,
};
use custodian::config::Config;
use custodian::governance::access::{Permission, Role};
use custodian::targets::SourceKind;

#[derive(Parser)]
#[command(name = "custodian", version, about = "A governance and lineage catalog", long_about = None)]
struct Cli {
    /// Act as this user (commands that change something check the user's role and record them).
    #[arg(long = "as", global = true, env = "CUSTODIAN_ACTOR", value_name = "USER")]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API (CUSTODIAN_BIND, default 127.0.0.1:8080).
    Serve {
        /// Listen here instead of CUSTODIAN_BIND.
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
    },
    /// Apply the catalog's migrations (also done at start-up).
    Migrate {
        /// List migrations and whether each is applied.
        #[arg(long, conflicts_with = "revert_all")]
        status: bool,
        /// Revert every migration (drops the catalog's tables).
        #[arg(long)]
        revert_all: bool,
    },
    /// Register and list sources.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Classify a column (as a compliance officer): level, categories, identifier mark.
    Classify {
        /// SOURCE.SCHEMA.TABLE.COLUMN
        column: String,
        /// A level's name (or `none` to clear the level set here).
        #[arg(long)]
        level: Option<String>,
        /// A category to add (e.g. contact.email); repeat for several.
        #[arg(long = "category")]
        categories: Vec<String>,
        /// A category to remove; repeat for several.
        #[arg(long = "remove-category")]
        remove_categories: Vec<String>,
        /// Mark as a subject identifier of this type (e.g. email), or `none`.
        #[arg(long)]
        identifier: Option<String>,
        /// Why (required when the level is lowered).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Manage users (the first user of an empty catalog needs no --as and must be an admin).
    #[command(subcommand)]
    User(UserCommand),
    /// Crawl a source's schema into the catalog.
    Crawl {
        /// The source's name.
        name: String,
    },
    /// Sample a source's values (read-only) and suggest personal-data categories for review.
    Scan {
        /// The source's name.
        name: String,
    },
    /// Create a sample shop database, catalog it and serve (catalog in DIR unless CUSTODIAN_DATABASE_URL is set).
    Demo {
        /// Where the shop database (and the demo's catalog) go.
        #[arg(long, default_value = "custodian-demo")]
        dir: std::path::PathBuf,
        /// Listen here instead of CUSTODIAN_BIND.
        #[arg(long)]
        bind: Option<std::net::SocketAddr>,
        /// Prepare the demo and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Ingest pipeline SQL into the catalog: pipelines, table and column lineage.
    #[command(subcommand)]
    Ingest(ingest::IngestCommand),
    /// Print the table and column lineage of SQL as JSON (single file or --batch JSON Lines).
    Lineage(lineage::LineageArgs),
    /// GDPR erasure requests: submit, plan, approve, run, show, receipts.
    #[command(subcommand)]
    Erasure(erasure::ErasureCommand),
    /// Retention policies, purges of rows past their period, and the storage-limitation and
    /// records-of-processing reports.
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Legal holds (Art. 17(3)): what they cover is never erased or purged.
    #[command(subcommand)]
    Hold(retention::HoldCommand),
    /// Erasure and purge receipts.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Run queued jobs (crawls, scans, erasures) without serving pages: several machines can
    /// share one PostgreSQL catalog.
    Worker {
        /// Exit when no job is left.
        #[arg(long)]
        until_idle: bool,
    },
    /// Verify, checkpoint and export the tamper-evident audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Developer tools.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Check an erasure or purge receipt's signature offline; exits 3 when it is not authentic.
    Verify {
        file: std::path::PathBuf,
        /// The public key (base64, or a file holding it): `custodian erasure public-key`.
        #[arg(long)]
        public_key: String,
    },
}

#[derive(Subcommand)]
enum SourceCommand {
    /// Register a PostgreSQL or SQLite database.
    Add(AddSource),
    /// List sources.
    List,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("connection").required(true).args(["url", "url_env"])))]
struct AddSource {
    /// A name for the source: letters, digits, '-' and '_'.
    name: String,
    /// postgres://user@host/db (no password) or the path of an SQLite file.
    #[arg(long)]
    url: Option<String>,
    /// The environment variable that holds the URL (use this when it has a password).
    #[arg(long)]
    url_env: Option<String>,
    /// postgres or sqlite, when --url-env names a variable not set here.
    #[arg(long, value_parser = parse_kind)]
    kind: Option<SourceKind>,
    #[arg(long)]
    description: Option<String>,
    #[arg(long)]
    owner: Option<String>,
}

fn parse_kind(s: &str) -> Result<SourceKind, String> {
    SourceKind::parse(s).ok_or_else(|| format!("{s:?} is not a source kind (postgres, sqlite)"))
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password comes from --password-env or a prompt.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from this environment variable instead of prompting.
        #[arg(long)]
        password_env: Option<String>,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Set a new password and end the user's sessions.
    ResetPassword {
        name: String,
        #[arg(long)]
        password_env: Option<String>,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("{s:?} is not a role ({})", names.join(", "))
    })
}

#[derive(Subcommand)]
enum DevCommand {
    /// Fill the catalog with a synthetic data dictionary (for benchmarks).
    Seed {
        #[arg(long, default_value_t = 100_000)]
        datasets: usize,
        #[arg(long, default_value_t = 10)]
        columns_per_dataset: usize,
        #[arg(long, default_value_t = 10)]
        sources: usize,
    },
}

/// mimalloc: the server allocates many small, short-lived buffers per request across threads,
/// where it is markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Commands other than the server log only warnings unless CUSTODIAN_LOG says otherwise.
    let serving = matches!(cli.command, Command::Serve { .. } | Command::Demo { no_serve: false, .. });
    let quiet = !serving && std::env::var_os("CUSTODIAN_LOG").is_none();
    custodian::telemetry::init(if quiet { "warn" } else { &config.log_filter }, config.log_format);
    let result = match cli.command {
        // Lineage reads SQL and prints JSON; it needs no catalog.
        Command::Lineage(args) => lineage::run(args),
        Command::Audit(command) => audit::run(command, &config),
        Command::Receipt(ReceiptCommand::Verify { file, public_key }) => erasure::verify_receipt(&file, &public_key),
        Command::Erasure(command) => {
            commands::open_catalog(&config).and_then(|db| erasure::run(command, cli.actor.as_deref(), &config, &db))
        }
        Command::Retention(command) => {
            commands::open_catalog(&config).and_then(|db| retention::run(command, cli.actor.as_deref(), &config, &db))
        }
        command => run(command, cli.actor.as_deref(), config).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn password_source(env: Option<String>) -> PasswordSource {
    env.map_or(PasswordSource::Prompt, PasswordSource::Env)
}

fn run(command: Command, actor: Option<&str>, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Lineage(args) => lineage::run(args).map(drop),
        Command::Audit(command) => audit::run(command, &config).map(drop),
        Command::Receipt(ReceiptCommand::Verify { file, public_key }) => {
            erasure::verify_receipt(&file, &public_key).map(drop)
        }
        Command::Erasure(command) => {
            let db = commands::open_catalog(&config)?;
            erasure::run(command, actor, &config, &db).map(drop)
        }
        Command::Retention(command) => {
            let db = commands::open_catalog(&config)?;
            retention::run(command, actor, &config, &db).map(drop)
        }
        Command::Hold(command) => {
            let db = commands::open_catalog(&config)?;
            retention::hold(command, actor, &config, &db)
        }
        Command::Worker { until_idle } => {
            let db = commands::open_catalog(&config)?;
            erasure::worker(&config, &db, until_idle)
        }
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            let db = commands::open_catalog(&config)?;
            actix_web::rt::System::new().block_on(serve::run(config, db))
        }
        Command::Migrate { status, revert_all } => {
            let action = if status {
                migrate::Action::Status
            } else if revert_all {
                migrate::Action::RevertAll
            } else {
                migrate::Action::Apply
            };
            migrate::run(&config, action)
        }
        Command::Source(SourceCommand::Add(a)) => {
            let db = commands::open_catalog(&config)?;
            let actor = Actor::require(&db, actor, Permission::EditCatalog)?;
            source::add(
                &db,
                &actor,
                &source::AddArgs {
                    name: a.name,
                    url: a.url,
                    url_env: a.url_env,
                    kind: a.kind,
                    description: a.description,
                    owner: a.owner,
                },
            )
            .map(|_| ())
        }
        Command::Source(SourceCommand::List) => source::list(&commands::open_catalog(&config)?),
        Command::Crawl { name } => {
            let db = commands::open_catalog(&config)?;
            let actor = Actor::require(&db, actor, Permission::EditCatalog)?;
            crawl::run(&db, &name, &actor, true).map(|_| ())
        }
        Command::Scan { name } => {
            let db = commands::open_catalog(&config)?;
            let actor = Actor::require(&db, actor, Permission::ProposeClassification)?;
            crawl::scan(&db, &name, &actor, true).map(|_| ())
        }
        Command::Classify { column, level, categories, remove_categories, identifier, reason } => {
            let db = commands::open_catalog(&config)?;
            commands::classify::run(
                &db,
                actor,
                &commands::classify::ClassifyArgs { column, level, categories, remove_categories, identifier, reason },
            )
        }
        Command::Ingest(command) => {
            let db = commands::open_catalog(&config)?;
            let actor = Actor::require(&db, actor, Permission::EditCatalog)?;
            ingest::run(&db, &actor, command, true).map(|_| ())
        }
        Command::User(command) => {
            let db = commands::open_catalog(&config)?;
            match command {
                UserCommand::Add { name, role, display_name, password_env } => {
                    user::add(&db, actor, &name, role, display_name, &password_source(password_env))
                }
                UserCommand::List => user::list(&db),
                UserCommand::Disable { name } => user::set_disabled(&db, actor, &name, true),
                UserCommand::Enable { name } => user::set_disabled(&db, actor, &name, false),
                UserCommand::ResetPassword { name, password_env } => {
                    user::reset_password(&db, actor, &name, &password_source(password_env))
                }
            }
        }
        Command::Demo { dir, bind, no_serve } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            if !config.database_url_explicit {
                config.database_url =
                    custodian::db::CatalogUrl::parse(&demo::default_catalog(&dir)).map_err(anyhow::Error::msg)?;
            }
            config.demo = true;
            if no_serve {
                demo::prepare(&config, &dir, true).map(|_| ())
            } else {
                actix_web::rt::System::new().block_on(demo::run(config, &dir))
            }
        }
        Command::Dev(DevCommand::Seed { datasets, columns_per_dataset, sources }) => {
            let db = commands::open_catalog(&config)?;
            seed::run(&db, &seed::SeedArgs { datasets, columns_per_dataset, sources })
        }
    }
}
