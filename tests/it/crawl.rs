//! Crawling real SQLite and PostgreSQL targets into catalogs on both backends: everything is
//! cataloged, a second crawl changes nothing, drops show as removed, people's descriptions stay,
//! and unreachable or forbidden targets fail clearly without losing anything.

use custodian::commands::actor::Actor;
use custodian::commands::crawl::run as crawl;
use custodian::commands::source::{self, AddArgs};
use custodian::db::models::{Dataset, DatasetColumn, REMOVED};
use custodian::db::{Db, catalog, now};

use crate::support::targets::Target;
use crate::support::{PgDatabase, TestCatalog, unique_name};

const SQLITE_SHOP: &str = "
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, full_name TEXT,
                        created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers (id),
                     total_cents INTEGER NOT NULL);
CREATE TABLE order_items (order_id INTEGER NOT NULL, line INTEGER NOT NULL, sku TEXT,
                          PRIMARY KEY (order_id, line), FOREIGN KEY (order_id) REFERENCES orders (id));
CREATE TABLE shipments (id INTEGER PRIMARY KEY, order_id INTEGER, line INTEGER,
                        FOREIGN KEY (order_id, line) REFERENCES order_items (order_id, line));
CREATE VIEW customer_totals AS
  SELECT c.id, c.email, sum(o.total_cents) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
INSERT INTO customers (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com');
INSERT INTO orders VALUES (1, 1, 1000), (2, 1, 250), (3, 2, 990);
";

const POSTGRES_SHOP: &str = "
CREATE SCHEMA sales;
CREATE TABLE public.customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, full_name varchar(200),
                               created_at timestamptz DEFAULT now());
COMMENT ON TABLE public.customers IS 'People who bought something';
COMMENT ON COLUMN public.customers.email IS 'Primary contact address';
CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES public.customers (id),
                           region text, total_cents bigint NOT NULL);
CREATE TABLE sales.order_items (order_id bigint NOT NULL REFERENCES sales.orders (id), line int NOT NULL, sku text,
                                PRIMARY KEY (order_id, line));
CREATE TABLE sales.shipments (id bigint PRIMARY KEY, order_id bigint, line int,
                              CONSTRAINT shipments_item_fk FOREIGN KEY (order_id, line) REFERENCES sales.order_items (order_id, line));
CREATE VIEW public.customer_totals AS
  SELECT c.id, c.email, sum(o.total_cents) AS total FROM public.customers c JOIN sales.orders o ON o.customer_id = c.id GROUP BY c.id;
CREATE MATERIALIZED VIEW sales.region_totals AS SELECT region, sum(total_cents) AS total FROM sales.orders GROUP BY region;
INSERT INTO public.customers (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com');
INSERT INTO sales.orders VALUES (1, 1, 'north', 1000), (2, 1, 'south', 250), (3, 2, 'north', 990);
ANALYZE;
";

/// Both target kinds this run can reach, each with the schema name its tables live in.
fn targets() -> Vec<(Target, &'static str, &'static str)> {
    let mut out = vec![(Target::sqlite(SQLITE_SHOP), "main", "main")];
    if let Some(pg) = Target::postgres(POSTGRES_SHOP) {
        out.push((pg, "public", "sales"));
    }
    out
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

fn dataset(db: &Db, source_id: i64, schema: &str, name: &str) -> Dataset {
    let mut conn = db.reader().expect("conn");
    catalog::find_dataset_by_name(&mut conn, source_id, schema, name)
        .expect("query")
        .unwrap_or_else(|| panic!("{schema}.{name} is not cataloged"))
}

fn columns(db: &Db, dataset_id: i64) -> Vec<DatasetColumn> {
    use custodian::db::schema::dataset_columns;
    use diesel::prelude::*;
    dataset_columns::table
        .filter(dataset_columns::dataset_id.eq(dataset_id))
        .order(dataset_columns::ordinal)
        .select(DatasetColumn::as_select())
        .load(&mut *db.reader().expect("conn"))
        .expect("columns")
}

fn column<'a>(cols: &'a [DatasetColumn], name: &str) -> &'a DatasetColumn {
    cols.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no column {name}"))
}

