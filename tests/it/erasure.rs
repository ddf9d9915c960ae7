//! GDPR erasure on real targets (GOVERNANCE.md E1–E20): a shop whose customer is erased through
//! an FK chain four levels deep with a self-reference, a copy of the e-mail under another name
//! and a table derived only through lineage; other subjects' rows never change (checksummed);
//! drift aborts with no writes; a hold keeps its rows; the blast-radius guard trips; a second
//! request for the same subject changes nothing; the receipt verifies and names no e-mail.

use custodian::classification::{self, ColumnChange};
use custodian::db::audit::{self as audit_repo, AuditActor, AuditFilter, Cursor};
use custodian::db::classification as class_repo;
use custodian::db::erasure as repo;
use custodian::db::now;
use custodian::erasure::{self, Submission};
use custodian::governance::erasure::receipt::Receipt;
use custodian::ingest::{self, IngestTarget, SqlInput};
use custodian::jobs::ProgressSink;
use diesel::prelude::*;

use crate::classification::taxonomy;
use crate::support::TestApp;
use crate::support::targets::Target;

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id), total INTEGER);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders (id),
    bundle_of INTEGER REFERENCES order_items (id), sku TEXT);
CREATE TABLE shipments (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES order_items (id), address TEXT);
CREATE TABLE returns (id INTEGER PRIMARY KEY, shipment_id INTEGER NOT NULL REFERENCES shipments (id), note TEXT);
CREATE TABLE newsletter (contact_email TEXT, opted_in INTEGER);
CREATE TABLE customer_summary (customer_ref INTEGER, orders INTEGER);
CREATE TABLE email_hashes (h TEXT);
";

/// Pipelines: a copy of the e-mail under another name, and a key renamed in a derived table.
const PIPELINES: &str = "
INSERT INTO newsletter (contact_email, opted_in) SELECT email, 1 FROM customers;
INSERT INTO customer_summary (customer_ref, orders) SELECT o.customer_id AS customer_ref, o.total FROM orders o;
";

/// Three subjects; `email` is the one erased. The others' e-mails carry quotes, semicolons and
/// Unicode, and one differs from the subject's only in case-folding-adjacent ways.
fn data(subject_email: &str) -> String {
    let q = |s: &str| s.replace('\'', "''");
    format!(
        "INSERT INTO customers VALUES (1, '{}', 'Alice'), (2, '{}', 'Bob'), (3, '{}', 'Zoë');
         INSERT INTO orders VALUES (10, 1, 100), (11, 1, 200), (20, 2, 300), (30, 3, 50);
         INSERT INTO order_items VALUES (100, 10, NULL, 'a'), (101, 10, 100, 'b'), (110, 11, NULL, 'c'),
             (200, 20, NULL, 'd'), (201, 20, 200, 'e'), (300, 30, NULL, 'f');
         INSERT INTO shipments VALUES (1000, 100, 'Alice St 1'), (1001, 110, 'Alice St 1'), (2000, 200, 'Bob Rd');
         INSERT INTO returns VALUES (5000, 1000, 'broken'), (6000, 2000, 'late');
         INSERT INTO newsletter VALUES ('{}', 1), ('{}', 1), ('{}', 0);
         INSERT INTO customer_summary VALUES (1, 2), (2, 1), (3, 1);",
        q(subject_email),
        q("bob.o'neil;drop@example.com"),
        q("zoë@exämple.de"),
        q(&subject_email.to_lowercase()),
        q("bob.o'neil;drop@example.com"),
        q("zoë@exämple.de"),
    )
}

pub(crate) struct Shop {
    pub(crate) target: Target,
    pub(crate) source_id: i64,
}

impl Shop {
    /// Every row of the shop that does not belong to subject 1, as text, for checksums.
    pub(crate) fn others(&self) -> Vec<String> {
        let queries = [
            "SELECT CAST(id AS TEXT) || '|' || email || '|' || COALESCE(name, '') AS v FROM customers WHERE id <> 1 ORDER BY id",
            "SELECT CAST(id AS TEXT) || '|' || CAST(customer_id AS TEXT) || '|' || CAST(total AS TEXT) AS v FROM orders WHERE customer_id <> 1 ORDER BY id",
            "SELECT CAST(id AS TEXT) || '|' || CAST(order_id AS TEXT) || '|' || COALESCE(CAST(bundle_of AS TEXT), '') || sku AS v FROM order_items WHERE order_id NOT IN (10, 11) ORDER BY id",
            "SELECT CAST(id AS TEXT) || '|' || address AS v FROM shipments WHERE item_id NOT IN (100, 101, 110) ORDER BY id",
            "SELECT CAST(id AS TEXT) || '|' || note AS v FROM returns WHERE shipment_id NOT IN (1000, 1001) ORDER BY id",
            "SELECT contact_email || '|' || CAST(opted_in AS TEXT) AS v FROM newsletter WHERE contact_email NOT LIKE 'alice%' ORDER BY 1",
            "SELECT CAST(customer_ref AS TEXT) || '|' || CAST(orders AS TEXT) AS v FROM customer_summary WHERE customer_ref <> 1 ORDER BY 1",
        ];
        queries.iter().flat_map(|q| self.strings(q)).collect()
    }

    /// How many rows of subject 1 each table still holds.
    pub(crate) fn subject_rows(&self) -> Vec<i64> {
        [
            "SELECT count(*) AS n FROM customers WHERE id = 1",
            "SELECT count(*) AS n FROM orders WHERE customer_id = 1",
            "SELECT count(*) AS n FROM order_items WHERE order_id IN (10, 11)",
            "SELECT count(*) AS n FROM shipments WHERE item_id IN (100, 101, 110)",
            "SELECT count(*) AS n FROM returns WHERE shipment_id IN (1000, 1001)",
            "SELECT count(*) AS n FROM newsletter WHERE lower(contact_email) LIKE 'alice%'",
            "SELECT count(*) AS n FROM customer_summary WHERE customer_ref = 1",
        ]
        .iter()
        .map(|q| self.count(q))
        .collect()
    }

