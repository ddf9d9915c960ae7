//! Combining statement facts into the script's lineage, in the flow or effects view.
//!
//! Flow follows table versions through the script: a table written and later read is
//! intermediate, and readers see what was written into it (composed column lineage);
//! DROP ends a version, RENAME and SWAP move versions between names. Effects simply lists
//! every table read and every table changed.

use super::model::{ColumnEdge, EdgeKind, View};
use super::query::{Ctx, Src, Srcs, TableId, add_src};
use super::statement::{Edge, Facts, WriteMode};
use std::collections::HashMap;
use std::rc::Rc;

/// Combined lineage as names, before it is wrapped into the public type.
#[derive(Debug, Default)]
pub struct Combined {
    pub sources: Vec<String>,
    pub targets: Vec<String>,
    pub edges: Vec<ColumnEdge>,
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

pub fn src_name(ctx: &Ctx, s: &Src) -> String {
    match s {
        Src::Col(t, c) => format!("{}.{}", ctx.table(*t).display(), c),
        Src::Bare(c) => c.to_string(),
    }
}

fn target_name(ctx: &Ctx, t: TableId, col: &str) -> String {
    format!("{}.{}", ctx.table(t).display(), col)
}

/// Lineage of one statement alone, in the given view.
pub fn statement_view(ctx: &Ctx, f: &Facts, view: View) -> Combined {
    let mut c = Combined::default();
    match view {
        View::Flow => {
            if !f.flow {
                return c;
            }
            let modified: Vec<TableId> =
                f.writes.iter().filter(|w| w.mode == WriteMode::Modify).map(|w| w.table).collect();
            for r in &f.reads {
                if !modified.contains(r) {
                    push_unique(&mut c.sources, ctx.table(*r).display());
                }
            }
            for w in &f.writes {
                if matches!(w.mode, WriteMode::Replace | WriteMode::Append | WriteMode::Modify | WriteMode::SwapWith(_))
                {
                    push_unique(&mut c.targets, ctx.table(w.table).display());
                }
            }
            c.edges = raw_edges(ctx, &f.edges);
        }
        View::Effects => effects_into(ctx, f, &mut c),
    }
    c
}

fn raw_edges(ctx: &Ctx, edges: &[Edge]) -> Vec<ColumnEdge> {
    let mut out = Vec::with_capacity(edges.len());
    for e in edges {
        push_unique(
            &mut out,
            ColumnEdge { source: src_name(ctx, &e.src), target: target_name(ctx, e.table, &e.column), kind: e.kind },
        );
    }
    out
}

fn effects_into(ctx: &Ctx, f: &Facts, c: &mut Combined) {
    for r in &f.reads {
        push_unique(&mut c.sources, ctx.table(*r).display());
    }
    for w in &f.writes {
        if let WriteMode::RenameTo(u) = w.mode {
            // The old name is read (its data moves), the new name is written.
            push_unique(&mut c.sources, ctx.table(w.table).display());
            push_unique(&mut c.targets, ctx.table(u).display());
            continue;
        }
        push_unique(&mut c.targets, ctx.table(w.table).display());
        if let WriteMode::SwapWith(u) = w.mode {
            push_unique(&mut c.targets, ctx.table(u).display());
            push_unique(&mut c.sources, ctx.table(w.table).display());
            push_unique(&mut c.sources, ctx.table(u).display());
        }
    }
    // The effects view reports columns it can name: whole-row (`t.*`) edges stay out.
    for e in raw_edges(ctx, &f.edges) {
        if !is_star(&e.source) && !is_star(&e.target) {
            push_unique(&mut c.edges, e);
        }
    }
    if f.writes.is_empty() {
        for (i, col) in f.outputs.iter().enumerate() {
            let name = if col.named && !col.name.is_empty() { col.name.to_string() } else { format!("_{i}") };
            for (s, k) in &col.srcs {
                if matches!(s, Src::Col(_, c) if &**c == "*") || col.star {
                    continue;
                }
                push_unique(&mut c.edges, ColumnEdge { source: src_name(ctx, s), target: name.clone(), kind: *k });
            }
        }
    }
}

fn is_star(name: &str) -> bool {
    name == "*" || name.ends_with(".*")
}

/// Effects view of a script: every statement's reads and changes, united.
pub fn effects(ctx: &Ctx, facts: &[&Facts]) -> Combined {
    let mut c = Combined::default();
    for f in facts {
        effects_into(ctx, f, &mut c);
    }
    c
}

// ------------------------------------------------------------------ flow

#[derive(Debug, Clone, Copy)]
enum Base {
    None,
    Version(usize),
    External(TableId),
}

#[derive(Debug)]
struct Version {
    name: TableId,
    explicit: Vec<TableId>,
    cols: Vec<(Rc<str>, Srcs)>,
    base: Base,
    /// Append: the base's rows remain alongside ours; Modify: base fills unwritten columns.
    union_base: bool,
    read: bool,
    dropped: bool,
    superseded: bool,
}

#[derive(Default)]
struct State {
    versions: Vec<Version>,
    live: HashMap<TableId, usize>,
    alias: HashMap<TableId, TableId>,
}

impl State {
    fn content(&mut self, v: usize, out: &mut Vec<TableId>, depth: u32) {
        if depth > 256 {
            return;
        }
        for t in self.versions[v].explicit.clone() {
            push_unique(out, t);
        }
        match self.versions[v].base {
            Base::Version(p) => self.content(p, out, depth + 1),
            Base::External(e) => push_unique(out, e),
            Base::None => {}
        }
    }

