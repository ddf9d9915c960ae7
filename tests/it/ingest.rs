//! Ingesting pipeline SQL into catalogs on both backends: every statement kind is stored with the
//! tables it reads and writes and the lineage it produces; statements that do not parse are kept
//! with their position while the rest is ingested; re-ingesting is a no-op and a changed file
//! replaces its edges; tables never crawled become referenced datasets that a later crawl adopts;
//! names are matched with the default schema, ignoring case; the catalog's columns expand `*`.

use std::path::Path;

use custodian::commands::actor::Actor;
use custodian::commands::crawl::run as crawl;
use custodian::commands::ingest::{self as ingest_cmd, SqlArgs};
use custodian::commands::source::{self, AddArgs};
use custodian::db::audit::AuditActor;
use custodian::db::lineage::{self as repo, PipelineStatement};
use custodian::db::schema::{
    audit_events, column_lineage_edges, dataset_columns, datasets, lineage_edges, pipeline_statements, pipeline_tables,
    pipelines,
};
use custodian::db::{Db, catalog};
use custodian::governance::access::{Permission, Role};
use custodian::ingest::{self, IngestReport, IngestTarget, Outcome, SqlInput};
use diesel::prelude::*;

use crate::support::targets::Target;
use crate::support::{TestApp, TestCatalog, unique_name};

const SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL, full_name TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), total_cents INTEGER);
";

/// A catalog with a crawled SQLite source.
struct World {
    _catalog: TestCatalog,
    db: Db,
    _target: Target,
    source: String,
    source_id: i64,
    label: &'static str,
}

fn world(catalog: TestCatalog, target_sql: &str) -> World {
    let db = catalog.open();
    let target = Target::sqlite(target_sql);
    let (source, source_id) = register(&db, &target);
    crawl(&db, &source, &Actor::system(), false).expect("crawl");
    World { label: catalog.label(), _catalog: catalog, db, _target: target, source, source_id }
}

fn register(db: &Db, target: &Target) -> (String, i64) {
    let name = unique_name("shop");
    let id = source::add(
        db,
        &Actor::system(),
        &AddArgs {
            name: name.clone(),
            url: Some(target.url()),
            url_env: None,
            kind: None,
            description: None,
            owner: None,
        },
    )
    .expect("add source");
    (name, id)
}

fn ingest_as(world: &World, by: &AuditActor, name: &str, sql: &str, dialect: Option<&str>) -> IngestReport {
    let mut conn = world.db.writer().expect("conn");
    let source = catalog::find_source(&mut conn, world.source_id).expect("query").expect("source");
    let target = IngestTarget::new(source, dialect, None).expect("target");
    let input = SqlInput { name: name.into(), path: format!("tests/{name}"), sql: sql.into() };
    ingest::ingest(&mut conn, by, &target, &input, false, None).expect("ingest")
}

fn ingest_sql(world: &World, name: &str, sql: &str) -> IngestReport {
    ingest_as(world, &AuditActor::system(), name, sql, None)
}

/// `(statement, from, to)` table edges of a pipeline, by qualified names.
fn table_edges(db: &Db, pipeline: i64) -> Vec<(i32, String, String)> {
    let mut conn = db.reader().expect("conn");
    let mut out: Vec<_> = repo::list_pipeline_edges(&mut conn, pipeline)
        .expect("edges")
        .into_iter()
        .map(|e| (e.statement_index, e.from.qualified(), e.to.qualified()))
        .collect();
    out.sort();
    out
}

/// `(statement, from, to, kind)` column edges, by `schema.table.column`.
fn column_edges(db: &Db, pipeline: i64) -> Vec<(i32, String, String, String)> {
    let mut conn = db.reader().expect("conn");
    let mut out: Vec<_> = repo::list_pipeline_column_edges(&mut conn, pipeline)
        .expect("column edges")
        .into_iter()
        .map(|e| {
            (
                e.statement_index,
                format!("{}.{}", e.from.dataset.qualified(), e.from.name),
                format!("{}.{}", e.to.dataset.qualified(), e.to.name),
                e.kind,
            )
        })
        .collect();
    out.sort();
    out
}

