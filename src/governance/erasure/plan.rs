//! E5, E7: from the columns marked as identifiers of the request's type, find every table that
//! holds the subject's rows — through related keys (an e-mail resolves a customer id), foreign
//! keys (children of the subject's rows) and lineage (copies marked by propagation) — give each
//! an action, refuse what cannot be covered, and order the steps children first.
//!
//! The planner sees the catalog as a [`Graph`] and asks its caller to resolve related keys on
//! the live target (`Resolver`); it does no I/O itself.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::sql::{MASK_TEXT, Mask, Match, Predicate, Values};
use super::subject::{Form, normalise};

/// What kind of relation a dataset is, as far as erasure cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// Holds rows Custodian can erase.
    Table,
    /// A view: its rows go with its tables.
    View,
    /// A materialized view: refreshed after its tables are erased.
    MaterializedView,
    /// Outside the databases Custodian acts on (an export, a processor): its recipient is told.
    External,
    /// Named in pipeline SQL but never crawled, or a table on a source Custodian cannot write.
    Unreachable,
}

/// How a table's rows of a subject are erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Delete,
    Mask,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Mask => "mask",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "delete" => Some(Self::Delete),
            "mask" => Some(Self::Mask),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub id: i64,
    pub name: String,
    /// The type as the live target reports it.
    pub data_type: String,
    pub nullable: bool,
    pub personal: bool,
    /// The identifier type this column is marked with, confirmed or propagated.
    pub identifier: Option<String>,
    /// Whether the identifier mark came through lineage steps that keep values as they are
    /// (copies): only then can the subject's value be matched here.
    pub identifier_matchable: bool,
    /// The columns this column's propagated personal-data tags came from.
    pub origins: Vec<i64>,
    /// How this column was computed from other columns, where lineage recorded a recomputable
    /// derivation (a pure expression, or a JSON key).
    pub derivations: Vec<Derivation>,
}

/// A column computed from `source` (a column id) by a pure expression template or by writing it
/// under a JSON key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derivation {
    Expression { source: i64, template: String },
    JsonField { source: i64, key: String },
}

#[derive(Debug, Clone)]
pub struct Table {
    pub dataset_id: i64,
    pub source_id: i64,
    pub source: String,
    pub schema: String,
    pub name: String,
    pub kind: TableKind,
    pub action: Action,
    /// The basis of a legal hold that covers the whole table (source, dataset, column or
    /// category hold), if any.
    pub hold: Option<String>,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn qualified(&self) -> String {
        if self.schema.is_empty() {
            format!("{}: {}", self.source, self.name)
        } else {
            format!("{}.{}.{}", self.source, self.schema, self.name)
        }
    }

    fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A live foreign key between two datasets of one source.
#[derive(Debug, Clone)]
pub struct ForeignKey {
    pub child: i64,
    pub child_columns: Vec<String>,
    pub parent: i64,
    pub parent_columns: Vec<String>,
    /// Whether the referencing columns may be NULL.
    pub nullable: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub tables: Vec<Table>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Materialized views and the datasets they read: (view, table).
    pub view_sources: Vec<(i64, i64)>,
    /// Pipelines' exports out of the databases: (table, external dataset).
    pub exports: Vec<(i64, i64)>,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepAction {
    Delete,
    Mask,
    /// Refresh a materialized view after its tables.
    Refresh,
    /// Kept under a legal hold: counted, reported, not touched.
    Hold,
}

impl StepAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::Mask => "mask",
            Self::Refresh => "refresh",
            Self::Hold => "hold",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "delete" => Some(Self::Delete),
            "mask" => Some(Self::Mask),
            "refresh" => Some(Self::Refresh),
            "hold" => Some(Self::Hold),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PlannedStep {
    pub dataset_id: i64,
    pub source_id: i64,
    pub schema: String,
    pub table: String,
    pub action: StepAction,
    pub predicate: Predicate,
    pub masks: Vec<Mask>,
    /// How the subject's rows were found here, for people.
    pub reached_via: String,
    pub hold_basis: Option<String>,
    /// E6: the columns (and their types) the step relies on.
    pub fingerprint: String,
}

/// Personal data the plan cannot erase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncovered {
    pub dataset_id: i64,
    pub table: String,
    pub column: Option<String>,
    pub reason: String,
}

/// A recipient to tell (E20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub dataset_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<PlannedStep>,
    pub uncovered: Vec<Uncovered>,
    pub recipients: Vec<Recipient>,
    /// Cycles and resolution failures: a plan with problems cannot be approved.
    pub problems: Vec<String>,
}

