//! The service through its typed methods, as an embedding program calls it: requests and
//! responses as the model's types, statuses and event types as enums, errors as ServiceError.

use std::sync::Arc;

use stepwise_service::types::{
    CreateStateMachineInput, DescribeExecutionInput, DescribeStateMachineInput, ExecutionStatus,
    GetExecutionHistoryInput, HistoryEventType, ListExecutionsInput, StartExecutionInput,
    StateMachineType, StopExecutionInput,
};
use stepwise_service::{Arns, ErrorClass, Service};
use stepwise_store::{SqliteStore, Store};

const ROLE: &str = "arn:aws:iam::123456789012:role/R";

async fn service() -> Arc<Service> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory store"));
    Service::start(store, Arns::default(), Default::default())
        .await
        .expect("service starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_calls_cover_both_planes() {
    let service = service().await;
    let waiting =
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#;
    let machine = service
        .create_state_machine(CreateStateMachineInput::new("waits", waiting, ROLE))
        .await
        .expect("created");
    let described = service
        .describe_state_machine(DescribeStateMachineInput::new(&machine.state_machine_arn))
        .await
        .expect("described");
    assert_eq!(described.r#type, StateMachineType::Standard);
    assert_eq!(described.name, "waits");

    let run = service
        .start_execution(StartExecutionInput::new(&machine.state_machine_arn).name("w1"))
        .await
        .expect("started");
    let running = service
        .list_executions(
            ListExecutionsInput::default()
                .state_machine_arn(machine.state_machine_arn.clone())
                .status_filter(ExecutionStatus::Running),
        )
        .await
        .expect("listed");
    assert_eq!(running.executions.len(), 1);
    assert_eq!(running.executions[0].execution_arn, run.execution_arn);

    service
        .stop_execution(StopExecutionInput::new(&run.execution_arn).error("Enough"))
        .await
        .expect("stopped");
    let d = service
        .describe_execution(DescribeExecutionInput::new(&run.execution_arn))
        .await
        .expect("described");
    assert_eq!(d.status, ExecutionStatus::Aborted);
    assert_eq!(d.error.as_deref(), Some("Enough"));
    let history = service
        .get_execution_history(GetExecutionHistoryInput::new(&run.execution_arn))
        .await
        .expect("history");
    let types: Vec<HistoryEventType> = history.events.iter().map(|e| e.r#type).collect();
    assert_eq!(
        types,
        [
            HistoryEventType::ExecutionStarted,
            HistoryEventType::WaitStateEntered,
            HistoryEventType::ExecutionAborted
        ]
    );
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_aws_names_and_a_class() {
    let service = service().await;
    let missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nope";
    let e = service
        .describe_state_machine(DescribeStateMachineInput::new(missing))
        .await
        .expect_err("no such machine");
    assert_eq!(e.code, "StateMachineDoesNotExist");
    assert_eq!(
        e.message,
        format!("State Machine Does Not Exist: '{missing}'")
    );
    assert_eq!(e.class, ErrorClass::Client);
    let e = service
        .create_state_machine(CreateStateMachineInput::new("bad", "{", ROLE))
        .await
        .expect_err("not JSON");
    assert_eq!(e.code, "InvalidDefinition");
    service.shutdown();
}

/// A watcher of the runtime's commits hears of each execution whose history a commit added to:
/// its start, and (after StopExecution) its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_are_told_to_whoever_watches_them() {
    let service = service().await;
    let mut commits = service.runtime().expect("a runtime").watch_commits();
    let waiting =
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#;
    let machine = service
        .create_state_machine(CreateStateMachineInput::new("watched", waiting, ROLE))
        .await
        .expect("created");
    let run = service
        .start_execution(StartExecutionInput::new(&machine.state_machine_arn))
        .await
        .expect("started");
    heard(&mut commits, &run.execution_arn).await;
    service
        .stop_execution(StopExecutionInput::new(&run.execution_arn))
        .await
        .expect("stopped");
    heard(&mut commits, &run.execution_arn).await;
    service.shutdown();
}

/// Waits for a commit naming `arn` (a guard of 10 s against a hang, not a measure).
async fn heard(commits: &mut tokio::sync::broadcast::Receiver<Arc<Vec<String>>>, arn: &str) {
    let wait = async {
        loop {
            let touched = commits.recv().await.expect("a commit");
            if touched.iter().any(|a| a == arn) {
                return;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), wait)
        .await
        .expect("a commit naming the execution");
}