#[test]
fn crawling_catalogs_tables_views_columns_and_keys() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        for (target, main, sales) in targets() {
            let ctx = format!("catalog {} target {main}", catalog.label());
            let (name, source_id) = register(&db, &target);
            let changes = crawl(&db, &name, &Actor::system(), false).expect("crawl");
            let expected = if main == "main" { 5 } else { 6 };
            assert_eq!(changes.datasets_added, expected, "{ctx}");

            let customers = dataset(&db, source_id, main, "customers");
            assert_eq!(customers.kind, "table", "{ctx}");
            assert_eq!(customers.row_estimate, Some(2), "{ctx}");
            let cols = columns(&db, customers.id);
            assert_eq!(
                cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                ["id", "email", "full_name", "created_at"],
                "{ctx}"
            );
            assert!(column(&cols, "id").is_primary_key && !column(&cols, "id").nullable, "{ctx}");
            assert!(!column(&cols, "email").nullable && !column(&cols, "email").is_primary_key, "{ctx}");
            assert!(column(&cols, "full_name").nullable, "{ctx}");
            assert!(column(&cols, "created_at").default_value.is_some(), "{ctx}");

            let items = dataset(&db, source_id, sales, "order_items");
            let item_cols = columns(&db, items.id);
            assert!(
                column(&item_cols, "order_id").is_primary_key && column(&item_cols, "line").is_primary_key,
                "{ctx}"
            );
            assert!(!column(&item_cols, "sku").is_primary_key, "{ctx}");

            let view = dataset(&db, source_id, main, "customer_totals");
            assert_eq!(view.kind, "view", "{ctx}");
            assert!(view.definition.as_deref().unwrap_or("").to_lowercase().contains("sum"), "{ctx}");

            // Foreign keys, both ways, with composite keys in key order.
            let orders = dataset(&db, source_id, sales, "orders");
            let mut conn = db.reader().expect("conn");
            let (out, _) = catalog::foreign_keys_of(&mut conn, orders.id).expect("fks");
            assert_eq!(out.len(), 1, "{ctx}");
            assert_eq!(out[0].other_id, customers.id, "{ctx}");
            assert_eq!(catalog::parse_json_list(&out[0].foreign_key.from_columns), ["customer_id"], "{ctx}");
            assert_eq!(catalog::parse_json_list(&out[0].foreign_key.to_columns), ["id"], "{ctx}");
            let (_, into_items) = catalog::foreign_keys_of(&mut conn, items.id).expect("fks");
            assert_eq!(into_items.len(), 1, "{ctx}");
            assert_eq!(
                catalog::parse_json_list(&into_items[0].foreign_key.from_columns),
                ["order_id", "line"],
                "{ctx}"
            );
            assert_eq!(catalog::parse_json_list(&into_items[0].foreign_key.to_columns), ["order_id", "line"], "{ctx}");

            if main == "public" {
                assert_eq!(customers.source_comment.as_deref(), Some("People who bought something"), "{ctx}");
                assert_eq!(column(&cols, "email").source_comment.as_deref(), Some("Primary contact address"), "{ctx}");
                assert_eq!(dataset(&db, source_id, "sales", "region_totals").kind, "materialized_view", "{ctx}");
                let schemas = catalog::list_schemas(&mut conn, Some(source_id)).expect("schemas");
                assert_eq!(schemas, ["public", "sales"], "{ctx}: system schemas must not be cataloged");
            }
        }
    }
}

