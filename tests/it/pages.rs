//! Every page and form of the catalog, with good and bad input, on both catalog backends.

use actix_web::http::StatusCode;

use crate::support::targets::Target;
use crate::support::{TestApp, assert_contains, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), total INTEGER);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
INSERT INTO customers VALUES (1, 'a@example.com', 'Ann');
";

/// An app with one crawled SQLite source named `shop`; returns the app, the target and the source id.
async fn app_with_shop() -> Vec<(TestApp, Target, i64)> {
    let mut out = Vec::new();
    for app in TestApp::all() {
        let target = Target::sqlite(TARGET);
        let res = app
            .post_form(
                "/sources",
                &[("name", "shop"), ("connection_kind", "url"), ("url", &target.url()), ("crawl_now", "on")],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
        let id: i64 = res.location().trim_start_matches("/sources/").parse().expect("source id in location");
        app.run_queued_crawls();
        out.push((app, target, id));
    }
    out
}

async fn dataset_id(app: &TestApp, name: &str) -> i64 {
    let res = app.get("/api/v1/datasets?per_page=500").await;
    res.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["name"] == name)
        .and_then(|d| d["id"].as_i64())
        .unwrap_or_else(|| panic!("no dataset {name}"))
}

#[actix_web::test]
async fn home_shows_counts_crawls_and_changes() {
    for app in TestApp::all() {
        let empty = app.get("/").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert_contains(&empty.body, "No sources yet");
    }
    for (app, _target, _) in app_with_shop().await {
        let res = app.get("/").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_contains(&res.body, r#"<span class="stat-number">3</span> <span class="stat-label">datasets</span>"#);
        assert_contains(&res.body, r#"<span class="stat-number">9</span> <span class="stat-label">columns</span>"#);
        assert_contains(&res.body, "succeeded");
        assert_contains(&res.body, "shop.main.customers");
        assert_not_contains(&res.body, "No sources yet");
    }
}

#[actix_web::test]
async fn responses_carry_security_headers_and_assets_are_cached() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let res = app.get("/").await;
    let csp = res.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(res.headers.get("x-content-type-options").and_then(|v| v.to_str().ok()), Some("nosniff"));
    let css_path = res
        .body
        .split("href=\"")
        .find_map(|s| s.split('"').next().filter(|p| p.ends_with("app.css")))
        .expect("css link");
    let css = app.get(css_path).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").starts_with("text/css"));
    assert!(css.headers.get("cache-control").and_then(|v| v.to_str().ok()).unwrap_or("").contains("immutable"));
    assert_eq!(app.get("/static/x/css/nope.css").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
}

#[actix_web::test]
async fn sources_pages_list_show_and_crawl() {
    for (app, _target, id) in app_with_shop().await {
        let list = app.get("/sources").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_contains(&list.body, &format!(r#"<a href="/sources/{id}">shop</a>"#));
        assert_contains(&list.body, "SQLite");

        let show = app.get(&format!("/sources/{id}")).await;
        assert_eq!(show.status, StatusCode::OK);
        assert_contains(&show.body, "Crawl now");
        assert_contains(&show.body, "3 datasets added");
        assert_not_contains(&show.body, "http-equiv=\"refresh\"");

        let crawl = app.post_form(&format!("/sources/{id}/crawl"), &[]).await;
        assert_eq!(crawl.status, StatusCode::SEE_OTHER);
        let queued = app.get(&format!("/sources/{id}")).await;
        assert_contains(&queued.body, "http-equiv=\"refresh\"");
        assert_contains(&queued.body, "queued");
        // A second click while one is queued does not queue another.
        app.post_form(&format!("/sources/{id}/crawl"), &[]).await;
        app.run_queued_crawls();
        let done = app.get(&format!("/sources/{id}")).await;
        assert_contains(&done.body, "no changes (3 datasets)");
        assert_eq!(done.body.matches("<span class=\"state state-succeeded\">").count(), 2, "{}", done.body);

        assert_eq!(app.get("/sources/99999").await.status, StatusCode::NOT_FOUND);
        assert_eq!(app.post_form("/sources/99999/crawl", &[]).await.status, StatusCode::NOT_FOUND);
        let edit = app.get(&format!("/sources/{id}/edit")).await;
        assert_eq!(edit.status, StatusCode::OK);
        let saved =
            app.post_form(&format!("/sources/{id}/edit"), &[("description", "The shop"), ("owner", "shop-team")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_contains(&app.get(&format!("/sources/{id}")).await.body, "shop-team");
    }
}

#[actix_web::test]
async fn the_add_source_form_validates_and_keeps_nothing_bad() {
    for app in TestApp::all() {
        let form = app.get("/sources/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert_contains(&form.body, r#"name="url""#);

        let missing = app.post_form("/sources", &[("connection_kind", "url")]).await;
        assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&missing.body, "Required.");
        assert_contains(&missing.body, "Give the database");

        let secret = app
            .post_form(
                "/sources",
                &[("name", "leaky"), ("connection_kind", "url"), ("url", "postgres://u:hunter2@db/x")],
            )
            .await;
        assert_eq!(secret.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&secret.body, "contains a password");

        let nofile = app
            .post_form(
                "/sources",
                &[("name", "nofile"), ("connection_kind", "url"), ("url", "/definitely/not/here.db")],
            )
            .await;
        assert_eq!(nofile.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&nofile.body, "There is no SQLite database file");

        let long = "x".repeat(10_001);
        let too_long = app
            .post_form(
                "/sources",
                &[("name", "big"), ("connection_kind", "url"), ("url", "postgres://h/db"), ("description", &long)],
            )
            .await;
        assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&too_long.body, "At most 10000 characters");

        let huge = "y".repeat(300 * 1024);
        let oversized = app.post_form("/sources", &[("name", "huge"), ("url", &huge)]).await;
        assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_contains(&oversized.body, "larger than 256 KiB");

        let bad_form = app
            .send(
                actix_web::test::TestRequest::post()
                    .uri("/sources")
                    .insert_header(("content-type", "application/json"))
                    .insert_header(("x-csrf-token", app.current_session().expect("session").csrf))
                    .set_payload("{}"),
            )
            .await;
        assert_eq!(bad_form.status, StatusCode::BAD_REQUEST);
        assert_contains(&bad_form.body, "<html");

        let ok = app
            .post_form(
                "/sources",
                &[("name", "remote"), ("connection_kind", "url"), ("url", "postgres://reader@db.internal/shop")],
            )
            .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let dup = app
            .post_form(
                "/sources",
                &[("name", "remote"), ("connection_kind", "url"), ("url", "postgres://reader@db.internal/shop")],
            )
            .await;
        assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&dup.body, "exists already");

        let list = app.get("/api/v1/sources").await.json();
        let names: Vec<&str> =
            list["items"].as_array().expect("items").iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(names, ["remote"], "{}: invalid submissions left sources behind", app.catalog.label());
    }
}

#[actix_web::test]
async fn dataset_pages_show_columns_keys_and_both_directions_of_foreign_keys() {
    for (app, _target, source_id) in app_with_shop().await {
        let customers = dataset_id(&app, "customers").await;
        let orders = dataset_id(&app, "orders").await;
        let page = app.get(&format!("/datasets/{customers}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_contains(&page.body, "<code>email</code>");
        assert_contains(&page.body, r#"title="Primary key">PK</span>"#);
        assert_contains(&page.body, "Referenced by");
        assert_contains(&page.body, &format!(r#"<a href="/datasets/{orders}">main.orders</a>"#));
        let orders_page = app.get(&format!("/datasets/{orders}")).await;
        assert_contains(&orders_page.body, "FK → main.customers");

        let list = app.get("/datasets").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_contains(&list.body, "1–3 of 3");
        let views = app.get("/datasets?kind=view").await;
        assert_contains(&views.body, "big_orders");
        assert_not_contains(&views.body, ">customers</a>");
        let by_source = app.get(&format!("/datasets?source={source_id}&schema=main")).await;
        assert_contains(&by_source.body, "1–3 of 3");
        assert_contains(&app.get("/datasets?source=424242").await.body, "No dataset matches these filters");
        assert_contains(&app.get("/datasets?page=9").await.body, "past the end");

        for bad in [
            "/datasets?kind=bogus",
            "/datasets?page=0",
            "/datasets?page=abc",
            "/datasets?source=abc",
            "/datasets?removed=maybe",
        ] {
            let res = app.get(bad).await;
            assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_contains(&res.body, "<html");
        }
        for missing in ["/datasets/999999", "/datasets/abc", "/datasets/999999/edit", "/nowhere", "/sources/abc"] {
            let res = app.get(missing).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{missing}");
            assert_contains(&res.body, "Not found");
        }
        let col_missing = app.get(&format!("/datasets/{orders}/columns/999999/edit")).await;
        assert_eq!(col_missing.status, StatusCode::NOT_FOUND);
    }
}

#[actix_web::test]
async fn editing_descriptions_and_owners_validates_and_persists() {
    for (app, _target, _) in app_with_shop().await {
        let id = dataset_id(&app, "customers").await;
        let form = app.get(&format!("/datasets/{id}/edit")).await;
        assert_eq!(form.status, StatusCode::OK);
        assert_contains(&form.body, r#"name="description""#);

        let saved = app
            .post_form(
                &format!("/datasets/{id}/edit"),
                &[("description", "  People <who> buy  "), ("owner", "crm-team")],
            )
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_eq!(saved.location(), format!("/datasets/{id}"));
        let page = app.get(&format!("/datasets/{id}")).await;
        assert_contains(&page.body, "People &#60;who&#62; buy");
        assert_contains(&page.body, "crm-team");

        let too_long = app
            .post_form(&format!("/datasets/{id}/edit"), &[("description", &"z".repeat(10_001)), ("owner", "x")])
            .await;
        assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&too_long.body, "Nothing was saved");
        let owner_long = app.post_form(&format!("/datasets/{id}/edit"), &[("owner", &"o".repeat(201))]).await;
        assert_eq!(owner_long.status, StatusCode::UNPROCESSABLE_ENTITY);
        let unchanged = app.get(&format!("/api/v1/datasets/{id}")).await.json();
        assert_eq!(unchanged["description"], "People <who> buy");
        assert_eq!(unchanged["owner"], "crm-team");

        // Clearing works: blank means none.
        app.post_form(&format!("/datasets/{id}/edit"), &[("description", " "), ("owner", "")]).await;
        let cleared = app.get(&format!("/api/v1/datasets/{id}")).await.json();
        assert!(cleared["description"].is_null() && cleared["owner"].is_null());

        let column =
            cleared["columns"].as_array().expect("columns").iter().find(|c| c["name"] == "email").expect("email")["id"]
                .as_i64()
                .expect("id");
        let edit = app.get(&format!("/datasets/{id}/columns/{column}/edit")).await;
        assert_eq!(edit.status, StatusCode::OK);
        let saved =
            app.post_form(&format!("/datasets/{id}/columns/{column}/edit"), &[("description", "Login address")]).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER);
        assert_contains(&app.get(&format!("/datasets/{id}")).await.body, "Login address");
        let long = app
            .post_form(&format!("/datasets/{id}/columns/{column}/edit"), &[("description", &"z".repeat(10_001))])
            .await;
        assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
        // A column of another dataset is not reachable through this one.
        let orders = dataset_id(&app, "orders").await;
        let wrong = app.post_form(&format!("/datasets/{orders}/columns/{column}/edit"), &[("description", "x")]).await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    }
}

#[actix_web::test]
async fn head_requests_are_answered_without_a_body() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let res = app.send(actix_web::test::TestRequest::default().method(actix_web::http::Method::HEAD).uri("/")).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.is_empty());
    let missing =
        app.send(actix_web::test::TestRequest::default().method(actix_web::http::Method::HEAD).uri("/nope")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
