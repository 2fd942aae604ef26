//! The graph as text: Mermaid (`flowchart`), Graphviz DOT, and SVG drawn from [`Layout`]. SVG
//! is what the console shows too: each node a `<g class="node" data-state=…>` that the page
//! colours by status and makes focusable, so one drawing serves the command line and the
//! browser.

use std::fmt::Write;

use crate::layout::{CLUSTER_HEADER, FONT_SIZE, Layout};
use crate::model::{EdgeKind, Graph, NodeKind};
use crate::status::{StateStatus, Statuses};

/// Fill and stroke of each status, after AWS's console.
pub const STATUS_COLOURS: [(&str, &str, &str); 6] = [
    ("succeeded", "#d7f0d0", "#1d8102"),
    ("failed", "#fde2df", "#d13212"),
    ("caught", "#ffe8c6", "#c45500"),
    ("running", "#d9ecfa", "#0073bb"),
    ("cancelled", "#e9ebed", "#545b64"),
    ("notreached", "#ffffff", "#879596"),
];

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn status_class(statuses: Option<&Statuses>, state: Option<&str>) -> &'static str {
    match (statuses, state) {
        (Some(s), Some(name)) => s
            .get(name)
            .map_or("notreached", |summary| summary.status.as_str()),
        _ => "notreached",
    }
}

/// How an SVG is drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct SvgOptions {
    /// Without the `<style>` block and fixed sizes: for a page that styles it itself.
    pub embedded: bool,
}

