//! Lineage graph and impact analysis at scale (issue 8's targets): on a synthetic catalog of
//! 10,000 datasets and 100,000 column edges, a depth-3 graph of 1,000 nodes is assembled, laid
//! out and drawn as SVG in under 500 ms server-side, and the full impact list of a root dataset
//! with 5,000 downstream datasets returns in under 1 s.
//!
//!     cargo bench --bench graph
//!
//! The catalog (target/bench/graph.db) is seeded once, and again only when its shape is wrong:
//! one source; 10,000 datasets of ten columns (100,000 columns); five pipelines. The root
//! dataset R (id 1) feeds a tree with branching ten: 10 datasets at distance 1, 100 at 2, 1,000
//! at 3 and the remaining 3,890 at 4 (5,000 downstream in all), each table edge carrying ten
//! column edges (column i → column i), so 50,000 column edges. 5,000 more table edges with ten
//! column edges each join random (seeded) pairs of the other 4,999 datasets, never touching R's
//! tree, for 100,000 column edges in all. One dataset in seven has a personal-data column and
//! one in three a classification level, so the drawing shows both.
//!
//! Measured, each five times after one warm-up, printed as median, min and max:
//! - the graph of R with `up=3&down=3` (1,111 nodes: R and three levels of its tree): loading,
//!   layout and SVG, as the page's handler calls it (`web::graph::draw`), on a reader;
//! - the same with R expanded to its columns, and with R and its ten children expanded (100
//!   column edges drawn);
//! - the largest drawing the page makes: `down=all`, cut at `MAX_NODES` (2,500) datasets;
//! - R's full impact list (`lineage_graph::impact`: 5,000 datasets and 50,000 columns);
//! - that list as CSV (`lineage_graph::impact_csv`).
//!
//! A figure over its target prints MISSED; the counts are asserted. The first drawing is left in
//! target/bench/graph.svg to look at.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use custodian::config::Config;
use custodian::db::{AnyConnection, CatalogUrl, Db, dialect};
use custodian::lineage_graph::{self, Root};
use custodian::web::graph::{self, GraphQuery};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const DATASETS: i64 = 10_000;
const COLUMNS_PER_DATASET: i64 = 10;
/// R and its downstream tree take ids 1..=TREE.
const TREE: i64 = 5_001;
const BRANCHING: i64 = 10;
/// Table edges among the datasets outside the tree (ten column edges each).
const OTHER_EDGES: usize = 5_000;
const PIPELINES: i64 = 5;
const ROOT: i64 = 1;
const RUNS: usize = 5;
const TS: &str = "'2026-11-27 00:00:00'";

/// The parent of tree node `k` (2..=TREE): breadth-first numbering with branching ten.
fn parent(k: i64) -> i64 {
    (k - 2) / BRANCHING + 1
}

fn column_id(dataset: i64, i: i64) -> i64 {
    (dataset - 1) * COLUMNS_PER_DATASET + i
}

/// A tiny deterministic generator (xorshift64*), so every seeding draws the same edges.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
}

/// Runs `rows` as multi-row INSERTs of `head … VALUES`, 500 rows a statement.
fn insert_rows(sql: &mut String, head: &str, rows: impl Iterator<Item = String>) {
    let rows: Vec<String> = rows.collect();
    for chunk in rows.chunks(500) {
        sql.push_str(head);
        sql.push_str(" VALUES ");
        sql.push_str(&chunk.join(", "));
        sql.push_str(";\n");
    }
}

