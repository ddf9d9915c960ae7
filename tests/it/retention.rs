//! Retention on real targets (GOVERNANCE.md R1–R3): policies inherited from source, schema and
//! category and overridden by the dataset; a purge removes exactly the rows past their period
//! (a preview counts the same and writes nothing), masks where the policy masks, spares what a
//! legal hold covers (a dataset hold, and a subject hold down its foreign keys) and reports it;
//! a killed worker resumes to the same end; the storage-limitation report lists exactly the
//! uncovered personal-data datasets; the pages and exports.

use actix_web::http::StatusCode;
use chrono::TimeDelta;
use custodian::classification::{self, ColumnChange, Vocabulary};
use custodian::db::audit::AuditActor;
use custodian::db::retention as repo;
use custodian::db::{catalog, now};
use custodian::governance::access::Role;
use custodian::governance::retention::PurgeReceipt;
use custodian::jobs::ProgressSink;
use custodian::retention::{self, HoldInput, HoldScope, PolicyInput, ScopeRef};
use diesel::prelude::*;

use crate::support::targets::Target;
use crate::support::{TestApp, assert_contains};

const SCHEMA: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), ip TEXT,
    occurred_at TIMESTAMP NOT NULL);
CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), body TEXT,
    opened_at TIMESTAMP NOT NULL);
CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT, subscribed_at TIMESTAMP NOT NULL);
CREATE TABLE audit_copies (id INTEGER PRIMARY KEY, email TEXT, made_at TIMESTAMP NOT NULL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, author_email TEXT);
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT);
";

fn ago(days: i64) -> String {
    (now() - TimeDelta::days(days)).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Alice (1), Bob (2), Carol (3). Each has two events 200 days old and one 10 days old; two old
/// events belong to no one. Alice's and Bob's tickets are three years old, Carol's one year.
fn data() -> String {
    let (old, young) = (ago(200), ago(10));
    format!(
        "INSERT INTO customers VALUES (1, 'alice@example.com', '{c}'), (2, 'bob@example.com', '{c}'),
             (3, 'carol@example.com', '{c}');
         INSERT INTO events VALUES (1, 1, '10.0.0.1', '{old}'), (2, 1, '10.0.0.1', '{old}'), (3, 1, '10.0.0.1', '{young}'),
             (4, 2, '10.0.0.2', '{old}'), (5, 2, '10.0.0.2', '{old}'), (6, 2, '10.0.0.2', '{young}'),
             (7, 3, '10.0.0.3', '{old}'), (8, 3, '10.0.0.3', '{old}'), (9, 3, '10.0.0.3', '{young}'),
             (10, NULL, '10.0.0.9', '{old}'), (11, NULL, '10.0.0.9', '{old}');
         INSERT INTO tickets VALUES (1, 1, 'refund?', '{t3}'), (2, 2, 'where is it', '{t3}'), (3, 3, 'thanks', '{t1}');
         INSERT INTO newsletter VALUES (1, 'alice@example.com', '{n2}'), (2, 'dave@example.com', '{n2}'),
             (3, 'erin@example.com', '{n0}');
         INSERT INTO audit_copies VALUES (1, 'bob@example.com', '{old}'), (2, 'carol@example.com', '{old}');
         INSERT INTO notes VALUES (1, 'ops@example.com');",
        c = ago(1100),
        t3 = ago(1100),
        t1 = ago(365),
        n2 = ago(730),
        n0 = ago(30),
    )
}

struct Shop {
    target: Target,
    source_id: i64,
}

impl Shop {
    fn ids(&self, table: &str) -> Vec<i64> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        let sql = format!("SELECT CAST(id AS BIGINT) AS id FROM {table} ORDER BY id");
        let rows: Vec<Id> = match &self.target {
            Target::Sqlite { path, .. } => diesel::sql_query(sql)
                .load(&mut SqliteConnection::establish(path.to_str().expect("path")).expect("open"))
                .expect("ids"),
            Target::Postgres(db) => diesel::sql_query(sql).load(&mut db.connect()).expect("ids"),
        };
        rows.into_iter().map(|r| r.id).collect()
    }

    fn newsletter(&self) -> Vec<Option<String>> {
        #[derive(QueryableByName)]
        struct E {
            #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
            email: Option<String>,
        }
        let sql = "SELECT email FROM newsletter ORDER BY id";
        let rows: Vec<E> = match &self.target {
            Target::Sqlite { path, .. } => diesel::sql_query(sql)
                .load(&mut SqliteConnection::establish(path.to_str().expect("path")).expect("open"))
                .expect("emails"),
            Target::Postgres(db) => diesel::sql_query(sql).load(&mut db.connect()).expect("emails"),
        };
        rows.into_iter().map(|r| r.email).collect()
    }

    /// Every table's rows, as the end state a purge leaves.
    fn state(&self) -> (Vec<Vec<i64>>, Vec<Option<String>>) {
        let tables = ["customers", "events", "tickets", "newsletter", "audit_copies", "notes", "products"];
        (tables.iter().map(|t| self.ids(t)).collect(), self.newsletter())
    }
}

