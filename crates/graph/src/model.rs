//! The graph of a definition, before layout: nodes (the top level's Start and End, a node per
//! state, a cluster per Parallel branch), which cluster each sits in, and the edges of each
//! level. A Parallel or Map state is itself a cluster: its branches (Parallel) or its
//! processor's states (Map) are its children. Built from the typed model so that it can later
//! be edited and turned back into a definition.

use serde::Serialize;
use stepwise_asl::StateMachine;
use stepwise_asl::model::{StateKind, Transition};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Where the top level begins.
    Start,
    /// Where the top level ends.
    End,
    /// A state (a Parallel or a Map one holds other nodes).
    State,
    /// One branch of a Parallel state.
    Branch,
}

/// Why an edge is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// Start to `StartAt`.
    Start,
    /// `Next`.
    Next,
    /// A Choice rule's `Next` (labelled `Rule #n`).
    Choice,
    /// A Choice state's `Default`.
    Default,
    /// A catcher's `Next` (labelled with its errors).
    Catch,
    /// `End: true`, a Succeed or a Fail state, to the End node.
    End,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Unique in the graph: `start`, `end`, `state:NAME`, `branch:NAME:i`.
    pub id: String,
    /// The text shown: the state's name, `Start`, `Branch 2`.
    pub label: String,
    pub kind: NodeKind,
    /// The state's name (state names are unique across a whole definition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `Task`, `Choice`, …
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub state_type: Option<String>,
    /// The index of the cluster it sits in (a Parallel's branch, a Map state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
    /// The nodes it holds, in order (a Parallel's branches; a branch's or a Map's states).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<usize>,
}

impl Node {
    pub fn is_cluster(&self) -> bool {
        !self.children.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A definition's graph. Edges join nodes of the same level (the same parent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Graph {
    /// The graph of a parsed (valid) definition.
    pub fn of(machine: &StateMachine) -> Graph {
        let mut g = Graph::default();
        let start = g.add(Node {
            id: "start".into(),
            label: "Start".into(),
            kind: NodeKind::Start,
            state: None,
            state_type: None,
            parent: None,
            children: Vec::new(),
        });
        let end = g.add(Node {
            id: "end".into(),
            label: "End".into(),
            kind: NodeKind::End,
            state: None,
            state_type: None,
            parent: None,
            children: Vec::new(),
        });
        let first = g.level(machine, None, Some(end));
        if let Some(first) = first {
            g.edges.insert(0, edge(start, first, EdgeKind::Start, None));
        }
        g
    }

    /// The nodes at the top level or in one cluster, in order.
    pub fn members(&self, parent: Option<usize>) -> Vec<usize> {
        match parent {
            Some(p) => self.nodes[p].children.clone(),
            None => (0..self.nodes.len())
                .filter(|&i| self.nodes[i].parent.is_none())
                .collect(),
        }
    }

    /// The node of a state.
    pub fn state_node(&self, name: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.state.as_deref() == Some(name))
    }

    /// How many states the graph has, at every level.
    pub fn state_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::State)
            .count()
    }

    fn add(&mut self, node: Node) -> usize {
        let i = self.nodes.len();
        if let Some(p) = node.parent {
            self.nodes[p].children.push(i);
        }
        self.nodes.push(node);
        i
    }

    /// Adds one `States` block's nodes and edges; returns the node of its `StartAt`. `end` is
    /// the End node (top level only).
    fn level(
        &mut self,
        machine: &StateMachine,
        parent: Option<usize>,
        end: Option<usize>,
    ) -> Option<usize> {
        let mut index = std::collections::HashMap::new();
        for (name, state) in &machine.states {
            let i = self.add(Node {
                id: format!("state:{name}"),
                label: name.clone(),
                kind: NodeKind::State,
                state: Some(name.clone()),
                state_type: Some(state.type_name().to_owned()),
                parent,
                children: Vec::new(),
            });
            index.insert(name.as_str(), i);
        }
        for (name, state) in &machine.states {
            let i = index[name.as_str()];
            match &state.kind {
                StateKind::Parallel(p) => {
                    for (b, branch) in p.branches.iter().enumerate() {
                        let cluster = self.add(Node {
                            id: format!("branch:{name}:{b}"),
                            label: format!("Branch {}", b + 1),
                            kind: NodeKind::Branch,
                            state: None,
                            state_type: None,
                            parent: Some(i),
                            children: Vec::new(),
                        });
                        self.level(branch, Some(cluster), None);
                    }
                }
                StateKind::Map(m) => {
                    self.level(&m.processor, Some(i), None);
                }
                _ => {}
            }
            let target = |n: &str| index.get(n).copied();
            if let StateKind::Choice(c) = &state.kind {
                for (r, rule) in c.choices.iter().enumerate() {
                    if let Some(t) = target(&rule.next) {
                        let label = format!("Rule #{}", r + 1);
                        self.edges.push(edge(i, t, EdgeKind::Choice, Some(label)));
                    }
                }
                if let Some(t) = c.default.as_deref().and_then(target) {
                    self.edges
                        .push(edge(i, t, EdgeKind::Default, Some("Default".into())));
                }
            }
            match state.kind.transition() {
                Some(Transition::Next(n)) => {
                    if let Some(t) = target(n) {
                        self.edges.push(edge(i, t, EdgeKind::Next, None));
                    }
                }
                Some(Transition::End) => {
                    if let Some(e) = end {
                        self.edges.push(edge(i, e, EdgeKind::End, None));
                    }
                }
                None => {}
            }
            for catcher in state.kind.catchers() {
                if let Some(t) = target(&catcher.next) {
                    let label = catcher.error_equals.join(", ");
                    self.edges.push(edge(i, t, EdgeKind::Catch, Some(label)));
                }
            }
            if matches!(state.kind, StateKind::Succeed | StateKind::Fail(_))
                && let Some(e) = end
            {
                self.edges.push(edge(i, e, EdgeKind::End, None));
            }
        }
        index.get(machine.start_at.as_str()).copied()
    }
}

fn edge(from: usize, to: usize, kind: EdgeKind, label: Option<String>) -> Edge {
    Edge {
        from,
        to,
        kind,
        label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_states_sit_in_their_clusters_and_every_transition_is_an_edge() {
        let g = crate::graph_of(
            r#"{"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [
                    {"Variable": "$.a", "BooleanEquals": true, "Next": "P"}], "Default": "F"},
                "P": {"Type": "Parallel", "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}], "Next": "M"},
                "M": {"Type": "Map", "ItemProcessor": {"StartAt": "I",
                    "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
                "F": {"Type": "Fail"}}}"#,
        )
        .expect("valid");
        assert_eq!(g.state_count(), 7);
        let p = g.state_node("P").expect("P");
        assert_eq!(g.nodes[p].children.len(), 2);
        let a = g.state_node("A").expect("A");
        assert_eq!(
            g.nodes[g.nodes[a].parent.expect("in a branch")].parent,
            Some(p)
        );
        let m = g.state_node("M").expect("M");
        assert_eq!(g.nodes[g.state_node("I").expect("I")].parent, Some(m));
        let kinds: Vec<EdgeKind> = g.edges.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                EdgeKind::Start,
                EdgeKind::Choice,
                EdgeKind::Default,
                EdgeKind::Next,
                EdgeKind::Catch,
                EdgeKind::End,
                EdgeKind::End
            ]
        );
    }
}
