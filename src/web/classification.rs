//! Classification in the web app: classifying one column (or proposing a classification), the
//! workbench that lists columns across the catalog with bulk actions, the suggestions queue, the
//! levels, and "where is personal data?".

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{Authorized, Classify, CurrentUser, ProposeClassification};
use super::datasets::{Choice, encode};
use super::forms::FormPairs;
#[allow(unused_imports)]
use super::openapi::ApiError;
use super::view::{self, Pager};
use super::{AppState, Layout, Section, read, render, render_status, see_other, write};
use crate::classification::{self, ClassifyError, ColumnChange, Vocabulary};
use crate::db::classification::{self as repo, ColumnFilter};
use crate::db::models::{ClassificationLevel, ColumnSummary, Dataset};
use crate::db::{AnyConnection, catalog, now};
use crate::error::AppError;
use crate::governance::access::Permission;
use crate::governance::classification::PALETTE;

impl From<ClassifyError> for AppError {
    fn from(e: ClassifyError) -> Self {
        match e {
            ClassifyError::NotFound(what) => AppError::not_found(what),
            ClassifyError::Invalid(m) => AppError::BadRequest(m),
            ClassifyError::ReasonRequired(_) => AppError::Unprocessable(e.to_string()),
            ClassifyError::Db(e) => e.into(),
        }
    }
}

/// A level as a badge.
#[derive(Clone, Debug)]
pub struct LevelBadge {
    pub name: String,
    pub colour: String,
}

/// Badges by level rank.
pub fn badges(levels: &[ClassificationLevel]) -> HashMap<i32, LevelBadge> {
    levels.iter().map(|l| (l.rank, LevelBadge { name: l.name.clone(), colour: l.colour.clone() })).collect()
}

// ---------------------------------------------------------------------------------------------
// One column

pub struct CategoryChoice {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub special: bool,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "classification/column.html")]
pub struct ColumnPage {
    pub layout: Layout,
    pub dataset: Dataset,
    pub column: ColumnSummary,
    pub levels: Vec<Choice>,
    pub categories: Vec<CategoryChoice>,
    pub identifiers: Vec<Choice>,
    pub badge: Option<LevelBadge>,
    pub can_classify: bool,
    pub error: Option<String>,
    pub reason: String,
    pub propagated: Vec<super::propagation::Provenance>,
    pub incoming: Vec<super::propagation::Incoming>,
}

pub(super) async fn column_page(
    state: &AppState,
    user: &CurrentUser,
    dataset_id: i64,
    column_id: i64,
    status: StatusCode,
    error: Option<String>,
    reason: String,
) -> Result<HttpResponse, AppError> {
    let (dataset, column, vocabulary, confirmed, propagated, incoming) = read(state, move |conn| {
        let (dataset, _) = catalog::find_dataset(conn, dataset_id)?
            .ok_or_else(|| AppError::not_found(format!("Dataset {dataset_id}")))?;
        let column = catalog::columns_by_id(conn, &[column_id])?
            .pop()
            .filter(|c| c.dataset_id == dataset_id)
            .ok_or_else(|| AppError::not_found(format!("Column {column_id} of dataset {dataset_id}")))?;
        let vocabulary = Vocabulary::load(conn)?;
        let confirmed = repo::confirmed(conn, &[column_id])?.remove(&column_id).unwrap_or_default();
        let propagated = super::propagation::load(conn, &[column_id])?.remove(&column_id).unwrap_or_default();
        let incoming = super::propagation::incoming(conn, column_id)?;
        Ok((dataset, column, vocabulary, confirmed, propagated, incoming))
    })
    .await?;
    let badge = column.level_rank.and_then(|r| badges(&vocabulary.levels).remove(&r));
    let mut levels = vec![Choice {
        value: String::new(),
        label: "No level set here".into(),
        selected: confirmed.level_id.is_none(),
    }];
    levels.extend(vocabulary.levels.iter().map(|l| Choice {
        value: l.id.to_string(),
        label: l.name.clone(),
        selected: confirmed.level_id == Some(l.id),
    }));
    let mut identifiers = vec![Choice {
        value: String::new(),
        label: "Not an identifier".into(),
        selected: confirmed.identifier_type_id.is_none(),
    }];
    identifiers.extend(vocabulary.identifiers.iter().map(|i| Choice {
        value: i.id.to_string(),
        label: i.label.clone(),
        selected: confirmed.identifier_type_id == Some(i.id),
    }));
    let categories = vocabulary
        .categories
        .iter()
        .map(|c| CategoryChoice {
            id: c.id,
            key: c.key.clone(),
            label: c.label.clone(),
            special: c.special,
            checked: confirmed.category_ids.contains(&c.id),
        })
        .collect();
    render_status(
        status,
        &ColumnPage {
            layout: Layout::new(state, user, format!("Classify {}", column.name), Section::Catalog),
            can_classify: user.can(Permission::Classify),
            dataset,
            column,
            levels,
            categories,
            identifiers,
            badge,
            error,
            reason,
            propagated,
            incoming,
        },
    )
}

