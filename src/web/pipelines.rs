//! Pipeline pages and API: the list of ingested pipelines; one pipeline with its SQL split at
//! statement boundaries, each statement's status, parse errors marked at their line and column,
//! and the tables and lineage each statement produced; the paste form that ingests SQL; and
//! "Analyse again", which re-reads a pipeline's SQL with what the catalog knows now.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use super::auth::{Authorized, CurrentUser, EditCatalog};
use super::forms::{self, FieldErrors};
use super::lineage::{DatasetJson, TableLink, dataset_json, timestamp};
#[allow(unused_imports)]
use super::openapi::ApiError;
use super::view::{self, Pager};
use super::{AppState, Layout, Section, read, render, render_status, see_other};
use crate::db::catalog;
use crate::db::lineage::{self as repo, ColumnEdgeRow, Pipeline, PipelineStatement, StatementTable, TableEdge};
use crate::db::models::Source;
use crate::error::AppError;
use crate::ingest::{self, IngestError, IngestTarget, SqlInput};

pub const PER_PAGE: i64 = 50;
/// Longest pipeline name accepted, in characters.
pub const NAME_MAX: usize = 200;

/// Ingest errors at the web edge.
pub fn app_error(e: IngestError) -> AppError {
    match e {
        IngestError::Invalid(message) => AppError::Unprocessable(message),
        IngestError::Db(e) => e.into(),
        IngestError::Analysis => AppError::internal("the SQL analysis thread failed"),
    }
}

/// "ok", "partial" or "failed", with the badge class pages use.
fn status_class(status: &str) -> &'static str {
    match status {
        repo::pipeline_status::OK => "state-ok",
        repo::pipeline_status::PARTIAL => "state-warning",
        _ => "state-failed",
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        repo::pipeline_status::OK => "ok",
        repo::pipeline_status::PARTIAL => "partly understood",
        _ => "failed",
    }
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    pub page: Option<i64>,
    /// API only.
    pub per_page: Option<i64>,
}

pub struct PipelineRow {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub source: String,
    pub dialect: String,
    pub statements: String,
    pub edges: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub when: String,
    pub when_iso: String,
}

#[derive(Template)]
#[template(path = "pipelines/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub rows: Vec<PipelineRow>,
    pub pager: Pager,
}

pub async fn list(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let page = query.page.unwrap_or(1);
    if page < 1 {
        return Err(AppError::BadRequest("Pages are numbered from 1.".into()));
    }
    let (items, total) =
        read(&state, move |conn| Ok(repo::list_pipelines(conn, Pager::offset(page, PER_PAGE), PER_PAGE)?)).await?;
    let rows = items
        .into_iter()
        .map(|(p, source)| PipelineRow {
            id: p.id,
            statements: view::count(p.statement_count),
            edges: format!("{} / {}", view::count(p.table_edge_count), view::count(p.column_edge_count)),
            status: status_label(&p.status),
            status_class: status_class(&p.status),
            when: view::relative(&p.ingested_at),
            when_iso: view::iso(&p.ingested_at),
            name: p.name,
            path: p.path,
            source,
            dialect: p.dialect,
        })
        .collect();
    render(&ListPage {
        layout: Layout::new(&state, &user, "Pipelines", Section::Lineage),
        pager: Pager::new("/pipelines", "", page, PER_PAGE, total, false),
        rows,
    })
}

// ---------------------------------------------------------------------------------------------
// One pipeline

/// A line of the SQL listing.
pub struct LineView {
    pub number: usize,
    pub text: String,
    /// Outside the statement proper (comments or blank lines before it).
    pub lead: bool,
    /// A parse error on this line: spaces up to its column, and the message.
    pub error: Option<(String, String)>,
}

pub struct ColumnEdgeView {
    pub from: TableLink,
    pub from_column: String,
    pub to: TableLink,
    pub to_column: String,
    pub kind: String,
}

pub struct StatementView {
    pub index: i32,
    pub kind: String,
    pub status: String,
    pub status_class: &'static str,
    pub lines: String,
    pub dialect: Option<String>,
    pub error: Option<String>,
    pub reads: Vec<TableLink>,
    pub writes: Vec<TableLink>,
    pub edges: Vec<(TableLink, TableLink)>,
    pub column_edges: Vec<ColumnEdgeView>,
    pub unresolved: i64,
    pub sql: Vec<LineView>,
}

