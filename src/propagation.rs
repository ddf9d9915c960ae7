//! Keeping propagated classification correct (GOVERNANCE.md C5). Whatever changes confirmed tags
//! (classifying, accepting suggestions), column lineage (ingesting a pipeline) or blocks calls
//! [`refresh`] in its own transaction with the columns it touched; [`refresh`] recomputes exactly
//! the columns downstream of them, from every tag upstream, with `governance::propagation`, and
//! rewrites the rows and column summaries that changed. Blocking an edge and the
//! through-aggregates switch are people's decisions, audited here.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDateTime;
use serde_json::json;

use crate::classification::ClassifyError;
use crate::db::AnyConnection;
use crate::db::audit::{self, AuditActor};
use crate::db::classification as classification_repo;
use crate::db::propagation::{self as repo, CATEGORY, EdgeRow, IDENTIFIER, LEVEL, PropagatedTag, THROUGH_AGGREGATES};
use crate::governance::propagation::{self as engine, Edge, EdgeKind, Policy, Seed, Tag};

/// Which columns to recompute.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Every column (after a bulk load, or when the policy changes).
    All,
    /// These columns and everything downstream of them.
    From(&'a [i64]),
}

/// What a refresh did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    pub edges: usize,
    pub seeds: usize,
    pub propagated: usize,
    pub columns_changed: usize,
}

/// The policy people set.
pub fn policy(conn: &mut AnyConnection) -> diesel::QueryResult<Policy> {
    Ok(Policy { through_aggregates: repo::setting(conn, THROUGH_AGGREGATES)?.as_deref() == Some("true") })
}

/// Recomputes propagated tags for `scope` and the summaries of columns whose tags changed.
pub fn refresh(conn: &mut AnyConnection, scope: Scope<'_>) -> diesel::QueryResult<Refreshed> {
    let policy = policy(conn)?;
    let (edges, targets): (Vec<EdgeRow>, Option<Vec<i64>>) = match scope {
        Scope::All => (repo::all_edges(conn)?, None),
        Scope::From(columns) => {
            if columns.is_empty() {
                return Ok(Refreshed::default());
            }
            let downstream = downstream_of(conn, columns)?;
            let edges = upstream_edges(conn, &downstream)?;
            (edges, Some(downstream.into_iter().collect()))
        }
    };
    let columns_in_play: Option<Vec<i64>> = targets.as_ref().map(|targets| {
        let mut all: BTreeSet<i64> = targets.iter().copied().collect();
        for e in &edges {
            all.insert(e.from_column_id);
        }
        all.into_iter().collect()
    });
    let own = repo::own_tags(conn, columns_in_play.as_deref())?;
    let blocked = repo::blocked_pairs(conn)?;
    let mut computed = compute(&edges, &blocked, &own, policy);
    if let Some(targets) = &targets {
        // Only the columns downstream of the change can change; upstream ones are context.
        let targets: HashSet<i64> = targets.iter().copied().collect();
        computed.retain(|t| targets.contains(&t.column_id));
    }
    let old = repo::propagated_of(conn, targets.as_deref())?;
    let changed = changed_columns(&old, &computed);
    let mut rows: Vec<PropagatedTag> = computed.iter().filter(|t| changed.contains(&t.column_id)).cloned().collect();
    // In key order, so the inserts append to the table's B-tree.
    rows.sort_unstable_by(|a, b| (a.column_id, &a.tag_kind, a.tag_value).cmp(&(b.column_id, &b.tag_kind, b.tag_value)));
    let had_rows: BTreeSet<i64> = old.iter().map(|t| t.column_id).filter(|c| changed.contains(c)).collect();
    let had_rows: Vec<i64> = had_rows.into_iter().collect();
    let changed: Vec<i64> = changed.into_iter().collect();
    repo::replace(conn, &had_rows, &rows)?;
    classification_repo::refresh_summaries(conn, &changed)?;
    Ok(Refreshed {
        edges: edges.len(),
        seeds: own.categories.len() + own.identifiers.len() + own.levels.len(),
        propagated: computed.len(),
        columns_changed: changed.len(),
    })
}

