//! Public lineage types: what the extractor returns and what the catalog stores.
//!
//! Everything here is plain data (no sqlparser types), serialisable with serde, so callers
//! never depend on the parser's AST.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which question the combined lineage answers (see `LINEAGE.md`, "Two views").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// Where does the data in each written table come from? Intermediate tables are
    /// resolved through; statements that move no data contribute nothing.
    #[default]
    Flow,
    /// Which tables does the SQL read and which does it change? Every statement counts.
    Effects,
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "flow" => Ok(View::Flow),
            "effects" => Ok(View::Effects),
            other => Err(format!("unknown view `{other}` (expected flow or effects)")),
        }
    }
}

/// Table → column names known before analysis (from the catalog or a schema file).
/// Keys are dot-joined qualified names; matching is case-insensitive and a key also
/// matches a reference that names fewer parts (`sales.orders` matches `orders`).
pub type SchemaKnowledge = BTreeMap<String, Vec<String>>;

/// Analyzer input besides the SQL text.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Dialect name as users write it (`postgres`, `tsql`, `sparksql`, ...).
    pub dialect: String,
    /// Schema that unqualified table names live in.
    pub default_schema: Option<String>,
    /// Database (catalog) that names without one live in.
    pub default_db: Option<String>,
    /// Known table columns, for star expansion and unqualified column attribution.
    pub schema: SchemaKnowledge,
    /// Let a select item refer to an alias defined earlier in the same select list.
    pub lateral_column_alias_reference: bool,
    /// T-SQL scripts whose statements are not separated by semicolons.
    pub tsql_no_semicolon: bool,
    /// Which combined view to compute.
    pub view: View,
}

impl Options {
    /// Options for `dialect` with everything else at its default.
    pub fn new(dialect: &str) -> Self {
        Options { dialect: dialect.to_string(), ..Options::default() }
    }

    /// Applies an analyzer switch `KEY=VALUE`. Returns `false` for an unknown key.
    pub fn set_option(&mut self, key: &str, value: &str) -> bool {
        let on = matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on");
        match key.trim().to_ascii_lowercase().as_str() {
            "lateral_column_alias_reference" => self.lateral_column_alias_reference = on,
            "tsql_no_semicolon" => self.tsql_no_semicolon = on,
            _ => return false,
        }
        true
    }
}

/// How a written column is derived from a source column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// The value is copied unchanged.
    Identity,
    /// The value goes through an expression (function, CASE, arithmetic, cast, window ...).
    Transform,
    /// The value is aggregated (SUM, COUNT, MAX ...).
    Aggregate,
}

impl EdgeKind {
    /// Kind of a path made of `self` followed by `next`.
    pub fn then(self, next: EdgeKind) -> EdgeKind {
        self.max(next)
    }
}

/// One column-level lineage edge. Columns are `table.column`; a bare `column` has no
/// table (unresolved source, or a query output column in the effects view).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnEdge {
    pub source: String,
    pub target: String,
    pub kind: EdgeKind,
}

/// How well a statement was understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatementStatus {
    /// Parsed by the requested dialect.
    Parsed,
    /// Parsed by a neighbouring dialect, after a repair, or piecewise (its inner
    /// statements parsed while the whole did not); lineage is exact for what parsed.
    Recovered,
    /// No parser accepted it: tables come from a token-level scan and are flagged.
    Degraded,
}

/// Lineage of one statement of the script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementLineage {
    /// 1-based position of the statement in the script.
    pub index: usize,
    /// First and last line (1-based) of the statement in the input.
    pub start_line: usize,
    pub end_line: usize,
    /// Statement kind in upper case words (`INSERT`, `CREATE TABLE`, `SELECT`, ...).
    pub kind: String,
    pub status: StatementStatus,
    /// Dialect whose parser accepted the statement (empty when degraded).
    pub dialect: String,
    /// Tables (or storage paths) read and written, in the requested view.
    pub sources: Vec<String>,
    pub targets: Vec<String>,
    /// Column edges of this statement alone (not composed through the script).
    pub column_edges: Vec<ColumnEdge>,
}

/// A statement the parser rejected. Line and column are 1-based positions in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseError {
    /// 1-based index of the statement (same numbering as [`StatementLineage::index`]).
    pub statement: usize,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Lineage of a whole SQL text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub view: View,
    /// Tables read from outside the script (flow) or read at all (effects).
    pub sources: Vec<String>,
    /// Tables the script leaves written (flow) or modifies at all (effects).
    pub targets: Vec<String>,
    /// Column edges of the combined view (composed through intermediate tables in flow).
    pub column_edges: Vec<ColumnEdge>,
    pub statements: Vec<StatementLineage>,
    pub errors: Vec<ParseError>,
    /// True when any statement's lineage comes from the token-level fallback.
    pub degraded: bool,
    /// Non-fatal remarks (unknown dialect, ...).
    pub warnings: Vec<String>,
}
