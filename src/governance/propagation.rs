//! Propagation of classification along column lineage (C5): confirmed categories, identifier
//! marks and levels flow downstream through copies and transforms (and aggregates when so
//! configured), recursively, skipping blocked edges. Each propagated tag names its nearest source
//! column and the path of edges it travelled. The result is recomputed from the confirmed tags,
//! so removing a tag at the source removes what it propagated.

use std::collections::{HashMap, HashSet, VecDeque};

/// How a column edge derives its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EdgeKind {
    Identity,
    Transform,
    Aggregate,
}

impl EdgeKind {
    pub fn parse(s: &str) -> Self {
        match s {
            "identity" | "copy" => Self::Identity,
            "aggregate" => Self::Aggregate,
            _ => Self::Transform,
        }
    }
}

/// A column-lineage edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub id: i64,
    pub from: i64,
    pub to: i64,
    pub kind: EdgeKind,
}

/// Something that propagates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    Category(i64),
    Identifier(i64),
    /// A level's rank: downstream columns are at least this sensitive.
    Level(i32),
}

/// A tag a column holds of its own (confirmed, or for levels its own effective level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed {
    pub column: i64,
    pub tag: Tag,
}

/// A tag that reached `column` from `source`, along `path` (edge ids, source first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Propagated {
    pub column: i64,
    pub tag: Tag,
    pub source: i64,
    pub path: Vec<i64>,
}

/// What flows where.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Whether tags flow through aggregates (a count of e-mails is not an e-mail).
    pub through_aggregates: bool,
}

