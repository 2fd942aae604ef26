//! The five AWS wire protocols, driven by a service's model: a Task's parameters to an HTTP
//! request, and the HTTP answer to a result or an error.
//!
//! - `json` (DynamoDB, EventBridge, SQS, ...): POST `/`, `X-Amz-Target: Prefix.Operation`, a
//!   JSON body;
//! - `rest-json` (Lambda, API Gateway, Glue's newer peers, ...) and `rest-xml` (S3, Route 53,
//!   CloudFront): members bound to the URI, query string, headers and body;
//! - `query` (SNS, STS, IAM, ...) and `ec2`: a form-encoded POST, an XML answer.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::json;
use crate::model::{Model, Operation, Shape, ShapeRef};
use crate::values::{member, pascal, plain, resolve, scalar_from_text, scalar_text};
use crate::xml;

/// Characters sent as they are in a URI path segment or query component (RFC 3986
/// unreserved), as SigV4 expects.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An HTTP request before it is signed: its target relative to the service's endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    pub method: String,
    /// The path, percent-encoded.
    pub path: String,
    /// Query parameters, not yet encoded.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Prefixed to the endpoint's host (`{AccountId}.` filled in), for real AWS endpoints.
    pub host_prefix: Option<String>,
    /// Where to send it instead of the service's endpoint (`scheme://authority`), and the
    /// region to sign it for when that is known: an optimized SQS call's queue URL.
    pub endpoint: Option<(String, Option<String>)>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct WireResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl WireResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A required member the parameters leave out: the name the service would show (its wire
/// name, first letter in lower case, as AWS's validation messages do).
pub fn missing_required(model: &Model, op: &Operation, input: &Value) -> Option<String> {
    let shape = resolve(model, op.input.as_ref()?);
    let obj = input.as_object();
    shape.required.iter().find_map(|name| {
        let present = obj.and_then(|o| member(o, name)).is_some();
        (!present).then(|| {
            let mut chars = name.chars();
            chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default()
        })
    })
}

/// A member whose value has a type the action's model does not allow: where it is (`Item.id`,
/// `Keys[1]`) and the JSON type it must have (`STRING`, `INTEGER`, `NUMBER`, `BOOLEAN`,
/// `ARRAY`, `OBJECT`, `TIMESTAMP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub path: String,
    pub expected: &'static str,
}

/// The first member of `input` (a Task's parameters) whose value the action's model cannot
/// take, found before any request is made. `null` is a member left out; blobs, documents and
/// JSON-valued headers take any JSON; a timestamp is ISO-8601 text or epoch seconds.
pub fn type_mismatch(model: &Model, op: &Operation, input: &Value) -> Option<Mismatch> {
    let shape = resolve(model, op.input.as_ref()?);
    mismatch_in(model, shape, None, input, String::new())
}

fn mismatch_in(
    model: &Model,
    shape: &Shape,
    r: Option<&ShapeRef>,
    v: &Value,
    path: String,
) -> Option<Mismatch> {
    if v.is_null() || shape.document || r.is_some_and(|r| r.jsonvalue) {
        return None;
    }
    let expect = |ok: bool, expected: &'static str| {
        (!ok).then(|| Mismatch {
            path: path.clone(),
            expected,
        })
    };
    match shape.kind.as_str() {
        "structure" => {
            let Value::Object(obj) = v else {
                return expect(false, "OBJECT");
            };
            shape.members.iter().find_map(|(name, mr)| {
                let mv = member(obj, name)?;
                let at = if path.is_empty() {
                    pascal(name)
                } else {
                    format!("{path}.{}", pascal(name))
                };
                mismatch_in(model, resolve(model, mr), Some(mr), mv, at)
            })
        }
        "list" => {
            let Value::Array(items) = v else {
                return expect(false, "ARRAY");
            };
            let m = shape.member.as_ref()?;
            let target = resolve(model, m);
            items.iter().enumerate().find_map(|(i, item)| {
                mismatch_in(model, target, Some(m), item, format!("{path}[{i}]"))
            })
        }
        "map" => {
            let Value::Object(entries) = v else {
                return expect(false, "OBJECT");
            };
            let vr = shape.value.as_ref()?;
            let target = resolve(model, vr);
            entries.iter().find_map(|(k, item)| {
                mismatch_in(model, target, Some(vr), item, format!("{path}.{k}"))
            })
        }
        "string" => expect(v.is_string(), "STRING"),
        "boolean" => expect(v.is_boolean(), "BOOLEAN"),
        // A whole number written with a fraction (`5.0`) is read as one.
        "integer" | "long" | "short" | "byte" => {
            expect(v.as_f64().is_some_and(|f| f.fract() == 0.0), "INTEGER")
        }
        "float" | "double" | "bigdecimal" | "biginteger" => expect(v.is_number(), "NUMBER"),
        "timestamp" => expect(
            v.is_number() || crate::values::timestamp_in(v).is_some(),
            "TIMESTAMP",
        ),
        _ => None,
    }
}

