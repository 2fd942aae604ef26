//! The console's routes on a real service (SQLite in memory), merged with the API's router as
//! `stepwise serve` merges them, driven without a socket: the page and its assets, the JSON the
//! page reads, the live stream, and the API's `POST /` still answering beside `GET /`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use stepwise_runtime::RuntimeConfig;
use stepwise_service::types::{CreateStateMachineInput, StartExecutionInput};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};
use tower::ServiceExt;

const PIPELINE: &str = include_str!("../../../examples/orders-pipeline.asl.json");

async fn app() -> (Router, Arc<Service>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("store"));
    let service = Service::start(
        store,
        Arns::default(),
        RuntimeConfig {
            wait_time_scale: 0.1,
            ..RuntimeConfig::default()
        },
    )
    .await
    .expect("service");
    let api = Arc::new(stepwise_api::Api::new(service.clone()));
    let app = stepwise_api::router(api).merge(stepwise_console::router(service.clone()));
    (app, service)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String, String) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("answer");
    let status = res.status();
    let ctype = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

async fn get_json(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = get(app, uri).await;
    (status, serde_json::from_str(&body).expect("JSON"))
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A")
}

async fn machine(service: &Service) -> String {
    service
        .create_state_machine(CreateStateMachineInput::new(
            "pipeline",
            PIPELINE,
            "arn:aws:iam::123456789012:role/R",
        ))
        .await
        .expect("created")
        .state_machine_arn
}

