//! End-to-end in headless Chromium (Debian's `chromium` and `chromedriver`): the served demo's
//! home page, a search and the dataset page it opens; a steward's edits; a suggestion accepted
//! and propagated; an erasure from submission to a verified receipt; a purge of the demo
//! previewed, run and its receipt downloaded; and the lineage graph explored (a node expanded, a
//! column's path highlighted) with its impact downloaded as CSV.
//!
//! Skipped (with a message) when chromedriver is not installed, unless
//! `CUSTODIAN_TEST_REQUIRE_BROWSER=1`, as in CI, makes that a failure.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use crate::support::TestCatalog;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Starts chromedriver, or returns None when the browser is not installed and not required.
fn start_driver() -> Option<Driver> {
    let installed = std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
    if !installed {
        assert!(
            std::env::var("CUSTODIAN_TEST_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "CUSTODIAN_TEST_REQUIRE_BROWSER=1 but {CHROMEDRIVER} or {CHROMIUM} is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("browser test skipped: install chromium and chromium-driver to run it");
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver { child, port, _profile: tempfile::tempdir().expect("profile dir") })
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("open a browser session")
}

#[actix_web::test]
async fn a_newcomer_searches_the_demo_and_opens_a_dataset() {
    let Some(driver) = start_driver() else {
        return;
    };
    let catalog = TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let mut config = catalog.config();
    config.demo = true;
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    let (base, handle) = crate::support::serve(custodian::commands::serve::state(config, db).expect("state"), 1);

    let client = browser(&driver).await;
    let result = async {
        client.goto(&format!("{base}/")).await?;
        // Not signed in: the sign-in page, listing the demo accounts.
        assert!(client.current_url().await?.path() == "/login", "not sent to sign in");
        let demo = client.find(Locator::Css(".demo-accounts")).await?.text().await?;
        assert!(demo.contains("sam") && demo.contains("steward"), "demo accounts: {demo}");
        client.find(Locator::Id("username")).await?.send_keys("sam").await?;
        client.find(Locator::Id("password")).await?.send_keys("sam-demo-steward").await?;
        client.find(Locator::Css("form.form button[type=submit]")).await?.click().await?;
        client.wait().for_element(Locator::Css(".user-menu")).await?;
        let title = client.title().await?;
        assert!(title.starts_with("Home"), "title: {title}");
        let datasets = client.find(Locator::Css(".stats li:nth-child(2) .stat-number")).await?.text().await?;
        assert!(
            datasets.replace(',', "").parse::<u32>().is_ok_and(|n| n >= 9),
            "datasets on the home page: {datasets}"
        );

        let search = client.find(Locator::Id("site-search")).await?;
        search.send_keys("phone").await?;
        client.find(Locator::Css(".search-box button")).await?.click().await?;
        client.wait().for_element(Locator::Css("ol.results")).await?;
        assert!(client.current_url().await?.as_str().contains("/search?q=phone"));
        let marks = client.find_all(Locator::Css("ol.results mark")).await?;
        assert!(!marks.is_empty(), "no highlighted match");

        let hit = client.find(Locator::Css("ol.results a.result-name[href*='#column-']")).await?;
        let column = hit.text().await?;
        let path =
            client.find(Locator::Css("ol.results a.result-name[href*='#column-'] ~ .kind")).await?.text().await?;
        assert_eq!(path, "column");
        hit.click().await?;
        client.wait().for_element(Locator::Css("table.columns-table")).await?;
        let url = client.current_url().await?;
        assert!(url.path().starts_with("/datasets/"), "landed on {url}");
        let fragment = url.fragment().unwrap_or_default().to_owned();
        let row = client.find(Locator::Id(&fragment)).await?;
        let row_text = row.text().await?;
        assert!(row_text.contains(&column), "row {fragment} shows {row_text:?}, not {column:?}");
        let heading = client.find(Locator::Css("main h1")).await?.text().await?;
        assert!(!heading.is_empty());
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    handle.stop(false).await;
    result.expect("browser flow");
}

/// Fetches a link with the page's session, as a download would: status, content type and body.
async fn download(client: &Client, url: &str) -> Result<serde_json::Value, fantoccini::error::CmdError> {
    client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0], { credentials: 'same-origin' })
               .then(r => r.text().then(body => done({ status: r.status, type: r.headers.get('content-type'), body })))
               .catch(e => done({ status: 0, type: null, body: String(e) }));",
            vec![serde_json::json!(url)],
        )
        .await
}