/// The parameters with the action's idempotency-token members they leave out filled with
/// `token()`; `None` when there are none to fill.
pub fn with_idempotency_tokens(
    model: &Model,
    op: &Operation,
    input: &Value,
    token: impl FnOnce() -> String,
) -> Option<Value> {
    let shape = resolve(model, op.input.as_ref()?);
    let obj = input.as_object();
    let missing: Vec<&String> = shape
        .members
        .iter()
        .filter(|(name, r)| r.idempotency_token && obj.and_then(|o| member(o, name)).is_none())
        .map(|(name, _)| name)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let token = token();
    let mut filled = obj.cloned().unwrap_or_default();
    for name in missing {
        filled.insert(pascal(name), Value::String(token.clone()));
    }
    Some(Value::Object(filled))
}

/// Builds the request for `op` from a Task's parameters.
pub fn request(model: &Model, op: &Operation, input: &Value) -> WireRequest {
    let empty = Value::Object(Map::new());
    let input = if input.is_object() { input } else { &empty };
    let mut req = WireRequest {
        method: op.http.method.clone(),
        path: "/".into(),
        query: Vec::new(),
        headers: Vec::new(),
        body: Vec::new(),
        host_prefix: None,
        endpoint: None,
    };
    let shape = op.input.as_ref().map(|r| resolve(model, r));
    match model.metadata.protocol.as_str() {
        "json" => {
            let target = format!(
                "{}.{}",
                model.metadata.target_prefix.as_deref().unwrap_or_default(),
                op.name
            );
            let version = model.metadata.json_version.as_deref().unwrap_or("1.0");
            req.headers.push(("X-Amz-Target".into(), target));
            req.headers.push((
                "Content-Type".into(),
                format!("application/x-amz-json-{version}"),
            ));
            let body = shape
                .map(|s| json::to_wire(model, s, input, false))
                .unwrap_or(Value::Object(Map::new()));
            req.body = body.to_string().into_bytes();
        }
        "query" | "ec2" => {
            let ec2 = model.metadata.protocol == "ec2";
            let mut params = vec![
                ("Action".to_owned(), op.name.clone()),
                ("Version".to_owned(), model.metadata.api_version.clone()),
            ];
            if let Some(s) = shape {
                query_params(model, s, input, "", ec2, &mut params);
            }
            req.method = "POST".into();
            req.headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            ));
            req.body = form(&params).into_bytes();
        }
        _ => rest(model, op, shape, input, &mut req),
    }
    if let (Some(checksum), Some(s)) = (&op.http_checksum, shape) {
        add_checksum(checksum, s, input, &mut req);
    }
    if let (Some(prefix), Some(s)) = (&op.endpoint, shape) {
        req.host_prefix = Some(fill_host_prefix(&prefix.host_prefix, s, input));
    }
    req
}

