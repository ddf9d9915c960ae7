//! The lineage graph and impact analysis on a known catalog: a chain of tables with a cycle and
//! a fan-out, built by ingesting pipelines against a crawled source. Depth limits, cycles,
//! expanded columns, one column's path, the personal-data flow, impact completeness with
//! distances and pipelines, and the pages, CSV and JSON.

use actix_web::http::StatusCode;
use custodian::classification::{self, ColumnChange, Vocabulary};
use custodian::db::audit::AuditActor;
use custodian::db::{catalog, now};
use custodian::governance::access::Role;
use custodian::ingest::{self, IngestTarget, SqlInput};
use custodian::lineage_graph::{self, GraphRequest, Root};

use crate::support::targets::Target;
use crate::support::{TestApp, assert_contains};

const TABLES: &str = "
CREATE TABLE a (id INTEGER, email TEXT, note TEXT);
CREATE TABLE b (id INTEGER, email TEXT, note TEXT);
CREATE TABLE c (id INTEGER, email TEXT);
CREATE TABLE d (id INTEGER, contact TEXT);
CREATE TABLE e (id INTEGER, n INTEGER);
CREATE TABLE f (id INTEGER, email TEXT);
";

/// a → b → c → d, d → b (a cycle), b → e (an aggregate), f → a; each its own pipeline.
const PIPELINES: &[(&str, &str)] = &[
    ("load_b.sql", "INSERT INTO b (id, email, note) SELECT id, email, note FROM a;"),
    ("load_c.sql", "INSERT INTO c (id, email) SELECT id, lower(email) FROM b;"),
    ("load_d.sql", "INSERT INTO d (id, contact) SELECT id, email FROM c;"),
    ("back_to_b.sql", "INSERT INTO b (id, email, note) SELECT id, contact, 'from d' FROM d;"),
    ("count_e.sql", "INSERT INTO e (id, n) SELECT id, count(*) FROM b GROUP BY id;"),
    ("load_a.sql", "INSERT INTO a (id, email, note) SELECT id, email, 'seed' FROM f;"),
];

struct Graph {
    _target: Target,
    ids: std::collections::HashMap<String, i64>,
}

impl Graph {
    fn id(&self, table: &str) -> i64 {
        self.ids[table]
    }
}

fn column(app: &TestApp, dataset: i64, name: &str) -> i64 {
    catalog::list_columns(&mut app.db.reader().unwrap(), dataset)
        .unwrap()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap()
        .id
}

