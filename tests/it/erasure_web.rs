//! Erasure requests on pages and through the API: who may submit, plan, approve and run them;
//! the submission form's validation and idempotency; four eyes; the list's order (overdue
//! first); a request planned, approved and run against an SQLite target to its signed receipt;
//! and the subject's identifier never shown on a page or in the API.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::TimeDelta;
use custodian::db::erasure as repo;
use custodian::db::now;
use custodian::governance::access::Role;
use diesel::prelude::*;

use crate::classification::taxonomy;
use crate::support::targets::Target;
use crate::support::{Response, TestApp, assert_contains, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT);
INSERT INTO customers VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob');
";

/// As typed by the privacy desk; normalised to `alice@example.com`.
const ALICE: &str = " Alice@Example.COM ";

/// A crawled shop whose `customers.email` is marked as the e-mail identifier.
struct Shop {
    target: Target,
}

async fn shop(app: &TestApp) -> Shop {
    taxonomy(app);
    let target = Target::sqlite(TARGET);
    let steward = app.sign_in_as(Role::Steward);
    let created = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    app.run_queued_crawls();
    let list = app.get("/api/v1/datasets").await.json();
    let dataset = list["items"][0]["id"].as_i64().expect("dataset");
    let detail = app.get(&format!("/api/v1/datasets/{dataset}")).await.json();
    let email = detail["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["name"] == "email")
        .and_then(|c| c["id"].as_i64())
        .expect("email column");
    let (category, identifier, level) = {
        let mut conn = app.db.reader().expect("conn");
        let c = custodian::db::classification::list_categories(&mut conn).expect("categories");
        let i = custodian::db::classification::list_identifier_types(&mut conn).expect("identifiers");
        let l = custodian::db::classification::list_levels(&mut conn).expect("levels");
        (
            c.iter().find(|c| c.key == "contact.email").expect("category").id.to_string(),
            i.iter().find(|i| i.key == "email").expect("identifier").id.to_string(),
            l.iter().find(|l| l.name == "Confidential").expect("level").id.to_string(),
        )
    };
    app.sign_in_as(Role::Compliance);
    let classified = app
        .post_form(
            &format!("/datasets/{dataset}/columns/{email}/classify"),
            &[("level", &level), ("category", &category), ("identifier", &identifier), ("reason", "")],
        )
        .await;
    assert_eq!(classified.status, StatusCode::SEE_OTHER, "{}", classified.body);
    app.use_session(Some(steward));
    Shop { target }
}

fn request_count(app: &TestApp) -> usize {
    repo::list_requests(&mut app.db.reader().expect("conn"), 1000).expect("requests").len()
}

/// Submits through the form as the current session; returns the response.
async fn submit(app: &TestApp, value: &str, key: &str, received_on: &str) -> Response {
    app.post_form(
        "/erasure",
        &[
            ("identifier_type", "email"),
            ("value", value),
            ("received_on", received_on),
            ("channel", "email"),
            ("requester_ref", "TICKET-42"),
            ("idempotency_key", key),
            ("notes", ""),
        ],
    )
    .await
}

/// The id of the request a submission redirected to.
fn request_id(res: &Response) -> i64 {
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    res.location().strip_prefix("/erasure/").and_then(|id| id.parse().ok()).expect("redirect to the request")
}

fn today() -> String {
    now().date().to_string()
}

#[track_caller]
fn assert_no_identifier(body: &str) {
    assert_not_contains(&body.to_lowercase(), "alice@example.com");
}

#[actix_web::test]
async fn only_the_privacy_desk_and_compliance_see_and_act_on_requests() {
    for app in TestApp::all() {
        taxonomy(&app);
        // A steward (the default session) sees no erasure navigation and is refused everywhere.
        assert_not_contains(&app.get("/").await.body, "href=\"/erasure\"");
        assert_eq!(app.get("/erasure").await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.get("/erasure/new").await.status, StatusCode::FORBIDDEN);
        assert_eq!(submit(&app, ALICE, "k-steward", &today()).await.status, StatusCode::FORBIDDEN);
        app.sign_in_as(Role::Viewer);
        assert_eq!(app.get("/erasure").await.status, StatusCode::FORBIDDEN);
        let refused = submit(&app, ALICE, "k-viewer", &today()).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_contains(&refused.body, "submit erasure requests");
        assert_eq!(request_count(&app), 0);
        // Without the form's CSRF token nothing happens either.
        app.sign_in_as(Role::PrivacyDesk);
        let forged = app.post_form_exactly("/erasure", &[("identifier_type", "email"), ("value", ALICE)]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_eq!(request_count(&app), 0);

        // The privacy desk submits; the nav shows the section.
        let page = app.get("/erasure").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_contains(&page.body, "href=\"/erasure\" aria-current=\"page\"");
        assert_contains(&page.body, "href=\"/erasure/new\"");
        let id = request_id(&submit(&app, ALICE, "k-desk", &today()).await);

        // Stewards and viewers cannot approve, refuse or run it, nor see it.
        for role in [Role::Steward, Role::Viewer, Role::Admin] {
            app.sign_in_as(role);
            for action in ["approve", "run", "plan", "extend"] {
                let res = app.post_form(&format!("/erasure/{id}/{action}"), &[("months", "1"), ("reason", "x")]).await;
                assert_eq!(res.status, StatusCode::FORBIDDEN, "{role} {action}");
            }
            let res = app.post_form(&format!("/erasure/{id}/refuse"), &[("reason", "no")]).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{role} refuse");
            assert_eq!(app.get(&format!("/erasure/{id}")).await.status, StatusCode::FORBIDDEN, "{role}");
        }
        // The privacy desk cannot approve or refuse; compliance can see it without approving.
        app.sign_in_as(Role::PrivacyDesk);
        assert_eq!(app.post_form(&format!("/erasure/{id}/approve"), &[]).await.status, StatusCode::FORBIDDEN);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_not_contains(&page.body, "Approve the plan");
        assert_not_contains(&page.body, "Refuse the request");
        app.sign_in_as(Role::Compliance);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_contains(&page.body, "Refuse the request");
        let status: String = custodian::db::schema::erasure_requests::table
            .find(id)
            .select(custodian::db::schema::erasure_requests::status)
            .first(&mut *app.db.reader().expect("conn"))
            .expect("request");
        assert_eq!(status, "received", "nothing above changed it");
    }
}

#[actix_web::test]
async fn a_bad_identifier_shows_the_form_again_and_stores_nothing() {
    for app in TestApp::all() {
        taxonomy(&app);
        app.sign_in_as(Role::PrivacyDesk);
        let form = app.get("/erasure/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert_contains(&form.body, "name=\"idempotency_key\" value=\"");
        assert_contains(&form.body, &format!("value=\"{}\"", today()));

        let bad = submit(&app, "alice.example.com", "k-bad", &today()).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&bad.body, "not an e-mail address");
        assert_contains(&bad.body, "value=\"TICKET-42\"");
        assert_contains(&bad.body, "value=\"k-bad\"");

        let future = (now().date() + TimeDelta::days(3)).to_string();
        let late = submit(&app, ALICE, "k-future", &future).await;
        assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&late.body, "The received date is in the future.");
        let garbled = submit(&app, ALICE, "k-garbled", "31/01/2026").await;
        assert_eq!(garbled.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&garbled.body, "YYYY-MM-DD");
        let unknown = app.post_form("/erasure", &[("identifier_type", "shoe_size"), ("value", "44")]).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&unknown.body, "Choose one of the identifier types listed.");
        assert_eq!(request_count(&app), 0);
    }
}