impl Plan {
    pub fn is_executable(&self) -> bool {
        self.uncovered.is_empty() && self.problems.is_empty()
    }
}

/// Reads the values of `column` on the rows of `table` that match `predicate` (related keys).
pub trait Resolver {
    fn resolve(
        &mut self,
        table: &Table,
        predicate: &Predicate,
        column: &str,
        values: &Values,
    ) -> Result<Vec<String>, String>;
}

/// How many times related keys are resolved in turn (email → customer id → account id …).
const RESOLVE_ROUNDS: usize = 6;

/// Plans the erasure of the subject whose values are in `values` (at least the request's own
/// identifier type). Related keys found on the targets are added to `values`.
pub fn plan(graph: &Graph, values: &mut Values, resolver: &mut dyn Resolver) -> Plan {
    let mut out = Plan::default();
    let by_id: HashMap<i64, &Table> = graph.tables.iter().map(|t| (t.dataset_id, t)).collect();

    // 1. Tables reached by value, and related keys resolved until nothing new turns up.
    // Identifier types the plan looked for: a table marked with one of them is covered even
    // when no value of that type turned up (it then has no rows of the subject).
    let mut sought: BTreeSet<String> = values.keys().cloned().collect();
    let mut direct: BTreeMap<i64, (Predicate, Vec<String>)> = BTreeMap::new();
    let columns_by_id: HashMap<i64, &Column> =
        graph.tables.iter().flat_map(|t| t.columns.iter().map(|c| (c.id, c))).collect();
    for _ in 0..RESOLVE_ROUNDS {
        direct = reached_by_value(graph, &sought, &columns_by_id);
        let mut grew = false;
        for (dataset_id, (predicate, _)) in &direct {
            let table = by_id[dataset_id];
            if table.kind != TableKind::Table {
                continue;
            }
            for column in &table.columns {
                let Some(kind) = column.identifier.as_deref() else { continue };
                if !column.identifier_matchable {
                    continue;
                }
                grew |= sought.insert(kind.to_owned());
                match resolver.resolve(table, predicate, &column.name, values) {
                    Ok(found) => {
                        // Stored values are matched in their normal form, like the request's;
                        // derivations are recomputed from them as stored, too.
                        let raw = values.entry(format!("{RAW}{kind}")).or_default();
                        for v in &found {
                            if !raw.contains(v) {
                                raw.push(v.clone());
                            }
                        }
                        let known = values.entry(kind.to_owned()).or_default();
                        for v in found.into_iter().map(|v| normalise(kind, &v).unwrap_or(v)) {
                            if !known.contains(&v) {
                                known.push(v);
                                grew = true;
                            }
                        }
                    }
                    Err(e) => {
                        let problem = format!("could not read {}.{}: {e}", table.qualified(), column.name);
                        if !out.problems.contains(&problem) {
                            out.problems.push(problem);
                        }
                    }
                }
            }
        }
        if !grew {
            break;
        }
    }

    // 2. Children through live foreign keys (within a source; a self-reference does not make
    //    another row the subject's).
    let mut predicates: BTreeMap<i64, (Predicate, Vec<String>)> = direct.clone();
    let mut queue: Vec<i64> = direct.keys().copied().collect();
    let mut visited: HashSet<i64> = queue.iter().copied().collect();
    while let Some(parent_id) = queue.pop() {
        let Some(parent) = by_id.get(&parent_id) else { continue };
        if parent.kind != TableKind::Table {
            continue;
        }
        let parent_pred = predicates[&parent_id].0.clone();
        for fk in graph.foreign_keys.iter().filter(|fk| fk.parent == parent_id && fk.child != parent_id) {
            let Some(child) = by_id.get(&fk.child) else { continue };
            let entry = predicates.entry(fk.child).or_default();
            let m = Match::Child {
                columns: fk.child_columns.clone(),
                parent_schema: parent.schema.clone(),
                parent_table: parent.name.clone(),
                parent_columns: fk.parent_columns.clone(),
                parent: Box::new(parent_pred.clone()),
            };
            if !entry.0.any.contains(&m) {
                entry.0.any.push(m);
                entry.1.push(format!(
                    "foreign key {}.{} ({}) → {} ({})",
                    child.schema,
                    child.name,
                    fk.child_columns.join(", "),
                    parent.name,
                    fk.parent_columns.join(", ")
                ));
            }
            if visited.insert(fk.child) {
                queue.push(fk.child);
            }
        }
    }

    // 3. What each reached relation gets.
    let reached_columns: HashSet<i64> =
        predicates.keys().flat_map(|id| by_id[id].columns.iter().map(|c| c.id)).collect();
    let mut planned: Vec<PlannedStep> = Vec::new();
    for (dataset_id, (predicate, via)) in &predicates {
        let table = by_id[dataset_id];
        let reached_via = via.join("; ");
        match table.kind {
            TableKind::View => {}
            TableKind::External => out.recipients.push(Recipient { dataset_id: table.dataset_id, name: table.qualified() }),
            TableKind::Unreachable => out.uncovered.push(Uncovered {
                dataset_id: table.dataset_id,
                table: table.qualified(),
                column: None,
                reason: "holds the subject's data but Custodian cannot reach it (never crawled, or not a database it can write)"
                    .into(),
            }),
            TableKind::MaterializedView => planned.push(step(table, StepAction::Refresh, predicate, Vec::new(), reached_via, None)),
            TableKind::Table => {
                if let Some(basis) = &table.hold {
                    planned.push(step(table, StepAction::Hold, predicate, Vec::new(), reached_via, Some(basis.clone())));
                    continue;
                }
                match table.action {
                    Action::Delete => planned.push(step(table, StepAction::Delete, predicate, Vec::new(), reached_via, None)),
                    Action::Mask => {
                        let mut masks = Vec::new();
                        for c in table.columns.iter().filter(|c| c.personal || c.identifier.is_some()) {
                            if let Some(mask) = mask_for(&c.name, &c.data_type, c.nullable) {
                                masks.push(mask);
                            } else {
                                out.uncovered.push(Uncovered {
                                    dataset_id: table.dataset_id,
                                    table: table.qualified(),
                                    column: Some(c.name.clone()),
                                    reason: format!(
                                        "cannot be masked (NOT NULL {}); set this dataset to delete rows",
                                        c.data_type
                                    ),
                                });
                            }
                        }
                        if masks.is_empty() {
                            out.uncovered.push(Uncovered {
                                dataset_id: table.dataset_id,
                                table: table.qualified(),
                                column: None,
                                reason: "is set to mask but has no personal-data columns to mask".into(),
                            });
                        } else {
                            planned.push(step(table, StepAction::Mask, predicate, masks, reached_via, None));
                        }
                    }
                }
            }
        }
    }

    // Materialized views over tables the plan changes are refreshed after them (and verified
    // by their own identifier columns when they have any).
    let changed: HashSet<i64> = planned
        .iter()
        .filter(|s| matches!(s.action, StepAction::Delete | StepAction::Mask))
        .map(|s| s.dataset_id)
        .collect();
    let mut views: Vec<i64> = graph
        .view_sources
        .iter()
        .filter(|(view, table)| changed.contains(table) && !predicates.contains_key(view))
        .map(|(view, _)| *view)
        .collect();
    views.sort_unstable();
    views.dedup();
    for view in views {
        if let Some(table) = by_id.get(&view)
            && table.kind == TableKind::MaterializedView
        {
            let reached_via = "reads tables the plan changes".to_owned();
            planned.push(step(table, StepAction::Refresh, &Predicate::default(), Vec::new(), reached_via, None));
        }
    }

    // Exports of the subject's tables (a file, a bucket, a processor) are recipients (E20).
    for (from, to) in &graph.exports {
        if predicates.contains_key(from)
            && let Some(external) = by_id.get(to)
        {
            let r = Recipient { dataset_id: external.dataset_id, name: external.qualified() };
            if !out.recipients.contains(&r) {
                out.recipients.push(r);
            }
        }
    }

    // 4. Personal data that flowed from a reached table into one the plan does not reach.
    for table in &graph.tables {
        if predicates.contains_key(&table.dataset_id) || table.kind == TableKind::View {
            continue;
        }
        for c in &table.columns {
            let from_subject = c.origins.iter().any(|o| reached_columns.contains(o));
            let unmatched_identifier =
                c.identifier.as_deref().is_some_and(|k| sought.contains(k)) && !c.identifier_matchable;
            if !(from_subject || unmatched_identifier) {
                continue;
            }
            if table.kind == TableKind::External {
                let r = Recipient { dataset_id: table.dataset_id, name: table.qualified() };
                if !out.recipients.contains(&r) {
                    out.recipients.push(r);
                }
                break;
            }
            out.uncovered.push(Uncovered {
                dataset_id: table.dataset_id,
                table: table.qualified(),
                column: Some(c.name.clone()),
                reason: if unmatched_identifier {
                    "holds an identifier derived through an expression; the subject's rows cannot be matched".into()
                } else {
                    "holds personal data copied from the subject's rows, with no identifier to find them by".into()
                },
            });
        }
    }

    // 5. Order: by source, children before parents (E7); materialized views last.
    match order(planned, &graph.foreign_keys, &by_id) {
        Ok(steps) => out.steps = steps,
        Err(cycle) => out.problems.push(cycle),
    }
    out
}

