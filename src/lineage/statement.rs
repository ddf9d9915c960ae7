//! Statement analysis: what one parsed statement reads, writes and how its written
//! columns derive from source columns, independent of the view asked for.

use super::model::EdgeKind;
use super::names::{self, Namespace, TableName, ident, key};
use super::query::{Analyzer, CteEnv, OutCol, Scope, Src, Srcs, TableId};
use sqlparser::ast::{
    AlterTableOperation, AssignmentTarget, ConditionalStatements, CopySource, CopyTarget, CreateProcedureBody, Delete,
    Expr, FromTable, Insert, Merge, MergeAction, MergeInsertKind, MergeUpdateKind, ObjectName, ObjectNamePart, Query,
    RenameTableNameKind, Select, SelectItem, SetExpr, Statement, TableFactor, TableObject, TableWithJoins, Update,
    UpdateTableFromKind, Use,
};
use std::rc::Rc;

/// How a statement changes a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// New content replaces the old (CREATE TABLE/VIEW, CTAS, INSERT OVERWRITE, SELECT INTO, COPY).
    Replace,
    /// Rows are added (INSERT INTO).
    Append,
    /// Rows are changed in place (UPDATE, MERGE).
    Modify,
    /// Rows are removed (DELETE, TRUNCATE): no data flows.
    Remove,
    /// Structure changes (ALTER ...): no data flows.
    Alter,
    Drop,
    /// `ALTER TABLE a RENAME TO b`, `RENAME TABLE a TO b`: the table is `a`.
    RenameTo(TableId),
    /// `ALTER TABLE a SWAP WITH b`: the table is `a`.
    SwapWith(TableId),
}

#[derive(Debug, Clone)]
pub struct Write {
    pub table: TableId,
    pub mode: WriteMode,
    /// Tables whose data flows into this write.
    pub reads: Vec<TableId>,
}

/// A column edge of one statement: `src` flows into `table.column`.
#[derive(Debug, Clone)]
pub struct Edge {
    pub src: Src,
    pub table: TableId,
    pub column: Rc<str>,
    pub kind: EdgeKind,
}

/// Everything one statement does, before any view is applied.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub kind: String,
    /// Tables read, in order of first appearance (CTE names excluded).
    pub reads: Vec<TableId>,
    pub writes: Vec<Write>,
    pub edges: Vec<Edge>,
    /// Output columns of a plain query (effects view reports them by bare name).
    pub outputs: Vec<OutCol>,
    /// Whether the statement moves or returns data (flow view considers it).
    pub flow: bool,
    /// `USE` / `SET search_path`: the namespace for later statements.
    pub namespace: Option<Namespace>,
    /// Columns set by UPDATE/MERGE, including those set to constants (no edge).
    pub assigned: Vec<(TableId, Rc<str>)>,
}

impl Facts {
    fn new(kind: &str) -> Self {
        Facts { kind: kind.to_string(), ..Facts::default() }
    }

    fn write(&mut self, table: TableId, mode: WriteMode, reads: Vec<TableId>) {
        self.writes.push(Write { table, mode, reads });
    }

    /// Adds another statement's facts (procedure bodies, recovered pieces).
    pub fn absorb(&mut self, other: Facts) {
        for r in other.reads {
            if !self.reads.contains(&r) {
                self.reads.push(r);
            }
        }
        self.writes.extend(other.writes);
        self.edges.extend(other.edges);
        if self.outputs.is_empty() {
            self.outputs = other.outputs;
        }
        self.flow |= other.flow;
        self.assigned.extend(other.assigned);
        if other.namespace.is_some() {
            self.namespace = other.namespace;
        }
    }
}

fn last_ident(name: &ObjectName) -> Option<String> {
    match name.0.last()? {
        ObjectNamePart::Identifier(id) => Some(ident(id)),
        ObjectNamePart::Function(_) => None,
    }
}

fn string_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => v.value.clone().into_string(),
        Expr::Identifier(id) => Some(ident(id)),
        _ => None,
    }
}

/// Parses a statement nested in a string (Redshift `UNLOAD ('select ...')`).
pub type SubParser<'p> = &'p dyn Fn(&str) -> Vec<Statement>;

