//! What the runtime's tests against a store share: reading an execution's stored history,
//! waiting for its status, reading a metric.

use std::time::Duration;

use serde_json::{Value, json};
use stepwise_runtime::Runtime;
use stepwise_store::{ExecutionRecord, Store};

/// The types of an execution's stored events, checking that their ids run 1, 2, 3, ...
pub async fn history_types(store: &dyn Store, arn: &str) -> Vec<String> {
    store
        .history(arn, 1, u64::MAX)
        .await
        .expect("history")
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let v: Value = serde_json::from_str(text).expect("event json");
            assert_eq!(v["id"], json!(i + 1), "ids are contiguous from 1");
            v["type"].as_str().expect("type").to_owned()
        })
        .collect()
}

/// Polls until the execution is stored with `status` (a bound on waiting for progress, not on
/// its speed).
pub async fn wait_for_status(store: &dyn Store, arn: &str, status: &str) -> ExecutionRecord {
    for _ in 0..3000 {
        if let Some(r) = store.get_execution(arn).await.expect("get") {
            if r.status == status {
                return r;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{arn} never reached {status}");
}

/// The metric `name`'s value in the runtime's Prometheus text.
pub fn metric(runtime: &Runtime, name: &str) -> f64 {
    let mut text = String::new();
    runtime.metrics().render(&mut text);
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {text}"))
}
