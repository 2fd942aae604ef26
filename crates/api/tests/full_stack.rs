//! The whole stack in-process: router, service, runtime and store, requests through the
//! router's `oneshot` as botocore sends them, no socket.

mod common;

use std::time::Duration;

use common::Harness;
use serde_json::{Value, json};

fn waiting_machine() -> String {
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Result": {"ready": true}, "ResultPath": "$.prep", "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"}}})
    .to_string()
}

fn types(history: &Value) -> Vec<&str> {
    history["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_then_history_then_stop_without_a_socket() {
    let h = Harness::full().await;
    let machine = h.create("waiter", &waiting_machine()).await;
    let arn = machine["stateMachineArn"].as_str().expect("arn");
    let started = h
        .ok(
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "one", "input": "{\"order\": 7}"}),
        )
        .await;
    let execution = started["executionArn"].as_str().expect("executionArn");
    assert_eq!(execution, h.arns().execution("waiter", "one"));

    // Durable before StartExecution answers: the history already shows the Wait.
    let history = h
        .ok("GetExecutionHistory", json!({"executionArn": execution}))
        .await;
    assert_eq!(
        types(&history),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "WaitStateEntered"
        ]
    );
    assert_eq!(
        history["events"][0]["executionStartedEventDetails"]["input"],
        "{\"order\": 7}"
    );
    let described = h
        .ok("DescribeExecution", json!({"executionArn": execution}))
        .await;
    assert_eq!(described["status"], "RUNNING");

    let stopped = h
        .ok(
            "StopExecution",
            json!({"executionArn": execution, "error": "Halt", "cause": "enough"}),
        )
        .await;
    assert!(stopped["stopDate"].is_number(), "{stopped}");
    let described = h
        .ok("DescribeExecution", json!({"executionArn": execution}))
        .await;
    assert_eq!(described["status"], "ABORTED");
    assert_eq!(described["error"], "Halt");
    let history = h
        .ok(
            "GetExecutionHistory",
            json!({"executionArn": execution, "reverseOrder": true, "maxResults": 1}),
        )
        .await;
    assert_eq!(types(&history), ["ExecutionAborted"]);
    assert_eq!(
        history["events"][0]["executionAbortedEventDetails"],
        json!({"error": "Halt", "cause": "enough"})
    );

    // Express runs in the same stack: StartSyncExecution answers with the result.
    let express = h
        .ok(
            "CreateStateMachine",
            json!({"name": "quick", "type": "EXPRESS", "roleArn": common::ROLE,
                   "definition": json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string()}),
        )
        .await;
    let sync = h
        .ok(
            "StartSyncExecution",
            json!({"stateMachineArn": express["stateMachineArn"], "input": "{\"a\":1}"}),
        )
        .await;
    assert_eq!(sync["status"], "SUCCEEDED");
    assert_eq!(sync["output"], "{\"a\":1}");
    if let Some(runtime) = h.api.service.runtime() {
        let runtime = runtime.clone();
        tokio::time::timeout(
            Duration::from_secs(10),
            tokio::task::spawn_blocking(move || runtime.shutdown()),
        )
        .await
        .expect("the runtime stops")
        .expect("joined");
    }
}