/// The checksum of the body an operation takes, as the AWS SDKs send it by default (CRC32,
/// unless the parameters name another algorithm): `x-amz-checksum-<algorithm>` with the
/// algorithm in `x-amz-sdk-checksum-algorithm`. S3 then answers it back (`ChecksumCRC32`,
/// `ChecksumType`), as it does for the SDKs.
fn add_checksum(
    checksum: &crate::model::HttpChecksum,
    shape: &Shape,
    input: &Value,
    req: &mut WireRequest,
) {
    use sha1::Digest as _;
    // Only a body the operation takes a checksum of (GetObject's trait is about its answer).
    let Some(algorithm_member) = checksum.request_algorithm_member.as_deref() else {
        return;
    };
    let named = input
        .as_object()
        .and_then(|o| member(o, algorithm_member))
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase);
    let algorithm = named.clone().unwrap_or_else(|| "CRC32".to_owned());
    let digest = match algorithm.as_str() {
        "CRC32" => crc32fast::hash(&req.body).to_be_bytes().to_vec(),
        "SHA1" => sha1::Sha1::digest(&req.body).to_vec(),
        "SHA256" => sha2::Sha256::digest(&req.body).to_vec(),
        // CRC32C and CRC64NVME: the service checks what it is sent; nothing is added.
        _ => return,
    };
    let header = format!("x-amz-checksum-{}", algorithm.to_ascii_lowercase());
    if req
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case(&header))
    {
        return;
    }
    if named.is_none() {
        // The member that names the algorithm is bound to this header.
        let wire = shape
            .members
            .get(algorithm_member)
            .and_then(|r| r.location_name.clone())
            .unwrap_or_else(|| "x-amz-sdk-checksum-algorithm".to_owned());
        req.headers.push((wire, algorithm.clone()));
    }
    req.headers.push((header, crate::values::b64(&digest)));
}

fn fill_host_prefix(template: &str, shape: &Shape, input: &Value) -> String {
    let mut out = template.to_owned();
    for (name, r) in &shape.members {
        if r.host_label {
            let value = input
                .as_object()
                .and_then(|o| member(o, name))
                .map(plain)
                .unwrap_or_default();
            out = out.replace(&format!("{{{name}}}"), &value);
        }
    }
    out
}

