//! `WAIT_TIME_SCALE` below 1 in the durable driver: Waits and retry intervals are shortened,
//! but each execution keeps its own clock, so its history reads as it would on AWS and its
//! timers fire in the order of that clock. An execution's own `TimeoutSeconds` is due in its
//! own time: skipped idle time counts towards it, a shortened Wait does not make it fire early.

use std::sync::Arc;

use serde_json::{Value, json};
use stepwise_runtime::{Runtime, RuntimeConfig};
use stepwise_store::{SqliteStore, Store};
use stepwise_test_support::records::ExecutionRecordBuilder;

/// Runs `definition` once with every Wait skipped (scale 0) and answers its stored record and
/// history events.
async fn run_skipping_waits(name: &str, definition: Value) -> (String, Vec<Value>) {
    let text = definition.to_string();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory"));
    store.put_definition("d", &text).await.expect("definition");
    let runtime = Runtime::start(
        store.clone(),
        RuntimeConfig {
            wait_time_scale: 0.0,
            ..RuntimeConfig::default()
        },
    )
    .await
    .expect("runtime starts");
    let machine = runtime.machine("d", &text).expect("parses");
    let record = ExecutionRecordBuilder::new("m", name)
        .start_ms(chrono::Utc::now().timestamp_millis())
        .definition_hash("d")
        .build();
    runtime
        .start_execution(record.clone(), machine, json!({}))
        .await
        .expect("start");
    let mut status = String::new();
    for _ in 0..500 {
        let r = store
            .get_execution(&record.arn)
            .await
            .expect("get")
            .expect("stored");
        if r.status != "RUNNING" {
            status = r.status;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let events = store
        .history(&record.arn, 1, u64::MAX)
        .await
        .expect("history")
        .iter()
        .map(|t| serde_json::from_str(t).expect("event json"))
        .collect();
    runtime.shutdown();
    (status, events)
}

/// Seconds from the first event to the first event of `kind` (naming `state` if given).
fn seconds_until(events: &[Value], kind: &str, state: Option<&str>) -> f64 {
    let time = |e: &Value| e["timestamp"].as_f64().expect("timestamp in epoch seconds");
    let event = events
        .iter()
        .find(|e| {
            e["type"] == kind && state.is_none_or(|s| e["stateExitedEventDetails"]["name"] == s)
        })
        .unwrap_or_else(|| panic!("no {kind} {state:?} in {events:#?}"));
    time(event) - time(&events[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_machine_timeout_counts_the_skipped_wait_in_the_executions_own_time() {
    // An hour-long Wait within a two-hour timeout: it succeeds, an hour later in its own time.
    let (status, events) = run_skipping_waits(
        "fits",
        json!({
            "TimeoutSeconds": 7200,
            "StartAt": "Hour",
            "States": {
                "Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
                "Done": {"Type": "Pass", "End": true}
            }
        }),
    )
    .await;
    assert_eq!(status, "SUCCEEDED", "{events:#?}");
    let waited = seconds_until(&events, "WaitStateExited", Some("Hour"));
    assert!((3600.0..3660.0).contains(&waited), "waited {waited} s");

    // The same Wait within a 100 s timeout: the timeout comes first, at 100 s.
    let (status, events) = run_skipping_waits(
        "too-long",
        json!({
            "TimeoutSeconds": 100,
            "StartAt": "Hour",
            "States": {
                "Hour": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
                "Done": {"Type": "Pass", "End": true}
            }
        }),
    )
    .await;
    assert_eq!(status, "TIMED_OUT", "{events:#?}");
    let timed_out = seconds_until(&events, "ExecutionTimedOut", None);
    assert!(
        (100.0..160.0).contains(&timed_out),
        "timed out at {timed_out} s"
    );
    assert!(
        !events.iter().any(|e| e["type"] == "WaitStateExited"),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_waits_in_parallel_branches_end_in_the_order_of_their_own_times() {
    // The first branch's Wait is longer and was set first; the second's ends first.
    let (status, events) = run_skipping_waits(
        "branches",
        json!({
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "End": true,
                    "Branches": [
                        {"StartAt": "Long", "States": {"Long": {"Type": "Wait", "Seconds": 300, "End": true}}},
                        {"StartAt": "Short", "States": {"Short": {"Type": "Wait", "Seconds": 30, "End": true}}}
                    ]
                }
            }
        }),
    )
    .await;
    assert_eq!(status, "SUCCEEDED", "{events:#?}");
    let exits: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "WaitStateExited")
        .map(|e| e["stateExitedEventDetails"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(exits, ["Short", "Long"]);
    let short = seconds_until(&events, "WaitStateExited", Some("Short"));
    let long = seconds_until(&events, "WaitStateExited", Some("Long"));
    assert!((30.0..60.0).contains(&short), "short ended at {short} s");
    assert!((300.0..330.0).contains(&long), "long ended at {long} s");
}