/// `(statement, access, table, has a dataset)`.
fn tables(db: &Db, pipeline: i64) -> Vec<(i32, String, String, bool)> {
    let mut conn = db.reader().expect("conn");
    repo::list_statement_tables(&mut conn, pipeline)
        .expect("tables")
        .into_iter()
        .map(|t| (t.statement_index, t.access, t.table_name, t.dataset.is_some()))
        .collect()
}

fn statements(db: &Db, pipeline: i64) -> Vec<PipelineStatement> {
    repo::list_statements(&mut db.reader().expect("conn"), pipeline).expect("statements")
}

fn dataset_kind(db: &Db, source_id: i64, schema: &str, name: &str) -> Option<(i64, String)> {
    catalog::find_dataset_by_name(&mut db.reader().expect("conn"), source_id, schema, name)
        .expect("query")
        .map(|d| (d.id, d.kind))
}

fn count_events(db: &Db, action: &str) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(&mut *db.reader().expect("conn"))
        .expect("count")
}

fn edge(statement: i32, from: &str, to: &str) -> (i32, String, String) {
    (statement, from.to_owned(), to.to_owned())
}

fn col(statement: i32, from: &str, to: &str, kind: &str) -> (i32, String, String, String) {
    (statement, from.to_owned(), to.to_owned(), kind.to_owned())
}

/// Every statement kind the ingestion stores, in one script (PostgreSQL dialect).
const KINDS: &str = "\
CREATE TABLE staging AS SELECT id, email FROM customers WHERE email IS NOT NULL;
INSERT INTO audience (customer_id, contact_address) SELECT id, email FROM staging;
CREATE VIEW big_orders AS SELECT o.id, o.customer_id, o.total_cents FROM orders o WHERE o.total_cents > 1000;
WITH totals AS (SELECT customer_id, SUM(total_cents) AS spent FROM orders GROUP BY customer_id)
INSERT INTO spend (customer_id, spent) SELECT customer_id, spent FROM totals;
UPDATE audience SET spent = t.spent FROM spend t WHERE t.customer_id = audience.customer_id;
MERGE INTO spend s USING orders o ON s.customer_id = o.customer_id
  WHEN MATCHED THEN UPDATE SET spent = o.total_cents
  WHEN NOT MATCHED THEN INSERT (customer_id, spent) VALUES (o.customer_id, o.total_cents);
DELETE FROM audience WHERE customer_id IN (SELECT id FROM customers WHERE email LIKE '%@example.org');
SELECT a.contact_address, COUNT(*) FROM audience a GROUP BY a.contact_address;
SELECT * INTO archive FROM orders;
ALTER TABLE archive RENAME TO orders_archive;
DROP TABLE staging;
";

