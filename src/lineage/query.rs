//! Query analysis: scopes, CTEs, subqueries, star expansion and column resolution.
//!
//! Walks a sqlparser `Query` and returns its output columns, each with the source columns
//! it derives from and how (identity, transform, aggregate), while recording every table
//! it reads. Statement-level meaning (what is written) lives in `statement.rs`.

use super::model::EdgeKind;
use super::names::{self, Catalog, NameRead, Namespace, TableName, ident, key};
use sqlparser::ast::{
    CastKind, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Join, JoinConstraint,
    JoinOperator, ObjectName, ObjectNamePart, OrderByKind, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, TableAlias, TableFactor, TableWithJoins, WildcardAdditionalOptions, WindowType,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Interned table: index into [`Ctx::tables`].
pub type TableId = u32;

/// A source column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Src {
    /// `table.column`; the column `*` stands for all columns of a table whose columns
    /// are unknown.
    Col(TableId, Rc<str>),
    /// A column we could not attribute to a table.
    Bare(Rc<str>),
}

/// Sources of one value, with the kind of derivation from each.
pub type Srcs = Vec<(Src, EdgeKind)>;

pub fn add_src(srcs: &mut Srcs, src: Src, kind: EdgeKind) {
    if let Some(existing) = srcs.iter_mut().find(|(s, _)| *s == src) {
        existing.1 = existing.1.max(kind);
    } else {
        srcs.push((src, kind));
    }
}

/// One output column of a query.
#[derive(Debug, Clone)]
pub struct OutCol {
    /// Column name, or the expression text for an unnamed expression (flow view), or `*`.
    pub name: Rc<str>,
    /// Whether `name` is a real column name (alias or column) rather than expression text.
    pub named: bool,
    /// An unexpanded `*` over tables whose columns are unknown (its sources are `t.*`).
    pub star: bool,
    pub srcs: Srcs,
}

impl OutCol {
    fn named(name: Rc<str>, srcs: Srcs) -> Self {
        OutCol { name, named: true, star: false, srcs }
    }
}

/// Analysis-wide state shared by all statements of a script.
pub struct Ctx {
    pub tables: Vec<TableName>,
    table_ids: HashMap<String, TableId>,
    pub catalog: Catalog,
    pub namespace: Namespace,
    pub lateral_alias: bool,
    pub tsql: bool,
    /// Whether unnamed output expressions get their SQL text as name (flow view).
    pub expr_names: bool,
    /// Whether CTEs that are never referenced still count as reads (flow view).
    pub unused_cte_reads: bool,
    star: Rc<str>,
}

impl Ctx {
    pub fn new(catalog: Catalog, namespace: Namespace) -> Self {
        Ctx {
            tables: Vec::new(),
            table_ids: HashMap::new(),
            catalog,
            namespace,
            lateral_alias: false,
            tsql: false,
            expr_names: true,
            unused_cte_reads: false,
            star: Rc::from("*"),
        }
    }

    pub fn intern(&mut self, name: TableName) -> TableId {
        let k = name.key();
        if let Some(&id) = self.table_ids.get(&k) {
            return id;
        }
        let id = self.tables.len() as TableId;
        self.tables.push(name);
        self.table_ids.insert(k, id);
        id
    }

    pub fn table(&self, id: TableId) -> &TableName {
        &self.tables[id as usize]
    }

    pub fn star(&self) -> Rc<str> {
        self.star.clone()
    }

    /// Known columns of a table (schema knowledge or created earlier in the script).
    pub fn columns_of(&self, id: TableId) -> Option<Vec<String>> {
        self.catalog.columns(self.table(id)).filter(|c| !c.is_empty()).map(<[String]>::to_vec)
    }

    /// Resolves a written object name to an interned, completed table, or `None` when the
    /// name cannot be known (`IDENTIFIER(:param)`).
    pub fn table_ref(&mut self, name: &ObjectName) -> Option<TableId> {
        match names::object_name(name) {
            NameRead::Table(t) => {
                let t = self.namespace.complete(t);
                Some(self.intern(t))
            }
            NameRead::Unknown => None,
        }
    }
}

/// Tables read by the statement being analysed (in order of first appearance).
#[derive(Debug, Default)]
pub struct Reads {
    pub tables: Vec<TableId>,
}

impl Reads {
    pub fn add(&mut self, id: TableId) {
        if !self.tables.contains(&id) {
            self.tables.push(id);
        }
    }
}

// ------------------------------------------------------------------ scopes

#[derive(Debug)]
enum RelKind {
    Table {
        id: TableId,
        cols: Option<Vec<String>>,
    },
    Derived {
        cols: Rc<Vec<OutCol>>,
    },
    /// Table functions, UNNEST, lateral views: named columns computed from `srcs`.
    Opaque {
        cols: Vec<String>,
        srcs: Srcs,
    },
}

#[derive(Debug)]
struct Rel {
    /// Alias (lower case) used to qualify columns.
    alias: Option<String>,
    /// Table name, to match qualifiers that spell the table out.
    table: Option<TableName>,
    kind: RelKind,
}

#[derive(Default)]
pub(crate) struct Scope<'p> {
    parent: Option<&'p Scope<'p>>,
    rels: Vec<Rel>,
    using: Vec<String>,
    lateral: Vec<(String, Srcs)>,
}

impl<'p> Scope<'p> {
    fn child(parent: Option<&'p Scope<'p>>) -> Self {
        Scope { parent, rels: Vec::new(), using: Vec::new(), lateral: Vec::new() }
    }
}

// ------------------------------------------------------------------ CTEs

enum CteState {
    Pending,
    InProgress,
    Done(Rc<Vec<OutCol>>),
}

struct CteDef<'a> {
    key: String,
    query: &'a Query,
    columns: Vec<String>,
    state: RefCell<CteState>,
}

struct CteFrame<'f, 'a> {
    parent: CteEnv<'f, 'a>,
    defs: Vec<CteDef<'a>>,
    recursive: bool,
}

#[derive(Clone, Copy, Default)]
pub(crate) struct CteEnv<'f, 'a> {
    frame: Option<&'f CteFrame<'f, 'a>>,
    visible: usize,
}

impl<'f, 'a> CteEnv<'f, 'a> {
    fn lookup(&self, k: &str) -> Option<(&'f CteFrame<'f, 'a>, usize)> {
        let frame = self.frame?;
        let limit = self.visible.min(frame.defs.len());
        if let Some(i) = frame.defs[..limit].iter().position(|d| d.key == k) {
            return Some((frame, i));
        }
        frame.parent.lookup(k)
    }
}

// ------------------------------------------------------------------ analyzer

