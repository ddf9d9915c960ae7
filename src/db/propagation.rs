//! Repository for propagation along column lineage: the column edges and blocks the engine reads,
//! the confirmed tags it starts from, the propagated tags it writes (replacing a column's rows
//! only when they changed), and provenance for pages. The rules live in
//! `governance::propagation`; `crate::propagation` decides when to recompute.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::dialect;
use super::schema::{
    classification_levels, column_categories, column_classifications, column_lineage_edges, dataset_columns, datasets,
    governance_settings, lineage_blocks, personal_data_categories, pipelines, propagated_tags,
};

/// Rows per `IN (…)` list.
const CHUNK: usize = 500;
/// Rows per multi-row insert (8 values each, under SQLite's 32,766 parameters).
const INSERT_CHUNK: usize = 2_000;

pub const CATEGORY: &str = "category";
pub const IDENTIFIER: &str = "identifier";
pub const LEVEL: &str = "level";

/// The setting that lets tags flow through aggregates.
pub const THROUGH_AGGREGATES: &str = "propagation.through_aggregates";

/// A column-lineage edge as the engine needs it.
#[derive(Queryable, Clone, Debug, PartialEq, Eq)]
pub struct EdgeRow {
    pub id: i64,
    pub from_column_id: i64,
    pub to_column_id: i64,
    pub kind: String,
    pub pipeline_id: i64,
    pub statement_index: i32,
}

/// A propagated tag, as stored.
#[derive(Queryable, Insertable, Clone, Debug, PartialEq, Eq)]
#[diesel(table_name = propagated_tags)]
pub struct PropagatedTag {
    pub column_id: i64,
    pub tag_kind: String,
    pub tag_value: i64,
    pub source_column_id: i64,
    pub pipeline_id: i64,
    pub statement_index: i32,
    pub hops: i32,
    pub path: String,
}

impl PropagatedTag {
    /// The column ids travelled, source first.
    pub fn path_ids(&self) -> Vec<i64> {
        self.path.split(',').filter_map(|s| s.parse().ok()).collect()
    }
}

type EdgeColumns = (
    column_lineage_edges::id,
    column_lineage_edges::from_column_id,
    column_lineage_edges::to_column_id,
    column_lineage_edges::kind,
    column_lineage_edges::pipeline_id,
    column_lineage_edges::statement_index,
);

const EDGE_COLUMNS: EdgeColumns = (
    column_lineage_edges::id,
    column_lineage_edges::from_column_id,
    column_lineage_edges::to_column_id,
    column_lineage_edges::kind,
    column_lineage_edges::pipeline_id,
    column_lineage_edges::statement_index,
);

/// Every column edge.
pub fn all_edges(conn: &mut AnyConnection) -> QueryResult<Vec<EdgeRow>> {
    column_lineage_edges::table.select(EDGE_COLUMNS).load(conn)
}

/// The edges leaving these columns.
pub fn edges_from(conn: &mut AnyConnection, columns: &[i64]) -> QueryResult<Vec<EdgeRow>> {
    let mut out = Vec::new();
    for chunk in columns.chunks(CHUNK) {
        out.extend(
            column_lineage_edges::table
                .filter(column_lineage_edges::from_column_id.eq_any(chunk))
                .select(EDGE_COLUMNS)
                .load::<EdgeRow>(conn)?,
        );
    }
    Ok(out)
}

/// The edges entering these columns.
pub fn edges_into(conn: &mut AnyConnection, columns: &[i64]) -> QueryResult<Vec<EdgeRow>> {
    let mut out = Vec::new();
    for chunk in columns.chunks(CHUNK) {
        out.extend(
            column_lineage_edges::table
                .filter(column_lineage_edges::to_column_id.eq_any(chunk))
                .select(EDGE_COLUMNS)
                .load::<EdgeRow>(conn)?,
        );
    }
    Ok(out)
}

/// The targets of a pipeline's column edges.
pub fn pipeline_targets(conn: &mut AnyConnection, pipeline_id: i64) -> QueryResult<Vec<i64>> {
    column_lineage_edges::table
        .filter(column_lineage_edges::pipeline_id.eq(pipeline_id))
        .select(column_lineage_edges::to_column_id)
        .distinct()
        .load(conn)
}