fn officer() -> AuditActor {
    AuditActor { actor: "olga.compliance".into(), role: Some("compliance".into()), request_id: None }
}

fn dataset(app: &TestApp, source_id: i64, table: &str) -> i64 {
    let mut conn = app.db.reader().expect("conn");
    let schema = catalog::list_schemas(&mut conn, Some(source_id)).expect("schemas").remove(0);
    catalog::find_dataset_by_name(&mut conn, source_id, &schema, table).expect("query").expect(table).id
}

/// The shop on the same kind of database as the catalog, crawled, its personal data classified:
/// customers.email and newsletter.email as e-mail identifiers, events.ip, audit_copies.email and
/// notes.author_email as personal data.
async fn shop(app: &TestApp) -> Shop {
    crate::classification::taxonomy(app);
    let sql = format!("{SCHEMA}\n{}", data());
    let target = match app.catalog.label() {
        "postgres" => Target::postgres(&sql).expect("PostgreSQL target"),
        _ => Target::sqlite(&sql),
    };
    app.sign_in_as(Role::Steward);
    let created = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(created.status.as_u16(), 303, "{}", created.body);
    app.run_queued_crawls();
    let source_id = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().expect("source");
    let mut conn = app.db.writer().expect("conn");
    let vocabulary = Vocabulary::load(&mut conn).expect("vocabulary");
    let email_id = vocabulary.identifier_by_key("email").expect("email").id;
    let contact = vocabulary.category_by_key("contact.email").expect("contact.email").id;
    let marks: [(&str, &str, ColumnChange); 5] = [
        ("customers", "email", ColumnChange { identifier: Some(Some(email_id)), ..Default::default() }),
        ("newsletter", "email", ColumnChange { identifier: Some(Some(email_id)), ..Default::default() }),
        ("events", "ip", ColumnChange { add_categories: vec![contact], ..Default::default() }),
        ("audit_copies", "email", ColumnChange { add_categories: vec![contact], ..Default::default() }),
        ("notes", "author_email", ColumnChange { add_categories: vec![contact], ..Default::default() }),
    ];
    drop(conn);
    for (table, column, change) in marks {
        let d = dataset(app, source_id, table);
        let mut conn = app.db.writer().expect("conn");
        let c =
            catalog::list_columns(&mut conn, d).expect("columns").into_iter().find(|c| c.name == column).expect(column);
        custodian::db::dialect::write_transaction(&mut conn, |conn| {
            classification::classify(conn, &AuditActor::system(), &[c.id], &change, None, now())
        })
        .expect("classify");
    }
    Shop { target, source_id }
}

fn policy(app: &TestApp, name: &str, period: &str, action: &str, mask: &str) -> i64 {
    let input = PolicyInput {
        name: name.into(),
        period: period.into(),
        action: action.into(),
        mask_columns: mask.into(),
        legal_basis: "Art. 6(1)(b)".into(),
        description: String::new(),
    };
    retention::create_policy(&mut app.db.writer().expect("conn"), &officer(), &input).expect("policy")
}

fn assign(app: &TestApp, policy: i64, scope: ScopeRef) {
    retention::assign(&mut app.db.writer().expect("conn"), &officer(), policy, &scope).expect("assign");
}

fn dated(app: &TestApp, shop: &Shop, table: &str, column: &str) {
    let d = dataset(app, shop.source_id, table);
    retention::set_timestamp(&mut app.db.writer().expect("conn"), &officer(), d, Some(column)).expect("timestamp");
}

struct Quiet;

impl ProgressSink for Quiet {
    fn stage(&mut self, _: &str) {}
    fn advance(&mut self, _: u64, _: u64) {}
}

/// Queues a run and executes it here, as the worker would; returns its view.
fn run(app: &TestApp, dry_run: bool) -> retention::RunView {
    let id = retention::request_run(&mut app.db.writer().expect("conn"), &officer(), dry_run, "manual").expect("queue");
    let settings = app.state.config.erasure;
    let claimed =
        repo::claim_run(&mut app.db.writer().expect("conn"), "test", custodian::erasure::lease(settings), now())
            .expect("claim")
            .expect("a run to claim");
    retention::execute(&app.db, &app.state.keys, settings, app.state.config.retention, &claimed, &mut Quiet)
        .expect("execute");
    retention::run_view(&mut app.db.reader().expect("conn"), id).expect("view")
}

