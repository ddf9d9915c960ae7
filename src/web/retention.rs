//! Retention pages: policies and where they apply, previews and purges with their per-dataset
//! counts and receipts, legal holds, the storage-limitation report and the records of
//! processing (page, CSV, JSON); the dataset page's timestamp-column form. The work is done by
//! `crate::retention`, which writes the audit events.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{Authorized, CurrentUser, ManageRetention, ReadCatalog};
use super::classification::FormatQuery;
#[allow(unused_imports)]
use super::openapi::ApiError;
use super::{AppState, Layout, Section, attachment, read, render_status, see_other, write};
use crate::db::retention as repo;
use crate::db::{AnyConnection, catalog, classification};
use crate::error::AppError;
use crate::governance::access::Permission;
use crate::governance::erasure::HOLD_BASES;
use crate::governance::retention::Period;
use crate::retention::{
    self as service, HoldInput, HoldScope, HoldView, PolicyInput, ProcessingRecord, RunView, ScopeRef, StorageLine,
};

pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub period: String,
    pub period_words: String,
    pub action: String,
    pub mask_columns: String,
    pub legal_basis: String,
    pub description: String,
    pub assignments: Vec<AssignmentRow>,
}

pub struct AssignmentRow {
    pub id: i64,
    pub scope: String,
    pub target: String,
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "retention/index.html")]
pub struct IndexPage {
    pub layout: Layout,
    pub message: Option<String>,
    pub policies: Vec<PolicyRow>,
    pub runs: Vec<RunView>,
    pub can_manage: bool,
    pub sources: Vec<(i64, String)>,
    pub schemas: Vec<(String, String)>,
    pub categories: Vec<(i64, String)>,
    pub form: PolicyForm,
    pub active_holds: usize,
    /// Compliance officers and administrators see the holds.
    pub can_see_holds: bool,
}

#[derive(Deserialize, Default, Clone)]
pub struct PolicyForm {
    pub name: Option<String>,
    pub period: Option<String>,
    pub action: Option<String>,
    pub mask_columns: Option<String>,
    pub legal_basis: Option<String>,
    pub description: Option<String>,
}

impl PolicyForm {
    fn input(&self) -> PolicyInput {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        PolicyInput {
            name: text(&self.name),
            period: text(&self.period),
            action: self.action.clone().unwrap_or_else(|| "delete".into()),
            mask_columns: text(&self.mask_columns),
            legal_basis: text(&self.legal_basis),
            description: text(&self.description),
        }
    }
}

impl IndexPage {
    fn badge(&self, status: &str) -> &'static str {
        run_badge(status)
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn masks(&self) -> bool {
        self.form.action.as_deref() == Some("mask")
    }
}

fn assignment_target(
    conn: &mut AnyConnection,
    a: &repo::AssignmentRow,
    inheritance: &service::Inheritance,
) -> Result<(String, Option<String>), AppError> {
    Ok(match a.scope.as_str() {
        "source" => {
            (format!("source {}", inheritance.source_name(a.scope_id)), Some(format!("/sources/{}", a.scope_id)))
        }
        "schema" => (
            format!("schema {}.{}", inheritance.source_name(a.scope_id), a.schema_name),
            Some(format!("/sources/{}", a.scope_id)),
        ),
        "category" => (format!("category {}", inheritance.category_label(a.scope_id)), None),
        _ => match catalog::find_dataset(conn, a.scope_id)? {
            Some((d, s)) => {
                (format!("dataset {}.{}.{}", s.name, d.schema_name, d.name), Some(format!("/datasets/{}", a.scope_id)))
            }
            None => (format!("dataset {}", a.scope_id), None),
        },
    })
}

