//! Classification at scale (issue 5's targets): propagation over 1,000,000 column-lineage edges
//! with 200,000 tagged columns under 5 s, and the workbench's first page with filters on
//! 1,000,000 columns under 100 ms.
//!
//!     cargo bench --bench classification
//!
//! The catalog (target/bench/classification.db) is seeded once: 100,000 datasets of ten columns
//! (`custodian dev seed`), one pipeline whose 1,000,000 column edges link ten layers of 100,000
//! columns (each column feeds one or two in the next layer, so paths run up to nine hops; one
//! edge in ten is an aggregate), and 200,000 columns with a confirmed category (one in fifty also
//! an identifier). The first full propagation (writing every propagated row) is timed once and
//! printed; criterion then measures the engine alone, a full recompute that finds nothing
//! changed, and the recompute after one column's tags change (what a click costs).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use actix_web::test::{self, TestRequest};
use criterion::{Criterion, criterion_group, criterion_main};
use custodian::commands::{seed, serve};
use custodian::config::Config;
use custodian::db::{CatalogUrl, Db, catalog, dialect, now};
use custodian::propagation::{self, Scope};
use diesel::RunQueryDsl;

const DATASETS: usize = 100_000;
const COLUMNS: i64 = 1_000_000;
const LAYER: i64 = 100_000;

fn open() -> (Config, Db) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let mut config = Config::with_database(CatalogUrl::Sqlite(dir.join("classification.db")));
    config.run_worker = false;
    let db = Db::open(&config.database_url, &config.pool_settings()).expect("open the bench catalog");
    let counts = catalog::catalog_counts(&mut db.reader().expect("conn")).expect("counts");
    if counts.datasets == 0 {
        eprintln!("seeding {DATASETS} datasets, {COLUMNS} edges and 200,000 tags (once)…");
        seed::run(&db, &seed::SeedArgs { datasets: DATASETS, columns_per_dataset: 10, sources: 10 }).expect("seed");
        seed_lineage_and_tags(&db);
        let started = Instant::now();
        let done = {
            let mut conn = db.writer().expect("conn");
            dialect::write_transaction(&mut conn, |conn| propagation::refresh(conn, Scope::All)).expect("propagate")
        };
        eprintln!(
            "first full propagation: {:.2} s ({} edges, {} seeds, {} propagated tags written on {} columns)",
            started.elapsed().as_secs_f64(),
            done.edges,
            done.seeds,
            done.propagated,
            done.columns_changed
        );
    }
    (config, db)
}

fn seed_lineage_and_tags(db: &Db) {
    let mut conn = db.writer().expect("conn");
    let ts = "'2026-11-27 00:00:00'";
    let statements = [
        format!(
            "INSERT INTO pipelines (id, name, path, source_id, dialect, default_schema, content_hash, sql_text, \
             statement_count, status, errors, degraded, table_edge_count, column_edge_count, ingested_by, \
             created_at, ingested_at, updated_at) VALUES (1, 'synthetic.sql', 'bench/synthetic.sql', 1, 'generic', \
             'public', '', '', 1, 'ok', '[]', 0, 0, {COLUMNS}, 'bench', {ts}, {ts}, {ts})"
        ),
        // Every column of the first nine layers feeds one column of the next layer...
        format!(
            "INSERT INTO column_lineage_edges (pipeline_id, statement_index, from_column_id, to_column_id, kind) \
             SELECT 1, 1, id, {LAYER} + id - (id % 1000) + ((id * 7919) % 1000), \
             CASE WHEN id % 10 = 0 THEN 'aggregate' WHEN id % 3 = 0 THEN 'identity' ELSE 'transform' END \
             FROM dataset_columns WHERE id <= {}",
            COLUMNS - LAYER
        ),
        // ...and one in nine feeds a second one.
        format!(
            "INSERT INTO column_lineage_edges (pipeline_id, statement_index, from_column_id, to_column_id, kind) \
             SELECT 1, 1, id, {LAYER} + id - (id % 1000) + ((id * 104729) % 1000), 'transform' \
             FROM dataset_columns WHERE id <= {} AND id % 9 = 0",
            COLUMNS - LAYER
        ),
        format!(
            "INSERT INTO column_categories (column_id, category_id, created_at, created_by) \
             SELECT id, 1 + (id / 5) % (SELECT COUNT(*) FROM personal_data_categories), {ts}, 'bench' \
             FROM dataset_columns WHERE id % 5 = 0"
        ),
        format!(
            "INSERT INTO column_classifications (column_id, level_id, identifier_type_id, updated_at, updated_by) \
             SELECT id, NULL, 1, {ts}, 'bench' FROM dataset_columns WHERE id % 50 = 0"
        ),
    ];
    for sql in statements {
        diesel::sql_query(sql).execute(&mut *conn).expect("seed lineage and tags");
    }
    let ids: Vec<i64> = (1..=COLUMNS).collect();
    custodian::db::classification::refresh_summaries(&mut conn, &ids).expect("summaries");
    dialect::refresh_statistics(&mut conn, 3_000_000).expect("statistics");
}

