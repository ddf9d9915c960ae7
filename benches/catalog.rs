//! Catalog page speed on a large synthetic catalog (issue 2's targets: the first page of a search
//! under 50 ms and a dataset page under 20 ms, median, at 100,000 datasets and 1,000,000 columns).
//!
//! Requests go through the real app (routing, handlers, queries, templates) in-process.
//!
//!     cargo bench --bench catalog                        # SQLite, seeded once into target/bench/
//!     CUSTODIAN_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/custodian_bench cargo bench --bench catalog
//!
//! `CUSTODIAN_BENCH_DATASETS` (default 100000, ten columns each) sets the size. A catalog is
//! seeded with `custodian dev seed` logic when it is empty, which takes about 40 s.

use std::path::PathBuf;
use std::time::Duration;

use actix_web::test::{self, TestRequest};
use criterion::{Criterion, criterion_group, criterion_main};
use custodian::commands::{seed, serve};
use custodian::config::Config;
use custodian::db::{CatalogUrl, Db, catalog, now};

fn datasets() -> usize {
    std::env::var("CUSTODIAN_BENCH_DATASETS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

fn open(url: CatalogUrl) -> (Config, Db) {
    let mut config = Config::with_database(url);
    config.run_worker = false;
    let db = Db::open(&config.database_url, &config.pool_settings()).expect("open the bench catalog");
    let counts = catalog::catalog_counts(&mut db.reader().expect("conn")).expect("counts");
    if counts.datasets == 0 {
        eprintln!("seeding {} datasets into {} (once)…", datasets(), config.database_url.redacted());
        seed::run(&db, &seed::SeedArgs { datasets: datasets(), columns_per_dataset: 10, sources: 10 }).expect("seed");
    }
    (config, db)
}

/// A viewer's session token: pages are read signed in, as people read them.
fn session(db: &Db, config: &Config) -> String {
    use custodian::accounts;
    use custodian::governance::access::Role;
    let mut conn = db.writer().expect("conn");
    let user = match custodian::db::accounts::find_user_by_name(&mut conn, "bench-viewer").expect("query") {
        Some(user) => user,
        None => accounts::create_user(&mut conn, "bench-viewer", None, Role::Viewer, "bench viewer password", now())
            .expect("bench user"),
    };
    accounts::start_session(&mut conn, &user, &config.session_policy, now()).expect("session").token
}

fn catalogs() -> Vec<(&'static str, Config, Db)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let (config, db) = open(CatalogUrl::Sqlite(dir.join(format!("catalog-{}.db", datasets()))));
    let mut out = vec![("sqlite", config, db)];
    if let Ok(url) = std::env::var("CUSTODIAN_BENCH_POSTGRES_URL") {
        let (config, db) = open(CatalogUrl::Postgres(url));
        out.push(("postgres", config, db));
    }
    out
}

fn bench(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    for (backend, config, db) in catalogs() {
        let cookie = session(&db, &config);
        let state = serve::state(config, db).expect("state");
        let cookie = custodian::web::auth::session_cookie(&state, &cookie);
        let app = system.block_on(test::init_service(custodian::app(state)));
        let get = |path: String| {
            let req = TestRequest::get().uri(&path).cookie(cookie.clone()).to_request();
            let res = system.block_on(test::call_service(&app, req));
            assert!(res.status().is_success(), "{path}: {}", res.status());
        };
        let mut group = c.benchmark_group(backend);
        group.sample_size(50).measurement_time(Duration::from_secs(5));
        for q in ["email", "mail", "customer_daily", "status", "recorded source", "xyzzy"] {
            let path = format!("/search?q={}", q.replace(' ', "+"));
            group.bench_function(format!("search first page: {q}"), |b| b.iter(|| get(path.clone())));
        }
        let mut id = 0;
        let n = datasets() as i64;
        group.bench_function("dataset page", |b| {
            b.iter(|| {
                id = (id + 7919) % n + 1;
                get(format!("/datasets/{id}"))
            })
        });
        group.bench_function("dataset list, first page", |b| b.iter(|| get("/datasets".into())));
        group.bench_function("home page", |b| b.iter(|| get("/".into())));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
