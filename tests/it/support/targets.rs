//! Target databases for crawl tests: an SQLite file or a fresh PostgreSQL database, built from
//! SQL and changed between crawls.

use std::path::PathBuf;

use diesel::SqliteConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::PgDatabase;

pub enum Target {
    Sqlite { _dir: tempfile::TempDir, path: PathBuf },
    Postgres(PgDatabase),
}

impl Target {
    pub fn sqlite(sql: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("target.db");
        let mut conn = SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("create target");
        conn.batch_execute(sql).expect("target SQL");
        Self::Sqlite { _dir: dir, path }
    }

    pub fn postgres(sql: &str) -> Option<Self> {
        let db = PgDatabase::create("custodian_target")?;
        db.connect().batch_execute(sql).expect("target SQL");
        Some(Self::Postgres(db))
    }

    /// What `source add --url` takes.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite { path, .. } => path.to_string_lossy().into_owned(),
            Self::Postgres(db) => db.url.clone(),
        }
    }

    pub fn execute(&self, sql: &str) {
        match self {
            Self::Sqlite { path, .. } => SqliteConnection::establish(path.to_str().expect("utf-8 path"))
                .expect("open target")
                .batch_execute(sql)
                .expect("target SQL"),
            Self::Postgres(db) => db.connect().batch_execute(sql).expect("target SQL"),
        }
    }
}
