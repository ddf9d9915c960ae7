//! `custodian demo`: builds the sample shop database, runs its pipelines in it, registers and
//! crawls it, documents a few of its datasets the way a data team would, ingests the pipelines
//! for their lineage, and serves the catalog.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use super::actor::Actor;
use crate::accounts;
use crate::config::Config;
use crate::db::accounts as accounts_repo;
use crate::db::audit::{self, AuditActor};
use crate::db::{Db, catalog, dialect, now};
use crate::demo::pipelines::PIPELINES;
use crate::demo::{DEMO_ACCOUNTS, ShopOptions, create_shop_database};
use crate::governance::access::Role;
use crate::ingest::{self, IngestTarget, SqlInput};
use crate::targets::ConnectionRef;

/// The demo source's name.
pub const SOURCE: &str = "shop";

/// Descriptions and owners a data team would have written; applied only where none exist.
const DOCUMENTATION: &[(&str, &str, &str)] = &[
    (
        "customers",
        "One row per registered customer of the web shop, with contact details and date of birth.",
        "crm-team",
    ),
    ("addresses", "Billing and shipping addresses that customers entered at checkout.", "crm-team"),
    ("orders", "Orders placed in the shop, one row per checkout.", "commerce-team"),
    ("order_items", "The products and quantities of each order.", "commerce-team"),
    (
        "payments",
        "Payments for orders: masked card numbers, IBANs for SEPA debits, PayPal payer addresses.",
        "finance-team",
    ),
    (
        "support_tickets",
        "Customer-service tickets with free-text bodies that may mention personal data.",
        "support-team",
    ),
    (
        "newsletter_subscriptions",
        "Newsletter sign-ups, by e-mail address; not every subscriber is a customer.",
        "marketing-team",
    ),
    (
        "web_events",
        "Page views and clicks from the shop's web analytics, with IP addresses and user agents.",
        "web-analytics",
    ),
];

/// Where the demo keeps its catalog when `CUSTODIAN_DATABASE_URL` is not set.
pub fn default_catalog(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("catalog.db").display())
}

/// Creates the shop database in `dir`, registers it as the `shop` source, crawls it and documents
/// it. Returns the opened catalog.
pub fn prepare(config: &Config, dir: &Path, show_progress: bool) -> anyhow::Result<Db> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize().with_context(|| format!("resolving {}", dir.display()))?;
    let shop_path: PathBuf = dir.join("shop.db");
    let summary = create_shop_database(&shop_path, &ShopOptions::default())
        .with_context(|| format!("creating the shop database at {}", shop_path.display()))?;
    if show_progress {
        println!(
            "Created the sample shop at {} ({} rows in {} tables).",
            shop_path.display(),
            summary.total_rows(),
            summary.tables.len()
        );
    }
    crate::demo::pipelines::run_pipelines(&shop_path)
        .with_context(|| format!("running the demo pipelines in {}", shop_path.display()))?;
    let db = super::open_catalog(config)?;
    let shop_ref = shop_path.to_string_lossy().into_owned();
    let existing = catalog::find_source_by_name(&mut *db.reader()?, SOURCE)?;
    match existing {
        Some(source) if source.connection_ref == shop_ref => {}
        Some(source) => bail!(
            "this catalog has a source named {SOURCE:?} at {} already; run the demo with another catalog \
             (CUSTODIAN_DATABASE_URL) or the same --dir",
            ConnectionRef::from_parts(&source.connection_kind, &source.connection_ref)
                .map(|c| c.display())
                .unwrap_or_default()
        ),
        None => {
            super::source::add(
                &db,
                &Actor::system(),
                &super::source::AddArgs {
                    name: SOURCE.into(),
                    url: Some(shop_ref),
                    url_env: None,
                    kind: None,
                    description: Some("The web shop's operational database (demo data, generated).".into()),
                    owner: Some("commerce-team".into()),
                },
            )?;
        }
    }
    super::crawl::run(&db, SOURCE, &Actor::system(), show_progress)?;
    document(&db)?;
    ingest_pipelines(&db, show_progress)?;
    classify_identifying_columns(&db, show_progress)?;
    create_demo_accounts(&db, show_progress)?;
    retention_policies(&db, config, &shop_path, show_progress)?;
    if show_progress && let Some(email) = erasure_example(&shop_path) {
        println!(
            "Try an erasure: sign in as piet (privacy desk), submit {email} at /erasure/new and plan it; \
             chloe (compliance) approves; run it and download the receipt."
        );
    }
    Ok(db)
}

