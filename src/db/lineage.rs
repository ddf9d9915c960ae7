//! Repository for lineage from pipeline SQL: pipelines and their statements, the tables each
//! statement read and wrote, table- and column-level lineage edges, the "referenced" datasets
//! and columns that SQL names but no crawl has found yet, and the upstream/downstream queries
//! behind the dataset page and the API.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{ACTIVE, NewColumn, NewDataset};
use super::schema::{
    column_lineage_edges, dataset_columns, datasets, lineage_edges, pipeline_statements, pipeline_tables, pipelines,
    sources,
};
use super::{AnyConnection, dialect};

/// Rows per multi-row INSERT: well under both backends' bind-parameter limits.
const INSERT_CHUNK: usize = 500;

/// Ids per `IN (...)` list.
const ID_CHUNK: usize = 900;

/// The dataset kind of a table that pipeline SQL names and no crawl has found (yet).
pub const REFERENCED: &str = "referenced";
/// A dataset outside the databases (a file or bucket a pipeline exports to).
pub const EXTERNAL: &str = "external";

/// Whether a table name in SQL is a file or bucket path rather than a table.
pub fn is_path(name: &str) -> bool {
    name.contains('/') || name.contains("://") || name.starts_with('@')
}

/// Pipeline states: every statement understood, some not, or none.
pub mod pipeline_status {
    pub const OK: &str = "ok";
    pub const PARTIAL: &str = "partial";
    pub const FAILED: &str = "failed";
}

/// How a statement uses a table.
pub mod access {
    pub const READ: &str = "read";
    pub const WRITE: &str = "write";
}

// ---------------------------------------------------------------------------------------------
// Rows

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = pipelines)]
pub struct Pipeline {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub source_id: i64,
    pub dialect: String,
    pub default_schema: String,
    pub content_hash: String,
    pub sql_text: String,
    pub statement_count: i64,
    pub status: String,
    /// JSON array of `{statement, line, column, message}`.
    pub errors: String,
    pub degraded: bool,
    pub table_edge_count: i64,
    pub column_edge_count: i64,
    pub ingested_by: String,
    pub created_at: NaiveDateTime,
    pub ingested_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A pipeline as lists show it (without its SQL).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = pipelines)]
pub struct PipelineSummary {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub source_id: i64,
    pub dialect: String,
    pub statement_count: i64,
    pub status: String,
    pub degraded: bool,
    pub table_edge_count: i64,
    pub column_edge_count: i64,
    pub ingested_at: NaiveDateTime,
}

/// What decides whether an ingest may skip a file: same text, same way of reading it.
#[derive(Queryable, Selectable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = pipelines)]
pub struct PipelineKey {
    pub id: i64,
    pub source_id: i64,
    pub dialect: String,
    pub default_schema: String,
    pub content_hash: String,
}

/// A pipeline's values as one ingest stores them.
#[derive(Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = pipelines)]
pub struct PipelineValues {
    pub name: String,
    pub path: String,
    pub source_id: i64,
    pub dialect: String,
    pub default_schema: String,
    pub content_hash: String,
    pub sql_text: String,
    pub statement_count: i64,
    pub status: String,
    pub errors: String,
    pub degraded: bool,
    pub table_edge_count: i64,
    pub column_edge_count: i64,
    pub ingested_by: String,
    pub ingested_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = pipeline_statements)]
pub struct PipelineStatement {
    pub id: i64,
    pub pipeline_id: i64,
    pub statement_index: i32,
    pub start_line: i32,
    pub end_line: i32,
    pub kind: String,
    pub status: String,
    pub parsed_dialect: Option<String>,
    pub error_line: Option<i32>,
    pub error_column: Option<i32>,
    pub error_message: Option<String>,
    pub unresolved_column_edges: i64,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = pipeline_statements)]
pub struct NewPipelineStatement {
    pub pipeline_id: i64,
    pub statement_index: i32,
    pub start_line: i32,
    pub end_line: i32,
    pub kind: String,
    pub status: String,
    pub parsed_dialect: Option<String>,
    pub error_line: Option<i32>,
    pub error_column: Option<i32>,
    pub error_message: Option<String>,
    pub unresolved_column_edges: i64,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = pipeline_tables)]
pub struct NewPipelineTable {
    pub pipeline_id: i64,
    pub statement_index: i32,
    pub access: String,
    pub table_name: String,
    pub dataset_id: Option<i64>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = lineage_edges)]