async fn index_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    form: PolicyForm,
) -> Result<IndexPage, AppError> {
    let (policies, runs, sources, schemas, categories, active_holds) = read(state, |conn| {
        let inheritance = service::Inheritance::load(conn, Some(&[]))?;
        let assignments = repo::list_assignments(conn)?;
        let mut policies = Vec::new();
        for p in repo::list_policies(conn)? {
            let mut rows = Vec::new();
            for a in assignments.iter().filter(|a| a.policy_id == p.id) {
                let (target, link) = assignment_target(conn, a, &inheritance)?;
                rows.push(AssignmentRow { id: a.id, scope: a.scope.clone(), target, link });
            }
            policies.push(PolicyRow {
                id: p.id,
                period_words: p.period.parse::<Period>().map(|x| x.describe()).unwrap_or_default(),
                mask_columns: p.mask_column_names().join(", "),
                name: p.name,
                period: p.period,
                action: p.action,
                legal_basis: p.legal_basis,
                description: p.description,
                assignments: rows,
            });
        }
        let runs = service::recent_runs(conn, 10)?;
        let sources: Vec<(i64, String)> = catalog::list_sources(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
        let mut schemas = Vec::new();
        for (id, name) in &sources {
            for schema in catalog::list_schemas(conn, Some(*id))? {
                schemas.push((format!("{id}:{schema}"), format!("{name}.{schema}")));
            }
        }
        let categories = classification::list_categories(conn)?.into_iter().map(|c| (c.id, c.label)).collect();
        let active_holds = service::holds(conn)?.iter().filter(|h| h.active).count();
        Ok((policies, runs, sources, schemas, categories, active_holds))
    })
    .await?;
    Ok(IndexPage {
        layout: Layout::new(state, user, "Retention", Section::Retention),
        message,
        policies,
        runs,
        can_manage: user.can(Permission::ManageRetention),
        sources,
        schemas,
        categories,
        form,
        active_holds,
        can_see_holds: user.can(Permission::ManageRetention) || user.can(Permission::ReadAudit),
    })
}

/// `GET /retention`.
pub async fn index(state: web::Data<AppState>, auth: Authorized<ReadCatalog>) -> Result<HttpResponse, AppError> {
    let form = PolicyForm { action: Some("delete".into()), ..Default::default() };
    render_status(StatusCode::OK, &index_page(&state, &auth.user, None, form).await?)
}

/// `POST /retention/policies`: a new policy; the page again with the reason when refused.
pub async fn create_policy(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = form.input();
    let by = auth.user.audit();
    let outcome = write(&state, move |conn| service::create_policy(conn, &by, &input).map_err(AppError::from)).await;
    match outcome {
        Ok(_) => Ok(see_other("/retention#policies")),
        Err(AppError::Unprocessable(m) | AppError::Conflict(m)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &index_page(&state, &auth.user, Some(m), form).await?)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "retention/policy.html")]
pub struct PolicyPage {
    pub layout: Layout,
    pub id: i64,
    pub message: Option<String>,
    pub form: PolicyForm,
}

impl PolicyPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn masks(&self) -> bool {
        self.form.action.as_deref() == Some("mask")
    }
}

/// `GET /retention/policies/{id}`: the edit form.
pub async fn policy_form(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let p = read(&state, move |conn| {
        repo::find_policy(conn, id)?.ok_or_else(|| AppError::not_found(format!("Retention policy {id}")))
    })
    .await?;
    let form = PolicyForm {
        mask_columns: Some(p.mask_column_names().join(", ")),
        name: Some(p.name.clone()),
        period: Some(p.period),
        action: Some(p.action),
        legal_basis: Some(p.legal_basis),
        description: Some(p.description),
    };
    let page = PolicyPage {
        layout: Layout::new(&state, &auth.user, format!("Policy {}", p.name), Section::Retention),
        id,
        message: None,
        form,
    };
    render_status(StatusCode::OK, &page)
}

