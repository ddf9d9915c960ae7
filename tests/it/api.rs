//! The JSON API: lists with filters and pagination, one dataset, and JSON errors.

use actix_web::http::StatusCode;

use crate::support::targets::Target;
use crate::support::{TestApp, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));
CREATE TABLE refunds (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id));
CREATE VIEW order_count AS SELECT count(*) AS n FROM orders;
";

#[actix_web::test]
async fn the_api_lists_filters_pages_and_describes_datasets() {
    for app in TestApp::all() {
        let target = Target::sqlite(TARGET);
        let created = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER);
        app.run_queued_crawls();

        let sources = app.get("/api/v1/sources").await;
        assert_eq!(sources.status, StatusCode::OK);
        assert_eq!(sources.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
        let sources = sources.json();
        assert_eq!(sources["total"], 1);
        assert_eq!(sources["items"][0]["datasets"], 4);
        assert_eq!(sources["items"][0]["columns"], 7);
        let source_id = sources["items"][0]["id"].as_i64().expect("id");
        assert_eq!(app.get(&format!("/api/v1/sources/{source_id}")).await.json()["name"], "shop");

        let page1 = app.get("/api/v1/datasets?per_page=2").await.json();
        assert_eq!(page1["total"], 4);
        let names1: Vec<&str> =
            page1["items"].as_array().expect("items").iter().filter_map(|d| d["name"].as_str()).collect();
        assert_eq!(names1, ["customers", "order_count"]);
        let page2 = app.get("/api/v1/datasets?per_page=2&page=2").await.json();
        let names2: Vec<&str> =
            page2["items"].as_array().expect("items").iter().filter_map(|d| d["name"].as_str()).collect();
        assert_eq!(names2, ["orders", "refunds"]);
        let views = app.get("/api/v1/datasets?kind=view").await.json();
        assert_eq!(views["total"], 1);
        assert_eq!(views["items"][0]["kind"], "view");

        let orders = page2["items"][0]["id"].as_i64().expect("id");
        let detail = app.get(&format!("/api/v1/datasets/{orders}")).await.json();
        assert_eq!(detail["name"], "orders");
        assert_eq!(detail["columns"].as_array().expect("columns").len(), 2);
        assert_eq!(detail["foreign_keys"][0]["dataset"], "main.customers");
        assert_eq!(detail["foreign_keys"][0]["columns"][0], "customer_id");
        assert_eq!(detail["referenced_by"][0]["dataset"], "main.refunds");
        assert_eq!(detail["referenced_by"][0]["columns"][0], "id");
    }
}

#[actix_web::test]
async fn api_errors_are_json_with_a_message() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    for (path, status, key) in [
        ("/api/v1/datasets/999999", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/datasets/abc", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/sources/7", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/nothing-here", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/datasets?per_page=0", StatusCode::BAD_REQUEST, "bad_request"),
        ("/api/v1/datasets?per_page=100000", StatusCode::BAD_REQUEST, "bad_request"),
        ("/api/v1/datasets?page=x", StatusCode::BAD_REQUEST, "bad_request"),
        ("/api/v1/datasets?kind=table%20or%201=1", StatusCode::BAD_REQUEST, "bad_request"),
        ("/api/v1/search", StatusCode::BAD_REQUEST, "bad_request"),
        ("/api/v1/search?type=rows&q=a", StatusCode::BAD_REQUEST, "bad_request"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, status, "{path}: {}", res.body);
        let body = res.json();
        assert_eq!(body["error"]["key"], key, "{path}");
        assert_eq!(body["error"]["status"], status.as_u16(), "{path}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}");
        assert_not_contains(&res.body, "<html");
    }
}

#[actix_web::test]
async fn connection_secrets_never_appear_in_pages_or_the_api() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let var = crate::support::unique_name("CUSTODIAN_SECRET_URL").to_uppercase();
    // SAFETY: the variable name is unique to this test; no other thread reads or writes it.
    unsafe { std::env::set_var(&var, "postgres://app:s3cr3t-pw@127.0.0.1:1/shop") };
    let res = app.post_form("/sources", &[("name", "prod"), ("connection_kind", "env"), ("url_env", &var)]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = res.location().trim_start_matches("/sources/").to_owned();
    app.post_form(&format!("/sources/{id}/crawl"), &[]).await;
    app.run_queued_crawls();
    for path in [
        "/".to_owned(),
        "/sources".to_owned(),
        format!("/sources/{id}"),
        "/api/v1/sources".to_owned(),
        format!("/api/v1/sources/{id}"),
    ] {
        let res = app.get(&path).await;
        assert_not_contains(&res.body, "s3cr3t-pw");
    }
    let page = app.get(&format!("/sources/{id}")).await;
    crate::support::assert_contains(&page.body, &format!("${var}"));
    crate::support::assert_contains(&page.body, "The last crawl failed");
    unsafe { std::env::remove_var(&var) };
}
