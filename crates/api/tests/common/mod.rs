//! Helpers for the router-level tests: a router on a fresh in-memory SQLite store, and calls in
//! the AWS JSON 1.0 protocol as botocore makes them.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use stepwise_api::{Api, router};
use stepwise_service::{Arns, Control, NoExecutions, Service};
use stepwise_store::{SqliteStore, Store};
use tower::ServiceExt;

pub const ROLE: &str = "arn:aws:iam::123456789012:role/sfn";

pub struct Harness {
    pub router: Router,
    pub api: Arc<Api>,
    pub store: Arc<dyn Store>,
}

impl Harness {
    pub fn new() -> Self {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().unwrap());
        let control = Arc::new(Control::new(Arc::clone(&store), Arns::default()));
        let api = Arc::new(Api::new(Arc::new(Service::new(
            control,
            Arc::new(NoExecutions),
        ))));
        Harness {
            router: router(Arc::clone(&api)),
            api,
            store,
        }
    }

    /// The whole stack in-process: the service on a started runtime (memory store), behind
    /// the router; requests go through `oneshot`, no socket. Call on a tokio runtime.
    pub async fn full() -> Self {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().unwrap());
        let service = Service::start(
            Arc::clone(&store),
            Arns::default(),
            stepwise_runtime::RuntimeConfig {
                wait_time_scale: 1.0,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let api = Arc::new(Api::new(service));
        Harness {
            router: router(Arc::clone(&api)),
            api,
            store,
        }
    }

    pub fn arns(&self) -> Arns {
        self.api.service.control().arns()
    }

    /// Sends a raw request and returns status, content type and body text.
    pub async fn raw(&self, request: Request<Body>) -> (StatusCode, Option<String>, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (
            status,
            content_type,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    /// Calls an action as botocore does and returns status and parsed body.
    pub async fn call(&self, action: &str, body: Value) -> (StatusCode, Value) {
        let request = Request::post("/")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .body(Body::from(body.to_string()))
            .unwrap();
        let (status, _, text) = self.raw(request).await;
        (status, serde_json::from_str(&text).unwrap())
    }

    /// Calls an action that must succeed.
    pub async fn ok(&self, action: &str, body: Value) -> Value {
        let (status, out) = self.call(action, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{action} {body}: {out}");
        out
    }

    /// Calls an action that must fail; returns (__type, message, whole body).
    pub async fn err(&self, action: &str, body: Value) -> (String, String, Value) {
        let (status, out) = self.call(action, body.clone()).await;
        assert_ne!(status, StatusCode::OK, "{action} {body}: {out}");
        (
            out["__type"].as_str().unwrap().to_string(),
            out["message"].as_str().unwrap().to_string(),
            out,
        )
    }

    pub async fn create(&self, name: &str, definition: &str) -> Value {
        self.ok(
            "CreateStateMachine",
            json!({"name": name, "definition": definition, "roleArn": ROLE}),
        )
        .await
    }
}

/// A valid definition, distinguishable by `tag`.
pub fn pass(tag: &str) -> String {
    json!({
        "Comment": tag,
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "End": true}}
    })
    .to_string()
}
