//! The whole service in virtual time: the runtime and the service take their time and random
//! numbers from the clock they are given. An execution started at the virtual clock's time
//! carries that time in its dates and history; an hour's Wait ends when the test moves the
//! clock on an hour, not before.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use stepwise_runtime::RuntimeConfig;
use stepwise_service::types::{
    CreateStateMachineInput, DescribeExecutionInput, ExecutionStatus, GetExecutionHistoryInput,
    StartExecutionInput,
};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};
use stepwise_test_support::{VirtualClock, start_time};

fn seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_long_wait_ends_when_the_clock_says_so() {
    let clock = VirtualClock::default();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory store"));
    let config = RuntimeConfig {
        clock: Arc::new(clock.clone()),
        ..RuntimeConfig::default()
    };
    let service = Service::start(store, Arns::default(), config)
        .await
        .expect("service starts");
    let definition = r#"{"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": true}}}"#;
    let machine = service
        .create_state_machine(CreateStateMachineInput::new(
            "napper",
            definition,
            "arn:aws:iam::123456789012:role/R",
        ))
        .await
        .expect("created");
    assert_eq!(machine.creation_date, seconds(start_time()));
    let run = service
        .start_execution(StartExecutionInput::new(&machine.state_machine_arn))
        .await
        .expect("started");
    assert_eq!(run.start_date, seconds(start_time()));
    // The generated name comes from the clock's random numbers, not the system's.
    assert_eq!(run.execution_arn.rsplit(':').next().map(str::len), Some(36));

    // Real time passes; the virtual clock does not: the Wait holds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let d = service
        .describe_execution(DescribeExecutionInput::new(&run.execution_arn))
        .await
        .expect("described");
    assert_eq!(d.status, ExecutionStatus::Running);

    clock.advance(chrono::Duration::seconds(3600));
    let done = service
        .wait_for_execution(&run.execution_arn)
        .await
        .expect("ends");
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    let an_hour_later = start_time() + chrono::Duration::seconds(3600);
    assert_eq!(done.stop_date, Some(seconds(an_hour_later)));
    assert_eq!(
        done.output.as_deref(),
        Some(r#"{"at":"2024-05-01T13:00:00.000Z"}"#)
    );
    let history = service
        .get_execution_history(GetExecutionHistoryInput::new(&run.execution_arn))
        .await
        .expect("history");
    let times: Vec<f64> = history.events.iter().map(|e| e.timestamp).collect();
    assert_eq!(times.first(), Some(&seconds(start_time())));
    assert_eq!(times.last(), Some(&seconds(an_hour_later)));
    service.shutdown();
}
