//! Classification by people: levels, categories and identifier marks on columns (singly and in
//! bulk), reasons for lowering, proposals and the suggestions queue, the workbench's filters,
//! and "where is personal data?", with their audit events.

use actix_web::http::StatusCode;
use custodian::db::audit::{self, AuditFilter, Cursor};
use custodian::db::classification as repo;
use custodian::db::now;
use custodian::governance::access::Role;

use crate::support::targets::Target;
use crate::support::{TestApp, TestCatalog, assert_contains, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT, notes TEXT);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, address TEXT);
";

/// Categories and identifier types for the tests (the built-in taxonomy is tested on its own).
pub fn taxonomy(app: &TestApp) {
    let mut conn = app.db.writer().expect("conn");
    repo::ensure_taxonomy(
        &mut conn,
        &[
            ("contact.email", "E-mail address", false, Some(2)),
            ("identity.name", "Name", false, Some(2)),
            ("special.health", "Health", true, Some(3)),
        ],
        &[
            ("email", "E-mail address", Some("contact.email")),
            ("customer_id", "Customer id", Some("identity.customer_id")),
        ],
        now(),
    )
    .expect("taxonomy");
}

struct Ids {
    dataset: i64,
    email: i64,
    name: i64,
    notes: i64,
    other_dataset: i64,
    address: i64,
    email_category: i64,
    name_category: i64,
    email_identifier: i64,
    internal: i64,
    confidential: i64,
    restricted: i64,
}

async fn setup(app: &TestApp) -> (Target, Ids) {
    taxonomy(app);
    let target = Target::sqlite(TARGET);
    app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    app.run_queued_crawls();
    let list = app.get("/api/v1/datasets").await.json();
    let id_of = |name: &str| {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|d| d["name"] == name)
            .and_then(|d| d["id"].as_i64())
            .expect("dataset")
    };
    let (dataset, other_dataset) = (id_of("customers"), id_of("newsletter"));
    let cols = app.get(&format!("/api/v1/datasets/{dataset}")).await.json();
    let col = |name: &str| {
        cols["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_i64())
            .expect("column")
    };
    let other = app.get(&format!("/api/v1/datasets/{other_dataset}")).await.json();
    let address = other["columns"][1]["id"].as_i64().expect("address");
    let mut conn = app.db.reader().expect("conn");
    let levels = repo::list_levels(&mut conn).expect("levels");
    let level = |name: &str| levels.iter().find(|l| l.name == name).map(|l| l.id).expect("level");
    let categories = repo::list_categories(&mut conn).expect("categories");
    let category = |key: &str| categories.iter().find(|c| c.key == key).map(|c| c.id).expect("category");
    let identifiers = repo::list_identifier_types(&mut conn).expect("identifiers");
    let ids = Ids {
        dataset,
        email: col("email"),
        name: col("full_name"),
        notes: col("notes"),
        other_dataset,
        address,
        email_category: category("contact.email"),
        name_category: category("identity.name"),
        email_identifier: identifiers.iter().find(|i| i.key == "email").map(|i| i.id).expect("identifier"),
        internal: level("Internal"),
        confidential: level("Confidential"),
        restricted: level("Restricted"),
    };
    (target, ids)
}

fn last_event(app: &TestApp) -> audit::AuditEvent {
    let mut conn = app.db.reader().expect("conn");
    audit::list_events(&mut conn, &AuditFilter::default(), Cursor::Newest, 1).expect("events").events.remove(0)
}

#[actix_web::test]
async fn the_default_levels_are_ordered() {
    let app = TestApp::new(TestCatalog::sqlite());
    let levels = repo::list_levels(&mut app.db.reader().expect("conn")).expect("levels");
    let names: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Public", "Internal", "Confidential", "Restricted"]);
    let page = app.get("/classification/levels").await;
    assert_contains(&page.body, "level level-red\">Restricted");
}

