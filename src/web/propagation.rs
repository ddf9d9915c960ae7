//! Propagation on pages: where a column's propagated tags came from (source column, pipeline,
//! statement, path), the lineage into a column with its blocks, and the handlers that block and
//! unblock an edge or switch propagation through aggregates.

use std::collections::{BTreeSet, HashMap};

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};

use super::auth::{Authorized, Classify};
use super::forms::FormPairs;
use super::{AppState, see_other, write};
use crate::classification::ClassifyError;
use crate::db::propagation::{self as repo, CATEGORY, IDENTIFIER, LEVEL};
use crate::db::{AnyConnection, catalog, classification as classification_repo, now};
use crate::error::AppError;
use crate::propagation;

/// A tag that reached a column, and how.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// category | identifier | level
    pub kind: &'static str,
    pub label: String,
    pub source_column_id: i64,
    pub source_dataset_id: i64,
    pub source: String,
    pub pipeline_id: i64,
    pub pipeline: String,
    pub statement: i32,
    pub hops: i32,
    /// The columns travelled, source first, qualified.
    pub path: Vec<String>,
}

impl Provenance {
    /// "from main.customers.email via marketing_audience.sql, statement 2 (2 hops)".
    pub fn summary(&self) -> String {
        let mut s = format!("from {} via {}, statement {}", self.source, self.pipeline, self.statement);
        if self.hops > 1 {
            s.push_str(&format!(" ({} hops)", self.hops));
        }
        s
    }

    pub fn path_text(&self) -> String {
        self.path.join(" → ")
    }
}

/// The propagated tags of these columns, with their provenance, by column.
pub fn load(conn: &mut AnyConnection, column_ids: &[i64]) -> Result<HashMap<i64, Vec<Provenance>>, AppError> {
    let tags = repo::propagated_of(conn, Some(column_ids))?;
    if tags.is_empty() {
        return Ok(HashMap::new());
    }
    let mut columns: BTreeSet<i64> = BTreeSet::new();
    let mut pipelines: BTreeSet<i64> = BTreeSet::new();
    for t in &tags {
        columns.extend(t.path_ids());
        pipelines.insert(t.pipeline_id);
    }
    let names = repo::column_names(conn, &columns)?;
    let pipeline_names = repo::pipeline_names(conn, &pipelines)?;
    let categories: HashMap<i64, String> =
        classification_repo::list_categories(conn)?.into_iter().map(|c| (c.id, c.key)).collect();
    let identifiers: HashMap<i64, String> =
        classification_repo::list_identifier_types(conn)?.into_iter().map(|i| (i.id, i.key)).collect();
    let levels: HashMap<i64, String> =
        classification_repo::list_levels(conn)?.into_iter().map(|l| (i64::from(l.rank), l.name)).collect();
    let mut out: HashMap<i64, Vec<Provenance>> = HashMap::new();
    for t in tags {
        let (kind, label) = match t.tag_kind.as_str() {
            CATEGORY => ("category", categories.get(&t.tag_value).cloned()),
            IDENTIFIER => ("identifier", identifiers.get(&t.tag_value).map(|k| format!("id: {k}"))),
            LEVEL => ("level", levels.get(&t.tag_value).cloned()),
            _ => continue,
        };
        let Some(label) = label else { continue };
        let name = |id: i64| names.get(&id).map(|c| c.qualified()).unwrap_or_else(|| format!("column {id}"));
        out.entry(t.column_id).or_default().push(Provenance {
            kind,
            label,
            source_column_id: t.source_column_id,
            source_dataset_id: names.get(&t.source_column_id).map(|c| c.dataset_id).unwrap_or_default(),
            source: name(t.source_column_id),
            pipeline_id: t.pipeline_id,
            pipeline: pipeline_names
                .get(&t.pipeline_id)
                .cloned()
                .unwrap_or_else(|| format!("pipeline {}", t.pipeline_id)),
            statement: t.statement_index,
            hops: t.hops,
            path: t.path_ids().into_iter().map(name).collect(),
        });
    }
    for list in out.values_mut() {
        list.sort_by(|a, b| (a.kind, &a.label).cmp(&(b.kind, &b.label)));
    }
    Ok(out)
}

/// A column that flows into the one shown, with the pipelines that make it so and any block.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub from_id: i64,
    pub from_dataset_id: i64,
    pub from: String,
    /// "pipeline, statement N (kind)" per edge.
    pub via: Vec<String>,
    pub blocked: Option<BlockView>,
}

#[derive(Clone, Debug)]
pub struct BlockView {
    pub reason: String,
    pub by: String,
    pub at: String,
}

