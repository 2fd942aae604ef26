//! The HTTP surface: `POST /` speaking AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Action>`),
//! `GET /metrics` (Prometheus text) and `GET /health`.
//!
//! Every request goes the same way: find the action, read the body (capped), parse it, check it
//! against the model, then hand it to the control plane or the execution plane. Every failure on
//! the way is an [`ApiError`] with AWS's shape; nothing a client sends can panic the server.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use stepwise_service::Action;

use crate::error::{ApiError, CONTENT_TYPE};
use crate::model::model;
use crate::{Api, validate, wire};

/// The largest request body accepted. A definition may be 1 MiB of characters, each of which can
/// take up to six bytes once JSON-escaped; anything larger cannot be a valid request.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The router: `POST /` for the API, `GET /metrics`, `GET /health`.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/", post(serve_api))
        .route("/metrics", get(serve_metrics))
        .route("/health", get(serve_health))
        .with_state(api)
}

/// Whether the store answers and, with many nodes, this node's partitions; 503 when the store
/// does not answer.
async fn serve_health(State(api): State<Arc<Api>>) -> Response {
    let (ok, body) = api.service.health().await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn serve_metrics(State(api): State<Arc<Api>>) -> Response {
    let mut out = String::new();
    api.metrics.render(&mut out);
    api.service.render_metrics(&mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

/// The action an `X-Amz-Target` header names, if it is an operation of the model.
fn action_of(headers: &HeaderMap) -> Result<Action, ApiError> {
    let Some(raw) = headers.get("x-amz-target") else {
        return Err(ApiError::unknown_operation(None));
    };
    let target = raw.to_str().unwrap_or_default().trim();
    let m = model();
    target
        .split_once('.')
        .filter(|(prefix, _)| *prefix == m.target_prefix)
        .and_then(|(_, action)| m.operation(action))
        .and_then(|op| Action::from_name(&op.name))
        .ok_or_else(|| ApiError::unknown_operation(Some(target)))
}

/// AWS JSON 1.0 (and 1.1, and plain JSON) is accepted; a missing content type too.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(raw) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = raw
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "" | "application/x-amz-json-1.0" | "application/x-amz-json-1.1" | "application/json" => {
            Ok(())
        }
        // Without a JSON protocol the operation cannot be read at all.
        other => Err(ApiError::client(
            "UnknownOperationException",
            format!("Unsupported content type: '{other}'"),
        )),
    }
}

/// The request's body, at most [`MAX_BODY_BYTES`].
async fn read_bytes(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(ApiError::request_too_large(MAX_BODY_BYTES));
    }
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::request_too_large(MAX_BODY_BYTES))
}

/// The body as the action's input (JSON).
fn parse_body(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, &e))?;
    let value = stepwise_asl::parse_json(text).map_err(|e| ApiError::serialization(e.message))?;
    // `null` is no input at all; other non-objects fail the model check as AWS fails them.
    Ok(if value.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        value
    })
}

/// A body that is not UTF-8, in Jackson's words for the first bad byte.
fn not_utf8(bytes: &[u8], e: &std::str::Utf8Error) -> ApiError {
    let at = e.valid_up_to();
    let message = match (e.error_len(), bytes.get(at)) {
        (None, _) | (_, None) => "Unexpected end-of-input in a UTF-8 character".to_string(),
        (Some(_), Some(&b)) if b & 0xC0 == 0x80 || b >= 0xF5 || b == 0xC0 || b == 0xC1 => {
            format!("Invalid UTF-8 start byte 0x{b:x}")
        }
        (Some(len), Some(_)) => {
            let bad = bytes.get(at + len).copied().unwrap_or_default();
            format!("Invalid UTF-8 middle byte 0x{bad:x}")
        }
    };
    ApiError::serialization(message)
}

/// A request as the service reads it: the action its `X-Amz-Target` names and its body as
/// JSON, checked against the model. Pure (no IO, no service), so the fuzz target
/// `api_request` drives exactly what the router does with a client's headers and bytes.
pub fn decode(headers: &HeaderMap, bytes: &[u8]) -> Result<(Action, Value), ApiError> {
    let action = action_of(headers)?;
    check_content_type(headers)?;
    let input = parse_body(bytes)?;
    validate::check_input(action.name(), &input)?;
    Ok((action, input))
}

async fn answer(
    api: &Arc<Api>,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Value, ApiError> {
    let bytes = read_bytes(headers, body).await?;
    // Who is calling comes first: an unsigned request learns nothing else.
    let caller = if api.keys.is_empty() {
        None
    } else {
        let request = crate::auth::SignedRequest {
            method: "POST",
            path: uri.path(),
            query: uri.query(),
            headers,
            body: &bytes,
        };
        Some(
            api.keys
                .authenticate(&request, std::time::SystemTime::now())?,
        )
    };
    let (action, input) = decode(headers, &bytes)?;
    let Some(key) = caller else {
        return Ok(api.service.call(action, input).await?);
    };
    let account = key.account.clone();
    stepwise_service::caller::in_account(account, async {
        let arns = api.service.control().arns();
        let resource = crate::auth::resource_of(action.name(), &input, &arns);
        api.keys
            .authorize(&key, &crate::auth::iam_action(action.name()), &resource)?;
        Ok(api.service.call(action, input).await?)
    })
    .await
}

async fn serve_api(
    State(api): State<Arc<Api>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let action = action_of(&headers);
    let label = action.as_ref().map_or("unknown", |a| a.name());
    let result = answer(&api, &uri, &headers, body).await;
    let elapsed = started.elapsed();
    let ms = wire::duration_ms(elapsed);
    let request_id = api.service.request_id();
    let mut response = match result {
        Ok(output) => {
            api.metrics.observe(label, "ok", elapsed);
            tracing::debug!(action = label, outcome = "ok", ms, "api request");
            let mut r = (StatusCode::OK, output.to_string()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        Err(e) => {
            let (code, message) = (&e.error.code, &e.error.message);
            api.metrics.observe(label, code, elapsed);
            if e.status.is_server_error() {
                tracing::warn!(action = label, outcome = %code, ms, message = %message, "api request failed");
            } else {
                tracing::info!(action = label, outcome = %code, ms, message = %message, "api request rejected");
            }
            e.into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}
