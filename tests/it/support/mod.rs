//! Test support: fresh catalogs on every available backend, the real app booted on them, and
//! target databases (SQLite files and PostgreSQL databases) built from SQL.

pub mod targets;

use std::sync::atomic::{AtomicU32, Ordering};

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use actix_web::web;
use custodian::AppState;
use custodian::accounts;
use custodian::config::Config;
use custodian::db::{CatalogUrl, Db, now};
use custodian::governance::access::Role;
use diesel::PgConnection;
use diesel::prelude::*;

/// The PostgreSQL server tests may use, from `CUSTODIAN_TEST_POSTGRES_URL`.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var("CUSTODIAN_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or test run) uses.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A fresh PostgreSQL database, dropped when this is dropped.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl PgDatabase {
    pub fn create(prefix: &str) -> Option<Self> {
        let admin_url = postgres_admin_url()?;
        let name = unique_name(prefix);
        let mut admin = PgConnection::establish(&admin_url).expect("connect to CUSTODIAN_TEST_POSTGRES_URL");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).expect("create test database");
        let url = replace_database(&admin_url, &name);
        Some(Self { name, url, admin_url })
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to test database")
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                .execute(&mut admin);
        }
    }
}

/// `postgres://u@h:p/db?x` with another database name.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    match base[scheme_end..].find('/') {
        Some(slash) => format!("{}/{name}{query}", &base[..scheme_end + slash]),
        None => format!("{base}/{name}{query}"),
    }
}

/// A fresh, empty catalog: an SQLite file in a temporary directory, or a PostgreSQL database.
pub enum TestCatalog {
    Sqlite { dir: tempfile::TempDir },
    Postgres(PgDatabase),
}

impl TestCatalog {
    pub fn sqlite() -> Self {
        Self::Sqlite { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn postgres() -> Option<Self> {
        PgDatabase::create("custodian_catalog").map(Self::Postgres)
    }

    /// Every backend this run can test: SQLite always, PostgreSQL when configured.
    pub fn all() -> Vec<Self> {
        let mut out = vec![Self::sqlite()];
        out.extend(Self::postgres());
        out
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    pub fn url(&self) -> CatalogUrl {
        match self {
            Self::Sqlite { dir } => CatalogUrl::Sqlite(dir.path().join("catalog.db")),
            Self::Postgres(db) => CatalogUrl::Postgres(db.url.clone()),
        }
    }

    pub fn config(&self) -> Config {
        let mut config = Config::with_database(self.url());
        config.run_worker = false;
        config.pool_size = 4;
        if let Self::Postgres(db) = self {
            // Not the working directory's custodian.key: a key per test catalog.
            config.key_file = Some(std::env::temp_dir().join(format!("{}.key", db.name)));
        }
        config
    }

    /// Opens (and migrates) the catalog.
    pub fn open(&self) -> Db {
        let config = self.config();
        Db::open(&config.database_url, &config.pool_settings()).expect("open catalog")
    }
}

/// A signed-in session: the cookie to send and the CSRF token its forms carry.
#[derive(Clone, Debug)]
pub struct TestSession {
    pub username: String,
    pub password: String,
    pub cookie: actix_web::cookie::Cookie<'static>,
    pub csrf: String,
}

/// The real application on a fresh catalog, driven in-process. Requests are made as the
/// current session (a steward unless a test signs in as someone else, or signs out).
pub struct TestApp {
    pub catalog: TestCatalog,
    pub db: Db,
    pub state: web::Data<AppState>,
    session: std::cell::RefCell<Option<TestSession>>,
}

/// A response, read whole.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

impl TestApp {
    pub fn new(catalog: TestCatalog) -> Self {
        let db = catalog.open();
        let state = custodian::commands::serve::state(catalog.config(), db.clone()).expect("state");
        let app = Self { catalog, db, state, session: std::cell::RefCell::new(None) };
        app.sign_in_as(Role::Steward);
        app
    }

    /// Creates a user with `role` (named after it, made unique) and a session for them.
    pub fn user(&self, role: Role) -> TestSession {
        let username = unique_name(role.as_str()).replace('_', "-");
        let username: String = username.chars().take(60).collect();
        let password = "a test password for everyone".to_owned();
        let mut conn = self.db.writer().expect("conn");
        let user = accounts::create_user(&mut conn, &username, None, role, &password, now()).expect("create user");
        let started =
            accounts::start_session(&mut conn, &user, &self.state.config.session_policy, now()).expect("session");
        TestSession {
            username,
            password,
            cookie: custodian::web::auth::session_cookie(&self.state, &started.token),
            csrf: started.session.csrf_token,
        }
    }

    /// Makes further requests as a new user with `role`; returns their session.
    pub fn sign_in_as(&self, role: Role) -> TestSession {
        let session = self.user(role);
        self.use_session(Some(session.clone()));
        session
    }

    /// Makes further requests with this session, or none.
    pub fn use_session(&self, session: Option<TestSession>) {
        *self.session.borrow_mut() = session;
    }

    pub fn current_session(&self) -> Option<TestSession> {
        self.session.borrow().clone()
    }

    /// One app per available backend.
    pub fn all() -> Vec<Self> {
        TestCatalog::all().into_iter().map(Self::new).collect()
    }

    pub async fn send(&self, req: TestRequest) -> Response {
        let req = match self.current_session() {
            Some(session) => req.cookie(session.cookie),
            None => req,
        };
        self.send_raw(req).await
    }

    /// Sends the request as it is, without the current session's cookie.
    pub async fn send_raw(&self, req: TestRequest) -> Response {
        let app = test::init_service(custodian::app(self.state.clone())).await;
        let res = test::call_service(&app, req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
        Response { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(TestRequest::get().uri(path)).await
    }

    /// Posts a form with the current session's CSRF token added.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let csrf = self.current_session().map(|s| s.csrf).unwrap_or_default();
        let mut fields: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post_form_exactly(path, &fields).await
    }

    /// Posts exactly these fields (no CSRF token unless given).
    pub async fn post_form_exactly(&self, path: &str, form: &[(&str, &str)]) -> Response {
        let body: String =
            form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        self.send(
            TestRequest::post()
                .uri(path)
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(body),
        )
        .await
    }

    /// Runs every queued crawl now (the worker is off in tests).
    pub fn run_queued_crawls(&self) {
        while custodian::jobs::crawl::run_next(&self.db, &self.state.progress).expect("run crawl") {}
    }
}

pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Asserts `haystack` contains `needle`, showing the haystack when it does not.
#[track_caller]
pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(haystack.contains(needle), "expected to find {needle:?} in:\n{haystack}");
}

#[track_caller]
pub fn assert_not_contains(haystack: &str, needle: &str) {
    assert!(!haystack.contains(needle), "expected not to find {needle:?} in:\n{haystack}");
}

/// Serves `state` on a free local port as `custodian serve` does (with `workers` HTTP workers);
/// returns the base URL and the handle that stops it.
pub fn serve(state: web::Data<AppState>, workers: usize) -> (String, actix_web::dev::ServerHandle) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = custodian::commands::serve::server(state, listener, workers).expect("server");
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (base, handle)
}