/// `POST /retention/policies/{id}`.
pub async fn update_policy(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    id: web::Path<i64>,
    form: web::Form<PolicyForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let form = form.into_inner();
    let input = form.input();
    let by = auth.user.audit();
    match write(&state, move |conn| service::update_policy(conn, &by, id, &input).map_err(AppError::from)).await {
        Ok(()) => Ok(see_other("/retention#policies")),
        Err(AppError::Unprocessable(m) | AppError::Conflict(m)) => {
            let page = PolicyPage {
                layout: Layout::new(&state, &auth.user, "Edit policy", Section::Retention),
                id,
                message: Some(m),
                form,
            };
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    pub policy_id: i64,
    pub scope: String,
    pub source_id: Option<String>,
    /// `SOURCE_ID:SCHEMA`
    pub schema: Option<String>,
    pub category_id: Option<String>,
    pub dataset_id: Option<String>,
    /// Where to go back to.
    pub back: Option<String>,
}

fn id_field(value: &Option<String>, what: &str) -> Result<i64, AppError> {
    value
        .as_deref()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| AppError::BadRequest(format!("Choose the {what} the policy applies to.")))
}

/// `POST /retention/assignments`.
pub async fn assign(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    form: web::Form<AssignForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let scope = match form.scope.as_str() {
        "source" => ScopeRef::Source(id_field(&form.source_id, "source")?),
        "schema" => {
            let value = form.schema.as_deref().unwrap_or("");
            let (id, schema) = value
                .split_once(':')
                .and_then(|(id, s)| Some((id.parse::<i64>().ok()?, s.to_owned())))
                .ok_or_else(|| AppError::BadRequest("Choose the schema the policy applies to.".into()))?;
            ScopeRef::Schema(id, schema)
        }
        "category" => ScopeRef::Category(id_field(&form.category_id, "category")?),
        "dataset" => ScopeRef::Dataset(id_field(&form.dataset_id, "dataset")?),
        other => {
            return Err(AppError::BadRequest(format!("Unknown scope {other:?}: source, schema, category or dataset.")));
        }
    };
    let back = match (&scope, form.back.as_deref()) {
        (ScopeRef::Dataset(id), Some("dataset")) => format!("/datasets/{id}#retention"),
        _ => "/retention#policies".to_owned(),
    };
    let by = auth.user.audit();
    let policy_id = form.policy_id;
    write(&state, move |conn| service::assign(conn, &by, policy_id, &scope).map_err(AppError::from)).await?;
    Ok(see_other(&back))
}

/// `POST /retention/assignments/{id}/delete`.
pub async fn unassign(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = auth.user.audit();
    write(&state, move |conn| service::unassign(conn, &by, id).map_err(AppError::from)).await?;
    Ok(see_other("/retention#policies"))
}

/// `POST /retention/preview` and `POST /retention/run`: queue a dry run or a purge, then follow it.
pub async fn start(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let dry_run = req.path().ends_with("/preview");
    let by = auth.user.audit();
    let id =
        write(&state, move |conn| service::request_run(conn, &by, dry_run, "manual").map_err(AppError::from)).await?;
    state.jobs.notify();
    Ok(see_other(&format!("/retention/runs/{id}")))
}

#[derive(Template)]
#[template(path = "retention/run.html")]
pub struct RunPage {
    pub layout: Layout,
    pub run: RunView,
    pub progress: Option<String>,
    pub can_manage: bool,
}

impl RunPage {
    fn badge(&self, status: &str) -> &'static str {
        run_badge(status)
    }

    fn skipped(&self) -> usize {
        self.run.steps.iter().filter(|s| s.status == "skipped").count()
    }

    fn finished(&self) -> bool {
        !matches!(self.run.status.as_str(), "queued" | "running")
    }
}

pub fn run_badge(status: &str) -> &'static str {
    match status {
        "queued" | "pending" | "previewed" => "state state-queued",
        "running" => "state state-running",
        "done" => "state state-succeeded",
        "held" => "state state-warning",
        "skipped" => "state",
        _ => "state state-failed",
    }
}

/// `GET /retention/runs/{id}`.
pub async fn run(
    state: web::Data<AppState>,
    auth: Authorized<ReadCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let run = read(&state, move |conn| service::run_view(conn, id).map_err(AppError::from)).await?;
    let progress = state
        .progress
        .get(crate::jobs::retention::board_id(id))
        .map(|p| if p.total > 0 { format!("{}: {} of {} rows", p.stage, p.done, p.total) } else { p.stage });
    let mut layout = Layout::new(&state, &auth.user, format!("Purge {id}"), Section::Retention);
    if matches!(run.status.as_str(), "queued" | "running") {
        layout.refresh = Some(2);
    }
    render_status(
        StatusCode::OK,
        &RunPage { layout, run, progress, can_manage: auth.user.can(Permission::ManageRetention) },
    )
}

/// `GET /retention/runs/{id}/receipt`: the signed receipt, as a download.
pub async fn receipt(
    state: web::Data<AppState>,
    auth: Authorized<ReadCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let _ = auth;
    let id = id.into_inner();
    let text = read(&state, move |conn| service::receipt(conn, id).map_err(AppError::from)).await?;
    Ok(attachment("application/json", &format!("purge-receipt-{id}.json"), text))
}