/// The laid-out graph as SVG; with `statuses`, each state is coloured by its status.
pub fn svg(
    graph: &Graph,
    layout: &Layout,
    statuses: Option<&Statuses>,
    options: SvgOptions,
) -> String {
    let mut s = String::new();
    let (w, h) = (layout.width.ceil(), layout.height.ceil());
    let size = if options.embedded {
        String::new()
    } else {
        format!(r#" width="{w}" height="{h}""#)
    };
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="sw-graph" viewBox="0 0 {w} {h}"{size} role="group" aria-label="State machine graph">"#
    );
    s.push_str(r##"<defs><marker id="sw-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="arrowhead" fill="#545b64"/></marker></defs>"##);
    if !options.embedded {
        s.push_str("<style>");
        let _ = write!(
            s,
            "text{{font-family:Helvetica,Arial,sans-serif;font-size:{FONT_SIZE}px;fill:#16191f}}\
             .edge path{{fill:none;stroke:#545b64;stroke-width:1.5}}.edge-catch path{{stroke-dasharray:5 4}}\
             .edge .label-bg{{fill:#ffffff}}.cluster>rect{{fill-opacity:0.35}}.branch>rect{{fill:none;stroke:#aab7b8;stroke-dasharray:4 3}}\
             .status-cancelled>rect{{stroke-dasharray:4 3}}"
        );
        for (name, fill, stroke) in STATUS_COLOURS {
            let _ = write!(
                s,
                ".status-{name}>rect,.status-{name}>ellipse{{fill:{fill};stroke:{stroke};stroke-width:1.5}}"
            );
        }
        s.push_str("</style>");
    }
    // Clusters first (outer before inner), then edges, then the other nodes on top.
    let order: Vec<usize> =
        (0..graph.nodes.len())
            .filter(|&i| graph.nodes[i].is_cluster() || graph.nodes[i].kind == NodeKind::Branch)
            .chain(std::iter::once(usize::MAX))
            .chain((0..graph.nodes.len()).filter(|&i| {
                !graph.nodes[i].is_cluster() && graph.nodes[i].kind != NodeKind::Branch
            }))
            .collect();
    for i in order {
        if i == usize::MAX {
            edges(&mut s, graph, layout);
            continue;
        }
        let n = &graph.nodes[i];
        let p = &layout.nodes[i];
        let status = status_class(statuses, n.state.as_deref());
        let mut classes = format!(
            "node kind-{}",
            match n.kind {
                NodeKind::Start => "start",
                NodeKind::End => "end",
                NodeKind::State => "state",
                NodeKind::Branch => "branch",
            }
        );
        if let Some(t) = &n.state_type {
            let _ = write!(classes, " type-{t}");
        }
        if n.is_cluster() && n.kind == NodeKind::State {
            classes.push_str(" cluster");
        }
        if n.kind == NodeKind::Branch {
            classes.push_str(" branch");
        } else {
            let _ = write!(classes, " status-{status}");
        }
        let _ = write!(
            s,
            r#"<g class="{classes}" data-node="{}""#,
            escape_xml(&n.id)
        );
        if let Some(name) = &n.state {
            let t = n.state_type.as_deref().unwrap_or_default();
            let _ = write!(
                s,
                r#" data-state="{}" data-status="{status}" tabindex="0" role="button" aria-label="{} ({t})""#,
                escape_xml(name),
                escape_xml(name)
            );
        }
        s.push('>');
        let label = escape_xml(&n.label);
        match n.kind {
            NodeKind::Start | NodeKind::End => {
                let _ = write!(
                    s,
                    r##"<ellipse cx="{:.1}" cy="{:.1}" rx="{:.1}" ry="{:.1}" fill="#fafafa" stroke="#545b64"/><text x="{:.1}" y="{:.1}" text-anchor="middle" dominant-baseline="central">{label}</text>"##,
                    p.x + p.w / 2.0,
                    p.y + p.h / 2.0,
                    p.w / 2.0,
                    p.h / 2.0,
                    p.x + p.w / 2.0,
                    p.y + p.h / 2.0
                );
            }
            _ if n.is_cluster() || n.kind == NodeKind::Branch => {
                let title = match &n.state_type {
                    Some(t) => format!("{label} ({t})"),
                    None => label,
                };
                let _ = write!(
                    s,
                    r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="6" fill="#ffffff" stroke="#879596"/><text x="{:.1}" y="{:.1}" dominant-baseline="central" font-weight="bold">{title}</text>"##,
                    p.x,
                    p.y,
                    p.w,
                    p.h,
                    p.x + 10.0,
                    p.y + CLUSTER_HEADER / 2.0
                );
            }
            _ => {
                let _ = write!(
                    s,
                    r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="4" fill="#ffffff" stroke="#879596"/><text x="{:.1}" y="{:.1}" text-anchor="middle" dominant-baseline="central">{label}</text>"##,
                    p.x,
                    p.y,
                    p.w,
                    p.h,
                    p.x + p.w / 2.0,
                    p.y + p.h / 2.0
                );
            }
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>\n");
    s
}

fn edges(s: &mut String, graph: &Graph, layout: &Layout) {
    for (e, edge) in graph.edges.iter().enumerate() {
        let placed = &layout.edges[e];
        if placed.points.len() < 4 {
            continue;
        }
        let kind = edge_kind_name(edge.kind);
        let marker = if placed.reversed {
            "marker-start"
        } else {
            "marker-end"
        };
        let _ = write!(
            s,
            r##"<g class="edge edge-{kind}" data-from="{}" data-to="{}"><path d="{}" {marker}="url(#sw-arrow)" fill="none" stroke="#545b64"{}/>"##,
            escape_xml(&graph.nodes[edge.from].id),
            escape_xml(&graph.nodes[edge.to].id),
            placed.svg_path(),
            if edge.kind == EdgeKind::Catch {
                r#" stroke-dasharray="5 4""#
            } else {
                ""
            }
        );
        if let (Some(label), Some([x, y])) = (&edge.label, placed.label_at) {
            let w = crate::layout::text_width(label) + 8.0;
            let _ = write!(
                s,
                r##"<rect class="label-bg" x="{:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" rx="3" fill="#ffffff"/><text class="label" x="{x:.1}" y="{y:.1}" text-anchor="middle" dominant-baseline="central" font-size="{:.0}">{}</text>"##,
                x - w / 2.0,
                y - FONT_SIZE * 0.75,
                FONT_SIZE * 1.5,
                FONT_SIZE - 1.0,
                escape_xml(label)
            );
        }
        s.push_str("</g>");
    }
}

fn edge_kind_name(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Start => "start",
        EdgeKind::Next => "next",
        EdgeKind::Choice => "choice",
        EdgeKind::Default => "default",
        EdgeKind::Catch => "catch",
        EdgeKind::End => "end",
    }
}

/// The graph as a Mermaid flowchart; clusters are subgraphs. With `statuses`, states are
/// given their status's class.
pub fn mermaid(graph: &Graph, statuses: Option<&Statuses>) -> String {
    let mut s = String::from("flowchart TD\n");
    let quote = |t: &str| t.replace('"', "#quot;");
    fn node(s: &mut String, graph: &Graph, i: usize, depth: usize, quote: &dyn Fn(&str) -> String) {
        let n = &graph.nodes[i];
        let pad = "  ".repeat(depth);
        if n.is_cluster() || n.kind == NodeKind::Branch {
            let title = match &n.state_type {
                Some(t) => format!("{} ({t})", n.label),
                None => n.label.clone(),
            };
            let _ = writeln!(s, "{pad}subgraph n{i}[\"{}\"]", quote(&title));
            let _ = writeln!(s, "{pad}  direction TB");
            for &c in &n.children {
                node(s, graph, c, depth + 1, quote);
            }
            let _ = writeln!(s, "{pad}end");
        } else {
            let label = quote(&n.label);
            let _ = match n.kind {
                NodeKind::Start | NodeKind::End => writeln!(s, "{pad}n{i}((\"{label}\"))"),
                _ if n.state_type.as_deref() == Some("Choice") => {
                    writeln!(s, "{pad}n{i}{{\"{label}\"}}")
                }
                _ => writeln!(s, "{pad}n{i}[\"{label}\"]"),
            };
        }
    }
    for i in graph.members(None) {
        node(&mut s, graph, i, 1, &quote);
    }
    for edge in &graph.edges {
        let arrow = if edge.kind == EdgeKind::Catch {
            "-.->"
        } else {
            "-->"
        };
        match &edge.label {
            Some(l) => {
                let _ = writeln!(s, "  n{} {arrow}|\"{}\"| n{}", edge.from, quote(l), edge.to);
            }
            None => {
                let _ = writeln!(s, "  n{} {arrow} n{}", edge.from, edge.to);
            }
        }
    }
    if let Some(st) = statuses {
        for (name, fill, stroke) in STATUS_COLOURS {
            let _ = writeln!(s, "  classDef {name} fill:{fill},stroke:{stroke}");
        }
        for (i, n) in graph.nodes.iter().enumerate() {
            if let Some(state) = &n.state {
                let class = st.get(state).map_or("notreached", |x| x.status.as_str());
                let _ = writeln!(s, "  class n{i} {class}");
            }
        }
    }
    s
}

/// The graph in Graphviz's DOT; clusters are `cluster_` subgraphs, and an edge to or from a
/// cluster is drawn to its first state (`lhead`/`ltail`).
pub fn dot(graph: &Graph, statuses: Option<&Statuses>) -> String {
    let mut s = String::from(
        "digraph StateMachine {\n  compound=true;\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=11];\n",
    );
    let quote = |t: &str| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""));
    let colour = |i: usize| -> String {
        let Some(st) = statuses else {
            return String::new();
        };
        let Some(name) = &graph.nodes[i].state else {
            return String::new();
        };
        let class = st.get(name).map_or("notreached", |x| x.status.as_str());
        STATUS_COLOURS
            .iter()
            .find(|c| c.0 == class)
            .map(|(_, fill, stroke)| format!(", fillcolor=\"{fill}\", color=\"{stroke}\""))
            .unwrap_or_default()
    };
    fn node(
        s: &mut String,
        graph: &Graph,
        i: usize,
        depth: usize,
        quote: &dyn Fn(&str) -> String,
        colour: &dyn Fn(usize) -> String,
    ) {
        let n = &graph.nodes[i];
        let pad = "  ".repeat(depth);
        if n.is_cluster() || n.kind == NodeKind::Branch {
            let title = match &n.state_type {
                Some(t) => format!("{} ({t})", n.label),
                None => n.label.clone(),
            };
            let _ = writeln!(s, "{pad}subgraph cluster_{i} {{");
            let _ = writeln!(s, "{pad}  label={};", quote(&title));
            if n.kind == NodeKind::State {
                let c = colour(i);
                if let Some(fill) = c.split('"').nth(1) {
                    let _ = writeln!(s, "{pad}  style=\"rounded,filled\"; fillcolor=\"{fill}\";");
                } else {
                    let _ = writeln!(s, "{pad}  style=rounded;");
                }
            } else {
                let _ = writeln!(s, "{pad}  style=dashed;");
            }
            for &c in &n.children {
                node(s, graph, c, depth + 1, quote, colour);
            }
            let _ = writeln!(s, "{pad}}}");
        } else {
            let shape = match n.kind {
                NodeKind::Start | NodeKind::End => ", shape=circle",
                _ if n.state_type.as_deref() == Some("Choice") => ", shape=diamond",
                _ => "",
            };
            let _ = writeln!(
                s,
                "{pad}n{i} [label={}{shape}{}];",
                quote(&n.label),
                colour(i)
            );
        }
    }
    for i in graph.members(None) {
        node(&mut s, graph, i, 1, &quote, &colour);
    }
    for edge in &graph.edges {
        let (from, ltail) = anchor(graph, edge.from);
        let (to, lhead) = anchor(graph, edge.to);
        let mut attrs = Vec::new();
        if let Some(l) = &edge.label {
            attrs.push(format!("label={}", quote(l)));
        }
        if edge.kind == EdgeKind::Catch {
            attrs.push("style=dashed".into());
        }
        if let Some(c) = ltail {
            attrs.push(format!("ltail=cluster_{c}"));
        }
        if let Some(c) = lhead {
            attrs.push(format!("lhead=cluster_{c}"));
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(s, "  n{from} -> n{to}{attrs};");
    }
    s.push_str("}\n");
    s
}

/// The node an edge to `i` is drawn to in DOT: `i` itself, or for a cluster its first leaf
/// and the cluster.
fn anchor(graph: &Graph, i: usize) -> (usize, Option<usize>) {
    let mut at = i;
    while let Some(&first) = graph.nodes[at].children.first() {
        at = first;
    }
    (at, (at != i).then_some(i))
}

/// The status a state is drawn with, for tests and legends.
pub fn status_name(status: Option<StateStatus>) -> &'static str {
    status.map_or("notreached", StateStatus::as_str)
}