    fn strings(&self, sql: &str) -> Vec<String> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = diesel::sql_types::Text)]
            v: String,
        }
        let rows: Vec<V> = match &self.target {
            Target::Sqlite { path, .. } => diesel::sql_query(sql)
                .load(&mut SqliteConnection::establish(path.to_str().expect("path")).expect("open"))
                .expect(sql),
            Target::Postgres(db) => diesel::sql_query(sql).load(&mut db.connect()).expect(sql),
        };
        rows.into_iter().map(|r| r.v).collect()
    }

    pub(crate) fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<N> = match &self.target {
            Target::Sqlite { path, .. } => diesel::sql_query(sql)
                .load(&mut SqliteConnection::establish(path.to_str().expect("path")).expect("open"))
                .expect(sql),
            Target::Postgres(db) => diesel::sql_query(sql).load(&mut db.connect()).expect(sql),
        };
        rows[0].n
    }
}

/// The shop on the same kind of database as the catalog, crawled, with its pipelines ingested
/// and its identifiers marked (customers.email as e-mail, customers.id and orders.customer_id as
/// customer id).
pub(crate) async fn shop(app: &TestApp, subject_email: &str) -> Shop {
    taxonomy(app);
    let sql = format!("{SHOP}\n{}", data(subject_email));
    let target = match app.catalog.label() {
        "postgres" => Target::postgres(&sql).expect("PostgreSQL target"),
        _ => Target::sqlite(&sql),
    };
    app.sign_in_as(custodian::governance::access::Role::Steward);
    let created = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(created.status.as_u16(), 303, "{}", created.body);
    app.run_queued_crawls();
    let source_id = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().expect("source");
    let mut conn = app.db.writer().expect("conn");
    let source = custodian::db::catalog::find_source(&mut conn, source_id).expect("query").expect("source");
    let ingest_target = IngestTarget::new(source, None, None).expect("target");
    let input =
        SqlInput { name: "marketing.sql".into(), path: "pipelines/marketing.sql".into(), sql: PIPELINES.into() };
    ingest::ingest(&mut conn, &AuditActor::system(), &ingest_target, &input, false, None).expect("ingest");
    let identifiers = class_repo::list_identifier_types(&mut conn).expect("identifiers");
    let id_of = |key: &str| identifiers.iter().find(|i| i.key == key).expect(key).id;
    for (table, column, kind) in
        [("customers", "email", "email"), ("customers", "id", "customer_id"), ("orders", "customer_id", "customer_id")]
    {
        let column_id = column_id(&mut conn, source_id, table, column);
        let change = ColumnChange { identifier: Some(Some(id_of(kind))), ..Default::default() };
        custodian::db::dialect::write_transaction(&mut conn, |conn| {
            classification::classify(conn, &AuditActor::system(), &[column_id], &change, None, now())
        })
        .expect("classify");
    }
    Shop { target, source_id }
}

fn column_id(conn: &mut custodian::db::AnyConnection, source_id: i64, table: &str, column: &str) -> i64 {
    use custodian::db::schema::{dataset_columns, datasets};
    dataset_columns::table
        .inner_join(datasets::table)
        .filter(datasets::source_id.eq(source_id))
        .filter(datasets::name.eq(table))
        .filter(dataset_columns::name.eq(column))
        .select(dataset_columns::id)
        .first(conn)
        .expect("column")
}

fn dataset_id(app: &TestApp, source_id: i64, table: &str) -> i64 {
    use custodian::db::schema::datasets;
    datasets::table
        .filter(datasets::source_id.eq(source_id))
        .filter(datasets::name.eq(table))
        .select(datasets::id)
        .first(&mut *app.db.reader().expect("conn"))
        .expect("dataset")
}

fn privacy() -> AuditActor {
    AuditActor { actor: "pat.privacy".into(), role: Some("privacy_desk".into()), request_id: None }
}

fn officer() -> AuditActor {
    AuditActor { actor: "olga.compliance".into(), role: Some("compliance".into()), request_id: None }
}

fn submit(app: &TestApp, value: &str, key: Option<&str>) -> (i64, bool) {
    let submission = Submission {
        identifier_type: "email".into(),
        value: value.into(),
        idempotency_key: key.map(str::to_owned),
        ..Default::default()
    };
    let (request, new) =
        erasure::submit(&mut app.db.writer().expect("conn"), &app.state.keys, &privacy(), &submission, now())
            .expect("submit");
    (request.id, new)
}

struct Quiet;

impl ProgressSink for Quiet {
    fn stage(&mut self, _: &str) {}
    fn advance(&mut self, _: u64, _: u64) {}
}

/// Queues a run and executes it here, as the worker would.
fn run(app: &TestApp, id: i64) {
    erasure::request_run(&mut app.db.writer().expect("conn"), &privacy(), id, now()).expect("queue run");
    let settings = app.state.config.erasure;
    let claimed = repo::claim_run(&mut app.db.writer().expect("conn"), "test", erasure::lease(settings), now())
        .expect("claim")
        .expect("a run to claim");
    erasure::execute(&app.db, &app.state.keys, settings, &claimed, &mut Quiet).expect("execute");
}

fn plan_and_approve(app: &TestApp, id: i64) -> erasure::PlanReport {
    let report = erasure::plan(&app.db, &app.state.keys, app.state.config.erasure, &privacy(), id).expect("plan");
    assert!(report.is_executable(), "{:?}", report.refusals());
    erasure::approve(&mut app.db.writer().expect("conn"), &officer(), id, now()).expect("approve");
    report
}

pub(crate) fn status(app: &TestApp, id: i64) -> String {
    repo::find_request(&mut app.db.reader().expect("conn"), id).expect("query").expect("request").status
}

