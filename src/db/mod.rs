//! The catalog store: the connection type over both backends, the pools, migrations, the
//! table definitions, row structs, and one repository file per area. Repository functions take
//! a connection (`&mut AnyConnection`) and never a pool, so callers compose them in one
//! transaction. Nothing here knows about HTTP.

pub mod accounts;
pub mod audit;
pub mod catalog;
pub mod classification;
pub mod dialect;
pub mod erasure;
pub mod graph;
pub mod lineage;
pub mod models;
pub mod propagation;
pub mod retention;
pub mod schema;
pub mod search;

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

/// A catalog connection: PostgreSQL or SQLite, chosen by the catalog URL's scheme.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// The current UTC time as the catalog stores it (to the microsecond, which both backends keep).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// Which backend a catalog URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CatalogUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl CatalogUrl {
    /// `postgres://…` and `postgresql://…` select PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// bare path select an SQLite file. In-memory SQLite is refused: a pool would give each
    /// connection its own empty database.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() || path == ":memory:" || path.contains("mode=memory") {
            return Err(format!(
                "catalog URL {url:?} is not usable: give a postgres:// URL or the path of an SQLite file"
            ));
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(format!("catalog URL scheme {scheme:?} is not supported (use postgres:// or sqlite://)"));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The URL as it may be shown: a PostgreSQL password is replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(url) => redact_url(url),
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }
}

/// Replaces the password of a `scheme://user:password@host/...` URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        }
    }
}

/// Opens catalog connections for r2d2 and prepares each one (SQLite pragmas).
#[derive(Clone, Debug)]
pub struct ConnectionManager {
    url: CatalogUrl,
    read_only: bool,
}

impl ConnectionManager {
    pub fn new(url: CatalogUrl, read_only: bool) -> Self {
        Self { url, read_only }
    }

    pub fn establish(&self) -> Result<AnyConnection, r2d2::Error> {
        match &self.url {
            CatalogUrl::Postgres(url) => {
                PgConnection::establish(url).map(AnyConnection::Postgres).map_err(r2d2::Error::ConnectionError)
            }
            CatalogUrl::Sqlite(path) => {
                let path = path.to_str().ok_or_else(|| {
                    r2d2::Error::ConnectionError(ConnectionError::InvalidConnectionUrl(
                        "the SQLite path is not valid UTF-8".into(),
                    ))
                })?;
                let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                let mut pragmas = String::from(
                    "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;",
                );
                if self.read_only {
                    pragmas.push_str(" PRAGMA query_only = ON;");
                } else {
                    pragmas.push_str(" PRAGMA journal_mode = WAL;");
                }
                conn.batch_execute(&pragmas).map_err(r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, r2d2::Error> {
        self.establish()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), r2d2::Error> {
        conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

pub type DbPool = Pool<ConnectionManager>;
pub type DbConn = PooledConnection<ConnectionManager>;

/// The catalog's pools. On SQLite all writes go through one connection (SQLite allows one writer
/// at a time; queueing in the pool beats lock retries) and reads through several read-only ones.
/// On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    reader: DbPool,
    writer: DbPool,
    backend: Backend,
}

/// Pool and connection settings, from the configuration.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub size: u32,
    pub timeout: Duration,
}

impl Db {
    /// Runs pending migrations, then opens the pools.
    pub fn open(url: &CatalogUrl, settings: &PoolSettings) -> Result<Self, DbOpenError> {
        let backend = url.backend();
        let writer_manager = ConnectionManager::new(url.clone(), false);
        {
            let mut conn = writer_manager.establish().map_err(DbOpenError::Connect)?;
            dialect::run_migrations(&mut conn).map_err(DbOpenError::Migrate)?;
            classification::ensure_levels(&mut conn, now()).map_err(|e| DbOpenError::Migrate(e.to_string()))?;
            classification::ensure_builtin_taxonomy(&mut conn, now())
                .map_err(|e| DbOpenError::Migrate(e.to_string()))?;
        }
        // An SQLite file cannot go away under a connection, so checking each one out with a
        // query first is wasted work; a PostgreSQL connection can drop, so it is checked.
        let test_on_check_out = backend == Backend::Postgres;
        let build = |manager: ConnectionManager, size: u32| {
            Pool::builder()
                .max_size(size)
                // No connections opened in the background: each is made when first asked for.
                // (A background connect still under way when a command exits can crash inside
                // OpenSSL's exit handler.)
                .min_idle(Some(0))
                .test_on_check_out(test_on_check_out)
                .connection_timeout(settings.timeout)
                .build(manager)
                .map_err(DbOpenError::Pool)
        };
        match backend {
            Backend::Sqlite => Ok(Self {
                writer: build(writer_manager, 1)?,
                reader: build(ConnectionManager::new(url.clone(), true), settings.size.max(1))?,
                backend,
            }),
            Backend::Postgres => {
                let pool = build(writer_manager, settings.size.max(2))?;
                Ok(Self { reader: pool.clone(), writer: pool, backend })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection for reading.
    pub fn reader(&self) -> Result<DbConn, r2d2::PoolError> {
        self.reader.get()
    }

    /// A reader connection for a query small enough to run on the calling thread: SQLite only
    /// (a local file, microseconds) and only when one is idle; `None` means use a blocking task.
    pub fn quick_reader(&self) -> Option<DbConn> {
        if self.backend == Backend::Sqlite { self.reader.try_get() } else { None }
    }

    /// The connection for writing (on SQLite, the only one).
    pub fn writer(&self) -> Result<DbConn, r2d2::PoolError> {
        self.writer.get()
    }

    /// Pool state for metrics and readiness: (connections, idle) of the reader and writer pools.
    pub fn pool_state(&self) -> [(u32, u32); 2] {
        let r = self.reader.state();
        let w = self.writer.state();
        [(r.connections, r.idle_connections), (w.connections, w.idle_connections)]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbOpenError {
    #[error("cannot connect to the catalog: {0}")]
    Connect(r2d2::Error),
    #[error("cannot migrate the catalog: {0}")]
    Migrate(String),
    #[error("cannot open the catalog pool: {0}")]
    Pool(r2d2::PoolError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_urls_select_the_backend() {
        assert_eq!(CatalogUrl::parse("postgres://u@h/db").unwrap(), CatalogUrl::Postgres("postgres://u@h/db".into()));
        assert_eq!(CatalogUrl::parse("sqlite://custodian.db").unwrap(), CatalogUrl::Sqlite("custodian.db".into()));
        assert_eq!(CatalogUrl::parse("sqlite:///tmp/c.db").unwrap(), CatalogUrl::Sqlite("/tmp/c.db".into()));
        assert_eq!(CatalogUrl::parse("data/c.db").unwrap(), CatalogUrl::Sqlite("data/c.db".into()));
        assert!(CatalogUrl::parse("sqlite::memory:").is_err());
        assert!(CatalogUrl::parse("mysql://root@localhost/x").is_err());
        assert!(CatalogUrl::parse("").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://app:s3cret@db:5432/x?ssl=1"), "postgres://app:***@db:5432/x?ssl=1");
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
        assert_eq!(redact_url("postgres://a:b:c@db"), "postgres://a:***@db");
    }
}
