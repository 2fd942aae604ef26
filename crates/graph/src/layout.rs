//! Where each node and edge goes: a layered (Sugiyama-style) layout from the layout-rs crate,
//! top to bottom, one level at a time. A cluster's contents are laid out first; the cluster is
//! then one node of that size in the level above, so edges meet its border. Parallel branches
//! sit side by side inside their state.
//!
//! layout-rs draws through a render backend; [`Capture`] is one that keeps the edges' Bézier
//! paths instead of writing SVG, and node boxes are read from the laid-out graph.

use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;
use serde::Serialize;

use crate::model::{EdgeKind, Graph, NodeKind};

/// The height of a state's box.
pub const STATE_HEIGHT: f64 = 36.0;
/// Room for a cluster's title.
pub const CLUSTER_HEADER: f64 = 26.0;
/// Space between a cluster's border and what it holds.
pub const CLUSTER_PADDING: f64 = 12.0;
/// Space between two branches of a Parallel.
const BRANCH_GAP: f64 = 16.0;
/// Space around the whole drawing.
const MARGIN: f64 = 16.0;
/// Font size the label widths are estimated for.
pub const FONT_SIZE: f64 = 13.0;

/// A node's box, its top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlacedNode {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// An edge's path: `M p0 C p1 p2 p3 S p4 p5 …` as points, and where its label goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlacedEdge {
    pub points: Vec<[f64; 2]>,
    /// The path runs from `to` to `from` (a back edge, drawn reversed by the layout), so the
    /// arrow head is at its start.
    pub reversed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_at: Option<[f64; 2]>,
}

impl PlacedEdge {
    /// The path as SVG's `d`.
    pub fn svg_path(&self) -> String {
        let p = &self.points;
        let mut d = String::new();
        for (i, [x, y]) in p.iter().enumerate() {
            let cmd = match i {
                0 => "M",
                1 => " C",
                _ if i >= 4 && i % 2 == 0 => " S",
                _ => "",
            };
            d.push_str(&format!("{cmd} {x:.1} {y:.1}"));
        }
        d
    }
}

/// A laid-out graph: a box per node and a path per edge (same indexes as the graph's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<PlacedNode>,
    pub edges: Vec<PlacedEdge>,
}

/// Lays out the whole graph.
pub fn layout(graph: &Graph) -> Layout {
    let mut out = Layout {
        width: 0.0,
        height: 0.0,
        nodes: vec![
            PlacedNode {
                x: 0.0,
                y: 0.0,
                w: 0.0,
                h: 0.0
            };
            graph.nodes.len()
        ],
        edges: vec![
            PlacedEdge {
                points: Vec::new(),
                reversed: false,
                label_at: None,
            };
            graph.edges.len()
        ],
    };
    let (w, h) = place_level(graph, None, &mut out);
    // The top level was laid out around (0, 0): move everything by the margin.
    shift(graph, None, &mut out, MARGIN, MARGIN);
    out.width = w + 2.0 * MARGIN;
    out.height = h + 2.0 * MARGIN;
    out
}

/// How wide a label of `text` is drawn.
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT_SIZE * 0.6
}

fn leaf_size(graph: &Graph, i: usize) -> (f64, f64) {
    let n = &graph.nodes[i];
    match n.kind {
        NodeKind::Start | NodeKind::End => (56.0, 28.0),
        _ => ((text_width(&n.label) + 28.0).max(110.0), STATE_HEIGHT),
    }
}

/// Lays out the members of one level (the top, a branch, a Map's processor) relative to the
/// level's own top-left corner at (0, 0); returns its size.
fn place_level(graph: &Graph, parent: Option<usize>, out: &mut Layout) -> (f64, f64) {
    let members = graph.members(parent);
    let mut sizes = Vec::with_capacity(members.len());
    for &m in &members {
        sizes.push(place_node(graph, m, out));
    }
    let mut vg = VisualGraph::new(Orientation::TopToBottom);
    let mut handles = std::collections::HashMap::new();
    for (&m, &(w, h)) in members.iter().zip(&sizes) {
        let shape = match graph.nodes[m].kind {
            NodeKind::Start | NodeKind::End => ShapeKind::Circle(String::new()),
            _ => ShapeKind::Box(String::new()),
        };
        let elem = Element::create(
            shape,
            StyleAttr::simple(),
            Orientation::TopToBottom,
            Point::new(w, h),
        );
        handles.insert(m, vg.add_node(elem));
    }
    for (e, edge) in graph.edges.iter().enumerate() {
        let (Some(&from), Some(&to)) = (handles.get(&edge.from), handles.get(&edge.to)) else {
            continue;
        };
        let style = if edge.kind == EdgeKind::Catch {
            LineStyleKind::Dashed
        } else {
            LineStyleKind::Normal
        };
        let mut look = StyleAttr::simple();
        look.font_size = FONT_SIZE as usize;
        let arrow = Arrow::with_properties(
            LineEndKind::None,
            LineEndKind::Arrow,
            style,
            edge.label.as_deref().unwrap_or(""),
            &look,
            e.to_string(),
            &None,
            &None,
        );
        vg.add_edge(arrow, from, to);
    }
    if members.is_empty() {
        return (0.0, 0.0);
    }
    let mut capture = Capture::default();
    vg.do_it(false, false, false, &mut capture);
    // Bounds of everything drawn, to move the level to (0, 0).
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut grow = |x: f64, y: f64| {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    };
    for (&m, &(w, h)) in members.iter().zip(&sizes) {
        let c = vg.pos(handles[&m]).center();
        let (x, y) = (c.x - w / 2.0, c.y - h / 2.0);
        out.nodes[m] = PlacedNode { x, y, w, h };
        if graph.nodes[m].is_cluster() {
            // Its contents were laid out around its own (0, 0).
            shift(graph, Some(m), out, x, y);
        }
        grow(x, y);
        grow(x + w, y + h);
    }
    for (e, path, reversed) in capture.arrows {
        let Some(e) = e.and_then(|p| p.parse::<usize>().ok()) else {
            continue;
        };
        let points: Vec<[f64; 2]> = path
            .iter()
            .flat_map(|(a, b)| [[a.x, a.y], [b.x, b.y]])
            .collect();
        for [x, y] in &points {
            grow(*x, *y);
        }
        // A labelled edge goes through the layout's label node, second on its path.
        let label_at = graph.edges[e]
            .label
            .as_ref()
            .and_then(|text| path.get(1).map(|p| (p.1, text)))
            .map(|(p, text)| {
                let w = text_width(text);
                grow(p.x - w / 2.0, p.y - FONT_SIZE);
                grow(p.x + w / 2.0, p.y + FONT_SIZE);
                [p.x, p.y]
            });
        out.edges[e] = PlacedEdge {
            points,
            reversed,
            label_at,
        };
    }
    shift(graph, parent, out, -x0, -y0);
    (x1 - x0, y1 - y0)
}

