//! The execution-plane actions of the Step Functions API, on the [`Runtime`].

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use stepwise_engine::mock::TestCase;
use stepwise_engine::test_state::{self as engine_test_state, TestStateRequest};
use stepwise_engine::{ExecutionInfo, Status};
use stepwise_runtime::clock::Clock;
use stepwise_runtime::exec_log::{Level, LogSettings, SettingsSource};
use stepwise_runtime::trace::TraceContext;
use stepwise_runtime::{
    ChildRefused, ChildStart, ChildStarted, Runtime, RuntimeError, Starter, TaskAnswer,
    TestStateFailed, time_of,
};
use stepwise_store::{ExecutionCursor, ExecutionFilter, ExecutionRecord, ResourceKind};

use crate::arn::{self, Arns, Resource};
use crate::control::{Control, StartTarget};
use crate::error::{ErrorClass, ServiceError};
use crate::paging::{self, cut_page, page_size, token_of};
use crate::time::seconds;
use crate::types::{
    BillingDetails, CloudWatchEventsExecutionDataDetails, DescribeExecutionInput,
    DescribeExecutionOutput, DescribeMapRunInput, DescribeMapRunOutput, ExecutionListItem,
    ExecutionRedriveStatus, ExecutionStatus, GetActivityTaskInput, GetActivityTaskOutput,
    GetExecutionHistoryInput, GetExecutionHistoryOutput, HistoryEvent, InspectionLevel,
    ListExecutionsInput, ListExecutionsOutput, ListMapRunsInput, ListMapRunsOutput, LogLevel,
    MapRunExecutionCounts, MapRunItemCounts, MapRunListItem, MapRunStatus,
    MockResponseValidationMode, RedriveExecutionInput, RedriveExecutionOutput,
    SendTaskFailureInput, SendTaskFailureOutput, SendTaskHeartbeatInput, SendTaskHeartbeatOutput,
    SendTaskSuccessInput, SendTaskSuccessOutput, StartExecutionInput, StartExecutionOutput,
    StartSyncExecutionInput, StartSyncExecutionOutput, StopExecutionInput, StopExecutionOutput,
    SyncExecutionStatus, TestStateInput, TestStateOutput, UpdateMapRunInput, UpdateMapRunOutput,
};
use crate::{BoxFuture, Executions};

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
    fn render_metrics(&self, out: &mut String) {
        self.runtime.render_metrics(out);
    }

    fn list_executions_matching<'a>(
        &'a self,
        input: ListExecutionsInput,
        search: &'a ExecutionSearch,
    ) -> crate::BoxFuture<'a, Result<ListExecutionsOutput, ServiceError>> {
        Box::pin(ExecutionPlane::list_executions_matching(
            self, input, search,
        ))
    }
}

/// What the console can narrow a list of executions by, beyond ListExecutions' state machine
/// (or version, alias, Map Run) and status: a name prefix and a start-time range. Every page
/// is still read by the store's keyset on (start time, ARN).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionSearch {
    /// Names starting with this (case-sensitive, as names compare on AWS).
    pub name_prefix: Option<String>,
    /// Started at or after this (ms since the epoch).
    pub started_from_ms: Option<i64>,
    /// Started before this (ms since the epoch).
    pub started_before_ms: Option<i64>,
}

impl ExecutionSearch {
    fn is_empty(&self) -> bool {
        *self == ExecutionSearch::default()
    }

    fn check(&self) -> Result<(), ServiceError> {
        if let Some(p) = &self.name_prefix
            && p.chars().count() > 80
        {
            return Err(ServiceError::validation(
                "A name prefix is at most 80 characters (an execution name's length)",
            ));
        }
        if let (Some(from), Some(before)) = (self.started_from_ms, self.started_before_ms)
            && from >= before
        {
            return Err(ServiceError::validation(
                "The start of the time range must be before its end",
            ));
        }
        Ok(())
    }

    fn narrow(&self, filter: ExecutionFilter) -> ExecutionFilter {
        ExecutionFilter {
            name_prefix: self.name_prefix.clone().filter(|p| !p.is_empty()),
            started_from_ms: self.started_from_ms,
            started_before_ms: self.started_before_ms,
            ..filter
        }
    }

    /// What a page token is bound to: the listed ARN, and the search when there is one (so
    /// ListExecutions' own tokens are unchanged).
    fn scope(&self, arn: &str) -> String {
        if self.is_empty() {
            arn.to_owned()
        } else {
            format!(
                "{arn} name^={} from={} before={}",
                self.name_prefix.as_deref().unwrap_or(""),
                self.started_from_ms
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
                self.started_before_ms
                    .map(|t| t.to_string())
                    .unwrap_or_default()
            )
        }
    }
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
        // The router sends it on to the new owner; seen only if that failed too.
        RuntimeError::NotOwner => {
            ServiceError::internal("The execution moved to another node: try again")
        }
    }
}

fn store_failed(e: stepwise_store::StoreError) -> ServiceError {
    runtime_error(RuntimeError::Store(e.to_string()))
}

/// An execution's status as the API writes it.
fn status_of(r: &ExecutionRecord) -> Result<ExecutionStatus, ServiceError> {
    ExecutionStatus::parse(&r.status).ok_or_else(|| {
        ServiceError::internal(format!("execution {} has status {}", r.arn, r.status))
    })
}