#[actix_web::test]
async fn a_compliance_officer_classifies_a_column_and_the_dataset_shows_it() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let (_t, ids) = setup(&app).await;
        let officer = app.sign_in_as(Role::Compliance);
        let form = app.get(&format!("/datasets/{}/columns/{}/classify", ids.dataset, ids.email)).await;
        assert_eq!(form.status, StatusCode::OK, "{ctx}");
        assert_contains(&form.body, "contact.email");
        let res = app
            .post_form(
                &format!("/datasets/{}/columns/{}/classify", ids.dataset, ids.email),
                &[
                    ("level", &ids.restricted.to_string()),
                    ("category", &ids.email_category.to_string()),
                    ("identifier", &ids.email_identifier.to_string()),
                    ("reason", ""),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{ctx}: {}", res.body);
        let event = last_event(&app);
        assert_eq!(
            (event.action.as_str(), event.actor.as_str()),
            ("column.classify", officer.username.as_str()),
            "{ctx}"
        );
        let after: serde_json::Value = serde_json::from_str(event.after_json.as_deref().unwrap_or("")).expect("after");
        assert_eq!(after["level"], "Restricted", "{ctx}");
        assert_eq!(after["categories"][0], "contact.email", "{ctx}");
        assert_eq!(after["identifier"], "email", "{ctx}");

        // Only a category on another column: its level comes from the category's default.
        app.post_form(
            &format!("/datasets/{}/columns/{}/classify", ids.dataset, ids.name),
            &[("level", ""), ("category", &ids.name_category.to_string()), ("identifier", "")],
        )
        .await;
        let page = app.get(&format!("/datasets/{}", ids.dataset)).await;
        assert_contains(&page.body, "level level-red\" title=\"The highest level of its columns\">Restricted");
        assert_contains(&page.body, "<span class=\"tag\">contact.email</span>");
        assert_contains(&page.body, "id: email");
        assert_contains(&page.body, "<span class=\"tag\">identity.name</span>");
        let api = app.get("/api/v1/personal-data").await.json();
        let columns: Vec<&str> =
            api["items"].as_array().expect("items").iter().filter_map(|c| c["column"].as_str()).collect();
        assert_eq!(columns, ["email", "full_name"], "{ctx}");
        assert_eq!(api["items"][1]["level"], "Confidential", "{ctx}: the category's default level");
        let csv = app.get("/api/v1/personal-data?format=csv").await;
        assert_contains(&csv.body, "shop,main,customers,email,Restricted,contact.email,email,confirmed");
        assert_contains(&app.get("/classification/personal-data").await.body, "2 columns hold personal data");
    }
}