#[test]
fn every_statement_kind_is_stored_with_its_tables_and_lineage() {
    for catalog in TestCatalog::all() {
        let w = world(catalog, SHOP);
        let ctx = w.label;
        let report = ingest_as(&w, &AuditActor::system(), "kinds.sql", KINDS, Some("postgres"));
        assert_eq!(report.outcome, Outcome::Created, "{ctx}");
        assert_eq!(report.statements, 11, "{ctx}");
        assert_eq!(report.status, "ok", "{ctx}");
        let id = report.pipeline_id;

        let kinds: Vec<String> = statements(&w.db, id).iter().map(|s| s.kind.clone()).collect();
        assert_eq!(
            kinds,
            [
                "CREATE TABLE AS",
                "INSERT",
                "CREATE VIEW",
                "INSERT",
                "UPDATE",
                "MERGE",
                "DELETE",
                "SELECT",
                "SELECT INTO",
                "ALTER TABLE",
                "DROP"
            ],
            "{ctx}"
        );
        assert!(statements(&w.db, id).iter().all(|s| s.status == "parsed" && s.error_message.is_none()), "{ctx}");
        // `staging` is written and dropped by the script: its lineage is carried through.
        assert_eq!(
            table_edges(&w.db, id),
            vec![
                edge(2, "main.customers", "main.audience"),
                edge(3, "main.orders", "main.big_orders"),
                edge(4, "main.orders", "main.spend"),
                edge(5, "main.spend", "main.audience"),
                edge(6, "main.orders", "main.spend"),
                edge(9, "main.orders", "main.archive"),
            ],
            "{ctx}"
        );
        let cols = column_edges(&w.db, id);
        for expected in [
            col(2, "main.customers.email", "main.audience.contact_address", "identity"),
            col(2, "main.customers.id", "main.audience.customer_id", "identity"),
            col(3, "main.orders.total_cents", "main.big_orders.total_cents", "identity"),
            col(4, "main.orders.total_cents", "main.spend.spent", "aggregate"),
            col(5, "main.spend.spent", "main.audience.spent", "identity"),
            col(6, "main.orders.total_cents", "main.spend.spent", "identity"),
            // `SELECT *` expanded from the crawled columns of orders.
            col(9, "main.orders.customer_id", "main.archive.customer_id", "identity"),
            col(9, "main.orders.id", "main.archive.id", "identity"),
            col(9, "main.orders.total_cents", "main.archive.total_cents", "identity"),
        ] {
            assert!(cols.contains(&expected), "{ctx}: {expected:?} missing from {cols:#?}");
        }
        assert!(cols.iter().all(|c| !c.1.contains("staging") && !c.2.contains("staging")), "{ctx}: {cols:?}");

        // What each statement read and wrote, with a dataset for all but the intermediate.
        let t = tables(&w.db, id);
        for expected in [
            (1, "read", "main.customers", true),
            (1, "write", "main.staging", false),
            (7, "read", "main.customers", true),
            (7, "write", "main.audience", true),
            (8, "read", "main.audience", true),
            (10, "write", "main.orders_archive", true),
            (11, "write", "main.staging", false),
        ] {
            let expected = (expected.0, expected.1.to_owned(), expected.2.to_owned(), expected.3);
            assert!(t.contains(&expected), "{ctx}: {expected:?} missing from {t:?}");
        }

        // Tables no crawl found are referenced datasets, with the columns lineage revealed.
        for name in ["audience", "big_orders", "spend", "archive", "orders_archive"] {
            let (_, kind) = dataset_kind(&w.db, w.source_id, "main", name).unwrap_or_else(|| panic!("{ctx}: {name}"));
            assert_eq!(kind, "referenced", "{ctx}: {name}");
        }
        assert!(dataset_kind(&w.db, w.source_id, "main", "staging").is_none(), "{ctx}: the intermediate has a dataset");
        let (audience, _) = dataset_kind(&w.db, w.source_id, "main", "audience").expect("audience");
        let mut names: Vec<String> = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq(audience))
            .select(dataset_columns::name)
            .load(&mut *w.db.reader().expect("conn"))
            .expect("columns");
        names.sort();
        assert_eq!(names, ["contact_address", "customer_id", "spent"], "{ctx}");
        // The crawled customers dataset gained no column from lineage.
        let (customers, kind) = dataset_kind(&w.db, w.source_id, "main", "customers").expect("customers");
        assert_eq!(kind, "table", "{ctx}");
        let n: i64 = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq(customers))
            .count()
            .get_result(&mut *w.db.reader().expect("conn"))
            .expect("count");
        assert_eq!(n, 3, "{ctx}");
        // The source's counts include the referenced datasets.
        let s = catalog::find_source(&mut w.db.reader().expect("conn"), w.source_id).expect("q").expect("source");
        assert_eq!(s.dataset_count, 2 + 5, "{ctx}");
    }
}

