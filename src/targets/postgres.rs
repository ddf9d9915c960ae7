//! PostgreSQL targets: reading the schema from `pg_catalog` (all schemas but the system ones).

use std::collections::HashMap;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};

use super::{DatasetKind, Snapshot, SnapshotColumn, SnapshotDataset, SnapshotForeignKey, TargetError};

const SCHEMA_FILTER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

/// Opens a connection to a PostgreSQL target with a connect timeout, and makes the session
/// read-only with a statement timeout.
pub fn connect(url: &str) -> Result<PgConnection, TargetError> {
    let url = with_connect_timeout(url);
    let mut conn = PgConnection::establish(&url).map_err(TargetError::from_connect)?;
    conn.batch_execute(
        "SET statement_timeout = '120s'; SET lock_timeout = '10s'; SET default_transaction_read_only = on;",
    )
    .map_err(TargetError::from_query)?;
    Ok(conn)
}

/// Opens a connection that may write (erasure, retention); the caller sets its timeouts.
pub fn connect_writable(url: &str) -> Result<PgConnection, TargetError> {
    PgConnection::establish(&with_connect_timeout(url)).map_err(TargetError::from_connect)
}

fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&connect_timeout=10")
    } else {
        format!("{url}?connect_timeout=10")
    }
}

#[derive(QueryableByName)]
struct RelationRow {
    #[diesel(sql_type = Text)]
    schema_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    relkind: String,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    row_estimate: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    definition: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    schema_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_value: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    schema_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Integer)]
    position: i32,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    ref_schema: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ref_table: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ref_column: Option<String>,
}

/// Reads every table, view, materialized view and foreign table with columns, keys and comments.
pub fn introspect(url: &str) -> Result<Snapshot, TargetError> {
    let mut conn = connect(url)?;
    conn.transaction(read_snapshot).map_err(TargetError::from_query)
}

fn read_snapshot(conn: &mut PgConnection) -> QueryResult<Snapshot> {
    conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
    let relations: Vec<RelationRow> = diesel::sql_query(format!(
        "SELECT n.nspname::text AS schema_name, c.relname::text AS name, c.relkind::text AS relkind, \
                obj_description(c.oid, 'pg_class') AS comment, \
                CASE WHEN c.relkind IN ('r', 'p', 'm', 'f') THEN \
                     COALESCE(NULLIF(c.reltuples, -1)::bigint, s.n_live_tup) END AS row_estimate, \
                CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition \
         FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND {SCHEMA_FILTER} \
         ORDER BY 1, 2"
    ))
    .load(conn)?;
    let columns: Vec<ColumnRow> = diesel::sql_query(format!(
        "SELECT n.nspname::text AS schema_name, c.relname::text AS table_name, a.attname::text AS name, \
                format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable, \
                pg_get_expr(d.adbin, d.adrelid) AS default_value, col_description(c.oid, a.attnum) AS comment \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attnum > 0 AND NOT a.attisdropped \
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND {SCHEMA_FILTER} \
         ORDER BY 1, 2, a.attnum"
    ))
    .load(conn)?;
    let constraints: Vec<ConstraintRow> = diesel::sql_query(format!(
        "SELECT n.nspname::text AS schema_name, c.relname::text AS table_name, con.conname::text AS name, \
                con.contype::text AS kind, k.ord::int AS position, a.attname::text AS column_name, \
                fn.nspname::text AS ref_schema, fc.relname::text AS ref_table, fa.attname::text AS ref_column \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace \
         LEFT JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = con.confkey[k.ord] \
         WHERE con.contype IN ('p', 'f') AND NOT c.relispartition AND {SCHEMA_FILTER} \
         ORDER BY 1, 2, 3, 5"
    ))
    .load(conn)?;
    Ok(assemble(relations, columns, constraints))
}

fn assemble(relations: Vec<RelationRow>, columns: Vec<ColumnRow>, constraints: Vec<ConstraintRow>) -> Snapshot {
    let mut index: HashMap<(String, String), usize> = HashMap::with_capacity(relations.len());
    let mut datasets = Vec::with_capacity(relations.len());
    for r in relations {
        let kind = match r.relkind.as_str() {
            "v" => DatasetKind::View,
            "m" => DatasetKind::MaterializedView,
            "f" => DatasetKind::ForeignTable,
            _ => DatasetKind::Table,
        };
        index.insert((r.schema_name.clone(), r.name.clone()), datasets.len());
        datasets.push(SnapshotDataset {
            schema: r.schema_name,
            name: r.name,
            kind,
            comment: r.comment,
            definition: r.definition.map(|d| d.trim().to_owned()),
            row_estimate: r.row_estimate,
            columns: Vec::new(),
        });
    }
    for c in columns {
        if let Some(&i) = index.get(&(c.schema_name, c.table_name)) {
            datasets[i].columns.push(SnapshotColumn {
                name: c.name,
                data_type: c.data_type,
                nullable: c.nullable,
                is_primary_key: false,
                default_value: c.default_value,
                comment: c.comment,
            });
        }
    }
    let mut foreign_keys: Vec<SnapshotForeignKey> = Vec::new();
    for k in constraints {
        let Some(&i) = index.get(&(k.schema_name.clone(), k.table_name.clone())) else {
            continue;
        };
        if k.kind == "p" {
            if let Some(col) = datasets[i].columns.iter_mut().find(|c| c.name == k.column_name) {
                col.is_primary_key = true;
            }
            continue;
        }
        let (Some(ref_schema), Some(ref_table), Some(ref_column)) = (k.ref_schema, k.ref_table, k.ref_column) else {
            continue;
        };
        match foreign_keys.last_mut() {
            Some(fk)
                if k.position > 1
                    && fk.name == k.name
                    && fk.from_schema == k.schema_name
                    && fk.from_table == k.table_name =>
            {
                fk.from_columns.push(k.column_name);
                fk.to_columns.push(ref_column);
            }
            _ => foreign_keys.push(SnapshotForeignKey {
                name: k.name,
                from_schema: k.schema_name,
                from_table: k.table_name,
                from_columns: vec![k.column_name],
                to_schema: ref_schema,
                to_table: ref_table,
                to_columns: vec![ref_column],
            }),
        }
    }
    Snapshot { datasets, foreign_keys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_once() {
        assert_eq!(with_connect_timeout("postgres://h/db"), "postgres://h/db?connect_timeout=10");
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=require"),
            "postgres://h/db?sslmode=require&connect_timeout=10"
        );
        assert_eq!(with_connect_timeout("postgres://h/db?connect_timeout=3"), "postgres://h/db?connect_timeout=3");
    }
}
