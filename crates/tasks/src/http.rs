//! The HTTP Task, `arn:aws:states:::http:invoke`, as AWS's developer guide describes it ("Call
//! HTTPS APIs in Step Functions workflows").
//!
//! The parameters are `ApiEndpoint`, `Method`, `Authentication.ConnectionArn` (or
//! `InvocationConfig.ConnectionArn`), `Headers`, `QueryParameters`, `RequestBody` and
//! `Transform`. The connection is a `[connections.NAME]` table of stepwise.toml standing for the
//! EventBridge connection: its authorization (API key, Basic, OAuth client credentials) and its
//! invocation headers, query and body parameters, which win over the definition's on a clash.
//! Step Functions' own headers go on every request (`User-Agent: Amazon|StepFunctions|HttpInvoke|REGION`,
//! `Range: bytes=0-262144`, `Content-Type: application/json; charset=UTF-8` for a JSON body).
//!
//! A 2xx answer is the result `{Headers, ResponseBody, StatusCode, StatusText}`: header names in
//! lower case, each with the list of its values; a JSON body parsed, any other text as a string.
//! Any other status fails the task with `States.Http.StatusCode.NNN`, whose cause is the status
//! text (AWS drops the body). A call that gets no answer in `[http] timeout_seconds` (AWS: 60 s)
//! or cannot connect fails with `States.Http.Socket`.
//!
//! Not here: the `[http]` host lists ([`hosts`]), form encoding ([`form`]), OAuth tokens
//! (`oauth`). Private APIs (VPC lattice) and mTLS, which AWS does not have either.

pub mod form;
pub mod hosts;
mod oauth;

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::config::{AuthKind, Connection};
use crate::{CallContext, Integrations, Outcome};
use form::ArrayFormat;

pub use hosts::redirect_policy;

/// The error names the HTTP Task raises.
pub mod errors {
    /// Bad parameters, refused headers, an unreadable response (AWS's documented name for each).
    pub const RUNTIME: &str = "States.Runtime";
    /// No answer in time, or no connection at all.
    pub const SOCKET: &str = "States.Http.Socket";
    /// Followed by the status code: `States.Http.StatusCode.404`.
    pub const STATUS_CODE_PREFIX: &str = "States.Http.StatusCode.";
    /// A response larger than AWS's 256 KiB payload quota.
    pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
    /// The connection cannot authorize (its OAuth token request failed).
    pub const INVALID_CONNECTION_STATE: &str = "Events.ConnectionResource.InvalidConnectionState";
    /// Stepwise's own: the host is refused by `[http]` allow_hosts/deny_hosts. AWS has no such
    /// lists, so no name of its own for this.
    pub const HOST_NOT_ALLOWED: &str = "Stepwise.Http.HostNotAllowed";
}

/// An OAuth access token and when it stops being good.
#[derive(Debug, Clone)]
pub struct CachedToken {
    pub access_token: String,
    pub expires: Instant,
}

/// The HTTP methods the HTTP Task accepts.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

/// Headers a definition may not set (the HTTP Task fails with `States.Runtime`); names ending
/// in `-` are prefixes.
const REFUSED_HEADERS: [&str; 35] = [
    "a-im",
    "accept-charset",
    "accept-datetime",
    "accept-encoding",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-md5",
    "date",
    "expect",
    "forwarded",
    "from",
    "host",
    "http2-settings",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "max-forwards",
    "origin",
    "pragma",
    "proxy-authorization",
    "referer",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
    "x-forwarded-",
    "x-amz-",
    "x-amzn-",
];

/// The most of a response body read: AWS asks for `Range: bytes=0-262144` and its payloads
/// stop at 256 KiB.
const MAX_BODY: usize = 262_144;

/// Why the task failed, before it becomes an [`Outcome`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub error: String,
    pub cause: String,
}

impl Failure {
    fn runtime(cause: impl Into<String>) -> Failure {
        Failure {
            error: errors::RUNTIME.into(),
            cause: cause.into(),
        }
    }
}

/// The parameters, checked.
#[derive(Debug)]
struct Call {
    url: reqwest::Url,
    method: reqwest::Method,
    connection_arn: String,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    body: Option<Value>,
    encoding: Option<ArrayFormat>,
}

