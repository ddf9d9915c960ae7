//! `custodian migrate`: apply, list or revert the catalog's migrations.

use anyhow::{Context, anyhow};

use crate::config::Config;
use crate::db::{ConnectionManager, dialect};

pub enum Action {
    Apply,
    Status,
    RevertAll,
}

pub fn run(config: &Config, action: Action) -> anyhow::Result<()> {
    let mut conn = ConnectionManager::new(config.database_url.clone(), false)
        .establish()
        .with_context(|| format!("connecting to the catalog at {}", config.database_url.redacted()))?;
    match action {
        Action::Apply => {
            let applied = dialect::run_migrations(&mut conn).map_err(|e| anyhow!(e))?;
            if applied.is_empty() {
                println!("The catalog is up to date.");
            } else {
                for version in &applied {
                    println!("applied {version}");
                }
            }
        }
        Action::Status => {
            for (name, applied) in dialect::migration_status(&mut conn).map_err(|e| anyhow!(e))? {
                println!("{} {name}", if applied { "[x]" } else { "[ ]" });
            }
        }
        Action::RevertAll => {
            for version in dialect::revert_all_migrations(&mut conn).map_err(|e| anyhow!(e))? {
                println!("reverted {version}");
            }
        }
    }
    Ok(())
}
