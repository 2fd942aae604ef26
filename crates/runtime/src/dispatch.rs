//! Runs the tasks of Standard executions that are not activities: the HTTP Task, Lambda, nested
//! executions, and the `.waitForTaskToken` callbacks of any of them.
//!
//! A task the engine schedules becomes a row in the store's task table (queue [`QUEUE`]) in
//! the same commit as the TaskScheduled event, and only after that commit is it handed to the
//! dispatcher, which calls the integration on the async runtime and sends the outcome back to
//! the driver as a task answer. A row whose call has not been answered is still queued after a
//! crash and is called again when the server starts (at least once, as AWS's own retries are).
//! A row whose call was accepted (`.waitForTaskToken`, `.sync`) is marked submitted: it is then
//! waiting for SendTaskSuccess or for its child execution, and a restart leaves it alone.
//!
//! The `.sync` jobs of the optimized integrations (Glue, Athena, Batch, ECS, CodeBuild) are
//! polled here: once the start call is answered, the row is marked submitted with the job it
//! started as its worker (`#poll:{...}`, see [`poll_worker`]), and the job is described every
//! poll interval until it is over, which answers the task. A row marked so is, at start-up,
//! polled again rather than called again: a restart never starts a second job. A task that
//! ends some other way (its timeout, the execution stopped) stops the poll, which stops the job.

use std::sync::Arc;

use crate::clock::Clock;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use stepwise_asl::parse::{Pattern, Resource, classify};
use stepwise_engine::TaskRequest;
use stepwise_store::{ExecutionRecord, TaskRow};
use stepwise_tasks::{CallContext, Integrations, JobRef, JobState, Outcome};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::driver::{RuntimeError, TaskAnswer};
use crate::shared::Shared;

/// The task-table queue that holds dispatched calls (activity ARNs never start with `#`).
pub(crate) const QUEUE: &str = "#dispatch";
/// What a submitted row's worker says when nothing more specific (a child ARN) is known.
pub(crate) const SUBMITTED: &str = "#submitted";
/// How a submitted row's worker names the `.sync` job it polls: `#poll:` and the job as JSON.
pub(crate) const POLL: &str = "#poll:";

/// The worker of a row whose task polls `job`.
pub(crate) fn poll_worker(job: &JobRef) -> String {
    format!("{POLL}{}", serde_json::to_string(job).unwrap_or_default())
}

/// The job a row's worker names, if it polls one.
pub(crate) fn polled_job(worker: &str) -> Option<JobRef> {
    serde_json::from_str(worker.strip_prefix(POLL)?).ok()
}

/// The call a dispatched task makes, kept in its row so that it can be made again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Call {
    pub resource: String,
    pub state: String,
    pub parameters: Value,
    /// The state's `Credentials`, evaluated (rows written before they were kept have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Value>,
    /// A Distributed Map's item reader, not a Task's call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub item_reader: bool,
    /// A Distributed Map's Map Run (its parameters a `MapRunSpec`), run by
    /// [`crate::map_run`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub map_run: bool,
    /// The trace headers the call carries (its execution has a trace header): the context of
    /// the task attempt's span ([`crate::trace::task_span`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<(String, String)>,
}

impl Call {
    /// The call a task of the engine asks for.
    pub(crate) fn of(request: TaskRequest) -> Call {
        Call {
            trace: Vec::new(),
            item_reader: request.kind == stepwise_engine::TaskKind::ItemReader,
            map_run: request.kind == stepwise_engine::TaskKind::MapRun,
            resource: request.resource,
            state: request.state_name,
            parameters: request.input,
            credentials: request.credentials,
        }
    }

    /// The role the call is made as (`Credentials.RoleArn`).
    pub(crate) fn role_arn(&self) -> Option<&str> {
        self.credentials.as_ref()?.get("RoleArn")?.as_str()
    }
}

/// A call to make for one task of one execution.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub execution: String,
    pub task: u64,
    pub token: String,
    pub call: Call,
    /// The `.sync` job the call already started: poll it rather than call again.
    pub resume: Option<JobRef>,
}

impl Job {
    pub(crate) fn from_row(row: &TaskRow) -> Option<Job> {
        Some(Job {
            execution: row.execution.clone(),
            task: row.task,
            token: row.token.clone(),
            call: serde_json::from_str(&row.input).ok()?,
            resume: row.worker.as_deref().and_then(polled_job),
        })
    }

