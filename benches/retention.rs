//! Retention at scale (issue 7's target): purging 1,000,000 expired rows from one PostgreSQL
//! table in batches takes under 30 s while the table stays writable (no lock held longer than
//! one batch).
//!
//!     cargo bench --bench retention
//!
//! Needs PostgreSQL: `CUSTODIAN_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); it creates and drops the database
//! `custodian_bench_retention`. The catalog is an SQLite file under target/bench.
//! `CUSTODIAN_RETENTION_BATCH` overrides the batch size (default 10000).
//!
//! The target table `events` holds 1,000,000 rows dated more than a year ago and 200,000 rows
//! from the last 30 days; a 90-day delete policy is assigned to it. The bench times a dry run
//! (the count), then the purge itself. While the purge runs, one thread inserts a young row
//! every ~5 ms on its own connection (each insert its own autocommit statement) and records
//! each insert's latency, and another samples `pg_locks` every few milliseconds for the longest
//! open transaction of a client holding a write lock on `events` (the purge's batches). After
//! the purge it checks that no row past the cutoff remains and that every young row does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use custodian::commands::actor::Actor;
use custodian::commands::{crawl, source};
use custodian::config::Config;
use custodian::db::audit::AuditActor;
use custodian::db::{CatalogUrl, Db, now};
use custodian::jobs::ProgressSink;
use custodian::retention::{self, PolicyInput, ScopeRef};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double};

const EXPIRED: i64 = 1_000_000;
const YOUNG: i64 = 200_000;
const TARGET_SECS: f64 = 30.0;
const INSERT_EVERY: Duration = Duration::from_millis(5);
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// Records when the purge stage starts and when each batch is reported.
#[derive(Default)]
struct Timeline {
    purging: Option<Instant>,
    batches: Vec<(Instant, u64)>,
}

impl ProgressSink for Timeline {
    fn stage(&mut self, stage: &str) {
        if stage == "purging" {
            self.purging = Some(Instant::now());
        }
    }
    fn advance(&mut self, done: u64, _: u64) {
        if self.purging.is_some() {
            self.batches.push((Instant::now(), done));
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Seconds {
    #[diesel(sql_type = Double)]
    s: f64,
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(head, _)| head);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).expect(sql).n
}

/// 1234567 as "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `p`-th percentile (0–100) of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p / 100.0).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

const SCHEMA: &str = "CREATE TABLE events (id BIGSERIAL PRIMARY KEY, occurred_at TIMESTAMP NOT NULL, \
                      customer_id BIGINT, ip_address TEXT, payload TEXT);";

/// The rows, oldest first (as a table filled over time would hold them): 1,000,000 spread over
/// the 400th to about the 630th day ago, then 200,000 over the last 30 days.
fn fill() -> String {
    format!(
        "INSERT INTO events (occurred_at, customer_id, ip_address, payload) \
         SELECT (now() AT TIME ZONE 'UTC') - interval '400 days' - ({EXPIRED} - n) * interval '20 seconds', \
                n % 50000, '10.' || (n % 256) || '.' || (n / 256 % 256) || '.1', repeat(md5(n::text), 3) \
         FROM generate_series(1, {EXPIRED}) n;\n\
         INSERT INTO events (occurred_at, customer_id, ip_address, payload) \
         SELECT (now() AT TIME ZONE 'UTC') - interval '30 days' + n * interval '12 seconds', \
                n % 50000, '10.' || (n % 256) || '.' || (n / 256 % 256) || '.2', repeat(md5(n::text), 3) \
         FROM generate_series(1, {YOUNG}) n;\n\
         CREATE INDEX events_occurred_at_idx ON events (occurred_at);"
    )
}

/// Inserts one young row every ~5 ms until `stop`; each insert's latency.
fn inserter(url: String, stop: Arc<AtomicBool>, ready: mpsc::Sender<()>) -> Vec<Duration> {
    let mut conn = PgConnection::establish(&url).expect("inserter connection");
    let mut latencies = Vec::new();
    ready.send(()).expect("ready");
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        conn.batch_execute(
            "INSERT INTO events (occurred_at, customer_id, ip_address, payload) \
             VALUES (now() AT TIME ZONE 'UTC' - interval '1 day', 1, '10.0.0.3', 'concurrent')",
        )
        .expect("concurrent insert");
        let took = t.elapsed();
        latencies.push(took);
        thread::sleep(INSERT_EVERY.saturating_sub(took));
    }
    latencies
}