    /// External tables whose data is in `t` now; marks the version read.
    fn read_table(&mut self, t: TableId, out: &mut Vec<TableId>) {
        if let Some(&v) = self.live.get(&t) {
            self.versions[v].read = true;
            self.content(v, out, 0);
        } else if let Some(&e) = self.alias.get(&t) {
            push_unique(out, e);
        } else {
            push_unique(out, t);
        }
    }

    fn version_col(&self, v: usize, col: &str, kind: EdgeKind, out: &mut Srcs, depth: u32) {
        if depth > 256 {
            return;
        }
        let ver = &self.versions[v];
        let mut found = false;
        for (c, srcs) in &ver.cols {
            if c.eq_ignore_ascii_case(col) {
                for (s, k) in srcs {
                    add_src(out, s.clone(), k.then(kind));
                }
                found = true;
            } else if &**c == "*" {
                for (s, k) in srcs {
                    let s = match s {
                        Src::Col(t, star) if &**star == "*" => Src::Col(*t, Rc::from(col)),
                        other => other.clone(),
                    };
                    add_src(out, s, k.then(kind));
                    found = true;
                }
            }
        }
        if found && !ver.union_base {
            return;
        }
        match ver.base {
            Base::Version(p) => self.version_col(p, col, kind, out, depth + 1),
            Base::External(e) => add_src(out, Src::Col(e, Rc::from(col)), kind),
            Base::None => {}
        }
    }

    /// Resolves an edge's source against the script state: pairs of (source, target column).
    fn resolve_edge(&self, e: &Edge, out: &mut Vec<(Src, Rc<str>, EdgeKind)>) {
        let Src::Col(t, col) = &e.src else {
            out.push((e.src.clone(), e.column.clone(), e.kind));
            return;
        };
        let live = self.live.get(t).copied();
        let ext = self.alias.get(t).copied().unwrap_or(*t);
        match live {
            None => out.push((Src::Col(ext, col.clone()), e.column.clone(), e.kind)),
            Some(v) if &**col == "*" => self.expand_star(v, e, out, 0),
            Some(v) => {
                let mut srcs = Srcs::new();
                self.version_col(v, col, e.kind, &mut srcs, 0);
                for (s, k) in srcs {
                    out.push((s, e.column.clone(), k));
                }
            }
        }
    }