/// `columns` and every column downstream of them.
fn downstream_of(conn: &mut AnyConnection, columns: &[i64]) -> diesel::QueryResult<BTreeSet<i64>> {
    let mut seen: BTreeSet<i64> = columns.iter().copied().collect();
    let mut frontier: Vec<i64> = seen.iter().copied().collect();
    while !frontier.is_empty() {
        let next: Vec<i64> = repo::edges_from(conn, &frontier)?
            .into_iter()
            .map(|e| e.to_column_id)
            .filter(|c| seen.insert(*c))
            .collect();
        frontier = next;
    }
    Ok(seen)
}

/// Every edge into `columns` or into a column upstream of them: all a tag can travel to reach them.
fn upstream_edges(conn: &mut AnyConnection, columns: &BTreeSet<i64>) -> diesel::QueryResult<Vec<EdgeRow>> {
    let mut seen = columns.clone();
    let mut frontier: Vec<i64> = columns.iter().copied().collect();
    let mut edges = Vec::new();
    while !frontier.is_empty() {
        let found = repo::edges_into(conn, &frontier)?;
        frontier = found.iter().map(|e| e.from_column_id).filter(|c| seen.insert(*c)).collect();
        edges.extend(found);
    }
    Ok(edges)
}

/// Runs the engine and turns its answer into rows: one per (column, category), (column,
/// identifier), and for levels only the highest that reached a column above its own level.
pub fn compute(
    edges: &[EdgeRow],
    blocked: &HashSet<(i64, i64)>,
    own: &repo::OwnTags,
    policy: Policy,
) -> Vec<PropagatedTag> {
    let by_id: HashMap<i64, &EdgeRow> = edges.iter().map(|e| (e.id, e)).collect();
    let engine_edges: Vec<Edge> = edges
        .iter()
        .map(|e| Edge { id: e.id, from: e.from_column_id, to: e.to_column_id, kind: EdgeKind::parse(&e.kind) })
        .collect();
    let blocked_ids: HashSet<i64> =
        edges.iter().filter(|e| blocked.contains(&(e.from_column_id, e.to_column_id))).map(|e| e.id).collect();
    let mut seeds: Vec<Seed> = Vec::with_capacity(own.categories.len() + own.identifiers.len() + own.levels.len());
    seeds.extend(own.categories.iter().map(|(c, id)| Seed { column: *c, tag: Tag::Category(*id) }));
    seeds.extend(own.identifiers.iter().map(|(c, id)| Seed { column: *c, tag: Tag::Identifier(*id) }));
    seeds.extend(own.levels.iter().map(|(c, rank)| Seed { column: *c, tag: Tag::Level(*rank) }));
    let own_level: HashMap<i64, i32> = own.levels.iter().copied().collect();
    let mut best_level: HashMap<i64, PropagatedTag> = HashMap::new();
    let mut rows = Vec::new();
    for p in engine::propagate(&engine_edges, &blocked_ids, &seeds, policy) {
        let Some(last) = p.path.last().and_then(|id| by_id.get(id)) else { continue };
        let mut path = p.source.to_string();
        for id in &p.path {
            if let Some(e) = by_id.get(id) {
                path.push(',');
                path.push_str(&e.to_column_id.to_string());
            }
        }
        let (kind, value) = match p.tag {
            Tag::Category(id) => (CATEGORY, id),
            Tag::Identifier(id) => (IDENTIFIER, id),
            Tag::Level(rank) => (LEVEL, i64::from(rank)),
        };
        let row = PropagatedTag {
            column_id: p.column,
            tag_kind: kind.to_owned(),
            tag_value: value,
            source_column_id: p.source,
            pipeline_id: last.pipeline_id,
            statement_index: last.statement_index,
            hops: i32::try_from(p.path.len()).unwrap_or(i32::MAX),
            path,
        };
        if let Tag::Level(rank) = p.tag {
            if own_level.get(&p.column).is_some_and(|own| *own >= rank) {
                continue;
            }
            match best_level.get(&p.column) {
                Some(b) if b.tag_value >= value => {}
                _ => {
                    best_level.insert(p.column, row);
                }
            }
        } else {
            rows.push(row);
        }
    }
    rows.extend(best_level.into_values());
    rows.sort_by(|a, b| (a.column_id, &a.tag_kind, a.tag_value).cmp(&(b.column_id, &b.tag_kind, b.tag_value)));
    rows
}

