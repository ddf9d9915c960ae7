//! Batched reads for lineage graphs and impact analysis: the table or column edges touching a
//! frontier of nodes (one query per chunk of ids), and what a drawing or an impact list shows of
//! the datasets and columns reached. Traversal itself is in `crate::graph`.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::AnyConnection;
use super::models::ACTIVE;
use super::propagation::CATEGORY;
use super::schema::{
    column_categories, column_lineage_edges, dataset_columns, datasets, lineage_edges, pipelines, propagated_tags,
    sources,
};
use crate::graph::{Direction, Edge};

/// Ids per `IN (…)` list (below SQLite's default limit on bound parameters).
const CHUNK: usize = 900;

/// Dataset edges into (upstream) or out of (downstream) the given datasets, labelled with their
/// pipeline; each (from, to, pipeline) once.
pub fn table_edges(conn: &mut AnyConnection, ids: &[i64], direction: Direction) -> QueryResult<Vec<Edge>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let q = lineage_edges::table
            .select((lineage_edges::from_dataset_id, lineage_edges::to_dataset_id, lineage_edges::pipeline_id))
            .distinct();
        let rows: Vec<(i64, i64, i64)> = match direction {
            Direction::Downstream => q.filter(lineage_edges::from_dataset_id.eq_any(chunk)).load(conn)?,
            Direction::Upstream => q.filter(lineage_edges::to_dataset_id.eq_any(chunk)).load(conn)?,
        };
        out.extend(rows.into_iter().map(|(from, to, label)| Edge { from, to, label }));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Column edges into or out of the given columns, labelled with their pipeline.
pub fn column_edges(conn: &mut AnyConnection, ids: &[i64], direction: Direction) -> QueryResult<Vec<Edge>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let q = column_lineage_edges::table
            .select((
                column_lineage_edges::from_column_id,
                column_lineage_edges::to_column_id,
                column_lineage_edges::pipeline_id,
            ))
            .distinct();
        let rows: Vec<(i64, i64, i64)> = match direction {
            Direction::Downstream => q.filter(column_lineage_edges::from_column_id.eq_any(chunk)).load(conn)?,
            Direction::Upstream => q.filter(column_lineage_edges::to_column_id.eq_any(chunk)).load(conn)?,
        };
        out.extend(rows.into_iter().map(|(from, to, label)| Edge { from, to, label }));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A dataset as a graph node or an impact row shows it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct NodeInfo {
    pub id: i64,
    pub source_id: i64,
    pub source: String,
    pub schema: String,
    pub name: String,
    pub kind: String,
    pub level_rank: Option<i32>,
}

impl NodeInfo {
    /// `schema.name`, or the name alone.
    pub fn qualified(&self) -> String {
        if self.schema.is_empty() { self.name.clone() } else { format!("{}.{}", self.schema, self.name) }
    }
}

pub fn datasets(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, NodeInfo>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<NodeInfo> = datasets::table
            .inner_join(sources::table)
            .filter(datasets::id.eq_any(chunk))
            .select((
                datasets::id,
                datasets::source_id,
                sources::name,
                datasets::schema_name,
                datasets::name,
                datasets::kind,
                datasets::level_rank,
            ))
            .load(conn)?;
        out.extend(rows.into_iter().map(|n| (n.id, n)));
    }
    Ok(out)
}

/// Which of these datasets hold a personal-data column.
pub fn personal(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashSet<i64>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<i64> = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq_any(chunk))
            .filter(dataset_columns::personal_data.eq(true))
            .select(dataset_columns::dataset_id)
            .distinct()
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// A column as a graph node or an impact row shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub id: i64,
    pub dataset_id: i64,
    pub name: String,
    pub ordinal: i32,
    pub personal: bool,
}

/// The active columns of these datasets, in ordinal order.
pub fn columns_of(conn: &mut AnyConnection, dataset_ids: &[i64]) -> QueryResult<Vec<ColumnInfo>> {
    let mut out = Vec::new();
    for chunk in dataset_ids.chunks(CHUNK) {
        let rows: Vec<(i64, i64, String, i32, bool)> = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq_any(chunk))
            .filter(dataset_columns::status.eq(ACTIVE))
            .select((
                dataset_columns::id,
                dataset_columns::dataset_id,
                dataset_columns::name,
                dataset_columns::ordinal,
                dataset_columns::personal_data,
            ))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, dataset_id, name, ordinal, personal)| ColumnInfo {
            id,
            dataset_id,
            name,
            ordinal,
            personal,
        }));
    }
    out.sort_by_key(|c| (c.dataset_id, c.ordinal, c.id));
    Ok(out)
}

/// These columns (any status).
pub fn columns(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, ColumnInfo>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, i64, String, i32, bool)> = dataset_columns::table
            .filter(dataset_columns::id.eq_any(chunk))
            .select((
                dataset_columns::id,
                dataset_columns::dataset_id,
                dataset_columns::name,
                dataset_columns::ordinal,
                dataset_columns::personal_data,
            ))
            .load(conn)?;
        for (id, dataset_id, name, ordinal, personal) in rows {
            out.insert(id, ColumnInfo { id, dataset_id, name, ordinal, personal });
        }
    }
    Ok(out)
}

/// The personal-data categories of these columns, confirmed or propagated, smallest id first.
pub fn categories(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<i64>>> {
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for chunk in column_ids.chunks(CHUNK) {
        let confirmed: Vec<(i64, i64)> = column_categories::table
            .filter(column_categories::column_id.eq_any(chunk))
            .select((column_categories::column_id, column_categories::category_id))
            .load(conn)?;
        let propagated: Vec<(i64, i64)> = propagated_tags::table
            .filter(propagated_tags::column_id.eq_any(chunk))
            .filter(propagated_tags::tag_kind.eq(CATEGORY))
            .select((propagated_tags::column_id, propagated_tags::tag_value))
            .load(conn)?;
        for (column, category) in confirmed.into_iter().chain(propagated) {
            let list = out.entry(column).or_default();
            if !list.contains(&category) {
                list.push(category);
            }
        }
    }
    for list in out.values_mut() {
        list.sort_unstable();
    }
    Ok(out)
}

pub fn pipeline_names(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, String)> =
            pipelines::table.filter(pipelines::id.eq_any(chunk)).select((pipelines::id, pipelines::name)).load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}
