//! `custodian classify SOURCE.SCHEMA.TABLE.COLUMN`: set a column's level, categories and
//! identifier mark from the command line, as a compliance officer (`--as`), with a reason.

use anyhow::{Context, anyhow, bail};

use super::actor::Actor;
use crate::classification::{self, ClassifyError, ColumnChange, Vocabulary};
use crate::db::{Db, dialect, now};
use crate::governance::access::Permission;

pub struct ClassifyArgs {
    pub column: String,
    pub level: Option<String>,
    pub categories: Vec<String>,
    pub remove_categories: Vec<String>,
    pub identifier: Option<String>,
    pub reason: Option<String>,
}

pub fn run(db: &Db, actor: Option<&str>, args: &ClassifyArgs) -> anyhow::Result<()> {
    let actor = Actor::require(db, actor, Permission::Classify)?;
    let mut conn = db.writer()?;
    let changed = dialect::write_transaction(&mut conn, |conn| {
        let (_, column) = super::lookup::column(conn, &args.column)?;
        let vocabulary = Vocabulary::load(conn)?;
        let level = match args.level.as_deref() {
            None => None,
            Some("none") => Some(None),
            Some(name) => {
                Some(Some(vocabulary.level_by_name(name).with_context(|| format!("there is no level {name:?}"))?.id))
            }
        };
        let category = |key: &String| {
            vocabulary.category_by_key(key).map(|c| c.id).with_context(|| format!("there is no category {key:?}"))
        };
        let identifier = match args.identifier.as_deref() {
            None => None,
            Some("none") => Some(None),
            Some(key) => Some(Some(
                vocabulary.identifier_by_key(key).with_context(|| format!("there is no identifier type {key:?}"))?.id,
            )),
        };
        let change = ColumnChange {
            level,
            add_categories: args.categories.iter().map(category).collect::<anyhow::Result<_>>()?,
            remove_categories: args.remove_categories.iter().map(category).collect::<anyhow::Result<_>>()?,
            identifier,
        };
        if change.is_empty() {
            bail!("nothing to change: give --level, --category, --remove-category or --identifier");
        }
        classification::classify(conn, &actor.audit(), &[column.id], &change, args.reason.as_deref(), now()).map_err(
            |e| match e {
                ClassifyError::ReasonRequired(_) => anyhow!("{e} Give it with --reason."),
                other => anyhow!(other),
            },
        )
    })?;
    if changed == 0 {
        println!("{} already had that classification.", args.column);
    } else {
        println!("Classified {}.", args.column);
    }
    Ok(())
}