pub async fn column_form(
    state: web::Data<AppState>,
    auth: Authorized<ProposeClassification>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (dataset, column) = path.into_inner();
    column_page(&state, &auth.user, dataset, column, StatusCode::OK, None, String::new()).await
}

pub async fn column_classify(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    path: web::Path<(i64, i64)>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let (dataset_id, column_id) = path.into_inner();
    let form = FormPairs::parse(&body)?;
    let level = form.id("level")?;
    let identifier = form.id("identifier")?;
    let wanted: std::collections::BTreeSet<i64> = form.ids("category")?.into_iter().collect();
    let reason = form.get("reason").map(str::to_owned);
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(AppError::BadRequest("The reason is longer than 2000 characters.".into()));
    }
    let by = auth.user.audit();
    let r = reason.clone();
    let result = write(&state, move |conn| {
        let column = catalog::columns_by_id(conn, &[column_id])?.pop().filter(|c| c.dataset_id == dataset_id);
        if column.is_none() {
            return Err(AppError::not_found(format!("Column {column_id} of dataset {dataset_id}")));
        }
        let current = repo::confirmed(conn, &[column_id])?.remove(&column_id).unwrap_or_default();
        let change = ColumnChange {
            level: Some(level),
            add_categories: wanted.difference(&current.category_ids).copied().collect(),
            remove_categories: current.category_ids.difference(&wanted).copied().collect(),
            identifier: Some(identifier),
        };
        match classification::classify(conn, &by, &[column_id], &change, r.as_deref(), now()) {
            Ok(n) => Ok(Ok(n)),
            Err(ClassifyError::ReasonRequired(name)) => {
                Ok(Err(format!("Lowering the level of {name} needs a reason.")))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    match result {
        Ok(_) => Ok(see_other(&format!("/datasets/{dataset_id}#column-{column_id}"))),
        Err(message) => {
            column_page(
                &state,
                &auth.user,
                dataset_id,
                column_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(message),
                reason.unwrap_or_default(),
            )
            .await
        }
    }
}

pub async fn column_propose(
    state: web::Data<AppState>,
    auth: Authorized<ProposeClassification>,
    path: web::Path<(i64, i64)>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let (dataset_id, column_id) = path.into_inner();
    let form = FormPairs::parse(&body)?;
    let category =
        form.id("category")?.ok_or_else(|| AppError::Unprocessable("Choose the category you propose.".into()))?;
    let identifier = form.id("identifier")?;
    let note = form.get("note").map(|n| n.chars().take(500).collect::<String>());
    let by = auth.user.audit();
    write(&state, move |conn| {
        if catalog::columns_by_id(conn, &[column_id])?.pop().filter(|c| c.dataset_id == dataset_id).is_none() {
            return Err(AppError::not_found(format!("Column {column_id} of dataset {dataset_id}")));
        }
        Ok(classification::propose(conn, &by, column_id, category, identifier, note.as_deref(), now())?)
    })
    .await?;
    Ok(see_other(&format!("/datasets/{dataset_id}#column-{column_id}")))
}

// ---------------------------------------------------------------------------------------------
// The workbench

pub const PER_PAGE: i64 = 100;
/// Columns are counted up to this many.
pub const COUNT_CAP: i64 = 1_000;

#[derive(Deserialize, Default, Clone)]
pub struct WorkbenchQuery {
    pub source: Option<i64>,
    pub dataset: Option<i64>,
    pub level: Option<i32>,
    pub category: Option<i64>,
    pub unclassified: Option<bool>,
    pub suggested: Option<bool>,
    pub propagated: Option<bool>,
    pub personal: Option<bool>,
    pub page: Option<i64>,
}

impl WorkbenchQuery {
    fn filter(&self) -> ColumnFilter {
        ColumnFilter {
            source_id: self.source,
            dataset_id: self.dataset,
            level_rank: self.level,
            category_id: self.category,
            unclassified: self.unclassified.unwrap_or(false),
            suggested: self.suggested.unwrap_or(false),
            propagated: self.propagated.unwrap_or(false),
            personal: self.personal.unwrap_or(false),
        }
    }

    fn encoded(&self) -> String {
        let mut parts = Vec::new();
        let mut num = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k}={}", encode(&v)));
            }
        };
        num("source", self.source.map(|v| v.to_string()));
        num("dataset", self.dataset.map(|v| v.to_string()));
        num("level", self.level.map(|v| v.to_string()));
        num("category", self.category.map(|v| v.to_string()));
        for (k, v) in [
            ("unclassified", self.unclassified),
            ("suggested", self.suggested),
            ("propagated", self.propagated),
            ("personal", self.personal),
        ] {
            if v == Some(true) {
                parts.push(format!("{k}=true"));
            }
        }
        parts.join("&")
    }
}

