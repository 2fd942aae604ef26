//! The TestState action as a pure function: [`test_state`] checks a request as AWS does, runs the
//! one state it names through the interpreter (with a probe that records each data-flow step and
//! stops after the state), and returns the response's JSON (`status`, `output`, `error`, `cause`,
//! `nextState`, `inspectionData`).
//!
//! Task states without a mock go to the caller's [`TaskHandler`]; Map and Parallel states need a
//! mock (their result), as on AWS. Wait states do not wait. The HTTP `request`/`response`
//! inspection data of HTTP Tasks is not produced: the handler does not report it.
//!
//! It owns nothing about the wire: the API layer turns [`TestStateError`] into its error shape.

mod shapes;

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stepwise_asl::eval::{Entropy, SeededEntropy};
use stepwise_asl::model::{QueryLanguage, State, StateKind, StateMachine};
use stepwise_asl::{ParseOptions, parse_definition, parse_state};

use crate::context::{ExecutionInfo, timestamp_text};
use crate::execution::probe::{Inspection, MockAnswer, Probe};
use crate::execution::{Command, Event, Execution, Fault, Status, Step, TaskKind, TimerId};
use crate::lang;
use crate::local::{TaskHandler, TaskOutcome};

pub use shapes::FieldValidationMode;

/// How much TestState shows: the output only, or the data-flow steps too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionLevel {
    #[default]
    Info,
    Debug,
    Trace,
}

/// `mock.errorOutput`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MockErrorOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// `mock`: what a Task, Parallel or Map state answers instead of running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateMock {
    /// JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_output: Option<MockErrorOutput>,
    #[serde(default)]
    pub field_validation_mode: FieldValidationMode,
}

/// `stateConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrier_retry_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_caused_by_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_iteration_failure_count: Option<u64>,
    /// JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_item_reader_data: Option<String>,
}

/// A TestState request (TestStateInput), with AWS's field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateRequest {
    /// One state's JSON, or a whole machine when `state_name` is set.
    pub definition: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// JSON text; `{}` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default)]
    pub inspection_level: InspectionLevel,
    #[serde(default)]
    pub reveal_secrets: bool,
    /// A JSON object of variables, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mock: Option<TestStateMock>,
    /// The context object, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_configuration: Option<TestStateConfiguration>,
}

/// The API error a request gets instead of a test result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestStateErrorCode {
    InvalidDefinition,
    InvalidExecutionInput,
    ValidationException,
}

impl TestStateErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStateErrorCode::InvalidDefinition => "InvalidDefinition",
            TestStateErrorCode::InvalidExecutionInput => "InvalidExecutionInput",
            TestStateErrorCode::ValidationException => "ValidationException",
        }
    }
}

/// Why TestState refused a request, with AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct TestStateError {
    pub code: TestStateErrorCode,
    pub message: String,
}

fn validation(message: impl Into<String>) -> TestStateError {
    TestStateError {
        code: TestStateErrorCode::ValidationException,
        message: message.into(),
    }
}

fn invalid_definition(message: impl Into<String>) -> TestStateError {
    TestStateError {
        code: TestStateErrorCode::InvalidDefinition,
        message: message.into(),
    }
}

/// The name AWS gives a state tested on its own.
const SINGLE_STATE_NAME: &str = "StateName";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
/// A guard against a state that never settles (a handler that keeps a task running).
const MAX_STEPS: usize = 10_000;

