//! One execution as a deterministic step function: [`Execution::step`] takes an [`Event`]
//! (with the time and a random seed) and returns the history events it produced and the
//! [`Command`]s the caller must carry out.
//!
//! An execution is a tree of frames: the top-level machine, each Parallel branch and each Map
//! iteration. A frame runs its states one after another until one has to wait (a Wait timer, a
//! task, child frames, a retry interval); frames that can run are queued and run in order, so a
//! run is reproducible event for event.
//!
//! The interpreter is split by concern: `frames` (the frame tree), `flow` (entering and leaving
//! states, Retry and Catch), `states` (Pass, Succeed, Fail, Choice, Wait), `task`, `branches`
//! (Parallel and Map), `timers`, `events` (history events) and `eval` (evaluation helpers).

mod branches;
mod children;
mod eval;
mod events;
mod flow;
mod frames;
#[cfg(test)]
mod lifecycle_tests;
pub(crate) mod probe;
mod redrive;
mod states;
mod task;
mod timers;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stepwise_asl::error_names as names;
use stepwise_asl::eval::{Failure, SeededEntropy};
use stepwise_asl::model::StateMachine;

use crate::context::ExecutionInfo;
use crate::history::{EventType, HistoryEvent};
use crate::lang;

use events::{iteration_details, truncated_false};
use flow::Flow;
use frames::Frame;
use task::PendingTask;
use timers::TimerPurpose;

pub use redrive::NotRedrivable;
pub use task::task_kind;
pub use timers::TimerKind;

/// Identifies a frame within one execution.
pub type FrameId = usize;
/// Identifies a task the engine asked its caller to run.
pub type TaskId = u64;
/// Identifies a timer the engine asked its caller to set.
pub type TimerId = u64;

/// What happened, as the engine's caller reports it.
///
/// Serialised as a JSON object tagged by `type` (`{"type": "TaskSucceeded", "task": 3,
/// "output": …}`), with absent optional fields left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// Start the execution with this input. `input_text` is the input exactly as the client
    /// sent it (ExecutionStarted shows it verbatim); `None` prints `input` compactly.
    Start {
        input: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        input_text: Option<String>,
    },
    /// A worker picked the task up.
    TaskStarted {
        task: TaskId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worker: Option<String>,
    },
    TaskSucceeded {
        task: TaskId,
        output: Value,
    },
    TaskFailed {
        task: TaskId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    TaskHeartbeat {
        task: TaskId,
    },
    /// The integration accepted the task and the execution now waits for its end: the callback
    /// of a `.waitForTaskToken` task, or the job of a `.sync` one (TaskSubmitted). `output` is
    /// what the submitting call answered.
    TaskSubmitted {
        task: TaskId,
        output: Value,
    },
    TimerFired {
        timer: TimerId,
    },
    /// UpdateMapRun: a running Map Run's concurrency or tolerated failures change (a value
    /// left out stays as it was).
    UpdateMapRun {
        map_run_arn: String,
        max_concurrency: Option<u64>,
        tolerated_failure_count: Option<f64>,
        tolerated_failure_percentage: Option<f64>,
    },
    /// StopExecution.
    Stop {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// RedriveExecution: continue a FAILED, TIMED_OUT or ABORTED execution from the state that
    /// did not succeed.
    Redrive,
}

/// One input to [`Execution::step`]: the event, the time it happens at and a seed for anything
/// random the step needs. Recording these three is enough to replay a run exactly.
///
/// Serialised as `{"now": "2024-01-01T00:00:00Z", "seed": 7, "event": {"type": …}}` (`now` in
/// RFC 3339, as precise as it was given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub now: DateTime<Utc>,
    pub seed: u64,
    pub event: Event,
}

/// How a task is reached, which decides the names of its history events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskKind {
    /// `arn:aws:lambda:…:function:NAME` (LambdaFunction* events).
    LambdaFunction,
    /// `arn:aws:states:…:activity:NAME` (Activity* events).
    Activity,
    /// An optimized or SDK integration (Task* events), e.g. `lambda` / `invoke`.
    Service {
        resource_type: String,
        resource: String,
    },
    /// A Distributed Map's `ItemReader` (`s3:getObject`, `s3:listObjectsV2`): the task's input
    /// is `{"Parameters", "ReaderConfig"}` evaluated, its result the array of items. It has no
    /// history events of its own: the Map Run's (`MapRunFailed` when it fails).
    ItemReader,
    /// A Distributed Map's whole Map Run, run by a host whose children are executions (see
    /// [`Execution::set_child_executions`]): the task's input is a
    /// [`crate::map_run::MapRunSpec`], its answer the Map's result or the Map Run's error. No
    /// history events of its own: the Map Run's.
    MapRun,
}

