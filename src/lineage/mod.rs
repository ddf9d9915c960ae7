//! Pure SQL lineage extraction: SQL text + dialect + schema knowledge in, typed lineage out.
//!
//! The contract is `LINEAGE.md` (shared design docs). Entry point: [`analyze`]. The module
//! uses sqlparser internally and converts at the edge: callers only see the types of
//! [`model`]. It imports no database, web or CLI crate.
//!
//! Pipeline: [`parse`] splits the script into statements and parses each one (with
//! neighbouring dialects, repairs, piecewise parsing and a token-level scan as fallbacks),
//! `statement` and `query` turn each parsed statement into facts (tables read and
//! written, column edges), and `combine` joins the facts into the `flow` or `effects` view.
//!
//! Fuzzing: `cargo +nightly fuzz run lineage` from the crate root runs the cargo-fuzz
//! target in `fuzz/` (install it once with `cargo install cargo-fuzz`), feeding arbitrary
//! bytes through [`analyze`] (the first byte picks dialect, view and options); add
//! `-- -max_total_time=600` for a ten-minute run. Seeds live in `fuzz/seeds/`.
//!
//! Throughput: `cargo bench --bench lineage` compares sqlparser parsing alone with
//! parsing plus lineage on `../shared/corpus/lineage/throughput/` (skipped when absent).
//!
//! Robustness: nothing here panics on any input. The parser's recursion limit turns deep
//! nesting into a reported error, our own walks carry a depth budget, and the CLI runs the
//! analysis on a thread with a large stack so dropping very deep syntax trees is safe.

pub mod combine;
pub mod derive;
pub mod dialect;
pub mod fixup;
pub mod lexer;
pub mod model;
pub mod names;
pub mod parse;
pub mod query;
pub mod statement;
pub mod tokens;

#[cfg(test)]
mod tests;

pub use model::{
    ColumnEdge, EdgeKind, Lineage, Options, ParseError, SchemaKnowledge, StatementLineage, StatementStatus, View,
};

use names::{Catalog, Namespace, TableName};
use query::{Analyzer, Ctx};
use statement::{Facts, WriteMode};

/// Stack for a thread that runs [`analyze`]: deeply nested SQL makes deep syntax trees,
/// and dropping one recurses as deep.
pub const ANALYSIS_STACK: usize = 256 * 1024 * 1024;

/// Extracts the lineage of a SQL script. Never panics and never fails: statements that do
/// not parse are reported in [`Lineage::errors`] and contribute what a fallback finds.
pub fn analyze(sql: &str, options: &Options) -> Lineage {
    let chain = dialect::resolve(&options.dialect);
    let mut warnings = Vec::new();
    if !chain.known {
        warnings.push(format!("unknown dialect `{}`: using the generic dialect", options.dialect));
    }
    let namespace = Namespace {
        db: options.default_db.clone().filter(|s| !s.is_empty()),
        schema: options.default_schema.clone().filter(|s| !s.is_empty()),
    };
    let mut ctx = Ctx::new(Catalog::new(&options.schema), namespace);
    ctx.lateral_alias = options.lateral_column_alias_reference;
    ctx.tsql = chain.is_tsql();
    ctx.expr_names = options.view == View::Flow;
    ctx.unused_cte_reads = options.view == View::Flow;

    let no_semicolon = options.tsql_no_semicolon;
    let units = parse::parse_script(sql, &chain, no_semicolon);
    let lines = parse::LineIndex::new(sql);
    let sub_engines = chain.engines.clone();
    let sub = move |text: &str| -> Vec<sqlparser::ast::Statement> {
        for e in &sub_engines {
            if let Ok(mut p) = parse::parser(*e, text, false)
                && let Ok(stmts) = p.parse_statements()
            {
                return stmts;
            }
        }
        Vec::new()
    };

    let mut all_facts: Vec<Facts> = Vec::with_capacity(units.len());
    let mut statements = Vec::with_capacity(units.len());
    let mut errors = Vec::new();
    let mut degraded = false;
    for (i, unit) in units.iter().enumerate() {
        let index = i + 1;
        let mut facts = if unit.statements.is_empty() {
            degraded = true;
            match &unit.scan {
                Some(scan) => scan_facts(&mut ctx, scan),
                None => Facts::default(),
            }
        } else {
            let mut combined: Option<Facts> = None;
            for stmt in &unit.statements {
                let mut an = Analyzer::new(&mut ctx);
                let f = an.statement(stmt, &sub);
                match &mut combined {
                    None => combined = Some(f),
                    Some(c) => c.absorb(f),
                }
            }
            let mut facts = combined.unwrap_or_default();
            if !unit.local_names.is_empty() {
                // Piecewise recovery: CTEs of the enclosing statement are not tables.
                facts.reads.retain(|r| {
                    let t = ctx.table(*r);
                    !unit.local_names.iter().any(|n| n.eq_ignore_ascii_case(t.last()))
                });
            }
            if let Some(scan) = &unit.scan {
                degraded |= supplement(&mut ctx, &mut facts, scan);
            }
            facts
        };
        if facts.kind.is_empty() {
            facts.kind = "UNKNOWN".into();
        }
        if let Some((off, msg)) = &unit.error {
            let (line, column) = lines.position(sql, *off);
            errors.push(ParseError { statement: index, line, column, message: msg.clone() });
        }
        let view = combine::statement_view(&ctx, &facts, options.view);
        let (start_line, _) = lines.position(sql, unit.start);
        let (end_line, _) = lines.position(sql, unit.end);
        statements.push(StatementLineage {
            index,
            start_line,
            end_line,
            kind: facts.kind.clone(),
            status: unit.status,
            dialect: unit.engine.map(|e| e.name().to_string()).unwrap_or_default(),
            sources: view.sources,
            targets: view.targets,
            column_edges: view.edges,
        });
        all_facts.push(facts);
    }
    let refs: Vec<&Facts> = all_facts.iter().collect();
    let combined = match options.view {
        View::Flow => combine::flow(&ctx, &refs),
        View::Effects => combine::effects(&ctx, &refs),
    };
    Lineage {
        view: options.view,
        sources: combined.sources,
        targets: combined.targets,
        column_edges: combined.edges,
        statements,
        errors,
        degraded,
        warnings,
    }
}