async fn run(service: &Service, arn: &str, name: &str, input: Value) -> String {
    let started = service
        .start_execution(
            StartExecutionInput::new(arn)
                .name(name)
                .input(input.to_string()),
        )
        .await
        .expect("started");
    started.execution_arn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_its_assets_and_the_api_share_the_root() {
    let (app, service) = app().await;
    let (status, ctype, body) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(body.contains("/console/assets/app.js"));
    let (status, ctype, body) = get(&app, "/console/assets/app.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/javascript"));
    assert!(body.contains("EventSource"));
    assert_eq!(
        get(&app, "/console/assets/other.js").await.0,
        StatusCode::NOT_FOUND
    );

    // The API's POST / is untouched by the console's GET /.
    machine(&service).await;
    let res = app
        .clone()
        .oneshot(
            Request::post("/")
                .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
                .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
                .body(Body::from("{}"))
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let listed: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(listed["stateMachines"][0]["name"], "pipeline");
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_is_drawn_coloured_and_can_be_replayed() {
    let (app, service) = app().await;
    let sm = machine(&service).await;
    let (status, list) = get_json(&app, "/console/api/state-machines").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["stateMachines"][0]["versions"], 0);
    let (_, described) = get_json(
        &app,
        &format!("/console/api/state-machine?arn={}", enc(&sm)),
    )
    .await;
    assert_eq!(
        described["graph"]["states"].as_array().map(Vec::len),
        Some(30)
    );
    assert!(described["stateMachine"]["definition"].as_str().is_some());

    let arn = run(
        &service,
        &sm,
        "caught",
        json!({"fail": true, "fatal": true}),
    )
    .await;
    service.wait_for_execution(&arn).await.expect("done");
    let (status, x) = get_json(&app, &format!("/console/api/execution?arn={}", enc(&arn))).await;
    assert_eq!(status, StatusCode::OK, "{x}");
    assert_eq!(x["execution"]["status"], "FAILED");
    assert_eq!(x["statuses"]["Enrich"]["status"], "caught");
    assert_eq!(x["statuses"]["Give up"]["status"], "failed");
    assert!(x["statuses"].get("Summarize").is_none(), "not reached");
    let svg = x["graph"]["svg"].as_str().expect("svg");
    assert!(
        svg.contains(r#"data-state="Enrich" data-status="caught""#),
        "{svg}"
    );
    let events = x["events"].as_array().expect("events").len();
    assert!(events > 10);

    // Replay: after the second event only the first state has been entered.
    let (_, at) = get_json(
        &app,
        &format!("/console/api/execution/statuses?arn={}&at=2", enc(&arn)),
    )
    .await;
    assert_eq!(at["of"], events);
    let reached: Vec<&String> = at["statuses"].as_object().expect("map").keys().collect();
    assert_eq!(reached, ["Receive order"]);
    assert_eq!(at["statuses"]["Receive order"]["status"], "running");

    // Executions: filtered by status; a bad status is refused as the API would.
    run(&service, &sm, "fine", json!({})).await;
    let (_, page) = get_json(
        &app,
        &format!(
            "/console/api/executions?stateMachineArn={}&status=FAILED",
            enc(&sm)
        ),
    )
    .await;
    let names: Vec<&str> = page["executions"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["caught"]);
    let (status, refused) = get_json(
        &app,
        &format!(
            "/console/api/executions?stateMachineArn={}&status=BAD",
            enc(&sm)
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "ValidationException");
    let (status, missing) = get_json(&app, "/console/api/execution?arn=arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3Aexecution%3Apipeline%3Anope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(missing["error"], "ExecutionDoesNotExist");
    service.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_execution_streams_its_events_until_it_ends() {
    let (app, service) = app().await;
    let sm = machine(&service).await;
    // Waits 3 s (0.3 s at this scale) in "Hold", then runs to the end.
    let arn = run(&service, &sm, "slow", json!({"slow": true})).await;
    let (_, body_type, body) = get(
        &app,
        &format!("/console/api/execution/stream?arn={}&after=0", enc(&arn)),
    )
    .await;
    assert!(body_type.starts_with("text/event-stream"), "{body_type}");
    assert!(body.contains("event: history"), "{body}");
    let last = body
        .split("\n\n")
        .filter(|m| m.starts_with("event: end"))
        .last()
        .expect("an end message");
    assert!(last.contains(r#""status":"SUCCEEDED""#), "{last}");
    // The last history message has every state the run went through as succeeded.
    let history: Vec<Value> = body
        .split("\n\n")
        .filter_map(|m| m.strip_prefix("event: history\ndata: "))
        .map(|d| serde_json::from_str(d).expect("data is JSON"))
        .collect();
    let last = history.last().expect("history messages");
    assert_eq!(last["statuses"]["Done"]["status"], "succeeded");
    assert_eq!(last["statuses"]["Hold"]["status"], "succeeded");
    let streamed: usize = history
        .iter()
        .map(|h| h["events"].as_array().map_or(0, Vec::len))
        .sum();
    let (_, x) = get_json(&app, &format!("/console/api/execution?arn={}", enc(&arn))).await;
    assert_eq!(
        streamed,
        x["events"].as_array().map_or(0, Vec::len),
        "every event, once"
    );
    service.shutdown();
}

async fn post_json(app: &Router, uri: &str, body: Value) -> (StatusCode, Value) {
    let res = app
        .clone()
        .oneshot(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await
        .expect("answer");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_is_checked_by_the_validator_and_saves_a_version() {
    let (app, service) = app().await;
    let sm = machine(&service).await;
    let broken = PIPELINE.replace(r#""Next": "Pack""#, r#""Next": "Packing""#);
    let (status, out) = post_json(
        &app,
        "/console/api/validate",
        json!({"definition": broken, "type": "STANDARD"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(out["result"], "FAIL");
    assert_eq!(out["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(out["diagnostics"][0]["location"], "/States/Summarize/Next");
    assert!(out.get("graph").is_none());
    let (_, out) = post_json(
        &app,
        "/console/api/validate",
        json!({"definition": PIPELINE}),
    )
    .await;
    assert_eq!(out["result"], "OK");
    assert!(
        out["graph"]["svg"]
            .as_str()
            .is_some_and(|s| s.contains("data-state=\"Pack\""))
    );

    let (status, saved) = post_json(
        &app,
        "/console/api/state-machine/version",
        json!({"stateMachineArn": sm, "definition": PIPELINE.replace("Archive", "Store")}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(
        saved["stateMachineVersionArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(":1"))
    );
    let (_, described) = get_json(
        &app,
        &format!("/console/api/state-machine?arn={}", enc(&sm)),
    )
    .await;
    assert_eq!(described["versions"].as_array().map(Vec::len), Some(1));
    assert!(
        described["graph"]["svg"]
            .as_str()
            .is_some_and(|s| s.contains("data-state=\"Store\""))
    );
    let (status, refused) = post_json(
        &app,
        "/console/api/state-machine/version",
        json!({"stateMachineArn": sm, "definition": broken}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "InvalidDefinition");
    service.shutdown();
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_are_searched_by_name_prefix_and_start_time_page_by_page() {
    let (app, service) = app().await;
    let sm = service
        .create_state_machine(CreateStateMachineInput::new(
            "quick",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
            "arn:aws:iam::123456789012:role/R",
        ))
        .await
        .expect("created")
        .state_machine_arn;
    let start = |name: String| {
        let (service, sm) = (service.clone(), sm.clone());
        async move {
            service
                .start_execution(StartExecutionInput::new(&sm).name(name))
                .await
                .expect("started");
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        }
    };
    for i in 0..5 {
        start(format!("order-{i}")).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let middle = now_ms();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for i in 0..5 {
        start(format!("refund-{i}")).await;
        start(format!("order-late-{i}")).await;
    }
    let list = |query: String| {
        let app = app.clone();
        let sm = sm.clone();
        async move {
            let (status, page) = get_json(
                &app,
                &format!(
                    "/console/api/executions?stateMachineArn={}&{query}",
                    enc(&sm)
                ),
            )
            .await;
            let names: Vec<String> = page["executions"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (status, names, page)
        }
    };

    // A prefix, two a page, followed by Next: every match, newest first, nothing else.
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let mut q = "namePrefix=order-&maxResults=2".to_owned();
        if !token.is_empty() {
            q.push_str(&format!("&nextToken={token}"));
        }
        let (status, page_names, page) = list(q).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        names.extend(page_names);
        match page["nextToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    let mut want: Vec<String> = (0..5).rev().map(|i| format!("order-late-{i}")).collect();
    want.extend((0..5).rev().map(|i| format!("order-{i}")));
    assert_eq!(names, want);

    // The time range: from is inclusive, before exclusive; with the prefix too.
    let (_, early, _) = list(format!("startedBefore={middle}")).await;
    assert_eq!(
        early,
        ["order-4", "order-3", "order-2", "order-1", "order-0"]
    );
    let (_, late, _) = list(format!("startedFrom={middle}&namePrefix=order-")).await;
    assert_eq!(late, want[..5]);
    let (_, refunds, _) = list(format!("startedFrom={middle}&namePrefix=refund-")).await;
    assert_eq!(refunds.len(), 5);

    // A page token belongs to its search: one from another search is refused.
    let (_, _, first) = list("namePrefix=order-&maxResults=2".to_owned()).await;
    let token = first["nextToken"].as_str().expect("a next page");
    let (status, _, refused) =
        list(format!("namePrefix=refund-&maxResults=2&nextToken={token}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "InvalidToken", "{refused}");
    // An empty range is a mistake, said as the API says one.
    let (status, _, refused) = list(format!("startedFrom={middle}&startedBefore={middle}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "ValidationException");

    // AWS's ListExecutions is unchanged: it lists all 15.
    let res = app
        .clone()
        .oneshot(
            Request::post("/")
                .header("x-amz-target", "AWSStepFunctions.ListExecutions")
                .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
                .body(Body::from(json!({"stateMachineArn": sm}).to_string()))
                .expect("request"),
        )
        .await
        .expect("answer");
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let listed: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(listed["executions"].as_array().map(Vec::len), Some(15));
    service.shutdown();
}

/// A Distributed Map's Map Run: listed on its execution's page with its counts, its own view
/// with its children page by page (and by status), and each child naming its Map Run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_run_is_shown_with_its_counts_and_its_children() {
    let (app, service) = app().await;
    let definition = json!({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map", "ItemsPath": "$.items", "Label": "Orders",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": {
                    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.bad", "BooleanEquals": true, "Next": "Bad"}], "Default": "Good"},
                    "Bad": {"Type": "Fail", "Error": "Bad"},
                    "Good": {"Type": "Pass", "End": true}
                }
            },
            "ToleratedFailurePercentage": 50,
            "End": true
        }}
    });
    let sm = service
        .create_state_machine(CreateStateMachineInput::new(
            "fanout",
            definition.to_string(),
            "arn:aws:iam::123456789012:role/R",
        ))
        .await
        .expect("created")
        .state_machine_arn;
    let items: Vec<Value> = (0..7).map(|i| json!({"n": i, "bad": i == 3})).collect();
    let x = run(&service, &sm, "fan", json!({ "items": items })).await;
    let done = service.wait_for_execution(&x).await.expect("done");
    assert_eq!(
        done.status,
        stepwise_service::types::ExecutionStatus::Succeeded
    );

    let (status, page) = get_json(&app, &format!("/console/api/execution?arn={}", enc(&x))).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let runs = page["mapRuns"].as_array().expect("Map Runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let run_arn = run["mapRunArn"].as_str().expect("an ARN");
    assert!(run_arn.contains(":mapRun:fanout/Orders:"), "{run_arn}");
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["itemCounts"]["total"], 7);
    assert_eq!(run["executionCounts"]["succeeded"], 6);
    assert_eq!(run["executionCounts"]["failed"], 1);

    let (status, view) = get_json(
        &app,
        &format!("/console/api/map-run?arn={}&maxResults=4", enc(run_arn)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["mapRun"]["executionArn"], x.as_str());
    assert_eq!(view["executions"].as_array().map(Vec::len), Some(4));
    assert_eq!(view["executions"][0]["itemCount"], 1, "{view}");
    let token = view["nextToken"].as_str().expect("a second page");
    let (_, rest) = get_json(
        &app,
        &format!(
            "/console/api/map-run?arn={}&maxResults=4&nextToken={}",
            enc(run_arn),
            urlencode(token)
        ),
    )
    .await;
    assert_eq!(
        rest["executions"].as_array().map(Vec::len),
        Some(3),
        "{rest}"
    );
    assert!(rest["nextToken"].is_null());
    let (_, failed) = get_json(
        &app,
        &format!("/console/api/map-run?arn={}&status=FAILED", enc(run_arn)),
    )
    .await;
    let failed = failed["executions"].as_array().expect("children");
    assert_eq!(failed.len(), 1);
    let child = failed[0]["executionArn"].as_str().expect("a child");
    let (_, child_page) =
        get_json(&app, &format!("/console/api/execution?arn={}", enc(child))).await;
    assert_eq!(child_page["execution"]["mapRunArn"], run_arn);
    assert_eq!(child_page["execution"]["status"], "FAILED");
    assert_eq!(child_page["mapRuns"], json!([]));
    let (status, refused) =
        get_json(&app, "/console/api/map-run?arn=arn%3Aaws%3Astates%3Aus-east-1%3A123456789012%3AmapRun%3Afanout%2FOrders%3Anone").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "ResourceNotFound");
    service.shutdown();
}

/// A query value, percent-encoded (page tokens carry `+`, `/` and `=`).
fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
