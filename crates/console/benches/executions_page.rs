//! Server time of the console's executions page with many executions stored
//! (`cargo bench -p stepwise-console --bench executions_page`): 100,000 executions of one
//! state machine (1 in 100 failed), then the page's JSON (`GET /console/api/executions`, 50
//! a page, through the router without a socket) first page, pages deep into the list,
//! filtered by a common and a rare status, by a name prefix (common, rare, matching none), by
//! a start-time range, and by both. Prints p50 and p99 of each.
//!
//! Names are `order-N` and `refund-N` (half each) and `audit-N` (1 in 100), spread evenly
//! over the start times, as a real mix of names would be.
//!
//! `STEPWISE_CONSOLE_BENCH_EXECUTIONS` sets how many (default 100,000). Run by `cargo test`
//! (without `--bench`), it is a smoke run over 2,000.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use stepwise_runtime::RuntimeConfig;
use stepwise_service::types::{
    CreateStateMachineInput, ExecutionStatus, ListExecutionsInput, StartExecutionInput,
};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};
use tower::ServiceExt;

const MACHINE: &str = r#"{"StartAt": "Check", "States": {
  "Check": {"Type": "Choice", "Choices": [{"Variable": "$.fail", "IsPresent": true, "Next": "No"}], "Default": "Yes"},
  "Yes": {"Type": "Pass", "End": true},
  "No": {"Type": "Fail", "Error": "Bench.Failed"}}}"#;

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let count: usize = std::env::var("STEPWISE_CONSOLE_BENCH_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 100_000 } else { 2_000 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(run(count));
}

