//! Retention: closed executions go, with their history, once they have been closed longer
//! than the retention; running ones and recently closed ones stay.

#[allow(dead_code)] // Not every test uses every helper.
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use stepwise_runtime::{Runtime, RuntimeConfig};
use stepwise_store::{SqliteStore, Store};
use stepwise_test_support::records::ExecutionRecordBuilder;

use common::{history_types, wait_for_status};

const QUICK: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#;
const SLOW: &str =
    r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_executions_go_after_the_retention_and_running_ones_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("s.db")).expect("open"));
    for (hash, text) in [("quick", QUICK), ("slow", SLOW)] {
        store.put_definition(hash, text).await.expect("definition");
    }
    let config = RuntimeConfig {
        retention: Some(Duration::from_secs(2)),
        ..RuntimeConfig::default()
    };
    let runtime = Runtime::start(store.clone(), config)
        .await
        .expect("runtime starts");
    let start = async |hash: &str, name: &str| {
        let record = ExecutionRecordBuilder::new(hash, name)
            .start_ms(chrono::Utc::now().timestamp_millis())
            .definition_hash(hash)
            .build();
        let machine = runtime
            .machine(hash, if hash == "quick" { QUICK } else { SLOW })
            .expect("parses");
        runtime
            .start_execution(record, machine, json!({}))
            .await
            .expect("started")
            .arn
    };
    let waiting = start("slow", "waiting").await;
    // None of them closes before this.
    let began = Instant::now();
    let mut quick = Vec::new();
    for i in 0..150 {
        quick.push(start("quick", &format!("q{i}")).await);
    }

    // Each goes, history and all, within a look at the store (every second) after it has
    // been closed 2 s; not before.
    loop {
        let mut left = 0;
        for arn in &quick {
            if store.get_execution(arn).await.expect("get").is_some() {
                left += 1;
            } else {
                assert!(
                    began.elapsed() >= Duration::from_millis(1900),
                    "removed {:?} after it started, before the retention",
                    began.elapsed()
                );
                assert!(
                    history_types(&*store, arn).await.is_empty(),
                    "{arn}'s history"
                );
            }
        }
        if left == 0 {
            break;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "{left} closed executions still kept"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kept = store.get_execution(&waiting).await.expect("get");
    assert_eq!(kept.map(|e| e.status).as_deref(), Some("RUNNING"));
    assert_eq!(
        history_types(&*store, &waiting).await,
        ["ExecutionStarted", "WaitStateEntered"]
    );
    // One that closes now is kept for its own retention.
    let late = start("quick", "late").await;
    wait_for_status(&*store, &late, "SUCCEEDED").await;
    assert!(store.get_execution(&late).await.expect("get").is_some());
    runtime.shutdown();
}