#[test]
fn search_path_changes_and_storage_paths_are_followed() {
    for catalog in TestCatalog::all() {
        let w = world(catalog, SHOP);
        let ctx = w.label;
        let report = ingest_as(
            &w,
            &AuditActor::system(),
            "copy.sql",
            "SET search_path TO sales;\n\
             INSERT INTO region_totals SELECT region, SUM(total_cents) FROM orders GROUP BY region;\n\
             COPY (SELECT id, email FROM main.customers) TO '/exports/customers.csv' WITH (FORMAT csv);\n\
             COPY staging_orders FROM 's3://bucket/orders/2026/';",
            Some("postgres"),
        );
        assert_eq!(report.status, "ok", "{ctx}");
        assert_eq!(
            table_edges(&w.db, report.pipeline_id),
            vec![
                edge(2, "sales.orders", "sales.region_totals"),
                edge(3, "main.customers", "/exports/customers.csv"),
                edge(4, "s3://bucket/orders/2026/", "sales.staging_orders"),
            ],
            "{ctx}"
        );
        // A storage path is an external dataset without a schema (erasure notifies its recipient).
        assert_eq!(
            dataset_kind(&w.db, w.source_id, "", "/exports/customers.csv").expect("path").1,
            "external",
            "{ctx}"
        );
        // An unnamed expression gives the written table no column.
        let (totals, _) = dataset_kind(&w.db, w.source_id, "sales", "region_totals").expect("region_totals");
        let names: Vec<String> = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq(totals))
            .select(dataset_columns::name)
            .load(&mut *w.db.reader().expect("conn"))
            .expect("columns");
        assert_eq!(names, ["region"], "{ctx}");
        assert_eq!(statements(&w.db, report.pipeline_id)[1].unresolved_column_edges, 1, "{ctx}");
    }
}

const BROKEN: &str = "\
INSERT INTO totals (customer_id, spent)
SELECT customer_id, SUM(total_cents) FROM orders GROUP BY customer_id;
-- the next statement is not SQL any dialect accepts
INSERT INTO broken (a) SELECT FROM WHERE;
INSERT INTO emails (address) SELECT email FROM customers;
";

#[test]
fn a_statement_that_does_not_parse_is_kept_with_its_position_and_the_rest_is_ingested() {
    for catalog in TestCatalog::all() {
        let w = world(catalog, SHOP);
        let ctx = w.label;
        let report = ingest_sql(&w, "broken.sql", BROKEN);
        assert_eq!(report.statements, 3, "{ctx}");
        assert_eq!(report.errors, 1, "{ctx}");
        assert_eq!(report.status, "partial", "{ctx}");
        let stmts = statements(&w.db, report.pipeline_id);
        let bad = &stmts[1];
        assert_eq!(bad.statement_index, 2, "{ctx}");
        assert_eq!(bad.error_line, Some(4), "{ctx}");
        assert!(bad.error_column.is_some_and(|c| c > 1), "{ctx}: {:?}", bad.error_column);
        assert!(bad.error_message.as_deref().is_some_and(|m| !m.is_empty()), "{ctx}");
        assert!(stmts[0].error_message.is_none() && stmts[2].error_message.is_none(), "{ctx}");
        let (errors, status): (String, String) = pipelines::table
            .find(report.pipeline_id)
            .select((pipelines::errors, pipelines::status))
            .first(&mut *w.db.reader().expect("conn"))
            .expect("pipeline");
        let errors: serde_json::Value = serde_json::from_str(&errors).expect("errors JSON");
        assert_eq!(errors[0]["statement"], 2, "{ctx}");
        assert_eq!(errors[0]["line"], 4, "{ctx}");
        assert_eq!(errors[0]["column"], i64::from(bad.error_column.unwrap_or(0)), "{ctx}");
        assert_eq!(status, "partial", "{ctx}");
        // The statements around it produced their lineage.
        let edges = table_edges(&w.db, report.pipeline_id);
        assert!(edges.contains(&edge(1, "main.orders", "main.totals")), "{ctx}: {edges:?}");
        assert!(edges.contains(&edge(3, "main.customers", "main.emails")), "{ctx}: {edges:?}");
        assert!(
            column_edges(&w.db, report.pipeline_id).contains(&col(
                3,
                "main.customers.email",
                "main.emails.address",
                "identity"
            )),
            "{ctx}"
        );

        // Nothing parses: the pipeline failed, and is still stored with its errors.
        let failed = ingest_sql(&w, "nonsense.sql", "THIS IS NOT SQL;\nNOR (THIS;");
        assert_eq!(failed.status, "failed", "{ctx}");
        assert_eq!(failed.errors, 2, "{ctx}");
    }
}

