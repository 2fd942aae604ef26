//! Execution logs across a restart and a redrive: the writer is told a Standard execution's
//! settings at its start; after a restart, or once it ended and is redriven, it asks the
//! service, which reads them from the execution's state machine. Every event is logged once,
//! `redrive_count` follows the redrives.

use std::path::Path;
use std::sync::Arc;

use stepwise_runtime::{Integrations, RuntimeConfig};
use stepwise_service::types::{
    CloudWatchLogsLogGroup, CreateStateMachineInput, LogDestination, LogLevel,
    LoggingConfiguration, RedriveExecutionInput, StartExecutionInput, StopExecutionInput,
};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};

const ROLE: &str = "arn:aws:iam::123456789012:role/R";
const GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:orders:*";

async fn service(db: &Path, logs: &Path) -> Arc<Service> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db).expect("store"));
    let config = stepwise_tasks::Config::parse(
        &format!("[logging]\ndirectory = \"{}\"\n", logs.display()),
        "stepwise.toml",
    )
    .expect("config");
    let config = RuntimeConfig {
        integrations: Some(Arc::new(Integrations::new(Arc::new(config)))),
        ..RuntimeConfig::default()
    };
    Service::start(store, Arns::default(), config)
        .await
        .expect("service starts")
}

/// Waits for the writer, then reads the log: (type, id, redrive_count) of each line.
fn lines(service: &Service, logs: &Path) -> Vec<(String, String, String)> {
    if let Some(rt) = service.runtime() {
        rt.execution_logs().flush();
    }
    std::fs::read_to_string(logs.join("orders.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let s = |k: &str| v[k].as_str().expect("a string").to_owned();
            (s("type"), s("id"), s("redrive_count"))
        })
        .collect()
}

fn line(kind: &str, id: u64, redrives: u32) -> (String, String, String) {
    (kind.into(), id.to_string(), redrives.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_executions_log_once_across_a_restart_and_a_redrive() {
    let dir = tempfile::tempdir().expect("a folder");
    let (db, logs) = (dir.path().join("s.db"), dir.path().join("logs"));
    let first = service(&db, &logs).await;
    let waits =
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#;
    let logging = LoggingConfiguration::new()
        .level(LogLevel::All)
        .include_execution_data(true)
        .destinations(vec![LogDestination::new().cloud_watch_logs_log_group(
            CloudWatchLogsLogGroup::new().log_group_arn(GROUP),
        )]);
    let machine = first
        .create_state_machine(
            CreateStateMachineInput::new("waits", waits, ROLE).logging_configuration(logging),
        )
        .await
        .expect("created");
    let run = first
        .start_execution(StartExecutionInput::new(&machine.state_machine_arn).name("w1"))
        .await
        .expect("started");
    assert_eq!(
        lines(&first, &logs),
        [
            line("ExecutionStarted", 1, 0),
            line("WaitStateEntered", 2, 0)
        ]
    );
    first.shutdown();
    drop(first);

    // After the restart the writer was told nothing about w1: it asks the service.
    let second = service(&db, &logs).await;
    second
        .stop_execution(StopExecutionInput::new(&run.execution_arn).error("Enough"))
        .await
        .expect("stopped");
    assert_eq!(lines(&second, &logs)[2..], [line("ExecutionAborted", 3, 0)]);
    second
        .redrive_execution(RedriveExecutionInput::new(&run.execution_arn))
        .await
        .expect("redriven");
    let after = lines(&second, &logs);
    assert_eq!(
        after[3..],
        [
            line("ExecutionRedriven", 4, 1),
            line("WaitStateEntered", 5, 1)
        ],
        "the redrive's lines carry its count"
    );
    second.shutdown();
}
