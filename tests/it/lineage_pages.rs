//! The lineage pages and API on both backends: the pipeline list and page (statements, their
//! status, parse errors at line and column, the lineage each produced), the dataset page's
//! upstream, downstream and column lineage, the paste form (stewards only, with a CSRF token),
//! "Analyse again", and the JSON endpoints with their 404s.

use actix_web::http::StatusCode;
use custodian::db::Db;
use custodian::db::schema::{audit_events, lineage_edges, pipelines};
use custodian::governance::access::Role;
use diesel::prelude::*;

use crate::support::targets::Target;
use crate::support::{TestApp, TestCatalog, assert_contains, assert_not_contains};

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), total_cents INTEGER);
";

const AUDIENCE: &str = "\
-- Newsletter audience
CREATE TABLE audience AS
SELECT c.id AS customer_id, c.email AS contact_address, SUM(o.total_cents) AS spent
FROM customers c JOIN orders o ON o.customer_id = c.id
GROUP BY c.id, c.email;
SELECT broken FROM WHERE;
INSERT INTO export (address) SELECT contact_address FROM audience;
";

struct Fixture {
    app: TestApp,
    _target: Target,
    source: i64,
}

async fn fixture(app: TestApp) -> Fixture {
    let target = Target::sqlite(SHOP);
    let res = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let source: i64 = res.location().trim_start_matches("/sources/").parse().expect("id");
    app.run_queued_crawls();
    Fixture { app, _target: target, source }
}