#[actix_web::test]
async fn submitting_twice_with_one_key_stores_one_request() {
    for app in TestApp::all() {
        taxonomy(&app);
        app.sign_in_as(Role::PrivacyDesk);
        let first = request_id(&submit(&app, ALICE, "same-key", &today()).await);
        let again = request_id(&submit(&app, "alice@example.com", "same-key", &today()).await);
        assert_eq!(first, again);
        assert_eq!(request_count(&app), 1);
        // The key of another subject's request is a conflict, shown on the form.
        let other = submit(&app, "bob@example.com", "same-key", &today()).await;
        assert_eq!(other.status, StatusCode::CONFLICT);
        assert_contains(&other.body, "already used for a different request");
        assert_eq!(request_count(&app), 1);
        // A fresh form means a fresh key: a second request for the same person is its own.
        let key = |body: &str| {
            let start = body.find("name=\"idempotency_key\" value=\"").expect("key field") + 30;
            body[start..start + 36].to_owned()
        };
        let (a, b) = (key(&app.get("/erasure/new").await.body), key(&app.get("/erasure/new").await.body));
        assert_ne!(a, b);
        request_id(&submit(&app, ALICE, &a, &today()).await);
        assert_eq!(request_count(&app), 2);
    }
}

#[actix_web::test]
async fn the_list_puts_overdue_requests_first_and_never_shows_the_identifier() {
    for app in TestApp::all() {
        taxonomy(&app);
        app.sign_in_as(Role::PrivacyDesk);
        let recent = request_id(&submit(&app, ALICE, "k-recent", &today()).await);
        let old_date = (now().date() - TimeDelta::days(45)).to_string();
        let old = request_id(&submit(&app, "carol@example.com", "k-old", &old_date).await);
        let page = app.get("/erasure").await;
        assert_eq!(page.status, StatusCode::OK);
        let at = |id: i64| page.body.find(&format!("<a href=\"/erasure/{id}\">")).expect("row");
        assert!(at(old) < at(recent), "the overdue request comes first");
        assert_contains(&page.body, "<tr class=\"overdue\">");
        assert_contains(&page.body, "days overdue");
        assert_contains(&page.body, "1 request is overdue");
        assert_contains(&page.body, "in ");
        assert_no_identifier(&page.body);
        assert_not_contains(&page.body, "carol@example.com");
        let show = app.get(&format!("/erasure/{recent}")).await;
        assert_eq!(show.status, StatusCode::OK);
        assert_contains(&show.body, "Received");
        assert_contains(&show.body, "TICKET-42");
        assert_no_identifier(&show.body);
        let overdue = app.get(&format!("/erasure/{old}")).await;
        assert_contains(&overdue.body, "days overdue");
        assert_not_contains(&overdue.body, "carol@example.com");
        assert_eq!(app.get("/erasure/999999").await.status, StatusCode::NOT_FOUND);
    }
}