/// Runs one TestState request. `now` and `seed` make the run reproducible (timestamps in the
/// context object, generated names, `States.UUID()`, …).
pub fn test_state(
    req: &TestStateRequest,
    tasks: &mut dyn TaskHandler,
    now: DateTime<Utc>,
    seed: u64,
) -> Result<Value, TestStateError> {
    let mock = req.mock.as_ref();
    if let Some(m) = mock {
        if m.result.is_some() && m.error_output.is_some() {
            return Err(validation(
                "A test mock should have only one of the following fields: [result, errorOutput].",
            ));
        }
        if req.reveal_secrets {
            return Err(validation(
                "TestState does not support RevealSecrets when a mock is specified.",
            ));
        }
    }
    let input_text = req.input.as_deref().unwrap_or("{}");
    let input = stepwise_asl::parse_json(input_text).map_err(|e| TestStateError {
        code: TestStateErrorCode::InvalidExecutionInput,
        message: format!("Invalid State Machine Execution Input: '{}'", e.message),
    })?;
    let variables = match &req.variables {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(validation(
                    "Invalid variables: the value must be a JSON object",
                ));
            }
        },
    };
    let context = match &req.context {
        None => None,
        Some(text) => Some(checked_context(text)?),
    };
    let (machine, state) = load_state(req)?;
    let config = req.state_configuration.clone().unwrap_or_default();
    let answer = checked_mock(req, &state, &config)?;

    let mut entropy = SeededEntropy::new(seed).at(now.timestamp_millis());
    let info = execution_info(req, &mut entropy, now);
    let context = context.unwrap_or_else(|| {
        generated_context(&info, req.role_arn.is_some(), &input, &state, &config, now)
    });
    let probe = Probe {
        context,
        variables,
        mock: answer,
        retrier_retry_count: config.retrier_retry_count.unwrap_or(0),
        map_iteration_failure_count: config.map_iteration_failure_count,
        map_item_reader_data: config
            .map_item_reader_data
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        ..Probe::default()
    };
    let exec = run(
        Execution::probed(machine, info, probe),
        input.clone(),
        tasks,
        now,
        seed,
    );
    Ok(response(req, &state, &exec, &input))
}

/// Parses the definition and finds the state to test; the machine returned starts at it.
fn load_state(req: &TestStateRequest) -> Result<(Arc<StateMachine>, State), TestStateError> {
    let report_message = |report: stepwise_asl::Report| {
        invalid_definition(
            report
                .invalid_definition_message()
                .unwrap_or_else(|| "Invalid State Machine Definition".to_owned()),
        )
    };
    match &req.state_name {
        Some(name) => {
            let (machine, _) = parse_definition(&req.definition, ParseOptions::default())
                .map_err(report_message)?;
            let found = find_machine_of(&machine, name)
                .ok_or_else(|| validation("State not found in definition"))?;
            let state = found.states[name].clone();
            let mut machine = found.clone();
            machine.start_at = name.clone();
            Ok((Arc::new(machine), state))
        }
        None => {
            let value: Value = match serde_json::from_str(&req.definition) {
                Ok(v) => v,
                Err(_) => {
                    return Err(
                        match parse_definition(&req.definition, ParseOptions::default()) {
                            Err(report) => report_message(report),
                            Ok(_) => invalid_definition("Invalid State Machine Definition"),
                        },
                    );
                }
            };
            let state = parse_state(&value, ParseOptions::default()).map_err(report_message)?;
            let mut states = indexmap::IndexMap::new();
            states.insert(SINGLE_STATE_NAME.to_owned(), state.clone());
            let machine = StateMachine {
                comment: None,
                start_at: SINGLE_STATE_NAME.to_owned(),
                states,
                version: None,
                timeout_seconds: None,
                query_language: state.query_language,
            };
            Ok((Arc::new(machine), state))
        }
    }
}

/// The machine (top-level, a branch or an ItemProcessor, at any depth) that holds `name`.
fn find_machine_of<'m>(machine: &'m StateMachine, name: &str) -> Option<&'m StateMachine> {
    if machine.states.contains_key(name) {
        return Some(machine);
    }
    machine.states.values().find_map(|s| match &s.kind {
        StateKind::Parallel(p) => p.branches.iter().find_map(|b| find_machine_of(b, name)),
        StateKind::Map(m) => find_machine_of(&m.processor, name),
        _ => None,
    })
}

