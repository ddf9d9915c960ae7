//! The audit trail as people produce it: each mutation of the web app writes its event in the
//! same transaction (and a failing event undoes the change), sign-ins and crawls are recorded, the
//! audit page filters, verifies and exports, and dataset pages show their history.

use actix_web::http::StatusCode;
use custodian::db::audit::{self, AuditFilter, Cursor};
use custodian::db::schema::datasets;
use custodian::governance::access::Role;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::support::targets::Target;
use crate::support::{TestApp, TestCatalog, assert_contains, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));
";

fn events(app: &TestApp) -> Vec<audit::AuditEvent> {
    let mut conn = app.db.reader().expect("conn");
    let mut page = audit::list_events(&mut conn, &AuditFilter::default(), Cursor::Newest, 10_000).expect("events");
    page.events.reverse();
    page.events
}

fn chain_is_intact(app: &TestApp) -> bool {
    let mut conn = app.db.reader().expect("conn");
    audit::verify_chain(&mut conn, None, |_, _| {}).expect("verify").is_ok()
}

/// A crawled source; returns (target, source id, dataset id).
async fn shop(app: &TestApp) -> (Target, i64, i64) {
    let target = Target::sqlite(TARGET);
    let res = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let source: i64 = res.location().trim_start_matches("/sources/").parse().expect("id");
    app.run_queued_crawls();
    let dataset = app.get("/api/v1/datasets?kind=table").await.json()["items"][0]["id"].as_i64().expect("dataset");
    (target, source, dataset)
}

#[actix_web::test]
async fn mutations_record_who_did_what_in_a_valid_chain() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let steward = app.current_session().expect("session");
        let (_target, source, dataset) = shop(&app).await;
        let after_setup = events(&app);
        let actions: Vec<&str> = after_setup.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["source.create", "crawl.request", "crawl.finish"], "{ctx}");
        let create = &after_setup[0];
        assert_eq!(create.actor, steward.username, "{ctx}");
        assert_eq!(create.actor_role.as_deref(), Some("steward"), "{ctx}");
        assert_eq!(create.entity_type, "source", "{ctx}");
        assert_eq!(create.entity_id.as_deref(), Some(source.to_string().as_str()), "{ctx}");
        assert!(
            create.request_id.as_deref().is_some_and(|r| r.len() == 32),
            "{ctx}: request id {:?}",
            create.request_id
        );
        assert_eq!(after_setup[2].actor, "system", "{ctx}");
        assert_eq!(after_setup[1].request_id, create.request_id, "{ctx}: one request, one id");

        let res =
            app.post_form(&format!("/datasets/{dataset}/edit"), &[("description", "Buyers"), ("owner", "crm")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER);
        let last = events(&app).pop().expect("event");
        assert_eq!(last.action, "dataset.update", "{ctx}");
        assert_eq!(last.entity_id.as_deref(), Some(dataset.to_string().as_str()), "{ctx}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(last.before_json.as_deref().unwrap_or("")).expect("before")["description"],
            serde_json::Value::Null
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(last.after_json.as_deref().unwrap_or("")).expect("after")["description"],
            "Buyers"
        );

        // An administrator resets a password: recorded, without the password or its hash.
        let admin = app.sign_in_as(Role::Admin);
        let someone = app.user(Role::Viewer);
        let id: i64 = custodian::db::schema::users::table
            .filter(custodian::db::schema::users::username.eq(&someone.username))
            .select(custodian::db::schema::users::id)
            .first(&mut *app.db.reader().expect("conn"))
            .expect("id");
        let secret = "brand new secret password";
        assert_eq!(
            app.post_form(&format!("/admin/users/{id}/password"), &[("password", secret)]).await.status,
            StatusCode::SEE_OTHER
        );
        let last = events(&app).pop().expect("event");
        assert_eq!((last.action.as_str(), last.actor.as_str()), ("user.password", admin.username.as_str()), "{ctx}");
        let text = format!("{last:?}");
        assert!(!text.contains(secret) && !text.contains("argon2"), "{ctx}: the event holds the password: {text}");
        assert!(chain_is_intact(&app), "{ctx}");
    }
}

#[actix_web::test]
async fn a_failing_audit_write_undoes_the_change() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let (_target, _source, dataset) = shop(&app).await;
        let before = events(&app).len();
        // The audit table refuses new rows (as a full disk or a broken trigger would).
        let sql = match app.catalog {
            TestCatalog::Sqlite { .. } => {
                "CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END;"
            }
            TestCatalog::Postgres(_) => {
                "CREATE FUNCTION audit_refuses() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$;
                 CREATE TRIGGER audit_refuses BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_refuses();"
            }
        };
        app.db.writer().expect("conn").batch_execute(sql).expect("make the audit insert fail");
        let res = app
            .post_form(&format!("/datasets/{dataset}/edit"), &[("description", "never saved"), ("owner", "nobody")])
            .await;
        assert_eq!(res.status, StatusCode::INTERNAL_SERVER_ERROR, "{ctx}");
        assert_not_contains(&res.body, "audit unavailable");
        let description: Option<String> = datasets::table
            .find(dataset)
            .select(datasets::description)
            .first(&mut *app.db.reader().expect("conn"))
            .expect("dataset");
        assert_eq!(description, None, "{ctx}: the change stayed without its event");
        assert_eq!(events(&app).len(), before, "{ctx}");
    }
}

