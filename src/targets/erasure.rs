//! Writing to a target for erasure: a session with statement and lock timeouts (E13), read-only
//! snapshots for dry runs (E9), write transactions, bound parameters for every value (E10), and
//! the live column types a step's fingerprint is checked against (E6). The statements come from
//! `governance::erasure::sql`.

use diesel::connection::SimpleConnection;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;

use super::{ResolvedTarget, SourceKind, TargetError, postgres, sqlite, sqlite_path};
use crate::governance::erasure::sql::{Backend, Statement};

static STATEMENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many data statements (counts, deletes, updates, reads of values) erasure sessions have
/// issued in this process: the erasure benchmark shows they grow with tables and batches, not rows.
pub fn statements_issued() -> u64 {
    STATEMENTS.load(std::sync::atomic::Ordering::Relaxed)
}

fn counted() {
    STATEMENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// A read-write session on one target.
pub enum Writer {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

#[derive(QueryableByName)]
struct LiveColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    data_type: Option<String>,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// A column as the target has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
}

fn pg_query(statement: &Statement) -> BoxedSqlQuery<'_, Pg, diesel::query_builder::SqlQuery> {
    let mut q = diesel::sql_query(statement.sql.clone()).into_boxed::<Pg>();
    for v in &statement.binds {
        q = q.bind::<Text, _>(v.as_str());
    }
    q
}

fn sqlite_query(statement: &Statement) -> BoxedSqlQuery<'_, Sqlite, diesel::query_builder::SqlQuery> {
    let mut q = diesel::sql_query(statement.sql.clone()).into_boxed::<Sqlite>();
    for v in &statement.binds {
        q = q.bind::<Text, _>(v.as_str());
    }
    q
}

