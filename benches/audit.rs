//! Audit log speed (issue 3's targets): writing one audit event adds under 1 ms to a mutation,
//! and verifying a chain of 1,000,000 events takes under 10 s.
//!
//!     cargo bench --bench audit                          # SQLite
//!     CUSTODIAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/custodian_bench cargo bench --bench audit
//!
//! The mutation pair ("alone" and "with its audit event") runs on a fresh catalog; the difference
//! of their medians is what the event costs. On PostgreSQL the bench's connection commits without
//! waiting for the WAL flush (`synchronous_commit = off`): both variants wait for exactly one
//! flush, whose time is the disk's, not the event's. The verified chain (`CUSTODIAN_BENCH_AUDIT_EVENTS`,
//! default 1,000,000 events) is seeded once with the bulk append into
//! `target/bench/audit-<n>.db` (about a minute), then reused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use custodian::config::Config;
use custodian::db::audit::{self, NewAuditEvent};
use custodian::db::models::NewSource;
use custodian::db::{Backend, CatalogUrl, Db, catalog, dialect, now};
use diesel::RunQueryDsl;
use serde_json::json;

fn chain_length() -> i64 {
    std::env::var("CUSTODIAN_BENCH_AUDIT_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

fn open(url: CatalogUrl) -> Db {
    let config = Config::with_database(url);
    Db::open(&config.database_url, &config.pool_settings()).expect("open the bench catalog")
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

/// An event of the size a description edit writes.
fn event(i: i64) -> NewAuditEvent {
    NewAuditEvent::new(format!("steward{}", i % 50), "dataset.update", "dataset")
        .role("steward")
        .entity_id(i % 100_000)
        .before(json!({"description": format!("Orders placed on the web shop, revision {}", i - 1), "owner": "sales"}))
        .after(json!({"description": format!("Orders placed on the web shop, revision {i}"), "owner": "sales"}))
        .request_id(format!("0192f7a0-0000-7000-8000-{i:012x}"))
}

/// Appends events until the log holds `n`, with the bulk path, 10,000 per transaction.
fn seed(db: &Db, n: i64) {
    let mut conn = db.writer().expect("writer");
    let have = audit::head(&mut conn).expect("head").seq;
    if have >= n {
        return;
    }
    eprintln!("seeding {} audit events (once)…", n - have);
    let started = Instant::now();
    let mut next = have + 1;
    while next <= n {
        let batch: Vec<NewAuditEvent> = (next..=(next + 9_999).min(n)).map(event).collect();
        dialect::write_transaction(&mut conn, |c| audit::append_all(c, &batch, now())).expect("bulk append");
        next += batch.len() as i64;
    }
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
}

/// What autovacuum would have done by the time anyone verifies: set hint bits and the
/// visibility map once, so that every timed pass reads the same way.
fn settle(db: &Db) {
    let mut conn = db.writer().expect("writer");
    match dialect::backend(&conn) {
        Backend::Postgres => diesel::sql_query("VACUUM (ANALYZE) audit_events").execute(&mut conn),
        Backend::Sqlite => diesel::sql_query("PRAGMA optimize").execute(&mut conn),
    }
    .expect("settle");
}

fn source_id(db: &Db) -> i64 {
    let mut conn = db.writer().expect("writer");
    if let Some(source) = catalog::find_source_by_name(&mut conn, "audit-bench").expect("find") {
        return source.id;
    }
    let new = NewSource {
        name: "audit-bench".into(),
        kind: "sqlite".into(),
        connection_kind: "url".into(),
        connection_ref: "/dev/null".into(),
        default_schema: "main".into(),
        description: None,
        owner: None,
        created_at: now(),
        updated_at: now(),
    };
    dialect::write_transaction(&mut conn, |c| catalog::insert_source(c, &new)).expect("insert source").id
}

fn mutation(c: &mut Criterion, backend: &str, db: &Db) {
    let id = source_id(db);
    let mut conn = db.writer().expect("writer");
    if dialect::backend(&conn) == Backend::Postgres {
        // Both variants wait for one WAL flush at commit, whose time is the disk's and varies by
        // milliseconds on a shared machine; without it the difference is the event's own cost.
        diesel::sql_query("SET synchronous_commit TO off").execute(&mut conn).expect("synchronous_commit");
    }
    let mut group = c.benchmark_group(format!("{backend}: mutation"));
    group.sample_size(200).measurement_time(Duration::from_secs(5));
    let mut i = 0i64;
    group.bench_function("alone", |b| {
        b.iter(|| {
            i += 1;
            let description = format!("revision {i}");
            dialect::write_transaction(&mut conn, |c| {
                catalog::update_source_details(c, id, Some(&description), Some("sales"), now())
            })
            .expect("update")
        })
    });
    group.bench_function("with its audit event", |b| {
        b.iter(|| {
            i += 1;
            let description = format!("revision {i}");
            dialect::write_transaction(&mut conn, |c| {
                catalog::update_source_details(c, id, Some(&description), Some("sales"), now())?;
                let event = NewAuditEvent::new("alice", "source.update", "source")
                    .role("steward")
                    .entity_id(id)
                    .before(json!({"description": format!("revision {}", i - 1), "owner": "sales"}))
                    .after(json!({"description": description, "owner": "sales"}))
                    .request_id(format!("0192f7a0-0000-7000-8000-{i:012x}"));
                audit::append(c, &event, now())
            })
            .expect("update and append")
        })
    });
    group.finish();
}

fn verify(c: &mut Criterion, backend: &str, db: &Db) {
    let n = chain_length();
    seed(db, n);
    settle(db);
    let mut group = c.benchmark_group(format!("{backend}: verify"));
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(30));
    group.bench_function(format!("chain of {n} events"), |b| {
        b.iter(|| {
            let mut conn = db.reader().expect("reader");
            let head = audit::verify_chain(&mut conn, None, |_, _| {}).expect("read").expect("intact");
            assert!(head.seq >= n);
        })
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let dir = bench_dir();
    let fresh = dir.join("audit-mutation.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", fresh.display()));
    }
    mutation(c, "sqlite", &open(CatalogUrl::Sqlite(fresh)));
    let postgres = std::env::var("CUSTODIAN_BENCH_POSTGRES_URL").ok().map(|url| open(CatalogUrl::Postgres(url)));
    if let Some(db) = &postgres {
        mutation(c, "postgres", db);
    }
    verify(c, "sqlite", &open(CatalogUrl::Sqlite(dir.join(format!("audit-{}.db", chain_length())))));
    if let Some(db) = &postgres {
        verify(c, "postgres", db);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