// ---------------------------------------------------------------------------------------------
// Holds

#[derive(Template)]
#[template(path = "retention/holds.html")]
pub struct HoldsPage {
    pub layout: Layout,
    pub message: Option<String>,
    pub holds: Vec<HoldView>,
    pub can_manage: bool,
    pub bases: Vec<(&'static str, &'static str)>,
    pub sources: Vec<(i64, String)>,
    pub categories: Vec<(i64, String)>,
    pub identifier_types: Vec<(String, String)>,
    pub today: String,
}

async fn holds_page(state: &AppState, user: &CurrentUser, message: Option<String>) -> Result<HoldsPage, AppError> {
    let (holds, sources, categories, identifier_types) = read(state, |conn| {
        Ok((
            service::holds(conn)?,
            catalog::list_sources(conn)?.into_iter().map(|s| (s.id, s.name)).collect(),
            classification::list_categories(conn)?.into_iter().map(|c| (c.id, c.label)).collect(),
            classification::list_identifier_types(conn)?.into_iter().map(|t| (t.key, t.label)).collect(),
        ))
    })
    .await?;
    Ok(HoldsPage {
        layout: Layout::new(state, user, "Legal holds", Section::Retention),
        message,
        holds,
        can_manage: user.can(Permission::ManageRetention),
        bases: HOLD_BASES.to_vec(),
        sources,
        categories,
        identifier_types,
        today: crate::db::now().date().to_string(),
    })
}

/// `GET /holds`: for compliance officers and administrators (a hold's reason may name a
/// litigation or an investigation).
pub async fn holds(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    if !user.can(Permission::ManageRetention) && !user.can(Permission::ReadAudit) {
        return Err(AppError::Forbidden(format!(
            "You are signed in as {} ({}); legal holds are shown to compliance officers and administrators.",
            user.actor,
            user.role.label()
        )));
    }
    render_status(StatusCode::OK, &holds_page(&state, &user, None).await?)
}

#[derive(Deserialize)]
pub struct HoldForm {
    pub scope: String,
    pub source_id: Option<String>,
    pub dataset_id: Option<String>,
    pub column_id: Option<String>,
    pub category_id: Option<String>,
    pub identifier_type: Option<String>,
    pub value: Option<String>,
    pub basis: String,
    pub reason: String,
    pub until: Option<String>,
    pub back: Option<String>,
}

/// `POST /holds`.
pub async fn add_hold(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    form: web::Form<HoldForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let id = |v: &Option<String>, what: &str| {
        v.as_deref()
            .and_then(|v| v.trim().parse::<i64>().ok())
            .ok_or_else(|| AppError::BadRequest(format!("Choose the {what} the hold covers.")))
    };
    let scope = match form.scope.as_str() {
        "source" => HoldScope::Source(id(&form.source_id, "source")?),
        "dataset" => HoldScope::Dataset(id(&form.dataset_id, "dataset")?),
        "column" => HoldScope::Column(id(&form.column_id, "column")?),
        "category" => HoldScope::Category(id(&form.category_id, "category")?),
        "subject" => HoldScope::Subject {
            identifier_type: form.identifier_type.clone().unwrap_or_default(),
            value: form.value.clone().unwrap_or_default(),
        },
        other => return Err(AppError::BadRequest(format!("Unknown scope {other:?}."))),
    };
    let until = match form.until.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest("Give the end date as YYYY-MM-DD.".into()))?,
        ),
    };
    let back = match (form.back.as_deref(), form.dataset_id.as_deref().and_then(|d| d.trim().parse::<i64>().ok())) {
        (Some("dataset"), Some(d)) => format!("/datasets/{d}#retention"),
        _ => "/holds".to_owned(),
    };
    let input = HoldInput { scope, basis: form.basis, reason: form.reason, until };
    let by = auth.user.audit();
    let keys = state.keys.clone();
    match write(&state, move |conn| service::add_hold(conn, &keys, &by, &input).map_err(AppError::from)).await {
        Ok(_) => Ok(see_other(&back)),
        Err(AppError::Unprocessable(m)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &holds_page(&state, &auth.user, Some(m)).await?)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    pub reason: String,
}

