//! End-to-end tests of Task states that wait, with boto3 against `stepwise serve`: callbacks
//! with signed tokens, heartbeats and timeouts, nested executions, Step Functions Local's mock
//! configuration chosen by `#TestCase`, and a callback and a retry that both outlive a kill -9.

mod support;

use std::path::Path;

use support::{Server, python, run_python, run_python_env, scratch_store};

/// Step Functions Local's mock configuration for mocks.py and durable_tasks.py.
const MOCKS: &str = r#"{
  "StateMachines": {
    "OrderFlow": {
      "TestCases": {
        "HappyPath": {"Charge": "ChargeFlaky", "Notify": "NotifyOk"},
        "Declined": {"Charge": "ChargeDeclined"}
      }
    },
    "RetryFlow": {"TestCases": {"FailOnce": {"Flaky": "FailThenSucceed"}}}
  },
  "MockedResponses": {
    "ChargeFlaky": {
      "0": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}},
      "1": {"Return": {"Payload": {"receipt": "r-1"}, "StatusCode": 200}}
    },
    "ChargeDeclined": {"0": {"Throw": {"Error": "Card.Declined", "Cause": "insufficient funds"}}},
    "NotifyOk": {"0": {"Return": {"StatusCode": 200}}},
    "FailThenSucceed": {
      "0": {"Throw": {"Error": "Flaky.Error", "Cause": "first attempt"}},
      "1": {"Return": {"attempt": 2}}
    }
  }
}"#;

fn write_mocks(store: &Path) -> String {
    let path = store.with_file_name("mocks.json");
    std::fs::write(&path, MOCKS).expect("write the mock configuration");
    path.display().to_string()
}

/// Callbacks, heartbeats and timeouts run in real time (WAIT_TIME_SCALE=1): a heartbeat every
/// 0.4 s must keep a 2 s HeartbeatSeconds alive.
#[test]
fn callbacks_timeouts_and_nested_executions() {
    let Some(python) = python() else { return };
    let store = scratch_store("tasks");
    let server = Server::start(&store, &[("WAIT_TIME_SCALE", "1")]);
    run_python(&python, "tasks.py", &server, &[]);
}

#[test]
fn mock_test_cases() {
    let Some(python) = python() else { return };
    let store = scratch_store("mocks");
    let mocks = write_mocks(&store);
    let server = Server::start(
        &store,
        &[("WAIT_TIME_SCALE", "0.01"), ("SFN_MOCK_CONFIG", &mocks)],
    );
    run_python(&python, "mocks.py", &server, &[]);
}

/// A `.waitForTaskToken` execution and one waiting out a 3 s retry interval, across a kill -9;
/// and a Lambda call in flight at the kill, made again after it.
#[test]
fn a_callback_and_a_retry_survive_kill_nine() {
    let Some(python) = python() else { return };
    let store = scratch_store("durable-tasks");
    let mocks = write_mocks(&store);
    let state = store.with_file_name("state.json");
    let calls = store.with_file_name("calls.txt");
    let config = store.with_file_name("stepwise.toml");
    // The function notes each call, then answers its event after 3 s.
    std::fs::write(
        &config,
        format!(
            "[lambda.functions.slow]\ncommand = [\"sh\", \"-c\", \"echo call >> '{}'; sleep 3; cat\"]\ntimeout_seconds = 10\n",
            calls.display()
        ),
    )
    .expect("write the config");
    let config = config.display().to_string();
    let mut server = Server::start(
        &store,
        &[
            ("WAIT_TIME_SCALE", "1"),
            ("SFN_MOCK_CONFIG", &mocks),
            ("STEPWISE_CONFIG", &config),
        ],
    );
    let envs = [
        ("STEPWISE_E2E_STATE", state.to_str().expect("a UTF-8 path")),
        ("STEPWISE_E2E_CALLS", calls.to_str().expect("a UTF-8 path")),
    ];
    let phase = |server: &Server, name: &str| {
        run_python_env(&python, "durable_tasks.py", server, &[name], &envs);
    };
    phase(&server, "test_before");
    server.kill9();
    server.restart();
    phase(&server, "test_after");
}
