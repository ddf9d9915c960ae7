//! Accounts, roles and web security: which roles may perform each mutation (and that nothing
//! changes when they may not), CSRF on every form, sign-in with throttling, session timeouts and
//! rotation, and API tokens.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::TimeDelta;
use custodian::db::schema::{api_tokens, dataset_columns, datasets, sessions, sources, users};
use custodian::db::{Db, now};
use custodian::governance::access::Role;
use diesel::prelude::*;

use crate::support::targets::Target;
use crate::support::{TestApp, TestCatalog, TestSession, assert_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id));
";

/// Everything a mutation route could change, read back in one value.
fn fingerprint(db: &Db) -> String {
    let mut conn = db.reader().expect("conn");
    let sources: Vec<(String, Option<String>, Option<String>)> = sources::table
        .order(sources::id)
        .select((sources::name, sources::description, sources::owner))
        .load(&mut *conn)
        .expect("sources");
    let datasets: Vec<(i64, Option<String>, Option<String>, String)> = datasets::table
        .order(datasets::id)
        .select((datasets::id, datasets::description, datasets::owner, datasets::status))
        .load(&mut *conn)
        .expect("datasets");
    let columns: Vec<(i64, Option<String>)> = dataset_columns::table
        .order(dataset_columns::id)
        .select((dataset_columns::id, dataset_columns::description))
        .load(&mut *conn)
        .expect("columns");
    let users: Vec<(String, String, bool, String)> = users::table
        .order(users::id)
        .select((users::username, users::role, users::disabled, users::password_hash))
        .load(&mut *conn)
        .expect("users");
    let tokens: Vec<(String, Option<chrono::NaiveDateTime>)> = api_tokens::table
        .order(api_tokens::id)
        .select((api_tokens::name, api_tokens::revoked_at))
        .load(&mut *conn)
        .expect("tokens");
    let runs: i64 = custodian::db::schema::crawl_runs::table.count().get_result(&mut *conn).expect("runs");
    format!("{sources:?}{datasets:?}{columns:?}{users:?}{tokens:?}{runs}")
}

struct Fixture {
    app: TestApp,
    _target: Target,
    source: i64,
    dataset: i64,
    column: i64,
    user: i64,
    token: i64,
}

async fn fixture(app: TestApp) -> Fixture {
    let target = Target::sqlite(TARGET);
    let res = app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let source: i64 = res.location().trim_start_matches("/sources/").parse().expect("id");
    app.run_queued_crawls();
    let detail = app.get("/api/v1/datasets?kind=table").await.json();
    let dataset = detail["items"][0]["id"].as_i64().expect("dataset");
    let columns = app.get(&format!("/api/v1/datasets/{dataset}")).await.json();
    let column = columns["columns"][0]["id"].as_i64().expect("column");
    let target_user = app.user(Role::Viewer);
    let user: i64 = users::table
        .filter(users::username.eq(&target_user.username))
        .select(users::id)
        .first(&mut *app.db.reader().expect("conn"))
        .expect("user id");
    let mut conn = app.db.writer().expect("conn");
    let token =
        custodian::accounts::create_api_token(&mut conn, "fixture", Role::Viewer, None, now()).expect("token").token.id;
    drop(conn);
    Fixture { app, _target: target, source, dataset, column, user, token }
}