/// Adds what the token scan of a partly parsed statement knows and the parsed pieces do
/// not (typically the written table of a statement whose head did not parse). Returns
/// whether anything was added.
fn supplement(ctx: &mut Ctx, facts: &mut Facts, scan: &lexer::TokenScan) -> bool {
    let extra = scan_facts(ctx, scan);
    let mut added = false;
    for r in extra.reads {
        if !facts.reads.contains(&r) && !facts.writes.iter().any(|w| w.table == r) {
            facts.reads.push(r);
            for w in &mut facts.writes {
                if matches!(w.mode, WriteMode::Replace | WriteMode::Append) {
                    w.reads.push(r);
                }
            }
            added = true;
        }
    }
    for mut w in extra.writes {
        if facts.writes.iter().any(|x| x.table == w.table) {
            continue;
        }
        w.reads = facts.reads.iter().copied().filter(|r| *r != w.table).collect();
        // A plain query parsed inside the statement feeds the written table by name.
        for out in &facts.outputs {
            if out.name.is_empty() {
                continue;
            }
            let column: std::rc::Rc<str> = if out.named { out.name.to_lowercase().into() } else { out.name.clone() };
            for (src, kind) in &out.srcs {
                facts.edges.push(statement::Edge {
                    src: src.clone(),
                    table: w.table,
                    column: column.clone(),
                    kind: *kind,
                });
            }
        }
        facts.flow = true;
        facts.writes.push(w);
        added = true;
    }
    if added {
        facts.kind = extra.kind;
    }
    added
}

/// Facts from the token-level scan of a statement no parser accepted.
fn scan_facts(ctx: &mut Ctx, scan: &lexer::TokenScan) -> Facts {
    let mut f = Facts { kind: scan.kind.clone(), ..Facts::default() };
    let complete = |ctx: &mut Ctx, t: &TableName| {
        let t = ctx.namespace.complete(t.clone());
        ctx.intern(t)
    };
    for r in &scan.reads {
        let id = complete(ctx, r);
        if !f.reads.contains(&id) {
            f.reads.push(id);
        }
    }
    let mut moves = false;
    for (t, mode) in &scan.writes {
        let id = complete(ctx, t);
        let mode = match mode {
            lexer::ScanWrite::Replace => WriteMode::Replace,
            lexer::ScanWrite::Append => WriteMode::Append,
            lexer::ScanWrite::Modify => WriteMode::Modify,
            lexer::ScanWrite::Remove => WriteMode::Remove,
            lexer::ScanWrite::Alter => WriteMode::Alter,
            lexer::ScanWrite::Drop => WriteMode::Drop,
        };
        moves |= matches!(mode, WriteMode::Replace | WriteMode::Append | WriteMode::Modify);
        let reads = f
            .reads
            .iter()
            .copied()
            .filter(|r| *r != id || mode == WriteMode::Append || mode == WriteMode::Replace)
            .collect();
        f.writes.push(statement::Write { table: id, mode, reads });
    }
    let first = scan.kind.as_str();
    f.flow = moves || matches!(first, "SELECT" | "WITH");
    if f.writes.iter().any(|w| w.mode == WriteMode::Modify) {
        let targets: Vec<_> = f.writes.iter().map(|w| w.table).collect();
        f.reads.retain(|r| !targets.contains(r));
    }
    f
}
