//! Tracing, for executions of a state machine whose `tracingConfiguration.enabled` is true:
//! OpenTelemetry spans for the execution, each state, each Map iteration and each task attempt
//! (a retry is an attempt of its own), built from the execution's committed history events and
//! sent to a collector over OTLP/HTTP in its JSON encoding; and the trace context a task's
//! HTTP or Lambda call carries (`traceparent`, `X-Amzn-Trace-Id`).
//!
//! Span ids are derived from the execution's ARN and the event that opened the span (a task
//! attempt's from its state's name and invocation number, which the driver knows when it makes
//! the call), so the header a call carries names the span the exporter sends, with no state
//! shared between the two. The trace id is the execution's X-Ray trace header's root (the
//! `traceHeader` StartExecution was given, or one the service made up).
//!
//! What is not kept across a restart: the spans open when the server stopped are not sent,
//! and events after the restart whose opening event came before it are placed under the
//! execution's span.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use stepwise_engine::EventType;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::task_metrics::{Step, classify};

/// An execution's trace: its id, and whether it is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    pub sampled: bool,
}

impl TraceContext {
    /// The context an X-Ray trace header names (`Root=1-5759e988-bd862e3fe1be46a994272793;
    /// Parent=…;Sampled=1`), else one derived from the execution's ARN (sampled).
    pub fn of(header: Option<&str>, execution_arn: &str) -> TraceContext {
        let mut root = None;
        let mut sampled = true;
        for part in header.unwrap_or_default().split(';') {
            match part.trim().split_once('=') {
                Some(("Root", value)) => root = xray_root(value),
                Some(("Sampled", value)) => sampled = value.trim() != "0",
                _ => {}
            }
        }
        let trace_id = root.unwrap_or_else(|| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&fnv(&[execution_arn, "trace"]).to_be_bytes());
            id[8..].copy_from_slice(&fnv(&[execution_arn, "trace", "low"]).to_be_bytes());
            id
        });
        TraceContext { trace_id, sampled }
    }

    /// The X-Ray trace header of a call made under the span `parent`.
    pub fn xray_header(&self, parent: [u8; 8]) -> String {
        let id = hex(&self.trace_id);
        format!(
            "Root=1-{}-{};Parent={};Sampled={}",
            &id[..8],
            &id[8..],
            hex(&parent),
            u8::from(self.sampled)
        )
    }

    /// The W3C `traceparent` of a call made under the span `parent`.
    pub fn traceparent(&self, parent: [u8; 8]) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id),
            hex(&parent),
            u8::from(self.sampled)
        )
    }

    /// The headers a task's call carries.
    pub fn headers(&self, parent: [u8; 8]) -> Vec<(String, String)> {
        vec![
            ("traceparent".to_owned(), self.traceparent(parent)),
            ("X-Amzn-Trace-Id".to_owned(), self.xray_header(parent)),
        ]
    }

    /// A made-up X-Ray trace header for an execution started with none: the first 8 hex
    /// digits are the start time in seconds, as X-Ray's are.
    pub fn new_header(start_ms: i64, random: u64) -> String {
        let low = fnv(&[&random.to_string(), "root"]);
        format!(
            "Root=1-{:08x}-{:08x}{:016x};Sampled=1",
            (start_ms / 1000) as u32,
            (random >> 32) as u32,
            low
        )
    }
}

/// `1-5759e988-bd862e3fe1be46a994272793` as 16 bytes.
fn xray_root(value: &str) -> Option<[u8; 16]> {
    let mut parts = value.trim().split('-');
    if parts.next()? != "1" {
        return None;
    }
    let digits: String = parts.collect();
    parse_hex(&digits)
}

fn parse_hex<const N: usize>(digits: &str) -> Option<[u8; N]> {
    if digits.len() != 2 * N || !digits.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).ok()?;
    }
    (out != [0u8; N]).then_some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// FNV-1a over the parts (each followed by a zero byte).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// A span id derived from the execution and what the span is (never zero).
fn span_id(execution_arn: &str, what: &str) -> [u8; 8] {
    let h = fnv(&[execution_arn, what]).max(1);
    h.to_be_bytes()
}

