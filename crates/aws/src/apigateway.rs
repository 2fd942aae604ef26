//! The optimized API Gateway integration, `arn:aws:states:::apigateway:invoke`: an HTTP call to
//! an API Gateway endpoint built from the Task's parameters, as Step Functions documents it
//! ("Create API Gateway REST APIs with Step Functions").
//!
//! - `ApiEndpoint` (the host, `<api-id>.execute-api.<region>.amazonaws.com`) and `Method`
//!   (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS) are required; the URL is
//!   `https://{ApiEndpoint}/{Stage}/{Path}` with `QueryParameters` (each key a list of values).
//!   For local stand-ins, an `ApiEndpoint` that is `localhost`, `127.0.0.1` or `[::1]` (a port
//!   allowed) is called over plain HTTP, and one written as a full `http://` or `https://` URL
//!   is used as written. Any other host must be an `execute-api` host, as AWS requires (custom
//!   domain names are not supported by the integration).
//! - `Headers`: each key a list of values; the headers AWS does not permit (`Authorization`,
//!   `Host`, anything starting `X-Amz`, ...) are refused.
//! - `RequestBody` (JSON, sent as its text, or a string sent as is) only for PATCH, POST and
//!   PUT; `null` members are left out of it unless `AllowNullValues` is true.
//! - `AuthType`: `NO_AUTH` (the default), `IAM_ROLE` (signed with SigV4 for `execute-api`, as
//!   the state's role or the server's keys), `RESOURCE_POLICY` (on AWS, signed as Step
//!   Functions itself; here sent unsigned, as nothing local can sign as the service).
//! - The result: `ResponseBody` (the body as JSON when it is JSON, else its text), `Headers`
//!   (each name a list of values), `StatusCode`, `StatusText`. A status outside 2XX fails the
//!   task with `ApiGateway.<status>` and the body's text as the cause; a call that gets no
//!   answer fails with `ApiGateway.<Exception>`.

use serde_json::{Map, Value};

use crate::AwsError;

/// The methods the integration accepts.
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// Headers AWS does not let a Task send (besides those starting `X-Forwarded`, `X-Amz`).
const FORBIDDEN_HEADERS: &[&str] = &[
    "authorization",
    "connection",
    "content-md5",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "via",
    "www-authenticate",
];

/// How the call is authorized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    NoAuth,
    IamRole,
    ResourcePolicy,
}

/// The HTTP request a Task's parameters describe.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub auth: AuthType,
    /// The region to sign in: the endpoint's (`<id>.execute-api.<region>.amazonaws.com`), else
    /// the execution's.
    pub region: String,
    /// Whether the endpoint is a local one (no AWS keys needed to sign).
    pub local: bool,
}

/// A parameter the integration refuses, as a task failure.
fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("States.Runtime", message)
}

/// The values of a `Headers` or `QueryParameters` entry: a list of strings (a single string is
/// taken as a list of one).
fn values_of(kind: &str, key: &str, v: &Value) -> Result<Vec<String>, AwsError> {
    let text = |x: &Value| match x {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Value::Array(items) => items
            .iter()
            .map(|x| {
                text(x).ok_or_else(|| {
                    invalid(format!(
                        "The {kind} '{key}' of apigateway:invoke must be a list of strings"
                    ))
                })
            })
            .collect(),
        other => text(other).map(|t| vec![t]).ok_or_else(|| {
            invalid(format!(
                "The {kind} '{key}' of apigateway:invoke must be a list of strings"
            ))
        }),
    }
}

/// `value` without the `null` members of its objects (at any depth).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The base URL of `endpoint` (no trailing slash), whether it is local, and the region of an
/// `execute-api` host.
fn base_of(endpoint: &str) -> Result<(String, bool, Option<String>), AwsError> {
    let endpoint = endpoint.trim();
    if let Some(rest) = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
    {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        if host.is_empty() {
            return Err(invalid(format!(
                "The ApiEndpoint '{endpoint}' of apigateway:invoke names no host"
            )));
        }
        return Ok((
            endpoint.trim_end_matches('/').to_owned(),
            true,
            execute_api_region(host_name(host)),
        ));
    }
    let name = host_name(endpoint);
    if matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
        return Ok((format!("http://{endpoint}"), true, None));
    }
    match execute_api_region(name) {
        Some(region) if !endpoint.contains(['/', '?', '#', '@']) => {
            Ok((format!("https://{endpoint}"), false, Some(region)))
        }
        _ => Err(invalid(format!(
            "The ApiEndpoint '{endpoint}' of apigateway:invoke is not an API Gateway endpoint \
             (<api-id>.execute-api.<region>.amazonaws.com); for a local stand-in use \
             localhost or 127.0.0.1 (with its port), or a full http:// URL"
        ))),
    }
}

