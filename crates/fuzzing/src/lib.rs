//! What each fuzz target does with its bytes, and the properties it checks, in one place: the
//! cargo-fuzz targets in `fuzz/` call these functions, and `tests/corpora.rs` runs every saved
//! corpus and regression file through them on stable Rust, so CI replays the corpora without
//! fuzzing.
//!
//! Every body must not panic, overflow its stack, hang or allocate without bound on any input;
//! where a property is cheap to state, it is checked too (and a broken one panics, which the
//! fuzzer reports as a finding). Inputs that carry two things (an expression and the document
//! it runs on) split at the first newline: the expression, then the document as JSON (anything
//! unreadable as JSON stands for `{}`), so corpus files stay readable text.
//!
//! Not here: the fuzzing itself (`fuzz/`, nightly-only through cargo-fuzz) and anything that
//! needs IO (the store, the HTTP server).

use std::sync::{Arc, LazyLock};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use stepwise_api::auth::Keys;

use stepwise_asl::eval::{NoVariables, Scope, SeededEntropy};
use stepwise_asl::jsonata::{self, Dialect, EvalOptions, JsonataExpr};
use stepwise_asl::model::{State, Template};
use stepwise_asl::{MachineType, ParseOptions, intrinsics, jsonpath};
use stepwise_engine::ExecutionInfo;
use stepwise_engine::lang::{self, JsonataEnv};
use stepwise_engine::local::{self, Clock, NoTasks, RunOptions};

/// A fuzz target: its name (the directory under `fuzz/corpus/` and `fuzz/regressions/`, and the
/// binary under `fuzz/fuzz_targets/`) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("definition", definition),
    ("jsonpath", jsonpath),
    ("intrinsics", intrinsics),
    ("jsonata", jsonata),
    ("payload_template", payload_template),
    ("api_request", api_request),
    ("sigv4", sigv4),
];

/// What a fuzz target does before its first input: the default panic hook instead of
/// libfuzzer-sys's, which aborts on every panic before it unwinds. A panic the project catches
/// on purpose (the JSONata layer's guard around jsonata-core) is then not a finding; one nothing
/// catches still ends the run as a crash (libfuzzer-sys aborts when the target unwinds).
pub fn init() {
    drop(std::panic::take_hook());
}

/// Steps a fuzzed execution may take: enough to reach the end of any small machine, few enough
/// that a machine looping on itself stays fast.
const MAX_STEPS: usize = 300;

/// The text of `data` (invalid UTF-8 replaced, so no input is wasted).
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// `data` split at its first newline: the expression, and the document as JSON.
fn expression_and_document(data: &[u8]) -> (String, Value) {
    let whole = text(data);
    let (expr, doc) = whole.split_once('\n').unwrap_or((&whole, ""));
    let doc = serde_json::from_str(doc).unwrap_or_else(|_| json!({}));
    (expr.to_owned(), doc)
}

/// A context object shaped like the engine's (`$$`).
fn context_object() -> Value {
    json!({
        "Execution": {
            "Id": "arn:aws:states:us-east-1:123456789012:execution:fuzz:run",
            "Input": {"a": 1},
            "Name": "run",
            "RoleArn": "arn:aws:iam::123456789012:role/DummyRole",
            "StartTime": "2024-01-01T00:00:00.000Z",
            "RedriveCount": 0
        },
        "State": {"EnteredTime": "2024-01-01T00:00:00.000Z", "Name": "S", "RetryCount": 0},
        "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:fuzz", "Name": "fuzz"},
        "Task": {"Token": "token"}
    })
}

/// The definition parser and validator, then the engine: the text is validated as a Standard
/// and as an Express machine; a definition that validates is run to its end (tasks fail,
/// virtual time) and its recorded steps must replay to the same history.
pub fn definition(data: &[u8]) {
    let text = text(data);
    for machine_type in [MachineType::Standard, MachineType::Express] {
        let options = ParseOptions { machine_type };
        match stepwise_asl::parse_definition(&text, options) {
            Err(report) => {
                assert!(!report.is_valid(), "a refused definition has an error");
                let message = report.invalid_definition_message();
                assert!(message.is_some(), "a refused definition has a message");
            }
            Ok((machine, report)) => {
                assert!(report.is_valid());
                if machine_type == MachineType::Standard {
                    run_machine(Arc::new(machine));
                }
            }
        }
    }
}