/// Blocked (from, to) column pairs.
pub fn blocked_pairs(conn: &mut AnyConnection) -> QueryResult<HashSet<(i64, i64)>> {
    Ok(lineage_blocks::table
        .select((lineage_blocks::from_column_id, lineage_blocks::to_column_id))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .collect())
}

/// A block on one column pair.
#[derive(Queryable, Clone, Debug)]
pub struct Block {
    pub from_column_id: i64,
    pub to_column_id: i64,
    pub reason: String,
    pub blocked_by: String,
    pub blocked_at: NaiveDateTime,
}

pub fn find_block(conn: &mut AnyConnection, from: i64, to: i64) -> QueryResult<Option<Block>> {
    lineage_blocks::table.find((from, to)).first(conn).optional()
}

/// Blocks on the edges into these columns.
pub fn blocks_into(conn: &mut AnyConnection, columns: &[i64]) -> QueryResult<Vec<Block>> {
    let mut out = Vec::new();
    for chunk in columns.chunks(CHUNK) {
        out.extend(lineage_blocks::table.filter(lineage_blocks::to_column_id.eq_any(chunk)).load::<Block>(conn)?);
    }
    Ok(out)
}

pub fn insert_block(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    reason: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(lineage_blocks::table)
        .values((
            lineage_blocks::from_column_id.eq(from),
            lineage_blocks::to_column_id.eq(to),
            lineage_blocks::reason.eq(reason),
            lineage_blocks::blocked_by.eq(by),
            lineage_blocks::blocked_at.eq(now),
        ))
        .execute(conn)
}

pub fn delete_block(conn: &mut AnyConnection, from: i64, to: i64) -> QueryResult<usize> {
    diesel::delete(lineage_blocks::table.find((from, to))).execute(conn)
}