fn step<'a>(view: &'a retention::RunView, table: &str) -> &'a retention::StepView {
    view.steps.iter().find(|s| s.table.ends_with(&format!(".{table}"))).unwrap_or_else(|| panic!("{table} in {view:?}"))
}

/// The purge set-up: events 90 days, tickets 2 years, newsletter masked after a year, audit
/// copies 30 days under a dataset hold, and a subject hold on Alice.
fn policies(app: &TestApp, shop: &Shop) {
    let events = policy(app, "Web analytics", "P90D", "delete", "");
    let tickets = policy(app, "Customer service", "P2Y", "delete", "");
    let newsletter = policy(app, "Newsletter consent", "P1Y", "mask", "email");
    let copies = policy(app, "Copies", "P30D", "delete", "");
    for (p, table, column) in [
        (events, "events", "occurred_at"),
        (tickets, "tickets", "opened_at"),
        (newsletter, "newsletter", "subscribed_at"),
        (copies, "audit_copies", "made_at"),
    ] {
        assign(app, p, ScopeRef::Dataset(dataset(app, shop.source_id, table)));
        dated(app, shop, table, column);
    }
    let mut conn = app.db.writer().expect("conn");
    let hold = |scope| HoldInput { scope, basis: "art17_3_e".into(), reason: "case 114".into(), until: None };
    retention::add_hold(
        &mut conn,
        &app.state.keys,
        &officer(),
        &hold(HoldScope::Subject { identifier_type: "email".into(), value: "Alice@Example.com".into() }),
    )
    .expect("subject hold");
    let copies_id = dataset(app, shop.source_id, "audit_copies");
    retention::add_hold(&mut conn, &app.state.keys, &officer(), &hold(HoldScope::Dataset(copies_id))).expect("hold");
}

#[actix_web::test]
async fn policies_are_inherited_downward_and_overridden_at_each_level() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app).await;
        let mut conn = app.db.reader().expect("conn");
        let schema = catalog::list_schemas(&mut conn, Some(shop.source_id)).expect("schemas").remove(0);
        drop(conn);
        let source = policy(&app, "Source default", "P7Y", "delete", "");
        let schema_policy = policy(&app, "Schema", "P3Y", "delete", "");
        let contact_short = policy(&app, "Contact data", "P1Y", "delete", "");
        let contact_long = policy(&app, "Names", "P5Y", "delete", "");
        let own = policy(&app, "Events", "P90D", "delete", "");
        let in_force = |table: &str| {
            let d = dataset(&app, shop.source_id, table);
            retention::dataset_retention(&mut app.db.reader().expect("conn"), d)
                .expect("retention")
                .in_force
                .map(|f| (f.policy, f.level))
        };
        assert_eq!(in_force("tickets"), None, "{ctx}");
        assign(&app, source, ScopeRef::Source(shop.source_id));
        assert_eq!(in_force("tickets"), Some(("Source default".into(), "source".into())), "{ctx}");
        assign(&app, schema_policy, ScopeRef::Schema(shop.source_id, schema.clone()));
        assert_eq!(in_force("tickets"), Some(("Schema".into(), "schema".into())), "{ctx}");
        let mut conn = app.db.reader().expect("conn");
        let vocabulary = Vocabulary::load(&mut conn).expect("vocabulary");
        let contact = vocabulary.category_by_key("contact.email").expect("category").id;
        let name = vocabulary.category_by_key("identity.name").expect("category").id;
        drop(conn);
        assign(&app, contact_short, ScopeRef::Category(contact));
        assign(&app, contact_long, ScopeRef::Category(name));
        // A category beats the schema; tickets hold no contact data and keep the schema's.
        assert_eq!(in_force("notes"), Some(("Contact data".into(), "category".into())), "{ctx}");
        assert_eq!(in_force("tickets"), Some(("Schema".into(), "schema".into())), "{ctx}");
        // The dataset's own beats its category.
        assign(&app, own, ScopeRef::Dataset(dataset(&app, shop.source_id, "events")));
        assert_eq!(in_force("events"), Some(("Events".into(), "dataset".into())), "{ctx}");
        // Replacing the schema's policy, then detaching it, falls back to the source.
        let assignments = repo::list_assignments(&mut app.db.reader().expect("conn")).expect("list");
        let schema_assignment = assignments.iter().find(|a| a.scope == "schema").expect("schema assignment").id;
        retention::unassign(&mut app.db.writer().expect("conn"), &officer(), schema_assignment).expect("unassign");
        assert_eq!(in_force("tickets"), Some(("Source default".into(), "source".into())), "{ctx}");

        // The dataset page says which policy and where it comes from; so does the API.
        app.sign_in_as(Role::Viewer);
        let events = dataset(&app, shop.source_id, "events");
        let page = app.get(&format!("/datasets/{events}")).await;
        assert_contains(&page.body, "<strong>Events</strong>: kept 90 days");
        assert_contains(&page.body, "from this dataset");
        let notes = dataset(&app, shop.source_id, "notes");
        assert_contains(&app.get(&format!("/datasets/{notes}")).await.body, "from category E-mail address");
        let api = app.get(&format!("/api/v1/datasets/{notes}/retention")).await.json();
        assert_eq!(api["in_force"]["policy"], "Contact data", "{ctx}");
        assert_eq!(api["in_force"]["period"], "P1Y", "{ctx}");
        // Viewers cannot change policies.
        let refused =
            app.post_form("/retention/assignments", &[("policy_id", &own.to_string()), ("scope", "source")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{ctx}");
    }
}

