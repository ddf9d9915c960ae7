//! Propagation of classification along column lineage (C5): confirmed categories, identifier
//! marks and levels flow downstream through copies and transforms (and aggregates when so
//! configured), recursively, skipping blocked edges. Each propagated tag names its nearest source
//! column and the path of edges it travelled. The result is recomputed from the confirmed tags,
//! so removing a tag at the source removes what it propagated.

use std::collections::{HashMap, HashSet};

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
/// source id, then the lower target and edge ids, for a stable result). Cycles are harmless.
///
/// The graph is laid out once as compressed adjacency arrays over dense node numbers; each search
/// stamps the nodes it reaches with its own epoch and remembers the edge it came by, so paths are
/// rebuilt only for the answer and nothing is cleared between tags.
pub fn propagate(edges: &[Edge], blocked: &HashSet<i64>, seeds: &[Seed], policy: Policy) -> Vec<Propagated> {
    let graph = Graph::new(edges, blocked, policy);
    let mut by_tag: HashMap<Tag, Vec<i64>> = HashMap::new();
    for s in seeds {
        by_tag.entry(s.tag).or_default().push(s.column);
    }
    let mut tags: Vec<Tag> = by_tag.keys().copied().collect();
    tags.sort();
    let n = graph.nodes.len();
    let mut epoch_of: Vec<u32> = vec![0; n];
    let mut via: Vec<u32> = vec![NONE; n];
    let mut source_of: Vec<u32> = vec![NONE; n];
    let mut queue: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for (i, tag) in tags.into_iter().enumerate() {
        let epoch = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let mut sources = by_tag.remove(&tag).unwrap_or_default();
        sources.sort_unstable();
        sources.dedup();
        queue.clear();
        for s in &sources {
            if let Some(&node) = graph.index.get(s) {
                epoch_of[node as usize] = epoch;
                via[node as usize] = NONE;
                source_of[node as usize] = node;
                queue.push(node);
            }
        }
        let mut head = 0;
        let mut found: Vec<u32> = Vec::new();
        while head < queue.len() {
            let node = queue[head] as usize;
            head += 1;
            for slot in graph.offsets[node]..graph.offsets[node + 1] {
                let to = graph.targets[slot as usize] as usize;
                if epoch_of[to] == epoch {
                    continue;
                }
                epoch_of[to] = epoch;
                via[to] = slot;
                source_of[to] = source_of[node];
                queue.push(to as u32);
                found.push(to as u32);
            }
        }
        found.sort_unstable_by_key(|node| graph.nodes[*node as usize]);
        for node in found {
            let mut path = Vec::new();
            let mut at = node as usize;
            while via[at] != NONE {
                let slot = via[at] as usize;
                path.push(graph.edge_ids[slot]);
                at = graph.origins[slot] as usize;
            }
            path.reverse();
            out.push(Propagated {
                column: graph.nodes[node as usize],
                tag,
                source: graph.nodes[source_of[node as usize] as usize],
                path,
            });
        }
    }
    out
}

const NONE: u32 = u32::MAX;

/// Edges that carry tags, as adjacency arrays: node `i`'s outgoing edges are the slots
/// `offsets[i]..offsets[i + 1]`, ordered by target column id and then edge id.
struct Graph {
    /// Column id of each node, ascending.
    nodes: Vec<i64>,
    index: HashMap<i64, u32>,
    offsets: Vec<u32>,
    targets: Vec<u32>,
    origins: Vec<u32>,
    edge_ids: Vec<i64>,
}

impl Graph {
    fn new(edges: &[Edge], blocked: &HashSet<i64>, policy: Policy) -> Self {
        let mut kept: Vec<&Edge> = edges
            .iter()
            .filter(|e| {
                !blocked.contains(&e.id)
                    && (e.kind != EdgeKind::Aggregate || policy.through_aggregates)
                    && e.from != e.to
            })
            .collect();
        kept.sort_unstable_by_key(|e| (e.from, e.to, e.id));
        let mut nodes: Vec<i64> = Vec::with_capacity(kept.len() * 2);
        for e in &kept {
            nodes.push(e.from);
            nodes.push(e.to);
        }
        nodes.sort_unstable();
        nodes.dedup();
        let index: HashMap<i64, u32> = nodes.iter().enumerate().map(|(i, id)| (*id, i as u32)).collect();
        let mut offsets: Vec<u32> = vec![0; nodes.len() + 1];
        let mut targets = Vec::with_capacity(kept.len());
        let mut origins = Vec::with_capacity(kept.len());
        let mut edge_ids = Vec::with_capacity(kept.len());
        for e in &kept {
            let from = index[&e.from];
            offsets[from as usize + 1] += 1;
            targets.push(index[&e.to]);
            origins.push(from);
            edge_ids.push(e.id);
        }
        for i in 0..nodes.len() {
            offsets[i + 1] += offsets[i];
        }
        Self { nodes, index, offsets, targets, origins, edge_ids }
    }
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