pub struct WorkbenchLine {
    pub id: i64,
    pub name: String,
    pub data_type: String,
    pub path: String,
    pub dataset_id: i64,
    pub badge: Option<LevelBadge>,
    pub categories: Vec<String>,
    pub identifier: Option<String>,
    pub suggestions: i32,
    pub propagated: Vec<super::propagation::Provenance>,
}

#[derive(Template)]
#[template(path = "classification/workbench.html")]
pub struct WorkbenchPage {
    pub layout: Layout,
    pub rows: Vec<WorkbenchLine>,
    pub pager: Pager,
    pub q: WorkbenchQuery,
    pub sources: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub identifiers: Vec<Choice>,
    pub can_classify: bool,
    pub message: Option<String>,
}

fn choices<T>(items: &[T], selected: Option<String>, f: impl Fn(&T) -> (String, String)) -> Vec<Choice> {
    items
        .iter()
        .map(|i| {
            let (value, label) = f(i);
            Choice { selected: selected.as_deref() == Some(value.as_str()), value, label }
        })
        .collect()
}

async fn workbench_page(
    state: &AppState,
    user: &CurrentUser,
    q: WorkbenchQuery,
    status: StatusCode,
    message: Option<String>,
) -> Result<HttpResponse, AppError> {
    if q.page.is_some_and(|p| p < 1) {
        return Err(AppError::BadRequest("Pages are numbered from 1.".into()));
    }
    let page = q.page.unwrap_or(1);
    let filter = q.filter();
    let (rows, total, vocabulary, sources, names, categories_of, mut provenance) = read(state, move |conn| {
        let (rows, total) = repo::workbench(conn, &filter, Pager::offset(page, PER_PAGE), PER_PAGE, COUNT_CAP)?;
        let vocabulary = Vocabulary::load(conn)?;
        let sources = catalog::list_sources(conn)?;
        let names: HashMap<i64, String> = sources.iter().map(|s| (s.id, s.name.clone())).collect();
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let categories_of = repo::category_keys(conn, &ids)?;
        let provenance = super::propagation::load(conn, &ids)?;
        Ok((rows, total, vocabulary, sources, names, categories_of, provenance))
    })
    .await?;
    let badges = badges(&vocabulary.levels);
    let mut cats: HashMap<i64, Vec<String>> = HashMap::new();
    for (column, key) in categories_of {
        cats.entry(column).or_default().push(key);
    }
    let lines = rows
        .into_iter()
        .map(|r| WorkbenchLine {
            path: format!(
                "{}.{}.{}",
                names.get(&r.source_id).cloned().unwrap_or_default(),
                r.schema_name,
                r.dataset_name
            ),
            badge: r.level_rank.and_then(|rank| badges.get(&rank).cloned()),
            categories: cats.remove(&r.id).unwrap_or_default(),
            id: r.id,
            name: r.name,
            data_type: r.data_type,
            dataset_id: r.dataset_id,
            identifier: r.identifier_type,
            suggestions: r.open_suggestions,
            propagated: provenance.remove(&r.id).unwrap_or_default(),
        })
        .collect();
    let capped = total > COUNT_CAP;
    render_status(
        status,
        &WorkbenchPage {
            layout: Layout::new(state, user, "Classification workbench", Section::Classification),
            rows: lines,
            pager: Pager::new("/classification", &q.encoded(), page, PER_PAGE, total.min(COUNT_CAP), capped),
            sources: choices(&sources, q.source.map(|s| s.to_string()), |s| (s.id.to_string(), s.name.clone())),
            levels: choices(&vocabulary.levels, q.level.map(|l| l.to_string()), |l| {
                (l.rank.to_string(), l.name.clone())
            }),
            categories: choices(&vocabulary.categories, q.category.map(|c| c.to_string()), |c| {
                (c.id.to_string(), c.key.clone())
            }),
            identifiers: choices(&vocabulary.identifiers, None, |i| (i.id.to_string(), i.label.clone())),
            can_classify: user.can(Permission::Classify),
            message,
            q,
        },
    )
}

