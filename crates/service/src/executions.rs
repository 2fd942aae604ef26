//! The execution-plane actions of the Step Functions API, on the [`Runtime`].

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use stepwise_engine::mock::TestCase;
use stepwise_engine::test_state::TestStateRequest;
use stepwise_engine::{ExecutionInfo, Status};
use stepwise_runtime::clock::Clock;
use stepwise_runtime::{
    ChildRefused, ChildStart, ChildStarted, Runtime, RuntimeError, Starter, TaskAnswer,
    TestStateFailed, time_of,
};
use stepwise_store::{ExecutionCursor, ExecutionFilter, ExecutionRecord, ResourceKind};

use crate::arn::{self, Resource};
use crate::control::{Control, StartTarget};
use crate::error::{ErrorClass, ServiceError};
use crate::paging::{self, cut_page, page_size, token_of};
use crate::time::timestamp;
use crate::{Action, BoxFuture, Executions};

/// The longest GetActivityTask waits for a task (AWS: 60 seconds).
const ACTIVITY_POLL: Duration = Duration::from_secs(60);

/// The execution plane: executions, their history, activity tasks.
#[derive(Debug)]
pub struct ExecutionPlane {
    runtime: Arc<Runtime>,
    control: Arc<Control>,
    activity_poll: Duration,
}

impl ExecutionPlane {
    pub fn new(runtime: Arc<Runtime>, control: Arc<Control>) -> Self {
        ExecutionPlane {
            runtime,
            control,
            activity_poll: ACTIVITY_POLL,
        }
    }

    /// How long GetActivityTask waits before answering with no task (tests shorten it).
    pub fn with_activity_poll(mut self, wait: Duration) -> Self {
        self.activity_poll = wait;
        self
    }
}

impl Executions for ExecutionPlane {
    fn call(&self, action: Action, input: Value) -> BoxFuture<'_, Result<Value, ServiceError>> {
        let action = action.name();
        Box::pin(async move {
            match action {
                "StartExecution" => self.start_execution(&input, false).await,
                "StartSyncExecution" => self.start_execution(&input, true).await,
                "DescribeExecution" => self.describe_execution(&input),
                "ListExecutions" => self.list_executions(&input),
                "GetExecutionHistory" => self.get_execution_history(&input),
                "StopExecution" => self.stop_execution(&input).await,
                "RedriveExecution" => self.redrive_execution(&input).await,
                "GetActivityTask" => self.get_activity_task(&input).await,
                "SendTaskSuccess" | "SendTaskFailure" | "SendTaskHeartbeat" => {
                    self.send_task(action, &input).await
                }
                "DescribeMapRun" | "UpdateMapRun" => {
                    let arn = str_of(&input, "mapRunArn");
                    Err(ServiceError::resource_not_found(arn))
                }
                "ListMapRuns" => self.list_map_runs(&input),
                "TestState" => self.test_state(input).await,
                other => Err(ServiceError::internal(format!(
                    "{other} is not an execution-plane action"
                ))),
            }
        })
    }

    fn render_metrics(&self, out: &mut String) {
        self.runtime.metrics().render(out);
    }
}

