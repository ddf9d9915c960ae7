//! Everything that differs between the PostgreSQL and SQLite catalogs: migrations, the write
//! transaction, the read snapshot, placeholders for hand-written SQL, the text-search predicates
//! and the audit head's lock. This is the only module that matches on [`AnyConnection`]'s variants.

use chrono::NaiveDateTime;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::audit::AuditEvent;
use super::lineage::{NewColumnLineageEdge, NewLineageEdge, NewPipelineStatement, NewPipelineTable, PipelineValues};
use super::models::{NewColumn, NewDataset, NewForeignKey};
use super::schema::{
    audit_events, audit_head, column_lineage_edges, dataset_columns, datasets, foreign_keys, lineage_edges,
    pipeline_statements, pipeline_tables, pipelines, propagated_tags,
};
use super::{AnyConnection, Backend, MultiBackend};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A lock key that serialises migrations when several Custodian instances start at once.
const MIGRATION_LOCK_KEY: i64 = 0x0000_c057_d1a9_0001;

pub fn backend(conn: &AnyConnection) -> Backend {
    match conn {
        AnyConnection::Postgres(_) => Backend::Postgres,
        AnyConnection::Sqlite(_) => Backend::Sqlite,
    }
}

/// Applies pending migrations; returns the versions applied.
pub fn run_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        AnyConnection::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| e.to_string())?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect())
                .map_err(|e| e.to_string());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)
                .map_err(|e| e.to_string())?;
            result?
        }
        AnyConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect())
            .map_err(|e| e.to_string())?,
    };
    Ok(applied)
}

/// Reverts every applied migration, newest first (tests and `custodian migrate --revert-all`).
pub fn revert_all_migrations(conn: &mut AnyConnection) -> Result<Vec<String>, String> {
    let reverted = match conn {
        AnyConnection::Postgres(c) => {
            c.revert_all_migrations(POSTGRES_MIGRATIONS).map(|v| v.iter().map(ToString::to_string).collect())
        }
        AnyConnection::Sqlite(c) => {
            c.revert_all_migrations(SQLITE_MIGRATIONS).map(|v| v.iter().map(ToString::to_string).collect())
        }
    };
    reverted.map_err(|e| e.to_string())
}

/// The migration versions known to this build and whether each is applied.
pub fn migration_status(conn: &mut AnyConnection) -> Result<Vec<(String, bool)>, String> {
    use diesel::migration::MigrationSource;
    fn names<DB: diesel::backend::Backend>(m: &[Box<dyn diesel::migration::Migration<DB>>]) -> Vec<String> {
        m.iter().map(|m| m.name().to_string()).collect()
    }
    let (known, applied): (Vec<String>, Vec<String>) = match conn {
        AnyConnection::Postgres(c) => (
            names(&MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS).map_err(|e| e.to_string())?),
            c.applied_migrations().map_err(|e| e.to_string())?.iter().map(ToString::to_string).collect(),
        ),
        AnyConnection::Sqlite(c) => (
            names(
                &MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                    .map_err(|e| e.to_string())?,
            ),
            c.applied_migrations().map_err(|e| e.to_string())?.iter().map(ToString::to_string).collect(),
        ),
    };
    // A migration's name is "<version>_<name>"; applied migrations are listed by version.
    Ok(known
        .into_iter()
        .map(|name| {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            let version = digits(name.split('_').next().unwrap_or_default());
            let is_applied = applied.iter().any(|v| digits(v) == version);
            (name, is_applied)
        })
        .collect())
}

/// Changes at least this large re-measure SQLite's statistics in full.
const FULL_ANALYZE_ROWS: i64 = 10_000;

/// Refreshes the planner's statistics after a large change, outside any transaction, so that
/// queries keep choosing the right indexes (SQLite plans badly without them: its `status`
/// indexes look selective when they are not). Cheap when little changed.
pub fn refresh_statistics(conn: &mut AnyConnection, rows_changed: i64) -> QueryResult<()> {
    match conn {
        AnyConnection::Sqlite(c) => {
            if rows_changed >= FULL_ANALYZE_ROWS {
                // Sampled statistics (`PRAGMA optimize`'s analysis limit) misjudge low-cardinality
                // leading columns such as `status`; after a large change, measure everything
                // (about 1.5 s at a million columns).
                diesel::sql_query("PRAGMA analysis_limit = 0").execute(c)?;
                diesel::sql_query("ANALYZE").execute(c)?;
            } else if rows_changed > 0 {
                diesel::sql_query("PRAGMA optimize").execute(c)?;
            }
        }
        AnyConnection::Postgres(c) => {
            if rows_changed >= 1000 {
                diesel::sql_query("VACUUM (ANALYZE) sources, datasets, dataset_columns, foreign_keys").execute(c)?;
            }
        }
    }
    Ok(())
}

