//! The `custodian demo` sample data: a deterministic SQLite database of a small European web
//! shop full of realistic (synthetic) personal data, which the demo then crawls, classifies,
//! erases from and purges.
//!
//! [`create_shop_database`] is the entry point; `shop` builds the rows and writes them, `data`
//! holds the seeded PRNG and the reference lists (names, cities, products, ticket texts).

mod data;
pub mod pipelines;
mod shop;

use std::path::PathBuf;

pub use shop::{SHOP_TABLES, SHOP_VIEWS, create_shop_database};

/// A demo account, one per role, listed on the sign-in page in demo mode only.
pub struct DemoAccount {
    pub username: &'static str,
    pub password: &'static str,
    pub role: &'static str,
}

/// The accounts `custodian demo` creates (their passwords are public: they are for the demo).
pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount { username: "vera", password: "vera-demo-viewer", role: "viewer" },
    DemoAccount { username: "sam", password: "sam-demo-steward", role: "steward" },
    DemoAccount { username: "chloe", password: "chloe-demo-compliance", role: "compliance" },
    DemoAccount { username: "piet", password: "piet-demo-privacy", role: "privacy_desk" },
    DemoAccount { username: "ada", password: "ada-demo-admin", role: "admin" },
];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopOptions {
    /// Number of customers; every other table scales with it (products are a fixed 120).
    pub customers: usize,
    /// "Today" for dating rows: every timestamp lies in the four years before midnight of this
    /// day, so retention demos find rows older than 90 days and older than two years.
    pub as_of: chrono::NaiveDate,
    /// Same seed and `as_of` give identical table contents.
    pub seed: u64,
}

impl Default for ShopOptions {
    fn default() -> Self {
        Self { customers: 1500, as_of: chrono::Utc::now().date_naive(), seed: 20_240_501 }
    }
}

/// What was generated: each table with its row count, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSummary {
    pub tables: Vec<(String, u64)>,
}

impl ShopSummary {
    /// Row count of one table, if it exists.
    pub fn rows(&self, table: &str) -> Option<u64> {
        self.tables.iter().find(|(name, _)| name == table).map(|(_, rows)| *rows)
    }

    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot open the demo shop database: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("writing the demo shop database failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot replace the demo shop database file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the demo shop database path is not valid UTF-8: {}", .0.display())]
    NonUtf8Path(PathBuf),
}
