//! What a user sees when the store fails one group commit: the call whose work was in it gets
//! the store's error, nothing of it is stored (no half-applied history), other commits are
//! unaffected, and every execution the failed commit touched still runs to its end, with
//! contiguous history and nothing quarantined, and is counted once.
//!
//! Each test waits for one commit to be done before causing the next, so the commit that fails
//! (the store's Nth) is always the same work.

mod common;

use std::sync::Arc;

use serde_json::{Value, json};
use stepwise_runtime::{Runtime, RuntimeConfig, RuntimeError};
use stepwise_store::{ExecutionRecord, SqliteStore, Store};
use stepwise_test_support::failing_store::FailingCommitStore;
use stepwise_test_support::records::ExecutionRecordBuilder;

use common::{history_types, metric, wait_for_status};

/// Pass -> Wait (1 s, 10 ms at the tests' scale) -> Pass.
fn waiting() -> String {
    json!({
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Result": {"n": 1}, "Next": "Pause"},
            "Pause": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}
        }
    })
    .to_string()
}

const WAITING_HISTORY: [&str; 8] = [
    "ExecutionStarted",
    "PassStateEntered",
    "PassStateExited",
    "WaitStateEntered",
    "WaitStateExited",
    "PassStateEntered",
    "PassStateExited",
    "ExecutionSucceeded",
];