/// Columns whose rows differ between `old` and `new` (both cover the same columns).
fn changed_columns(old: &[PropagatedTag], new: &[PropagatedTag]) -> BTreeSet<i64> {
    let mut by_column: HashMap<i64, (Vec<&PropagatedTag>, Vec<&PropagatedTag>)> = HashMap::new();
    for t in old {
        by_column.entry(t.column_id).or_default().0.push(t);
    }
    for t in new {
        by_column.entry(t.column_id).or_default().1.push(t);
    }
    let key = |t: &&PropagatedTag| (t.tag_kind.clone(), t.tag_value);
    by_column
        .into_iter()
        .filter_map(|(column, (mut a, mut b))| {
            a.sort_by_key(key);
            b.sort_by_key(key);
            (a != b).then_some(column)
        })
        .collect()
}

/// Stops tags flowing from one column into another (every edge between them, whatever pipeline).
pub fn block(
    conn: &mut AnyConnection,
    by: &AuditActor,
    from: i64,
    to: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<bool, ClassifyError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ClassifyError::Invalid("Blocking propagation needs a reason.".into()));
    }
    if !repo::edge_exists(conn, from, to)? {
        return Err(ClassifyError::NotFound(format!("A lineage edge from column {from} to column {to}")));
    }
    if repo::find_block(conn, from, to)?.is_some() {
        return Ok(false);
    }
    repo::insert_block(conn, from, to, reason, &by.actor, now)?;
    let dataset = crate::db::catalog::columns_by_id(conn, &[to])?.first().map(|c| c.dataset_id);
    let mut event = by.event("lineage.block", "dataset").after(json!({ "from_column_id": from, "to_column_id": to }));
    if let Some(dataset) = dataset {
        event = event.entity_id(dataset);
    }
    audit::append(conn, &event.reason(reason), now)?;
    refresh(conn, Scope::From(&[to]))?;
    Ok(true)
}

/// Lets tags flow along a blocked column pair again.
pub fn unblock(
    conn: &mut AnyConnection,
    by: &AuditActor,
    from: i64,
    to: i64,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool, ClassifyError> {
    let Some(block) = repo::find_block(conn, from, to)? else { return Ok(false) };
    repo::delete_block(conn, from, to)?;
    let dataset = crate::db::catalog::columns_by_id(conn, &[to])?.first().map(|c| c.dataset_id);
    let mut event = by.event("lineage.unblock", "dataset").before(
        json!({ "from_column_id": from, "to_column_id": to, "reason": block.reason, "blocked_by": block.blocked_by }),
    );
    if let Some(dataset) = dataset {
        event = event.entity_id(dataset);
    }
    if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        event = event.reason(reason);
    }
    audit::append(conn, &event, now)?;
    refresh(conn, Scope::From(&[to]))?;
    Ok(true)
}