fn all_events(app: &TestApp) -> String {
    let mut conn = app.db.reader().expect("conn");
    let events = audit_repo::list_events(&mut conn, &AuditFilter::default(), Cursor::Newest, 10_000).expect("events");
    serde_json::to_string(&events.events.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>()).expect("json")
}

#[actix_web::test]
async fn a_subject_is_erased_everywhere_and_no_one_else_changes() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let subject = "Alice@Example.com";
        let shop = shop(&app, subject).await;
        let before = shop.others();
        assert_eq!(shop.subject_rows(), vec![1, 2, 3, 2, 1, 1, 1], "{ctx}");

        // The same idempotency key gives the same request; the e-mail is normalised (E4, E8).
        let (id, new) = submit(&app, "  ALICE@example.COM ", Some("req-1"));
        assert!(new);
        assert_eq!(submit(&app, "alice@example.com", Some("req-1")), (id, false), "{ctx}");

        let report = plan_and_approve(&app, id);
        let planned: Vec<(String, i64)> = report.steps.iter().map(|(s, n)| (s.table.clone(), *n)).collect();
        // Children before parents; the copies reached through lineage; exact dry-run counts.
        let position = |t: &str| {
            planned.iter().position(|(name, _)| name == t).unwrap_or_else(|| panic!("{ctx}: {t} in {planned:?}"))
        };
        assert!(position("returns") < position("shipments"), "{ctx}: {planned:?}");
        assert!(position("shipments") < position("order_items"), "{ctx}");
        assert!(position("order_items") < position("orders"), "{ctx}");
        assert!(position("orders") < position("customers"), "{ctx}");
        let count = |t: &str| planned[position(t)].1;
        assert_eq!(
            [
                count("customers"),
                count("orders"),
                count("order_items"),
                count("shipments"),
                count("returns"),
                count("newsletter"),
                count("customer_summary")
            ],
            [1, 2, 3, 2, 1, 1, 1],
            "{ctx}: {planned:?}"
        );
        // A dry run writes nothing.
        assert_eq!(shop.subject_rows(), vec![1, 2, 3, 2, 1, 1, 1], "{ctx}");

        run(&app, id);
        assert_eq!(
            status(&app, id),
            "completed",
            "{ctx}: {:?}",
            erasure::details(&mut app.db.reader().unwrap(), id, now().date()).map(|d| d.steps)
        );
        assert_eq!(shop.subject_rows(), vec![0; 7], "{ctx}");
        assert_eq!(shop.others(), before, "{ctx}: another subject's rows changed");

        // Verification stored per target; the receipt verifies offline and names no e-mail.
        let details = erasure::details(&mut app.db.reader().unwrap(), id, now().date()).expect("details");
        assert!(details.steps.iter().all(|s| s.status == "done" && s.remaining_rows == Some(0)), "{ctx}");
        assert_eq!(details.steps.iter().map(|s| s.affected_rows).sum::<i64>(), 11, "{ctx}");
        let receipt = repo::receipt_of(&mut app.db.reader().unwrap(), id).expect("query").expect("receipt");
        let verified = Receipt::verify(&receipt.body, &app.state.keys.receipt_public_key()).expect("valid receipt");
        assert_eq!(verified.outcome, "completed");
        assert_eq!(verified.targets.iter().map(|t| t.rows).sum::<i64>(), 11);
        assert!(!receipt.body.to_lowercase().contains("alice@example.com"), "{ctx}");
        // The working copy is gone; the e-mail appears in no audit event.
        let request = repo::find_request(&mut app.db.reader().unwrap(), id).unwrap().unwrap();
        assert!(request.sealed_subject.is_none(), "{ctx}");
        let events = all_events(&app).to_lowercase();
        assert!(!events.contains("alice@example.com"), "{ctx}");
        let completions = events.matches("erasure.complete").count();
        assert_eq!(completions, 1, "{ctx}");

        // Running it again is a verification-only run; a new request for the subject finds nothing.
        run(&app, id);
        assert!(all_events(&app).contains("erasure.verify_only"), "{ctx}");
        let (again, _) = submit(&app, subject, None);
        let report = plan_and_approve(&app, again);
        assert!(report.steps.iter().all(|(_, n)| *n == 0), "{ctx}");
        run(&app, again);
        let details = erasure::details(&mut app.db.reader().unwrap(), again, now().date()).expect("details");
        assert_eq!(details.steps.iter().map(|s| s.affected_rows).sum::<i64>(), 0, "{ctx}");
        assert_eq!(shop.others(), before, "{ctx}");
        let _ = shop.source_id;
    }
}

#[actix_web::test]
async fn drift_between_plan_and_run_aborts_with_no_writes() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        let (id, _) = submit(&app, "alice@example.com", None);
        plan_and_approve(&app, id);
        shop.target.execute("ALTER TABLE newsletter RENAME COLUMN contact_email TO email_address;");
        run(&app, id);
        assert_eq!(status(&app, id), "blocked", "{ctx}");
        let reason =
            repo::find_request(&mut app.db.reader().unwrap(), id).unwrap().unwrap().status_reason.unwrap_or_default();
        assert!(reason.contains("schema drift"), "{ctx}: {reason}");
        assert_eq!(shop.count("SELECT count(*) AS n FROM customers WHERE id = 1"), 1, "{ctx}");
        assert_eq!(shop.count("SELECT count(*) AS n FROM returns"), 2, "{ctx}: nothing written anywhere");
    }
}