/// Runs `f` in a transaction that holds the write lock from its first statement (SQLite's
/// `BEGIN IMMEDIATE`, so a read-then-write never fails on a concurrent writer). Nested calls
/// become savepoints. The transaction commits when `f` returns `Ok` and rolls back otherwise.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let top_level = match conn {
        AnyConnection::Sqlite(c) => {
            let depth =
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth().map_err(E::from)?;
            if depth.is_none() {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(E::from)?;
                true
            } else {
                false
            }
        }
        AnyConnection::Postgres(_) => false,
    };
    if !top_level {
        return conn.transaction(f);
    }
    match f(conn) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn).map_err(E::from)?;
            Ok(value)
        }
        Err(error) => {
            // The caller's error is the one worth reporting; a failed rollback marks the
            // connection broken and the pool discards it.
            let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(error)
        }
    }
}

/// Runs `$body` with `$c` bound to the inner connection of either backend, so a query the
/// multi-backend cannot express (multi-row INSERT) compiles once per backend.
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            AnyConnection::Postgres($c) => $body,
            AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// Multi-row inserts (the multi-backend connection only inserts one row per statement).
pub fn insert_datasets(conn: &mut AnyConnection, rows: &[NewDataset]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(datasets::table).values(rows).execute(c))
}

pub fn insert_columns(conn: &mut AnyConnection, rows: &[NewColumn]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(dataset_columns::table).values(rows).execute(c))
}

pub fn insert_foreign_keys(conn: &mut AnyConnection, rows: &[NewForeignKey]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(foreign_keys::table).values(rows).execute(c))
}

/// Multi-row insert of datasets, skipping any whose (source, schema, name) exists already (a crawl
/// or another ingest got there first); returns how many were inserted.
pub fn insert_datasets_if_absent(conn: &mut AnyConnection, rows: &[NewDataset]) -> QueryResult<usize> {
    match conn {
        AnyConnection::Postgres(c) => {
            diesel::insert_into(datasets::table).values(rows).on_conflict_do_nothing().execute(c)
        }
        AnyConnection::Sqlite(c) => diesel::insert_or_ignore_into(datasets::table).values(rows).execute(c),
    }
}

/// Multi-row insert of columns, skipping any whose (dataset, name) exists already.
pub fn insert_columns_if_absent(conn: &mut AnyConnection, rows: &[NewColumn]) -> QueryResult<usize> {
    match conn {
        AnyConnection::Postgres(c) => {
            diesel::insert_into(dataset_columns::table).values(rows).on_conflict_do_nothing().execute(c)
        }
        AnyConnection::Sqlite(c) => diesel::insert_or_ignore_into(dataset_columns::table).values(rows).execute(c),
    }
}

/// Inserts a pipeline and returns its id (one round trip: `RETURNING`).
pub fn insert_pipeline(conn: &mut AnyConnection, values: &PipelineValues, now: NaiveDateTime) -> QueryResult<i64> {
    per_backend!(conn, c => diesel::insert_into(pipelines::table)
        .values((values, pipelines::created_at.eq(now)))
        .returning(pipelines::id)
        .get_result(c))
}

/// In the current transaction, commit without waiting for the write-ahead log to reach the disk
/// (PostgreSQL's `synchronous_commit = off`; SQLite's WAL with `synchronous = NORMAL` commits so
/// already). For batches: see [`flush_commits`].
pub fn defer_commit_flush(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Postgres(c) = conn {
        c.batch_execute("SET LOCAL synchronous_commit = off")?;
    }
    Ok(())
}

/// Waits until every transaction committed so far is on disk: on PostgreSQL a transaction that
/// commits synchronously flushes the log up to its commit, and so every commit before it.
pub fn flush_commits(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Postgres(c) = conn {
        c.transaction(|c| diesel::sql_query("SELECT pg_current_xact_id()").execute(c).map(drop))?;
    }
    Ok(())
}

