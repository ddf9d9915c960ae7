//! The web app: handlers grouped by area (each page's view struct beside its handler), the
//! shared state, database helpers that run repository calls off the async threads, the layout
//! every page shares, and the error pages.

pub mod admin;
pub mod api;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod classification;
pub mod datasets;
pub mod dbt;
pub mod erasure;
pub mod errors;
pub mod forms;
pub mod graph;
pub mod home;
pub mod lineage;
pub mod login;
pub mod openapi;
pub mod openlineage;
pub mod pipelines;
pub mod propagation;
pub mod retention;
pub mod search;
pub mod sources;
pub mod view;

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::config::Config;
use crate::db::{AnyConnection, Db, dialect};
use crate::error::AppError;
use crate::governance::access::Permission;
use crate::jobs::{JobQueue, ProgressBoard};

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub jobs: JobQueue,
    pub progress: ProgressBoard,
    /// Signs session cookies.
    pub cookie_key: actix_web::cookie::Key,
    /// Subject HMACs, sealed erasure working copies, receipt signatures.
    pub keys: Arc<crate::keys::Keys>,
}

/// Runs read-only repository work on a blocking thread with a reader connection, in one read
/// transaction: the page sees one consistent snapshot, and SQLite takes its locks once.
pub async fn read<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
{
    let db = state.db.clone();
    web::block(move || {
        let mut conn = db.reader()?;
        diesel::Connection::transaction(&mut *conn, f)
    })
    .await?
}

/// Runs repository work in one write transaction on a blocking thread; nothing is kept if
/// `f` fails.
pub async fn write<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, AppError> + Send + 'static,
{
    let db = state.db.clone();
    web::block(move || {
        let mut conn = db.writer()?;
        dialect::write_transaction(&mut conn, f)
    })
    .await?
}

/// Renders a page as an HTML response.
pub fn render<T: Template>(page: &T) -> Result<HttpResponse, AppError> {
    let body = page.render()?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body))
}

/// Renders a page with a status other than 200 (a form with validation errors).
pub fn render_status<T: Template>(status: actix_web::http::StatusCode, page: &T) -> Result<HttpResponse, AppError> {
    let body = page.render()?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

/// A file to download: `body` as `content_type`, saved as `filename`.
pub fn attachment(content_type: &str, filename: &str, body: String) -> HttpResponse {
    use actix_web::http::header::{CONTENT_DISPOSITION, ContentDisposition, DispositionParam, DispositionType};
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            CONTENT_DISPOSITION,
            ContentDisposition {
                disposition: DispositionType::Attachment,
                parameters: vec![DispositionParam::Filename(filename.to_owned())],
            },
        ))
        .body(body)
}

/// A 303 redirect after a successful form post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((actix_web::http::header::LOCATION, location)).finish()
}

/// The top-level sections, for the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Home,
    Catalog,
    Sources,
    Lineage,
    Search,
    Admin,
    Audit,
    Classification,
    Erasure,
    Retention,
    /// Pages outside the navigation (errors).
    None,
}

/// The signed-in person, as the layout shows them.
pub struct LayoutUser {
    pub name: String,
    pub role: &'static str,
    pub can_admin: bool,
    pub can_edit: bool,
    pub can_audit: bool,
    /// May see erasure requests (the privacy desk and compliance).
    pub can_erasure: bool,
}

/// What the layout around every page needs.
pub struct Layout {
    pub title: String,
    pub section: Section,
    pub query: String,
    pub assets: &'static str,
    pub demo: bool,
    /// Seconds after which the page reloads itself (while work it shows is running).
    pub refresh: Option<u32>,
    pub user: Option<LayoutUser>,
    /// The CSRF token every form on the page carries.
    pub csrf: String,
}

impl Layout {
    pub fn new(state: &AppState, user: &auth::CurrentUser, title: impl Into<String>, section: Section) -> Self {
        Self {
            title: title.into(),
            section,
            query: String::new(),
            assets: assets::prefix(),
            demo: state.config.demo,
            refresh: None,
            user: Some(LayoutUser {
                name: user.display_name.clone().unwrap_or_else(|| user.actor.clone()),
                role: user.role.label(),
                can_admin: user.can(Permission::ManageUsers),
                can_edit: user.can(Permission::EditCatalog),
                can_audit: user.can(Permission::ReadAudit),
                can_erasure: erasure::can_follow(user),
            }),
            csrf: user.csrf_token.clone().unwrap_or_default(),
        }
    }