/// What is sent, but for the authorization header.
struct Prepared {
    url: reqwest::Url,
    method: reqwest::Method,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
}

impl Integrations {
    /// Calls the HTTP endpoint the parameters describe, as in the region in `[server] region`
    /// (default us-east-1). [`Integrations::call`] uses [`Integrations::http_invoke_as`].
    pub async fn http_invoke(&self, parameters: &Value) -> Outcome {
        let region = self.config.server.region.as_deref().unwrap_or("us-east-1");
        self.http_outcome(parameters, region, &[]).await
    }

    /// Calls the HTTP endpoint the parameters describe (`ApiEndpoint`, `Method`,
    /// `Authentication`, `Headers`, `QueryParameters`, `RequestBody`, `Transform`) for a caller
    /// in `ctx.region`.
    pub async fn http_invoke_as(&self, parameters: &Value, ctx: &CallContext) -> Outcome {
        self.http_outcome(parameters, &ctx.region, &ctx.trace).await
    }

    async fn http_outcome(
        &self,
        parameters: &Value,
        region: &str,
        trace: &[(String, String)],
    ) -> Outcome {
        match self.http_try_invoke(parameters, region, trace).await {
            Ok(result) => Outcome::Succeeded(result),
            Err(f) => Outcome::Failed {
                error: f.error,
                cause: f.cause,
            },
        }
    }

    async fn http_try_invoke(
        &self,
        parameters: &Value,
        region: &str,
        trace: &[(String, String)],
    ) -> Result<Value, Failure> {
        let call = Call::parse(parameters)?;
        check_host(&self.config.http, &call.url)?;
        // A connection the configuration does not name (a local user rarely has AWS's
        // connection secrets) sends the request without authorization, said once in the log.
        let unconfigured;
        let arn = call.connection_arn.clone();
        let (name, connection) = match self.config.connection(&arn) {
            Some(found) => found,
            None => {
                let name = connection_name(&arn);
                warn_once(name);
                unconfigured = Connection::default();
                (name, &unconfigured)
            }
        };
        let mut prepared = prepare(call, connection, region)?;
        for (name, value) in trace {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                prepared.headers.insert(name, value);
            }
        }

        let mut token = match connection.auth {
            AuthKind::OauthClientCredentials => {
                Some(self.oauth_token(name, connection, None).await?)
            }
            _ => None,
        };
        let mut response = self
            .http_send(&prepared, authorization(connection, token.as_deref()))
            .await?;
        let refused = matches!(response.status().as_u16(), 401 | 407);
        if refused && token.is_some() {
            let fresh = self.oauth_token(name, connection, token.as_deref()).await?;
            token = Some(fresh);
            response = self
                .http_send(&prepared, authorization(connection, token.as_deref()))
                .await?;
        }
        read_response(response).await
    }

    async fn http_send(
        &self,
        p: &Prepared,
        authorization: Option<(HeaderName, HeaderValue)>,
    ) -> Result<reqwest::Response, Failure> {
        let mut headers = p.headers.clone();
        if let Some((name, value)) = authorization {
            headers.insert(name, value);
        }
        let timeout = self.config.http.timeout_seconds;
        let mut request = self
            .client
            .request(p.method.clone(), p.url.clone())
            .timeout(Duration::from_secs(timeout))
            .headers(headers);
        if let Some(body) = &p.body {
            request = request.body(body.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_failure(&e, &p.url, timeout))?;
        // Redirects are checked by `redirect_policy` before they are followed; this catches a
        // client built without it.
        check_host(&self.config.http, response.url())?;
        Ok(response)
    }
}

impl Call {
    fn parse(parameters: &Value) -> Result<Call, Failure> {
        let p = parameters
            .as_object()
            .ok_or_else(|| Failure::runtime("The HTTP Task's parameters must be a JSON object"))?;
        const FIELDS: [&str; 8] = [
            "ApiEndpoint",
            "Method",
            "Authentication",
            "InvocationConfig",
            "Headers",
            "QueryParameters",
            "RequestBody",
            "Transform",
        ];
        if let Some(unknown) = p.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(Failure::runtime(format!(
                "The field '{unknown}' is not supported by Step Functions"
            )));
        }

