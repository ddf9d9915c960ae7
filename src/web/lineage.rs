//! Lineage around a dataset and a column: the view the dataset page shows (upstream and
//! downstream datasets; per column, where it comes from and where it goes, each with its
//! pipeline and statement) and the API's `/datasets/{id}/lineage` and `/columns/{id}/lineage`.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use serde::Serialize;

#[allow(unused_imports)]
use super::openapi::ApiError;
use super::{AppState, read};
use crate::db::AnyConnection;
use crate::db::lineage::{self as repo, ColumnLink, DatasetLineage, DatasetRef, Neighbour, Via};
use crate::error::AppError;

/// Edges read per list for a page or an API answer; more are summarised as "and more".
pub const LIMIT: i64 = 500;

/// A table name, linked to its dataset when it has one.
#[derive(Clone, Debug)]
pub struct TableLink {
    pub name: String,
    pub href: Option<String>,
    /// The dataset was named in SQL and never crawled.
    pub referenced: bool,
}

/// The statement that produced an edge, linked.
#[derive(Clone, Debug)]
pub struct ViaLink {
    pub pipeline: String,
    pub href: String,
    pub statement: i32,
}

fn via_link(v: &Via) -> ViaLink {
    ViaLink {
        pipeline: v.pipeline_name.clone(),
        href: format!("/pipelines/{}#statement-{}", v.pipeline_id, v.statement_index),
        statement: v.statement_index,
    }
}

pub struct NeighbourView {
    pub dataset: TableLink,
    pub source: String,
    pub via: Vec<ViaLink>,
}

/// One column of the dataset with its lineage.
pub struct ColumnLineageView {
    pub column: String,
    pub column_id: i64,
    /// `(dataset, column, kind, via)` it is derived from.
    pub comes_from: Vec<(TableLink, String, String, ViaLink)>,
    /// `(dataset, column, kind, via)` derived from it.
    pub goes_to: Vec<(TableLink, String, String, ViaLink)>,
}

/// What the dataset page shows of lineage.
#[derive(Default)]
pub struct DatasetLineageView {
    pub upstream: Vec<NeighbourView>,
    pub downstream: Vec<NeighbourView>,
    pub columns: Vec<ColumnLineageView>,
    pub truncated: bool,
}

impl DatasetLineageView {
    pub fn is_empty(&self) -> bool {
        self.upstream.is_empty() && self.downstream.is_empty() && self.columns.is_empty()
    }
}

fn dataset_link(d: &DatasetRef) -> TableLink {
    TableLink { name: d.qualified(), href: Some(format!("/datasets/{}", d.id)), referenced: d.kind == repo::REFERENCED }
}

fn neighbour_view(n: &Neighbour) -> NeighbourView {
    NeighbourView {
        dataset: dataset_link(&n.dataset),
        source: n.dataset.source_name.clone(),
        via: n.via.iter().map(via_link).collect(),
    }
}

/// Loads the lineage the dataset page shows.
pub fn load_dataset_lineage(conn: &mut AnyConnection, dataset_id: i64) -> Result<DatasetLineageView, AppError> {
    Ok(view(&repo::dataset_lineage(conn, dataset_id, LIMIT)?, dataset_id))
}

fn column_entry<'a>(
    columns: &'a mut BTreeMap<(String, i64), ColumnLineageView>,
    id: i64,
    name: &str,
) -> &'a mut ColumnLineageView {
    columns.entry((name.to_lowercase(), id)).or_insert_with(|| ColumnLineageView {
        column: name.to_owned(),
        column_id: id,
        comes_from: Vec::new(),
        goes_to: Vec::new(),
    })
}

fn view(l: &DatasetLineage, dataset_id: i64) -> DatasetLineageView {
    // Columns in name order (the page lists them beside the columns table).
    let mut columns: BTreeMap<(String, i64), ColumnLineageView> = BTreeMap::new();
    for e in &l.column_sources {
        if e.to.dataset.id == dataset_id {
            column_entry(&mut columns, e.to.id, &e.to.name).comes_from.push((
                dataset_link(&e.from.dataset),
                e.from.name.clone(),
                e.kind.clone(),
                via_link(&e.via),
            ));
        }
    }
    for e in &l.column_targets {
        if e.from.dataset.id == dataset_id {
            column_entry(&mut columns, e.from.id, &e.from.name).goes_to.push((
                dataset_link(&e.to.dataset),
                e.to.name.clone(),
                e.kind.clone(),
                via_link(&e.via),
            ));
        }
    }
    DatasetLineageView {
        upstream: l.upstream.iter().map(neighbour_view).collect(),
        downstream: l.downstream.iter().map(neighbour_view).collect(),
        columns: columns.into_values().collect(),
        truncated: l.truncated,
    }
}

