//! The lineage graph page of a dataset (depth in each direction, nodes expanded to columns, one
//! column's path highlighted, the personal-data flow mode), drawn as server-side SVG with links
//! that work without JavaScript; and impact analysis of a dataset or a column as a page, CSV and
//! JSON (`/lineage/impact`, `/api/v1/lineage/impact`). The graph is assembled by
//! `crate::lineage_graph` and drawn by `crate::graph::svg`.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::CurrentUser;
#[allow(unused_imports)]
use super::openapi::ApiError;
use super::{AppState, Layout, Section, read, render_status};
use crate::error::AppError;
use crate::graph::svg::{self, DrawColumn, DrawEdge, DrawNode};
use crate::lineage_graph::{self as service, GraphRequest, Impact, LineageGraph, Root};

/// Depth choices offered (beyond these, "all").
pub const DEPTHS: [u32; 5] = [1, 2, 3, 5, 10];
/// The depth a page opens with in each direction.
pub const DEFAULT_DEPTH: u32 = 2;
/// Colour classes for personal-data categories (`cat-0` … in the stylesheet).
const CATEGORY_COLOURS: usize = 8;
/// Edge labels are drawn when there are at most this many edges (always in the tooltips).
const LABELS_UP_TO: usize = 60;

#[derive(Deserialize, Default, Clone)]
pub struct GraphQuery {
    pub up: Option<String>,
    pub down: Option<String>,
    /// Comma-separated dataset ids shown with their columns.
    pub expand: Option<String>,
    pub column: Option<i64>,
    /// `personal` for the personal-data flow.
    pub mode: Option<String>,
}

fn depth(value: Option<&str>, name: &str) -> Result<Option<u32>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Some(DEFAULT_DEPTH)),
        Some("all") => Ok(None),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => Ok(Some(n)),
            _ => Err(AppError::BadRequest(format!("{name} is a depth from 1 to 100, or all; not {v:?}."))),
        },
    }
}

fn depth_text(d: Option<u32>) -> String {
    d.map_or_else(|| "all".to_owned(), |n| n.to_string())
}

/// The request a query asks for, and the query string that asks for it again with changes.
struct Params {
    request: GraphRequest,
}

impl Params {
    fn parse(dataset_id: i64, q: &GraphQuery) -> Result<Self, AppError> {
        let expanded: BTreeSet<i64> = match q.expand.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => BTreeSet::new(),
            Some(list) => list
                .split(',')
                .map(|v| v.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| AppError::BadRequest(format!("expand is a list of dataset ids, not {list:?}.")))?,
        };
        let personal_only = match q.mode.as_deref() {
            None | Some("") | Some("all") => false,
            Some("personal") => true,
            Some(other) => return Err(AppError::BadRequest(format!("mode is all or personal, not {other:?}."))),
        };
        Ok(Self {
            request: GraphRequest {
                dataset_id,
                up: depth(q.up.as_deref(), "up")?,
                down: depth(q.down.as_deref(), "down")?,
                expanded,
                column: q.column,
                personal_only,
            },
        })
    }

    /// The page's URL for `dataset` with the given expansion and column.
    fn href(&self, dataset: i64, expanded: &BTreeSet<i64>, column: Option<i64>) -> String {
        let r = &self.request;
        let mut q = format!("/datasets/{dataset}/lineage?up={}&down={}", depth_text(r.up), depth_text(r.down));
        if !expanded.is_empty() {
            q.push_str("&expand=");
            q.push_str(&expanded.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
        }
        if let Some(c) = column {
            q.push_str(&format!("&column={c}"));
        }
        if r.personal_only {
            q.push_str("&mode=personal");
        }
        q
    }
}

