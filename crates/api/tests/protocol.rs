//! The wire protocol as a client sees it: targets, content types, bodies, error shapes, the body
//! cap, request checking through the router, metrics and health.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, ROLE, pass};
use serde_json::{Value, json};

fn post(target: Option<&str>, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut b = Request::post("/");
    if let Some(t) = target {
        b = b.header("x-amz-target", t);
    }
    if let Some(c) = content_type {
        b = b.header("content-type", c);
    }
    b.body(body.into()).unwrap()
}

#[tokio::test]
async fn answers_are_aws_json_with_a_request_id() {
    let h = Harness::new();
    let response = tower::ServiceExt::oneshot(
        h.router.clone(),
        post(
            Some("AWSStepFunctions.ListStateMachines"),
            Some("application/x-amz-json-1.0"),
            "{}",
        ),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.0"
    );
    assert_eq!(response.headers()["x-amzn-requestid"].len(), 36);
}

#[tokio::test]
async fn unknown_or_missing_targets_are_unknown_operations() {
    let h = Harness::new();
    for target in [
        None,
        Some("AWSStepFunctions.NoSuchAction"),
        Some("OtherService.ListStateMachines"),
        Some("ListStateMachines"),
        Some(""),
    ] {
        let (status, content_type, text) = h
            .raw(post(target, Some("application/x-amz-json-1.0"), "{}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{target:?}");
        assert_eq!(content_type.as_deref(), Some("application/x-amz-json-1.0"));
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["__type"], "UnknownOperationException", "{target:?}");
    }
}

