//! Erasure at scale (issue 6's target): one subject with about 10,000 rows spread over 10
//! FK-linked tables (a chain nine levels deep under `customers`) and 5 tables derived from them
//! by pipelines, among 1,000 other customers' 280,000 rows, on a PostgreSQL target — erased in
//! under 2 s, with statements growing with tables × batches, not with rows.
//!
//!     cargo bench --bench erasure
//!
//! Needs PostgreSQL: `CUSTODIAN_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); it creates and drops the database
//! `custodian_bench_erasure`. The catalog is an SQLite file under target/bench. Each round
//! refills the subject's rows, submits, plans (timed), approves and runs (timed) one request,
//! and prints the figures; the last rounds erase a subject with a tenth of the rows, to show the
//! statement count does not change with rows.

use std::time::Instant;

use custodian::classification::{self, ColumnChange};
use custodian::commands::actor::Actor;
use custodian::commands::{crawl, source};
use custodian::config::Config;
use custodian::db::audit::AuditActor;
use custodian::db::{CatalogUrl, Db, dialect, now};
use custodian::erasure::{self, Submission};
use custodian::ingest::{self, IngestTarget, SqlInput};
use custodian::jobs::ProgressSink;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const CHAIN: usize = 9;
const DERIVED: usize = 5;
const OTHERS: i64 = 1_000;

struct Quiet;

impl ProgressSink for Quiet {
    fn stage(&mut self, _: &str) {}
    fn advance(&mut self, _: u64, _: u64) {}
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn schema() -> String {
    let mut sql = String::from("CREATE TABLE customers (id BIGINT PRIMARY KEY, email TEXT NOT NULL, name TEXT);\n");
    sql.push_str(
        "CREATE TABLE t1 (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers (id), v INTEGER);\n",
    );
    for i in 2..=CHAIN {
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id BIGINT PRIMARY KEY, t{p}_id BIGINT NOT NULL REFERENCES t{p} (id), v INTEGER);\n\
             CREATE INDEX t{i}_parent ON t{i} (t{p}_id);\n",
            p = i - 1
        ));
    }
    sql.push_str("CREATE INDEX t1_customer ON t1 (customer_id);\n");
    for d in 1..=DERIVED {
        sql.push_str(&format!(
            "CREATE TABLE d{d} (customer_ref BIGINT, v INTEGER); CREATE INDEX d{d}_ref ON d{d} (customer_ref);\n"
        ));
    }
    sql
}

/// The pipelines that made the derived tables: each copies t1's customer id under another name.
fn pipelines() -> String {
    (1..=DERIVED)
        .map(|d| format!("INSERT INTO d{d} (customer_ref, v) SELECT customer_id AS customer_ref, v FROM t1;\n"))
        .collect()
}

/// Rows for customer `id` with `per_table` rows in each chain table and derived table. Ids are
/// `id * 1_000_000 + n` so subjects never collide.
fn fill(customer: i64, per_table: i64) -> String {
    let base = customer * 1_000_000;
    let mut sql =
        format!("INSERT INTO customers VALUES ({customer}, 'customer{customer}@example.com', 'C{customer}');\n");
    sql.push_str(&format!("INSERT INTO t1 SELECT {base} + n, {customer}, n FROM generate_series(1, {per_table}) n;\n"));
    for i in 2..=CHAIN {
        sql.push_str(&format!(
            "INSERT INTO t{i} SELECT {base} + n, {base} + n, n FROM generate_series(1, {per_table}) n;\n"
        ));
    }
    for d in 1..=DERIVED {
        sql.push_str(&format!("INSERT INTO d{d} SELECT {customer}, n FROM generate_series(1, {per_table}) n;\n"));
    }
    sql
}