/// Turns the assembled graph into the drawing's nodes and edges, with the page's links.
fn drawing(graph: &LineageGraph, params: &Params) -> (Vec<DrawNode>, Vec<DrawEdge>) {
    let r = &params.request;
    let colour_of = |category: i64| {
        graph.categories.iter().position(|(id, _)| *id == category).map(|i| format!("cat-{}", i % CATEGORY_COLOURS))
    };
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            let mut toggled = r.expanded.clone();
            if !toggled.remove(&n.id) {
                toggled.insert(n.id);
            }
            DrawNode {
                id: n.id,
                name: n.name.clone(),
                source: n.source.clone(),
                href: params.href(n.id, &BTreeSet::new(), None),
                level: n.level.clone(),
                personal: n.personal,
                focus: n.id == graph.focus,
                toggle_href: Some(params.href(graph.focus, &toggled, r.column)),
                expanded: n.expanded,
                highlighted: n.columns.iter().any(|c| c.highlighted),
                columns: n
                    .columns
                    .iter()
                    .map(|c| DrawColumn {
                        id: c.id,
                        name: c.name.clone(),
                        personal: c.personal,
                        highlighted: c.highlighted,
                        href: if r.column == Some(c.id) {
                            params.href(graph.focus, &r.expanded, None)
                        } else {
                            params.href(graph.focus, &r.expanded, Some(c.id))
                        },
                    })
                    .collect(),
            }
        })
        .collect();
    let edges = graph
        .edges
        .iter()
        .map(|e| DrawEdge {
            from: e.from,
            to: e.to,
            from_column: e.from_column,
            to_column: e.to_column,
            label: e.pipelines.join(", "),
            colour: e.category.as_ref().and_then(|(id, _)| colour_of(*id)),
            highlighted: e.highlighted,
        })
        .collect();
    (nodes, edges)
}

/// A dataset's lineage drawn as SVG, with the figures the page shows.
pub struct Drawn {
    pub svg: String,
    pub nodes: usize,
    pub edges: usize,
}

/// Assembles and draws the graph `query` asks for around `dataset_id`; `None` when the dataset
/// does not exist. The benchmark calls this too.
pub fn draw(
    conn: &mut crate::db::AnyConnection,
    dataset_id: i64,
    query: &GraphQuery,
) -> Result<Option<(LineageGraph, Drawn)>, AppError> {
    let params = Params::parse(dataset_id, query)?;
    let Some(graph) = service::build(conn, &params.request)? else { return Ok(None) };
    let (nodes, edges) = drawing(&graph, &params);
    let table_edges = edges.iter().filter(|e| e.from_column.is_none()).count();
    let (svg, _) = svg::draw(&nodes, &edges, table_edges <= LABELS_UP_TO);
    let drawn = Drawn { svg, nodes: nodes.len(), edges: table_edges };
    Ok(Some((graph, drawn)))
}

pub struct DepthChoice {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "lineage/graph.html")]
pub struct GraphPage {
    pub layout: Layout,
    pub dataset_id: i64,
    pub title: String,
    pub svg: String,
    pub nodes: usize,
    pub edges: usize,
    pub truncated: bool,
    pub up: String,
    pub down: String,
    pub personal: bool,
    pub expand: String,
    pub column: Option<i64>,
    pub column_name: Option<String>,
    pub depths: Vec<DepthChoice>,
    pub legend: Vec<(String, String)>,
    pub clear_href: String,
    pub impact_href: String,
}

/// `GET /datasets/{id}/lineage`.
pub async fn page(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    query: web::Query<GraphQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let query = query.into_inner();
    let params = Params::parse(id, &query)?;
    let q = query.clone();
    let (graph, drawn) =
        read(&state, move |conn| draw(conn, id, &q)?.ok_or_else(|| AppError::not_found(format!("Dataset {id}"))))
            .await?;
    let focus = graph.nodes.iter().find(|n| n.id == id);
    let title = focus.map(|n| format!("{} ({})", n.name, n.source)).unwrap_or_default();
    let column_name = params.request.column.and_then(|c| {
        graph
            .nodes
            .iter()
            .flat_map(|n| n.columns.iter().map(move |k| (n, k)))
            .find(|(_, k)| k.id == c)
            .map(|(n, k)| format!("{}.{}", n.name, k.name))
    });
    let legend = graph
        .categories
        .iter()
        .enumerate()
        .map(|(i, (_, label))| (format!("cat-{}", i % CATEGORY_COLOURS), label.clone()))
        .collect();
    let mut depths: Vec<DepthChoice> =
        DEPTHS.iter().map(|d| DepthChoice { value: d.to_string(), label: d.to_string() }).collect();
    depths.push(DepthChoice { value: "all".into(), label: "all".into() });
    let impact_href = match params.request.column {
        Some(c) => format!("/lineage/impact?column={c}"),
        None => format!("/lineage/impact?dataset={id}"),
    };
    let page = GraphPage {
        layout: Layout::new(&state, &user, format!("Lineage of {title}"), Section::Lineage),
        dataset_id: id,
        svg: drawn.svg,
        nodes: drawn.nodes,
        edges: drawn.edges,
        truncated: graph.truncated,
        up: depth_text(params.request.up),
        down: depth_text(params.request.down),
        personal: params.request.personal_only,
        expand: params.request.expanded.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        column: params.request.column,
        column_name,
        depths,
        legend,
        clear_href: params.href(id, &BTreeSet::new(), None),
        impact_href,
        title,
    };
    render_status(StatusCode::OK, &page)
}