fn str_of<'a>(input: &'a Value, key: &str) -> &'a str {
    input.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn opt_str(input: &Value, key: &str) -> Option<String> {
    input.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn runtime_error(e: RuntimeError) -> ServiceError {
    match e {
        RuntimeError::ExecutionDoesNotExist(arn) => ServiceError::execution_does_not_exist(&arn),
        RuntimeError::ExecutionAlreadyExists(arn) => ServiceError::execution_already_exists(&arn),
        RuntimeError::TaskDoesNotExist
        | RuntimeError::NotRunning
        | RuntimeError::UnexpectedEvent(_) => task_gone(),
        RuntimeError::NotRedrivable(reason) => ServiceError::execution_not_redrivable(reason),
        RuntimeError::Quarantined(cause) => {
            ServiceError::internal(format!("The execution cannot continue: {cause}"))
        }
        RuntimeError::Store(m) => {
            tracing::error!(error = %m, "runtime failure");
            ServiceError::internal("The server could not complete the request")
        }
        RuntimeError::ShuttingDown => ServiceError::internal("The server is shutting down"),
    }
}

fn store_failed(e: stepwise_store::StoreError) -> ServiceError {
    runtime_error(RuntimeError::Store(e.to_string()))
}

/// What ListExecutions shows of an execution; DescribeExecution shows more.
fn execution_item(r: &ExecutionRecord) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("executionArn".into(), r.arn.clone().into());
    m.insert("stateMachineArn".into(), r.state_machine_arn.clone().into());
    m.insert("name".into(), r.name.clone().into());
    m.insert("status".into(), r.status.clone().into());
    m.insert("startDate".into(), timestamp(r.start_ms));
    put(&mut m, "stopDate", r.stop_ms.map(timestamp));
    put(&mut m, "stateMachineVersionArn", r.version_arn.clone());
    put(&mut m, "stateMachineAliasArn", r.alias_arn.clone());
    m.insert("redriveCount".into(), r.redrive_count.into());
    put(&mut m, "redriveDate", r.redrive_ms.map(timestamp));
    m
}

/// A well-formed token whose task is over (answered, timed out, or its execution ended): AWS
/// answers TaskTimedOut.
fn task_gone() -> ServiceError {
    ServiceError::task_timed_out("Task Timed Out: 'Provided task does not exist anymore'")
}