const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "array_agg",
    "string_agg",
    "group_concat",
    "listagg",
    "collect_list",
    "collect_set",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "median",
    "percentile_cont",
    "percentile_disc",
    "percentile_approx",
    "approx_count_distinct",
    "approx_distinct",
    "approx_percentile",
    "approx_quantiles",
    "approx_top_count",
    "any_value",
    "bit_and",
    "bit_or",
    "bit_xor",
    "bool_and",
    "bool_or",
    "every",
    "count_if",
    "countif",
    "arbitrary",
    "corr",
    "covar_pop",
    "covar_samp",
    "mode",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "object_agg",
    "array_concat_agg",
    "logical_and",
    "logical_or",
    "hll_count",
    "uniq",
    "uniq_exact",
    "sum_distinct",
    "histogram",
    "map_agg",
    "xmlagg",
];

fn is_aggregate(f: &Function) -> bool {
    let Some(ObjectNamePart::Identifier(last)) = f.name.0.last() else {
        return false;
    };
    let name = last.value.to_ascii_lowercase();
    AGGREGATES.contains(&name.as_str())
}

/// T-SQL table hints written like a function call: `t(NOLOCK)`.
const TSQL_HINTS: &[&str] = &[
    "nolock",
    "readuncommitted",
    "readcommitted",
    "updlock",
    "holdlock",
    "rowlock",
    "paglock",
    "tablock",
    "tablockx",
    "nowait",
    "readpast",
    "serializable",
    "repeatableread",
    "xlock",
    "snapshot",
    "forceseek",
    "forcescan",
];

/// What an expression walk collects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Source columns and tables read.
    Columns,
    /// Only tables read (in subqueries); used for WHERE, ON, GROUP BY ...
    Tables,
}

pub struct Analyzer<'c> {
    pub ctx: &'c mut Ctx,
    pub reads: Reads,
    /// Remaining nesting budget: protects our own recursion on pathological ASTs.
    depth: u32,
}

const MAX_DEPTH: u32 = 400;

impl<'c> Analyzer<'c> {
    pub fn new(ctx: &'c mut Ctx) -> Self {
        Analyzer { ctx, reads: Reads::default(), depth: MAX_DEPTH }
    }

    // ------------------------------------------------ helpers for statement analysis

    pub(crate) fn query_env<'f, 'a>(&mut self, q: &'a Query, env: CteEnv<'f, 'a>, top: bool) -> Vec<OutCol> {
        self.query(q, None, env, top)
    }

    pub(crate) fn query_in_scope<'f, 'a>(
        &mut self,
        q: &'a Query,
        scope: &Scope<'_>,
        env: CteEnv<'f, 'a>,
    ) -> Vec<OutCol> {
        self.query(q, Some(scope), env, false)
    }