pub fn insert_pipeline_statements(conn: &mut AnyConnection, rows: &[NewPipelineStatement]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(pipeline_statements::table).values(rows).execute(c))
}

pub fn insert_pipeline_tables(conn: &mut AnyConnection, rows: &[NewPipelineTable]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(pipeline_tables::table).values(rows).execute(c))
}

pub fn insert_lineage_edges(conn: &mut AnyConnection, rows: &[NewLineageEdge]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(lineage_edges::table).values(rows).execute(c))
}

pub fn insert_column_lineage_edges(conn: &mut AnyConnection, rows: &[NewColumnLineageEdge]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(column_lineage_edges::table).values(rows).execute(c))
}

pub fn insert_propagated_tags(
    conn: &mut AnyConnection,
    rows: &[super::propagation::PropagatedTag],
) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(propagated_tags::table).values(rows).execute(c))
}

/// Multi-row insert of audit events (the bulk append).
pub fn insert_audit_events(conn: &mut AnyConnection, rows: &[AuditEvent]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(audit_events::table).values(rows).execute(c))
}

/// Reads the audit log's head (sequence number, hash) and, on PostgreSQL, locks it until the
/// surrounding transaction ends, so concurrent appends queue here and get consecutive numbers.
/// SQLite needs no lock: its write transaction (`BEGIN IMMEDIATE`) already excludes other writers.
pub fn lock_audit_head(conn: &mut AnyConnection) -> QueryResult<(i64, String)> {
    let head = audit_head::table.find(1).select((audit_head::seq, audit_head::hash));
    match conn {
        AnyConnection::Postgres(c) => head.for_update().first(c),
        AnyConnection::Sqlite(c) => head.first(c),
    }
}

/// Runs `f` in a read-only transaction that sees one consistent snapshot from its first query
/// to its end (PostgreSQL: `REPEATABLE READ`; SQLite's transactions always do), so a long read
/// such as verifying the audit log is not confused by appends that commit meanwhile. Inside a
/// transaction already, `f` just runs in it.
pub fn read_snapshot<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let depth = <AnyConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        return f(conn);
    }
    let postgres = matches!(conn, AnyConnection::Postgres(_));
    conn.transaction(|conn| {
        if postgres {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").map_err(E::from)?;
        }
        f(conn)
    })
}

/// One suggestion row (see [`super::classification::insert_suggestions`]).
pub type SuggestionRow = (
    diesel::dsl::Eq<super::schema::classification_suggestions::column_id, i64>,
    diesel::dsl::Eq<super::schema::classification_suggestions::category_id, i64>,
    diesel::dsl::Eq<super::schema::classification_suggestions::identifier_type_id, Option<i64>>,
    diesel::dsl::Eq<super::schema::classification_suggestions::level_rank, Option<i32>>,
    diesel::dsl::Eq<super::schema::classification_suggestions::confidence, f64>,
    diesel::dsl::Eq<super::schema::classification_suggestions::evidence, String>,
    diesel::dsl::Eq<super::schema::classification_suggestions::status, &'static str>,
    diesel::dsl::Eq<super::schema::classification_suggestions::proposed_by, Option<String>>,
    diesel::dsl::Eq<super::schema::classification_suggestions::created_at, chrono::NaiveDateTime>,
);

pub fn insert_suggestion_rows(conn: &mut AnyConnection, rows: &[SuggestionRow]) -> QueryResult<usize> {
    per_backend!(conn, c => diesel::insert_into(super::schema::classification_suggestions::table).values(rows).execute(c))
}

/// A value bound to a hand-written query.
#[derive(Clone, Debug)]
pub enum Bind {
    Text(String),
    BigInt(i64),
    OptText(Option<String>),
}

/// Hand-written SQL with bound values and the backend's placeholder style (`?` or `$n`).
pub struct SqlBuilder {
    backend: Backend,
    sql: String,
    binds: Vec<Bind>,
}