    fn row(&self) -> TaskRow {
        TaskRow {
            token: self.token.clone(),
            execution: self.execution.clone(),
            task: self.task,
            activity: QUEUE.to_owned(),
            input: String::new(),
            created_ms: 0,
            worker: None,
        }
    }
}

/// How a child execution started by a `.sync` task reaches its parent: kept (as JSON) in the
/// child's execution record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ParentLink {
    pub execution: String,
    pub task: u64,
    pub token: String,
    /// `.sync:2`: Input and Output as JSON rather than JSON text.
    #[serde(default)]
    pub json: bool,
}

impl ParentLink {
    pub(crate) fn parse(text: &str) -> Option<ParentLink> {
        serde_json::from_str(text).ok()
    }
}

/// A child execution a nested task asks for.
#[derive(Debug, Clone)]
pub struct ChildStart {
    pub state_machine_arn: String,
    pub name: String,
    pub input: String,
    /// Set for `.sync`: the child reports its end to this task.
    pub parent: Option<String>,
    /// For an Express child of a `.sync` task: run it to its end before answering.
    pub wait: bool,
    /// A Distributed Map's child: what it runs, in which Map Run.
    pub map_run: Option<MapRunChild>,
}

/// A child execution of a Distributed Map's Map Run: the ItemProcessor it runs (definition
/// text), as Express or Standard, with the parent's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRunChild {
    pub map_run_arn: String,
    pub definition: String,
    pub express: bool,
    pub role_arn: String,
    /// Its place among the Map Run's children (its item or batch).
    pub index: Option<u64>,
}

/// What starting a child gave.
#[derive(Debug, Clone)]
pub enum ChildStarted {
    Started {
        arn: String,
        start_ms: i64,
    },
    /// An Express child that was run to its end (`wait`).
    Finished(Box<ExecutionRecord>),
}

/// A boxed future, as [`Starter::start_child`] returns it.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Why a child execution was not started: the error StartExecution gave, as the service
/// integration reports it (`StepFunctions.<code>Exception`, with the HTTP status in the cause).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRefused {
    pub code: String,
    pub message: String,
    pub status: u16,
}

/// Starts executions for nested tasks; the service's execution plane does it, with the same checks
/// as StartExecution.
pub trait Starter: Send + Sync + std::fmt::Debug {
    fn start_child(&self, request: ChildStart)
    -> BoxFuture<'_, Result<ChildStarted, ChildRefused>>;
}

/// What a call came to.
#[derive(Debug)]
pub(crate) enum Performed {
    Done(Outcome),
    /// Accepted; the task now waits (for its token or its child). `worker` goes in the row.
    Submitted {
        output: Value,
        worker: String,
    },
    /// Accepted and already over (an Express child run to its end).
    SubmittedThenDone {
        output: Value,
        outcome: Outcome,
    },
}

/// Takes jobs from the driver and runs each on its own task.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    store: Arc<dyn stepwise_store::Store>,
    work: crate::cluster::Router,
    mut jobs: UnboundedReceiver<Job>,
) -> bool {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::error!("no async runtime: tasks other than activities cannot run");
        return false;
    };
    handle.spawn(async move {
        while let Some(job) = jobs.recv().await {
            let shared = shared.clone();
            let work = work.clone();
            let execution = job.execution.clone();
            if job.call.map_run {
                let run = crate::map_run::run(shared.clone(), store.clone(), work, job);
                shared.in_flight.spawn(&execution, run);
                continue;
            }
            shared.clone().in_flight.spawn(&execution, async move {
                if let Some(polled) = job.resume.clone() {
                    let cancelled = shared.watch_poll(&job.token);
                    poll_to_end(&shared, &work, &job, &polled, cancelled).await;
                    return;
                }
                let performed = perform(&shared, &job.execution, Some(&job), &job.call).await;
                let mut answers = Vec::new();
                match performed {
                    Performed::Done(outcome) => answers.push(answer_of(outcome)),
                    Performed::Submitted { output, worker } => {
                        if let Some(polled) = polled_job(&worker) {
                            // Watched before the submission commits, so that a cancel right
                            // after it is heard.
                            let cancelled = shared.watch_poll(&job.token);
                            let answer = TaskAnswer::Submitted { output, worker };
                            match deliver(&work, &job, answer).await {
                                Delivered::Committed => {
                                    poll_to_end(&shared, &work, &job, &polled, cancelled).await
                                }
                                // The task ended while the job started: nobody waits for it.
                                Delivered::Refused => {
                                    shared.forget_poll(&job.token);
                                    shared.integrations.stop_job(&polled).await;
                                }
                                Delivered::Gone => {}
                            }
                            return;
                        }
                        answers.push(TaskAnswer::Submitted { output, worker })
                    }
                    Performed::SubmittedThenDone { output, outcome } => {
                        answers.push(TaskAnswer::Submitted {
                            output,
                            worker: SUBMITTED.into(),
                        });
                        answers.push(answer_of(outcome));
                    }
                }
                for answer in answers {
                    // In order: the submission is committed before the result.
                    if deliver(&work, &job, answer).await == Delivered::Gone {
                        return;
                    }
                }
            });
        }
    });
    true
}

