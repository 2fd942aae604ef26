//! The shared ASL corpus (`../shared/conformance/asl/cases.jsonl`, recorded against AWS) through
//! `stepwise serve` with boto3 (tests/e2e/corpus.py): every pure StartExecution /
//! StartSyncExecution case, compared as crates/engine/tests/conformance_execution.rs compares
//! in-process. The pass rates must stay within one point of the in-process ones, on a SQLite
//! file and on PostgreSQL (a fresh schema of `STEPWISE_TEST_POSTGRES_URL`'s database).
//!
//! Skips with a message when the corpus is not beside the checkout.

mod support;

use stepwise_test_support::corpus::asl_cases_file;
use stepwise_test_support::percent;
use support::{Backend, Server, TestStore, python, python_command};

/// The in-process rates (crates/engine/tests/conformance_execution.rs) this must match, as
/// (passed, total). Update them when the engine gets better.
const IN_PROCESS_STATUS: (usize, usize) = (758, 760);
const IN_PROCESS_CAUSE: (usize, usize) = (74, 74);
const IN_PROCESS_EVENTS: (usize, usize) = (364, 365);
/// At most this many points below the in-process rate.
const TOLERANCE: f64 = 1.0;

fn rate((n, d): (usize, usize)) -> f64 {
    percent(n, d)
}

#[test]
fn corpus_through_the_server_matches_in_process() {
    corpus_on(Backend::Sqlite);
}

#[test]
fn corpus_through_the_server_on_postgres_matches_in_process() {
    corpus_on(Backend::Postgres);
}

fn corpus_on(backend: Backend) {
    let Some(cases) = asl_cases_file() else {
        return;
    };
    let Some(python) = python() else { return };
    let Some(store) = TestStore::new("corpus", backend) else {
        return;
    };
    let server = Server::start_on(
        &store,
        &[
            ("WAIT_TIME_SCALE", "0.01"),
            ("AWS_ACCOUNT_ID", "111111111111"),
        ],
    );
    let summary = store.dir().join("summary.json");
    let began = std::time::Instant::now();
    let out = python_command(&python, "corpus.py", &server.url)
        .arg(&cases)
        .arg(&summary)
        .arg("16")
        .output()
        .expect("run corpus.py");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "corpus.py failed:\n{text}");
    eprintln!(
        "corpus through the server on {backend:?}: {:.1}s",
        began.elapsed().as_secs_f64()
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    let get = |k: &str| s[k].as_u64().unwrap_or(0) as usize;
    if let Some(schema) = store.schema() {
        // Every Standard execution the clients started is kept in the database's schema (and
        // the children of Distributed Maps beside them).
        let kept = schema.count("SELECT COUNT(*) FROM executions WHERE map_run_arn IS NULL");
        assert_eq!(
            kept,
            get("standard_started") as i64,
            "executions in PostgreSQL schema {}",
            schema.name()
        );
        assert!(kept > 0, "the corpus started Standard executions");
    }
    let status = (get("status_ok"), get("total"));
    assert_eq!(
        status.1, IN_PROCESS_STATUS.1,
        "the same cases as in-process"
    );
    for (what, server, in_process) in [
        ("status+output/error", status, IN_PROCESS_STATUS),
        (
            "cause text",
            (get("cause_ok"), get("cause_total")),
            IN_PROCESS_CAUSE,
        ),
        (
            "event-type sequence",
            (get("events_ok"), get("events_total")),
            IN_PROCESS_EVENTS,
        ),
    ] {
        assert!(
            rate(server) >= rate(in_process) - TOLERANCE,
            "{what}: {}/{} ({:.1}%) through the server is more than {TOLERANCE} point below \
             in-process {}/{} ({:.1}%)",
            server.0,
            server.1,
            rate(server),
            in_process.0,
            in_process.1,
            rate(in_process)
        );
    }
}