    /// Runs `f` with the CTEs of `q` in scope (for `WITH ... INSERT/UPDATE/MERGE`).
    pub(crate) fn with_ctes<'a, R>(
        &mut self,
        q: &'a Query,
        f: impl for<'f> FnOnce(&mut Self, CteEnv<'f, 'a>) -> R,
    ) -> R {
        let Some(with) = &q.with else {
            return f(self, CteEnv::default());
        };
        let defs = with
            .cte_tables
            .iter()
            .map(|cte| CteDef {
                key: key(&ident(&cte.alias.name)),
                query: &cte.query,
                columns: cte.alias.columns.iter().map(|c| ident(&c.name)).collect(),
                state: RefCell::new(CteState::Pending),
            })
            .collect::<Vec<_>>();
        let n = defs.len();
        let frame = CteFrame { parent: CteEnv::default(), defs, recursive: with.recursive };
        let result = f(self, CteEnv { frame: Some(&frame), visible: n });
        if self.ctx.unused_cte_reads {
            for idx in 0..frame.defs.len() {
                if matches!(*frame.defs[idx].state.borrow(), CteState::Pending) {
                    self.cte_columns(&frame, idx);
                }
            }
        }
        result
    }

    pub(crate) fn add_from<'f, 'a>(&mut self, twj: &'a TableWithJoins, scope: &mut Scope<'_>, env: CteEnv<'f, 'a>) {
        self.table_with_joins(twj, scope, env);
    }

    pub(crate) fn add_factor<'f, 'a>(&mut self, tf: &'a TableFactor, scope: &mut Scope<'_>, env: CteEnv<'f, 'a>) {
        self.table_factor(tf, scope, env);
    }

    pub(crate) fn add_join<'f, 'a>(&mut self, j: &'a Join, scope: &mut Scope<'_>, env: CteEnv<'f, 'a>) {
        self.join(j, scope, env);
    }

    /// The table behind an alias of the scope (`UPDATE alias ... FROM t alias`).
    pub(crate) fn rel_table_by_alias(&self, scope: &Scope<'_>, alias: &str) -> Option<TableId> {
        scope.rels.iter().find_map(|r| match (&r.alias, &r.kind) {
            (Some(a), RelKind::Table { id, .. }) if a == alias => Some(*id),
            _ => None,
        })
    }

    pub(crate) fn first_table(&self, scope: &Scope<'_>) -> Option<TableId> {
        scope.rels.iter().find_map(|r| match &r.kind {
            RelKind::Table { id, .. } => Some(*id),
            _ => None,
        })
    }

    pub(crate) fn merge_scopes(&self, into: &mut Scope<'_>, from: Scope<'_>) {
        into.rels.extend(from.rels);
        into.using.extend(from.using);
    }

    pub(crate) fn eval<'f, 'a>(&mut self, e: &'a Expr, scope: &Scope<'_>, env: CteEnv<'f, 'a>) -> Srcs {
        let mut out = Srcs::new();
        self.expr(e, scope, env, EdgeKind::Identity, Mode::Columns, &mut out);
        out
    }

    pub(crate) fn eval_tables<'f, 'a>(&mut self, e: &'a Expr, scope: &Scope<'_>, env: CteEnv<'f, 'a>) {
        self.expr_tables(e, scope, env);
    }

    /// All columns of the relations after the first (the MERGE source).
    pub(crate) fn source_star(&mut self, scope: &Scope<'_>) -> Srcs {
        let mut cols = Vec::new();
        for i in 1..scope.rels.len() {
            self.expand_star(&scope.rels, Some(i), &mut cols);
        }
        let mut out = Srcs::new();
        for c in cols {
            for (s, k) in c.srcs {
                add_src(&mut out, s, k);
            }
        }
        out
    }

    fn enter(&mut self) -> bool {
        if self.depth == 0 {
            return false;
        }
        self.depth -= 1;
        true
    }

    fn leave(&mut self) {
        self.depth += 1;
    }

    fn query<'f, 'a>(
        &mut self,
        q: &'a Query,
        outer: Option<&Scope<'_>>,
        env: CteEnv<'f, 'a>,
        top: bool,
    ) -> Vec<OutCol> {
        if !self.enter() {
            return Vec::new();
        }
        let result = match &q.with {
            Some(with) => {
                let defs = with
                    .cte_tables
                    .iter()
                    .map(|cte| CteDef {
                        key: key(&ident(&cte.alias.name)),
                        query: &cte.query,
                        columns: cte.alias.columns.iter().map(|c| ident(&c.name)).collect(),
                        state: RefCell::new(CteState::Pending),
                    })
                    .collect::<Vec<_>>();
                let n = defs.len();
                let frame = CteFrame { parent: env, defs, recursive: with.recursive };
                let inner = CteEnv { frame: Some(&frame), visible: n };
                let cols = self.set_expr(&q.body, outer, inner, top);
                self.query_tail(q, outer, inner);
                if self.ctx.unused_cte_reads {
                    // Flow view: a CTE nobody selects from still names an input of the
                    // script's author (sqllineage counts it); effects view: not executed.
                    for idx in 0..frame.defs.len() {
                        if matches!(*frame.defs[idx].state.borrow(), CteState::Pending) {
                            self.cte_columns(&frame, idx);
                        }
                    }
                }
                cols
            }
            None => {
                let cols = self.set_expr(&q.body, outer, env, top);
                self.query_tail(q, outer, env);
                cols
            }
        };
        self.leave();
        result
    }

    fn query_tail<'f, 'a>(&mut self, q: &'a Query, outer: Option<&Scope<'_>>, env: CteEnv<'f, 'a>) {
        if let Some(order_by) = &q.order_by
            && let OrderByKind::Expressions(exprs) = &order_by.kind
        {
            let scope = Scope::child(outer);
            for e in exprs {
                self.expr_tables(&e.expr, &scope, env);
            }
        }
    }

    fn set_expr<'f, 'a>(
        &mut self,
        body: &'a SetExpr,
        outer: Option<&Scope<'_>>,
        env: CteEnv<'f, 'a>,
        top: bool,
    ) -> Vec<OutCol> {
        if !self.enter() {
            return Vec::new();
        }
        let cols = match body {
            SetExpr::Select(s) => self.select(s, outer, env, top),
            SetExpr::Query(q) => self.query(q, outer, env, top),
            SetExpr::SetOperation { left, right, .. } => {
                let mut l = self.set_expr(left, outer, env, top);
                let r = self.set_expr(right, outer, env, false);
                merge_positional(&mut l, r);
                l
            }
            SetExpr::Values(values) => {
                let scope = Scope::child(outer);
                let mut cols: Vec<OutCol> = Vec::new();
                for row in &values.rows {
                    for (i, e) in row.content.iter().enumerate() {
                        let mut srcs = Srcs::new();
                        self.expr(e, &scope, env, EdgeKind::Identity, Mode::Columns, &mut srcs);
                        if i >= cols.len() {
                            cols.push(OutCol {
                                name: Rc::from(format!("column{}", i + 1)),
                                named: false,
                                star: false,
                                srcs,
                            });
                        } else {
                            for (s, k) in srcs {
                                add_src(&mut cols[i].srcs, s, k);
                            }
                        }
                    }
                }
                cols
            }
            SetExpr::Table(t) => {
                let mut cols = Vec::new();
                if let Some(name) = &t.table_name {
                    let mut parts = Vec::new();
                    if let Some(s) = &t.schema_name {
                        parts.push(ident(s));
                    }
                    parts.push(ident(name));
                    let on = ObjectName::from(
                        parts.iter().map(|p| sqlparser::ast::Ident::new(p.clone())).collect::<Vec<_>>(),
                    );
                    let mut scope = Scope::child(outer);
                    self.add_table(&on, None, None, &mut scope, env);
                    self.expand_star(&scope.rels, None, &mut cols);
                }
                cols
            }
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => Vec::new(),
        };
        self.leave();
        cols
    }

    fn select<'f, 'a>(
        &mut self,
        s: &'a Select,
        outer: Option<&Scope<'_>>,
        env: CteEnv<'f, 'a>,
        top: bool,
    ) -> Vec<OutCol> {
        let mut scope = Scope::child(outer);
        for twj in &s.from {
            self.table_with_joins(twj, &mut scope, env);
        }
        for lv in &s.lateral_views {
            let mut srcs = Srcs::new();
            self.expr(&lv.lateral_view, &scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
            let alias = lv.lateral_view_name.0.last().and_then(|p| match p {
                ObjectNamePart::Identifier(id) => Some(key(&ident(id))),
                ObjectNamePart::Function(_) => None,
            });
            scope.rels.push(Rel {
                alias,
                table: None,
                kind: RelKind::Opaque { cols: lv.lateral_col_alias.iter().map(|c| key(&ident(c))).collect(), srcs },
            });
        }

        let mut out: Vec<OutCol> = Vec::with_capacity(s.projection.len());
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    // T-SQL `SELECT alias = expr`.
                    if self.ctx.tsql
                        && let Expr::BinaryOp { left, op: sqlparser::ast::BinaryOperator::Eq, right } = e
                        && let Expr::Identifier(alias) = left.as_ref()
                        && !alias.value.starts_with('@')
                    {
                        let mut srcs = Srcs::new();
                        self.expr(right, &scope, env, EdgeKind::Identity, Mode::Columns, &mut srcs);
                        self.push_out(&mut scope, &mut out, OutCol::named(Rc::from(ident(alias)), srcs));
                        continue;
                    }
                    let mut srcs = Srcs::new();
                    self.expr(e, &scope, env, EdgeKind::Identity, Mode::Columns, &mut srcs);
                    let col = match implicit_name(e) {
                        Some(name) => OutCol::named(Rc::from(name), srcs),
                        None => OutCol {
                            name: if top && self.ctx.expr_names { Rc::from(expression_name(e)) } else { Rc::from("") },
                            named: false,
                            star: false,
                            srcs,
                        },
                    };
                    self.push_out(&mut scope, &mut out, col);
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let mut srcs = Srcs::new();
                    self.expr(expr, &scope, env, EdgeKind::Identity, Mode::Columns, &mut srcs);
                    self.push_out(&mut scope, &mut out, OutCol::named(Rc::from(ident(alias)), srcs));
                }
                SelectItem::ExprWithAliases { expr, aliases } => {
                    let mut srcs = Srcs::new();
                    self.expr(expr, &scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                    for alias in aliases {
                        self.push_out(&mut scope, &mut out, OutCol::named(Rc::from(ident(alias)), srcs.clone()));
                    }
                }
                SelectItem::Wildcard(opts) => {
                    let mut cols = Vec::new();
                    self.expand_star(&scope.rels, None, &mut cols);
                    apply_wildcard_options(self, &scope, env, opts, &mut cols);
                    out.extend(cols);
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let mut cols = Vec::new();
                    match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            let q: Vec<String> = name
                                .0
                                .iter()
                                .filter_map(|p| match p {
                                    ObjectNamePart::Identifier(id) => Some(ident(id)),
                                    ObjectNamePart::Function(_) => None,
                                })
                                .collect();
                            if let Some(idx) = find_rel_index(&scope.rels, &q) {
                                self.expand_star(&scope.rels, Some(idx), &mut cols);
                            } else {
                                let mut srcs = Srcs::new();
                                self.resolve_qualified(&q, "*", &scope, &mut srcs, EdgeKind::Identity);
                                cols.push(OutCol { name: self.ctx.star(), named: true, star: true, srcs });
                            }
                        }
                        SelectItemQualifiedWildcardKind::Expr(e) => {
                            let mut srcs = Srcs::new();
                            self.expr(e, &scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                            cols.push(OutCol { name: self.ctx.star(), named: true, star: true, srcs });
                        }
                    }
                    apply_wildcard_options(self, &scope, env, opts, &mut cols);
                    out.extend(cols);
                }
            }
        }

        // Clauses that filter or group: only the tables their subqueries read matter.
        if let Some(e) = &s.prewhere {
            self.expr_tables(e, &scope, env);
        }
        if let Some(e) = &s.selection {
            self.expr_tables(e, &scope, env);
        }
        if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
            for e in exprs {
                self.expr_tables(e, &scope, env);
            }
        }
        if let Some(e) = &s.having {
            self.expr_tables(e, &scope, env);
        }
        if let Some(e) = &s.qualify {
            self.expr_tables(e, &scope, env);
        }
        for e in s.cluster_by.iter().chain(&s.distribute_by) {
            self.expr_tables(e, &scope, env);
        }
        out
    }

    fn push_out(&mut self, scope: &mut Scope<'_>, out: &mut Vec<OutCol>, col: OutCol) {
        if self.ctx.lateral_alias && col.named {
            scope.lateral.push((key(&col.name), col.srcs.clone()));
        }
        out.push(col);
    }

    fn table_with_joins<'f, 'a>(&mut self, twj: &'a TableWithJoins, scope: &mut Scope<'_>, env: CteEnv<'f, 'a>) {
        self.table_factor(&twj.relation, scope, env);
        for join in &twj.joins {
            self.join(join, scope, env);
        }
    }

    fn join<'f, 'a>(&mut self, join: &'a Join, scope: &mut Scope<'_>, env: CteEnv<'f, 'a>) {
        self.table_factor(&join.relation, scope, env);
        let constraint = match &join.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            | JoinOperator::CrossJoin(c)
            | JoinOperator::Semi(c)
            | JoinOperator::LeftSemi(c)
            | JoinOperator::RightSemi(c)
            | JoinOperator::Anti(c)
            | JoinOperator::LeftAnti(c)
            | JoinOperator::RightAnti(c)
            | JoinOperator::StraightJoin(c) => Some(c),
            JoinOperator::AsOf { constraint, .. } => Some(constraint),
            _ => None,
        };
        match constraint {
            Some(JoinConstraint::On(e)) => self.expr_tables(e, scope, env),
            Some(JoinConstraint::Using(cols)) | Some(JoinConstraint::UsingAlias(cols, _)) => {
                for c in cols {
                    if let Some(ObjectNamePart::Identifier(id)) = c.0.last() {
                        scope.using.push(key(&ident(id)));
                    }
                }
            }
            _ => {}
        }
    }

    fn add_table<'f, 'a>(
        &mut self,
        name: &ObjectName,
        alias: Option<&TableAlias>,
        _args: Option<()>,
        scope: &mut Scope<'_>,
        env: CteEnv<'f, 'a>,
    ) {
        let alias_key = alias.map(|a| key(&ident(&a.name)));
        // A single-part name may be a CTE.
        if let [ObjectNamePart::Identifier(id)] = name.0.as_slice() {
            let k = key(&ident(id));
            if let Some((frame, idx)) = env.lookup(&k) {
                let cols = self.cte_columns(frame, idx);
                let cols = rename_columns(cols, alias);
                scope.rels.push(Rel {
                    alias: Some(alias_key.unwrap_or(k)),
                    table: None,
                    kind: RelKind::Derived { cols },
                });
                return;
            }
        }
        match self.ctx.table_ref(name) {
            Some(id) => {
                self.reads.add(id);
                let cols = self.ctx.columns_of(id);
                let table = self.ctx.table(id).clone();
                let kind = RelKind::Table { id, cols };
                if let Some(a) = alias
                    && !a.columns.is_empty()
                {
                    let mut tmp = vec![Rel { alias: None, table: None, kind }];
                    let mut cols = Vec::new();
                    self.expand_star(&tmp, None, &mut cols);
                    tmp.clear();
                    let cols = rename_columns(Rc::new(cols), alias);
                    scope.rels.push(Rel { alias: alias_key, table: Some(table), kind: RelKind::Derived { cols } });
                    return;
                }
                scope.rels.push(Rel { alias: alias_key, table: Some(table), kind });
            }
            None => scope.rels.push(Rel {
                alias: alias_key,
                table: None,
                kind: RelKind::Opaque { cols: Vec::new(), srcs: Srcs::new() },
            }),
        }
    }

    fn cte_columns<'f, 'a>(&mut self, frame: &'f CteFrame<'f, 'a>, idx: usize) -> Rc<Vec<OutCol>> {
        let def = &frame.defs[idx];
        {
            let state = def.state.borrow();
            match &*state {
                CteState::Done(cols) => return cols.clone(),
                CteState::InProgress => {
                    // Recursive reference: the columns are those declared, sources unknown yet.
                    return Rc::new(
                        def.columns.iter().map(|c| OutCol::named(Rc::from(c.as_str()), Srcs::new())).collect(),
                    );
                }
                CteState::Pending => {}
            }
        }
        *def.state.borrow_mut() = CteState::InProgress;
        let env = CteEnv { frame: Some(frame), visible: if frame.recursive { frame.defs.len() } else { idx } };
        let rename = |cols: &mut Vec<OutCol>| {
            for (c, name) in cols.iter_mut().zip(&def.columns) {
                c.name = Rc::from(name.as_str());
                c.named = true;
                c.star = false;
            }
        };
        let mut cols = self.query(def.query, None, env, false);
        rename(&mut cols);
        if frame.recursive {
            // Second pass so the recursive part sees the anchor's sources.
            *def.state.borrow_mut() = CteState::Done(Rc::new(cols.clone()));
            let again = self.query(def.query, None, env, false);
            merge_positional(&mut cols, again);
            rename(&mut cols);
        }
        let cols = Rc::new(cols);
        *def.state.borrow_mut() = CteState::Done(cols.clone());
        cols
    }

    fn table_factor<'f, 'a>(&mut self, tf: &'a TableFactor, scope: &mut Scope<'_>, env: CteEnv<'f, 'a>) {
        if !self.enter() {
            return;
        }
        match tf {
            TableFactor::Table { name, alias, args, .. } => match args {
                None => self.add_table(name, alias.as_ref(), None, scope, env),
                Some(fargs) => {
                    let fname = match name.0.as_slice() {
                        [ObjectNamePart::Identifier(id)] => id.value.to_ascii_lowercase(),
                        _ => String::new(),
                    };
                    let hints = !fargs.args.is_empty()
                        && fargs.args.iter().all(|a| {
                            matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(id)))
                                    if TSQL_HINTS.contains(&id.value.to_ascii_lowercase().as_str()))
                        });
                    if hints {
                        self.add_table(name, alias.as_ref(), None, scope, env);
                    } else if fname == "identifier" && fargs.args.len() == 1 {
                        match names::identifier_arg(&fargs.args[0]) {
                            Some(parts) => {
                                let on = ObjectName::from(
                                    parts.into_iter().map(sqlparser::ast::Ident::new).collect::<Vec<_>>(),
                                );
                                self.add_table(&on, alias.as_ref(), None, scope, env);
                            }
                            None => self.opaque(alias.as_ref(), Srcs::new(), scope),
                        }
                    } else {
                        let mut srcs = Srcs::new();
                        for a in &fargs.args {
                            self.function_arg(a, scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                        }
                        self.opaque(alias.as_ref(), srcs, scope);
                    }
                }
            },
            TableFactor::Derived { lateral, subquery, alias, .. } => {
                let cols = if *lateral {
                    let view: &Scope<'_> = scope;
                    self.query(subquery, Some(view), env, false)
                } else {
                    self.query(subquery, scope.parent, env, false)
                };
                let cols = rename_columns(Rc::new(cols), alias.as_ref());
                scope.rels.push(Rel {
                    alias: alias.as_ref().map(|a| key(&ident(&a.name))),
                    table: None,
                    kind: RelKind::Derived { cols },
                });
            }
            TableFactor::TableFunction { expr, alias } => {
                let mut srcs = Srcs::new();
                self.expr(expr, scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                self.opaque(alias.as_ref(), srcs, scope);
            }
            TableFactor::Function { name, args, alias, .. } => {
                let mut srcs = Srcs::new();
                for a in args {
                    self.function_arg(a, scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                }
                let _ = name;
                self.opaque(alias.as_ref(), srcs, scope);
            }
            TableFactor::UNNEST { alias, array_exprs, .. } => {
                let mut srcs = Srcs::new();
                for e in array_exprs {
                    self.expr(e, scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                }
                self.opaque(alias.as_ref(), srcs, scope);
            }
            TableFactor::JsonTable { json_expr, alias, .. } | TableFactor::OpenJsonTable { json_expr, alias, .. } => {
                let mut srcs = Srcs::new();
                self.expr(json_expr, scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                self.opaque(alias.as_ref(), srcs, scope);
            }
            TableFactor::XmlTable { row_expression, alias, .. } => {
                let mut srcs = Srcs::new();
                self.expr(row_expression, scope, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                self.opaque(alias.as_ref(), srcs, scope);
            }
            TableFactor::NestedJoin { table_with_joins, alias } => {
                let before = scope.rels.len();
                self.table_with_joins(table_with_joins, scope, env);
                if let Some(a) = alias {
                    let mut cols = Vec::new();
                    let inner: Vec<usize> = (before..scope.rels.len()).collect();
                    for i in inner {
                        self.expand_star(&scope.rels, Some(i), &mut cols);
                    }
                    let cols = rename_columns(Rc::new(cols), Some(a));
                    scope.rels.push(Rel {
                        alias: Some(key(&ident(&a.name))),
                        table: None,
                        kind: RelKind::Derived { cols },
                    });
                }
            }
            TableFactor::Pivot { table, aggregate_functions, value_column, alias, .. } => {
                let mut inner = Scope::child(scope.parent);
                self.table_factor(table, &mut inner, env);
                let mut srcs = Srcs::new();
                for f in aggregate_functions {
                    self.expr(&f.expr, &inner, env, EdgeKind::Aggregate, Mode::Columns, &mut srcs);
                }
                for e in value_column {
                    self.expr(e, &inner, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                }
                let mut cols = Vec::new();
                self.expand_star(&inner.rels, None, &mut cols);
                for c in &mut cols {
                    for (s, k) in &srcs {
                        add_src(&mut c.srcs, s.clone(), *k);
                    }
                }
                if cols.is_empty() {
                    self.opaque(alias.as_ref(), srcs, scope);
                } else {
                    let cols = rename_columns(Rc::new(cols), alias.as_ref());
                    scope.rels.push(Rel {
                        alias: alias.as_ref().map(|a| key(&ident(&a.name))),
                        table: None,
                        kind: RelKind::Derived { cols },
                    });
                }
            }
            TableFactor::Unpivot { table, value, columns, alias, .. } => {
                let mut inner = Scope::child(scope.parent);
                self.table_factor(table, &mut inner, env);
                let mut srcs = Srcs::new();
                self.expr(value, &inner, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                for c in columns {
                    self.expr(&c.expr, &inner, env, EdgeKind::Transform, Mode::Columns, &mut srcs);
                }
                self.opaque(alias.as_ref(), srcs, scope);
            }
            TableFactor::MatchRecognize { table, alias, .. } => {
                let before = scope.rels.len();
                self.table_factor(table, scope, env);
                if let Some(a) = alias
                    && scope.rels.len() == before + 1
                    && let Some(rel) = scope.rels.last_mut()
                {
                    rel.alias = Some(key(&ident(&a.name)));
                }
            }
            TableFactor::SemanticView { name, alias, .. } => {
                self.add_table(name, alias.as_ref(), None, scope, env);
            }
            TableFactor::UnpivotExpr { expression, .. } => {
                self.expr_tables(expression, scope, env);
            }
        }
        self.leave();
    }

    fn opaque(&mut self, alias: Option<&TableAlias>, srcs: Srcs, scope: &mut Scope<'_>) {
        let (alias_key, cols) = match alias {
            Some(a) => (Some(key(&ident(&a.name))), a.columns.iter().map(|c| key(&ident(&c.name))).collect()),
            None => (None, Vec::new()),
        };
        scope.rels.push(Rel { alias: alias_key, table: None, kind: RelKind::Opaque { cols, srcs } });
    }

    /// Appends the columns `*` (all relations) or `rel.*` stands for.
    fn expand_star(&mut self, rels: &[Rel], only: Option<usize>, out: &mut Vec<OutCol>) {
        for (i, rel) in rels.iter().enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            match &rel.kind {
                RelKind::Table { id, cols: Some(cols) } => {
                    for c in cols {
                        let name: Rc<str> = Rc::from(c.as_str());
                        out.push(OutCol::named(name.clone(), vec![(Src::Col(*id, name), EdgeKind::Identity)]));
                    }
                }
                RelKind::Table { id, cols: None } => out.push(OutCol {
                    name: self.ctx.star(),
                    named: true,
                    star: true,
                    srcs: vec![(Src::Col(*id, self.ctx.star()), EdgeKind::Identity)],
                }),
                RelKind::Derived { cols } => out.extend(cols.iter().cloned()),
                RelKind::Opaque { cols, srcs } => {
                    for c in cols {
                        let srcs = srcs.iter().map(|(s, k)| (s.clone(), (*k).max(EdgeKind::Transform))).collect();
                        out.push(OutCol::named(Rc::from(c.as_str()), srcs));
                    }
                }
            }
        }
    }

    // -------------------------------------------------------------- columns

    /// Resolves `col` within one relation.
    fn column_in_rel(&self, rel: &Rel, col: &str, kind: EdgeKind, out: &mut Srcs) -> bool {
        match &rel.kind {
            RelKind::Table { id, .. } => {
                add_src(out, Src::Col(*id, Rc::from(col)), kind);
                true
            }
            RelKind::Derived { cols } => {
                if col == "*" {
                    for c in cols.iter() {
                        for (s, k) in &c.srcs {
                            add_src(out, s.clone(), kind.then(*k));
                        }
                    }
                    return true;
                }
                if let Some(c) = cols.iter().find(|c| c.named && !c.star && c.name.eq_ignore_ascii_case(col)) {
                    for (s, k) in &c.srcs {
                        add_src(out, s.clone(), kind.then(*k));
                    }
                    return true;
                }
                let mut found = false;
                for c in cols.iter().filter(|c| c.star) {
                    for (s, k) in &c.srcs {
                        let s = match s {
                            Src::Col(t, _) => Src::Col(*t, Rc::from(col)),
                            Src::Bare(_) => Src::Bare(Rc::from(col)),
                        };
                        add_src(out, s, kind.then(*k));
                        found = true;
                    }
                }
                found
            }
            RelKind::Opaque { srcs, .. } => {
                for (s, k) in srcs {
                    add_src(out, s.clone(), kind.then(*k).max(EdgeKind::Transform));
                }
                true
            }
        }
    }

    /// Whether a relation is known to have `col` (true), known not to (false), or may have it.
    fn rel_knows(&self, rel: &Rel, col: &str) -> Option<bool> {
        match &rel.kind {
            RelKind::Table { cols: Some(cols), .. } => Some(cols.iter().any(|c| c.eq_ignore_ascii_case(col))),
            RelKind::Table { cols: None, .. } => None,
            RelKind::Derived { cols } => {
                if cols.iter().any(|c| c.named && !c.star && c.name.eq_ignore_ascii_case(col)) {
                    Some(true)
                } else if cols.iter().any(|c| c.star) {
                    None
                } else {
                    Some(false)
                }
            }
            RelKind::Opaque { cols, .. } => {
                if cols.iter().any(|c| c == col) || rel.alias.as_deref() == Some(col) {
                    Some(true)
                } else if cols.is_empty() {
                    None
                } else {
                    Some(false)
                }
            }
        }
    }

    fn resolve_unqualified(&self, col: &str, scope: &Scope<'_>, kind: EdgeKind, out: &mut Srcs) {
        let mut current = Some(scope);
        while let Some(sc) = current {
            let lk = col.to_lowercase();
            let known: Vec<&Rel> = sc.rels.iter().filter(|r| self.rel_knows(r, &lk) == Some(true)).collect();
            if known.len() == 1 || (known.len() > 1 && sc.using.contains(&lk)) {
                for r in known {
                    self.column_in_rel(r, col, kind, out);
                }
                return;
            }
            if known.len() > 1 {
                // Ambiguous: keep the first relation that has it (SQL would reject it anyway).
                self.column_in_rel(known[0], col, kind, out);
                return;
            }
            if let Some((_, srcs)) = sc.lateral.iter().rev().find(|(n, _)| *n == lk) {
                for (s, k) in srcs {
                    add_src(out, s.clone(), kind.then(*k));
                }
                return;
            }
            let open: Vec<&Rel> = sc.rels.iter().filter(|r| self.rel_knows(r, &lk).is_none()).collect();
            if open.len() == 1 {
                self.column_in_rel(open[0], col, kind, out);
                return;
            }
            if open.len() > 1 {
                add_src(out, Src::Bare(Rc::from(col)), kind);
                return;
            }
            current = sc.parent;
        }
        add_src(out, Src::Bare(Rc::from(col)), kind);
    }

    fn resolve_qualified(
        &mut self,
        qualifier: &[String],
        col: &str,
        scope: &Scope<'_>,
        out: &mut Srcs,
        kind: EdgeKind,
    ) {
        let mut current = Some(scope);
        while let Some(sc) = current {
            if let Some(i) = find_rel_index(&sc.rels, qualifier) {
                let rel = &sc.rels[i];
                if !self.column_in_rel(rel, col, kind, out) {
                    add_src(out, Src::Bare(Rc::from(col)), kind);
                }
                return;
            }
            current = sc.parent;
        }
        // Not a relation: maybe a struct field access on a column (`col.field`).
        if qualifier.len() == 1 {
            let mut tmp = Srcs::new();
            self.resolve_unqualified(&qualifier[0], scope, kind.max(EdgeKind::Transform), &mut tmp);
            if tmp.iter().any(|(s, _)| matches!(s, Src::Col(..))) {
                out.extend(tmp);
                return;
            }
        }
        let t = self.ctx.namespace.complete(TableName::new(qualifier.to_vec()));
        let id = self.ctx.intern(t);
        add_src(out, Src::Col(id, Rc::from(col)), kind);
    }

    // -------------------------------------------------------------- expressions

    fn expr_tables<'f, 'a>(&mut self, e: &'a Expr, scope: &Scope<'_>, env: CteEnv<'f, 'a>) {
        let mut sink = Srcs::new();
        self.expr(e, scope, env, EdgeKind::Transform, Mode::Tables, &mut sink);
    }

    fn function_arg<'f, 'a>(
        &mut self,
        a: &'a FunctionArg,
        scope: &Scope<'_>,
        env: CteEnv<'f, 'a>,
        kind: EdgeKind,
        mode: Mode,
        out: &mut Srcs,
    ) {
        let arg = match a {
            FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => arg,
            FunctionArg::Unnamed(arg) => arg,
        };
        match arg {
            FunctionArgExpr::Expr(e) => self.expr(e, scope, env, kind, mode, out),
            FunctionArgExpr::QualifiedWildcard(name) if mode == Mode::Columns => {
                let q: Vec<String> = name
                    .0
                    .iter()
                    .filter_map(|p| match p {
                        ObjectNamePart::Identifier(id) => Some(ident(id)),
                        ObjectNamePart::Function(_) => None,
                    })
                    .collect();
                self.resolve_qualified(&q, "*", scope, out, kind);
            }
            FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) if mode == Mode::Columns => {
                // COUNT(*): the whole row of the only relation.
                if scope.rels.len() == 1
                    && let RelKind::Table { id, .. } = &scope.rels[0].kind
                {
                    add_src(out, Src::Col(*id, self.ctx.star()), kind);
                }
            }
            _ => {}
        }
    }

    fn function<'f, 'a>(
        &mut self,
        f: &'a Function,
        scope: &Scope<'_>,
        env: CteEnv<'f, 'a>,
        kind: EdgeKind,
        mode: Mode,
        out: &mut Srcs,
    ) {
        let kind = if is_aggregate(f) { EdgeKind::Aggregate.max(kind) } else { kind.max(EdgeKind::Transform) };
        for args in [&f.parameters, &f.args] {
            match args {
                FunctionArguments::None => {}
                FunctionArguments::Subquery(q) => {
                    self.subquery_value(q, scope, env, kind, mode, out);
                }
                FunctionArguments::List(list) => {
                    for a in &list.args {
                        self.function_arg(a, scope, env, kind, mode, out);
                    }
                    for c in &list.clauses {
                        use sqlparser::ast::FunctionArgumentClause as C;
                        match c {
                            C::OrderBy(obs) => {
                                for ob in obs {
                                    self.expr(&ob.expr, scope, env, kind, mode, out);
                                }
                            }
                            C::Having(h) => self.expr(&h.1, scope, env, kind, mode, out),
                            _ => {}
                        }
                    }
                }
            }
        }
        for ob in &f.within_group {
            self.expr(&ob.expr, scope, env, kind, mode, out);
        }
        if let Some(filter) = &f.filter {
            self.expr(filter, scope, env, kind, Mode::Tables, out);
        }
        if let Some(WindowType::WindowSpec(spec)) = &f.over {
            let wk = kind.max(EdgeKind::Transform);
            for e in &spec.partition_by {
                self.expr(e, scope, env, wk, mode, out);
            }
            for ob in &spec.order_by {
                self.expr(&ob.expr, scope, env, wk, mode, out);
            }
        }
    }

    fn subquery_value<'f, 'a>(
        &mut self,
        q: &'a Query,
        scope: &Scope<'_>,
        env: CteEnv<'f, 'a>,
        kind: EdgeKind,
        mode: Mode,
        out: &mut Srcs,
    ) {
        let cols = self.query(q, Some(scope), env, false);
        if mode == Mode::Columns {
            for c in cols {
                for (s, k) in c.srcs {
                    add_src(out, s, kind.max(EdgeKind::Transform).then(k));
                }
            }
        }
    }

    fn expr<'f, 'a>(
        &mut self,
        e: &'a Expr,
        scope: &Scope<'_>,
        env: CteEnv<'f, 'a>,
        kind: EdgeKind,
        mode: Mode,
        out: &mut Srcs,
    ) {
        if !self.enter() {
            return;
        }
        let t = kind.max(EdgeKind::Transform);
        match e {
            Expr::Identifier(id) => {
                if mode == Mode::Columns && !id.value.starts_with('@') {
                    let name = ident(id);
                    self.resolve_unqualified(&name, scope, kind, out);
                }
            }
            Expr::CompoundIdentifier(ids) => {
                if mode == Mode::Columns && !ids.is_empty() {
                    let parts: Vec<String> = ids.iter().map(ident).collect();
                    let (q, col) = parts.split_at(parts.len() - 1);
                    if q.is_empty() {
                        self.resolve_unqualified(&col[0], scope, kind, out);
                    } else {
                        self.resolve_qualified(q, &col[0], scope, out, kind);
                    }
                }
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                self.expr(root, scope, env, t, mode, out);
                for a in access_chain {
                    match a {
                        sqlparser::ast::AccessExpr::Dot(e) => self.expr(e, scope, env, t, Mode::Tables, out),
                        sqlparser::ast::AccessExpr::Subscript(s) => match s {
                            sqlparser::ast::Subscript::Index { index } => self.expr(index, scope, env, t, mode, out),
                            sqlparser::ast::Subscript::Slice { lower_bound, upper_bound, stride } => {
                                for x in [lower_bound, upper_bound, stride].into_iter().flatten() {
                                    self.expr(x, scope, env, t, mode, out);
                                }
                            }
                        },
                    }
                }
            }
            Expr::JsonAccess { value, .. } => self.expr(value, scope, env, t, mode, out),
            Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::UnaryOp { expr: x, .. }
            | Expr::Ceil { expr: x, .. }
            | Expr::Floor { expr: x, .. }
            | Expr::Collate { expr: x, .. }
            | Expr::Extract { expr: x, .. }
            | Expr::OuterJoin(x)
            | Expr::Prior(x)
            | Expr::Prefixed { value: x, .. }
            | Expr::Named { expr: x, .. }
            | Expr::IsJson { expr: x, .. }
            | Expr::IsNormalized { expr: x, .. } => self.expr(x, scope, env, t, mode, out),
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.expr(a, scope, env, t, mode, out);
                self.expr(b, scope, env, t, mode, out);
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                match target {
                    sqlparser::ast::InTarget::List(list) => {
                        for x in list {
                            self.expr(x, scope, env, t, mode, out);
                        }
                    }
                    sqlparser::ast::InTarget::Subquery(q) => self.subquery_value(q, scope, env, t, mode, out),
                    sqlparser::ast::InTarget::Unnest(x) => self.expr(x, scope, env, t, mode, out),
                    sqlparser::ast::InTarget::Table { name, .. } => {
                        let mut tmp = Scope::child(Some(scope));
                        self.add_table(name, None, None, &mut tmp, env);
                    }
                }
            }
            Expr::Between { expr, low, high, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                self.expr(low, scope, env, t, mode, out);
                self.expr(high, scope, env, t, mode, out);
            }
            Expr::BinaryOp { left, right, .. } | Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                self.expr(left, scope, env, t, mode, out);
                self.expr(right, scope, env, t, mode, out);
            }
            Expr::Like { expr, pattern, escape_char, .. }
            | Expr::ILike { expr, pattern, escape_char, .. }
            | Expr::SimilarTo { expr, pattern, escape_char, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                self.expr(pattern, scope, env, t, mode, out);
                if let Some(x) = escape_char {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::RLike { expr, pattern, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                self.expr(pattern, scope, env, t, mode, out);
            }
            Expr::Convert { expr, styles, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                for x in styles {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Cast { expr, .. } => self.expr(expr, scope, env, t, mode, out),
            Expr::AtTimeZone { timestamp, time_zone } => {
                self.expr(timestamp, scope, env, t, mode, out);
                self.expr(time_zone, scope, env, t, mode, out);
            }
            Expr::Position { expr, r#in } => {
                self.expr(expr, scope, env, t, mode, out);
                self.expr(r#in, scope, env, t, mode, out);
            }
            Expr::Substring { expr, substring_from, substring_for, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                for x in [substring_from, substring_for].into_iter().flatten() {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Trim { expr, trim_what, trim_characters, .. } => {
                self.expr(expr, scope, env, t, mode, out);
                if let Some(x) = trim_what {
                    self.expr(x, scope, env, t, mode, out);
                }
                for x in trim_characters.iter().flatten() {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
                self.expr(expr, scope, env, t, mode, out);
                self.expr(overlay_what, scope, env, t, mode, out);
                self.expr(overlay_from, scope, env, t, mode, out);
                if let Some(x) = overlay_for {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Nested(x) => self.expr(x, scope, env, kind, mode, out),
            Expr::Value(_) | Expr::TypedString(_) | Expr::MatchAgainst { .. } => {}
            Expr::Function(f) => {
                if is_swap_partitions(f) {
                    // Handled at statement level.
                } else {
                    self.function(f, scope, env, kind, mode, out);
                }
            }
            Expr::Case { operand, conditions, else_result, .. } => {
                if let Some(x) = operand {
                    self.expr(x, scope, env, t, mode, out);
                }
                for c in conditions {
                    self.expr(&c.condition, scope, env, t, mode, out);
                    self.expr(&c.result, scope, env, t, mode, out);
                }
                if let Some(x) = else_result {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Exists { subquery, .. } => {
                self.query(subquery, Some(scope), env, false);
            }
            Expr::Subquery(q) => self.subquery_value(q, scope, env, kind, mode, out),
            Expr::GroupingSets(sets) | Expr::Cube(sets) | Expr::Rollup(sets) => {
                for set in sets {
                    for x in set {
                        self.expr(x, scope, env, t, mode, out);
                    }
                }
            }
            Expr::Tuple(xs) => {
                for x in xs {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Struct { values, .. } => {
                for x in values {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Dictionary(fields) => {
                for f in fields {
                    self.expr(&f.value, scope, env, t, mode, out);
                }
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    self.expr(&entry.key, scope, env, t, mode, out);
                    self.expr(&entry.value, scope, env, t, mode, out);
                }
            }
            Expr::Array(a) => {
                for x in &a.elem {
                    self.expr(x, scope, env, t, mode, out);
                }
            }
            Expr::Interval(i) => self.expr(&i.value, scope, env, t, mode, out),
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => {}
            Expr::Lambda(l) => {
                // Lambda parameters shadow columns: only collect tables from the body.
                self.expr(&l.body, scope, env, t, Mode::Tables, out);
            }
            Expr::MemberOf(m) => {
                self.expr(&m.value, scope, env, t, mode, out);
                self.expr(&m.array, scope, env, t, mode, out);
            }
        }
        self.leave();
    }
}

/// Name of an unnamed output expression: its SQL text, capped so pathological
/// expressions do not make pathological column names.
fn expression_name(e: &Expr) -> String {
    const MAX: usize = 512;
    let mut text = e.to_string();
    if text.len() > MAX {
        let mut cut = MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// `swap_partitions_between_tables('staging', ..., 'target')` (Vertica) moves data.
pub fn is_swap_partitions(f: &Function) -> bool {
    matches!(f.name.0.last(), Some(ObjectNamePart::Identifier(id))
        if id.value.eq_ignore_ascii_case("swap_partitions_between_tables"))
}

/// Name a select item gets without an alias: the column for a column reference (also
/// through `col::type`, as peers do), none for other expressions.
fn implicit_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(id) => Some(ident(id)),
        Expr::CompoundIdentifier(ids) => ids.last().map(ident),
        Expr::Cast { kind: CastKind::DoubleColon, expr, .. } => implicit_name(expr),
        Expr::Nested(x) => match x.as_ref() {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => implicit_name(x),
            _ => None,
        },
        _ => None,
    }
}

fn find_rel_index(rels: &[Rel], qualifier: &[String]) -> Option<usize> {
    if qualifier.len() == 1 {
        let q = key(&qualifier[0]);
        if let Some(i) = rels.iter().position(|r| r.alias.as_deref() == Some(q.as_str())) {
            return Some(i);
        }
    }
    let qt = TableName::new(qualifier.to_vec());
    rels.iter().position(|r| r.table.as_ref().is_some_and(|t| t.parts.len() >= qt.parts.len() && t.suffix_matches(&qt)))
}

fn rename_columns(cols: Rc<Vec<OutCol>>, alias: Option<&TableAlias>) -> Rc<Vec<OutCol>> {
    match alias {
        Some(a) if !a.columns.is_empty() => {
            let mut v = (*cols).clone();
            for (c, name) in v.iter_mut().zip(&a.columns) {
                c.name = Rc::from(ident(&name.name));
                c.named = true;
                c.star = false;
            }
            Rc::new(v)
        }
        _ => cols,
    }
}

/// Combines the branches of a set operation column by column.
fn merge_positional(left: &mut Vec<OutCol>, right: Vec<OutCol>) {
    let n = left.len();
    for (i, r) in right.into_iter().enumerate() {
        if i < n {
            for (s, k) in r.srcs {
                add_src(&mut left[i].srcs, s, k);
            }
            if !left[i].named && r.named {
                left[i].name = r.name;
                left[i].named = true;
            }
        } else {
            left.push(r);
        }
    }
}

fn apply_wildcard_options<'f, 'a>(
    an: &mut Analyzer<'_>,
    scope: &Scope<'_>,
    env: CteEnv<'f, 'a>,
    opts: &'a WildcardAdditionalOptions,
    cols: &mut Vec<OutCol>,
) {
    let mut drop: Vec<String> = Vec::new();
    if let Some(ex) = &opts.opt_except {
        drop.push(key(&ident(&ex.first_element)));
        drop.extend(ex.additional_elements.iter().map(|i| key(&ident(i))));
    }
    if let Some(ex) = &opts.opt_exclude {
        let names: Vec<&ObjectName> = match ex {
            sqlparser::ast::ExcludeSelectItem::Single(n) => vec![n],
            sqlparser::ast::ExcludeSelectItem::Multiple(ns) => ns.iter().collect(),
        };
        for n in names {
            if let Some(ObjectNamePart::Identifier(id)) = n.0.last() {
                drop.push(key(&ident(id)));
            }
        }
    }
    if !drop.is_empty() {
        cols.retain(|c| c.star || !drop.iter().any(|d| c.name.eq_ignore_ascii_case(d)));
    }
    if let Some(rename) = &opts.opt_rename {
        let pairs: Vec<&sqlparser::ast::IdentWithAlias> = match rename {
            sqlparser::ast::RenameSelectItem::Single(p) => vec![p],
            sqlparser::ast::RenameSelectItem::Multiple(ps) => ps.iter().collect(),
        };
        for p in pairs {
            let from = ident(&p.ident);
            if let Some(c) = cols.iter_mut().find(|c| !c.star && c.name.eq_ignore_ascii_case(&from)) {
                c.name = Rc::from(ident(&p.alias));
            }
        }
    }
    if opts.opt_ilike.is_some() {
        // Which columns match the pattern is decided at run time: claim none.
        cols.clear();
    }
    if let Some(rep) = &opts.opt_replace {
        for item in &rep.items {
            let name = key(&ident(&item.column_name));
            let mut srcs = Srcs::new();
            an.expr(&item.expr, scope, env, EdgeKind::Identity, Mode::Columns, &mut srcs);
            if let Some(c) = cols.iter_mut().find(|c| !c.star && c.name.eq_ignore_ascii_case(&name)) {
                c.srcs = srcs;
            }
        }
    }
}