/// The span of one attempt of a Task state: the `invocation`-th time (from 0) the state named
/// `state` made its call in the execution, retries included.
pub fn task_span(execution_arn: &str, state: &str, invocation: u64) -> [u8; 8] {
    span_id(execution_arn, &format!("task/{state}/{invocation}"))
}

/// A finished span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub name: String,
    pub kind: SpanKind,
    pub start_ns: u64,
    pub end_ns: u64,
    pub attributes: Vec<(&'static str, String)>,
    /// Failed: the error and its cause.
    pub error: Option<String>,
}

/// What a span stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Execution,
    State,
    Iteration,
    /// One attempt of a task's call.
    Task,
}

impl SpanKind {
    /// OTLP's `SpanKind`: a task's call is a client's, the rest internal.
    fn otlp(self) -> u8 {
        match self {
            SpanKind::Task => 3,
            _ => 1,
        }
    }
}

/// Where an event stands: the innermost open container (the execution, a Parallel or Map
/// state, a Map iteration), state and task attempt.
#[derive(Debug, Clone, Copy)]
struct Place {
    scope: [u8; 8],
    state: Option<[u8; 8]>,
    task: Option<[u8; 8]>,
}

/// The spans of one execution, built event by event.
#[derive(Debug)]
pub struct ExecutionTrace {
    arn: String,
    context: TraceContext,
    root: [u8; 8],
    places: HashMap<u64, Place>,
    open: HashMap<[u8; 8], Span>,
    /// Calls made so far by each Task state (its invocation numbers).
    invocations: HashMap<String, u64>,
}

impl ExecutionTrace {
    pub fn new(execution_arn: &str, context: TraceContext) -> ExecutionTrace {
        let root = span_id(execution_arn, "execution/0");
        ExecutionTrace {
            arn: execution_arn.to_owned(),
            context,
            root,
            places: HashMap::new(),
            open: HashMap::new(),
            invocations: HashMap::new(),
        }
    }

