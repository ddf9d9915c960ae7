//! Typed configuration from `CUSTODIAN_*` environment variables, read and validated once at
//! start-up and passed to whatever needs it (no global).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;

use crate::accounts::SessionPolicy;
use crate::db::{CatalogUrl, PoolSettings};
use crate::governance::erasure::BlastMargin;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// `CUSTODIAN_DATABASE_URL` (or `DATABASE_URL`): the catalog; default `sqlite://custodian.db`.
    pub database_url: CatalogUrl,
    /// `CUSTODIAN_BIND`: where `serve` listens; default `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// `CUSTODIAN_HTTP_WORKERS`: HTTP worker threads; default one per core.
    pub http_workers: usize,
    /// `CUSTODIAN_POOL_SIZE`: catalog connections for reading (PostgreSQL: in all); default 8.
    pub pool_size: u32,
    /// `CUSTODIAN_POOL_TIMEOUT_SECS`: how long a request waits for a connection; default 10.
    pub pool_timeout: Duration,
    /// `CUSTODIAN_LOG`: a tracing filter such as `info` or `custodian=debug`; default `info`.
    pub log_filter: String,
    /// `CUSTODIAN_LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `CUSTODIAN_WORKER`: whether `serve` also runs background jobs (crawls); default true.
    pub run_worker: bool,
    /// `CUSTODIAN_SESSION_KEY`: base64 of at least 32 random bytes that sign session cookies; every
    /// instance behind a load balancer needs the same one. Unset: a random key per process (sessions
    /// end when it restarts).
    pub session_key: Option<Vec<u8>>,
    /// `CUSTODIAN_SESSION_IDLE_MINUTES` (default 30) and `CUSTODIAN_SESSION_MAX_HOURS` (default 12).
    pub session_policy: SessionPolicy,
    /// `CUSTODIAN_SECURE_COOKIES`: mark cookies `Secure` (set it when users reach Custodian over
    /// HTTPS, e.g. behind a TLS-terminating proxy); default false.
    pub secure_cookies: bool,
    /// Whether the catalog URL was given (the demo otherwise keeps its own catalog).
    pub database_url_explicit: bool,
    /// Set by `custodian demo`: pages mention the demo.
    pub demo: bool,
    /// `CUSTODIAN_KEY_FILE`: the instance secret that keys subject HMACs, seals erasure working
    /// copies and signs receipts; created (mode 0600) when missing. Every instance of one catalog
    /// needs the same file. Default: beside a SQLite catalog (`custodian.db.key`), else
    /// `custodian.key` in the working directory.
    pub key_file: Option<PathBuf>,
    /// Erasure execution limits (E12, E13).
    pub erasure: ErasureSettings,
    /// Retention enforcement: batch size and schedule.
    pub retention: RetentionSettings,
    /// `CUSTODIAN_METRICS_TOKEN`: when set, `/metrics` needs `Authorization: Bearer <token>`;
    /// unset, it is open like `/healthz` (it holds route patterns and counts, no personal data).
    pub metrics_token: Option<String>,
    /// `CUSTODIAN_DBT_MAPPING`: a JSON file saying which dbt tags and `meta` keys suggest which
    /// categories and levels (see `dbt::Mapping`); unset, the default.
    pub dbt_mapping: Option<PathBuf>,
}

/// `CUSTODIAN_RETENTION_BATCH` (rows per purge transaction, default 10000: each batch commits on
/// its own, so no lock is held longer than one batch) and `CUSTODIAN_RETENTION_INTERVAL_SECS`
/// (how often the worker queues a scheduled purge; default 0, off). Purges share erasure's
/// timeouts, blast-radius margin and lease.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionSettings {
    pub batch: i64,
    pub interval_secs: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self { batch: 10_000, interval_secs: 0 }
    }
}

/// `CUSTODIAN_ERASURE_MARGIN_ROWS` and `_PERCENT` (default 10 and 10: a step may touch
/// max(10 rows, 10 %) more than its dry run), `CUSTODIAN_ERASURE_BATCH` (rows per statement,
/// default 5000), `CUSTODIAN_ERASURE_STATEMENT_TIMEOUT_SECS` (default 60) and
/// `CUSTODIAN_ERASURE_LOCK_TIMEOUT_SECS` (default 10); `CUSTODIAN_ERASURE_LEASE_SECS` (default
/// 300): a run whose worker has not reported for this long is taken over by another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErasureSettings {
    pub margin: BlastMargin,
    pub batch: i64,
    pub statement_timeout_secs: u64,
    pub lock_timeout_secs: u64,
    pub lease_secs: u64,
}

