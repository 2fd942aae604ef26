//! The console's JSON endpoints: each reads its query or body, calls the typed service, and
//! answers with the service's own types (as the API would write them) plus what the page
//! draws: the graph as SVG (the layout `stepwise graph` writes) and each state's status.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use stepwise_graph::Focus;
use stepwise_graph::render::{SvgOptions, svg};
use stepwise_graph::status::{statuses_of_json, statuses_of_json_in};
use stepwise_graph::{Graph, graph_of, layout};
use stepwise_service::types::{
    DescribeExecutionInput, DescribeMapRunInput, DescribeStateMachineAliasInput,
    DescribeStateMachineForExecutionInput, DescribeStateMachineInput, ExecutionStatus,
    GetExecutionHistoryInput, ListExecutionsInput, ListStateMachineAliasesInput,
    ListStateMachineVersionsInput, ListStateMachinesInput, RedriveExecutionInput,
    StartExecutionInput, StopExecutionInput, UpdateStateMachineInput,
    ValidateStateMachineDefinitionInput,
};
use stepwise_service::{ErrorClass, ExecutionSearch, Service, ServiceError};

use crate::session::{Access, Caller};

/// What the handlers share: the service, and the history of the last finished execution
/// replayed (a finished execution's history changes only when it is redriven).
#[derive(Debug)]
pub struct Console {
    pub service: Arc<Service>,
    /// Who may call: the sign-in and each key's policy.
    pub access: Access,
    replayed: Mutex<Option<(String, Arc<Vec<Value>>)>>,
}

impl Console {
    pub fn new(service: Arc<Service>, access: Access) -> Console {
        Console {
            service,
            access,
            replayed: Mutex::new(None),
        }
    }

    /// The API's policy check of `action` on `resource` for the caller (AccessDeniedException).
    fn allow(&self, caller: &Caller, action: &str, resource: &str) -> Result<(), Failure> {
        self.access.allow(caller, action, resource).map_err(Failure)
    }
}

type Shared = State<Arc<Console>>;

/// A service error as the page reads it: `{"error": code, "message": …}` with the status the
/// API would give it.
#[derive(Debug)]
pub struct Failure(ServiceError);

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Failure {
        Failure(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = match self.0.class {
            ErrorClass::Client => StatusCode::BAD_REQUEST,
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(json!({"error": self.0.code, "message": self.0.message})),
        )
            .into_response()
    }
}

type Answer = Result<Json<Value>, Failure>;

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The graph of a definition, its SVG (coloured by `statuses`) and its states' types.
fn drawing(definition: &str, statuses: Option<&stepwise_graph::Statuses>) -> Value {
    match graph_of(definition) {
        Ok(graph) => drawn(&graph, statuses),
        Err(report) => {
            json!({"error": report.diagnostics.iter().map(|d| d.message.clone()).collect::<Vec<_>>()})
        }
    }
}