fn pipeline_rows(db: &Db) -> String {
    let mut conn = db.reader().expect("conn");
    let p: Vec<(i64, String, String, chrono::NaiveDateTime)> = pipelines::table
        .order(pipelines::id)
        .select((pipelines::id, pipelines::content_hash, pipelines::status, pipelines::updated_at))
        .load(&mut *conn)
        .expect("pipelines");
    let s: Vec<i64> = pipeline_statements::table
        .order(pipeline_statements::id)
        .select(pipeline_statements::id)
        .load(&mut *conn)
        .expect("s");
    let t: Vec<i64> =
        pipeline_tables::table.order(pipeline_tables::id).select(pipeline_tables::id).load(&mut *conn).expect("t");
    let e: Vec<i64> =
        lineage_edges::table.order(lineage_edges::id).select(lineage_edges::id).load(&mut *conn).expect("e");
    let c: Vec<i64> = column_lineage_edges::table
        .order(column_lineage_edges::id)
        .select(column_lineage_edges::id)
        .load(&mut *conn)
        .expect("c");
    let d: Vec<(i64, String)> =
        datasets::table.order(datasets::id).select((datasets::id, datasets::kind)).load(&mut *conn).expect("d");
    let a: i64 = audit_events::table.count().get_result(&mut *conn).expect("a");
    format!("{p:?}{s:?}{t:?}{e:?}{c:?}{d:?}{a}")
}

fn write(dir: &Path, name: &str, sql: &str) {
    std::fs::write(dir.join(name), sql).expect("write");
}

fn sql_args(paths: Vec<String>, source: &str) -> SqlArgs {
    SqlArgs { paths, dialect: None, source: Some(source.to_owned()), default_schema: None }
}

#[test]
fn reingesting_unchanged_files_changes_nothing_and_a_changed_file_replaces_its_lineage() {
    for catalog in TestCatalog::all() {
        let w = world(catalog, SHOP);
        let ctx = w.label;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("nested")).expect("dir");
        write(dir.path(), "a.sql", "INSERT INTO a_totals SELECT customer_id, total_cents FROM orders;");
        write(&dir.path().join("nested"), "b.sql", "CREATE TABLE b_emails AS SELECT email FROM customers;");
        write(dir.path(), "notes.txt", "not SQL");
        let args = sql_args(vec![dir.path().to_string_lossy().into_owned()], &w.source);
        let steward = Actor { name: "stewart".into(), role: Some(Role::Steward), user_id: None };

        let first = ingest_cmd::sql(&w.db, &steward, &args, false).expect("first ingest");
        assert_eq!((first.files, first.created, first.unchanged), (2, 2, 0), "{ctx}: {first:?}");
        assert_eq!(count_events(&w.db, "pipeline.ingest"), 2, "{ctx}");
        let before = pipeline_rows(&w.db);

        let again = ingest_cmd::sql(&w.db, &steward, &args, false).expect("second ingest");
        assert_eq!((again.created, again.replaced, again.unchanged), (0, 0, 2), "{ctx}: {again:?}");
        assert_eq!(pipeline_rows(&w.db), before, "{ctx}: an unchanged re-ingest changed the catalog");
        assert_eq!(count_events(&w.db, "pipeline.ingest"), 2, "{ctx}: an unchanged re-ingest was audited");

        // The same file through a glob is the same pipeline.
        let glob = sql_args(vec![format!("{}/*.sql", dir.path().display())], &w.source);
        assert_eq!(ingest_cmd::sql(&w.db, &steward, &glob, false).expect("glob").unchanged, 1, "{ctx}");

        // A changed file replaces its statements and edges, keeping the pipeline's id.
        let id: i64 = pipelines::table
            .filter(pipelines::name.eq("a.sql"))
            .select(pipelines::id)
            .first(&mut *w.db.reader().expect("conn"))
            .expect("id");
        assert_eq!(table_edges(&w.db, id), vec![edge(1, "main.orders", "main.a_totals")], "{ctx}");
        write(
            dir.path(),
            "a.sql",
            "-- now from customers\nINSERT INTO a_totals (customer_id) SELECT id FROM customers;\nSELECT 1;",
        );
        let changed = ingest_cmd::sql(&w.db, &steward, &args, false).expect("changed ingest");
        assert_eq!((changed.replaced, changed.unchanged), (1, 1), "{ctx}: {changed:?}");
        assert_eq!(table_edges(&w.db, id), vec![edge(1, "main.customers", "main.a_totals")], "{ctx}");
        assert_eq!(
            column_edges(&w.db, id),
            vec![col(1, "main.customers.id", "main.a_totals.customer_id", "identity")],
            "{ctx}"
        );
        assert_eq!(statements(&w.db, id).len(), 2, "{ctx}");
        let n: i64 = pipelines::table.count().get_result(&mut *w.db.reader().expect("conn")).expect("count");
        assert_eq!(n, 2, "{ctx}");
        assert_eq!(count_events(&w.db, "pipeline.ingest"), 3, "{ctx}");
        let mut conn = w.db.reader().expect("conn");
        let page =
            custodian::db::audit::list_events(&mut conn, &Default::default(), custodian::db::audit::Cursor::Newest, 1)
                .expect("events");
        let last = &page.events[0];
        assert_eq!(last.action, "pipeline.ingest", "{ctx}");
        assert_eq!(last.actor, "stewart", "{ctx}");
        assert_eq!(last.actor_role.as_deref(), Some("steward"), "{ctx}");
        assert_eq!(last.entity_id.as_deref(), Some(id.to_string().as_str()), "{ctx}");
        assert!(last.after_json.as_deref().unwrap_or("").contains("\"replaced\":true"), "{ctx}");
        drop(conn);

        // Read another way (another dialect), the same text is analysed again.
        let other = SqlArgs {
            dialect: Some("postgres".into()),
            ..sql_args(vec![dir.path().join("a.sql").to_string_lossy().into_owned()], &w.source)
        };
        assert_eq!(ingest_cmd::sql(&w.db, &steward, &other, false).expect("dialect").replaced, 1, "{ctx}");
    }
}