    /// Takes the next history event (GetExecutionHistory's JSON); returns the spans it ended.
    pub fn event(&mut self, event: &Value) -> Vec<Span> {
        let (Some(kind), Some(id)) = (
            event.get("type").and_then(Value::as_str),
            event.get("id").and_then(Value::as_u64),
        ) else {
            return Vec::new();
        };
        let at_ns = event
            .get("timestamp")
            .and_then(Value::as_f64)
            .map_or(0, |s| (s * 1e9).max(0.0) as u64);
        let previous = event.get("previousEventId").and_then(Value::as_u64);
        let mut place = previous
            .and_then(|p| self.places.get(&p).copied())
            .unwrap_or(Place {
                scope: self.root,
                state: None,
                task: None,
            });
        let t = EventType::from_name(kind);
        let details = t.and_then(|t| event.get(t.details_key()?));
        let step = t.and_then(classify).map(|(_, step)| step);
        let mut ended = Vec::new();
        match kind {
            "ExecutionStarted" | "ExecutionRedriven" => {
                if kind == "ExecutionRedriven" {
                    let count = details
                        .and_then(|d| d.get("redriveCount"))
                        .and_then(Value::as_u64)
                        .unwrap_or(1);
                    self.root = span_id(&self.arn, &format!("execution/{count}"));
                }
                let machine = self.arn.split(':').nth(6).unwrap_or("execution").to_owned();
                let mut attributes = vec![("aws.step_functions.execution_arn", self.arn.clone())];
                if kind == "ExecutionRedriven" {
                    attributes.push(("aws.step_functions.redriven", "true".to_owned()));
                }
                self.start(
                    self.root,
                    None,
                    machine,
                    SpanKind::Execution,
                    at_ns,
                    attributes,
                );
                place = Place {
                    scope: self.root,
                    state: None,
                    task: None,
                };
            }
            "ExecutionSucceeded" | "ExecutionFailed" | "ExecutionTimedOut" | "ExecutionAborted" => {
                let error = (kind != "ExecutionSucceeded").then(|| error_of(kind, details));
                // What is still open ends with the execution.
                let open: Vec<[u8; 8]> = self
                    .open
                    .keys()
                    .copied()
                    .filter(|s| *s != self.root)
                    .collect();
                for span in open {
                    ended.extend(self.end(span, at_ns, None));
                }
                ended.extend(self.end(self.root, at_ns, error));
                self.places.clear();
                return ended;
            }
            k if k.ends_with("StateEntered") => {
                let state_type = &k[..k.len() - "StateEntered".len()];
                let name = details
                    .and_then(|d| d.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or(state_type)
                    .to_owned();
                let span = span_id(&self.arn, &format!("event/{id}"));
                let attributes = vec![
                    ("aws.step_functions.state.name", name.clone()),
                    ("aws.step_functions.state.type", state_type.to_owned()),
                ];
                self.start(
                    span,
                    Some(place.scope),
                    name,
                    SpanKind::State,
                    at_ns,
                    attributes,
                );
                place.state = Some(span);
                place.task = None;
                if matches!(state_type, "Parallel" | "Map") {
                    place.scope = span;
                }
            }
            k if k.ends_with("StateExited") => {
                let name = details.and_then(|d| d.get("name")).and_then(Value::as_str);
                // The state that ends: the one the event follows, else the innermost open
                // container of that name (a Parallel or Map ends after its branches' events).
                let mut found = place.state.filter(|s| {
                    self.open
                        .get(s)
                        .is_some_and(|o| Some(o.name.as_str()) == name)
                });
                let mut scope = Some(place.scope);
                while found.is_none() {
                    let Some(s) = scope else { break };
                    let Some(open) = self.open.get(&s) else { break };
                    if open.kind == SpanKind::State && Some(open.name.as_str()) == name {
                        found = Some(s);
                    }
                    scope = open.parent;
                }
                if let Some(span) = found {
                    let parent = self.open.get(&span).and_then(|o| o.parent);
                    if place.scope == span {
                        place.scope = parent.unwrap_or(self.root);
                    }
                    ended.extend(self.end(span, at_ns, None));
                }
                place.state = None;
                place.task = None;
            }
            "MapIterationStarted" => {
                let index = details
                    .and_then(|d| d.get("index"))
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let span = span_id(&self.arn, &format!("event/{id}"));
                self.start(
                    span,
                    Some(place.scope),
                    format!("Iteration {index}"),
                    SpanKind::Iteration,
                    at_ns,
                    vec![("aws.step_functions.map.iteration", index.to_string())],
                );
                place.scope = span;
                place.state = None;
            }
            "MapIterationSucceeded" | "MapIterationFailed" | "MapIterationAborted" => {
                let mut scope = Some(place.scope);
                while let Some(s) = scope {
                    let Some(open) = self.open.get(&s) else { break };
                    if open.kind == SpanKind::Iteration {
                        let parent = open.parent;
                        let error =
                            (kind != "MapIterationSucceeded").then(|| error_of(kind, details));
                        ended.extend(self.end(s, at_ns, error));
                        place.scope = parent.unwrap_or(self.root);
                        break;
                    }
                    scope = open.parent;
                }
                place.state = None;
            }
            k if step == Some(Step::Scheduled) => {
                let state = place
                    .state
                    .and_then(|s| self.open.get(&s))
                    .map(|o| o.name.clone());
                if let Some(state) = state {
                    let n = self.invocations.entry(state.clone()).or_insert(0);
                    let invocation = *n;
                    *n += 1;
                    let span = task_span(&self.arn, &state, invocation);
                    let resource = details
                        .and_then(|d| d.get("resource"))
                        .and_then(Value::as_str)
                        .unwrap_or(k)
                        .to_owned();
                    let mut attributes = vec![
                        ("aws.step_functions.state.name", state.clone()),
                        ("aws.step_functions.attempt", (invocation + 1).to_string()),
                    ];
                    if let Some(t) = details
                        .and_then(|d| d.get("resourceType"))
                        .and_then(Value::as_str)
                    {
                        attributes.push(("aws.step_functions.resource_type", t.to_owned()));
                    }
                    attributes.push(("aws.step_functions.resource", resource.clone()));
                    self.start(
                        span,
                        place.state,
                        resource,
                        SpanKind::Task,
                        at_ns,
                        attributes,
                    );
                    place.task = Some(span);
                }
            }
            k if matches!(step, Some(Step::Succeeded | Step::Failed | Step::TimedOut)) => {
                if let Some(task) = place.task.take() {
                    let failed = step != Some(Step::Succeeded);
                    ended.extend(self.end(task, at_ns, failed.then(|| error_of(k, details))));
                }
            }
            _ => {}
        }
        self.places.insert(id, place);
        ended
    }

    fn start(
        &mut self,
        span: [u8; 8],
        parent: Option<[u8; 8]>,
        name: String,
        kind: SpanKind,
        at_ns: u64,
        attributes: Vec<(&'static str, String)>,
    ) {
        self.open.insert(
            span,
            Span {
                trace_id: self.context.trace_id,
                span_id: span,
                parent,
                name,
                kind,
                start_ns: at_ns,
                end_ns: at_ns,
                attributes,
                error: None,
            },
        );
    }

    fn end(&mut self, span: [u8; 8], at_ns: u64, error: Option<String>) -> Option<Span> {
        let mut s = self.open.remove(&span)?;
        s.end_ns = at_ns.max(s.start_ns);
        s.error = error;
        Some(s)
    }
}

/// "error: cause" of a failure event (its type when it names none).
fn error_of(kind: &str, details: Option<&Value>) -> String {
    let get = |k: &str| details.and_then(|d| d.get(k)).and_then(Value::as_str);
    match (get("error"), get("cause")) {
        (Some(e), Some(c)) => format!("{e}: {c}"),
        (Some(e), None) => e.to_owned(),
        (None, Some(c)) => c.to_owned(),
        (None, None) => kind.to_owned(),
    }
}

/// Where spans go: OTLP over HTTP in its JSON encoding, from the standard `OTEL_*` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSettings {
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`,
    /// else `http://localhost:4318/v1/traces`.
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, else `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k=v`).
    pub headers: Vec<(String, String)>,
    /// `OTEL_SERVICE_NAME`, else `stepwise`.
    pub service_name: String,
}