/// A compliance officer's session token.
fn session(db: &Db, config: &Config) -> String {
    use custodian::accounts;
    use custodian::governance::access::Role;
    let mut conn = db.writer().expect("conn");
    let user = match custodian::db::accounts::find_user_by_name(&mut conn, "bench-compliance").expect("query") {
        Some(user) => user,
        None => accounts::create_user(&mut conn, "bench-compliance", None, Role::Compliance, "bench password", now())
            .expect("bench user"),
    };
    accounts::start_session(&mut conn, &user, &config.session_policy, now()).expect("session").token
}

fn bench(c: &mut Criterion) {
    let (config, db) = open();

    let mut group = c.benchmark_group("propagation");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let (edges, own, blocked) = {
        use custodian::db::propagation as repo;
        let mut conn = db.reader().expect("conn");
        (repo::all_edges(&mut conn).expect("edges"), repo::own_tags(&mut conn, None).expect("tags"), Default::default())
    };
    eprintln!("{} edges, {} tagged columns", edges.len(), own.categories.len());
    group.bench_function("engine: 1M edges, 200k tagged columns", |b| {
        b.iter(|| propagation::compute(&edges, &blocked, &own, Default::default()).len())
    });
    group.bench_function("full recompute, nothing changed", |b| {
        b.iter(|| {
            let mut conn = db.writer().expect("conn");
            dialect::write_transaction(&mut conn, |conn| propagation::refresh(conn, Scope::All)).expect("refresh")
        })
    });
    // One column in the first layer: everything downstream of it is recomputed.
    let mut column = 5;
    group.bench_function("recompute after one column changes", |b| {
        b.iter(|| {
            column = (column + 7_919 * 5) % LAYER;
            let mut conn = db.writer().expect("conn");
            dialect::write_transaction(&mut conn, |conn| propagation::refresh(conn, Scope::From(&[column.max(1)])))
                .expect("refresh")
        })
    });
    group.finish();

    let system = actix_web::rt::System::new();
    let cookie = session(&db, &config);
    let state = serve::state(config, db).expect("state");
    let cookie = custodian::web::auth::session_cookie(&state, &cookie);
    let app = system.block_on(test::init_service(custodian::app(state)));
    let get = |path: &str| {
        let req = TestRequest::get().uri(path).cookie(cookie.clone()).to_request();
        let res = system.block_on(test::call_service(&app, req));
        assert!(res.status().is_success(), "{path}: {}", res.status());
    };
    let mut group = c.benchmark_group("workbench");
    group.sample_size(30).measurement_time(Duration::from_secs(5));
    for (name, path) in [
        ("no filter", "/classification"),
        ("personal data", "/classification?personal=true"),
        ("propagated", "/classification?propagated=true"),
        ("level Confidential", "/classification?level=2"),
        ("category", "/classification?category=7"),
        ("unclassified in a source", "/classification?unclassified=true&source=3"),
        ("category in a source", "/classification?category=7&source=9"),
        ("has suggestion", "/classification?suggested=true"),
    ] {
        group.bench_function(name, |b| b.iter(|| get(path)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