pub struct ErrorLine {
    pub statement: i32,
    pub line: i32,
    pub column: i32,
    pub message: String,
}

#[derive(Template)]
#[template(path = "pipelines/show.html")]
pub struct ShowPage {
    pub layout: Layout,
    pub pipeline: Pipeline,
    pub source: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub ingested: String,
    pub ingested_iso: String,
    pub created: String,
    pub errors: Vec<ErrorLine>,
    pub statements: Vec<StatementView>,
    pub short_hash: String,
    /// Runs reported by OpenLineage, newest first.
    pub runs: Vec<RunRow>,
}

pub struct RunRow {
    pub run_id: String,
    pub state: String,
    pub state_class: &'static str,
    pub started: String,
    pub ended: String,
    pub duration: String,
}

fn run_row(r: &repo::PipelineRun) -> RunRow {
    let duration = match (r.started_at, r.ended_at) {
        (Some(s), Some(e)) => {
            let secs = (e - s).num_milliseconds().max(0) as f64 / 1000.0;
            if secs < 60.0 { format!("{secs:.1} s") } else { format!("{:.1} min", secs / 60.0) }
        }
        (Some(_), None) => "running".to_owned(),
        _ => "—".to_owned(),
    };
    RunRow {
        run_id: r.run_id.clone(),
        state_class: match r.state.as_str() {
            "COMPLETE" => "state state-succeeded",
            "FAIL" | "ABORT" => "state state-failed",
            "START" | "RUNNING" => "state state-running",
            _ => "state",
        },
        state: r.state.clone(),
        started: r.started_at.as_ref().map(view::time).unwrap_or_else(|| "—".into()),
        ended: r.ended_at.as_ref().map(view::time).unwrap_or_else(|| "—".into()),
        duration,
    }
}

/// A pipeline with everything its page and API show.
pub struct PipelineDetail {
    pub pipeline: Pipeline,
    pub source: String,
    pub statements: Vec<PipelineStatement>,
    pub tables: Vec<StatementTable>,
    pub edges: Vec<TableEdge>,
    pub column_edges: Vec<ColumnEdgeRow>,
}

pub fn load_detail(conn: &mut crate::db::AnyConnection, id: i64) -> Result<PipelineDetail, AppError> {
    let (pipeline, source) =
        repo::find_pipeline(conn, id)?.ok_or_else(|| AppError::not_found(format!("Pipeline {id}")))?;
    Ok(PipelineDetail {
        statements: repo::list_statements(conn, id)?,
        tables: repo::list_statement_tables(conn, id)?,
        edges: repo::list_pipeline_edges(conn, id)?,
        column_edges: repo::list_pipeline_column_edges(conn, id)?,
        pipeline,
        source,
    })
}

/// Splits the SQL into lines for each statement: its own lines, and the lines before it that
/// belong to no statement (comments, blank lines). Lines after the last statement go with it.
fn statement_lines(sql: &str, statements: &[PipelineStatement]) -> Vec<Vec<LineView>> {
    let lines: Vec<&str> = sql.lines().collect();
    let mut out = Vec::with_capacity(statements.len());
    let mut next = 1usize;
    for (i, s) in statements.iter().enumerate() {
        let start = usize::try_from(s.start_line).unwrap_or(1).max(1);
        let last = i + 1 == statements.len();
        let end = if last { lines.len() } else { usize::try_from(s.end_line).unwrap_or(0).min(lines.len()) };
        let mut block = Vec::new();
        while next <= end {
            let text = lines.get(next - 1).copied().unwrap_or_default();
            let error = match (s.error_line, s.error_column, &s.error_message) {
                (Some(line), Some(column), Some(message)) if line as usize == next => {
                    let pad = text
                        .chars()
                        .take(usize::try_from(column).unwrap_or(1).saturating_sub(1))
                        .map(|c| if c == '\t' { '\t' } else { ' ' });
                    Some((pad.collect(), message.clone()))
                }
                _ => None,
            };
            block.push(LineView {
                number: next,
                text: text.to_owned(),
                lead: next < start || next > usize::try_from(s.end_line).unwrap_or(0),
                error,
            });
            next += 1;
        }
        out.push(block);
    }
    out
}

