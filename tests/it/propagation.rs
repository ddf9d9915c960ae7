//! Propagation of classification along column lineage (C5), on both backends: tags confirmed on a
//! source column reach columns derived through a CTE and a join, and again one pipeline further
//! (with provenance: source column, pipeline, statement, path); blocking an edge stops them and
//! needs a reason; re-ingesting a pipeline and removing the source tag take them away; aggregates
//! carry tags only when compliance says so. Every decision is an audit event.

use actix_web::http::StatusCode;
use custodian::db::audit::{self, AuditActor, AuditFilter, Cursor};
use custodian::db::classification as repo;
use custodian::db::schema::dataset_columns;
use custodian::governance::access::Role;
use custodian::ingest::{self, IngestTarget, SqlInput};
use diesel::prelude::*;
use serde_json::Value;

use crate::classification::taxonomy;
use crate::support::targets::Target;
use crate::support::{TestApp, assert_contains, assert_not_contains};

const TARGET: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total_cents INTEGER);
CREATE TABLE audience (contact TEXT, name TEXT, spend INTEGER);
CREATE TABLE mailing (address TEXT);
CREATE TABLE audience_size (contacts INTEGER);
";

/// A CTE and a join: `contact` is a transform of customers.email.
const AUDIENCE: &str = "
INSERT INTO audience (contact, name, spend)
WITH big AS (
    SELECT customer_id, SUM(total_cents) AS spend FROM orders GROUP BY customer_id
)
SELECT lower(c.email), c.full_name, b.spend
FROM customers c JOIN big b ON b.customer_id = c.id;
";

/// A second hop, and an aggregate.
const MAILING: &str = "
INSERT INTO mailing (address) SELECT contact FROM audience;
INSERT INTO audience_size (contacts) SELECT COUNT(contact) FROM audience;
";

struct World {
    _target: Target,
    source_id: i64,
    email: i64,
    customers: i64,
    contact: i64,
    audience: i64,
    address: i64,
    mailing: i64,
    contacts: i64,
    email_category: i64,
    email_identifier: i64,
    confidential: i64,
}

async fn world(app: &TestApp) -> World {
    taxonomy(app);
    let target = Target::sqlite(TARGET);
    app.post_form("/sources", &[("name", "shop"), ("url", &target.url()), ("crawl_now", "on")]).await;
    app.run_queued_crawls();
    let source_id = app.get("/api/v1/sources").await.json()["items"][0]["id"].as_i64().expect("source");
    let list = app.get("/api/v1/datasets").await.json();
    let dataset = |name: &str| {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|d| d["name"] == name)
            .and_then(|d| d["id"].as_i64())
            .expect("dataset")
    };
    let mut columns = std::collections::HashMap::new();
    for name in ["customers", "audience", "mailing", "audience_size"] {
        let detail = app.get(&format!("/api/v1/datasets/{}", dataset(name))).await.json();
        for c in detail["columns"].as_array().expect("columns") {
            columns.insert(format!("{name}.{}", c["name"].as_str().expect("name")), c["id"].as_i64().expect("id"));
        }
    }
    let col = |key: &str| *columns.get(key).expect(key);
    ingest_pipeline(app, source_id, "audience.sql", AUDIENCE);
    ingest_pipeline(app, source_id, "mailing.sql", MAILING);
    let mut conn = app.db.reader().expect("conn");
    let categories = repo::list_categories(&mut conn).expect("categories");
    let identifiers = repo::list_identifier_types(&mut conn).expect("identifiers");
    let levels = repo::list_levels(&mut conn).expect("levels");
    World {
        _target: target,
        source_id,
        email: col("customers.email"),
        customers: dataset("customers"),
        contact: col("audience.contact"),
        audience: dataset("audience"),
        address: col("mailing.address"),
        mailing: dataset("mailing"),
        contacts: col("audience_size.contacts"),
        email_category: categories.iter().find(|c| c.key == "contact.email").expect("category").id,
        email_identifier: identifiers.iter().find(|i| i.key == "email").expect("identifier").id,
        confidential: levels.iter().find(|l| l.name == "Confidential").expect("level").id,
    }
}

fn ingest_pipeline(app: &TestApp, source_id: i64, name: &str, sql: &str) {
    let mut conn = app.db.writer().expect("conn");
    let source = custodian::db::catalog::find_source(&mut conn, source_id).expect("query").expect("source");
    let target = IngestTarget::new(source, None, None).expect("target");
    let input = SqlInput { name: name.into(), path: format!("pipelines/{name}"), sql: sql.into() };
    ingest::ingest(&mut conn, &AuditActor::system(), &target, &input, false, None).expect("ingest");
}