async fn run(count: usize) {
    let dir = std::env::temp_dir().join(format!("stepwise-console-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join("bench.db")).expect("store"));
    let service = Service::start(store, Arns::default(), RuntimeConfig::default())
        .await
        .expect("service");
    let sm = service
        .create_state_machine(CreateStateMachineInput::new(
            "bench",
            MACHINE,
            "arn:aws:iam::123456789012:role/R",
        ))
        .await
        .expect("machine")
        .state_machine_arn;

    let began = Instant::now();
    let began_ms = epoch_ms();
    let mut running = tokio::task::JoinSet::new();
    for i in 0..count {
        let (service, sm) = (service.clone(), sm.clone());
        running.spawn(async move {
            let input = if i % 100 == 0 {
                r#"{"fail": true}"#
            } else {
                "{}"
            };
            service
                .start_execution(StartExecutionInput::new(&sm).name(name_of(i)).input(input))
                .await
                .expect("started")
                .execution_arn
        });
        while running.len() >= 256 {
            running.join_next().await;
        }
    }
    let mut last = String::new();
    while let Some(done) = running.join_next().await {
        last = done.expect("start");
    }
    service.wait_for_execution(&last).await.expect("last done");
    // Started is not finished: wait until none is running.
    loop {
        let open = service
            .list_executions(
                ListExecutionsInput::new()
                    .state_machine_arn(&sm)
                    .status_filter(ExecutionStatus::Running)
                    .max_results(1),
            )
            .await
            .expect("list");
        if open.executions.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ended_ms = epoch_ms();
    println!(
        "stored {count} executions in {:.1} s",
        began.elapsed().as_secs_f64()
    );

    let app = stepwise_console::router(service.clone());
    let sm_q = sm.replace(':', "%3A");
    let samples = 200;

    let mut first = Vec::new();
    for _ in 0..samples {
        first.push(
            page(&app, &format!("stateMachineArn={sm_q}&maxResults=50"))
                .await
                .0,
        );
    }
    report("first page", &mut first);

    // Deep pages: follow nextToken as the Next button does.
    let mut deep = Vec::new();
    let mut token = String::new();
    let pages = (count / 50).min(samples * 5);
    for _ in 0..pages {
        let mut q = format!("stateMachineArn={sm_q}&maxResults=50");
        if !token.is_empty() {
            q.push_str(&format!("&nextToken={}", urlencode(&token)));
        }
        let (took, body) = page(&app, &q).await;
        deep.push(took);
        match body["nextToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    report(
        &format!("pages 1..{} (Next, Next, …)", deep.len()),
        &mut deep,
    );

    for (status, label) in [
        ("SUCCEEDED", "status SUCCEEDED (99%)"),
        ("FAILED", "status FAILED (1%)"),
    ] {
        let mut t = Vec::new();
        for _ in 0..samples {
            t.push(
                page(
                    &app,
                    &format!("stateMachineArn={sm_q}&status={status}&maxResults=50"),
                )
                .await
                .0,
            );
        }
        report(label, &mut t);
    }

    // The console's search: name prefixes and a start-time range (the middle tenth).
    let span = ended_ms - began_ms;
    let window = format!(
        "startedFrom={}&startedBefore={}",
        began_ms + span * 45 / 100,
        began_ms + span * 55 / 100
    );
    for (query, label, found) in [
        (
            "namePrefix=order-".to_owned(),
            "name order- (50%)",
            Some(true),
        ),
        (
            "namePrefix=audit-".to_owned(),
            "name audit- (1%)",
            Some(true),
        ),
        (
            format!("namePrefix=audit-{:06}", count / 2 / 100 * 100 + 50),
            "name audit-N (one)",
            Some(true),
        ),
        (
            "namePrefix=none-".to_owned(),
            "name none- (no match)",
            Some(false),
        ),
        (window.clone(), "started in the middle 10%", Some(true)),
        (
            format!("{window}&namePrefix=audit-"),
            "middle 10% and audit- (0.1%)",
            None,
        ),
        (
            format!("{window}&status=FAILED"),
            "middle 10% and FAILED (0.1%)",
            None,
        ),
    ] {
        let mut t = Vec::new();
        for _ in 0..samples {
            let q = format!("stateMachineArn={sm_q}&{query}&maxResults=50");
            let (took, body) = page(&app, &q).await;
            // (How many a window holds depends on how fast they were stored: not checked.)
            if let Some(found) = found {
                assert_eq!(
                    body["executions"].as_array().is_some_and(|e| !e.is_empty()),
                    found,
                    "{label}"
                );
            }
            t.push(took);
        }
        report(label, &mut t);
    }
    // Deep pages through a prefix and through the window, by Next.
    for (query, label) in [
        ("namePrefix=order-".to_owned(), "order- pages by Next"),
        (window.clone(), "middle 10% pages by Next"),
    ] {
        let mut deep = Vec::new();
        let mut token = String::new();
        for _ in 0..pages {
            let mut q = format!("stateMachineArn={sm_q}&{query}&maxResults=50");
            if !token.is_empty() {
                q.push_str(&format!("&nextToken={}", urlencode(&token)));
            }
            let (took, body) = page(&app, &q).await;
            deep.push(took);
            match body["nextToken"].as_str() {
                Some(t) => token = t.to_owned(),
                None => break,
            }
        }
        report(&format!("{label} (1..{})", deep.len()), &mut deep);
    }
    service.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Half `order-`, half `refund-`, and 1 in 100 `audit-`, whatever the start time.
fn name_of(i: usize) -> String {
    let kind = if i % 100 == 50 {
        "audit"
    } else if i % 2 == 0 {
        "order"
    } else {
        "refund"
    };
    format!("{kind}-{i:06}")
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn page(app: &Router, query: &str) -> (Duration, Value) {
    let began = Instant::now();
    let res = app
        .clone()
        .oneshot(
            Request::get(format!("/console/api/executions?{query}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let took = began.elapsed();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let value: Value = serde_json::from_slice(&body).expect("json");
    assert!(value["executions"].is_array(), "{query}: {value}");
    (took, value)
}

/// A query value, percent-encoded (page tokens carry `+`, `/` and `=`).
fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{what:<32} n={:<5} p50 {:>7.2} ms   p99 {:>7.2} ms",
        times.len(),
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
}
