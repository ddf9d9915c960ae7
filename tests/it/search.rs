//! Search across dataset and column names, descriptions and comments: matches, ranking,
//! highlighting, filters, paging and bad input, on both catalog backends.

use actix_web::http::StatusCode;
use custodian::commands::seed::synthetic_snapshot;
use custodian::db::{catalog, dialect, now};

use crate::support::targets::Target;
use crate::support::{TestApp, assert_contains, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, email_verified INTEGER, full_name TEXT);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, subscriber_email TEXT, customer_id INTEGER REFERENCES customers (id));
CREATE TABLE emails (id INTEGER PRIMARY KEY, body TEXT);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT, price_cents INTEGER);
";

async fn app_with_target() -> Vec<TestApp> {
    let mut out = Vec::new();
    for app in TestApp::all() {
        let target = Target::sqlite(TARGET);
        app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
        app.run_queued_crawls();
        out.push(app);
    }
    out
}

#[actix_web::test]
async fn search_finds_names_in_any_case_and_ranks_exact_matches_first() {
    for app in app_with_target().await {
        let ctx = app.catalog.label();
        let res = app.get("/api/v1/search?q=EMAIL").await.json();
        let items = res["items"].as_array().expect("items");
        let paths: Vec<&str> = items.iter().filter_map(|i| i["path"].as_str()).collect();
        assert_eq!(res["datasets_total"], 1, "{ctx}: {paths:?}");
        assert_eq!(res["columns_total"], 3, "{ctx}: {paths:?}");
        assert_eq!(paths[0], "shop.main.emails", "{ctx}: datasets come first");
        assert_eq!(paths[1], "shop.main.customers.email", "{ctx}: the exact name ranks first");
        assert_eq!(paths[2], "shop.main.customers.email_verified", "{ctx}: then names starting with it");
        assert_eq!(paths[3], "shop.main.newsletter.subscriber_email", "{ctx}: then names containing it");

        let columns_only = app.get("/api/v1/search?q=email&type=columns").await.json();
        assert_eq!(columns_only["datasets_total"], 0, "{ctx}");
        assert_eq!(columns_only["items"].as_array().expect("items").len(), 3, "{ctx}");
        let two_terms = app.get("/api/v1/search?q=subscriber%20mail").await.json();
        assert_eq!(two_terms["columns_total"], 1, "{ctx}: every term must match");
        let short = app.get("/api/v1/search?q=id").await.json();
        assert_eq!(short["columns_total"], 4, "{ctx}: short terms match the start of names only");
        let short_mixed = app.get("/api/v1/search?q=id%20customer").await.json();
        assert_eq!(short_mixed["columns_total"], 1, "{ctx}: newsletter.customer_id has both");
        let nothing = app.get("/api/v1/search?q=zzzz").await.json();
        assert_eq!(nothing["columns_total"], 0, "{ctx}");
        let wildcard = app.get("/api/v1/search?q=%25").await.json();
        assert_eq!(wildcard["columns_total"], 0, "{ctx}: LIKE wildcards are matched literally");
        let underscore = app.get("/api/v1/search?q=e_c").await.json();
        assert_eq!(underscore["columns_total"], 1, "{ctx}: only price_cents has 'e_c'");
    }
}

#[actix_web::test]
async fn search_matches_descriptions_and_highlights_them() {
    for app in app_with_target().await {
        let products =
            app.get("/api/v1/search?q=products&type=datasets").await.json()["items"][0]["id"].as_i64().expect("id");
        app.post_form(
            &format!("/datasets/{products}/edit"),
            &[("description", "Catalogue of everything we sell"), ("owner", "")],
        )
        .await;
        let res = app.get("/search?q=sell").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_contains(&res.body, "we <mark>sell</mark>");
        assert_contains(&res.body, &format!("href=\"/datasets/{products}\""));

        let res = app.get("/search?q=Email").await;
        assert_contains(&res.body, "<mark>email</mark>_verified");
        assert_contains(&res.body, "shop.main.customers");
        assert_contains(&res.body, "1 dataset and 3 columns match");

        let empty = app.get("/search").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert_not_contains(&empty.body, "class=\"results\"");
        let none = app.get("/search?q=qqqq").await;
        assert_contains(&none.body, "Nothing matches");
        let long = app.get(&format!("/search?q={}", "a".repeat(201))).await;
        assert_eq!(long.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.get("/search?q=a&type=rows").await.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.get("/search?q=a&page=0").await.status, StatusCode::BAD_REQUEST);
        let escaped = app.get("/search?q=%3Cscript%3E").await;
        assert_not_contains(&escaped.body, "<script>");
    }
}

#[actix_web::test]
async fn search_pages_through_many_matches() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        // 120 synthetic datasets with ten columns each, through the crawl code.
        let source = custodian::commands::source::store(
            &app.db,
            &custodian::commands::actor::Actor::system(),
            &custodian::targets::registration::Registration {
                name: "synthetic".into(),
                kind: custodian::targets::SourceKind::Postgres,
                connection: custodian::targets::ConnectionRef::Env("NOWHERE_URL".into()),
            },
            None,
            None,
        )
        .expect("source");
        let snapshot = synthetic_snapshot(0, 0, 120, 10);
        let mut conn = app.db.writer().expect("conn");
        dialect::write_transaction(&mut conn, |c| {
            catalog::apply_snapshot(c, source.1, &snapshot, now(), &mut |_, _| {})
        })
        .expect("apply");
        drop(conn);
        let expected =
            snapshot.datasets.iter().flat_map(|d| &d.columns).filter(|c| c.name.contains("status")).count() as i64;
        assert!(expected > 50, "{ctx}: the fixture should need two pages");
        let first = app.get("/api/v1/search?q=status&type=columns").await.json();
        assert_eq!(first["columns_total"], expected, "{ctx}");
        assert_eq!(first["items"].as_array().expect("items").len(), 50, "{ctx}");
        let second = app.get("/api/v1/search?q=status&type=columns&page=2").await.json();
        assert_eq!(second["items"].as_array().expect("items").len() as i64, expected - 50, "{ctx}");
        let mut ids: Vec<i64> = first["items"]
            .as_array()
            .into_iter()
            .chain(second["items"].as_array())
            .flatten()
            .filter_map(|i| i["id"].as_i64())
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len() as i64, expected, "{ctx}: pages overlap or skip");
        let page = app.get("/search?q=status&type=columns").await;
        assert_contains(&page.body, &format!("1–50 of {expected}"));
        assert_contains(&page.body, "rel=\"next\"");
    }
}
