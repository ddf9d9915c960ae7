//! Ingesting pipeline SQL into the catalog, for the CLI (`custodian ingest sql`), the web app's
//! paste form and the demo: the SQL is analysed by [`crate::lineage`] (with what the catalog
//! knows of the tables it names), the tables it names are matched to datasets, and the pipeline,
//! its statements, the tables each statement read and wrote and the table- and column-level
//! lineage edges are stored with an audit event, all in one transaction per pipeline.
//!
//! Rules:
//! - A pipeline is identified by its path. Ingesting the same text again, read the same way
//!   (source, dialect, default schema), changes nothing and writes no audit event; a changed text
//!   replaces the pipeline's statements and edges.
//! - Names are matched within the source the SQL runs against, by schema and table name as the
//!   engine gives them (unquoted identifiers folded to lower case, unqualified ones completed with
//!   the default schema): exactly first, then ignoring case when exactly one dataset matches. A
//!   three-part name whose first part is another source's name is matched in that source.
//! - A table no crawl has found becomes a dataset of kind `referenced`, with the columns lineage
//!   revealed; a later crawl of the same name adopts it (see `db::catalog::apply_snapshot`).
//! - A table the script writes and later drops is the script's own intermediate: lineage is
//!   carried through it (a → tmp → b is stored as a → b on the statement that writes b) and it
//!   gets no dataset.
//! - Edges are stored per statement, as that statement's `flow` view gives them; the tables a
//!   statement reads and writes come from its `effects` view (so a DELETE's table is listed).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::db::audit::{self, AuditActor};
use crate::db::lineage::{
    self as repo, ColumnKey, DatasetKey, NewColumnLineageEdge, NewLineageEdge, NewPipelineStatement, NewPipelineTable,
    PipelineValues, REFERENCED, access, pipeline_status,
};
use crate::db::models::Source;
use crate::db::{AnyConnection, catalog, dialect};
use crate::lineage::{self, EdgeKind, Lineage, Options, SchemaKnowledge, StatementStatus, View};

/// Dialect names offered to people (LINEAGE.md's list); the engine maps each to a parser.
pub const DIALECTS: &[&str] = &[
    "ansi",
    "athena",
    "bigquery",
    "clickhouse",
    "databricks",
    "db2",
    "duckdb",
    "exasol",
    "generic",
    "greenplum",
    "hive",
    "mariadb",
    "materialize",
    "mssql",
    "mysql",
    "oracle",
    "postgres",
    "redshift",
    "snowflake",
    "sparksql",
    "sqlite",
    "teradata",
    "trino",
    "tsql",
    "vertica",
];

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Invalid(String),
    #[error("catalog: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("the SQL analysis failed unexpectedly")]
    Analysis,
}

/// One SQL text to ingest.
#[derive(Clone, Debug)]
pub struct SqlInput {
    /// What people call it: the file name, or the name given to pasted SQL.
    pub name: String,
    /// What identifies it across ingests.
    pub path: String,
    pub sql: String,
}

/// How to read the SQL: the source it runs against, its dialect and default schema.
#[derive(Clone, Debug)]
pub struct IngestTarget {
    pub source: Source,
    pub dialect: String,
    pub default_schema: String,
    /// Commit without waiting for the disk (PostgreSQL), for a batch that ends with
    /// [`dialect::flush_commits`]; see [`IngestTarget::batch`].
    pub deferred_flush: bool,
    /// Source names (lower case) to ids, read once per target.
    sources: std::sync::OnceLock<HashMap<String, i64>>,
}

impl IngestTarget {
    /// The dialect defaults to the source's kind (`postgres`, `sqlite`), the default schema to the
    /// source's. An unknown dialect name is refused.
    pub fn new(source: Source, dialect: Option<&str>, default_schema: Option<&str>) -> Result<Self, IngestError> {
        let dialect = dialect.map(str::trim).filter(|d| !d.is_empty()).unwrap_or(&source.kind).to_ascii_lowercase();
        if !is_known_dialect(&dialect) {
            return Err(IngestError::Invalid(format!(
                "{dialect:?} is not a dialect Custodian reads (one of: {})",
                DIALECTS.join(", ")
            )));
        }
        let default_schema = default_schema
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or_else(|| source.default_schema.clone(), str::to_owned);
        Ok(Self { source, dialect, default_schema, deferred_flush: false, sources: std::sync::OnceLock::new() })
    }

    /// For many ingests in a row: each commits without waiting for the disk to confirm (as
    /// SQLite's WAL with `synchronous = NORMAL` does anyway), and the caller ends the batch with
    /// [`dialect::flush_commits`], which makes every one of them durable before it reports
    /// success. A crash in between loses whole ingests, never part of one, and re-running the
    /// batch redoes exactly those.
    pub fn batch(mut self) -> Self {
        self.deferred_flush = true;
        self
    }

    fn source_ids(&self, conn: &mut AnyConnection) -> Result<&HashMap<String, i64>, diesel::result::Error> {
        if let Some(map) = self.sources.get() {
            return Ok(map);
        }
        let map = catalog::list_sources(conn)?.into_iter().map(|s| (s.name.to_lowercase(), s.id)).collect();
        Ok(self.sources.get_or_init(|| map))
    }
}