/// A task the dispatcher answers at once, without a network: Stepwise cannot call EKS's
/// Kubernetes API, so the task fails (States.TaskFailed), is caught, and the execution succeeds.
fn dispatched() -> String {
    json!({
        "StartAt": "Send",
        "States": {
            "Send": {
                "Type": "Task",
                "Resource": "arn:aws:states:::eks:call",
                "Parameters": {"ClusterName": "c", "Method": "GET", "Path": "/api/v1/pods"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
                "End": true
            },
            "Done": {"Type": "Pass", "End": true}
        }
    })
    .to_string()
}

struct Setup {
    _dir: tempfile::TempDir,
    /// The SQLite file, read directly: what a failed commit left is what it holds.
    store: Arc<dyn Store>,
    failing: Arc<FailingCommitStore>,
    runtime: Arc<Runtime>,
    machine: Arc<stepwise_asl::StateMachine>,
}

/// A runtime over a SQLite file whose commit number `fail_on` fails, running `definition`.
async fn setup(fail_on: u64, definition: &str) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    store
        .put_definition("def1", definition)
        .await
        .expect("definition");
    let failing = Arc::new(FailingCommitStore::new(store.clone(), fail_on));
    let config = RuntimeConfig {
        wait_time_scale: 0.01,
        cache_capacity: 16,
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::start(failing.clone(), config)
        .await
        .expect("runtime starts");
    let machine = runtime.machine("def1", definition).expect("parses");
    Setup {
        _dir: dir,
        store,
        failing,
        runtime,
        machine,
    }
}

fn record(name: &str) -> ExecutionRecord {
    ExecutionRecordBuilder::new("m", name)
        .start_ms(chrono::Utc::now().timestamp_millis())
        .definition_hash("def1")
        .build()
}

/// Nothing of `arn` is stored: no record, history, steps, timers or tasks.
async fn nothing_stored(store: &dyn Store, arn: &str) {
    assert_eq!(store.get_execution(arn).await.expect("get"), None);
    assert!(
        store
            .history(arn, 1, u64::MAX)
            .await
            .expect("history")
            .is_empty()
    );
    assert!(store.steps(arn).await.expect("steps").is_empty());
    assert!(store.tasks_of(arn).await.expect("tasks").is_empty());
    assert!(
        store
            .due_timers(i64::MAX, 100)
            .await
            .expect("timers")
            .iter()
            .all(|t| t.execution != arn)
    );
}

/// The runtime counted `started` executions, all ended, and quarantined none. The driver
/// counts right after its commit, so a test that saw the commit in the store may look a moment
/// before: it waits up to a second for the counts.
fn counted(runtime: &Runtime, started: f64) {
    for _ in 0..100 {
        if metric(runtime, "stepwise_executions_started_total") == started
            && metric(runtime, "stepwise_executions_running") == 0.0
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        metric(runtime, "stepwise_executions_started_total"),
        started
    );
    assert_eq!(metric(runtime, "stepwise_executions_running"), 0.0);
    assert_eq!(
        metric(runtime, "stepwise_executions_quarantined_total"),
        0.0
    );
}

/// Starts `name` and waits for it to succeed: two commits (the start, then the timer).
async fn run_to_end(s: &Setup, name: &str) -> String {
    let r = record(name);
    s.runtime
        .start_execution(r.clone(), s.machine.clone(), json!({}))
        .await
        .expect("start");
    wait_for_status(&*s.store, &r.arn, "SUCCEEDED").await;
    r.arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_commit_fails_is_refused_keeps_nothing_and_can_be_made_again() {
    // Commits 1 and 2 are `before`'s start and timer; 3 is `failed`'s start.
    let s = setup(3, &waiting()).await;
    let before = run_to_end(&s, "before").await;
    assert_eq!(s.failing.commits(), 2);

    let failed = record("failed");
    let refused = s
        .runtime
        .start_execution(failed.clone(), s.machine.clone(), json!({}))
        .await;
    assert!(
        matches!(&refused, Err(RuntimeError::Store(m)) if m.contains("failed on purpose")),
        "the caller hears of the failed commit: {refused:?}"
    );
    assert_eq!(s.failing.commits(), 3);
    nothing_stored(&*s.store, &failed.arn).await;
    // The runtime knows nothing of it either.
    assert!(
        s.runtime
            .stop_execution(failed.arn.clone(), None, None)
            .await
            .is_err()
    );
    // The execution of the commits before is as it was.
    assert_eq!(history_types(&*s.store, &before).await, WAITING_HISTORY);

    // Nothing was stored, so the same start again is a new start, and it runs to its end.
    let started = s
        .runtime
        .start_execution(failed.clone(), s.machine.clone(), json!({}))
        .await
        .expect("the same start again");
    assert_eq!(started.arn, failed.arn);
    let done = wait_for_status(&*s.store, &failed.arn, "SUCCEEDED").await;
    assert_eq!(done.output.as_deref(), Some("{\"n\":1}"));
    assert_eq!(history_types(&*s.store, &failed.arn).await, WAITING_HISTORY);
    assert_eq!((done.event_count, done.step_count), (8, 2));

    let after = run_to_end(&s, "after").await;
    assert_eq!(history_types(&*s.store, &after).await, WAITING_HISTORY);

    // Three executions started and ended; the refused start is not one of them.
    counted(&s.runtime, 3.0);
    s.runtime.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_whose_commit_fails_fires_again_and_its_execution_ends_once() {
    // Commits 1 and 2 are `before`'s; 3 is `waiting`'s start, 4 its timer.
    let s = setup(4, &waiting()).await;
    let before = run_to_end(&s, "before").await;

    let waiting = record("waiting");
    s.runtime
        .start_execution(waiting.clone(), s.machine.clone(), json!({}))
        .await
        .expect("the start commits");
    // The timer's commit fails (nobody is waiting on it to be told), and the timer fires
    // again: the execution ends, with each event once.
    let done = wait_for_status(&*s.store, &waiting.arn, "SUCCEEDED").await;
    assert!(s.failing.commits() >= 5, "{}", s.failing.commits());
    assert_eq!(
        history_types(&*s.store, &waiting.arn).await,
        WAITING_HISTORY
    );
    assert_eq!((done.event_count, done.step_count), (8, 2));
    assert!(
        s.store
            .due_timers(i64::MAX, 100)
            .await
            .expect("timers")
            .is_empty()
    );

    assert_eq!(history_types(&*s.store, &before).await, WAITING_HISTORY);
    let after = run_to_end(&s, "after").await;
    assert_eq!(history_types(&*s.store, &after).await, WAITING_HISTORY);

    counted(&s.runtime, 3.0);
    assert_eq!(
        metric(
            &s.runtime,
            "stepwise_executions_finished_total{status=\"SUCCEEDED\"}"
        ),
        3.0,
        "the execution whose end did not commit the first time is counted once"
    );
    s.runtime.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_answer_whose_commit_fails_is_sent_again() {
    // Commit 1 is the start (the task scheduled and started); 2 is the dispatcher's answer.
    let s = setup(2, &dispatched()).await;
    let r = record("sends");
    s.runtime
        .start_execution(r.clone(), s.machine.clone(), json!({}))
        .await
        .expect("the start commits");
    let done = wait_for_status(&*s.store, &r.arn, "SUCCEEDED").await;
    assert!(s.failing.commits() >= 3, "{}", s.failing.commits());
    assert_eq!(
        history_types(&*s.store, &r.arn).await,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let output: Value =
        serde_json::from_str(done.output.as_deref().expect("output")).expect("json");
    assert_eq!(output["error"]["Error"], "States.TaskFailed");
    // The task's row is gone: it is not called again at the next start.
    assert!(s.store.tasks_of(&r.arn).await.expect("tasks").is_empty());
    counted(&s.runtime, 1.0);
    s.runtime.shutdown();
}