#[tokio::test]
async fn malformed_and_non_object_bodies_are_serialization_errors() {
    let h = Harness::new();
    for body in ["{", "not json", "{\"a\":}", "[]", "\"text\"", "42", "true"] {
        let (status, _, text) = h
            .raw(post(
                Some("AWSStepFunctions.ListStateMachines"),
                Some("application/x-amz-json-1.0"),
                body,
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["__type"], "SerializationException", "{body}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// A request in proxy form (an absolute URL, as a client sends it to an HTTP proxy) is served
/// like any other: with `HTTP_PROXY` pointing at the server, clients reach it even on the
/// `sync-` host StartSyncExecution and TestState are prefixed with.
#[tokio::test]
async fn requests_in_proxy_form_are_served() {
    let h = Harness::new();
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("http://sync-localhost:8083/")
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .header("content-type", "application/x-amz-json-1.0")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    let (status, _, text) = h.raw(request).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(text, r#"{"stateMachines":[]}"#);
}

/// A body that is not JSON is described in Jackson's words (AWS's parser), not serde_json's.
#[tokio::test]
async fn malformed_bodies_are_described_as_jackson_describes_them() {
    let h = Harness::new();
    let cases: [(&[u8], &str); 5] = [
        (
            b"not json",
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
        ),
        (
            b"{\"a\":}",
            "Unexpected character ('}' (code 125)): expected a value",
        ),
        (
            b"{'a': 1}",
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name",
        ),
        (
            b"{} {}",
            "Trailing token (of type START_OBJECT) found after value (bound as `com.fasterxml.jackson.databind.JsonNode`): not allowed as per `DeserializationFeature.FAIL_ON_TRAILING_TOKENS`",
        ),
        (b"{\"a\": \"\xff\"}", "Invalid UTF-8 start byte 0xff"),
    ];
    for (body, message) in cases {
        let request = axum::http::Request::builder()
            .method("POST")
            .uri("/")
            .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
            .header("content-type", "application/x-amz-json-1.0")
            .body(axum::body::Body::from(body.to_vec()))
            .unwrap();
        let (status, _, text) = h.raw(request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["__type"], "SerializationException");
        assert_eq!(v["message"], message, "{}", String::from_utf8_lossy(body));
    }
}

#[tokio::test]
async fn empty_bodies_and_other_json_content_types_are_accepted() {
    let h = Harness::new();
    for (content_type, body) in [
        (Some("application/x-amz-json-1.0"), ""),
        (Some("application/x-amz-json-1.1"), "{}"),
        (Some("application/json; charset=utf-8"), " "),
        (None, ""),
        (None, "null"),
    ] {
        let (status, _, text) = h
            .raw(post(
                Some("AWSStepFunctions.ListStateMachines"),
                content_type,
                body,
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{content_type:?} {body:?}: {text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"stateMachines": []})
        );
    }
    let (status, _, text) = h
        .raw(post(
            Some("AWSStepFunctions.ListStateMachines"),
            Some("text/plain"),
            "{}",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["__type"], "UnknownOperationException");
    assert_eq!(v["message"], "Unsupported content type: 'text/plain'");
}

#[tokio::test]
async fn bodies_over_the_cap_get_a_clear_413() {
    let h = Harness::new();
    let big = format!(
        "{{\"name\":\"x\",\"definition\":\"{}\"}}",
        "a".repeat(stepwise_api::router::MAX_BODY_BYTES)
    );
    let (status, content_type, text) = h
        .raw(post(
            Some("AWSStepFunctions.ValidateStateMachineDefinition"),
            Some("application/x-amz-json-1.0"),
            big,
        ))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(content_type.as_deref(), Some("application/x-amz-json-1.0"));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["__type"], "RequestEntityTooLargeException");
    assert_eq!(
        v["message"],
        "Request body is larger than the maximum of 8388608 bytes"
    );
}

#[tokio::test]
async fn a_definition_at_aws_limit_fits_under_the_cap() {
    // 1 MiB of characters that each take two bytes escaped still reaches the definition check.
    let h = Harness::new();
    let definition = "\"".repeat(1_048_577);
    let (status, out) = h
        .call(
            "ValidateStateMachineDefinition",
            json!({"definition": definition}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(out["__type"], "ValidationException");
    assert_eq!(
        out["message"],
        "1 validation error detected: Value at 'definition' failed to satisfy constraint: Member must have length less than or equal to 1048576"
    );
}

#[tokio::test]
async fn requests_are_checked_against_the_model_before_any_action() {
    let h = Harness::new();
    let (code, message, _) = h
        .err("ListStateMachines", json!({"maxResults": 1001}))
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );
    let token = "x".repeat(1025);
    let (_, message, _) = h
        .err("ListStateMachines", json!({"nextToken": token}))
        .await;
    assert_eq!(
        message,
        format!(
            "1 validation error detected: Value '{token}' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 1024"
        )
    );
    let (code, message, _) = h
        .err(
            "CreateStateMachine",
            json!({"name": "A".repeat(81), "definition": pass("x"), "roleArn": ROLE, "type": "BATCH"}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        format!(
            "2 validation errors detected: Value '{}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80; Value 'BATCH' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]",
            "A".repeat(81)
        )
    );
    let (code, message, _) = h.err("CreateStateMachine", json!({"name": 7})).await;
    assert_eq!(code, "SerializationException");
    assert_eq!(message, "NUMBER_VALUE can not be converted to a String");
    let (code, message, _) = h.err("DescribeStateMachine", json!({})).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null"
    );
}

#[tokio::test]
async fn execution_actions_go_to_the_execution_plane() {
    let h = Harness::new();
    // NoExecutions refuses every execution-plane action; the model check runs first.
    let (code, message, _) = h
        .err(
            "StartExecution",
            json!({"stateMachineArn": h.arns().state_machine("x")}),
        )
        .await;
    assert_eq!(code, "InternalFailure");
    assert_eq!(
        message,
        "StartExecution needs an execution plane, and this service has none"
    );
    let (code, _, _) = h.err("StartExecution", json!({})).await;
    assert_eq!(code, "ValidationException");
}

#[tokio::test]
async fn metrics_count_requests_by_action_and_outcome() {
    let h = Harness::new();
    h.ok("ListStateMachines", json!({})).await;
    h.ok("ListStateMachines", json!({})).await;
    h.err(
        "DescribeStateMachine",
        json!({"stateMachineArn": h.arns().state_machine("nope")}),
    )
    .await;
    h.raw(post(Some("AWSStepFunctions.Bogus"), None, "{}"))
        .await;
    let (status, content_type, text) = h
        .raw(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.unwrap().starts_with("text/plain"));
    assert!(
        text.contains(
            "stepwise_api_requests_total{action=\"ListStateMachines\",outcome=\"ok\"} 2\n"
        )
    );
    assert!(text.contains(
        "stepwise_api_requests_total{action=\"DescribeStateMachine\",outcome=\"StateMachineDoesNotExist\"} 1\n"
    ));
    assert!(text.contains(
        "stepwise_api_requests_total{action=\"unknown\",outcome=\"UnknownOperationException\"} 1\n"
    ));
    assert!(
        text.contains(
            "stepwise_api_request_duration_seconds_count{action=\"ListStateMachines\"} 2\n"
        )
    );
}

#[tokio::test]
async fn health_answers() {
    let h = Harness::new();
    let (status, _, text) = h
        .raw(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(text, r#"{"status":"ok"}"#);
}

#[tokio::test]
async fn odd_inputs_never_break_the_server() {
    let h = Harness::new();
    let odd = [
        json!({"stateMachineArn": ""}),
        json!({"stateMachineArn": "arn:"}),
        json!({"stateMachineArn": "arn:aws:states:::"}),
        json!({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:a:b:c"}),
        json!({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:a:99999999999999999999999"}),
        json!({"stateMachineArn": "\u{0}\u{ffff}"}),
        json!({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:/"}),
    ];
    let actions = [
        "DescribeStateMachine",
        "UpdateStateMachine",
        "DeleteStateMachine",
        "PublishStateMachineVersion",
        "ListStateMachineVersions",
        "ListStateMachineAliases",
        "TagResource",
        "ListTagsForResource",
    ];
    for action in actions {
        for input in &odd {
            let mut body = input.clone();
            body["resourceArn"] = body["stateMachineArn"].clone();
            body["tags"] = json!([]);
            body["definition"] = json!(pass("x"));
            let (status, out) = h.call(action, body).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{action} {input}: {status} {out}"
            );
        }
    }
    // Still serving.
    h.ok("ListStateMachines", json!({})).await;
}