#[actix_web::test]
async fn a_hold_keeps_its_rows_and_the_blast_radius_guard_trips() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        // A hold on the newsletter list: its rows stay, the request completes with an exception.
        let newsletter = dataset_id(&app, shop.source_id, "newsletter");
        {
            let mut conn = app.db.writer().unwrap();
            repo::insert_hold(
                &mut conn,
                &repo::NewHold {
                    scope: "dataset".into(),
                    scope_id: Some(newsletter),
                    identifier_type: None,
                    subject_hmac: None,
                    basis: "art17_3_e".into(),
                    reason: "litigation about the campaign".into(),
                    ends_on: None,
                    created_by: "olga.compliance".into(),
                    created_at: now(),
                },
            )
            .unwrap();
        }
        let (id, _) = submit(&app, "alice@example.com", None);
        plan_and_approve(&app, id);
        run(&app, id);
        assert_eq!(status(&app, id), "completed_with_exceptions", "{ctx}");
        assert_eq!(shop.subject_rows(), vec![0, 0, 0, 0, 0, 1, 0], "{ctx}: the held newsletter row remains");
        let receipt = repo::receipt_of(&mut app.db.reader().unwrap(), id).unwrap().unwrap();
        let verified = Receipt::verify(&receipt.body, &app.state.keys.receipt_public_key()).unwrap();
        assert_eq!(verified.exceptions.len(), 1, "{ctx}");
        assert_eq!(verified.exceptions[0].basis, "art17_3_e", "{ctx}");
    }
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        let (id, _) = submit(&app, "alice@example.com", None);
        plan_and_approve(&app, id);
        // Between the plan and the run, 30 more rows of the subject appear in customer_summary.
        let inserts: String = (0..30).map(|i| format!("INSERT INTO customer_summary VALUES (1, {i});")).collect();
        shop.target.execute(&inserts);
        run(&app, id);
        assert_eq!(status(&app, id), "blocked", "{ctx}");
        let details = erasure::details(&mut app.db.reader().unwrap(), id, now().date()).unwrap();
        let summary = details.steps.iter().find(|s| s.table.ends_with("customer_summary")).unwrap();
        assert_eq!(summary.status, "failed", "{ctx}");
        assert!(summary.error.as_deref().unwrap_or_default().contains("blast-radius"), "{ctx}: {:?}", summary.error);
        assert_eq!(
            shop.count("SELECT count(*) AS n FROM customer_summary WHERE customer_ref = 1"),
            31,
            "{ctx}: rolled back"
        );
    }
}

#[actix_web::test]
async fn four_eyes_deadlines_and_uncovered_copies() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        let (id, _) = submit(&app, "alice@example.com", None);
        // A copy of the e-mail mixed with another column cannot be matched: the plan is refused,
        // naming it.
        {
            let mut conn = app.db.writer().unwrap();
            let source = custodian::db::catalog::find_source(&mut conn, shop.source_id).unwrap().unwrap();
            let target = IngestTarget::new(source, None, None).unwrap();
            let input = SqlInput {
                name: "hashes.sql".into(),
                path: "pipelines/hashes.sql".into(),
                // Two columns in one: no way back to the subject's e-mail alone.
                sql: "INSERT INTO email_hashes (h) SELECT email || '#' || name FROM customers;".into(),
            };
            ingest::ingest(&mut conn, &AuditActor::system(), &target, &input, false, None).unwrap();
        }
        let report = erasure::plan(&app.db, &app.state.keys, app.state.config.erasure, &privacy(), id).unwrap();
        assert!(!report.is_executable(), "{ctx}");
        assert!(report.refusals().iter().any(|r| r.contains("email_hashes.h")), "{ctx}: {:?}", report.refusals());
        assert_eq!(status(&app, id), "received", "{ctx}");

        // The submitter cannot approve; another compliance officer can, once planned.
        let mut conn = app.db.writer().unwrap();
        let (other, _) = erasure::submit(
            &mut conn,
            &app.state.keys,
            &officer(),
            &Submission { identifier_type: "email".into(), value: "bob@example.com".into(), ..Default::default() },
            now(),
        )
        .unwrap();
        drop(conn);
        let err = erasure::approve(&mut app.db.writer().unwrap(), &officer(), other.id, now()).unwrap_err();
        assert!(matches!(err, erasure::ErasureError::Forbidden(_)), "{ctx}: {err}");
        // E2: one extension, before the due date.
        let extended =
            erasure::extend(&mut app.db.writer().unwrap(), &privacy(), other.id, 2, "complex request", now()).unwrap();
        assert_eq!(
            extended.due_on,
            custodian::governance::erasure::due_date(now().date()).checked_add_months(chrono::Months::new(2)).unwrap()
        );
        let again =
            erasure::extend(&mut app.db.writer().unwrap(), &privacy(), other.id, 1, "again", now()).unwrap_err();
        assert!(matches!(again, erasure::ErasureError::Conflict(_)), "{ctx}");
        // Bad identifiers are refused with a reason, and nothing is stored.
        let bad = erasure::submit(
            &mut app.db.writer().unwrap(),
            &app.state.keys,
            &privacy(),
            &Submission { identifier_type: "email".into(), value: "not-an-address".into(), ..Default::default() },
            now(),
        )
        .unwrap_err();
        assert!(bad.to_string().contains("e-mail"), "{ctx}: {bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Crash safety and concurrent workers: the real binary, killed with SIGKILL.

/// `custodian worker --until-idle` on this catalog, optionally pausing at the N-th pause point.
fn worker(app: &TestApp, pause_at: Option<usize>) -> std::process::Child {
    worker_with(app, pause_at, &[])
}

/// The same, with more environment variables.
pub(crate) fn worker_with(app: &TestApp, pause_at: Option<usize>, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_custodian"));
    cmd.envs(env.iter().copied());
    cmd.args(["worker", "--until-idle"])
        .env("CUSTODIAN_DATABASE_URL", catalog_url(app))
        .env("CUSTODIAN_KEY_FILE", app.state.config.key_path())
        .env("CUSTODIAN_ERASURE_LEASE_SECS", "1")
        .env("CUSTODIAN_LOG", "debug")
        .env_remove("CUSTODIAN_FAULT_PAUSE_AT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(n) = pause_at {
        cmd.env("CUSTODIAN_FAULT_PAUSE_AT", n.to_string());
    }
    cmd.spawn().expect("spawn custodian worker")
}

pub(crate) fn catalog_url(app: &TestApp) -> String {
    match app.catalog.url() {
        custodian::db::CatalogUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        custodian::db::CatalogUrl::Postgres(url) => url,
    }
}

/// Waits for the worker to pause (true) or to exit (false); collects what it logged.
pub(crate) fn wait_for_pause(child: &mut std::process::Child, log: &mut String) -> bool {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) => {
                let paused = line.contains("custodian: paused at");
                log.push_str(&line);
                log.push('\n');
                if paused {
                    return true;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return false,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("the worker neither paused nor ended: {log}"),
        }
    }
}