/// Lays out a node's contents, if it is a cluster; returns its size.
fn place_node(graph: &Graph, i: usize, out: &mut Layout) -> (f64, f64) {
    let node = &graph.nodes[i];
    if !node.is_cluster() {
        let (w, h) = leaf_size(graph, i);
        out.nodes[i] = PlacedNode {
            x: 0.0,
            y: 0.0,
            w,
            h,
        };
        return (w, h);
    }
    let title = (text_width(&node.label) + 80.0).max(110.0);
    let is_parallel = node
        .children
        .iter()
        .all(|&c| graph.nodes[c].kind == NodeKind::Branch);
    let (w, h) = if is_parallel {
        // Branches side by side, each a cluster of its own.
        let mut x = CLUSTER_PADDING;
        let mut tallest: f64 = 0.0;
        for &b in &node.children {
            let (bw, bh) = place_level(graph, Some(b), out);
            let bw = bw.max(text_width(&graph.nodes[b].label) + 2.0 * CLUSTER_PADDING);
            let (cw, ch) = (
                bw + 2.0 * CLUSTER_PADDING,
                bh + CLUSTER_HEADER + CLUSTER_PADDING,
            );
            shift(
                graph,
                Some(b),
                out,
                x + CLUSTER_PADDING,
                CLUSTER_HEADER + CLUSTER_HEADER,
            );
            out.nodes[b] = PlacedNode {
                x,
                y: CLUSTER_HEADER,
                w: cw,
                h: ch,
            };
            x += cw + BRANCH_GAP;
            tallest = tallest.max(ch);
        }
        (
            (x - BRANCH_GAP + CLUSTER_PADDING).max(title),
            CLUSTER_HEADER + tallest + CLUSTER_PADDING,
        )
    } else {
        let (iw, ih) = place_level(graph, Some(i), out);
        shift(graph, Some(i), out, CLUSTER_PADDING, CLUSTER_HEADER);
        (
            (iw + 2.0 * CLUSTER_PADDING).max(title),
            ih + CLUSTER_HEADER + CLUSTER_PADDING,
        )
    };
    out.nodes[i] = PlacedNode {
        x: 0.0,
        y: 0.0,
        w,
        h,
    };
    (w, h)
}

/// Moves everything inside `parent` (or the top level), nested clusters included.
fn shift(graph: &Graph, parent: Option<usize>, out: &mut Layout, dx: f64, dy: f64) {
    let members = graph.members(parent);
    for &m in &members {
        let n = &mut out.nodes[m];
        n.x += dx;
        n.y += dy;
        if graph.nodes[m].is_cluster() {
            shift(graph, Some(m), out, dx, dy);
        }
    }
    for (e, edge) in graph.edges.iter().enumerate() {
        if members.contains(&edge.from) {
            let placed = &mut out.edges[e];
            for p in &mut placed.points {
                p[0] += dx;
                p[1] += dy;
            }
            if let Some(l) = &mut placed.label_at {
                l[0] += dx;
                l[1] += dy;
            }
        }
    }
}

/// A render backend that keeps each arrow's path (and its edge's index, from the arrow's
/// properties) and draws nothing.
#[derive(Default)]
struct Capture {
    arrows: Vec<Drawn>,
}

/// An arrow as layout-rs drew it: its properties (our edge index), its path, and whether it
/// runs backwards (its head at the start).
type Drawn = (Option<String>, Vec<(Point, Point)>, bool);

impl RenderBackend for Capture {
    fn draw_rect(
        &mut self,
        _: Point,
        _: Point,
        _: &StyleAttr,
        _: Option<String>,
        _: Option<ClipHandle>,
    ) {
    }
    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}
    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}
    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}
    fn draw_arrow(
        &mut self,
        path: &[(Point, Point)],
        _dashed: bool,
        head: (bool, bool),
        _look: &StyleAttr,
        properties: Option<String>,
        _text: &str,
    ) {
        self.arrows
            .push((properties, path.to_vec(), head.0 && !head.1));
    }
    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("arrows", &self.arrows.len())
            .finish()
    }
}
