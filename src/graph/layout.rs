//! A layered left-to-right layout for lineage: cycles broken by a depth-first search, ranks by
//! longest path (sources on the left), order within a rank by barycentre sweeps to cut
//! crossings, and coordinates from node heights. Deterministic for the same input.

use std::collections::{HashMap, HashSet};

/// Width of every node box.
pub const NODE_WIDTH: f32 = 230.0;
/// Space between ranks (where edges run).
pub const RANK_GAP: f32 = 110.0;
/// Space between nodes of a rank.
pub const NODE_GAP: f32 = 22.0;
/// Margin around the drawing.
pub const MARGIN: f32 = 16.0;

/// A node to place, with its height (a node expanded to its columns is taller).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub id: i64,
    pub height: f32,
}

/// Top-left corner of a placed node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    pub x: f32,
    pub y: f32,
    pub rank: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub positions: HashMap<i64, Position>,
    pub width: f32,
    pub height: f32,
}

/// Places `nodes` joined by `edges` (`from → to`; edges to unknown nodes are ignored).
pub fn layout(nodes: &[Node], edges: &[(i64, i64)]) -> Layout {
    let mut ids: Vec<i64> = nodes.iter().map(|n| n.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let heights: Vec<f32> = {
        let by_id: HashMap<i64, f32> = nodes.iter().map(|n| (n.id, n.height)).collect();
        ids.iter().map(|id| by_id[id]).collect()
    };
    let n = ids.len();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for (from, to) in edges {
        if let (Some(&a), Some(&b)) = (index.get(from), index.get(to))
            && a != b
            && seen.insert((a, b))
        {
            succ[a].push(b);
        }
    }
    for s in &mut succ {
        s.sort_unstable();
    }
    let dag = break_cycles(&succ);
    let rank = ranks(&dag);
    let rank_count = rank.iter().copied().max().map_or(0, |r| r + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); rank_count];
    for i in 0..n {
        rows[rank[i]].push(i);
    }
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, targets) in dag.iter().enumerate() {
        for &b in targets {
            pred[b].push(a);
        }
    }
    order(&mut rows, &dag, &pred);

    let mut positions = HashMap::with_capacity(n);
    let mut height: f32 = 0.0;
    for (r, row) in rows.iter().enumerate() {
        let x = MARGIN + r as f32 * (NODE_WIDTH + RANK_GAP);
        let mut y = MARGIN;
        for &i in row {
            positions.insert(ids[i], Position { x, y, rank: r });
            y += heights[i] + NODE_GAP;
        }
        height = height.max(y - NODE_GAP + MARGIN);
    }
    let width =
        if rank_count == 0 { 0.0 } else { 2.0 * MARGIN + rank_count as f32 * (NODE_WIDTH + RANK_GAP) - RANK_GAP };
    Layout { positions, width, height }
}

/// The edges minus those that close a cycle (found by an iterative depth-first search).
fn break_cycles(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let n = succ.len();
    let mut state = vec![State::New; n];
    let mut dag: Vec<Vec<usize>> = vec![Vec::new(); n];
    for start in 0..n {
        if state[start] != State::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = State::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = succ[node].get(*next) {
                *next += 1;
                match state[to] {
                    State::Open => {} // a back edge: dropped
                    State::Done => dag[node].push(to),
                    State::New => {
                        dag[node].push(to);
                        state[to] = State::Open;
                        stack.push((to, 0));
                    }
                }
            } else {
                state[node] = State::Done;
                stack.pop();
            }
        }
    }
    dag
}

/// Longest-path ranks of a DAG: a node sits one rank right of its furthest predecessor.
fn ranks(dag: &[Vec<usize>]) -> Vec<usize> {
    let n = dag.len();
    let mut indegree = vec![0usize; n];
    for targets in dag {
        for &b in targets {
            indegree[b] += 1;
        }
    }
    let mut rank = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    ready.reverse();
    while let Some(a) = ready.pop() {
        for &b in &dag[a] {
            rank[b] = rank[b].max(rank[a] + 1);
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.push(b);
            }
        }
    }
    rank
}

/// Orders each rank by the mean position of its neighbours in the previous rank (sweeping right,
/// then left, a few times); nodes with no neighbour there keep their place.
fn order(rows: &mut [Vec<usize>], succ: &[Vec<usize>], pred: &[Vec<usize>]) {
    let n = succ.len();
    let mut position = vec![0f32; n];
    let set = |rows: &[Vec<usize>], position: &mut Vec<f32>| {
        for row in rows {
            for (p, &i) in row.iter().enumerate() {
                position[i] = p as f32;
            }
        }
    };
    set(rows, &mut position);
    for sweep in 0..4 {
        let rightward = sweep % 2 == 0;
        let range: Vec<usize> =
            if rightward { (1..rows.len()).collect() } else { (0..rows.len().saturating_sub(1)).rev().collect() };
        for r in range {
            let neighbours = if rightward { pred } else { succ };
            let mut keyed: Vec<(f32, usize)> = rows[r]
                .iter()
                .map(|&i| {
                    let ns = &neighbours[i];
                    let key = if ns.is_empty() {
                        position[i]
                    } else {
                        ns.iter().map(|&j| position[j]).sum::<f32>() / ns.len() as f32
                    };
                    (key, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[r] = keyed.into_iter().map(|(_, i)| i).collect();
            for (p, &i) in rows[r].iter().enumerate() {
                position[i] = p as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(ids: &[i64]) -> Vec<Node> {
        ids.iter().map(|&id| Node { id, height: 40.0 }).collect()
    }

    #[test]
    fn sources_sit_left_of_what_they_feed_and_cycles_still_lay_out() {
        // 1 → 2 → 3, 1 → 3, 3 → 1 (a cycle), 4 → 3.
        let l = layout(&nodes(&[1, 2, 3, 4]), &[(1, 2), (2, 3), (1, 3), (3, 1), (4, 3)]);
        let rank = |id| l.positions[&id].rank;
        assert_eq!((rank(1), rank(2), rank(3), rank(4)), (0, 1, 2, 0));
        assert!(l.positions[&1].x < l.positions[&2].x && l.positions[&2].x < l.positions[&3].x);
        assert!(l.width > 3.0 * NODE_WIDTH && l.height >= 2.0 * 40.0);
        // Nodes of one rank do not overlap.
        let (a, b) = (l.positions[&1], l.positions[&4]);
        assert!((a.y - b.y).abs() >= 40.0 + NODE_GAP);
    }

    #[test]
    fn barycentre_ordering_uncrosses_a_simple_crossing() {
        // 1 → 4, 2 → 3: ids would put 3 above 4, crossing the edges; the sweep swaps them.
        let l = layout(&nodes(&[1, 2, 3, 4]), &[(1, 4), (2, 3)]);
        assert!(l.positions[&1].y < l.positions[&2].y);
        assert!(l.positions[&4].y < l.positions[&3].y, "{:?}", l.positions);
    }

    #[test]
    fn a_thousand_nodes_lay_out_deterministically() {
        let ids: Vec<i64> = (0..1000).collect();
        let edges: Vec<(i64, i64)> = (1..1000).map(|i| ((i - 1) / 10, i)).collect();
        let a = layout(&nodes(&ids), &edges);
        let b = layout(&nodes(&ids), &edges);
        assert_eq!(a.positions.len(), 1000);
        assert_eq!(a.positions, b.positions);
        assert_eq!(a.positions[&999].rank, 3);
    }
}