        let endpoint = required_string(p, "ApiEndpoint")?;
        let mut url = reqwest::Url::parse(endpoint).map_err(|e| {
            Failure::runtime(format!(
                "The value '{endpoint}' of the field 'ApiEndpoint' is not a valid URL: {e}"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Failure::runtime(format!(
                "The value '{endpoint}' of the field 'ApiEndpoint' must be an http:// or https:// URL with a host"
            )));
        }
        url.set_fragment(None);

        let method = required_string(p, "Method")?;
        if !METHODS.contains(&method) {
            return Err(Failure::runtime(format!(
                "The value '{method}' of the field 'Method' is not one of {}",
                METHODS.join(", ")
            )));
        }
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Failure::runtime(format!("'{method}' is not an HTTP method")))?;

        let connection_arn = connection_arn(p)?;
        let headers = match p.get("Headers") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => parse_headers(v)?,
        };
        if let Some((name, _)) = headers.iter().find(|(n, _)| is_refused_header(n)) {
            return Err(Failure::runtime(format!(
                "The header '{name}' is not allowed in the HTTP Task's Headers"
            )));
        }
        let query = match p.get("QueryParameters") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => parse_query_parameters(v)?,
        };
        let encoding = match p.get("Transform") {
            None | Some(Value::Null) => None,
            Some(v) => parse_transform(v)?,
        };
        Ok(Call {
            url,
            method,
            connection_arn,
            headers,
            query,
            body: p.get("RequestBody").cloned(),
            encoding,
        })
    }
}

fn required_string<'a>(p: &'a Map<String, Value>, field: &str) -> Result<&'a str, Failure> {
    match p.get(field) {
        None | Some(Value::Null) => Err(Failure::runtime(format!(
            "The field '{field}' is required but was missing"
        ))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(Failure::runtime(format!(
            "The value of the field '{field}' must be a string, not {}",
            type_name(other)
        ))),
    }
}

fn connection_arn(p: &Map<String, Value>) -> Result<String, Failure> {
    let field = if p.contains_key("InvocationConfig") {
        "InvocationConfig"
    } else if p.contains_key("Authentication") {
        "Authentication"
    } else {
        return Err(Failure::runtime(
            "The field 'Authentication' is required but was missing: an HTTP Task needs a connection (Authentication or InvocationConfig, with a ConnectionArn)",
        ));
    };
    if p.contains_key("InvocationConfig") && p.contains_key("Authentication") {
        return Err(Failure::runtime(
            "The fields 'Authentication' and 'InvocationConfig' cannot both be given",
        ));
    }
    let inner = p[field].as_object().ok_or_else(|| {
        Failure::runtime(format!(
            "The value of the field '{field}' must be an object"
        ))
    })?;
    match inner.get("ConnectionArn") {
        Some(Value::String(arn)) if !arn.is_empty() => Ok(arn.clone()),
        None | Some(Value::Null) => Err(Failure::runtime(format!(
            "The field 'ConnectionArn' is required but was missing at {field}"
        ))),
        Some(_) => Err(Failure::runtime(format!(
            "The value of the field '{field}.ConnectionArn' must be a non-empty string"
        ))),
    }
}

/// `Headers`: an object (values that are arrays send the header once per item), a list of such
/// objects, or a string of `Name: value` lines.
fn parse_headers(value: &Value) -> Result<Vec<(String, String)>, Failure> {
    let mut out = Vec::new();
    match value {
        Value::Object(map) => header_object(map, &mut out)?,
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(map) => header_object(map, &mut out)?,
                    Value::String(s) => header_lines(s, &mut out)?,
                    other => {
                        return Err(Failure::runtime(format!(
                            "The field 'Headers' holds {}, where a header object was expected",
                            type_name(other)
                        )));
                    }
                }
            }
        }
        Value::String(s) => header_lines(s, &mut out)?,
        other => {
            return Err(Failure::runtime(format!(
                "The value of the field 'Headers' must be an object, not {}",
                type_name(other)
            )));
        }
    }
    Ok(out)
}