pub(crate) fn finish(mut child: std::process::Child, log: &mut String) {
    use std::io::Read;
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(log);
    }
    let status = child.wait().expect("worker");
    assert!(status.success(), "worker failed: {log}");
}

fn completions(app: &TestApp) -> usize {
    all_events(app).matches("erasure.complete").count()
}

#[actix_web::test]
async fn killing_the_worker_at_twenty_points_always_ends_in_the_same_state() {
    let mut points = std::collections::BTreeSet::new();
    for n in 1..=20 {
        let app = TestApp::new(crate::support::TestCatalog::sqlite());
        let shop = shop(&app, "alice@example.com").await;
        let before = shop.others();
        let (id, _) = submit(&app, "alice@example.com", None);
        plan_and_approve(&app, id);
        erasure::request_run(&mut app.db.writer().unwrap(), &privacy(), id, now()).unwrap();

        let mut log = String::new();
        let mut child = worker(&app, Some(n));
        let paused = wait_for_pause(&mut child, &mut log);
        assert!(paused, "pause point {n} was never reached: {log}");
        points.insert(log.lines().find(|l| l.contains("paused at")).unwrap_or_default().to_owned());
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        std::thread::sleep(std::time::Duration::from_millis(1200));

        let restarted = worker(&app, None);
        finish(restarted, &mut log);
        assert_eq!(status(&app, id), "completed", "killed at {n}: {log}");
        assert_eq!(shop.subject_rows(), vec![0; 7], "killed at {n}");
        assert_eq!(shop.others(), before, "killed at {n}: another subject's rows changed");
        assert_eq!(completions(&app), 1, "killed at {n}: exactly one completion");
        assert!(!log.to_lowercase().contains("alice@example.com"), "killed at {n}: the e-mail was logged");
    }
    assert_eq!(points.len(), 20, "twenty distinct points: {points:?}");
}

#[actix_web::test]
async fn two_workers_on_one_postgres_catalog_never_run_the_same_step_twice() {
    let Some(catalog) = crate::support::TestCatalog::postgres() else {
        eprintln!("skipped: CUSTODIAN_TEST_POSTGRES_URL is not set");
        return;
    };
    let app = TestApp::new(catalog);
    let _shop = shop(&app, "alice@example.com").await;
    let mut ids = Vec::new();
    for email in ["alice@example.com", "bob.o'neil;drop@example.com", "zoë@exämple.de"] {
        let (id, _) = submit(&app, email, None);
        plan_and_approve(&app, id);
        erasure::request_run(&mut app.db.writer().unwrap(), &privacy(), id, now()).unwrap();
        ids.push(id);
    }
    let (a, b) = (worker(&app, None), worker(&app, None));
    let (mut log_a, mut log_b) = (String::new(), String::new());
    finish(a, &mut log_a);
    finish(b, &mut log_b);
    for id in ids {
        assert_eq!(status(&app, id), "completed", "{log_a}\n{log_b}");
        let steps = repo::steps_of(&mut app.db.reader().unwrap(), id).unwrap();
        assert!(steps.iter().all(|s| s.attempts == 1), "a step ran twice: {steps:?}");
    }
    assert_eq!(completions(&app), 3);
}

// ---------------------------------------------------------------------------------------------
// E10: fuzzed identifier values never touch another subject's rows.

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Fuzz(u64);

impl Fuzz {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn value(&mut self, nul: bool) -> String {
        const PIECES: [&str; 14] =
            ["'", "\"", ";", "--", "\\", "%", "_", "ä", "Ω", "🙂", " OR 1=1", "a", "Z", "\u{301}"];
        let len = 1 + self.next() % 8;
        let mut s = String::from("x");
        for _ in 0..len {
            s.push_str(PIECES[(self.next() % PIECES.len() as u64) as usize]);
            if nul && self.next().is_multiple_of(5) {
                s.push('\0');
            }
        }
        s.push_str(&(self.next() % 1000).to_string());
        s
    }
}

