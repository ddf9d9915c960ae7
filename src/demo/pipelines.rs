//! The demo shop's pipelines: SQL (SQLite dialect) that derives the tables a data team builds
//! from the shop's data — customer lifetime value, a marketing audience that copies customers'
//! e-mails as `contact_address`, a support export, a daily web-traffic summary, monthly product
//! sales and a payment reconciliation. `custodian demo` runs them in the shop database (so the
//! derived tables exist, with rows, when it is crawled) and ingests them for their lineage.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::DemoError;

/// The pipelines, as `(file name, SQL)`, in the order they run (later ones read earlier ones'
/// tables).
pub const PIPELINES: &[(&str, &str)] = &[
    ("customer_ltv.sql", include_str!("pipelines/customer_ltv.sql")),
    ("marketing_audience.sql", include_str!("pipelines/marketing_audience.sql")),
    ("support_export.sql", include_str!("pipelines/support_export.sql")),
    ("web_traffic_daily.sql", include_str!("pipelines/web_traffic_daily.sql")),
    ("product_sales_monthly.sql", include_str!("pipelines/product_sales_monthly.sql")),
    ("payment_reconciliation.sql", include_str!("pipelines/payment_reconciliation.sql")),
];

/// The tables the pipelines leave in the shop database.
pub const DERIVED_TABLES: &[&str] = &[
    "customer_ltv",
    "marketing_audience",
    "support_export",
    "web_traffic_daily",
    "product_sales_monthly",
    "payment_mismatches",
];

/// Runs every pipeline in the shop database at `path`, each in its own transaction.
pub fn run_pipelines(path: &Path) -> Result<(), DemoError> {
    let url = path.to_str().ok_or_else(|| DemoError::NonUtf8Path(path.to_path_buf()))?;
    let mut conn = SqliteConnection::establish(url)?;
    for (_, sql) in PIPELINES {
        conn.immediate_transaction(|conn| conn.batch_execute(sql))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{ShopOptions, create_shop_database};

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    #[test]
    fn the_pipelines_run_in_the_shop_and_fill_their_tables() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shop.db");
        let options = ShopOptions { customers: 200, ..ShopOptions::default() };
        create_shop_database(&path, &options).expect("shop");
        run_pipelines(&path).expect("run");
        // Running again replaces the tables rather than failing or doubling rows.
        run_pipelines(&path).expect("run again");
        let mut conn = SqliteConnection::establish(path.to_str().expect("utf-8")).expect("open");
        for table in DERIVED_TABLES {
            let count: Count =
                diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(&mut conn).expect("count");
            assert!(count.n > 0, "{table} is empty");
        }
        let temp: Count =
            diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_temp_master WHERE name = 'payment_totals'")
                .get_result(&mut conn)
                .expect("temp");
        assert_eq!(temp.n, 0);
    }
}
