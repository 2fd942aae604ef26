//! `stepwise graph` and `stepwise run --svg` as a user runs them. The drawings' contents are
//! checked in depth by stepwise-graph's own tests; here, the command line: formats, files,
//! exit codes, and the colours a run leaves.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn stepwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run stepwise")
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("graph-cli");
    std::fs::create_dir_all(&dir).expect("out dir");
    dir
}

#[test]
fn graph_writes_mermaid_dot_and_svg() {
    let file = example("orders-pipeline.asl.json");
    let mermaid = stepwise(&["graph", &file]);
    assert!(mermaid.status.success(), "{mermaid:?}");
    let text = String::from_utf8_lossy(&mermaid.stdout);
    assert!(text.starts_with("flowchart TD\n"), "{text}");
    assert!(text.contains("subgraph") && text.contains("-.->|\"Enrich.Failed\"|"));

    let dot = stepwise(&["graph", &file, "--format", "dot"]);
    assert!(dot.status.success());
    let text = String::from_utf8_lossy(&dot.stdout);
    assert!(text.starts_with("digraph StateMachine {"), "{text}");
    assert_eq!(
        text.matches("subgraph cluster_").count(),
        5,
        "Parallel, 3 branches, Map"
    );

    let svg_path = out_dir().join("orders-pipeline.svg");
    let svg = stepwise(&[
        "graph",
        &file,
        "--format",
        "svg",
        "--output",
        &svg_path.to_string_lossy(),
    ]);
    assert!(svg.status.success(), "{svg:?}");
    assert!(svg.stdout.is_empty(), "written to the file, not stdout");
    let text = std::fs::read_to_string(&svg_path).expect("svg written");
    assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(text.matches(" data-state=\"").count(), 30);
}

#[test]
fn graph_of_an_invalid_definition_prints_the_diagnostics_and_exits_1() {
    let out = stepwise(&["graph", &example("broken.asl.json")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MISSING_TRANSITION_TARGET"), "{err}");
    let out = stepwise(&["graph", "/no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_svg_colours_each_state_as_the_run_left_it() {
    let svg_path = out_dir().join("orders-pipeline-caught.svg");
    let out = stepwise(&[
        "run",
        &example("orders-pipeline.asl.json"),
        "--input",
        r#"{"fail": true, "fatal": true}"#,
        "--svg",
        &svg_path.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(1), "the run fails");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(result["error"], "Order.Failed");
    assert!(
        result.get("events").is_none(),
        "--svg alone does not print the history"
    );
    let svg = std::fs::read_to_string(&svg_path).expect("svg written");
    let status_of = |state: &str| {
        let at = svg
            .find(&format!("data-state=\"{state}\""))
            .unwrap_or_else(|| panic!("{state} drawn"));
        let rest = &svg[at..];
        let s = rest.find("data-status=\"").expect("status") + 13;
        rest[s..s + rest[s..].find('"').expect("end")].to_owned()
    };
    assert_eq!(status_of("Enrich"), "caught");
    assert_eq!(status_of("Enrichment failed"), "failed");
    assert_eq!(status_of("Give up"), "failed");
    assert_eq!(status_of("Compensate"), "succeeded");
    assert_eq!(status_of("Pause"), "cancelled");
    assert_eq!(status_of("Summarize"), "notreached");
}