pub struct NewLineageEdge {
    pub pipeline_id: i64,
    pub statement_index: i32,
    pub from_dataset_id: i64,
    pub to_dataset_id: i64,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = column_lineage_edges)]
pub struct NewColumnLineageEdge {
    pub pipeline_id: i64,
    pub statement_index: i32,
    pub from_column_id: i64,
    pub to_column_id: i64,
    pub kind: String,
    /// How erasure recomputes the value (see `lineage::derive`).
    pub expression: Option<String>,
    pub json_key: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Pipelines

pub fn find_pipeline_key(conn: &mut AnyConnection, path: &str) -> QueryResult<Option<PipelineKey>> {
    pipelines::table.filter(pipelines::path.eq(path)).select(PipelineKey::as_select()).first(conn).optional()
}

pub fn find_pipeline(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<(Pipeline, String)>> {
    pipelines::table
        .inner_join(sources::table)
        .filter(pipelines::id.eq(id))
        .select((Pipeline::as_select(), sources::name))
        .first(conn)
        .optional()
}

/// Pipelines in name order with their source's name, and how many there are.
pub fn list_pipelines(
    conn: &mut AnyConnection,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<(PipelineSummary, String)>, i64)> {
    let total: i64 = pipelines::table.count().get_result(conn)?;
    let rows = pipelines::table
        .inner_join(sources::table)
        .order((pipelines::name, pipelines::id))
        .offset(offset)
        .limit(limit)
        .select((PipelineSummary::as_select(), sources::name))
        .load(conn)?;
    Ok((rows, total))
}

/// Stores a new pipeline; returns its id.
pub fn insert_pipeline(conn: &mut AnyConnection, values: &PipelineValues, now: NaiveDateTime) -> QueryResult<i64> {
    dialect::insert_pipeline(conn, values, now)
}

pub fn update_pipeline(conn: &mut AnyConnection, id: i64, values: &PipelineValues) -> QueryResult<usize> {
    diesel::update(pipelines::table.find(id)).set(values).execute(conn)
}

/// Deletes a pipeline's statements, tables and edges (before they are replaced).
pub fn clear_pipeline_lineage(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    let mut n =
        diesel::delete(column_lineage_edges::table.filter(column_lineage_edges::pipeline_id.eq(id))).execute(conn)?;
    n += diesel::delete(lineage_edges::table.filter(lineage_edges::pipeline_id.eq(id))).execute(conn)?;
    n += diesel::delete(pipeline_tables::table.filter(pipeline_tables::pipeline_id.eq(id))).execute(conn)?;
    n += diesel::delete(pipeline_statements::table.filter(pipeline_statements::pipeline_id.eq(id))).execute(conn)?;
    Ok(n)
}

pub fn insert_statements(conn: &mut AnyConnection, rows: &[NewPipelineStatement]) -> QueryResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        dialect::insert_pipeline_statements(conn, chunk)?;
    }
    Ok(())
}

pub fn insert_tables(conn: &mut AnyConnection, rows: &[NewPipelineTable]) -> QueryResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        dialect::insert_pipeline_tables(conn, chunk)?;
    }
    Ok(())
}

pub fn insert_edges(conn: &mut AnyConnection, rows: &[NewLineageEdge]) -> QueryResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        dialect::insert_lineage_edges(conn, chunk)?;
    }
    Ok(())
}

pub fn insert_column_edges(conn: &mut AnyConnection, rows: &[NewColumnLineageEdge]) -> QueryResult<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        dialect::insert_column_lineage_edges(conn, chunk)?;
    }
    Ok(())
}

pub fn list_statements(conn: &mut AnyConnection, pipeline_id: i64) -> QueryResult<Vec<PipelineStatement>> {
    pipeline_statements::table
        .filter(pipeline_statements::pipeline_id.eq(pipeline_id))
        .order(pipeline_statements::statement_index)
        .select(PipelineStatement::as_select())
        .load(conn)
}

/// A dataset as lineage lists name it.
#[derive(Queryable, Clone, Debug, PartialEq, Eq)]
pub struct DatasetRef {
    pub id: i64,
    pub source_name: String,
    pub schema_name: String,
    pub name: String,
    pub kind: String,
    pub status: String,
}

impl DatasetRef {
    /// `schema.name`, or the name alone when it has no schema (a storage path).
    pub fn qualified(&self) -> String {
        if self.schema_name.is_empty() { self.name.clone() } else { format!("{}.{}", self.schema_name, self.name) }
    }
}

/// A column as lineage lists name it, with its dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRef {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub dataset: DatasetRef,
}