impl ExportSettings {
    /// From the environment; `None` when `OTEL_TRACES_EXPORTER` is `none`.
    pub fn from_env() -> Option<ExportSettings> {
        ExportSettings::from_vars(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<ExportSettings> {
        if var("OTEL_TRACES_EXPORTER").is_some_and(|e| e.trim() == "none") {
            return None;
        }
        for name in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(p) = var(name).filter(|p| p.trim() != "http/json") {
                tracing::warn!(
                    "{name}={p}: Stepwise sends traces as OTLP/HTTP with JSON only (http/json)"
                );
            }
        }
        let endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").unwrap_or_else(|| {
            let base = var("OTEL_EXPORTER_OTLP_ENDPOINT")
                .unwrap_or_else(|| "http://localhost:4318".to_owned());
            format!("{}/v1/traces", base.trim_end_matches('/'))
        });
        let headers = var("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            .or_else(|| var("OTEL_EXPORTER_OTLP_HEADERS"))
            .map(|h| {
                h.split(',')
                    .filter_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        // Values may be percent-encoded (`Bearer%20x`).
                        let v = percent_encoding::percent_decode_str(v.trim())
                            .decode_utf8_lossy()
                            .into_owned();
                        Some((k.trim().to_owned(), v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(ExportSettings {
            endpoint,
            headers,
            service_name: var("OTEL_SERVICE_NAME").unwrap_or_else(|| "stepwise".to_owned()),
        })
    }
}

/// The OTLP/JSON `ExportTraceServiceRequest` of some spans.
pub fn otlp_json(spans: &[Span], service_name: &str) -> Value {
    let spans: Vec<Value> = spans
        .iter()
        .map(|s| {
            let mut span = json!({
                "traceId": hex(&s.trace_id),
                "spanId": hex(&s.span_id),
                "name": s.name,
                "kind": s.kind.otlp(),
                "startTimeUnixNano": s.start_ns.to_string(),
                "endTimeUnixNano": s.end_ns.to_string(),
                "attributes": s.attributes.iter().map(|(k, v)| json!({
                    "key": k, "value": {"stringValue": v}
                })).collect::<Vec<_>>(),
                "status": match &s.error {
                    Some(message) => json!({"code": 2, "message": message}),
                    None => json!({"code": 1}),
                },
            });
            if let Some(parent) = s.parent {
                span["parentSpanId"] = json!(hex(&parent));
            }
            span
        })
        .collect();
    json!({"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": service_name}}
        ]},
        "scopeSpans": [{
            "scope": {"name": "stepwise", "version": env!("CARGO_PKG_VERSION")},
            "spans": spans,
        }],
    }]})
}