/// A retention policy of the demo and the tables (with the column that dates their rows) it
/// is attached to.
struct DemoPolicy(&'static str, &'static str, &'static str, &'static str, &'static [(&'static str, &'static str)]);

/// The demo's retention policies: (name, period, action, basis, datasets with their timestamp
/// column). The first is the whole source's default; the others are attached to their datasets.
const POLICIES: &[DemoPolicy] = &[
    DemoPolicy(
        "Customer relationship",
        "P7Y",
        "delete",
        "Art. 6(1)(b) contract, then the limitation period for claims",
        &[("customers", "created_at")],
    ),
    DemoPolicy(
        "Web analytics",
        "P90D",
        "delete",
        "Art. 6(1)(f) legitimate interest: site analytics; raw events kept 90 days",
        &[("web_events", "occurred_at")],
    ),
    DemoPolicy(
        "Customer service",
        "P2Y",
        "delete",
        "Art. 6(1)(b) contract: answering customers; tickets kept two years for follow-up questions",
        &[("support_tickets", "opened_at")],
    ),
    DemoPolicy(
        "Accounting records",
        "P10Y",
        "delete",
        "Art. 6(1)(c) legal obligation: commercial and tax law (10 years)",
        &[("orders", "ordered_at"), ("payments", "paid_at")],
    ),
    DemoPolicy(
        "Newsletter consent",
        "P2Y",
        "mask",
        "Art. 6(1)(a) consent: sign-up addresses masked two years after sign-up",
        &[("newsletter_subscriptions", "subscribed_at")],
    ),
];

/// Gives the shop retention policies (web events 90 days, support tickets 2 years, …), the
/// columns that date its tables' rows, and a legal hold on one customer with old tickets, so a
/// newcomer can preview and run a purge. Nothing is changed when policies exist already.
fn retention_policies(db: &Db, config: &Config, shop: &Path, show_progress: bool) -> anyhow::Result<()> {
    use crate::retention::{self, HoldInput, HoldScope, PolicyInput, ScopeRef};
    let mut conn = db.writer()?;
    if !crate::db::retention::list_policies(&mut conn)?.is_empty() {
        return Ok(());
    }
    let source = catalog::find_source_by_name(&mut conn, SOURCE)?.context("the demo source is missing")?;
    let by = AuditActor::system();
    for DemoPolicy(name, period, action, basis, datasets) in POLICIES {
        let input = PolicyInput {
            name: (*name).into(),
            period: (*period).into(),
            action: (*action).into(),
            mask_columns: if *action == "mask" { "email".into() } else { String::new() },
            legal_basis: (*basis).into(),
            description: String::new(),
        };
        let id = retention::create_policy(&mut conn, &by, &input)?;
        // The first policy is the source's default; the others are the datasets' own.
        let default = POLICIES.first().is_some_and(|p| p.0 == *name);
        if default {
            retention::assign(&mut conn, &by, id, &ScopeRef::Source(source.id))?;
        }
        for (table, column) in *datasets {
            let dataset = catalog::find_dataset_by_name(&mut conn, source.id, "main", table)?
                .with_context(|| format!("the demo table {table} is missing"))?;
            if !default {
                retention::assign(&mut conn, &by, id, &ScopeRef::Dataset(dataset.id))?;
            }
            retention::set_timestamp(&mut conn, &by, dataset.id, Some(column))?;
        }
    }
    if let Some(email) = held_customer(shop) {
        let keys = crate::keys::Keys::load_or_create(&config.key_path())?;
        let hold = HoldInput {
            scope: HoldScope::Subject { identifier_type: "email".into(), value: email },
            basis: "art17_3_e".into(),
            reason: "Disputed refund (case 2026-114): keep this customer's records until it is settled".into(),
            until: None,
        };
        retention::add_hold(&mut conn, &keys, &by, &hold)?;
    }
    if show_progress {
        println!(
            "Added {} retention policies and a legal hold; sign in as chloe (compliance) and preview a purge at /retention.",
            POLICIES.len()
        );
    }
    Ok(())
}

/// A customer (not the erasure example) with support tickets past the two-year policy: the
/// demo's legal hold keeps their rows through purges.
fn held_customer(shop: &Path) -> Option<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Email {
        #[diesel(sql_type = diesel::sql_types::Text)]
        email: String,
    }
    let example = erasure_example(shop).unwrap_or_default();
    let mut conn = diesel::SqliteConnection::establish(&shop.to_string_lossy()).ok()?;
    let found: Vec<Email> = diesel::sql_query(
        "SELECT c.email AS email FROM customers c JOIN support_tickets t ON t.customer_id = c.id \
         WHERE julianday(t.opened_at) < julianday('now', '-2 years', '-30 days') AND c.email <> ? \
         GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1",
    )
    .bind::<diesel::sql_types::Text, _>(example)
    .load(&mut conn)
    .ok()?;
    found.into_iter().next().map(|e| e.email)
}