async fn sign_in(
    client: &Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<(), fantoccini::error::CmdError> {
    client.goto(&format!("{base}/login")).await?;
    client.find(Locator::Id("username")).await?.send_keys(username).await?;
    client.find(Locator::Id("password")).await?.send_keys(password).await?;
    client.find(Locator::Css("form.form button[type=submit]")).await?.click().await?;
    client.wait().for_element(Locator::Css(".user-menu")).await?;
    Ok(())
}

#[actix_web::test]
async fn a_steward_edits_with_history_and_a_viewer_cannot() {
    let Some(driver) = start_driver() else {
        return;
    };
    let catalog = TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let mut config = catalog.config();
    config.demo = true;
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    let dataset = custodian::db::catalog::list_datasets(
        &mut db.reader().expect("conn"),
        &custodian::db::catalog::DatasetFilter::default(),
        0,
        500,
    )
    .expect("datasets")
    .0
    .into_iter()
    .find(|d| d.dataset.name == "products")
    .expect("the demo's products table")
    .dataset
    .id;
    let (base, handle) = crate::support::serve(custodian::commands::serve::state(config, db).expect("state"), 1);

    let client = browser(&driver).await;
    let result = async {
        // A steward edits the description and sees the change in the history.
        sign_in(&client, &base, "sam", "sam-demo-steward").await?;
        client.goto(&format!("{base}/datasets/{dataset}")).await?;
        client.find(Locator::LinkText("Edit description and owner")).await?.click().await?;
        let description = client.find(Locator::Id("description")).await?;
        description.clear().await?;
        description.send_keys("Everything the shop sells, one row per product").await?;
        client.find(Locator::Css("form.form button[type=submit]")).await?.click().await?;
        client.wait().for_element(Locator::Id("history")).await?;
        let history = client.find(Locator::Css("ul.history")).await?.text().await?;
        assert!(history.contains("sam") && history.contains("Everything the shop sells"), "history: {history}");

        // A viewer sees no edit button, and a POST they forge is refused.
        client.find(Locator::Css(".user-menu button")).await?.click().await?;
        sign_in(&client, &base, "vera", "vera-demo-viewer").await?;
        client.goto(&format!("{base}/datasets/{dataset}")).await?;
        assert!(client.find(Locator::LinkText("Edit description and owner")).await.is_err(), "a viewer sees the edit button");
        client
            .execute(
                "const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
                 for (const [k, v] of [['csrf_token', document.querySelector('input[name=csrf_token]').value], ['description', 'forged']]) {
                   const i = document.createElement('input'); i.name = k; i.value = v; f.appendChild(i);
                 }
                 document.body.appendChild(f); f.submit();",
                vec![serde_json::json!(format!("/datasets/{dataset}/edit"))],
            )
            .await?;
        client.wait().for_element(Locator::Css(".error-code")).await?;
        let code = client.find(Locator::Css(".error-code")).await?.text().await?;
        assert_eq!(code, "403");
        client.goto(&format!("{base}/datasets/{dataset}")).await?;
        let text = client.find(Locator::Css(".description")).await?.text().await?;
        assert!(text.contains("Everything the shop sells") && !text.contains("forged"), "description: {text}");
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    handle.stop(false).await;
    result.expect("browser flow");
}

#[actix_web::test]
async fn a_compliance_officer_accepts_a_suggestion_and_sees_it_propagate() {
    let Some(driver) = start_driver() else {
        return;
    };
    let catalog = TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let mut config = catalog.config();
    config.demo = true;
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    // The demo's crawl suggested identity.customer_id for orders.customer_id, which a pipeline
    // copies into payment_mismatches.
    let (suggestion, column, orders, mismatches) = {
        use custodian::db::classification as repo;
        let mut conn = db.reader().expect("conn");
        let datasets =
            custodian::db::catalog::list_datasets(&mut conn, &custodian::db::catalog::DatasetFilter::default(), 0, 500)
                .expect("datasets")
                .0;
        let id_of = |name: &str| datasets.iter().find(|d| d.dataset.name == name).expect(name).dataset.id;
        let (orders, mismatches) = (id_of("orders"), id_of("payment_mismatches"));
        let column = custodian::db::catalog::list_columns(&mut conn, orders)
            .expect("columns")
            .into_iter()
            .find(|c| c.name == "customer_id")
            .expect("customer_id")
            .id;
        let suggestion = repo::open_suggestions_for(&mut conn, &[column]).expect("suggestions").remove(0).id;
        (suggestion, column, orders, mismatches)
    };
    let (base, handle) = crate::support::serve(custodian::commands::serve::state(config, db).expect("state"), 1);

    let client = browser(&driver).await;
    let result = async {
        sign_in(&client, &base, "chloe", "chloe-demo-compliance").await?;
        client.goto(&format!("{base}/classification/suggestions")).await?;
        client.find(Locator::Css(&format!("input[name=suggestion][value='{suggestion}']"))).await?.click().await?;
        client.find(Locator::Css("button[value=accept]")).await?.click().await?;
        client.wait().for_element(Locator::Css(".notice-ok")).await?;
        let notice = client.find(Locator::Css(".notice-ok")).await?.text().await?;
        assert!(notice.contains("Accepted 1 suggestion"), "notice: {notice}");
        let queue = client.source().await?;
        assert!(!queue.contains(&format!("value=\"{suggestion}\"")), "the suggestion is still open");

        // The badge on the dataset page.
        client.goto(&format!("{base}/datasets/{orders}")).await?;
        let row = client.find(Locator::Id(&format!("column-{column}"))).await?.text().await?;
        assert!(row.contains("Internal") && row.contains("identity.customer_id"), "customer_id row: {row}");
        assert!(client.find(Locator::Css(&format!("#column-{column} .level"))).await.is_ok(), "no level badge");

        // And downstream, with where it came from.
        client.goto(&format!("{base}/datasets/{mismatches}")).await?;
        let table = client.find(Locator::Css("table")).await?.text().await?;
        assert!(table.contains("↳ identity.customer_id"), "payment_mismatches: {table}");
        assert!(
            table.contains("propagated from main.orders.customer_id via payment_reconciliation.sql"),
            "payment_mismatches: {table}"
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = client.close().await;
    handle.stop(false).await;
    result.expect("browser flow");
}

/// The rows of the plan table: (table, expected rows).
async fn plan_rows(client: &Client) -> Result<Vec<(String, String)>, fantoccini::error::CmdError> {
    let mut rows = Vec::new();
    for row in client.find_all(Locator::Css("table.erasure-plan tbody tr")).await? {
        let table = row.find(Locator::Css("td:nth-child(2)")).await?.text().await?;
        let expected = row.find(Locator::Css("td:nth-child(5)")).await?.text().await?;
        rows.push((table, expected));
    }
    Ok(rows)
}

#[actix_web::test]
async fn an_erasure_goes_from_submission_to_a_verified_receipt() {
    use custodian::governance::access::Role;
    use custodian::governance::audit::PublicKey;
    use custodian::governance::erasure::receipt::Receipt;

    let Some(driver) = start_driver() else {
        return;
    };
    // The shop of tests/it/erasure.rs: a customer reached through a four-level FK chain, a copy of
    // the e-mail under another name, a key renamed in a derived table.
    let app = crate::support::TestApp::new(TestCatalog::sqlite());
    let email = "alice.browser@example.com";
    let shop = crate::erasure::shop(&app, email).await;
    let others = shop.others();
    assert_eq!(shop.subject_rows(), vec![1, 2, 3, 2, 1, 1, 1]);
    let desk = app.user(Role::PrivacyDesk);
    let officer = app.user(Role::Compliance);
    // Served as `custodian serve` does it, with the worker thread running (the test app has none).
    let mut config = app.catalog.config();
    config.run_worker = true;
    let (base, handle) =
        crate::support::serve(custodian::commands::serve::state(config, app.db.clone()).expect("state"), 1);

    let client = browser(&driver).await;
    let result = async {
        // The privacy desk records the request, typed as the person wrote it.
        sign_in(&client, &base, &desk.username, &desk.password).await?;
        client.goto(&format!("{base}/erasure/new")).await?;
        client.find(Locator::Css("#identifier_type option[value=email]")).await?.click().await?;
        client.find(Locator::Id("value")).await?.send_keys("  Alice.Browser@Example.COM ").await?;
        client.find(Locator::Id("requester_ref")).await?.send_keys("TICKET-7").await?;
        client.find(Locator::Css("form.form button[type=submit]")).await?.click().await?;
        client.wait().for_element(Locator::Css("#plan")).await?;
        let url = client.current_url().await?;
        let id: i64 = url
            .path()
            .strip_prefix("/erasure/")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("landed on {url}, not a request page"));
        let heading = client.find(Locator::Css("main h1")).await?.text().await?;
        assert!(heading.contains(&format!("#{id}")) && heading.contains("Received"), "heading: {heading}");
        assert!(!client.source().await?.to_lowercase().contains(email), "the request page shows the e-mail");

        // Planning lists every table with its dry-run count.
        client.find(Locator::Css(&format!("form[action='/erasure/{id}/plan'] button"))).await?.click().await?;
        client.wait().for_element(Locator::Css("table.erasure-plan")).await?;
        let summary = client.find(Locator::Css("#plan p.count")).await?.text().await?;
        assert_eq!(summary, "7 steps, 11 rows in the dry run");
        let mut planned = plan_rows(&client).await?;
        planned.sort();
        let expected: Vec<(String, String)> = [
            ("customer_summary", "1"),
            ("customers", "1"),
            ("newsletter", "1"),
            ("order_items", "3"),
            ("orders", "2"),
            ("returns", "1"),
            ("shipments", "2"),
        ]
        .iter()
        .map(|(t, n)| (format!("shop.main.{t}"), (*n).to_owned()))
        .collect();
        assert_eq!(planned, expected);
        let heading = client.find(Locator::Css("main h1")).await?.text().await?;
        assert!(heading.contains("Planned"), "heading: {heading}");
        // The desk cannot approve its own request.
        assert!(client.find(Locator::Css(&format!("form[action='/erasure/{id}/approve']"))).await.is_err());

        client.find(Locator::Css(".user-menu button")).await?.click().await?;
        client.wait().for_element(Locator::Id("username")).await?;

        // Another person, a compliance officer, approves and runs it.
        sign_in(&client, &base, &officer.username, &officer.password).await?;
        client.goto(&format!("{base}/erasure/{id}")).await?;
        client.find(Locator::Css(&format!("form[action='/erasure/{id}/approve'] button"))).await?.click().await?;
        let run = Locator::Css(&format!("form[action='/erasure/{id}/run'] button"));
        client.wait().for_element(run).await?;
        let approved = client.find(Locator::Css("dl.facts")).await?.text().await?;
        assert!(approved.contains(&format!("by {}", officer.username)), "facts: {approved}");
        client.find(run).await?.click().await?;
        // The page refreshes itself while the worker runs the steps.
        let completed =
            client.wait().at_most(Duration::from_secs(60)).for_element(Locator::Css("main h1 .state-completed")).await;
        if completed.is_err() {
            let (url, heading) =
                (client.current_url().await?, client.find(Locator::Css("main h1")).await?.text().await?);
            let status = crate::erasure::status(&app, id);
            panic!(
                "after a minute the page at {url} shows {heading:?} while the request is {status:?} in the catalog: \
                 {}",
                if status == "completed" { "the page did not refresh itself" } else { "the worker did not finish" }
            );
        }
        let heading = client.find(Locator::Css("main h1")).await?.text().await?;
        assert!(heading.contains("Completed"), "heading: {heading}");
        let plan = client.find(Locator::Css("table.erasure-plan")).await?.text().await?;
        assert_eq!(plan.matches("verified").count(), 7, "plan after the run: {plan}");
        let page = client.source().await?;
        assert!(!page.to_lowercase().contains(email), "the completed request page shows the e-mail");
        assert!(!page.contains("http-equiv=\"refresh\""), "still refreshing after completion");

        // The receipt, downloaded with the officer's session, verifies with the key the page shows.
        let key = client.find(Locator::Css("#receipt dl.facts dd code")).await?.text().await?;
        assert!(client.find(Locator::Css(&format!("#receipt a[href='/erasure/{id}/receipt']"))).await.is_ok());
        let fetched = download(&client, &format!("/erasure/{id}/receipt")).await?;
        assert_eq!(fetched["status"], 200, "receipt download: {fetched}");
        assert_eq!(fetched["type"], "application/json");
        let text = fetched["body"].as_str().expect("the receipt's text").to_owned();
        Ok::<_, fantoccini::error::CmdError>((id, key, text))
    }
    .await;
    let _ = client.close().await;
    handle.stop(false).await;
    let (id, key, text) = result.expect("browser flow");

    let public = PublicKey::from_base64(&key).expect("the page shows a base64 public key");
    assert_eq!(public, app.state.keys.receipt_public_key());
    let receipt = Receipt::verify(&text, &public).expect("the receipt verifies");
    assert_eq!(receipt.request_id, id);
    assert_eq!(receipt.outcome, "completed");
    assert_eq!(receipt.targets.iter().map(|t| t.rows).sum::<i64>(), 11);
    assert!(!text.to_lowercase().contains(email), "the receipt names the e-mail: {text}");
    // Tampering is detected.
    let forged = text.replacen("completed", "refused", 1);
    assert_ne!(forged, text);
    assert!(Receipt::verify(&forged, &public).is_err(), "a changed receipt still verifies");

    assert_eq!(shop.subject_rows(), vec![0; 7], "the subject's rows are gone");
    assert_eq!(shop.others(), others, "another subject's rows changed");
}

#[actix_web::test]
async fn a_compliance_officer_previews_and_runs_a_purge_on_the_demo_and_downloads_its_receipt() {
    use custodian::governance::retention::PurgeReceipt;

    let Some(driver) = start_driver() else {
        return;
    };
    let catalog = TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let mut config = catalog.config();
    config.demo = true;
    config.run_worker = true;
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    let keys = custodian::keys::Keys::load_or_create(&config.key_path()).expect("keys");
    let (base, handle) = crate::support::serve(custodian::commands::serve::state(config, db).expect("state"), 1);

    let client = browser(&driver).await;
    let result = async {
        sign_in(&client, &base, "chloe", "chloe-demo-compliance").await?;
        client.find(Locator::Css("nav a[href='/retention']")).await?.click().await?;
        client.wait().for_element(Locator::Css("table.retention-policies")).await?;
        let policies = client.find(Locator::Css("table.retention-policies")).await?.text().await?;
        assert!(policies.contains("Web analytics") && policies.contains("P90D"), "policies: {policies}");

        // The preview counts what waits past its period, per dataset, and changes nothing.
        client.find(Locator::Css("form[action='/retention/preview'] button")).await?.click().await?;
        let done = Locator::Css("main h1 .state-succeeded");
        client.wait().at_most(Duration::from_secs(60)).for_element(done).await?;
        let heading = client.find(Locator::Css("main h1")).await?.text().await?;
        assert!(heading.starts_with("Preview"), "heading: {heading}");
        let row = client.find(Locator::Css("table.retention-steps tr[data-table='main.web_events']")).await?;
        let cells = row.find_all(Locator::Css("td")).await?;
        let past: u64 = cells[5].text().await?.replace(',', "").parse().expect("a count");
        let held: u64 = cells[7].text().await?.parse().expect("a count");
        assert!(past > 1000, "web events past 90 days: {past}");
        assert!(held > 0, "the demo's held customer has old web events");

        // The purge, from the preview's page (which itself shows a finished run: wait for the
        // purge's own page to finish).
        let preview_url = client.current_url().await?;
        client.find(Locator::Css("form[action='/retention/run'] button")).await?.click().await?;
        let started = Instant::now();
        loop {
            let url = client.current_url().await?;
            let heading = match client.find(Locator::Css("main h1")).await {
                Ok(h) => h.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let done = client.find(Locator::Css("main h1 .state-succeeded")).await.is_ok();
            if url != preview_url && heading.starts_with("Purge") && done {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the purge did not finish: {url} shows {heading:?}");
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
        let row = client.find(Locator::Css("table.retention-steps tr[data-table='main.web_events']")).await?;
        let text = row.text().await?;
        assert!(text.contains("verified: none left"), "web events after the purge: {text}");
        let changed: u64 = row.find_all(Locator::Css("td")).await?[6].text().await?.parse().expect("a count");
        assert_eq!(changed, past, "the purge removed what the preview counted");
        let link = client.find(Locator::Css("a[href$='/receipt']")).await?.attr("href").await?.expect("href");
        let fetched = download(&client, &link).await?;
        assert_eq!(fetched["status"], 200, "receipt download: {fetched}");
        Ok::<_, fantoccini::error::CmdError>((past, fetched["body"].as_str().expect("text").to_owned()))
    }
    .await;
    let _ = client.close().await;
    handle.stop(false).await;
    let (past, text) = result.expect("browser flow");
    let receipt = PurgeReceipt::verify(&text, &keys.receipt_public_key()).expect("the receipt verifies");
    let events = receipt.datasets.iter().find(|d| d.table == "main.web_events").expect("web events in the receipt");
    assert_eq!(events.rows as u64, past);
    assert_eq!(events.remaining, Some(0));
    assert!(!text.contains("@example.com"), "the receipt names a person");
}

#[actix_web::test]
async fn a_data_engineer_explores_the_lineage_graph_and_downloads_the_impact() {
    let Some(driver) = start_driver() else {
        return;
    };
    let catalog = TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let mut config = catalog.config();
    config.demo = true;
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    let (customers, email, contact_address) = {
        let mut conn = db.reader().expect("conn");
        let source = custodian::db::catalog::find_source_by_name(&mut conn, "shop").unwrap().unwrap();
        let mut dataset = |name: &str| {
            custodian::db::catalog::find_dataset_by_name(&mut conn, source.id, "main", name).unwrap().unwrap().id
        };
        let (customers, audience) = (dataset("customers"), dataset("marketing_audience"));
        let column = |conn: &mut custodian::db::AnyConnection, d: i64, n: &str| {
            custodian::db::catalog::list_columns(conn, d).unwrap().into_iter().find(|c| c.name == n).unwrap().id
        };
        (customers, column(&mut conn, customers, "email"), column(&mut conn, audience, "contact_address"))
    };
    let (base, handle) = crate::support::serve(custodian::commands::serve::state(config, db).expect("state"), 1);

    let client = browser(&driver).await;
    let result = async {
        sign_in(&client, &base, "sam", "sam-demo-steward").await?;
        client.goto(&format!("{base}/datasets/{customers}")).await?;
        client.find(Locator::Css(&format!("a[href='/datasets/{customers}/lineage']"))).await?.click().await?;
        client.wait().for_element(Locator::Css("svg.lineage-graph")).await?;
        let nodes = client.find_all(Locator::Css("svg.lineage-graph g.node")).await?;
        assert!(nodes.len() >= 3, "customers feeds the lifetime value, the audience and the export: {}", nodes.len());
        assert!(client.find(Locator::Css("a.column")).await.is_err(), "no node is expanded yet");

        // Expand customers to its columns.
        client.find(Locator::Css(&format!("a.node-toggle[data-toggle='{customers}']"))).await?.click().await?;
        client.wait().for_element(Locator::Css(&format!("a.column[data-column='{email}']"))).await?;
        let columns = client.find_all(Locator::Css(&format!("g[data-dataset='{customers}'] a.column"))).await?;
        assert!(columns.len() >= 8, "customers' columns: {}", columns.len());

        // Highlight the e-mail's path: it reaches the marketing audience's contact_address.
        client.find(Locator::Css(&format!("a.column[data-column='{email}']"))).await?.click().await?;
        client
            .wait()
            .for_element(Locator::Css(&format!("a.column-highlighted[data-column='{contact_address}']")))
            .await?;
        assert!(!client.find_all(Locator::Css("path.edge-highlighted")).await?.is_empty(), "no highlighted edge");
        let summary = client.find(Locator::Css("p.count")).await?.text().await?;
        assert!(summary.contains("main.customers.email"), "summary: {summary}");

        // The impact of the e-mail column, downloaded as CSV.
        client.find(Locator::Css("a[href^='/lineage/impact']")).await?.click().await?;
        client.wait().for_element(Locator::Css("table.impact")).await?;
        let link = client.find(Locator::Css("a[href$='format=csv']")).await?.attr("href").await?.expect("href");
        let fetched = download(&client, &link).await?;
        assert_eq!(fetched["status"], 200, "impact CSV: {fetched}");
        assert_eq!(fetched["type"], "text/csv; charset=utf-8");
        Ok::<_, fantoccini::error::CmdError>(fetched["body"].as_str().expect("text").to_owned())
    }
    .await;
    let _ = client.close().await;
    handle.stop(false).await;
    let csv = result.expect("browser flow");
    assert!(csv.starts_with("kind,source,dataset,column,distance,via"), "{csv}");
    assert!(csv.contains("column,shop,main.marketing_audience,contact_address,1,marketing_audience.sql"), "{csv}");
}