/// A form-posting route of the web app: its path, a valid form, and the roles that may post it.
struct Route {
    path: String,
    fields: Vec<(&'static str, String)>,
    allowed: Vec<Role>,
}

fn route(path: String, fields: Vec<(&'static str, String)>, allowed: &[Role]) -> Route {
    Route { path, fields, allowed: allowed.to_vec() }
}

/// Every mutation route of the web app.
fn mutation_routes(f: &Fixture) -> Vec<Route> {
    let steward = vec![Role::Steward];
    let admin = vec![Role::Admin];
    vec![
        route("/sources".into(), vec![("name", "another".into()), ("url", "postgres://r@h/db".into())], &steward),
        route(
            format!("/sources/{}/edit", f.source),
            vec![("description", "changed".into()), ("owner", "x".into())],
            &steward,
        ),
        route(format!("/sources/{}/crawl", f.source), vec![], &steward),
        route(format!("/datasets/{}/edit", f.dataset), vec![("description", "changed".into())], &steward),
        route(
            format!("/datasets/{}/columns/{}/edit", f.dataset, f.column),
            vec![("description", "changed".into())],
            &steward,
        ),
        route(
            "/admin/users".into(),
            vec![
                ("username", "newperson".into()),
                ("role", "viewer".into()),
                ("password", "a long enough password".into()),
            ],
            &admin,
        ),
        route(format!("/admin/users/{}/role", f.user), vec![("role", "steward".into())], &admin),
        route(format!("/admin/users/{}/disable", f.user), vec![], &admin),
        route(format!("/admin/users/{}/password", f.user), vec![("password", "another long password".into())], &admin),
        route("/admin/tokens".into(), vec![("name", "ci".into()), ("role", "viewer".into())], &admin),
        route(format!("/admin/tokens/{}/revoke", f.token), vec![], &admin),
    ]
}

#[actix_web::test]
async fn every_mutation_route_admits_exactly_its_roles_and_changes_nothing_otherwise() {
    for role in Role::ALL {
        for backend_app in TestApp::all() {
            let f = fixture(backend_app).await;
            let ctx = format!("{} as {role}", f.app.catalog.label());
            let routes = mutation_routes(&f);
            f.app.sign_in_as(role);
            for Route { path, fields, allowed } in routes {
                let before = fingerprint(&f.app.db);
                let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let res = f.app.post_form(&path, &form).await;
                if allowed.contains(&role) {
                    assert!(
                        res.status.is_success() || res.status.is_redirection(),
                        "{ctx}: {path} refused: {} {}",
                        res.status,
                        res.body
                    );
                    assert_ne!(fingerprint(&f.app.db), before, "{ctx}: {path} changed nothing");
                } else {
                    assert_eq!(res.status, StatusCode::FORBIDDEN, "{ctx}: {path} was not refused");
                    assert_contains(&res.body, "you need the role of");
                    assert_eq!(fingerprint(&f.app.db), before, "{ctx}: refused {path} changed something");
                }
            }
        }
    }
}

#[actix_web::test]
async fn sensitive_pages_are_shown_to_their_roles_only() {
    let app = TestApp::new(TestCatalog::sqlite());
    let f = fixture(app).await;
    for role in Role::ALL {
        f.app.sign_in_as(role);
        for (path, allowed) in [
            ("/admin/users".to_owned(), role == Role::Admin),
            ("/admin/tokens".to_owned(), role == Role::Admin),
            (format!("/admin/users/{}", f.user), role == Role::Admin),
            ("/sources/new".to_owned(), role == Role::Steward),
            (format!("/sources/{}/edit", f.source), role == Role::Steward),
            (format!("/datasets/{}/edit", f.dataset), role == Role::Steward),
        ] {
            let res = f.app.get(&path).await;
            let expected = if allowed { StatusCode::OK } else { StatusCode::FORBIDDEN };
            assert_eq!(res.status, expected, "{role} {path}");
        }
        // Everyone reads the catalog; only stewards see edit links.
        let page = f.app.get(&format!("/datasets/{}", f.dataset)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.body.contains("/edit\""), role == Role::Steward, "{role}: edit links");
        assert_eq!(page.body.contains(">Admin</a>"), role == Role::Admin, "{role}: admin link");
    }
}

#[actix_web::test]
async fn every_form_refuses_a_missing_or_wrong_csrf_token() {
    for role in [Role::Steward, Role::Admin] {
        let f = fixture(TestApp::new(TestCatalog::sqlite())).await;
        let routes = mutation_routes(&f);
        let session = f.app.sign_in_as(role);
        let mut routes: Vec<(String, Vec<(&'static str, String)>)> =
            routes.into_iter().filter(|r| r.allowed.contains(&role)).map(|r| (r.path, r.fields)).collect();
        routes.push(("/logout".into(), vec![]));
        for (path, fields) in routes {
            for token in [None, Some("wrong-token"), Some("")] {
                let before = fingerprint(&f.app.db);
                let mut form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                if let Some(t) = token {
                    form.push(("csrf_token", t));
                }
                let res = f.app.post_form_exactly(&path, &form).await;
                assert_eq!(res.status, StatusCode::FORBIDDEN, "{role} {path} with token {token:?}");
                assert_contains(&res.body, "security token");
                assert_eq!(fingerprint(&f.app.db), before, "{path}: a refused form changed something");
            }
            // Another session's token is wrong too.
            let other = f.app.user(role);
            let form: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).chain([("csrf_token", other.csrf.as_str())]).collect();
            assert_eq!(
                f.app.post_form_exactly(&path, &form).await.status,
                StatusCode::FORBIDDEN,
                "{path}: another session's token"
            );
        }
        // The logout above was refused, so the session still works.
        f.app.use_session(Some(session));
        assert_eq!(f.app.get("/").await.status, StatusCode::OK);
    }
}

async fn login_page_csrf(app: &TestApp) -> (String, actix_web::cookie::Cookie<'static>) {
    let res = app.send_raw(TestRequest::get().uri("/login")).await;
    assert_eq!(res.status, StatusCode::OK);
    let cookie = res
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("custodian_csrf="))
        .map(|v| actix_web::cookie::Cookie::parse(v.to_owned()).expect("cookie"))
        .expect("a CSRF cookie");
    (cookie.value().to_owned(), cookie)
}

async fn login(app: &TestApp, username: &str, password: &str, address: &str) -> crate::support::Response {
    login_with(app, username, password, address, None).await
}

/// Signs in, optionally while still holding an earlier session's cookie.
async fn login_with(
    app: &TestApp,
    username: &str,
    password: &str,
    address: &str,
    previous: Option<actix_web::cookie::Cookie<'static>>,
) -> crate::support::Response {
    let (csrf, cookie) = login_page_csrf(app).await;
    let body = format!(
        "csrf_token={csrf}&username={}&password={}&next=%2Fdatasets",
        crate::support::encode(username),
        crate::support::encode(password)
    );
    let mut req = TestRequest::post()
        .uri("/login")
        .peer_addr(address.parse().expect("address"))
        .cookie(cookie)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body);
    if let Some(previous) = previous {
        req = req.cookie(previous);
    }
    app.send_raw(req).await
}

fn session_cookie(res: &crate::support::Response) -> actix_web::cookie::Cookie<'static> {
    res.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("custodian_session="))
        .map(|v| actix_web::cookie::Cookie::parse(v.to_owned()).expect("cookie"))
        .expect("a session cookie")
}