impl SqlBuilder {
    pub fn new(backend: Backend) -> Self {
        Self { backend, sql: String::with_capacity(512), binds: Vec::new() }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    pub fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        match self.backend {
            Backend::Sqlite => self.sql.push('?'),
            Backend::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.binds.len().to_string());
            }
        }
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn build(self) -> BoxedSqlQuery<'static, MultiBackend, diesel::query_builder::SqlQuery> {
        let mut query = diesel::sql_query(self.sql).into_boxed::<MultiBackend>();
        for bind in self.binds {
            query = match bind {
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::BigInt(v) => query.bind::<BigInt, _>(v),
                Bind::OptText(v) => query.bind::<Nullable<Text>, _>(v),
            };
        }
        query
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_escape(term: &str) -> String {
    let mut out = String::with_capacity(term.len() + 2);
    for ch in term.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// The shortest term the trigram indexes can answer; shorter terms are matched by scanning.
pub const MIN_INDEXED_TERM: usize = 3;

/// A searchable table: its alias in queries, the text fields searched, and (on SQLite) the
/// FTS5 table that indexes those fields by the row's id.
pub struct SearchTable {
    pub table: &'static str,
    pub alias: &'static str,
    pub fts: &'static str,
    pub fields: &'static [&'static str],
}

/// Appends `FROM … WHERE …` selecting the active rows in which every term occurs (any case) in one
/// of the fields, answered from the backend's trigram index. The caller appends further `AND …`.
pub fn push_matching_rows(q: &mut SqlBuilder, t: &SearchTable, terms: &[String]) {
    let (indexed, short): (Vec<&String>, Vec<&String>) =
        terms.iter().partition(|term| term.chars().count() >= MIN_INDEXED_TERM);
    let a = t.alias;
    match q.backend() {
        Backend::Sqlite if !indexed.is_empty() => {
            let expr = indexed
                .iter()
                .map(|term| format!("\"{}\"", term.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND ");
            q.push(&format!(
                " FROM {fts} JOIN {table} {a} ON {a}.id = {fts}.rowid WHERE {fts} MATCH ",
                fts = t.fts,
                table = t.table
            ));
            q.bind(Bind::Text(expr));
        }
        Backend::Sqlite => {
            q.push(&format!(" FROM {} {a} WHERE {a}.status = 'active'", t.table));
        }
        Backend::Postgres => {
            q.push(&format!(" FROM {} {a} WHERE {a}.status = 'active'", t.table));
            for term in &indexed {
                push_like_any(q, a, t.fields, term, "ILIKE");
            }
        }
    }
    let op = match q.backend() {
        Backend::Postgres => "ILIKE",
        Backend::Sqlite => "LIKE",
    };
    for term in &short {
        push_like_any(q, a, t.fields, term, op);
    }
}

fn push_like_any(q: &mut SqlBuilder, alias: &str, fields: &[&str], term: &str, op: &str) {
    let pattern = format!("%{}%", like_escape(term));
    q.push(" AND (");
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(&format!("{alias}.{field} {op} "));
        q.bind(Bind::Text(pattern.clone()));
        q.push(" ESCAPE '\\'");
    }
    q.push(")");
}

/// The smallest string greater than every string that starts with `prefix`.
fn prefix_successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// How the next search statement in this transaction should be planned on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchPlan {
    /// Walk a B-tree index in order (name-prefix pages).
    Ordered,
    /// Collect matches from the trigram indexes with bitmap scans. With `LIMIT`, the planner
    /// otherwise walks a whole table or index hoping to stop early, which takes a second when
    /// matches are rare or all at the far end.
    TextIndex,
}

/// Sets the plan for the following statements of the current transaction (PostgreSQL only;
/// SQLite's FTS5 tables are always used when named).
pub fn plan_search(conn: &mut AnyConnection, plan: SearchPlan) -> QueryResult<()> {
    if let AnyConnection::Postgres(c) = conn {
        let on = if plan == SearchPlan::Ordered { "on" } else { "off" };
        c.batch_execute(&format!(
            "SET LOCAL enable_seqscan = {on}; SET LOCAL enable_indexscan = {on}; SET LOCAL enable_indexonlyscan = {on};"
        ))?;
    }
    Ok(())
}

/// Appends `FROM table alias` for a query that walks the `<table>_name_search_idx` index: SQLite
/// is told to use it, as its planner otherwise prefers the low-selectivity status indexes.
pub fn push_from_name_index(q: &mut SqlBuilder, table: &str, alias: &str) {
    match q.backend() {
        Backend::Sqlite => q.push(&format!(" FROM {table} {alias} INDEXED BY {table}_name_search_idx")),
        Backend::Postgres => q.push(&format!(" FROM {table} {alias}")),
    };
}