impl Default for ErasureSettings {
    fn default() -> Self {
        Self {
            margin: BlastMargin::default(),
            batch: 5000,
            statement_timeout_secs: 60,
            lock_timeout_secs: 10,
            lease_secs: 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (tests pass their own).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let given_url = get("CUSTODIAN_DATABASE_URL").or_else(|| get("DATABASE_URL"));
        let database_url_explicit = given_url.is_some();
        let database_url = given_url.unwrap_or_else(|| "sqlite://custodian.db".to_owned());
        let database_url = CatalogUrl::parse(&database_url)
            .map_err(|message| ConfigError { variable: "CUSTODIAN_DATABASE_URL", message })?;
        let defaults = Self::default();
        let bind = parse(get("CUSTODIAN_BIND"), "CUSTODIAN_BIND", defaults.bind)?;
        let http_workers = parse(get("CUSTODIAN_HTTP_WORKERS"), "CUSTODIAN_HTTP_WORKERS", defaults.http_workers)?;
        let pool_size: u32 = parse(get("CUSTODIAN_POOL_SIZE"), "CUSTODIAN_POOL_SIZE", defaults.pool_size)?;
        let timeout_secs: u64 =
            parse(get("CUSTODIAN_POOL_TIMEOUT_SECS"), "CUSTODIAN_POOL_TIMEOUT_SECS", defaults.pool_timeout.as_secs())?;
        let log_format = match get("CUSTODIAN_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    variable: "CUSTODIAN_LOG_FORMAT",
                    message: format!("{other:?} is neither \"text\" nor \"json\""),
                });
            }
        };
        let run_worker = parse_bool(get("CUSTODIAN_WORKER"), "CUSTODIAN_WORKER", true)?;
        let secure_cookies = parse_bool(get("CUSTODIAN_SECURE_COOKIES"), "CUSTODIAN_SECURE_COOKIES", false)?;
        let session_key = match get("CUSTODIAN_SESSION_KEY") {
            None => None,
            Some(v) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(v.trim()).map_err(|e| ConfigError {
                    variable: "CUSTODIAN_SESSION_KEY",
                    message: format!("not base64: {e}"),
                })?;
                if bytes.len() < 32 {
                    return Err(ConfigError {
                        variable: "CUSTODIAN_SESSION_KEY",
                        message: format!("needs at least 32 bytes, has {}", bytes.len()),
                    });
                }
                Some(bytes)
            }
        };
        let idle: u64 = parse(get("CUSTODIAN_SESSION_IDLE_MINUTES"), "CUSTODIAN_SESSION_IDLE_MINUTES", 30)?;
        let max_hours: u64 = parse(get("CUSTODIAN_SESSION_MAX_HOURS"), "CUSTODIAN_SESSION_MAX_HOURS", 12)?;
        if idle == 0 || max_hours == 0 {
            return Err(ConfigError {
                variable: "CUSTODIAN_SESSION_IDLE_MINUTES",
                message: "session timeouts must be at least 1".into(),
            });
        }
        let session_policy =
            SessionPolicy { idle: Duration::from_secs(idle * 60), absolute: Duration::from_secs(max_hours * 3600) };
        if pool_size == 0 || http_workers == 0 || timeout_secs == 0 {
            return Err(ConfigError {
                variable: "CUSTODIAN_POOL_SIZE",
                message: "pool size, HTTP workers and pool timeout must be at least 1".into(),
            });
        }
        Ok(Self {
            database_url,
            bind,
            http_workers,
            pool_size,
            pool_timeout: Duration::from_secs(timeout_secs),
            log_filter: get("CUSTODIAN_LOG").unwrap_or(defaults.log_filter),
            log_format,
            run_worker,
            session_key,
            session_policy,
            secure_cookies,
            database_url_explicit,
            demo: false,
            key_file: get("CUSTODIAN_KEY_FILE").filter(|v| !v.trim().is_empty()).map(PathBuf::from),
            erasure: ErasureSettings {
                margin: BlastMargin {
                    rows: parse(get("CUSTODIAN_ERASURE_MARGIN_ROWS"), "CUSTODIAN_ERASURE_MARGIN_ROWS", 10)?,
                    percent: parse(get("CUSTODIAN_ERASURE_MARGIN_PERCENT"), "CUSTODIAN_ERASURE_MARGIN_PERCENT", 10)?,
                },
                batch: parse(get("CUSTODIAN_ERASURE_BATCH"), "CUSTODIAN_ERASURE_BATCH", 5000)?.max(1),
                statement_timeout_secs: parse(
                    get("CUSTODIAN_ERASURE_STATEMENT_TIMEOUT_SECS"),
                    "CUSTODIAN_ERASURE_STATEMENT_TIMEOUT_SECS",
                    60,
                )?,
                lock_timeout_secs: parse(
                    get("CUSTODIAN_ERASURE_LOCK_TIMEOUT_SECS"),
                    "CUSTODIAN_ERASURE_LOCK_TIMEOUT_SECS",
                    10,
                )?,
                lease_secs: parse(get("CUSTODIAN_ERASURE_LEASE_SECS"), "CUSTODIAN_ERASURE_LEASE_SECS", 300)?.max(1),
            },
            metrics_token: get("CUSTODIAN_METRICS_TOKEN").filter(|v| !v.trim().is_empty()),
            dbt_mapping: get("CUSTODIAN_DBT_MAPPING").filter(|v| !v.trim().is_empty()).map(PathBuf::from),
            retention: RetentionSettings {
                batch: parse(get("CUSTODIAN_RETENTION_BATCH"), "CUSTODIAN_RETENTION_BATCH", 10_000)?.max(1),
                interval_secs: parse(get("CUSTODIAN_RETENTION_INTERVAL_SECS"), "CUSTODIAN_RETENTION_INTERVAL_SECS", 0)?,
            },
        })
    }

    /// A configuration for the given catalog with every other setting at its default.
    pub fn with_database(database_url: CatalogUrl) -> Self {
        Self { database_url, ..Self::default() }
    }

    /// Where the instance secret lives (see `key_file`).
    pub fn key_path(&self) -> PathBuf {
        match (&self.key_file, &self.database_url) {
            (Some(path), _) => path.clone(),
            (None, CatalogUrl::Sqlite(path)) => {
                let mut name = path.clone().into_os_string();
                name.push(".key");
                PathBuf::from(name)
            }
            (None, _) => PathBuf::from("custodian.key"),
        }
    }

    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings { size: self.pool_size, timeout: self.pool_timeout }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: CatalogUrl::Sqlite("custodian.db".into()),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            http_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            pool_size: 8,
            pool_timeout: Duration::from_secs(10),
            log_filter: "info".into(),
            log_format: LogFormat::Text,
            run_worker: true,
            session_key: None,
            session_policy: SessionPolicy::default(),
            secure_cookies: false,
            database_url_explicit: false,
            demo: false,
            key_file: None,
            erasure: ErasureSettings::default(),
            retention: RetentionSettings::default(),
            metrics_token: None,
            dbt_mapping: None,
        }
    }
}