fn header_object(map: &Map<String, Value>, out: &mut Vec<(String, String)>) -> Result<(), Failure> {
    for (name, value) in map {
        match value {
            Value::Array(items) => {
                for item in items {
                    out.push((name.clone(), header_scalar(name, item)?));
                }
            }
            v => out.push((name.clone(), header_scalar(name, v)?)),
        }
    }
    Ok(())
}

fn header_scalar(name: &str, value: &Value) -> Result<String, Failure> {
    match value {
        Value::Object(_) | Value::Array(_) => Err(Failure::runtime(format!(
            "The value of the header '{name}' must be a string, not {}",
            type_name(value)
        ))),
        v => Ok(form::scalar_text(v)),
    }
}

fn header_lines(text: &str, out: &mut Vec<(String, String)>) -> Result<(), Failure> {
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| {
            Failure::runtime(format!(
                "The header line '{line}' in the field 'Headers' is not 'Name: value'"
            ))
        })?;
        out.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(())
}

fn is_refused_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    REFUSED_HEADERS.iter().any(|r| {
        if r.ends_with('-') {
            name.starts_with(r)
        } else {
            name == *r
        }
    })
}

/// `QueryParameters`: an object (arrays repeat the key; objects are sent as their JSON text), a
/// written query string, or a list of either.
fn parse_query_parameters(value: &Value) -> Result<Vec<(String, String)>, Failure> {
    let mut out = Vec::new();
    let mut add = |v: &Value| -> Result<(), Failure> {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match v {
                        Value::Array(items) => {
                            for item in items {
                                out.push((k.clone(), form::scalar_text(item)));
                            }
                        }
                        v => out.push((k.clone(), form::scalar_text(v))),
                    }
                }
                Ok(())
            }
            Value::String(s) => {
                out.extend(form::parse_query(s));
                Ok(())
            }
            other => Err(Failure::runtime(format!(
                "The value of the field 'QueryParameters' must be an object or a string, not {}",
                type_name(other)
            ))),
        }
    };
    match value {
        Value::Array(items) => items.iter().try_for_each(&mut add)?,
        v => add(v)?,
    }
    Ok(out)
}

fn parse_transform(value: &Value) -> Result<Option<ArrayFormat>, Failure> {
    let t = value
        .as_object()
        .ok_or_else(|| Failure::runtime("The value of the field 'Transform' must be an object"))?;
    if let Some(unknown) = t
        .keys()
        .find(|k| !matches!(k.as_str(), "RequestBodyEncoding" | "RequestEncodingOptions"))
    {
        return Err(Failure::runtime(format!(
            "The field 'Transform.{unknown}' is not supported by Step Functions"
        )));
    }
    let format = match t.get("RequestEncodingOptions") {
        None | Some(Value::Null) => ArrayFormat::default(),
        Some(Value::Object(o)) => match o.get("ArrayFormat") {
            None | Some(Value::Null) => ArrayFormat::default(),
            Some(Value::String(s)) => ArrayFormat::parse(s).ok_or_else(|| {
                Failure::runtime(format!(
                    "The value '{s}' of the field 'Transform.RequestEncodingOptions.ArrayFormat' is not one of INDICES, REPEAT, COMMAS, BRACKETS"
                ))
            })?,
            Some(other) => {
                return Err(Failure::runtime(format!(
                    "The value of the field 'Transform.RequestEncodingOptions.ArrayFormat' must be a string, not {}",
                    type_name(other)
                )));
            }
        },
        Some(_) => {
            return Err(Failure::runtime(
                "The value of the field 'Transform.RequestEncodingOptions' must be an object",
            ));
        }
    };
    match t.get("RequestBodyEncoding") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "NONE" => Ok(None),
        Some(Value::String(s)) if s == "URL_ENCODED" => Ok(Some(format)),
        Some(other) => Err(Failure::runtime(format!(
            "The value {other} of the field 'Transform.RequestBodyEncoding' is not one of NONE, URL_ENCODED"
        ))),
    }
}