/// A demo customer with orders whose e-mail was also copied into the marketing audience, so an
/// erasure of them reaches the derived tables.
pub fn erasure_example(shop: &Path) -> Option<String> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Email {
        #[diesel(sql_type = diesel::sql_types::Text)]
        email: String,
    }
    let mut conn = diesel::SqliteConnection::establish(&shop.to_string_lossy()).ok()?;
    let found: Vec<Email> = diesel::sql_query(
        "SELECT c.email AS email FROM customers c \
         WHERE EXISTS (SELECT 1 FROM marketing_audience m WHERE m.contact_address = lower(c.email)) \
         AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) ORDER BY c.id LIMIT 1",
    )
    .load(&mut conn)
    .ok()?;
    found.into_iter().next().map(|e| e.email)
}

fn document(db: &Db) -> anyhow::Result<()> {
    let mut conn = db.writer()?;
    dialect::write_transaction(&mut conn, |conn| {
        let Some(source) = catalog::find_source_by_name(conn, SOURCE)? else {
            return Ok(());
        };
        for (table, description, owner) in DOCUMENTATION {
            if let Some(d) = catalog::find_dataset_by_name(conn, source.id, "main", table)?
                && d.description.is_none()
                && d.owner.is_none()
            {
                crate::catalog::edit_dataset(conn, &AuditActor::system(), d.id, Some(description), Some(owner), now())?;
            }
        }
        Ok::<_, crate::catalog::ActionError>(())
    })?;
    Ok(())
}

/// The shop's identifying columns as a compliance officer would tag them first:
/// (table, column, categories, identifier type).
const IDENTIFYING: &[(&str, &str, &[&str], Option<&str>)] = &[
    ("customers", "id", &["identity.customer_id"], Some("customer_id")),
    ("customers", "email", &["contact.email"], Some("email")),
    ("customers", "phone", &["contact.phone"], Some("phone")),
    ("customers", "first_name", &["identity.first_name"], None),
    ("customers", "last_name", &["identity.last_name"], None),
    ("customers", "date_of_birth", &["identity.date_of_birth"], None),
    ("newsletter_subscriptions", "email", &["contact.email"], Some("email")),
    ("payments", "iban", &["financial.iban"], Some("iban")),
    ("web_events", "ip_address", &["online.ip_address"], Some("ip_address")),
];

