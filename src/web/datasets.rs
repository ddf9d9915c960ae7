//! Dataset pages: the filtered, paginated list; one dataset with its columns, keys and foreign
//! keys both ways; and the forms that edit a dataset's description and owner and a column's
//! description.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{Authorized, CurrentUser, EditCatalog};
use super::forms::{self, FieldErrors};
use super::sources::{DESCRIPTION_MAX, OWNER_MAX};
use super::view::{self, Pager};
use super::{AppState, Layout, Section, read, render, render_status, see_other, write};
use crate::db::catalog::{self, DatasetFilter, ForeignKeyLink};
use crate::db::models::{ColumnSummary, Dataset, DatasetColumn, Source};
use crate::error::AppError;
use crate::targets::DatasetKind;

pub const PER_PAGE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub source: Option<i64>,
    pub schema: Option<String>,
    pub kind: Option<String>,
    pub removed: Option<bool>,
    pub page: Option<i64>,
    /// API only: items per page.
    pub per_page: Option<i64>,
}

impl ListQuery {
    /// Turns the query into a filter, refusing values no dataset can have.
    pub fn filter(&self) -> Result<DatasetFilter, AppError> {
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => Some(
                DatasetKind::parse(k)
                    .ok_or_else(|| AppError::BadRequest(format!("Unknown dataset kind {k:?}.")))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        };
        if self.page.is_some_and(|p| p < 1) {
            return Err(AppError::BadRequest("Pages are numbered from 1.".into()));
        }
        Ok(DatasetFilter {
            source_id: self.source,
            schema: self.schema.clone().filter(|s| !s.is_empty()),
            kind,
            include_removed: self.removed.unwrap_or(false),
        })
    }

    fn encoded_without_page(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.source {
            parts.push(format!("source={s}"));
        }
        if let Some(s) = self.schema.as_deref().filter(|s| !s.is_empty()) {
            parts.push(format!("schema={}", encode(s)));
        }
        if let Some(k) = self.kind.as_deref().filter(|k| !k.is_empty()) {
            parts.push(format!("kind={}", encode(k)));
        }
        if self.removed == Some(true) {
            parts.push("removed=true".into());
        }
        parts.join("&")
    }
}

/// Percent-encodes a query-string value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub struct DatasetRow {
    pub id: i64,
    pub source: String,
    pub schema: String,
    pub name: String,
    pub kind: &'static str,
    pub rows: String,
    pub description: String,
    pub removed: bool,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "datasets/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub rows: Vec<DatasetRow>,
    pub pager: Pager,
    pub sources: Vec<Choice>,
    pub schemas: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub include_removed: bool,
    pub filtered: bool,
}

pub fn kind_label(kind: &str) -> &'static str {
    DatasetKind::parse(kind).map_or("unknown", DatasetKind::label)
}

fn row_estimate(d: &Dataset) -> String {
    d.row_estimate.map_or_else(|| "—".to_owned(), view::count)
}

pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = query.filter()?;
    let page = query.page.unwrap_or(1);
    let f = filter.clone();
    let (items, total, sources, schemas) = read(&state, move |conn| {
        let (items, total) = catalog::list_datasets(conn, &f, Pager::offset(page, PER_PAGE), PER_PAGE)?;
        Ok((items, total, catalog::list_sources(conn)?, catalog::list_schemas(conn, f.source_id)?))
    })
    .await?;
    let rows = items
        .into_iter()
        .map(|item| DatasetRow {
            id: item.dataset.id,
            source: item.source_name,
            schema: item.dataset.schema_name.clone(),
            kind: kind_label(&item.dataset.kind),
            rows: row_estimate(&item.dataset),
            description: view::present(&item.dataset.description)
                .or(view::present(&item.dataset.source_comment))
                .map(|d| view::excerpt(d, &[], 120))
                .unwrap_or_default(),
            removed: item.dataset.status == crate::db::models::REMOVED,
            name: item.dataset.name,
        })
        .collect();
    let sources = sources
        .into_iter()
        .map(|s| Choice { selected: filter.source_id == Some(s.id), value: s.id.to_string(), label: s.name })
        .collect();
    let schemas = schemas
        .into_iter()
        .map(|s| Choice { selected: filter.schema.as_deref() == Some(s.as_str()), label: s.clone(), value: s })
        .collect();
    let kinds = DatasetKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.as_str().to_owned(),
            label: k.label().to_owned(),
            selected: filter.kind.as_deref() == Some(k.as_str()),
        })
        .collect();
    let filtered = filter.source_id.is_some() || filter.schema.is_some() || filter.kind.is_some();
    render(&ListPage {
        layout: Layout::new(&state, &user, "Datasets", Section::Catalog),
        pager: Pager::new("/datasets", &query.encoded_without_page(), page, PER_PAGE, total, false),
        rows,
        sources,
        schemas,
        kinds,
        include_removed: filter.include_removed,
        filtered,
    })
}

