//! A state machine as a graph, for people: what `stepwise graph`, `stepwise run --svg` and the
//! web console draw.
//!
//! Owns: the graph model built from a parsed definition ([`model`]: a node per state, Parallel
//! branches and Map processors as clusters, edges for `Next`, Choice rules, `Default` and
//! `Catch`); its layered layout ([`layout`], by the layout-rs crate: each cluster is laid out
//! first and then placed as one large node of the level above); the three text forms
//! ([`render`]: Mermaid, DOT, SVG); and each state's status as an execution's history shows it
//! ([`status`]). Pure: no IO.

pub mod layout;
pub mod model;
pub mod render;
pub mod status;

pub use layout::{Layout, PlacedEdge, PlacedNode, layout};
pub use model::{Edge, EdgeKind, Graph, Node, NodeKind};
pub use status::{Focus, StateStatus, StateSummary, Statuses, statuses};

/// Parses a definition and builds its graph; the validator's report when it is not valid.
pub fn graph_of(definition: &str) -> Result<Graph, stepwise_asl::Report> {
    let (machine, _) = stepwise_asl::parse_definition(definition, Default::default())?;
    Ok(Graph::of(&machine))
}
