//! dbt: a small dbt project (tests/fixtures/dbt_shop) built with the real `dbt-core` and
//! `dbt-postgres` against a fresh PostgreSQL database, crawled, and its manifest ingested:
//! models and sources matched to the crawled datasets, descriptions filled without overwriting a
//! person's edit, meta and tags as classification suggestions, each model's compiled SQL as
//! lineage; a second ingest of the same manifest changes nothing, a newer one updates in place.
//!
//! Needs `CUSTODIAN_TEST_DBT` (a `dbt` with the postgres adapter; `.ci/run` installs one in a
//! virtual environment) and `CUSTODIAN_TEST_POSTGRES_URL`; skipped without them unless
//! `CUSTODIAN_TEST_REQUIRE_PYTHON=1` (then the missing dbt is a failure).

use custodian::db::audit::AuditActor;
use custodian::db::{catalog, now};
use custodian::dbt::{self, Mapping, Suggests};
use custodian::governance::access::Role;

use crate::support::TestApp;
use crate::support::targets::Target;

fn dbt_command() -> Option<String> {
    match std::env::var("CUSTODIAN_TEST_DBT") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CUSTODIAN_TEST_REQUIRE_PYTHON").as_deref() != Ok("1"),
                "CUSTODIAN_TEST_REQUIRE_PYTHON=1 but CUSTODIAN_TEST_DBT names no dbt"
            );
            eprintln!("skipped: set CUSTODIAN_TEST_DBT to a dbt with the postgres adapter");
            None
        }
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[actix_web::test]
async fn a_dbt_manifest_fills_datasets_descriptions_suggestions_and_lineage() {
    let Some(dbt_bin) = dbt_command() else { return };
    let Some(catalog_db) = crate::support::TestCatalog::postgres() else {
        eprintln!("skipped: the dbt test builds in PostgreSQL (set CUSTODIAN_TEST_POSTGRES_URL)");
        return;
    };
    let app = TestApp::new(catalog_db);
    crate::classification::taxonomy(&app);
    let target = Target::postgres(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, created_at TIMESTAMP NOT NULL);
         INSERT INTO customers VALUES (1, 'Ada@Example.com', now()), (2, 'bob@example.com', now());",
    )
    .expect("a PostgreSQL target");
    let Target::Postgres(pg) = &target else { unreachable!() };

    // Build the project with dbt.
    let project = tempfile::tempdir().unwrap();
    copy_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dbt_shop"), project.path());
    std::fs::write(
        project.path().join("profiles.yml"),
        format!(
            "shop:\n  target: ci\n  outputs:\n    ci:\n      type: postgres\n      host: 127.0.0.1\n      port: 5432\n      \
             user: postgres\n      password: \"\"\n      dbname: {}\n      schema: public\n      threads: 1\n",
            pg.name
        ),
    )
    .unwrap();
    let out = std::process::Command::new(&dbt_bin)
        .args(["run", "--project-dir"])
        .arg(project.path())
        .arg("--profiles-dir")
        .arg(project.path())
        .env("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        .output()
        .expect("run dbt");
    assert!(
        out.status.success(),
        "dbt run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Catalog the database, and write a description by hand before dbt's arrive.
    app.sign_in_as(Role::Steward);
    let created =
        app.post_form("/sources", &[("name", "warehouse"), ("url", &target.url()), ("crawl_now", "on")]).await;
    assert_eq!(created.status.as_u16(), 303, "{}", created.body);
    app.run_queued_crawls();
    let mut conn = app.db.writer().unwrap();
    let source = catalog::find_source_by_name(&mut conn, "warehouse").unwrap().unwrap();
    let dataset = |conn: &mut custodian::db::AnyConnection, name: &str| {
        catalog::find_dataset_by_name(conn, source.id, "public", name).unwrap().unwrap_or_else(|| panic!("{name}"))
    };
    let stg = dataset(&mut conn, "stg_customers");
    catalog::update_dataset_details(&mut conn, stg.id, Some("Written by a person."), None, now()).unwrap();

    let manifest_path = project.path().join("target/manifest.json");
    let mut manifest: dbt::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).expect("a dbt manifest");
    let mut mapping = Mapping::default();
    mapping.tags.insert("gdpr".into(), Suggests { category: "contact.email".into(), level: None });
    let by = AuditActor { actor: "sam.steward".into(), role: Some("steward".into()), request_id: None };
    let report = dbt::ingest(&mut conn, &by, source.clone(), &manifest, None, &mapping).expect("ingest the manifest");
    assert_eq!((report.models, report.sources), (2, 1), "{report:?}");
    assert_eq!((report.matched, report.referenced), (3, 0), "every dbt relation was crawled: {report:?}");
    assert_eq!(report.pipelines_created, 2, "{report:?}");
    assert_eq!(report.descriptions_kept, 1, "the hand-written description stays: {report:?}");
    // The crawl already suggested e-mail for the `email` columns by name; dbt adds the tag's.
    assert!(report.suggestions >= 1, "{report:?}");

    // Descriptions.
    let customers = dataset(&mut conn, "customers");
    let emails = dataset(&mut conn, "customer_emails");
    assert_eq!(customers.description.as_deref(), Some("Customers as the shop's application writes them."));
    assert_eq!(emails.description.as_deref(), Some("One row per customer with the address marketing writes to."));
    assert_eq!(dataset(&mut conn, "stg_customers").description.as_deref(), Some("Written by a person."));
    let column = |conn: &mut custodian::db::AnyConnection, d: i64, name: &str| {
        catalog::list_columns(conn, d).unwrap().into_iter().find(|c| c.name == name).unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(column(&mut conn, emails.id, "contact").description.as_deref(), Some("Where marketing writes to."));

    // Suggestions: the source's and staging's e-mail by meta, the mart's contact by tag.
    let email_col = column(&mut conn, stg.id, "email").id;
    let contact_col = column(&mut conn, emails.id, "contact").id;
    let open = custodian::db::classification::open_suggestions_for(&mut conn, &[email_col, contact_col]).unwrap();
    assert_eq!(open.len(), 2, "{open:?}");
    let evidence = format!("{open:?}");
    assert!(evidence.contains("dbt tag gdpr") && evidence.contains("dbt meta pii"), "{evidence}");

    // Lineage: customers → stg_customers → customer_emails, at column level too.
    let lineage = custodian::db::lineage::dataset_lineage(&mut conn, stg.id, 100).unwrap();
    assert!(lineage.upstream.iter().any(|n| n.dataset.id == customers.id), "{lineage:?}");
    assert!(lineage.downstream.iter().any(|n| n.dataset.id == emails.id), "{lineage:?}");
    assert!(
        lineage.column_targets.iter().any(|e| e.from.name == "email" && e.to.name == "contact"),
        "{:?}",
        lineage.column_targets
    );
    assert!(custodian::db::lineage::find_pipeline_key(&mut conn, "dbt:model.shop.customer_emails").unwrap().is_some());

    // The same manifest again changes nothing; a newer one updates in place.
    let again = dbt::ingest(&mut conn, &by, source.clone(), &manifest, None, &mapping).unwrap();
    assert_eq!((again.pipelines_unchanged, again.descriptions_written, again.suggestions), (2, 0, 0), "{again:?}");
    let node = manifest.nodes.get_mut("model.shop.customer_emails").expect("the mart model");
    node.description = "Contacts for the newsletter.".into();
    let newer = dbt::ingest(&mut conn, &by, source.clone(), &manifest, None, &mapping).unwrap();
    assert_eq!(newer.descriptions_written, 1, "{newer:?}");
    assert_eq!(dataset(&mut conn, "customer_emails").description.as_deref(), Some("Contacts for the newsletter."));
    assert_eq!(dataset(&mut conn, "stg_customers").description.as_deref(), Some("Written by a person."));
    drop(conn);

    // The upload form takes the manifest too (here: unchanged), and says what is wrong with a bad one.
    app.sign_in_as(Role::Steward);
    let text = std::fs::read_to_string(&manifest_path).unwrap();
    let page = app.post_form("/pipelines/dbt", &[("source", "warehouse"), ("manifest", &text)]).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    crate::support::assert_contains(&page.body, "Ingested.");
    crate::support::assert_contains(&page.body, "2 unchanged");
    let bad = app.post_form("/pipelines/dbt", &[("source", "warehouse"), ("manifest", "{\"nodes\": 3}")]).await;
    assert_eq!(bad.status.as_u16(), 400);
    crate::support::assert_contains(&bad.body, "not a dbt manifest.json");
}