pub fn is_known_dialect(name: &str) -> bool {
    lineage::dialect::resolve(name).known
}

/// The source SQL runs against: the one named, or the only one there is.
pub fn choose_source(conn: &mut AnyConnection, name: Option<&str>) -> Result<Source, IngestError> {
    if let Some(name) = name {
        return catalog::find_source_by_name(conn, name)?.ok_or_else(|| {
            IngestError::Invalid(format!("there is no source named {name:?} (see: custodian source list)"))
        });
    }
    let mut all = catalog::list_sources(conn)?;
    match all.len() {
        1 => Ok(all.remove(0)),
        0 => Err(IngestError::Invalid(
            "pipeline SQL is ingested against a source (the database it runs in), and there is none yet: \
             register one first (custodian source add)"
                .into(),
        )),
        _ => Err(IngestError::Invalid(format!(
            "say which source the SQL runs against with --source (one of: {})",
            all.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// What an ingest did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The same text was ingested the same way before: nothing changed.
    Unchanged,
    Created,
    Replaced,
}

#[derive(Clone, Debug)]
pub struct IngestReport {
    pub pipeline_id: i64,
    pub outcome: Outcome,
    pub statements: usize,
    pub status: String,
    pub errors: usize,
    pub table_edges: usize,
    pub column_edges: usize,
    pub datasets_created: usize,
    pub columns_created: usize,
    /// Remarks from the analysis (an unknown dialect, ...).
    pub warnings: Vec<String>,
}

/// sha256 of the SQL text, lower-case hex.
pub fn content_hash(sql: &str) -> String {
    format!("{:x}", Sha256::digest(sql.as_bytes()))
}

/// Ingests one SQL text: a no-op when it is unchanged (unless `force`, which analyses it again
/// with what the catalog knows now); otherwise stores or replaces the pipeline in one
/// transaction with its audit event (`pipeline.ingest`, with `reason` when given).
pub fn ingest(
    conn: &mut AnyConnection,
    by: &AuditActor,
    target: &IngestTarget,
    input: &SqlInput,
    force: bool,
    reason: Option<&str>,
) -> Result<IngestReport, IngestError> {
    let result = ingest_text(conn, by, target, input, force, reason);
    let outcome = match &result {
        Ok(r) => match r.outcome {
            Outcome::Unchanged => "unchanged",
            Outcome::Created => "created",
            Outcome::Replaced => "replaced",
        },
        Err(_) => "failed",
    };
    crate::metrics::operation("ingest", outcome);
    result
}

fn ingest_text(
    conn: &mut AnyConnection,
    by: &AuditActor,
    target: &IngestTarget,
    input: &SqlInput,
    force: bool,
    reason: Option<&str>,
) -> Result<IngestReport, IngestError> {
    let hash = content_hash(&input.sql);
    let existing = repo::find_pipeline_key(conn, &input.path)?;
    if let Some(report) = unchanged(existing.as_ref(), &hash, target, force) {
        return Ok(report);
    }

    let names = Names::new(target, target.source_ids(conn)?.clone());
    // First without schema knowledge; again with it when the catalog knows columns of the tables
    // named (star expansion, unqualified columns in joins).
    let mut analysis = Analysis::run(&input.sql, target, SchemaKnowledge::new())?;
    let mut found = names.lookup(conn, &analysis.table_names())?;
    let crawled: Vec<i64> = found.values().filter(|d| d.kind != REFERENCED).map(|d| d.id).collect();
    if !crawled.is_empty() {
        let columns = repo::active_column_names(conn, &crawled)?;
        let mut knowledge = SchemaKnowledge::new();
        for d in found.values() {
            if let Some(cols) = columns.get(&d.id) {
                let key =
                    if d.schema_name.is_empty() { d.name.clone() } else { format!("{}.{}", d.schema_name, d.name) };
                knowledge.insert(key, cols.clone());
            }
        }
        if !knowledge.is_empty() {
            analysis = Analysis::run(&input.sql, target, knowledge)?;
            let more: BTreeSet<String> =
                analysis.table_names().into_iter().filter(|n| !found.contains_key(n)).collect();
            found.extend(names.lookup(conn, &more)?);
        }
    }
    let plan = Plan::new(&analysis);

    dialect::write_transaction(conn, |conn| {
        if target.deferred_flush {
            dialect::defer_commit_flush(conn)?;
        }
        let now = crate::db::now();
        let existing = existing.map(|k| k.id);
        store(conn, by, target, input, &hash, &names, found, existing, &analysis, &plan, reason, now)
    })
}

/// The report of an ingest that changes nothing: the same text, read the same way, as before.
fn unchanged(
    existing: Option<&crate::db::lineage::PipelineKey>,
    hash: &str,
    target: &IngestTarget,
    force: bool,
) -> Option<IngestReport> {
    let key = existing?;
    let same = !force
        && key.content_hash == hash
        && key.source_id == target.source.id
        && key.dialect == target.dialect
        && key.default_schema == target.default_schema;
    same.then(|| IngestReport {
        pipeline_id: key.id,
        outcome: Outcome::Unchanged,
        statements: 0,
        status: String::new(),
        errors: 0,
        table_edges: 0,
        column_edges: 0,
        datasets_created: 0,
        columns_created: 0,
        warnings: Vec::new(),
    })
}

/// Stores lineage that did not come from SQL (an OpenLineage run event's facets) as the
/// pipeline `input` names, exactly as an ingest of SQL stores its analysis: names matched to the
/// source's datasets, referenced datasets created for the rest, edges replaced in one
/// transaction, a no-op when `input.sql` (the lineage's canonical text) is unchanged. `columns`
/// (from schema facets) are added to referenced datasets.
pub fn ingest_lineage(
    conn: &mut AnyConnection,
    by: &AuditActor,
    target: &IngestTarget,
    input: &SqlInput,
    lineage: Lineage,
    columns: &[(String, Vec<String>)],
) -> Result<IngestReport, IngestError> {
    let hash = content_hash(&input.sql);
    let existing = repo::find_pipeline_key(conn, &input.path)?;
    if let Some(report) = unchanged(existing.as_ref(), &hash, target, false) {
        crate::metrics::operation("ingest", "unchanged");
        return Ok(report);
    }
    let names = Names::new(target, target.source_ids(conn)?.clone());
    let analysis = Analysis { flow: lineage.clone(), effects: Lineage { view: View::Effects, ..lineage } };
    let found = names.lookup(conn, &analysis.table_names())?;
    let plan = Plan::new(&analysis);
    let result = dialect::write_transaction(conn, |conn| {
        let now = crate::db::now();
        let mut report =
            store(conn, by, target, input, &hash, &names, found, existing.map(|k| k.id), &analysis, &plan, None, now)?;
        // Columns the schema facets name, on the referenced datasets the event reached.
        let tables: BTreeSet<String> = columns.iter().map(|(t, _)| t.clone()).collect();
        let datasets = names.lookup(conn, &tables)?;
        let ids: Vec<i64> = datasets.values().filter(|d| d.kind == REFERENCED).map(|d| d.id).collect();
        let mut index = ColumnIndex::default();
        for c in repo::columns_of_datasets(conn, &ids)? {
            index.add(c);
        }
        let mut per_source: HashMap<i64, Vec<(i64, String, i32)>> = HashMap::new();
        for (table, names) in columns {
            let Some(d) = datasets.get(table).filter(|d| d.kind == REFERENCED) else { continue };
            for name in names.iter().filter(|n| plausible_column(n)) {
                let list = per_source.entry(d.source_id).or_default();
                if index.find(d.id, name).is_some()
                    || list.iter().any(|(id, n, _)| *id == d.id && n.eq_ignore_ascii_case(name))
                {
                    continue;
                }
                let next = index.max_ordinal.entry(d.id).or_insert(0);
                *next += 1;
                list.push((d.id, name.clone(), *next));
            }
        }
        for (source_id, cols) in per_source {
            let created = repo::create_referenced_columns(conn, &cols, now)?;
            repo::bump_source_counts(conn, source_id, 0, created as i64)?;
            report.columns_created += created;
        }
        Ok(report)
    });
    crate::metrics::operation("ingest", if result.is_ok() { "created" } else { "failed" });
    result
}

// ---------------------------------------------------------------------------------------------
// Analysis

/// The SQL's lineage in both views.
struct Analysis {
    flow: Lineage,
    effects: Lineage,
}

impl Analysis {
    fn run(sql: &str, target: &IngestTarget, knowledge: SchemaKnowledge) -> Result<Self, IngestError> {
        let mut options = Options::new(&target.dialect);
        options.default_schema = Some(target.default_schema.clone()).filter(|s| !s.is_empty());
        options.schema = knowledge;
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new()
                .name("ingest-analysis".into())
                .stack_size(lineage::ANALYSIS_STACK)
                .spawn_scoped(scope, || {
                    let flow = lineage::analyze(sql, &Options { view: View::Flow, ..options.clone() });
                    let effects = lineage::analyze(sql, &Options { view: View::Effects, ..options.clone() });
                    Analysis { flow, effects }
                })
                .map_err(|_| IngestError::Analysis)?;
            handle.join().map_err(|_| IngestError::Analysis)
        })
    }

    /// Every table name the statements mention, in either view.
    fn table_names(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for s in self.flow.statements.iter().chain(&self.effects.statements) {
            out.extend(s.sources.iter().chain(&s.targets).cloned());
            for e in &s.column_edges {
                for end in [&e.source, &e.target] {
                    if let Some((table, _)) = end.rsplit_once('.') {
                        out.insert(table.to_owned());
                    }
                }
            }
        }
        out
    }
}

/// A column edge end: `(table, column)`, or a bare column with no table.
fn split_column(end: &str) -> Option<(&str, &str)> {
    end.rsplit_once('.')
}

/// A column edge by names: `(source table, source column, target table, target column, kind)`.
type NamedColumnEdge = (String, String, String, String, EdgeKind);

/// One statement's lineage after intermediate tables are carried through.
#[derive(Default)]
struct StatementPlan {
    /// `(source table, target table)`.
    table_edges: Vec<(String, String)>,
    /// `(source table, source column, target table, target column, kind)`.
    column_edges: Vec<NamedColumnEdge>,
    /// Column edges with an end that names no table.
    unresolved: usize,
}

/// What an intermediate table holds: the tables and columns its data came from.
#[derive(Default)]
struct Intermediate {
    tables: Vec<String>,
    columns: HashMap<String, Vec<(String, String, EdgeKind)>>,
}

struct Plan {
    statements: Vec<StatementPlan>,
    /// Tables written only as intermediates (each write followed by a DROP in the script).
    local: HashSet<String>,
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

impl Plan {
    fn new(analysis: &Analysis) -> Self {
        let flow = &analysis.flow.statements;
        let effects = &analysis.effects.statements;
        // Statement index → tables it drops.
        let drops: Vec<(usize, &Vec<String>)> =
            effects.iter().filter(|s| s.kind.starts_with("DROP")).map(|s| (s.index, &s.targets)).collect();
        let dropped_after =
            |index: usize, table: &str| drops.iter().any(|(j, t)| *j > index && t.iter().any(|n| n == table));
        let mut written: HashMap<&str, bool> = HashMap::new();
        for s in flow {
            for t in &s.targets {
                let transient = dropped_after(s.index, t);
                let all = written.entry(t.as_str()).or_insert(true);
                *all &= transient;
            }
        }
        let local: HashSet<String> = written.into_iter().filter(|(_, all)| *all).map(|(t, _)| t.to_owned()).collect();

        let mut live: HashMap<String, Intermediate> = HashMap::new();
        let mut statements = Vec::with_capacity(flow.len());
        for s in flow {
            let mut plan = StatementPlan::default();
            let mut sources: Vec<String> = Vec::new();
            for src in &s.sources {
                match live.get(src) {
                    Some(i) => i.tables.iter().for_each(|t| push_unique(&mut sources, t.clone())),
                    None if local.contains(src) => {}
                    None => push_unique(&mut sources, src.clone()),
                }
            }
            // Column edges with intermediate sources replaced by what the intermediate came from.
            let mut edges: Vec<NamedColumnEdge> = Vec::new();
            for e in &s.column_edges {
                let (Some((src_table, src_col)), Some((tgt_table, tgt_col))) =
                    (split_column(&e.source), split_column(&e.target))
                else {
                    plan.unresolved += 1;
                    continue;
                };
                match live.get(src_table) {
                    Some(i) if src_col == "*" => {
                        for (col, srcs) in &i.columns {
                            let target = if tgt_col == "*" { col.as_str() } else { tgt_col };
                            for (t, c, k) in srcs {
                                push_unique(
                                    &mut edges,
                                    (t.clone(), c.clone(), tgt_table.into(), target.into(), k.then(e.kind)),
                                );
                            }
                        }
                    }
                    Some(i) => {
                        for (t, c, k) in i.columns.get(&src_col.to_lowercase()).into_iter().flatten() {
                            push_unique(
                                &mut edges,
                                (t.clone(), c.clone(), tgt_table.into(), tgt_col.into(), k.then(e.kind)),
                            );
                        }
                    }
                    None if local.contains(src_table) => {}
                    None => push_unique(
                        &mut edges,
                        (src_table.into(), src_col.into(), tgt_table.into(), tgt_col.into(), e.kind),
                    ),
                }
            }
            for t in &s.targets {
                if dropped_after(s.index, t) {
                    let entry = live.entry(t.clone()).or_default();
                    for src in &sources {
                        push_unique(&mut entry.tables, src.clone());
                    }
                    for (st, sc, tt, tc, k) in &edges {
                        if tt == t {
                            let srcs = entry.columns.entry(tc.to_lowercase()).or_default();
                            push_unique(srcs, (st.clone(), sc.clone(), *k));
                        }
                    }
                } else {
                    for src in &sources {
                        if src != t {
                            push_unique(&mut plan.table_edges, (src.clone(), t.clone()));
                        }
                    }
                }
            }
            plan.column_edges = edges.into_iter().filter(|(_, _, tt, _, _)| !dropped_after(s.index, tt)).collect();
            if let Some(e) = effects.iter().find(|e| e.index == s.index)
                && e.kind.starts_with("DROP")
            {
                for t in &e.targets {
                    live.remove(t);
                }
            }
            statements.push(plan);
        }
        Self { statements, local }
    }
}

// ---------------------------------------------------------------------------------------------
// Names → datasets

/// Where a table name lives: `(source, schema, table)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Place {
    source_id: i64,
    schema: String,
    table: String,
}

struct Names {
    source_id: i64,
    default_schema: String,
    /// Other sources by lower-case name, for `source.schema.table`.
    sources: HashMap<String, i64>,
}

impl Names {
    fn new(target: &IngestTarget, sources: HashMap<String, i64>) -> Self {
        Self { source_id: target.source.id, default_schema: target.default_schema.clone(), sources }
    }

    fn place(&self, name: &str) -> Place {
        let here = |schema: String, table: String| Place { source_id: self.source_id, schema, table };
        if repo::is_path(name) {
            return here(String::new(), name.to_owned());
        }
        let parts: Vec<&str> = name.split('.').collect();
        match parts.as_slice() {
            [table] => here(self.default_schema.clone(), (*table).to_owned()),
            [schema, table] => here((*schema).to_owned(), (*table).to_owned()),
            [first, middle @ .., table] => {
                let schema = middle.join(".");
                match self.sources.get(&first.to_lowercase()) {
                    Some(&source_id) => Place { source_id, schema, table: (*table).to_owned() },
                    None => here(schema, (*table).to_owned()),
                }
            }
            [] => here(String::new(), String::new()),
        }
    }

    /// The datasets that exist for these names (exact match first, then any case when exactly
    /// one dataset matches).
    fn lookup(
        &self,
        conn: &mut AnyConnection,
        names: &BTreeSet<String>,
    ) -> Result<HashMap<String, DatasetKey>, diesel::result::Error> {
        let mut by_source: HashMap<i64, Vec<(&String, Place)>> = HashMap::new();
        for name in names {
            let place = self.place(name);
            by_source.entry(place.source_id).or_default().push((name, place));
        }
        let mut out = HashMap::new();
        for (source_id, wanted) in by_source {
            let keys: Vec<(String, String)> = wanted.iter().map(|(_, p)| (p.schema.clone(), p.table.clone())).collect();
            let exact: HashMap<(String, String), DatasetKey> = repo::find_datasets_exact(conn, source_id, &keys)?
                .into_iter()
                .map(|d| ((d.schema_name.clone(), d.name.clone()), d))
                .collect();
            let mut missing = Vec::new();
            for (name, place) in &wanted {
                match exact.get(&(place.schema.clone(), place.table.clone())) {
                    Some(d) => {
                        out.insert((*name).clone(), d.clone());
                    }
                    None => missing.push((*name, place)),
                }
            }
            if missing.is_empty() {
                continue;
            }
            let lowered: Vec<String> =
                missing.iter().map(|(_, p)| p.table.to_lowercase()).collect::<BTreeSet<_>>().into_iter().collect();
            let candidates = repo::find_datasets_any_case(conn, source_id, &lowered)?;
            for (name, place) in missing {
                let mut matches = candidates.iter().filter(|d| {
                    d.schema_name.to_lowercase() == place.schema.to_lowercase()
                        && d.name.to_lowercase() == place.table.to_lowercase()
                });
                if let (Some(d), None) = (matches.next(), matches.next()) {
                    out.insert(name.clone(), d.clone());
                }
            }
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Storing

fn statement_status(status: StatementStatus) -> &'static str {
    match status {
        StatementStatus::Parsed => "parsed",
        StatementStatus::Recovered => "recovered",
        StatementStatus::Degraded => "degraded",
    }
}

pub fn edge_kind(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Identity => "identity",
        EdgeKind::Transform => "transform",
        EdgeKind::Aggregate => "aggregate",
    }
}

/// Whether a name lineage gives a written column can be a column of a table never crawled: the
/// engine names an unaliased expression by its text (`SUM(total_cents)`) when the SQL does not
/// say which column it goes to, and such a name is not made a column.
fn plausible_column(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '#' | '@' | '-'))
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Columns of the datasets involved, for matching column names.
#[derive(Default)]
struct ColumnIndex {
    exact: HashMap<(i64, String), i64>,
    folded: HashMap<(i64, String), Vec<i64>>,
    /// Names in ordinal order, per dataset (for expanding `*`).
    names: HashMap<i64, Vec<String>>,
    max_ordinal: HashMap<i64, i32>,
}

impl ColumnIndex {
    fn add(&mut self, c: ColumnKey) {
        self.folded.entry((c.dataset_id, c.name.to_lowercase())).or_default().push(c.id);
        let max = self.max_ordinal.entry(c.dataset_id).or_insert(0);
        *max = (*max).max(c.ordinal);
        self.names.entry(c.dataset_id).or_default().push(c.name.clone());
        self.exact.insert((c.dataset_id, c.name), c.id);
    }

    fn find(&self, dataset_id: i64, name: &str) -> Option<i64> {
        if let Some(id) = self.exact.get(&(dataset_id, name.to_owned())) {
            return Some(*id);
        }
        match self.folded.get(&(dataset_id, name.to_lowercase())).map(Vec::as_slice) {
            Some([id]) => Some(*id),
            _ => None,
        }
    }
}

#[expect(clippy::too_many_arguments, reason = "the pieces an ingest has computed before its transaction")]
fn store(
    conn: &mut AnyConnection,
    by: &AuditActor,
    target: &IngestTarget,
    input: &SqlInput,
    hash: &str,
    names: &Names,
    mut found: HashMap<String, DatasetKey>,
    existing: Option<i64>,
    analysis: &Analysis,
    plan: &Plan,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<IngestReport, IngestError> {
    // Every table name that needs a dataset: all but the script's own intermediates.
    let mut needed: BTreeSet<String> = BTreeSet::new();
    for s in &analysis.effects.statements {
        needed.extend(s.sources.iter().chain(&s.targets).filter(|n| !plan.local.contains(*n)).cloned());
    }
    for s in &plan.statements {
        for (a, b) in &s.table_edges {
            needed.insert(a.clone());
            needed.insert(b.clone());
        }
        for (a, _, b, _, _) in &s.column_edges {
            needed.insert(a.clone());
            needed.insert(b.clone());
        }
    }
    // Create what is missing. A dataset that appeared since the lookup (a crawl or another ingest
    // got there first) is kept as it is, and found by the lookup that follows.
    let missing: BTreeSet<String> = needed.iter().filter(|n| !found.contains_key(*n)).cloned().collect();
    let mut datasets_created = 0;
    // Per source: (datasets, columns) added, for its counts.
    let mut added: HashMap<i64, (i64, i64)> = HashMap::new();
    if !missing.is_empty() {
        let mut to_create: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        for name in &missing {
            let place = names.place(name);
            let keys = to_create.entry(place.source_id).or_default();
            push_unique(keys, (place.schema, place.table));
        }
        for (source_id, keys) in &to_create {
            let created = repo::create_referenced_datasets(conn, *source_id, keys, now)?;
            added.entry(*source_id).or_default().0 += created as i64;
            datasets_created += created;
        }
        found.extend(names.lookup(conn, &missing)?);
    }
    let dataset_of = |name: &str| found.get(name);

    // Columns: match the names the edges use; create the missing ones on referenced datasets.
    let involved: Vec<i64> = {
        let mut ids: BTreeSet<i64> = BTreeSet::new();
        for s in &plan.statements {
            for (a, _, b, _, _) in &s.column_edges {
                ids.extend(dataset_of(a).map(|d| d.id));
                ids.extend(dataset_of(b).map(|d| d.id));
            }
        }
        ids.into_iter().collect()
    };
    let mut columns = ColumnIndex::default();
    for c in repo::columns_of_datasets(conn, &involved)? {
        columns.add(c);
    }
    let referenced: HashSet<i64> = found.values().filter(|d| d.kind == REFERENCED).map(|d| d.id).collect();
    // Stars copy every column the source is known to have.
    let mut expanded: Vec<Vec<NamedColumnEdge>> = Vec::with_capacity(plan.statements.len());
    for s in &plan.statements {
        let mut edges = Vec::with_capacity(s.column_edges.len());
        for (st, sc, tt, tc, k) in &s.column_edges {
            if sc == "*" && tc == "*" {
                if let Some(d) = dataset_of(st) {
                    for name in columns.names.get(&d.id).into_iter().flatten() {
                        push_unique(&mut edges, (st.clone(), name.clone(), tt.clone(), name.clone(), *k));
                    }
                }
            } else {
                edges.push((st.clone(), sc.clone(), tt.clone(), tc.clone(), *k));
            }
        }
        expanded.push(edges);
    }
    let mut new_columns: Vec<(i64, String, i32)> = Vec::new();
    for edges in &expanded {
        for (st, sc, tt, tc, _) in edges {
            for (table, column) in [(st, sc), (tt, tc)] {
                let Some(d) = dataset_of(table) else { continue };
                if column == "*"
                    || columns.find(d.id, column).is_some()
                    || !referenced.contains(&d.id)
                    || !plausible_column(column)
                {
                    continue;
                }
                if new_columns.iter().any(|(id, n, _)| *id == d.id && n.eq_ignore_ascii_case(column)) {
                    continue;
                }
                let next = columns.max_ordinal.entry(d.id).or_insert(0);
                *next += 1;
                new_columns.push((d.id, column.clone(), *next));
            }
        }
    }
    let mut columns_created = 0;
    if !new_columns.is_empty() {
        let mut per_source: HashMap<i64, Vec<(i64, String, i32)>> = HashMap::new();
        for c in &new_columns {
            if let Some(d) = found.values().find(|d| d.id == c.0) {
                per_source.entry(d.source_id).or_default().push(c.clone());
            }
        }
        for (source_id, cols) in per_source {
            let created = repo::create_referenced_columns(conn, &cols, now)?;
            added.entry(source_id).or_default().1 += created as i64;
            columns_created += created;
        }
        columns = ColumnIndex::default();
        for c in repo::columns_of_datasets(conn, &involved)? {
            columns.add(c);
        }
    }

    // The pipeline row.
    let flow = &analysis.flow;
    let errors_json = serde_json::to_string(&flow.errors).unwrap_or_else(|_| "[]".to_owned());
    let failed_statements = flow
        .statements
        .iter()
        .filter(|s| s.status == StatementStatus::Degraded || flow.errors.iter().any(|e| e.statement == s.index))
        .count();
    let status = if !flow.statements.is_empty() && failed_statements == flow.statements.len() {
        pipeline_status::FAILED
    } else if failed_statements > 0 || !flow.errors.is_empty() || flow.degraded {
        pipeline_status::PARTIAL
    } else {
        pipeline_status::OK
    };

    let mut statements = Vec::with_capacity(flow.statements.len());
    let mut tables = Vec::new();
    let mut edges = Vec::new();
    let mut column_edges = Vec::new();
    let mut seen_edges: HashSet<(i32, i64, i64)> = HashSet::new();
    let mut seen_column_edges: HashSet<(i32, i64, i64)> = HashSet::new();
    let lines: Vec<&str> = input.sql.lines().collect();
    for (i, s) in flow.statements.iter().enumerate() {
        let index = to_i32(s.index);
        let error = flow.errors.iter().find(|e| e.statement == s.index);
        // How transformed columns were computed, for erasure to recompute (lineage::derive).
        let derived = if error.is_none() && s.start_line >= 1 && s.end_line <= lines.len() {
            crate::lineage::derive::derivations(&lines[s.start_line - 1..s.end_line].join("\n"), &target.dialect)
        } else {
            Vec::new()
        };
        let mut unresolved = plan.statements.get(i).map_or(0, |p| p.unresolved) as i64;
        if let Some(p) = plan.statements.get(i) {
            for (a, b) in &p.table_edges {
                if let (Some(from), Some(to)) = (dataset_of(a), dataset_of(b))
                    && from.id != to.id
                    && seen_edges.insert((index, from.id, to.id))
                {
                    edges.push(NewLineageEdge {
                        pipeline_id: 0,
                        statement_index: index,
                        from_dataset_id: from.id,
                        to_dataset_id: to.id,
                    });
                }
            }
        }
        for (st, sc, tt, tc, k) in expanded.get(i).into_iter().flatten() {
            let from = dataset_of(st).and_then(|d| columns.find(d.id, sc));
            let to = dataset_of(tt).and_then(|d| columns.find(d.id, tc));
            match (from, to) {
                (Some(from), Some(to)) if from != to => {
                    if seen_column_edges.insert((index, from, to)) {
                        let how = derived
                            .iter()
                            .find(|d| {
                                d.target_column.eq_ignore_ascii_case(tc) && d.source_column.eq_ignore_ascii_case(sc)
                            })
                            .map(|d| &d.how);
                        column_edges.push(NewColumnLineageEdge {
                            pipeline_id: 0,
                            statement_index: index,
                            from_column_id: from,
                            to_column_id: to,
                            kind: edge_kind(*k).to_owned(),
                            expression: match how {
                                Some(crate::lineage::derive::How::Expression(e)) => Some(e.clone()),
                                _ => None,
                            },
                            json_key: match how {
                                Some(crate::lineage::derive::How::JsonField(k)) => Some(k.clone()),
                                _ => None,
                            },
                        });
                    }
                }
                (Some(_), Some(_)) => {}
                _ => unresolved += 1,
            }
        }
        if let Some(e) = analysis.effects.statements.iter().find(|e| e.index == s.index) {
            for (names, how) in [(&e.sources, access::READ), (&e.targets, access::WRITE)] {
                for name in names {
                    tables.push(NewPipelineTable {
                        pipeline_id: 0,
                        statement_index: index,
                        access: how.to_owned(),
                        table_name: name.clone(),
                        dataset_id: if plan.local.contains(name) { None } else { dataset_of(name).map(|d| d.id) },
                    });
                }
            }
        }
        statements.push(NewPipelineStatement {
            pipeline_id: 0,
            statement_index: index,
            start_line: to_i32(s.start_line),
            end_line: to_i32(s.end_line),
            kind: s.kind.clone(),
            status: statement_status(s.status).to_owned(),
            parsed_dialect: Some(s.dialect.clone()).filter(|d| !d.is_empty()),
            error_line: error.map(|e| to_i32(e.line)),
            error_column: error.map(|e| to_i32(e.column)),
            error_message: error.map(|e| e.message.clone()),
            unresolved_column_edges: unresolved,
        });
    }

    let values = PipelineValues {
        name: input.name.clone(),
        path: input.path.clone(),
        source_id: target.source.id,
        dialect: target.dialect.clone(),
        default_schema: target.default_schema.clone(),
        content_hash: hash.to_owned(),
        sql_text: input.sql.clone(),
        statement_count: flow.statements.len() as i64,
        status: status.to_owned(),
        errors: errors_json,
        degraded: flow.degraded,
        table_edge_count: edges.len() as i64,
        column_edge_count: column_edges.len() as i64,
        ingested_by: by.actor.clone(),
        ingested_at: now,
        updated_at: now,
    };
    for (source_id, (datasets, columns)) in added {
        repo::bump_source_counts(conn, source_id, datasets, columns)?;
    }
    // Columns this pipeline wrote before, whose propagated tags may change with it.
    let mut rewritten: BTreeSet<i64> = BTreeSet::new();
    let (pipeline_id, outcome) = match existing {
        Some(id) => {
            rewritten.extend(crate::db::propagation::pipeline_targets(conn, id)?);
            repo::clear_pipeline_lineage(conn, id)?;
            repo::update_pipeline(conn, id, &values)?;
            (id, Outcome::Replaced)
        }
        None => (repo::insert_pipeline(conn, &values, now)?, Outcome::Created),
    };
    statements.iter_mut().for_each(|r| r.pipeline_id = pipeline_id);
    tables.iter_mut().for_each(|r| r.pipeline_id = pipeline_id);
    edges.iter_mut().for_each(|r| r.pipeline_id = pipeline_id);
    column_edges.iter_mut().for_each(|r| r.pipeline_id = pipeline_id);
    repo::insert_statements(conn, &statements)?;
    repo::insert_tables(conn, &tables)?;
    repo::insert_edges(conn, &edges)?;
    repo::insert_column_edges(conn, &column_edges)?;
    rewritten.extend(column_edges.iter().map(|e| e.to_column_id));
    let rewritten: Vec<i64> = rewritten.into_iter().collect();
    crate::propagation::refresh(conn, crate::propagation::Scope::From(&rewritten))?;

    let mut event = by.event("pipeline.ingest", "pipeline").entity_id(pipeline_id).after(json!({
        "name": input.name,
        "path": input.path,
        "source": target.source.name,
        "dialect": target.dialect,
        "default_schema": target.default_schema,
        "content_hash": hash,
        "statements": flow.statements.len(),
        "status": status,
        "errors": flow.errors.len(),
        "table_edges": edges.len(),
        "column_edges": column_edges.len(),
        "datasets_created": datasets_created,
        "columns_created": columns_created,
        "replaced": outcome == Outcome::Replaced,
    }));
    if let Some(reason) = reason {
        event = event.reason(reason);
    }
    audit::append(conn, &event, now)?;

    Ok(IngestReport {
        pipeline_id,
        outcome,
        statements: flow.statements.len(),
        status: status.to_owned(),
        errors: flow.errors.len(),
        table_edges: edges.len(),
        column_edges: column_edges.len(),
        datasets_created,
        columns_created,
        warnings: flow.warnings.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(sql: &str) -> Analysis {
        let source = Source {
            id: 1,
            name: "shop".into(),
            kind: "sqlite".into(),
            connection_kind: "url".into(),
            connection_ref: "/x.db".into(),
            default_schema: "main".into(),
            description: None,
            owner: None,
            created_at: crate::db::now(),
            updated_at: crate::db::now(),
            last_crawled_at: None,
            dataset_count: 0,
            column_count: 0,
        };
        let target = IngestTarget::new(source, None, None).expect("target");
        Analysis::run(sql, &target, SchemaKnowledge::new()).expect("analysis")
    }

    #[test]
    fn every_dialect_offered_is_known_to_the_engine() {
        for d in DIALECTS {
            assert!(is_known_dialect(d), "{d}");
        }
    }

    #[test]
    fn intermediate_tables_dropped_later_are_carried_through() {
        let a = analysis(
            "CREATE TABLE tmp AS SELECT id, email FROM customers;\n\
             INSERT INTO audience (customer_id, contact_address) SELECT id, email FROM tmp;\n\
             DROP TABLE tmp;",
        );
        let plan = Plan::new(&a);
        assert!(plan.local.contains("main.tmp"), "{:?}", plan.local);
        assert!(plan.statements[0].table_edges.is_empty());
        assert_eq!(plan.statements[1].table_edges, vec![("main.customers".to_owned(), "main.audience".to_owned())]);
        let cols: Vec<(&str, &str, &str)> =
            plan.statements[1].column_edges.iter().map(|(_, sc, _, tc, _)| (sc.as_str(), tc.as_str(), "")).collect();
        assert!(cols.contains(&("email", "contact_address", "")), "{cols:?}");
        assert!(plan.statements[1].column_edges.iter().all(|(st, _, _, _, _)| st == "main.customers"));
    }

    #[test]
    fn a_table_dropped_before_it_is_written_is_not_intermediate() {
        let a = analysis("DROP TABLE IF EXISTS totals;\nCREATE TABLE totals AS SELECT id FROM orders;");
        let plan = Plan::new(&a);
        assert!(plan.local.is_empty());
        assert_eq!(plan.statements[1].table_edges, vec![("main.orders".to_owned(), "main.totals".to_owned())]);
    }

    #[test]
    fn names_complete_and_find_their_source() {
        let names = Names {
            source_id: 1,
            default_schema: "main".into(),
            sources: HashMap::from([("shop".to_owned(), 1), ("dwh".to_owned(), 2)]),
        };
        assert_eq!(names.place("orders"), Place { source_id: 1, schema: "main".into(), table: "orders".into() });
        assert_eq!(names.place("sales.orders"), Place { source_id: 1, schema: "sales".into(), table: "orders".into() });
        assert_eq!(
            names.place("dwh.public.orders"),
            Place { source_id: 2, schema: "public".into(), table: "orders".into() }
        );
        assert_eq!(names.place("proj.ds.t"), Place { source_id: 1, schema: "ds".into(), table: "t".into() });
        assert_eq!(
            names.place("s3://bucket/x"),
            Place { source_id: 1, schema: String::new(), table: "s3://bucket/x".into() }
        );
    }
}