#[actix_web::test]
async fn a_purge_removes_what_is_past_its_period_and_spares_younger_and_held_rows() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app).await;
        policies(&app, &shop);
        let before = shop.state();

        // A preview counts exactly, writes nothing.
        let preview = run(&app, true);
        assert_eq!(preview.status, "done", "{ctx}: {preview:?}");
        assert_eq!(shop.state(), before, "{ctx}: the preview changed rows");
        let counts = |v: &retention::RunView, t: &str| (step(v, t).expected_rows, step(v, t).held_rows);
        // Events: Bob's and Carol's old ones and the two anonymous ones; Alice's two are held.
        assert_eq!(counts(&preview, "events"), (6, 2), "{ctx}");
        assert_eq!(counts(&preview, "tickets"), (1, 1), "{ctx}");
        assert_eq!(counts(&preview, "newsletter"), (1, 1), "{ctx}");
        assert_eq!(step(&preview, "audit_copies").status, "held", "{ctx}");
        assert_eq!(step(&preview, "audit_copies").held_rows, 2, "{ctx}");
        assert!(preview.steps.iter().all(|s| !s.table.ends_with(".notes")), "{ctx}: no policy, no step");

        let purge = run(&app, false);
        assert_eq!(purge.status, "done", "{ctx}: {purge:?}");
        for table in ["events", "tickets", "newsletter"] {
            assert_eq!(step(&purge, table).affected_rows, step(&preview, table).expected_rows, "{ctx}: {table}");
            assert_eq!(step(&purge, table).remaining_rows, Some(0), "{ctx}: {table} verified");
        }
        assert_eq!(step(&purge, "audit_copies").affected_rows, 0, "{ctx}");
        assert_eq!(step(&purge, "audit_copies").hold_basis.as_deref(), Some("art17_3_e"), "{ctx}");
        assert_eq!(shop.ids("events"), vec![1, 2, 3, 6, 9], "{ctx}: Alice's and the young events remain");
        assert_eq!(shop.ids("tickets"), vec![1, 3], "{ctx}: Alice's held ticket and Carol's young one");
        assert_eq!(
            shop.newsletter(),
            vec![Some("alice@example.com".into()), None, Some("erin@example.com".into())],
            "{ctx}: the old address masked, the held and the young ones kept"
        );
        assert_eq!(shop.ids("newsletter"), vec![1, 2, 3], "{ctx}: masking keeps rows");
        assert_eq!(shop.ids("audit_copies"), vec![1, 2], "{ctx}: the held dataset is untouched");
        assert_eq!(shop.ids("customers"), vec![1, 2, 3], "{ctx}");

        // The receipt verifies offline and names no e-mail.
        let text = retention::receipt(&mut app.db.reader().expect("conn"), purge.id).expect("receipt");
        let receipt = PurgeReceipt::verify(&text, &app.state.keys.receipt_public_key()).expect("verifies");
        assert_eq!(receipt.datasets.iter().map(|d| d.rows).sum::<i64>(), 8, "{ctx}");
        assert!(!text.contains("@example.com"), "{ctx}: the receipt names a subject");
        assert!(receipt.audit_to > receipt.audit_from, "{ctx}");

        // A second purge finds nothing; a released hold lets the next purge take Alice's rows.
        let again = run(&app, false);
        assert_eq!(again.rows_changed, 0, "{ctx}");
        let holds = retention::holds(&mut app.db.reader().expect("conn")).expect("holds");
        let subject_hold = holds.iter().find(|h| h.scope == "subject").expect("subject hold");
        assert!(!subject_hold.target.contains("alice"), "{ctx}: the hold shows its subject");
        retention::release_hold(&mut app.db.writer().expect("conn"), &officer(), subject_hold.id, "settled")
            .expect("release");
        let after = run(&app, false);
        assert_eq!(step(&after, "events").affected_rows, 2, "{ctx}");
        assert_eq!(shop.ids("events"), vec![3, 6, 9], "{ctx}");
        assert_eq!(shop.ids("tickets"), vec![3], "{ctx}");
    }
}