/// The first wait before an answer whose commit failed is sent again; it doubles up to
/// [`RETRY_MAX`].
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(100);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(5);

/// What became of an answer sent to the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivered {
    Committed,
    /// The driver refused it (the task is over: timed out, its execution stopped).
    Refused,
    /// The driver is gone (the server is stopping).
    Gone,
}

/// Sends a call's answer to the driver, again while its commit fails: a failed commit keeps
/// nothing, and nobody else would send it (the row stays queued, called again only when the
/// server starts), so the execution would wait for it forever.
pub(crate) async fn deliver(
    work: &crate::cluster::Router,
    job: &Job,
    answer: TaskAnswer,
) -> Delivered {
    let mut delay = RETRY_FIRST;
    loop {
        let request = crate::cluster::Request::Answer {
            task: job.row(),
            answer: answer.clone(),
        };
        match work.call(request).await {
            // An answer's only store error is its commit's (refusals are TaskDoesNotExist).
            Err(RuntimeError::Store(e)) => {
                tracing::warn!(execution = %job.execution, task = job.task, error = %e,
                    "the commit of a task's answer failed; sending it again");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RETRY_MAX);
            }
            Ok(_) => return Delivered::Committed,
            Err(RuntimeError::ShuttingDown) => return Delivered::Gone,
            Err(_) => return Delivered::Refused,
        }
    }
}

/// Describes errors in a row this many times before one fails the task.
const POLL_ATTEMPTS: u32 = 5;

/// Polls a `.sync` job until it is over and answers its task, or until the task is cancelled
/// (then stops the job).
async fn poll_to_end(
    shared: &Shared,
    work: &crate::cluster::Router,
    job: &Job,
    polled: &JobRef,
    mut cancelled: tokio::sync::oneshot::Receiver<()>,
) {
    let outcome = tokio::select! {
        outcome = poll_until_over(shared, polled) => outcome,
        _ = &mut cancelled => {
            tracing::info!(execution = %job.execution, task = job.task, job = ?polled,
                "the task of a .sync job ended: stopping the job");
            shared.integrations.stop_job(polled).await;
            return;
        }
    };
    shared.forget_poll(&job.token);
    deliver(work, job, answer_of(outcome)).await;
}

/// Describes a job every poll interval until it is over: its outcome. Errors describing it are
/// tried again, [`POLL_ATTEMPTS`] in a row fail the task.
async fn poll_until_over(shared: &Shared, polled: &JobRef) -> Outcome {
    let integrations = &shared.integrations;
    let mut errors = 0;
    loop {
        tokio::time::sleep(integrations.poll_interval()).await;
        match integrations.poll_job(polled).await {
            Ok(JobState::Running) => errors = 0,
            Ok(JobState::Succeeded(result)) => return Outcome::Succeeded(result),
            Ok(JobState::Failed { error, cause }) => return Outcome::Failed { error, cause },
            Err(failed) => {
                errors += 1;
                tracing::warn!(job = ?polled, error = ?failed, "describing a .sync job failed");
                if errors >= POLL_ATTEMPTS {
                    return failed;
                }
            }
        }
    }
}

