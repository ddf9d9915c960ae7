//! Fuzz target: arbitrary bytes through the lineage extractor, in every dialect and view,
//! and through the fast tokenizer, whose tokens must be sqlparser's whenever it answers.
//! Run from the crate root: `cargo +nightly fuzz run lineage` (see `src/lineage/mod.rs`).
#![no_main]

#[path = "../../src/lineage/mod.rs"]
#[allow(dead_code)]
mod lineage;

use libfuzzer_sys::fuzz_target;

const DIALECTS: &[&str] = &[
    "generic", "ansi", "postgres", "redshift", "mysql", "sqlite", "snowflake", "bigquery", "hive",
    "sparksql", "tsql", "duckdb", "clickhouse", "oracle", "teradata", "athena",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let sql = String::from_utf8_lossy(rest);
    let dialect = DIALECTS[selector as usize % DIALECTS.len()];
    let engine = lineage::dialect::resolve(dialect).primary();
    if let Some(fast) = lineage::tokens::tokenize(&sql, engine) {
        let reference = sqlparser::tokenizer::Tokenizer::new(engine.dialect(), &sql).tokenize_with_location();
        assert!(reference.is_ok_and(|r| r == fast), "fast tokenizer disagrees with sqlparser ({dialect}) on {sql:?}");
    }
    let mut options = lineage::Options::new(dialect);
    options.view = if selector & 0x80 == 0 {
        lineage::View::Flow
    } else {
        lineage::View::Effects
    };
    options.tsql_no_semicolon = selector & 0x40 != 0;
    options.lateral_column_alias_reference = selector & 0x20 != 0;
    if selector & 0x10 != 0 {
        options.default_schema = Some("s".into());
        options.schema.insert("s.t".into(), vec!["a".into(), "b".into()]);
    }
    let result = lineage::analyze(&sql, &options);
    for e in &result.errors {
        assert!(e.statement >= 1 && e.statement <= result.statements.len());
        assert!(e.line >= 1);
    }
});