#[test]
fn referenced_datasets_become_the_crawled_dataset_with_their_id_and_lineage() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        let ctx = catalog.label();
        // The source exists but its tables are created (and crawled) only later.
        let target = Target::sqlite("CREATE TABLE placeholder (id INTEGER);");
        let (name, source_id) = register(&db, &target);
        crawl(&db, &name, &Actor::system(), false).expect("crawl");
        let w = World { label: ctx, _catalog: catalog, db, _target: target, source: name.clone(), source_id };
        let report = ingest_sql(
            &w,
            "ltv.sql",
            "CREATE TABLE ltv AS SELECT c.id, c.email, SUM(o.total_cents) AS spent\n\
             FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.email;",
        );
        assert_eq!(report.datasets_created, 3, "{ctx}");
        let (customers, kind) = dataset_kind(&w.db, source_id, "main", "customers").expect("customers");
        assert_eq!(kind, "referenced", "{ctx}");
        let email_before: i64 = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq(customers))
            .filter(dataset_columns::name.eq("email"))
            .select(dataset_columns::id)
            .first(&mut *w.db.reader().expect("conn"))
            .expect("email column");
        let edges_before = column_edges(&w.db, report.pipeline_id);
        assert!(edges_before.contains(&col(1, "main.customers.email", "main.ltv.email", "identity")), "{ctx}");

        // A crawl that does not find them leaves referenced datasets alone.
        let again = crawl(&w.db, &name, &Actor::system(), false).expect("crawl");
        assert_eq!(again.datasets_removed, 0, "{ctx}: {again:?}");
        assert_eq!(dataset_kind(&w.db, source_id, "main", "customers").expect("still there").1, "referenced", "{ctx}");

        // The tables appear in the target (one spelled in another case) and are crawled.
        w._target.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, EMAIL TEXT NOT NULL, phone TEXT);
             CREATE TABLE Orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total_cents INTEGER);",
        );
        let changes = crawl(&w.db, &name, &Actor::system(), false).expect("crawl after");
        assert_eq!(changes.datasets_added, 2, "{ctx}: {changes:?}");
        assert_eq!(changes.datasets_changed, 0, "{ctx}: {changes:?}");
        let (id_after, kind_after) = dataset_kind(&w.db, source_id, "main", "customers").expect("customers");
        assert_eq!((id_after, kind_after.as_str()), (customers, "table"), "{ctx}: the crawl did not adopt it");
        let orders = dataset_kind(&w.db, source_id, "main", "Orders").expect("Orders takes the crawled spelling");
        assert_eq!(orders.1, "table", "{ctx}");
        assert!(dataset_kind(&w.db, source_id, "main", "orders").is_none(), "{ctx}: a second orders dataset");
        let email_after: (i64, String, String) = dataset_columns::table
            .filter(dataset_columns::dataset_id.eq(customers))
            .filter(dataset_columns::name.eq("EMAIL"))
            .select((dataset_columns::id, dataset_columns::data_type, dataset_columns::status))
            .first(&mut *w.db.reader().expect("conn"))
            .expect("EMAIL column");
        assert_eq!(email_after.0, email_before, "{ctx}: the column was not adopted");
        assert_eq!((email_after.1.as_str(), email_after.2.as_str()), ("TEXT", "active"), "{ctx}");
        // Lineage is intact, now on the crawled datasets.
        let edges_after = column_edges(&w.db, report.pipeline_id);
        assert!(
            edges_after.contains(&col(1, "main.customers.EMAIL", "main.ltv.email", "identity")),
            "{ctx}: {edges_after:?}"
        );
        assert!(table_edges(&w.db, report.pipeline_id).contains(&edge(1, "main.Orders", "main.ltv")), "{ctx}");
        // The crawl of the adopted dataset is a no-op the next time.
        assert!(crawl(&w.db, &name, &Actor::system(), false).expect("crawl").is_empty(), "{ctx}");
    }
}