/// Stops a `.sync` job polled in memory whose task was dropped before the job was over.
struct StopOnDrop {
    integrations: Arc<Integrations>,
    job: Option<JobRef>,
    /// Where the stop is recorded, for whoever must not exit before it is made.
    stops: Arc<crate::shared::Stops>,
}

impl StopOnDrop {
    /// The job is over: nothing to stop.
    fn disarm(mut self) {
        self.job = None;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            let integrations = Arc::clone(&self.integrations);
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                self.stops
                    .add(handle.spawn(async move { integrations.stop_job(&job).await }));
            }
        }
    }
}

/// Hands jobs to the dispatcher.
pub(crate) type Jobs = UnboundedSender<Job>;

fn answer_of(outcome: Outcome) -> TaskAnswer {
    match outcome {
        Outcome::Succeeded(v) => TaskAnswer::Succeeded(v),
        Outcome::Failed { error, cause } => TaskAnswer::Failed {
            error: Some(error),
            cause: Some(cause),
        },
    }
}

/// Makes one call. `job` is `None` for Express executions, which have no task rows (and cannot
/// use `.sync` or `.waitForTaskToken`).
pub(crate) async fn perform(
    shared: &Shared,
    execution: &str,
    job: Option<&Job>,
    call: &Call,
) -> Performed {
    if call.map_run {
        return Performed::Done(Outcome::failed(
            "States.Runtime",
            "a Map Run runs only in a host whose children are executions",
        ));
    }
    if call.item_reader {
        let ctx = CallContext::of_execution(execution);
        let outcome = shared
            .integrations
            .read_items(&call.resource, &call.parameters, &ctx)
            .await;
        return Performed::Done(outcome);
    }
    let resource = classify(&call.resource);
    let pattern = match &resource {
        Some(Resource::Service(s)) => s.pattern,
        _ => Pattern::RequestResponse,
    };
    if resource.as_ref().is_some_and(is_nested) {
        return nested(shared, job, call, pattern).await;
    }
    let ctx = CallContext::of_execution(execution)
        .with_role(call.role_arn())
        .with_idempotency(job.map(|j| uuid_from(&j.token)))
        .with_trace(call.trace.clone());
    if let Some(kind) = Integrations::sync_job(&call.resource) {
        let (output, started) = match shared
            .integrations
            .start_job(kind, &call.parameters, &ctx)
            .await
        {
            Ok(started) => started,
            Err(outcome) => return Performed::Done(outcome),
        };
        return match job {
            // The dispatcher polls it, durably (see `spawn`).
            Some(_) => Performed::Submitted {
                output,
                worker: poll_worker(&started),
            },
            // In memory: polled here, to its end; stopped if the task ends first (its
            // timeout, the execution stopped), which drops this future.
            None => {
                let guard = StopOnDrop {
                    integrations: Arc::clone(&shared.integrations),
                    job: Some(started.clone()),
                    stops: Arc::clone(&shared.stops),
                };
                let outcome = poll_until_over(shared, &started).await;
                guard.disarm();
                Performed::SubmittedThenDone { output, outcome }
            }
        };
    }
    // A `.sync` Stepwise does not wait for (EKS's `runJob`, for one): not called at all.
    if pattern.is_sync() && stepwise_tasks::Target::of(&call.resource).is_some() {
        return Performed::Done(Outcome::failed("States.TaskFailed", unsupported(call)));
    }
    match shared
        .integrations
        .call(&call.resource, &call.parameters, &ctx)
        .await
    {
        Some(Outcome::Succeeded(output)) if pattern == Pattern::WaitForTaskToken => {
            Performed::Submitted {
                output,
                worker: SUBMITTED.into(),
            }
        }
        Some(outcome) => Performed::Done(outcome),
        None => Performed::Done(Outcome::failed("States.TaskFailed", unsupported(call))),
    }
}

/// The cause of a task whose resource Stepwise cannot reach.
pub(crate) fn unsupported(call: &Call) -> String {
    format!(
        "Stepwise cannot call the resource '{}': it runs activities, the HTTP Task, Lambda, \
         nested Step Functions executions, aws-sdk:* integrations and the optimized \
         integrations it lists (or mocks of anything else, with SFN_MOCK_CONFIG)",
        call.resource
    )
}

/// `states:startExecution`, with or without a region and account in the ARN.
pub(crate) fn is_nested(resource: &Resource) -> bool {
    resource
        .integration()
        .is_some_and(|s| s.is("states", "startExecution"))
}