/// Merges the connection's invocation parameters into the call and builds what is sent.
fn prepare(call: Call, c: &Connection, region: &str) -> Result<Prepared, Failure> {
    let Call {
        mut url,
        method,
        headers: definition_headers,
        query,
        body,
        encoding,
        ..
    } = call;

    // Query: the connection's parameters win over the definition's of the same name.
    let mut pairs: Vec<(String, String)> = query
        .into_iter()
        .filter(|(k, _)| !c.query.contains_key(k))
        .collect();
    pairs.extend(c.query.iter().map(|(k, v)| (k.clone(), v.clone())));
    if !pairs.is_empty() {
        let added = form::query_string(&pairs);
        let joined = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{added}"),
            _ => added,
        };
        url.set_query(Some(&joined));
    }

    // Body: the connection's parameters go into a JSON object body's top level, and win.
    let body = match (body, c.body.is_empty()) {
        (body, true) => body,
        (None, false) => Some(Value::Object(Map::new())),
        (Some(Value::Object(m)), false) => Some(Value::Object(m)),
        (Some(other), false) => {
            return Err(Failure::runtime(format!(
                "The RequestBody is {} and the connection has body parameters: Step Functions can merge them only into a JSON object",
                type_name(&other)
            )));
        }
    };
    let body = body.map(|mut b| {
        if let Value::Object(m) = &mut b {
            for (k, v) in &c.body {
                m.insert(k.clone(), Value::String(v.clone()));
            }
        }
        b
    });
    let (body, content_type) = match (body, encoding) {
        (None, _) => (None, None),
        (Some(Value::String(s)), None) => (Some(s.into_bytes()), Some(JSON_CONTENT_TYPE)),
        (Some(v), None) => (
            Some(serde_json::to_vec(&v).unwrap_or_default()),
            Some(JSON_CONTENT_TYPE),
        ),
        (Some(Value::Object(m)), Some(format)) => (
            Some(form::url_encode_object(&m, format).into_bytes()),
            Some(FORM_CONTENT_TYPE),
        ),
        (Some(Value::String(s)), Some(_)) => (Some(s.into_bytes()), Some(FORM_CONTENT_TYPE)),
        (Some(other), Some(_)) => {
            return Err(Failure::runtime(format!(
                "The RequestBody is {}: only a JSON object (or a string) can be URL-encoded",
                type_name(&other)
            )));
        }
    };

    // Headers: the definition's, then the connection's (which replace those of the same name),
    // then Step Functions' own.
    let mut headers = HeaderMap::new();
    for (name, value) in &definition_headers {
        if name.eq_ignore_ascii_case("content-length") {
            continue; // computed from the body
        }
        let (name, value) = header(name, value)?;
        headers.append(name, value);
    }
    for (name, value) in &c.headers {
        let (name, value) = header(name, value)?;
        headers.insert(name, value);
    }
    if let Some(ct) = content_type {
        if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
            headers.insert(reqwest::header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
    }
    let (name, value) = header(
        "User-Agent",
        &format!("Amazon|StepFunctions|HttpInvoke|{region}"),
    )?;
    headers.insert(name, value);
    headers.insert(
        reqwest::header::RANGE,
        HeaderValue::from_static("bytes=0-262144"),
    );
    Ok(Prepared {
        url,
        method,
        headers,
        body,
    })
}

const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";
const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Failure> {
    let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        Failure::runtime(format!(
            "The header name '{name}' is not a valid HTTP header name"
        ))
    })?;
    let v = HeaderValue::from_str(value).map_err(|_| {
        Failure::runtime(format!(
            "The value of the header '{name}' is not a valid HTTP header value"
        ))
    })?;
    Ok((n, v))
}

/// The header a connection authorizes with; for OAuth, with `token`.
fn authorization(c: &Connection, token: Option<&str>) -> Option<(HeaderName, HeaderValue)> {
    let (name, value) = match c.auth {
        AuthKind::ApiKey => (
            c.api_key_name.clone().unwrap_or_default(),
            c.api_key_value.clone().unwrap_or_default(),
        ),
        AuthKind::Basic => {
            let credentials = format!(
                "{}:{}",
                c.username.as_deref().unwrap_or_default(),
                c.password.as_deref().unwrap_or_default()
            );
            (
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(credentials)
                ),
            )
        }
        AuthKind::OauthClientCredentials => ("Authorization".into(), format!("Bearer {}", token?)),
        AuthKind::None => return None,
    };
    header(&name, &value).ok()
}