#[actix_web::test]
async fn fuzzed_identifiers_erase_only_their_own_rows() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let postgres = ctx == "postgres";
        {
            let mut conn = app.db.writer().unwrap();
            class_repo::ensure_taxonomy(&mut conn, &[], &[("account_ref", "Account reference", None)], now()).unwrap();
        }
        let ddl =
            "CREATE TABLE accounts (ref TEXT NOT NULL, note TEXT); CREATE TABLE audit_copy (account TEXT, n INTEGER);";
        let target = if postgres { Target::postgres(ddl).unwrap() } else { Target::sqlite(ddl) };
        let mut fuzz = Fuzz(0x9E37_79B9_7F4A_7C15 ^ u64::from(postgres));
        let mut refs: Vec<String> = Vec::new();
        while refs.len() < 40 {
            let v = fuzz.value(!postgres);
            // Distinct after normalisation (trim, NFC): two spellings of one ref are one subject.
            let n = custodian::governance::erasure::subject::normalise("account_ref", &v).unwrap();
            if n == v && !refs.contains(&v) {
                refs.push(v);
            }
        }
        insert_accounts(&target, &refs);
        app.sign_in_as(custodian::governance::access::Role::Steward);
        app.post_form("/sources", &[("name", "ledger"), ("url", &target.url()), ("crawl_now", "on")]).await;
        app.run_queued_crawls();
        let source_id = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().unwrap();
        {
            let mut conn = app.db.writer().unwrap();
            let identifiers = class_repo::list_identifier_types(&mut conn).unwrap();
            let kind = identifiers.iter().find(|i| i.key == "account_ref").unwrap().id;
            for (table, column) in [("accounts", "ref"), ("audit_copy", "account")] {
                let column = column_id(&mut conn, source_id, table, column);
                let change = ColumnChange { identifier: Some(Some(kind)), ..Default::default() };
                custodian::db::dialect::write_transaction(&mut conn, |conn| {
                    classification::classify(conn, &AuditActor::system(), &[column], &change, None, now())
                })
                .unwrap();
            }
        }
        let ledger = Shop { target, source_id };
        for round in 0..6 {
            let victim = refs.remove((fuzz.next() % refs.len() as u64) as usize);
            let before = ledger.strings(OTHERS_SQL);
            let submission =
                Submission { identifier_type: "account_ref".into(), value: victim.clone(), ..Default::default() };
            let (request, _) =
                erasure::submit(&mut app.db.writer().unwrap(), &app.state.keys, &privacy(), &submission, now())
                    .unwrap();
            let report = plan_and_approve(&app, request.id);
            assert_eq!(report.steps.iter().map(|s| s.1).sum::<i64>(), 2, "{ctx} round {round}: {victim:?}");
            run(&app, request.id);
            assert_eq!(status(&app, request.id), "completed", "{ctx} round {round}");
            let after = ledger.strings(OTHERS_SQL);
            let expected: Vec<String> = before
                .iter()
                .filter(|row| !row.starts_with(&format!("a|{victim}|")) && !row.starts_with(&format!("c|{victim}|")))
                .cloned()
                .collect();
            assert_eq!(after.len(), before.len() - 2, "{ctx} round {round}: {victim:?}");
            assert_eq!(after, expected, "{ctx} round {round}: another subject's row changed");
        }
    }
}

const OTHERS_SQL: &str = "SELECT v FROM (SELECT 'a|' || ref || '|' || COALESCE(note, '') AS v FROM accounts \
    UNION ALL SELECT 'c|' || account || '|' || CAST(n AS TEXT) AS v FROM audit_copy) rows ORDER BY v";

fn insert_accounts(target: &Target, refs: &[String]) {
    match target {
        Target::Sqlite { path, .. } => {
            let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
            for (i, r) in refs.iter().enumerate() {
                diesel::sql_query("INSERT INTO accounts VALUES (?, ?)")
                    .bind::<diesel::sql_types::Text, _>(r)
                    .bind::<diesel::sql_types::Text, _>(format!("note {i}"))
                    .execute(&mut conn)
                    .unwrap();
                diesel::sql_query("INSERT INTO audit_copy VALUES (?, ?)")
                    .bind::<diesel::sql_types::Text, _>(r)
                    .bind::<diesel::sql_types::Integer, _>(i as i32)
                    .execute(&mut conn)
                    .unwrap();
            }
        }
        Target::Postgres(db) => {
            let mut conn = db.connect();
            for (i, r) in refs.iter().enumerate() {
                diesel::sql_query("INSERT INTO accounts VALUES ($1, $2)")
                    .bind::<diesel::sql_types::Text, _>(r)
                    .bind::<diesel::sql_types::Text, _>(format!("note {i}"))
                    .execute(&mut conn)
                    .unwrap();
                diesel::sql_query("INSERT INTO audit_copy VALUES ($1, $2)")
                    .bind::<diesel::sql_types::Text, _>(r)
                    .bind::<diesel::sql_types::Integer, _>(i as i32)
                    .execute(&mut conn)
                    .unwrap();
            }
        }
    }
}

#[actix_web::test]
async fn a_demo_customer_is_erased_including_the_derived_tables() {
    let catalog = crate::support::TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let config = catalog.config();
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    let shop = data.path().join("shop.db");
    let email = custodian::commands::demo::erasure_example(&shop).expect("a customer in the marketing audience");
    let keys = custodian::keys::Keys::load_or_create(&config.key_path()).expect("keys");
    let count = |sql: &str| {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = SqliteConnection::establish(shop.to_str().unwrap()).unwrap();
        diesel::sql_query(sql).bind::<diesel::sql_types::Text, _>(&email).load::<N>(&mut conn).unwrap()[0].n
    };
    let audience = "SELECT count(*) AS n FROM marketing_audience WHERE contact_address = lower(?)";
    let customer = "SELECT count(*) AS n FROM customers WHERE email = ?";
    assert_eq!((count(audience), count(customer)), (1, 1));

    let submission = Submission { identifier_type: "email".into(), value: email.clone(), ..Default::default() };
    let (request, _) = erasure::submit(&mut db.writer().unwrap(), &keys, &privacy(), &submission, now()).unwrap();
    let report = erasure::plan(&db, &keys, config.erasure, &privacy(), request.id).unwrap();
    assert!(report.is_executable(), "{:?}", report.refusals());
    let tables: Vec<&str> = report.steps.iter().map(|(s, _)| s.table.as_str()).collect();
    for derived in ["marketing_audience", "customer_ltv"] {
        assert!(tables.contains(&derived), "{derived} in {tables:?}");
    }
    erasure::approve(&mut db.writer().unwrap(), &officer(), request.id, now()).unwrap();
    erasure::request_run(&mut db.writer().unwrap(), &privacy(), request.id, now()).unwrap();
    let run =
        repo::claim_run(&mut db.writer().unwrap(), "test", erasure::lease(config.erasure), now()).unwrap().unwrap();
    erasure::execute(&db, &keys, config.erasure, &run, &mut Quiet).unwrap();
    let details = erasure::details(&mut db.reader().unwrap(), request.id, now().date()).unwrap();
    assert_eq!(details.status, "completed", "{:?}", details.steps);
    assert_eq!((count(audience), count(customer)), (0, 0));
}

