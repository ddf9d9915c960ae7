//! Connectors to the databases Custodian catalogs and acts on. A connector turns a source's
//! connection reference into a live connection and reads the target's own catalog into a
//! [`Snapshot`]; it never writes to the target during a crawl.

pub mod erasure;
pub mod postgres;
pub mod registration;
pub mod sqlite;

use std::fmt;

/// The kinds of database a source can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Postgres,
    Sqlite,
}

impl SourceKind {
    pub const ALL: [SourceKind; 2] = [SourceKind::Postgres, SourceKind::Sqlite];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Postgres => "PostgreSQL",
            Self::Sqlite => "SQLite",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The schema that unqualified names live in on this kind of database.
    pub fn default_schema(self) -> &'static str {
        match self {
            Self::Postgres => "public",
            Self::Sqlite => "main",
        }
    }
}

/// What a dataset is on its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetKind {
    Table,
    View,
    MaterializedView,
    ForeignTable,
    External,
    /// Named in pipeline SQL, not (yet) found by a crawl.
    Referenced,
}

impl DatasetKind {
    pub const ALL: [DatasetKind; 6] = [
        DatasetKind::Table,
        DatasetKind::View,
        DatasetKind::MaterializedView,
        DatasetKind::ForeignTable,
        DatasetKind::External,
        DatasetKind::Referenced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::View => "view",
            Self::MaterializedView => "materialized_view",
            Self::ForeignTable => "foreign_table",
            Self::External => "external",
            Self::Referenced => "referenced",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Table => "table",
            Self::View => "view",
            Self::MaterializedView => "materialized view",
            Self::ForeignTable => "foreign table",
            Self::External => "external",
            Self::Referenced => "referenced in SQL",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A target's schema as read by one crawl.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub datasets: Vec<SnapshotDataset>,
    pub foreign_keys: Vec<SnapshotForeignKey>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotDataset {
    pub schema: String,
    pub name: String,
    pub kind: DatasetKind,
    pub comment: Option<String>,
    pub definition: Option<String>,
    pub row_estimate: Option<i64>,
    pub columns: Vec<SnapshotColumn>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotColumn {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub is_primary_key: bool,
    pub default_value: Option<String>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotForeignKey {
    pub name: String,
    pub from_schema: String,
    pub from_table: String,
    pub from_columns: Vec<String>,
    pub to_schema: String,
    pub to_table: String,
    pub to_columns: Vec<String>,
}

/// Where a source's connection comes from, as stored in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionRef {
    /// A password-free PostgreSQL URL, or an SQLite file path.
    Url(String),
    /// The name of an environment variable that holds the URL (it may carry a password).
    Env(String),
}

impl ConnectionRef {
    pub fn from_parts(kind: &str, reference: &str) -> Option<Self> {
        match kind {
            "url" => Some(Self::Url(reference.to_owned())),
            "env" => Some(Self::Env(reference.to_owned())),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Url(_) => "url",
            Self::Env(_) => "env",
        }
    }

    pub fn reference(&self) -> &str {
        match self {
            Self::Url(r) | Self::Env(r) => r,
        }
    }

    /// What pages and the API show: the path or URL (never with a password), or `$VAR`.
    pub fn display(&self) -> String {
        match self {
            Self::Url(r) => r.clone(),
            Self::Env(var) => format!("${var}"),
        }
    }
}

/// A connection target resolved from its reference. Its URL may hold a secret, so it has no
/// `Debug` or `Display` that prints it.
#[derive(Clone)]
pub struct ResolvedTarget {
    pub kind: SourceKind,
    url: String,
}

impl fmt::Debug for ResolvedTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolvedTarget").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl ResolvedTarget {
    /// Resolves a stored reference, reading the environment variable if the reference names one.
    pub fn resolve(kind: SourceKind, reference: &ConnectionRef) -> Result<Self, TargetError> {
        let url = match reference {
            ConnectionRef::Url(url) => url.clone(),
            ConnectionRef::Env(var) => std::env::var(var).map_err(|_| TargetError::MissingEnv(var.clone()))?,
        };
        Ok(Self { kind, url })
    }

    /// Resolves a source as the catalog stores it: its kind and its connection reference.
    pub fn stored(kind: &str, connection_kind: &str, connection_ref: &str) -> Result<Self, TargetError> {
        let kind =
            SourceKind::parse(kind).ok_or_else(|| TargetError::BadReference(format!("unknown kind {kind:?}")))?;
        let reference = ConnectionRef::from_parts(connection_kind, connection_ref)
            .ok_or_else(|| TargetError::BadReference(format!("unknown connection kind {connection_kind:?}")))?;
        Self::resolve(kind, &reference)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Reads the target's schema.
    pub fn introspect(&self) -> Result<Snapshot, TargetError> {
        match self.kind {
            SourceKind::Postgres => postgres::introspect(&self.url),
            SourceKind::Sqlite => sqlite::introspect(sqlite_path(&self.url)),
        }
    }
}

/// A read-only session on a target, for reading values (samples for suggestions).
pub enum Session {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

#[derive(diesel::QueryableByName)]
struct Value {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    v: Option<String>,
}

impl ResolvedTarget {
    /// Opens a read-only session.
    pub fn session(&self) -> Result<Session, TargetError> {
        match self.kind {
            SourceKind::Postgres => postgres::connect(&self.url).map(Session::Postgres),
            SourceKind::Sqlite => sqlite::connect_read_only(sqlite_path(&self.url)).map(Session::Sqlite),
        }
    }
}

impl Session {
    /// Up to `limit` non-NULL values of a column, as text. Identifiers are quoted; nothing from
    /// the values is kept beyond what the caller does with them.
    pub fn sample(&mut self, schema: &str, table: &str, column: &str, limit: i64) -> Result<Vec<String>, TargetError> {
        use diesel::RunQueryDsl;
        let col = sqlite::quote_ident(column);
        let rows: Vec<Value> = match self {
            Self::Postgres(c) => diesel::sql_query(format!(
                "SELECT {col}::text AS v FROM {}.{} WHERE {col} IS NOT NULL LIMIT $1",
                sqlite::quote_ident(schema),
                sqlite::quote_ident(table)
            ))
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load(c),
            Self::Sqlite(c) => diesel::sql_query(format!(
                "SELECT CAST({col} AS TEXT) AS v FROM {} WHERE {col} IS NOT NULL LIMIT ?",
                sqlite::quote_ident(table)
            ))
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load(c),
        }
        .map_err(TargetError::from_query)?;
        Ok(rows.into_iter().filter_map(|r| r.v).collect())
    }
}

/// Interprets a URL given for a new source: which kind of database it names, and whether it
/// carries a password (which must then come through an environment variable instead).
pub fn classify_url(url: &str) -> Result<(SourceKind, bool), String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("the URL is empty".into());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let has_password = url
            .split_once("://")
            .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or_default())
            .and_then(|authority| authority.rsplit_once('@'))
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
            || url.contains("password=");
        return Ok((SourceKind::Postgres, has_password));
    }
    if let Some((scheme, _)) = url.split_once("://")
        && scheme != "sqlite"
        && scheme != "file"
    {
        return Err(format!("unsupported URL scheme {scheme:?}: use postgres://… or an SQLite file path"));
    }
    Ok((SourceKind::Sqlite, false))
}

/// The file path of an SQLite URL (`sqlite://PATH`, `sqlite:PATH`, `file:PATH` or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .or_else(|| url.strip_prefix("file://"))
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url)
}

