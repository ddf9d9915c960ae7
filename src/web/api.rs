//! The JSON API under `/api/v1`: sources, datasets (filters, pagination), one dataset with its
//! columns and foreign keys, and search. Errors come back as `{"error": {status, key, message}}`.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::auth::{Authorized, CurrentUser, EditCatalog};
use super::datasets::{self, ListQuery, load_detail};
#[allow(unused_imports)]
use super::openapi::ApiError;
use super::search::Params;
use super::view::Pager;
use super::{AppState, read, sources, write};
use crate::db::catalog;
use crate::db::models::{ColumnSummary, Dataset, Source};
use crate::db::{now, search};
use crate::error::AppError;

/// Most items one page of a list may ask for.
pub const MAX_PER_PAGE: i64 = 500;

pub fn scope() -> actix_web::Scope {
    web::scope("/api/v1")
        .route("/openapi.json", web::get().to(super::openapi::document))
        .route("/sources", web::get().to(list_sources))
        .route("/sources/{id}", web::get().to(get_source))
        .route("/datasets", web::get().to(list_datasets))
        .route("/datasets/{id}", web::get().to(get_dataset))
        .route("/datasets/{id}", web::patch().to(update_dataset))
        .route("/sources/{id}/crawls", web::post().to(crawl_source))
        .route("/search", web::get().to(search_catalog))
        .route("/personal-data", web::get().to(super::classification::personal_data_api))
        .route("/pipelines", web::get().to(super::pipelines::api_list))
        .route("/pipelines/{id}", web::get().to(super::pipelines::api_show))
        .route("/datasets/{id}/lineage", web::get().to(super::lineage::api_dataset_lineage))
        .route("/columns/{id}/lineage", web::get().to(super::lineage::api_column_lineage))
        .route("/lineage/impact", web::get().to(super::graph::api_impact))
        .route("/lineage", web::post().to(super::openlineage::receive))
        .service(
            web::resource("/dbt/manifest")
                .app_data(web::JsonConfig::default().limit(super::dbt::MANIFEST_LIMIT))
                .route(web::post().to(super::dbt::api_upload)),
        )
        .route("/erasure-requests", web::get().to(list_erasure_requests))
        .route("/erasure-requests", web::post().to(create_erasure_request))
        .route("/erasure-requests/{id}", web::get().to(get_erasure_request))
        .route("/datasets/{id}/retention", web::get().to(super::retention::api_dataset))
        .route("/retention/policies", web::get().to(super::retention::api_policies))
        .route("/retention/runs", web::post().to(super::retention::api_start))
        .route("/retention/runs/{id}", web::get().to(super::retention::api_run))
        .route("/retention/storage-limitation", web::get().to(super::retention::api_storage))
        .route("/retention/records-of-processing", web::get().to(super::retention::api_records))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SourceJson {
    pub id: i64,
    pub name: String,
    pub kind: String,
    /// The password-free URL or path, or `$VARIABLE` when the URL is in the environment.
    pub connection: String,
    pub default_schema: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub datasets: i64,
    pub columns: i64,
    pub created_at: String,
    pub updated_at: String,
    pub last_crawled_at: Option<String>,
}

fn ts(t: &chrono::NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn source_json(s: Source) -> SourceJson {
    SourceJson {
        id: s.id,
        connection: sources::connection_display(&s),
        created_at: ts(&s.created_at),
        updated_at: ts(&s.updated_at),
        last_crawled_at: s.last_crawled_at.as_ref().map(ts),
        name: s.name,
        kind: s.kind,
        default_schema: s.default_schema,
        description: s.description,
        owner: s.owner,
        datasets: s.dataset_count,
        columns: s.column_count,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct Page<T: Serialize + utoipa::ToSchema> {
    items: Vec<T>,
    total: i64,
    page: i64,
    per_page: i64,
}

#[utoipa::path(get, path = "/api/v1/sources", tag = "Sources", responses((status = 200, description = "Every source", body = Page<SourceJson>), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn list_sources(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let list = read(&state, |conn| Ok(catalog::list_sources(conn)?)).await?;
    let items: Vec<SourceJson> = list.into_iter().map(source_json).collect();
    let total = items.len() as i64;
    Ok(HttpResponse::Ok().json(Page { per_page: total, items, total, page: 1 }))
}

#[utoipa::path(get, path = "/api/v1/sources/{id}", tag = "Sources", params(("id" = i64, Path, description = "Source id")), responses((status = 200, description = "The source", body = SourceJson), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn get_source(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let source = read(&state, move |conn| {
        catalog::find_source(conn, id)?.ok_or_else(|| AppError::not_found(format!("Source {id}")))
    })
    .await?;
    Ok(HttpResponse::Ok().json(source_json(source)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DatasetJson {
    pub id: i64,
    pub source: String,
    pub schema: String,
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub source_comment: Option<String>,
    pub owner: Option<String>,
    pub row_estimate: Option<i64>,
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_crawled_at: Option<String>,
}

fn dataset_json(d: Dataset, source: String) -> DatasetJson {
    DatasetJson {
        id: d.id,
        source,
        created_at: ts(&d.created_at),
        updated_at: ts(&d.updated_at),
        last_crawled_at: d.last_crawled_at.as_ref().map(ts),
        schema: d.schema_name,
        name: d.name,
        kind: d.kind,
        description: d.description,
        source_comment: d.source_comment,
        owner: d.owner,
        row_estimate: d.row_estimate,
        status: d.status,
    }
}

fn per_page(requested: Option<i64>, default: i64) -> Result<i64, AppError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=MAX_PER_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(AppError::BadRequest(format!("per_page must be between 1 and {MAX_PER_PAGE}."))),
    }
}

#[utoipa::path(get, path = "/api/v1/datasets", tag = "Catalog", params(("source" = Option<i64>, Query, description = "Only this source"), ("schema" = Option<String>, Query, description = "Only this schema"), ("kind" = Option<String>, Query, description = "table, view, materialized_view, external or referenced"), ("removed" = Option<bool>, Query, description = "Datasets the last crawl did not find"), ("page" = Option<i64>, Query, description = "Page, from 1"), ("per_page" = Option<i64>, Query, description = "Items per page, 1 to 500")), responses((status = 200, description = "A page of datasets", body = Page<DatasetJson>), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn list_datasets(state: web::Data<AppState>, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let filter = query.filter()?;
    let per_page = per_page(query.per_page, datasets::PER_PAGE)?;
    let page = query.page.unwrap_or(1);
    let (items, total) =
        read(&state, move |conn| Ok(catalog::list_datasets(conn, &filter, Pager::offset(page, per_page), per_page)?))
            .await?;
    let items = items.into_iter().map(|i| dataset_json(i.dataset, i.source_name)).collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(Page { items, total, page, per_page }))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ColumnJson {
    id: i64,
    ordinal: i32,
    name: String,
    data_type: String,
    nullable: bool,
    primary_key: bool,
    default_value: Option<String>,
    description: Option<String>,
    source_comment: Option<String>,
    status: String,
}