pub fn link(name: &str, dataset: Option<&repo::DatasetRef>) -> TableLink {
    match dataset {
        Some(d) => TableLink {
            name: name.to_owned(),
            href: Some(format!("/datasets/{}", d.id)),
            referenced: d.kind == repo::REFERENCED,
        },
        None => TableLink { name: name.to_owned(), href: None, referenced: false },
    }
}

fn dataset_link(d: &repo::DatasetRef) -> TableLink {
    link(&d.qualified(), Some(d))
}

fn statement_views(detail: &PipelineDetail) -> Vec<StatementView> {
    let mut lines = statement_lines(&detail.pipeline.sql_text, &detail.statements).into_iter();
    detail
        .statements
        .iter()
        .map(|s| {
            let of = |access: &str| -> Vec<TableLink> {
                detail
                    .tables
                    .iter()
                    .filter(|t| t.statement_index == s.statement_index && t.access == access)
                    .map(|t| link(&t.table_name, t.dataset.as_ref()))
                    .collect()
            };
            let edges = detail
                .edges
                .iter()
                .filter(|e| e.statement_index == s.statement_index)
                .map(|e| (dataset_link(&e.from), dataset_link(&e.to)))
                .collect();
            let column_edges = detail
                .column_edges
                .iter()
                .filter(|e| e.statement_index == s.statement_index)
                .map(|e| ColumnEdgeView {
                    from: dataset_link(&e.from.dataset),
                    from_column: e.from.name.clone(),
                    to: dataset_link(&e.to.dataset),
                    to_column: e.to.name.clone(),
                    kind: e.kind.clone(),
                })
                .collect();
            let (status, status_class) = match (s.status.as_str(), s.error_message.is_some()) {
                (_, true) | ("degraded", _) => ("did not parse".to_owned(), "state-failed"),
                ("recovered", _) => ("recovered".to_owned(), "state-warning"),
                (other, _) => (other.to_owned(), "state-ok"),
            };
            StatementView {
                index: s.statement_index,
                kind: s.kind.clone(),
                status,
                status_class,
                lines: if s.start_line == s.end_line {
                    format!("line {}", s.start_line)
                } else {
                    format!("lines {}–{}", s.start_line, s.end_line)
                },
                dialect: s.parsed_dialect.clone().filter(|d| *d != detail.pipeline.dialect),
                error: s.error_message.as_ref().map(|m| match (s.error_line, s.error_column) {
                    (Some(l), Some(c)) => format!("Line {l}, column {c}: {m}"),
                    _ => m.clone(),
                }),
                reads: of(repo::access::READ),
                writes: of(repo::access::WRITE),
                edges,
                column_edges,
                unresolved: s.unresolved_column_edges,
                sql: lines.next().unwrap_or_default(),
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct StoredError {
    statement: i32,
    line: i32,
    column: i32,
    message: String,
}

fn stored_errors(p: &Pipeline) -> Vec<ErrorLine> {
    serde_json::from_str::<Vec<StoredError>>(&p.errors)
        .unwrap_or_default()
        .into_iter()
        .map(|e| ErrorLine { statement: e.statement, line: e.line, column: e.column, message: e.message })
        .collect()
}

pub async fn show(state: web::Data<AppState>, user: CurrentUser, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (detail, runs) =
        read(&state, move |conn| Ok((load_detail(conn, id)?, repo::runs_of_pipeline(conn, id, 50)?))).await?;
    let statements = statement_views(&detail);
    let PipelineDetail { pipeline, source, .. } = detail;
    render(&ShowPage {
        layout: Layout::new(&state, &user, format!("Pipeline {}", pipeline.name), Section::Lineage),
        source,
        status: status_label(&pipeline.status),
        status_class: status_class(&pipeline.status),
        ingested: view::time(&pipeline.ingested_at),
        ingested_iso: view::iso(&pipeline.ingested_at),
        created: view::time(&pipeline.created_at),
        errors: stored_errors(&pipeline),
        short_hash: pipeline.content_hash.chars().take(12).collect(),
        statements,
        runs: runs.iter().map(run_row).collect(),
        pipeline,
    })
}

// ---------------------------------------------------------------------------------------------
// Ingesting pasted SQL, and analysing a pipeline again

#[derive(Deserialize, Default, Clone)]
pub struct PasteForm {
    pub name: Option<String>,
    pub source: Option<String>,
    pub dialect: Option<String>,
    pub default_schema: Option<String>,
    pub sql: Option<String>,
}

pub struct SourceChoice {
    pub id: i64,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "pipelines/new.html")]
pub struct NewPage {
    pub layout: Layout,
    pub form: PasteForm,
    pub sources: Vec<SourceChoice>,
    pub dialects: Vec<(&'static str, bool)>,
    pub errors: FieldErrors,
}

impl NewPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

fn new_page(
    state: &AppState,
    user: &CurrentUser,
    form: PasteForm,
    sources: Vec<Source>,
    errors: FieldErrors,
) -> NewPage {
    let chosen = form.source.as_deref().and_then(|s| s.parse::<i64>().ok());
    let only = (sources.len() == 1).then(|| sources[0].id);
    let sources = sources
        .into_iter()
        .map(|s| SourceChoice {
            selected: chosen.or(only) == Some(s.id),
            label: format!("{} ({}, default schema {})", s.name, s.kind, s.default_schema),
            id: s.id,
        })
        .collect();
    let dialect = form.dialect.clone().unwrap_or_default();
    NewPage {
        layout: Layout::new(state, user, "Ingest pipeline SQL", Section::Lineage),
        dialects: ingest::DIALECTS.iter().map(|d| (*d, *d == dialect)).collect(),
        sources,
        form,
        errors,
    }
}

pub async fn new_form(state: web::Data<AppState>, auth: Authorized<EditCatalog>) -> Result<HttpResponse, AppError> {
    let sources = read(&state, |conn| Ok(catalog::list_sources(conn)?)).await?;
    render(&new_page(&state, &auth.user, PasteForm::default(), sources, FieldErrors::default()))
}

/// Runs an ingest on a blocking thread with the writer connection (the ingest opens its own
/// transaction once the SQL is analysed).
async fn run_ingest<F>(state: &AppState, f: F) -> Result<ingest::IngestReport, AppError>
where
    F: FnOnce(&mut crate::db::AnyConnection) -> Result<ingest::IngestReport, AppError> + Send + 'static,
{
    let db = state.db.clone();
    web::block(move || {
        let mut conn = db.writer()?;
        f(&mut conn)
    })
    .await?
}

pub async fn create(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    form: web::Form<PasteForm>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let form = form.into_inner();
    let sources = read(&state, |conn| Ok(catalog::list_sources(conn)?)).await?;
    let mut errors = FieldErrors::default();
    let name = forms::required_text(&mut errors, "name", form.name.as_deref(), NAME_MAX);
    let source = match form.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match s.parse::<i64>().ok().and_then(|id| sources.iter().find(|x| x.id == id)) {
            Some(source) => Some(source.clone()),
            None => {
                errors.add("source", "Choose one of the sources listed.");
                None
            }
        },
        None if sources.len() == 1 => Some(sources[0].clone()),
        None => {
            errors.add("source", "Choose the source this SQL runs against.");
            None
        }
    };
    let dialect = form.dialect.as_deref().map(str::trim).filter(|d| !d.is_empty());
    if let Some(d) = dialect
        && !ingest::is_known_dialect(d)
    {
        errors.add("dialect", "Choose one of the dialects listed.");
    }
    let default_schema = forms::optional_text(&mut errors, "default_schema", form.default_schema.as_deref(), 200);
    let sql = form.sql.clone().unwrap_or_default();
    if sql.trim().is_empty() {
        errors.add("sql", "Paste the SQL to ingest.");
    }
    let target = match source {
        Some(source) if errors.is_empty() => match IngestTarget::new(source, dialect, default_schema.as_deref()) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.add("dialect", e.to_string());
                None
            }
        },
        _ => None,
    };
    let Some(target) = target else {
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &new_page(&state, &user, form, sources, errors));
    };
    let input = SqlInput { path: format!("pasted/{name}"), name, sql };
    let by = user.audit();
    let report =
        run_ingest(&state, move |conn| ingest::ingest(conn, &by, &target, &input, false, None).map_err(app_error))
            .await?;
    Ok(see_other(&format!("/pipelines/{}", report.pipeline_id)))
}