#[actix_web::test]
async fn a_request_is_extended_once_and_refused_with_a_reason() {
    for app in TestApp::all() {
        taxonomy(&app);
        app.sign_in_as(Role::PrivacyDesk);
        let id = request_id(&submit(&app, ALICE, "k-extend", &today()).await);
        let no_reason = app.post_form(&format!("/erasure/{id}/extend"), &[("months", "2"), ("reason", " ")]).await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&no_reason.body, "an extension needs a reason");
        let three = app.post_form(&format!("/erasure/{id}/extend"), &[("months", "3"), ("reason", "big")]).await;
        assert_eq!(three.status, StatusCode::UNPROCESSABLE_ENTITY);
        let ok = app.post_form(&format!("/erasure/{id}/extend"), &[("months", "2"), ("reason", "many systems")]).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_contains(&page.body, "many systems");
        assert_not_contains(&page.body, "Extend the deadline");
        let second = app.post_form(&format!("/erasure/{id}/extend"), &[("months", "1"), ("reason", "again")]).await;
        assert_eq!(second.status, StatusCode::CONFLICT);
        assert_contains(&second.body, "already been extended once");

        app.sign_in_as(Role::Compliance);
        let empty = app.post_form(&format!("/erasure/{id}/refuse"), &[("reason", "")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&empty.body, "needs a reason");
        let refused =
            app.post_form(&format!("/erasure/{id}/refuse"), &[("reason", "Identity could not be verified")]).await;
        assert_eq!(refused.status, StatusCode::SEE_OTHER);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_contains(&page.body, "Refused because");
        assert_contains(&page.body, "Identity could not be verified");
        assert_not_contains(&page.body, "Refuse the request");
        assert_not_contains(&page.body, &format!("action=\"/erasure/{id}/plan\""));
        assert_not_contains(&page.body, &format!("action=\"/erasure/{id}/run\""));
    }
}