#[actix_web::test]
async fn lowering_a_level_needs_a_reason_and_nothing_changes_without_one() {
    let app = TestApp::new(TestCatalog::sqlite());
    let (_t, ids) = setup(&app).await;
    app.sign_in_as(Role::Compliance);
    let path = format!("/datasets/{}/columns/{}/classify", ids.dataset, ids.notes);
    app.post_form(&path, &[("level", &ids.confidential.to_string())]).await;
    let events_before = {
        let mut conn = app.db.reader().expect("conn");
        audit::count_events(&mut conn, &AuditFilter::default()).expect("count")
    };
    let refused = app.post_form(&path, &[("level", &ids.internal.to_string())]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(&refused.body, "needs a reason");
    let count = audit::count_events(&mut app.db.reader().expect("conn"), &AuditFilter::default()).expect("count");
    assert_eq!(count, events_before, "a refused change wrote an event");
    let page = app.get(&format!("/datasets/{}", ids.dataset)).await;
    assert_contains(&page.body, "Confidential");
    let ok = app
        .post_form(&path, &[("level", &ids.internal.to_string()), ("reason", "the notes hold no personal data")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(last_event(&app).reason.as_deref(), Some("the notes hold no personal data"));
}

#[actix_web::test]
async fn only_compliance_and_admin_classify_and_stewards_propose() {
    let app = TestApp::new(TestCatalog::sqlite());
    let (_t, ids) = setup(&app).await;
    let classify = format!("/datasets/{}/columns/{}/classify", ids.dataset, ids.email);
    let propose = format!("/datasets/{}/columns/{}/propose", ids.dataset, ids.email);
    for role in [Role::Viewer, Role::Steward, Role::PrivacyDesk] {
        app.sign_in_as(role);
        let res = app.post_form(&classify, &[("level", &ids.restricted.to_string())]).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{role} classified");
        assert_eq!(
            app.post_form(
                "/classification/bulk",
                &[
                    ("action", "add_category"),
                    ("value", &ids.email_category.to_string()),
                    ("column", &ids.email.to_string())
                ]
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "{role} bulk"
        );
    }
    for role in [Role::Viewer, Role::PrivacyDesk] {
        app.sign_in_as(role);
        assert_eq!(
            app.post_form(&propose, &[("category", &ids.email_category.to_string())]).await.status,
            StatusCode::FORBIDDEN,
            "{role} proposed"
        );
    }
    let steward = app.sign_in_as(Role::Steward);
    let form = app.get(&classify).await;
    assert_contains(&form.body, "Propose a classification");
    let res = app
        .post_form(
            &propose,
            &[
                ("category", &ids.email_category.to_string()),
                ("identifier", &ids.email_identifier.to_string()),
                ("note", "it is the login"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(last_event(&app).action, "suggestion.propose");
    assert_eq!(last_event(&app).actor, steward.username);
    let page = app.get(&format!("/datasets/{}", ids.dataset)).await;
    assert_contains(&page.body, "contact.email?");

    // A compliance officer accepts it from the queue; an administrator may classify too.
    app.sign_in_as(Role::Compliance);
    let queue = app.get("/classification/suggestions").await;
    assert_contains(&queue.body, "proposed: it is the login");
    let suggestion = repo::list_open_suggestions(&mut app.db.reader().expect("conn"), 0, 100)
        .expect("open")
        .0
        .into_iter()
        .find(|s| s.column_id == ids.email && s.category_id == ids.email_category)
        .expect("the proposal")
        .id;
    let accepted = app
        .post_form("/classification/suggestions", &[("decision", "accept"), ("suggestion", &suggestion.to_string())])
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    assert_eq!(last_event(&app).action, "suggestion.accept");
    let page = app.get(&format!("/datasets/{}", ids.dataset)).await;
    assert_contains(&page.body, "<span class=\"tag\">contact.email</span>");
    assert_contains(&page.body, "id: email");
    assert_not_contains(&page.body, "contact.email?");
    app.sign_in_as(Role::Admin);
    let res = app
        .post_form(&classify, &[("level", &ids.restricted.to_string()), ("category", &ids.email_category.to_string())])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn the_workbench_filters_and_applies_bulk_actions() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let (_t, ids) = setup(&app).await;
        app.sign_in_as(Role::Compliance);
        let all = app.get("/classification").await;
        assert_eq!(all.status, StatusCode::OK);
        assert_contains(&all.body, "1–6 of 6 columns");
        let res = app
            .post_form(
                "/classification/bulk",
                &[
                    ("action", "add_category"),
                    ("value", &ids.email_category.to_string()),
                    ("column", &ids.email.to_string()),
                    ("column", &ids.address.to_string()),
                    ("back", "/classification?personal=true"),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{ctx}: {}", res.body);
        assert_eq!(res.location(), "/classification?personal=true");
        let personal = app.get("/classification?personal=true").await;
        assert_contains(&personal.body, "1–2 of 2 columns");
        assert_contains(&personal.body, "shop.main.newsletter");
        let by_category = app.get(&format!("/classification?category={}", ids.email_category)).await;
        assert_contains(&by_category.body, "1–2 of 2 columns");
        let unclassified = app.get("/classification?unclassified=true").await;
        assert_contains(&unclassified.body, "1–4 of 4 columns");
        let by_level = app.get("/classification?level=2").await;
        assert_contains(&by_level.body, "1–2 of 2 columns");
        let other = app.get(&format!("/classification?dataset={}", ids.other_dataset)).await;
        assert_contains(&other.body, "1–2 of 2 columns");

        // Lowering in bulk needs a reason; nothing changes without one.
        app.post_form(
            "/classification/bulk",
            &[("action", "set_level"), ("value", &ids.restricted.to_string()), ("column", &ids.email.to_string())],
        )
        .await;
        let refused = app
            .post_form(
                "/classification/bulk",
                &[
                    ("action", "set_level"),
                    ("value", &ids.internal.to_string()),
                    ("column", &ids.email.to_string()),
                    ("column", &ids.address.to_string()),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}");
        assert_contains(&refused.body, "needs a reason");
        assert_contains(&app.get("/classification?level=3").await.body, "1–1 of 1 columns");
        let none = app
            .post_form(
                "/classification/bulk",
                &[("action", "add_category"), ("value", &ids.email_category.to_string())],
            )
            .await;
        assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
        let bad = app
            .post_form("/classification/bulk", &[("action", "drop_table"), ("column", &ids.email.to_string())])
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let events = audit::count_events(
            &mut app.db.reader().expect("conn"),
            &AuditFilter { action: Some("column.classify".into()), ..Default::default() },
        )
        .expect("count");
        assert_eq!(events, 3, "{ctx}: one event per changed column");
        // Removing the category clears the personal-data mark.
        app.post_form(
            "/classification/bulk",
            &[
                ("action", "remove_category"),
                ("value", &ids.email_category.to_string()),
                ("column", &ids.address.to_string()),
            ],
        )
        .await;
        assert_contains(&app.get("/classification?personal=true").await.body, "1–1 of 1 columns");
    }
}

#[actix_web::test]
async fn the_command_line_classifies_as_a_compliance_officer() {
    use custodian::commands::classify::{ClassifyArgs, run};
    let app = TestApp::new(TestCatalog::sqlite());
    let (_t, ids) = setup(&app).await;
    let steward = app.user(Role::Steward);
    let officer = app.user(Role::Compliance);
    let args = |level: Option<&str>, reason: Option<&str>| ClassifyArgs {
        column: "shop.main.customers.email".into(),
        level: level.map(str::to_owned),
        categories: vec!["contact.email".into()],
        remove_categories: vec![],
        identifier: Some("email".into()),
        reason: reason.map(str::to_owned),
    };
    let refused = run(&app.db, Some(&steward.username), &args(Some("Restricted"), None)).expect_err("a steward");
    assert!(format!("{refused:#}").contains("compliance"), "{refused:#}");
    run(&app.db, Some(&officer.username), &args(Some("Restricted"), None)).expect("classify");
    assert_eq!(last_event(&app).actor, officer.username);
    let lower = run(&app.db, Some(&officer.username), &args(Some("Public"), None)).expect_err("no reason");
    assert!(format!("{lower:#}").contains("--reason"), "{lower:#}");
    run(&app.db, Some(&officer.username), &args(Some("Public"), Some("test data only"))).expect("with a reason");
    assert!(
        run(
            &app.db,
            Some(&officer.username),
            &ClassifyArgs { column: "shop.main.customers".into(), ..args(None, None) }
        )
        .is_err()
    );
    let wrong = run(
        &app.db,
        Some(&officer.username),
        &ClassifyArgs { categories: vec!["contact.fax".into()], ..args(None, None) },
    )
    .expect_err("unknown category");
    assert!(format!("{wrong:#}").contains("contact.fax"));
    let page = app.get(&format!("/datasets/{}", ids.dataset)).await;
    assert_contains(&page.body, "<span class=\"tag\">contact.email</span>");
}

#[actix_web::test]
async fn crawls_suggest_categories_from_column_names_for_review() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let (_t, ids) = setup(&app).await;
        let open =
            repo::open_suggestions_for(&mut app.db.reader().expect("conn"), &[ids.email, ids.notes]).expect("open");
        let email = open.iter().find(|s| s.column_id == ids.email).expect("a suggestion for customers.email");
        assert_eq!(email.category_id, ids.email_category, "{ctx}");
        assert!(email.evidence.contains("column name matches"), "{ctx}: {}", email.evidence);
        assert!(open.iter().all(|s| s.column_id != ids.notes || s.category_id != ids.email_category), "{ctx}");
        // Nothing is applied by itself.
        app.sign_in_as(Role::Compliance);
        assert_contains(&app.get("/classification?personal=true").await.body, "No columns");
        let suggested = app.get("/classification?suggested=true").await;
        assert_contains(&suggested.body, "customers");
        let queue = app.get("/classification/suggestions").await;
        assert_contains(&queue.body, "column name matches");
        // A second crawl proposes nothing new.
        let before = repo::list_open_suggestions(&mut app.db.reader().expect("conn"), 0, 1000).expect("open").1;

        app.sign_in_as(Role::Steward);
        let source = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().expect("source");
        app.post_form(&format!("/sources/{source}/crawl"), &[]).await;
        app.run_queued_crawls();
        let after = repo::list_open_suggestions(&mut app.db.reader().expect("conn"), 0, 1000).expect("open").1;
        assert_eq!(before, after, "{ctx}");
    }
}

#[actix_web::test]
async fn a_value_scan_suggests_categories_from_sampled_values() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let (target, ids) = setup(&app).await;
        target.execute(
            "INSERT INTO newsletter (address) VALUES ('ann@example.org'), ('bo@example.com'), ('cy@example.net'), \
             ('di@example.org'), ('ed@example.com');",
        );
        let source = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().expect("source");
        // Proposing is a steward's right; a viewer may not start a scan.
        app.sign_in_as(Role::Viewer);
        let refused = app.post_form(&format!("/sources/{source}/scan"), &[]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{ctx}");

        app.sign_in_as(Role::Steward);
        let queued = app.post_form(&format!("/sources/{source}/scan"), &[]).await;
        assert_eq!(queued.status, StatusCode::SEE_OTHER, "{ctx}");
        app.run_queued_crawls();
        let open = repo::open_suggestions_for(&mut app.db.reader().expect("conn"), &[ids.address]).expect("open");
        let address = open.iter().find(|s| s.category_id == ids.email_category).expect("an e-mail suggestion");
        assert!(address.evidence.contains("5 of 5"), "{ctx}: {}", address.evidence);
        // The evidence masks the values it saw.
        assert!(!address.evidence.contains("ann@example.org"), "{ctx}: {}", address.evidence);
        let page = app.get(&format!("/sources/{source}")).await;
        assert_contains(&page.body, "scan");
        assert_contains(&page.body, "new suggestion");
        assert_eq!(last_event(&app).action, "scan.finish", "{ctx}");
    }
}

#[actix_web::test]
async fn the_command_line_scans_a_source_as_a_steward() {
    use custodian::commands::actor::Actor;
    use custodian::commands::crawl::scan;
    use custodian::governance::access::Permission;
    let app = TestApp::new(TestCatalog::sqlite());
    let (target, ids) = setup(&app).await;
    target.execute("INSERT INTO customers (email) VALUES ('ann@example.org'), ('bo@example.com'), ('cy@example.net');");
    let viewer = app.user(Role::Viewer);
    assert!(Actor::require(&app.db, Some(&viewer.username), Permission::ProposeClassification).is_err());
    let steward = app.user(Role::Steward);
    let actor = Actor::require(&app.db, Some(&steward.username), Permission::ProposeClassification).expect("steward");
    let outcome = scan(&app.db, "shop", &actor, false).expect("scan");
    assert_eq!(outcome.datasets, 2);
    assert_eq!(outcome.unreadable_datasets, 0);
    let open = repo::open_suggestions_for(&mut app.db.reader().expect("conn"), &[ids.email]).expect("open");
    let email = open.iter().find(|s| s.category_id == ids.email_category).expect("e-mail suggestion");
    // The name matched at crawl; the scan adds what the values show.
    assert!(email.evidence.contains("3 of 3"), "{}", email.evidence);
    assert!(scan(&app.db, "no-such-source", &actor, false).is_err());
}
