//! Finding catalog objects by the dotted names people type: `SOURCE.SCHEMA.TABLE` for a
//! dataset, `SOURCE.SCHEMA.TABLE.COLUMN` for a column (schema, table and column may not contain
//! dots; a source name never does).

use anyhow::{Context, bail};

use crate::db::models::{ColumnSummary, Dataset, Source};
use crate::db::{AnyConnection, catalog};

pub fn source(conn: &mut AnyConnection, name: &str) -> anyhow::Result<Source> {
    catalog::find_source_by_name(conn, name)?.with_context(|| format!("there is no source named {name:?}"))
}

pub fn dataset(conn: &mut AnyConnection, path: &str) -> anyhow::Result<Dataset> {
    let parts: Vec<&str> = path.split('.').collect();
    let [source_name, schema, table] = parts[..] else {
        bail!("name a dataset as SOURCE.SCHEMA.TABLE, for example shop.main.customers, not {path:?}");
    };
    let source = source(conn, source_name)?;
    catalog::find_dataset_by_name(conn, source.id, schema, table)?
        .with_context(|| format!("there is no dataset {schema}.{table} in {source_name}"))
}

pub fn column(conn: &mut AnyConnection, path: &str) -> anyhow::Result<(Dataset, ColumnSummary)> {
    let Some((table_path, column_name)) = path.rsplit_once('.').filter(|(t, _)| t.split('.').count() == 3) else {
        bail!("name the column as SOURCE.SCHEMA.TABLE.COLUMN, for example shop.main.customers.email");
    };
    let dataset = dataset(conn, table_path)?;
    let column = catalog::list_columns(conn, dataset.id)?
        .into_iter()
        .find(|c| c.name == column_name)
        .with_context(|| format!("{}.{} has no column {column_name:?}", dataset.schema_name, dataset.name))?;
    Ok((dataset, column))
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    #[test]
    fn paths_name_their_parts_or_say_how_to() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            &crate::db::CatalogUrl::Sqlite(dir.path().join("c.db")),
            &crate::config::Config::default().pool_settings(),
        )
        .unwrap();
        let mut conn = db.writer().unwrap();
        let err = super::column(&mut conn, "customers.email").unwrap_err().to_string();
        assert!(err.contains("SOURCE.SCHEMA.TABLE.COLUMN"), "{err}");
        let err = super::column(&mut conn, "a.b.c.d.e").unwrap_err().to_string();
        assert!(err.contains("SOURCE.SCHEMA.TABLE.COLUMN"), "{err}");
        let err = super::dataset(&mut conn, "shop.customers").unwrap_err().to_string();
        assert!(err.contains("SOURCE.SCHEMA.TABLE"), "{err}");
        let err = super::dataset(&mut conn, "nosuch.main.customers").unwrap_err().to_string();
        assert!(err.contains("no source named"), "{err}");
    }
}