/// What ListExecutions shows of an execution; DescribeExecution shows more.
/// Whether a listing shows each execution's `itemCount` (AWS does for a Map Run's children).
#[derive(Debug, Clone, Copy)]
enum Items {
    NotShown,
    /// A Map Run's children; `batched`: each holds a batch (its input's `Items`), else one.
    Counted {
        batched: bool,
    },
}

impl Items {
    fn of(self, r: &ExecutionRecord) -> Option<i64> {
        match self {
            Items::NotShown => None,
            Items::Counted { batched: false } => Some(1),
            Items::Counted { batched: true } => Some(
                serde_json::from_str::<Value>(&r.input)
                    .ok()
                    .and_then(|v| v.get("Items").and_then(Value::as_array).map(Vec::len))
                    .unwrap_or(0) as i64,
            ),
        }
    }
}

fn execution_item(r: &ExecutionRecord) -> Result<ExecutionListItem, ServiceError> {
    Ok(ExecutionListItem {
        stop_date: r.stop_ms.map(seconds),
        state_machine_version_arn: r.version_arn.clone(),
        state_machine_alias_arn: r.alias_arn.clone(),
        redrive_count: Some(i64::from(r.redrive_count)),
        redrive_date: r.redrive_ms.map(seconds),
        ..ExecutionListItem::new(
            &*r.arn,
            &*r.state_machine_arn,
            &*r.name,
            status_of(r)?,
            seconds(r.start_ms),
        )
    })
}