fn run_machine(machine: Arc<stepwise_asl::StateMachine>) {
    let start = chrono::DateTime::from_timestamp(1_704_067_200, 0).unwrap_or_default();
    let info = ExecutionInfo::local("fuzz", "run", start);
    let options = RunOptions {
        clock: Clock::Virtual,
        seed: 7,
        max_steps: MAX_STEPS,
    };
    let run = local::run(
        machine.clone(),
        info.clone(),
        json!({"a": 1, "items": [1, 2]}),
        None,
        &mut NoTasks,
        &options,
        |_| {},
    );
    let replayed = local::replay(machine, info, &run.steps);
    assert!(
        replayed == run.events,
        "replaying the recorded steps gave another history"
    );
}

/// JSONPath: a path is parsed; a parsed path prints as text that parses to the same path; it is
/// queried, read and written on the document.
pub fn jsonpath(data: &[u8]) {
    let (expr, doc) = expression_and_document(data);
    let Ok(path) = jsonpath::parse(&expr) else {
        return;
    };
    let printed = path.to_string();
    match jsonpath::parse(&printed) {
        Ok(again) => assert!(
            again == path,
            "{expr:?} printed as {printed:?}, which parses to another path"
        ),
        Err(e) => panic!("{expr:?} printed as {printed:?}, which does not parse: {e}"),
    }
    let _ = path.query(&doc);
    let _ = path.get(&doc);
    let _ = lang::select(&path, &doc);
    let _ = lang::apply_path(&Some(Some(path.clone())), doc.clone());
    let _ = lang::apply_result_path(&Some(Some(path.clone())), &doc, json!("r"));
    let mut target = doc;
    let _ = path.set(&mut target, json!({"set": true}));
}

/// Intrinsic functions: a call is parsed; it prints as text that parses to the same call; it is
/// evaluated against the document (as `$`) and a context object (as `$$`).
pub fn intrinsics(data: &[u8]) {
    let (expr, doc) = expression_and_document(data);
    let Ok(call) = intrinsics::parse(&expr) else {
        return;
    };
    let printed = call.to_string();
    match intrinsics::parse(&printed) {
        Ok(again) => assert!(
            again.to_string() == printed,
            "{expr:?} printed as {printed:?}, which parses to {again}"
        ),
        Err(e) => panic!("{expr:?} printed as {printed:?}, which does not parse: {e:?}"),
    }
    let context = context_object();
    let scope = Scope {
        input: &doc,
        context: &context,
        variables: &NoVariables,
    };
    let mut entropy = SeededEntropy::new(11).at(1_704_067_200_000);
    let _ = intrinsics::evaluate(&call, &scope, &mut entropy);
}

/// The JSONata layer: an expression is parsed and evaluated in Step Functions' dialect with
/// `$states` built from the document (as the engine builds it), and in plain JSONata with the
/// document as `$`; failures are worded as a state's cause.
pub fn jsonata(data: &[u8]) {
    let (expr, doc) = expression_and_document(data);
    let Ok(parsed) = JsonataExpr::parse(&expr) else {
        return;
    };
    let states = json!({"input": doc, "context": context_object()});
    let mut variables = serde_json::Map::new();
    variables.insert("x".into(), json!([1, "two", {"three": 3}]));
    for dialect in [Dialect::StepFunctions, Dialect::Standard] {
        let options = EvalOptions {
            dialect,
            // The engine's guard is ten seconds; a fuzzer needs fast runs.
            timeout: Some(std::time::Duration::from_millis(500)),
            max_depth: None,
        };
        let mut entropy = SeededEntropy::new(3).at(1_704_067_200_000);
        let input = (dialect == Dialect::Standard).then_some(&doc);
        match parsed.evaluate_with(input, Some(&states), &variables, &mut entropy, &options) {
            Ok(Some(_)) => {}
            Ok(None) => {
                let _ = jsonata::undefined_cause(&parsed, "Output");
            }
            Err(e) => {
                let _ = jsonata::error_cause(&parsed, "Output", &e);
            }
        }
    }
}