#[actix_web::test]
async fn a_request_is_planned_approved_by_another_officer_run_and_receipted() {
    for app in TestApp::all() {
        let shop = shop(&app).await;
        let desk = app.sign_in_as(Role::PrivacyDesk);
        let id = request_id(&submit(&app, ALICE, "k-flow", &today()).await);

        // Planning counts the subject's rows on the live target.
        let planned = app.post_form(&format!("/erasure/{id}/plan"), &[]).await;
        assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_contains(&page.body, "Planned, awaiting approval");
        assert_contains(&page.body, "shop.main.customers");
        assert_contains(&page.body, "1 step, 1 row in the dry run");
        assert_no_identifier(&page.body);
        // Nothing runs before approval.
        assert_eq!(app.post_form(&format!("/erasure/{id}/run"), &[]).await.status, StatusCode::CONFLICT);

        // Four eyes: a compliance officer who submitted a request cannot approve it.
        let officer = app.sign_in_as(Role::Compliance);
        let own = request_id(&submit(&app, "bob@example.com", "k-own", &today()).await);
        assert_eq!(app.post_form(&format!("/erasure/{own}/plan"), &[]).await.status, StatusCode::SEE_OTHER);
        let page = app.get(&format!("/erasure/{own}")).await;
        assert_contains(&page.body, "Four eyes");
        assert_not_contains(&page.body, "Approve the plan");
        let refused = app.post_form(&format!("/erasure/{own}/approve"), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_contains(&refused.body, "cannot approve it");

        // Another officer approves the desk's request, and the desk runs it.
        app.use_session(Some(officer));
        assert_contains(&app.get(&format!("/erasure/{id}")).await.body, "Approve the plan");
        let approved = app.post_form(&format!("/erasure/{id}/approve"), &[]).await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
        app.use_session(Some(desk));
        let queued = app.post_form(&format!("/erasure/{id}/run"), &[]).await;
        assert_eq!(queued.status, StatusCode::SEE_OTHER, "{}", queued.body);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_contains(&page.body, "<meta http-equiv=\"refresh\" content=\"2\">");
        assert_contains(&page.body, "waits for a worker");
        assert_eq!(app.post_form(&format!("/erasure/{id}/run"), &[]).await.status, StatusCode::CONFLICT);

        // The test app has no worker thread: run the queue here.
        let cx = custodian::jobs::WorkerContext::new(app.state.keys.clone(), &app.state.config);
        assert!(custodian::jobs::drain(&app.db, &app.state.progress, &cx) >= 1);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_contains(&page.body, "<span class=\"state state-completed\">Completed</span>");
        assert_contains(&page.body, "verified");
        assert_not_contains(&page.body, "http-equiv=\"refresh\"");
        assert_contains(&page.body, "custodian receipt verify erasure-receipt-");
        assert_no_identifier(&page.body);

        // Alice's row is gone, Bob's is not.
        let Target::Sqlite { path, .. } = &shop.target else { unreachable!("an SQLite target") };
        let mut target = diesel::SqliteConnection::establish(path.to_str().expect("path")).expect("target");
        let left: Vec<String> = diesel::sql_query("SELECT email FROM customers ORDER BY id")
            .load::<Email>(&mut target)
            .expect("rows")
            .into_iter()
            .map(|e| e.email)
            .collect();
        assert_eq!(left, ["bob@example.com"]);

        // The receipt downloads as a signed file that verifies with the key the page shows.
        let receipt = app.get(&format!("/erasure/{id}/receipt")).await;
        assert_eq!(receipt.status, StatusCode::OK);
        assert_eq!(receipt.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/json"));
        let disposition = receipt.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_contains(disposition, &format!("attachment; filename=\"erasure-receipt-{id}.json\""));
        assert_no_identifier(&receipt.body);
        let key = app.state.keys.receipt_public_key().to_base64();
        assert_contains(&page.body, &key);
        let public = custodian::governance::audit::PublicKey::from_base64(&key).expect("key");
        let verified =
            custodian::governance::erasure::receipt::Receipt::verify(&receipt.body, &public).expect("valid receipt");
        assert_eq!(verified.request_id, id);
        assert_eq!(verified.outcome, "completed");
        assert_eq!(app.get(&format!("/erasure/{own}/receipt")).await.status, StatusCode::NOT_FOUND);

        // Running it again verifies and changes nothing.
        assert_contains(&page.body, "Verify again");
        assert_eq!(app.post_form(&format!("/erasure/{id}/run"), &[]).await.status, StatusCode::SEE_OTHER);
        custodian::jobs::drain(&app.db, &app.state.progress, &cx);
        let page = app.get(&format!("/erasure/{id}")).await;
        assert_contains(&page.body, "verification only");
        let api = app.get(&format!("/api/v1/erasure-requests/{id}")).await;
        assert_eq!(api.json()["status"], "completed");
        assert_eq!(api.json()["runs"].as_array().map(Vec::len), Some(2));
        assert_no_identifier(&api.body);
    }
}

#[derive(QueryableByName)]
struct Email {
    #[diesel(sql_type = diesel::sql_types::Text)]
    email: String,
}

#[actix_web::test]
async fn the_api_creates_lists_and_shows_requests_without_the_identifier() {
    for app in TestApp::all() {
        taxonomy(&app);
        let (desk, viewer) = {
            let mut conn = app.db.writer().expect("conn");
            (
                custodian::accounts::create_api_token(&mut conn, "desk", Role::PrivacyDesk, None, now())
                    .expect("token"),
                custodian::accounts::create_api_token(&mut conn, "reader", Role::Viewer, None, now()).expect("token"),
            )
        };
        let post = |secret: &str, body: serde_json::Value| {
            TestRequest::post()
                .uri("/api/v1/erasure-requests")
                .insert_header(("authorization", format!("Bearer {secret}")))
                .insert_header(("content-type", "application/json"))
                .set_payload(body.to_string())
        };
        let get = |secret: &str, uri: &str| {
            TestRequest::get().uri(uri).insert_header(("authorization", format!("Bearer {secret}")))
        };
        app.use_session(None);
        let body = serde_json::json!({
            "identifier_type": "email",
            "value": ALICE,
            "received_on": today(),
            "channel": "api",
            "requester_ref": "API-1",
            "idempotency_key": "api-key-1",
        });
        let created = app.send(post(&desk.secret, body.clone())).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let json = created.json();
        let id = json["id"].as_i64().expect("id");
        assert_eq!(json["status"], "received");
        assert_eq!(json["channel"], "api");
        assert_eq!(json["identifier_type"], "email");
        assert!(json["days_left"].as_i64().is_some_and(|d| d >= 28));
        assert_no_identifier(&created.body);
        let again = app.send(post(&desk.secret, body)).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.body);
        assert_eq!(again.json()["id"], id);

        let bad =
            app.send(post(&desk.secret, serde_json::json!({ "identifier_type": "email", "value": "nobody" }))).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_contains(&bad.json()["error"]["message"].to_string(), "not an e-mail address");
        let unknown_field = app
            .send(post(&desk.secret, serde_json::json!({ "identifier_type": "email", "value": "a@b.c", "x": 1 })))
            .await;
        assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
        let as_viewer =
            app.send(post(&viewer.secret, serde_json::json!({ "identifier_type": "email", "value": "a@b.c" }))).await;
        assert_eq!(as_viewer.status, StatusCode::FORBIDDEN);
        assert_eq!(app.send(get(&viewer.secret, "/api/v1/erasure-requests")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(request_count(&app), 1);

        let list = app.send(get(&desk.secret, "/api/v1/erasure-requests")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list.json()["total"], 1);
        assert_eq!(list.json()["items"][0]["id"], id);
        assert_eq!(list.json()["items"][0]["overdue"], false);
        assert_no_identifier(&list.body);
        let one = app.send(get(&desk.secret, &format!("/api/v1/erasure-requests/{id}"))).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.json()["requester_ref"], "API-1");
        assert_eq!(one.json()["steps"], serde_json::json!([]));
        assert_eq!(one.json()["has_receipt"], false);
        assert_no_identifier(&one.body);
        let missing = app.send(get(&desk.secret, "/api/v1/erasure-requests/999999")).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.json()["error"]["key"], "not_found");

        // A browser session reads the API but cannot write through it.
        app.sign_in_as(Role::PrivacyDesk);
        assert_eq!(app.get("/api/v1/erasure-requests").await.status, StatusCode::OK);
        let with_session = app
            .send(
                TestRequest::post()
                    .uri("/api/v1/erasure-requests")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(r#"{"identifier_type": "email", "value": "dave@example.com"}"#),
            )
            .await;
        assert_eq!(with_session.status, StatusCode::UNAUTHORIZED);
        assert_eq!(request_count(&app), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// E19: a seeded e-mail, erased through the real binary, appears in nothing Custodian wrote.

/// `custodian ARGS` on the test catalog with debug logging; records what it printed (stdout and
/// stderr, not the command line, which holds the e-mail as typed) under `label`.
fn custodian(app: &TestApp, args: &[&str], label: &str, written: &mut Vec<(String, Vec<u8>)>) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(args)
        .env("CUSTODIAN_DATABASE_URL", crate::erasure::catalog_url(app))
        .env("CUSTODIAN_KEY_FILE", app.state.config.key_path())
        .env("CUSTODIAN_LOG", "debug")
        .env_remove("CUSTODIAN_ACTOR")
        .env_remove("CUSTODIAN_FAULT_PAUSE_AT")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run the custodian binary");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "custodian {label} failed ({}):\n{stdout}\n{stderr}", out.status);
    written.push((format!("stdout of custodian {label}"), out.stdout));
    written.push((format!("stderr of custodian {label}"), out.stderr));
    stdout
}

/// Every row of every table of a PostgreSQL catalog, as JSON text.
fn postgres_rows(url: &str) -> Vec<u8> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = diesel::PgConnection::establish(url).expect("catalog");
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(&mut conn)
    .expect("tables");
    let mut out = Vec::new();
    for t in tables {
        let rows: Vec<Row> = diesel::sql_query(format!("SELECT row_to_json(t)::text AS v FROM \"{}\" t", t.name))
            .load(&mut conn)
            .expect("rows");
        for r in rows {
            out.extend_from_slice(t.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(r.v.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// Where `email` (in any case, or hex-encoded) occurs in `bytes`, with some context around it.
fn find(email: &str, label: &str, bytes: &[u8]) -> Option<String> {
    let needle = email.to_lowercase();
    let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
    let text = String::from_utf8_lossy(bytes).to_lowercase();
    let at = text.find(&needle).or_else(|| text.find(&hex))?;
    let start = text.floor_char_boundary(at.saturating_sub(200));
    let end = text.ceil_char_boundary((at + needle.len() + 200).min(text.len()));
    Some(format!("{label}: …{}…", &text[start..end]))
}

#[actix_web::test]
async fn a_seeded_email_is_in_nothing_custodian_wrote_after_completion() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seeded = format!("seeded.e19.{:x}@example.org", nanos ^ u128::from(std::process::id()));
        // As the person typed it: the stored and matched form is `seeded`.
        let typed = format!(" Seeded.E19.{}@Example.ORG ", &seeded["seeded.e19.".len()..seeded.len() - 12]);
        let shop = crate::erasure::shop(&app, &seeded).await;
        let count = |sql: &str| shop.count(sql);
        assert_eq!(count("SELECT count(*) AS n FROM customers WHERE id = 1"), 1, "{ctx}");
        // The search finds the e-mail where it is: in the target (which is not Custodian's output).
        if let Target::Sqlite { path, .. } = &shop.target {
            let bytes = std::fs::read(path).expect("target file");
            assert!(find(&seeded, "the target", &bytes).is_some(), "{ctx}: the search misses the seeded e-mail");
        }
        let desk = app.user(Role::PrivacyDesk);
        let officer = app.user(Role::Compliance);
        let mut written: Vec<(String, Vec<u8>)> = Vec::new();

        let id = custodian(
            &app,
            &[
                "--as",
                &desk.username,
                "erasure",
                "submit",
                "--type",
                "email",
                "--value",
                &typed,
                "--requester-ref",
                "E19-TICKET",
            ],
            "erasure submit",
            &mut written,
        );
        let id: i64 = id.trim().parse().unwrap_or_else(|_| panic!("{ctx}: submit printed {id:?}, not an id"));
        let idt = id.to_string();
        let planned = custodian(&app, &["--as", &desk.username, "erasure", "plan", &idt], "erasure plan", &mut written);
        assert!(planned.contains("planned: 7 steps, 11 rows"), "{ctx}: {planned}");
        custodian(&app, &["--as", &officer.username, "erasure", "approve", &idt], "erasure approve", &mut written);
        custodian(&app, &["--as", &desk.username, "erasure", "run", &idt], "erasure run", &mut written);
        let shown = custodian(&app, &["erasure", "show", &idt, "--json"], "erasure show --json", &mut written);
        let details: serde_json::Value = serde_json::from_str(&shown).expect("show --json");
        assert_eq!(details["status"], "completed", "{ctx}: {shown}");
        assert_eq!(count("SELECT count(*) AS n FROM customers WHERE id = 1"), 0, "{ctx}: the subject is erased");
        assert_eq!(count("SELECT count(*) AS n FROM newsletter WHERE contact_email LIKE 'seeded.e19.%'"), 0, "{ctx}");
        // The binary's own receipt file verifies with the public key it prints.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("receipt.json");
        let file_arg = file.to_str().expect("utf-8 path");
        custodian(&app, &["erasure", "receipt", &idt, "--out", file_arg], "erasure receipt --out", &mut written);
        custodian(&app, &["erasure", "receipt", &idt], "erasure receipt", &mut written);
        let key = custodian(&app, &["erasure", "public-key"], "erasure public-key", &mut written);
        let verified = custodian(
            &app,
            &["receipt", "verify", file_arg, "--public-key", key.trim()],
            "receipt verify",
            &mut written,
        );
        assert_contains(&verified, "valid receipt");
        written.push(("the receipt file".into(), std::fs::read(&file).expect("receipt file")));
        // Verifying again, queued on the page and run by `custodian worker`, changes nothing.
        app.use_session(Some(desk.clone()));
        let queued = app.post_form(&format!("/erasure/{id}/run"), &[]).await;
        assert_eq!(queued.status, StatusCode::SEE_OTHER, "{ctx}: {}", queued.body);
        let ran = custodian(&app, &["worker", "--until-idle"], "worker --until-idle", &mut written);
        let shown = custodian(&app, &["erasure", "show", &idt], "erasure show", &mut written);
        assert_contains(&shown, "(completed)");
        let runs = app.get(&format!("/api/v1/erasure-requests/{id}")).await.json()["runs"].clone();
        assert_eq!(runs[1]["mode"], "verify", "{ctx}: {runs} {ran}");
        assert_eq!(runs[1]["status"], "done", "{ctx}: {runs}");
        let export =
            custodian(&app, &["audit", "export", "--format", "jsonl"], "audit export --format jsonl", &mut written);
        assert!(export.lines().count() > 10, "{ctx}: {export}");
        assert_contains(&export, "erasure.complete");
        assert_contains(&export, "erasure.verify_only");

        // Pages and the API, for the privacy desk and compliance.
        app.use_session(Some(desk));
        for path in [
            "/erasure".to_owned(),
            format!("/erasure/{id}"),
            format!("/erasure/{id}/receipt"),
            "/api/v1/erasure-requests".to_owned(),
            format!("/api/v1/erasure-requests/{id}"),
        ] {
            let page = app.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{ctx}: {path}");
            written.push((format!("the page {path} (privacy desk)"), page.body.into_bytes()));
        }
        app.use_session(Some(officer));
        for path in [format!("/erasure/{id}"), "/audit".to_owned(), "/audit/export?format=jsonl".to_owned()] {
            let page = app.get(&path).await;
            assert_eq!(page.status, StatusCode::OK, "{ctx}: {path}");
            written.push((format!("the page {path} (compliance)"), page.body.into_bytes()));
        }

        // The catalog itself: every byte of the SQLite files (database, WAL, key), or every row.
        match &app.catalog {
            crate::support::TestCatalog::Sqlite { dir } => {
                let mut files: Vec<_> =
                    std::fs::read_dir(dir.path()).expect("catalog dir").map(|e| e.expect("entry").path()).collect();
                files.sort();
                assert!(files.iter().any(|f| f.ends_with("catalog.db")), "{ctx}: {files:?}");
                for f in files {
                    written.push((format!("the catalog file {}", f.display()), std::fs::read(&f).expect("read")));
                }
            }
            crate::support::TestCatalog::Postgres(db) => {
                let rows = postgres_rows(&db.url);
                let text = String::from_utf8_lossy(&rows);
                assert!(text.contains("erasure_requests: ") && text.contains("audit_events: "), "{ctx}: {text}");
                written.push(("the catalog's rows".into(), rows));
            }
        }

        let found: Vec<String> = written.iter().filter_map(|(label, bytes)| find(&seeded, label, bytes)).collect();
        assert!(found.is_empty(), "{ctx}: the seeded e-mail {seeded} is in:\n{}", found.join("\n\n"));
        assert!(written.len() > 20, "{ctx}: {} outputs checked", written.len());
    }
}

#[actix_web::test]
async fn compliance_chooses_whether_a_dataset_is_masked_or_deleted() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let _shop = crate::erasure::shop(&app, "alice@example.com").await;
        let dataset = app.get("/api/v1/datasets").await.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "newsletter")
            .and_then(|d| d["id"].as_i64())
            .unwrap();
        let path = format!("/datasets/{dataset}/erasure-action");
        app.sign_in_as(Role::Viewer);
        assert_eq!(app.post_form(&path, &[("action", "mask")]).await.status.as_u16(), 403, "{ctx}");
        app.sign_in_as(Role::Compliance);
        let page = app.get(&format!("/datasets/{dataset}")).await;
        assert!(page.body.contains("the subject's rows are deleted"), "{ctx}");
        assert_eq!(app.post_form(&path, &[("action", "shred")]).await.status.as_u16(), 422, "{ctx}");
        assert_eq!(app.post_form(&path, &[("action", "mask")]).await.status.as_u16(), 303, "{ctx}");
        let page = app.get(&format!("/datasets/{dataset}")).await;
        assert!(page.body.contains("personal-data columns masked"), "{ctx}");
        let actions = custodian::db::erasure::dataset_actions(&mut app.db.reader().unwrap()).unwrap();
        assert_eq!(actions.get(&dataset).map(String::as_str), Some("mask"), "{ctx}");
    }
}
