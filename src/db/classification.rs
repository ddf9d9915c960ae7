//! Repository for classification: levels, categories, identifier types, what people confirmed on
//! columns, suggestions, and the per-column summary (`dataset_columns.level_rank`,
//! `personal_data`, `identifier_type`, `open_suggestions`) that lists filter on.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{Category, ClassificationLevel, IdentifierType, Suggestion};
use super::schema::{
    classification_levels, classification_suggestions, column_categories, column_classifications, dataset_columns,
    datasets, identifier_types, personal_data_categories, propagated_tags,
};
use super::{AnyConnection, MultiBackend};
use crate::governance::classification::{DEFAULT_LEVELS, effective_level};

/// Rows per `IN (…)` list.
const CHUNK: usize = 500;

// ---------------------------------------------------------------------------------------------
// Vocabularies

/// Inserts the default levels into a catalog that has none.
pub fn ensure_levels(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<()> {
    let n: i64 = classification_levels::table.count().get_result(conn)?;
    if n == 0 {
        for l in DEFAULT_LEVELS {
            diesel::insert_into(classification_levels::table)
                .values((
                    classification_levels::rank.eq(l.rank),
                    classification_levels::name.eq(l.name),
                    classification_levels::colour.eq(l.colour),
                    classification_levels::handling.eq(l.handling),
                    classification_levels::created_at.eq(now),
                    classification_levels::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A built-in category: (key, label, special, default level rank).
pub type BuiltinCategory<'a> = (&'a str, &'a str, bool, Option<i32>);
/// A built-in identifier type: (key, label, category key).
pub type BuiltinIdentifier<'a> = (&'a str, &'a str, Option<&'a str>);

/// Inserts the built-in categories and identifier types that are missing (labels of existing
/// ones are kept: people may have edited them).
pub fn ensure_taxonomy(
    conn: &mut AnyConnection,
    categories: &[BuiltinCategory<'_>],
    identifiers: &[BuiltinIdentifier<'_>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let have: BTreeSet<String> =
        personal_data_categories::table.select(personal_data_categories::key).load(conn)?.into_iter().collect();
    for (key, label, special, rank) in categories.iter().filter(|c| !have.contains(c.0)) {
        diesel::insert_into(personal_data_categories::table)
            .values((
                personal_data_categories::key.eq(key),
                personal_data_categories::label.eq(label),
                personal_data_categories::special.eq(special),
                personal_data_categories::builtin.eq(true),
                personal_data_categories::default_level_rank.eq(rank),
                personal_data_categories::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    let have: BTreeSet<String> =
        identifier_types::table.select(identifier_types::key).load(conn)?.into_iter().collect();
    for (key, label, category) in identifiers.iter().filter(|i| !have.contains(i.0)) {
        diesel::insert_into(identifier_types::table)
            .values((
                identifier_types::key.eq(key),
                identifier_types::label.eq(label),
                identifier_types::category_key.eq(category),
                identifier_types::builtin.eq(true),
                identifier_types::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Inserts the built-in taxonomy (`governance::suggest::taxonomy`) where it is missing.
pub fn ensure_builtin_taxonomy(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<()> {
    use crate::governance::suggest::taxonomy::{CATEGORIES, IDENTIFIER_TYPES};
    let categories: Vec<BuiltinCategory<'_>> =
        CATEGORIES.iter().map(|c| (c.key, c.label, c.special, Some(i32::from(c.level.rank())))).collect();
    let identifiers: Vec<BuiltinIdentifier<'_>> =
        IDENTIFIER_TYPES.iter().map(|i| (i.key, i.label, Some(i.category))).collect();
    ensure_taxonomy(conn, &categories, &identifiers, now)
}

pub fn list_levels(conn: &mut AnyConnection) -> QueryResult<Vec<ClassificationLevel>> {
    classification_levels::table.order(classification_levels::rank).select(ClassificationLevel::as_select()).load(conn)
}

pub fn find_level(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ClassificationLevel>> {
    classification_levels::table.find(id).select(ClassificationLevel::as_select()).first(conn).optional()
}

pub fn update_level(
    conn: &mut AnyConnection,
    id: i64,
    name: &str,
    colour: &str,
    handling: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(classification_levels::table.find(id))
        .set((
            classification_levels::name.eq(name),
            classification_levels::colour.eq(colour),
            classification_levels::handling.eq(handling),
            classification_levels::updated_at.eq(now),
        ))
        .execute(conn)
}

pub fn insert_level(
    conn: &mut AnyConnection,
    rank: i32,
    name: &str,
    colour: &str,
    handling: &str,
    now: NaiveDateTime,
) -> QueryResult<ClassificationLevel> {
    diesel::insert_into(classification_levels::table)
        .values((
            classification_levels::rank.eq(rank),
            classification_levels::name.eq(name),
            classification_levels::colour.eq(colour),
            classification_levels::handling.eq(handling),
            classification_levels::created_at.eq(now),
            classification_levels::updated_at.eq(now),
        ))
        .execute(conn)?;
    classification_levels::table
        .filter(classification_levels::rank.eq(rank))
        .select(ClassificationLevel::as_select())
        .first(conn)
}

pub fn list_categories(conn: &mut AnyConnection) -> QueryResult<Vec<Category>> {
    personal_data_categories::table.order(personal_data_categories::key).select(Category::as_select()).load(conn)
}

pub fn insert_category(
    conn: &mut AnyConnection,
    key: &str,
    label: &str,
    special: bool,
    default_level_rank: Option<i32>,
    description: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<Category> {
    diesel::insert_into(personal_data_categories::table)
        .values((
            personal_data_categories::key.eq(key),
            personal_data_categories::label.eq(label),
            personal_data_categories::special.eq(special),
            personal_data_categories::builtin.eq(false),
            personal_data_categories::default_level_rank.eq(default_level_rank),
            personal_data_categories::description.eq(description),
            personal_data_categories::created_at.eq(now),
        ))
        .execute(conn)?;
    personal_data_categories::table
        .filter(personal_data_categories::key.eq(key))
        .select(Category::as_select())
        .first(conn)
}

pub fn list_identifier_types(conn: &mut AnyConnection) -> QueryResult<Vec<IdentifierType>> {
    identifier_types::table.order(identifier_types::key).select(IdentifierType::as_select()).load(conn)
}

// ---------------------------------------------------------------------------------------------
// What people confirmed on columns

/// A column's confirmed classification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confirmed {
    pub level_id: Option<i64>,
    pub identifier_type_id: Option<i64>,
    pub category_ids: BTreeSet<i64>,
}

pub fn confirmed(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<HashMap<i64, Confirmed>> {
    let mut out: HashMap<i64, Confirmed> = HashMap::new();
    for chunk in column_ids.chunks(CHUNK) {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = column_classifications::table
            .filter(column_classifications::column_id.eq_any(chunk))
            .select((
                column_classifications::column_id,
                column_classifications::level_id,
                column_classifications::identifier_type_id,
            ))
            .load(conn)?;
        for (column, level, identifier) in rows {
            let entry = out.entry(column).or_default();
            entry.level_id = level;
            entry.identifier_type_id = identifier;
        }
        let cats: Vec<(i64, i64)> = column_categories::table
            .filter(column_categories::column_id.eq_any(chunk))
            .select((column_categories::column_id, column_categories::category_id))
            .load(conn)?;
        for (column, category) in cats {
            out.entry(column).or_default().category_ids.insert(category);
        }
    }
    Ok(out)
}

/// Sets a column's confirmed level and identifier type (None clears).
pub fn set_confirmed(
    conn: &mut AnyConnection,
    column_id: i64,
    level_id: Option<i64>,
    identifier_type_id: Option<i64>,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(column_classifications::table.find(column_id))
        .set((
            column_classifications::level_id.eq(level_id),
            column_classifications::identifier_type_id.eq(identifier_type_id),
            column_classifications::updated_at.eq(now),
            column_classifications::updated_by.eq(by),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(column_classifications::table)
            .values((
                column_classifications::column_id.eq(column_id),
                column_classifications::level_id.eq(level_id),
                column_classifications::identifier_type_id.eq(identifier_type_id),
                column_classifications::updated_at.eq(now),
                column_classifications::updated_by.eq(by),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn add_category(
    conn: &mut AnyConnection,
    column_id: i64,
    category_id: i64,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let exists: i64 = column_categories::table
        .filter(column_categories::column_id.eq(column_id))
        .filter(column_categories::category_id.eq(category_id))
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
    }
    diesel::insert_into(column_categories::table)
        .values((
            column_categories::column_id.eq(column_id),
            column_categories::category_id.eq(category_id),
            column_categories::created_at.eq(now),
            column_categories::created_by.eq(by),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn remove_category(conn: &mut AnyConnection, column_id: i64, category_id: i64) -> QueryResult<bool> {
    let n = diesel::delete(
        column_categories::table
            .filter(column_categories::column_id.eq(column_id))
            .filter(column_categories::category_id.eq(category_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// Recomputes the summary of these columns (effective level, personal data, identifier type,
/// open suggestions, propagated) from what is confirmed, suggested and propagated, and the
/// effective level of their datasets. Writes only rows whose summary changed, grouped so that
/// columns with the same summary take one statement per chunk.
pub fn refresh_summaries(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<()> {
    type Summary = (Option<i32>, bool, Option<String>, i32, bool);
    let levels: HashMap<i64, i32> = list_levels(conn)?.into_iter().map(|l| (l.id, l.rank)).collect();
    let categories: HashMap<i64, Option<i32>> = personal_data_categories::table
        .select((personal_data_categories::id, personal_data_categories::default_level_rank))
        .load::<(i64, Option<i32>)>(conn)?
        .into_iter()
        .collect();
    let identifiers: HashMap<i64, String> = list_identifier_types(conn)?.into_iter().map(|i| (i.id, i.key)).collect();
    let confirmed = confirmed(conn, column_ids)?;
    let mut datasets_touched: BTreeSet<i64> = BTreeSet::new();
    let mut updates: HashMap<Summary, Vec<i64>> = HashMap::new();
    for chunk in column_ids.chunks(CHUNK) {
        let open: HashMap<i64, i64> = classification_suggestions::table
            .filter(classification_suggestions::column_id.eq_any(chunk))
            .filter(classification_suggestions::status.eq("open"))
            .group_by(classification_suggestions::column_id)
            .select((classification_suggestions::column_id, diesel::dsl::count_star()))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        // Per column: propagated level ranks, and whether a category or identifier arrived.
        let mut propagated: HashMap<i64, (Vec<i32>, bool)> = HashMap::new();
        for (column, kind, value) in propagated_tags::table
            .filter(propagated_tags::column_id.eq_any(chunk))
            .select((propagated_tags::column_id, propagated_tags::tag_kind, propagated_tags::tag_value))
            .load::<(i64, String, i64)>(conn)?
        {
            let entry = propagated.entry(column).or_default();
            if kind == super::propagation::LEVEL {
                entry.0.push(i32::try_from(value).unwrap_or(i32::MAX));
            } else {
                entry.1 = true;
            }
        }
        let current: Vec<(i64, i64, Summary)> = dataset_columns::table
            .filter(dataset_columns::id.eq_any(chunk))
            .select((
                dataset_columns::id,
                dataset_columns::dataset_id,
                (
                    dataset_columns::level_rank,
                    dataset_columns::personal_data,
                    dataset_columns::identifier_type,
                    dataset_columns::open_suggestions,
                    dataset_columns::propagated,
                ),
            ))
            .load(conn)?;
        for (column, dataset, now) in current {
            let c = confirmed.get(&column).cloned().unwrap_or_default();
            let defaults: Vec<i32> =
                c.category_ids.iter().filter_map(|id| categories.get(id).copied().flatten()).collect();
            let (prop_ranks, prop_personal) = propagated.remove(&column).unwrap_or_default();
            let level = effective_level(c.level_id.and_then(|id| levels.get(&id).copied()), &defaults, &prop_ranks);
            let identifier = c.identifier_type_id.and_then(|id| identifiers.get(&id).cloned());
            let personal = !c.category_ids.is_empty() || identifier.is_some() || prop_personal;
            let open = open.get(&column).copied().unwrap_or(0) as i32;
            let summary = (level, personal, identifier, open, prop_personal || !prop_ranks.is_empty());
            if summary != now {
                if summary.0 != now.0 {
                    datasets_touched.insert(dataset);
                }
                updates.entry(summary).or_default().push(column);
            }
        }
    }
    for ((level, personal, identifier, open, propagated), ids) in updates {
        for chunk in ids.chunks(CHUNK) {
            diesel::update(dataset_columns::table.filter(dataset_columns::id.eq_any(chunk)))
                .set((
                    dataset_columns::level_rank.eq(level),
                    dataset_columns::personal_data.eq(personal),
                    dataset_columns::identifier_type.eq(&identifier),
                    dataset_columns::open_suggestions.eq(open),
                    dataset_columns::propagated.eq(propagated),
                ))
                .execute(conn)?;
        }
    }
    let touched: Vec<i64> = datasets_touched.into_iter().collect();
    let mut by_rank: HashMap<Option<i32>, Vec<i64>> = HashMap::new();
    for chunk in touched.chunks(CHUNK) {
        let maxima: Vec<(i64, Option<i32>)> = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq_any(chunk))
            .filter(dataset_columns::status.eq(super::models::ACTIVE))
            .group_by(dataset_columns::dataset_id)
            .select((dataset_columns::dataset_id, diesel::dsl::max(dataset_columns::level_rank)))
            .load(conn)?;
        for (dataset, rank) in maxima {
            by_rank.entry(rank).or_default().push(dataset);
        }
    }
    // One statement per level and chunk, not one per dataset.
    for (rank, ids) in by_rank {
        for chunk in ids.chunks(CHUNK) {
            diesel::update(datasets::table.filter(datasets::id.eq_any(chunk)))
                .set(datasets::level_rank.eq(rank))
                .execute(conn)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The workbench

/// Filters of the workbench's column list.
#[derive(Clone, Debug, Default)]
pub struct ColumnFilter {
    pub source_id: Option<i64>,
    pub dataset_id: Option<i64>,
    pub level_rank: Option<i32>,
    pub category_id: Option<i64>,
    pub unclassified: bool,
    pub suggested: bool,
    pub propagated: bool,
    pub personal: bool,
}

/// A column as the workbench lists it.
#[derive(Queryable, Clone, Debug)]
pub struct WorkbenchRow {
    pub id: i64,
    pub name: String,
    pub data_type: String,
    pub level_rank: Option<i32>,
    pub personal_data: bool,
    pub identifier_type: Option<String>,
    pub open_suggestions: i32,
    pub propagated: bool,
    pub dataset_id: i64,
    pub schema_name: String,
    pub dataset_name: String,
    pub source_id: i64,
}

fn filtered(filter: &ColumnFilter) -> dataset_columns::BoxedQuery<'static, MultiBackend> {
    let mut q =
        dataset_columns::table.filter(dataset_columns::status.eq(super::models::ACTIVE)).into_boxed::<MultiBackend>();
    if let Some(id) = filter.dataset_id {
        q = q.filter(dataset_columns::dataset_id.eq(id));
    }
    if let Some(id) = filter.source_id {
        q = q.filter(
            dataset_columns::dataset_id.eq_any(datasets::table.filter(datasets::source_id.eq(id)).select(datasets::id)),
        );
    }
    if let Some(rank) = filter.level_rank {
        q = q.filter(dataset_columns::level_rank.eq(rank));
    }
    if let Some(id) = filter.category_id {
        // Confirmed, or carried here by lineage.
        q = q.filter(
            dataset_columns::id
                .eq_any(
                    column_categories::table
                        .filter(column_categories::category_id.eq(id))
                        .select(column_categories::column_id),
                )
                .or(dataset_columns::id.eq_any(
                    propagated_tags::table
                        .filter(propagated_tags::tag_kind.eq(super::propagation::CATEGORY))
                        .filter(propagated_tags::tag_value.eq(id))
                        .select(propagated_tags::column_id),
                )),
        );
    }
    if filter.unclassified {
        q = q.filter(dataset_columns::level_rank.is_null()).filter(dataset_columns::personal_data.eq(false));
    }
    if filter.suggested {
        // A literal, not a bound 0: the partial index on waiting columns matches only then.
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>("dataset_columns.open_suggestions > 0"));
    }
    if filter.propagated {
        q = q.filter(dataset_columns::propagated.eq(true));
    }
    if filter.personal {
        q = q.filter(dataset_columns::personal_data.eq(true));
    }
    q
}

/// One page of the workbench, in column id order, and the count (up to `cap`, then "more than").
pub fn workbench(
    conn: &mut AnyConnection,
    filter: &ColumnFilter,
    offset: i64,
    limit: i64,
    cap: i64,
) -> QueryResult<(Vec<WorkbenchRow>, i64)> {
    let ids: Vec<i64> = filtered(filter)
        .order(dataset_columns::id)
        .offset(offset)
        .limit(limit)
        .select(dataset_columns::id)
        .load(conn)?;
    let capped: Vec<i64> =
        filtered(filter).order(dataset_columns::id).limit(cap + 1).select(dataset_columns::id).load(conn)?;
    let rows = dataset_columns::table
        .inner_join(datasets::table)
        .filter(dataset_columns::id.eq_any(&ids))
        .order(dataset_columns::id)
        .select((
            dataset_columns::id,
            dataset_columns::name,
            dataset_columns::data_type,
            dataset_columns::level_rank,
            dataset_columns::personal_data,
            dataset_columns::identifier_type,
            dataset_columns::open_suggestions,
            dataset_columns::propagated,
            datasets::id,
            datasets::schema_name,
            datasets::name,
            datasets::source_id,
        ))
        .load(conn)?;
    Ok((rows, capped.len() as i64))
}

/// The confirmed categories of these columns, as (column id, category key) pairs.
pub fn category_keys(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for chunk in column_ids.chunks(CHUNK) {
        out.extend(
            column_categories::table
                .inner_join(personal_data_categories::table)
                .filter(column_categories::column_id.eq_any(chunk))
                .order((column_categories::column_id, personal_data_categories::key))
                .select((column_categories::column_id, personal_data_categories::key))
                .load::<(i64, String)>(conn)?,
        );
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Suggestions

/// A suggestion to store.
#[derive(Clone, Debug)]
pub struct NewSuggestion {
    pub column_id: i64,
    pub category_id: i64,
    pub identifier_type_id: Option<i64>,
    pub level_rank: Option<i32>,
    pub confidence: f64,
    pub evidence: String,
    pub proposed_by: Option<String>,
}

/// Stores suggestions for (column, category) pairs not suggested before (a rejected suggestion is
/// not proposed again); an open suggestion gets the new evidence when it is stronger (a value scan
/// after a name match). Skips pairs the column already carries. Returns how many were new.
pub fn insert_suggestions(
    conn: &mut AnyConnection,
    suggestions: &[NewSuggestion],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut added = 0;
    for chunk in suggestions.chunks(CHUNK) {
        let columns: Vec<i64> = chunk.iter().map(|s| s.column_id).collect();
        let existing: HashMap<(i64, i64), (i64, String, f64)> = classification_suggestions::table
            .filter(classification_suggestions::column_id.eq_any(&columns))
            .select((
                classification_suggestions::column_id,
                classification_suggestions::category_id,
                classification_suggestions::id,
                classification_suggestions::status,
                classification_suggestions::confidence,
            ))
            .load::<(i64, i64, i64, String, f64)>(conn)?
            .into_iter()
            .map(|(c, k, id, status, confidence)| ((c, k), (id, status, confidence)))
            .collect();
        let carried: BTreeSet<(i64, i64)> = column_categories::table
            .filter(column_categories::column_id.eq_any(&columns))
            .select((column_categories::column_id, column_categories::category_id))
            .load::<(i64, i64)>(conn)?
            .into_iter()
            .collect();
        let mut fresh = Vec::new();
        for s in chunk {
            let key = (s.column_id, s.category_id);
            if carried.contains(&key) {
                continue;
            }
            match existing.get(&key) {
                Some((id, status, confidence)) => {
                    if status == "open" && s.confidence > *confidence {
                        diesel::update(classification_suggestions::table.find(*id))
                            .set((
                                classification_suggestions::confidence.eq(s.confidence),
                                classification_suggestions::evidence.eq(&s.evidence),
                            ))
                            .execute(conn)?;
                    }
                }
                None => fresh.push(s),
            }
        }
        let mut seen = BTreeSet::new();
        let rows: Vec<_> = fresh
            .into_iter()
            .filter(|s| seen.insert((s.column_id, s.category_id)))
            .map(|s| {
                (
                    classification_suggestions::column_id.eq(s.column_id),
                    classification_suggestions::category_id.eq(s.category_id),
                    classification_suggestions::identifier_type_id.eq(s.identifier_type_id),
                    classification_suggestions::level_rank.eq(s.level_rank),
                    classification_suggestions::confidence.eq(s.confidence),
                    classification_suggestions::evidence.eq(s.evidence.clone()),
                    classification_suggestions::status.eq("open"),
                    classification_suggestions::proposed_by.eq(s.proposed_by.clone()),
                    classification_suggestions::created_at.eq(now),
                )
            })
            .collect();
        added += rows.len();
        if !rows.is_empty() {
            super::dialect::insert_suggestion_rows(conn, &rows)?;
        }
    }
    Ok(added)
}

/// A person endorses an open suggestion for the same column and category (or re-proposes a
/// rejected one): it becomes theirs and open again. Returns whether such a suggestion existed.
pub fn endorse_suggestion(
    conn: &mut AnyConnection,
    column_id: i64,
    category_id: i64,
    identifier_type_id: Option<i64>,
    evidence: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        classification_suggestions::table
            .filter(classification_suggestions::column_id.eq(column_id))
            .filter(classification_suggestions::category_id.eq(category_id))
            .filter(classification_suggestions::status.ne("accepted")),
    )
    .set((
        classification_suggestions::status.eq("open"),
        classification_suggestions::proposed_by.eq(by),
        classification_suggestions::identifier_type_id.eq(identifier_type_id),
        classification_suggestions::confidence.eq(1.0),
        classification_suggestions::evidence.eq(evidence),
        classification_suggestions::created_at.eq(now),
        classification_suggestions::decided_at.eq(None::<NaiveDateTime>),
        classification_suggestions::decided_by.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

pub fn find_suggestions(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<Suggestion>> {
    classification_suggestions::table
        .filter(classification_suggestions::id.eq_any(ids))
        .select(Suggestion::as_select())
        .load(conn)
}

pub fn open_suggestions_for(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<Vec<Suggestion>> {
    let mut out = Vec::new();
    for chunk in column_ids.chunks(CHUNK) {
        out.extend(
            classification_suggestions::table
                .filter(classification_suggestions::column_id.eq_any(chunk))
                .filter(classification_suggestions::status.eq("open"))
                .order(classification_suggestions::id)
                .select(Suggestion::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// The open suggestions, oldest first, and how many there are.
pub fn list_open_suggestions(conn: &mut AnyConnection, offset: i64, limit: i64) -> QueryResult<(Vec<Suggestion>, i64)> {
    let total = classification_suggestions::table
        .filter(classification_suggestions::status.eq("open"))
        .count()
        .get_result(conn)?;
    let rows = classification_suggestions::table
        .filter(classification_suggestions::status.eq("open"))
        .order(classification_suggestions::id)
        .offset(offset)
        .limit(limit)
        .select(Suggestion::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Marks open suggestions of these categories on this column as accepted (someone confirmed the
/// category directly). Returns how many were settled.
pub fn settle_suggestions(
    conn: &mut AnyConnection,
    column_id: i64,
    category_ids: &[i64],
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        classification_suggestions::table
            .filter(classification_suggestions::column_id.eq(column_id))
            .filter(classification_suggestions::category_id.eq_any(category_ids))
            .filter(classification_suggestions::status.eq("open")),
    )
    .set((
        classification_suggestions::status.eq("accepted"),
        classification_suggestions::decided_at.eq(now),
        classification_suggestions::decided_by.eq(by),
    ))
    .execute(conn)
}

pub fn decide_suggestion(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(classification_suggestions::table.find(id).filter(classification_suggestions::status.eq("open")))
        .set((
            classification_suggestions::status.eq(status),
            classification_suggestions::decided_at.eq(now),
            classification_suggestions::decided_by.eq(by),
        ))
        .execute(conn)
}

/// The confirmed category ids of each of these columns.
pub fn category_ids_of(
    conn: &mut AnyConnection,
    column_ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Vec<i64>>> {
    let mut out: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for chunk in column_ids.chunks(CHUNK) {
        for (column, category) in column_categories::table
            .filter(column_categories::column_id.eq_any(chunk))
            .select((column_categories::column_id, column_categories::category_id))
            .load::<(i64, i64)>(conn)?
        {
            out.entry(column).or_default().push(category);
        }
    }
    Ok(out)
}