/// `POST /holds/{id}/release`.
pub async fn release_hold(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    id: web::Path<i64>,
    form: web::Form<ReleaseForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = auth.user.audit();
    let reason = form.into_inner().reason;
    write(&state, move |conn| service::release_hold(conn, &by, id, &reason).map_err(AppError::from)).await?;
    Ok(see_other("/holds"))
}

// ---------------------------------------------------------------------------------------------
// Reports

#[derive(Template)]
#[template(path = "retention/storage.html")]
pub struct StoragePage {
    pub layout: Layout,
    pub lines: Vec<StorageLine>,
    pub no_policy: usize,
    pub no_timestamp: usize,
    pub past_due: usize,
}

/// `GET /reports/storage-limitation`.
pub async fn storage(state: web::Data<AppState>, auth: Authorized<ReadCatalog>) -> Result<HttpResponse, AppError> {
    let lines = read(&state, |conn| service::storage_limitation(conn).map_err(AppError::from)).await?;
    let count = |p: &str| lines.iter().filter(|l| l.problem == p).count();
    let page = StoragePage {
        layout: Layout::new(&state, &auth.user, "Storage limitation", Section::Retention),
        no_policy: count("no_policy"),
        no_timestamp: count("no_timestamp"),
        past_due: count("past_due"),
        lines,
    };
    render_status(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "retention/records.html")]
pub struct RecordsPage {
    pub layout: Layout,
    pub records: Vec<ProcessingRecord>,
}

/// `GET /reports/records-of-processing` (`?format=csv` or `json` to download).
pub async fn records(
    state: web::Data<AppState>,
    auth: Authorized<ReadCatalog>,
    query: web::Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let records = read(&state, |conn| service::records_of_processing(conn).map_err(AppError::from)).await?;
    match query.format.as_deref() {
        None | Some("html") => {
            let page = RecordsPage {
                layout: Layout::new(&state, &auth.user, "Records of processing", Section::Retention),
                records,
            };
            render_status(StatusCode::OK, &page)
        }
        Some(format) => records_download(&records, format),
    }
}

/// The records of processing as a CSV or JSON download.
fn records_download(records: &[ProcessingRecord], format: &str) -> Result<HttpResponse, AppError> {
    match format {
        "csv" => Ok(attachment("text/csv; charset=utf-8", "records-of-processing.csv", service::records_csv(records))),
        "json" => Ok(attachment(
            "application/json",
            "records-of-processing.json",
            serde_json::to_string_pretty(&serde_json::json!({ "records": records })).unwrap_or_default(),
        )),
        other => Err(AppError::BadRequest(format!("Unknown format {other:?}: use csv or json."))),
    }
}

// ---------------------------------------------------------------------------------------------
// The dataset page

#[derive(Deserialize)]
pub struct TimestampForm {
    pub column: String,
}

/// `POST /datasets/{id}/retention-timestamp`: the column that dates the rows (empty clears it).
pub async fn set_timestamp(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: web::Form<TimestampForm>,
) -> Result<HttpResponse, AppError> {
    if !user.can(Permission::ManageRetention) && !user.can(Permission::EditCatalog) {
        return Err(AppError::Forbidden(format!(
            "You are signed in as {} ({}); setting the column that dates a dataset's rows needs the role of steward, \
             compliance officer or administrator.",
            user.actor,
            user.role.label()
        )));
    }
    let id = id.into_inner();
    let column = form.into_inner().column.trim().to_owned();
    let by = user.audit();
    write(&state, move |conn| {
        service::set_timestamp(conn, &by, id, (!column.is_empty()).then_some(column.as_str())).map_err(AppError::from)
    })
    .await?;
    Ok(see_other(&format!("/datasets/{id}#retention")))
}

// ---------------------------------------------------------------------------------------------
// API