fn drawn(graph: &Graph, statuses: Option<&stepwise_graph::Statuses>) -> Value {
    let laid = layout(graph);
    let states: Vec<Value> = graph
        .nodes
        .iter()
        .filter_map(|n| {
            n.state
                .as_ref()
                .map(|s| json!({"name": s, "type": n.state_type}))
        })
        .collect();
    json!({
        "svg": svg(graph, &laid, statuses, SvgOptions { embedded: true }),
        "states": states,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQuery {
    next_token: Option<String>,
}

/// The state machines, with how many versions and aliases each has.
pub async fn state_machines(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Answer {
    let svc = &console.service;
    console.allow(&caller, "ListStateMachines", "*")?;
    let mut input = ListStateMachinesInput::new().max_results(100);
    if let Some(t) = q.next_token {
        input = input.next_token(t);
    }
    let page = svc.list_state_machines(input).await?;
    let mut machines = Vec::new();
    for m in &page.state_machines {
        console.allow(&caller, "ListStateMachineVersions", &m.state_machine_arn)?;
        console.allow(&caller, "ListStateMachineAliases", &m.state_machine_arn)?;
        let versions = svc
            .list_state_machine_versions(
                ListStateMachineVersionsInput::new(&m.state_machine_arn).max_results(1000),
            )
            .await?;
        let aliases = svc
            .list_state_machine_aliases(
                ListStateMachineAliasesInput::new(&m.state_machine_arn).max_results(100),
            )
            .await?;
        let mut item = to_json(m);
        item["versions"] = json!(versions.state_machine_versions.len());
        item["aliases"] = json!(aliases.state_machine_aliases.len());
        machines.push(item);
    }
    Ok(Json(
        json!({"stateMachines": machines, "nextToken": page.next_token}),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ArnQuery {
    arn: String,
}

/// One state machine: its description, graph, versions, and aliases with their routing.
pub async fn state_machine(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<ArnQuery>,
) -> Answer {
    let svc = &console.service;
    for action in [
        "DescribeStateMachine",
        "ListStateMachineVersions",
        "ListStateMachineAliases",
    ] {
        console.allow(&caller, action, &q.arn)?;
    }
    let machine = svc
        .describe_state_machine(DescribeStateMachineInput::new(&q.arn))
        .await?;
    let versions = svc
        .list_state_machine_versions(ListStateMachineVersionsInput::new(&q.arn).max_results(1000))
        .await?;
    let aliases = svc
        .list_state_machine_aliases(ListStateMachineAliasesInput::new(&q.arn).max_results(100))
        .await?;
    let mut described = Vec::new();
    for a in &aliases.state_machine_aliases {
        console.allow(
            &caller,
            "DescribeStateMachineAlias",
            &a.state_machine_alias_arn,
        )?;
        let alias = svc
            .describe_state_machine_alias(DescribeStateMachineAliasInput::new(
                &a.state_machine_alias_arn,
            ))
            .await?;
        described.push(to_json(&alias));
    }
    Ok(Json(json!({
        "stateMachine": to_json(&machine),
        "graph": drawing(&machine.definition, None),
        "versions": to_json(&versions.state_machine_versions),
        "aliases": described,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionsQuery {
    state_machine_arn: Option<String>,
    status: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    /// Names starting with this.
    name_prefix: Option<String>,
    /// Started at or after this (ms since the epoch).
    started_from: Option<i64>,
    /// Started before this (ms since the epoch).
    started_before: Option<i64>,
}

/// One page of a state machine's executions, newest first, by status, name prefix and
/// start-time range (ListExecutions' keyset paging on the start time, so a page costs the same
/// however deep it is).
pub async fn executions(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<ExecutionsQuery>,
) -> Answer {
    let svc = &console.service;
    let resource = q.state_machine_arn.as_deref().filter(|a| !a.is_empty());
    console.allow(&caller, "ListExecutions", resource.unwrap_or("*"))?;
    let mut input = ListExecutionsInput::new().max_results(q.max_results.unwrap_or(50));
    if let Some(arn) = q.state_machine_arn.filter(|a| !a.is_empty()) {
        input = input.state_machine_arn(arn);
    }
    if let Some(status) = q.status.filter(|s| !s.is_empty()) {
        input = input.status_filter(status_of(&status)?);
    }
    if let Some(t) = q.next_token.filter(|t| !t.is_empty()) {
        input = input.next_token(t);
    }
    // The console's own filters: ListExecutions has none of them, so they go through the
    // service's console-only listing (the same keyset paging, the same checks).
    let search = ExecutionSearch {
        name_prefix: q.name_prefix.filter(|p| !p.is_empty()),
        started_from_ms: q.started_from,
        started_before_ms: q.started_before,
    };
    let page = svc.list_executions_matching(input, &search).await?;
    Ok(Json(to_json(&page)))
}

/// Every event of an execution's history, in GetExecutionHistory's JSON shape.
async fn history(svc: &Service, arn: &str) -> Result<Vec<Value>, ServiceError> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = GetExecutionHistoryInput::new(arn).max_results(1000);
        if let Some(t) = token.take() {
            input = input.next_token(t);
        }
        let page = svc.get_execution_history(input).await?;
        events.extend(page.events.iter().map(to_json));
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(events),
        }
    }
}

/// The events after `after` (by id), read newest first until it is reached.
async fn events_after(svc: &Service, arn: &str, after: u64) -> Result<Vec<Value>, ServiceError> {
    let mut newer = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = GetExecutionHistoryInput::new(arn)
            .max_results(100)
            .reverse_order(true);
        if let Some(t) = token.take() {
            input = input.next_token(t);
        }
        let page = svc.get_execution_history(input).await?;
        let mut reached = false;
        for e in &page.events {
            if e.id as u64 <= after {
                reached = true;
                break;
            }
            newer.push(to_json(e));
        }
        match page.next_token {
            Some(t) if !reached => token = Some(t),
            _ => break,
        }
    }
    newer.reverse();
    Ok(newer)
}

/// One execution: its description, definition, graph coloured by status, states and history.
pub async fn execution(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<ArnQuery>,
) -> Answer {
    let svc = &console.service;
    for action in [
        "DescribeExecution",
        "DescribeStateMachineForExecution",
        "GetExecutionHistory",
    ] {
        console.allow(&caller, action, &q.arn)?;
    }
    let described = svc
        .describe_execution(DescribeExecutionInput::new(&q.arn))
        .await?;
    let machine = svc
        .describe_state_machine_for_execution(DescribeStateMachineForExecutionInput::new(&q.arn))
        .await?;
    let events = history(svc, &q.arn).await?;
    let statuses = statuses_of_json(&events);
    let map_runs = map_runs_of(&console, &caller, &events).await?;
    Ok(Json(json!({
        "execution": to_json(&described),
        "definition": machine.definition,
        "graph": drawing(&machine.definition, Some(&statuses)),
        "statuses": to_json(&statuses),
        "events": events,
        "mapRuns": map_runs,
    })))
}

/// The Map Runs an execution's Distributed Map states started (from its `MapRunStarted`
/// events, oldest first), each described: its status and its items' and child executions'
/// counts. None when the key may not describe Map Runs.
async fn map_runs_of(
    console: &Console,
    caller: &Caller,
    events: &[Value],
) -> Result<Vec<Value>, ServiceError> {
    let started = events
        .iter()
        .filter(|e| e["type"] == "MapRunStarted")
        .filter_map(|e| e["mapRunStartedEventDetails"]["mapRunArn"].as_str());
    let mut runs = Vec::new();
    for arn in started {
        if console.allow(caller, "DescribeMapRun", arn).is_err() {
            return Ok(Vec::new());
        }
        let run = console
            .service
            .describe_map_run(DescribeMapRunInput::new(arn))
            .await?;
        runs.push(to_json(&run));
    }
    Ok(runs)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MapRunQuery {
    arn: String,
    status: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

/// A Map Run: its description (status, counts, the execution that started it) and a page of
/// its child executions, by status.
pub async fn map_run(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<MapRunQuery>,
) -> Answer {
    let svc = &console.service;
    for action in ["DescribeMapRun", "ListExecutions"] {
        console.allow(&caller, action, &q.arn)?;
    }
    let run = svc
        .describe_map_run(DescribeMapRunInput::new(&q.arn))
        .await?;
    let mut input = ListExecutionsInput::new()
        .map_run_arn(&q.arn)
        .max_results(q.max_results.unwrap_or(50));
    if let Some(status) = q.status.filter(|s| !s.is_empty()) {
        input = input.status_filter(status_of(&status)?);
    }
    if let Some(t) = q.next_token.filter(|t| !t.is_empty()) {
        input = input.next_token(t);
    }
    let children = svc.list_executions(input).await?;
    Ok(Json(json!({
        "mapRun": to_json(&run),
        "executions": to_json(&children.executions),
        "nextToken": children.next_token,
    })))
}

/// A status as the page names it (`SUCCEEDED`).
fn status_of(status: &str) -> Result<ExecutionStatus, ServiceError> {
    serde_json::from_value(Value::String(status.to_owned()))
        .map_err(|_| ServiceError::validation(format!("'{status}' is not an execution status")))
}

#[derive(Debug, Deserialize)]
pub struct AtQuery {
    arn: String,
    at: usize,
    /// With `iteration`: the states inside this Map as that one iteration went.
    map: Option<String>,
    iteration: Option<u64>,
}

/// The states' statuses as they were once the first `at` events had happened (replay).
pub async fn statuses_at(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<AtQuery>,
) -> Answer {
    let svc = &console.service;
    for action in ["DescribeExecution", "GetExecutionHistory"] {
        console.allow(&caller, action, &q.arn)?;
    }
    // Each move of the replay asks again: read a finished execution's history once.
    let described = svc
        .describe_execution(DescribeExecutionInput::new(&q.arn))
        .await?;
    let key = format!(
        "{} {:?} {}",
        q.arn,
        described.status,
        described.redrive_count.unwrap_or(0)
    );
    let cached = console.replayed.lock().ok().and_then(|c| {
        c.as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, e)| e.clone())
    });
    let events = match cached {
        Some(events) => events,
        None => {
            let events = Arc::new(history(svc, &q.arn).await?);
            if described.status != ExecutionStatus::Running
                && let Ok(mut c) = console.replayed.lock()
            {
                *c = Some((key, events.clone()));
            }
            events
        }
    };
    let at = q.at.min(events.len());
    let focus = q
        .map
        .as_deref()
        .filter(|m| !m.is_empty())
        .zip(q.iteration)
        .map(|(map, iteration)| Focus { map, iteration });
    let statuses = statuses_of_json_in(&events[..at], focus);
    Ok(Json(json!({
        "at": at,
        "of": events.len(),
        "statuses": to_json(&statuses),
        "event": at.checked_sub(1).and_then(|i| events.get(i)),
    })))
}

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    arn: String,
    /// The last event the page has.
    #[serde(default)]
    after: u64,
}

/// How long a stream waits for word of a commit before it looks anyway: the execution may run
/// on another node (whose commits this node does not hear of), or the runtime may be gone.
const POLL: Duration = Duration::from_secs(1);

struct Watch {
    svc: Arc<Service>,
    /// This node's commits, when the service has a runtime.
    commits: Option<tokio::sync::broadcast::Receiver<Arc<Vec<String>>>>,
    arn: String,
    events: Vec<Value>,
    last: u64,
    /// The page has the events up to this id; what it lacks is sent first.
    catch_up: Option<u64>,
    done: bool,
}

/// Waits until a commit of this node adds to `arn`'s history (or one may have: the receiver
/// lagged), or [`POLL`] has passed.
async fn next_commit(
    commits: &mut Option<tokio::sync::broadcast::Receiver<Arc<Vec<String>>>>,
    arn: &str,
) {
    let Some(rx) = commits else {
        tokio::time::sleep(POLL).await;
        return;
    };
    let heard = async {
        loop {
            match rx.recv().await {
                Ok(touched) if touched.iter().any(|a| a == arn) => return true,
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return true,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return false,
            }
        }
    };
    if let Ok(false) = tokio::time::timeout(POLL, heard).await {
        // The runtime stopped: plain polling from now on.
        *commits = None;
        tokio::time::sleep(POLL).await;
    }
}

/// Server-sent events for an open execution: `history` with the new events, every state's
/// status and the execution's status, whenever events are added; `end` once it is over.
pub async fn stream(
    State(console): Shared,
    caller: Caller,
    Query(q): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    let svc = &console.service;
    for action in ["DescribeExecution", "GetExecutionHistory"] {
        console.allow(&caller, action, &q.arn)?;
    }
    // Listening before the history is read: a commit in between is not missed.
    let commits = svc.runtime().map(|r| r.watch_commits());
    let events = history(svc, &q.arn).await?;
    let watch = Watch {
        svc: svc.clone(),
        commits,
        arn: q.arn,
        last: events.last().and_then(|e| e["id"].as_u64()).unwrap_or(0),
        events,
        catch_up: Some(q.after),
        done: false,
    };
    let stream = futures_util::stream::unfold(watch, |mut w| {
        async move {
            if w.done {
                return None;
            }
            loop {
                // What the page lacks at once, then what is new every POLL.
                let catch_up = w.catch_up.take();
                let new: Vec<Value> = if let Some(after) = catch_up {
                    w.events
                        .iter()
                        .filter(|e| e["id"].as_u64().unwrap_or(0) > after)
                        .cloned()
                        .collect()
                } else {
                    next_commit(&mut w.commits, &w.arn).await;
                    match events_after(&w.svc, &w.arn, w.last).await {
                        Ok(new) => new,
                        Err(e) => {
                            w.done = true;
                            let data = json!({"error": e.code, "message": e.message});
                            return Some((
                                Ok(Event::default().event("error").data(data.to_string())),
                                w,
                            ));
                        }
                    }
                };
                let status = w
                    .svc
                    .describe_execution(DescribeExecutionInput::new(&w.arn))
                    .await
                    .ok();
                let running = status
                    .as_ref()
                    .is_some_and(|d| d.status == ExecutionStatus::Running);
                if !new.is_empty() {
                    if catch_up.is_none() {
                        w.events.extend(new.iter().cloned());
                    }
                    w.last = new.last().and_then(|e| e["id"].as_u64()).unwrap_or(w.last);
                    let data = json!({
                        "events": new,
                        "statuses": to_json(&statuses_of_json(&w.events)),
                        "execution": status.as_ref().map(to_json),
                    });
                    return Some((
                        Ok(Event::default().event("history").data(data.to_string())),
                        w,
                    ));
                }
                if !running {
                    w.done = true;
                    let data = json!({"execution": status.as_ref().map(to_json)});
                    return Some((Ok(Event::default().event("end").data(data.to_string())), w));
                }
                if catch_up.is_some() {
                    // Nothing to catch up on: carry on polling.
                    return Some((Ok(Event::default().comment("watching")), w));
                }
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionBody {
    execution_arn: String,
}

/// StopExecution.
pub async fn stop(State(console): Shared, caller: Caller, Json(b): Json<ExecutionBody>) -> Answer {
    let svc = &console.service;
    console.allow(&caller, "StopExecution", &b.execution_arn)?;
    let out = svc
        .stop_execution(StopExecutionInput::new(b.execution_arn))
        .await?;
    Ok(Json(to_json(&out)))
}

/// RedriveExecution.
pub async fn redrive(
    State(console): Shared,
    caller: Caller,
    Json(b): Json<ExecutionBody>,
) -> Answer {
    let svc = &console.service;
    console.allow(&caller, "RedriveExecution", &b.execution_arn)?;
    let out = svc
        .redrive_execution(RedriveExecutionInput::new(b.execution_arn))
        .await?;
    Ok(Json(to_json(&out)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartBody {
    state_machine_arn: String,
    name: Option<String>,
    input: Option<String>,
}

/// StartExecution (the page's "Start execution" and "Start again with this input").
pub async fn start(State(console): Shared, caller: Caller, Json(b): Json<StartBody>) -> Answer {
    let svc = &console.service;
    console.allow(&caller, "StartExecution", &b.state_machine_arn)?;
    let mut input = StartExecutionInput::new(b.state_machine_arn);
    if let Some(name) = b.name.filter(|n| !n.is_empty()) {
        input = input.name(name);
    }
    if let Some(text) = b.input {
        input = input.input(text);
    }
    let out = svc.start_execution(input).await?;
    Ok(Json(to_json(&out)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefinitionBody {
    definition: String,
    #[serde(rename = "type")]
    machine_type: Option<String>,
}

/// ValidateStateMachineDefinition, as the editor checks the text while it is typed; with the
/// graph of the text when it is valid.
pub async fn validate(
    State(console): Shared,
    caller: Caller,
    Json(b): Json<DefinitionBody>,
) -> Answer {
    let svc = &console.service;
    console.allow(&caller, "ValidateStateMachineDefinition", "*")?;
    let mut input = ValidateStateMachineDefinitionInput::new(&b.definition);
    if let Some(t) = b.machine_type.filter(|t| !t.is_empty()) {
        let parsed = serde_json::from_value(Value::String(t.clone()))
            .map_err(|_| ServiceError::validation(format!("'{t}' is not a state machine type")))?;
        input.r#type = Some(parsed);
    }
    let out = svc.validate_state_machine_definition(input).await?;
    let mut answer = to_json(&out);
    if out.result.as_str() == "OK" {
        answer["graph"] = drawing(&b.definition, None);
    }
    Ok(Json(answer))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    state_machine_arn: String,
    definition: String,
}

/// UpdateStateMachine with `publish`: the edited definition as a new version.
pub async fn save_version(
    State(console): Shared,
    caller: Caller,
    Json(b): Json<UpdateBody>,
) -> Answer {
    let svc = &console.service;
    console.allow(&caller, "UpdateStateMachine", &b.state_machine_arn)?;
    let mut input = UpdateStateMachineInput::new(b.state_machine_arn);
    input.definition = Some(b.definition);
    input.publish = Some(true);
    let out = svc.update_state_machine(input).await?;
    Ok(Json(to_json(&out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::broadcast;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn a_commit_naming_the_execution_wakes_its_stream_at_once() {
        let (tx, rx) = broadcast::channel(4);
        let mut commits = Some(rx);
        let start = Instant::now();
        tx.send(Arc::new(vec!["other".to_owned()])).expect("sent");
        tx.send(Arc::new(vec!["other".to_owned(), "x".to_owned()]))
            .expect("sent");
        next_commit(&mut commits, "x").await;
        assert_eq!(start.elapsed(), Duration::ZERO, "no wait for the poll");
        // No word of it: the stream looks anyway once POLL has passed.
        tx.send(Arc::new(vec!["other".to_owned()])).expect("sent");
        next_commit(&mut commits, "x").await;
        assert_eq!(start.elapsed(), POLL);
        // The runtime gone: plain polling from then on.
        drop(tx);
        next_commit(&mut commits, "x").await;
        assert!(commits.is_none());
        assert_eq!(start.elapsed(), POLL * 2);
    }
}