#[test]
fn names_match_with_the_default_schema_ignoring_case_and_across_sources() {
    for catalog in TestCatalog::all() {
        let w = world(catalog, "CREATE TABLE Customers (id INTEGER PRIMARY KEY, Email TEXT);");
        let ctx = w.label;
        // Unquoted names are folded to lower case by the engine and still find `Customers`.
        let report = ingest_sql(
            &w,
            "case.sql",
            "INSERT INTO copies (id) SELECT ID FROM CUSTOMERS;\nINSERT INTO copies2 (mail) SELECT email FROM main.customers;",
        );
        assert_eq!(report.datasets_created, 2, "{ctx}: only the two targets are new");
        let edges = table_edges(&w.db, report.pipeline_id);
        assert_eq!(
            edges,
            vec![edge(1, "main.Customers", "main.copies"), edge(2, "main.Customers", "main.copies2")],
            "{ctx}"
        );
        let cols = column_edges(&w.db, report.pipeline_id);
        assert!(cols.contains(&col(2, "main.Customers.Email", "main.copies2.mail", "identity")), "{ctx}: {cols:?}");

        // Another default schema: unqualified names live there.
        let mut conn = w.db.writer().expect("conn");
        let source = catalog::find_source(&mut conn, w.source_id).expect("q").expect("source");
        let target = IngestTarget::new(source, None, Some("reporting")).expect("target");
        let input = SqlInput {
            name: "r.sql".into(),
            path: "tests/r.sql".into(),
            sql: "INSERT INTO daily SELECT * FROM customers;".into(),
        };
        let r = ingest::ingest(&mut conn, &AuditActor::system(), &target, &input, false, None).expect("ingest");
        drop(conn);
        assert_eq!(table_edges(&w.db, r.pipeline_id), vec![edge(1, "reporting.customers", "reporting.daily")], "{ctx}");
        assert_eq!(
            dataset_kind(&w.db, w.source_id, "reporting", "customers").expect("referenced").1,
            "referenced",
            "{ctx}"
        );

        // A three-part name that starts with another source's name is matched in that source.
        let other_target = Target::sqlite("CREATE TABLE events (id INTEGER, who TEXT);");
        let (other, other_id) = register(&w.db, &other_target);
        crawl(&w.db, &other, &Actor::system(), false).expect("crawl other");
        let cross =
            ingest_sql(&w, "cross.sql", &format!("INSERT INTO audit_copy SELECT id, who FROM {other}.main.events;"));
        let (events, _) = dataset_kind(&w.db, other_id, "main", "events").expect("events");
        let edges = {
            let mut conn = w.db.reader().expect("conn");
            repo::list_pipeline_edges(&mut conn, cross.pipeline_id).expect("edges")
        };
        assert_eq!(edges.len(), 1, "{ctx}");
        assert_eq!(edges[0].from.id, events, "{ctx}: the other source's dataset");
        assert_eq!(edges[0].to.source_name, w.source, "{ctx}");
    }
}