/// `application/x-www-form-urlencoded` with SigV4's encoding of each part.
pub fn form(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, UNRESERVED),
                utf8_percent_encode(v, UNRESERVED)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Flattens a value into query-protocol parameters (`Attributes.entry.1.key`, `Ids.member.2`;
/// EC2: `Ids.2`).
fn query_params(
    model: &Model,
    shape: &Shape,
    v: &Value,
    prefix: &str,
    ec2: bool,
    out: &mut Vec<(String, String)>,
) {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    match shape.kind.as_str() {
        "structure" => {
            let Some(obj) = v.as_object() else { return };
            for (name, r) in &shape.members {
                let Some(x) = member(obj, name) else { continue };
                let wire = if ec2 {
                    r.ec2_query_name
                        .clone()
                        .or_else(|| r.query_name.clone())
                        .unwrap_or_else(|| pascal(r.location_name.as_deref().unwrap_or(name)))
                } else {
                    r.query_name
                        .clone()
                        .or_else(|| r.location_name.clone())
                        .unwrap_or_else(|| name.clone())
                };
                let target = resolve(model, r);
                let flattened = ec2 || r.flattened || target.flattened;
                query_member(model, target, Some(r), x, &join(&wire), flattened, ec2, out);
            }
        }
        _ => out.push((prefix.to_owned(), scalar_text(shape, None, v, "iso8601"))),
    }
}

#[allow(clippy::too_many_arguments)]
fn query_member(
    model: &Model,
    shape: &Shape,
    r: Option<&ShapeRef>,
    v: &Value,
    name: &str,
    flattened: bool,
    ec2: bool,
    out: &mut Vec<(String, String)>,
) {
    match shape.kind.as_str() {
        "list" => {
            let (Value::Array(items), Some(m)) = (v, &shape.member) else {
                return;
            };
            if items.is_empty() && !ec2 {
                out.push((name.to_owned(), String::new()));
                return;
            }
            let item = m.location_name.as_deref().unwrap_or("member");
            let target = resolve(model, m);
            for (i, x) in items.iter().enumerate() {
                let at = if flattened {
                    format!("{name}.{}", i + 1)
                } else {
                    format!("{name}.{item}.{}", i + 1)
                };
                query_member(model, target, Some(m), x, &at, target.flattened, ec2, out);
            }
        }
        "map" => {
            let (Value::Object(entries), Some(kr), Some(vr)) = (v, &shape.key, &shape.value) else {
                return;
            };
            let k_name = kr.location_name.as_deref().unwrap_or("key");
            let v_name = vr.location_name.as_deref().unwrap_or("value");
            let target = resolve(model, vr);
            for (i, (k, x)) in entries.iter().enumerate() {
                let at = if flattened {
                    format!("{name}.{}", i + 1)
                } else {
                    format!("{name}.entry.{}", i + 1)
                };
                out.push((format!("{at}.{k_name}"), k.clone()));
                query_member(
                    model,
                    target,
                    Some(vr),
                    x,
                    &format!("{at}.{v_name}"),
                    target.flattened,
                    ec2,
                    out,
                );
            }
        }
        "structure" => query_params(model, shape, v, name, ec2, out),
        _ => out.push((name.to_owned(), scalar_text(shape, r, v, "iso8601"))),
    }
}

/// `rest-json` and `rest-xml`: members bound to the URI, query string, headers and body.
fn rest(
    model: &Model,
    op: &Operation,
    shape: Option<&Shape>,
    input: &Value,
    req: &mut WireRequest,
) {
    let (path, fixed_query) = match op.http.request_uri.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (op.http.request_uri.clone(), None),
    };
    let mut path = path;
    if let Some(q) = fixed_query {
        for part in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            req.query.push((k.to_owned(), v.to_owned()));
        }
    }
    let obj = input.as_object().cloned().unwrap_or_default();
    let xml_protocol = model.metadata.protocol == "rest-xml";
    if let Some(shape) = shape {
        for (name, r) in &shape.members {
            let Some(v) = member(&obj, name) else {
                continue;
            };
            let target = resolve(model, r);
            let wire = r.location_name.clone().unwrap_or_else(|| name.clone());
            match r.location.as_deref() {
                Some("uri") => {
                    let text = scalar_text(target, Some(r), v, "iso8601");
                    let greedy = format!("{{{wire}+}}");
                    let encoded = if path.contains(&greedy) {
                        text.split('/')
                            .map(|s| utf8_percent_encode(s, UNRESERVED).to_string())
                            .collect::<Vec<_>>()
                            .join("/")
                    } else {
                        utf8_percent_encode(&text, UNRESERVED).to_string()
                    };
                    path = path
                        .replace(&greedy, &encoded)
                        .replace(&format!("{{{wire}}}"), &encoded);
                }
                Some("querystring") => match (target.kind.as_str(), v) {
                    ("list", Value::Array(items)) => {
                        let item = target.member.as_ref().map(|m| resolve(model, m));
                        for x in items {
                            let text = item
                                .map(|s| scalar_text(s, None, x, "iso8601"))
                                .unwrap_or_else(|| plain(x));
                            req.query.push((wire.clone(), text));
                        }
                    }
                    ("map", Value::Object(entries)) => {
                        for (k, x) in entries {
                            req.query.push((k.clone(), plain(x)));
                        }
                    }
                    _ => req
                        .query
                        .push((wire, scalar_text(target, Some(r), v, "iso8601"))),
                },
                Some("header") => {
                    let text = if r.jsonvalue {
                        crate::values::b64(plain(v).as_bytes())
                    } else if let Value::Array(items) = v {
                        items.iter().map(plain).collect::<Vec<_>>().join(",")
                    } else {
                        scalar_text(target, Some(r), v, "rfc822")
                    };
                    req.headers.push((wire, text));
                }
                Some("headers") => {
                    if let Value::Object(entries) = v {
                        for (k, x) in entries {
                            req.headers.push((format!("{wire}{k}"), plain(x)));
                        }
                    }
                }
                _ => {}
            }
        }
        match &shape.payload {
            Some(payload) => {
                if let (Some(v), Some(r)) = (member(&obj, payload), shape.members.get(payload)) {
                    let target = resolve(model, r);
                    match target.kind.as_str() {
                        // A streaming body (S3's objects) is the parameter's JSON text, a
                        // string's quotes included, as Step Functions sends it (recorded on
                        // AWS: putObject with Body "text data" stores "\"text data\"").
                        "blob" if r.streaming || target.streaming => {
                            req.body = v.to_string().into_bytes()
                        }
                        "blob" | "string" => req.body = crate::values::blob_in(v),
                        _ if xml_protocol => {
                            let root = r
                                .location_name
                                .clone()
                                .or_else(|| target.location_name.clone())
                                .unwrap_or_else(|| payload.clone());
                            let mut out = String::new();
                            xml::write(model, &mut out, &root, target, r.xml_namespace.as_ref(), v);
                            req.body = out.into_bytes();
                            req.headers
                                .push(("Content-Type".into(), "application/xml".into()));
                        }
                        _ => {
                            req.body = json::to_wire(model, target, v, false)
                                .to_string()
                                .into_bytes();
                            req.headers
                                .push(("Content-Type".into(), "application/json".into()));
                        }
                    }
                }
            }
            None => {
                let has_body = shape.members.values().any(|r| r.location.is_none())
                    && !matches!(op.http.method.as_str(), "GET" | "HEAD" | "DELETE");
                if has_body {
                    if xml_protocol {
                        let root = shape.location_name.clone().unwrap_or_else(|| {
                            op.input
                                .as_ref()
                                .map(|r| r.shape.clone())
                                .unwrap_or_default()
                        });
                        let mut out = String::new();
                        xml::write(model, &mut out, &root, shape, None, input);
                        req.body = out.into_bytes();
                        req.headers
                            .push(("Content-Type".into(), "application/xml".into()));
                    } else {
                        req.body = json::to_wire(model, shape, input, true)
                            .to_string()
                            .into_bytes();
                        req.headers
                            .push(("Content-Type".into(), "application/json".into()));
                    }
                }
            }
        }
    }
    req.path = path;
}