#[actix_web::test]
async fn sign_ins_are_recorded_without_what_people_typed() {
    let app = TestApp::new(TestCatalog::sqlite());
    app.use_session(None);
    let person = app.user(Role::Viewer);
    let login = |username: String, password: String| {
        let app = &app;
        async move {
            let page = app.send_raw(actix_web::test::TestRequest::get().uri("/login")).await;
            let cookie = page
                .headers
                .get_all("set-cookie")
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with("custodian_csrf="))
                .map(|v| actix_web::cookie::Cookie::parse(v.to_owned()).expect("cookie"))
                .expect("csrf cookie");
            let body = format!(
                "csrf_token={}&username={}&password={}",
                cookie.value(),
                crate::support::encode(&username),
                crate::support::encode(&password)
            );
            app.send_raw(
                actix_web::test::TestRequest::post()
                    .uri("/login")
                    .cookie(cookie)
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .set_payload(body),
            )
            .await
        }
    };
    assert_eq!(login(person.username.clone(), "wrong password".into()).await.status, StatusCode::UNAUTHORIZED);
    // Someone types their password into the username field.
    assert_eq!(login("MySecretPassw0rd".into(), "x".into()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login(person.username.clone(), person.password.clone()).await.status, StatusCode::SEE_OTHER);
    let all = events(&app);
    let tail: Vec<(&str, &str)> =
        all.iter().rev().take(3).rev().map(|e| (e.action.as_str(), e.actor.as_str())).collect();
    assert_eq!(
        tail,
        [("login.failure", "anonymous"), ("login.failure", "anonymous"), ("login.success", person.username.as_str())]
    );
    let text = format!("{all:?}");
    assert!(!text.contains("MySecretPassw0rd"), "an attempted username reached the log");
    assert!(all[all.len() - 3].entity_id.is_some(), "a failure on a real account names the account");
    assert!(all[all.len() - 2].entity_id.is_none(), "a failure on no account names none");
}

#[actix_web::test]
async fn the_audit_page_filters_verifies_and_exports_for_its_roles() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let (_target, _source, dataset) = shop(&app).await;
        app.post_form(&format!("/datasets/{dataset}/edit"), &[("description", "Buyers"), ("owner", "")]).await;
        for role in [Role::Viewer, Role::Steward, Role::PrivacyDesk] {
            app.sign_in_as(role);
            assert_eq!(app.get("/audit").await.status, StatusCode::FORBIDDEN, "{ctx} {role}");
            assert_eq!(app.get("/audit/export?format=csv").await.status, StatusCode::FORBIDDEN, "{ctx} {role}");
            assert_eq!(app.post_form("/audit/verify", &[]).await.status, StatusCode::FORBIDDEN, "{ctx} {role}");
        }
        let officer = app.sign_in_as(Role::Compliance);
        let page = app.get("/audit").await;
        assert_eq!(page.status, StatusCode::OK, "{ctx}");
        assert_contains(&page.body, "dataset.update");
        assert_contains(&page.body, "description: none → Buyers");
        assert_contains(&page.body, "Not verified from here yet");
        let filtered = app.get("/audit?action=crawl").await;
        assert_contains(&filtered.body, "crawl.finish");
        assert_not_contains(&filtered.body, "<code>dataset.update</code>");
        assert_contains(&filtered.body, "2 events match");
        assert_eq!(app.get("/audit?from=yesterday").await.status, StatusCode::BAD_REQUEST);

        let verified = app.post_form("/audit/verify", &[]).await;
        assert_eq!(verified.status, StatusCode::SEE_OTHER);
        let page = app.get("/audit").await;
        assert_contains(&page.body, "state-succeeded\">intact");
        assert_contains(&page.body, &format!("by {}", officer.username));

        let jsonl = app.get("/audit/export?format=jsonl&action=dataset").await;
        assert_eq!(jsonl.status, StatusCode::OK);
        assert_eq!(jsonl.headers.get("content-type").and_then(|v| v.to_str().ok()), Some("application/x-ndjson"));
        let lines: Vec<serde_json::Value> =
            jsonl.body.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
        assert_eq!(lines.len(), 1, "{ctx}");
        assert_eq!(lines[0]["after"]["description"], "Buyers", "{ctx}");
        let csv = app.get("/audit/export?format=csv").await;
        assert!(csv.body.starts_with("seq,occurred_at,actor,"), "{ctx}");
        assert_eq!(csv.body.lines().count(), events(&app).len() + 1, "{ctx}");
        assert_eq!(app.get("/audit/export?format=xml").await.status, StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn a_dataset_page_shows_its_history() {
    let app = TestApp::new(TestCatalog::sqlite());
    let steward = app.current_session().expect("session");
    let (_target, _source, dataset) = shop(&app).await;
    let empty = app.get(&format!("/datasets/{dataset}")).await;
    assert_contains(&empty.body, "No one has changed");
    app.post_form(&format!("/datasets/{dataset}/edit"), &[("description", "People who buy"), ("owner", "crm")]).await;
    let columns = app.get(&format!("/api/v1/datasets/{dataset}")).await.json();
    let column = columns["columns"][1]["id"].as_i64().expect("column");
    app.post_form(&format!("/datasets/{dataset}/columns/{column}/edit"), &[("description", "Login address")]).await;
    app.sign_in_as(Role::Viewer);
    let page = app.get(&format!("/datasets/{dataset}")).await;
    assert_contains(&page.body, "description: none → People who buy");
    assert_contains(&page.body, "column.update");
    assert_contains(&page.body, "description: none → Login address");
    assert_contains(&page.body, &format!("<strong>{}</strong>", steward.username));
}