/// Samples, until `stop`, how long the oldest open transaction of a client session holding a
/// write (row-exclusive or stronger) lock on `events` has been open, apart from the inserter's
/// own; the longest seen, in seconds, and the number of samples.
fn lock_watch(url: String, stop: Arc<AtomicBool>, ready: mpsc::Sender<()>) -> (f64, u64) {
    let mut conn = PgConnection::establish(&url).expect("watch connection");
    ready.send(()).expect("ready");
    let query = "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - a.xact_start)), 0)::float8 AS s \
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.relation = 'events'::regclass AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.granted AND a.backend_type = 'client backend' \
                   AND l.mode IN ('RowExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock') \
                   AND a.query NOT LIKE '%''concurrent''%' AND a.pid <> pg_backend_pid()";
    let (mut longest, mut samples) = (0f64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let s = diesel::sql_query(query).get_result::<Seconds>(&mut conn).expect("lock sample").s;
        longest = longest.max(s);
        samples += 1;
        thread::sleep(SAMPLE_EVERY);
    }
    (longest, samples)
}

fn main() {
    let admin = std::env::var("CUSTODIAN_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let Ok(mut admin_conn) = PgConnection::establish(&admin) else {
        eprintln!("skipped: PostgreSQL is not reachable at {admin} (set CUSTODIAN_BENCH_POSTGRES_URL)");
        return;
    };
    let name = "custodian_bench_retention";
    admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop db");
    admin_conn.batch_execute(&format!("CREATE DATABASE {name}")).expect("create db");
    let target_url = replace_database(&admin, name);
    let mut target = PgConnection::establish(&target_url).expect("target");
    let started = Instant::now();
    target.batch_execute(SCHEMA).expect("schema");
    target.batch_execute(&fill()).expect("rows");
    target.batch_execute("VACUUM ANALYZE events").expect("vacuum");
    eprintln!(
        "target: {} expired and {} young rows in {:.1} s",
        thousands(EXPIRED as u64),
        thousands(YOUNG as u64),
        started.elapsed().as_secs_f64()
    );

    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    for suffix in ["", "-wal", "-shm", ".key"] {
        let _ = std::fs::remove_file(dir.join(format!("retention.db{suffix}")));
    }
    let mut config = Config::with_database(CatalogUrl::Sqlite(dir.join("retention.db")));
    config.run_worker = false;
    if let Ok(batch) = std::env::var("CUSTODIAN_RETENTION_BATCH") {
        config.retention.batch = batch.trim().parse::<i64>().expect("CUSTODIAN_RETENTION_BATCH").max(1);
    }
    let db = Db::open(&config.database_url, &config.pool_settings()).expect("catalog");
    let keys = custodian::keys::Keys::load_or_create(&config.key_path()).expect("keys");
    let system = Actor::system();
    source::add(
        &db,
        &system,
        &source::AddArgs {
            name: "events".into(),
            url: Some(target_url.clone()),
            url_env: None,
            kind: None,
            description: None,
            owner: None,
        },
    )
    .expect("source");
    crawl::run(&db, "events", &system, false).expect("crawl");
    let by = AuditActor::system();
    let dataset_id = {
        let mut conn = db.writer().expect("conn");
        let source = custodian::db::catalog::find_source_by_name(&mut conn, "events").expect("q").expect("source");
        let dataset = custodian::db::catalog::find_dataset_by_name(&mut conn, source.id, "public", "events")
            .expect("q")
            .expect("dataset");
        let policy = retention::create_policy(
            &mut conn,
            &by,
            &PolicyInput {
                name: "events: 90 days".into(),
                period: "P90D".into(),
                action: "delete".into(),
                mask_columns: String::new(),
                legal_basis: "bench".into(),
                description: String::new(),
            },
        )
        .expect("policy");
        retention::assign(&mut conn, &by, policy, &ScopeRef::Dataset(dataset.id)).expect("assign");
        retention::set_timestamp(&mut conn, &by, dataset.id, Some("occurred_at")).expect("timestamp");
        dataset.id
    };
    let claim = |db: &Db| {
        custodian::db::retention::claim_run(
            &mut db.writer().expect("conn"),
            "bench",
            custodian::erasure::lease(config.erasure),
            now(),
        )
        .expect("claim")
        .expect("run")
    };

    // The dry run: counts in one snapshot, writes nothing on the target.
    let t = Instant::now();
    let id = retention::request_run(&mut db.writer().expect("conn"), &by, true, "manual").expect("preview");
    let run = claim(&db);
    assert_eq!(run.id, id);
    retention::execute(&db, &keys, config.erasure, config.retention, &run, &mut Timeline::default()).expect("dry run");
    let dry_s = t.elapsed().as_secs_f64();
    let view = retention::run_view(&mut db.reader().expect("conn"), id).expect("view");
    println!("dry run count: {} in {dry_s:.1} s (status {})", view.rows_past_period, view.status);
    assert_eq!(view.status, "done", "{view:?}");
    assert_eq!(view.rows_past_period, EXPIRED, "{view:?}");
    assert_eq!(count(&mut target, "SELECT count(*) AS n FROM events"), EXPIRED + YOUNG, "the dry run wrote");

    // The purge, with a writer and a lock watcher on the table.
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let writer = {
        let (url, stop, ready) = (target_url.clone(), stop.clone(), ready_tx.clone());
        thread::spawn(move || inserter(url, stop, ready))
    };
    let watcher = {
        let (url, stop, ready) = (target_url.clone(), stop.clone(), ready_tx);
        thread::spawn(move || lock_watch(url, stop, ready))
    };
    for _ in 0..2 {
        ready_rx.recv().expect("helper ready");
    }
    let mut timeline = Timeline::default();
    let t = Instant::now();
    let id = retention::request_run(&mut db.writer().expect("conn"), &by, false, "manual").expect("request");
    let run = claim(&db);
    assert_eq!(run.id, id);
    retention::execute(&db, &keys, config.erasure, config.retention, &run, &mut timeline).expect("purge");
    let elapsed = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut latencies = writer.join().expect("inserter");
    let (longest_lock, samples) = watcher.join().expect("watcher");
    let purge_s = elapsed.as_secs_f64();

    let view = retention::run_view(&mut db.reader().expect("conn"), id).expect("view");
    let step = view.steps.iter().find(|s| s.dataset_id == dataset_id).expect("step");
    println!(
        "purge of {} expired rows (batch {}): {purge_s:.1} s, {} rows/s, status {}",
        view.rows_changed,
        config.retention.batch,
        thousands((view.rows_changed as f64 / purge_s) as u64),
        view.status
    );
    let counting_s = timeline.purging.map_or(0.0, |p| (p - t).as_secs_f64());
    let mut gaps: Vec<Duration> = Vec::new();
    let mut last = timeline.purging;
    for (at, _) in &timeline.batches {
        if let Some(prev) = last {
            gaps.push(*at - prev);
        }
        last = Some(*at);
    }
    let slowest = gaps.iter().enumerate().max_by_key(|(_, g)| **g).map_or(0, |(i, _)| i + 1);
    let tenth = gaps.len() / 10;
    let mean = |g: &[Duration]| ms(g.iter().sum::<Duration>()) / g.len().max(1) as f64;
    let (first, last_tenth) = (mean(&gaps[..tenth]), mean(&gaps[gaps.len() - tenth..]));
    gaps.sort();
    println!(
        "  counting before the purge {counting_s:.1} s; {} batch reports, batch time median {:.0} ms, \
         max {:.0} ms (batch {slowest}); first tenth {first:.0} ms, last tenth {last_tenth:.0} ms on average",
        gaps.len(),
        ms(percentile(&gaps, 50.0)),
        ms(gaps.last().copied().unwrap_or_default())
    );
    println!(
        "  longest purge transaction holding a write lock on events: {:.0} ms ({samples} samples every {} ms)",
        longest_lock * 1000.0,
        SAMPLE_EVERY.as_millis()
    );
    latencies.sort();
    let inserted = latencies.len() as i64;
    let max = latencies.last().copied().unwrap_or_default();
    println!(
        "concurrent inserts during the purge: {inserted}, max latency {:.0} ms, p99 {:.0} ms, median {:.1} ms",
        ms(max),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 50.0))
    );
    println!(
        "target: {} in under {TARGET_SECS:.0} s: {}",
        thousands(EXPIRED as u64),
        if purge_s < TARGET_SECS { "met" } else { "MISSED" }
    );

    // Afterwards: nothing past the cutoff, every young row and every concurrent insert still there.
    let cutoff = &step.cutoff;
    let old_left = count(&mut target, &format!("SELECT count(*) AS n FROM events WHERE occurred_at < '{cutoff}'"));
    let young_left = count(&mut target, &format!("SELECT count(*) AS n FROM events WHERE occurred_at >= '{cutoff}'"));
    let concurrent = count(&mut target, "SELECT count(*) AS n FROM events WHERE payload = 'concurrent'");
    println!(
        "after: {old_left} rows older than the cutoff {cutoff}; {young_left} younger ({YOUNG} young + {concurrent} \
         inserted concurrently)"
    );
    assert_eq!(view.status, "done", "{view:?}");
    assert_eq!(view.rows_changed, EXPIRED, "{view:?}");
    assert_eq!(old_left, 0, "rows past the period remain");
    assert_eq!(concurrent, inserted, "concurrent inserts lost");
    assert_eq!(young_left, YOUNG + inserted, "young rows lost");
    // A timing, not a correctness check: reported, not asserted (a busy machine may stall one insert).
    println!(
        "table writable during the purge: {} (longest insert wait {:.0} ms against a {purge_s:.1} s purge)",
        if max.as_secs_f64() < purge_s / 4.0 { "yes" } else { "NO" },
        ms(max)
    );

    drop(target);
    let _ = admin_conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