/// A task the caller must run, then report with TaskStarted and TaskSucceeded/TaskFailed.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    pub task: TaskId,
    pub state_name: String,
    /// The Task state's `Resource`, as written.
    pub resource: String,
    pub kind: TaskKind,
    /// The effective parameters (`Parameters`/`Arguments`, else the effective input).
    pub input: Value,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
    /// For `.waitForTaskToken`: the token the callee must send back.
    pub task_token: Option<String>,
    /// How many times this Task state ran before in this execution (0 the first time), retries,
    /// Map iterations and Parallel branches included: what mock responses are chosen by.
    pub invocation: u64,
    /// The state's `Credentials`, evaluated (`{"RoleArn": "arn:aws:iam::...:role/..."}`): the
    /// role to call the service as.
    pub credentials: Option<Value>,
}

/// Makes the task token of a `.waitForTaskToken` task from its task id and a random number: a
/// server signs tokens so that it can tell its own from forged ones. It must be deterministic,
/// since replaying an execution's steps must give the same tokens.
#[derive(Clone)]
pub struct TokenMinter(pub Arc<dyn Fn(TaskId, u64) -> String + Send + Sync>);

impl std::fmt::Debug for TokenMinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenMinter")
    }
}

/// The final state of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub status: Status,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Something the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    ScheduleTask(TaskRequest),
    /// The task's result is no longer wanted (its state was aborted or timed out).
    CancelTask {
        task: TaskId,
    },
    StartTimer {
        timer: TimerId,
        fire_at: DateTime<Utc>,
        /// What the timer measures, which decides how a host lets its time pass.
        kind: TimerKind,
    },
    CancelTimer {
        timer: TimerId,
    },
    /// The execution is over.
    Complete(Completion),
    /// A Distributed Map's Map Run started, was configured, or ended: for a host that keeps
    /// Map Runs (DescribeMapRun, ListMapRuns). Replaying steps gives them again.
    MapRun(MapRunChange),
}

/// What a host that keeps Map Runs records of one.
#[derive(Debug, Clone, PartialEq)]
pub enum MapRunChange {
    /// `MapRunStarted`: its ARN.
    Started { arn: String },
    /// Its items are known and its children about to start: `MaxConcurrency` (0: no limit),
    /// the tolerated failures, how many children it has.
    Configured {
        arn: String,
        max_concurrency: u64,
        tolerated_failure_count: Option<f64>,
        tolerated_failure_percentage: Option<f64>,
        /// `None`: not known yet (its host reads the items), or, on an update, as before.
        children: Option<u64>,
        /// With an ItemBatcher, how many items its children share (`None`: one each, or, on
        /// an update, as before).
        items: Option<u64>,
    },
    /// Ended: `SUCCEEDED`, `FAILED` or `ABORTED`.
    Ended { arn: String, status: &'static str },
    /// Redriven with its parent (`MapRunRedriven`): running again.
    Redriven { arn: String },
}

/// What one step produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepOutput {
    pub events: Vec<HistoryEvent>,
    pub commands: Vec<Command>,
}

/// Why the engine refused an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("the execution has already started")]
    AlreadyStarted,
    #[error("the execution has not started")]
    NotStarted,
    #[error("the execution is no longer running")]
    NotRunning,
    /// RedriveExecution's ExecutionNotRedrivable, with AWS's reason.
    #[error("{0}")]
    NotRedrivable(NotRedrivable),
    /// The event cannot happen in the execution's current phase: a result for a task that is
    /// no longer running (it timed out or was cancelled), a second start of a task, a timer
    /// that is not set. Nothing was applied; a host may drop the event.
    #[error("unexpected {event}: {reason}")]
    UnexpectedEvent { event: &'static str, reason: String },
}

/// An error name and cause, either of which may be absent (a Fail state without Cause).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fault {
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl From<Failure> for Fault {
    fn from(f: Failure) -> Self {
        Fault {
            error: Some(f.error),
            cause: Some(f.cause),
        }
    }
}

impl Fault {
    fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// Errors that end the whole execution at once: no Retry, no Catch.
    fn is_fatal(&self) -> bool {
        matches!(
            self.error.as_deref(),
            Some(names::RUNTIME) | Some(names::DATA_LIMIT_EXCEEDED)
        )
    }