fn parse<T: std::str::FromStr>(value: Option<String>, variable: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match value {
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError { variable, message: format!("{v:?}: {e}") }),
        None => Ok(default),
    }
}

fn parse_bool(value: Option<String>, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
    match value.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(other) => Err(ConfigError { variable, message: format!("{other:?} is not a boolean (true/false)") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_sensible() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, CatalogUrl::Sqlite("custodian.db".into()));
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.run_worker);
    }

    #[test]
    fn variables_override_and_are_validated() {
        let c = config(&[("DATABASE_URL", "postgres://p@h/db"), ("CUSTODIAN_BIND", "0.0.0.0:9000")]).unwrap();
        assert_eq!(c.database_url, CatalogUrl::Postgres("postgres://p@h/db".into()));
        assert_eq!(c.bind.port(), 9000);
        let c = config(&[("CUSTODIAN_DATABASE_URL", "sqlite://a.db"), ("DATABASE_URL", "postgres://p@h/db")]).unwrap();
        assert_eq!(c.database_url, CatalogUrl::Sqlite("a.db".into()));
        assert_eq!(config(&[("CUSTODIAN_BIND", "nonsense")]).unwrap_err().variable, "CUSTODIAN_BIND");
        assert_eq!(config(&[("CUSTODIAN_LOG_FORMAT", "xml")]).unwrap_err().variable, "CUSTODIAN_LOG_FORMAT");
        assert_eq!(config(&[("CUSTODIAN_WORKER", "maybe")]).unwrap_err().variable, "CUSTODIAN_WORKER");
        assert!(config(&[("CUSTODIAN_POOL_SIZE", "0")]).is_err());
        assert_eq!(config(&[("CUSTODIAN_SESSION_KEY", "c2hvcnQ=")]).unwrap_err().variable, "CUSTODIAN_SESSION_KEY");
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 48]);
        assert_eq!(config(&[("CUSTODIAN_SESSION_KEY", key.as_str())]).unwrap().session_key.unwrap().len(), 48);
        let c = config(&[("CUSTODIAN_SESSION_IDLE_MINUTES", "5"), ("CUSTODIAN_SESSION_MAX_HOURS", "2")]).unwrap();
        assert_eq!(c.session_policy.idle.as_secs(), 300);
        assert_eq!(c.session_policy.absolute.as_secs(), 7200);
    }
}