async fn classify_email(app: &TestApp, w: &World, tagged: bool, reason: &str) -> StatusCode {
    let category = w.email_category.to_string();
    let identifier = w.email_identifier.to_string();
    let level = w.confidential.to_string();
    let mut form: Vec<(&str, &str)> = vec![("reason", reason)];
    if tagged {
        form.extend([("level", level.as_str()), ("category", category.as_str()), ("identifier", identifier.as_str())]);
    } else {
        form.extend([("level", ""), ("identifier", "")]);
    }
    app.post_form(&format!("/datasets/{}/columns/{}/classify", w.customers, w.email), &form).await.status
}

/// The personal-data API's entry for a column, if it holds personal data.
async fn personal(app: &TestApp, column_id: i64) -> Option<Value> {
    let all = app.get("/api/v1/personal-data").await.json();
    all["items"].as_array().expect("items").iter().find(|c| c["column_id"] == column_id).cloned()
}

fn level_rank(app: &TestApp, column_id: i64) -> Option<i32> {
    dataset_columns::table
        .find(column_id)
        .select(dataset_columns::level_rank)
        .first(&mut *app.db.reader().expect("conn"))
        .expect("column")
}

fn last_event(app: &TestApp) -> audit::AuditEvent {
    let mut conn = app.db.reader().expect("conn");
    audit::list_events(&mut conn, &AuditFilter::default(), Cursor::Newest, 1).expect("events").events.remove(0)
}

#[actix_web::test]
async fn tags_follow_lineage_through_ctes_joins_and_a_second_pipeline() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let w = world(&app).await;
        app.sign_in_as(Role::Compliance);
        assert_eq!(classify_email(&app, &w, true, "").await, StatusCode::SEE_OTHER, "{ctx}");

        // One hop: through the CTE and the join, named with its pipeline.
        let contact = personal(&app, w.contact).await.expect("audience.contact holds personal data");
        assert_eq!(contact["origin"], "propagated", "{ctx}");
        assert_eq!(contact["categories"], serde_json::json!(["contact.email"]), "{ctx}");
        let from = &contact["propagated"].as_array().expect("provenance")[0];
        assert_eq!(from["source_column_id"], w.email, "{ctx}");
        assert_eq!(from["pipeline"], "audience.sql", "{ctx}");
        assert_eq!(from["statement"], 1, "{ctx}");
        assert_eq!(from["hops"], 1, "{ctx}");
        // The identifier mark travels too.
        let tags: Vec<&str> =
            contact["propagated"].as_array().expect("provenance").iter().filter_map(|p| p["tag"].as_str()).collect();
        assert!(tags.contains(&"id: email"), "{ctx}: {tags:?}");

        // Two hops, with the whole path.
        let address = personal(&app, w.address).await.expect("mailing.address holds personal data");
        let from = &address["propagated"].as_array().expect("provenance")[0];
        assert_eq!(from["hops"], 2, "{ctx}");
        assert_eq!(from["pipeline"], "mailing.sql", "{ctx}");
        assert_eq!(
            from["path"],
            serde_json::json!(["main.customers.email", "main.audience.contact", "main.mailing.address"]),
            "{ctx}"
        );
        // Levels flow with them: a copy is as sensitive as its source.
        assert_eq!(level_rank(&app, w.address), level_rank(&app, w.email), "{ctx}");
        assert!(level_rank(&app, w.email).is_some(), "{ctx}");
        // A count of e-mail addresses is not an e-mail address.
        assert!(personal(&app, w.contacts).await.is_none(), "{ctx}");
        assert_eq!(level_rank(&app, w.contacts), None, "{ctx}");

        // The dataset page and the workbench show where it came from.
        let page = app.get(&format!("/datasets/{}", w.audience)).await;
        assert_contains(&page.body, "↳ contact.email");
        assert_contains(&page.body, "propagated from <a href=\"/datasets/");
        assert_contains(&page.body, "main.customers.email</a> via <a href=\"/pipelines/");
        let filtered = app.get(&format!("/classification?category={}&source={}", w.email_category, w.source_id)).await;
        assert_contains(&filtered.body, "main.mailing");
        let csv = app.get("/api/v1/personal-data?format=csv").await;
        assert_contains(&csv.body, "contact.email from main.customers.email via audience.sql, statement 1");

        // Removing the tag at the source removes everything it propagated.
        assert_eq!(classify_email(&app, &w, false, "not an address after all").await, StatusCode::SEE_OTHER, "{ctx}");
        assert!(personal(&app, w.contact).await.is_none(), "{ctx}");
        assert!(personal(&app, w.address).await.is_none(), "{ctx}");
        assert_eq!(level_rank(&app, w.address), None, "{ctx}");
        assert_not_contains(&app.get(&format!("/datasets/{}", w.mailing)).await.body, "↳ contact.email");
    }
}

