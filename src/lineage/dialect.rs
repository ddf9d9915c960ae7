//! Dialect names users write, mapped to sqlparser dialects, with the neighbours to try when
//! the requested dialect rejects a statement.

use sqlparser::dialect::{
    AnsiDialect, BigQueryDialect, ClickHouseDialect, DatabricksDialect, Dialect, DuckDbDialect, GenericDialect,
    HiveDialect, MsSqlDialect, MySqlDialect, OracleDialect, PostgreSqlDialect, RedshiftSqlDialect, SQLiteDialect,
    SnowflakeDialect, TeradataDialect,
};

/// The sqlparser dialects we use, by the name we report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Generic,
    Ansi,
    Postgres,
    Redshift,
    MySql,
    Sqlite,
    Snowflake,
    BigQuery,
    Hive,
    Databricks,
    MsSql,
    DuckDb,
    ClickHouse,
    Oracle,
    Teradata,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Generic => "generic",
            Engine::Ansi => "ansi",
            Engine::Postgres => "postgres",
            Engine::Redshift => "redshift",
            Engine::MySql => "mysql",
            Engine::Sqlite => "sqlite",
            Engine::Snowflake => "snowflake",
            Engine::BigQuery => "bigquery",
            Engine::Hive => "hive",
            Engine::Databricks => "databricks",
            Engine::MsSql => "mssql",
            Engine::DuckDb => "duckdb",
            Engine::ClickHouse => "clickhouse",
            Engine::Oracle => "oracle",
            Engine::Teradata => "teradata",
        }
    }

    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            Engine::Generic => &GenericDialect {},
            Engine::Ansi => &AnsiDialect {},
            Engine::Postgres => &PostgreSqlDialect {},
            Engine::Redshift => &RedshiftSqlDialect {},
            Engine::MySql => &MySqlDialect {},
            Engine::Sqlite => &SQLiteDialect {},
            Engine::Snowflake => &SnowflakeDialect,
            Engine::BigQuery => &BigQueryDialect,
            Engine::Hive => &HiveDialect {},
            Engine::Databricks => &DatabricksDialect {},
            Engine::MsSql => &MsSqlDialect {},
            Engine::DuckDb => &DuckDbDialect {},
            Engine::ClickHouse => &ClickHouseDialect {},
            Engine::Oracle => &OracleDialect {},
            Engine::Teradata => &TeradataDialect {},
        }
    }
}

/// The parsers to try for a dialect name, best first, and whether the name was known.
#[derive(Debug, Clone)]
pub struct DialectChain {
    pub engines: Vec<Engine>,
    pub known: bool,
}

impl DialectChain {
    pub fn primary(&self) -> Engine {
        self.engines.first().copied().unwrap_or(Engine::Generic)
    }

    /// Whether USE/identifier rules of the T-SQL family apply.
    pub fn is_tsql(&self) -> bool {
        self.primary() == Engine::MsSql
    }
}

/// Maps a user-facing dialect name to the sqlparser dialects to try, in order.
pub fn resolve(name: &str) -> DialectChain {
    use Engine::*;
    let lower = name.trim().to_ascii_lowercase();
    let engines: &[Engine] = match lower.as_str() {
        // sqlparser's ANSI dialect is strict; the generic one accepts what people write.
        "ansi" | "" => &[Generic, Ansi],
        "generic" => &[Generic],
        "postgres" | "postgresql" | "pg" | "greenplum" | "materialize" | "vertica" | "cockroachdb" | "timescaledb" => {
            &[Postgres, Generic, Redshift]
        }
        "redshift" => &[Redshift, Postgres, Generic],
        "mysql" | "mariadb" | "singlestore" | "tidb" => &[MySql, Generic],
        "sqlite" => &[Sqlite, Generic],
        "snowflake" => &[Snowflake, Generic],
        "bigquery" | "googlesql" => &[BigQuery, Generic],
        "hive" | "impala" => &[Hive, Databricks, Generic],
        "sparksql" | "spark" | "databricks" => &[Databricks, Hive, Generic],
        "mssql" | "tsql" | "sqlserver" | "azuresql" | "synapse" | "fabric" => &[MsSql, Generic, Snowflake],
        "duckdb" => &[DuckDb, Postgres, Generic],
        "clickhouse" => &[ClickHouse, Generic],
        "oracle" | "plsql" => &[Oracle, Generic],
        "athena" | "trino" | "presto" | "starburst" => &[Generic, Hive, Ansi],
        "teradata" => &[Teradata, Generic],
        "exasol" | "db2" | "informix" | "sap_hana" | "hana" => &[Generic, Ansi, Postgres],
        _ => {
            return DialectChain { engines: vec![Generic], known: false };
        }
    };
    DialectChain { engines: engines.to_vec(), known: true }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_name_is_known() {
        for name in [
            "ansi",
            "generic",
            "postgres",
            "redshift",
            "mysql",
            "mariadb",
            "sqlite",
            "snowflake",
            "bigquery",
            "hive",
            "sparksql",
            "databricks",
            "mssql",
            "tsql",
            "duckdb",
            "clickhouse",
            "oracle",
            "athena",
            "trino",
            "teradata",
            "vertica",
            "exasol",
            "greenplum",
            "db2",
            "materialize",
        ] {
            let chain = resolve(name);
            assert!(chain.known, "{name} should be known");
            assert!(!chain.engines.is_empty());
        }
    }

    #[test]
    fn unknown_name_falls_back_to_generic() {
        let chain = resolve("frobnicate");
        assert!(!chain.known);
        assert_eq!(chain.primary(), Engine::Generic);
        assert_eq!(resolve("TSQL").primary(), Engine::MsSql);
        assert_eq!(resolve("redshift").engines[1], Engine::Postgres);
    }
}