fn load_datasets(conn: &mut AnyConnection, ids: &HashSet<i64>) -> QueryResult<HashMap<i64, DatasetRef>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<DatasetRef> = datasets::table
            .inner_join(sources::table)
            .filter(datasets::id.eq_any(chunk))
            .select((
                datasets::id,
                sources::name,
                datasets::schema_name,
                datasets::name,
                datasets::kind,
                datasets::status,
            ))
            .load(conn)?;
        out.extend(rows.into_iter().map(|d| (d.id, d)));
    }
    Ok(out)
}

fn load_columns(conn: &mut AnyConnection, ids: &HashSet<i64>) -> QueryResult<HashMap<i64, ColumnRef>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut rows: Vec<(i64, String, String, i64)> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        rows.extend(
            dataset_columns::table
                .filter(dataset_columns::id.eq_any(chunk))
                .select((
                    dataset_columns::id,
                    dataset_columns::name,
                    dataset_columns::status,
                    dataset_columns::dataset_id,
                ))
                .load::<(i64, String, String, i64)>(conn)?,
        );
    }
    let dataset_ids: HashSet<i64> = rows.iter().map(|r| r.3).collect();
    let datasets = load_datasets(conn, &dataset_ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, status, dataset_id)| {
            let dataset = datasets.get(&dataset_id)?.clone();
            Some((id, ColumnRef { id, name, status, dataset }))
        })
        .collect())
}

/// A table one statement read or wrote, with its dataset when it has one.
#[derive(Clone, Debug)]
pub struct StatementTable {
    pub statement_index: i32,
    pub access: String,
    pub table_name: String,
    pub dataset: Option<DatasetRef>,
}

pub fn list_statement_tables(conn: &mut AnyConnection, pipeline_id: i64) -> QueryResult<Vec<StatementTable>> {
    let rows: Vec<(i32, String, String, Option<i64>)> = pipeline_tables::table
        .filter(pipeline_tables::pipeline_id.eq(pipeline_id))
        .order((pipeline_tables::statement_index, pipeline_tables::id))
        .select((
            pipeline_tables::statement_index,
            pipeline_tables::access,
            pipeline_tables::table_name,
            pipeline_tables::dataset_id,
        ))
        .load(conn)?;
    let ids: HashSet<i64> = rows.iter().filter_map(|r| r.3).collect();
    let datasets = load_datasets(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|(statement_index, access, table_name, id)| StatementTable {
            statement_index,
            access,
            table_name,
            dataset: id.and_then(|id| datasets.get(&id).cloned()),
        })
        .collect())
}

/// A table-level edge of one pipeline statement.
#[derive(Clone, Debug)]
pub struct TableEdge {
    pub statement_index: i32,
    pub from: DatasetRef,
    pub to: DatasetRef,
}

pub fn list_pipeline_edges(conn: &mut AnyConnection, pipeline_id: i64) -> QueryResult<Vec<TableEdge>> {
    let rows: Vec<(i32, i64, i64)> = lineage_edges::table
        .filter(lineage_edges::pipeline_id.eq(pipeline_id))
        .order((lineage_edges::statement_index, lineage_edges::id))
        .select((lineage_edges::statement_index, lineage_edges::from_dataset_id, lineage_edges::to_dataset_id))
        .load(conn)?;
    let ids: HashSet<i64> = rows.iter().flat_map(|r| [r.1, r.2]).collect();
    let datasets = load_datasets(conn, &ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|(statement_index, from, to)| {
            Some(TableEdge { statement_index, from: datasets.get(&from)?.clone(), to: datasets.get(&to)?.clone() })
        })
        .collect())
}

/// A column-level edge of one pipeline statement.
#[derive(Clone, Debug)]
pub struct ColumnEdgeRow {
    pub statement_index: i32,
    pub from: ColumnRef,
    pub to: ColumnRef,
    pub kind: String,
}