#[test]
fn recrawling_is_idempotent_keeps_people_s_edits_and_marks_what_vanished() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        for (target, main, sales) in targets() {
            let ctx = format!("catalog {} target {main}", catalog.label());
            let (name, source_id) = register(&db, &target);
            crawl(&db, &name, &Actor::system(), false).expect("first crawl");
            let before = dataset(&db, source_id, main, "customers");

            let second = crawl(&db, &name, &Actor::system(), false).expect("second crawl");
            assert!(second.is_empty(), "{ctx}: second crawl changed {second:?}");
            let after = dataset(&db, source_id, main, "customers");
            assert_eq!(after.updated_at, before.updated_at, "{ctx}: an unchanged dataset was touched");

            // People document the dataset and a column.
            {
                let mut conn = db.writer().expect("conn");
                catalog::update_dataset_details(&mut conn, before.id, Some("Our customers"), Some("crm-team"), now())
                    .expect("edit");
                let email = column(&columns(&db, before.id), "email").id;
                catalog::update_column_description(&mut conn, email, Some("Login e-mail"), now()).expect("edit column");
            }

            // The target changes: a column goes, one comes, a table goes.
            target.execute(&format!(
                "ALTER TABLE {q}customers DROP COLUMN full_name; ALTER TABLE {q}customers ADD COLUMN phone TEXT; DROP TABLE {s}shipments;",
                q = if main == "public" { "public." } else { "" },
                s = if sales == "sales" { "sales." } else { "" },
            ));
            let third = crawl(&db, &name, &Actor::system(), false).expect("third crawl");
            assert_eq!(third.columns_removed, 1, "{ctx}: {third:?}");
            assert_eq!(third.columns_added, 1, "{ctx}: {third:?}");
            assert_eq!(third.datasets_removed, 1, "{ctx}: {third:?}");

            let customers = dataset(&db, source_id, main, "customers");
            assert_eq!(customers.description.as_deref(), Some("Our customers"), "{ctx}");
            assert_eq!(customers.owner.as_deref(), Some("crm-team"), "{ctx}");
            assert!(customers.updated_at > before.updated_at, "{ctx}: a changed dataset kept its old time");
            let cols = columns(&db, customers.id);
            assert_eq!(column(&cols, "full_name").status, REMOVED, "{ctx}");
            assert!(column(&cols, "full_name").removed_at.is_some(), "{ctx}");
            assert_eq!(column(&cols, "phone").status, "active", "{ctx}");
            assert_eq!(column(&cols, "email").description.as_deref(), Some("Login e-mail"), "{ctx}");

            let shipments = dataset(&db, source_id, sales, "shipments");
            assert_eq!(shipments.status, REMOVED, "{ctx}");
            assert!(!columns(&db, shipments.id).is_empty(), "{ctx}: a removed dataset lost its columns");
            let items = dataset(&db, source_id, sales, "order_items");
            let (_, incoming) = catalog::foreign_keys_of(&mut db.reader().expect("conn"), items.id).expect("fks");
            assert!(incoming.is_empty(), "{ctx}: the dropped table's foreign key is still listed");

            // It comes back: the same dataset is active again, nothing duplicated.
            target.execute(&format!(
                "CREATE TABLE {s}shipments (id bigint PRIMARY KEY, order_id bigint, line int);",
                s = if sales == "sales" { "sales." } else { "" },
            ));
            let fourth = crawl(&db, &name, &Actor::system(), false).expect("fourth crawl");
            assert_eq!(fourth.datasets_added, 0, "{ctx}: {fourth:?}");
            assert_eq!(fourth.datasets_changed, 1, "{ctx}: {fourth:?}");
            let back = dataset(&db, source_id, sales, "shipments");
            assert_eq!(back.id, shipments.id, "{ctx}");
            assert_eq!(back.status, "active", "{ctx}");
            assert!(back.removed_at.is_none(), "{ctx}");
            assert!(crawl(&db, &name, &Actor::system(), false).expect("fifth crawl").is_empty(), "{ctx}");
        }
    }
}

fn dataset_count(db: &Db) -> i64 {
    catalog::catalog_counts(&mut db.reader().expect("conn")).expect("counts").datasets
}