/// Execution data that was kept whole (Stepwise never truncates it).
fn included() -> Option<CloudWatchEventsExecutionDataDetails> {
    Some(CloudWatchEventsExecutionDataDetails::default().included(true))
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

/// AWS's redrive status of an execution in DescribeExecution.
fn redrive_status(status: ExecutionStatus) -> (ExecutionRedriveStatus, Option<String>) {
    use ExecutionStatus as S;
    match status {
        S::Failed | S::TimedOut | S::Aborted => (ExecutionRedriveStatus::Redrivable, None),
        _ => (
            ExecutionRedriveStatus::NotRedrivable,
            Some(format!("Execution is {status} and cannot be redriven")),
        ),
    }
}

impl ExecutionPlane {
    pub(crate) async fn start_execution(
        &self,
        input: StartExecutionInput,
    ) -> Result<StartExecutionOutput, ServiceError> {
        match self.start(self.start_request(input, false)?).await? {
            StartResult::Started { arn, start_ms } => {
                Ok(StartExecutionOutput::new(arn, seconds(start_ms)))
            }
            // Only a request that waits runs to its end.
            StartResult::Finished(record) => Err(ServiceError::internal(format!(
                "StartExecution ran {} to its end",
                record.arn
            ))),
        }
    }

    pub(crate) async fn start_sync_execution(
        &self,
        input: StartSyncExecutionInput,
    ) -> Result<StartSyncExecutionOutput, ServiceError> {
        let StartSyncExecutionInput {
            state_machine_arn,
            name,
            input,
            trace_header,
            included_data: _,
        } = input;
        let request = StartExecutionInput {
            state_machine_arn,
            name,
            input,
            trace_header,
        };
        match self.start(self.start_request(request, true)?).await? {
            StartResult::Started { .. } => Err(ServiceError::state_machine_type_not_supported()),
            StartResult::Finished(record) => sync_response(&record),
        }
    }

    /// What StartExecution or StartSyncExecution (`wait`) asks to start: the name checked (or
    /// a UUID), the input `{}` when there is none.
    fn start_request(
        &self,
        input: StartExecutionInput,
        wait: bool,
    ) -> Result<StartRequest, ServiceError> {
        let name = match input.name {
            Some(n) => {
                arn::check_name(&n)?;
                n
            }
            None => self.runtime.clock().uuid(),
        };
        Ok(StartRequest {
            arn: input.state_machine_arn,
            name,
            input_text: input.input.unwrap_or_else(|| "{}".to_owned()),
            trace_header: input.trace_header,
            parent: None,
            wait,
        })
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
        let target = self.control.resolve_for_start(&target_arn, pick).await?;
        let mocked = match &test_case {
            Some(case) => Some(self.test_case(&target.state_machine_name, case)?),
            None => None,
        };
        let machine = self
            .runtime
            .machine(&target.definition_hash, &target.definition)
            .map_err(runtime_error)?;
        let start_ms = self.runtime.clock().now_ms();
        // In the state machine's account, whoever starts it.
        let arns = Arns::of(&target.state_machine_arn).unwrap_or_else(|| self.control.arns());
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
            version_arn: target.version_arn.clone(),
            alias_arn: target.alias_arn.clone(),
            trace_header,
            parent,
            test_case,
            ..running_record(
                arn,
                target.state_machine_arn.clone(),
                name,
                input_text,
                target.definition_hash.clone(),
                target.role_arn.clone(),
                start_ms,
            )
        };
        // A traced execution started with no trace header gets one (AWS's X-Ray does the
        // same): its calls carry it, and DescribeExecution shows it.
        if target.tracing && record.trace_header.is_none() {
            let random = self.runtime.clock().random_u64();
            record.trace_header = Some(TraceContext::new_header(start_ms, random));
        }
        let logging = log_settings(&target.logging, trace_of(target.tracing, &record));
        if target.express {
            let info = express_info(&target, &record.arn, &record.name, start_ms);
            let arn = record.arn.clone();
            if wait {
                self.run_express_to_end(&mut record, machine, info, value, mocked, logging)
                    .await;
                return Ok(StartResult::Finished(Box::new(record)));
            }
            let runtime = self.runtime.clone();
            tokio::spawn(async move {
                runtime
                    .run_express(machine, info, value, record.input, mocked, logging)
                    .await;
            });
            return Ok(StartResult::Started { arn, start_ms });
        }
        self.runtime.execution_logs().note(&record.arn, logging);
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

    async fn record(&self, arn: &str) -> Result<ExecutionRecord, ServiceError> {
        arn::expect_standard_execution(arn)?;
        self.runtime
            .store()
            .get_execution(arn)
            .await
            .map_err(store_failed)?
            .ok_or_else(|| ServiceError::execution_does_not_exist(arn))
    }

    pub(crate) async fn describe_execution(
        &self,
        input: DescribeExecutionInput,
    ) -> Result<DescribeExecutionOutput, ServiceError> {
        let r = self.record(&input.execution_arn).await?;
        let item = execution_item(&r)?;
        let (redrive_status, redrive_status_reason) = redrive_status(item.status);
        let succeeded = item.status == ExecutionStatus::Succeeded;
        Ok(DescribeExecutionOutput {
            execution_arn: item.execution_arn,
            state_machine_arn: item.state_machine_arn,
            name: Some(item.name),
            status: item.status,
            start_date: item.start_date,
            stop_date: item.stop_date,
            input: Some(r.input),
            input_details: included(),
            output: r.output.filter(|_| succeeded),
            output_details: included().filter(|_| succeeded),
            trace_header: r.trace_header,
            map_run_arn: r.map_run_arn,
            error: r.error,
            cause: r.cause,
            state_machine_version_arn: item.state_machine_version_arn,
            state_machine_alias_arn: item.state_machine_alias_arn,
            redrive_count: item.redrive_count,
            redrive_date: item.redrive_date,
            redrive_status: Some(redrive_status),
            redrive_status_reason,
        })
    }

    pub(crate) async fn list_executions(
        &self,
        input: ListExecutionsInput,
    ) -> Result<ListExecutionsOutput, ServiceError> {
        self.list_executions_matching(input, &ExecutionSearch::default())
            .await
    }

    /// ListExecutions narrowed further by `search` (the console's filters; AWS's action has
    /// none of them). The page token is bound to the search as well as the ARN.
    pub(crate) async fn list_executions_matching(
        &self,
        input: ListExecutionsInput,
        search: &ExecutionSearch,
    ) -> Result<ListExecutionsOutput, ServiceError> {
        search.check()?;
        if let Some(map_run) = input.map_run_arn {
            let status = input.status_filter.map(|s| s.as_str().to_owned());
            return self
                .list_map_run_children(
                    map_run,
                    status,
                    search,
                    input.next_token.as_deref(),
                    input.max_results,
                )
                .await;
        }
        let Some(sm) = input.state_machine_arn else {
            return Err(ServiceError::validation(
                "Must provide a StateMachine ARN or MapRun ARN",
            ));
        };
        let parsed = arn::parse(&sm)?;
        let mut filter = search.narrow(ExecutionFilter {
            status: input.status_filter.map(|s| s.as_str().to_owned()),
            ..ExecutionFilter::default()
        });
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
        let known = store.get_resource(&sm).await.map_err(store_failed)?;
        if known.is_none_or(|r| r.kind != kind) {
            return Err(ServiceError::state_machine_does_not_exist(&sm));
        }
        // Express executions are not listed: AWS refuses the action for Express state machines.
        if self.control.is_express(&sm).await? == Some(true) {
            return Err(ServiceError::state_machine_type_not_supported());
        }
        self.executions_page(
            &filter,
            &search.scope(&sm),
            (input.next_token.as_deref(), input.max_results),
            Items::NotShown,
        )
        .await
    }

    /// One page of the executions `filter` selects, newest first; `scope` binds the page
    /// token to the ARN it lists.
    async fn executions_page(
        &self,
        filter: &ExecutionFilter,
        scope: &str,
        (next_token, max_results): (Option<&str>, Option<i64>),
        items: Items,
    ) -> Result<ListExecutionsOutput, ServiceError> {
        let limit = page_size(max_results);
        let after: Option<ExecutionCursor> = token_of(next_token, "ListExecutions", scope)?;
        let fetched = self
            .runtime
            .store()
            .list_executions(filter, after.as_ref(), limit + 1)
            .await
            .map_err(store_failed)?;
        let page = cut_page(fetched, limit, "ListExecutions", scope, |r| {
            ExecutionCursor {
                start_ms: r.start_ms,
                arn: r.arn.clone(),
            }
        });
        Ok(ListExecutionsOutput {
            executions: page
                .items
                .iter()
                .map(|r| {
                    let mut item = execution_item(r)?;
                    item.item_count = items.of(r);
                    Ok(item)
                })
                .collect::<Result<_, ServiceError>>()?,
            next_token: page.next_token,
        })
    }

    /// ListExecutions(`mapRunArn`): a Map Run's child executions, newest first.
    async fn list_map_run_children(
        &self,
        map_run: String,
        status: Option<String>,
        search: &ExecutionSearch,
        next_token: Option<&str>,
        max_results: Option<i64>,
    ) -> Result<ListExecutionsOutput, ServiceError> {
        expect_map_run(&map_run)?;
        let store = self.runtime.store();
        let filter = search.narrow(ExecutionFilter {
            map_run_arn: Some(map_run.clone()),
            status,
            ..ExecutionFilter::default()
        });
        let run = store
            .get_map_run(&map_run)
            .await
            .map_err(store_failed)?
            .ok_or_else(|| ServiceError::resource_not_found(&map_run))?;
        // A Map Run's children show how many items each processed: one, or its batch's.
        let counted = Items::Counted {
            batched: run.items.is_some(),
        };
        self.executions_page(
            &filter,
            &search.scope(&map_run),
            (next_token, max_results),
            counted,
        )
        .await
    }

    pub(crate) async fn get_execution_history(
        &self,
        input: GetExecutionHistoryInput,
    ) -> Result<GetExecutionHistoryOutput, ServiceError> {
        let arn = &*input.execution_arn;
        let r = self.record(arn).await?;
        let reverse = input.reverse_order.unwrap_or(false);
        let include_data = input.include_execution_data.unwrap_or(true);
        let limit = page_size(input.max_results) as u64;
        let scope = format!("{arn}:{reverse}");
        let after: Option<u64> =
            token_of(input.next_token.as_deref(), "GetExecutionHistory", &scope)?;
        let total = r.event_count;
        let (from, to) = if reverse {
            let top = after.map_or(total, |a| a.saturating_sub(1));
            (top.saturating_sub(limit - 1).max(1), top)
        } else {
            let bottom = after.map_or(1, |a| a + 1);
            (bottom, (bottom + limit - 1).min(total))
        };
        let mut events = if from > to || total == 0 {
            Vec::new()
        } else {
            self.runtime
                .store()
                .history(arn, from, to)
                .await
                .map_err(store_failed)?
                .iter()
                .map(|text| history_event(text, include_data))
                .collect::<Result<Vec<_>, _>>()?
        };
        if reverse {
            events.reverse();
        }
        let more = if reverse { from > 1 } else { to < total };
        let next_token = more.then(|| {
            let last = if reverse { from } else { to };
            paging::encode_token("GetExecutionHistory", &scope, &last)
        });
        Ok(GetExecutionHistoryOutput { events, next_token })
    }

    pub(crate) async fn stop_execution(
        &self,
        input: StopExecutionInput,
    ) -> Result<StopExecutionOutput, ServiceError> {
        self.record(&input.execution_arn).await?;
        let stop = self
            .runtime
            .stop_execution(input.execution_arn, input.error, input.cause)
            .await
            .map_err(runtime_error)?;
        Ok(StopExecutionOutput::new(seconds(stop)))
    }

    pub(crate) async fn redrive_execution(
        &self,
        input: RedriveExecutionInput,
    ) -> Result<RedriveExecutionOutput, ServiceError> {
        self.record(&input.execution_arn).await?;
        let at = self
            .runtime
            .redrive_execution(input.execution_arn)
            .await
            .map_err(runtime_error)?;
        Ok(RedriveExecutionOutput::new(seconds(at)))
    }

    pub(crate) async fn get_activity_task(
        &self,
        input: GetActivityTaskInput,
    ) -> Result<GetActivityTaskOutput, ServiceError> {
        let activity = &*input.activity_arn;
        arn::expect_activity(activity)?;
        let exists = self
            .runtime
            .store()
            .get_resource(activity)
            .await
            .map_err(store_failed)?
            .is_some_and(|r| r.kind == ResourceKind::Activity);
        if !exists {
            return Err(ServiceError::activity_does_not_exist(activity));
        }
        let worker = input.worker_name.unwrap_or_default();
        let task = self
            .runtime
            .get_activity_task(activity, &worker, self.activity_poll)
            .await
            .map_err(runtime_error)?;
        Ok(match task {
            Some(t) => GetActivityTaskOutput::default()
                .task_token(t.token)
                .input(t.input),
            None => GetActivityTaskOutput::default(),
        })
    }

    pub(crate) async fn send_task_success(
        &self,
        input: SendTaskSuccessInput,
    ) -> Result<SendTaskSuccessOutput, ServiceError> {
        let output = input.output;
        self.send_task(&input.task_token, move || {
            let value = stepwise_asl::parse_json(&output).map_err(|e| {
                ServiceError::invalid_output(format!("Invalid Output: '{}'", e.message))
            })?;
            Ok(TaskAnswer::Succeeded(value))
        })
        .await?;
        Ok(SendTaskSuccessOutput::new())
    }

    pub(crate) async fn send_task_failure(
        &self,
        input: SendTaskFailureInput,
    ) -> Result<SendTaskFailureOutput, ServiceError> {
        let (error, cause) = (input.error, input.cause);
        self.send_task(&input.task_token, move || {
            Ok(TaskAnswer::Failed { error, cause })
        })
        .await?;
        Ok(SendTaskFailureOutput::new())
    }

    pub(crate) async fn send_task_heartbeat(
        &self,
        input: SendTaskHeartbeatInput,
    ) -> Result<SendTaskHeartbeatOutput, ServiceError> {
        self.send_task(&input.task_token, || Ok(TaskAnswer::Heartbeat))
            .await?;
        Ok(SendTaskHeartbeatOutput::new())
    }

    /// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: the token is checked first, then
    /// the answer made, then the task it names looked up.
    async fn send_task(
        &self,
        token: &str,
        answer: impl FnOnce() -> Result<TaskAnswer, ServiceError>,
    ) -> Result<(), ServiceError> {
        if self.runtime.tokens().decode(token).is_none() {
            return Err(ServiceError::invalid_token("Invalid token"));
        }
        let answer = answer()?;
        let task = self
            .runtime
            .store()
            .task_by_token(token)
            .await
            .map_err(store_failed)?
            // Another account's task is not one this caller can see (a caller is of an
            // account only when the server checks keys).
            .filter(|t| {
                crate::caller::account()
                    .is_none_or(|mine| Arns::of(&t.execution).is_none_or(|of| of.account == mine))
            })
            .ok_or_else(task_gone)?;
        self.runtime
            .answer_task(task, answer)
            .await
            .map_err(runtime_error)
    }

    pub(crate) async fn test_state(
        &self,
        input: TestStateInput,
    ) -> Result<TestStateOutput, ServiceError> {
        let request = test_state_request(input)?;
        let clock = self.runtime.clock();
        let seed = clock.random_u64();
        let now = time_of(clock.now_ms());
        let execution = self.control.arns().execution("TestState", &clock.uuid());
        match self
            .runtime
            .test_state(request, &execution, now, seed)
            .await
        {
            // The engine answers in the model's JSON shape.
            Ok(answer) => serde_json::from_value(answer).map_err(|e| {
                ServiceError::internal(format!("TestState answered outside the model: {e}"))
            }),
            Err(TestStateFailed::Refused(code, message)) => {
                Err(ServiceError::client(&code, message))
            }
            Err(TestStateFailed::Crashed(why)) => Err(ServiceError::internal(format!(
                "TestState stopped unexpectedly: {why}"
            ))),
        }
    }

    /// A Map Run: its row (status, dates, concurrency, tolerance, how many children) and its
    /// children's statuses, counted.
    pub(crate) async fn describe_map_run(
        &self,
        input: DescribeMapRunInput,
    ) -> Result<DescribeMapRunOutput, ServiceError> {
        let arn = &*input.map_run_arn;
        expect_map_run(arn)?;
        let store = self.runtime.store();
        let run = store
            .get_map_run(arn)
            .await
            .map_err(store_failed)?
            .ok_or_else(|| ServiceError::resource_not_found(arn))?;
        let counted = store
            .map_run_counts(arn, run.items.is_some())
            .await
            .map_err(store_failed)?;
        // Children counted by status: as executions, and as the items they hold (one each,
        // or a batch's `Items`).
        let counts = |per_child: &dyn Fn(&stepwise_store::MapRunCount) -> u64,
                      total: Option<u64>| {
            let of = |status: &str| -> i64 {
                counted
                    .iter()
                    .filter(|c| c.status == status)
                    .map(|c| per_child(c) as i64)
                    .sum()
            };
            let started: i64 = counted.iter().map(|c| per_child(c) as i64).sum();
            let total = total.map_or(started, |n| n as i64).max(started);
            (
                total - started,
                of("RUNNING"),
                of("SUCCEEDED"),
                of("FAILED"),
                of("TIMED_OUT"),
                of("ABORTED"),
                total,
            )
        };
        let (pending, running, succeeded, failed, timed_out, aborted, total) =
            counts(&|c| c.executions, run.children);
        let items = match run.items {
            Some(n) => counts(&|c| c.batched_items, Some(n)),
            None => (
                pending, running, succeeded, failed, timed_out, aborted, total,
            ),
        };
        let status = MapRunStatus::parse(&run.status).ok_or_else(|| {
            ServiceError::internal(format!("Map Run {arn} has the status {}", run.status))
        })?;
        let mut out = DescribeMapRunOutput::new(
            arn,
            run.execution.as_str(),
            status,
            seconds(run.start_ms),
            run.max_concurrency as i64,
            run.tolerated_failure_percentage.unwrap_or(0.0),
            run.tolerated_failure_count.unwrap_or(0.0) as i64,
            MapRunItemCounts::new(
                items.0, items.1, items.2, items.3, items.4, items.5, items.6, 0,
            ),
            MapRunExecutionCounts::new(
                pending, running, succeeded, failed, timed_out, aborted, total, 0,
            ),
        );
        out.stop_date = run.stop_ms.map(seconds);
        out.redrive_count = Some(i64::from(run.redrive_count));
        out.redrive_date = run.redrive_ms.map(seconds);
        Ok(out)
    }

    /// UpdateMapRun: a running Map Run's MaxConcurrency and tolerated failures.
    pub(crate) async fn update_map_run(
        &self,
        input: UpdateMapRunInput,
    ) -> Result<UpdateMapRunOutput, ServiceError> {
        let arn = &*input.map_run_arn;
        expect_map_run(arn)?;
        let run = self
            .runtime
            .store()
            .get_map_run(arn)
            .await
            .map_err(store_failed)?
            .ok_or_else(|| ServiceError::resource_not_found(arn))?;
        if input.max_concurrency.is_none()
            && input.tolerated_failure_count.is_none()
            && input.tolerated_failure_percentage.is_none()
        {
            return Err(ServiceError::validation(
                "At least one of the parameters maxConcurrency, toleratedFailurePercentage or \
                 toleratedFailureCount must be specified",
            ));
        }
        if let Some(p) = input.tolerated_failure_percentage {
            if !(0.0..=100.0).contains(&p) {
                return Err(ServiceError::validation(
                    "toleratedFailurePercentage must be between 0 and 100",
                ));
            }
        }
        match self
            .runtime
            .update_map_run(
                run.execution,
                arn.to_owned(),
                // A setting left out stays as it is.
                Some(
                    input
                        .max_concurrency
                        .map_or(run.max_concurrency, |m| m.max(0) as u64),
                ),
                input
                    .tolerated_failure_count
                    .map(|c| c.max(0) as f64)
                    .or(run.tolerated_failure_count),
                input
                    .tolerated_failure_percentage
                    .or(run.tolerated_failure_percentage),
            )
            .await
        {
            Ok(_) => Ok(UpdateMapRunOutput {}),
            // The run is over: nothing to change.
            Err(RuntimeError::NotRunning | RuntimeError::UnexpectedEvent(_)) => {
                Err(ServiceError::resource_not_found(arn))
            }
            Err(e) => Err(runtime_error(e)),
        }
    }

    /// The Map Runs an execution's Distributed Maps started, oldest first.
    pub(crate) async fn list_map_runs(
        &self,
        input: ListMapRunsInput,
    ) -> Result<ListMapRunsOutput, ServiceError> {
        self.record(&input.execution_arn).await?;
        let runs = self
            .runtime
            .store()
            .map_runs_of(&input.execution_arn)
            .await
            .map_err(store_failed)?;
        let items = runs
            .into_iter()
            .map(|r| {
                let mut item = MapRunListItem::new(
                    r.execution.as_str(),
                    r.arn.as_str(),
                    map_run_state_machine(&r.arn),
                    seconds(r.start_ms),
                );
                item.stop_date = r.stop_ms.map(seconds);
                item
            })
            .collect::<Vec<_>>();
        Ok(ListMapRunsOutput::new(items))
    }
}

/// A Map Run ARN, or AWS's refusal of another kind.
fn expect_map_run(arn: &str) -> Result<(), ServiceError> {
    match arn::parse(arn)?.resource {
        Resource::MapRun { .. } => Ok(()),
        other => Err(ServiceError::invalid_arn(format!(
            "Resource type not valid in this context: {}",
            other.type_name()
        ))),
    }
}

/// The state machine a Map Run's children run: `…:stateMachine:STATE_MACHINE/LABEL`.
fn map_run_state_machine(map_run: &str) -> String {
    match map_run.split_once(":mapRun:") {
        Some((prefix, rest)) => {
            let labeled = rest.rsplit_once(':').map_or(rest, |(l, _)| l);
            format!("{prefix}:stateMachine:{labeled}")
        }
        None => map_run.to_owned(),
    }
}

/// One stored history event (the engine's JSON text) as GetExecutionHistory returns it,
/// without its execution data unless `include_data`.
fn history_event(text: &str, include_data: bool) -> Result<HistoryEvent, ServiceError> {
    let unreadable =
        |e: serde_json::Error| ServiceError::internal(format!("unreadable history event: {e}"));
    if include_data {
        return serde_json::from_str(text).map_err(unreadable);
    }
    let mut event: Value = serde_json::from_str(text).map_err(unreadable)?;
    strip_data(&mut event);
    serde_json::from_value(event).map_err(unreadable)
}

/// TestState's request as the engine takes it.
fn test_state_request(input: TestStateInput) -> Result<TestStateRequest, ServiceError> {
    use engine_test_state::{
        FieldValidationMode, InspectionLevel as Level, MockErrorOutput, TestStateConfiguration,
        TestStateMock,
    };
    let out_of_range = |member: &str, n: i64| {
        ServiceError::validation(format!(
            "Invalid TestState request: {member} {n} is out of range"
        ))
    };
    let state_configuration = match input.state_configuration {
        Some(c) => Some(TestStateConfiguration {
            retrier_retry_count: c
                .retrier_retry_count
                .map(|n| u32::try_from(n).map_err(|_| out_of_range("retrierRetryCount", n)))
                .transpose()?,
            error_caused_by_state: c.error_caused_by_state,
            map_iteration_failure_count: c
                .map_iteration_failure_count
                .map(|n| u64::try_from(n).map_err(|_| out_of_range("mapIterationFailureCount", n)))
                .transpose()?,
            map_item_reader_data: c.map_item_reader_data,
        }),
        None => None,
    };
    Ok(TestStateRequest {
        definition: input.definition,
        role_arn: input.role_arn,
        input: input.input,
        inspection_level: match input.inspection_level {
            None | Some(InspectionLevel::Info) => Level::Info,
            Some(InspectionLevel::Debug) => Level::Debug,
            Some(InspectionLevel::Trace) => Level::Trace,
        },
        reveal_secrets: input.reveal_secrets.unwrap_or(false),
        variables: input.variables,
        state_name: input.state_name,
        mock: input.mock.map(|m| TestStateMock {
            result: m.result,
            error_output: m.error_output.map(|e| MockErrorOutput {
                error: e.error,
                cause: e.cause,
            }),
            field_validation_mode: match m.field_validation_mode {
                None | Some(MockResponseValidationMode::Strict) => FieldValidationMode::Strict,
                Some(MockResponseValidationMode::Present) => FieldValidationMode::Present,
                Some(MockResponseValidationMode::None) => FieldValidationMode::None,
            },
        }),
        context: input.context,
        state_configuration,
    })
}

/// Drops execution data (inputs, outputs) from a history event, as `includeExecutionData:
/// false` asks; not a member the model requires (`TaskScheduledEventDetails.parameters`),
/// which every client reading the answer expects.
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
                if key == "taskScheduledEventDetails" && field == "parameters" {
                    continue;
                }
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
        if request.map_run.is_some() {
            return self.start_map_run_child(request).await;
        }
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

impl ExecutionPlane {
    /// Runs an Express execution to its end; its record gets how it ended.
    async fn run_express_to_end(
        &self,
        record: &mut ExecutionRecord,
        machine: Arc<stepwise_asl::StateMachine>,
        info: ExecutionInfo,
        value: Value,
        mocked: Option<TestCase>,
        logging: Option<LogSettings>,
    ) {
        let outcome = self
            .runtime
            .run_express(machine, info, value, record.input.clone(), mocked, logging)
            .await;
        let c = outcome.completion;
        record.status = c.status.as_str().to_owned();
        record.stop_ms = Some(outcome.stop_ms);
        record.output = c.output.map(|v| v.to_string());
        record.error = c.error;
        record.cause = c.cause;
    }

    /// A child execution of a Distributed Map's Map Run: the ItemProcessor's definition (kept
    /// by hash like any other), named `STATE_MACHINE/LABEL:NAME` after its Map Run, run as the
    /// parent's role; its record names its Map Run. Starting the same child again finds it.
    async fn start_map_run_child(&self, request: ChildStart) -> Result<ChildStarted, ServiceError> {
        let Some(map_run) = request.map_run else {
            return Err(ServiceError::internal("not a Map Run's child"));
        };
        let parsed = arn::parse(&map_run.map_run_arn)?;
        // In the Map Run's account.
        let arns = Arns::new(parsed.region, parsed.account);
        let (state_machine, label) = match parsed.resource {
            Resource::MapRun {
                state_machine,
                label,
                ..
            } => (state_machine, label),
            other => {
                return Err(ServiceError::invalid_arn(format!(
                    "Resource type not valid in this context: {}",
                    other.type_name()
                )));
            }
        };
        let labeled = format!("{state_machine}/{label}");
        let value = parse_input(&request.input)?;
        let hash = crate::control::definition_hash(&map_run.definition);
        self.runtime
            .store()
            .put_definition(&hash, &map_run.definition)
            .await
            .map_err(store_failed)?;
        let machine = self
            .runtime
            .machine(&hash, &map_run.definition)
            .map_err(runtime_error)?;
        let start_ms = self.runtime.clock().now_ms();
        let arn = if map_run.express {
            arns.express_execution(&labeled, &request.name, &self.runtime.clock().uuid())
        } else {
            arns.execution(&labeled, &request.name)
        };
        let mut record = ExecutionRecord {
            parent: request.parent,
            map_run_arn: Some(map_run.map_run_arn),
            map_run_index: map_run.index,
            ..running_record(
                arn,
                arns.state_machine(&labeled),
                request.name,
                request.input,
                hash,
                map_run.role_arn,
                start_ms,
            )
        };
        if map_run.express {
            let info = stepwise_runtime::execution_info(
                &record.arn,
                &record.name,
                &record.state_machine_arn,
                None,
                &record.role_arn,
                start_ms,
                0,
            );
            self.run_express_to_end(&mut record, machine, info, value, None, None)
                .await;
            // Kept, ended, so that its Map Run lists and counts it; it has no history.
            let batch = stepwise_store::Batch {
                new_executions: vec![record.clone()],
                ..stepwise_store::Batch::default()
            };
            match self.runtime.store().commit(&batch).await {
                // Run again after a restart: the first run's record stands.
                Ok(()) | Err(stepwise_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(store_failed(e)),
            }
            return Ok(ChildStarted::Finished(Box::new(record)));
        }
        let started = self
            .runtime
            .start_execution(record, machine, value)
            .await
            .map_err(runtime_error)?;
        Ok(ChildStarted::Started {
            arn: started.arn,
            start_ms: started.start_ms,
        })
    }
}

/// A new execution's record, running, with nothing optional set.
fn running_record(
    arn: String,
    state_machine_arn: String,
    name: String,
    input: String,
    definition_hash: String,
    role_arn: String,
    start_ms: i64,
) -> ExecutionRecord {
    ExecutionRecord {
        arn,
        state_machine_arn,
        version_arn: None,
        alias_arn: None,
        name,
        status: Status::Running.as_str().into(),
        start_ms,
        stop_ms: None,
        input,
        output: None,
        error: None,
        cause: None,
        definition_hash,
        role_arn,
        trace_header: None,
        redrive_count: 0,
        redrive_ms: None,
        event_count: 0,
        step_count: 0,
        parent: None,
        test_case: None,
        history_digest: None,
        clock_offset_ms: 0,
        map_run_arn: None,
        map_run_index: None,
    }
}

/// A `loggingConfiguration` as the runtime's execution logs take it (`None` when OFF or
/// without a destination).
fn log_settings(
    logging: &crate::types::LoggingConfiguration,
    trace: Option<TraceContext>,
) -> Option<LogSettings> {
    let group = logging.destinations.as_ref().and_then(|d| {
        d.iter()
            .find_map(|d| d.cloud_watch_logs_log_group.as_ref()?.log_group_arn.clone())
    });
    let level = match (logging.level, &group) {
        (Some(LogLevel::All), Some(_)) => Level::All,
        (Some(LogLevel::Error), Some(_)) => Level::Error,
        (Some(LogLevel::Fatal), Some(_)) => Level::Fatal,
        _ if trace.is_some() => Level::Off,
        _ => return None,
    };
    Some(LogSettings {
        level,
        include_execution_data: logging.include_execution_data.unwrap_or(false),
        log_group_arn: group.unwrap_or_default(),
        trace,
    })
}

/// The trace of an execution whose state machine traces (`None` otherwise).
fn trace_of(tracing: bool, record: &ExecutionRecord) -> Option<TraceContext> {
    tracing.then(|| TraceContext::of(record.trace_header.as_deref(), &record.arn))
}

/// How the execution logs learn the settings of a Standard execution they were not told about
/// at its start (one started before a restart, or redriven): from its record and its state
/// machine's or version's.
impl SettingsSource for ExecutionPlane {
    fn settings(&self, execution_arn: &str) -> Option<(LogSettings, u64)> {
        let handle = tokio::runtime::Handle::try_current().ok()?;
        handle.block_on(async {
            let record = self
                .runtime
                .store()
                .get_execution(execution_arn)
                .await
                .ok()
                .flatten()?;
            let (logging, tracing) = self
                .control
                .logging_of(&record.state_machine_arn, record.version_arn.as_deref())
                .await
                .ok()
                .flatten()?;
            let settings = log_settings(&logging, trace_of(tracing, &record))?;
            Some((settings, u64::from(record.redrive_count)))
        })
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
fn sync_response(r: &ExecutionRecord) -> Result<StartSyncExecutionOutput, ServiceError> {
    let stop_ms = r.stop_ms.unwrap_or(r.start_ms);
    let status = SyncExecutionStatus::parse(&r.status).ok_or_else(|| {
        ServiceError::internal(format!("{} ended {}, not a sync status", r.arn, r.status))
    })?;
    let billed = ((stop_ms - r.start_ms).max(1) + 99) / 100 * 100;
    Ok(StartSyncExecutionOutput {
        state_machine_arn: Some(r.state_machine_arn.clone()),
        name: Some(r.name.clone()),
        error: r.error.clone(),
        cause: r.cause.clone(),
        input: Some(r.input.clone()),
        input_details: included(),
        output: r
            .output
            .clone()
            .filter(|_| status == SyncExecutionStatus::Succeeded),
        output_details: included(),
        billing_details: Some(
            BillingDetails::default()
                .billed_memory_used_in_mb(64)
                .billed_duration_in_milliseconds(billed),
        ),
        ..StartSyncExecutionOutput::new(&*r.arn, seconds(r.start_ms), seconds(stop_ms), status)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_without_execution_data_keeps_what_the_model_requires() {
        let scheduled = serde_json::json!({
            "id": 3, "previousEventId": 2, "timestamp": 1.0, "type": "TaskScheduled",
            "taskScheduledEventDetails": {"resourceType": "sqs", "resource": "sendMessage",
                "region": "us-east-1", "parameters": "{\"QueueUrl\":\"q\"}"},
        });
        let event = history_event(&scheduled.to_string(), false).expect("readable");
        let details = event.task_scheduled_event_details.expect("details");
        assert_eq!(details.parameters, "{\"QueueUrl\":\"q\"}");
        let succeeded = serde_json::json!({
            "id": 5, "previousEventId": 4, "timestamp": 1.0, "type": "TaskSucceeded",
            "taskSucceededEventDetails": {"resourceType": "sqs", "resource": "sendMessage",
                "output": "{}"},
        });
        let event = history_event(&succeeded.to_string(), false).expect("readable");
        assert_eq!(
            event.task_succeeded_event_details.expect("details").output,
            None
        );
    }

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
        assert_eq!(
            parse_input(" {\"a\": 1} ").unwrap(),
            serde_json::json!({"a": 1})
        );
    }
}