/// Payload templates: the first line is a template (any JSON value), read as a JSONPath
/// state's `Parameters` and a JSONata state's `Output`; each one that validates is evaluated
/// against the document, as the engine evaluates them.
pub fn payload_template(data: &[u8]) {
    let whole = text(data);
    let (template, doc) = whole.split_once('\n').unwrap_or((&whole, ""));
    let Ok(template) = serde_json::from_str::<Value>(template) else {
        return;
    };
    let doc: Value = serde_json::from_str(doc).unwrap_or_else(|_| json!({}));
    let context = context_object();
    let options = ParseOptions::default();

    let jsonpath_state = json!({"Type": "Pass", "Parameters": template, "End": true});
    if let Ok(state) = stepwise_asl::parse_state(&jsonpath_state, options) {
        let scope = Scope {
            input: &doc,
            context: &context,
            variables: &NoVariables,
        };
        let mut entropy = SeededEntropy::new(5).at(1_704_067_200_000);
        if let Some(t) = parameters(&state) {
            let _ = lang::payload(t, &scope, &mut entropy);
        }
    }

    let jsonata_state =
        json!({"Type": "Pass", "QueryLanguage": "JSONata", "Output": template, "End": true});
    if let Ok(state) = stepwise_asl::parse_state(&jsonata_state, options) {
        let states = json!({"input": doc, "context": context});
        let env = JsonataEnv {
            states: &states,
            variables: &NoVariables,
        };
        let mut entropy = SeededEntropy::new(5).at(1_704_067_200_000);
        if let Some(t) = &state.io.output {
            let _ = lang::jsonata_template(t, &env, &mut entropy, "Output");
        }
    }
}

fn parameters(state: &State) -> Option<&Template> {
    state.io.parameters.as_ref()
}

/// Error codes the API may answer a request it cannot decode with.
const DECODE_ERRORS: &[&str] = &[
    "UnknownOperationException",
    "SerializationException",
    "ValidationException",
];

/// The API's request decoding: the first line is the `X-Amz-Target` header, the second the
/// `Content-Type` (empty: none), the rest the body. A request is decoded as the router decodes
/// it; a refusal is one of the protocol's errors and renders as a response; a decoded request
/// re-encodes as JSON that decodes to the same request.
pub fn api_request(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let target = parts.next().unwrap_or_default();
    let content_type = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(target) {
        headers.insert("x-amz-target", v);
    }
    if !content_type.is_empty() {
        if let Ok(v) = HeaderValue::from_bytes(content_type) {
            headers.insert("content-type", v);
        }
    }
    match stepwise_api::router::decode(&headers, body) {
        Err(e) => {
            assert!(
                DECODE_ERRORS.contains(&e.code()),
                "a request was refused with {}",
                e.code()
            );
            let _ = axum::response::IntoResponse::into_response(e);
        }
        Ok((action, input)) => {
            let encoded = input.to_string();
            match stepwise_api::router::decode(&headers, encoded.as_bytes()) {
                Ok((again, reread)) => {
                    assert!(again == action);
                    assert!(reread == input, "{encoded} decodes to {reread}");
                }
                Err(e) => panic!("{encoded}, re-encoded, is refused: {e:?}"),
            }
        }
    }
}

/// Error codes SigV4 verification may answer.
const AUTH_ERRORS: &[&str] = &[
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
];

/// The access key the `sigv4` target's server knows.
pub const SIGV4_ACCESS_KEY: &str = "AKIDEXAMPLE";
/// Its secret.
pub const SIGV4_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static SIGV4_KEYS: LazyLock<Keys> = LazyLock::new(|| {
    Keys::parse(
        &json!({"keys": [{"accessKeyId": SIGV4_ACCESS_KEY, "secretAccessKey": SIGV4_SECRET}]})
            .to_string(),
        "123456789012",
    )
    .unwrap_or_default()
});

/// SigV4 verification: the first line is the request's path and query (`/?X-Amz-Date=...`),
/// the lines up to an empty one its headers (`name: value`), the rest its body. The server
/// knows one key ([`SIGV4_ACCESS_KEY`]) and its clock reads the request's `X-Amz-Date` (from
/// the header or the query), so the fuzzer reaches the checks behind the clock-skew check. A
/// refusal is one of SigV4's errors.
pub fn sigv4(data: &[u8]) {
    if let Err(code) = sigv4_outcome(data) {
        assert!(
            AUTH_ERRORS.contains(&code.as_str()),
            "a signature was refused with {code}"
        );
    }
}

/// What the `sigv4` target's server answers the request in `data`: accepted, or the error code.
/// The same request (path `/`), signed by the SDKs' signer (aws-sigv4) with the target's key in
/// place of its own `Authorization`, must be accepted.
pub fn sigv4_outcome(data: &[u8]) -> Result<(), String> {
    let (request, now) = sigv4_request(data);
    let request = request.as_signed();
    if request.path == "/" && request.query.is_none() {
        signed_by_the_sdk_is_accepted(&request);
    }
    SIGV4_KEYS
        .authenticate(&request, now)
        .map(|_| ())
        .map_err(|e| e.code().to_owned())
}