async fn paste(f: &Fixture, name: &str, sql: &str) -> i64 {
    let res = f
        .app
        .post_form("/pipelines", &[("name", name), ("source", &f.source.to_string()), ("dialect", ""), ("sql", sql)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.location().trim_start_matches("/pipelines/").parse().expect("pipeline id")
}

async fn dataset_id(app: &TestApp, name: &str) -> i64 {
    let list = app.get("/api/v1/datasets?per_page=500").await.json();
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["name"] == name)
        .and_then(|d| d["id"].as_i64())
        .unwrap_or_else(|| panic!("no dataset {name}"))
}

fn counts(db: &Db) -> (i64, i64, i64) {
    let mut conn = db.reader().expect("conn");
    let p = pipelines::table.count().get_result(&mut *conn).expect("pipelines");
    let e = lineage_edges::table.count().get_result(&mut *conn).expect("edges");
    let a = audit_events::table
        .filter(audit_events::action.eq("pipeline.ingest"))
        .count()
        .get_result(&mut *conn)
        .expect("a");
    (p, e, a)
}

#[actix_web::test]
async fn the_pipeline_pages_show_statements_errors_and_their_lineage() {
    for app in TestApp::all() {
        let f = fixture(app).await;
        let label = f.app.catalog.label();
        let empty = f.app.get("/pipelines").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert_contains(&empty.body, "No pipelines yet");
        assert_contains(&empty.body, "href=\"/pipelines\" aria-current=\"page\">Lineage</a>");

        // Before any pipeline, dataset pages say there is no lineage yet.
        let customers = dataset_id(&f.app, "customers").await;
        let none = f.app.get(&format!("/datasets/{customers}")).await;
        assert_contains(&none.body, "No ingested pipeline reads from or writes to this dataset.");

        let id = paste(&f, "audience.sql", AUDIENCE).await;
        let list = f.app.get("/pipelines").await;
        assert_contains(&list.body, &format!("<a href=\"/pipelines/{id}\">audience.sql</a>"));
        assert_contains(&list.body, "partly understood");

        let page = f.app.get(&format!("/pipelines/{id}")).await;
        assert_eq!(page.status, StatusCode::OK, "{label}");
        let body = &page.body;
        // Every statement, with its kind, status and lines; the SQL line by line.
        assert_contains(body, "id=\"statement-1\"");
        assert_contains(body, "Statement 1 <span class=\"kind\">CREATE TABLE AS</span>");
        assert_contains(body, "id=\"statement-3\"");
        assert_contains(body, "lines 2–5");
        assert_contains(body, "<td class=\"line-no\">1</td><td class=\"code\">-- Newsletter audience</td>");
        // The parse error, marked at its line and column.
        assert_contains(body, "One statement did not parse");
        assert_contains(body, "<a href=\"#line-6\">Statement 2, line 6, column");
        assert_contains(body, "<tr id=\"line-6\" class=\" error-line\">");
        assert_contains(body, "<span class=\"caret\">^ ");
        assert_contains(body, "did not parse");
        // The lineage each statement produced, linked to the datasets.
        let audience = dataset_id(&f.app, "audience").await;
        assert_contains(body, &format!("<a href=\"/datasets/{customers}\">main.customers</a>"));
        assert_contains(body, &format!("<a href=\"/datasets/{audience}\">main.audience</a>"));
        assert_contains(body, "<code>contact_address</code>");
        assert_contains(body, "edge-aggregate");
        assert_contains(body, "title=\"Named in pipeline SQL; no crawl has found it yet\">referenced</span>");
        // Stewards may analyse it again.
        assert_contains(body, &format!("action=\"/pipelines/{id}/analyse\""));

        // The dataset pages: upstream, downstream and column lineage, with the statement.
        let page = f.app.get(&format!("/datasets/{customers}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_contains(&page.body, "<h2 id=\"lineage\">Lineage</h2>");
        assert_contains(&page.body, "Downstream <span class=\"count\">(1)</span>");
        assert_contains(&page.body, &format!("<a href=\"/pipelines/{id}#statement-1\">audience.sql statement 1</a>"));
        assert_contains(&page.body, "No pipeline writes data from another dataset into this one.");
        let page = f.app.get(&format!("/datasets/{audience}")).await;
        assert_contains(&page.body, "Upstream <span class=\"count\">(2)</span>");
        assert_contains(&page.body, "Pipeline SQL names this table, and no crawl of shop has found it yet.");
        assert_contains(&page.body, "<code>contact_address</code>");
        assert_contains(
            &page.body,
            &format!("<a href=\"/datasets/{customers}\">main.customers</a>.<code>email</code>"),
        );
        assert_contains(
            &page.body,
            &format!("<a class=\"small\" href=\"/pipelines/{id}#statement-3\">audience.sql #3</a>"),
        );
        let orders = f.app.get(&format!("/datasets/{}", dataset_id(&f.app, "orders").await)).await;
        assert_contains(&orders.body, "Downstream <span class=\"count\">(1)</span>");
        assert_not_contains(&orders.body, "No ingested pipeline reads from or writes to this dataset.");

        assert_eq!(f.app.get("/pipelines/999999").await.status, StatusCode::NOT_FOUND);
        assert_eq!(f.app.get("/pipelines/not-a-number").await.status, StatusCode::NOT_FOUND);
        assert_eq!(f.app.get("/pipelines?page=0").await.status, StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn the_paste_form_is_for_stewards_checks_its_fields_and_needs_its_csrf_token() {
    let f = fixture(TestApp::new(TestCatalog::sqlite())).await;
    let form = f.app.get("/pipelines/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_contains(&form.body, "name=\"csrf_token\"");
    assert_contains(&form.body, "<textarea id=\"sql\"");

    // Validation: every field says what is wrong, nothing is stored.
    let before = counts(&f.app.db);
    let bad =
        f.app.post_form("/pipelines", &[("name", ""), ("source", "999"), ("dialect", "cobol"), ("sql", " ")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(&bad.body, "The SQL was not ingested.");
    assert_contains(&bad.body, "Choose one of the sources listed.");
    assert_contains(&bad.body, "Choose one of the dialects listed.");
    assert_contains(&bad.body, "Paste the SQL to ingest.");
    assert_eq!(counts(&f.app.db), before);

    // CSRF: a missing or wrong token is refused and changes nothing.
    for token in [None, Some("wrong")] {
        let mut fields = vec![("name", "x.sql"), ("sql", "INSERT INTO t SELECT id FROM customers;")];
        if let Some(t) = token {
            fields.push(("csrf_token", t));
        }
        let res = f.app.post_form_exactly("/pipelines", &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert_contains(&res.body, "security token");
    }
    assert_eq!(counts(&f.app.db), before);

    // A steward's paste is stored (the only source is the default), audited with the steward.
    let steward = f.app.current_session().expect("session");
    let ok =
        f.app.post_form("/pipelines", &[("name", "x.sql"), ("sql", "INSERT INTO t SELECT id FROM customers;")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let id: i64 = ok.location().trim_start_matches("/pipelines/").parse().expect("id");
    assert_eq!(counts(&f.app.db), (1, 1, 1));
    let actor: String = audit_events::table
        .filter(audit_events::action.eq("pipeline.ingest"))
        .select(audit_events::actor)
        .first(&mut *f.app.db.reader().expect("conn"))
        .expect("event");
    assert_eq!(actor, steward.username);
    // The same text again changes nothing; analysing again re-reads it (and is audited).
    let same =
        f.app.post_form("/pipelines", &[("name", "x.sql"), ("sql", "INSERT INTO t SELECT id FROM customers;")]).await;
    assert_eq!(same.location(), format!("/pipelines/{id}"));
    assert_eq!(counts(&f.app.db), (1, 1, 1));
    let again = f.app.post_form(&format!("/pipelines/{id}/analyse"), &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(counts(&f.app.db), (1, 1, 2));
    assert_eq!(f.app.post_form("/pipelines/999999/analyse", &[]).await.status, StatusCode::NOT_FOUND);
    let no_token = f.app.post_form_exactly(&format!("/pipelines/{id}/analyse"), &[]).await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);

    // Everyone else reads, and is refused the form and both actions.
    for role in [Role::Viewer, Role::Compliance, Role::PrivacyDesk, Role::Admin] {
        f.app.sign_in_as(role);
        let before = counts(&f.app.db);
        assert_eq!(f.app.get("/pipelines").await.status, StatusCode::OK, "{role}");
        assert_eq!(f.app.get(&format!("/pipelines/{id}")).await.status, StatusCode::OK, "{role}");
        assert_not_contains(&f.app.get(&format!("/pipelines/{id}")).await.body, "/analyse\"");
        assert_eq!(f.app.get("/pipelines/new").await.status, StatusCode::FORBIDDEN, "{role}");
        let res = f.app.post_form("/pipelines", &[("name", "y.sql"), ("sql", "INSERT INTO u SELECT 1;")]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role}");
        assert_contains(&res.body, "you need the role of");
        let res = f.app.post_form(&format!("/pipelines/{id}/analyse"), &[]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(counts(&f.app.db), before, "{role}: a refused request changed something");
    }
    // Signed out, the pages send people to sign in.
    f.app.use_session(None);
    assert_eq!(f.app.get("/pipelines").await.status, StatusCode::SEE_OTHER);
    assert_eq!(f.app.get("/api/v1/pipelines").await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_api_lists_pipelines_and_answers_dataset_and_column_lineage() {
    for app in TestApp::all() {
        let f = fixture(app).await;
        let label = f.app.catalog.label();
        let id = paste(&f, "audience.sql", AUDIENCE).await;

        let list = f.app.get("/api/v1/pipelines").await;
        assert_eq!(list.status, StatusCode::OK, "{label}");
        let list = list.json();
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["name"], "audience.sql");
        assert_eq!(list["items"][0]["status"], "partial");
        assert_eq!(list["items"][0]["statements"], 3);
        assert_eq!(f.app.get("/api/v1/pipelines?per_page=0").await.status, StatusCode::BAD_REQUEST);

        let detail = f.app.get(&format!("/api/v1/pipelines/{id}")).await.json();
        assert_eq!(detail["source"], "shop");
        assert_eq!(detail["dialect"], "sqlite");
        assert_eq!(detail["errors"][0]["statement"], 2);
        assert_eq!(detail["errors"][0]["line"], 6);
        assert_eq!(detail["statements"][1]["error"]["line"], 6);
        assert!(detail["sql"].as_str().unwrap_or("").starts_with("-- Newsletter audience"));
        let first = &detail["statements"][0];
        assert_eq!(first["kind"], "CREATE TABLE AS");
        assert_eq!(first["writes"][0]["table"], "main.audience");
        assert_eq!(first["writes"][0]["dataset"]["kind"], "referenced");
        let edges = first["column_edges"].as_array().expect("column edges");
        assert!(
            edges.iter().any(|e| e["from"]["column"] == "email"
                && e["to"]["column"] == "contact_address"
                && e["kind"] == "identity"),
            "{edges:?}"
        );
        assert_eq!(f.app.get("/api/v1/pipelines/999999").await.json()["error"]["key"], "not_found");

        let customers = dataset_id(&f.app, "customers").await;
        let lineage = f.app.get(&format!("/api/v1/datasets/{customers}/lineage")).await.json();
        assert_eq!(lineage["dataset"]["name"], "customers");
        assert_eq!(lineage["upstream"].as_array().map(Vec::len), Some(0));
        assert_eq!(lineage["downstream"][0]["dataset"]["name"], "audience");
        assert_eq!(lineage["downstream"][0]["via"][0]["pipeline_id"], id);
        assert_eq!(lineage["downstream"][0]["via"][0]["statement"], 1);
        let email_edge = lineage["column_targets"]
            .as_array()
            .expect("targets")
            .iter()
            .find(|e| e["from"]["name"] == "email")
            .expect("an edge out of email")
            .clone();
        assert_eq!(email_edge["to"]["name"], "contact_address");
        let email = email_edge["from"]["id"].as_i64().expect("column id");
        let audience = dataset_id(&f.app, "audience").await;
        let up = f.app.get(&format!("/api/v1/datasets/{audience}/lineage")).await.json();
        let names: Vec<&str> =
            up["upstream"].as_array().expect("up").iter().filter_map(|n| n["dataset"]["name"].as_str()).collect();
        assert_eq!(names, ["customers", "orders"]);
        assert_eq!(up["downstream"][0]["dataset"]["name"], "export");
        assert_eq!(up["downstream"][0]["via"][0]["statement"], 3);

        let column = f.app.get(&format!("/api/v1/columns/{email}/lineage")).await.json();
        assert_eq!(column["column"]["name"], "email");
        assert_eq!(column["column"]["dataset"]["name"], "customers");
        assert_eq!(column["targets"][0]["to"]["name"], "contact_address");
        assert_eq!(column["sources"].as_array().map(Vec::len), Some(0));
        let contact = column["targets"][0]["to"]["id"].as_i64().expect("id");
        let contact = f.app.get(&format!("/api/v1/columns/{contact}/lineage")).await.json();
        assert_eq!(contact["sources"][0]["from"]["name"], "email");
        assert_eq!(contact["targets"][0]["to"]["dataset"]["name"], "export");

        for path in ["/api/v1/datasets/999999/lineage", "/api/v1/columns/999999/lineage"] {
            let res = f.app.get(path).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(res.json()["error"]["key"], "not_found");
        }
    }
}
