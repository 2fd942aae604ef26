//! End-to-end tests of `stepwise serve` with the real AWS clients: boto3 scripts under
//! `tests/e2e/` (one #[test] per script) and the AWS CLI, plus `/metrics` and SIGTERM.
//!
//! Each test starts its own server (fresh store, WAIT_TIME_SCALE=0.01) on a free port. Without
//! Python or PyPI they skip with a message, unless STEPWISE_E2E_REQUIRED=1.
//!
//! A check that fails on a known server bug runs as a test of its own (e.g.
//! `answered_token_is_task_timed_out`), so the rest of its script still tells its story.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use support::{
    Server, http_get, python, python_command, run_python, run_python_env, scratch_store,
};

/// Runs one script (or some of its tests: names, or `-name` to leave one out) against a fresh
/// server.
fn script_with(test: &str, file: &str, args: &[&str]) {
    let Some(python) = python() else { return };
    let store = scratch_store(test);
    let server = Server::start(&store, &[("WAIT_TIME_SCALE", "0.01")]);
    let began = std::time::Instant::now();
    run_python(&python, file, &server, args);
    eprintln!("{file}: {:.1}s", began.elapsed().as_secs_f64());
}

fn script(test: &str, file: &str) {
    script_with(test, file, &[]);
}

#[test]
fn control_plane() {
    script_with(
        "control_plane",
        "control_plane.py",
        &["-test_alias_routing_spreads_a_burst"],
    );
}

/// A 50/50 alias reaches both versions in a burst of 40 StartExecution calls.
#[test]
fn alias_routing_spreads_a_burst() {
    script_with(
        "alias_routing",
        "control_plane.py",
        &["test_alias_routing_spreads_a_burst"],
    );
}

#[test]
fn executions() {
    script_with(
        "executions",
        "executions.py",
        &["-test_invalid_execution_input_message"],
    );
}

/// InvalidExecutionInput's message has AWS's prefix once.
#[test]
fn invalid_execution_input_message() {
    script_with(
        "invalid_input",
        "executions.py",
        &["test_invalid_execution_input_message"],
    );
}

#[test]
fn pagination() {
    script("pagination", "pagination.py");
}

#[test]
fn activities() {
    script_with(
        "activities",
        "activities.py",
        &["-test_answered_token_is_closed"],
    );
}

/// A token whose task is closed is answered TaskTimedOut, as on AWS.
#[test]
fn answered_token_is_task_timed_out() {
    script_with(
        "answered_token",
        "activities.py",
        &["test_answered_token_is_closed"],
    );
}

/// Fails (ExecutionNotRedrivable) until the runtime wires RedriveExecution.
#[test]
fn redrive() {
    script("redrive", "redrive.py");
}

/// Fails until the server wires TestState.
#[test]
fn test_state() {
    script("test_state", "test_state.py");
}

#[test]
fn aws_cli() {
    script("aws_cli", "aws_cli.py");
}

/// Every way round the `sync-` host prefix the README gives, with boto3 and the AWS CLI.
#[test]
fn host_prefix_workarounds() {
    let Some(python) = python() else { return };
    let store = scratch_store("host_prefix");
    let server = Server::start(&store, &[("WAIT_TIME_SCALE", "0.01")]);
    let scratch = store.parent().expect("scratch dir").display().to_string();
    run_python_env(
        &python,
        "host_prefix.py",
        &server,
        &[],
        &[("STEPWISE_SCRATCH", &scratch)],
    );
}

fn metric(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_over_plain_http() {
    let Some(python) = python() else { return };
    let store = scratch_store("metrics");
    let server = Server::start(&store, &[]);
    run_python(&python, "smoke.py", &server, &["metrics-machine"]);
    let (status, body) = http_get(&server, "/metrics");
    assert_eq!(status, 200, "{body}");
    let started = metric(
        &body,
        "stepwise_api_requests_total{action=\"StartExecution\",outcome=\"ok\"}",
    );
    assert_eq!(started, Some(1.0), "{body}");
    let created = metric(
        &body,
        "stepwise_api_requests_total{action=\"CreateStateMachine\",outcome=\"ok\"}",
    );
    assert_eq!(created, Some(1.0), "{body}");
    assert_eq!(
        metric(&body, "stepwise_executions_started_total"),
        Some(1.0),
        "{body}"
    );
    // AWS's names (namespace AWS/States) with their StateMachineArn dimension.
    let machine =
        "StateMachineArn=\"arn:aws:states:us-east-1:123456789012:stateMachine:metrics-machine\"";
    for (name, value) in [
        ("ExecutionsStarted", 1.0),
        ("ExecutionsSucceeded", 1.0),
        ("ExecutionsFailed", 0.0),
        ("ExecutionsAborted", 0.0),
        ("ExecutionThrottled", 0.0),
        ("ExecutionTime_count", 1.0),
    ] {
        assert_eq!(
            metric(&body, &format!("{name}{{{machine}}}")),
            Some(value),
            "{name}: {body}"
        );
    }
    assert!(
        metric(&body, &format!("ExecutionTime_sum{{{machine}}}")).is_some_and(|ms| ms >= 0.0),
        "{body}"
    );
}

#[test]
fn sigterm_exits_cleanly_and_the_store_survives() {
    let Some(python) = python() else { return };
    let store = scratch_store("sigterm");
    let mut server = Server::start(&store, &[]);
    run_python(&python, "smoke.py", &server, &["kept-machine"]);
    let began = std::time::Instant::now();
    let code = server.terminate();
    assert_eq!(code, Some(0), "exit code after SIGTERM");
    eprintln!("SIGTERM to exit: {:.2}s", began.elapsed().as_secs_f64());
    server.restart();
    run_python(&python, "smoke.py", &server, &["kept-machine", "--check"]);
}

/// SIGTERM while a client long-polls GetActivityTask (up to 60 s): the server must still exit
/// promptly (within 10 s, e.g. `docker stop`'s grace period), not wait for the poll to end.
#[test]
fn sigterm_with_an_open_long_poll_exits_promptly() {
    let Some(python) = python() else { return };
    let store = scratch_store("sigterm_poll");
    let mut server = Server::start(&store, &[]);
    let mut poller = python_command(&python, "long_poll.py", &server.url)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start long_poll.py");
    let mut lines = BufReader::new(poller.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!(first, "polling", "long_poll.py did not start polling");
    std::thread::sleep(Duration::from_millis(500));
    let exited = server.terminate_within(Duration::from_secs(10));
    let _ = poller.kill();
    let _ = poller.wait();
    match exited {
        Ok(code) => assert_eq!(code, Some(0), "exit code after SIGTERM"),
        Err(waited) => panic!(
            "the server had not exited {:.1}s after SIGTERM with a GetActivityTask long poll open",
            waited.as_secs_f64()
        ),
    }
}