/// A host without its port.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.split(':').next().unwrap_or(host)
}

/// The region of `<api-id>.execute-api.<region>.amazonaws.com` (or `.amazonaws.com.cn`).
fn execute_api_region(host: &str) -> Option<String> {
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [id, "execute-api", region, "amazonaws", "com", rest @ ..]
            if !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !region.is_empty()
                && (rest.is_empty() || rest == ["cn"]) =>
        {
            Some((*region).to_owned())
        }
        _ => None,
    }
}

impl ApiCall {
    /// The request `params` describe, in `region` (the execution's).
    pub fn of(params: &Value, region: &str) -> Result<ApiCall, AwsError> {
        let text = |k: &str| params.get(k).and_then(Value::as_str);
        let Some(endpoint) = text("ApiEndpoint") else {
            return Err(invalid(
                "The field 'ApiEndpoint' of apigateway:invoke is required and must be a string",
            ));
        };
        let method = text("Method").unwrap_or_default().to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(invalid(format!(
                "The Method '{}' of apigateway:invoke is not one of {}",
                text("Method").unwrap_or_default(),
                METHODS.join(", ")
            )));
        }
        let auth = match text("AuthType").unwrap_or("NO_AUTH") {
            "NO_AUTH" => AuthType::NoAuth,
            "IAM_ROLE" => AuthType::IamRole,
            "RESOURCE_POLICY" => AuthType::ResourcePolicy,
            other => {
                return Err(invalid(format!(
                    "The AuthType '{other}' of apigateway:invoke is not one of NO_AUTH, \
                     IAM_ROLE, RESOURCE_POLICY"
                )));
            }
        };
        let (base, local, endpoint_region) = base_of(endpoint)?;
        let mut url = base;
        for part in [text("Stage"), text("Path")].into_iter().flatten() {
            let part = part.trim_matches('/');
            if !part.is_empty() {
                url.push('/');
                url.push_str(&encode_path(part));
            }
        }
        let mut query = Vec::new();
        if let Some(q) = params.get("QueryParameters").filter(|q| !q.is_null()) {
            let Value::Object(q) = q else {
                return Err(invalid(
                    "The QueryParameters of apigateway:invoke must be an object",
                ));
            };
            for (k, v) in q {
                for value in values_of("query parameter", k, v)? {
                    query.push((k.clone(), value));
                }
            }
        }
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&crate::protocol::form(&query));
        }
        let mut headers = Vec::new();
        if let Some(h) = params.get("Headers").filter(|h| !h.is_null()) {
            let Value::Object(h) = h else {
                return Err(invalid(
                    "The Headers of apigateway:invoke must be an object",
                ));
            };
            for (k, v) in h {
                let lower = k.to_ascii_lowercase();
                if FORBIDDEN_HEADERS.contains(&lower.as_str())
                    || lower.starts_with("x-forwarded")
                    || lower.starts_with("x-amz")
                {
                    return Err(invalid(format!(
                        "The header '{k}' is not permitted in apigateway:invoke"
                    )));
                }
                for value in values_of("header", k, v)? {
                    headers.push((k.clone(), value));
                }
            }
        }
        let allow_nulls = params
            .get("AllowNullValues")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut body = Vec::new();
        if matches!(method.as_str(), "PATCH" | "POST" | "PUT") {
            match params.get("RequestBody") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) => body = s.as_bytes().to_vec(),
                Some(v) => {
                    let v = if allow_nulls {
                        v.clone()
                    } else {
                        without_nulls(v)
                    };
                    body = v.to_string().into_bytes();
                    if !headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    {
                        headers.push(("Content-Type".into(), "application/json".into()));
                    }
                }
            }
        }
        Ok(ApiCall {
            method,
            url,
            headers,
            body,
            auth,
            region: endpoint_region.unwrap_or_else(|| region.to_owned()),
            local,
        })
    }
}

/// A path's segments percent-encoded as a URL path needs (slashes kept).
fn encode_path(path: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'%');
    percent_encoding::utf8_percent_encode(path, SEGMENT).to_string()
}

/// The Task's result for an answer with `status`, `headers` and `body`, or its failure.
pub fn result_of(status: u16, headers: &http::HeaderMap, body: &[u8]) -> Result<Value, AwsError> {
    let text = String::from_utf8_lossy(body).into_owned();
    if !(200..300).contains(&status) {
        return Err(AwsError::new(format!("ApiGateway.{status}"), text));
    }
    let response_body = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(|_| !body.is_empty())
        .unwrap_or(Value::String(text));
    let mut all = Map::new();
    for name in headers.keys() {
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        all.insert(
            crate::values::title_case(name.as_str()),
            Value::Array(values),
        );
    }
    let status_text = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or_default();
    let mut out = Map::new();
    out.insert("Headers".into(), Value::Object(all));
    out.insert("ResponseBody".into(), response_body);
    out.insert("StatusCode".into(), Value::from(status));
    out.insert("StatusText".into(), Value::from(status_text));
    Ok(Value::Object(out))
}