fn seed(conn: &mut AnyConnection) {
    let started = Instant::now();
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&format!(
        "INSERT INTO sources (id, name, kind, connection_kind, connection_ref, default_schema, created_at, \
         updated_at, dataset_count, column_count) VALUES (1, 'bench', 'sqlite', 'url', 'bench.db', 'main', {TS}, \
         {TS}, {DATASETS}, {});\n",
        DATASETS * COLUMNS_PER_DATASET
    ));
    // Levels: one dataset in three has one (ranks 0..=3); one in seven holds personal data.
    insert_rows(
        &mut sql,
        "INSERT INTO datasets (id, source_id, schema_name, name, kind, status, created_at, updated_at, level_rank)",
        (1..=DATASETS).map(|d| {
            let level = if d % 3 == 0 { ((d / 3) % 4).to_string() } else { "NULL".into() };
            format!("({d}, 1, 'public', 'dataset_{d:05}', 'table', 'active', {TS}, {TS}, {level})")
        }),
    );
    insert_rows(
        &mut sql,
        "INSERT INTO dataset_columns (id, dataset_id, ordinal, name, data_type, nullable, is_primary_key, status, \
         created_at, updated_at, personal_data, level_rank)",
        (1..=DATASETS).flat_map(|d| {
            (1..=COLUMNS_PER_DATASET).map(move |i| {
                let personal = d % 7 == 0 && i == 3;
                format!(
                    "({}, {d}, {i}, 'column_{i:02}', '{}', {}, {}, 'active', {TS}, {TS}, {}, {})",
                    column_id(d, i),
                    if i == 1 { "bigint" } else { "text" },
                    i32::from(i != 1),
                    i32::from(i == 1),
                    i32::from(personal),
                    if personal { "2" } else { "NULL" },
                )
            })
        }),
    );
    insert_rows(
        &mut sql,
        "INSERT INTO pipelines (id, name, path, source_id, dialect, default_schema, content_hash, sql_text, \
         statement_count, status, errors, degraded, table_edge_count, column_edge_count, ingested_by, created_at, \
         ingested_at, updated_at)",
        (1..=PIPELINES).map(|p| {
            format!(
                "({p}, 'etl_{p}.sql', 'bench/etl_{p}.sql', 1, 'generic', 'public', '', '', 1, 'ok', '[]', 0, 0, 0, \
                 'bench', {TS}, {TS}, {TS})"
            )
        }),
    );

    // (from, to) dataset pairs: R's tree, then random pairs outside it (lower id to higher, so
    // they form no cycles), each pair once.
    let mut pairs: Vec<(i64, i64)> = (2..=TREE).map(|k| (parent(k), k)).collect();
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut seen: HashSet<(i64, i64)> = HashSet::new();
    let others = DATASETS - TREE;
    while seen.len() < OTHER_EDGES {
        let a = TREE + 1 + rng.below(others);
        let b = TREE + 1 + rng.below(others);
        if a != b && seen.insert((a.min(b), a.max(b))) {
            pairs.push((a.min(b), a.max(b)));
        }
    }
    let pipeline = |from: i64, to: i64| 1 + (from * 31 + to) % PIPELINES;
    insert_rows(
        &mut sql,
        "INSERT INTO lineage_edges (pipeline_id, statement_index, from_dataset_id, to_dataset_id)",
        pairs.iter().map(|&(f, t)| format!("({}, 1, {f}, {t})", pipeline(f, t))),
    );
    insert_rows(
        &mut sql,
        "INSERT INTO column_lineage_edges (pipeline_id, statement_index, from_column_id, to_column_id, kind)",
        pairs.iter().flat_map(|&(f, t)| {
            (1..=COLUMNS_PER_DATASET).map(move |i| {
                let kind = match i % 3 {
                    0 => "identity",
                    1 => "transform",
                    _ => "aggregate",
                };
                format!("({}, 1, {}, {}, '{kind}')", pipeline(f, t), column_id(f, i), column_id(t, i))
            })
        }),
    );
    sql.push_str("COMMIT;\n");
    conn.batch_execute(&sql).expect("seed the graph catalog");
    dialect::refresh_statistics(conn, 1_000_000).expect("statistics");
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
}

/// Whether the catalog holds the synthetic graph (and nothing else).
fn shape_ok(conn: &mut AnyConnection) -> bool {
    use custodian::db::schema::{column_lineage_edges, dataset_columns, datasets, lineage_edges};
    let count = |r: QueryResult<i64>| r.unwrap_or(-1);
    count(datasets::table.count().get_result(conn)) == DATASETS
        && count(dataset_columns::table.count().get_result(conn)) == DATASETS * COLUMNS_PER_DATASET
        && count(lineage_edges::table.count().get_result(conn)) == TREE - 1 + OTHER_EDGES as i64
        && count(column_lineage_edges::table.count().get_result(conn))
            == (TREE - 1 + OTHER_EDGES as i64) * COLUMNS_PER_DATASET
        && count(lineage_edges::table.filter(lineage_edges::to_dataset_id.eq(ROOT)).count().get_result(conn)) == 0
}

fn open_db(path: &Path) -> Db {
    let mut config = Config::with_database(CatalogUrl::Sqlite(path.to_path_buf()));
    config.run_worker = false;
    Db::open(&config.database_url, &config.pool_settings()).expect("open the bench catalog")
}

fn open() -> Db {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join("graph.db");
    let db = open_db(&path);
    if shape_ok(&mut db.reader().expect("conn")) {
        return db;
    }
    drop(db);
    for suffix in ["", "-wal", "-shm", ".key"] {
        let _ = std::fs::remove_file(dir.join(format!("graph.db{suffix}")));
    }
    eprintln!(
        "seeding {DATASETS} datasets and {} column edges into {} (once)…",
        (TREE - 1 + OTHER_EDGES as i64) * COLUMNS_PER_DATASET,
        path.display()
    );
    // Opening runs the migrations; the rows go in through the writer.
    let db = open_db(&path);
    seed(&mut db.writer().expect("conn"));
    assert!(shape_ok(&mut db.reader().expect("conn")), "the seeded catalog has the wrong shape");
    db
}

struct Figures {
    median: Duration,
    min: Duration,
    max: Duration,
}

/// One warm-up, then `RUNS` timed runs of `f`.
fn measure<T>(mut f: impl FnMut() -> T) -> (Figures, T) {
    let mut last = f();
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        last = f();
        times.push(started.elapsed());
    }
    times.sort();
    (Figures { median: times[RUNS / 2], min: times[0], max: times[RUNS - 1] }, last)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(name: &str, f: &Figures, target: Option<Duration>) {
    let verdict = match target {
        Some(t) if f.median <= t => format!("target {} ms: met", t.as_millis()),
        Some(t) => format!("target {} ms: MISSED", t.as_millis()),
        None => String::new(),
    };
    println!(
        "{name:<46} median {:>8.1} ms  min {:>8.1} ms  max {:>8.1} ms  {verdict}",
        ms(f.median),
        ms(f.min),
        ms(f.max)
    );
}

