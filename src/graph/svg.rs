//! Draws a laid-out lineage graph as SVG that reads without JavaScript: each node a box with its
//! dataset, source, classification level and a personal-data mark, linked to its page; expanded
//! nodes list their columns (each a link that highlights its path); edges are curves from the
//! right side of their source to the left side of their target, labelled with their pipelines,
//! coloured by personal-data category in that mode, and emphasised on a highlighted path.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::layout::{self, Layout, NODE_WIDTH};

/// Height of a node's header (name and source).
pub const HEADER: f32 = 46.0;
/// Height of one column row in an expanded node.
pub const ROW: f32 = 18.0;

#[derive(Debug, Clone, Default)]
pub struct DrawNode {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub href: String,
    /// The effective level's name and CSS colour name.
    pub level: Option<(String, String)>,
    pub personal: bool,
    /// The dataset the page is about.
    pub focus: bool,
    /// Where a click expands (or collapses) its columns.
    pub toggle_href: Option<String>,
    pub expanded: bool,
    pub columns: Vec<DrawColumn>,
    /// On the highlighted path.
    pub highlighted: bool,
}

impl DrawNode {
    pub fn height(&self) -> f32 {
        if self.expanded { HEADER + 6.0 + self.columns.len() as f32 * ROW } else { HEADER }
    }
}

#[derive(Debug, Clone, Default)]
pub struct DrawColumn {
    pub id: i64,
    pub name: String,
    pub personal: bool,
    pub highlighted: bool,
    /// Highlights this column's path.
    pub href: String,
}

#[derive(Debug, Clone, Default)]
pub struct DrawEdge {
    pub from: i64,
    pub to: i64,
    /// Column ends, when the edge joins columns of expanded nodes.
    pub from_column: Option<i64>,
    pub to_column: Option<i64>,
    /// Pipeline names.
    pub label: String,
    /// A colour class (personal-data mode: one per category); the page's stylesheet colours it
    /// (inline styles are not allowed by the content security policy).
    pub colour: Option<String>,
    pub highlighted: bool,
}