// ---------------------------------------------------------------------------------------------
// Impact

#[derive(Deserialize)]
pub struct ImpactQuery {
    pub dataset: Option<i64>,
    pub column: Option<i64>,
    pub format: Option<String>,
}

impl ImpactQuery {
    fn root(&self) -> Result<Root, AppError> {
        match (self.dataset, self.column) {
            (Some(d), None) => Ok(Root::Dataset(d)),
            (None, Some(c)) => Ok(Root::Column(c)),
            _ => Err(AppError::BadRequest("Give either dataset=ID or column=ID.".into())),
        }
    }
}

async fn load_impact(state: &AppState, root: Root) -> Result<Impact, AppError> {
    read(state, move |conn| {
        service::impact(conn, root)?.ok_or_else(|| {
            AppError::not_found(match root {
                Root::Dataset(id) => format!("Dataset {id}"),
                Root::Column(id) => format!("Column {id}"),
            })
        })
    })
    .await
}

fn download(impact: &Impact, format: &str) -> Result<HttpResponse, AppError> {
    let (content_type, name, body) = match format {
        "csv" => ("text/csv; charset=utf-8", "impact.csv", service::impact_csv(impact)),
        "json" => ("application/json", "impact.json", serde_json::to_string(impact).unwrap_or_default()),
        other => return Err(AppError::BadRequest(format!("Unknown format {other:?}: use csv or json."))),
    };
    Ok(super::attachment(content_type, name, body))
}

#[derive(Template)]
#[template(path = "lineage/impact.html")]
pub struct ImpactPage {
    pub layout: Layout,
    pub impact: Impact,
    pub query: String,
    pub back: String,
}

/// `GET /lineage/impact?dataset=ID|column=ID[&format=csv|json]`.
pub async fn impact_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<ImpactQuery>,
) -> Result<HttpResponse, AppError> {
    let root = query.root()?;
    let impact = load_impact(&state, root).await?;
    if let Some(format) = query.format.as_deref().filter(|f| *f != "html") {
        return download(&impact, format);
    }
    let (q, back) = match root {
        Root::Dataset(id) => (format!("dataset={id}"), format!("/datasets/{id}/lineage")),
        Root::Column(id) => {
            let d = impact.root_dataset_id;
            (format!("column={id}"), format!("/datasets/{d}/lineage?expand={d}&column={id}"))
        }
    };
    let page = ImpactPage {
        layout: Layout::new(&state, &user, format!("Impact of {}", impact.root), Section::Lineage),
        impact,
        query: q,
        back,
    };
    render_status(StatusCode::OK, &page)
}

/// `GET /api/v1/lineage/impact?dataset=ID|column=ID[&format=csv]` (JSON by default).
#[utoipa::path(get, path = "/api/v1/lineage/impact", tag = "Lineage", params(("dataset" = Option<i64>, Query, description = "A dataset to start from"), ("column" = Option<i64>, Query, description = "Or a column"), ("format" = Option<String>, Query, description = "json (default) or csv")), responses((status = 200, description = "Everything downstream with distance and pipelines (JSON; CSV with format=csv)", body = Impact), (status = 404, description = "Not found", body = ApiError), (status = 400, description = "Bad parameters or body", body = ApiError), (status = 401, description = "No valid session or API token", body = ApiError), (status = 403, description = "The role does not allow it", body = ApiError)), security(("bearer" = []), ("session" = [])))]
pub async fn api_impact(state: web::Data<AppState>, query: web::Query<ImpactQuery>) -> Result<HttpResponse, AppError> {
    let root = query.root()?;
    let impact = load_impact(&state, root).await?;
    match query.format.as_deref().unwrap_or("json") {
        "json" => Ok(HttpResponse::Ok().json(&impact)),
        other => download(&impact, other),
    }
}