/// The prefix of the value sets that hold related keys as the targets store them.
pub const RAW: &str = "raw:";

fn reached_by_value(
    graph: &Graph,
    sought: &BTreeSet<String>,
    columns_by_id: &HashMap<i64, &Column>,
) -> BTreeMap<i64, (Predicate, Vec<String>)> {
    let mut out: BTreeMap<i64, (Predicate, Vec<String>)> = BTreeMap::new();
    for table in &graph.tables {
        for c in &table.columns {
            let Some(kind) = c.identifier.as_deref() else { continue };
            if !sought.contains(kind) {
                continue;
            }
            if !c.identifier_matchable {
                // Computed from an identifier column by a recorded derivation: recompute it.
                for d in &c.derivations {
                    let (source, m, how) = match d {
                        Derivation::Expression { source, template } => {
                            let Some(src) = columns_by_id.get(source) else { continue };
                            (
                                src,
                                Match::Derived {
                                    column: c.name.clone(),
                                    values: vec![kind.to_owned(), format!("{RAW}{kind}")],
                                    template: template.clone(),
                                    source_type: src.data_type.clone(),
                                },
                                format!("{} holds {template} of the subject's {kind}", c.name),
                            )
                        }
                        Derivation::JsonField { source, key } => {
                            let Some(src) = columns_by_id.get(source) else { continue };
                            (
                                src,
                                Match::JsonField {
                                    column: c.name.clone(),
                                    column_type: c.data_type.clone(),
                                    key: key.clone(),
                                    values: kind.to_owned(),
                                    form: Form::of(kind),
                                },
                                format!("{}->'{key}' holds the subject's {kind}", c.name),
                            )
                        }
                    };
                    if source.identifier.as_deref() == Some(kind) && source.identifier_matchable {
                        let entry = out.entry(table.dataset_id).or_default();
                        entry.0.any.push(m);
                        entry.1.push(how);
                    }
                }
                continue;
            }
            let entry = out.entry(table.dataset_id).or_default();
            entry.0.any.push(Match::Value {
                column: c.name.clone(),
                column_type: c.data_type.clone(),
                values: kind.to_owned(),
                form: Form::of(kind),
            });
            entry.1.push(format!("{} holds the subject's {kind}", c.name));
        }
    }
    out
}