/// The checks AWS makes of the state and its mock before running anything.
fn checked_mock(
    req: &TestStateRequest,
    state: &State,
    config: &TestStateConfiguration,
) -> Result<Option<MockAnswer>, TestStateError> {
    let Some(mock) = &req.mock else {
        if config.map_iteration_failure_count.is_some() {
            return Err(validation(
                "TestState does not support MapIterationFailureCount when a mock is not specified.",
            ));
        }
        return match &state.kind {
            StateKind::Map(_) | StateKind::Parallel(_) => Err(invalid_definition(
                "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]",
            )),
            StateKind::Task(task) => {
                if needs_mock(&task.resource) {
                    return Err(validation(
                        "TestState does not support Activity tasks, .sync or .waitForTaskToken service integration patterns when a mock is not specified.",
                    ));
                }
                if req.role_arn.is_none() {
                    return Err(validation(
                        "RoleArn must be specified when testing a Task state",
                    ));
                }
                Ok(None)
            }
            _ => Ok(None),
        };
    };
    if !matches!(
        state.kind,
        StateKind::Task(_) | StateKind::Map(_) | StateKind::Parallel(_)
    ) {
        return Err(validation(format!(
            "State type '{}' is not supported when a mock is specified",
            state.kind.type_name()
        )));
    }
    if let Some(e) = &mock.error_output {
        return Ok(Some(MockAnswer::Error(Fault {
            error: e.error.clone(),
            cause: e.cause.clone(),
        })));
    }
    let Some(text) = &mock.result else {
        return Err(validation(
            "A test mock should have one of the following fields: [result, errorOutput].",
        ));
    };
    let result: Value =
        serde_json::from_str(text).map_err(|_| validation("Mocked result must be valid JSON"))?;
    match &state.kind {
        StateKind::Map(map) => {
            if map.result_writer.is_some() {
                if !result.is_object() {
                    return Err(validation("Mocked result must be a JSON object."));
                }
            } else {
                let Some(items) = result.as_array() else {
                    return Err(validation("Mocked result must be an array."));
                };
                if config
                    .map_iteration_failure_count
                    .is_some_and(|n| n > items.len() as u64)
                {
                    return Err(validation(
                        "Map iteration failure count must be less than or equal to the number of Map iterations",
                    ));
                }
            }
        }
        StateKind::Parallel(parallel) => {
            let Some(items) = result.as_array() else {
                return Err(validation("Mocked result must be an array."));
            };
            if items.len() != parallel.branches.len() {
                return Err(validation(
                    "Mocked result must contain the same number of items as number of Parallel branches.",
                ));
            }
        }
        StateKind::Task(task) => {
            if let Some(shape) =
                integration_key(&task.resource).and_then(|k| shapes::output_shape(&k))
            {
                shapes::check(shape, &result, mock.field_validation_mode)
                    .map_err(|e| validation(format!("Mock result schema validation error: {e}")))?;
            }
        }
        _ => {}
    }
    Ok(Some(MockAnswer::Result(result)))
}

/// Activity tasks and the `.sync` / `.waitForTaskToken` patterns run only with a mock.
fn needs_mock(resource: &str) -> bool {
    use stepwise_asl::parse::{Pattern, Resource, classify};
    match classify(resource) {
        Some(Resource::Activity) => true,
        Some(Resource::Service(s)) => s.pattern != Pattern::RequestResponse,
        _ => false,
    }
}

/// `lambda:invoke`, `aws-sdk:s3:getObject`: which output shape a request-response integration
/// has (none for the other patterns, whose results are not the action's output).
fn integration_key(resource: &str) -> Option<String> {
    match crate::execution::task_kind(resource) {
        TaskKind::Service {
            resource_type,
            resource,
        } if !resource.contains('.') => Some(format!("{resource_type}:{resource}")),
        _ => None,
    }
}

/// Checks a context object given with the request.
fn checked_context(text: &str) -> Result<Value, TestStateError> {
    let invalid = |what: String| validation(format!("Invalid Context object provided: {what}"));
    let value: Value = serde_json::from_str(text)
        .map_err(|e| invalid(format!("the value is not valid JSON ({e})")))?;
    let Some(top) = value.as_object() else {
        return Err(invalid("the value must be a JSON object".into()));
    };
    for (key, v) in top {
        let allowed: &[&str] = match key.as_str() {
            "Execution" => &[
                "Id",
                "Input",
                "Name",
                "RoleArn",
                "StartTime",
                "RedriveCount",
            ],
            "State" => &["EnteredTime", "Name", "RetryCount"],
            "StateMachine" => &["Id", "Name"],
            "Task" => &["Token"],
            "Map" => {
                return Err(invalid(
                    "'Map' field is not supported when mocking a Context object".into(),
                ));
            }
            other => return Err(invalid(format!("Field '{other}' is not allowed"))),
        };
        let Some(fields) = v.as_object() else {
            return Err(invalid(format!("Field '{key}' must be an object")));
        };
        if let Some(bad) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid(format!("Field '{bad}' is not allowed")));
        }
    }
    Ok(value)
}

/// Who the test run is: an Express execution with generated names, as AWS reports it.
fn execution_info(
    req: &TestStateRequest,
    entropy: &mut SeededEntropy,
    now: DateTime<Utc>,
) -> ExecutionInfo {
    let machine_name = entropy.uuid();
    let name = entropy.uuid();
    ExecutionInfo {
        execution_arn: format!("arn:aws:states:{REGION}:{ACCOUNT}:express:{machine_name}:{name}"),
        name,
        state_machine_arn: format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{machine_name}"),
        state_machine_name: machine_name,
        role_arn: req.role_arn.clone().unwrap_or_default(),
        region: REGION.to_owned(),
        start_time: now,
        redrive_count: 0,
    }
}