#[actix_web::test]
async fn copies_under_other_forms_are_recomputed_on_the_target() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let postgres = ctx == "postgres";
        taxonomy(&app);
        let payload = if postgres { "JSONB" } else { "TEXT" };
        let ddl = format!(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
             CREATE TABLE crm (email_key TEXT, ref TEXT, clean TEXT);
             CREATE TABLE events (payload {payload});
             INSERT INTO customers VALUES (1, 'Alice@Example.com'), (2, 'bob@example.com'), (3, ' Carol@Example.com');"
        );
        // The pipelines, in the target's own dialect: a hashed or upper-cased e-mail, a formatted
        // key, a trimmed and lower-cased e-mail, and the e-mail inside a JSON document.
        let pipeline = if postgres {
            "INSERT INTO crm (email_key, ref, clean) SELECT md5(lower(email)), 'C-' || lpad(id::text, 5, '0'), lower(trim(email)) FROM customers;
             INSERT INTO events (payload) SELECT jsonb_build_object('email', email, 'kind', 'signup') FROM customers;"
        } else {
            "INSERT INTO crm (email_key, ref, clean) SELECT upper(email), 'C-' || substr('00000' || id, -5, 5), lower(trim(email)) FROM customers;
             INSERT INTO events (payload) SELECT json_object('email', email, 'kind', 'signup') FROM customers;"
        };
        let target = if postgres { Target::postgres(&ddl).unwrap() } else { Target::sqlite(&ddl) };
        target.execute(pipeline);
        app.sign_in_as(custodian::governance::access::Role::Steward);
        app.post_form("/sources", &[("name", "crm"), ("url", &target.url()), ("crawl_now", "on")]).await;
        app.run_queued_crawls();
        let source_id = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().unwrap();
        {
            let mut conn = app.db.writer().unwrap();
            let source = custodian::db::catalog::find_source(&mut conn, source_id).unwrap().unwrap();
            let ingest_target = IngestTarget::new(source, None, None).unwrap();
            let input = SqlInput { name: "crm.sql".into(), path: "crm.sql".into(), sql: pipeline.into() };
            ingest::ingest(&mut conn, &AuditActor::system(), &ingest_target, &input, false, None).unwrap();
            let identifiers = class_repo::list_identifier_types(&mut conn).unwrap();
            let id_of = |key: &str| identifiers.iter().find(|i| i.key == key).unwrap().id;
            for (column, kind) in [("email", "email"), ("id", "customer_id")] {
                let column = column_id(&mut conn, source_id, "customers", column);
                let change = ColumnChange { identifier: Some(Some(id_of(kind))), ..Default::default() };
                custodian::db::dialect::write_transaction(&mut conn, |conn| {
                    classification::classify(conn, &AuditActor::system(), &[column], &change, None, now())
                })
                .unwrap();
            }
        }
        let shop = Shop { target, source_id };
        let count = |sql: &str| shop.count(sql);
        assert_eq!(count("SELECT count(*) AS n FROM crm"), 3, "{ctx}");

        let (id, _) = submit(&app, "alice@example.com", None);
        let report = plan_and_approve(&app, id);
        let by_table: Vec<(String, i64)> = report.steps.iter().map(|(s, n)| (s.table.clone(), *n)).collect();
        assert!(by_table.contains(&("crm".into(), 1)), "{ctx}: {by_table:?}");
        assert!(by_table.contains(&("events".into(), 1)), "{ctx}: {by_table:?}");
        run(&app, id);
        assert_eq!(status(&app, id), "completed", "{ctx}");
        assert_eq!(count("SELECT count(*) AS n FROM customers"), 2, "{ctx}");
        assert_eq!(count("SELECT count(*) AS n FROM crm"), 2, "{ctx}: only Alice's derived row went");
        assert_eq!(count("SELECT count(*) AS n FROM events"), 2, "{ctx}");
        let left = shop.strings("SELECT clean AS v FROM crm ORDER BY clean");
        assert_eq!(left, vec!["bob@example.com".to_string(), "carol@example.com".into()], "{ctx}");
    }
}

#[actix_web::test]
async fn materialized_views_over_erased_rows_are_refreshed() {
    let Some(catalog) = crate::support::TestCatalog::postgres() else {
        eprintln!("skipped: CUSTODIAN_TEST_POSTGRES_URL is not set (materialized views are PostgreSQL's)");
        return;
    };
    let app = TestApp::new(catalog);
    let shop = shop(&app, "alice@example.com").await;
    shop.target.execute(
        "CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;",
    );
    custodian::commands::crawl::run(&app.db, "shop", &custodian::commands::actor::Actor::system(), false).unwrap();
    let (id, _) = submit(&app, "alice@example.com", None);
    let report = plan_and_approve(&app, id);
    let refresh = report.steps.iter().position(|(s, _)| s.table == "order_totals").expect("a refresh step");
    let orders = report.steps.iter().position(|(s, _)| s.table == "orders").unwrap();
    assert!(refresh > orders, "refreshed after its tables");
    assert_eq!(shop.count("SELECT count(*) AS n FROM order_totals WHERE customer_id = 1"), 1);
    run(&app, id);
    assert_eq!(status(&app, id), "completed");
    assert_eq!(shop.count("SELECT count(*) AS n FROM order_totals WHERE customer_id = 1"), 0);
    assert_eq!(shop.count("SELECT count(*) AS n FROM order_totals"), 2, "the others' totals stay");
}