    /// What a Catch or a tolerated failure passes on: `{"Error", "Cause"}`.
    pub fn error_output(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "Error".into(),
            self.error.clone().map(Value::from).unwrap_or(Value::Null),
        );
        // A timeout has no cause in its history event, but its error output says "" (as AWS's
        // recordings show).
        let cause = match (&self.cause, self.error.as_deref()) {
            (Some(c), _) => Value::from(c.as_str()),
            (None, Some(names::TIMEOUT)) => Value::from(""),
            (None, _) => Value::Null,
        };
        m.insert("Cause".into(), cause);
        Value::Object(m)
    }
}

/// One execution of a state machine.
#[derive(Debug)]
pub struct Execution {
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    input: Value,
    status: Status,
    started: bool,
    frames: Vec<Option<Frame>>,
    free_frames: Vec<FrameId>,
    queue: VecDeque<(FrameId, Flow)>,
    /// Ordered maps: what the engine emits when it walks them (an execution ending cancels
    /// every timer and task) comes out in the same order on every run.
    timers: BTreeMap<TimerId, TimerPurpose>,
    tasks: BTreeMap<TaskId, PendingTask>,
    next_timer: TimerId,
    next_task: TaskId,
    next_event_id: u64,
    completion: Option<Completion>,
    now: DateTime<Utc>,
    entropy: SeededEntropy,
    out: StepOutput,
    /// Where a redrive continues, kept when the execution ends unsuccessfully.
    redrive_point: Option<Box<redrive::RedrivePoint>>,
    /// When the execution last ended, and when it was last redriven.
    closed_at: Option<DateTime<Utc>>,
    /// The history reached AWS's 25,000 events: nothing more is recorded.
    history_full: bool,
    redrive_date: Option<DateTime<Utc>>,
    /// TestState's hooks (`None` for every real execution).
    probe: Option<Box<probe::Probe>>,
    /// Runs of each Task state so far, by state name.
    invocations: BTreeMap<String, u64>,
    /// Makes `.waitForTaskToken` tokens; without one they are random UUIDs.
    token_minter: Option<TokenMinter>,
    /// A Distributed Map's items run as child executions (a host that can start them).
    child_executions: bool,
}

impl Execution {
    pub fn new(machine: Arc<StateMachine>, info: ExecutionInfo) -> Self {
        let now = info.start_time;
        Execution {
            machine,
            info,
            input: Value::Null,
            status: Status::Running,
            started: false,
            frames: Vec::new(),
            free_frames: Vec::new(),
            queue: VecDeque::new(),
            timers: BTreeMap::new(),
            tasks: BTreeMap::new(),
            next_timer: 1,
            next_task: 1,
            next_event_id: 1,
            completion: None,
            now,
            entropy: SeededEntropy::new(0),
            out: StepOutput::default(),
            redrive_point: None,
            closed_at: None,
            history_full: false,
            redrive_date: None,
            probe: None,
            invocations: BTreeMap::new(),
            token_minter: None,
            child_executions: false,
        }
    }

    /// Runs a Distributed Map's items as child executions from now on: the whole Map Run is
    /// one task ([`TaskKind::MapRun`]) whose host starts the children and answers with their
    /// results. Without it they run in this execution, as silent frames.
    pub fn set_child_executions(&mut self, on: bool) {
        self.child_executions = on;
    }

    /// Makes `.waitForTaskToken` tokens with `minter` from now on.
    pub fn set_token_minter(&mut self, minter: TokenMinter) {
        self.token_minter = Some(minter);
    }

    pub fn info(&self) -> &ExecutionInfo {
        &self.info
    }

    pub fn status(&self) -> Status {
        self.status
    }

    /// How the execution ended, once it has.
    pub fn completion(&self) -> Option<&Completion> {
        self.completion.as_ref()
    }

    /// Applies one event.
    pub fn step(&mut self, step: Step) -> Result<StepOutput, StepError> {
        self.now = step.now;
        self.entropy = SeededEntropy::new(step.seed).at(step.now.timestamp_millis());
        match step.event {
            Event::Start { input, input_text } => {
                if self.started {
                    return Err(StepError::AlreadyStarted);
                }
                self.started = true;
                self.start(input, input_text);
            }
            Event::Redrive => {
                if !self.started {
                    return Err(StepError::NotStarted);
                }
                self.redrive_status(step.now)
                    .map_err(StepError::NotRedrivable)?;
                self.redrive();
            }
            other => {
                if !self.started {
                    return Err(StepError::NotStarted);
                }
                if self.status != Status::Running {
                    return Err(StepError::NotRunning);
                }
                self.admissible(&other)?;
                self.apply(other);
            }
        }
        self.run_queue();
        Ok(std::mem::take(&mut self.out))
    }