/// The context object AWS builds when the request gives none.
fn generated_context(
    info: &ExecutionInfo,
    has_role: bool,
    input: &Value,
    state: &State,
    config: &TestStateConfiguration,
    now: DateTime<Utc>,
) -> Value {
    let mut execution = Map::new();
    execution.insert("Id".into(), Value::from(info.execution_arn.as_str()));
    execution.insert("Input".into(), input.clone());
    execution.insert("Name".into(), Value::from(info.name.as_str()));
    execution.insert(
        "RoleArn".into(),
        if has_role {
            Value::from(info.role_arn.as_str())
        } else {
            Value::Null
        },
    );
    execution.insert("StartTime".into(), Value::from(timestamp_text(now)));
    let mut machine = Map::new();
    machine.insert("Id".into(), Value::from(info.state_machine_arn.as_str()));
    machine.insert("Name".into(), Value::from(info.state_machine_name.as_str()));
    let mut st = Map::new();
    st.insert("Name".into(), Value::from(SINGLE_STATE_NAME));
    st.insert("EnteredTime".into(), Value::from(timestamp_text(now)));
    if matches!(
        state.kind,
        StateKind::Task(_) | StateKind::Map(_) | StateKind::Parallel(_)
    ) {
        st.insert(
            "RetryCount".into(),
            Value::from(config.retrier_retry_count.unwrap_or(0)),
        );
    }
    let mut ctx = Map::new();
    ctx.insert("Execution".into(), Value::Object(execution));
    ctx.insert("StateMachine".into(), Value::Object(machine));
    ctx.insert("State".into(), Value::Object(st));
    Value::Object(ctx)
}

/// Drives the probed execution until the state has settled: tasks go to `tasks` at once and
/// timers fire at once (in order).
fn run(
    mut exec: Execution,
    input: Value,
    tasks: &mut dyn TaskHandler,
    now: DateTime<Utc>,
    seed: u64,
) -> Execution {
    let mut ready: VecDeque<Event> = VecDeque::new();
    ready.push_back(Event::Start {
        input,
        input_text: None,
    });
    let mut timers: BTreeSet<(DateTime<Utc>, TimerId)> = BTreeSet::new();
    let mut clock = now;
    for i in 0..MAX_STEPS {
        let event = match ready.pop_front() {
            Some(e) => e,
            None => match timers.pop_first() {
                Some((at, timer)) => {
                    clock = clock.max(at);
                    Event::TimerFired { timer }
                }
                None => break,
            },
        };
        let step = Step {
            now: clock,
            seed: seed.wrapping_add(i as u64),
            event,
        };
        let Ok(out) = exec.step(step) else { break };
        let mut done = false;
        for command in out.commands {
            match command {
                Command::ScheduleTask(request) => {
                    let task = request.task;
                    ready.push_back(Event::TaskStarted { task, worker: None });
                    ready.push_back(match tasks.run(&request) {
                        TaskOutcome::Succeeded(output) => Event::TaskSucceeded { task, output },
                        TaskOutcome::Failed { error, cause } => {
                            Event::TaskFailed { task, error, cause }
                        }
                    });
                }
                Command::StartTimer { timer, fire_at, .. } => {
                    timers.insert((fire_at, timer));
                }
                Command::CancelTimer { timer } => timers.retain(|(_, t)| *t != timer),
                Command::CancelTask { .. } | Command::MapRun(_) => {}
                Command::Complete(_) => done = true,
            }
        }
        if done {
            break;
        }
    }
    exec
}

