//! The statements an erasure step runs on its target (E10, E11, E17). A step's predicate names
//! catalog columns only; the subject's values are bound parameters, never spliced into SQL, and
//! every identifier is quoted. Each statement carries the subject predicate itself: a child
//! table's rows are found through its foreign key into the parent's subject rows, not through
//! keys captured earlier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::subject::{Form, PHONE_SEPARATORS};

/// Stands for the source value in a derivation template (as `lineage::derive` writes it).
pub const MARKER: &str = "\"__custodian_subject_value__\"";

/// The database a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Which rows of a table a step acts on: those matching any of `any`, and none of `except`
/// (the rows of subjects under a legal hold, which a purge spares).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Predicate {
    pub any: Vec<Match>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<Predicate>,
}

impl Predicate {
    /// Renames every value set the predicate reads to `prefix` + its name.
    pub fn prefix_values(&mut self, prefix: &str) {
        for m in &mut self.any {
            match m {
                Match::Value { values, .. } | Match::JsonField { values, .. } => *values = format!("{prefix}{values}"),
                Match::Derived { values, .. } => {
                    for v in values.iter_mut() {
                        *v = format!("{prefix}{v}");
                    }
                }
                Match::Child { parent, .. } => parent.prefix_values(prefix),
                Match::OlderThan { .. } => {}
            }
        }
        for except in &mut self.except {
            except.prefix_values(prefix);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Match {
    /// `column` holds one of the subject's values of the identifier type `values`.
    Value { column: String, column_type: String, values: String, form: Form },
    /// `column` holds a value computed from one of the subject's values (of any of the sets in
    /// `values`) by `template`, a pure expression over [`MARKER`] taken from pipeline SQL; the
    /// target computes it again from the bound value, so its own functions apply.
    Derived { column: String, values: Vec<String>, template: String, source_type: String },
    /// `column` is a JSON document holding one of the subject's values under the top-level `key`.
    JsonField { column: String, column_type: String, key: String, values: String, form: Form },
    /// `column` dates the row before `cutoff` (`YYYY-MM-DD HH:MM:SS`, UTC): past its retention
    /// period. A row with no date is never past it.
    OlderThan { column: String, column_type: String, cutoff: String },
    /// The row points, through a foreign key, at a row of the subject in the parent table.
    Child {
        columns: Vec<String>,
        parent_schema: String,
        parent_table: String,
        parent_columns: Vec<String>,
        parent: Box<Predicate>,
    },
}

/// What a masked column is set to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    pub column: String,
    /// `None` sets NULL; otherwise this text.
    pub to: Option<String>,
}

/// The text a NOT NULL text column is masked with.
pub const MASK_TEXT: &str = "[erased]";

/// A statement and the values it binds, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    pub binds: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("the name {0:?} cannot be quoted safely")]
    BadName(String),
    #[error("the column type {0:?} is not one Custodian can cast to")]
    BadType(String),
    #[error("the stored derivation {0:?} is not a single expression over the subject's value")]
    BadTemplate(String),
    #[error("the JSON key {0:?} cannot be used in a path")]
    BadKey(String),
    #[error("the cutoff {0:?} is not a YYYY-MM-DD HH:MM:SS time")]
    BadCutoff(String),
}

/// The subject's values, by identifier type.
pub type Values = BTreeMap<String, Vec<String>>;

/// `"name"`, with inner quotes doubled; a NUL cannot be quoted.
pub fn quote(name: &str) -> Result<String, SqlError> {
    if name.is_empty() || name.contains('\0') {
        return Err(SqlError::BadName(name.to_owned()));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

pub fn table(schema: &str, name: &str) -> Result<String, SqlError> {
    Ok(format!("{}.{}", quote(schema)?, quote(name)?))
}

struct Writer<'a> {
    backend: Backend,
    values: &'a Values,
    binds: Vec<String>,
}

impl Writer<'_> {
    fn placeholder(&mut self, value: &str) -> String {
        self.binds.push(value.to_owned());
        match self.backend {
            Backend::Postgres => format!("${}", self.binds.len()),
            Backend::Sqlite => "?".to_owned(),
        }
    }

    fn predicate(&mut self, p: &Predicate) -> Result<String, SqlError> {
        let parts = p.any.iter().map(|m| self.matches(m)).collect::<Result<Vec<_>, _>>()?;
        let mut sql = if parts.is_empty() { "1 = 0".to_owned() } else { format!("({})", parts.join(" OR ")) };
        for except in &p.except {
            // A NULL (say, a row with no e-mail) is not a held subject's row: COALESCE keeps
            // such rows in the purge instead of letting NOT NULL drop them.
            sql = format!("{sql} AND NOT COALESCE({}, FALSE)", self.predicate(except)?);
        }
        Ok(sql)
    }

    fn matches(&mut self, m: &Match) -> Result<String, SqlError> {
        match m {
            Match::Value { column, column_type, values, form } => {
                let column_sql = quote(column)?;
                let ty = column_type.trim().to_ascii_lowercase();
                let textual = is_textual(&ty);
                let lhs = match (form, textual) {
                    (Form::Lowercase, true) => format!("lower({column_sql})"),
                    (Form::Digits, true) => {
                        PHONE_SEPARATORS.iter().fold(column_sql, |acc, c| format!("replace({acc}, '{c}', '')"))
                    }
                    _ => column_sql,
                };
                let integer = is_integer(&ty);
                // A value that cannot be stored in the column cannot match it: a non-number in
                // an integer column, a NUL in PostgreSQL text.
                let postgres = self.backend == Backend::Postgres;
                let wanted: Vec<&String> = self
                    .values
                    .get(values)
                    .map(|v| {
                        v.iter()
                            .filter(|v| !integer || v.parse::<i64>().is_ok())
                            .filter(|v| !(postgres && v.contains('\0')))
                            .collect()
                    })
                    .unwrap_or_default();
                if wanted.is_empty() {
                    return Ok("1 = 0".to_owned());
                }
                let cast = match self.backend {
                    Backend::Postgres if !textual => {
                        Some(if integer { "bigint".to_owned() } else { checked_type(&ty)? })
                    }
                    _ => None,
                };
                let list = wanted
                    .into_iter()
                    .map(|v| {
                        let p = self.placeholder(v);
                        match &cast {
                            Some(t) => format!("CAST({p} AS {t})"),
                            None => p,
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                Ok(format!("{lhs} IN ({list})"))
            }
            Match::Derived { column, values, template, source_type } => {
                if !template.contains(MARKER)
                    || template.contains(';')
                    || template.contains("--")
                    || template.contains("/*")
                {
                    return Err(SqlError::BadTemplate(template.clone()));
                }
                let ty = source_type.trim().to_ascii_lowercase();
                let cast = match self.backend {
                    Backend::Postgres if is_textual(&ty) => Some("text".to_owned()),
                    Backend::Postgres if is_integer(&ty) => Some("bigint".to_owned()),
                    Backend::Postgres => Some(checked_type(&ty)?),
                    Backend::Sqlite => None,
                };
                let mut seen: Vec<&String> = Vec::new();
                for set in values {
                    for v in self.values.get(set).into_iter().flatten() {
                        let impossible = (is_integer(&ty) && v.parse::<i64>().is_err())
                            || (self.backend == Backend::Postgres && v.contains('\0'));
                        let fits = !impossible;
                        if fits && !seen.contains(&v) {
                            seen.push(v);
                        }
                    }
                }
                if seen.is_empty() {
                    return Ok("1 = 0".to_owned());
                }
                let list = seen
                    .into_iter()
                    .map(|v| {
                        let p = self.placeholder(v);
                        let arg = match &cast {
                            Some(t) => format!("CAST({p} AS {t})"),
                            None => p,
                        };
                        template.replace(MARKER, &arg)
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                Ok(format!("{} IN ({list})", quote(column)?))
            }
            Match::JsonField { column, column_type, key, values, form } => {
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(SqlError::BadKey(key.clone()));
                }
                let c = quote(column)?;
                let ty = column_type.trim().to_ascii_lowercase();
                let field = match self.backend {
                    Backend::Postgres if ty == "json" || ty == "jsonb" => format!("({c} ->> '{key}')"),
                    Backend::Postgres => format!("(CAST({c} AS jsonb) ->> '{key}')"),
                    Backend::Sqlite => format!("json_extract({c}, '$.{key}')"),
                };
                let lhs = if *form == Form::Lowercase { format!("lower({field})") } else { field };
                let wanted: Vec<&String> = self
                    .values
                    .get(values)
                    .map(|v| v.iter().filter(|v| !(self.backend == Backend::Postgres && v.contains('\0'))).collect())
                    .unwrap_or_default();
                if wanted.is_empty() {
                    return Ok("1 = 0".to_owned());
                }
                let list = wanted.into_iter().map(|v| self.placeholder(v)).collect::<Vec<_>>().join(", ");
                Ok(format!("{lhs} IN ({list})"))
            }
            Match::OlderThan { column, column_type, cutoff } => {
                let ok = cutoff.len() == 19
                    && cutoff.chars().enumerate().all(|(i, c)| match i {
                        4 | 7 => c == '-',
                        10 => c == ' ',
                        13 | 16 => c == ':',
                        _ => c.is_ascii_digit(),
                    });
                if !ok {
                    return Err(SqlError::BadCutoff(cutoff.clone()));
                }
                let c = quote(column)?;
                let ty = column_type.trim().to_ascii_lowercase();
                Ok(match self.backend {
                    Backend::Postgres => {
                        let p = self.placeholder(&format!("{cutoff}+00"));
                        if is_textual(&ty) {
                            format!("CAST({c} AS timestamptz) < CAST({p} AS timestamptz)")
                        } else {
                            format!("{c} < CAST({p} AS {})", checked_type(&ty)?)
                        }
                    }
                    Backend::Sqlite => {
                        let p = self.placeholder(cutoff);
                        if ty.contains("int") {
                            // Unix seconds.
                            format!("{c} < CAST(strftime('%s', {p}) AS INTEGER)")
                        } else {
                            format!("julianday({c}) < julianday({p})")
                        }
                    }
                })
            }
            Match::Child { columns, parent_schema, parent_table, parent_columns, parent } => {
                let cols = columns.iter().map(|c| quote(c)).collect::<Result<Vec<_>, _>>()?;
                let pcols = parent_columns.iter().map(|c| quote(c)).collect::<Result<Vec<_>, _>>()?;
                let inner = self.predicate(parent)?;
                let lhs = if cols.len() == 1 { cols[0].clone() } else { format!("({})", cols.join(", ")) };
                Ok(format!(
                    "{lhs} IN (SELECT {} FROM {} WHERE {inner})",
                    pcols.join(", "),
                    table(parent_schema, parent_table)?
                ))
            }
        }
    }

    fn unmasked(&mut self, masks: &[Mask]) -> Result<String, SqlError> {
        let parts = masks
            .iter()
            .map(|m| {
                let c = quote(&m.column)?;
                Ok(match &m.to {
                    None => format!("{c} IS NOT NULL"),
                    Some(text) => {
                        let p = self.placeholder(text);
                        match self.backend {
                            Backend::Postgres => format!("{c} IS DISTINCT FROM {p}"),
                            Backend::Sqlite => format!("{c} IS NOT {p}"),
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>, SqlError>>()?;
        Ok(format!("({})", parts.join(" OR ")))
    }
}

fn is_textual(ty: &str) -> bool {
    ty.is_empty()
        || ty.starts_with("text")
        || ty.starts_with("character")
        || ty.starts_with("varchar")
        || ty.starts_with("char")
        || ty.starts_with("citext")
        || ty.starts_with("nvarchar")
        || ty.starts_with("clob")
        || ty == "name"
}

fn is_integer(ty: &str) -> bool {
    matches!(ty, "smallint" | "integer" | "int" | "bigint" | "int2" | "int4" | "int8" | "tinyint" | "mediumint")
}

/// A PostgreSQL type name as `format_type` writes it, and nothing that could end the cast.
fn checked_type(ty: &str) -> Result<String, SqlError> {
    let ok = !ty.is_empty()
        && ty.len() < 64
        && ty.chars().all(|c| c.is_ascii_alphanumeric() || " _(),.[]".contains(c))
        && !ty.contains("--");
    if ok { Ok(ty.to_owned()) } else { Err(SqlError::BadType(ty.to_owned())) }
}

/// The statements of one step on one table.
pub struct StepSql<'a> {
    pub backend: Backend,
    pub schema: &'a str,
    pub table: &'a str,
    pub predicate: &'a Predicate,
    pub masks: &'a [Mask],
}

impl StepSql<'_> {
    fn writer<'v>(&self, values: &'v Values) -> Writer<'v> {
        Writer { backend: self.backend, values, binds: Vec::new() }
    }

    /// Rows of the subject (for a delete) or rows still holding unmasked values (for a mask).
    pub fn count(&self, values: &Values) -> Result<Statement, SqlError> {
        let mut w = self.writer(values);
        let mut sql = format!(
            "SELECT count(*) AS n FROM {} WHERE {}",
            table(self.schema, self.table)?,
            w.predicate(self.predicate)?
        );
        if !self.masks.is_empty() {
            sql.push_str(&format!(" AND {}", w.unmasked(self.masks)?));
        }
        Ok(Statement { sql, binds: w.binds })
    }

    /// Deletes the subject's rows, at most `batch` of them when given.
    pub fn delete(&self, values: &Values, batch: Option<i64>) -> Result<Statement, SqlError> {
        let mut w = self.writer(values);
        let t = table(self.schema, self.table)?;
        let pred = w.predicate(self.predicate)?;
        let sql = match (batch, self.backend) {
            (None, _) => format!("DELETE FROM {t} WHERE {pred}"),
            (Some(n), Backend::Postgres) => {
                format!("DELETE FROM {t} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} WHERE {pred} LIMIT {n}))")
            }
            (Some(n), Backend::Sqlite) => {
                format!("DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE {pred} LIMIT {n})")
            }
        };
        Ok(Statement { sql, binds: w.binds })
    }

    /// Masks the subject's rows that still hold a value, at most `batch` of them when given.
    pub fn mask(&self, values: &Values, batch: Option<i64>) -> Result<Statement, SqlError> {
        let mut w = self.writer(values);
        let t = table(self.schema, self.table)?;
        let mut sets = Vec::new();
        for m in self.masks {
            let c = quote(&m.column)?;
            sets.push(match &m.to {
                None => format!("{c} = NULL"),
                Some(text) => format!("{c} = {}", w.placeholder(text)),
            });
        }
        let pred = w.predicate(self.predicate)?;
        let unmasked = w.unmasked(self.masks)?;
        let filter = format!("{pred} AND {unmasked}");
        let sql = match (batch, self.backend) {
            (None, _) => format!("UPDATE {t} SET {} WHERE {filter}", sets.join(", ")),
            (Some(n), Backend::Postgres) => format!(
                "UPDATE {t} SET {} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} WHERE {filter} LIMIT {n}))",
                sets.join(", ")
            ),
            (Some(n), Backend::Sqlite) => format!(
                "UPDATE {t} SET {} WHERE rowid IN (SELECT rowid FROM {t} WHERE {filter} LIMIT {n})",
                sets.join(", ")
            ),
        };
        Ok(Statement { sql, binds: w.binds })
    }

    /// Resolves the values of `column` on the subject's rows (related keys, E5).
    pub fn values_of(&self, column: &str, values: &Values) -> Result<Statement, SqlError> {
        let mut w = self.writer(values);
        let c = quote(column)?;
        let cast = match self.backend {
            Backend::Postgres => format!("CAST({c} AS text)"),
            Backend::Sqlite => format!("CAST({c} AS TEXT)"),
        };
        let sql = format!(
            "SELECT DISTINCT {cast} AS v FROM {} WHERE {} AND {c} IS NOT NULL",
            table(self.schema, self.table)?,
            w.predicate(self.predicate)?
        );
        Ok(Statement { sql, binds: w.binds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        let mut v = Values::new();
        v.insert("email".into(), vec!["a'b@example.com".into()]);
        v.insert("customer_id".into(), vec!["42".into(), "not-a-number".into()]);
        v
    }

    fn email(column: &str) -> Match {
        Match::Value {
            column: column.into(),
            column_type: "text".into(),
            values: "email".into(),
            form: Form::Lowercase,
        }
    }

    #[test]
    fn values_are_bound_and_names_quoted() {
        let p = Predicate { any: vec![email("e\"mail")], except: vec![] };
        let step =
            StepSql { backend: Backend::Postgres, schema: "public", table: "cust omers", predicate: &p, masks: &[] };
        let s = step.delete(&values(), None).unwrap();
        assert_eq!(s.sql, "DELETE FROM \"public\".\"cust omers\" WHERE (lower(\"e\"\"mail\") IN ($1))");
        assert_eq!(s.binds, vec!["a'b@example.com".to_string()]);
        assert!(quote("a\0b").is_err());
    }

    #[test]
    fn integer_keys_are_cast_on_postgres_and_impossible_values_dropped() {
        let p = Predicate {
            any: vec![Match::Value {
                column: "customer_id".into(),
                column_type: "integer".into(),
                values: "customer_id".into(),
                form: Form::Exact,
            }],
            except: vec![],
        };
        let pg = StepSql { backend: Backend::Postgres, schema: "public", table: "orders", predicate: &p, masks: &[] };
        let s = pg.count(&values()).unwrap();
        assert_eq!(
            s.sql,
            "SELECT count(*) AS n FROM \"public\".\"orders\" WHERE (\"customer_id\" IN (CAST($1 AS bigint)))"
        );
        assert_eq!(s.binds, vec!["42".to_string()]);
        let lite = StepSql { backend: Backend::Sqlite, ..pg };
        assert_eq!(
            lite.count(&values()).unwrap().sql,
            "SELECT count(*) AS n FROM \"public\".\"orders\" WHERE (\"customer_id\" IN (?))"
        );
    }

    #[test]
    fn children_carry_their_parents_subject_predicate() {
        let parent = Predicate { any: vec![email("email")], except: vec![] };
        let p = Predicate {
            any: vec![Match::Child {
                columns: vec!["customer_id".into()],
                parent_schema: "main".into(),
                parent_table: "customers".into(),
                parent_columns: vec!["id".into()],
                parent: Box::new(parent),
            }],
            except: vec![],
        };
        let step = StepSql { backend: Backend::Sqlite, schema: "main", table: "orders", predicate: &p, masks: &[] };
        let s = step.delete(&values(), Some(500)).unwrap();
        assert_eq!(
            s.sql,
            "DELETE FROM \"main\".\"orders\" WHERE rowid IN (SELECT rowid FROM \"main\".\"orders\" WHERE \
             (\"customer_id\" IN (SELECT \"id\" FROM \"main\".\"customers\" WHERE (lower(\"email\") IN (?)))) LIMIT 500)"
        );
        assert_eq!(s.binds.len(), 1);
    }

    #[test]
    fn masks_touch_only_rows_still_unmasked() {
        let p = Predicate { any: vec![email("email")], except: vec![] };
        let masks =
            [Mask { column: "email".into(), to: Some(MASK_TEXT.into()) }, Mask { column: "phone".into(), to: None }];
        let step = StepSql { backend: Backend::Postgres, schema: "public", table: "t", predicate: &p, masks: &masks };
        let s = step.mask(&values(), None).unwrap();
        assert_eq!(
            s.sql,
            "UPDATE \"public\".\"t\" SET \"email\" = $1, \"phone\" = NULL WHERE (lower(\"email\") IN ($2)) AND \
             (\"email\" IS DISTINCT FROM $3 OR \"phone\" IS NOT NULL)"
        );
        assert_eq!(s.binds, vec![MASK_TEXT.to_string(), "a'b@example.com".into(), MASK_TEXT.into()]);
    }

    #[test]
    fn derived_values_are_recomputed_on_the_target_from_bound_values() {
        let mut v = values();
        v.insert("raw:email".into(), vec!["A'B@Example.com".into()]);
        let p = Predicate {
            any: vec![
                Match::Derived {
                    column: "email_hash".into(),
                    values: vec!["email".into(), "raw:email".into()],
                    template: format!("md5(lower({MARKER}))"),
                    source_type: "text".into(),
                },
                Match::JsonField {
                    column: "payload".into(),
                    column_type: "jsonb".into(),
                    key: "email".into(),
                    values: "email".into(),
                    form: Form::Lowercase,
                },
            ],
            except: vec![],
        };
        let step = StepSql { backend: Backend::Postgres, schema: "public", table: "t", predicate: &p, masks: &[] };
        let s = step.count(&v).unwrap();
        assert_eq!(
            s.sql,
            "SELECT count(*) AS n FROM \"public\".\"t\" WHERE (\"email_hash\" IN (md5(lower(CAST($1 AS text))), \
             md5(lower(CAST($2 AS text)))) OR lower((\"payload\" ->> 'email')) IN ($3))"
        );
        assert_eq!(s.binds, vec!["a'b@example.com".to_string(), "A'B@Example.com".into(), "a'b@example.com".into()]);
        let evil = Predicate {
            any: vec![Match::Derived {
                column: "c".into(),
                values: vec!["email".into()],
                template: format!("{MARKER}); DROP TABLE x; --"),
                source_type: "text".into(),
            }],
            except: vec![],
        };
        let step = StepSql { backend: Backend::Sqlite, schema: "main", table: "t", predicate: &evil, masks: &[] };
        assert!(step.count(&v).is_err());
    }

    #[test]
    fn a_predicate_without_values_matches_nothing() {
        let p = Predicate {
            any: vec![Match::Value {
                column: "phone".into(),
                column_type: "text".into(),
                values: "phone".into(),
                form: Form::Digits,
            }],
            except: vec![],
        };
        let step = StepSql { backend: Backend::Sqlite, schema: "main", table: "t", predicate: &p, masks: &[] };
        assert_eq!(step.count(&values()).unwrap().sql, "SELECT count(*) AS n FROM \"main\".\"t\" WHERE (1 = 0)");
        assert!(checked_type("integer); DROP TABLE x; --").is_err());
    }
}
