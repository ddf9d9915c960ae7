//! Suggestions in the catalog: the pure engine (`governance::suggest`) run over a source's columns,
//! from their names at every crawl and from sampled values on demand. Proposals only: nothing is
//! applied until a compliance officer accepts it. Sampled values are never stored — only counts,
//! ratios and a masked example.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::db::AnyConnection;
use crate::db::classification::{self as repo, NewSuggestion};
use crate::db::models::ACTIVE;
use crate::db::schema::{dataset_columns, datasets};
use crate::governance::suggest::{self, ColumnContext, Evidence, Suggestion};

/// The evidence as stored: its kind, a sentence, and the figures.
pub fn evidence_json(e: &Evidence) -> String {
    let values = e.values().map(
        |v| json!({ "validator": v.validator.label(), "hits": v.hits, "sampled": v.sampled, "example": v.example }),
    );
    let kind = match e {
        Evidence::Name(_) => "name",
        Evidence::Values(_) => "values",
        Evidence::Both { .. } => "both",
    };
    json!({
        "kind": kind,
        "text": e.to_string(),
        "rule": e.name().map(|n| n.rule),
        "values": values,
    })
    .to_string()
}

/// Turns the engine's suggestions for one column into rows, resolving taxonomy keys to ids.
fn rows(
    column_id: i64,
    found: Vec<Suggestion>,
    categories: &HashMap<String, i64>,
    identifiers: &HashMap<String, i64>,
) -> Vec<NewSuggestion> {
    found
        .into_iter()
        .filter_map(|s| {
            Some(NewSuggestion {
                column_id,
                category_id: *categories.get(s.category)?,
                identifier_type_id: s.identifier.and_then(|i| identifiers.get(i).copied()),
                level_rank: Some(i32::from(s.level.rank())),
                confidence: f64::from(s.confidence),
                evidence: evidence_json(&s.evidence),
                proposed_by: None,
            })
        })
        .collect()
}

/// The vocabulary's ids by key.
pub struct Keys {
    categories: HashMap<String, i64>,
    identifiers: HashMap<String, i64>,
}

impl Keys {
    pub fn load(conn: &mut AnyConnection) -> QueryResult<Self> {
        Ok(Self {
            categories: repo::list_categories(conn)?.into_iter().map(|c| (c.key, c.id)).collect(),
            identifiers: repo::list_identifier_types(conn)?.into_iter().map(|i| (i.key, i.id)).collect(),
        })
    }
}

/// Suggests from the names of every active column of a source (run inside the crawl's
/// transaction); returns how many suggestions were new.
pub fn from_names(conn: &mut AnyConnection, source_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    let keys = Keys::load(conn)?;
    let columns: Vec<(i64, String, String, String)> = dataset_columns::table
        .inner_join(datasets::table)
        .filter(datasets::source_id.eq(source_id))
        .filter(datasets::status.eq(ACTIVE))
        .filter(dataset_columns::status.eq(ACTIVE))
        .filter(dataset_columns::personal_data.eq(false))
        .select((dataset_columns::id, datasets::name, dataset_columns::name, dataset_columns::data_type))
        .load(conn)?;
    let mut new = Vec::new();
    for (id, dataset, column, data_type) in &columns {
        let found = suggest::suggest(&ColumnContext { dataset, column, data_type }, None);
        new.extend(rows(*id, found, &keys.categories, &keys.identifiers));
    }
    store(conn, &new, now)
}

/// Suggests from sampled values of one dataset's columns (`samples`: column id → values).
pub fn from_values(
    conn: &mut AnyConnection,
    keys: &Keys,
    dataset: &str,
    columns: &[(i64, String, String)],
    samples: &HashMap<i64, Vec<String>>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut new = Vec::new();
    for (id, column, data_type) in columns {
        let Some(values) = samples.get(id) else { continue };
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let found = suggest::suggest(&ColumnContext { dataset, column, data_type }, Some(&values));
        new.extend(rows(*id, found, &keys.categories, &keys.identifiers));
    }
    store(conn, &new, now)
}

fn store(conn: &mut AnyConnection, new: &[NewSuggestion], now: NaiveDateTime) -> QueryResult<usize> {
    let added = repo::insert_suggestions(conn, new, now)?;
    let mut touched: Vec<i64> = new.iter().map(|s| s.column_id).collect();
    touched.sort_unstable();
    touched.dedup();
    repo::refresh_summaries(conn, &touched)?;
    Ok(added)
}