pub struct ColumnRow {
    pub id: i64,
    pub ordinal: i32,
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub primary_key: bool,
    pub default_value: Option<String>,
    pub description: Option<String>,
    /// The description comes from the target's own comment, not from a person.
    pub description_from_source: bool,
    pub references: Vec<(i64, String)>,
    pub removed: bool,
    pub badge: Option<super::classification::LevelBadge>,
    /// Confirmed categories.
    pub categories: Vec<String>,
    pub identifier: Option<String>,
    /// Categories suggested and not yet reviewed.
    pub suggested: Vec<String>,
    pub propagated: Vec<super::propagation::Provenance>,
}

pub struct KeyLine {
    pub dataset_id: i64,
    pub dataset: String,
    pub local_columns: String,
    pub other_columns: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "datasets/show.html")]
pub struct ShowPage {
    pub layout: Layout,
    /// The dataset's effective level (the highest of its columns').
    pub badge: Option<super::classification::LevelBadge>,
    pub can_classify: bool,
    pub can_propose: bool,
    /// Whether this user may choose how erasure treats the dataset, and what it does now.
    pub can_set_erasure_action: bool,
    pub masks_on_erasure: bool,
    /// The retention policy in force and the column that dates the rows.
    pub retention: crate::retention::DatasetRetention,
    pub can_set_timestamp: bool,
    pub can_manage_retention: bool,
    /// Policies that can be applied here (compliance only).
    pub policies: Vec<(i64, String)>,
    pub hold_bases: Vec<(&'static str, &'static str)>,
    pub dataset: Dataset,
    pub source: Source,
    pub kind: &'static str,
    pub rows: String,
    pub description: Option<String>,
    pub source_comment: Option<String>,
    pub owner: Option<String>,
    pub columns: Vec<ColumnRow>,
    pub active_columns: usize,
    pub primary_key: Vec<String>,
    pub references: Vec<KeyLine>,
    pub referenced_by: Vec<KeyLine>,
    pub removed: bool,
    pub created: String,
    pub updated: String,
    pub last_crawled: Option<String>,
    /// Changes people made, newest first (from the audit log).
    pub history: Vec<super::audit::EventRow>,
    /// Upstream and downstream datasets and column lineage, from ingested pipelines.
    pub lineage: super::lineage::DatasetLineageView,
    /// Named in pipeline SQL and never crawled.
    pub referenced: bool,
}

fn key_line(link: &ForeignKeyLink, outgoing: bool) -> KeyLine {
    let from = catalog::parse_json_list(&link.foreign_key.from_columns).join(", ");
    let to = catalog::parse_json_list(&link.foreign_key.to_columns).join(", ");
    let (local_columns, other_columns) = if outgoing { (from, to) } else { (to, from) };
    KeyLine {
        dataset_id: link.other_id,
        dataset: format!("{}.{}", link.other_schema, link.other_name),
        local_columns,
        other_columns,
        name: link.foreign_key.name.clone(),
    }
}

/// The classification of a dataset's columns, for its page.
pub struct ColumnClasses {
    pub badges: HashMap<i32, super::classification::LevelBadge>,
    pub categories: HashMap<i64, Vec<String>>,
    pub suggested: HashMap<i64, Vec<String>>,
    pub propagated: HashMap<i64, Vec<super::propagation::Provenance>>,
}

impl ColumnClasses {
    pub fn load(
        conn: &mut crate::db::AnyConnection,
        columns: &[crate::db::models::ColumnSummary],
    ) -> Result<Self, AppError> {
        use crate::db::classification as repo;
        let ids: Vec<i64> = columns.iter().map(|c| c.id).collect();
        let mut categories: HashMap<i64, Vec<String>> = HashMap::new();
        for (column, key) in repo::category_keys(conn, &ids)? {
            categories.entry(column).or_default().push(key);
        }
        let keys: HashMap<i64, String> = repo::list_categories(conn)?.into_iter().map(|c| (c.id, c.key)).collect();
        let mut suggested: HashMap<i64, Vec<String>> = HashMap::new();
        for s in repo::open_suggestions_for(conn, &ids)? {
            if let Some(key) = keys.get(&s.category_id) {
                suggested.entry(s.column_id).or_default().push(key.clone());
            }
        }
        let propagated = super::propagation::load(conn, &ids)?;
        Ok(Self { badges: super::classification::badges(&repo::list_levels(conn)?), categories, suggested, propagated })
    }
}