pub async fn analyse_again(
    state: web::Data<AppState>,
    auth: Authorized<EditCatalog>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = auth.user.audit();
    run_ingest(&state, move |conn| {
        let (pipeline, _) =
            repo::find_pipeline(conn, id)?.ok_or_else(|| AppError::not_found(format!("Pipeline {id}")))?;
        let source = catalog::find_source(conn, pipeline.source_id)?
            .ok_or_else(|| AppError::not_found(format!("Source {}", pipeline.source_id)))?;
        let target =
            IngestTarget::new(source, Some(&pipeline.dialect), Some(&pipeline.default_schema)).map_err(app_error)?;
        let input = SqlInput { name: pipeline.name, path: pipeline.path, sql: pipeline.sql_text };
        ingest::ingest(conn, &by, &target, &input, true, Some("analysed again with the catalog as it is now"))
            .map_err(app_error)
    })
    .await?;
    Ok(see_other(&format!("/pipelines/{id}")))
}

// ---------------------------------------------------------------------------------------------
// API

#[derive(Serialize)]
pub struct PipelineJson {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub source: String,
    pub dialect: String,
    pub statements: i64,
    pub status: String,
    pub degraded: bool,
    pub table_edges: i64,
    pub column_edges: i64,
    pub ingested_at: String,
}