/// `GET /api/v1/retention/policies`: every policy with where it is assigned.
#[utoipa::path(get, path = "/api/v1/retention/policies", tag = "Retention", responses((status = 200, description = "Every policy and where it is assigned", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_policies(state: web::Data<AppState>, auth: Authorized<ReadCatalog>) -> Result<HttpResponse, AppError> {
    let _ = auth;
    let body = read(&state, |conn| {
        let assignments = repo::list_assignments(conn)?;
        let policies: Vec<serde_json::Value> = repo::list_policies(conn)?
            .into_iter()
            .map(|p| {
                serde_json::json!({
                    "id": p.id, "name": p.name, "period": p.period, "action": p.action,
                    "mask_columns": p.mask_column_names(), "legal_basis": p.legal_basis,
                    "description": p.description,
                    "assignments": assignments.iter().filter(|a| a.policy_id == p.id).map(|a| serde_json::json!({
                        "id": a.id, "scope": a.scope, "scope_id": a.scope_id,
                        "schema": (!a.schema_name.is_empty()).then_some(a.schema_name.clone()),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(serde_json::json!({ "items": policies }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// `GET /api/v1/datasets/{id}/retention`: the policy in force and where it comes from.
#[utoipa::path(get, path = "/api/v1/datasets/{id}/retention", tag = "Retention", params(("id" = i64, Path, description = "Dataset id")), responses((status = 200, description = "The policy in force and where it comes from", body = serde_json::Value), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_dataset(
    state: web::Data<AppState>,
    auth: Authorized<ReadCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let _ = auth;
    let id = id.into_inner();
    let r = read(&state, move |conn| service::dataset_retention(conn, id).map_err(AppError::from)).await?;
    Ok(HttpResponse::Ok().json(r))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RunBody {
    #[serde(default)]
    pub dry_run: bool,
}

/// `POST /api/v1/retention/runs` (`{"dry_run": true}` for a preview): 202 with the queued run.
#[utoipa::path(post, path = "/api/v1/retention/runs", tag = "Retention", request_body = RunBody, responses((status = 202, description = "The purge (or preview) is queued", body = RunView), (status = 409, description = "A purge is already queued or running", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_start(
    state: web::Data<AppState>,
    auth: Authorized<ManageRetention>,
    body: web::Json<RunBody>,
) -> Result<HttpResponse, AppError> {
    super::api::require_token(&auth.user)?;
    let by = auth.user.audit();
    let dry_run = body.dry_run;
    let run = write(&state, move |conn| {
        let id = service::request_run(conn, &by, dry_run, "manual")?;
        Ok(service::run_view(conn, id)?)
    })
    .await?;
    state.jobs.notify();
    Ok(HttpResponse::Accepted()
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/retention/runs/{}", run.id)))
        .json(run))
}

/// `GET /api/v1/retention/runs/{id}`: a run with its per-dataset counts.
#[utoipa::path(get, path = "/api/v1/retention/runs/{id}", tag = "Retention", params(("id" = i64, Path, description = "Purge id")), responses((status = 200, description = "The run with its per-dataset counts", body = RunView), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_run(
    state: web::Data<AppState>,
    auth: Authorized<ReadCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let _ = auth;
    let id = id.into_inner();
    let run = read(&state, move |conn| service::run_view(conn, id).map_err(AppError::from)).await?;
    Ok(HttpResponse::Ok().json(run))
}

/// `GET /api/v1/retention/storage-limitation`.
#[utoipa::path(get, path = "/api/v1/retention/storage-limitation", tag = "Retention", responses((status = 200, description = "Personal data with no enforceable policy, or rows waiting", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_storage(state: web::Data<AppState>, auth: Authorized<ReadCatalog>) -> Result<HttpResponse, AppError> {
    let _ = auth;
    let lines = read(&state, |conn| service::storage_limitation(conn).map_err(AppError::from)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": lines, "total": lines.len() })))
}

/// `GET /api/v1/retention/records-of-processing` (`?format=csv` for CSV).
#[utoipa::path(get, path = "/api/v1/retention/records-of-processing", tag = "Retention", params(("format" = Option<String>, Query, description = "json (default) or csv")), responses((status = 200, description = "The records of processing (Art. 30)", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_records(
    state: web::Data<AppState>,
    auth: Authorized<ReadCatalog>,
    query: web::Query<FormatQuery>,
) -> Result<HttpResponse, AppError> {
    let _ = auth;
    let records = read(&state, |conn| service::records_of_processing(conn).map_err(AppError::from)).await?;
    records_download(&records, query.format.as_deref().unwrap_or("json"))
}
