//! Table and column names: normalisation of identifiers, qualified table names, storage
//! paths, default database/schema completion, and schema knowledge lookup.

use super::model::SchemaKnowledge;
use sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart};
use std::collections::HashMap;

/// An identifier as we compare and print it: unquoted identifiers are folded to lower
/// case, quoted ones keep their spelling.
pub fn ident(id: &Ident) -> String {
    if id.quote_style.is_some() { id.value.clone() } else { id.value.to_lowercase() }
}

/// Lower-case comparison key of an identifier.
pub fn key(s: &str) -> String {
    s.to_lowercase()
}

/// A table (or a storage location read or written like one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableName {
    /// Name parts, outermost first (`[catalog, schema, table]`), or one part holding a path.
    pub parts: Vec<String>,
    /// A storage path or URI (`s3://...`, `@stage/path`, a directory), never completed.
    pub path: bool,
}

impl TableName {
    pub fn new(parts: Vec<String>) -> Self {
        TableName { parts, path: false }
    }

    pub fn path(p: impl Into<String>) -> Self {
        TableName { parts: vec![p.into()], path: true }
    }

    /// Dot-joined display form.
    pub fn display(&self) -> String {
        self.parts.join(".")
    }

    /// Case-insensitive identity.
    pub fn key(&self) -> String {
        key(&self.display())
    }

    /// Last name part (the table name proper).
    pub fn last(&self) -> &str {
        self.parts.last().map(String::as_str).unwrap_or("")
    }

    /// Whether `self` names the same table as `other` when one of them omits leading parts.
    pub fn suffix_matches(&self, other: &TableName) -> bool {
        let (short, long) = if self.parts.len() <= other.parts.len() { (self, other) } else { (other, self) };
        let offset = long.parts.len() - short.parts.len();
        short.parts.iter().zip(&long.parts[offset..]).all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// Formats (Spark/Databricks) whose `fmt.\`path\`` table names denote files.
const FILE_FORMATS: &[&str] =
    &["csv", "parquet", "json", "orc", "text", "delta", "avro", "binaryfile", "iceberg", "hudi"];

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || s.contains("://") || s.starts_with('@')
}

/// Result of reading an object name: a table, or something that names no table we can know
/// (a parameter in `IDENTIFIER(:x)`, a computed name).
pub enum NameRead {
    Table(TableName),
    Unknown,
}

/// Converts a parsed object name into a table name, handling Snowflake/Databricks
/// `IDENTIFIER('...')`, BigQuery back-quoted dotted names, stage names and `fmt.\`path\``.
pub fn object_name(name: &ObjectName) -> NameRead {
    let mut parts: Vec<String> = Vec::with_capacity(name.0.len());
    for part in &name.0 {
        match part {
            ObjectNamePart::Identifier(id) => push_ident(&mut parts, id),
            ObjectNamePart::Function(f) => {
                if !f.name.value.eq_ignore_ascii_case("identifier") || f.args.len() != 1 {
                    return NameRead::Unknown;
                }
                match identifier_arg(&f.args[0]) {
                    Some(p) => parts.extend(p),
                    None => return NameRead::Unknown,
                }
            }
        }
    }
    finish_parts(parts)
}

fn push_ident(parts: &mut Vec<String>, id: &Ident) {
    if id.quote_style == Some('`') && id.value.contains('.') && !looks_like_path(&id.value) {
        parts.extend(id.value.split('.').map(str::to_string));
    } else {
        parts.push(ident(id));
    }
}

fn finish_parts(parts: Vec<String>) -> NameRead {
    if parts.is_empty() || parts.iter().any(|p| p.is_empty() && parts.len() > 1) {
        return NameRead::Unknown;
    }
    if parts.len() == 2 && FILE_FORMATS.contains(&parts[0].to_ascii_lowercase().as_str()) && looks_like_path(&parts[1])
    {
        return NameRead::Table(TableName::path(parts[1].clone()));
    }
    if parts[0].starts_with('@') {
        return NameRead::Table(TableName::path(parts.join(".")));
    }
    if parts.len() == 1 && parts[0].contains("://") {
        return NameRead::Table(TableName::path(parts[0].clone()));
    }
    NameRead::Table(TableName::new(parts))
}

/// The table named by the argument of `IDENTIFIER(...)`: a string literal or a bare name.
/// Parameters (`$x`, `:x`, `?`) and expressions name nothing we can know.
pub fn identifier_arg(arg: &FunctionArg) -> Option<Vec<String>> {
    let FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) = arg else {
        return None;
    };
    match expr {
        Expr::Identifier(id) => {
            if id.value.starts_with(['$', ':', '@', '?']) {
                None
            } else {
                Some(vec![ident(id)])
            }
        }
        Expr::CompoundIdentifier(ids) => Some(ids.iter().map(ident).collect()),
        Expr::Value(v) => {
            let s = v.value.clone().into_string()?;
            if s.is_empty() {
                return None;
            }
            Some(s.split('.').map(|p| p.trim_matches('"').to_string()).collect())
        }
        _ => None,
    }
}