/// Tags the identifying columns nobody has classified yet, so propagation shows on the derived
/// tables (the rest is left to the suggestions queue).
fn classify_identifying_columns(db: &Db, show_progress: bool) -> anyhow::Result<()> {
    use crate::classification::{ColumnChange, Vocabulary, classify};
    let mut conn = db.writer()?;
    let tagged = dialect::write_transaction(&mut conn, |conn| {
        let Some(source) = catalog::find_source_by_name(conn, SOURCE)? else {
            return Ok(0);
        };
        let vocabulary = Vocabulary::load(conn)?;
        let mut tagged = 0;
        for (table, column, categories, identifier) in IDENTIFYING {
            let Some(dataset) = catalog::find_dataset_by_name(conn, source.id, "main", table)? else { continue };
            let Some(column) = catalog::list_columns(conn, dataset.id)?.into_iter().find(|c| c.name == *column) else {
                continue;
            };
            if crate::db::classification::confirmed(conn, &[column.id])?.contains_key(&column.id) {
                continue;
            }
            let change = ColumnChange {
                add_categories: categories.iter().filter_map(|k| vocabulary.category_by_key(k)).map(|c| c.id).collect(),
                identifier: identifier.map(|k| vocabulary.identifier_by_key(k).map(|i| i.id)),
                ..Default::default()
            };
            tagged += classify(conn, &AuditActor::system(), &[column.id], &change, None, now())?;
        }
        Ok::<_, crate::classification::ClassifyError>(tagged)
    })?;
    if show_progress && tagged > 0 {
        println!("Classified {tagged} identifying columns of the shop; lineage carries their tags downstream.");
    }
    Ok(())
}

/// Ingests the shop's pipelines (already run in the shop, so their tables are crawled).
fn ingest_pipelines(db: &Db, show_progress: bool) -> anyhow::Result<()> {
    let mut conn = db.writer()?;
    let source = ingest::choose_source(&mut conn, Some(SOURCE))?;
    let target = IngestTarget::new(source, Some("sqlite"), None)?;
    let (mut stored, mut table_edges, mut column_edges) = (0, 0, 0);
    for (name, sql) in PIPELINES {
        let input =
            SqlInput { name: (*name).to_owned(), path: format!("demo/pipelines/{name}"), sql: (*sql).to_owned() };
        let report = ingest::ingest(&mut conn, &AuditActor::system(), &target, &input, false, None)
            .with_context(|| format!("ingesting the demo pipeline {name}"))?;
        if report.outcome != ingest::Outcome::Unchanged {
            stored += 1;
            table_edges += report.table_edges;
            column_edges += report.column_edges;
        }
    }
    if show_progress && stored > 0 {
        println!(
            "Ingested {stored} pipelines of the shop: {table_edges} table and {column_edges} column lineage edges."
        );
    }
    Ok(())
}

/// One account per role (see [`DEMO_ACCOUNTS`]), created once.
fn create_demo_accounts(db: &Db, show_progress: bool) -> anyhow::Result<()> {
    let mut conn = db.writer()?;
    let mut created = 0;
    for account in DEMO_ACCOUNTS {
        let role = Role::parse(account.role).context("a demo account has an unknown role")?;
        let exists = accounts_repo::find_user_by_name(&mut conn, account.username)?.is_some();
        if !exists {
            let display = format!("{} (demo {})", capitalise(account.username), role.label().to_lowercase());
            dialect::write_transaction(&mut conn, |conn| {
                let now = now();
                let user = accounts::create_user(conn, account.username, Some(display), role, account.password, now)?;
                audit::append(
                    conn,
                    &AuditActor::system()
                        .event("user.create", "user")
                        .entity_id(user.id)
                        .after(serde_json::json!({ "username": user.username, "role": user.role }))
                        .reason("a demo account"),
                    now,
                )?;
                Ok::<_, accounts::AccountError>(())
            })
            .map_err(|e| anyhow::anyhow!("creating the demo account {}: {e}", account.username))?;
            created += 1;
        }
    }
    if show_progress && created > 0 {
        println!("Created {created} demo accounts (listed on the sign-in page).");
    }
    Ok(())
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Prepares the demo and serves it.
pub async fn run(config: Config, dir: &Path) -> anyhow::Result<()> {
    let db = prepare(&config, dir, true)?;
    println!("Open http://{}/ to explore the catalog. Press Ctrl-C to stop.", config.bind);
    super::serve::run(config, db).await
}