pub fn list_pipeline_column_edges(conn: &mut AnyConnection, pipeline_id: i64) -> QueryResult<Vec<ColumnEdgeRow>> {
    let rows: Vec<(i32, i64, i64, String)> = column_lineage_edges::table
        .filter(column_lineage_edges::pipeline_id.eq(pipeline_id))
        .order((column_lineage_edges::statement_index, column_lineage_edges::id))
        .select((
            column_lineage_edges::statement_index,
            column_lineage_edges::from_column_id,
            column_lineage_edges::to_column_id,
            column_lineage_edges::kind,
        ))
        .load(conn)?;
    let ids: HashSet<i64> = rows.iter().flat_map(|r| [r.1, r.2]).collect();
    let columns = load_columns(conn, &ids)?;
    Ok(rows
        .into_iter()
        .filter_map(|(statement_index, from, to, kind)| {
            Some(ColumnEdgeRow {
                statement_index,
                from: columns.get(&from)?.clone(),
                to: columns.get(&to)?.clone(),
                kind,
            })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// A dataset's and a column's lineage

/// A pipeline statement that produced an edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    pub pipeline_id: i64,
    pub pipeline_name: String,
    pub statement_index: i32,
}

/// A neighbouring dataset and the statements that link it to the one asked about.
#[derive(Clone, Debug)]
pub struct Neighbour {
    pub dataset: DatasetRef,
    pub via: Vec<Via>,
}

/// A column edge of a dataset's (or a column's) lineage, with the statement that produced it.
#[derive(Clone, Debug)]
pub struct ColumnLink {
    pub from: ColumnRef,
    pub to: ColumnRef,
    pub kind: String,
    pub via: Via,
}

/// The lineage around one dataset. Lists are cut at the limit given (`truncated` says so).
#[derive(Clone, Debug, Default)]
pub struct DatasetLineage {
    pub upstream: Vec<Neighbour>,
    pub downstream: Vec<Neighbour>,
    /// Edges into this dataset's columns.
    pub column_sources: Vec<ColumnLink>,
    /// Edges out of this dataset's columns.
    pub column_targets: Vec<ColumnLink>,
    pub truncated: bool,
}

impl DatasetLineage {
    pub fn is_empty(&self) -> bool {
        self.upstream.is_empty()
            && self.downstream.is_empty()
            && self.column_sources.is_empty()
            && self.column_targets.is_empty()
    }
}

fn pipeline_names(conn: &mut AnyConnection, ids: &HashSet<i64>) -> QueryResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<(i64, String)> =
            pipelines::table.filter(pipelines::id.eq_any(chunk)).select((pipelines::id, pipelines::name)).load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Groups `(other dataset, pipeline, statement)` rows by dataset, in qualified-name order.
fn neighbours(
    rows: Vec<(i64, i64, i32)>,
    datasets: &HashMap<i64, DatasetRef>,
    pipelines: &HashMap<i64, String>,
) -> Vec<Neighbour> {
    let mut grouped: Vec<Neighbour> = Vec::new();
    let mut index: HashMap<i64, usize> = HashMap::new();
    for (dataset_id, pipeline_id, statement_index) in rows {
        let Some(dataset) = datasets.get(&dataset_id) else { continue };
        let via = Via {
            pipeline_id,
            pipeline_name: pipelines.get(&pipeline_id).cloned().unwrap_or_default(),
            statement_index,
        };
        match index.get(&dataset_id) {
            Some(&i) => {
                if !grouped[i].via.contains(&via) {
                    grouped[i].via.push(via);
                }
            }
            None => {
                index.insert(dataset_id, grouped.len());
                grouped.push(Neighbour { dataset: dataset.clone(), via: vec![via] });
            }
        }
    }
    grouped.sort_by(|a, b| a.dataset.qualified().cmp(&b.dataset.qualified()).then(a.dataset.id.cmp(&b.dataset.id)));
    for n in &mut grouped {
        n.via.sort_by(|a, b| a.pipeline_name.cmp(&b.pipeline_name).then(a.statement_index.cmp(&b.statement_index)));
    }
    grouped
}

/// Upstream and downstream datasets of `dataset_id` (one step each way) and the column edges
/// into and out of its columns, each with the pipeline statement that produced it. At most
/// `limit` edges are read per list.
pub fn dataset_lineage(conn: &mut AnyConnection, dataset_id: i64, limit: i64) -> QueryResult<DatasetLineage> {
    let up: Vec<(i64, i64, i32)> = lineage_edges::table
        .filter(lineage_edges::to_dataset_id.eq(dataset_id))
        .order(lineage_edges::id)
        .limit(limit + 1)
        .select((lineage_edges::from_dataset_id, lineage_edges::pipeline_id, lineage_edges::statement_index))
        .load(conn)?;
    let down: Vec<(i64, i64, i32)> = lineage_edges::table
        .filter(lineage_edges::from_dataset_id.eq(dataset_id))
        .order(lineage_edges::id)
        .limit(limit + 1)
        .select((lineage_edges::to_dataset_id, lineage_edges::pipeline_id, lineage_edges::statement_index))
        .load(conn)?;
    let column_ids: Vec<i64> = dataset_columns::table
        .filter(dataset_columns::dataset_id.eq(dataset_id))
        .select(dataset_columns::id)
        .load(conn)?;
    let mut into: Vec<ColumnEdgeIds> = Vec::new();
    let mut out_of: Vec<ColumnEdgeIds> = Vec::new();
    for chunk in column_ids.chunks(ID_CHUNK) {
        into.extend(column_edges_where(conn, ColumnEnd::To, chunk, limit + 1)?);
        out_of.extend(column_edges_where(conn, ColumnEnd::From, chunk, limit + 1)?);
    }
    let truncated = [up.len(), down.len(), into.len(), out_of.len()].iter().any(|n| *n as i64 > limit);
    let cut = |mut v: Vec<(i64, i64, i32)>| {
        v.truncate(limit as usize);
        v
    };
    let (up, down) = (cut(up), cut(down));
    into.truncate(limit as usize);
    out_of.truncate(limit as usize);

    let mut dataset_ids: HashSet<i64> = up.iter().chain(&down).map(|r| r.0).collect();
    dataset_ids.insert(dataset_id);
    let pipeline_ids: HashSet<i64> =
        up.iter().chain(&down).map(|r| r.1).chain(into.iter().chain(&out_of).map(|e| e.pipeline_id)).collect();
    let datasets = load_datasets(conn, &dataset_ids)?;
    let pipelines = pipeline_names(conn, &pipeline_ids)?;
    let (column_sources, column_targets) = column_links(conn, into, out_of, &pipelines)?;
    Ok(DatasetLineage {
        upstream: neighbours(up, &datasets, &pipelines),
        downstream: neighbours(down, &datasets, &pipelines),
        column_sources,
        column_targets,
        truncated,
    })
}

/// The lineage of one column.
#[derive(Clone, Debug)]
pub struct ColumnLineage {
    pub column: ColumnRef,
    /// Edges into the column: what it is derived from.
    pub sources: Vec<ColumnLink>,
    /// Edges out of the column: what is derived from it.
    pub targets: Vec<ColumnLink>,
}

/// The edges into and out of one column, each with its statement. `None` when there is no such
/// column.
pub fn column_lineage(conn: &mut AnyConnection, column_id: i64, limit: i64) -> QueryResult<Option<ColumnLineage>> {
    let found = load_columns(conn, &HashSet::from([column_id]))?;
    let Some(column) = found.get(&column_id).cloned() else {
        return Ok(None);
    };
    let into = column_edges_where(conn, ColumnEnd::To, &[column_id], limit)?;
    let out_of = column_edges_where(conn, ColumnEnd::From, &[column_id], limit)?;
    let pipeline_ids: HashSet<i64> = into.iter().chain(&out_of).map(|e| e.pipeline_id).collect();
    let pipelines = pipeline_names(conn, &pipeline_ids)?;
    let (sources, targets) = column_links(conn, into, out_of, &pipelines)?;
    Ok(Some(ColumnLineage { column, sources, targets }))
}

#[derive(Clone, Copy)]
enum ColumnEnd {
    From,
    To,
}

struct ColumnEdgeIds {
    pipeline_id: i64,
    statement_index: i32,
    from: i64,
    to: i64,
    kind: String,
}

fn column_edges_where(
    conn: &mut AnyConnection,
    end: ColumnEnd,
    column_ids: &[i64],
    limit: i64,
) -> QueryResult<Vec<ColumnEdgeIds>> {
    let select = (
        column_lineage_edges::pipeline_id,
        column_lineage_edges::statement_index,
        column_lineage_edges::from_column_id,
        column_lineage_edges::to_column_id,
        column_lineage_edges::kind,
    );
    let rows: Vec<(i64, i32, i64, i64, String)> = match end {
        ColumnEnd::From => column_lineage_edges::table
            .filter(column_lineage_edges::from_column_id.eq_any(column_ids))
            .order(column_lineage_edges::id)
            .limit(limit)
            .select(select)
            .load(conn)?,
        ColumnEnd::To => column_lineage_edges::table
            .filter(column_lineage_edges::to_column_id.eq_any(column_ids))
            .order(column_lineage_edges::id)
            .limit(limit)
            .select(select)
            .load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|(pipeline_id, statement_index, from, to, kind)| ColumnEdgeIds {
            pipeline_id,
            statement_index,
            from,
            to,
            kind,
        })
        .collect())
}

fn column_links(
    conn: &mut AnyConnection,
    into: Vec<ColumnEdgeIds>,
    out_of: Vec<ColumnEdgeIds>,
    pipelines: &HashMap<i64, String>,
) -> QueryResult<(Vec<ColumnLink>, Vec<ColumnLink>)> {
    let ids: HashSet<i64> = into.iter().chain(&out_of).flat_map(|e| [e.from, e.to]).collect();
    let columns = load_columns(conn, &ids)?;
    let link = |e: ColumnEdgeIds| {
        Some(ColumnLink {
            from: columns.get(&e.from)?.clone(),
            to: columns.get(&e.to)?.clone(),
            kind: e.kind,
            via: Via {
                pipeline_id: e.pipeline_id,
                pipeline_name: pipelines.get(&e.pipeline_id).cloned().unwrap_or_default(),
                statement_index: e.statement_index,
            },
        })
    };
    let order = |a: &ColumnLink, b: &ColumnLink| {
        (a.to.dataset.qualified(), &a.to.name, a.from.dataset.qualified(), &a.from.name, a.via.statement_index).cmp(&(
            b.to.dataset.qualified(),
            &b.to.name,
            b.from.dataset.qualified(),
            &b.from.name,
            b.via.statement_index,
        ))
    };
    let mut sources: Vec<ColumnLink> = into.into_iter().filter_map(link).collect();
    let mut targets: Vec<ColumnLink> = out_of.into_iter().filter_map(link).collect();
    sources.sort_by(order);
    targets.sort_by(order);
    Ok((sources, targets))
}

// ---------------------------------------------------------------------------------------------
// Matching names to datasets and columns, and creating referenced ones

/// A dataset as name matching needs it.
#[derive(Queryable, Clone, Debug, PartialEq, Eq)]
pub struct DatasetKey {
    pub id: i64,
    pub source_id: i64,
    pub schema_name: String,
    pub name: String,
    pub kind: String,
}

diesel::define_sql_function! {
    /// Lower-cases text (both backends spell it `lower`).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Datasets of `source_id` whose (schema, name) is one of `keys`, exactly.
pub fn find_datasets_exact(
    conn: &mut AnyConnection,
    source_id: i64,
    keys: &[(String, String)],
) -> QueryResult<Vec<DatasetKey>> {
    let wanted: HashSet<(&str, &str)> = keys.iter().map(|(s, n)| (s.as_str(), n.as_str())).collect();
    let schemas: Vec<&str> = wanted.iter().map(|k| k.0).collect::<HashSet<_>>().into_iter().collect();
    let names: Vec<&str> = wanted.iter().map(|k| k.1).collect::<HashSet<_>>().into_iter().collect();
    let mut out = Vec::new();
    for chunk in names.chunks(ID_CHUNK) {
        let rows: Vec<DatasetKey> = datasets::table
            .filter(datasets::source_id.eq(source_id))
            .filter(datasets::schema_name.eq_any(&schemas))
            .filter(datasets::name.eq_any(chunk))
            .select((datasets::id, datasets::source_id, datasets::schema_name, datasets::name, datasets::kind))
            .load(conn)?;
        out.extend(rows.into_iter().filter(|d| wanted.contains(&(d.schema_name.as_str(), d.name.as_str()))));
    }
    Ok(out)
}

/// Datasets of `source_id` whose name is one of `names` in any case (names given lower-case).
pub fn find_datasets_any_case(
    conn: &mut AnyConnection,
    source_id: i64,
    names: &[String],
) -> QueryResult<Vec<DatasetKey>> {
    let mut out = Vec::new();
    for chunk in names.chunks(ID_CHUNK) {
        out.extend(
            datasets::table
                .filter(datasets::source_id.eq(source_id))
                .filter(lower(datasets::name).eq_any(chunk))
                .select((datasets::id, datasets::source_id, datasets::schema_name, datasets::name, datasets::kind))
                .load::<DatasetKey>(conn)?,
        );
    }
    Ok(out)
}

/// Creates referenced datasets (a name that exists already is left alone); returns how many were
/// created.
pub fn create_referenced_datasets(
    conn: &mut AnyConnection,
    source_id: i64,
    keys: &[(String, String)],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<NewDataset> = keys
        .iter()
        .map(|(schema, name)| NewDataset {
            source_id,
            schema_name: schema.clone(),
            name: name.clone(),
            // A file or bucket path (`COPY … TO 's3://…'`, `UNLOAD`) leaves the databases:
            // an external dataset, whose recipients erasure notifies.
            kind: if is_path(name) { EXTERNAL } else { REFERENCED }.to_owned(),
            source_comment: None,
            definition: None,
            row_estimate: None,
            status: ACTIVE.to_owned(),
            created_at: now,
            updated_at: now,
            last_crawled_at: None,
        })
        .collect();
    let mut created = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        created += dialect::insert_datasets_if_absent(conn, chunk)?;
    }
    Ok(created)
}

/// A column as name matching needs it.
#[derive(Queryable, Clone, Debug, PartialEq, Eq)]
pub struct ColumnKey {
    pub id: i64,
    pub dataset_id: i64,
    pub name: String,
    pub ordinal: i32,
}

pub fn columns_of_datasets(conn: &mut AnyConnection, dataset_ids: &[i64]) -> QueryResult<Vec<ColumnKey>> {
    let mut out = Vec::new();
    for chunk in dataset_ids.chunks(ID_CHUNK) {
        out.extend(
            dataset_columns::table
                .filter(dataset_columns::dataset_id.eq_any(chunk))
                .order((dataset_columns::dataset_id, dataset_columns::ordinal, dataset_columns::id))
                .select((
                    dataset_columns::id,
                    dataset_columns::dataset_id,
                    dataset_columns::name,
                    dataset_columns::ordinal,
                ))
                .load::<ColumnKey>(conn)?,
        );
    }
    Ok(out)
}

/// Active columns of active datasets, by dataset: the schema knowledge a crawl gives.
pub fn active_column_names(conn: &mut AnyConnection, dataset_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in dataset_ids.chunks(ID_CHUNK) {
        let rows: Vec<(i64, String)> = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq_any(chunk))
            .filter(dataset_columns::status.eq(ACTIVE))
            .order((dataset_columns::dataset_id, dataset_columns::ordinal, dataset_columns::id))
            .select((dataset_columns::dataset_id, dataset_columns::name))
            .load(conn)?;
        for (id, name) in rows {
            out.entry(id).or_default().push(name);
        }
    }
    Ok(out)
}

/// Creates columns that lineage revealed on referenced datasets (`(dataset, name, ordinal)`);
/// a name that exists already is left alone. Returns how many were created.
pub fn create_referenced_columns(
    conn: &mut AnyConnection,
    columns: &[(i64, String, i32)],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let rows: Vec<NewColumn> = columns
        .iter()
        .map(|(dataset_id, name, ordinal)| NewColumn {
            dataset_id: *dataset_id,
            ordinal: *ordinal,
            name: name.clone(),
            // Unknown until a crawl says.
            data_type: String::new(),
            nullable: true,
            is_primary_key: false,
            default_value: None,
            source_comment: None,
            status: ACTIVE.to_owned(),
            created_at: now,
            updated_at: now,
        })
        .collect();
    let mut created = 0;
    for chunk in rows.chunks(INSERT_CHUNK) {
        created += dialect::insert_columns_if_absent(conn, chunk)?;
    }
    Ok(created)
}

/// Adds to a source's dataset and column counts (kept by crawls, and by ingests that create
/// referenced datasets and columns).
pub fn bump_source_counts(conn: &mut AnyConnection, source_id: i64, datasets: i64, columns: i64) -> QueryResult<()> {
    if datasets == 0 && columns == 0 {
        return Ok(());
    }
    diesel::update(sources::table.find(source_id))
        .set((
            sources::dataset_count.eq(sources::dataset_count + datasets),
            sources::column_count.eq(sources::column_count + columns),
        ))
        .execute(conn)?;
    Ok(())
}

/// A pipeline and the datasets it reads and writes, as the records of processing name them.
#[derive(Clone, Debug)]
pub struct PipelineDatasets {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub source_id: i64,
    pub reads: Vec<i64>,
    pub writes: Vec<i64>,
}

/// Every pipeline with the datasets it reads and writes (each once, in id order).
pub fn pipeline_datasets(conn: &mut AnyConnection) -> QueryResult<Vec<PipelineDatasets>> {
    let pipelines: Vec<(i64, String, String, i64)> = pipelines::table
        .order(pipelines::name)
        .select((pipelines::id, pipelines::name, pipelines::path, pipelines::source_id))
        .load(conn)?;
    let tables: Vec<(i64, String, i64)> = pipeline_tables::table
        .filter(pipeline_tables::dataset_id.is_not_null())
        .select((pipeline_tables::pipeline_id, pipeline_tables::access, pipeline_tables::dataset_id.assume_not_null()))
        .distinct()
        .load(conn)?;
    let mut by_pipeline: HashMap<i64, (Vec<i64>, Vec<i64>)> = HashMap::new();
    for (pipeline, how, dataset) in tables {
        let entry = by_pipeline.entry(pipeline).or_default();
        let list = if how == access::WRITE { &mut entry.1 } else { &mut entry.0 };
        if !list.contains(&dataset) {
            list.push(dataset);
        }
    }
    Ok(pipelines
        .into_iter()
        .map(|(id, name, path, source_id)| {
            let (mut reads, mut writes) = by_pipeline.remove(&id).unwrap_or_default();
            reads.sort_unstable();
            writes.sort_unstable();
            PipelineDatasets { id, name, path, source_id, reads, writes }
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Runs reported by OpenLineage

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = super::schema::pipeline_runs)]
pub struct PipelineRun {
    pub id: i64,
    pub pipeline_id: i64,
    pub run_id: String,
    pub state: String,
    pub producer: String,
    pub started_at: Option<NaiveDateTime>,
    pub ended_at: Option<NaiveDateTime>,
    pub last_event_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

/// Records an event of a run: creates the run on its first event; a START dates its start, a
/// COMPLETE, FAIL or ABORT its end. Events may arrive out of order: a run that has ended keeps
/// its final state when a late START or RUNNING arrives.
pub fn record_run_event(
    conn: &mut AnyConnection,
    pipeline_id: i64,
    run_id: &str,
    state: &str,
    at: NaiveDateTime,
    producer: &str,
    now: NaiveDateTime,
) -> QueryResult<PipelineRun> {
    use super::schema::pipeline_runs as r;
    let terminal = matches!(state, "COMPLETE" | "FAIL" | "ABORT");
    let existing: Option<PipelineRun> = r::table
        .filter(r::pipeline_id.eq(pipeline_id))
        .filter(r::run_id.eq(run_id))
        .select(PipelineRun::as_select())
        .first(conn)
        .optional()?;
    match existing {
        None => {
            diesel::insert_into(r::table)
                .values((
                    r::pipeline_id.eq(pipeline_id),
                    r::run_id.eq(run_id),
                    r::state.eq(state),
                    r::producer.eq(producer),
                    r::started_at.eq((state == "START" || !terminal).then_some(at)),
                    r::ended_at.eq(terminal.then_some(at)),
                    r::last_event_at.eq(at),
                    r::created_at.eq(now),
                ))
                .execute(conn)?;
        }
        Some(run) => {
            let ended = matches!(run.state.as_str(), "COMPLETE" | "FAIL" | "ABORT");
            let new_state = if ended && !terminal { run.state.clone() } else { state.to_owned() };
            let started = match (run.started_at, state == "START") {
                (Some(s), true) => Some(s.min(at)),
                (None, true) => Some(at),
                (s, false) => s,
            };
            let ended_at = if terminal { Some(run.ended_at.map_or(at, |e| e.max(at))) } else { run.ended_at };
            diesel::update(r::table.find(run.id))
                .set((
                    r::state.eq(new_state),
                    r::started_at.eq(started),
                    r::ended_at.eq(ended_at),
                    r::last_event_at.eq(run.last_event_at.max(at)),
                ))
                .execute(conn)?;
        }
    }
    r::table
        .filter(r::pipeline_id.eq(pipeline_id))
        .filter(r::run_id.eq(run_id))
        .select(PipelineRun::as_select())
        .first(conn)
}

/// A pipeline's runs, newest first.
pub fn runs_of_pipeline(conn: &mut AnyConnection, pipeline_id: i64, limit: i64) -> QueryResult<Vec<PipelineRun>> {
    use super::schema::pipeline_runs as r;
    r::table
        .filter(r::pipeline_id.eq(pipeline_id))
        .order(r::last_event_at.desc())
        .limit(limit)
        .select(PipelineRun::as_select())
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// Descriptions written by dbt

/// The description dbt last wrote on a dataset or column, if any.
pub fn dbt_documentation(conn: &mut AnyConnection, object_type: &str, object_id: i64) -> QueryResult<Option<String>> {
    use super::schema::dbt_documentation as d;
    d::table.find((object_type, object_id)).select(d::description).first(conn).optional()
}

/// Records the description dbt wrote.
pub fn set_dbt_documentation(
    conn: &mut AnyConnection,
    object_type: &str,
    object_id: i64,
    description: &str,
) -> QueryResult<()> {
    use super::schema::dbt_documentation as d;
    diesel::delete(d::table.find((object_type, object_id))).execute(conn)?;
    diesel::insert_into(d::table)
        .values((d::object_type.eq(object_type), d::object_id.eq(object_id), d::description.eq(description)))
        .execute(conn)?;
    Ok(())
}