async fn graph(app: &TestApp) -> Graph {
    crate::classification::taxonomy(app);
    let target = Target::sqlite(TABLES);
    app.sign_in_as(Role::Steward);
    let created = app.post_form("/sources", &[("name", "wh"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(created.status.as_u16(), 303, "{}", created.body);
    app.run_queued_crawls();
    let source_id = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().unwrap();
    let mut conn = app.db.writer().unwrap();
    let source = catalog::find_source(&mut conn, source_id).unwrap().unwrap();
    let ingest_target = IngestTarget::new(source, None, None).unwrap();
    for (name, sql) in PIPELINES {
        let input = SqlInput { name: (*name).into(), path: format!("pipelines/{name}"), sql: (*sql).into() };
        ingest::ingest(&mut conn, &AuditActor::system(), &ingest_target, &input, false, None).unwrap();
    }
    let mut ids = std::collections::HashMap::new();
    for t in ["a", "b", "c", "d", "e", "f"] {
        ids.insert(t.to_owned(), catalog::find_dataset_by_name(&mut conn, source_id, "main", t).unwrap().unwrap().id);
    }
    drop(conn);
    // a.email is personal (an e-mail address); propagation carries it along the copies.
    let email = column(app, ids["a"], "email");
    let mut conn = app.db.writer().unwrap();
    let contact = Vocabulary::load(&mut conn).unwrap().category_by_key("contact.email").unwrap().id;
    custodian::db::dialect::write_transaction(&mut conn, |conn| {
        let change = ColumnChange { add_categories: vec![contact], ..Default::default() };
        classification::classify(conn, &AuditActor::system(), &[email], &change, None, now())
    })
    .unwrap();
    Graph { _target: target, ids }
}

fn names(g: &lineage_graph::LineageGraph) -> Vec<(String, i32)> {
    let mut v: Vec<(String, i32)> = g.nodes.iter().map(|n| (n.name.clone(), n.distance)).collect();
    v.sort();
    v
}

#[actix_web::test]
async fn depth_cycles_columns_and_paths() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let g = graph(&app).await;
    let mut conn = app.db.reader().unwrap();
    let request = |up, down| GraphRequest { dataset_id: g.id("c"), up, down, ..Default::default() };

    // One step each way from c: b upstream, d downstream.
    let one = lineage_graph::build(&mut conn, &request(Some(1), Some(1))).unwrap().unwrap();
    assert_eq!(names(&one), vec![("main.b".into(), -1), ("main.c".into(), 0), ("main.d".into(), 1)]);
    // Two each way: a and d upstream (d → b closes the cycle), e and b downstream; the cycle
    // does not loop the walk, and every node appears once.
    let two = lineage_graph::build(&mut conn, &request(Some(2), Some(2))).unwrap().unwrap();
    assert_eq!(
        names(&two),
        vec![("main.a".into(), -2), ("main.b".into(), -1), ("main.c".into(), 0), ("main.d".into(), -2),],
        "d is upstream through the cycle at distance 2 and downstream at 1; upstream wins the sign"
    );
    let all = lineage_graph::build(&mut conn, &request(None, None)).unwrap().unwrap();
    let all_names: Vec<String> = names(&all).into_iter().map(|(n, _)| n).collect();
    assert_eq!(all_names, vec!["main.a", "main.b", "main.c", "main.d", "main.e", "main.f"]);
    let edge =
        |x: &str, y: &str| all.edges.iter().any(|e| e.from == g.id(x) && e.to == g.id(y) && e.from_column.is_none());
    assert!(edge("a", "b") && edge("b", "c") && edge("c", "d") && edge("d", "b") && edge("b", "e") && edge("f", "a"));
    let ab = all.edges.iter().find(|e| e.from == g.id("a") && e.to == g.id("b")).unwrap();
    assert_eq!(ab.pipelines, vec!["load_b.sql".to_string()]);

    // Expanding b and c shows their columns and the column edges between them.
    let mut expanded = request(Some(1), Some(1));
    expanded.expanded = [g.id("b"), g.id("c")].into_iter().collect();
    let x = lineage_graph::build(&mut conn, &expanded).unwrap().unwrap();
    let b = x.nodes.iter().find(|n| n.id == g.id("b")).unwrap();
    assert_eq!(b.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), vec!["id", "email", "note"]);
    let b_email = column(&app, g.id("b"), "email");
    let c_email = column(&app, g.id("c"), "email");
    assert!(x.edges.iter().any(|e| e.from_column == Some(b_email) && e.to_column == Some(c_email)));
    assert!(x.nodes.iter().find(|n| n.id == g.id("d")).unwrap().columns.is_empty(), "d is not expanded");

    // A column's whole path: f.email → a.email → b.email → c.email → d.contact → b.email …,
    // but not b.note or e.n.
    let mut path = request(Some(1), Some(1));
    path.column = Some(c_email);
    let p = lineage_graph::build(&mut conn, &path).unwrap().unwrap();
    let highlighted: Vec<String> = p
        .nodes
        .iter()
        .flat_map(|n| n.columns.iter().filter(|c| c.highlighted).map(move |c| format!("{}.{}", n.name, c.name)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(highlighted, vec!["main.a.email", "main.b.email", "main.c.email", "main.d.contact", "main.f.email"]);
    assert!(p.edges.iter().any(|e| e.highlighted && e.from_column == Some(b_email) && e.to_column == Some(c_email)));
    assert!(!p.edges.iter().any(|e| e.highlighted && e.to == g.id("e")), "e.n is not on the e-mail's path");

    // The personal-data flow keeps only edges that carry personal columns, with their category.
    let mut personal = request(None, None);
    personal.personal_only = true;
    let pd = lineage_graph::build(&mut conn, &personal).unwrap().unwrap();
    assert_eq!(pd.categories.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(), vec!["E-mail address"]);
    assert!(pd.edges.iter().all(|e| e.category.is_some()), "{:?}", pd.edges);
    assert!(pd.edges.iter().any(|e| e.from == g.id("a") && e.to == g.id("b")));
    assert!(!pd.edges.iter().any(|e| e.to == g.id("e")), "the count carries no personal data");
    assert!(!pd.edges.iter().any(|e| e.from == g.id("f")), "f.email is upstream of the tag, not tagged");
}

#[actix_web::test]
async fn impact_lists_everything_downstream_with_distance_and_pipelines() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let g = graph(&app).await;
        let mut conn = app.db.reader().unwrap();
        let impact = lineage_graph::impact(&mut conn, Root::Dataset(g.id("a"))).unwrap().unwrap();
        let datasets: Vec<(String, u32, Vec<String>)> = impact
            .rows
            .iter()
            .filter(|r| r.kind == "dataset")
            .map(|r| (r.dataset.clone(), r.distance, r.via.clone()))
            .collect();
        assert_eq!(
            datasets,
            vec![
                ("main.b".into(), 1, vec!["load_b.sql".into()]),
                ("main.c".into(), 2, vec!["load_c.sql".into()]),
                ("main.e".into(), 2, vec!["count_e.sql".into()]),
                ("main.d".into(), 3, vec!["load_d.sql".into()]),
            ],
            "{ctx}: every downstream dataset once, nearest first, the cycle back to b not repeated"
        );
        let columns: Vec<(String, u32)> = impact
            .rows
            .iter()
            .filter(|r| r.kind == "column")
            .map(|r| (format!("{}.{}", r.dataset, r.column.clone().unwrap()), r.distance))
            .collect();
        assert!(
            columns.contains(&("main.b.email".into(), 1)) && columns.contains(&("main.d.contact".into(), 3)),
            "{ctx}: {columns:?}"
        );
        assert!(
            !columns.iter().any(|(c, _)| c.starts_with("main.a.") || c.starts_with("main.f.")),
            "{ctx}: upstream is not impact"
        );
        assert_eq!(impact.datasets, 4);

        // A column's impact reaches only what flows from it.
        let a_note = column(&app, g.id("a"), "note");
        let note = lineage_graph::impact(&mut conn, Root::Column(a_note)).unwrap().unwrap();
        let reached: Vec<String> = note
            .rows
            .iter()
            .filter(|r| r.kind == "column")
            .map(|r| format!("{}.{}", r.dataset, r.column.clone().unwrap()))
            .collect();
        assert!(reached.contains(&"main.b.note".to_string()), "{ctx}: {reached:?}");
        assert!(!reached.iter().any(|c| c.contains(".email") || c.contains(".contact")), "{ctx}: {reached:?}");
        assert!(lineage_graph::impact(&mut conn, Root::Dataset(999_999)).unwrap().is_none());
        drop(conn);

        // Page, CSV and JSON.
        app.sign_in_as(Role::Viewer);
        let page = app.get(&format!("/lineage/impact?dataset={}", g.id("a"))).await;
        assert_eq!(page.status, StatusCode::OK, "{ctx}");
        assert_contains(&page.body, "4 datasets and");
        let csv = app.get(&format!("/lineage/impact?dataset={}&format=csv", g.id("a"))).await;
        assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines[0], "kind,source,dataset,column,distance,via,dataset_id,column_id");
        assert_eq!(lines.len(), 1 + impact.rows.len(), "{ctx}: one line per row, no cap");
        assert!(lines[1].starts_with("dataset,wh,main.b,,1,load_b.sql,"), "{}", lines[1]);
        let json = app.get(&format!("/api/v1/lineage/impact?dataset={}", g.id("a"))).await.json();
        assert_eq!(json["datasets"], 4);
        assert_eq!(json["rows"].as_array().unwrap().len(), impact.rows.len());
        assert_eq!(app.get("/api/v1/lineage/impact").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.get("/api/v1/lineage/impact?dataset=999999").await.status, StatusCode::NOT_FOUND);
    }
}