fn check_host(config: &crate::config::HttpConfig, url: &reqwest::Url) -> Result<(), Failure> {
    hosts::check(config, url.host_str().unwrap_or_default()).map_err(|refused| Failure {
        error: errors::HOST_NOT_ALLOWED.into(),
        cause: refused.to_string(),
    })
}

/// The name an ARN like `arn:aws:events:…:connection/NAME/ID` gives (or the text itself).
/// Logs, once per connection name, that a connection is not configured.
fn warn_once(name: &str) {
    static WARNED: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let first = WARNED
        .lock()
        .map(|mut w| w.insert(name.to_owned()))
        .unwrap_or(false);
    if first {
        tracing::warn!(
            connection = name,
            "the HTTP Task's connection is not in the configuration ([connections.{name}]): its requests go without authorization"
        );
    }
}

fn connection_name(arn: &str) -> &str {
    match arn.split_once(":connection/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => arn,
    }
}

fn transport_failure(e: &reqwest::Error, url: &reqwest::Url, timeout: u64) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<hosts::HostRefused>() {
            return Failure {
                error: errors::HOST_NOT_ALLOWED.into(),
                cause: format!("A redirect from '{url}' was refused: {refused}"),
            };
        }
        source = s.source();
    }
    let cause = if e.is_timeout() {
        format!("The HTTP request to '{url}' timed out after {timeout} seconds")
    } else {
        // reqwest's own message repeats the URL: its sources say what went wrong.
        let why = match std::error::Error::source(e) {
            Some(source) => error_chain(source),
            None => e.to_string(),
        };
        format!("The HTTP request to '{url}' failed: {why}")
    };
    Failure {
        error: errors::SOCKET.into(),
        cause,
    }
}

/// An error and its sources, most specific last: `error sending request: connection refused`.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