#[actix_web::test]
async fn signing_in_sets_a_safe_cookie_and_signing_out_ends_the_session() {
    for app in TestApp::all() {
        app.use_session(None);
        let anonymous = app.get("/datasets?kind=table").await;
        assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
        assert_eq!(anonymous.location(), "/login?next=%2Fdatasets%3Fkind%3Dtable");
        let api = app.get("/api/v1/datasets").await;
        assert_eq!(api.status, StatusCode::UNAUTHORIZED);
        assert_eq!(api.json()["error"]["key"], "unauthenticated");

        let person: TestSession = app.user(Role::Viewer);
        let wrong = login(&app, &person.username, "not the password", "10.0.0.1:1000").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_contains(&wrong.body, "Wrong username or password.");
        let unknown = login(&app, "nobody-at-all", "not the password", "10.0.0.1:1000").await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_contains(&unknown.body, "Wrong username or password.");

        let ok = login(&app, &person.username, &person.password, "10.0.0.1:1000").await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
        assert_eq!(ok.location(), "/datasets");
        let raw = ok.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let cookie = session_cookie(&ok);
        assert!(raw.contains("HttpOnly") && raw.contains("SameSite=Lax"), "{raw}");
        assert_ne!(cookie.value(), person.cookie.value(), "a new session per sign-in");

        app.use_session(Some(TestSession { cookie: cookie.clone(), ..person.clone() }));
        assert_eq!(app.get("/").await.status, StatusCode::OK);
        // Signing in again (here while holding the session) rotates: the old cookie stops working.
        let rotated = login_with(&app, &person.username, &person.password, "10.0.0.1:1000", Some(cookie.clone())).await;
        assert_eq!(rotated.status, StatusCode::SEE_OTHER, "{}", rotated.body);
        assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER, "the session before the rotation still works");
        let cookie = session_cookie(&rotated);
        app.use_session(Some(TestSession { cookie: cookie.clone(), ..person.clone() }));
        assert_eq!(app.get("/").await.status, StatusCode::OK);

        // Signing out ends the session on the server.
        let csrf: String = sessions::table
            .filter(sessions::token_hash.eq(custodian::accounts::token_hash(
                custodian::web::auth::session_token_of_cookie(&app.state, &cookie).as_deref().unwrap_or(""),
            )))
            .select(sessions::csrf_token)
            .first(&mut *app.db.reader().expect("conn"))
            .expect("session row");
        let out = app
            .send(
                TestRequest::post()
                    .uri("/logout")
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .set_payload(format!("csrf_token={csrf}")),
            )
            .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert_eq!(out.location(), "/login");
        assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER, "the old cookie still works after sign-out");
    }
}