impl From<ColumnSummary> for ColumnJson {
    fn from(c: ColumnSummary) -> Self {
        Self {
            id: c.id,
            ordinal: c.ordinal,
            name: c.name,
            data_type: c.data_type,
            nullable: c.nullable,
            primary_key: c.is_primary_key,
            default_value: c.default_value,
            description: c.description,
            source_comment: c.source_comment,
            status: c.status,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct ForeignKeyJson {
    name: String,
    columns: Vec<String>,
    dataset_id: i64,
    dataset: String,
    dataset_columns: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DatasetDetailJson {
    #[serde(flatten)]
    dataset: DatasetJson,
    columns: Vec<ColumnJson>,
    foreign_keys: Vec<ForeignKeyJson>,
    referenced_by: Vec<ForeignKeyJson>,
}

#[utoipa::path(get, path = "/api/v1/datasets/{id}", tag = "Catalog", params(("id" = i64, Path, description = "Dataset id")), responses((status = 200, description = "The dataset with its columns and keys", body = DatasetDetailJson), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn get_dataset(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let detail = read(&state, move |conn| load_detail(conn, id)).await?;
    let fk = |l: &catalog::ForeignKeyLink, outgoing: bool| {
        let from = catalog::parse_json_list(&l.foreign_key.from_columns);
        let to = catalog::parse_json_list(&l.foreign_key.to_columns);
        let (columns, dataset_columns) = if outgoing { (from, to) } else { (to, from) };
        ForeignKeyJson {
            name: l.foreign_key.name.clone(),
            columns,
            dataset_id: l.other_id,
            dataset: format!("{}.{}", l.other_schema, l.other_name),
            dataset_columns,
        }
    };
    let body = DatasetDetailJson {
        foreign_keys: detail.outgoing.iter().map(|l| fk(l, true)).collect(),
        referenced_by: detail.incoming.iter().map(|l| fk(l, false)).collect(),
        columns: detail.columns.into_iter().map(ColumnJson::from).collect(),
        dataset: dataset_json(detail.dataset, detail.source.name),
    };
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Serialize, utoipa::ToSchema)]
struct SearchHitJson {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    dataset_id: i64,
    name: String,
    path: String,
    description: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SearchJson {
    items: Vec<SearchHitJson>,
    datasets_total: i64,
    datasets_total_is_lower_bound: bool,
    columns_total: i64,
    columns_total_is_lower_bound: bool,
    page: i64,
    per_page: i64,
}

#[utoipa::path(get, path = "/api/v1/search", tag = "Catalog", params(("q" = Option<String>, Query, description = "Words to find"), ("type" = Option<String>, Query, description = "all, datasets or columns"), ("source" = Option<i64>, Query, description = "Only this source"), ("page" = Option<i64>, Query, description = "Page, from 1")), responses((status = 200, description = "Matching datasets and columns", body = SearchJson), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn search_catalog(state: web::Data<AppState>, params: web::Query<Params>) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let query = params.query()?;
    if query.terms.is_empty() {
        return Err(AppError::BadRequest("Give the search text as q.".into()));
    }
    let page = params.page.unwrap_or(1);
    let per_page = super::search::PER_PAGE;
    let result =
        read(&state, move |conn| Ok(search::search(conn, &query, Pager::offset(page, per_page), per_page)?)).await?;
    let mut items: Vec<SearchHitJson> = result
        .datasets
        .into_iter()
        .map(|d| SearchHitJson {
            kind: "dataset",
            id: d.id,
            dataset_id: d.id,
            path: format!("{}.{}.{}", d.source_name, d.schema_name, d.name),
            name: d.name,
            description: d.description.or(d.source_comment),
        })
        .collect();
    items.extend(result.columns.into_iter().map(|c| SearchHitJson {
        kind: "column",
        id: c.id,
        dataset_id: c.dataset_id,
        path: format!("{}.{}.{}.{}", c.source_name, c.dataset_schema, c.dataset_name, c.name),
        name: c.name,
        description: c.description.or(c.source_comment),
    }));
    Ok(HttpResponse::Ok().json(SearchJson {
        items,
        datasets_total: result.dataset_total,
        datasets_total_is_lower_bound: result.datasets_capped,
        columns_total: result.column_total,
        columns_total_is_lower_bound: result.columns_capped,
        page,
        per_page,
    }))
}

/// Writes on the API take a bearer token: a browser session cannot be used for them, so no other
/// site can make a signed-in browser write through the API.
pub(crate) fn require_token(user: &CurrentUser) -> Result<(), AppError> {
    if user.token_id.is_none() {
        return Err(AppError::Unauthenticated(
            "API writes need an API token: send it as `Authorization: Bearer …`.".into(),
        ));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
struct DatasetPatch {
    /// `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "some")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "some")]
    owner: Option<Option<String>>,
}

/// Distinguishes an absent field (None) from an explicit `null` (Some(None)).
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    serde::Deserialize::deserialize(d).map(Some)
}

fn clean(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, AppError> {
    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(AppError::Unprocessable(format!("{field}: at most {max} characters.")));
    }
    Ok(value)
}

#[utoipa::path(patch, path = "/api/v1/datasets/{id}", tag = "Catalog", params(("id" = i64, Path, description = "Dataset id")), request_body = DatasetPatch, responses((status = 200, description = "The dataset as it is now", body = DatasetJson), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn update_dataset(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
    body: web::Json<DatasetPatch>,
) -> Result<HttpResponse, AppError> {
    require_token(&auth.user)?;
    let id = id.into_inner();
    let patch = body.into_inner();
    let description = patch.description.map(|d| clean("description", d, sources::DESCRIPTION_MAX)).transpose()?;
    let owner = patch.owner.map(|o| clean("owner", o, sources::OWNER_MAX)).transpose()?;
    let by = auth.user.audit();
    let dataset = write(&state, move |conn| {
        let (dataset, source) =
            catalog::find_dataset(conn, id)?.ok_or_else(|| AppError::not_found(format!("Dataset {id}")))?;
        let description = description.unwrap_or(dataset.description.clone());
        let owner = owner.unwrap_or(dataset.owner.clone());
        let dataset = crate::catalog::edit_dataset(conn, &by, id, description.as_deref(), owner.as_deref(), now())?;
        Ok((dataset, source))
    })
    .await?;
    Ok(HttpResponse::Ok().json(dataset_json(dataset.0, dataset.1.name)))
}

#[derive(Serialize)]
struct CrawlJson {
    id: i64,
    source_id: i64,
    status: String,
    queued_at: String,
    /// False when a crawl of the source was already queued or running (this is that one).
    created: bool,
}

#[utoipa::path(post, path = "/api/v1/sources/{id}/crawls", tag = "Sources", params(("id" = i64, Path, description = "Source id")), responses((status = 202, description = "The crawl is queued", body = serde_json::Value), (status = 409, description = "A crawl is already queued or running", body = ApiError), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn crawl_source(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    require_token(&auth.user)?;
    let id = id.into_inner();
    let by = auth.user.audit();
    let (run, created) = write(&state, move |conn| Ok(crate::catalog::request_crawl(conn, &by, id, now())?)).await?;
    state.jobs.notify();
    let status = if created { actix_web::http::StatusCode::ACCEPTED } else { actix_web::http::StatusCode::OK };
    Ok(HttpResponse::build(status).json(CrawlJson {
        id: run.id,
        source_id: run.source_id,
        status: run.status,
        queued_at: ts(&run.queued_at),
        created,
    }))
}

// ---------------------------------------------------------------------------------------------
// Erasure requests

#[derive(Serialize, utoipa::ToSchema)]
struct ErasureRequestJson {
    id: i64,
    identifier_type: String,
    status: String,
    status_label: String,
    received_on: chrono::NaiveDate,
    due_on: chrono::NaiveDate,
    /// Negative when overdue; kept for ended requests too.
    days_left: i64,
    overdue: bool,
    extended: bool,
    channel: String,
    submitted_by: String,
    approved_by: Option<String>,
    created_at: String,
    ended_at: Option<String>,
}

/// `GET /api/v1/erasure-requests`: open requests by due date (overdue first), then ended ones.
#[utoipa::path(get, path = "/api/v1/erasure-requests", tag = "Erasure", responses((status = 200, description = "Erasure requests, open first", body = Page<ErasureRequestJson>), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn list_erasure_requests(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    super::erasure::require_follow(&user, "see erasure requests")?;
    let list = read(&state, |conn| Ok(crate::db::erasure::list_requests(conn, super::erasure::LIST_LIMIT)?)).await?;
    let today = now().date();
    let items: Vec<ErasureRequestJson> = list
        .into_iter()
        .map(|r| {
            let days_left = crate::governance::erasure::days_left(r.due_on, today);
            ErasureRequestJson {
                id: r.id,
                status_label: crate::governance::erasure::Status::parse(&r.status)
                    .map_or_else(|| r.status.clone(), |s| s.label().to_owned()),
                identifier_type: r.identifier_type,
                status: r.status,
                received_on: r.received_on,
                due_on: r.due_on,
                days_left,
                overdue: r.ended_at.is_none() && days_left < 0,
                extended: r.extension_reason.is_some(),
                channel: r.channel,
                submitted_by: r.submitted_by,
                approved_by: r.approved_by,
                created_at: ts(&r.created_at),
                ended_at: r.ended_at.as_ref().map(ts),
            }
        })
        .collect();
    let total = items.len() as i64;
    Ok(HttpResponse::Ok().json(Page { per_page: total, items, total, page: 1 }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::ToSchema)]
struct ErasureRequestBody {
    identifier_type: String,
    value: String,
    /// YYYY-MM-DD; today when absent.
    received_on: Option<chrono::NaiveDate>,
    channel: Option<String>,
    requester_ref: Option<String>,
    idempotency_key: Option<String>,
    notes: Option<String>,
}

/// `POST /api/v1/erasure-requests`: 201 with the new request, or 200 with the one an earlier
/// call with the same idempotency key stored.
#[utoipa::path(post, path = "/api/v1/erasure-requests", tag = "Erasure", request_body = ErasureRequestBody, responses((status = 201, description = "The new request", body = serde_json::Value), (status = 200, description = "The request an earlier call with the same idempotency key stored", body = serde_json::Value), (status = 422, description = "The identifier is not valid", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn create_erasure_request(
    state: web::Data<AppState>,
    auth: Authorized<super::erasure::SubmitErasure>,
    body: web::Json<ErasureRequestBody>,
) -> Result<HttpResponse, AppError> {
    use super::erasure::{KEY_MAX, NOTES_MAX, REFERENCE_MAX, VALUE_MAX};
    require_token(&auth.user)?;
    let body = body.into_inner();
    if body.value.chars().count() > VALUE_MAX {
        return Err(AppError::Unprocessable(format!("value: at most {VALUE_MAX} characters.")));
    }
    let submission = crate::erasure::Submission {
        identifier_type: body.identifier_type,
        value: body.value,
        received_on: body.received_on,
        channel: body.channel,
        requester_ref: clean("requester_ref", body.requester_ref, REFERENCE_MAX)?,
        idempotency_key: clean("idempotency_key", body.idempotency_key, KEY_MAX)?,
        notes: clean("notes", body.notes, NOTES_MAX)?,
    };
    let keys = state.keys.clone();
    let by = auth.user.audit();
    let (details, created) = write(&state, move |conn| {
        let now = now();
        let (request, created) = crate::erasure::submit(conn, &keys, &by, &submission, now)?;
        Ok((crate::erasure::details(conn, request.id, now.date())?, created))
    })
    .await?;
    let status = if created { actix_web::http::StatusCode::CREATED } else { actix_web::http::StatusCode::OK };
    Ok(HttpResponse::build(status)
        .insert_header((actix_web::http::header::LOCATION, format!("/api/v1/erasure-requests/{}", details.id)))
        .json(details))
}

/// `GET /api/v1/erasure-requests/{id}`: the request with its plan, recipients and runs.
#[utoipa::path(get, path = "/api/v1/erasure-requests/{id}", tag = "Erasure", params(("id" = i64, Path, description = "Request id")), responses((status = 200, description = "The request with its plan, recipients and runs", body = serde_json::Value), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
async fn get_erasure_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    super::erasure::require_follow(&user, "see erasure requests")?;
    let id = id.into_inner();
    let details = read(&state, move |conn| Ok(crate::erasure::details(conn, id, now().date())?)).await?;
    Ok(HttpResponse::Ok().json(details))
}