impl Writer {
    /// Opens a session that may write, with the given statement and lock timeouts.
    pub fn open(
        target: &ResolvedTarget,
        statement_timeout_secs: u64,
        lock_timeout_secs: u64,
    ) -> Result<Self, TargetError> {
        match target.kind {
            SourceKind::Postgres => {
                let mut conn = postgres::connect_writable(target.url())?;
                conn.batch_execute(&format!(
                    "SET statement_timeout = '{}s'; SET lock_timeout = '{}s';",
                    statement_timeout_secs.max(1),
                    lock_timeout_secs.max(1)
                ))
                .map_err(TargetError::from_query)?;
                Ok(Self::Postgres(conn))
            }
            SourceKind::Sqlite => {
                let mut conn = sqlite::connect_read_write(sqlite_path(target.url()))?;
                diesel::sql_query(format!("PRAGMA busy_timeout = {}", lock_timeout_secs.max(1) * 1000))
                    .execute(&mut conn)
                    .map_err(TargetError::from_query)?;
                Ok(Self::Sqlite(conn))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), TargetError> {
        match self {
            Self::Postgres(c) => c.batch_execute(sql),
            Self::Sqlite(c) => c.batch_execute(sql),
        }
        .map_err(TargetError::from_query)
    }

    /// Starts a read-only transaction that sees one snapshot (E9).
    pub fn begin_snapshot(&mut self) -> Result<(), TargetError> {
        match self {
            Self::Postgres(_) => self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            Self::Sqlite(_) => self.batch("BEGIN DEFERRED"),
        }
    }

    /// Starts a write transaction (SQLite takes the write lock at once).
    pub fn begin_write(&mut self) -> Result<(), TargetError> {
        match self {
            Self::Postgres(_) => self.batch("BEGIN ISOLATION LEVEL READ COMMITTED"),
            Self::Sqlite(_) => self.batch("BEGIN IMMEDIATE"),
        }
    }

    pub fn commit(&mut self) -> Result<(), TargetError> {
        self.batch("COMMIT")
    }

    /// Rolls back; a session with no open transaction is left as it is.
    pub fn rollback(&mut self) {
        let _ = self.batch("ROLLBACK");
    }

    pub fn count(&mut self, statement: &Statement) -> Result<i64, TargetError> {
        counted();
        let rows: Vec<Count> = match self {
            Self::Postgres(c) => pg_query(statement).load(c),
            Self::Sqlite(c) => sqlite_query(statement).load(c),
        }
        .map_err(TargetError::from_query)?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    pub fn execute(&mut self, statement: &Statement) -> Result<usize, TargetError> {
        counted();
        match self {
            Self::Postgres(c) => pg_query(statement).execute(c),
            Self::Sqlite(c) => sqlite_query(statement).execute(c),
        }
        .map_err(TargetError::from_query)
    }

    pub fn strings(&mut self, statement: &Statement) -> Result<Vec<String>, TargetError> {
        counted();
        let rows: Vec<Value> = match self {
            Self::Postgres(c) => pg_query(statement).load(c),
            Self::Sqlite(c) => sqlite_query(statement).load(c),
        }
        .map_err(TargetError::from_query)?;
        Ok(rows.into_iter().filter_map(|r| r.v).collect())
    }

    /// The table's columns as the target has them now; `None` when the table is gone.
    pub fn live_columns(&mut self, schema: &str, table: &str) -> Result<Option<Vec<Column>>, TargetError> {
        let rows: Vec<LiveColumn> = match self {
            Self::Postgres(c) => diesel::sql_query(
                "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS data_type, \
                 NOT a.attnotnull AS nullable \
                 FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = r.relnamespace \
                 WHERE n.nspname = $1 AND r.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
            )
            .bind::<Text, _>(schema)
            .bind::<Text, _>(table)
            .load(c),
            Self::Sqlite(c) => diesel::sql_query(
                "SELECT name, type AS data_type, \"notnull\" = 0 AS nullable FROM pragma_table_info(?) ORDER BY cid",
            )
            .bind::<Text, _>(table)
            .load(c),
        }
        .map_err(TargetError::from_query)?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            rows.into_iter()
                .map(|r| Column {
                    name: r.name,
                    data_type: r.data_type.filter(|t| !t.is_empty()).unwrap_or_else(|| "ANY".to_owned()),
                    nullable: r.nullable,
                })
                .collect(),
        ))
    }

    /// Which tables each materialized view reads directly: (view schema, view, table schema,
    /// table). SQLite has none.
    pub fn materialized_view_sources(&mut self) -> Result<Vec<(String, String, String, String)>, TargetError> {
        #[derive(QueryableByName)]
        struct Dep {
            #[diesel(sql_type = Text)]
            view_schema: String,
            #[diesel(sql_type = Text)]
            view_name: String,
            #[diesel(sql_type = Text)]
            table_schema: String,
            #[diesel(sql_type = Text)]
            table_name: String,
        }
        let Self::Postgres(c) = self else { return Ok(Vec::new()) };
        counted();
        let rows: Vec<Dep> = diesel::sql_query(
            "SELECT DISTINCT vn.nspname AS view_schema, v.relname AS view_name, \
                    tn.nspname AS table_schema, t.relname AS table_name \
             FROM pg_depend d \
             JOIN pg_rewrite r ON r.oid = d.objid \
             JOIN pg_class v ON v.oid = r.ev_class AND v.relkind = 'm' \
             JOIN pg_namespace vn ON vn.oid = v.relnamespace \
             JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p', 'm') AND t.oid <> v.oid \
             JOIN pg_namespace tn ON tn.oid = t.relnamespace \
             WHERE d.classid = 'pg_rewrite'::regclass",
        )
        .load(c)
        .map_err(TargetError::from_query)?;
        Ok(rows.into_iter().map(|d| (d.view_schema, d.view_name, d.table_schema, d.table_name)).collect())
    }

    /// Refreshes a materialized view (PostgreSQL).
    pub fn refresh_materialized_view(&mut self, schema: &str, name: &str) -> Result<(), TargetError> {
        let sql = format!("REFRESH MATERIALIZED VIEW {}.{}", sqlite::quote_ident(schema), sqlite::quote_ident(name));
        self.batch(&sql)
    }
}