/// A successful answer as the operation's result.
pub fn result(model: &Model, op: &Operation, res: &WireResponse) -> Result<Value, String> {
    let Some(out_ref) = &op.output else {
        return Ok(Value::Object(Map::new()));
    };
    let shape = resolve(model, out_ref);
    match model.metadata.protocol.as_str() {
        "json" => {
            let body: Value = if res.body.is_empty() {
                Value::Object(Map::new())
            } else {
                serde_json::from_slice(&res.body).map_err(|e| e.to_string())?
            };
            Ok(json::from_wire(model, shape, &body))
        }
        "query" | "ec2" => {
            let root = xml::parse(&res.body)?;
            let el = match &out_ref.result_wrapper {
                Some(w) => root.child(w).cloned().unwrap_or_default(),
                None => root,
            };
            Ok(xml::from_element(model, shape, &el))
        }
        _ => rest_result(model, shape, res),
    }
}

fn rest_result(model: &Model, shape: &Shape, res: &WireResponse) -> Result<Value, String> {
    let xml_protocol = model.metadata.protocol == "rest-xml";
    let mut out = match &shape.payload {
        Some(payload) => {
            let mut out = Map::new();
            if let Some(r) = shape.members.get(payload) {
                let target = resolve(model, r);
                let value = match target.kind.as_str() {
                    "blob" | "string" => Some(crate::values::blob_out(&res.body)),
                    _ if res.body.is_empty() => None,
                    _ if xml_protocol => {
                        Some(xml::from_element(model, target, &xml::parse(&res.body)?))
                    }
                    _ => {
                        let body: Value =
                            serde_json::from_slice(&res.body).map_err(|e| e.to_string())?;
                        Some(json::from_wire(model, target, &body))
                    }
                };
                if let Some(v) = value {
                    out.insert(pascal(payload), v);
                }
            }
            out
        }
        None if res.body.is_empty() => Map::new(),
        None if xml_protocol => match xml::from_element(model, shape, &xml::parse(&res.body)?) {
            Value::Object(m) => m,
            _ => Map::new(),
        },
        None => {
            let body: Value = serde_json::from_slice(&res.body).map_err(|e| e.to_string())?;
            match json::from_wire(model, shape, &body) {
                Value::Object(m) => m,
                _ => Map::new(),
            }
        }
    };
    for (name, r) in &shape.members {
        let target = resolve(model, r);
        let wire = r.location_name.clone().unwrap_or_else(|| name.clone());
        match r.location.as_deref() {
            Some("header") => {
                if let Some(text) = res.header(&wire) {
                    let v = if r.jsonvalue {
                        crate::values::unb64(text)
                            .and_then(|b| serde_json::from_slice(&b).ok())
                            .unwrap_or_else(|| Value::String(text.to_owned()))
                    } else if target.kind == "list" {
                        Value::Array(
                            text.split(',')
                                .map(|s| Value::String(s.trim().to_owned()))
                                .collect(),
                        )
                    } else {
                        scalar_from_text(target, text)
                    };
                    out.insert(pascal(name), v);
                }
            }
            Some("headers") => {
                let prefix = wire.to_ascii_lowercase();
                let mut map = Map::new();
                for (k, v) in &res.headers {
                    if let Some(rest) = k.as_str().strip_prefix(&prefix) {
                        map.insert(
                            rest.to_owned(),
                            Value::String(v.to_str().unwrap_or_default().to_owned()),
                        );
                    }
                }
                out.insert(pascal(name), Value::Object(map));
            }
            Some("statusCode") => {
                out.insert(pascal(name), Value::from(res.status));
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

/// The error code and message of a failed answer, as each protocol carries them.
/// What a failed answer says: its error code, message and request id.
#[derive(Debug, Clone, PartialEq)]
pub struct WireError {
    pub code: String,
    pub message: String,
    /// From the `x-amzn-RequestId`/`x-amz-request-id` header, else the body's `RequestId`.
    pub request_id: String,
}

/// The error of a failed answer, as each protocol carries it (the body is read once).
pub fn error_of(protocol: &str, res: &WireResponse) -> WireError {
    let from_type = |t: &str| {
        let t = t.split(':').next().unwrap_or(t);
        t.rsplit('#').next().unwrap_or(t).to_owned()
    };
    let header_id = res
        .header("x-amzn-requestid")
        .or_else(|| res.header("x-amz-request-id"))
        .map(str::to_owned);
    let (code, message, body_id) = match protocol {
        "json" | "rest-json" => {
            let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
            let code = res
                .header("x-amzn-errortype")
                .map(from_type)
                .or_else(|| body.get("__type").and_then(Value::as_str).map(from_type))
                .or_else(|| body.get("code").and_then(Value::as_str).map(from_type))
                .or_else(|| body.get("Code").and_then(Value::as_str).map(from_type));
            let message = ["message", "Message", "errorMessage"]
                .iter()
                .find_map(|k| body.get(*k).and_then(Value::as_str))
                .map(str::to_owned);
            (code, message, None)
        }
        _ => match xml::parse(&res.body) {
            Ok(root) => (
                root.find_text("Code").map(str::to_owned),
                root.find_text("Message").map(str::to_owned),
                root.find_text("RequestId")
                    .or_else(|| root.find_text("RequestID"))
                    .map(str::to_owned),
            ),
            Err(_) => (None, None, None),
        },
    };
    let code = code.filter(|c| !c.is_empty()).unwrap_or_else(|| {
        match res.status {
            404 => "NotFound",
            403 => "Forbidden",
            400 => "BadRequest",
            _ => "ServiceUnavailable",
        }
        .to_owned()
    });
    let message = message.unwrap_or_else(|| {
        http::StatusCode::from_u16(res.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown error")
            .to_owned()
    });
    WireError {
        code,
        message,
        request_id: header_id.or(body_id).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Models;
    use serde_json::json;

    #[test]
    fn a_streaming_body_is_sent_as_its_json_text() {
        let s3 = Models::bundled().get("s3").expect("s3");
        let op = s3.operation("putObject").expect("putObject");
        for (body, sent) in [
            (json!("text data"), "\"text data\""),
            (json!({"Dict": "Value"}), "{\"Dict\":\"Value\"}"),
            (json!(0), "0"),
        ] {
            let req = request(&s3, op, &json!({"Bucket": "b", "Key": "k", "Body": body}));
            assert_eq!(String::from_utf8(req.body).expect("utf-8"), sent);
            assert_eq!(req.path, "/b/k");
        }
    }

    #[test]
    fn values_of_the_wrong_type_are_found_with_their_path() {
        let ddb = Models::bundled().get("dynamodb").expect("dynamodb");
        let put = ddb.operation("putItem").expect("putItem");
        let check = |input: Value| type_mismatch(&ddb, put, &input);
        let at = |path: &str, expected| {
            Some(Mismatch {
                path: path.into(),
                expected,
            })
        };
        assert_eq!(
            check(json!({"TableName": "t", "Item": {"id": {"S": "a"}}})),
            None
        );
        assert_eq!(
            check(json!({"TableName": 5, "Item": {}})),
            at("TableName", "STRING")
        );
        assert_eq!(
            check(json!({"TableName": "t", "Item": {"id": {"N": 5}}})),
            at("Item.id.N", "STRING")
        );
        assert_eq!(
            check(json!({"TableName": "t", "Item": []})),
            at("Item", "OBJECT")
        );
        assert_eq!(
            check(json!({"TableName": "t", "Item": {"l": {"L": [{"S": "x"}, {"BOOL": "yes"}]}}})),
            at("Item.l.L[1].BOOL", "BOOLEAN")
        );
        // null is a member left out; a blob takes any JSON; unknown members are not checked here.
        assert_eq!(
            check(json!({"TableName": "t", "Item": null, "Other": 1})),
            None
        );
        let s3 = Models::bundled().get("s3").expect("s3");
        let op = s3.operation("putObject").expect("putObject");
        let body = json!({"Bucket": "b", "Key": "k", "Body": {"any": [1]}, "ContentLength": 3.0});
        assert_eq!(type_mismatch(&s3, op, &body), None);
        let list = s3.operation("listObjectsV2").expect("listObjectsV2");
        assert_eq!(
            type_mismatch(&s3, list, &json!({"Bucket": "b", "MaxKeys": "10"})),
            Some(Mismatch {
                path: "MaxKeys".into(),
                expected: "INTEGER"
            })
        );
    }

    #[test]
    fn idempotency_tokens_left_out_are_filled_and_given_ones_kept() {
        let athena = Models::bundled().get("athena").expect("athena");
        let op = athena
            .operation("startQueryExecution")
            .expect("startQueryExecution");
        let filled = with_idempotency_tokens(&athena, op, &json!({"QueryString": "q"}), || {
            "stable-token-0001".into()
        })
        .expect("ClientRequestToken is an idempotency token");
        assert_eq!(filled["ClientRequestToken"], "stable-token-0001");
        let given = json!({"QueryString": "q", "ClientRequestToken": "mine"});
        assert!(with_idempotency_tokens(&athena, op, &given, || unreachable!()).is_none());
        let glue = Models::bundled().get("glue").expect("glue");
        let start = glue.operation("startJobRun").expect("startJobRun");
        assert!(with_idempotency_tokens(&glue, start, &json!({}), || unreachable!()).is_none());
    }

    #[test]
    fn a_body_the_operation_checksums_is_sent_with_its_crc32_by_default() {
        let s3 = Models::bundled().get("s3").expect("s3");
        let op = s3.operation("putObject").expect("putObject");
        let header = |req: &WireRequest, name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        // AWS's recording: Body "text data" is stored as "\"text data\"", CRC32 KUmHvQ==.
        let req = request(
            &s3,
            op,
            &json!({"Bucket": "b", "Key": "k", "Body": "text data"}),
        );
        assert_eq!(
            header(&req, "x-amz-checksum-crc32").as_deref(),
            Some("KUmHvQ==")
        );
        assert_eq!(
            header(&req, "x-amz-sdk-checksum-algorithm").as_deref(),
            Some("CRC32")
        );
        let named = json!({"Bucket": "b", "Key": "k", "Body": "x", "ChecksumAlgorithm": "SHA256"});
        let req = request(&s3, op, &named);
        assert!(header(&req, "x-amz-checksum-sha256").is_some());
        assert!(header(&req, "x-amz-checksum-crc32").is_none());
        // GetObject takes no body to checksum.
        let get = s3.operation("getObject").expect("getObject");
        let req = request(&s3, get, &json!({"Bucket": "b", "Key": "k"}));
        assert!(header(&req, "x-amz-checksum-crc32").is_none());
    }
}