/// Everything the dataset page shows, loaded in one go.
pub struct DatasetDetail {
    pub dataset: Dataset,
    pub source: Source,
    pub columns: Vec<ColumnSummary>,
    pub outgoing: Vec<ForeignKeyLink>,
    pub incoming: Vec<ForeignKeyLink>,
}

pub fn load_detail(conn: &mut crate::db::AnyConnection, id: i64) -> Result<DatasetDetail, AppError> {
    let (dataset, source) =
        catalog::find_dataset(conn, id)?.ok_or_else(|| AppError::not_found(format!("Dataset {id}")))?;
    let columns = catalog::list_columns(conn, id)?;
    let (outgoing, incoming) = catalog::foreign_keys_of(conn, id)?;
    Ok(DatasetDetail { dataset, source, columns, outgoing, incoming })
}

pub async fn show(state: web::Data<AppState>, user: CurrentUser, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (detail, history, classes, lineage, erasure_action, retention, policies) = read(&state, move |conn| {
        let detail = load_detail(conn, id)?;
        let history = super::audit::dataset_history(conn, id, 15)?;
        let classes = ColumnClasses::load(conn, &detail.columns)?;
        let lineage = super::lineage::load_dataset_lineage(conn, id)?;
        let action = crate::db::erasure::dataset_actions(conn)?.remove(&id);
        let retention = crate::retention::dataset_retention(conn, id)?;
        let policies: Vec<(i64, String)> = crate::db::retention::list_policies(conn)?
            .into_iter()
            .map(|p| (p.id, format!("{} ({})", p.name, p.period)))
            .collect();
        Ok((detail, history, classes, lineage, action, retention, policies))
    })
    .await?;
    let DatasetDetail { dataset, source, columns, outgoing, incoming } = detail;
    let ColumnClasses { badges, mut categories, mut suggested, mut propagated } = classes;
    let column_rows: Vec<ColumnRow> = columns
        .into_iter()
        .map(|c| {
            let references = outgoing
                .iter()
                .filter(|l| catalog::parse_json_list(&l.foreign_key.from_columns).contains(&c.name))
                .map(|l| (l.other_id, format!("{}.{}", l.other_schema, l.other_name)))
                .collect();
            let (description, description_from_source) =
                match (view::present(&c.description), view::present(&c.source_comment)) {
                    (Some(d), _) => (Some(d.to_owned()), false),
                    (None, Some(d)) => (Some(d.to_owned()), true),
                    (None, None) => (None, false),
                };
            ColumnRow {
                id: c.id,
                ordinal: c.ordinal,
                data_type: c.data_type,
                nullable: c.nullable,
                primary_key: c.is_primary_key,
                default_value: c.default_value,
                description,
                description_from_source,
                references,
                removed: c.status == crate::db::models::REMOVED,
                badge: c.level_rank.and_then(|r| badges.get(&r).cloned()),
                categories: categories.remove(&c.id).unwrap_or_default(),
                identifier: c.identifier_type,
                suggested: suggested.remove(&c.id).unwrap_or_default(),
                propagated: propagated.remove(&c.id).unwrap_or_default(),
                name: c.name,
            }
        })
        .collect();
    let primary_key = column_rows.iter().filter(|c| c.primary_key && !c.removed).map(|c| c.name.clone()).collect();
    let active_columns = column_rows.iter().filter(|c| !c.removed).count();
    render(&ShowPage {
        layout: Layout::new(&state, &user, format!("{}.{}", dataset.schema_name, dataset.name), Section::Catalog),
        badge: dataset.level_rank.and_then(|r| badges.get(&r).cloned()),
        can_classify: user.can(crate::governance::access::Permission::Classify),
        can_propose: user.can(crate::governance::access::Permission::ProposeClassification),
        can_set_erasure_action: user.can(crate::governance::access::Permission::ApproveErasure),
        masks_on_erasure: erasure_action.as_deref() == Some("mask"),
        retention,
        can_set_timestamp: user.can(crate::governance::access::Permission::ManageRetention)
            || user.can(crate::governance::access::Permission::EditCatalog),
        can_manage_retention: user.can(crate::governance::access::Permission::ManageRetention),
        policies,
        hold_bases: crate::governance::erasure::HOLD_BASES.to_vec(),
        kind: kind_label(&dataset.kind),
        rows: row_estimate(&dataset),
        description: view::present(&dataset.description).map(str::to_owned),
        source_comment: view::present(&dataset.source_comment).map(str::to_owned),
        owner: view::present(&dataset.owner).map(str::to_owned),
        columns: column_rows,
        active_columns,
        primary_key,
        references: outgoing.iter().map(|l| key_line(l, true)).collect(),
        referenced_by: incoming.iter().map(|l| key_line(l, false)).collect(),
        removed: dataset.status == crate::db::models::REMOVED,
        created: view::time(&dataset.created_at),
        updated: view::time(&dataset.updated_at),
        last_crawled: dataset.last_crawled_at.as_ref().map(view::time),
        history,
        lineage,
        referenced: dataset.kind == crate::db::lineage::REFERENCED,
        dataset,
        source,
    })
}