/// Appends a predicate (no leading AND) for names starting with `prefix` (lower-case, compared
/// case-insensitively), answered by the `*_name_search_idx` index; returns the ORDER BY that walks
/// that index (name order, then id).
pub fn push_name_prefix(q: &mut SqlBuilder, alias: &str, prefix: &str) -> String {
    let upper = prefix_successor(prefix);
    let (name, order) = match q.backend() {
        Backend::Sqlite => (format!("{alias}.name"), format!("{alias}.name COLLATE NOCASE, {alias}.id")),
        Backend::Postgres => {
            (format!("lower({alias}.name) COLLATE \"C\""), format!("lower({alias}.name) COLLATE \"C\", {alias}.id"))
        }
    };
    let collate = if q.backend() == Backend::Sqlite { " COLLATE NOCASE" } else { "" };
    q.push(&format!("({name} >= "));
    q.bind(Bind::Text(prefix.to_owned()));
    q.push(collate);
    if let Some(upper) = upper {
        q.push(&format!(" AND {name} < "));
        q.bind(Bind::Text(upper));
        q.push(collate);
    }
    q.push(")");
    order
}

/// Inserts an erasure request and returns its id.
pub fn insert_erasure_request(conn: &mut AnyConnection, row: &super::erasure::NewRequest) -> QueryResult<i64> {
    use super::schema::erasure_requests;
    per_backend!(conn, c => diesel::insert_into(erasure_requests::table)
        .values(row)
        .returning(erasure_requests::id)
        .get_result(c))
}

/// Inserts a plan's steps (many rows per statement).
pub fn insert_erasure_steps(conn: &mut AnyConnection, rows: &[super::erasure::NewStep]) -> QueryResult<usize> {
    use super::schema::erasure_steps;
    per_backend!(conn, c => diesel::insert_into(erasure_steps::table).values(rows).execute(c))
}

/// Queues an erasure run and returns its id.
pub fn insert_erasure_run(
    conn: &mut AnyConnection,
    request_id: i64,
    mode: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    use super::schema::erasure_runs;
    per_backend!(conn, c => diesel::insert_into(erasure_runs::table)
        .values((
            erasure_runs::request_id.eq(request_id),
            erasure_runs::mode.eq(mode),
            erasure_runs::status.eq("queued"),
            erasure_runs::not_before.eq(now),
            erasure_runs::requested_by.eq(by),
            erasure_runs::created_at.eq(now),
        ))
        .returning(erasure_runs::id)
        .get_result(c))
}

/// Inserts a legal hold and returns its id.
pub fn insert_legal_hold(conn: &mut AnyConnection, row: &super::erasure::NewHold) -> QueryResult<i64> {
    use super::schema::legal_holds;
    per_backend!(conn, c => diesel::insert_into(legal_holds::table)
        .values(row)
        .returning(legal_holds::id)
        .get_result(c))
}

/// Inserts a retention policy and returns its id.
pub fn insert_retention_policy(conn: &mut AnyConnection, row: &super::retention::NewPolicy) -> QueryResult<i64> {
    use super::schema::retention_policies;
    per_backend!(conn, c => diesel::insert_into(retention_policies::table)
        .values(row)
        .returning(retention_policies::id)
        .get_result(c))
}

