//! The driver against a real SQLite file: executions run to the end, activities are handed out
//! and answered, and a runtime started again on the same file carries on.

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use stepwise_runtime::{Runtime, RuntimeConfig, TaskAnswer};
use stepwise_store::{ExecutionRecord, SqliteStore, Store};
use stepwise_test_support::records::ExecutionRecordBuilder;

use common::{history_types, metric, wait_for_status};

const ACTIVITY: &str = "arn:aws:states:us-east-1:123456789012:activity:work";

fn definition() -> String {
    json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": {"n": 1}, "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Work"},
            "Work": {"Type": "Task", "Resource": ACTIVITY, "TimeoutSeconds": 600, "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}
        }
    })
    .to_string()
}

fn record(name: &str, input: &str) -> ExecutionRecord {
    ExecutionRecordBuilder::new("m", name)
        .start_ms(chrono::Utc::now().timestamp_millis())
        .input(input)
        .definition_hash("def1")
        .build()
}

fn config() -> RuntimeConfig {
    RuntimeConfig {
        wait_time_scale: 0.01,
        cache_capacity: 2,
        ..RuntimeConfig::default()
    }
}

/// A SQLite file in a fresh directory (kept while the returned guard lives), holding the
/// definition `def1`.
async fn store_file() -> (tempfile::TempDir, std::path::PathBuf, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("open"));
    store
        .put_definition("def1", &definition())
        .await
        .expect("definition");
    (dir, path, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_survives_a_restart_between_its_steps() {
    let (_dir, path, store) = store_file().await;
    let runtime = Runtime::start(store.clone(), config())
        .await
        .expect("runtime starts");
    let machine = runtime.machine("def1", &definition()).expect("parses");

    let mut arns = Vec::new();
    for i in 0..5 {
        let r = record(&format!("e{i}"), "{\"i\":1}");
        let started = runtime
            .start_execution(r.clone(), machine.clone(), json!({"i": 1}))
            .await
            .expect("start");
        assert_eq!(started.arn, r.arn);
        // Same name and input while running: the same execution.
        let again = runtime
            .start_execution(r.clone(), machine.clone(), json!({"i": 1}))
            .await
            .expect("idempotent start");
        assert_eq!(again, started);
        // Other input: refused.
        let mut other = r.clone();
        other.input = "{\"i\":2}".into();
        assert!(
            runtime
                .start_execution(other, machine.clone(), json!({"i": 2}))
                .await
                .is_err()
        );
        arns.push(r.arn);
    }
    // Each execution is in its Wait now; stop the runtime and start another on the same file.
    runtime.shutdown();
    drop(runtime);
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let runtime = Runtime::start(store.clone(), config())
        .await
        .expect("runtime starts");

    let mut served = 0;
    while served < arns.len() {
        let task = runtime
            .get_activity_task(ACTIVITY, "worker-1", Duration::from_secs(5))
            .await
            .expect("poll")
            .expect("a task is queued after the Wait");
        assert_eq!(
            serde_json::from_str::<Value>(&task.input).expect("json"),
            json!({"n": 1})
        );
        runtime
            .answer_task(task.clone(), TaskAnswer::Succeeded(json!({"done": served})))
            .await
            .expect("answer");
        served += 1;
    }
    for arn in &arns {
        let r = wait_for_status(&*store, arn, "SUCCEEDED").await;
        assert!(r.output.is_some());
        assert_eq!(
            history_types(&*store, arn).await,
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "WaitStateEntered",
                "WaitStateExited",
                "TaskStateEntered",
                "ActivityScheduled",
                "ActivityStarted",
                "ActivitySucceeded",
                "TaskStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ]
        );
    }
    // Nothing is left queued.
    assert!(
        runtime
            .get_activity_task(ACTIVITY, "worker-1", Duration::from_millis(50))
            .await
            .expect("poll")
            .is_none()
    );
    runtime.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_aborts_a_waiting_execution_and_drops_its_timer() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory"));
    store
        .put_definition("def1", &definition())
        .await
        .expect("definition");
    let runtime = Runtime::start(
        store.clone(),
        RuntimeConfig {
            wait_time_scale: 1.0,
            cache_capacity: 16,
            ..RuntimeConfig::default()
        },
    )
    .await
    .expect("runtime starts");
    let machine = runtime.machine("def1", &definition()).expect("parses");
    let r = record("stopme", "{}");
    runtime
        .start_execution(r.clone(), machine, json!({}))
        .await
        .expect("start");
    runtime
        .stop_execution(
            r.arn.clone(),
            Some("MyError".into()),
            Some("because".into()),
        )
        .await
        .expect("stop");
    let rec = store
        .get_execution(&r.arn)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(rec.status, "ABORTED");
    assert_eq!(rec.error.as_deref(), Some("MyError"));
    assert!(
        store
            .due_timers(i64::MAX, 10)
            .await
            .expect("timers")
            .is_empty()
    );
    assert_eq!(
        history_types(&*store, &r.arn)
            .await
            .last()
            .map(String::as_str),
        Some("ExecutionAborted")
    );
    // Stopping again answers with the same stop.
    runtime
        .stop_execution(r.arn.clone(), None, None)
        .await
        .expect("stop again");
    assert!(
        runtime
            .stop_execution(format!("{}x", r.arn), None, None)
            .await
            .is_err()
    );
    runtime.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_that_diverges_is_quarantined_and_the_rest_of_its_batch_commits() {
    let (_dir, path, store) = store_file().await;
    // Long enough a Wait that both executions are still in it at the restart.
    let slow = RuntimeConfig {
        wait_time_scale: 1.0,
        ..config()
    };
    let runtime = Runtime::start(store.clone(), slow)
        .await
        .expect("runtime starts");
    let machine = runtime.machine("def1", &definition()).expect("parses");
    let good = record("good", "{\"i\":1}");
    let bad = record("bad", "{\"i\":1}");
    for r in [&good, &bad] {
        runtime
            .start_execution(r.clone(), machine.clone(), json!({"i": 1}))
            .await
            .expect("start");
    }
    runtime.shutdown();
    drop(runtime);
    drop(store);

    // Corrupt `bad`'s first recorded step: its input is no longer what ExecutionStarted shows.
    {
        let db = rusqlite::Connection::open(&path).expect("open the file");
        let body: String = db
            .query_row(
                "SELECT body FROM steps WHERE execution = ?1 AND seq = 0",
                [&bad.arn],
                |r| r.get(0),
            )
            .expect("the first step");
        let mut step: Value = serde_json::from_str(&body).expect("a step is JSON");
        step["event"]["input_text"] = json!("{\"i\":2}");
        db.execute(
            "UPDATE steps SET body = ?2 WHERE execution = ?1 AND seq = 0",
            rusqlite::params![bad.arn, step.to_string()],
        )
        .expect("corrupt it");
    }

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).expect("reopen"));
    let runtime = Runtime::start(store.clone(), config())
        .await
        .expect("runtime starts");
    // Both Waits end together; the driver rebuilds both executions in the same batch.
    let task = runtime
        .get_activity_task(ACTIVITY, "worker-1", Duration::from_secs(10))
        .await
        .expect("poll")
        .expect("the good execution reaches its task");
    assert_eq!(task.execution, good.arn);
    runtime
        .answer_task(task, TaskAnswer::Succeeded(json!({"ok": true})))
        .await
        .expect("answer");
    wait_for_status(&*store, &good.arn, "SUCCEEDED").await;

    let failed = wait_for_status(&*store, &bad.arn, "FAILED").await;
    assert_eq!(failed.error.as_deref(), Some("States.Runtime"));
    let cause = failed.cause.expect("a cause");
    assert!(
        cause.starts_with(
            "Stepwise could not rebuild this execution from its recorded steps: replaying them \
             gave 4 history events that differ from the 4 committed."
        ),
        "{cause}"
    );
    let types = history_types(&*store, &bad.arn).await;
    assert_eq!(types.last().map(String::as_str), Some("ExecutionFailed"));
    assert_eq!(
        types.len(),
        5,
        "the stored events stay, one ExecutionFailed is added"
    );
    assert!(
        store
            .due_timers(i64::MAX, 10)
            .await
            .expect("timers")
            .is_empty()
    );
    assert_eq!(
        metric(&runtime, "stepwise_executions_quarantined_total"),
        1.0
    );
    // Stopping it answers as for any execution that is over; redriving it is refused.
    runtime
        .stop_execution(bad.arn.clone(), None, None)
        .await
        .expect("stop answers");
    let refused = runtime.redrive_execution(bad.arn.clone()).await;
    assert!(
        matches!(&refused, Err(stepwise_runtime::RuntimeError::NotRedrivable(why)) if why.starts_with("Stepwise could not rebuild")),
        "{refused:?}"
    );
    assert_eq!(history_types(&*store, &bad.arn).await.len(), 5);
    runtime.shutdown();
}