    fn expand_star(&self, v: usize, e: &Edge, out: &mut Vec<(Src, Rc<str>, EdgeKind)>, depth: u32) {
        if depth > 256 {
            return;
        }
        let ver = &self.versions[v];
        for (c, srcs) in &ver.cols {
            let target = if &*e.column == "*" { c.clone() } else { e.column.clone() };
            for (s, k) in srcs {
                out.push((s.clone(), target.clone(), k.then(e.kind)));
            }
        }
        match ver.base {
            Base::Version(p) => self.expand_star(p, e, out, depth + 1),
            Base::External(x) => out.push((Src::Col(x, Rc::from("*")), e.column.clone(), e.kind)),
            Base::None => {}
        }
    }

    fn supersede(&mut self, t: TableId) -> Option<usize> {
        let v = self.live.remove(&t)?;
        self.versions[v].superseded = true;
        Some(v)
    }

    fn report_cols(&self, v: usize, out: &mut Vec<(Rc<str>, Srcs)>, depth: u32) {
        let ver = &self.versions[v];
        for (c, srcs) in &ver.cols {
            match out.iter_mut().find(|(x, _)| x.eq_ignore_ascii_case(c)) {
                Some((_, existing)) => {
                    for (s, k) in srcs {
                        add_src(existing, s.clone(), *k);
                    }
                }
                None => out.push((c.clone(), srcs.clone())),
            }
        }
        if depth > 256 {
            return;
        }
        if let Base::Version(p) = ver.base {
            let mut base_cols = Vec::new();
            self.report_cols(p, &mut base_cols, depth + 1);
            for (c, srcs) in base_cols {
                let present = out.iter().position(|(x, _)| x.eq_ignore_ascii_case(&c));
                match present {
                    Some(i) if ver.union_base => {
                        for (s, k) in srcs {
                            add_src(&mut out[i].1, s, k);
                        }
                    }
                    Some(_) => {}
                    None => out.push((c, srcs)),
                }
            }
        }
    }
}

/// Flow view of a script: end-to-end lineage through intermediate tables.
pub fn flow(ctx: &Ctx, facts: &[&Facts]) -> Combined {
    let mut st = State::default();
    let mut sources: Vec<TableId> = Vec::new();
    for f in facts {
        if !f.flow {
            // Statements that move no data still end or rename tables.
            for w in &f.writes {
                apply_structural(&mut st, w.table, w.mode);
            }
            continue;
        }
        let modified: Vec<TableId> = f.writes.iter().filter(|w| w.mode == WriteMode::Modify).map(|w| w.table).collect();
        let mut ext = Vec::new();
        for r in &f.reads {
            if !modified.contains(r) {
                st.read_table(*r, &mut ext);
            }
        }
        for t in &ext {
            push_unique(&mut sources, *t);
        }
        let mut resolved: Vec<(TableId, Src, Rc<str>, EdgeKind)> = Vec::new();
        let mut tmp = Vec::new();
        for e in &f.edges {
            tmp.clear();
            st.resolve_edge(e, &mut tmp);
            for (s, c, k) in tmp.drain(..) {
                resolved.push((e.table, s, c, k));
            }
        }
        // What flows into each write, resolved before any write of this statement lands.
        let mut explicits: Vec<Vec<TableId>> = Vec::with_capacity(f.writes.len());
        for w in &f.writes {
            let mut explicit = Vec::new();
            for r in &w.reads {
                if *r != w.table || w.mode != WriteMode::Modify {
                    st.read_table(*r, &mut explicit);
                }
            }
            explicits.push(explicit);
        }
        for (w, explicit) in f.writes.iter().zip(explicits) {
            let mut cols: Vec<(Rc<str>, Srcs)> = Vec::new();
            for (t, s, c, k) in &resolved {
                if *t != w.table {
                    continue;
                }
                match cols.iter_mut().find(|(x, _)| x.eq_ignore_ascii_case(c)) {
                    Some((_, srcs)) => add_src(srcs, s.clone(), *k),
                    None => cols.push((c.clone(), vec![(s.clone(), *k)])),
                }
            }
            for (t, c) in &f.assigned {
                if *t == w.table && !cols.iter().any(|(x, _)| x.eq_ignore_ascii_case(c)) {
                    cols.push((c.clone(), Srcs::new()));
                }
            }
            let (base, union_base) = match w.mode {
                WriteMode::Replace => {
                    st.supersede(w.table);
                    (Base::None, false)
                }
                WriteMode::Append => match st.supersede(w.table) {
                    Some(p) => (Base::Version(p), true),
                    None => (Base::None, true),
                },
                WriteMode::Modify => match st.supersede(w.table) {
                    Some(p) => (Base::Version(p), false),
                    None => (Base::External(st.alias.get(&w.table).copied().unwrap_or(w.table)), false),
                },
                WriteMode::SwapWith(u) => {
                    let old_t = st.live.remove(&w.table);
                    let old_alias = st.alias.remove(&w.table);
                    st.supersede(u);
                    st.alias.remove(&u);
                    match old_t {
                        Some(v) => {
                            st.versions[v].name = u;
                            st.live.insert(u, v);
                        }
                        None => {
                            st.alias.insert(u, old_alias.unwrap_or(w.table));
                        }
                    }
                    (Base::None, false)
                }
                other => {
                    apply_structural(&mut st, w.table, other);
                    continue;
                }
            };
            let v = st.versions.len();
            st.versions.push(Version {
                name: w.table,
                explicit,
                cols,
                base,
                union_base,
                read: false,
                dropped: false,
                superseded: false,
            });
            st.live.insert(w.table, v);
        }
    }

    let mut c = Combined::default();
    for t in &sources {
        push_unique(&mut c.sources, ctx.table(*t).display());
    }
    for v in 0..st.versions.len() {
        let ver = &st.versions[v];
        if ver.read || ver.dropped || ver.superseded {
            continue;
        }
        let name = ver.name;
        push_unique(&mut c.targets, ctx.table(name).display());
        let mut cols = Vec::new();
        st.report_cols(v, &mut cols, 0);
        for (col, srcs) in cols {
            for (s, k) in srcs {
                push_unique(
                    &mut c.edges,
                    ColumnEdge { source: src_name(ctx, &s), target: target_name(ctx, name, &col), kind: k },
                );
            }
        }
    }
    subsume_star_copies(&mut c.edges);
    c
}

fn apply_structural(st: &mut State, t: TableId, mode: WriteMode) {
    match mode {
        WriteMode::Drop => {
            if let Some(v) = st.live.remove(&t) {
                st.versions[v].dropped = true;
            }
            st.alias.remove(&t);
        }
        WriteMode::RenameTo(u) => {
            st.supersede(u);
            st.alias.remove(&u);
            if let Some(v) = st.live.remove(&t) {
                st.versions[v].name = u;
                st.live.insert(u, v);
            } else {
                let original = st.alias.remove(&t).unwrap_or(t);
                st.alias.insert(u, original);
            }
        }
        _ => {}
    }
}

/// `s.* -> t.*` already says that every column of `s` is copied to `t`: drop the
/// identity copies `s.c -> t.c` it implies.
fn subsume_star_copies(edges: &mut Vec<ColumnEdge>) {
    let stars: Vec<(String, String)> = edges
        .iter()
        .filter_map(|e| {
            let s = e.source.strip_suffix(".*")?;
            let t = e.target.strip_suffix(".*")?;
            Some((s.to_string(), t.to_string()))
        })
        .collect();
    if stars.is_empty() {
        return;
    }
    edges.retain(|e| {
        if e.kind != EdgeKind::Identity || e.source.ends_with(".*") {
            return true;
        }
        let (Some((s, sc)), Some((t, tc))) = (e.source.rsplit_once('.'), e.target.rsplit_once('.')) else {
            return true;
        };
        !(sc.eq_ignore_ascii_case(tc) && stars.iter().any(|(a, b)| a == s && b == t))
    });
}