#[derive(Serialize)]
struct Page<T: Serialize> {
    items: Vec<T>,
    total: i64,
    page: i64,
    per_page: i64,
}

#[utoipa::path(get, path = "/api/v1/pipelines", tag = "Lineage", params(("page" = Option<i64>, Query, description = "Page, from 1"), ("per_page" = Option<i64>, Query, description = "Items per page, 1 to 500")), responses((status = 200, description = "A page of pipelines", body = serde_json::Value), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_list(state: web::Data<AppState>, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(PER_PAGE);
    if page < 1 || !(1..=super::api::MAX_PER_PAGE).contains(&per_page) {
        return Err(AppError::BadRequest(format!(
            "page starts at 1 and per_page must be between 1 and {}.",
            super::api::MAX_PER_PAGE
        )));
    }
    let (items, total) =
        read(&state, move |conn| Ok(repo::list_pipelines(conn, Pager::offset(page, per_page), per_page)?)).await?;
    let items = items
        .into_iter()
        .map(|(p, source)| PipelineJson {
            id: p.id,
            name: p.name,
            path: p.path,
            source,
            dialect: p.dialect,
            statements: p.statement_count,
            status: p.status,
            degraded: p.degraded,
            table_edges: p.table_edge_count,
            column_edges: p.column_edge_count,
            ingested_at: timestamp(&p.ingested_at),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page { items, total, page, per_page }))
}

#[derive(Serialize)]
struct TableJson {
    table: String,
    dataset: Option<DatasetJson>,
}

#[derive(Serialize)]
struct ColumnEndJson {
    column_id: i64,
    column: String,
    dataset: DatasetJson,
}

#[derive(Serialize)]
struct ColumnEdgeJson {
    from: ColumnEndJson,
    to: ColumnEndJson,
    kind: String,
}

#[derive(Serialize)]
struct TableEdgeJson {
    from: DatasetJson,
    to: DatasetJson,
}

#[derive(Serialize)]
struct StatementErrorJson {
    line: Option<i32>,
    column: Option<i32>,
    message: String,
}

#[derive(Serialize)]
struct StatementJson {
    index: i32,
    start_line: i32,
    end_line: i32,
    kind: String,
    status: String,
    parsed_dialect: Option<String>,
    error: Option<StatementErrorJson>,
    reads: Vec<TableJson>,
    writes: Vec<TableJson>,
    table_edges: Vec<TableEdgeJson>,
    column_edges: Vec<ColumnEdgeJson>,
    unresolved_column_edges: i64,
}

#[derive(Serialize)]
struct PipelineErrorJson {
    statement: i32,
    line: i32,
    column: i32,
    message: String,
}

#[derive(Serialize)]
struct PipelineDetailJson {
    #[serde(flatten)]
    pipeline: PipelineJson,
    default_schema: String,
    content_hash: String,
    ingested_by: String,
    created_at: String,
    errors: Vec<PipelineErrorJson>,
    sql: String,
    statements: Vec<StatementJson>,
}