// ---------------------------------------------------------------------------------------------
// The real worker, killed: resuming, and what changes between planning and purging.

fn worker(app: &TestApp, pause_at: Option<usize>) -> std::process::Child {
    crate::erasure::worker_with(app, pause_at, &[("CUSTODIAN_RETENTION_BATCH", "2")])
}

fn completions(app: &TestApp) -> usize {
    use custodian::db::audit::{AuditFilter, Cursor, list_events};
    let mut conn = app.db.reader().expect("conn");
    let events = list_events(&mut conn, &AuditFilter::default(), Cursor::Newest, 10_000).expect("events");
    events.events.iter().filter(|e| e.action == "retention.run_complete").count()
}

fn latest_run(app: &TestApp) -> retention::RunView {
    let mut conn = app.db.reader().expect("conn");
    let id = repo::list_runs(&mut conn, 1).expect("runs")[0].id;
    retention::run_view(&mut conn, id).expect("view")
}

#[actix_web::test]
async fn a_purge_killed_anywhere_resumes_to_the_same_end() {
    let expected = (
        vec![vec![1, 2, 3], vec![1, 2, 3, 6, 9], vec![1, 3], vec![1, 2, 3], vec![1, 2], vec![1], vec![]],
        vec![Some("alice@example.com".to_owned()), None, Some("erin@example.com".to_owned())],
    );
    let mut points = std::collections::BTreeSet::new();
    for n in 1..=40 {
        let app = TestApp::new(crate::support::TestCatalog::sqlite());
        let shop = shop(&app).await;
        policies(&app, &shop);
        retention::request_run(&mut app.db.writer().unwrap(), &officer(), false, "manual").unwrap();
        let mut log = String::new();
        let mut child = worker(&app, Some(n));
        if !crate::erasure::wait_for_pause(&mut child, &mut log) {
            // Past the last pause point: the uninterrupted run.
            crate::erasure::finish(child, &mut log);
            assert_eq!(shop.state(), expected, "uninterrupted: {log}");
            assert!(n > 15, "only {n} pause points: {points:?}");
            break;
        }
        points.insert(log.lines().find(|l| l.contains("paused at")).unwrap_or_default().to_owned());
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        std::thread::sleep(std::time::Duration::from_millis(1200));
        let restarted = worker(&app, None);
        crate::erasure::finish(restarted, &mut log);
        assert_eq!(shop.state(), expected, "killed at {n}: {log}");
        assert_eq!(latest_run(&app).status, "done", "killed at {n}: {log}");
        assert_eq!(completions(&app), 1, "killed at {n}: exactly one completion");
    }
    assert!(points.len() > 15, "distinct pause points: {points:?}");
}