/// `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`.
async fn nested(shared: &Shared, job: Option<&Job>, call: &Call, pattern: Pattern) -> Performed {
    let Some(starter) = shared.starter() else {
        return Performed::Done(Outcome::failed(
            "States.TaskFailed",
            "nested executions need the Step Functions API of `stepwise serve`",
        ));
    };
    let p = &call.parameters;
    let state_machine_arn = p
        .get("StateMachineArn")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // Input may be JSON text, or any JSON value (sent as its text); none is `{}`.
    let input = match p.get("Input") {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    // A name the same call always gives, so that calling again after a crash finds the child
    // it started rather than starting another.
    let name = match p.get("Name").and_then(Value::as_str) {
        Some(n) => n.to_owned(),
        None => job.map_or_else(|| shared.clock.uuid(), |j| uuid_from(&j.token)),
    };
    let sync = matches!(pattern, Pattern::Sync | Pattern::Sync2);
    let parent = match (sync, job) {
        (true, Some(j)) => serde_json::to_string(&ParentLink {
            execution: j.execution.clone(),
            task: j.task,
            token: j.token.clone(),
            json: pattern == Pattern::Sync2,
        })
        .ok(),
        _ => None,
    };
    let request = ChildStart {
        state_machine_arn,
        name,
        input,
        parent,
        wait: sync,
        map_run: None,
    };
    match starter.start_child(request).await {
        Ok(ChildStarted::Started { arn, start_ms }) => {
            let output = start_output(&*shared.clock, &arn, start_ms);
            match pattern {
                Pattern::Sync | Pattern::Sync2 => Performed::Submitted {
                    output,
                    worker: arn,
                },
                Pattern::WaitForTaskToken => Performed::Submitted {
                    output,
                    worker: SUBMITTED.into(),
                },
                _ => Performed::Done(Outcome::Succeeded(output)),
            }
        }
        Ok(ChildStarted::Finished(record)) => Performed::SubmittedThenDone {
            output: start_output(&*shared.clock, &record.arn, record.start_ms),
            outcome: child_outcome(&record, pattern == Pattern::Sync2),
        },
        Err(e) => Performed::Done(Outcome::failed(
            format!(
                "StepFunctions.{}{}",
                e.code,
                if e.code.ends_with("Exception") {
                    ""
                } else {
                    "Exception"
                }
            ),
            format!(
                "{} (Service: AWSStepFunctions; Status Code: {}; Error Code: {}; Request ID: {}; Proxy: null)",
                e.message,
                e.status,
                e.code,
                shared.clock.uuid()
            ),
        )),
    }
}

/// A UUID-shaped name derived from a token.
pub(crate) fn uuid_from(token: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(token.as_bytes());
    let half = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[i..i + 8]);
        u64::from_be_bytes(b)
    };
    stepwise_asl::eval::uuid_v4(half(0), half(8))
}

/// What StartExecution answered, as the service integration shows it.
pub(crate) fn start_output(clock: &dyn Clock, arn: &str, start_ms: i64) -> Value {
    let request_id = clock.uuid();
    let body_len = json!({"executionArn": arn, "startDate": start_ms as f64 / 1000.0})
        .to_string()
        .len();
    let date = crate::time_of(start_ms)
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    json!({
        "ExecutionArn": arn,
        "SdkHttpMetadata": {
            "AllHttpHeaders": {
                "x-amzn-RequestId": [request_id],
                "connection": ["keep-alive"],
                "Content-Length": [body_len.to_string()],
                "Date": [date],
                "Content-Type": ["application/x-amz-json-1.0"]
            },
            "HttpHeaders": {
                "connection": "keep-alive",
                "Content-Length": body_len.to_string(),
                "Content-Type": "application/x-amz-json-1.0",
                "Date": date,
                "x-amzn-RequestId": request_id
            },
            "HttpStatusCode": 200
        },
        "SdkResponseMetadata": {"RequestId": request_id},
        "StartDate": start_ms
    })
}