#[utoipa::path(get, path = "/api/v1/pipelines/{id}", tag = "Lineage", params(("id" = i64, Path, description = "Pipeline id")), responses((status = 200, description = "The pipeline with its statements and lineage", body = serde_json::Value), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_show(state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let detail = read(&state, move |conn| load_detail(conn, id)).await?;
    let PipelineDetail { pipeline, source, statements, tables, edges, column_edges } = detail;
    let column_end = |c: &repo::ColumnRef| ColumnEndJson {
        column_id: c.id,
        column: c.name.clone(),
        dataset: dataset_json(&c.dataset),
    };
    let mut seen = HashSet::new();
    let statements = statements
        .into_iter()
        .map(|s| {
            let index = s.statement_index;
            let tables_of = |access: &str| {
                tables
                    .iter()
                    .filter(|t| t.statement_index == index && t.access == access)
                    .map(|t| TableJson { table: t.table_name.clone(), dataset: t.dataset.as_ref().map(dataset_json) })
                    .collect()
            };
            seen.insert(index);
            StatementJson {
                index,
                start_line: s.start_line,
                end_line: s.end_line,
                status: s.status,
                kind: s.kind,
                parsed_dialect: s.parsed_dialect,
                error: s.error_message.map(|message| StatementErrorJson {
                    line: s.error_line,
                    column: s.error_column,
                    message,
                }),
                reads: tables_of(repo::access::READ),
                writes: tables_of(repo::access::WRITE),
                table_edges: edges
                    .iter()
                    .filter(|e| e.statement_index == index)
                    .map(|e| TableEdgeJson { from: dataset_json(&e.from), to: dataset_json(&e.to) })
                    .collect(),
                column_edges: column_edges
                    .iter()
                    .filter(|e| e.statement_index == index)
                    .map(|e| ColumnEdgeJson { from: column_end(&e.from), to: column_end(&e.to), kind: e.kind.clone() })
                    .collect(),
                unresolved_column_edges: s.unresolved_column_edges,
            }
        })
        .collect();
    let errors = stored_errors(&pipeline)
        .into_iter()
        .map(|e| PipelineErrorJson { statement: e.statement, line: e.line, column: e.column, message: e.message })
        .collect();
    let body = PipelineDetailJson {
        default_schema: pipeline.default_schema.clone(),
        content_hash: pipeline.content_hash.clone(),
        ingested_by: pipeline.ingested_by.clone(),
        created_at: timestamp(&pipeline.created_at),
        errors,
        sql: pipeline.sql_text.clone(),
        statements,
        pipeline: PipelineJson {
            id: pipeline.id,
            name: pipeline.name,
            path: pipeline.path,
            source,
            dialect: pipeline.dialect,
            statements: pipeline.statement_count,
            status: pipeline.status,
            degraded: pipeline.degraded,
            table_edges: pipeline.table_edge_count,
            column_edges: pipeline.column_edge_count,
            ingested_at: timestamp(&pipeline.ingested_at),
        },
    };
    Ok(HttpResponse::Ok().json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(index: i32, start: i32, end: i32, error: Option<(i32, i32)>) -> PipelineStatement {
        PipelineStatement {
            id: 0,
            pipeline_id: 0,
            statement_index: index,
            start_line: start,
            end_line: end,
            kind: "SELECT".into(),
            status: "parsed".into(),
            parsed_dialect: None,
            error_line: error.map(|e| e.0),
            error_column: error.map(|e| e.1),
            error_message: error.map(|_| "bad".into()),
            unresolved_column_edges: 0,
        }
    }

    #[test]
    fn every_line_is_shown_once_with_its_statement() {
        let sql = "-- a comment\nselect 1;\n\nselect\n  2;\n-- trailing";
        let blocks = statement_lines(sql, &[statement(1, 2, 2, None), statement(2, 4, 5, Some((5, 3)))]);
        let numbers: Vec<Vec<usize>> = blocks.iter().map(|b| b.iter().map(|l| l.number).collect()).collect();
        assert_eq!(numbers, vec![vec![1, 2], vec![3, 4, 5, 6]]);
        assert!(blocks[0][0].lead && !blocks[0][1].lead);
        assert!(blocks[1][0].lead && blocks[1][3].lead);
        assert_eq!(blocks[1][2].error, Some(("  ".to_owned(), "bad".to_owned())));
        // Two statements on one line: the second shows no lines of its own.
        let blocks = statement_lines("select 1; select 2;", &[statement(1, 1, 1, None), statement(2, 1, 1, None)]);
        assert_eq!(blocks[0].len(), 1);
        assert!(blocks[1].is_empty());
    }
}