// ---------------------------------------------------------------------------------------------
// API

/// UTC, to the second, as the API writes times.
pub fn timestamp(t: &chrono::NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[derive(Serialize, Clone, Debug)]
pub struct DatasetJson {
    pub id: i64,
    pub source: String,
    pub schema: String,
    pub name: String,
    pub kind: String,
    pub status: String,
}

pub fn dataset_json(d: &DatasetRef) -> DatasetJson {
    DatasetJson {
        id: d.id,
        source: d.source_name.clone(),
        schema: d.schema_name.clone(),
        name: d.name.clone(),
        kind: d.kind.clone(),
        status: d.status.clone(),
    }
}

#[derive(Serialize)]
struct ViaJson {
    pipeline_id: i64,
    pipeline: String,
    statement: i32,
}

fn via_json(v: &Via) -> ViaJson {
    ViaJson { pipeline_id: v.pipeline_id, pipeline: v.pipeline_name.clone(), statement: v.statement_index }
}

#[derive(Serialize)]
struct NeighbourJson {
    dataset: DatasetJson,
    via: Vec<ViaJson>,
}

fn neighbour_json(n: &Neighbour) -> NeighbourJson {
    NeighbourJson { dataset: dataset_json(&n.dataset), via: n.via.iter().map(via_json).collect() }
}

#[derive(Serialize)]
struct ColumnJson {
    id: i64,
    name: String,
    status: String,
    dataset: DatasetJson,
}

fn column_json(c: &repo::ColumnRef) -> ColumnJson {
    ColumnJson { id: c.id, name: c.name.clone(), status: c.status.clone(), dataset: dataset_json(&c.dataset) }
}

#[derive(Serialize)]
struct ColumnEdgeJson {
    from: ColumnJson,
    to: ColumnJson,
    kind: String,
    via: ViaJson,
}

fn column_edge_json(e: &ColumnLink) -> ColumnEdgeJson {
    ColumnEdgeJson { from: column_json(&e.from), to: column_json(&e.to), kind: e.kind.clone(), via: via_json(&e.via) }
}

#[derive(Serialize)]
struct DatasetLineageJson {
    dataset: DatasetJson,
    upstream: Vec<NeighbourJson>,
    downstream: Vec<NeighbourJson>,
    /// Column edges into this dataset's columns.
    column_sources: Vec<ColumnEdgeJson>,
    /// Column edges out of this dataset's columns.
    column_targets: Vec<ColumnEdgeJson>,
    /// Some list was cut at the limit.
    truncated: bool,
}

#[utoipa::path(get, path = "/api/v1/datasets/{id}/lineage", tag = "Lineage", params(("id" = i64, Path, description = "Dataset id")), responses((status = 200, description = "Upstream and downstream datasets and column edges", body = serde_json::Value), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_dataset_lineage(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (dataset, lineage) = read(&state, move |conn| {
        let (dataset, source) =
            crate::db::catalog::find_dataset(conn, id)?.ok_or_else(|| AppError::not_found(format!("Dataset {id}")))?;
        let dataset = DatasetRef {
            id: dataset.id,
            source_name: source.name,
            schema_name: dataset.schema_name,
            name: dataset.name,
            kind: dataset.kind,
            status: dataset.status,
        };
        Ok((dataset, repo::dataset_lineage(conn, id, LIMIT)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(DatasetLineageJson {
        dataset: dataset_json(&dataset),
        upstream: lineage.upstream.iter().map(neighbour_json).collect(),
        downstream: lineage.downstream.iter().map(neighbour_json).collect(),
        column_sources: lineage.column_sources.iter().map(column_edge_json).collect(),
        column_targets: lineage.column_targets.iter().map(column_edge_json).collect(),
        truncated: lineage.truncated,
    }))
}

#[derive(Serialize)]
struct ColumnLineageJson {
    column: ColumnJson,
    /// Edges into this column: what it is derived from.
    sources: Vec<ColumnEdgeJson>,
    /// Edges out of this column: what is derived from it.
    targets: Vec<ColumnEdgeJson>,
}

#[utoipa::path(get, path = "/api/v1/columns/{id}/lineage", tag = "Lineage", params(("id" = i64, Path, description = "Column id")), responses((status = 200, description = "Where the column comes from and goes", body = serde_json::Value), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_column_lineage(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let repo::ColumnLineage { column, sources, targets } = read(&state, move |conn| {
        repo::column_lineage(conn, id, LIMIT)?.ok_or_else(|| AppError::not_found(format!("Column {id}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(ColumnLineageJson {
        column: column_json(&column),
        sources: sources.iter().map(column_edge_json).collect(),
        targets: targets.iter().map(column_edge_json).collect(),
    }))
}
