//! `custodian classify SOURCE.SCHEMA.TABLE.COLUMN`: set a column's level, categories and
//! identifier mark from the command line, as a compliance officer (`--as`), with a reason.

use anyhow::{Context, anyhow, bail};

use super::actor::Actor;
use crate::classification::{self, ClassifyError, ColumnChange, Vocabulary};
use crate::db::{Db, catalog, dialect, now};
use crate::governance::access::Permission;

pub struct ClassifyArgs {
    pub column: String,
    pub level: Option<String>,
    pub categories: Vec<String>,
    pub remove_categories: Vec<String>,
    pub identifier: Option<String>,
    pub reason: Option<String>,
}

/// Splits `source.schema.table.column` (the last three parts may not contain dots; the source
/// name never does).
fn parse_path(path: &str) -> anyhow::Result<(&str, &str, &str, &str)> {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [source, schema, table, column] => Ok((source, schema, table, column)),
        _ => bail!("name the column as SOURCE.SCHEMA.TABLE.COLUMN, for example shop.main.customers.email"),
    }
}

pub fn run(db: &Db, actor: Option<&str>, args: &ClassifyArgs) -> anyhow::Result<()> {
    let actor = Actor::require(db, actor, Permission::Classify)?;
    let (source_name, schema, table, column_name) = parse_path(&args.column)?;
    let mut conn = db.writer()?;
    let changed = dialect::write_transaction(&mut conn, |conn| {
        let source = catalog::find_source_by_name(conn, source_name)?
            .with_context(|| format!("there is no source named {source_name:?}"))?;
        let dataset = catalog::find_dataset_by_name(conn, source.id, schema, table)?
            .with_context(|| format!("there is no dataset {schema}.{table} in {source_name}"))?;
        let column = catalog::list_columns(conn, dataset.id)?
            .into_iter()
            .find(|c| c.name == column_name)
            .with_context(|| format!("{schema}.{table} has no column {column_name:?}"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_paths_have_four_parts() {
        assert_eq!(parse_path("shop.main.customers.email").unwrap(), ("shop", "main", "customers", "email"));
        assert!(parse_path("customers.email").is_err());
        assert!(parse_path("a.b.c.d.e").is_err());
    }
}