/// Whether any edge runs from `from` to `to`.
pub fn edge_exists(conn: &mut AnyConnection, from: i64, to: i64) -> QueryResult<bool> {
    let n: i64 = column_lineage_edges::table
        .filter(column_lineage_edges::from_column_id.eq(from))
        .filter(column_lineage_edges::to_column_id.eq(to))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The tags columns hold of their own: confirmed categories, identifier marks, and each column's
/// own level (its confirmed level, else the highest default level of its categories). `None`
/// reads every column.
#[derive(Clone, Debug, Default)]
pub struct OwnTags {
    pub categories: Vec<(i64, i64)>,
    pub identifiers: Vec<(i64, i64)>,
    pub levels: Vec<(i64, i32)>,
}

pub fn own_tags(conn: &mut AnyConnection, columns: Option<&[i64]>) -> QueryResult<OwnTags> {
    let ranks: HashMap<i64, i32> = classification_levels::table
        .select((classification_levels::id, classification_levels::rank))
        .load::<(i64, i32)>(conn)?
        .into_iter()
        .collect();
    let defaults: HashMap<i64, i32> = personal_data_categories::table
        .select((personal_data_categories::id, personal_data_categories::default_level_rank))
        .load::<(i64, Option<i32>)>(conn)?
        .into_iter()
        .filter_map(|(id, rank)| rank.map(|r| (id, r)))
        .collect();
    let mut categories: Vec<(i64, i64)> = Vec::new();
    let mut confirmed: Vec<(i64, Option<i64>, Option<i64>)> = Vec::new();
    let category_query =
        || column_categories::table.select((column_categories::column_id, column_categories::category_id));
    let classification_query = || {
        column_classifications::table.select((
            column_classifications::column_id,
            column_classifications::level_id,
            column_classifications::identifier_type_id,
        ))
    };
    match columns {
        None => {
            categories = category_query().load(conn)?;
            confirmed = classification_query().load(conn)?;
        }
        Some(columns) => {
            for chunk in columns.chunks(CHUNK) {
                categories.extend(
                    category_query().filter(column_categories::column_id.eq_any(chunk)).load::<(i64, i64)>(conn)?,
                );
                confirmed.extend(
                    classification_query().filter(column_classifications::column_id.eq_any(chunk)).load::<(
                        i64,
                        Option<i64>,
                        Option<i64>,
                    )>(
                        conn
                    )?,
                );
            }
        }
    }
    let mut level: HashMap<i64, i32> = HashMap::new();
    for (column, category) in &categories {
        if let Some(rank) = defaults.get(category) {
            let e = level.entry(*column).or_insert(*rank);
            *e = (*e).max(*rank);
        }
    }
    let mut identifiers = Vec::new();
    for (column, level_id, identifier) in confirmed {
        // A confirmed level is the column's own level, even below its categories' defaults.
        if let Some(rank) = level_id.and_then(|id| ranks.get(&id)) {
            level.insert(column, *rank);
        }
        if let Some(identifier) = identifier {
            identifiers.push((column, identifier));
        }
    }
    let mut levels: Vec<(i64, i32)> = level.into_iter().collect();
    levels.sort_unstable();
    Ok(OwnTags { categories, identifiers, levels })
}

/// The propagated tags of these columns (`None`: all).
pub fn propagated_of(conn: &mut AnyConnection, columns: Option<&[i64]>) -> QueryResult<Vec<PropagatedTag>> {
    match columns {
        None => propagated_tags::table.load(conn),
        Some(columns) => {
            let mut out = Vec::new();
            for chunk in columns.chunks(CHUNK) {
                out.extend(
                    propagated_tags::table
                        .filter(propagated_tags::column_id.eq_any(chunk))
                        .load::<PropagatedTag>(conn)?,
                );
            }
            Ok(out)
        }
    }
}

/// Deletes the propagated tags of `columns` (the changed columns that had some) and inserts `rows`.
pub fn replace(conn: &mut AnyConnection, columns: &[i64], rows: &[PropagatedTag]) -> QueryResult<()> {
    for chunk in columns.chunks(CHUNK) {
        diesel::delete(propagated_tags::table.filter(propagated_tags::column_id.eq_any(chunk))).execute(conn)?;
    }
    for chunk in rows.chunks(INSERT_CHUNK) {
        dialect::insert_propagated_tags(conn, chunk)?;
    }
    Ok(())
}

/// A setting's value, if someone set it.
pub fn setting(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<String>> {
    governance_settings::table.find(key).select(governance_settings::value).first(conn).optional()
}

pub fn set_setting(conn: &mut AnyConnection, key: &str, value: &str, by: &str, now: NaiveDateTime) -> QueryResult<()> {
    let n = diesel::update(governance_settings::table.find(key))
        .set((
            governance_settings::value.eq(value),
            governance_settings::updated_at.eq(now),
            governance_settings::updated_by.eq(by),
        ))
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(governance_settings::table)
            .values((
                governance_settings::key.eq(key),
                governance_settings::value.eq(value),
                governance_settings::updated_at.eq(now),
                governance_settings::updated_by.eq(by),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A column named for people: `source.schema.table.column` parts and its dataset.
#[derive(Queryable, Clone, Debug)]
pub struct ColumnName {
    pub id: i64,
    pub name: String,
    pub dataset_id: i64,
    pub schema_name: String,
    pub dataset_name: String,
}

impl ColumnName {
    pub fn qualified(&self) -> String {
        if self.schema_name.is_empty() {
            format!("{}.{}", self.dataset_name, self.name)
        } else {
            format!("{}.{}.{}", self.schema_name, self.dataset_name, self.name)
        }
    }
}

pub fn column_names(conn: &mut AnyConnection, ids: &BTreeSet<i64>) -> QueryResult<HashMap<i64, ColumnName>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<ColumnName> = dataset_columns::table
            .inner_join(datasets::table)
            .filter(dataset_columns::id.eq_any(chunk))
            .select((dataset_columns::id, dataset_columns::name, datasets::id, datasets::schema_name, datasets::name))
            .load(conn)?;
        out.extend(rows.into_iter().map(|c| (c.id, c)));
    }
    Ok(out)
}

pub fn pipeline_names(conn: &mut AnyConnection, ids: &BTreeSet<i64>) -> QueryResult<HashMap<i64, String>> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            pipelines::table.filter(pipelines::id.eq_any(chunk)).select((pipelines::id, pipelines::name)).load::<(
                i64,
                String,
            )>(
                conn
            )?,
        );
    }
    Ok(out)
}