#[actix_web::test]
async fn compliance_blocks_an_edge_with_a_reason_and_can_unblock_it() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let w = world(&app).await;
        app.sign_in_as(Role::Compliance);
        classify_email(&app, &w, true, "").await;
        let block = format!("/datasets/{}/columns/{}/lineage/{}/block", w.mailing, w.address, w.contact);

        // A steward may not block.
        app.sign_in_as(Role::Steward);
        assert_eq!(app.post_form(&block, &[("reason", "x")]).await.status, StatusCode::FORBIDDEN, "{ctx}");
        app.sign_in_as(Role::Compliance);
        // Without a reason nothing changes.
        let refused = app.post_form(&block, &[("reason", "  ")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{ctx}");
        assert_contains(&refused.body, "needs a reason");
        assert!(personal(&app, w.address).await.is_some(), "{ctx}");
        // With one, the tags stop at the edge, upstream keeps them.
        let done = app.post_form(&block, &[("reason", "mailing addresses are hashed before load")]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{ctx}");
        assert!(personal(&app, w.address).await.is_none(), "{ctx}");
        assert!(personal(&app, w.contact).await.is_some(), "{ctx}");
        let event = last_event(&app);
        assert_eq!(event.action, "lineage.block", "{ctx}");
        assert_eq!(event.reason.as_deref(), Some("mailing addresses are hashed before load"), "{ctx}");
        let page = app.get(&format!("/datasets/{}/columns/{}/classify", w.mailing, w.address)).await;
        assert_contains(&page.body, "propagation blocked");
        assert_contains(&page.body, "mailing addresses are hashed before load");
        // An edge that does not exist cannot be blocked.
        let missing = format!("/datasets/{}/columns/{}/lineage/{}/block", w.mailing, w.address, w.email);
        assert_eq!(app.post_form(&missing, &[("reason", "x")]).await.status, StatusCode::NOT_FOUND, "{ctx}");

        let unblock = format!("/datasets/{}/columns/{}/lineage/{}/unblock", w.mailing, w.address, w.contact);
        assert_eq!(app.post_form(&unblock, &[]).await.status, StatusCode::SEE_OTHER, "{ctx}");
        assert_eq!(last_event(&app).action, "lineage.unblock", "{ctx}");
        assert!(personal(&app, w.address).await.is_some(), "{ctx}");
    }
}

#[actix_web::test]
async fn re_ingesting_a_pipeline_and_the_aggregate_switch_keep_propagation_correct() {
    for app in TestApp::all() {
        let ctx = app.catalog.label();
        let w = world(&app).await;
        app.sign_in_as(Role::Compliance);
        classify_email(&app, &w, true, "").await;
        assert!(personal(&app, w.address).await.is_some(), "{ctx}");

        // mailing.sql now loads names, not contacts: the address no longer carries the e-mail tag.
        ingest_pipeline(&app, w.source_id, "mailing.sql", "INSERT INTO mailing (address) SELECT name FROM audience;");
        assert!(personal(&app, w.address).await.is_none(), "{ctx}");
        assert!(personal(&app, w.contact).await.is_some(), "{ctx}");
        // And back.
        ingest_pipeline(&app, w.source_id, "mailing.sql", MAILING);
        assert!(personal(&app, w.address).await.is_some(), "{ctx}");

        // Through aggregates when compliance says so (audited), and not again when switched off.
        app.post_form("/classification/propagation", &[("through_aggregates", "on"), ("reason", "counts are small")])
            .await;
        assert_eq!(last_event(&app).action, "propagation.configure", "{ctx}");
        assert!(personal(&app, w.contacts).await.is_some(), "{ctx}");
        app.post_form("/classification/propagation", &[]).await;
        assert!(personal(&app, w.contacts).await.is_none(), "{ctx}");
        // A steward cannot change the switch.
        app.sign_in_as(Role::Steward);
        let refused = app.post_form("/classification/propagation", &[("through_aggregates", "on")]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{ctx}");
    }
}