/// A uniform number in [0, 1) for an alias's weighted choice of version.
fn unit_random(clock: &dyn Clock) -> f64 {
    (clock.random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses an execution's input; AWS answers bad JSON with InvalidExecutionInput and Jackson's
/// complaint, and an empty input with its own words (both recorded).
fn parse_input(text: &str) -> Result<Value, ServiceError> {
    if text.is_empty() {
        return Err(ServiceError::invalid_execution_input(EMPTY_INPUT));
    }
    stepwise_asl::parse_json(text).map_err(|e| ServiceError::invalid_execution_input(&e.message))
}

/// AWS's detail for an empty execution input.
const EMPTY_INPUT: &str = "Invalid execution input.";

fn put(m: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        m.insert(key.into(), v.into());
    }
}

/// AWS's redrive status of an execution in DescribeExecution.
fn redrive_status(status: &str) -> (&'static str, Option<String>) {
    use crate::types::{ExecutionRedriveStatus as R, ExecutionStatus as S};
    match S::parse(status) {
        Some(S::Failed | S::TimedOut | S::Aborted) => (R::Redrivable.as_str(), None),
        _ => (
            R::NotRedrivable.as_str(),
            Some(format!("Execution is {status} and cannot be redriven")),
        ),
    }
}

impl ExecutionPlane {
    async fn start_execution(&self, input: &Value, sync: bool) -> Result<Value, ServiceError> {
        let name = match opt_str(input, "name") {
            Some(n) => {
                arn::check_name(&n)?;
                n
            }
            None => self.runtime.clock().uuid(),
        };
        let input_text = opt_str(input, "input").unwrap_or_else(|| "{}".to_owned());
        let request = StartRequest {
            arn: str_of(input, "stateMachineArn").to_owned(),
            name,
            input_text,
            trace_header: opt_str(input, "traceHeader"),
            parent: None,
            wait: sync,
        };
        match self.start(request).await? {
            StartResult::Started { arn, start_ms } if !sync => {
                Ok(json!({"executionArn": arn, "startDate": timestamp(start_ms)}))
            }
            StartResult::Started { .. } => Err(ServiceError::state_machine_type_not_supported()),
            StartResult::Finished(record) => Ok(sync_response(&record)),
        }
    }

    /// StartExecution, StartSyncExecution and the start of a nested execution. The state
    /// machine ARN may end in `#TestCase`, which runs the execution with that test case of the
    /// mock configuration (as Step Functions Local does).
    async fn start(&self, request: StartRequest) -> Result<StartResult, ServiceError> {
        let StartRequest {
            arn: target_arn,
            name,
            input_text,
            trace_header,
            parent,
            wait,
        } = request;
        let (target_arn, test_case) = match target_arn.split_once('#') {
            Some((arn, case)) => (arn.to_owned(), Some(case.to_owned())),
            None => (target_arn, None),
        };
        let value = parse_input(&input_text)?;
        let pick = unit_random(&**self.runtime.clock());
        let target = self.control.resolve_for_start(&target_arn, pick)?;
        let mocked = match &test_case {
            Some(case) => Some(self.test_case(&target.state_machine_name, case)?),
            None => None,
        };
        let machine = self
            .runtime
            .machine(&target.definition_hash, &target.definition)
            .map_err(runtime_error)?;
        let start_ms = self.runtime.clock().now_ms();
        let arns = self.control.arns();
        let arn = if target.express {
            arns.express_execution(
                &target.state_machine_name,
                &name,
                &self.runtime.clock().uuid(),
            )
        } else {
            arns.execution(&target.state_machine_name, &name)
        };
        let mut record = ExecutionRecord {
            arn,
            state_machine_arn: target.state_machine_arn.clone(),
            version_arn: target.version_arn.clone(),
            alias_arn: target.alias_arn.clone(),
            name,
            status: Status::Running.as_str().into(),
            start_ms,
            stop_ms: None,
            input: input_text,
            output: None,
            error: None,
            cause: None,
            definition_hash: target.definition_hash.clone(),
            role_arn: target.role_arn.clone(),
            trace_header,
            redrive_count: 0,
            redrive_ms: None,
            event_count: 0,
            step_count: 0,
            parent,
            test_case,
            history_digest: None,
        };
        if target.express {
            let info = express_info(&target, &record.arn, &record.name, start_ms);
            let arn = record.arn.clone();
            if wait {
                let outcome = self
                    .runtime
                    .run_express(machine, info, value, record.input.clone(), mocked)
                    .await;
                let c = outcome.completion;
                record.status = c.status.as_str().to_owned();
                record.stop_ms = Some(outcome.stop_ms);
                record.output = c.output.map(|v| v.to_string());
                record.error = c.error;
                record.cause = c.cause;
                return Ok(StartResult::Finished(Box::new(record)));
            }
            let runtime = self.runtime.clone();
            tokio::spawn(async move {
                runtime
                    .run_express(machine, info, value, record.input, mocked)
                    .await;
            });
            return Ok(StartResult::Started { arn, start_ms });
        }
        let started = self
            .runtime
            .start_execution(record, machine, value)
            .await
            .map_err(runtime_error)?;
        Ok(StartResult::Started {
            arn: started.arn,
            start_ms: started.start_ms,
        })
    }

    /// The mock test case `case` of the state machine `machine`.
    fn test_case(&self, machine: &str, case: &str) -> Result<TestCase, ServiceError> {
        let Some(mocks) = self.runtime.mocks() else {
            return Err(ServiceError::validation(format!(
                "The state machine ARN names the test case '{case}', but no mock configuration \
                 is loaded (set SFN_MOCK_CONFIG or [server] mock_config)"
            )));
        };
        mocks
            .test_case(machine, Some(case))
            .map_err(|e| ServiceError::validation(e.to_string()))
    }

    fn record(&self, arn: &str) -> Result<ExecutionRecord, ServiceError> {
        arn::expect_standard_execution(arn)?;
        self.runtime
            .store()
            .get_execution(arn)
            .map_err(store_failed)?
            .ok_or_else(|| ServiceError::execution_does_not_exist(arn))
    }

    fn describe_execution(&self, input: &Value) -> Result<Value, ServiceError> {
        let r = self.record(str_of(input, "executionArn"))?;
        let mut m = execution_item(&r);
        m.insert("input".into(), r.input.clone().into());
        m.insert("inputDetails".into(), json!({"included": true}));
        if r.status == Status::Succeeded.as_str() {
            put(&mut m, "output", r.output.clone());
            m.insert("outputDetails".into(), json!({"included": true}));
        }
        put(&mut m, "error", r.error.clone());
        put(&mut m, "cause", r.cause.clone());
        put(&mut m, "traceHeader", r.trace_header.clone());
        let (status, reason) = redrive_status(&r.status);
        m.insert("redriveStatus".into(), status.into());
        put(&mut m, "redriveStatusReason", reason);
        Ok(Value::Object(m))
    }

    fn list_executions(&self, input: &Value) -> Result<Value, ServiceError> {
        if let Some(map_run) = opt_str(input, "mapRunArn") {
            return Err(ServiceError::resource_not_found(&map_run));
        }
        let Some(sm) = opt_str(input, "stateMachineArn") else {
            return Err(ServiceError::validation(
                "Must provide a StateMachine ARN or MapRun ARN",
            ));
        };
        let parsed = arn::parse(&sm)?;
        let mut filter = ExecutionFilter {
            status: opt_str(input, "statusFilter"),
            ..ExecutionFilter::default()
        };
        let kind = match parsed.resource {
            Resource::StateMachine { .. } => {
                filter.state_machine_arn = Some(sm.clone());
                ResourceKind::StateMachine
            }
            Resource::Version { .. } => {
                filter.version_arn = Some(sm.clone());
                ResourceKind::Version
            }
            Resource::Alias { .. } => {
                filter.alias_arn = Some(sm.clone());
                ResourceKind::Alias
            }
            Resource::LabeledStateMachine { .. } => {
                return Err(arn::labeled_arn_not_supported(&sm));
            }
            other => {
                return Err(ServiceError::invalid_arn(format!(
                    "Resource type not valid in this context: {}",
                    other.type_name()
                )));
            }
        };
        let store = self.runtime.store();
        let known = store.get_resource(&sm).map_err(store_failed)?;
        if known.is_none_or(|r| r.kind != kind) {
            return Err(ServiceError::state_machine_does_not_exist(&sm));
        }
        // Express executions are not listed: AWS refuses the action for Express state machines.
        if self.control.is_express(&sm)? == Some(true) {
            return Err(ServiceError::state_machine_type_not_supported());
        }
        let limit = page_size(input.get("maxResults").and_then(Value::as_i64));
        let after: Option<ExecutionCursor> = token_of(
            input.get("nextToken").and_then(Value::as_str),
            "ListExecutions",
            &sm,
        )?;
        let fetched = store
            .list_executions(&filter, after.as_ref(), limit + 1)
            .map_err(store_failed)?;
        let page = cut_page(fetched, limit, "ListExecutions", &sm, |r| ExecutionCursor {
            start_ms: r.start_ms,
            arn: r.arn.clone(),
        });
        let executions: Vec<Value> = page
            .items
            .iter()
            .map(|r| Value::Object(execution_item(r)))
            .collect();
        let mut out = json!({ "executions": executions });
        if let Some(t) = page.next_token {
            out["nextToken"] = t.into();
        }
        Ok(out)
    }

    fn get_execution_history(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = str_of(input, "executionArn");
        let r = self.record(arn)?;
        let reverse = input
            .get("reverseOrder")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let include_data = input
            .get("includeExecutionData")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let limit = page_size(input.get("maxResults").and_then(Value::as_i64)) as u64;
        let scope = format!("{arn}:{reverse}");
        let after: Option<u64> = token_of(
            input.get("nextToken").and_then(Value::as_str),
            "GetExecutionHistory",
            &scope,
        )?;
        let total = r.event_count;
        let (from, to) = if reverse {
            let top = after.map_or(total, |a| a.saturating_sub(1));
            (top.saturating_sub(limit - 1).max(1), top)
        } else {
            let bottom = after.map_or(1, |a| a + 1);
            (bottom, (bottom + limit - 1).min(total))
        };
        let mut events: Vec<Value> = if from > to || total == 0 {
            Vec::new()
        } else {
            self.runtime
                .store()
                .history(arn, from, to)
                .map_err(store_failed)?
                .iter()
                .filter_map(|text| serde_json::from_str(text).ok())
                .collect()
        };
        if reverse {
            events.reverse();
        }
        if !include_data {
            for e in &mut events {
                strip_data(e);
            }
        }
        let more = if reverse { from > 1 } else { to < total };
        let mut out = json!({ "events": events });
        if more {
            let last = if reverse { from } else { to };
            out["nextToken"] = paging::encode_token("GetExecutionHistory", &scope, &last).into();
        }
        Ok(out)
    }

    async fn stop_execution(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = str_of(input, "executionArn");
        self.record(arn)?;
        let stop = self
            .runtime
            .stop_execution(
                arn.to_owned(),
                opt_str(input, "error"),
                opt_str(input, "cause"),
            )
            .await
            .map_err(runtime_error)?;
        Ok(json!({ "stopDate": timestamp(stop) }))
    }

    async fn redrive_execution(&self, input: &Value) -> Result<Value, ServiceError> {
        let arn = str_of(input, "executionArn");
        self.record(arn)?;
        let at = self
            .runtime
            .redrive_execution(arn.to_owned())
            .await
            .map_err(runtime_error)?;
        Ok(json!({ "redriveDate": timestamp(at) }))
    }

    async fn get_activity_task(&self, input: &Value) -> Result<Value, ServiceError> {
        let activity = str_of(input, "activityArn");
        arn::expect_activity(activity)?;
        let exists = self
            .runtime
            .store()
            .get_resource(activity)
            .map_err(store_failed)?
            .is_some_and(|r| r.kind == ResourceKind::Activity);
        if !exists {
            return Err(ServiceError::activity_does_not_exist(activity));
        }
        let worker = opt_str(input, "workerName").unwrap_or_default();
        let task = self
            .runtime
            .get_activity_task(activity, &worker, self.activity_poll)
            .await
            .map_err(runtime_error)?;
        Ok(match task {
            Some(t) => json!({"taskToken": t.token, "input": t.input}),
            None => json!({}),
        })
    }

    async fn send_task(&self, action: &str, input: &Value) -> Result<Value, ServiceError> {
        let token_text = str_of(input, "taskToken");
        if self.runtime.tokens().decode(token_text).is_none() {
            return Err(ServiceError::invalid_token("Invalid token"));
        }
        let answer = match action {
            "SendTaskSuccess" => {
                let output = str_of(input, "output");
                let value = stepwise_asl::parse_json(output).map_err(|e| {
                    ServiceError::invalid_output(format!("Invalid Output: '{}'", e.message))
                })?;
                TaskAnswer::Succeeded(value)
            }
            "SendTaskFailure" => TaskAnswer::Failed {
                error: opt_str(input, "error"),
                cause: opt_str(input, "cause"),
            },
            _ => TaskAnswer::Heartbeat,
        };
        let task = self
            .runtime
            .store()
            .task_by_token(token_text)
            .map_err(store_failed)?
            .ok_or_else(task_gone)?;
        self.runtime
            .answer_task(task, answer)
            .await
            .map_err(runtime_error)?;
        Ok(json!({}))
    }

    async fn test_state(&self, input: Value) -> Result<Value, ServiceError> {
        let request: TestStateRequest = serde_json::from_value(input)
            .map_err(|e| ServiceError::validation(format!("Invalid TestState request: {e}")))?;
        let clock = self.runtime.clock();
        let seed = clock.random_u64();
        let now = time_of(clock.now_ms());
        let execution = self.control.arns().execution("TestState", &clock.uuid());
        match self
            .runtime
            .test_state(request, &execution, now, seed)
            .await
        {
            Ok(answer) => Ok(answer),
            Err(TestStateFailed::Refused(code, message)) => {
                Err(ServiceError::client(&code, message))
            }
            Err(TestStateFailed::Crashed(why)) => Err(ServiceError::internal(format!(
                "TestState stopped unexpectedly: {why}"
            ))),
        }
    }

    fn list_map_runs(&self, input: &Value) -> Result<Value, ServiceError> {
        self.record(str_of(input, "executionArn"))?;
        Ok(json!({ "mapRuns": [] }))
    }
}

/// Drops execution data (inputs, outputs) from a history event, as `includeExecutionData:
/// false` asks.
fn strip_data(event: &mut Value) {
    let Some(obj) = event.as_object_mut() else {
        return;
    };
    for (key, details) in obj.iter_mut() {
        if !key.ends_with("EventDetails") {
            continue;
        }
        if let Some(d) = details.as_object_mut() {
            for field in ["input", "output", "parameters", "result"] {
                d.remove(field);
            }
        }
    }
}

/// What to start.
#[derive(Debug)]
struct StartRequest {
    arn: String,
    name: String,
    input_text: String,
    trace_header: Option<String>,
    /// For a child of a `.sync` task: the runtime's link to its parent task, as JSON.
    parent: Option<String>,
    /// Run an Express execution to its end before answering.
    wait: bool,
}

#[derive(Debug)]
enum StartResult {
    Started {
        arn: String,
        start_ms: i64,
    },
    /// An Express execution run to its end.
    Finished(Box<ExecutionRecord>),
}

impl Starter for ExecutionPlane {
    fn start_child(
        &self,
        request: ChildStart,
    ) -> BoxFuture<'_, Result<ChildStarted, ChildRefused>> {
        Box::pin(async move {
            self.start_child_checked(request)
                .await
                .map_err(|e| ChildRefused {
                    status: match e.class {
                        ErrorClass::Client => 400,
                        ErrorClass::Conflict => 409,
                        ErrorClass::QuotaExceeded => 402,
                        ErrorClass::Internal => 500,
                    },
                    code: e.code,
                    message: e.message,
                })
        })
    }
}