pub async fn workbench(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<WorkbenchQuery>,
) -> Result<HttpResponse, AppError> {
    workbench_page(&state, &user, q.into_inner(), StatusCode::OK, None).await
}

/// Applies one action to the selected columns: `set_level`, `add_category`, `remove_category`,
/// `set_identifier` or `clear_identifier`.
pub async fn bulk(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormPairs::parse(&body)?;
    let columns = form.ids("column")?;
    if columns.is_empty() {
        return Err(AppError::Unprocessable("Select at least one column.".into()));
    }
    if columns.len() > 1000 {
        return Err(AppError::PayloadTooLarge("At most 1,000 columns at a time.".into()));
    }
    let value = form.id("value")?;
    let change = match (form.get("action"), value) {
        (Some("set_level"), Some(level)) => ColumnChange { level: Some(Some(level)), ..Default::default() },
        (Some("clear_level"), _) => ColumnChange { level: Some(None), ..Default::default() },
        (Some("add_category"), Some(c)) => ColumnChange { add_categories: vec![c], ..Default::default() },
        (Some("remove_category"), Some(c)) => ColumnChange { remove_categories: vec![c], ..Default::default() },
        (Some("set_identifier"), Some(i)) => ColumnChange { identifier: Some(Some(i)), ..Default::default() },
        (Some("clear_identifier"), _) => ColumnChange { identifier: Some(None), ..Default::default() },
        (Some(a), _) if ["set_level", "add_category", "remove_category", "set_identifier"].contains(&a) => {
            return Err(AppError::Unprocessable("Choose the level, category or identifier type to apply.".into()));
        }
        _ => return Err(AppError::BadRequest("Unknown action.".into())),
    };
    let reason = form.get("reason").map(|r| r.chars().take(2000).collect::<String>());
    let back = form.get("back").filter(|b| b.starts_with("/classification")).unwrap_or("/classification").to_owned();
    let by = auth.user.audit();
    let outcome = write(&state, move |conn| {
        match classification::classify(conn, &by, &columns, &change, reason.as_deref(), now()) {
            Ok(n) => Ok(Ok(n)),
            Err(ClassifyError::ReasonRequired(name)) => {
                Ok(Err(format!("Lowering the level of {name} (and maybe others) needs a reason. Nothing was changed.")))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    match outcome {
        Ok(_) => Ok(see_other(&back)),
        Err(message) => {
            let q: WorkbenchQuery =
                back.split_once('?').and_then(|(_, qs)| serde_urlencoded::from_str(qs).ok()).unwrap_or_default();
            workbench_page(&state, &auth.user, q, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Suggestions

pub struct SuggestionLine {
    pub id: i64,
    pub column_id: i64,
    pub column: String,
    pub dataset_id: i64,
    pub path: String,
    pub category: String,
    pub identifier: Option<String>,
    pub confidence: String,
    pub evidence: String,
    pub proposed_by: Option<String>,
}

#[derive(Template)]
#[template(path = "classification/suggestions.html")]
pub struct SuggestionsPage {
    pub layout: Layout,
    pub lines: Vec<SuggestionLine>,
    pub pager: Pager,
    /// What the last decision did.
    pub message: Option<String>,
}

#[derive(Deserialize)]
pub struct SuggestionsQuery {
    pub page: Option<i64>,
    pub accepted: Option<usize>,
    pub rejected: Option<usize>,
}

/// Evidence in words.
pub fn evidence_text(evidence: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(evidence).unwrap_or_default();
    if let Some(text) = v.get("text").and_then(|t| t.as_str()) {
        return text.to_owned();
    }
    match v.get("kind").and_then(|k| k.as_str()) {
        Some("person") => v
            .get("note")
            .and_then(|n| n.as_str())
            .map_or_else(|| "proposed by a person".into(), |n| format!("proposed: {n}")),
        Some("name") => format!("name matches {}", v.get("rule").and_then(|r| r.as_str()).unwrap_or("a rule")),
        Some("values") => format!(
            "{} of {} sampled values are {} (e.g. {})",
            v.get("hits").and_then(|h| h.as_u64()).unwrap_or(0),
            v.get("sampled").and_then(|h| h.as_u64()).unwrap_or(0),
            v.get("validator").and_then(|r| r.as_str()).unwrap_or("valid"),
            v.get("example").and_then(|r| r.as_str()).unwrap_or("…"),
        ),
        _ => v.to_string(),
    }
}

pub async fn suggestions(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    q: web::Query<SuggestionsQuery>,
) -> Result<HttpResponse, AppError> {
    let page = q.page.unwrap_or(1);
    let message = match (q.accepted, q.rejected) {
        (Some(n), _) => Some(format!(
            "Accepted {}: the categories now apply to the columns and follow their lineage downstream.",
            view::plural(n as i64, "suggestion", "suggestions")
        )),
        (None, Some(n)) => Some(format!(
            "Rejected {}; they will not be proposed again.",
            view::plural(n as i64, "suggestion", "suggestions")
        )),
        (None, None) => None,
    };
    if page < 1 {
        return Err(AppError::BadRequest("Pages are numbered from 1.".into()));
    }
    let (rows, total, columns, datasets, vocabulary) = read(&state, move |conn| {
        let (rows, total) = repo::list_open_suggestions(conn, Pager::offset(page, PER_PAGE), PER_PAGE)?;
        let columns: HashMap<i64, ColumnSummary> =
            catalog::columns_by_id(conn, &rows.iter().map(|r| r.column_id).collect::<Vec<_>>())?
                .into_iter()
                .map(|c| (c.id, c))
                .collect();
        let mut datasets = HashMap::new();
        for c in columns.values() {
            if let std::collections::hash_map::Entry::Vacant(e) = datasets.entry(c.dataset_id)
                && let Some((d, s)) = catalog::find_dataset(conn, c.dataset_id)?
            {
                e.insert(format!("{}.{}.{}", s.name, d.schema_name, d.name));
            }
        }
        Ok((rows, total, columns, datasets, Vocabulary::load(conn)?))
    })
    .await?;
    let lines = rows
        .iter()
        .filter_map(|s| {
            let column = columns.get(&s.column_id)?;
            Some(SuggestionLine {
                id: s.id,
                column_id: column.id,
                column: column.name.clone(),
                dataset_id: column.dataset_id,
                path: datasets.get(&column.dataset_id).cloned().unwrap_or_default(),
                category: vocabulary
                    .categories
                    .iter()
                    .find(|c| c.id == s.category_id)
                    .map(|c| c.key.clone())
                    .unwrap_or_default(),
                identifier: s
                    .identifier_type_id
                    .and_then(|id| vocabulary.identifiers.iter().find(|i| i.id == id))
                    .map(|i| i.key.clone()),
                confidence: format!("{:.0}%", s.confidence * 100.0),
                evidence: evidence_text(&s.evidence),
                proposed_by: s.proposed_by.clone(),
            })
        })
        .collect();
    render(&SuggestionsPage {
        layout: Layout::new(&state, &auth.user, "Suggestions", Section::Classification),
        lines,
        pager: Pager::new("/classification/suggestions", "", page, PER_PAGE, total, false),
        message,
    })
}

pub async fn decide(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let form = FormPairs::parse(&body)?;
    let ids = form.ids("suggestion")?;
    if ids.is_empty() {
        return Err(AppError::Unprocessable("Select at least one suggestion.".into()));
    }
    let accept = match form.get("decision") {
        Some("accept") => true,
        Some("reject") => false,
        _ => return Err(AppError::BadRequest("Accept or reject?".into())),
    };
    let by = auth.user.audit();
    let n = write(&state, move |conn| {
        let now = now();
        Ok(if accept {
            classification::accept_suggestions(conn, &by, &ids, now)?
        } else {
            classification::reject_suggestions(conn, &by, &ids, now)?
        })
    })
    .await?;
    Ok(see_other(&format!("/classification/suggestions?{}={n}", if accept { "accepted" } else { "rejected" })))
}

// ---------------------------------------------------------------------------------------------
// Levels

pub struct LevelLine {
    pub id: i64,
    pub rank: i32,
    pub name: String,
    pub colour: String,
    pub handling: String,
}

#[derive(Template)]
#[template(path = "classification/levels.html")]
pub struct LevelsPage {
    pub layout: Layout,
    pub levels: Vec<LevelLine>,
    pub palette: &'static [&'static str],
    pub can_edit: bool,
    pub through_aggregates: bool,
}

pub async fn levels(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let (levels, policy) =
        read(&state, |conn| Ok((repo::list_levels(conn)?, crate::propagation::policy(conn)?))).await?;
    render(&LevelsPage {
        layout: Layout::new(&state, &user, "Classification levels", Section::Classification),
        levels: levels
            .into_iter()
            .map(|l| LevelLine { id: l.id, rank: l.rank, name: l.name, colour: l.colour, handling: l.handling })
            .collect(),
        palette: &PALETTE,
        can_edit: user.can(Permission::Classify),
        through_aggregates: policy.through_aggregates,
    })
}

pub async fn update_level(
    state: web::Data<AppState>,
    auth: Authorized<Classify>,
    id: web::Path<i64>,
    body: Bytes,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = FormPairs::parse(&body)?;
    let name =
        form.get("name").map(str::to_owned).ok_or_else(|| AppError::Unprocessable("A level needs a name.".into()))?;
    let colour = form
        .get("colour")
        .filter(|c| PALETTE.contains(c))
        .ok_or_else(|| AppError::Unprocessable("Choose a colour from the palette.".into()))?
        .to_owned();
    let handling = form.get("handling").unwrap_or("").to_owned();
    if name.chars().count() > 50 || handling.chars().count() > 1000 {
        return Err(AppError::Unprocessable("The name or the handling note is too long.".into()));
    }
    let by = auth.user.audit();
    write(&state, move |conn| {
        let before = repo::find_level(conn, id)?.ok_or_else(|| AppError::not_found(format!("Level {id}")))?;
        let now = now();
        repo::update_level(conn, id, &name, &colour, &handling, now)
            .map_err(|_| AppError::Conflict(format!("Another level is called {name:?}.")))?;
        crate::db::audit::append(
            conn,
            &by.event("level.update", "classification_level")
                .entity_id(id)
                .before(
                    serde_json::json!({ "name": before.name, "colour": before.colour, "handling": before.handling }),
                )
                .after(serde_json::json!({ "name": name, "colour": colour, "handling": handling })),
            now,
        )?;
        Ok(())
    })
    .await?;
    Ok(see_other("/classification/levels"))
}

// ---------------------------------------------------------------------------------------------
// Where is personal data?

/// A column that holds personal data, for the page, the API and the CSV.
#[derive(serde::Serialize, Clone, Debug)]
pub struct PersonalColumn {
    pub source: String,
    pub schema: String,
    pub dataset: String,
    pub dataset_id: i64,
    pub column: String,
    pub column_id: i64,
    pub level: Option<String>,
    pub categories: Vec<String>,
    pub identifier: Option<String>,
    /// `confirmed`, `propagated`, or `confirmed+propagated`.
    pub origin: &'static str,
    /// Where each propagated category or identifier came from.
    pub propagated: Vec<PropagatedFrom>,
}

/// The provenance of a propagated tag, for the page, the API and the CSV.
#[derive(serde::Serialize, Clone, Debug)]
pub struct PropagatedFrom {
    pub tag: String,
    pub source_column: String,
    pub source_column_id: i64,
    pub source_dataset_id: i64,
    pub pipeline: String,
    pub pipeline_id: i64,
    pub statement: i32,
    pub hops: i32,
    pub path: Vec<String>,
}

impl PropagatedFrom {
    pub fn text(&self) -> String {
        format!(
            "{} from {} via {}, statement {} ({})",
            self.tag,
            self.source_column,
            self.pipeline,
            self.statement,
            self.path.join(" → ")
        )
    }
}

pub fn personal_columns(conn: &mut AnyConnection) -> Result<Vec<PersonalColumn>, AppError> {
    let filter = ColumnFilter { personal: true, ..Default::default() };
    let mut out = Vec::new();
    let vocabulary = Vocabulary::load(conn)?;
    let badges = badges(&vocabulary.levels);
    let sources: HashMap<i64, String> = catalog::list_sources(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
    let mut offset = 0;
    loop {
        let (rows, _) = repo::workbench(conn, &filter, offset, 1000, 0)?;
        if rows.is_empty() {
            break;
        }
        offset += rows.len() as i64;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut cats: HashMap<i64, Vec<String>> = HashMap::new();
        for (column, key) in repo::category_keys(conn, &ids)? {
            cats.entry(column).or_default().push(key);
        }
        let mut provenance = super::propagation::load(conn, &ids)?;
        for r in rows {
            let own = cats.remove(&r.id).unwrap_or_default();
            let propagated: Vec<PropagatedFrom> = provenance
                .remove(&r.id)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| p.kind != "level")
                .map(|p| PropagatedFrom {
                    tag: p.label,
                    source_column: p.source,
                    source_column_id: p.source_column_id,
                    source_dataset_id: p.source_dataset_id,
                    pipeline: p.pipeline,
                    pipeline_id: p.pipeline_id,
                    statement: p.statement,
                    hops: p.hops,
                    path: p.path,
                })
                .collect();
            let confirmed = !own.is_empty() || r.identifier_type.is_some();
            let mut categories = own;
            for p in &propagated {
                if !p.tag.starts_with("id: ") && !categories.contains(&p.tag) {
                    categories.push(p.tag.clone());
                }
            }
            out.push(PersonalColumn {
                source: sources.get(&r.source_id).cloned().unwrap_or_default(),
                schema: r.schema_name,
                dataset: r.dataset_name,
                dataset_id: r.dataset_id,
                level: r.level_rank.and_then(|rank| badges.get(&rank)).map(|b| b.name.clone()),
                categories,
                identifier: r.identifier_type,
                origin: match (confirmed, propagated.is_empty()) {
                    (true, true) => "confirmed",
                    (true, false) => "confirmed+propagated",
                    _ => "propagated",
                },
                propagated,
                column: r.name,
                column_id: r.id,
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.source, &a.schema, &a.dataset, &a.column).cmp(&(&b.source, &b.schema, &b.dataset, &b.column))
    });
    Ok(out)
}

#[derive(Template)]
#[template(path = "classification/personal_data.html")]
pub struct PersonalDataPage {
    pub layout: Layout,
    pub groups: Vec<(String, i64, Vec<PersonalColumn>)>,
    pub count: String,
}

pub async fn personal_data(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let columns = read(&state, personal_columns).await?;
    let count = view::plural(columns.len() as i64, "column", "columns");
    let mut groups: Vec<(String, i64, Vec<PersonalColumn>)> = Vec::new();
    for c in columns {
        let path = format!("{}.{}.{}", c.source, c.schema, c.dataset);
        match groups.last_mut() {
            Some((p, _, list)) if *p == path => list.push(c),
            _ => groups.push((path, c.dataset_id, vec![c])),
        }
    }
    render(&PersonalDataPage {
        layout: Layout::new(&state, &user, "Where is personal data?", Section::Classification),
        groups,
        count,
    })
}

#[derive(Deserialize)]
pub struct FormatQuery {
    pub format: Option<String>,
}

/// `GET /api/v1/personal-data` (`?format=csv` for CSV).
#[utoipa::path(get, path = "/api/v1/personal-data", tag = "Classification", params(("format" = Option<String>, Query, description = "json (default) or csv")), responses((status = 200, description = "Every column holding personal data", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn personal_data_api(
    state: web::Data<AppState>,
    _user: CurrentUser,
    q: web::Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let columns = read(&state, personal_columns).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(serde_json::json!({ "items": columns, "total": columns.len() }))),
        "csv" => {
            let mut out =
                String::from("source,schema,dataset,column,level,categories,identifier,origin,propagated_from\r\n");
            for c in &columns {
                let provenance = c.propagated.iter().map(PropagatedFrom::text).collect::<Vec<_>>().join("; ");
                let cells = [
                    c.source.as_str(),
                    c.schema.as_str(),
                    c.dataset.as_str(),
                    c.column.as_str(),
                    c.level.as_deref().unwrap_or(""),
                    &c.categories.join(" "),
                    c.identifier.as_deref().unwrap_or(""),
                    c.origin,
                    &provenance,
                ];
                crate::csv::write_record(&mut out, &cells);
            }
            Ok(HttpResponse::Ok()
                .insert_header((actix_web::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((
                    actix_web::http::header::CONTENT_DISPOSITION,
                    "attachment; filename=\"personal-data.csv\"",
                ))
                .body(out))
        }
        other => Err(AppError::BadRequest(format!("Unknown format {other:?}: use json or csv."))),
    }
}
