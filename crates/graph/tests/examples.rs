//! `examples/*.asl.json` drawn three ways. The expected nodes and edges are counted from the
//! definition's JSON, independently of the graph model: a node per state, an edge per `Next`,
//! Choice rule, `Default`, catcher and ending, plus Start. The SVGs are kept in the target
//! directory (`graph-examples/`) to look at.

use std::path::{Path, PathBuf};

use serde_json::Value;
use stepwise_graph::{graph_of, layout, render};

fn examples() -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            (p, text)
        })
        .collect();
    out.sort();
    out
}

/// (states, transitions) of a `States` block and everything nested in it.
fn count(machine: &Value, top: bool) -> (usize, usize) {
    let mut states = 0;
    let mut edges = usize::from(top); // Start -> StartAt
    for s in machine["States"].as_object().expect("States").values() {
        states += 1;
        edges += usize::from(s.get("Next").is_some());
        edges += s
            .get("Choices")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        edges += usize::from(s.get("Default").is_some());
        edges += s.get("Catch").and_then(Value::as_array).map_or(0, Vec::len);
        let ends = s.get("End") == Some(&Value::Bool(true))
            || matches!(s["Type"].as_str(), Some("Succeed" | "Fail"));
        edges += usize::from(top && ends);
        let nested: Vec<&Value> = s
            .get("Branches")
            .and_then(Value::as_array)
            .map(|b| b.iter().collect())
            .or_else(|| {
                s.get("ItemProcessor")
                    .or_else(|| s.get("Iterator"))
                    .map(|p| vec![p])
            })
            .unwrap_or_default();
        for n in nested {
            let (s, e) = count(n, false);
            states += s;
            edges += e;
        }
    }
    (states, edges)
}

#[test]
fn every_state_is_a_node_and_every_transition_an_edge_in_svg_mermaid_and_dot() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graph-examples");
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let mut drawn = 0;
    for (path, text) in examples() {
        let Ok(graph) = graph_of(&text) else {
            continue; // broken.asl.json is there to fail validation
        };
        let json: Value = serde_json::from_str(&text).expect("json");
        let (states, edges) = count(&json, true);
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();

        let laid = layout(&graph);
        let svg = render::svg(&graph, &laid, None, Default::default());
        std::fs::write(out_dir.join(format!("{name}.svg")), &svg).expect("write svg");
        assert_eq!(
            svg.matches(" data-state=\"").count(),
            states,
            "{name}: SVG nodes"
        );
        assert_eq!(
            svg.matches("<g class=\"edge ").count(),
            edges,
            "{name}: SVG edges"
        );
        assert_eq!(
            svg.matches(" d=\"M ").count(),
            edges,
            "{name}: every edge has a path"
        );
        for kind in ["catch", "default", "choice"] {
            let expected = graph
                .edges
                .iter()
                .filter(|e| format!("{:?}", e.kind).to_lowercase() == kind)
                .count();
            assert_eq!(
                svg.matches(&format!("edge-{kind}\"")).count(),
                expected,
                "{name}: {kind} edges"
            );
        }
        // Everything inside the drawing, and no two states overlap.
        for (i, a) in laid.nodes.iter().enumerate() {
            assert!(
                a.x >= 0.0 && a.y >= 0.0 && a.x + a.w <= laid.width && a.y + a.h <= laid.height,
                "{name}: node {i} outside"
            );
            for (j, b) in laid.nodes.iter().enumerate().skip(i + 1) {
                let overlap =
                    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
                let related = is_within(&graph, j, i) || is_within(&graph, i, j);
                assert!(
                    !overlap || related,
                    "{name}: {} and {} overlap",
                    graph.nodes[i].id,
                    graph.nodes[j].id
                );
            }
        }

        let mermaid = render::mermaid(&graph, None);
        std::fs::write(out_dir.join(format!("{name}.mmd")), &mermaid).expect("write mmd");
        assert!(mermaid.starts_with("flowchart TD\n"));
        let arrows = mermaid
            .lines()
            .filter(|l| l.contains("-->") || l.contains("-.->"))
            .count();
        assert_eq!(arrows, edges, "{name}: Mermaid edges");
        assert_eq!(
            mermaid.matches("subgraph ").count(),
            mermaid.lines().filter(|l| l.trim() == "end").count()
        );

        let dot = render::dot(&graph, None);
        std::fs::write(out_dir.join(format!("{name}.dot")), &dot).expect("write dot");
        assert_eq!(dot.matches(" -> ").count(), edges, "{name}: DOT edges");
        assert_eq!(
            dot.matches('{').count(),
            dot.matches('}').count(),
            "{name}: DOT braces"
        );
        drawn += 1;
    }
    assert!(drawn >= 3, "the examples were drawn");
}

/// Whether node `inner` sits (at any depth) inside node `outer`.
fn is_within(graph: &stepwise_graph::Graph, inner: usize, outer: usize) -> bool {
    let mut at = graph.nodes[inner].parent;
    while let Some(p) = at {
        if p == outer {
            return true;
        }
        at = graph.nodes[p].parent;
    }
    false
}

#[test]
fn the_30_state_example_has_its_clusters() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders-pipeline.asl.json"),
    )
    .expect("read");
    let graph = graph_of(&text).expect("valid");
    assert_eq!(graph.state_count(), 30);
    let enrich = graph.state_node("Enrich").expect("Enrich");
    assert_eq!(graph.nodes[enrich].children.len(), 3, "three branches");
    let fan_out = graph.state_node("Fan out").expect("Fan out");
    assert_eq!(
        graph.nodes[fan_out].children.len(),
        5,
        "the Map's five states"
    );
}