fn main() {
    let db = open();
    let mut conn = db.reader().expect("conn");
    let conn: &mut AnyConnection = &mut conn;

    let query = |expand: Option<String>| GraphQuery {
        up: Some("3".into()),
        down: Some("3".into()),
        expand,
        column: None,
        mode: None,
    };
    let plain = query(None);
    let (figures, (lineage, drawn)) =
        measure(|| graph::draw(conn, ROOT, &plain).expect("draw").expect("the root dataset exists"));
    assert_eq!(lineage.nodes.len(), 1_111, "R and three levels of its tree");
    assert_eq!(drawn.nodes, 1_111, "nodes drawn");
    assert_eq!(drawn.edges, 1_110, "table edges drawn");
    assert!(!lineage.truncated);
    assert!(lineage.nodes.iter().any(|n| n.personal) && lineage.nodes.iter().any(|n| n.level.is_some()));
    report("graph up=3 down=3 (load, layout, SVG)", &figures, Some(Duration::from_millis(500)));
    println!("    {} nodes, {} edges, SVG {:.0} KB", drawn.nodes, drawn.edges, drawn.svg.len() as f64 / 1024.0);

    std::fs::write(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench/graph.svg"), &drawn.svg)
        .expect("write the SVG");

    let expanded = query(Some(ROOT.to_string()));
    let (figures, (lineage, drawn)) =
        measure(|| graph::draw(conn, ROOT, &expanded).expect("draw").expect("the root dataset exists"));
    assert_eq!(drawn.nodes, 1_111, "nodes drawn, R expanded");
    let root = lineage.nodes.iter().find(|n| n.id == ROOT).expect("R");
    assert_eq!(root.columns.len(), COLUMNS_PER_DATASET as usize, "R's columns");
    report("graph up=3 down=3, R expanded", &figures, Some(Duration::from_millis(500)));
    println!("    {} nodes, {} edges, SVG {:.0} KB", drawn.nodes, drawn.edges, drawn.svg.len() as f64 / 1024.0);

    // R and its ten children expanded: their 100 column edges are drawn too.
    let family = query(Some((ROOT..=ROOT + BRANCHING).map(|id| id.to_string()).collect::<Vec<_>>().join(",")));
    let (figures, (lineage, drawn)) =
        measure(|| graph::draw(conn, ROOT, &family).expect("draw").expect("the root dataset exists"));
    let column_edges = lineage.edges.iter().filter(|e| e.from_column.is_some()).count();
    assert_eq!(column_edges, (BRANCHING * COLUMNS_PER_DATASET) as usize, "column edges between expanded nodes");
    report("graph up=3 down=3, R and 10 children expanded", &figures, Some(Duration::from_millis(500)));
    println!(
        "    {} nodes, {} table edges, {column_edges} column edges, SVG {:.0} KB",
        drawn.nodes,
        drawn.edges,
        drawn.svg.len() as f64 / 1024.0
    );

    // The most a drawing holds: everything downstream, cut at MAX_NODES.
    let all = GraphQuery { down: Some("all".into()), ..query(None) };
    let (figures, (lineage, drawn)) =
        measure(|| graph::draw(conn, ROOT, &all).expect("draw").expect("the root dataset exists"));
    assert!(lineage.truncated, "5,001 datasets are more than a drawing holds");
    assert_eq!(drawn.nodes, lineage_graph::MAX_NODES, "nodes drawn, cut");
    report("graph up=3 down=all (cut at MAX_NODES)", &figures, None);
    println!("    {} nodes, {} edges, SVG {:.0} KB", drawn.nodes, drawn.edges, drawn.svg.len() as f64 / 1024.0);

    let (figures, impact) =
        measure(|| lineage_graph::impact(conn, Root::Dataset(ROOT)).expect("impact").expect("the root dataset exists"));
    assert_eq!(impact.datasets, (TREE - 1) as usize, "downstream datasets");
    assert_eq!(impact.columns, ((TREE - 1) * COLUMNS_PER_DATASET) as usize, "downstream columns");
    assert_eq!(impact.rows.len(), impact.datasets + impact.columns, "impact rows");
    assert_eq!(impact.rows.iter().map(|r| r.distance).max(), Some(4), "deepest distance");
    report("impact of R (all downstream)", &figures, Some(Duration::from_secs(1)));
    println!("    {} datasets, {} columns, {} rows", impact.datasets, impact.columns, impact.rows.len());

    let (figures, csv) = measure(|| lineage_graph::impact_csv(&impact));
    assert_eq!(csv.lines().count(), impact.rows.len() + 1, "CSV lines");
    report("impact CSV", &figures, None);
    println!("    {:.0} KB", csv.len() as f64 / 1024.0);
}