/// Sends spans to the collector: batched (up to 512, or what came within a second), each
/// batch one POST; a batch the collector refuses or that cannot be sent is dropped with a
/// warning (spans are not worth holding up executions for).
#[derive(Debug, Clone)]
pub struct Exporter {
    tx: UnboundedSender<Msg>,
}

enum Msg {
    Span(Span),
    Flush(tokio::sync::oneshot::Sender<()>),
}

impl Exporter {
    /// Starts the sending task on the current async runtime.
    pub fn start(settings: ExportSettings) -> Option<Exporter> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
        {
            Ok(client) => client,
            Err(e) => {
                tracing::warn!(error = %e, "no HTTP client for the trace collector: spans are not sent");
                return None;
            }
        };
        let (tx, rx) = unbounded_channel();
        handle.spawn(send_loop(client, settings, rx));
        Some(Exporter { tx })
    }

    pub fn send(&self, spans: Vec<Span>) {
        for span in spans {
            let _ = self.tx.send(Msg::Span(span));
        }
    }

    /// Waits until every span handed over so far was sent (or given up).
    pub async fn flush(&self) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

const BATCH: usize = 512;

async fn send_loop(
    client: reqwest::Client,
    settings: ExportSettings,
    mut rx: UnboundedReceiver<Msg>,
) {
    let mut sender = Sender {
        client,
        settings,
        warned: false,
    };
    let mut batch = Vec::new();
    // When the batch being gathered goes, full or not.
    let mut due: Option<tokio::time::Instant> = None;
    loop {
        let msg = match due {
            None => rx.recv().await,
            Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(msg) => msg,
                Err(_) => {
                    sender.send(&mut batch).await;
                    due = None;
                    continue;
                }
            },
        };
        match msg {
            None => {
                sender.send(&mut batch).await;
                return;
            }
            Some(Msg::Span(span)) => {
                batch.push(span);
                due.get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_secs(1));
                if batch.len() >= BATCH {
                    sender.send(&mut batch).await;
                    due = None;
                }
            }
            Some(Msg::Flush(ack)) => {
                sender.send(&mut batch).await;
                due = None;
                let _ = ack.send(());
            }
        }
    }
}

struct Sender {
    client: reqwest::Client,
    settings: ExportSettings,
    /// Said once until a batch gets through.
    warned: bool,
}

