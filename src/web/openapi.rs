//! The OpenAPI 3 document of `/api/v1`, generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types (served at `/api/v1/openapi.json`), and the
//! API page of the web app that lists it.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::auth::CurrentUser;
use super::{AppState, Layout, Section, render};
use crate::error::AppError;

/// Every API error: `{"error": {"status", "key", "message"}}`.
#[derive(Serialize, ToSchema)]
pub struct ApiError {
    pub error: ApiErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ApiErrorDetail {
    pub status: u16,
    /// A stable key: not_found, bad_request, forbidden, …
    pub key: String,
    /// What went wrong, for people.
    pub message: String,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("cus_…").build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(super::auth::SESSION_COOKIE))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Custodian API",
        description = "The catalog, classification, lineage, erasure and retention of Custodian. \
                       Reads take a session or an API token (Authorization: Bearer …); writes take an API token.",
    ),
    paths(
        super::api::list_sources,
        super::api::get_source,
        super::api::crawl_source,
        super::api::list_datasets,
        super::api::get_dataset,
        super::api::update_dataset,
        super::api::search_catalog,
        super::classification::personal_data_api,
        super::pipelines::api_list,
        super::pipelines::api_show,
        super::lineage::api_dataset_lineage,
        super::lineage::api_column_lineage,
        super::graph::api_impact,
        super::openlineage::receive,
        super::dbt::api_upload,
        super::api::list_erasure_requests,
        super::api::create_erasure_request,
        super::api::get_erasure_request,
        super::retention::api_dataset,
        super::retention::api_policies,
        super::retention::api_start,
        super::retention::api_run,
        super::retention::api_storage,
        super::retention::api_records,
    ),
    components(schemas(ApiError, ApiErrorDetail)),
    modifiers(&Security),
    tags(
        (name = "Sources"), (name = "Catalog"), (name = "Classification"), (name = "Lineage"),
        (name = "Erasure"), (name = "Retention"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub tag: String,
}

#[derive(Template)]
#[template(path = "api.html")]
pub struct ApiPage {
    pub layout: Layout,
    pub endpoints: Vec<Endpoint>,
}

/// `GET /api`: the endpoints, from the same document.
pub async fn page(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let mut endpoints = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, methods) in paths {
            for (method, op) in methods.as_object().into_iter().flatten() {
                endpoints.push(Endpoint {
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: op["summary"].as_str().or(op["description"].as_str()).unwrap_or("").to_owned(),
                    tag: op["tags"][0].as_str().unwrap_or("").to_owned(),
                });
            }
        }
    }
    endpoints.sort_by(|a, b| (&a.tag, &a.path, &a.method).cmp(&(&b.tag, &b.path, &b.method)));
    render(&ApiPage { layout: Layout::new(&state, &user, "API", Section::None), endpoints })
}
