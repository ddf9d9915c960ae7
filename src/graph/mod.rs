//! Pure graph work for lineage pages and impact analysis: breadth-first traversal over edges
//! loaded a frontier at a time (capped by depth, safe on cycles), a layered left-to-right layout
//! (`layout`), and its SVG drawing (`svg`). Nothing here reads the catalog: callers pass a
//! loader that fetches the edges of a frontier in one batch.

pub mod layout;
pub mod svg;

use std::collections::{HashMap, HashSet, VecDeque};

/// Which way to follow edges: to where data comes from, or to where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Upstream,
    Downstream,
}

/// A directed edge `from → to` (data flows from `from` into `to`), produced by `label` (a
/// pipeline id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    pub from: i64,
    pub to: i64,
    pub label: i64,
}

/// What a traversal reached: each node with its distance from the nearest root, and every edge
/// between reached nodes that the walk followed.
#[derive(Debug, Clone, Default)]
pub struct Reached {
    pub distance: HashMap<i64, u32>,
    pub edges: Vec<Edge>,
}

/// Walks from `roots` in `direction`, one frontier per call of `load` (which returns the edges
/// touching the given nodes on the walking side), up to `max_depth` steps (`None`: until nothing
/// new is reached). Each node is visited once, so cycles end the walk; edges are kept once.
pub fn traverse<E>(
    roots: &[i64],
    direction: Direction,
    max_depth: Option<u32>,
    mut load: impl FnMut(&[i64], Direction) -> Result<Vec<Edge>, E>,
) -> Result<Reached, E> {
    let mut reached = Reached::default();
    let mut seen_edges: HashSet<Edge> = HashSet::new();
    let mut frontier: Vec<i64> = Vec::new();
    for &r in roots {
        if reached.distance.insert(r, 0).is_none() {
            frontier.push(r);
        }
    }
    let mut depth = 0;
    while !frontier.is_empty() && max_depth.is_none_or(|m| depth < m) {
        depth += 1;
        let mut next = Vec::new();
        for edge in load(&frontier, direction)? {
            let far = match direction {
                Direction::Downstream => edge.to,
                Direction::Upstream => edge.from,
            };
            if seen_edges.insert(edge) {
                reached.edges.push(edge);
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = reached.distance.entry(far) {
                slot.insert(depth);
                next.push(far);
            }
        }
        frontier = next;
    }
    Ok(reached)
}

/// The nodes on a path through `node` in an edge set: everything upstream of it and everything
/// downstream of it, with the edges between them (for highlighting a column's path).
pub fn path_through(node: i64, edges: &[Edge]) -> (HashSet<i64>, HashSet<Edge>) {
    let mut out: HashMap<i64, Vec<Edge>> = HashMap::new();
    let mut into: HashMap<i64, Vec<Edge>> = HashMap::new();
    for e in edges {
        out.entry(e.from).or_default().push(*e);
        into.entry(e.to).or_default().push(*e);
    }
    let mut nodes = HashSet::from([node]);
    let mut on_path = HashSet::new();
    for (index, forward) in [(&out, true), (&into, false)] {
        let mut queue = VecDeque::from([node]);
        let mut seen = HashSet::from([node]);
        while let Some(n) = queue.pop_front() {
            for e in index.get(&n).into_iter().flatten() {
                on_path.insert(*e);
                let far = if forward { e.to } else { e.from };
                nodes.insert(far);
                if seen.insert(far) {
                    queue.push_back(far);
                }
            }
        }
    }
    (nodes, on_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(from: i64, to: i64) -> Edge {
        Edge { from, to, label: 1 }
    }

    /// 1 → 2 → 3 → 1 (a cycle), 3 → 4 → 5, 6 → 2.
    fn graph() -> Vec<Edge> {
        vec![e(1, 2), e(2, 3), e(3, 1), e(3, 4), e(4, 5), e(6, 2)]
    }

    fn loader(edges: Vec<Edge>) -> impl FnMut(&[i64], Direction) -> Result<Vec<Edge>, ()> {
        move |nodes, direction| {
            Ok(edges
                .iter()
                .filter(|e| nodes.contains(&if direction == Direction::Downstream { e.from } else { e.to }))
                .copied()
                .collect())
        }
    }

    #[test]
    fn a_walk_ends_on_cycles_and_counts_the_shortest_distance() {
        let r = traverse(&[1], Direction::Downstream, None, loader(graph())).unwrap();
        let mut d: Vec<(i64, u32)> = r.distance.into_iter().collect();
        d.sort();
        assert_eq!(d, vec![(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]);
        assert_eq!(r.edges.len(), 5, "1→2, 2→3, 3→1, 3→4, 4→5: {:?}", r.edges);
    }

    #[test]
    fn depth_limits_the_walk_both_ways() {
        let r = traverse(&[3], Direction::Downstream, Some(1), loader(graph())).unwrap();
        let mut nodes: Vec<i64> = r.distance.keys().copied().collect();
        nodes.sort();
        assert_eq!(nodes, vec![1, 3, 4]);
        let r = traverse(&[3], Direction::Upstream, Some(2), loader(graph())).unwrap();
        let mut nodes: Vec<i64> = r.distance.keys().copied().collect();
        nodes.sort();
        assert_eq!(nodes, vec![1, 2, 3, 6]);
        assert_eq!(r.distance[&6], 2);
        let r = traverse(&[3], Direction::Upstream, Some(0), loader(graph())).unwrap();
        assert_eq!(r.distance.len(), 1);
    }

    #[test]
    fn a_path_through_a_node_holds_its_ancestors_and_descendants_only() {
        let (nodes, edges) = path_through(4, &graph());
        let mut n: Vec<i64> = nodes.into_iter().collect();
        n.sort();
        assert_eq!(n, vec![1, 2, 3, 4, 5, 6]);
        assert!(edges.contains(&e(4, 5)) && edges.contains(&e(6, 2)));
        let (nodes, edges) = path_through(5, &[e(1, 2), e(2, 5), e(3, 4)]);
        assert!(!nodes.contains(&3) && !nodes.contains(&4));
        assert_eq!(edges.len(), 2);
    }
}