async fn read_response(mut response: reqwest::Response) -> Result<Value, Failure> {
    let status = response.status();
    if !status.is_success() {
        return Err(Failure {
            error: format!("{}{}", errors::STATUS_CODE_PREFIX, status.as_u16()),
            cause: status.canonical_reason().unwrap_or_default().to_owned(),
        });
    }
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let values = headers
            .entry(name.as_str().to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = values {
            list.push(Value::String(
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase());
    let media = content_type
        .as_deref()
        .map(|ct| ct.split(';').next().unwrap_or_default().trim().to_owned());
    if let Some(m) = &media {
        let binary = m == "application/octet-stream"
            || ["image/", "video/", "audio/"]
                .iter()
                .any(|p| m.starts_with(p));
        if binary {
            return Err(Failure::runtime(format!(
                "The HTTP Task cannot return a response whose content-type is '{m}'"
            )));
        }
    }

    let url = response.url().clone();
    let mut bytes = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_BODY {
                    return Err(Failure {
                        error: errors::DATA_LIMIT_EXCEEDED.into(),
                        cause: "The state/task 'arn:aws:states:::http:invoke' returned a result with a size exceeding the maximum number of bytes service limit.".into(),
                    });
                }
            }
            Ok(None) => break,
            Err(e) => return Err(transport_failure(&e, &url, 0)),
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Failure::runtime("The HTTP Task cannot return a response body that is not valid UTF-8 text")
    })?;
    let json_type = match &media {
        None => true,
        Some(m) => m == "application/json" || m.ends_with("+json") || m == "text/json",
    };
    let body = if json_type && !text.trim().is_empty() {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    };
    let mut result = Map::new();
    result.insert("Headers".into(), Value::Object(headers));
    result.insert("ResponseBody".into(), body);
    result.insert("StatusCode".into(), Value::from(status.as_u16()));
    result.insert(
        "StatusText".into(),
        Value::String(status.canonical_reason().unwrap_or_default().to_owned()),
    );
    Ok(Value::Object(result))
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Call, Failure> {
        Call::parse(&v)
    }

    fn base() -> Value {
        json!({
            "ApiEndpoint": "https://api.example.com/v1/things?x=1#frag",
            "Method": "POST",
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:111122223333:connection/c/1"}
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut v = base();
        v[field] = value;
        v
    }

    fn without(field: &str) -> Value {
        let mut v = base();
        v.as_object_mut().expect("object").remove(field);
        v
    }

    fn cause(r: Result<Call, Failure>) -> String {
        let f = r.expect_err("refused");
        assert_eq!(f.error, errors::RUNTIME, "{f:?}");
        f.cause
    }

    #[test]
    fn a_minimal_call_parses() {
        let c = parse(base()).expect("parses");
        assert_eq!(c.url.as_str(), "https://api.example.com/v1/things?x=1");
        assert_eq!(c.method, reqwest::Method::POST);
        assert_eq!(
            c.connection_arn,
            "arn:aws:events:us-east-1:111122223333:connection/c/1"
        );
        assert!(c.encoding.is_none() && c.body.is_none());
    }

    #[test]
    fn required_fields_are_named_when_missing() {
        assert_eq!(
            cause(parse(without("ApiEndpoint"))),
            "The field 'ApiEndpoint' is required but was missing"
        );
        assert_eq!(
            cause(parse(without("Method"))),
            "The field 'Method' is required but was missing"
        );
        assert!(cause(parse(without("Authentication"))).contains("'Authentication' is required"));
        assert!(
            cause(parse(with("Authentication", json!({})))).contains("'ConnectionArn' is required")
        );
        let mut v = without("Authentication");
        v["InvocationConfig"] = json!({"ConnectionArn": "c"});
        assert_eq!(parse(v).expect("parses").connection_arn, "c");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(cause(parse(with("Method", json!("FETCH")))).contains("'FETCH'"));
        assert!(cause(parse(with("Method", json!("get")))).contains("'get'"));
        assert!(cause(parse(with("ApiEndpoint", json!("not a url")))).contains("not a valid URL"));
        assert!(cause(parse(with("ApiEndpoint", json!("ftp://h/x")))).contains("http://"));
        assert!(cause(parse(with("ApiEndpoint", json!(5)))).contains("must be a string"));
        assert_eq!(
            cause(parse(with("Retries", json!(3)))),
            "The field 'Retries' is not supported by Step Functions"
        );
        assert!(cause(parse(with("Headers", json!(7)))).contains("'Headers'"));
        assert!(cause(parse(with("Headers", json!({"a": {"b": 1}})))).contains("'a'"));
        assert!(cause(parse(with("QueryParameters", json!(7)))).contains("'QueryParameters'"));
        assert!(
            cause(parse(with(
                "Transform",
                json!({"RequestBodyEncoding": "BASE64"})
            )))
            .contains("NONE, URL_ENCODED")
        );
        assert!(
            cause(parse(with(
                "Transform",
                json!({"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "JSON"}})
            )))
            .contains("INDICES, REPEAT, COMMAS, BRACKETS")
        );
        assert!(cause(parse(json!([1]))).contains("must be a JSON object"));
    }

    #[test]
    fn refused_headers_fail_whatever_their_case() {
        for name in [
            "Authorization",
            "host",
            "X-Forwarded-For",
            "x-amz-date",
            "X-Amzn-Trace-Id",
            "If-None-Match",
            "TE",
        ] {
            let c = cause(parse(with("Headers", json!({name: "v"}))));
            assert_eq!(
                c,
                format!("The header '{name}' is not allowed in the HTTP Task's Headers")
            );
        }
        for name in ["X-Api-Key", "Content-Type", "Accept", "Range", "X-Amazing"] {
            assert!(parse(with("Headers", json!({name: "v"}))).is_ok(), "{name}");
        }
    }

    #[test]
    fn headers_and_query_parameters_take_their_documented_shapes() {
        let c = parse(with(
            "Headers",
            json!([{"A": "1", "N": 2, "L": ["x", "y"]}, "B: two\nC:3"]),
        ))
        .expect("parses");
        let h: Vec<(&str, &str)> = c
            .headers
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            h,
            [
                ("A", "1"),
                ("N", "2"),
                ("L", "x"),
                ("L", "y"),
                ("B", "two"),
                ("C", "3")
            ]
        );
        let c = parse(with(
            "QueryParameters",
            json!({"a": "x y", "n": 1, "ids": [1, 2], "o": {"k": true}}),
        ))
        .expect("parses");
        assert_eq!(
            form::query_string(&c.query),
            "a=x%20y&n=1&ids=1&ids=2&o=%7B%22k%22%3Atrue%7D"
        );
        let c = parse(with("QueryParameters", json!("a=1&b=two%20words"))).expect("parses");
        assert_eq!(form::query_string(&c.query), "a=1&b=two%20words");
    }

    fn connection(toml: &str) -> Connection {
        let config = crate::Config::parse(toml, "t.toml").expect("config");
        config.connections[0].clone()
    }

    #[test]
    fn the_connection_wins_on_clashes_as_the_guides_merge_example_shows() {
        let c = connection(
            r#"[connections.example]
auth = "api_key"
api_key_name = "ApiKey"
api_key_value = "key_value"
headers = { "Header-Param" = "connection_header_param" }
query = { QueryParam = "connection_query_param" }
body = { BodyParam = "connection_body_param" }
"#,
        );
        let call = parse(json!({
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/example/81210c42"},
            "ApiEndpoint": "https://example.com/path",
            "Method": "GET",
            "Headers": {"Request-Id": "my_request_id", "Header-Param": "state_machine_header_param"},
            "RequestBody": {"Job": "Software Engineer", "Company": "AnyCompany", "BodyParam": "state_machine_body_param"},
            "QueryParameters": {"QueryParam": "state_machine_query_param"}
        }))
        .expect("parses");
        let p = prepare(call, &c, "eu-west-1").expect("prepared");
        assert_eq!(
            p.url.as_str(),
            "https://example.com/path?QueryParam=connection_query_param"
        );
        assert_eq!(
            String::from_utf8(p.body.expect("a body")).expect("utf-8"),
            r#"{"Job":"Software Engineer","Company":"AnyCompany","BodyParam":"connection_body_param"}"#
        );
        let h = |n: &str| {
            p.headers
                .get(n)
                .map(|v| v.to_str().expect("text").to_owned())
        };
        assert_eq!(
            h("header-param").as_deref(),
            Some("connection_header_param")
        );
        assert_eq!(h("request-id").as_deref(), Some("my_request_id"));
        assert_eq!(h("content-type").as_deref(), Some(JSON_CONTENT_TYPE));
        assert_eq!(h("range").as_deref(), Some("bytes=0-262144"));
        assert_eq!(
            h("user-agent").as_deref(),
            Some("Amazon|StepFunctions|HttpInvoke|eu-west-1")
        );
        assert_eq!(
            authorization(&c, None)
                .map(|(n, v)| (n.to_string(), v.to_str().expect("t").to_owned())),
            Some(("apikey".to_owned(), "key_value".to_owned()))
        );
    }

    #[test]
    fn a_string_body_cannot_take_connection_body_parameters() {
        let c = connection(
            "[connections.c]\nauth = \"basic\"\nusername = \"u\"\npassword = \"p\"\nbody = { k = \"v\" }\n",
        );
        let call = parse(with("RequestBody", json!("raw text"))).expect("parses");
        let f = prepare(call, &c, "r").err().expect("refused");
        assert_eq!(f.error, errors::RUNTIME);
        assert!(f.cause.contains("a string"), "{}", f.cause);
        // Without a body, the connection's parameters are the body.
        let call = parse(base()).expect("parses");
        let p = prepare(call, &c, "r").expect("prepared");
        assert_eq!(p.body.as_deref(), Some(br#"{"k":"v"}"#.as_slice()));
    }

    #[test]
    fn basic_authorization_is_base64_of_user_and_password() {
        let c = connection(
            "[connections.c]\nauth = \"basic\"\nusername = \"Aladdin\"\npassword = \"open sesame\"\n",
        );
        let (n, v) = authorization(&c, None).expect("a header");
        assert_eq!(n, reqwest::header::AUTHORIZATION);
        assert_eq!(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn connection_names_come_from_their_arns() {
        assert_eq!(
            connection_name("arn:aws:events:us-east-1:1:connection/Stripe/81210c42"),
            "Stripe"
        );
        assert_eq!(connection_name("orders"), "orders");
    }
}
