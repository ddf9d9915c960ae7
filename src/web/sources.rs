//! Source pages: the list, one source with its crawl history and live crawl status, the
//! add-source form, the edit form and the "Crawl now" action.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{Authorized, CurrentUser, EditCatalog, ProposeClassification};
use super::forms::{self, FieldErrors};
use super::{AppState, Layout, Section, read, render, render_status, see_other, view, write};
use crate::catalog;
use crate::db::catalog as repo;
use crate::db::models::{CrawlRun, Source};
use crate::error::AppError;
use crate::jobs::crawl;
use crate::targets::registration;
use crate::targets::{ConnectionRef, SourceKind};

/// Longest description accepted, in characters.
pub const DESCRIPTION_MAX: usize = 10_000;
/// Longest owner accepted, in characters.
pub const OWNER_MAX: usize = 200;

pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub kind: &'static str,
    pub connection: String,
    pub datasets: String,
    pub columns: String,
    pub last_crawled: Option<String>,
}

#[derive(Template)]
#[template(path = "sources/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub sources: Vec<SourceRow>,
}

pub fn kind_label(kind: &str) -> &'static str {
    SourceKind::parse(kind).map_or("unknown", SourceKind::label)
}

pub fn connection_display(source: &Source) -> String {
    ConnectionRef::from_parts(&source.connection_kind, &source.connection_ref)
        .map_or_else(|| "(invalid)".to_owned(), |c| c.display())
}

pub async fn list(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    let sources = read(&state, |conn| Ok(repo::list_sources(conn)?)).await?;
    let sources = sources
        .into_iter()
        .map(|s| SourceRow {
            id: s.id,
            kind: kind_label(&s.kind),
            connection: connection_display(&s),
            datasets: view::count(s.dataset_count),
            columns: view::count(s.column_count),
            last_crawled: s.last_crawled_at.as_ref().map(view::relative),
            name: s.name,
        })
        .collect();
    render(&ListPage { layout: Layout::new(&state, &user, "Sources", Section::Sources), sources })
}

/// One crawl run, ready to show.
pub struct RunLine {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub triggered_by: String,
    pub queued: String,
    pub queued_iso: String,
    pub duration: Option<String>,
    pub summary: String,
    pub error: Option<String>,
}

/// "3 added, 1 changed, 2 removed datasets; 40 columns added" or "no changes".
pub fn run_summary(run: &CrawlRun) -> String {
    match run.status.as_str() {
        "queued" => return "waiting for a worker".to_owned(),
        "running" => return "running".to_owned(),
        "failed" => return "failed".to_owned(),
        _ => {}
    }
    if let Some(summary) = &run.summary {
        return summary.clone();
    }
    let mut parts = Vec::new();
    let mut push = |n: i64, what: &str| {
        if n > 0 {
            parts.push(format!("{} {what}", view::count(n)));
        }
    };
    push(run.datasets_added, "datasets added");
    push(run.datasets_changed, "datasets changed");
    push(run.datasets_removed, "datasets removed");
    push(run.columns_added, "columns added");
    push(run.columns_changed, "columns changed");
    push(run.columns_removed, "columns removed");
    if parts.is_empty() {
        format!("no changes ({} datasets)", view::count(run.progress_total))
    } else {
        parts.join(", ")
    }
}

fn run_line(run: CrawlRun) -> RunLine {
    let duration = match (run.started_at, run.finished_at) {
        (Some(s), Some(f)) => Some(format!("{:.1} s", (f - s).num_milliseconds() as f64 / 1000.0)),
        _ => None,
    };
    RunLine {
        id: run.id,
        kind: run.kind.clone(),
        summary: run_summary(&run),
        queued: view::time(&run.queued_at),
        queued_iso: view::iso(&run.queued_at),
        duration,
        error: run.error,
        triggered_by: run.triggered_by,
        status: run.status,
    }
}

#[derive(Template)]
#[template(path = "sources/show.html")]
pub struct ShowPage {
    pub layout: Layout,
    pub source: Source,
    pub kind: &'static str,
    pub connection: String,
    pub datasets: String,
    pub columns: String,
    pub schemas: Vec<String>,
    pub active: Option<RunLine>,
    pub progress: Option<String>,
    pub runs: Vec<RunLine>,
    pub last_crawled: Option<String>,
    pub can_scan: bool,
}

pub async fn show(state: web::Data<AppState>, user: CurrentUser, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (source, schemas, runs) = read(&state, move |conn| {
        let source = repo::find_source(conn, id)?.ok_or_else(|| AppError::not_found(format!("Source {id}")))?;
        let schemas = repo::list_schemas(conn, Some(id))?;
        let runs = repo::list_crawl_runs_for_source(conn, id, 10)?;
        Ok((source, schemas, runs))
    })
    .await?;
    let now = crate::db::now();
    let active = runs.iter().find(|r| crawl::is_in_progress(r, now)).cloned();
    let progress = active.as_ref().map(|run| match state.progress.get(run.id) {
        Some(p) if p.total > 0 => {
            format!("{}: {} of {} datasets", p.stage, view::count(p.done as i64), view::count(p.total as i64))
        }
        Some(p) if !p.stage.is_empty() => format!("{}…", p.stage),
        _ => run_summary(run),
    });
    let mut layout = Layout::new(&state, &user, format!("Source {}", source.name), Section::Sources);
    if active.is_some() {
        layout.refresh = Some(2);
    }
    render(&ShowPage {
        layout,
        kind: kind_label(&source.kind),
        connection: connection_display(&source),
        datasets: view::count(source.dataset_count),
        columns: view::count(source.column_count),
        schemas,
        active: active.map(run_line),
        progress,
        runs: runs.into_iter().map(run_line).collect(),
        can_scan: user.can(crate::governance::access::Permission::ProposeClassification),
        last_crawled: source.last_crawled_at.as_ref().map(view::time),
        source,
    })
}

