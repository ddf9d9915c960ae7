//! The web app: handlers grouped by area (each page's view struct beside its handler), the
//! shared state, database helpers that run repository calls off the async threads, the layout
//! every page shares, and the error pages.

pub mod api;
pub mod assets;
pub mod datasets;
pub mod errors;
pub mod forms;
pub mod home;
pub mod search;
pub mod sources;
pub mod view;

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use askama::Template;

use crate::config::Config;
use crate::db::{AnyConnection, Db, dialect};
use crate::error::AppError;
use crate::jobs::{JobQueue, ProgressBoard};

/// What every handler can reach.
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub jobs: JobQueue,
    pub progress: ProgressBoard,
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
    Search,
    /// Pages outside the navigation (errors).
    None,
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
}

impl Layout {
    pub fn new(state: &AppState, title: impl Into<String>, section: Section) -> Self {
        Self {
            title: title.into(),
            section,
            query: String::new(),
            assets: assets::prefix(),
            demo: state.config.demo,
            refresh: None,
        }
    }

    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// Whether the navigation entry `name` is the current section.
    pub fn nav(&self, name: &str) -> bool {
        let current = match self.section {
            Section::Home => "home",
            Section::Catalog => "catalog",
            Section::Sources => "sources",
            Section::Search => "search",
            Section::None => "",
        };
        current == name
    }
}

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::show))
        .route("/healthz", web::get().to(home::healthz))
        .route("/readyz", web::get().to(home::readyz))
        .route("/static/{version}/{path:.*}", web::get().to(assets::serve))
        .route("/search", web::get().to(search::show))
        .service(
            web::scope("/sources")
                .route("", web::get().to(sources::list))
                .route("", web::post().to(sources::create))
                .route("/new", web::get().to(sources::new_form))
                .route("/{id}", web::get().to(sources::show))
                .route("/{id}/edit", web::get().to(sources::edit_form))
                .route("/{id}/edit", web::post().to(sources::update))
                .route("/{id}/crawl", web::post().to(sources::crawl)),
        )
        .service(
            web::scope("/datasets")
                .route("", web::get().to(datasets::list))
                .route("/{id}", web::get().to(datasets::show))
                .route("/{id}/edit", web::get().to(datasets::edit_form))
                .route("/{id}/edit", web::post().to(datasets::update))
                .route("/{id}/columns/{column}/edit", web::get().to(datasets::column_edit_form))
                .route("/{id}/columns/{column}/edit", web::post().to(datasets::column_update)),
        )
        .service(api::scope());
}
