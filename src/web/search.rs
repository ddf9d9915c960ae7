//! The search page: datasets and columns matching the query, best matches first, with the
//! matched text highlighted and each column's dataset path.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::CurrentUser;
use super::datasets::{Choice, encode, kind_label};
use super::view::{self, Pager, Segment};
use super::{AppState, Layout, Section, read, render};
use crate::db::catalog;
use crate::db::search::{self, SearchPage, SearchQuery};
use crate::error::AppError;

pub const PER_PAGE: i64 = 50;
/// Longest query accepted, in characters.
pub const QUERY_MAX: usize = 200;

#[derive(Deserialize, Default, Clone)]
pub struct Params {
    pub q: Option<String>,
    /// `all` (default), `datasets` or `columns`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub source: Option<i64>,
    pub page: Option<i64>,
}

impl Params {
    /// Checks the parameters and builds the query.
    pub fn query(&self) -> Result<SearchQuery, AppError> {
        let text = self.q.as_deref().unwrap_or("").trim();
        if text.chars().count() > QUERY_MAX {
            return Err(AppError::BadRequest(format!("The search text is longer than {QUERY_MAX} characters.")));
        }
        if text.chars().any(char::is_control) {
            return Err(AppError::BadRequest("The search text holds control characters; no name has them.".into()));
        }
        if self.page.is_some_and(|p| p < 1) {
            return Err(AppError::BadRequest("Pages are numbered from 1.".into()));
        }
        let (include_datasets, include_columns) = match self.kind.as_deref().unwrap_or("all") {
            "" | "all" => (true, true),
            "datasets" => (true, false),
            "columns" => (false, true),
            other => {
                return Err(AppError::BadRequest(format!(
                    "Unknown result type {other:?}: use all, datasets or columns."
                )));
            }
        };
        Ok(SearchQuery {
            terms: SearchQuery::terms_of(text),
            source_id: self.source,
            include_datasets,
            include_columns,
        })
    }
}

pub struct Hit {
    pub url: String,
    pub kind: &'static str,
    pub name: Vec<Segment>,
    pub path: String,
    pub detail: String,
    pub description: Vec<Segment>,
}

#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchView {
    pub layout: Layout,
    pub q: String,
    pub kind: String,
    pub hits: Vec<Hit>,
    pub pager: Pager,
    pub dataset_total: String,
    pub column_total: String,
    pub sources: Vec<Choice>,
    pub searched: bool,
}

fn hits(page: SearchPage, terms: &[String]) -> Vec<Hit> {
    let describe = |d: &Option<String>, c: &Option<String>| {
        view::present(d)
            .or(view::present(c))
            .map(|text| view::highlight(&view::excerpt(text, terms, 160), terms))
            .unwrap_or_default()
    };
    let mut out: Vec<Hit> = page
        .datasets
        .iter()
        .map(|d| Hit {
            url: format!("/datasets/{}", d.id),
            kind: kind_label(&d.kind),
            name: view::highlight(&d.name, terms),
            path: format!("{}.{}", d.source_name, d.schema_name),
            detail: String::new(),
            description: describe(&d.description, &d.source_comment),
        })
        .collect();
    out.extend(page.columns.iter().map(|c| Hit {
        url: format!("/datasets/{}#column-{}", c.dataset_id, c.id),
        kind: "column",
        name: view::highlight(&c.name, terms),
        path: format!("{}.{}.{}", c.source_name, c.dataset_schema, c.dataset_name),
        detail: c.data_type.clone(),
        description: describe(&c.description, &c.source_comment),
    }));
    out
}

pub async fn show(
    state: web::Data<AppState>,
    user: CurrentUser,
    params: web::Query<Params>,
) -> Result<HttpResponse, AppError> {
    let params = params.into_inner();
    let query = params.query()?;
    let page_number = params.page.unwrap_or(1);
    let terms = query.terms.clone();
    let q = query.clone();
    let (page, sources) = read(&state, move |conn| {
        let page = search::search(conn, &q, Pager::offset(page_number, PER_PAGE), PER_PAGE)?;
        Ok((page, catalog::list_sources(conn)?))
    })
    .await?;
    let text = params.q.clone().unwrap_or_default().trim().to_owned();
    let kind = params.kind.clone().unwrap_or_else(|| "all".into());
    let mut base = format!("q={}&type={}", encode(&text), encode(&kind));
    if let Some(s) = params.source {
        base.push_str(&format!("&source={s}"));
    }
    let pager =
        Pager::new("/search", &base, page_number, PER_PAGE, page.total(), page.columns_capped || page.datasets_capped);
    let column_total = if page.columns_capped {
        format!("more than {} columns", view::count(page.column_total))
    } else {
        view::plural(page.column_total, "column", "columns")
    };
    let mut layout = Layout::new(
        &state,
        &user,
        if text.is_empty() { "Search".to_owned() } else { format!("Search: {text}") },
        Section::Search,
    );
    layout.query = text.clone();
    render(&SearchView {
        layout,
        dataset_total: if page.datasets_capped {
            format!("more than {} datasets", view::count(page.dataset_total))
        } else {
            view::plural(page.dataset_total, "dataset", "datasets")
        },
        column_total,
        hits: hits(page, &terms),
        pager,
        sources: sources
            .into_iter()
            .map(|s| Choice { selected: params.source == Some(s.id), value: s.id.to_string(), label: s.name })
            .collect(),
        searched: !terms.is_empty(),
        q: text,
        kind,
    })
}