#[actix_web::test]
async fn the_page_draws_the_graph_as_svg_with_working_links() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let g = graph(&app).await;
    app.sign_in_as(Role::Viewer);
    let b = g.id("b");
    let page = app.get(&format!("/datasets/{b}/lineage?up=1&down=1")).await;
    assert_eq!(page.status, StatusCode::OK);
    let svg = &page.body[page.body.find("<svg").unwrap()..page.body.find("</svg>").unwrap()];
    // b with a and d upstream, c and e downstream.
    for t in ["a", "b", "c", "d", "e"] {
        assert_contains(svg, &format!("data-dataset=\"{}\"", g.id(t)));
    }
    assert!(!svg.contains(&format!("data-dataset=\"{}\"", g.id("f"))), "f is two steps away");
    assert_contains(svg, &format!("data-from=\"{}\" data-to=\"{b}\"", g.id("a")));
    assert_contains(svg, &format!("data-from=\"{b}\" data-to=\"{}\"", g.id("e")));
    assert_contains(svg, "node node-focus");
    assert_contains(svg, "load_b.sql");
    // Links: each node's + expands it, and keeps the depths.
    assert_contains(svg, &format!("href=\"/datasets/{b}/lineage?up=1&amp;down=1&amp;expand={b}\""));
    let expanded = app.get(&format!("/datasets/{b}/lineage?up=1&down=1&expand={b}")).await;
    assert_contains(&expanded.body, "data-column=");
    let bad = app.get(&format!("/datasets/{b}/lineage?up=nine")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_contains(&bad.body, "up is a depth from 1 to 100");
    assert_eq!(app.get("/datasets/999999/lineage").await.status, StatusCode::NOT_FOUND);
    let personal = app.get(&format!("/datasets/{b}/lineage?mode=personal&up=all&down=all")).await;
    assert_contains(&personal.body, "Personal data carried:");
    assert_contains(&personal.body, "cat-0");
    // The dataset page links to the graph and the impact analysis.
    let ds = app.get(&format!("/datasets/{b}")).await;
    assert_contains(&ds.body, &format!("href=\"/datasets/{b}/lineage\""));
    assert_contains(&ds.body, &format!("href=\"/lineage/impact?dataset={b}\""));
}