#[test]
fn the_catalog_s_columns_expand_stars_and_attribute_unqualified_columns() {
    for catalog in TestCatalog::all() {
        let w = world(catalog, SHOP);
        let ctx = w.label;
        let report = ingest_sql(
            &w,
            "stars.sql",
            "CREATE TABLE customers_copy AS SELECT * FROM customers;\n\
             INSERT INTO order_emails (order_id, address) SELECT o.id, email FROM orders o JOIN customers c ON c.id = o.customer_id;",
        );
        let cols = column_edges(&w.db, report.pipeline_id);
        for expected in [
            col(1, "main.customers.id", "main.customers_copy.id", "identity"),
            col(1, "main.customers.email", "main.customers_copy.email", "identity"),
            col(1, "main.customers.full_name", "main.customers_copy.full_name", "identity"),
            // `email` is unqualified in a join: the catalog knows only customers has it.
            col(2, "main.customers.email", "main.order_emails.address", "identity"),
        ] {
            assert!(cols.contains(&expected), "{ctx}: {expected:?} missing from {cols:#?}");
        }
        let unresolved: i64 = statements(&w.db, report.pipeline_id).iter().map(|s| s.unresolved_column_edges).sum();
        assert_eq!(unresolved, 0, "{ctx}");
    }
}

#[test]
fn the_command_needs_a_steward_and_a_source() {
    let app = TestApp::new(TestCatalog::sqlite());
    let viewer = app.user(Role::Viewer);
    let refused = Actor::require(&app.db, Some(&viewer.username), Permission::EditCatalog).expect_err("a viewer");
    assert!(format!("{refused:#}").contains("steward"), "{refused:#}");

    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "x.sql", "SELECT 1;");
    let args = SqlArgs {
        paths: vec![dir.path().to_string_lossy().into_owned()],
        dialect: None,
        source: None,
        default_schema: None,
    };
    let none = ingest_cmd::sql(&app.db, &Actor::system(), &args, false).expect_err("no source yet");
    assert!(format!("{none:#}").contains("source add"), "{none:#}");

    let a = Target::sqlite(SHOP);
    let b = Target::sqlite(SHOP);
    register(&app.db, &a);
    let only = ingest_cmd::sql(&app.db, &Actor::system(), &args, false).expect("the only source is used");
    assert_eq!(only.created, 1);
    register(&app.db, &b);
    let ambiguous = ingest_cmd::sql(&app.db, &Actor::system(), &args, false).expect_err("two sources");
    assert!(format!("{ambiguous:#}").contains("--source"), "{ambiguous:#}");
    let bad_dialect = SqlArgs { dialect: Some("cobol".into()), source: Some("nope".into()), ..args };
    assert!(ingest_cmd::sql(&app.db, &Actor::system(), &bad_dialect, false).is_err());
    let missing = SqlArgs {
        paths: vec![dir.path().join("missing.sql").to_string_lossy().into_owned()],
        dialect: None,
        source: None,
        default_schema: None,
    };
    assert!(
        format!("{:#}", ingest_cmd::sql(&app.db, &Actor::system(), &missing, false).expect_err("missing"))
            .contains("does not exist")
    );
}
