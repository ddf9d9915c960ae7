//! Lineage graphs and impact analysis over the catalog: the upstream and downstream datasets of
//! a dataset to a chosen depth, nodes expanded to their columns with the column edges between
//! them, one column's whole path, the personal-data flow (only edges that carry personal-data
//! columns, by category), and the impact of changing a dataset or a column (every downstream
//! dataset and column, with its distance and the pipelines in between, uncapped). Edges are read
//! a frontier at a time (`db::graph`); the walking, layout and drawing are in `crate::graph`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::db::graph::{self as repo, ColumnInfo, NodeInfo};
use crate::db::{AnyConnection, classification};
use crate::graph::{self, Direction, Edge, Reached};

/// Most datasets a drawing holds; beyond it the page says the graph was cut and lists the rest
/// in the impact view.
pub const MAX_NODES: usize = 2500;

/// What to draw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphRequest {
    pub dataset_id: i64,
    /// Steps upstream and downstream (`None`: all).
    pub up: Option<u32>,
    pub down: Option<u32>,
    /// Datasets shown with their columns.
    pub expanded: BTreeSet<i64>,
    /// A column whose whole path is highlighted.
    pub column: Option<i64>,
    /// Only edges that carry personal-data columns.
    pub personal_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub kind: String,
    /// Level name and colour.
    pub level: Option<(String, String)>,
    pub personal: bool,
    /// Negative upstream, positive downstream, 0 for the dataset asked about.
    pub distance: i32,
    pub expanded: bool,
    pub columns: Vec<GraphColumn>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphColumn {
    pub id: i64,
    pub name: String,
    pub personal: bool,
    pub highlighted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    pub from: i64,
    pub to: i64,
    pub from_column: Option<i64>,
    pub to_column: Option<i64>,
    pub pipelines: Vec<String>,
    /// In personal-data mode: the category the edge carries (id and label).
    pub category: Option<(i64, String)>,
    pub highlighted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineageGraph {
    pub focus: i64,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    /// Categories present in personal-data mode, for the legend.
    pub categories: Vec<(i64, String)>,
    /// More datasets were reached than a drawing holds.
    pub truncated: bool,
}

fn walk(
    conn: &mut AnyConnection,
    roots: &[i64],
    direction: Direction,
    depth: Option<u32>,
    columns: bool,
) -> diesel::QueryResult<Reached> {
    graph::traverse(roots, direction, depth, |frontier, direction| {
        if columns {
            repo::column_edges(conn, frontier, direction)
        } else {
            repo::table_edges(conn, frontier, direction)
        }
    })
}

/// Builds the graph `request` asks for.
pub fn build(conn: &mut AnyConnection, request: &GraphRequest) -> diesel::QueryResult<Option<LineageGraph>> {
    let focus = request.dataset_id;
    let focus_info = repo::datasets(conn, &[focus])?;
    if focus_info.is_empty() {
        return Ok(None);
    }
    let up = walk(conn, &[focus], Direction::Upstream, request.up, false)?;
    let down = walk(conn, &[focus], Direction::Downstream, request.down, false)?;
    let mut distance: HashMap<i64, i32> = HashMap::new();
    for (id, d) in &up.distance {
        distance.insert(*id, -(*d as i32));
    }
    for (id, d) in &down.distance {
        distance.entry(*id).or_insert(*d as i32);
    }
    let mut table_edges: BTreeSet<Edge> = up.edges.iter().chain(down.edges.iter()).copied().collect();

    // One column's whole path, wherever it leads.
    let mut path_columns: HashSet<i64> = HashSet::new();
    let mut path_edges: HashSet<(i64, i64)> = HashSet::new();
    let mut expanded: BTreeSet<i64> = request.expanded.clone();
    if let Some(column) = request.column {
        let up = walk(conn, &[column], Direction::Upstream, None, true)?;
        let down = walk(conn, &[column], Direction::Downstream, None, true)?;
        let edges: Vec<Edge> = up.edges.iter().chain(down.edges.iter()).copied().collect();
        let (nodes, on_path) = graph::path_through(column, &edges);
        path_columns = nodes;
        path_edges = on_path.iter().map(|e| (e.from, e.to)).collect();
        let ids: Vec<i64> = path_columns.iter().copied().collect();
        for c in repo::columns(conn, &ids)?.values() {
            expanded.insert(c.dataset_id);
            distance.entry(c.dataset_id).or_insert(0);
        }
    }

    let mut truncated = false;
    if distance.len() > MAX_NODES {
        truncated = true;
        let mut by_distance: Vec<(i64, i32)> = distance.iter().map(|(k, v)| (*k, *v)).collect();
        by_distance.sort_by_key(|(id, d)| (d.abs(), *id));
        let keep: HashSet<i64> = by_distance.into_iter().take(MAX_NODES).map(|(id, _)| id).collect();
        distance.retain(|id, _| keep.contains(id) || expanded.contains(id));
    }
    let ids: Vec<i64> = distance.keys().copied().collect();
    let infos = repo::datasets(conn, &ids)?;
    let personal = repo::personal(conn, &ids)?;
    let levels: HashMap<i32, (String, String)> =
        classification::list_levels(conn)?.into_iter().map(|l| (l.rank, (l.name, l.colour))).collect();
    table_edges.retain(|e| distance.contains_key(&e.from) && distance.contains_key(&e.to));

    // Columns: of expanded nodes, and (in personal-data mode) of every node, with the column
    // edges between them.
    let column_scope: Vec<i64> = if request.personal_only {
        ids.clone()
    } else {
        expanded.iter().copied().filter(|id| distance.contains_key(id)).collect()
    };
    let columns = repo::columns_of(conn, &column_scope)?;
    let column_ids: Vec<i64> = columns.iter().map(|c| c.id).collect();
    let column_of: HashMap<i64, &ColumnInfo> = columns.iter().map(|c| (c.id, c)).collect();
    let column_edges: Vec<Edge> = repo::column_edges(conn, &column_ids, Direction::Downstream)?
        .into_iter()
        .filter(|e| column_of.contains_key(&e.to))
        .collect();
    let categories = if request.personal_only { repo::categories(conn, &column_ids)? } else { HashMap::new() };
    let category_labels: HashMap<i64, String> =
        classification::list_categories(conn)?.into_iter().map(|c| (c.id, c.label)).collect();

    let mut pipeline_ids: Vec<i64> = table_edges.iter().chain(column_edges.iter()).map(|e| e.label).collect();
    pipeline_ids.sort_unstable();
    pipeline_ids.dedup();
    let pipeline_names = repo::pipeline_names(conn, &pipeline_ids)?;
    let name_of = |id: i64| pipeline_names.get(&id).cloned().unwrap_or_else(|| format!("pipeline {id}"));

    // Table edges grouped by dataset pair, with their pipelines.
    let mut pairs: BTreeMap<(i64, i64), BTreeSet<String>> = BTreeMap::new();
    for e in &table_edges {
        pairs.entry((e.from, e.to)).or_default().insert(name_of(e.label));
    }
    // In personal-data mode, a pair stays only when a personal-data column flows along it, and
    // takes the category of the first such column.
    let mut carried: HashMap<(i64, i64), i64> = HashMap::new();
    if request.personal_only {
        for e in &column_edges {
            let (Some(a), Some(b)) = (column_of.get(&e.from), column_of.get(&e.to)) else { continue };
            if !a.personal {
                continue;
            }
            if let Some(&category) = categories.get(&a.id).and_then(|c| c.first()) {
                let slot = carried.entry((a.dataset_id, b.dataset_id)).or_insert(category);
                *slot = (*slot).min(category);
            } else {
                carried.entry((a.dataset_id, b.dataset_id)).or_insert(0);
            }
        }
        pairs.retain(|pair, _| carried.contains_key(pair));
        let connected: HashSet<i64> = pairs.keys().flat_map(|(a, b)| [*a, *b]).collect();
        distance.retain(|id, _| *id == focus || connected.contains(id));
    }

    let mut edges: Vec<GraphEdge> = pairs
        .into_iter()
        .map(|((from, to), names)| GraphEdge {
            from,
            to,
            from_column: None,
            to_column: None,
            pipelines: names.into_iter().collect(),
            category: carried
                .get(&(from, to))
                .filter(|c| **c != 0)
                .map(|c| (*c, category_labels.get(c).cloned().unwrap_or_default())),
            highlighted: false,
        })
        .collect();
    // Column edges between expanded nodes.
    for e in &column_edges {
        let (Some(a), Some(b)) = (column_of.get(&e.from), column_of.get(&e.to)) else { continue };
        if !(expanded.contains(&a.dataset_id) && expanded.contains(&b.dataset_id)) {
            continue;
        }
        if !(distance.contains_key(&a.dataset_id) && distance.contains_key(&b.dataset_id)) {
            continue;
        }
        edges.push(GraphEdge {
            from: a.dataset_id,
            to: b.dataset_id,
            from_column: Some(a.id),
            to_column: Some(b.id),
            pipelines: vec![name_of(e.label)],
            category: None,
            highlighted: path_edges.contains(&(e.from, e.to)),
        });
    }
    let path_datasets: HashSet<i64> = edges.iter().filter(|e| e.highlighted).flat_map(|e| [e.from, e.to]).collect();
    for e in edges.iter_mut().filter(|e| e.from_column.is_none()) {
        e.highlighted = path_datasets.contains(&e.from) && path_datasets.contains(&e.to) && request.column.is_some();
    }

    let mut nodes: Vec<GraphNode> = distance
        .iter()
        .filter_map(|(id, d)| {
            let info: &NodeInfo = infos.get(id)?;
            let is_expanded = expanded.contains(id);
            Some(GraphNode {
                id: *id,
                name: info.qualified(),
                source: info.source.clone(),
                kind: info.kind.clone(),
                level: info.level_rank.and_then(|r| levels.get(&r).cloned()),
                personal: personal.contains(id),
                distance: *d,
                expanded: is_expanded,
                columns: if is_expanded {
                    columns
                        .iter()
                        .filter(|c| c.dataset_id == *id)
                        .map(|c| GraphColumn {
                            id: c.id,
                            name: c.name.clone(),
                            personal: c.personal,
                            highlighted: path_columns.contains(&c.id),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            })
        })
        .collect();
    nodes.sort_by(|a, b| a.distance.cmp(&b.distance).then(a.name.cmp(&b.name)).then(a.id.cmp(&b.id)));
    let mut legend: Vec<(i64, String)> = edges.iter().filter_map(|e| e.category.clone()).collect();
    legend.sort();
    legend.dedup();
    Ok(Some(LineageGraph { focus, nodes, edges, categories: legend, truncated }))
}

// ---------------------------------------------------------------------------------------------
// Impact

/// What an impact analysis starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    Dataset(i64),
    Column(i64),
}

/// One dataset or column downstream, with its distance and the pipelines that feed it from the
/// step before.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ImpactRow {
    /// dataset | column
    pub kind: String,
    pub dataset_id: i64,
    pub column_id: Option<i64>,
    pub source: String,
    pub dataset: String,
    pub column: Option<String>,
    pub distance: u32,
    pub via: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Impact {
    pub root: String,
    /// The dataset of the root (itself, or the column's).
    pub root_dataset_id: i64,
    pub datasets: usize,
    pub columns: usize,
    pub rows: Vec<ImpactRow>,
}

/// Pipelines on the edges that reach each node from the step before it.
fn via(reached: &Reached, names: &HashMap<i64, String>) -> HashMap<i64, BTreeSet<String>> {
    let mut out: HashMap<i64, BTreeSet<String>> = HashMap::new();
    for e in &reached.edges {
        let (Some(df), Some(dt)) = (reached.distance.get(&e.from), reached.distance.get(&e.to)) else { continue };
        if *dt == *df + 1 {
            out.entry(e.to).or_default().insert(names.get(&e.label).cloned().unwrap_or_default());
        }
    }
    out
}

/// Everything downstream of `root`, nearest first: datasets (through table lineage) and columns
/// (through column lineage), uncapped. `None` when the root does not exist.
pub fn impact(conn: &mut AnyConnection, root: Root) -> diesel::QueryResult<Option<Impact>> {
    let (root_name, root_dataset_id, tables, column_roots) = match root {
        Root::Dataset(id) => {
            let Some(info) = repo::datasets(conn, &[id])?.remove(&id) else { return Ok(None) };
            let tables = walk(conn, &[id], Direction::Downstream, None, false)?;
            let columns: Vec<i64> = repo::columns_of(conn, &[id])?.iter().map(|c| c.id).collect();
            (format!("{}.{}", info.source, info.qualified()), id, Some(tables), columns)
        }
        Root::Column(id) => {
            let Some(c) = repo::columns(conn, &[id])?.remove(&id) else { return Ok(None) };
            let Some(info) = repo::datasets(conn, &[c.dataset_id])?.remove(&c.dataset_id) else { return Ok(None) };
            (format!("{}.{}.{}", info.source, info.qualified(), c.name), c.dataset_id, None, vec![id])
        }
    };
    let columns = walk(conn, &column_roots, Direction::Downstream, None, true)?;
    let column_ids: Vec<i64> = columns.distance.iter().filter(|(_, d)| **d > 0).map(|(id, _)| *id).collect();
    let column_info = repo::columns(conn, &column_ids)?;
    let mut dataset_distance: HashMap<i64, u32> = HashMap::new();
    if let Some(t) = &tables {
        dataset_distance.extend(t.distance.iter().filter(|(_, d)| **d > 0).map(|(k, v)| (*k, *v)));
    } else {
        // A column's impact reaches the datasets of the columns it reaches.
        for c in column_info.values() {
            let d = columns.distance[&c.id];
            let slot = dataset_distance.entry(c.dataset_id).or_insert(d);
            *slot = (*slot).min(d);
        }
    }
    let mut dataset_ids: Vec<i64> = dataset_distance.keys().copied().collect();
    dataset_ids.extend(column_info.values().map(|c| c.dataset_id));
    dataset_ids.sort_unstable();
    dataset_ids.dedup();
    let infos = repo::datasets(conn, &dataset_ids)?;
    let mut pipeline_ids: Vec<i64> =
        columns.edges.iter().chain(tables.iter().flat_map(|t| t.edges.iter())).map(|e| e.label).collect();
    pipeline_ids.sort_unstable();
    pipeline_ids.dedup();
    let names = repo::pipeline_names(conn, &pipeline_ids)?;
    let column_via = via(&columns, &names);
    let table_via = match &tables {
        Some(t) => via(t, &names),
        None => {
            // Datasets reached by a column's impact are fed by the pipelines of its columns' edges.
            let mut out: HashMap<i64, BTreeSet<String>> = HashMap::new();
            for (column, pipelines) in &column_via {
                if let Some(c) = column_info.get(column) {
                    out.entry(c.dataset_id).or_default().extend(pipelines.iter().cloned());
                }
            }
            out
        }
    };

    let mut rows = Vec::with_capacity(dataset_distance.len() + column_info.len());
    for (id, d) in &dataset_distance {
        let Some(info) = infos.get(id) else { continue };
        rows.push(ImpactRow {
            kind: "dataset".into(),
            dataset_id: *id,
            column_id: None,
            source: info.source.clone(),
            dataset: info.qualified(),
            column: None,
            distance: *d,
            via: table_via.get(id).map(|v| v.iter().cloned().collect()).unwrap_or_default(),
        });
    }
    for c in column_info.values() {
        let Some(info) = infos.get(&c.dataset_id) else { continue };
        rows.push(ImpactRow {
            kind: "column".into(),
            dataset_id: c.dataset_id,
            column_id: Some(c.id),
            source: info.source.clone(),
            dataset: info.qualified(),
            column: Some(c.name.clone()),
            distance: columns.distance[&c.id],
            via: column_via.get(&c.id).map(|v| v.iter().cloned().collect()).unwrap_or_default(),
        });
    }
    // Nearest first; each dataset's row before its columns'.
    rows.sort_by(|a, b| {
        (a.distance, &a.source, &a.dataset, &a.column).cmp(&(b.distance, &b.source, &b.dataset, &b.column))
    });
    let datasets = rows.iter().filter(|r| r.kind == "dataset").count();
    let columns = rows.len() - datasets;
    Ok(Some(Impact { root: root_name, root_dataset_id, datasets, columns, rows }))
}

/// The impact list as CSV.
pub fn impact_csv(impact: &Impact) -> String {
    let mut out = String::new();
    crate::csv::write_record(
        &mut out,
        &["kind", "source", "dataset", "column", "distance", "via", "dataset_id", "column_id"],
    );
    for r in &impact.rows {
        let distance = r.distance.to_string();
        let dataset_id = r.dataset_id.to_string();
        let column_id = r.column_id.map(|c| c.to_string()).unwrap_or_default();
        crate::csv::write_record(
            &mut out,
            &[
                &r.kind,
                &r.source,
                &r.dataset,
                r.column.as_deref().unwrap_or(""),
                &distance,
                &r.via.join("; "),
                &dataset_id,
                &column_id,
            ],
        );
    }
    out
}