/// The TestState response (TestStateOutput) of a finished run.
fn response(req: &TestStateRequest, state: &State, exec: &Execution, input: &Value) -> Value {
    let mut out = Map::new();
    let probe = exec.probe();
    let finished = probe.and_then(|p| p.finished.as_ref());
    let caught = probe.and_then(|p| p.caught.as_ref());
    let put_fault =
        |out: &mut Map<String, Value>, error: &Option<String>, cause: &Option<String>| {
            if let Some(e) = error {
                out.insert("error".into(), Value::from(e.as_str()));
            }
            if let Some(c) = cause {
                out.insert("cause".into(), Value::from(c.as_str()));
            }
        };
    let status = match (finished, exec.completion()) {
        (Some(done), _) => {
            out.insert("output".into(), Value::from(lang::to_json(&done.output)));
            if let Some(next) = &done.next_state {
                out.insert("nextState".into(), Value::from(next.as_str()));
            }
            match caught {
                Some(fault) => {
                    put_fault(&mut out, &fault.error, &fault.cause);
                    "CAUGHT_ERROR"
                }
                None => "SUCCEEDED",
            }
        }
        (None, Some(c)) if c.status != Status::Succeeded => {
            put_fault(&mut out, &c.error, &c.cause);
            if probe.is_some_and(|p| p.retriable) {
                "RETRIABLE"
            } else {
                "FAILED"
            }
        }
        _ => {
            // The state never settled (a task that was never answered).
            put_fault(
                &mut out,
                &Some(stepwise_asl::error_names::TIMEOUT.to_owned()),
                &Some("The state did not complete".to_owned()),
            );
            "FAILED"
        }
    };
    out.insert("status".into(), Value::from(status));
    if req.inspection_level != InspectionLevel::Info {
        if let Some(p) = probe {
            let variables = finished.map(|d| &d.variables);
            out.insert(
                "inspectionData".into(),
                Value::Object(inspection_data(state, &p.data, input, variables)),
            );
        }
    }
    Value::Object(out)
}

/// Which data-flow steps AWS shows for each kind of state, and their values as JSON text.
fn inspection_data(
    state: &State,
    data: &Inspection,
    input: &Value,
    variables: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let jsonata = state.query_language == QueryLanguage::Jsonata;
    let mut shown: Vec<(&str, &Option<Value>)> = Vec::new();
    let input = Some(input.clone());
    shown.push(("input", &input));
    match (&state.kind, jsonata) {
        (StateKind::Task(_), true) => {
            shown.push(("afterArguments", &data.after_arguments));
            shown.push(("result", &data.result));
        }
        (StateKind::Task(_), false) => {
            shown.push(("afterInputPath", &data.after_input_path));
            shown.push(("afterParameters", &data.after_parameters));
            shown.push(("result", &data.result));
            shown.push(("afterResultSelector", &data.after_result_selector));
            shown.push(("afterResultPath", &data.after_result_path));
        }
        (StateKind::Pass(pass), false) => {
            if pass.result.is_some() {
                shown.push(("result", &data.result));
            } else {
                shown.push(("afterInputPath", &data.after_input_path));
                shown.push(("afterParameters", &data.after_parameters));
            }
            shown.push(("afterResultSelector", &data.after_result_selector));
            shown.push(("afterResultPath", &data.after_result_path));
        }
        (StateKind::Parallel(_), false) => {
            shown.push(("afterResultSelector", &data.after_result_selector));
            shown.push(("afterResultPath", &data.after_result_path));
        }
        (StateKind::Map(_), false) => {
            shown.push(("afterInputPath", &data.after_input_path));
            shown.push(("afterItemsPath", &data.after_items_path));
            shown.push(("afterResultSelector", &data.after_result_selector));
            shown.push(("afterResultPath", &data.after_result_path));
        }
        (
            StateKind::Choice(_) | StateKind::Wait(_) | StateKind::Succeed | StateKind::Fail(_),
            false,
        ) => {
            shown.push(("afterInputPath", &data.after_input_path));
        }
        _ => {}
    }
    let mut out = Map::new();
    for (name, value) in shown {
        if let Some(v) = value {
            out.insert(name.into(), Value::from(lang::to_json(v)));
        }
    }
    if matches!(state.kind, StateKind::Map(_)) {
        if let Some(n) = data.max_concurrency {
            out.insert("maxConcurrency".into(), Value::from(n));
        }
        if let Some(n) = data.tolerated_failure_count {
            out.insert("toleratedFailureCount".into(), Value::from(n as u64));
        }
        if let Some(p) = data.tolerated_failure_percentage {
            out.insert("toleratedFailurePercentage".into(), Value::from(p));
        }
    }
    if let Some(vars) = variables.filter(|v| !v.is_empty()) {
        out.insert(
            "variables".into(),
            Value::from(lang::to_json(&Value::Object(vars.clone()))),
        );
    }
    let mut details = Map::new();
    if let Some(i) = data.catch_index {
        details.insert("catchIndex".into(), Value::from(i));
    }
    if let Some(i) = data.retry_index {
        details.insert("retryIndex".into(), Value::from(i));
    }
    if let Some(s) = data.retry_backoff_seconds {
        details.insert("retryBackoffIntervalSeconds".into(), Value::from(s));
    }
    if !details.is_empty() {
        out.insert("errorDetails".into(), Value::Object(details));
    }
    out
}