/// Propagates every seed downstream. One breadth-first search per distinct tag, from all its seeds
/// at once, so a column gets the tag once, from its nearest source (ties broken by the lower
/// source id, then the lower edge ids, for a stable result). Cycles are harmless.
pub fn propagate(edges: &[Edge], blocked: &HashSet<i64>, seeds: &[Seed], policy: Policy) -> Vec<Propagated> {
    let mut downstream: HashMap<i64, Vec<&Edge>> = HashMap::new();
    for e in edges {
        if blocked.contains(&e.id) || (e.kind == EdgeKind::Aggregate && !policy.through_aggregates) || e.from == e.to {
            continue;
        }
        downstream.entry(e.from).or_default().push(e);
    }
    for list in downstream.values_mut() {
        list.sort_by_key(|e| (e.to, e.id));
    }
    let mut by_tag: HashMap<Tag, Vec<i64>> = HashMap::new();
    for s in seeds {
        by_tag.entry(s.tag).or_default().push(s.column);
    }
    let mut tags: Vec<Tag> = by_tag.keys().copied().collect();
    tags.sort();
    let mut out = Vec::new();
    for tag in tags {
        let mut sources = by_tag.remove(&tag).unwrap_or_default();
        sources.sort_unstable();
        sources.dedup();
        let own: HashSet<i64> = sources.iter().copied().collect();
        // column -> (source, path); sources themselves are visited with an empty path.
        let mut reached: HashMap<i64, (i64, Vec<i64>)> = HashMap::new();
        let mut queue: VecDeque<i64> = VecDeque::new();
        for s in &sources {
            reached.insert(*s, (*s, Vec::new()));
            queue.push_back(*s);
        }
        while let Some(column) = queue.pop_front() {
            let Some(edges) = downstream.get(&column) else { continue };
            let (source, path) = reached.get(&column).cloned().unwrap_or((column, Vec::new()));
            for e in edges {
                if reached.contains_key(&e.to) {
                    continue;
                }
                let mut next = path.clone();
                next.push(e.id);
                reached.insert(e.to, (source, next));
                queue.push_back(e.to);
            }
        }
        let mut found: Vec<Propagated> = reached
            .into_iter()
            .filter(|(column, _)| !own.contains(column))
            .map(|(column, (source, path))| Propagated { column, tag, source, path })
            .collect();
        found.sort_by_key(|p| p.column);
        out.extend(found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: i64, from: i64, to: i64, kind: EdgeKind) -> Edge {
        Edge { id, from, to, kind }
    }

    const EMAIL: Tag = Tag::Category(1);

    #[test]
    fn tags_flow_downstream_through_several_hops_with_their_path() {
        // 1 -> 2 (copy) -> 3 (transform, e.g. lower()) -> 4 (copy)
        let edges =
            [e(10, 1, 2, EdgeKind::Identity), e(11, 2, 3, EdgeKind::Transform), e(12, 3, 4, EdgeKind::Identity)];
        let out = propagate(&edges, &HashSet::new(), &[Seed { column: 1, tag: EMAIL }], Policy::default());
        assert_eq!(out.len(), 3);
        assert_eq!(out[2], Propagated { column: 4, tag: EMAIL, source: 1, path: vec![10, 11, 12] });
        assert!(out.iter().all(|p| p.source == 1));
    }

    #[test]
    fn aggregates_stop_tags_unless_configured() {
        let edges = [e(10, 1, 2, EdgeKind::Aggregate), e(11, 2, 3, EdgeKind::Identity)];
        let seeds = [Seed { column: 1, tag: EMAIL }];
        assert!(propagate(&edges, &HashSet::new(), &seeds, Policy::default()).is_empty());
        assert_eq!(propagate(&edges, &HashSet::new(), &seeds, Policy { through_aggregates: true }).len(), 2);
    }

    #[test]
    fn a_blocked_edge_stops_what_lies_beyond_it_only_on_that_path() {
        // 1 -> 2 -> 3 and 1 -> 3 directly; blocking 1 -> 2 keeps 3 tagged (via the direct edge).
        let edges = [e(10, 1, 2, EdgeKind::Identity), e(11, 2, 3, EdgeKind::Identity), e(12, 1, 3, EdgeKind::Identity)];
        let seeds = [Seed { column: 1, tag: EMAIL }];
        let out = propagate(&edges, &HashSet::from([10]), &seeds, Policy::default());
        let columns: Vec<i64> = out.iter().map(|p| p.column).collect();
        assert_eq!(columns, [3]);
        assert_eq!(out[0].path, [12]);
        let out = propagate(&edges, &HashSet::from([10, 12]), &seeds, Policy::default());
        assert!(out.is_empty());
    }

    #[test]
    fn the_nearest_source_wins_and_sources_are_not_tagged_again() {
        // Two tagged columns 1 and 5 feed 6; 5 is one hop away, 1 is two.
        let edges = [
            e(10, 1, 2, EdgeKind::Identity),
            e(11, 2, 6, EdgeKind::Identity),
            e(12, 5, 6, EdgeKind::Identity),
            e(13, 1, 5, EdgeKind::Identity),
        ];
        let seeds = [Seed { column: 1, tag: EMAIL }, Seed { column: 5, tag: EMAIL }];
        let out = propagate(&edges, &HashSet::new(), &seeds, Policy::default());
        let six = out.iter().find(|p| p.column == 6).expect("6");
        assert_eq!(six.path.len(), 1);
        assert!(out.iter().all(|p| p.column != 5 && p.column != 1));
    }

    #[test]
    fn cycles_end_and_tags_are_independent() {
        let edges = [e(10, 1, 2, EdgeKind::Identity), e(11, 2, 1, EdgeKind::Identity), e(12, 2, 3, EdgeKind::Identity)];
        let seeds = [Seed { column: 1, tag: EMAIL }, Seed { column: 2, tag: Tag::Level(3) }];
        let out = propagate(&edges, &HashSet::new(), &seeds, Policy::default());
        let email: Vec<i64> = out.iter().filter(|p| p.tag == EMAIL).map(|p| p.column).collect();
        let level: Vec<i64> = out.iter().filter(|p| p.tag == Tag::Level(3)).map(|p| p.column).collect();
        assert_eq!(email, [2, 3]);
        assert_eq!(level, [1, 3]);
    }

    #[test]
    fn removing_the_seed_removes_what_it_propagated() {
        let edges = [e(10, 1, 2, EdgeKind::Identity)];
        assert_eq!(propagate(&edges, &HashSet::new(), &[Seed { column: 1, tag: EMAIL }], Policy::default()).len(), 1);
        assert!(propagate(&edges, &HashSet::new(), &[], Policy::default()).is_empty());
    }
}