fn step(
    table: &Table,
    action: StepAction,
    predicate: &Predicate,
    masks: Vec<Mask>,
    reached_via: String,
    hold_basis: Option<String>,
) -> PlannedStep {
    PlannedStep {
        dataset_id: table.dataset_id,
        source_id: table.source_id,
        schema: table.schema.clone(),
        table: table.name.clone(),
        action,
        fingerprint: fingerprint(table, predicate, &masks),
        predicate: predicate.clone(),
        masks,
        reached_via,
        hold_basis,
    }
}

/// The columns of its own table a step relies on, with their types, sorted: `name<TAB>type`
/// lines. Parent tables' columns are in their own steps' fingerprints.
pub fn fingerprint(table: &Table, predicate: &Predicate, masks: &[Mask]) -> String {
    let mut names: BTreeSet<&str> = masks.iter().map(|m| m.column.as_str()).collect();
    fn collect<'a>(predicate: &'a Predicate, names: &mut BTreeSet<&'a str>) {
        for m in &predicate.any {
            match m {
                Match::Value { column, .. }
                | Match::Derived { column, .. }
                | Match::JsonField { column, .. }
                | Match::OlderThan { column, .. } => {
                    names.insert(column);
                }
                Match::Child { columns, .. } => names.extend(columns.iter().map(String::as_str)),
            }
        }
        for except in &predicate.except {
            collect(except, names);
        }
    }
    collect(predicate, &mut names);
    names
        .into_iter()
        .map(|n| match table.column(n) {
            Some(c) => format!("{n}\t{}", c.data_type.to_ascii_lowercase()),
            None => format!("{n}\t?"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a column is masked: set to NULL when it may be, to [`MASK_TEXT`] when it is NOT NULL
/// text; `None` when it can be neither.
pub fn mask_for(name: &str, data_type: &str, nullable: bool) -> Option<Mask> {
    if nullable {
        Some(Mask { column: name.to_owned(), to: None })
    } else if is_text(data_type) {
        Some(Mask { column: name.to_owned(), to: Some(MASK_TEXT.into()) })
    } else {
        None
    }
}

fn is_text(ty: &str) -> bool {
    let t = ty.to_ascii_lowercase();
    t.is_empty() || t.contains("char") || t.contains("text") || t.contains("clob")
}

/// Children before parents within a source; a foreign-key cycle among planned tables is an
/// error naming it.
fn order(
    steps: Vec<PlannedStep>,
    fks: &[ForeignKey],
    by_id: &HashMap<i64, &Table>,
) -> Result<Vec<PlannedStep>, String> {
    let ids: HashSet<i64> = steps.iter().map(|s| s.dataset_id).collect();
    // parent → children that must go first
    let mut waits_for: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for fk in fks.iter().filter(|fk| fk.child != fk.parent && ids.contains(&fk.child) && ids.contains(&fk.parent)) {
        waits_for.entry(fk.parent).or_default().insert(fk.child);
    }
    let mut by_dataset: BTreeMap<(String, bool, i64), PlannedStep> = BTreeMap::new();
    for s in steps {
        let source = by_id.get(&s.dataset_id).map(|t| t.source.clone()).unwrap_or_default();
        by_dataset.insert((source, s.action == StepAction::Refresh, s.dataset_id), s);
    }
    let mut done: HashSet<i64> = HashSet::new();
    let mut out = Vec::with_capacity(by_dataset.len());
    let mut pending: Vec<(String, bool, i64)> = by_dataset.keys().cloned().collect();
    while !pending.is_empty() {
        let ready: Vec<(String, bool, i64)> = pending
            .iter()
            .filter(|k| waits_for.get(&k.2).is_none_or(|children| children.iter().all(|c| done.contains(c))))
            .cloned()
            .collect();
        if ready.is_empty() {
            let names: Vec<String> = pending.iter().filter_map(|k| by_id.get(&k.2)).map(|t| t.qualified()).collect();
            return Err(format!("the foreign keys among these tables form a cycle: {}", names.join(", ")));
        }
        // Take the first ready table in (source, refresh-last, id) order, so the order is stable.
        let first = ready[0].clone();
        pending.retain(|k| *k != first);
        done.insert(first.2);
        if let Some(s) = by_dataset.remove(&first) {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(id: i64, name: &str, identifier: Option<&str>) -> Column {
        Column {
            id,
            name: name.into(),
            data_type: if name.ends_with("id") { "integer".into() } else { "text".into() },
            nullable: true,
            personal: identifier.is_some(),
            identifier: identifier.map(str::to_owned),
            identifier_matchable: true,
            origins: Vec::new(),
            derivations: Vec::new(),
        }
    }

    fn table(id: i64, source: &str, name: &str, columns: Vec<Column>) -> Table {
        Table {
            dataset_id: id,
            source_id: 1,
            source: source.into(),
            schema: "main".into(),
            name: name.into(),
            kind: TableKind::Table,
            action: Action::Delete,
            hold: None,
            columns,
        }
    }

    fn fk(child: i64, column: &str, parent: i64) -> ForeignKey {
        ForeignKey {
            child,
            child_columns: vec![column.into()],
            parent,
            parent_columns: vec!["id".into()],
            nullable: false,
        }
    }

    /// Resolves customer ids from the customers table: "42" for anyone.
    struct Fixed(Vec<(String, String)>);

    impl Resolver for Fixed {
        fn resolve(&mut self, table: &Table, _: &Predicate, column: &str, _: &Values) -> Result<Vec<String>, String> {
            self.0.push((table.name.clone(), column.to_owned()));
            Ok(if column == "id" { vec!["42".into()] } else { Vec::new() })
        }
    }

    fn shop() -> Graph {
        Graph {
            tables: vec![
                table(
                    1,
                    "shop",
                    "customers",
                    vec![col(10, "id", Some("customer_id")), col(11, "email", Some("email"))],
                ),
                table(2, "shop", "orders", vec![col(20, "id", None), col(21, "customer_id", None)]),
                table(3, "shop", "order_items", vec![col(30, "order_id", None)]),
                table(4, "shop", "shipments", vec![col(40, "item_id", None)]),
                table(5, "dwh", "audience", vec![col(50, "customer_ref", Some("customer_id"))]),
                table(6, "shop", "employees", vec![col(60, "email", None)]),
            ],
            foreign_keys: vec![
                fk(2, "customer_id", 1),
                fk(3, "order_id", 2),
                fk(4, "item_id", 3),
                fk(1, "referred_by", 1),
            ],
            view_sources: Vec::new(),
            exports: Vec::new(),
        }
    }

    fn email_values() -> Values {
        let mut v = Values::new();
        v.insert("email".into(), vec!["a@example.com".into()]);
        v
    }

    #[test]
    fn related_keys_foreign_keys_and_copies_are_reached_children_first() {
        let mut values = email_values();
        let mut resolver = Fixed(Vec::new());
        let plan = plan(&shop(), &mut values, &mut resolver);
        assert!(plan.is_executable(), "{:?} {:?}", plan.uncovered, plan.problems);
        assert_eq!(values["customer_id"], vec!["42".to_string()]);
        let names: Vec<&str> = plan.steps.iter().map(|s| s.table.as_str()).collect();
        assert_eq!(names, ["audience", "shipments", "order_items", "orders", "customers"]);
        assert!(plan.steps.iter().all(|s| s.action == StepAction::Delete));
        let customers = plan.steps.iter().find(|s| s.table == "customers").unwrap();
        assert_eq!(customers.predicate.any.len(), 2, "by e-mail and by the resolved id");
        assert_eq!(customers.fingerprint, "email\ttext\nid\tinteger");
        assert!(plan.steps.iter().find(|s| s.table == "shipments").unwrap().reached_via.contains("foreign key"));
    }

    #[test]
    fn copies_without_an_identifier_are_uncovered_and_exports_become_recipients() {
        let mut graph = shop();
        let mut derived = table(7, "dwh", "mail_copy", vec![col(70, "contact", None)]);
        derived.columns[0].personal = true;
        derived.columns[0].origins = vec![11];
        let mut export = table(8, "crm", "mailchimp_export", vec![col(80, "email", None)]);
        export.kind = TableKind::External;
        export.columns[0].origins = vec![11];
        graph.tables.push(derived);
        graph.tables.push(export);
        let plan = plan(&graph, &mut email_values(), &mut Fixed(Vec::new()));
        assert!(!plan.is_executable());
        assert_eq!(plan.uncovered.len(), 1);
        assert_eq!(plan.uncovered[0].column.as_deref(), Some("contact"));
        assert_eq!(plan.recipients, vec![Recipient { dataset_id: 8, name: "crm.main.mailchimp_export".into() }]);
    }

    #[test]
    fn holds_masks_and_cycles() {
        let mut graph = shop();
        graph.tables[1].hold = Some("art17_3_b".into());
        graph.tables[0].action = Action::Mask;
        let plan = plan(&graph, &mut email_values(), &mut Fixed(Vec::new()));
        let orders = plan.steps.iter().find(|s| s.table == "orders").unwrap();
        assert_eq!((orders.action, orders.hold_basis.as_deref()), (StepAction::Hold, Some("art17_3_b")));
        let customers = plan.steps.iter().find(|s| s.table == "customers").unwrap();
        assert_eq!(customers.action, StepAction::Mask);
        assert_eq!(customers.masks.len(), 2);

        let mut cyclic = shop();
        cyclic.foreign_keys.push(fk(1, "last_order_id", 2));
        let plan = super::plan(&cyclic, &mut email_values(), &mut Fixed(Vec::new()));
        assert!(plan.problems.iter().any(|p| p.contains("cycle")), "{:?}", plan.problems);
    }

    #[test]
    fn identifiers_reached_only_through_expressions_are_uncovered() {
        let mut graph = shop();
        let mut hashed = col(90, "email_hash", Some("email"));
        hashed.identifier_matchable = false;
        graph.tables.push(table(9, "dwh", "hashed", vec![hashed]));
        let plan = plan(&graph, &mut email_values(), &mut Fixed(Vec::new()));
        assert!(plan.uncovered.iter().any(|u| u.table.ends_with("hashed")), "{:?}", plan.uncovered);
    }
}