/// Why a target could not be read. Messages name the problem, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("the environment variable {0} that holds this source's URL is not set")]
    MissingEnv(String),
    #[error("the source's stored connection is not valid: {0}")]
    BadReference(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("not allowed to read the schema: {0}")]
    Permission(String),
    #[error("reading the schema failed: {0}")]
    Query(String),
}

impl TargetError {
    /// Classifies a database error from reading a target.
    pub fn from_query(error: diesel::result::Error) -> Self {
        let message = error.to_string();
        let lower = message.to_lowercase();
        if lower.contains("permission denied") || lower.contains("not authorized") || lower.contains("access denied") {
            Self::Permission(message)
        } else {
            Self::Query(message)
        }
    }

    pub fn from_connect(error: diesel::ConnectionError) -> Self {
        let message = error.to_string().trim().to_owned();
        if message.to_lowercase().contains("permission denied") {
            Self::Permission(message)
        } else {
            Self::Connect(message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_classified() {
        assert_eq!(classify_url("postgres://app@db/shop").unwrap(), (SourceKind::Postgres, false));
        assert_eq!(classify_url("postgresql://app:pw@db/shop").unwrap(), (SourceKind::Postgres, true));
        assert_eq!(classify_url("postgres://db/shop?password=x").unwrap(), (SourceKind::Postgres, true));
        assert_eq!(classify_url("/data/shop.db").unwrap(), (SourceKind::Sqlite, false));
        assert_eq!(classify_url("sqlite:///data/shop.db").unwrap(), (SourceKind::Sqlite, false));
        assert!(classify_url("mysql://root@x/db").is_err());
        assert!(classify_url("  ").is_err());
    }

    #[test]
    fn resolved_targets_do_not_print_their_url() {
        let target =
            ResolvedTarget::resolve(SourceKind::Postgres, &ConnectionRef::Url("postgres://u:secret@h/d".into()))
                .unwrap();
        assert!(!format!("{target:?}").contains("secret"));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err =
            ResolvedTarget::resolve(SourceKind::Postgres, &ConnectionRef::Env("CUSTODIAN_TEST_UNSET_VAR_42".into()))
                .unwrap_err();
        assert!(err.to_string().contains("CUSTODIAN_TEST_UNSET_VAR_42"));
    }
}