/// A request read from a `sigv4` input.
struct Request {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Request {
    fn as_signed(&self) -> stepwise_api::auth::SignedRequest<'_> {
        stepwise_api::auth::SignedRequest {
            method: "POST",
            path: &self.path,
            query: self.query.as_deref(),
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// When the SDK signer signs the fuzz targets' requests.
const SIGNING_TIME: u64 = 1_704_067_200;

fn signed_by_the_sdk_is_accepted(request: &stepwise_api::auth::SignedRequest<'_>) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    // What the signer writes, and `host` (from the URL it is given).
    const SIGNERS: [&str; 5] = [
        "host",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ];
    let mut headers: Vec<(&str, &str)> = vec![("host", "localhost:8083")];
    for (name, value) in request.headers {
        if SIGNERS.contains(&name.as_str()) {
            continue;
        }
        let Ok(value) = value.to_str() else {
            return;
        };
        headers.push((name.as_str(), value));
    }
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(SIGNING_TIME);
    let identity =
        aws_credential_types::Credentials::new(SIGV4_ACCESS_KEY, SIGV4_SECRET, None, None, "fuzz")
            .into();
    let Ok(params) = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("states")
        .time(time)
        .settings(SigningSettings::default())
        .build()
    else {
        return;
    };
    let Ok(signable) = SignableRequest::new(
        "POST",
        "http://localhost:8083/",
        headers.iter().copied(),
        SignableBody::Bytes(request.body),
    ) else {
        return;
    };
    let Ok(signed) = sign(signable, &params.into()) else {
        return;
    };
    let (instructions, _) = signed.into_parts();
    let (added, _) = instructions.into_parts();
    let mut signed_headers = HeaderMap::new();
    for (name, value) in &headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            signed_headers.append(n, v);
        }
    }
    for h in added {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name().as_bytes()),
            HeaderValue::from_str(h.value()),
        ) {
            signed_headers.insert(n, v);
        }
    }
    let resigned = stepwise_api::auth::SignedRequest {
        headers: &signed_headers,
        ..*request
    };
    if let Err(e) = SIGV4_KEYS.authenticate(&resigned, time) {
        panic!(
            "a request the SDK signed was refused: {} {}; headers {:?}",
            e.code(),
            e.error.message,
            signed_headers
        );
    }
}

fn sigv4_request(data: &[u8]) -> (Request, std::time::SystemTime) {
    let text = text(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.split('\n');
    let target = lines.next().unwrap_or_default();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    let shown_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            query?.split('&').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == "X-Amz-Date").then(|| v.to_owned())
            })
        });
    let now = shown_date
        .and_then(|d| chrono::NaiveDateTime::parse_from_str(&d, "%Y%m%dT%H%M%SZ").ok())
        .map_or(std::time::UNIX_EPOCH, |t| t.and_utc().into());
    let request = Request {
        path: path.to_owned(),
        query: query.map(str::to_owned),
        headers,
        body: body.as_bytes().to_vec(),
    };
    (request, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_distinct_name() {
        let mut names: Vec<_> = TARGETS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TARGETS.len());
    }

    #[test]
    fn the_sigv4_targets_server_knows_its_key() {
        // Otherwise every request would stop at UnrecognizedClientException.
        assert_eq!(SIGV4_KEYS.len(), 1);
    }

    /// The seeds `fuzz/seeds.py` signs are accepted, so the fuzzer starts from requests that
    /// pass every check and mutates them from there.
    #[test]
    fn requests_signed_with_the_targets_key_are_accepted() {
        let header = "/\ncontent-type: application/x-amz-json-1.0\nhost: localhost:8083\nx-amz-date: 20240101T000000Z\nx-amz-target: AWSStepFunctions.ListStateMachines\nauthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/states/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=6b219220d419338aa9381863365e0c04ab1390ab504267e38d51f8b817edf362\n\n{}";
        assert_eq!(sigv4_outcome(header.as_bytes()), Ok(()));
        let presigned = "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fstates%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=cd42cdc960661e9e854e3fae5ff514603384bcfbb512d0a31597912b34386b62\nhost: localhost:8083\n\n{}";
        assert_eq!(sigv4_outcome(presigned.as_bytes()), Ok(()));
        // One character of the body changed: the signature no longer matches.
        let tampered = header.replace("\n\n{}", "\n\n{ }");
        assert_eq!(
            sigv4_outcome(tampered.as_bytes()),
            Err("InvalidSignatureException".to_owned())
        );
    }
}
