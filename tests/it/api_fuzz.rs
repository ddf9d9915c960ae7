//! The API fuzzed by schemathesis (from PyPI) against the generated OpenAPI document, on the
//! demo's catalog served over HTTP with a steward's token: no answer may be a 5xx, and every
//! answer must match the document.
//!
//! Needs `CUSTODIAN_TEST_SCHEMATHESIS` (the `schemathesis` command; `.ci/run` installs it in a
//! virtual environment); skipped without it unless `CUSTODIAN_TEST_REQUIRE_PYTHON=1`.

use custodian::db::now;
use custodian::governance::access::Role;

use crate::support::TestCatalog;

#[actix_web::test]
async fn schemathesis_finds_no_server_errors_and_no_answer_outside_the_schema() {
    let command = match std::env::var("CUSTODIAN_TEST_SCHEMATHESIS") {
        Ok(c) if !c.is_empty() => c,
        _ => {
            assert!(
                std::env::var("CUSTODIAN_TEST_REQUIRE_PYTHON").as_deref() != Ok("1"),
                "CUSTODIAN_TEST_REQUIRE_PYTHON=1 but CUSTODIAN_TEST_SCHEMATHESIS names no schemathesis"
            );
            eprintln!("skipped: set CUSTODIAN_TEST_SCHEMATHESIS to the schemathesis command");
            return;
        }
    };
    let catalog = TestCatalog::sqlite();
    let data = tempfile::tempdir().expect("demo dir");
    let config = catalog.config();
    let db = custodian::commands::demo::prepare(&config, data.path(), false).expect("prepare the demo");
    // A steward writes the catalog and lineage; a compliance officer reads erasure requests and
    // runs purges: between them every operation is reached.
    let tokens: Vec<String> = [Role::Steward, Role::Compliance]
        .into_iter()
        .map(|role| {
            custodian::accounts::create_api_token(&mut db.writer().unwrap(), role.as_str(), role, None, now())
                .unwrap()
                .secret
        })
        .collect();
    let (base, handle) = crate::support::serve(custodian::commands::serve::state(config, db).expect("state"), 2);
    let mut failures = Vec::new();
    for token in tokens {
        let url = format!("{base}/api/v1/openapi.json");
        let command = command.clone();
        // Its caches go to a scratch directory, not the checkout.
        let scratch = tempfile::tempdir().expect("scratch dir");
        let out = actix_web::rt::task::spawn_blocking(move || {
            std::process::Command::new(command)
                .current_dir(scratch.path())
                .args(["run", &url])
                .args(["--checks", "not_a_server_error,response_schema_conformance"])
                .args(["--max-examples", "30", "--workers", "1", "--no-color"])
                .args(["-H", &format!("Authorization: Bearer {token}")])
                .output()
        })
        .await
        .unwrap()
        .expect("run schemathesis");
        if !out.status.success() {
            failures.push(format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    handle.stop(false).await;
    assert!(failures.is_empty(), "schemathesis found problems:\n{}", failures.join("\n"));
}

#[actix_web::test]
async fn a_search_with_odd_characters_is_answered() {
    let app = crate::support::TestApp::new(TestCatalog::sqlite());
    app.sign_in_as(Role::Viewer);
    for q in ["f%C3%B9%C2%A2%00n", "%00", "a%00b", "%F3%8D%A7%AC%1C", "x&source=-127629726267917&page=848"] {
        let res = app.get(&format!("/api/v1/search?q={q}")).await;
        assert!(res.status.as_u16() < 500, "{q}: {} {}", res.status, res.body);
    }
}

#[actix_web::test]
async fn text_with_a_nul_character_is_refused_not_a_server_error() {
    use actix_web::test::{self, TestRequest};
    for app in crate::support::TestApp::all() {
        let token =
            custodian::accounts::create_api_token(&mut app.db.writer().unwrap(), "t", Role::Steward, None, now())
                .unwrap()
                .secret;
        let service = test::init_service(custodian::app(app.state.clone())).await;
        let event = serde_json::json!({
            "eventType": "COMPLETE", "eventTime": "2026-11-28T10:00:00Z",
            "run": { "runId": "0176a8c2-fe01-7439-87e6-56a1a1b4029f" },
            "job": { "namespace": "air\u{0}flow", "name": "j\u{0}" },
            "inputs": [{ "namespace": "x", "name": "main.a" }], "outputs": [{ "namespace": "x", "name": "main.b" }]
        });
        let target = crate::support::targets::Target::sqlite("CREATE TABLE a (id INTEGER);");
        app.post_form("/sources", &[("name", "s"), ("url", &target.url())]).await;
        let req = TestRequest::post()
            .uri("/api/v1/lineage")
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(event)
            .to_request();
        let status = test::call_service(&service, req).await.status();
        assert!(status.is_client_error() || status.is_success(), "{}: {status}", app.catalog.label());
    }
}