/// Queues a retention run (a purge or a preview) and returns its id.
pub fn insert_retention_run(
    conn: &mut AnyConnection,
    mode: &str,
    trigger: &str,
    by: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<i64> {
    use super::schema::retention_runs;
    per_backend!(conn, c => diesel::insert_into(retention_runs::table)
        .values((
            retention_runs::mode.eq(mode),
            retention_runs::status.eq("queued"),
            retention_runs::trigger.eq(trigger),
            retention_runs::as_of.eq(now),
            retention_runs::not_before.eq(now),
            retention_runs::requested_by.eq(by),
            retention_runs::created_at.eq(now),
        ))
        .returning(retention_runs::id)
        .get_result(c))
}

/// Inserts a run's steps (many rows per statement).
pub fn insert_retention_steps(conn: &mut AnyConnection, rows: &[super::retention::NewStep]) -> QueryResult<usize> {
    use super::schema::retention_steps;
    per_backend!(conn, c => diesel::insert_into(retention_steps::table).values(rows).execute(c))
}

// ---------------------------------------------------------------------------------------------
// Job queues in the catalog (erasure runs, purges). A claim raises the run's lease number, which
// fences out any earlier holder. PostgreSQL skips rows another worker is claiming (`FOR UPDATE
// SKIP LOCKED`, E15); SQLite's write transaction serialises claims.

/// Writes `next_claimable`, `claim_run`, `heartbeat` and `requeue_run` for `$table` (a diesel
/// table module with `status`, `not_before`, `heartbeat_at`, `lease`, `claimed_by`,
/// `attempts`, `started_at` and `error` columns) whose rows load as `$run`.
macro_rules! run_queue {
    ($table:ident, $run:ty) => {
        /// The oldest run a worker may claim, locked on PostgreSQL.
        fn next_claimable(
            conn: &mut AnyConnection,
            now: NaiveDateTime,
            stale: NaiveDateTime,
        ) -> QueryResult<Option<i64>> {
            let claimable = $table::table
                .filter(
                    $table::status
                        .eq("queued")
                        .and($table::not_before.le(now))
                        .or($table::status.eq("running").and($table::heartbeat_at.lt(stale))),
                )
                .order($table::id)
                .select($table::id);
            match conn {
                AnyConnection::Postgres(c) => claimable.for_update().skip_locked().first(c).optional(),
                AnyConnection::Sqlite(c) => claimable.first(c).optional(),
            }
        }

        /// Claims the oldest run that is queued and due, or running with a heartbeat older than
        /// `lease`, for `worker`.
        pub fn claim_run(
            conn: &mut AnyConnection,
            worker: &str,
            lease: TimeDelta,
            now: NaiveDateTime,
        ) -> QueryResult<Option<$run>> {
            dialect::write_transaction(conn, |conn| {
                let stale = now - lease;
                let Some(id) = next_claimable(conn, now, stale)? else {
                    return Ok(None);
                };
                let claimed = diesel::update($table::table.find(id).filter(
                    $table::status.eq("queued").or($table::status.eq("running").and($table::heartbeat_at.lt(stale))),
                ))
                .set((
                    $table::status.eq("running"),
                    $table::lease.eq($table::lease + 1),
                    $table::claimed_by.eq(worker),
                    $table::heartbeat_at.eq(now),
                    $table::attempts.eq($table::attempts + 1),
                    $table::started_at.eq(now),
                ))
                .execute(conn)?;
                if claimed == 0 {
                    return Ok(None);
                }
                $table::table.find(id).select(<$run>::as_select()).first(conn).optional()
            })
        }

        /// Renews the lease; false when another worker has taken the run over.
        pub fn heartbeat(conn: &mut AnyConnection, run_id: i64, lease: i32, now: NaiveDateTime) -> QueryResult<bool> {
            let n = diesel::update(
                $table::table.find(run_id).filter($table::lease.eq(lease)).filter($table::status.eq("running")),
            )
            .set($table::heartbeat_at.eq(now))
            .execute(conn)?;
            Ok(n == 1)
        }

        /// Puts an interrupted run back in the queue for a retry after `not_before`.
        pub fn requeue_run(
            conn: &mut AnyConnection,
            run_id: i64,
            lease: i32,
            not_before: NaiveDateTime,
            error: &str,
        ) -> QueryResult<usize> {
            diesel::update($table::table.find(run_id).filter($table::lease.eq(lease)))
                .set(($table::status.eq("queued"), $table::not_before.eq(not_before), $table::error.eq(error)))
                .execute(conn)
        }
    };
}

pub(crate) use run_queue;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend() {
        let mut q = SqlBuilder::new(Backend::Postgres);
        q.push("SELECT ").bind(Bind::BigInt(1)).push(", ").bind(Bind::Text("a".into()));
        assert_eq!(q.sql(), "SELECT $1, $2");
        let mut q = SqlBuilder::new(Backend::Sqlite);
        q.push("SELECT ").bind(Bind::BigInt(1)).push(", ").bind(Bind::Text("a".into()));
        assert_eq!(q.sql(), "SELECT ?, ?");
    }

    #[test]
    fn prefix_successors_bound_every_extension() {
        assert_eq!(prefix_successor("email").as_deref(), Some("emaim"));
        assert_eq!(prefix_successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_successor(""), None);
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape(r"a_b%c\d"), r"a\_b\%c\\d");
    }
}