impl Analyzer<'_> {
    /// Analyses one statement. `sub` parses SQL held in string literals.
    pub fn statement(&mut self, stmt: &Statement, sub: SubParser<'_>) -> Facts {
        let mut facts = self.statement_in(stmt, CteEnv::default(), sub);
        let mut reads = std::mem::take(&mut self.reads.tables);
        for r in facts.reads.drain(..) {
            if !reads.contains(&r) {
                reads.push(r);
            }
        }
        facts.reads = reads;
        facts
    }

    fn statement_in<'f, 'a>(&mut self, stmt: &'a Statement, env: CteEnv<'f, 'a>, sub: SubParser<'_>) -> Facts {
        match stmt {
            Statement::Query(q) => self.query_statement(q, sub),
            Statement::Insert(ins) => self.insert(ins, env),
            Statement::Update(u) => self.update(u, env),
            Statement::Delete(d) => self.delete(d, env),
            Statement::Merge(m) => self.merge(m, env),
            Statement::Directory { path, source, .. } => {
                let mut f = Facts::new("INSERT OVERWRITE DIRECTORY");
                f.flow = true;
                self.query_with_env(source, env);
                let target = self.ctx.intern(TableName::path(path.clone()));
                let reads = self.reads.tables.clone();
                f.write(target, WriteMode::Replace, reads);
                f
            }
            Statement::CreateTable(ct) => {
                let mut f = Facts::new("CREATE TABLE");
                let Some(target) = self.ctx.table_ref(&ct.name) else {
                    return f;
                };
                f.flow = true;
                let declared: Vec<String> = ct.columns.iter().map(|c| ident(&c.name)).collect();
                if let Some(q) = &ct.query {
                    f.kind = "CREATE TABLE AS".into();
                    let outs = self.query_with_env(q, env);
                    let cols = if declared.is_empty() { None } else { Some(declared.clone()) };
                    let known = self.map_outputs(&mut f, target, cols, &[], outs);
                    if declared.is_empty() && !known.is_empty() {
                        self.ctx.catalog.insert(self.ctx.table(target).clone(), known);
                    }
                }
                let like = match &ct.like {
                    Some(sqlparser::ast::CreateTableLikeKind::Parenthesized(l))
                    | Some(sqlparser::ast::CreateTableLikeKind::Plain(l)) => Some(&l.name),
                    None => None,
                };
                for src in like.into_iter().chain(ct.clone.as_ref()) {
                    if let Some(id) = self.ctx.table_ref(src) {
                        self.reads.add(id);
                        add_edge(&mut f, Src::Col(id, self.ctx.star()), target, self.ctx.star(), EdgeKind::Identity);
                        if let Some(cols) = self.ctx.columns_of(id) {
                            self.ctx.catalog.insert(self.ctx.table(target).clone(), cols);
                        }
                    }
                }
                if !declared.is_empty() {
                    self.ctx.catalog.insert(self.ctx.table(target).clone(), declared.iter().map(|c| key(c)).collect());
                }
                let reads = self.reads.tables.clone();
                f.write(target, WriteMode::Replace, reads);
                f
            }
            Statement::CreateView(cv) => {
                let mut f = Facts::new(if cv.materialized { "CREATE MATERIALIZED VIEW" } else { "CREATE VIEW" });
                let Some(target) = self.ctx.table_ref(&cv.name) else {
                    return f;
                };
                f.flow = true;
                let outs = self.query_with_env(&cv.query, env);
                let declared: Vec<String> = cv.columns.iter().map(|c| ident(&c.name)).collect();
                let cols = if declared.is_empty() { None } else { Some(declared.clone()) };
                let known = self.map_outputs(&mut f, target, cols, &[], outs);
                let names = if declared.is_empty() { known } else { declared };
                if !names.is_empty() {
                    self.ctx.catalog.insert(self.ctx.table(target).clone(), names);
                }
                let reads = self.reads.tables.clone();
                f.write(target, WriteMode::Replace, reads);
                f
            }
            Statement::Copy { source, to, target, .. } => {
                let mut f = Facts::new("COPY");
                f.flow = true;
                let table = match source {
                    CopySource::Table { table_name, .. } => self.ctx.table_ref(table_name),
                    CopySource::Query(q) => {
                        self.query_with_env(q, env);
                        None
                    }
                };
                let file = match target {
                    CopyTarget::File { filename } => Some(self.ctx.intern(TableName::path(filename.clone()))),
                    _ => None,
                };
                if *to {
                    if let Some(t) = table {
                        self.reads.add(t);
                    }
                    if let Some(p) = file {
                        let reads = self.reads.tables.clone();
                        f.write(p, WriteMode::Replace, reads);
                    }
                } else if let Some(t) = table {
                    if let Some(p) = file {
                        self.reads.add(p);
                    }
                    let reads = self.reads.tables.clone();
                    f.write(t, WriteMode::Append, reads);
                }
                f
            }
            Statement::CopyIntoSnowflake { into, from_obj, from_query, stage_params, .. } => {
                let mut f = Facts::new("COPY INTO");
                f.flow = true;
                if let Some(q) = from_query {
                    self.query_with_env(q, env);
                }
                if let Some(obj) = from_obj {
                    if let Some(id) = self.location_or_table(obj) {
                        self.reads.add(id);
                    }
                } else if let Some(url) = &stage_params.url {
                    let id = self.ctx.intern(TableName::path(url.clone()));
                    self.reads.add(id);
                }
                if let Some(t) = self.location_or_table(into) {
                    let reads = self.reads.tables.clone();
                    f.write(t, WriteMode::Append, reads);
                }
                f
            }
            Statement::Unload { query, query_text, to, .. } => {
                let mut f = Facts::new("UNLOAD");
                f.flow = true;
                if let Some(q) = query {
                    self.query_with_env(q, env);
                } else if let Some(text) = query_text {
                    for st in sub(text) {
                        let inner = self.statement_in(&st, env, sub);
                        for r in inner.reads {
                            self.reads.add(r);
                        }
                    }
                }
                let target = self.ctx.intern(TableName::path(to.value.clone()));
                let reads = self.reads.tables.clone();
                f.write(target, WriteMode::Replace, reads);
                f
            }
            Statement::AlterTable(at) => {
                let mut f = Facts::new("ALTER TABLE");
                let Some(table) = self.ctx.table_ref(&at.name) else {
                    return f;
                };
                let mut any = false;
                for op in &at.operations {
                    match op {
                        AlterTableOperation::RenameTable { table_name } => {
                            let new = match table_name {
                                RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
                            };
                            if let Some(to) = self.renamed_target(&at.name, new) {
                                f.write(table, WriteMode::RenameTo(to), Vec::new());
                                any = true;
                            }
                        }
                        AlterTableOperation::SwapWith { table_name } => {
                            if let Some(other) = self.ctx.table_ref(table_name) {
                                self.reads.add(other);
                                f.kind = "ALTER TABLE SWAP".into();
                                f.flow = true;
                                add_edge(
                                    &mut f,
                                    Src::Col(other, self.ctx.star()),
                                    table,
                                    self.ctx.star(),
                                    EdgeKind::Identity,
                                );
                                f.write(table, WriteMode::SwapWith(other), vec![other]);
                                any = true;
                            }
                        }
                        _ => {}
                    }
                }
                if !any {
                    f.write(table, WriteMode::Alter, Vec::new());
                }
                f
            }
            Statement::RenameTable(renames) => {
                let mut f = Facts::new("RENAME TABLE");
                for r in renames {
                    if let (Some(old), Some(new)) =
                        (self.ctx.table_ref(&r.old_name), self.renamed_target(&r.old_name, &r.new_name))
                    {
                        f.write(old, WriteMode::RenameTo(new), Vec::new());
                    }
                }
                f
            }
            Statement::Drop { object_type, names, .. } => {
                use sqlparser::ast::ObjectType as O;
                let mut f = Facts::new("DROP");
                if matches!(object_type, O::Table | O::View | O::MaterializedView) {
                    for n in names {
                        if let Some(id) = self.ctx.table_ref(n) {
                            f.write(id, WriteMode::Drop, Vec::new());
                            let t = self.ctx.table(id).clone();
                            self.ctx.catalog.remove(&t);
                        }
                    }
                }
                f
            }
            Statement::Truncate(t) => {
                let mut f = Facts::new("TRUNCATE");
                for target in &t.table_names {
                    if let Some(id) = self.ctx.table_ref(&target.name) {
                        f.write(id, WriteMode::Remove, Vec::new());
                    }
                }
                f
            }
            Statement::Use(u) => {
                let mut f = Facts::new("USE");
                let mut ns = self.ctx.namespace.clone();
                let parts = |n: &ObjectName| -> Vec<String> {
                    n.0.iter()
                        .filter_map(|p| match p {
                            ObjectNamePart::Identifier(id) => Some(ident(id)),
                            ObjectNamePart::Function(_) => None,
                        })
                        .collect()
                };
                match u {
                    Use::Catalog(n) | Use::Database(n) => {
                        ns.db = parts(n).pop();
                        ns.schema = None;
                    }
                    Use::Schema(n) | Use::Object(n) => {
                        let mut p = parts(n);
                        if p.len() >= 2 {
                            ns.schema = p.pop();
                            ns.db = p.pop();
                        } else if let Some(s) = p.pop() {
                            if s.eq_ignore_ascii_case("default") && matches!(u, Use::Object(_)) {
                                ns = Namespace::default();
                            } else {
                                ns.schema = Some(s);
                            }
                        }
                    }
                    Use::Default => ns = Namespace::default(),
                    _ => return f,
                }
                self.ctx.namespace = ns.clone();
                f.namespace = Some(ns);
                f
            }
            Statement::Set(sqlparser::ast::Set::SingleAssignment { variable, values, .. }) => {
                let mut f = Facts::new("SET");
                if last_ident(variable).is_some_and(|v| v == "search_path")
                    && let Some(first) = values.first().and_then(string_of)
                {
                    let first = first.split(',').next().unwrap_or("").trim().trim_matches('"').to_string();
                    if !first.is_empty() {
                        let mut ns = self.ctx.namespace.clone();
                        ns.schema = Some(first.to_lowercase());
                        self.ctx.namespace = ns.clone();
                        f.namespace = Some(ns);
                    }
                }
                f
            }
            Statement::CreateProcedure { body, .. } => {
                let mut f = Facts::new("CREATE PROCEDURE");
                match body {
                    CreateProcedureBody::As(cs) => self.conditional(cs, env, sub, &mut f),
                    CreateProcedureBody::BeginAtomic(b) => {
                        for s in &b.statements {
                            let inner = self.statement_in(s, env, sub);
                            f.absorb(inner);
                        }
                    }
                }
                f
            }
            Statement::If(stmt) => {
                let mut f = Facts::new("IF");
                for block in std::iter::once(&stmt.if_block).chain(&stmt.elseif_blocks).chain(stmt.else_block.as_ref())
                {
                    self.conditional(&block.conditional_statements, env, sub, &mut f);
                }
                f
            }
            Statement::While(w) => {
                let mut f = Facts::new("WHILE");
                self.conditional(&w.while_block.conditional_statements, env, sub, &mut f);
                f
            }
            Statement::Case(c) => {
                let mut f = Facts::new("CASE");
                for block in c.when_blocks.iter().chain(c.else_block.as_ref()) {
                    self.conditional(&block.conditional_statements, env, sub, &mut f);
                }
                f
            }
            Statement::ExportData(export) => {
                // BigQuery `EXPORT DATA OPTIONS (uri = '...') AS SELECT ...`.
                let mut f = Facts::new("EXPORT DATA");
                f.flow = true;
                self.query_with_env(&export.query, env);
                let uri = export.options.iter().find_map(|o| match o {
                    sqlparser::ast::SqlOption::KeyValue { key, value }
                        if last_ident(key).is_some_and(|k| k == "uri") =>
                    {
                        string_of(value)
                    }
                    _ => None,
                });
                if let Some(uri) = uri {
                    let target = self.ctx.intern(TableName::path(uri));
                    let reads = self.reads.tables.clone();
                    f.write(target, WriteMode::Replace, reads);
                }
                f
            }
            other => Facts::new(&statement_kind(other)),
        }
    }

    fn conditional<'f, 'a>(
        &mut self,
        cs: &'a ConditionalStatements,
        env: CteEnv<'f, 'a>,
        sub: SubParser<'_>,
        f: &mut Facts,
    ) {
        let stmts = match cs {
            ConditionalStatements::Sequence { statements } => statements,
            ConditionalStatements::BeginEnd(b) => &b.statements,
        };
        for s in stmts {
            let outer_reads = std::mem::take(&mut self.reads.tables);
            let mut inner = self.statement_in(s, env, sub);
            let inner_reads = std::mem::replace(&mut self.reads.tables, outer_reads);
            for r in inner_reads {
                if !inner.reads.contains(&r) {
                    inner.reads.push(r);
                }
            }
            f.absorb(inner);
        }
    }

    /// New name of a rename; a bare new name stays in the old name's schema.
    fn renamed_target(&mut self, old: &ObjectName, new: &ObjectName) -> Option<TableId> {
        let NameRead::Table(mut n) = names::object_name(new) else {
            return None;
        };
        if n.parts.len() == 1
            && let NameRead::Table(o) = names::object_name(old)
            && o.parts.len() > 1
        {
            let mut parts = o.parts[..o.parts.len() - 1].to_vec();
            parts.push(n.parts.remove(0));
            n = TableName::new(parts);
        }
        let n = self.ctx.namespace.complete(n);
        Some(self.ctx.intern(n))
    }

    fn location_or_table(&mut self, name: &ObjectName) -> Option<TableId> {
        if let Some(ObjectNamePart::Identifier(first)) = name.0.first()
            && (first.value.starts_with('@')
                || matches!(first.quote_style, Some('\'') | Some('"')) && first.value.contains(['/', ':']))
        {
            let text = if first.value.starts_with('@') { name.to_string() } else { first.value.clone() };
            return Some(self.ctx.intern(TableName::path(text)));
        }
        self.ctx.table_ref(name)
    }

    fn query_with_env<'f, 'a>(&mut self, q: &'a Query, env: CteEnv<'f, 'a>) -> Vec<OutCol> {
        self.query_env(q, env, true)
    }

    fn query_statement(&mut self, q: &Query, sub: SubParser<'_>) -> Facts {
        // WITH ... INSERT/UPDATE/DELETE/MERGE: the DML sees the CTEs.
        if let SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) | SetExpr::Merge(s) = q.body.as_ref() {
            return self.with_ctes(q, |an, env| an.statement_in(s, env, sub));
        }
        // Unnamed expressions need their SQL text as a name only when a table is written.
        let into = first_select(&q.body).is_some_and(|s| s.into.is_some());
        let outs = self.query_env(q, CteEnv::default(), into);
        let mut f = Facts::new("SELECT");
        f.flow = true;
        if let Some(sel) = first_select(&q.body) {
            if let Some(into) = &sel.into {
                f.kind = "SELECT INTO".into();
                for t in &into.targets {
                    let name = match t {
                        Expr::Identifier(id) => Some(ObjectName::from(vec![id.clone()])),
                        Expr::CompoundIdentifier(ids) => Some(ObjectName::from(ids.clone())),
                        _ => None,
                    };
                    if let Some(id) = name.and_then(|n| self.ctx.table_ref(&n)) {
                        self.map_outputs(&mut f, id, None, &[], outs.clone());
                        let reads = self.reads.tables.clone();
                        f.write(id, WriteMode::Replace, reads);
                    }
                }
                return f;
            }
            self.swap_partitions(sel, &mut f);
        }
        f.outputs = outs;
        f
    }

    /// Vertica `SELECT swap_partitions_between_tables('staging', lo, hi, 'target')`.
    fn swap_partitions(&mut self, sel: &Select, f: &mut Facts) {
        for item in &sel.projection {
            let (SelectItem::UnnamedExpr(Expr::Function(func))
            | SelectItem::ExprWithAlias { expr: Expr::Function(func), .. }) = item
            else {
                continue;
            };
            if !super::query::is_swap_partitions(func) {
                continue;
            }
            let sqlparser::ast::FunctionArguments::List(list) = &func.args else {
                continue;
            };
            let strings: Vec<Option<String>> = list
                .args
                .iter()
                .map(|a| match a {
                    sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(e)) => string_of(e),
                    _ => None,
                })
                .collect();
            if let (Some(Some(src)), Some(Some(tgt))) = (strings.first(), strings.get(3)) {
                let s = self.ctx.namespace.complete(TableName::new(src.split('.').map(str::to_string).collect()));
                let t = self.ctx.namespace.complete(TableName::new(tgt.split('.').map(str::to_string).collect()));
                let s = self.ctx.intern(s);
                let t = self.ctx.intern(t);
                self.reads.add(s);
                f.kind = "SWAP PARTITIONS".into();
                f.write(t, WriteMode::Replace, vec![s]);
            }
        }
    }

    fn insert<'f, 'a>(&mut self, ins: &'a Insert, env: CteEnv<'f, 'a>) -> Facts {
        let mut f = Facts::new("INSERT");
        f.flow = true;
        let target = match &ins.table {
            TableObject::TableName(name) => self.ctx.table_ref(name),
            TableObject::TableFunction(_) => None,
            TableObject::TableQuery(q) => {
                self.query_with_env(q, env);
                None
            }
        };
        let cols: Vec<String> = ins.columns.iter().filter_map(last_ident).collect();
        let static_partitions: Vec<String> = ins
            .partitioned
            .iter()
            .flatten()
            .filter_map(|e| match e {
                Expr::BinaryOp { left, .. } => match left.as_ref() {
                    Expr::Identifier(id) => Some(key(&ident(id))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if let Some(src) = &ins.source {
            let outs = self.query_with_env(src, env);
            if let Some(t) = target {
                let explicit = if cols.is_empty() { None } else { Some(cols) };
                self.map_outputs(&mut f, t, explicit, &static_partitions, outs);
            }
        } else if let Some(t) = target {
            let scope = Scope::default();
            for a in &ins.assignments {
                if let AssignmentTarget::ColumnName(n) = &a.target
                    && let Some(col) = last_ident(n)
                {
                    let srcs = self.eval(&a.value, &scope, env);
                    for (s, k) in srcs {
                        add_edge(&mut f, s, t, Rc::from(col.as_str()), k);
                    }
                }
            }
        }
        if let Some(t) = target {
            let reads = self.reads.tables.clone();
            f.write(t, if ins.overwrite { WriteMode::Replace } else { WriteMode::Append }, reads);
        }
        // Snowflake `INSERT ALL|FIRST INTO t1 ... INTO t2 ... SELECT ...`.
        let clauses = ins
            .multi_table_into_clauses
            .iter()
            .chain(ins.multi_table_when_clauses.iter().flat_map(|w| &w.into_clauses))
            .chain(ins.multi_table_else_clause.iter().flatten());
        for clause in clauses {
            if let Some(t) = self.ctx.table_ref(&clause.table_name) {
                let reads = self.reads.tables.clone();
                f.write(t, WriteMode::Append, reads);
            }
        }
        f
    }

    fn update<'f, 'a>(&mut self, u: &'a Update, env: CteEnv<'f, 'a>) -> Facts {
        let mut f = Facts::new("UPDATE");
        f.flow = true;
        let mut scope = Scope::default();
        let from: &[TableWithJoins] = match &u.from {
            Some(UpdateTableFromKind::BeforeSet(v)) | Some(UpdateTableFromKind::AfterSet(v)) => v,
            None => &[],
        };
        for twj in from {
            self.add_from(twj, &mut scope, env);
        }
        // `UPDATE alias SET ... FROM t AS alias` (T-SQL): the target is the aliased table.
        let mut target = None;
        if let TableFactor::Table { name, args: None, alias: None, .. } = &u.table.relation
            && let [ObjectNamePart::Identifier(id)] = name.0.as_slice()
        {
            target = self.rel_table_by_alias(&scope, &key(&ident(id)));
        }
        if target.is_none() {
            let before = self.reads.tables.len();
            let mut tscope = Scope::default();
            self.add_factor(&u.table.relation, &mut tscope, env);
            target = self.first_table(&tscope);
            // The updated table is not a source of its own update.
            self.reads.tables.truncate(before);
            for j in &u.table.joins {
                self.add_join(j, &mut tscope, env);
            }
            self.merge_scopes(&mut scope, tscope);
        }
        for a in &u.assignments {
            self.assignment(&mut f, target, &a.target, &a.value, &scope, env);
        }
        if let Some(sel) = &u.selection {
            self.eval_tables(sel, &scope, env);
        }
        if let Some(t) = target {
            let reads: Vec<TableId> = self.reads.tables.iter().copied().filter(|r| *r != t).collect();
            f.write(t, WriteMode::Modify, reads);
        }
        f
    }

    fn assignment<'f, 'a>(
        &mut self,
        f: &mut Facts,
        target: Option<TableId>,
        lhs: &AssignmentTarget,
        value: &'a Expr,
        scope: &Scope<'_>,
        env: CteEnv<'f, 'a>,
    ) {
        let names: Vec<String> = match lhs {
            AssignmentTarget::ColumnName(n) => last_ident(n).into_iter().collect(),
            AssignmentTarget::Tuple(ns) => ns.iter().filter_map(last_ident).collect(),
        };
        let per_column: Vec<Srcs> = match (names.len(), value) {
            (n, Expr::Tuple(values)) if n > 1 && values.len() == n => {
                values.iter().map(|v| self.eval(v, scope, env)).collect()
            }
            (n, Expr::Subquery(q)) if n > 1 => {
                let outs = self.query_in_scope(q, scope, env);
                outs.into_iter().map(|o| o.srcs).collect()
            }
            _ => {
                let srcs = self.eval(value, scope, env);
                vec![srcs; names.len()]
            }
        };
        if let Some(t) = target {
            for name in &names {
                f.assigned.push((t, Rc::from(name.as_str())));
            }
            for (name, srcs) in names.iter().zip(per_column) {
                for (s, k) in srcs {
                    add_edge(f, s, t, Rc::from(name.as_str()), k);
                }
            }
        }
    }

    fn delete<'f, 'a>(&mut self, d: &'a Delete, env: CteEnv<'f, 'a>) -> Facts {
        let mut f = Facts::new("DELETE");
        let mut scope = Scope::default();
        let from = match &d.from {
            FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
        };
        let mut targets: Vec<TableId> = Vec::new();
        if d.tables.is_empty() {
            for (i, twj) in from.iter().enumerate() {
                if i == 0 {
                    let mut tscope = Scope::default();
                    let before = self.reads.tables.len();
                    self.add_factor(&twj.relation, &mut tscope, env);
                    targets.extend(self.first_table(&tscope));
                    self.reads.tables.truncate(before);
                    for j in &twj.joins {
                        self.add_join(j, &mut tscope, env);
                    }
                    self.merge_scopes(&mut scope, tscope);
                } else {
                    self.add_from(twj, &mut scope, env);
                }
            }
        } else {
            for twj in from {
                self.add_from(twj, &mut scope, env);
            }
            for name in &d.tables {
                let t = match name.0.as_slice() {
                    [ObjectNamePart::Identifier(id)] => self.rel_table_by_alias(&scope, &key(&ident(id))),
                    _ => None,
                };
                if let Some(t) = t.or_else(|| self.ctx.table_ref(name)) {
                    targets.push(t);
                }
            }
        }
        for twj in d.using.iter().flatten() {
            self.add_from(twj, &mut scope, env);
        }
        if let Some(sel) = &d.selection {
            self.eval_tables(sel, &scope, env);
        }
        let reads: Vec<TableId> = self.reads.tables.iter().copied().filter(|r| !targets.contains(r)).collect();
        self.reads.tables = reads.clone();
        for t in targets {
            f.write(t, WriteMode::Remove, reads.clone());
        }
        f
    }

    fn merge<'f, 'a>(&mut self, m: &'a Merge, env: CteEnv<'f, 'a>) -> Facts {
        let mut f = Facts::new("MERGE");
        f.flow = true;
        let mut scope = Scope::default();
        let before = self.reads.tables.len();
        self.add_factor(&m.table, &mut scope, env);
        let target = self.first_table(&scope);
        self.reads.tables.truncate(before);
        self.add_factor(&m.source, &mut scope, env);
        self.eval_tables(&m.on, &scope, env);
        let star = self.ctx.star();
        for clause in &m.clauses {
            if let Some(p) = &clause.predicate {
                self.eval_tables(p, &scope, env);
            }
            match &clause.action {
                MergeAction::Update(u) => match &u.kind {
                    MergeUpdateKind::Set(assignments) => {
                        for a in assignments {
                            self.assignment(&mut f, target, &a.target, &a.value, &scope, env);
                        }
                    }
                    MergeUpdateKind::Wildcard => {
                        if let Some(t) = target {
                            let srcs = self.source_star(&scope);
                            for (s, k) in srcs {
                                add_edge(&mut f, s, t, star.clone(), k);
                            }
                        }
                    }
                },
                MergeAction::Insert(ins) => {
                    let cols: Vec<String> = ins.columns.iter().filter_map(last_ident).collect();
                    match &ins.kind {
                        MergeInsertKind::Values(values) => {
                            for row in &values.rows {
                                for (i, v) in row.content.iter().enumerate() {
                                    let srcs = self.eval(v, &scope, env);
                                    if let (Some(t), Some(c)) = (target, cols.get(i)) {
                                        for (s, k) in srcs {
                                            add_edge(&mut f, s, t, Rc::from(c.as_str()), k);
                                        }
                                    }
                                }
                            }
                        }
                        MergeInsertKind::Row | MergeInsertKind::Wildcard => {
                            if let Some(t) = target {
                                let srcs = self.source_star(&scope);
                                for (s, k) in srcs {
                                    add_edge(&mut f, s, t, star.clone(), k);
                                }
                            }
                        }
                    }
                }
                MergeAction::Delete { .. } | MergeAction::DoNothing { .. } => {}
            }
        }
        if let Some(t) = target {
            let reads: Vec<TableId> = self.reads.tables.iter().copied().filter(|r| *r != t).collect();
            self.reads.tables = reads.clone();
            f.write(t, WriteMode::Modify, reads);
        }
        f
    }

    /// Maps a query's output columns onto a written table: by the explicit column list,
    /// else by the table's known columns (positionally), else by output names. Returns
    /// the written column names when they are all known.
    fn map_outputs(
        &mut self,
        f: &mut Facts,
        target: TableId,
        explicit: Option<Vec<String>>,
        static_partitions: &[String],
        outs: Vec<OutCol>,
    ) -> Vec<String> {
        let any_star = outs.iter().any(|o| o.star);
        let positional = match explicit {
            Some(cols) => Some(cols),
            None if !any_star => self.ctx.columns_of(target).map(|cols| {
                cols.into_iter()
                    .filter(|c| !static_partitions.iter().any(|p| p.eq_ignore_ascii_case(c)))
                    .collect::<Vec<_>>()
            }),
            None => None,
        };
        let mut names = Vec::with_capacity(outs.len());
        match positional {
            Some(cols) if !any_star && cols.len() >= outs.len() => {
                for (o, c) in outs.into_iter().zip(cols) {
                    let c: Rc<str> = Rc::from(c.as_str());
                    for (s, k) in o.srcs {
                        add_edge(f, s, target, c.clone(), k);
                    }
                    names.push(c.to_string());
                }
            }
            _ => {
                let mut complete = true;
                for o in outs {
                    if o.star || o.name.is_empty() {
                        complete = false;
                    }
                    if o.name.is_empty() {
                        continue;
                    }
                    if !o.star {
                        names.push(o.name.to_string());
                    }
                    let name = if o.named { key(&o.name).into() } else { o.name.clone() };
                    for (s, k) in o.srcs {
                        add_edge(f, s, target, name.clone(), k);
                    }
                }
                if !complete {
                    names.clear();
                }
            }
        }
        names
    }
}

fn add_edge(f: &mut Facts, src: Src, table: TableId, column: Rc<str>, kind: EdgeKind) {
    if let Some(e) = f.edges.iter_mut().find(|e| e.src == src && e.table == table && *e.column == *column) {
        e.kind = e.kind.max(kind);
        return;
    }
    f.edges.push(Edge { src, table, column, kind });
}

use super::names::NameRead;

fn first_select(body: &SetExpr) -> Option<&Select> {
    match body {
        SetExpr::Select(s) => Some(s),
        SetExpr::Query(q) => first_select(&q.body),
        SetExpr::SetOperation { left, .. } => first_select(left),
        _ => None,
    }
}

/// Upper-case statement kind for statements without lineage (`SHOW`, `CREATE FUNCTION` ...).
pub fn statement_kind(stmt: &Statement) -> String {
    let text = stmt.to_string();
    let mut words = text.split_whitespace().map(|w| w.to_ascii_uppercase());
    let first = words.next().unwrap_or_default();
    if matches!(first.as_str(), "CREATE" | "DROP" | "ALTER" | "SHOW" | "GRANT" | "REVOKE")
        && let Some(second) = words.find(|w| !matches!(w.as_str(), "OR" | "REPLACE" | "TEMPORARY" | "TEMP"))
    {
        return format!("{first} {second}");
    }
    first
}
