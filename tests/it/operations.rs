//! Operations: `/metrics` scraped and parsed as Prometheus text (requests by route pattern with
//! latency histograms, pool use, queue depth, operation counters; no values from requests in any
//! label), its optional bearer token, and `/healthz` and `/readyz`.

use actix_web::http::StatusCode;
use actix_web::test;
use custodian::governance::access::Role;

use crate::support::{TestApp, TestCatalog};

fn scrape(body: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
}

fn value(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.samples.iter().find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))).map(
        |s| match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => 0.0,
        },
    )
}

#[actix_web::test]
async fn metrics_are_scraped_and_parse_as_prometheus_text() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        app.sign_in_as(Role::Viewer);
        for _ in 0..3 {
            assert_eq!(app.get("/datasets").await.status, StatusCode::OK);
        }
        assert_eq!(app.get("/datasets/987654").await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.get("/search?q=alice.secret@example.com").await.status, StatusCode::OK);
        app.use_session(None);
        let res = app.get("/metrics").await;
        assert_eq!(res.status, StatusCode::OK, "{ctx}: no session needed");
        let s = scrape(&res.body);
        let requests = |route: &str, status: &str| {
            value(&s, "custodian_http_requests_total", &[("method", "GET"), ("route", route), ("status", status)])
        };
        assert!(requests("/datasets", "200").is_some_and(|n| n >= 3.0), "{ctx}: {}", res.body);
        assert!(requests("/datasets/:id", "404").is_some_and(|n| n >= 1.0), "{ctx}: by route pattern, not path");
        assert!(
            value(&s, "custodian_http_request_duration_seconds", &[("route", "/datasets")]).is_some_and(|n| n >= 3.0),
            "{ctx}: a latency histogram per route"
        );
        assert!(
            value(&s, "custodian_db_pool_connections", &[("pool", "reader"), ("state", "idle")]).is_some(),
            "{ctx}"
        );
        assert_eq!(value(&s, "custodian_job_queue_depth", &[("kind", "crawl")]), Some(0.0), "{ctx}");
        assert!(!res.body.contains("alice") && !res.body.contains("987654"), "{ctx}: a request's values in a label");
        // Health and readiness.
        assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
        assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn a_metrics_token_guards_the_scrape() {
    let app = TestApp::new(TestCatalog::sqlite());
    let mut config = app.catalog.config();
    config.metrics_token = Some("scrape-secret".into());
    let state = custodian::commands::serve::state(config, app.db.clone()).expect("state");
    let service = test::init_service(custodian::app(state)).await;
    let anonymous = test::call_service(&service, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = test::TestRequest::get().uri("/metrics").insert_header(("Authorization", "Bearer nope")).to_request();
    assert_eq!(test::call_service(&service, wrong).await.status(), StatusCode::UNAUTHORIZED);
    let right =
        test::TestRequest::get().uri("/metrics").insert_header(("Authorization", "Bearer scrape-secret")).to_request();
    let res = test::call_service(&service, right).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    assert!(scrape(&body).samples.iter().any(|s| s.metric == "custodian_db_pool_connections"));
}

#[actix_web::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = TestApp::new(TestCatalog::sqlite());
    app.use_session(None);
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let doc = res.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/sources", "get"),
        ("/api/v1/sources/{id}", "get"),
        ("/api/v1/sources/{id}/crawls", "post"),
        ("/api/v1/datasets", "get"),
        ("/api/v1/datasets/{id}", "get"),
        ("/api/v1/datasets/{id}", "patch"),
        ("/api/v1/search", "get"),
        ("/api/v1/personal-data", "get"),
        ("/api/v1/pipelines", "get"),
        ("/api/v1/pipelines/{id}", "get"),
        ("/api/v1/datasets/{id}/lineage", "get"),
        ("/api/v1/columns/{id}/lineage", "get"),
        ("/api/v1/lineage/impact", "get"),
        ("/api/v1/lineage", "post"),
        ("/api/v1/dbt/manifest", "post"),
        ("/api/v1/erasure-requests", "get"),
        ("/api/v1/erasure-requests", "post"),
        ("/api/v1/erasure-requests/{id}", "get"),
        ("/api/v1/datasets/{id}/retention", "get"),
        ("/api/v1/retention/policies", "get"),
        ("/api/v1/retention/runs", "post"),
        ("/api/v1/retention/runs/{id}", "get"),
        ("/api/v1/retention/storage-limitation", "get"),
        ("/api/v1/retention/records-of-processing", "get"),
    ] {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["responses"]["401"].is_object(), "{method} {path}: no 401");
    }
    assert_eq!(
        paths.values().map(|m| m.as_object().unwrap().len()).sum::<usize>(),
        24,
        "an undocumented or extra route"
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["ErasureRequestBody"].is_object());
    // The API page lists the same endpoints.
    app.sign_in_as(Role::Viewer);
    let page = app.get("/api").await;
    assert_eq!(page.status, StatusCode::OK);
    crate::support::assert_contains(&page.body, "/api/v1/retention/runs/{id}");
}