#[actix_web::test]
async fn holds_placed_and_rows_added_after_planning_are_checked_before_each_batch() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app).await;
        let events = policy(&app, "Web analytics", "P90D", "delete", "");
        let events_id = dataset(&app, shop.source_id, "events");
        assign(&app, events, ScopeRef::Dataset(events_id));
        dated(&app, &shop, "events", "occurred_at");
        let more = |from: i64| {
            (0..30)
                .map(|i| format!("INSERT INTO events VALUES ({}, NULL, '10.9.9.9', '{}');", from + i, ago(300)))
                .collect::<Vec<_>>()
                .join("\n")
        };

        // The blast-radius guard: the plan counted 6 rows; 30 more old rows appear before the
        // purge deletes; the batch is rolled back and the run blocked.
        retention::request_run(&mut app.db.writer().unwrap(), &officer(), false, "manual").unwrap();
        let mut log = String::new();
        let mut child = worker(&app, Some(1));
        assert!(crate::erasure::wait_for_pause(&mut child, &mut log), "{ctx}: {log}");
        assert_contains(&log, "purge planned");
        shop.target.execute(&more(100));
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        std::thread::sleep(std::time::Duration::from_millis(1200));
        crate::erasure::finish(crate::erasure::worker_with(&app, None, &[]), &mut log);
        let blocked = latest_run(&app);
        assert_eq!(blocked.status, "blocked", "{ctx}: {blocked:?}");
        assert_contains(blocked.error.as_deref().unwrap_or(""), "blast-radius guard");
        assert_eq!(shop.ids("events").len(), 11 + 30, "{ctx}: the guard's batch was rolled back");

        // A hold placed after planning is re-checked inside the transaction: nothing is purged
        // and the rows are reported as held.
        retention::request_run(&mut app.db.writer().unwrap(), &officer(), false, "manual").unwrap();
        let mut child = worker(&app, Some(1));
        assert!(crate::erasure::wait_for_pause(&mut child, &mut log), "{ctx}: {log}");
        let hold = HoldInput {
            scope: HoldScope::Dataset(events_id),
            basis: "art17_3_b".into(),
            reason: "tax audit".into(),
            until: None,
        };
        retention::add_hold(&mut app.db.writer().unwrap(), &app.state.keys, &officer(), &hold).unwrap();
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        std::thread::sleep(std::time::Duration::from_millis(1200));
        crate::erasure::finish(crate::erasure::worker_with(&app, None, &[]), &mut log);
        let held = latest_run(&app);
        assert_eq!(held.status, "done", "{ctx}: {held:?}");
        assert_eq!(step(&held, "events").status, "held", "{ctx}");
        assert_eq!(step(&held, "events").held_rows, 38, "{ctx}: the 8 old rows and the 30 added");
        assert_eq!(shop.ids("events").len(), 41, "{ctx}: held rows were purged");
    }
}

#[actix_web::test]
async fn the_storage_limitation_report_lists_exactly_the_uncovered_personal_data() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app).await;
        policies(&app, &shop);
        let problems = |app: &TestApp| {
            let mut lines: Vec<(String, String)> = retention::storage_limitation(&mut app.db.reader().unwrap())
                .unwrap()
                .into_iter()
                .map(|l| (l.dataset.rsplit('.').next().unwrap_or_default().to_owned(), l.problem))
                .collect();
            lines.sort();
            lines
        };
        let pair = |t: &str, p: &str| (t.to_owned(), p.to_owned());
        // Personal data: customers, events, newsletter, audit_copies, notes; products and
        // tickets hold none. Only customers and notes have no policy.
        assert_eq!(problems(&app), vec![pair("customers", "no_policy"), pair("notes", "no_policy")], "{ctx}");
        // A preview finds rows waiting; a policy without a dated column cannot be enforced.
        let preview = run(&app, true);
        assert_eq!(preview.status, "done");
        let notes_policy = policy(&app, "Notes", "P1Y", "delete", "");
        assign(&app, notes_policy, ScopeRef::Dataset(dataset(&app, shop.source_id, "notes")));
        assert_eq!(
            problems(&app),
            vec![
                pair("customers", "no_policy"),
                pair("events", "past_due"),
                pair("newsletter", "past_due"),
                pair("notes", "no_timestamp"),
            ],
            "{ctx}"
        );
        // After the purge nothing waits: what holds keep is exempt, not waiting.
        run(&app, false);
        assert_eq!(problems(&app), vec![pair("customers", "no_policy"), pair("notes", "no_timestamp")], "{ctx}");

        // The page shows the same; the records of processing come as CSV and JSON.
        app.sign_in_as(Role::Viewer);
        let page = app.get("/reports/storage-limitation").await;
        assert_eq!(page.status, StatusCode::OK);
        assert_contains(&page.body, "shop.");
        assert_contains(&page.body, "no policy");
        let csv = app.get("/reports/records-of-processing?format=csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_contains(&csv.body, "processing,kind,source,purpose,categories");
        assert_contains(&csv.body, "Storage in shop,storage,shop");
        assert_contains(&csv.body, "P90D");
        let json = app.get("/api/v1/retention/records-of-processing").await.json();
        let storage = json["records"].as_array().unwrap().iter().find(|r| r["kind"] == "storage").cloned().unwrap();
        assert_eq!(storage["categories"][0], "E-mail address", "{ctx}");
        assert!(storage["time_limits"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().contains("P90D")));
        let bad = app.get("/reports/records-of-processing?format=xml").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    }
}

