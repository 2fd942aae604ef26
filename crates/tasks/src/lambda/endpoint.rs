//! A Lambda Invoke API endpoint (`LAMBDA_ENDPOINT`, `[lambda] endpoint`), as Step Functions
//! Local calls it: `POST {endpoint}/2015-03-31/functions/{NAME}/invocations[?Qualifier=Q]`
//! with `X-Amz-Invocation-Type`, `X-Amz-Log-Type` and `X-Amz-Client-Context`, the payload as
//! the body. A 2xx answer is the function's (a function error says so in
//! `X-Amz-Function-Error`); 404 means the function does not exist; any other status is Lambda
//! refusing the call, with its error code in `x-amzn-ErrorType` (or the body's `__type`).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{Invoke, InvokeError, Invoked, ids};

/// How long a call may take: Lambda's longest function timeout (15 minutes) and some slack.
const CALL_TIMEOUT: Duration = Duration::from_secs(15 * 60 + 10);

pub(super) async fn invoke(
    client: &reqwest::Client,
    endpoint: &str,
    call: &Invoke,
) -> Result<Invoked, InvokeError> {
    let mut url = format!(
        "{}/2015-03-31/functions/{}/invocations",
        endpoint.trim_end_matches('/'),
        call.function.name
    );
    if let Some(q) = &call.function.qualifier {
        url.push_str("?Qualifier=");
        url.push_str(&q.replace('$', "%24"));
    }
    let mut request = client
        .post(&url)
        .timeout(CALL_TIMEOUT)
        .header("X-Amz-Invocation-Type", call.invocation_type.as_str())
        .header("Content-Type", "application/json")
        .body(call.payload.clone());
    if call.log_tail {
        request = request.header("X-Amz-Log-Type", "Tail");
    }
    if let Some(context) = &call.client_context {
        request = request.header("X-Amz-Client-Context", context.as_str());
    }
    for (name, value) in &call.trace {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.map_err(client_error)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(client_error)?.to_vec();
    let request_id = header(&headers, "x-amzn-RequestId").unwrap_or_else(ids::request_id);
    if (200..300).contains(&status) {
        return Ok(Invoked {
            status,
            payload: body,
            function_error: header(&headers, "X-Amz-Function-Error"),
            executed_version: header(&headers, "X-Amz-Executed-Version")
                .or_else(|| (status == 200).then(|| "$LATEST".to_owned())),
            log_result: header(&headers, "X-Amz-Log-Result"),
            request_id,
            trace_id: header(&headers, "X-Amzn-Trace-Id").unwrap_or_else(ids::trace_id),
            date: header(&headers, "Date").unwrap_or_else(|| ids::http_date(SystemTime::now())),
        });
    }
    let error: Option<Value> = serde_json::from_slice(&body).ok();
    let field = |names: &[&str]| {
        error.as_ref().and_then(|e| {
            names
                .iter()
                .find_map(|n| e.get(*n).and_then(Value::as_str).map(str::to_owned))
        })
    };
    if status == 404 {
        return Err(InvokeError::Service {
            code: Some("ResourceNotFoundException".into()),
            status,
            message: field(&["message", "Message"]).unwrap_or_else(|| {
                format!("Function not found: {}", call.function.qualified_arn())
            }),
            request_id,
        });
    }
    let code = header(&headers, "x-amzn-ErrorType")
        .map(|t| t.split(':').next().unwrap_or_default().to_owned())
        .or_else(|| {
            field(&["__type", "code", "Code"])
                .map(|t| t.rsplit('#').next().unwrap_or_default().to_owned())
        })
        .filter(|c| !c.is_empty());
    let message = field(&["message", "Message", "errorMessage"]).unwrap_or_else(|| {
        let text = String::from_utf8_lossy(&body);
        let text = text.trim();
        if text.is_empty() {
            "null".to_owned()
        } else {
            text.chars().take(1024).collect()
        }
    });
    Err(InvokeError::Service {
        code,
        status,
        message,
        request_id,
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The client's failure, with every reason it gives (`… : Connection refused`).
fn client_error(e: reqwest::Error) -> InvokeError {
    if e.is_timeout() {
        return InvokeError::ClientTimeout;
    }
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = s.source();
    }
    InvokeError::Client(reason)
}