/// Switches whether tags flow through aggregates, and recomputes everything.
pub fn set_through_aggregates(
    conn: &mut AnyConnection,
    by: &AuditActor,
    value: bool,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool, ClassifyError> {
    let before = policy(conn)?.through_aggregates;
    if before == value {
        return Ok(false);
    }
    repo::set_setting(conn, THROUGH_AGGREGATES, if value { "true" } else { "false" }, &by.actor, now)?;
    let mut event = by
        .event("propagation.configure", "setting")
        .before(json!({ "through_aggregates": before }))
        .after(json!({ "through_aggregates": value }));
    if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
        event = event.reason(reason);
    }
    audit::append(conn, &event, now)?;
    refresh(conn, Scope::All)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(id: i64, from: i64, to: i64, kind: &str) -> EdgeRow {
        EdgeRow {
            id,
            from_column_id: from,
            to_column_id: to,
            kind: kind.into(),
            pipeline_id: 7,
            statement_index: id as i32,
        }
    }

    #[test]
    fn rows_name_the_source_the_last_hop_and_the_column_path() {
        let edges = [edge(1, 10, 20, "identity"), edge(2, 20, 30, "transform")];
        let own = repo::OwnTags { categories: vec![(10, 5)], identifiers: vec![(10, 1)], levels: vec![(10, 2)] };
        let rows = compute(&edges, &HashSet::new(), &own, Policy::default());
        let at_30: Vec<_> = rows.iter().filter(|r| r.column_id == 30).collect();
        assert_eq!(at_30.len(), 3, "{rows:?}");
        for r in &at_30 {
            assert_eq!(r.source_column_id, 10);
            assert_eq!(r.statement_index, 2);
            assert_eq!(r.hops, 2);
            assert_eq!(r.path, "10,20,30");
            assert_eq!(r.path_ids(), vec![10, 20, 30]);
        }
    }

    #[test]
    fn only_the_highest_level_above_a_columns_own_is_kept() {
        let edges = [edge(1, 10, 30, "identity"), edge(2, 20, 30, "identity"), edge(3, 10, 40, "identity")];
        let own = repo::OwnTags { levels: vec![(10, 1), (20, 3), (40, 2)], ..Default::default() };
        let rows = compute(&edges, &HashSet::new(), &own, Policy::default());
        let levels: Vec<(i64, i64, i64)> = rows
            .iter()
            .filter(|r| r.tag_kind == LEVEL)
            .map(|r| (r.column_id, r.tag_value, r.source_column_id))
            .collect();
        // Column 30 gets rank 3 from column 20; column 40 is already at 2, above what 10 brings.
        assert_eq!(levels, vec![(30, 3, 20)]);
    }

    #[test]
    fn a_blocked_pair_stops_every_edge_between_the_two_columns() {
        let edges = [edge(1, 10, 20, "identity"), edge(2, 10, 20, "transform"), edge(3, 20, 30, "identity")];
        let own = repo::OwnTags { categories: vec![(10, 5)], ..Default::default() };
        let blocked: HashSet<(i64, i64)> = [(10, 20)].into_iter().collect();
        assert!(compute(&edges, &blocked, &own, Policy::default()).is_empty());
        assert_eq!(compute(&edges, &HashSet::new(), &own, Policy::default()).len(), 2);
    }

    #[test]
    fn aggregates_carry_tags_only_when_configured() {
        let edges = [edge(1, 10, 20, "aggregate")];
        let own = repo::OwnTags { categories: vec![(10, 5)], ..Default::default() };
        assert!(compute(&edges, &HashSet::new(), &own, Policy::default()).is_empty());
        assert_eq!(compute(&edges, &HashSet::new(), &own, Policy { through_aggregates: true }).len(), 1);
    }

    #[test]
    fn changed_columns_compare_whole_rows() {
        let row = |column: i64, source: i64| PropagatedTag {
            column_id: column,
            tag_kind: CATEGORY.into(),
            tag_value: 1,
            source_column_id: source,
            pipeline_id: 1,
            statement_index: 1,
            hops: 1,
            path: format!("{source},{column}"),
        };
        assert!(changed_columns(&[row(1, 9)], &[row(1, 9)]).is_empty());
        assert_eq!(changed_columns(&[row(1, 9), row(2, 9)], &[row(1, 8), row(3, 9)]), [1, 2, 3].into_iter().collect());
    }
}
