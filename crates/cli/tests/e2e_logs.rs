//! Execution logs through `stepwise serve` with boto3 (`tests/e2e/execution_logs.py`): a state
//! machine's `loggingConfiguration` writes AWS's CloudWatch Logs event shape to the file
//! `stepwise.toml`'s `[logging]` gives its log group; ALL, ERROR, FATAL, OFF,
//! `includeExecutionData`, Express executions, versions. Then a graceful stop: every line is
//! whole, none is written twice, and the runs whose lines nobody waited for are all there.
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use std::collections::HashSet;
use std::path::Path;

use support::{Server, python, run_python_env, scratch_store};

/// Every line of every log file under `dir`: (file, line).
fn all_lines(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read the log folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("log" | "jsonl")
            ) {
                let text = std::fs::read_to_string(&path).expect("read a log");
                assert!(
                    text.is_empty() || text.ends_with('\n'),
                    "{}: last line cut short",
                    path.display()
                );
                for line in text.lines() {
                    out.push((path.display().to_string(), line.to_owned()));
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn execution_logs_are_written_in_aws_shape() {
    let Some(python) = python() else { return };
    let store = scratch_store("execution_logs");
    let dir = store.with_file_name("logs");
    let config = store.with_file_name("stepwise.toml");
    std::fs::write(
        &config,
        format!(
            "[logging]\ndirectory = \"{}\"\n\n[logging.groups]\nnamed = \"{}\"\n",
            dir.join("groups").display(),
            dir.join("named.jsonl").display()
        ),
    )
    .expect("write stepwise.toml");
    let mut server = Server::start(
        &store,
        &[("STEPWISE_CONFIG", config.to_str().expect("a UTF-8 path"))],
    );
    let log_dir = dir.to_str().expect("a UTF-8 path");
    run_python_env(
        &python,
        "execution_logs.py",
        &server,
        &[],
        &[("LOG_DIR", log_dir)],
    );
    let before = all_lines(&dir);
    assert_eq!(server.terminate(), Some(0), "a graceful stop");
    let after = all_lines(&dir);
    assert_eq!(
        before.len(),
        after.len(),
        "lines written after the runs ended"
    );
    let mut seen = HashSet::new();
    for (file, line) in &after {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}: not JSON ({e}): {line}"));
        let key = (
            file.clone(),
            v["execution_arn"].as_str().unwrap_or_default().to_owned(),
            v["id"].as_str().unwrap_or_default().to_owned(),
        );
        assert!(seen.insert(key), "{file}: written twice: {line}");
    }
}