/// The database and schema that unqualified names are completed from; changed by
/// `USE` and `SET search_path` as a script runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    pub db: Option<String>,
    pub schema: Option<String>,
}

impl Namespace {
    /// Completes a written name: database = written catalog or ours, schema = written
    /// schema or ours. Paths are left alone.
    pub fn complete(&self, name: TableName) -> TableName {
        if name.path {
            return name;
        }
        match name.parts.len() {
            1 => {
                let mut parts = Vec::with_capacity(3);
                parts.extend(self.db.clone());
                parts.extend(self.schema.clone());
                if parts.is_empty() {
                    return name;
                }
                parts.extend(name.parts);
                TableName::new(parts)
            }
            2 => match &self.db {
                Some(db) => {
                    let mut parts = vec![db.clone()];
                    parts.extend(name.parts);
                    TableName::new(parts)
                }
                None => name,
            },
            _ => name,
        }
    }
}

/// Schema knowledge indexed for lookups by full name and by shorter suffixes.
#[derive(Debug, Default)]
pub struct Catalog {
    tables: Vec<(TableName, Vec<String>)>,
    by_key: HashMap<String, usize>,
}

impl Catalog {
    pub fn new(schema: &SchemaKnowledge) -> Self {
        let mut cat = Catalog::default();
        for (name, cols) in schema {
            let parts: Vec<String> = name.split('.').map(|p| p.trim().to_string()).collect();
            let cols = cols.iter().map(|c| c.to_lowercase()).collect();
            cat.insert(TableName::new(parts), cols);
        }
        cat
    }

    pub fn insert(&mut self, name: TableName, cols: Vec<String>) {
        let k = name.key();
        if let Some(&i) = self.by_key.get(&k) {
            self.tables[i].1 = cols;
        } else {
            self.by_key.insert(k, self.tables.len());
            self.tables.push((name, cols));
        }
    }

    pub fn remove(&mut self, name: &TableName) {
        if let Some(i) = self.by_key.remove(&name.key()) {
            self.tables[i].1.clear();
            self.tables[i].0.parts.clear();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// Columns of `name`: an exact match, else the one known table whose name ends with
    /// (or is the end of) the reference.
    pub fn columns(&self, name: &TableName) -> Option<&[String]> {
        if self.tables.is_empty() {
            return None;
        }
        if let Some(&i) = self.by_key.get(&name.key()) {
            return Some(&self.tables[i].1);
        }
        let mut found = None;
        for (t, cols) in &self.tables {
            if !t.parts.is_empty() && t.suffix_matches(name) {
                if found.is_some() {
                    return None;
                }
                found = Some(cols.as_slice());
            }
        }
        found
    }
}