#[derive(Deserialize, Default, Clone)]
pub struct DetailsForm {
    pub description: Option<String>,
    pub owner: Option<String>,
}

#[derive(Template)]
#[template(path = "datasets/edit.html")]
pub struct EditPage {
    pub layout: Layout,
    pub dataset: Dataset,
    pub source: Source,
    pub description: String,
    pub owner: String,
    pub errors: FieldErrors,
}

async fn find(state: &AppState, id: i64) -> Result<(Dataset, Source), AppError> {
    read(state, move |conn| {
        catalog::find_dataset(conn, id)?.ok_or_else(|| AppError::not_found(format!("Dataset {id}")))
    })
    .await
}

pub async fn edit_form(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let (dataset, source) = find(&state, id.into_inner()).await?;
    render(&EditPage {
        layout: Layout::new(&state, &user, format!("Edit {}.{}", dataset.schema_name, dataset.name), Section::Catalog),
        description: dataset.description.clone().unwrap_or_default(),
        owner: dataset.owner.clone().unwrap_or_default(),
        dataset,
        source,
        errors: FieldErrors::default(),
    })
}

pub async fn update(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
    form: web::Form<DetailsForm>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let id = id.into_inner();
    let (dataset, source) = find(&state, id).await?;
    let mut errors = FieldErrors::default();
    let description = forms::optional_text(&mut errors, "description", form.description.as_deref(), DESCRIPTION_MAX);
    let owner = forms::optional_text(&mut errors, "owner", form.owner.as_deref(), OWNER_MAX);
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EditPage {
                layout: Layout::new(
                    &state,
                    &user,
                    format!("Edit {}.{}", dataset.schema_name, dataset.name),
                    Section::Catalog,
                ),
                description: form.description.clone().unwrap_or_default(),
                owner: form.owner.clone().unwrap_or_default(),
                dataset,
                source,
                errors,
            },
        );
    }
    let by = user.audit();
    write(&state, move |conn| {
        crate::catalog::edit_dataset(conn, &by, id, description.as_deref(), owner.as_deref(), crate::db::now())?;
        Ok(())
    })
    .await?;
    Ok(see_other(&format!("/datasets/{id}")))
}

#[derive(Deserialize, Default, Clone)]
pub struct ColumnForm {
    pub description: Option<String>,
}

#[derive(Template)]
#[template(path = "datasets/column_edit.html")]
pub struct ColumnEditPage {
    pub layout: Layout,
    pub dataset: Dataset,
    pub column: DatasetColumn,
    pub description: String,
    pub errors: FieldErrors,
}

async fn find_column(state: &AppState, id: i64, column_id: i64) -> Result<(Dataset, DatasetColumn), AppError> {
    read(state, move |conn| {
        let (dataset, _) =
            catalog::find_dataset(conn, id)?.ok_or_else(|| AppError::not_found(format!("Dataset {id}")))?;
        let column = catalog::find_column(conn, id, column_id)?
            .ok_or_else(|| AppError::not_found(format!("DatasetColumn {column_id} of dataset {id}")))?;
        Ok((dataset, column))
    })
    .await
}

pub async fn column_edit_form(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let (id, column_id) = path.into_inner();
    let (dataset, column) = find_column(&state, id, column_id).await?;
    render(&ColumnEditPage {
        layout: Layout::new(&state, &user, format!("Edit column {}", column.name), Section::Catalog),
        description: column.description.clone().unwrap_or_default(),
        dataset,
        column,
        errors: FieldErrors::default(),
    })
}

pub async fn column_update(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    path: web::Path<(i64, i64)>,
    form: web::Form<ColumnForm>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let (id, column_id) = path.into_inner();
    let (dataset, column) = find_column(&state, id, column_id).await?;
    let mut errors = FieldErrors::default();
    let description = forms::optional_text(&mut errors, "description", form.description.as_deref(), DESCRIPTION_MAX);
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ColumnEditPage {
                layout: Layout::new(&state, &user, format!("Edit column {}", column.name), Section::Catalog),
                description: form.description.clone().unwrap_or_default(),
                dataset,
                column,
                errors,
            },
        );
    }
    let by = user.audit();
    write(&state, move |conn| {
        Ok(crate::catalog::edit_column(conn, &by, id, column_id, description.as_deref(), crate::db::now())?)
    })
    .await?;
    Ok(see_other(&format!("/datasets/{id}#column-{column_id}")))
}