#[derive(Deserialize, Default, Clone)]
pub struct SourceForm {
    pub name: Option<String>,
    pub connection_kind: Option<String>,
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub crawl_now: Option<String>,
}

#[derive(Template)]
#[template(path = "sources/new.html")]
pub struct NewPage {
    pub layout: Layout,
    pub form: SourceForm,
    pub errors: FieldErrors,
}

impl NewPage {
    fn uses_env(&self) -> bool {
        self.form.connection_kind.as_deref() == Some("env")
    }

    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

pub async fn new_form(state: web::Data<AppState>, auth: Authorized<EditCatalog>) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let form = SourceForm { crawl_now: Some("on".into()), ..Default::default() };
    render(&NewPage {
        layout: Layout::new(&state, &user, "Add a source", Section::Sources),
        form,
        errors: FieldErrors::default(),
    })
}

pub async fn create(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    form: web::Form<SourceForm>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let description = forms::optional_text(&mut errors, "description", form.description.as_deref(), DESCRIPTION_MAX);
    let owner = forms::optional_text(&mut errors, "owner", form.owner.as_deref(), OWNER_MAX);
    let uses_env = form.connection_kind.as_deref() == Some("env");
    let (url, url_env) = if uses_env { (None, form.url_env.as_deref()) } else { (form.url.as_deref(), None) };
    let registration = match registration::validate(form.name.as_deref().unwrap_or(""), url, url_env, None) {
        Ok(r) if errors.is_empty() => Some(r),
        Ok(_) => None,
        Err(problems) => {
            for (field, message) in problems {
                errors.add(field, message);
            }
            None
        }
    };
    let Some(registration) = registration else {
        return invalid(&state, &user, form, errors);
    };
    let crawl_now = form.crawl_now.is_some();
    let by = user.audit();
    let created = write(&state, move |conn| {
        let now = crate::db::now();
        let source = match catalog::register_source(conn, &by, &registration, description, owner, now) {
            Ok(source) => source,
            Err(catalog::ActionError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if crawl_now {
            catalog::request_crawl(conn, &by, source.id, now)?;
        }
        Ok(Some(source))
    })
    .await?;
    match created {
        Some(source) => {
            if crawl_now {
                state.jobs.notify();
            }
            Ok(see_other(&format!("/sources/{}", source.id)))
        }
        None => {
            errors.add("name", "A source with this name exists already.");
            invalid(&state, &user, form, errors)
        }
    }
}

fn invalid(
    state: &AppState,
    user: &CurrentUser,
    form: SourceForm,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &NewPage { layout: Layout::new(state, user, "Add a source", Section::Sources), form, errors },
    )
}

#[derive(Deserialize, Default, Clone)]
pub struct DetailsForm {
    pub description: Option<String>,
    pub owner: Option<String>,
}

#[derive(Template)]
#[template(path = "sources/edit.html")]
pub struct EditPage {
    pub layout: Layout,
    pub source: Source,
    pub description: String,
    pub owner: String,
    pub errors: FieldErrors,
}

pub async fn edit_form(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let id = id.into_inner();
    let source = read(&state, move |conn| {
        repo::find_source(conn, id)?.ok_or_else(|| AppError::not_found(format!("Source {id}")))
    })
    .await?;
    render(&EditPage {
        layout: Layout::new(&state, &user, format!("Edit {}", source.name), Section::Sources),
        description: source.description.clone().unwrap_or_default(),
        owner: source.owner.clone().unwrap_or_default(),
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
    let mut errors = FieldErrors::default();
    let description = forms::optional_text(&mut errors, "description", form.description.as_deref(), DESCRIPTION_MAX);
    let owner = forms::optional_text(&mut errors, "owner", form.owner.as_deref(), OWNER_MAX);
    let source = read(&state, move |conn| {
        repo::find_source(conn, id)?.ok_or_else(|| AppError::not_found(format!("Source {id}")))
    })
    .await?;
    if !errors.is_empty() {
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EditPage {
                layout: Layout::new(&state, &user, format!("Edit {}", source.name), Section::Sources),
                description: form.description.clone().unwrap_or_default(),
                owner: form.owner.clone().unwrap_or_default(),
                source,
                errors,
            },
        );
    }
    let by = user.audit();
    write(&state, move |conn| {
        Ok(catalog::edit_source(conn, &by, id, description.as_deref(), owner.as_deref(), crate::db::now())?)
    })
    .await?;
    Ok(see_other(&format!("/sources/{id}")))
}

pub async fn crawl(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let id = id.into_inner();
    let by = user.audit();
    write(&state, move |conn| Ok(catalog::request_crawl(conn, &by, id, crate::db::now())?)).await?;
    state.jobs.notify();
    Ok(see_other(&format!("/sources/{id}")))
}

/// Queues a scan of the source's sampled values for classification suggestions.
pub async fn scan(
    state: web::Data<AppState>,
    auth: Authorized<ProposeClassification>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = auth.user.audit();
    write(&state, move |conn| Ok(catalog::request_scan(conn, &by, id, crate::db::now())?)).await?;
    state.jobs.notify();
    Ok(see_other(&format!("/sources/{id}")))
}
