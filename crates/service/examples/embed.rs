//! Stepwise embedded in a Rust program: no server, no socket. The service runs on a SQLite
//! file in a temporary directory; the program creates a state machine, runs an execution and
//! prints its history, then shows an error as the service reports it.
//!
//! `cargo run -p stepwise-service --example embed`

use std::sync::Arc;

use stepwise_service::types::{
    CreateStateMachineInput, DescribeStateMachineInput, GetExecutionHistoryInput,
    StartExecutionInput,
};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};

const DEFINITION: &str = r#"{
  "StartAt": "Check",
  "States": {
    "Check": {"Type": "Choice",
              "Choices": [{"Variable": "$.amount", "NumericGreaterThan": 100, "Next": "Review"}],
              "Default": "Approve"},
    "Review": {"Type": "Pass", "Result": "needs review", "ResultPath": "$.decision", "End": true},
    "Approve": {"Type": "Pass", "Result": "approved", "ResultPath": "$.decision", "End": true}
  }
}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("stepwise.db"))?);
    let service = Service::start(store, Arns::default(), Default::default()).await?;

    let machine = service
        .create_state_machine(CreateStateMachineInput::new(
            "orders",
            DEFINITION,
            "arn:aws:iam::123456789012:role/orders",
        ))
        .await?;
    println!("created {}", machine.state_machine_arn);

    let run = service
        .start_execution(
            StartExecutionInput::new(&machine.state_machine_arn)
                .name("order-42")
                .input(r#"{"amount": 250}"#),
        )
        .await?;
    let done = service.wait_for_execution(&run.execution_arn).await?;
    println!(
        "{} {}: {}",
        run.execution_arn,
        done.status,
        done.output.unwrap_or_default()
    );

    let history = service
        .get_execution_history(GetExecutionHistoryInput::new(&run.execution_arn))
        .await?;
    for event in &history.events {
        println!("  #{} {}", event.id, event.r#type);
    }

    let missing = service
        .describe_state_machine(DescribeStateMachineInput::new(
            "arn:aws:states:us-east-1:123456789012:stateMachine:nope",
        ))
        .await;
    if let Err(e) = missing {
        println!("error {}: {}", e.code, e.message);
    }
    service.shutdown();
    Ok(())
}