fn main() {
    let admin = std::env::var("CUSTODIAN_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let Ok(mut admin_conn) = PgConnection::establish(&admin) else {
        eprintln!("skipped: PostgreSQL is not reachable at {admin} (set CUSTODIAN_BENCH_POSTGRES_URL)");
        return;
    };
    let name = "custodian_bench_erasure";
    admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop db");
    admin_conn.batch_execute(&format!("CREATE DATABASE {name}")).expect("create db");
    let target_url = replace_database(&admin, name);
    let mut target = PgConnection::establish(&target_url).expect("target");
    target.batch_execute(&schema()).expect("schema");
    let started = Instant::now();
    let mut others = String::new();
    for c in 2..=OTHERS + 1 {
        others.push_str(&fill(c, 20));
    }
    target.batch_execute(&others).expect("other customers");
    target.batch_execute("ANALYZE").expect("analyze");
    eprintln!(
        "target: {} other customers' rows in {:.1} s",
        OTHERS * 20 * (CHAIN + DERIVED) as i64 + OTHERS,
        started.elapsed().as_secs_f64()
    );

    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    for suffix in ["", "-wal", "-shm", ".key"] {
        let _ = std::fs::remove_file(dir.join(format!("erasure.db{suffix}")));
    }
    let mut config = Config::with_database(CatalogUrl::Sqlite(dir.join("erasure.db")));
    config.run_worker = false;
    let db = Db::open(&config.database_url, &config.pool_settings()).expect("catalog");
    let keys = custodian::keys::Keys::load_or_create(&config.key_path()).expect("keys");
    let system = Actor::system();
    source::add(
        &db,
        &system,
        &source::AddArgs {
            name: "shop".into(),
            url: Some(target_url.clone()),
            url_env: None,
            kind: None,
            description: None,
            owner: None,
        },
    )
    .expect("source");
    crawl::run(&db, "shop", &system, false).expect("crawl");
    {
        let mut conn = db.writer().expect("conn");
        let source = custodian::db::catalog::find_source_by_name(&mut conn, "shop").expect("q").expect("source");
        let source_id = source.id;
        let ingest_target = IngestTarget::new(source, None, None).expect("target");
        let input = SqlInput { name: "derived.sql".into(), path: "derived.sql".into(), sql: pipelines() };
        ingest::ingest(&mut conn, &AuditActor::system(), &ingest_target, &input, false, None).expect("ingest");
        custodian::db::classification::ensure_taxonomy(
            &mut conn,
            &[("contact.email", "E-mail address", false, Some(2))],
            &[("email", "E-mail address", Some("contact.email")), ("customer_id", "Customer id", None)],
            now(),
        )
        .expect("taxonomy");
        let identifiers = custodian::db::classification::list_identifier_types(&mut conn).expect("ids");
        let id_of = |k: &str| identifiers.iter().find(|i| i.key == k).expect(k).id;
        for (table, column, kind) in
            [("customers", "email", "email"), ("customers", "id", "customer_id"), ("t1", "customer_id", "customer_id")]
        {
            use custodian::db::schema::{dataset_columns, datasets};
            let column_id: i64 = dataset_columns::table
                .inner_join(datasets::table)
                .filter(datasets::source_id.eq(source_id))
                .filter(datasets::name.eq(table))
                .filter(dataset_columns::name.eq(column))
                .select(dataset_columns::id)
                .first(&mut conn)
                .expect("column");
            let change = ColumnChange { identifier: Some(Some(id_of(kind))), ..Default::default() };
            dialect::write_transaction(&mut conn, |conn| {
                classification::classify(conn, &AuditActor::system(), &[column_id], &change, None, now())
            })
            .expect("classify");
        }
    }
    let privacy = AuditActor { actor: "bench.privacy".into(), role: None, request_id: None };
    let officer = AuditActor { actor: "bench.compliance".into(), role: None, request_id: None };

    println!("rows  tables  plan (s)  run (s)  statements");
    for (round, per_table) in [714i64, 714, 714, 71, 71].into_iter().enumerate() {
        let subject = 1_000_000 + round as i64;
        target.batch_execute(&fill(subject, per_table)).expect("subject rows");
        let rows = 1 + per_table * (CHAIN + DERIVED) as i64;
        let submission = Submission {
            identifier_type: "email".into(),
            value: format!("customer{subject}@example.com"),
            ..Default::default()
        };
        let (request, _) =
            erasure::submit(&mut db.writer().expect("conn"), &keys, &privacy, &submission, now()).expect("submit");
        let t = Instant::now();
        let report = erasure::plan(&db, &keys, config.erasure, &privacy, request.id).expect("plan");
        let plan_s = t.elapsed().as_secs_f64();
        assert!(report.is_executable(), "{:?}", report.refusals());
        assert_eq!(report.steps.iter().map(|s| s.1).sum::<i64>(), rows, "dry-run counts");
        erasure::approve(&mut db.writer().expect("conn"), &officer, request.id, now()).expect("approve");
        erasure::request_run(&mut db.writer().expect("conn"), &privacy, request.id, now()).expect("queue");
        let run = custodian::db::erasure::claim_run(
            &mut db.writer().expect("conn"),
            "bench",
            erasure::lease(config.erasure),
            now(),
        )
        .expect("claim")
        .expect("run");
        let before = custodian::targets::erasure::statements_issued();
        let t = Instant::now();
        erasure::execute(&db, &keys, config.erasure, &run, &mut Quiet).expect("execute");
        let run_s = t.elapsed().as_secs_f64();
        let statements = custodian::targets::erasure::statements_issued() - before;
        let details = erasure::details(&mut db.reader().expect("conn"), request.id, now().date()).expect("details");
        assert_eq!(details.status, "completed", "{:?}", details.steps);
        assert_eq!(details.steps.iter().map(|s| s.affected_rows).sum::<i64>(), rows);
        println!("{rows:>5}  {:>6}  {plan_s:>8.3}  {run_s:>7.3}  {statements:>10}", details.steps.len());
    }
    drop(target);
    let _ = admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