pub fn incoming(conn: &mut AnyConnection, column_id: i64) -> Result<Vec<Incoming>, AppError> {
    let edges = repo::edges_into(conn, &[column_id])?;
    let froms: BTreeSet<i64> = edges.iter().map(|e| e.from_column_id).collect();
    let pipelines: BTreeSet<i64> = edges.iter().map(|e| e.pipeline_id).collect();
    let names = repo::column_names(conn, &froms)?;
    let pipeline_names = repo::pipeline_names(conn, &pipelines)?;
    let blocks: HashMap<i64, repo::Block> =
        repo::blocks_into(conn, &[column_id])?.into_iter().map(|b| (b.from_column_id, b)).collect();
    let mut out: Vec<Incoming> = froms
        .into_iter()
        .map(|from| {
            let mut via: Vec<String> = edges
                .iter()
                .filter(|e| e.from_column_id == from)
                .map(|e| {
                    let p = pipeline_names.get(&e.pipeline_id).cloned().unwrap_or_else(|| e.pipeline_id.to_string());
                    format!("{p}, statement {} ({})", e.statement_index, e.kind)
                })
                .collect();
            via.sort();
            via.dedup();
            let name = names.get(&from);
            Incoming {
                from_id: from,
                from_dataset_id: name.map(|c| c.dataset_id).unwrap_or_default(),
                from: name.map(|c| c.qualified()).unwrap_or_else(|| format!("column {from}")),
                via,
                blocked: blocks.get(&from).map(|b| BlockView {
                    reason: b.reason.clone(),
                    by: b.blocked_by.clone(),
                    at: super::view::time(&b.blocked_at),
                }),
            }
        })
        .collect();
    out.sort_by(|a, b| a.from.cmp(&b.from));
    Ok(out)
}

fn check_column(conn: &mut AnyConnection, dataset_id: i64, column_id: i64) -> Result<(), AppError> {
    if catalog::columns_by_id(conn, &[column_id])?.pop().filter(|c| c.dataset_id == dataset_id).is_none() {
        return Err(AppError::not_found(format!("Column {column_id} of dataset {dataset_id}")));
    }
    Ok(())
}

/// `POST /datasets/{id}/columns/{column}/lineage/{from}/block`: stop tags flowing from `from`.
pub async fn block(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    path: web::Path<(i64, i64, i64)>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let (dataset_id, column_id, from) = path.into_inner();
    let form = FormPairs::parse(&body)?;
    let reason = form.get("reason").unwrap_or_default().trim().to_owned();
    if reason.chars().count() > 2000 {
        return Err(AppError::BadRequest("The reason is longer than 2000 characters.".into()));
    }
    let by = auth.user.audit();
    let r = reason.clone();
    let result = write(&state, move |conn| {
        check_column(conn, dataset_id, column_id)?;
        match propagation::block(conn, &by, from, column_id, &r, now()) {
            Ok(_) => Ok(Ok(())),
            Err(ClassifyError::Invalid(message)) => Ok(Err(message)),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    match result {
        Ok(()) => Ok(see_other(&format!("/datasets/{dataset_id}/columns/{column_id}/classify#lineage"))),
        Err(message) => {
            super::classification::column_page(
                &state,
                &auth.user,
                dataset_id,
                column_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
                String::new(),
            )
            .await
        }
    }
}

/// `POST /datasets/{id}/columns/{column}/lineage/{from}/unblock`.
pub async fn unblock(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    path: web::Path<(i64, i64, i64)>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let (dataset_id, column_id, from) = path.into_inner();
    let form = FormPairs::parse(&body)?;
    let reason = form.get("reason").map(|r| r.chars().take(2000).collect::<String>());
    let by = auth.user.audit();
    write(&state, move |conn| {
        check_column(conn, dataset_id, column_id)?;
        Ok(propagation::unblock(conn, &by, from, column_id, reason.as_deref(), now())?)
    })
    .await?;
    Ok(see_other(&format!("/datasets/{dataset_id}/columns/{column_id}/classify#lineage")))
}

/// `POST /classification/propagation`: whether tags flow through aggregates.
pub async fn configure(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormPairs::parse(&body)?;
    let through = form.get("through_aggregates").is_some_and(|v| v == "on" || v == "true");
    let reason = form.get("reason").map(|r| r.chars().take(2000).collect::<String>());
    let by = auth.user.audit();
    write(&state, move |conn| Ok(propagation::set_through_aggregates(conn, &by, through, reason.as_deref(), now())?))
        .await?;
    Ok(see_other("/classification/levels#propagation"))
}