    /// The layout of a page shown to someone not signed in (sign-in, errors).
    pub fn anonymous(demo: bool, title: impl Into<String>, csrf: String) -> Self {
        Self {
            title: title.into(),
            section: Section::None,
            query: String::new(),
            assets: assets::prefix(),
            demo,
            refresh: None,
            user: None,
            csrf,
        }
    }

    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Whether the signed-in person may edit the catalog (edit links are shown only then).
    pub fn can_edit(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.can_edit)
    }

    /// Whether the navigation entry `name` is the current section.
    pub fn nav(&self, name: &str) -> bool {
        let current = match self.section {
            Section::Home => "home",
            Section::Catalog => "catalog",
            Section::Sources => "sources",
            Section::Lineage => "lineage",
            Section::Search => "search",
            Section::Admin => "admin",
            Section::Audit => "audit",
            Section::Classification => "classification",
            Section::Erasure => "erasure",
            Section::Retention => "retention",
            Section::None => "",
        };
        current == name
    }
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::show))
        .route("/login", web::get().to(login::form))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .service(
            web::scope("/admin")
                .route("/users", web::get().to(admin::users))
                .route("/users", web::post().to(admin::create_user))
                .route("/users/{id}", web::get().to(admin::user))
                .route("/users/{id}/role", web::post().to(admin::set_role))
                .route("/users/{id}/disable", web::post().to(admin::disable))
                .route("/users/{id}/enable", web::post().to(admin::enable))
                .route("/users/{id}/password", web::post().to(admin::reset_password))
                .route("/tokens", web::get().to(admin::tokens))
                .route("/tokens", web::post().to(admin::create_token))
                .route("/tokens/{id}/revoke", web::post().to(admin::revoke_token)),
        )
        .route("/healthz", web::get().to(home::healthz))
        .route("/readyz", web::get().to(home::readyz))
        .route("/metrics", web::get().to(home::metrics))
        .route("/api", web::get().to(openapi::page))
        .route("/static/{version}/{path:.*}", web::get().to(assets::serve))
        .route("/search", web::get().to(search::show))
        .route("/classification", web::get().to(classification::workbench))
        .route("/classification/bulk", web::post().to(classification::bulk))
        .route("/classification/suggestions", web::get().to(classification::suggestions))
        .route("/classification/suggestions", web::post().to(classification::decide))
        .route("/classification/levels", web::get().to(classification::levels))
        .route("/classification/levels/{id}", web::post().to(classification::update_level))
        .route("/classification/personal-data", web::get().to(classification::personal_data))
        .route("/classification/propagation", web::post().to(propagation::configure))
        .route("/audit", web::get().to(audit::list))
        .route("/audit/verify", web::post().to(audit::verify))
        .route("/audit/export", web::get().to(audit::export))
        .service(
            web::scope("/sources")
                .route("", web::get().to(sources::list))
                .route("", web::post().to(sources::create))
                .route("/new", web::get().to(sources::new_form))
                .route("/{id}", web::get().to(sources::show))
                .route("/{id}/edit", web::get().to(sources::edit_form))
                .route("/{id}/edit", web::post().to(sources::update))
                .route("/{id}/crawl", web::post().to(sources::crawl))
                .route("/{id}/scan", web::post().to(sources::scan)),
        )
        .service(
            web::scope("/datasets")
                .route("", web::get().to(datasets::list))
                .route("/{id}", web::get().to(datasets::show))
                .route("/{id}/edit", web::get().to(datasets::edit_form))
                .route("/{id}/edit", web::post().to(datasets::update))
                .route("/{id}/erasure-action", web::post().to(erasure::dataset_action))
                .route("/{id}/retention-timestamp", web::post().to(retention::set_timestamp))
                .route("/{id}/lineage", web::get().to(graph::page))
                .route("/{id}/columns/{column}/edit", web::get().to(datasets::column_edit_form))
                .route("/{id}/columns/{column}/edit", web::post().to(datasets::column_update))
                .route("/{id}/columns/{column}/classify", web::get().to(classification::column_form))
                .route("/{id}/columns/{column}/classify", web::post().to(classification::column_classify))
                .route("/{id}/columns/{column}/propose", web::post().to(classification::column_propose))
                .route("/{id}/columns/{column}/lineage/{from}/block", web::post().to(propagation::block))
                .route("/{id}/columns/{column}/lineage/{from}/unblock", web::post().to(propagation::unblock)),
        )
        .service(
            web::scope("/pipelines")
                .route("", web::get().to(pipelines::list))
                .route("", web::post().to(pipelines::create))
                .route("/new", web::get().to(pipelines::new_form))
                .service(
                    web::resource("/dbt")
                        .app_data(web::FormConfig::default().limit(dbt::MANIFEST_LIMIT))
                        .route(web::get().to(dbt::form))
                        .route(web::post().to(dbt::upload)),
                )
                .route("/{id}", web::get().to(pipelines::show))
                .route("/{id}/analyse", web::post().to(pipelines::analyse_again)),
        )
        .service(
            web::scope("/erasure")
                .route("", web::get().to(erasure::list))
                .route("", web::post().to(erasure::create))
                .route("/new", web::get().to(erasure::new_form))
                .route("/{id}", web::get().to(erasure::show))
                .route("/{id}/plan", web::post().to(erasure::plan))
                .route("/{id}/approve", web::post().to(erasure::approve))
                .route("/{id}/refuse", web::post().to(erasure::refuse))
                .route("/{id}/extend", web::post().to(erasure::extend))
                .route("/{id}/run", web::post().to(erasure::run))
                .route("/{id}/recipients/{notification}", web::post().to(erasure::recipient))
                .route("/{id}/receipt", web::get().to(erasure::receipt)),
        )
        .service(
            web::scope("/retention")
                .route("", web::get().to(retention::index))
                .route("/policies", web::post().to(retention::create_policy))
                .route("/policies/{id}", web::get().to(retention::policy_form))
                .route("/policies/{id}", web::post().to(retention::update_policy))
                .route("/assignments", web::post().to(retention::assign))
                .route("/assignments/{id}/delete", web::post().to(retention::unassign))
                .route("/preview", web::post().to(retention::start))
                .route("/run", web::post().to(retention::start))
                .route("/runs/{id}", web::get().to(retention::run))
                .route("/runs/{id}/receipt", web::get().to(retention::receipt)),
        )
        .route("/lineage/impact", web::get().to(graph::impact_page))
        .route("/holds", web::get().to(retention::holds))
        .route("/holds", web::post().to(retention::add_hold))
        .route("/holds/{id}/release", web::post().to(retention::release_hold))
        .route("/reports/storage-limitation", web::get().to(retention::storage))
        .route("/reports/records-of-processing", web::get().to(retention::records))
        .service(api::scope());
}
