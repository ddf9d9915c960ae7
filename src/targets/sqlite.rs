//! SQLite targets: reading the schema of the `main` database of a file, opened read-only.

use std::collections::HashMap;
use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use super::{DatasetKind, Snapshot, SnapshotColumn, SnapshotDataset, SnapshotForeignKey, TargetError};

/// SQLite has one schema per attached database; a target file's tables live in `main`.
pub const SCHEMA: &str = "main";

/// Opens an existing SQLite file read-only (it is never created).
pub fn connect_read_only(path: &str) -> Result<SqliteConnection, TargetError> {
    if !Path::new(path).is_file() {
        return Err(TargetError::Connect(format!("no SQLite database file at {path}")));
    }
    let uri = format!("file:{}?mode=ro", uri_escape(path));
    let mut conn = SqliteConnection::establish(&uri).map_err(TargetError::from_connect)?;
    diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn).map_err(TargetError::from_query)?;
    Ok(conn)
}

/// Opens an existing SQLite file for reading and writing (erasure and retention).
pub fn connect_read_write(path: &str) -> Result<SqliteConnection, TargetError> {
    if !Path::new(path).is_file() {
        return Err(TargetError::Connect(format!("no SQLite database file at {path}")));
    }
    let uri = format!("file:{}?mode=rw", uri_escape(path));
    let mut conn = SqliteConnection::establish(&uri).map_err(TargetError::from_connect)?;
    diesel::sql_query("PRAGMA busy_timeout = 10000").execute(&mut conn).map_err(TargetError::from_query)?;
    diesel::sql_query("PRAGMA foreign_keys = ON").execute(&mut conn).map_err(TargetError::from_query)?;
    Ok(conn)
}

fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for ch in path.chars() {
        match ch {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            _ => out.push(ch),
        }
    }
    out
}

/// Quotes an identifier for SQLite (and PostgreSQL): wrapped in double quotes, quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    data_type: Option<String>,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    #[diesel(sql_type = Nullable<Text>)]
    to_column: Option<String>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Reads every table and view of the file with columns, keys and row counts.
pub fn introspect(path: &str) -> Result<Snapshot, TargetError> {
    let mut conn = connect_read_only(path)?;
    conn.transaction(read_snapshot).map_err(TargetError::from_query)
}

fn read_snapshot(conn: &mut SqliteConnection) -> QueryResult<Snapshot> {
    let tables: Vec<TableRow> = diesel::sql_query(
        "SELECT t.name AS name, t.type AS kind, m.sql AS sql \
         FROM pragma_table_list AS t LEFT JOIN sqlite_schema AS m ON m.name = t.name \
         WHERE t.schema = 'main' AND t.type IN ('table', 'view', 'virtual') \
           AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY t.name",
    )
    .load(conn)?;
    let columns: Vec<ColumnRow> = diesel::sql_query(
        "SELECT t.name AS table_name, p.name AS name, p.type AS data_type, p.\"notnull\" AS not_null, \
                p.dflt_value AS default_value, p.pk AS pk \
         FROM pragma_table_list AS t JOIN pragma_table_info(t.name) AS p \
         WHERE t.schema = 'main' AND t.type IN ('table', 'view', 'virtual') \
           AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY t.name, p.cid",
    )
    .load(conn)?;
    let fks: Vec<ForeignKeyRow> = diesel::sql_query(
        "SELECT t.name AS table_name, f.id AS id, f.\"table\" AS ref_table, f.\"from\" AS from_column, \
                f.\"to\" AS to_column \
         FROM pragma_table_list AS t JOIN pragma_foreign_key_list(t.name) AS f \
         WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY t.name, f.id, f.seq",
    )
    .load(conn)?;

    let mut index: HashMap<String, usize> = HashMap::with_capacity(tables.len());
    let mut datasets = Vec::with_capacity(tables.len());
    for t in tables {
        let kind = if t.kind == "view" { DatasetKind::View } else { DatasetKind::Table };
        let row_estimate = if kind == DatasetKind::Table {
            let rows: Vec<CountRow> =
                diesel::sql_query(format!("SELECT count(*) AS n FROM {}", quote_ident(&t.name))).load(conn)?;
            rows.first().map(|r| r.n)
        } else {
            None
        };
        index.insert(t.name.clone(), datasets.len());
        datasets.push(SnapshotDataset {
            schema: SCHEMA.to_owned(),
            name: t.name,
            kind,
            comment: None,
            definition: if kind == DatasetKind::View { t.sql } else { None },
            row_estimate,
            columns: Vec::new(),
        });
    }
    for c in columns {
        if let Some(&i) = index.get(&c.table_name) {
            let is_primary_key = c.pk > 0;
            datasets[i].columns.push(SnapshotColumn {
                name: c.name,
                data_type: c.data_type.filter(|t| !t.is_empty()).unwrap_or_else(|| "ANY".to_owned()),
                // SQLite lets an INTEGER PRIMARY KEY hold no NULL even without NOT NULL.
                nullable: c.not_null == 0 && !is_primary_key,
                is_primary_key,
                default_value: c.default_value,
                comment: None,
            });
        }
    }
    let mut foreign_keys: Vec<SnapshotForeignKey> = Vec::new();
    let mut current: Option<(String, i32)> = None;
    for f in fks {
        let key = (f.table_name.clone(), f.id);
        let to_column = match f.to_column {
            Some(c) => c,
            // A foreign key without target columns references the parent's primary key.
            None => {
                primary_key_column(&datasets, &index, &f.ref_table, foreign_key_position(&foreign_keys, &current, &key))
                    .unwrap_or_default()
            }
        };
        if current.as_ref() == Some(&key) {
            if let Some(fk) = foreign_keys.last_mut() {
                fk.from_columns.push(f.from_column);
                fk.to_columns.push(to_column);
            }
        } else {
            foreign_keys.push(SnapshotForeignKey {
                name: String::new(),
                from_schema: SCHEMA.to_owned(),
                from_table: f.table_name,
                from_columns: vec![f.from_column],
                to_schema: SCHEMA.to_owned(),
                to_table: f.ref_table,
                to_columns: vec![to_column],
            });
            current = Some(key);
        }
    }
    // SQLite's foreign keys have no names: name each by what it links, which is stable across crawls.
    for fk in &mut foreign_keys {
        fk.name = format!("{} → {}({})", fk.from_columns.join(", "), fk.to_table, fk.to_columns.join(", "));
    }
    Ok(Snapshot { datasets, foreign_keys })
}

fn foreign_key_position(fks: &[SnapshotForeignKey], current: &Option<(String, i32)>, key: &(String, i32)) -> usize {
    if current.as_ref() == Some(key) { fks.last().map_or(0, |fk| fk.from_columns.len()) } else { 0 }
}

fn primary_key_column(
    datasets: &[SnapshotDataset],
    index: &HashMap<String, usize>,
    table: &str,
    position: usize,
) -> Option<String> {
    let dataset = &datasets[*index.get(table)?];
    dataset.columns.iter().filter(|c| c.is_primary_key).nth(position).map(|c| c.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("orders"), "\"orders\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn uri_special_characters_are_escaped() {
        assert_eq!(uri_escape("/tmp/a?b#c%d.db"), "/tmp/a%3fb%23c%25d.db");
    }
}