#[actix_web::test]
async fn compliance_manages_policies_and_holds_from_the_pages() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app).await;
        app.sign_in_as(Role::Compliance);
        let page = app.get("/retention").await;
        assert_eq!(page.status, StatusCode::OK, "{ctx}");
        assert_contains(&page.body, "No retention policies yet");
        // A bad period is refused with the reason, and the form keeps what was typed.
        let bad = app
            .post_form(
                "/retention/policies",
                &[("name", "Events"), ("period", "90 days"), ("action", "delete"), ("legal_basis", "x")],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}");
        assert_contains(&bad.body, "is not an ISO 8601 period");
        assert_contains(&bad.body, "value=\"Events\"");
        let made = app
            .post_form(
                "/retention/policies",
                &[("name", "Events"), ("period", "p90d"), ("action", "delete"), ("legal_basis", "Art. 6(1)(f)")],
            )
            .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{ctx}: {}", made.body);
        let p = repo::find_policy_by_name(&mut app.db.reader().unwrap(), "Events").unwrap().unwrap();
        assert_eq!(p.period, "P90D");
        let events = dataset(&app, shop.source_id, "events");
        let assigned = app
            .post_form(
                "/retention/assignments",
                &[
                    ("policy_id", &p.id.to_string()),
                    ("scope", "dataset"),
                    ("dataset_id", &events.to_string()),
                    ("back", "dataset"),
                ],
            )
            .await;
        assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{ctx}");
        let dated =
            app.post_form(&format!("/datasets/{events}/retention-timestamp"), &[("column", "occurred_at")]).await;
        assert_eq!(dated.status, StatusCode::SEE_OTHER, "{ctx}");
        let not_a_date = app.post_form(&format!("/datasets/{events}/retention-timestamp"), &[("column", "ip")]).await;
        assert_eq!(not_a_date.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}");
        let page = app.get(&format!("/datasets/{events}")).await;
        assert_contains(&page.body, "<code>occurred_at</code>");
        // Preview, then purge, from the pages; the worker runs the queue.
        let queued = app.post_form("/retention/preview", &[]).await;
        assert_eq!(queued.status, StatusCode::SEE_OTHER, "{ctx}");
        let location = queued.headers.get("location").unwrap().to_str().unwrap().to_owned();
        assert_contains(&app.get(&location).await.body, "http-equiv=\"refresh\"");
        let cx = custodian::jobs::WorkerContext::new(app.state.keys.clone(), &app.state.config);
        assert!(custodian::jobs::drain(&app.db, &app.state.progress, &cx) >= 1);
        let preview = app.get(&location).await;
        assert_contains(&preview.body, "Would change");
        assert_contains(&preview.body, "Run the purge");
        let purge = app.post_form("/retention/run", &[]).await;
        assert_eq!(purge.status, StatusCode::SEE_OTHER, "{ctx}");
        assert_eq!(
            app.post_form("/retention/run", &[]).await.status,
            StatusCode::CONFLICT,
            "{ctx}: one purge at a time"
        );
        custodian::jobs::drain(&app.db, &app.state.progress, &cx);
        let location = purge.headers.get("location").unwrap().to_str().unwrap().to_owned();
        let done = app.get(&location).await;
        assert_contains(&done.body, "Download receipt");
        assert_contains(&done.body, "verified: none left");
        let receipt = app.get(&format!("{location}/receipt")).await;
        assert_eq!(receipt.status, StatusCode::OK);
        PurgeReceipt::verify(&receipt.body, &app.state.keys.receipt_public_key()).expect("the receipt verifies");
        assert_eq!(shop.ids("events"), vec![3, 6, 9], "{ctx}");

        // Holds: placed and released from the pages, with reasons; a subject is never shown.
        let hold = app
            .post_form(
                "/holds",
                &[
                    ("scope", "subject"),
                    ("identifier_type", "email"),
                    ("value", "carol@example.com"),
                    ("basis", "art17_3_e"),
                    ("reason", "claim"),
                ],
            )
            .await;
        assert_eq!(hold.status, StatusCode::SEE_OTHER, "{ctx}: {}", hold.body);
        let holds = app.get("/holds").await;
        assert_contains(&holds.body, "a data subject (email");
        assert!(!holds.body.contains("carol@example.com"), "{ctx}: the held subject is shown");
        let no_reason = app
            .post_form(
                "/holds",
                &[
                    ("scope", "source"),
                    ("source_id", &shop.source_id.to_string()),
                    ("basis", "art17_3_e"),
                    ("reason", " "),
                ],
            )
            .await;
        assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}");
        // A column hold from the dataset page.
        let ip = catalog::list_columns(&mut app.db.reader().unwrap(), events)
            .unwrap()
            .into_iter()
            .find(|c| c.name == "ip")
            .unwrap()
            .id;
        let column_hold = app
            .post_form(
                "/holds",
                &[
                    ("scope", "column"),
                    ("column_id", &ip.to_string()),
                    ("dataset_id", &events.to_string()),
                    ("back", "dataset"),
                    ("basis", "art17_3_b"),
                    ("reason", "tax audit"),
                ],
            )
            .await;
        assert_eq!(column_hold.status, StatusCode::SEE_OTHER, "{ctx}: {}", column_hold.body);
        assert_eq!(column_hold.headers.get("location").unwrap(), &format!("/datasets/{events}#retention"));
        assert_contains(&app.get("/holds").await.body, ".events.ip");
        let id =
            retention::holds(&mut app.db.reader().unwrap()).unwrap().iter().find(|h| h.scope == "subject").unwrap().id;
        let released = app.post_form(&format!("/holds/{id}/release"), &[("reason", "settled")]).await;
        assert_eq!(released.status, StatusCode::SEE_OTHER, "{ctx}");
        assert_contains(&app.get("/holds").await.body, "released by");

        // Roles: a steward may date rows but not run purges, nor read the holds.
        app.sign_in_as(Role::Steward);
        assert_eq!(app.get("/holds").await.status, StatusCode::FORBIDDEN, "{ctx}");
        assert_eq!(app.post_form("/retention/run", &[]).await.status, StatusCode::FORBIDDEN, "{ctx}");
        assert_eq!(
            app.post_form(&format!("/datasets/{events}/retention-timestamp"), &[("column", "")]).await.status,
            StatusCode::SEE_OTHER,
            "{ctx}"
        );
    }
}

