//! Deterministic derivations: for a written column computed from exactly one source column by an
//! expression made only of known pure functions, operators, casts and literals
//! (`md5(lower(email))`, `'C-' || lpad(id::text, 5, '0')`, `lower(trim(email))`), the expression
//! as a template in which the source column is [`MARKER`]; and for a JSON document built with
//! `json_build_object('email', email, …)`, the key each source column lands under. Erasure
//! recomputes a subject's derived value on the target with these, so copies made under another
//! form are found without re-running the pipeline. Pure: SQL text in, templates out.

use sqlparser::ast::{
    BinaryOperator, CreateTable, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Insert, ObjectNamePart,
    SelectItem, SetExpr, Statement, UnaryOperator, Value,
};
use sqlparser::parser::Parser;

/// Stands for the source column's value in an expression template.
pub const MARKER: &str = "\"__custodian_subject_value__\"";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// The target holds `template` with the source value in place of [`MARKER`].
    Expression(String),
    /// The target is a JSON document holding the source value under this top-level key.
    JsonField(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    pub target_column: String,
    pub source_column: String,
    pub how: How,
}

/// Functions whose result depends only on their arguments.
const PURE: &[&str] = &[
    "lower",
    "upper",
    "trim",
    "ltrim",
    "rtrim",
    "btrim",
    "md5",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "lpad",
    "rpad",
    "concat",
    "concat_ws",
    "replace",
    "substr",
    "substring",
    "left",
    "right",
    "coalesce",
    "nullif",
    "encode",
    "digest",
    "to_hex",
    "hex",
    "reverse",
    "initcap",
    "translate",
];

const JSON_BUILDERS: &[&str] = &["json_build_object", "jsonb_build_object", "json_object"];

/// The derivations of one statement (an `INSERT … SELECT` with a column list, or a `CREATE
/// TABLE … AS SELECT`); none when it does not parse in `dialect`.
pub fn derivations(statement: &str, dialect: &str) -> Vec<Derivation> {
    let chain = super::dialect::resolve(dialect);
    let Ok(parsed) = Parser::parse_sql(chain.primary().dialect(), statement) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in parsed {
        let (targets, query) = match &s {
            Statement::Insert(Insert { columns, source: Some(query), .. }) if !columns.is_empty() => {
                (Some(columns.iter().filter_map(|c| last_name(&c.0)).collect::<Vec<_>>()), query)
            }
            Statement::CreateTable(CreateTable { query: Some(query), .. }) => (None, query),
            _ => continue,
        };
        let SetExpr::Select(select) = query.body.as_ref() else { continue };
        for (i, item) in select.projection.iter().enumerate() {
            let (expr, alias) = match item {
                SelectItem::UnnamedExpr(e) => (e, None),
                SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
                _ => continue,
            };
            let target = match &targets {
                Some(cols) => cols.get(i).cloned(),
                None => alias.or_else(|| column_name(expr)),
            };
            let Some(target) = target else { continue };
            out.extend(derive(expr, &target));
        }
    }
    out
}

fn last_name(parts: &[ObjectNamePart]) -> Option<String> {
    match parts.last()? {
        ObjectNamePart::Identifier(i) => Some(i.value.clone()),
        _ => None,
    }
}

fn column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        _ => None,
    }
}

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => last_name(&f.name.0).map(|n| n.to_ascii_lowercase()),
        _ => None,
    }
}

fn derive(expr: &Expr, target: &str) -> Vec<Derivation> {
    if let (Some(name), Expr::Function(f)) = (function_name(expr), expr)
        && JSON_BUILDERS.contains(&name.as_str())
        && let FunctionArguments::List(list) = &f.args
    {
        let args: Vec<&Expr> = list
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect();
        return args
            .chunks(2)
            .filter_map(|pair| match pair {
                [Expr::Value(key), value] => match (&key.value, column_name(value)) {
                    (Value::SingleQuotedString(k), Some(source)) if safe_key(k) => Some(Derivation {
                        target_column: target.to_owned(),
                        source_column: source,
                        how: How::JsonField(k.clone()),
                    }),
                    _ => None,
                },
                _ => None,
            })
            .collect();
    }
    if column_name(expr).is_some() || !pure(expr) {
        return Vec::new();
    }
    let mut sources = Vec::new();
    collect_columns(expr, &mut sources);
    sources.sort();
    sources.dedup();
    let [source] = &sources[..] else { return Vec::new() };
    let mut template = expr.clone();
    replace_columns(&mut template);
    vec![Derivation {
        target_column: target.to_owned(),
        source_column: source.clone(),
        how: How::Expression(template.to_string()),
    }]
}