impl Sender {
    async fn send(&mut self, batch: &mut Vec<Span>) {
        if batch.is_empty() {
            return;
        }
        let body = otlp_json(batch, &self.settings.service_name).to_string();
        let mut request = self
            .client
            .post(&self.settings.endpoint)
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in &self.settings.headers {
            request = request.header(k, v);
        }
        let endpoint = &self.settings.endpoint;
        match request.send().await {
            Ok(r) if r.status().is_success() => self.warned = false,
            Ok(r) if !self.warned => {
                self.warned = true;
                tracing::warn!(%endpoint, status = %r.status(), spans = batch.len(), "the trace collector refused spans");
            }
            Err(e) if !self.warned => {
                self.warned = true;
                tracing::warn!(%endpoint, error = %e, spans = batch.len(), "could not send spans to the trace collector");
            }
            _ => {}
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:orders:run-1";

    #[test]
    fn the_trace_id_comes_from_the_xray_header_else_from_the_arn() {
        let c = TraceContext::of(
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
            ARN,
        );
        assert_eq!(hex(&c.trace_id), "5759e988bd862e3fe1be46a994272793");
        assert!(c.sampled);
        let parent = [0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8];
        assert_eq!(
            c.traceparent(parent),
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"
        );
        assert_eq!(
            c.xray_header(parent),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        );
        let unsampled = TraceContext::of(
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"),
            ARN,
        );
        assert!(unsampled.traceparent(parent).ends_with("-00"));
        let derived = TraceContext::of(None, ARN);
        assert_eq!(derived, TraceContext::of(Some("junk"), ARN));
        assert_ne!(derived.trace_id, [0; 16]);
        assert_ne!(derived, TraceContext::of(None, &format!("{ARN}x")));
        // A made-up header is one X-Ray reads.
        let made = TraceContext::new_header(1_700_000_000_123, 42);
        let again = TraceContext::of(Some(&made), ARN);
        assert!(made.starts_with("Root=1-6553f100-"), "{made}");
        assert_eq!(hex(&again.trace_id)[..8], *"6553f100");
    }

    #[test]
    fn export_settings_follow_the_otel_variables() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let default = ExportSettings::from_vars(vars(&[])).expect("on");
        assert_eq!(default.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(default.service_name, "stepwise");
        let base = ExportSettings::from_vars(vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=abc, authorization=Bearer%20x, x=%aé",
            ),
            ("OTEL_SERVICE_NAME", "orders"),
        ]))
        .expect("on");
        assert_eq!(base.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(
            base.headers,
            [
                ("api-key".to_owned(), "abc".to_owned()),
                ("authorization".to_owned(), "Bearer x".to_owned()),
                ("x".to_owned(), "%aé".to_owned())
            ]
        );
        assert_eq!(base.service_name, "orders");
        let traces = ExportSettings::from_vars(vars(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://other:9999/traces",
            ),
        ]))
        .expect("on");
        assert_eq!(traces.endpoint, "http://other:9999/traces");
        assert_eq!(
            ExportSettings::from_vars(vars(&[("OTEL_TRACES_EXPORTER", "none")])),
            None
        );
    }

    fn event(id: u64, previous: u64, kind: &str, at: f64, details: Value) -> Value {
        let mut e = json!({"id": id, "previousEventId": previous, "type": kind, "timestamp": at});
        if let Some(key) = stepwise_engine::EventType::from_name(kind).and_then(|t| t.details_key())
        {
            e[key] = details;
        }
        e
    }

    /// A Parallel of a Task that fails once and is retried, and a Pass; then the execution
    /// succeeds.
    fn history() -> Vec<Value> {
        let name = |n: &str| json!({"name": n});
        vec![
            event(1, 0, "ExecutionStarted", 1.0, json!({})),
            event(2, 1, "ParallelStateEntered", 1.1, name("Both")),
            event(3, 2, "ParallelStateStarted", 1.1, json!({})),
            event(4, 3, "TaskStateEntered", 1.2, name("Call")),
            event(5, 3, "PassStateEntered", 1.2, name("Note")),
            event(6, 5, "PassStateExited", 1.25, name("Note")),
            event(
                7,
                4,
                "TaskScheduled",
                1.3,
                json!({"resource": "invoke", "resourceType": "http"}),
            ),
            event(8, 7, "TaskStarted", 1.3, json!({})),
            event(
                9,
                8,
                "TaskFailed",
                1.4,
                json!({"error": "States.Http.StatusCode.500", "cause": "boom"}),
            ),
            event(
                10,
                9,
                "TaskScheduled",
                1.5,
                json!({"resource": "invoke", "resourceType": "http"}),
            ),
            event(11, 10, "TaskStarted", 1.5, json!({})),
            event(12, 11, "TaskSucceeded", 1.6, json!({})),
            event(13, 12, "TaskStateExited", 1.7, name("Call")),
            event(14, 13, "ParallelStateSucceeded", 1.8, json!({})),
            event(15, 14, "ParallelStateExited", 1.8, name("Both")),
            event(16, 15, "ExecutionSucceeded", 1.9, json!({})),
        ]
    }

    #[test]
    fn spans_nest_as_the_states_do_and_each_attempt_is_a_span() {
        let context = TraceContext::of(None, ARN);
        let mut trace = ExecutionTrace::new(ARN, context);
        let mut spans = Vec::new();
        for e in history() {
            spans.extend(trace.event(&e));
        }
        let by_name =
            |name: &str| -> Vec<&Span> { spans.iter().filter(|s| s.name == name).collect() };
        let root = by_name("orders");
        assert_eq!(root.len(), 1);
        assert_eq!(root[0].parent, None);
        assert_eq!(
            (root[0].start_ns, root[0].end_ns),
            (1_000_000_000, 1_900_000_000)
        );
        let both = by_name("Both");
        assert_eq!(both[0].parent, Some(root[0].span_id));
        assert_eq!(both[0].end_ns, 1_800_000_000);
        for branch_state in ["Call", "Note"] {
            assert_eq!(
                by_name(branch_state)[0].parent,
                Some(both[0].span_id),
                "{branch_state}"
            );
        }
        let attempts = by_name("invoke");
        assert_eq!(attempts.len(), 2, "a retry is an attempt of its own");
        let call = by_name("Call")[0].span_id;
        assert!(
            attempts
                .iter()
                .all(|a| a.parent == Some(call) && a.kind == SpanKind::Task)
        );
        assert_eq!(
            attempts[0].error.as_deref(),
            Some("States.Http.StatusCode.500: boom")
        );
        assert_eq!(attempts[1].error, None);
        // The ids a call's headers carry are those of its attempt's span.
        assert_eq!(attempts[0].span_id, task_span(ARN, "Call", 0));
        assert_eq!(attempts[1].span_id, task_span(ARN, "Call", 1));
        assert!(spans.iter().all(|s| s.trace_id == context.trace_id));
        assert_eq!(spans.len(), 6);

        let body = otlp_json(&spans, "stepwise");
        let sent = &body["resourceSpans"][0]["scopeSpans"][0]["spans"];
        assert_eq!(sent.as_array().map(Vec::len), Some(6));
        let failed = sent
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["status"]["code"] == 2)
            .expect("the failed attempt");
        assert_eq!(failed["kind"], 3);
        assert_eq!(failed["parentSpanId"], json!(hex(&call)));
        assert_eq!(failed["traceId"].as_str().map(str::len), Some(32));
    }

    #[test]
    fn map_iterations_are_spans_and_an_abort_ends_what_is_open() {
        let mut trace = ExecutionTrace::new(ARN, TraceContext::of(None, ARN));
        let name = |n: &str| json!({"name": n});
        let history = [
            event(1, 0, "ExecutionStarted", 1.0, json!({})),
            event(2, 1, "MapStateEntered", 1.0, name("Each")),
            event(3, 2, "MapStateStarted", 1.0, json!({"length": 2})),
            event(
                4,
                3,
                "MapIterationStarted",
                1.1,
                json!({"name": "Each", "index": 0}),
            ),
            event(5, 4, "PassStateEntered", 1.1, name("Inner")),
            event(6, 5, "PassStateExited", 1.2, name("Inner")),
            event(
                7,
                6,
                "MapIterationSucceeded",
                1.2,
                json!({"name": "Each", "index": 0}),
            ),
            event(
                8,
                3,
                "MapIterationStarted",
                1.3,
                json!({"name": "Each", "index": 1}),
            ),
            event(9, 8, "WaitStateEntered", 1.3, name("Hold")),
            event(
                10,
                9,
                "ExecutionAborted",
                2.0,
                json!({"error": "Stop", "cause": "enough"}),
            ),
        ];
        let mut spans = Vec::new();
        for e in &history {
            spans.extend(trace.event(e));
        }
        let find = |name: &str| spans.iter().find(|s| s.name == name).expect(name);
        let each = find("Each");
        let first = find("Iteration 0");
        assert_eq!(first.parent, Some(each.span_id));
        assert_eq!(find("Inner").parent, Some(first.span_id));
        let second = find("Iteration 1");
        assert_eq!(second.parent, Some(each.span_id));
        assert_eq!(find("Hold").parent, Some(second.span_id));
        assert_eq!(find("Hold").end_ns, 2_000_000_000, "ended by the abort");
        assert_eq!(find("orders").error.as_deref(), Some("Stop: enough"));
        assert_eq!(spans.len(), 6);
    }
}