#[actix_web::test]
async fn the_worker_runs_a_scheduled_purge_once_per_interval_and_audits_every_step() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let shop = shop(&app).await;
    policies(&app, &shop);
    let off = custodian::config::RetentionSettings { batch: 100, interval_secs: 0 };
    let hourly = custodian::config::RetentionSettings { batch: 100, interval_secs: 3600 };
    let mut conn = app.db.writer().unwrap();
    assert_eq!(retention::schedule_due(&mut conn, off).unwrap(), None, "no schedule when the interval is 0");
    drop(conn);
    let mut cx = custodian::jobs::WorkerContext::new(app.state.keys.clone(), &app.state.config);
    cx.retention = hourly;
    assert!(custodian::jobs::drain(&app.db, &app.state.progress, &cx) >= 1);
    let run = latest_run(&app);
    assert_eq!((run.trigger.as_str(), run.status.as_str()), ("schedule", "done"), "{run:?}");
    assert_eq!(run.requested_by, "system");
    assert_eq!(shop.ids("events"), vec![1, 2, 3, 6, 9]);
    // Within the hour nothing more is queued.
    assert_eq!(custodian::jobs::drain(&app.db, &app.state.progress, &cx), 0);
    assert_eq!(repo::list_runs(&mut app.db.reader().unwrap(), 10).unwrap().len(), 1);

    use custodian::db::audit::{AuditFilter, Cursor, list_events};
    let events = list_events(&mut app.db.reader().unwrap(), &AuditFilter::default(), Cursor::Newest, 1000).unwrap();
    let actions: Vec<&str> = events.events.iter().map(|e| e.action.as_str()).collect();
    for wanted in [
        "retention.run_request",
        "retention.run_start",
        "retention.step_done",
        "retention.step_held",
        "retention.run_complete",
    ] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| **a == "retention.step_done").count(), 3, "{actions:?}");
    let text = format!("{:?}", events.events);
    assert!(!text.contains("alice@example.com"), "an audit event names the held subject");
}

#[actix_web::test]
async fn a_subject_hold_without_a_sealed_identifier_stops_purges_instead_of_being_ignored() {
    let app = TestApp::new(crate::support::TestCatalog::sqlite());
    let shop = shop(&app).await;
    policies(&app, &shop);
    // A hold as holds were stored before they kept a sealed identifier.
    let mut conn = app.db.writer().unwrap();
    custodian::db::erasure::insert_hold(
        &mut conn,
        &custodian::db::erasure::NewHold {
            scope: "subject".into(),
            scope_id: None,
            identifier_type: Some("email".into()),
            subject_hmac: Some("an-old-hmac".into()),
            basis: "art17_3_e".into(),
            reason: "old".into(),
            ends_on: None,
            created_by: "olga.compliance".into(),
            created_at: now(),
        },
    )
    .unwrap();
    drop(conn);
    let before = shop.state();
    let blocked = run(&app, false);
    assert_eq!(blocked.status, "blocked", "{blocked:?}");
    assert_contains(blocked.error.as_deref().unwrap_or(""), "place it again");
    assert_eq!(shop.state(), before, "nothing was purged");
}