    fn start(&mut self, input: Value, input_text: Option<String>) {
        let mut details = Map::new();
        details.insert(
            "input".into(),
            Value::from(input_text.unwrap_or_else(|| lang::to_json(&input))),
        );
        details.insert("inputDetails".into(), truncated_false());
        details.insert("roleArn".into(), Value::from(self.info.role_arn.as_str()));
        self.record(EventType::ExecutionStarted, 0, Some(details));
        self.input = input.clone();
        if let Some(secs) = self.machine.timeout_seconds {
            self.start_timer(
                TimerPurpose::ExecutionTimeout,
                self.now + Duration::seconds(secs as i64),
            );
        }
        let root = self.alloc_frame(Frame {
            machine: self.machine.clone(),
            parent: None,
            iteration: None,
            silent: false,
            vars: self
                .probe
                .as_deref()
                .map(|p| p.variables.clone())
                .unwrap_or_default(),
            last: 0,
            active: None,
            failed: None,
            resume: None,
        });
        let start = self.machine.start_at.clone();
        self.queue.push_back((root, Flow::Next(start, input)));
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Start { .. } | Event::Redrive => {}
            Event::TaskStarted { task, worker } => self.task_started(task, worker),
            Event::TaskSucceeded { task, output } => self.task_succeeded(task, output),
            Event::TaskFailed { task, error, cause } => {
                self.task_failed(task, Fault { error, cause }, false)
            }
            Event::TaskHeartbeat { task } => self.task_heartbeat(task),
            Event::TaskSubmitted { task, output } => self.task_submitted(task, output),
            Event::TimerFired { timer } => self.timer_fired(timer),
            Event::UpdateMapRun {
                map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            } => self.update_map_run(
                &map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            ),
            Event::Stop { error, cause } => {
                let mut details = Map::new();
                if let Some(e) = &error {
                    details.insert("error".into(), Value::from(e.as_str()));
                }
                if let Some(c) = &cause {
                    details.insert("cause".into(), Value::from(c.as_str()));
                }
                let last = self.root_last();
                self.abort_all();
                self.record(EventType::ExecutionAborted, last, Some(details));
                self.finish(Completion {
                    status: Status::Aborted,
                    output: None,
                    error,
                    cause,
                });
            }
        }
    }

    // ----- the run loop -------------------------------------------------------------------

    fn run_queue(&mut self) {
        while let Some((frame, flow)) = self.queue.pop_front() {
            if self.status != Status::Running {
                self.queue.clear();
                break;
            }
            if self.frames.get(frame).is_some_and(Option::is_some) {
                self.drive(frame, flow);
            }
        }
    }

    fn drive(&mut self, f: FrameId, mut flow: Flow) {
        loop {
            if self.status != Status::Running {
                return;
            }
            flow = match flow {
                Flow::Begin(input) => {
                    let start = self.frame(f).machine.start_at.clone();
                    self.iteration_started(f);
                    Flow::Next(start, input)
                }
                Flow::Resume(state, input) => {
                    self.iteration_started(f);
                    Flow::Next(state, input)
                }
                Flow::Next(state, input) => {
                    if let Some(p) = self.probe.as_deref_mut() {
                        if p.entered {
                            self.probe_finished(f, Some(state), input);
                            return;
                        }
                        p.entered = true;
                    }
                    self.enter(f, state, input)
                }
                Flow::End(output) => {
                    if self.probe.is_some() {
                        self.probe_finished(f, None, output);
                        return;
                    }
                    self.frame_succeeded(f, output);
                    return;
                }
                Flow::Failed(fault) => {
                    self.frame_failed(f, fault);
                    return;
                }
                Flow::Blocked | Flow::Halt => return,
            };
        }
    }

    /// A Map iteration's frame begins: MapIterationStarted.
    fn iteration_started(&mut self, f: FrameId) {
        let frame = self.frame(f);
        if let Some(it) = &frame.iteration {
            let details = iteration_details(&it.map_state, it.index);
            self.event(f, EventType::MapIterationStarted, Some(details));
        }
    }
}