impl ExecutionPlane {
    async fn start_child_checked(&self, request: ChildStart) -> Result<ChildStarted, ServiceError> {
        {
            arn::check_name(&request.name)?;
            let start = StartRequest {
                arn: request.state_machine_arn,
                name: request.name,
                input_text: request.input,
                trace_header: None,
                parent: request.parent,
                wait: request.wait,
            };
            match self.start(start).await? {
                StartResult::Started { arn, start_ms } => {
                    Ok(ChildStarted::Started { arn, start_ms })
                }
                StartResult::Finished(record) => Ok(ChildStarted::Finished(record)),
            }
        }
    }
}

fn express_info(target: &StartTarget, arn: &str, name: &str, start_ms: i64) -> ExecutionInfo {
    stepwise_runtime::execution_info(
        arn,
        name,
        &target.state_machine_arn,
        target.version_arn.as_deref(),
        &target.role_arn,
        start_ms,
        0,
    )
}

/// StartSyncExecution's answer for an Express execution that ran to its end.
fn sync_response(r: &ExecutionRecord) -> Value {
    let stop_ms = r.stop_ms.unwrap_or(r.start_ms);
    let mut m = Map::new();
    m.insert("executionArn".into(), r.arn.clone().into());
    m.insert("stateMachineArn".into(), r.state_machine_arn.clone().into());
    m.insert("name".into(), r.name.clone().into());
    m.insert("startDate".into(), timestamp(r.start_ms));
    m.insert("stopDate".into(), timestamp(stop_ms));
    m.insert("status".into(), r.status.clone().into());
    put(&mut m, "error", r.error.clone());
    put(&mut m, "cause", r.cause.clone());
    m.insert("input".into(), r.input.clone().into());
    m.insert("inputDetails".into(), json!({"included": true}));
    if r.status == Status::Succeeded.as_str() {
        put(&mut m, "output", r.output.clone());
    }
    m.insert("outputDetails".into(), json!({"included": true}));
    let billed = ((stop_ms - r.start_ms).max(1) + 99) / 100 * 100;
    m.insert(
        "billingDetails".into(),
        json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed}),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_invalid_execution_input_in_aws_recorded_words() {
        // Recorded against AWS (LocalStack's snapshots, ../shared/conformance/asl/cases.jsonl).
        for (input, message) in [
            (
                "not some json",
                "Invalid State Machine Execution Input: 'Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')'",
            ),
            (
                "{'not': 'json'",
                "Invalid State Machine Execution Input: 'Unexpected character (''' (code 39)): was expecting double-quote to start field name'",
            ),
            (
                "",
                "Invalid State Machine Execution Input: 'Invalid execution input.'",
            ),
        ] {
            let e = parse_input(input).unwrap_err();
            assert_eq!(e.code, "InvalidExecutionInput");
            assert_eq!(e.message, message, "{input:?}");
        }
        assert_eq!(parse_input(" {\"a\": 1} ").unwrap(), json!({"a": 1}));
    }
}