/// Lays out and draws; returns the SVG and the layout (for tests and callers that need sizes).
pub fn draw(nodes: &[DrawNode], edges: &[DrawEdge], show_labels: bool) -> (String, Layout) {
    let boxes: Vec<layout::Node> = nodes.iter().map(|n| layout::Node { id: n.id, height: n.height() }).collect();
    let pairs: Vec<(i64, i64)> = edges.iter().map(|e| (e.from, e.to)).collect();
    let placed = layout::layout(&boxes, &pairs);
    let by_id: HashMap<i64, &DrawNode> = nodes.iter().map(|n| (n.id, n)).collect();
    let mut out = String::with_capacity(nodes.len() * 600 + edges.len() * 250);
    let (w, h) = (placed.width.max(1.0), placed.height.max(1.0));
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="lineage-graph" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img" aria-labelledby="lineage-graph-title"><title id="lineage-graph-title">Lineage graph: {} datasets, {} edges</title>"#,
        nodes.len(),
        edges.len()
    );
    out.push_str(r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>"#);

    out.push_str(r#"<g class="edges">"#);
    for e in edges {
        let (Some(a), Some(b)) = (placed.positions.get(&e.from), placed.positions.get(&e.to)) else { continue };
        let (Some(na), Some(nb)) = (by_id.get(&e.from), by_id.get(&e.to)) else { continue };
        let y_of = |n: &DrawNode, top: f32, column: Option<i64>| {
            column
                .filter(|_| n.expanded)
                .and_then(|c| n.columns.iter().position(|k| k.id == c))
                .map_or(top + HEADER / 2.0, |i| top + HEADER + 6.0 + i as f32 * ROW + ROW / 2.0)
        };
        let (x1, y1) = (a.x + NODE_WIDTH, y_of(na, a.y, e.from_column));
        let (x2, y2) = (b.x, y_of(nb, b.y, e.to_column));
        let bend = ((x2 - x1).abs() / 2.0).max(40.0);
        let mut class = String::from(match (e.highlighted, e.from_column.is_some()) {
            (true, _) => "edge edge-highlighted",
            (false, true) => "edge edge-column",
            (false, false) => "edge",
        });
        if let Some(c) = &e.colour {
            class.push(' ');
            class.push_str(&attr(c));
        }
        let _ = write!(
            out,
            r#"<path class="{class}" data-from="{}" data-to="{}" d="M {x1:.1} {y1:.1} C {:.1} {y1:.1}, {:.1} {y2:.1}, {x2:.1} {y2:.1}" marker-end="url(#arrow)"><title>{} → {}{}</title></path>"#,
            e.from,
            e.to,
            x1 + bend,
            x2 - bend,
            text(&na.name),
            text(&nb.name),
            if e.label.is_empty() { String::new() } else { format!(" via {}", text(&e.label)) },
        );
        if show_labels && !e.label.is_empty() && e.from_column.is_none() {
            let _ = write!(
                out,
                r#"<text class="edge-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 4.0,
                text(&ellipsis(&e.label, 28))
            );
        }
    }
    out.push_str("</g><g class=\"nodes\">");
    for n in nodes {
        let Some(p) = placed.positions.get(&n.id) else { continue };
        let mut class = String::from("node");
        for (on, name) in
            [(n.focus, " node-focus"), (n.personal, " node-personal"), (n.highlighted, " node-highlighted")]
        {
            if on {
                class.push_str(name);
            }
        }
        let _ = write!(
            out,
            r#"<g class="{class}" data-dataset="{}" transform="translate({:.1},{:.1})"><rect width="{NODE_WIDTH:.0}" height="{:.0}" rx="6"/>"#,
            n.id,
            p.x,
            p.y,
            n.height()
        );
        let _ = write!(
            out,
            r#"<a href="{}"><text class="node-name" x="10" y="19">{}</text></a><text class="node-source" x="10" y="37">{}</text>"#,
            attr(&n.href),
            text(&ellipsis(&n.name, 27)),
            text(&ellipsis(&n.source, 18)),
        );
        let mut right = NODE_WIDTH - 8.0;
        if n.personal {
            let _ = write!(
                out,
                r#"<g class="personal-mark"><title>Holds personal data</title><circle cx="{:.0}" cy="32" r="5"/></g>"#,
                right - 5.0
            );
            right -= 16.0;
        }
        if let Some((level, colour)) = &n.level {
            let _ = write!(
                out,
                r#"<text class="node-level level-text-{}" x="{right:.0}" y="37" text-anchor="end">{}</text>"#,
                attr(colour),
                text(&ellipsis(level, 12))
            );
        }
        if let Some(toggle) = &n.toggle_href {
            let _ = write!(
                out,
                r#"<a href="{}" class="node-toggle" data-toggle="{}"><title>{}</title><text x="{:.0}" y="19" text-anchor="end">{}</text></a>"#,
                attr(toggle),
                n.id,
                if n.expanded { "Hide the columns" } else { "Show the columns" },
                NODE_WIDTH - 8.0,
                if n.expanded { "−" } else { "+" }
            );
        }
        if n.expanded {
            for (i, c) in n.columns.iter().enumerate() {
                let y = HEADER + 6.0 + i as f32 * ROW;
                let mut cc = String::from("column");
                if c.highlighted {
                    cc.push_str(" column-highlighted");
                }
                if c.personal {
                    cc.push_str(" column-personal");
                }
                let _ = write!(
                    out,
                    r#"<a href="{}" class="{cc}" data-column="{}"><rect x="4" y="{:.0}" width="{:.0}" height="{ROW:.0}" rx="3"/><text x="12" y="{:.0}">{}{}</text></a>"#,
                    attr(&c.href),
                    c.id,
                    y,
                    NODE_WIDTH - 8.0,
                    y + 13.0,
                    text(&ellipsis(&c.name, 28)),
                    if c.personal { " ●" } else { "" }
                );
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</g></svg>");
    (out, placed)
}

fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Text content, escaped.
fn text(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// An attribute value, escaped.
fn attr(s: &str) -> String {
    text(s).replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: i64, name: &str) -> DrawNode {
        DrawNode {
            id,
            name: name.into(),
            source: "shop".into(),
            href: format!("/datasets/{id}"),
            toggle_href: Some(format!("?expand={id}")),
            ..Default::default()
        }
    }

    #[test]
    fn nodes_and_edges_are_drawn_with_their_names_escaped() {
        let mut a = node(1, "main.customers");
        a.personal = true;
        a.level = Some(("Confidential".into(), "confidential".into()));
        let mut b = node(2, "main.<script>");
        b.expanded = true;
        b.columns = vec![DrawColumn {
            id: 20,
            name: "email".into(),
            personal: true,
            highlighted: true,
            href: "?column=20".into(),
        }];
        let edges = vec![
            DrawEdge { from: 1, to: 2, label: "load.sql".into(), ..Default::default() },
            DrawEdge {
                from: 1,
                to: 2,
                from_column: Some(10),
                to_column: Some(20),
                highlighted: true,
                ..Default::default()
            },
            DrawEdge { from: 1, to: 99, ..Default::default() },
        ];
        let (svg, l) = draw(&[a, b], &edges, true);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(" data-dataset=").count(), 2);
        assert_eq!(svg.matches("<path class=\"edge").count(), 2, "the edge to an unknown node is left out");
        assert!(svg.contains("main.customers") && svg.contains("main.&lt;script&gt;") && !svg.contains("<script>"));
        assert!(svg.contains("node-personal") && svg.contains("Confidential"));
        assert!(svg.contains("edge edge-highlighted") && svg.contains("column column-highlighted column-personal"));
        assert!(svg.contains(">load.sql</text>"), "the pipeline label");
        assert!(l.positions[&1].x < l.positions[&2].x);
    }
}