#[actix_web::test]
async fn failed_sign_ins_are_throttled_per_account_and_per_address() {
    let app = TestApp::new(TestCatalog::sqlite());
    app.use_session(None);
    let person = app.user(Role::Steward);
    for i in 0..5 {
        let res = login(&app, &person.username, "wrong password", &format!("10.1.0.{i}:1")).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // Five failures on the account: even the right password from another address waits.
    let locked = login(&app, &person.username, &person.password, "10.9.9.9:1").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_contains(&locked.body, "Try again in 15 minutes");

    // Twenty failures from one address lock that address for every account.
    let other = app.user(Role::Viewer);
    for i in 0..20 {
        let res = login(&app, &format!("guess{i}"), "wrong password", "10.2.0.1:1").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_eq!(login(&app, &other.username, &other.password, "10.2.0.1:1").await.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login(&app, &other.username, &other.password, "10.3.0.1:1").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn idle_expired_and_disabled_sessions_end() {
    let app = TestApp::new(TestCatalog::sqlite());
    let idle = app.sign_in_as(Role::Viewer);
    assert_eq!(app.get("/").await.status, StatusCode::OK);
    let mut conn = app.db.writer().expect("conn");
    let hash = custodian::accounts::token_hash(
        &custodian::web::auth::session_token_of_cookie(&app.state, &idle.cookie).expect("token"),
    );
    diesel::update(sessions::table.filter(sessions::token_hash.eq(&hash)))
        .set(sessions::last_seen_at.eq(now() - TimeDelta::minutes(31)))
        .execute(&mut *conn)
        .expect("age the session");
    drop(conn);
    assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER, "an idle session still works");

    let old = app.sign_in_as(Role::Viewer);
    let hash = custodian::accounts::token_hash(
        &custodian::web::auth::session_token_of_cookie(&app.state, &old.cookie).expect("token"),
    );
    diesel::update(sessions::table.filter(sessions::token_hash.eq(&hash)))
        .set(sessions::expires_at.eq(now() - TimeDelta::seconds(1)))
        .execute(&mut *app.db.writer().expect("conn"))
        .expect("expire the session");
    assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER, "an expired session still works");

    let person = app.sign_in_as(Role::Viewer);
    assert_eq!(app.get("/").await.status, StatusCode::OK);
    diesel::update(users::table.filter(users::username.eq(&person.username)))
        .set(users::disabled.eq(true))
        .execute(&mut *app.db.writer().expect("conn"))
        .expect("disable");
    assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER, "a disabled user's session still works");
    // A tampered cookie is no session at all.
    let mut forged = person.cookie.clone();
    forged.set_value(format!("{}x", forged.value()));
    app.use_session(Some(TestSession { cookie: forged, ..person }));
    assert_eq!(app.get("/").await.status, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn api_tokens_authenticate_api_writes_and_can_be_revoked() {
    for app in TestApp::all() {
        let f = fixture(app).await;
        let app = &f.app;
        let mut conn = app.db.writer().expect("conn");
        let steward =
            custodian::accounts::create_api_token(&mut conn, "etl", Role::Steward, None, now()).expect("token");
        let viewer =
            custodian::accounts::create_api_token(&mut conn, "reader", Role::Viewer, None, now()).expect("token");
        drop(conn);
        assert!(steward.secret.starts_with("cus_"));
        let stored: String = api_tokens::table
            .find(steward.token.id)
            .select(api_tokens::token_hash)
            .first(&mut *app.db.reader().expect("conn"))
            .expect("hash");
        assert_ne!(stored, steward.secret, "the token is stored hashed");

        let patch = |secret: Option<&str>, body: &str| {
            let mut req = TestRequest::patch()
                .uri(&format!("/api/v1/datasets/{}", f.dataset))
                .insert_header(("content-type", "application/json"))
                .set_payload(body.to_owned());
            if let Some(s) = secret {
                req = req.insert_header(("authorization", format!("Bearer {s}")));
            }
            req
        };
        // A browser session cannot write through the API, even as a steward.
        let with_session = app.send(patch(None, r#"{"owner": "data-team"}"#)).await;
        assert_eq!(with_session.status, StatusCode::UNAUTHORIZED, "{}", with_session.body);
        app.use_session(None);
        let ok = app.send(patch(Some(&steward.secret), r#"{"owner": "data-team", "description": "Buyers"}"#)).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
        assert_eq!(ok.json()["owner"], "data-team");
        let cleared = app.send(patch(Some(&steward.secret), r#"{"owner": null}"#)).await.json();
        assert!(cleared["owner"].is_null());
        assert_eq!(cleared["description"], "Buyers", "an absent field is left as it was");
        let bad = app.send(patch(Some(&steward.secret), r#"{"colour": "red"}"#)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert_eq!(app.send(patch(Some(&viewer.secret), r#"{"owner": "x"}"#)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.send(patch(Some("cus_not-a-real-token"), r#"{"owner": "x"}"#)).await.status,
            StatusCode::UNAUTHORIZED
        );
        let read = app
            .send(
                TestRequest::get()
                    .uri("/api/v1/sources")
                    .insert_header(("authorization", format!("Bearer {}", viewer.secret))),
            )
            .await;
        assert_eq!(read.status, StatusCode::OK);

        let crawl = app
            .send(
                TestRequest::post()
                    .uri(&format!("/api/v1/sources/{}/crawls", f.source))
                    .insert_header(("authorization", format!("Bearer {}", steward.secret))),
            )
            .await;
        assert_eq!(crawl.status, StatusCode::ACCEPTED, "{}", crawl.body);
        assert_eq!(crawl.json()["status"], "queued");

        let used: Option<chrono::NaiveDateTime> = api_tokens::table
            .find(steward.token.id)
            .select(api_tokens::last_used_at)
            .first(&mut *app.db.reader().expect("conn"))
            .expect("token");
        assert!(used.is_some(), "last use is recorded");

        custodian::db::accounts::revoke_api_token(&mut app.db.writer().expect("conn"), steward.token.id, now())
            .expect("revoke");
        assert_eq!(app.send(patch(Some(&steward.secret), r#"{"owner": "x"}"#)).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[actix_web::test]
async fn the_admin_pages_create_users_and_show_a_token_once() {
    let app = TestApp::new(TestCatalog::sqlite());
    let admin = app.sign_in_as(Role::Admin);
    let created = app
        .post_form(
            "/admin/users",
            &[("username", "new.person"), ("role", "compliance"), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let short = app.post_form("/admin/users", &[("username", "x"), ("role", "viewer"), ("password", "short")]).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(&short.body, "At least 10 characters");
    let dup = app
        .post_form(
            "/admin/users",
            &[("username", "new.person"), ("role", "viewer"), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_contains(&dup.body, "exists already");

    let token = app.post_form("/admin/tokens", &[("name", "airflow"), ("role", "steward")]).await;
    assert_eq!(token.status, StatusCode::CREATED);
    assert_eq!(token.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let secret =
        token.body.split("<code class=\"secret\">").nth(1).and_then(|s| s.split('<').next()).expect("secret shown");
    assert!(secret.starts_with("cus_"));
    let list = app.get("/admin/tokens").await;
    assert!(!list.body.contains(secret), "the token is shown again");

    // The only administrator cannot demote or disable themselves into a locked-out catalog.
    let me: i64 = users::table
        .filter(users::username.eq(&admin.username))
        .select(users::id)
        .first(&mut *app.db.reader().expect("conn"))
        .expect("id");
    let others: i64 = users::table
        .filter(users::role.eq("admin"))
        .count()
        .get_result(&mut *app.db.reader().expect("conn"))
        .expect("count");
    assert_eq!(others, 1);
    assert_eq!(app.post_form(&format!("/admin/users/{me}/disable"), &[]).await.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post_form(&format!("/admin/users/{me}/role"), &[("role", "viewer")]).await.status,
        StatusCode::CONFLICT
    );
}