#[test]
fn an_unreachable_target_fails_clearly_and_keeps_the_catalog() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        let ctx = catalog.label();
        let target = Target::sqlite(SQLITE_SHOP);
        let (name, source_id) = register(&db, &target);
        crawl(&db, &name, &Actor::system(), false).expect("crawl");
        let before = dataset_count(&db);
        drop(target); // the file is gone
        let err = crawl(&db, &name, &Actor::system(), false).expect_err("crawl of a missing file");
        let message = format!("{err:#}");
        assert!(message.contains("no SQLite database file"), "{ctx}: {message}");
        assert!(message.contains("the catalog is unchanged"), "{ctx}: {message}");
        assert_eq!(dataset_count(&db), before, "{ctx}");
        let runs = catalog::list_crawl_runs_for_source(&mut db.reader().expect("conn"), source_id, 1).expect("runs");
        assert_eq!(runs[0].status, "failed", "{ctx}");
        assert!(runs[0].error.as_deref().unwrap_or("").contains("no SQLite database file"), "{ctx}");

        // A PostgreSQL server that is not there.
        let id = source::add(
            &db,
            &Actor::system(),
            &AddArgs {
                name: format!("down-{}", ctx),
                url: Some("postgres://postgres@127.0.0.1:1/nothing".into()),
                url_env: None,
                kind: None,
                description: None,
                owner: None,
            },
        )
        .expect("add");
        let err = crawl(&db, &format!("down-{ctx}"), &Actor::system(), false).expect_err("crawl of a closed port");
        assert!(format!("{err:#}").contains("cannot connect"), "{ctx}: {err:#}");
        let runs = catalog::list_crawl_runs_for_source(&mut db.reader().expect("conn"), id, 1).expect("runs");
        assert_eq!(runs[0].status, "failed", "{ctx}");
        assert_eq!(dataset_count(&db), before, "{ctx}");
    }
}

#[test]
fn a_target_without_privileges_fails_clearly() {
    let Some(target) = PgDatabase::create("custodian_locked") else {
        return;
    };
    let role = unique_name("custodian_noaccess");
    let mut admin = target.connect();
    use diesel::connection::SimpleConnection;
    admin
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; REVOKE CONNECT ON DATABASE \"{}\" FROM PUBLIC;",
            target.name
        ))
        .expect("set up role");
    let url = crate::support::replace_database(&target.url, &target.name).replacen("postgres@", &format!("{role}@"), 1);
    let catalog = TestCatalog::sqlite();
    let db = catalog.open();
    source::add(
        &db,
        &Actor::system(),
        &AddArgs { name: "locked".into(), url: Some(url), url_env: None, kind: None, description: None, owner: None },
    )
    .expect("add");
    let err = crawl(&db, "locked", &Actor::system(), false).expect_err("crawl without CONNECT");
    let message = format!("{err:#}");
    assert!(message.contains("not allowed") && message.contains("permission denied"), "{message}");
    drop(target);
    if let Some(admin_url) = crate::support::postgres_admin_url() {
        use diesel::Connection;
        if let Ok(mut c) = diesel::PgConnection::establish(&admin_url) {
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
        }
    }
}

#[test]
fn a_source_named_by_an_environment_variable_is_crawled_and_its_secret_never_stored() {
    let target = Target::sqlite(SQLITE_SHOP);
    let var = unique_name("CUSTODIAN_TEST_URL").to_uppercase();
    // SAFETY: the variable name is unique to this test; no other thread reads or writes it.
    unsafe { std::env::set_var(&var, target.url()) };
    let catalog = TestCatalog::sqlite();
    let db = catalog.open();
    let id = source::add(
        &db,
        &Actor::system(),
        &AddArgs {
            name: "viaenv".into(),
            url: None,
            url_env: Some(var.clone()),
            kind: None,
            description: None,
            owner: None,
        },
    )
    .expect("add");
    let stored = catalog::find_source(&mut db.reader().expect("conn"), id).expect("query").expect("source");
    assert_eq!(stored.connection_kind, "env");
    assert_eq!(stored.connection_ref, var);
    assert_eq!(crawl(&db, "viaenv", &Actor::system(), false).expect("crawl").datasets_added, 5);
    unsafe { std::env::remove_var(&var) };
    let err = crawl(&db, "viaenv", &Actor::system(), false).expect_err("variable unset");
    assert!(format!("{err:#}").contains(&var), "{err:#}");
}

#[test]
fn sources_with_passwords_in_their_url_are_refused() {
    let catalog = TestCatalog::sqlite();
    let db = catalog.open();
    let err = source::add(
        &db,
        &Actor::system(),
        &AddArgs {
            name: "leaky".into(),
            url: Some("postgres://app:hunter2@db/shop".into()),
            url_env: None,
            kind: None,
            description: None,
            owner: None,
        },
    )
    .expect_err("password in URL");
    let message = format!("{err:#}");
    assert!(message.contains("environment variable"), "{message}");
    assert!(!message.contains("hunter2"), "the error repeats the password: {message}");
    assert!(catalog::find_source_by_name(&mut db.reader().expect("conn"), "leaky").expect("query").is_none());
}