/// The error of a call that got no answer: `ApiGateway.<Exception>`, named as the Java
/// exception that stands for it.
pub fn transport_error(e: &reqwest::Error) -> AwsError {
    let exception = if e.is_timeout() {
        "SocketTimeoutException"
    } else if e.is_connect() {
        "ConnectException"
    } else {
        "IOException"
    };
    AwsError::new(format!("ApiGateway.{exception}"), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_url_is_endpoint_stage_path_and_query() {
        let call = ApiCall::of(
            &json!({"ApiEndpoint": "abc123.execute-api.eu-west-1.amazonaws.com",
                    "Method": "GET", "Stage": "prod", "Path": "/bills/a b",
                    "QueryParameters": {"id": ["1", "2"], "q": ["x&y"]},
                    "Headers": {"X-Trace": ["t1", "t2"]},
                    "RequestBody": {"ignored": true}}),
            "us-east-1",
        )
        .expect("valid");
        assert_eq!(
            call.url,
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/bills/a%20b?id=1&id=2&q=x%26y"
        );
        assert_eq!(call.region, "eu-west-1");
        assert!(!call.local);
        assert_eq!(call.auth, AuthType::NoAuth);
        assert!(call.body.is_empty(), "GET sends no body");
        assert_eq!(
            call.headers,
            vec![
                ("X-Trace".to_owned(), "t1".to_owned()),
                ("X-Trace".to_owned(), "t2".to_owned())
            ]
        );
    }

    #[test]
    fn local_endpoints_are_called_over_http() {
        let call = ApiCall::of(
            &json!({"ApiEndpoint": "127.0.0.1:8123", "Method": "post", "Path": "pets",
                    "RequestBody": {"type": "turtle", "category": null}, "AuthType": "IAM_ROLE"}),
            "us-east-1",
        )
        .expect("valid");
        assert_eq!(call.url, "http://127.0.0.1:8123/pets");
        assert!(call.local);
        assert_eq!(call.region, "us-east-1");
        assert_eq!(call.body, br#"{"type":"turtle"}"#);
        assert_eq!(call.auth, AuthType::IamRole);
        let kept = ApiCall::of(
            &json!({"ApiEndpoint": "http://localhost:9/base/", "Method": "PUT", "Stage": "dev",
                    "RequestBody": {"a": null}, "AllowNullValues": true}),
            "us-east-1",
        )
        .expect("valid");
        assert_eq!(kept.url, "http://localhost:9/base/dev");
        assert_eq!(kept.body, br#"{"a":null}"#);
    }

    #[test]
    fn what_aws_does_not_accept_is_refused() {
        let refused = |p: Value| ApiCall::of(&p, "us-east-1").expect_err("refused").cause;
        assert!(
            refused(json!({"ApiEndpoint": "example.com", "Method": "GET"}))
                .contains("not an API Gateway endpoint")
        );
        assert!(refused(json!({"ApiEndpoint": "127.0.0.1", "Method": "TRACE"})).contains("TRACE"));
        assert!(
            refused(json!({"ApiEndpoint": "127.0.0.1", "Method": "GET",
                               "Headers": {"X-Amz-Date": ["x"]}}))
            .contains("X-Amz-Date")
        );
        assert!(
            refused(json!({"ApiEndpoint": "127.0.0.1", "Method": "GET",
                               "AuthType": "COGNITO"}))
            .contains("COGNITO")
        );
    }

    #[test]
    fn answers_become_the_result_or_the_status_error() {
        let mut headers = http::HeaderMap::new();
        headers.append("content-type", "application/json".parse().expect("value"));
        headers.append("apigw-requestid", "r1".parse().expect("value"));
        assert_eq!(
            result_of(200, &headers, br#"{"approval": true}"#).expect("ok"),
            json!({"Headers": {"Content-Type": ["application/json"], "Apigw-Requestid": ["r1"]},
                   "ResponseBody": {"approval": true}, "StatusCode": 200, "StatusText": "OK"})
        );
        assert_eq!(
            result_of(201, &headers, b"made").expect("ok")["ResponseBody"],
            json!("made")
        );
        let e = result_of(
            403,
            &headers,
            br#"{"message":"Missing Authentication Token"}"#,
        )
        .expect_err("403");
        assert_eq!(e.error, "ApiGateway.403");
        assert_eq!(e.cause, r#"{"message":"Missing Authentication Token"}"#);
    }
}