#[actix_web::test]
async fn an_export_makes_a_recipient_and_the_request_waits_for_it() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        {
            let mut conn = app.db.writer().unwrap();
            let source = custodian::db::catalog::find_source(&mut conn, shop.source_id).unwrap().unwrap();
            let target = IngestTarget::new(source, Some("postgres"), None).unwrap();
            let input = SqlInput {
                name: "mailer.sql".into(),
                path: "mailer.sql".into(),
                sql: "COPY (SELECT email, name FROM customers) TO 's3://mailer/audience.csv';".into(),
            };
            ingest::ingest(&mut conn, &AuditActor::system(), &target, &input, false, None).unwrap();
        }
        let (id, _) = submit(&app, "alice@example.com", None);
        let report = plan_and_approve(&app, id);
        assert_eq!(report.plan.recipients.len(), 1, "{ctx}: {:?}", report.plan.recipients);
        assert!(report.plan.recipients[0].name.contains("s3://mailer/audience.csv"), "{ctx}");
        run(&app, id);
        // Every row is erased, but the request cannot complete while the recipient is untold.
        assert_eq!(shop.subject_rows(), vec![0; 7], "{ctx}");
        assert_eq!(status(&app, id), "awaiting_recipients", "{ctx}");
        let details = erasure::details(&mut app.db.reader().unwrap(), id, now().date()).unwrap();
        let recipient = details.recipients[0].id;
        erasure::set_recipient(&app.db, &app.state.keys, &privacy(), id, recipient, "sent").unwrap();
        assert_eq!(status(&app, id), "completed", "{ctx}");
        let receipt = repo::receipt_of(&mut app.db.reader().unwrap(), id).unwrap().unwrap();
        let verified = Receipt::verify(&receipt.body, &app.state.keys.receipt_public_key()).unwrap();
        assert_eq!(verified.recipients[0].status, "sent", "{ctx}");
    }
}

#[actix_web::test]
async fn drift_since_the_crawl_refuses_the_plan_and_one_subject_runs_once_at_a_time() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        // E15: a second request for the same subject cannot run while the first is queued.
        let (first, _) = submit(&app, "alice@example.com", None);
        let (second, _) = submit(&app, "ALICE@example.com", None);
        plan_and_approve(&app, first);
        plan_and_approve(&app, second);
        erasure::request_run(&mut app.db.writer().unwrap(), &privacy(), first, now()).unwrap();
        let err = erasure::request_run(&mut app.db.writer().unwrap(), &privacy(), second, now()).unwrap_err();
        assert!(matches!(err, erasure::ErasureError::Conflict(_)), "{ctx}: {err}");
        assert!(err.to_string().contains("same subject"), "{ctx}: {err}");

        // E6 at planning time: the target changed since the crawl.
        shop.target.execute("ALTER TABLE newsletter RENAME COLUMN contact_email TO email_address;");
        let (third, _) = submit(&app, "alice@example.com", Some("third"));
        let report = erasure::plan(&app.db, &app.state.keys, app.state.config.erasure, &privacy(), third).unwrap();
        assert!(!report.is_executable(), "{ctx}");
        assert!(
            report
                .refusals()
                .iter()
                .any(|r| r.contains("schema drift since the last crawl") && r.contains("newsletter")),
            "{ctx}: {:?}",
            report.refusals()
        );
    }
}

#[actix_web::test]
async fn a_hold_placed_after_approval_is_honoured_at_run_time() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        let (id, _) = submit(&app, "alice@example.com", None);
        plan_and_approve(&app, id);
        // E16: the hold arrives after the plan; the run re-checks holds inside each transaction.
        let newsletter = dataset_id(&app, shop.source_id, "newsletter");
        repo::insert_hold(
            &mut app.db.writer().unwrap(),
            &repo::NewHold {
                scope: "dataset".into(),
                scope_id: Some(newsletter),
                identifier_type: None,
                subject_hmac: None,
                basis: "art17_3_b".into(),
                reason: "regulator's inquiry".into(),
                ends_on: None,
                created_by: "olga.compliance".into(),
                created_at: now(),
            },
        )
        .unwrap();
        run(&app, id);
        assert_eq!(status(&app, id), "completed_with_exceptions", "{ctx}");
        assert_eq!(shop.subject_rows(), vec![0, 0, 0, 0, 0, 1, 0], "{ctx}");
        let details = erasure::details(&mut app.db.reader().unwrap(), id, now().date()).unwrap();
        let held = details.steps.iter().find(|s| s.table.ends_with("newsletter")).unwrap();
        assert_eq!((held.status.as_str(), held.remaining_rows), ("held", Some(1)), "{ctx}");
    }
}

#[actix_web::test]
async fn a_dataset_set_to_mask_keeps_its_rows_without_the_personal_data() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let shop = shop(&app, "alice@example.com").await;
        let newsletter = dataset_id(&app, shop.source_id, "newsletter");
        erasure::set_dataset_action(&mut app.db.writer().unwrap(), &officer(), newsletter, "mask", now()).unwrap();
        let (id, _) = submit(&app, "alice@example.com", None);
        let report = plan_and_approve(&app, id);
        let step = report.steps.iter().find(|(s, _)| s.table == "newsletter").unwrap();
        assert_eq!(step.0.action.as_str(), "mask", "{ctx}");
        run(&app, id);
        assert_eq!(status(&app, id), "completed", "{ctx}");
        assert_eq!(shop.count("SELECT count(*) AS n FROM newsletter"), 3, "{ctx}: rows kept");
        assert_eq!(shop.count("SELECT count(*) AS n FROM newsletter WHERE contact_email IS NULL"), 1, "{ctx}: masked");
        assert_eq!(
            shop.count("SELECT count(*) AS n FROM newsletter WHERE lower(contact_email) LIKE 'alice%'"),
            0,
            "{ctx}"
        );
    }
}