/// A JSON key erasure can name in a path without quoting trouble.
fn safe_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Made only of columns, literals, pure functions, casts and simple operators.
fn pure(expr: &Expr) -> bool {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => true,
        Expr::Value(v) => !matches!(v.value, Value::Placeholder(_)),
        Expr::Nested(e) => pure(e),
        Expr::UnaryOp { op: UnaryOperator::Minus | UnaryOperator::Plus, expr } => pure(expr),
        Expr::Cast { expr, .. } => pure(expr),
        Expr::BinaryOp { left, op, right } => {
            matches!(
                op,
                BinaryOperator::StringConcat
                    | BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo
            ) && pure(left)
                && pure(right)
        }
        Expr::Trim { expr, trim_what, trim_characters, .. } => {
            pure(expr)
                && trim_what.as_deref().is_none_or(pure)
                && trim_characters.as_ref().is_none_or(|cs| cs.iter().all(pure))
        }
        Expr::Function(f) => {
            let known = function_name(expr).is_some_and(|n| PURE.contains(&n.as_str()));
            let plain = f.over.is_none() && f.filter.is_none() && f.within_group.is_empty();
            let args = match &f.args {
                FunctionArguments::List(list) => {
                    list.duplicate_treatment.is_none()
                        && list.clauses.is_empty()
                        && list
                            .args
                            .iter()
                            .all(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if pure(e)))
                }
                FunctionArguments::None => true,
                FunctionArguments::Subquery(_) => false,
            };
            known && plain && args
        }
        _ => false,
    }
}

fn collect_columns(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => out.extend(column_name(expr)),
        Expr::Nested(e) | Expr::Cast { expr: e, .. } | Expr::UnaryOp { expr: e, .. } => collect_columns(e, out),
        Expr::BinaryOp { left, right, .. } => {
            collect_columns(left, out);
            collect_columns(right, out);
        }
        Expr::Trim { expr, trim_what, trim_characters, .. } => {
            collect_columns(expr, out);
            if let Some(w) = trim_what {
                collect_columns(w, out);
            }
            for c in trim_characters.iter().flatten() {
                collect_columns(c, out);
            }
        }
        Expr::Function(f) => {
            if let FunctionArguments::List(list) = &f.args {
                for a in &list.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a {
                        collect_columns(e, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn replace_columns(expr: &mut Expr) {
    match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            *expr = Expr::Identifier(Ident::with_quote('"', MARKER.trim_matches('"')));
        }
        Expr::Nested(e) | Expr::Cast { expr: e, .. } | Expr::UnaryOp { expr: e, .. } => replace_columns(e),
        Expr::BinaryOp { left, right, .. } => {
            replace_columns(left);
            replace_columns(right);
        }
        Expr::Trim { expr, trim_what, trim_characters, .. } => {
            replace_columns(expr);
            if let Some(w) = trim_what {
                replace_columns(w);
            }
            for c in trim_characters.iter_mut().flatten() {
                replace_columns(c);
            }
        }
        Expr::Function(f) => {
            if let FunctionArguments::List(list) = &mut f.args {
                for a in &mut list.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a {
                        replace_columns(e);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Vec<(String, String, How)> {
        derivations(sql, "postgres").into_iter().map(|d| (d.target_column, d.source_column, d.how)).collect()
    }

    #[test]
    fn hashed_formatted_and_cleaned_identifiers_become_templates() {
        let got = one("INSERT INTO crm (email_hash, ref, clean, copy) \
             SELECT md5(lower(c.email)), 'C-' || lpad(c.id::text, 5, '0'), lower(trim(email)), c.email FROM customers c");
        assert_eq!(
            got,
            vec![
                ("email_hash".into(), "email".into(), How::Expression(format!("md5(lower({MARKER}))"))),
                ("ref".into(), "id".into(), How::Expression(format!("'C-' || lpad({MARKER}::TEXT, 5, '0')"))),
                ("clean".into(), "email".into(), How::Expression(format!("lower(TRIM({MARKER}))"))),
            ]
        );
    }

    #[test]
    fn json_documents_name_the_key_each_column_lands_under() {
        let got = one(
            "CREATE TABLE events AS SELECT id, jsonb_build_object('email', email, 'plan', 'pro', 'bad key', phone) AS payload FROM customers",
        );
        assert_eq!(got, vec![("payload".into(), "email".into(), How::JsonField("email".into()))]);
    }

    #[test]
    fn nothing_for_impure_or_ambiguous_expressions() {
        assert!(one("INSERT INTO t (a) SELECT md5(email || random()::text) FROM c").is_empty());
        assert!(one("INSERT INTO t (a) SELECT lower(first_name || last_name) FROM c").is_empty());
        assert!(one("INSERT INTO t (a) SELECT (SELECT max(x) FROM y) FROM c").is_empty());
        assert!(one("INSERT INTO t (a) SELECT count(email) FROM c").is_empty());
        assert!(one("INSERT INTO t (a) SELECT lower(email) OVER () FROM c").is_empty());
        assert!(one("DELETE FROM t").is_empty());
        assert!(one("not sql at all").is_empty());
    }
}