/// What a `.sync` task gives when its child ended: DescribeExecution's fields, capitalised, with
/// Input and Output as JSON text (`.sync`) or JSON (`.sync:2`). A child that did not succeed
/// fails the task with `States.TaskFailed` and these fields (with its Error and Cause) as the
/// cause.
pub(crate) fn child_outcome(child: &ExecutionRecord, json: bool) -> Outcome {
    let data = |text: &str| -> Value {
        if json {
            serde_json::from_str(text).unwrap_or_else(|_| Value::from(text))
        } else {
            Value::from(text)
        }
    };
    let mut m = Map::new();
    let succeeded = child.status == stepwise_engine::Status::Succeeded.as_str();
    if !succeeded {
        if let Some(c) = &child.cause {
            m.insert("Cause".into(), Value::from(c.as_str()));
        }
        if let Some(e) = &child.error {
            m.insert("Error".into(), Value::from(e.as_str()));
        }
    }
    m.insert("ExecutionArn".into(), Value::from(child.arn.as_str()));
    m.insert("Input".into(), data(&child.input));
    m.insert("InputDetails".into(), json!({"Included": true}));
    m.insert("Name".into(), Value::from(child.name.as_str()));
    if succeeded {
        m.insert(
            "Output".into(),
            data(child.output.as_deref().unwrap_or("null")),
        );
        m.insert("OutputDetails".into(), json!({"Included": true}));
    }
    m.insert("StartDate".into(), Value::from(child.start_ms));
    m.insert(
        "StateMachineArn".into(),
        Value::from(child.state_machine_arn.as_str()),
    );
    m.insert("Status".into(), Value::from(child.status.as_str()));
    if let Some(stop) = child.stop_ms {
        m.insert("StopDate".into(), Value::from(stop));
    }
    let value = Value::Object(m);
    if succeeded {
        Outcome::Succeeded(value)
    } else {
        Outcome::failed("States.TaskFailed", value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_resources_are_recognised() {
        let nested = |r: &str| classify(r).as_ref().is_some_and(is_nested);
        for r in [
            "arn:aws:states:::states:startExecution",
            "arn:aws:states:::states:startExecution.sync",
            "arn:aws:states:::states:startExecution.sync:2",
            "arn:aws:states:::states:startExecution.waitForTaskToken",
            "arn:aws:states:us-east-1:123456789012:states:startExecution.sync:2",
        ] {
            assert!(nested(r), "{r}");
        }
        assert!(!nested("arn:aws:states:::lambda:invoke"));
        assert!(!nested("arn:aws:states:::states:startSyncExecution"));
        assert!(!nested("arn:aws:states:::aws-sdk:sfn:startExecution"));
    }

    #[test]
    fn a_derived_name_is_stable_and_uuid_shaped() {
        let a = uuid_from("token-1");
        assert_eq!(a, uuid_from("token-1"));
        assert_ne!(a, uuid_from("token-2"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn a_failed_child_fails_the_task_with_its_description() {
        let record = stepwise_test_support::records::ExecutionRecordBuilder::new("child", "c")
            .status("FAILED")
            .start_ms(1000)
            .stop_ms(2000)
            .input("{\"a\":1}")
            .with(|r| {
                r.error = Some("Boom".into());
                r.cause = Some("it broke".into());
            })
            .build();
        let Outcome::Failed { error, cause } = child_outcome(&record, false) else {
            panic!("a failed child fails the task");
        };
        assert_eq!(error, "States.TaskFailed");
        let cause: Value = serde_json::from_str(&cause).expect("JSON cause");
        let keys: Vec<&str> = cause
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "Cause",
                "Error",
                "ExecutionArn",
                "Input",
                "InputDetails",
                "Name",
                "StartDate",
                "StateMachineArn",
                "Status",
                "StopDate"
            ]
        );
        assert_eq!(cause["Input"], "{\"a\":1}");
        let mut ok = record.clone();
        ok.status = "SUCCEEDED".into();
        ok.output = Some("{\"b\":2}".into());
        assert_eq!(
            child_outcome(&ok, true),
            Outcome::Succeeded(json!({
                "ExecutionArn": ok.arn, "Input": {"a": 1}, "InputDetails": {"Included": true},
                "Name": "c", "Output": {"b": 2}, "OutputDetails": {"Included": true},
                "StartDate": 1000, "StateMachineArn": ok.state_machine_arn,
                "Status": "SUCCEEDED", "StopDate": 2000
            }))
        );
    }
}
