//! One execution as a deterministic step function: [`Execution::step`] takes an [`Event`]
//! (with the time and a random seed) and returns the history events it produced and the
//! [`Command`]s the caller must carry out.
//!
//! An execution is a tree of frames: the top-level machine, each Parallel branch and each Map
//! iteration. A frame runs its states one after another until one has to wait (a Wait timer, a
//! task, child frames, a retry interval); frames that can run are queued and run in order, so a
//! run is reproducible event for event.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use stepwise_asl::error_names as names;
use stepwise_asl::eval::{Entropy, Failure, SeededEntropy, Variables};
use stepwise_asl::model::{QueryLanguage, State, StateKind, StateMachine, Transition};

use crate::context::{ExecutionInfo, StateContext, context_object};
use crate::history::{Details, EventType, HistoryEvent};
use crate::lang::{self, MAX_PAYLOAD_BYTES};

/// Identifies a frame within one execution.
pub type FrameId = usize;
/// Identifies a task the engine asked its caller to run.
pub type TaskId = u64;
/// Identifies a timer the engine asked its caller to set.
pub type TimerId = u64;

/// What happened, as the engine's caller reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Start the execution with this input. `input_text` is the input exactly as the client
    /// sent it (ExecutionStarted shows it verbatim); `None` prints `input` compactly.
    Start {
        input: Value,
        input_text: Option<String>,
    },
    /// A worker picked the task up.
    TaskStarted {
        task: TaskId,
        worker: Option<String>,
    },
    TaskSucceeded {
        task: TaskId,
        output: Value,
    },
    TaskFailed {
        task: TaskId,
        error: Option<String>,
        cause: Option<String>,
    },
    TaskHeartbeat {
        task: TaskId,
    },
    TimerFired {
        timer: TimerId,
    },
    /// StopExecution.
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// One input to [`Execution::step`]: the event, the time it happens at and a seed for anything
/// random the step needs. Recording these three is enough to replay a run exactly.
#[derive(Debug, Clone, PartialEq)]
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
    },
    CancelTimer {
        timer: TimerId,
    },
    /// The execution is over.
    Complete(Completion),
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

    fn error_output(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "Error".into(),
            self.error.clone().map(Value::from).unwrap_or(Value::Null),
        );
        m.insert(
            "Cause".into(),
            self.cause.clone().map(Value::from).unwrap_or(Value::Null),
        );
        Value::Object(m)
    }
}

/// Where a frame goes next.
#[derive(Debug)]
enum Flow {
    /// A child frame begins (emits MapIterationStarted for iterations).
    Begin(Value),
    /// Enter this state with this input.
    Next(String, Value),
    /// The frame's machine ended with this output.
    End(Value),
    /// The frame failed.
    Failed(Fault),
    /// The frame waits for an event.
    Blocked,
    /// Nothing more to do here (the execution ended, or the frame was aborted).
    Halt,
}

#[derive(Debug)]
struct Iteration {
    index: usize,
    map_state: String,
}

#[derive(Debug)]
struct Frame {
    machine: Arc<StateMachine>,
    /// The enclosing frame and this frame's slot in its results.
    parent: Option<(FrameId, usize)>,
    iteration: Option<Iteration>,
    /// Inside a Distributed Map: runs without history events.
    silent: bool,
    vars: Map<String, Value>,
    /// The event the next event of this frame follows.
    last: u64,
    active: Option<Active>,
}

/// The state a frame is in.
#[derive(Debug)]
struct Active {
    name: String,
    raw_input: Value,
    /// After InputPath.
    effective: Value,
    entered_id: u64,
    entered_time: DateTime<Utc>,
    /// Attempts used per retrier.
    retries: Vec<u32>,
    retry_count: u32,
    waiting: Waiting,
}

#[derive(Debug)]
enum Waiting {
    Nothing,
    Timer(TimerId),
    Task(TaskId),
    Retry(TimerId),
    Children(Box<Children>),
}

#[derive(Debug)]
struct Children {
    results: Vec<Option<Value>>,
    running: VecDeque<FrameId>,
    remaining: usize,
    /// Map: inputs still to start, in order.
    pending: VecDeque<(usize, Value)>,
    max_concurrency: usize,
    distributed: bool,
    /// Distributed Map: failures allowed.
    tolerated_failures: Option<f64>,
    tolerated_percentage: Option<f64>,
    failures: usize,
    total: usize,
    /// The event the state's closing event follows (the last child's closing event).
    closing_prev: u64,
}

#[derive(Debug)]
struct PendingTask {
    frame: FrameId,
    kind: TaskKind,
    resource: String,
    started: bool,
    timeout_timer: Option<TimerId>,
    heartbeat_timer: Option<TimerId>,
    heartbeat_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
enum TimerPurpose {
    Wait(FrameId),
    Retry(FrameId),
    TaskTimeout(TaskId),
    Heartbeat(TaskId),
    ExecutionTimeout,
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
    timers: HashMap<TimerId, TimerPurpose>,
    tasks: HashMap<TaskId, PendingTask>,
    next_timer: TimerId,
    next_task: TaskId,
    next_event_id: u64,
    completion: Option<Completion>,
    now: DateTime<Utc>,
    entropy: SeededEntropy,
    out: StepOutput,
}

/// The variables a frame sees: its own, then its ancestors'.
struct Scopes<'a> {
    frames: &'a [Option<Frame>],
    frame: FrameId,
}

impl Variables for Scopes<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        let mut at = Some(self.frame);
        while let Some(f) = at {
            let frame = self.frames[f].as_ref()?;
            if let Some(v) = frame.vars.get(name) {
                return Some(v);
            }
            at = frame.parent.map(|(p, _)| p);
        }
        None
    }
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
            timers: HashMap::new(),
            tasks: HashMap::new(),
            next_timer: 1,
            next_task: 1,
            next_event_id: 1,
            completion: None,
            now,
            entropy: SeededEntropy::new(0),
            out: StepOutput::default(),
        }
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
        self.entropy = SeededEntropy::new(step.seed);
        match step.event {
            Event::Start { input, input_text } => {
                if self.started {
                    return Err(StepError::AlreadyStarted);
                }
                self.started = true;
                self.start(input, input_text);
            }
            other => {
                if !self.started {
                    return Err(StepError::NotStarted);
                }
                if self.status != Status::Running {
                    return Err(StepError::NotRunning);
                }
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
            let timer = self.new_timer(TimerPurpose::ExecutionTimeout);
            self.out.commands.push(Command::StartTimer {
                timer,
                fire_at: self.now + Duration::seconds(secs as i64),
            });
        }
        let root = self.alloc_frame(Frame {
            machine: self.machine.clone(),
            parent: None,
            iteration: None,
            silent: false,
            vars: Map::new(),
            last: 0,
            active: None,
        });
        let start = self.machine.start_at.clone();
        self.queue.push_back((root, Flow::Next(start, input)));
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Start { .. } => {}
            Event::TaskStarted { task, worker } => self.task_started(task, worker),
            Event::TaskSucceeded { task, output } => self.task_succeeded(task, output),
            Event::TaskFailed { task, error, cause } => {
                self.task_failed(task, Fault { error, cause }, false)
            }
            Event::TaskHeartbeat { task } => self.task_heartbeat(task),
            Event::TimerFired { timer } => self.timer_fired(timer),
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
                    let (index, name, machine) = {
                        let frame = self.frame(f);
                        (
                            frame.iteration.as_ref().map(|i| i.index),
                            frame.iteration.as_ref().map(|i| i.map_state.clone()),
                            frame.machine.clone(),
                        )
                    };
                    if let (Some(index), Some(name)) = (index, name) {
                        self.event(
                            f,
                            EventType::MapIterationStarted,
                            Some(iteration_details(&name, index)),
                        );
                    }
                    Flow::Next(machine.start_at.clone(), input)
                }
                Flow::Next(state, input) => self.enter(f, state, input),
                Flow::End(output) => {
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

    // ----- frames ---------------------------------------------------------------------------

    fn alloc_frame(&mut self, frame: Frame) -> FrameId {
        if let Some(id) = self.free_frames.pop() {
            self.frames[id] = Some(frame);
            id
        } else {
            self.frames.push(Some(frame));
            self.frames.len() - 1
        }
    }

    fn release_frame(&mut self, f: FrameId) -> Option<Frame> {
        let frame = self.frames.get_mut(f)?.take();
        if frame.is_some() {
            self.free_frames.push(f);
        }
        frame
    }

    fn frame(&self, f: FrameId) -> &Frame {
        self.frames[f].as_ref().expect("live frame")
    }

    fn frame_mut(&mut self, f: FrameId) -> &mut Frame {
        self.frames[f].as_mut().expect("live frame")
    }

    fn active(&mut self, f: FrameId) -> &mut Active {
        self.frame_mut(f).active.as_mut().expect("active state")
    }

    fn root_last(&self) -> u64 {
        self.frames
            .first()
            .and_then(|f| f.as_ref())
            .map_or(0, |f| f.last)
    }

    /// The root frame (or a child) finished its machine.
    fn frame_succeeded(&mut self, f: FrameId, output: Value) {
        let Some(frame) = self.release_frame(f) else {
            return;
        };
        match frame.parent {
            None => {
                let mut details = Map::new();
                details.insert("output".into(), Value::from(lang::to_json(&output)));
                details.insert("outputDetails".into(), truncated_false());
                self.record(EventType::ExecutionSucceeded, frame.last, Some(details));
                self.finish(Completion {
                    status: Status::Succeeded,
                    output: Some(output),
                    error: None,
                    cause: None,
                });
            }
            Some((parent, slot)) => {
                let mut closing = frame.last;
                if let Some(it) = &frame.iteration {
                    if !frame.silent {
                        closing = self.record(
                            EventType::MapIterationSucceeded,
                            frame.last,
                            Some(iteration_details(&it.map_state, it.index)),
                        );
                    }
                }
                self.child_finished(parent, f, slot, frame.last, closing, Ok(output));
            }
        }
    }

    fn frame_failed(&mut self, f: FrameId, fault: Fault) {
        let Some(frame) = self.release_frame(f) else {
            return;
        };
        match frame.parent {
            None => self.fail_execution(frame.last, fault),
            Some((parent, slot)) => {
                let mut closing = frame.last;
                if let Some(it) = &frame.iteration {
                    if !frame.silent {
                        let mut details = iteration_details(&it.map_state, it.index);
                        add_error(&mut details, &fault);
                        closing =
                            self.record(EventType::MapIterationFailed, frame.last, Some(details));
                    }
                }
                self.child_finished(parent, f, slot, frame.last, closing, Err(fault));
            }
        }
    }

    fn fail_execution(&mut self, last: u64, fault: Fault) {
        self.abort_all();
        let mut details = Map::new();
        add_error(&mut details, &fault);
        self.record(EventType::ExecutionFailed, last, Some(details));
        self.finish(Completion {
            status: Status::Failed,
            output: None,
            error: fault.error,
            cause: fault.cause,
        });
    }

    fn finish(&mut self, completion: Completion) {
        self.status = completion.status;
        for (timer, _) in std::mem::take(&mut self.timers) {
            self.out.commands.push(Command::CancelTimer { timer });
        }
        for (task, _) in std::mem::take(&mut self.tasks) {
            self.out.commands.push(Command::CancelTask { task });
        }
        self.completion = Some(completion.clone());
        self.out.commands.push(Command::Complete(completion));
        self.queue.clear();
    }

    /// Drops every frame without events (the execution is ending).
    fn abort_all(&mut self) {
        for slot in &mut self.frames {
            *slot = None;
        }
        self.free_frames.clear();
        self.queue.clear();
    }

    /// Aborts a frame and everything below it, with AWS's `*Aborted` events.
    fn abort_frame(&mut self, f: FrameId) {
        let Some(mut frame) = self.release_frame(f) else {
            return;
        };
        if let Some(active) = frame.active.take() {
            self.abort_active(&frame, active);
        }
        if let Some(it) = &frame.iteration {
            if !frame.silent {
                self.record(
                    EventType::MapIterationAborted,
                    frame.last,
                    Some(iteration_details(&it.map_state, it.index)),
                );
            }
        }
        self.queue.retain(|(q, _)| *q != f);
    }

    fn abort_active(&mut self, frame: &Frame, active: Active) {
        let ty = match &frame.machine.states.get(&active.name).map(|s| &s.kind) {
            Some(StateKind::Task(_)) => Some(EventType::TaskStateAborted),
            Some(StateKind::Wait(_)) => Some(EventType::WaitStateAborted),
            Some(StateKind::Parallel(_)) => Some(EventType::ParallelStateAborted),
            Some(StateKind::Map(_)) => Some(EventType::MapStateAborted),
            _ => None,
        };
        match active.waiting {
            Waiting::Timer(t) | Waiting::Retry(t) => self.cancel_timer(t),
            Waiting::Task(t) => self.cancel_task(t),
            Waiting::Children(children) => {
                for child in children.running {
                    self.abort_frame(child);
                }
            }
            Waiting::Nothing => {}
        }
        if let (Some(ty), false) = (ty, frame.silent) {
            self.record(ty, frame.last, None);
        }
    }

    // ----- events ---------------------------------------------------------------------------

    /// Appends an event to the history.
    fn record(&mut self, ty: EventType, previous: u64, details: Option<Map<String, Value>>) -> u64 {
        self.record_details(ty, previous, details.map(Details::Fields))
    }

    fn record_details(&mut self, ty: EventType, previous: u64, details: Option<Details>) -> u64 {
        let id = self.next_event_id;
        self.next_event_id += 1;
        self.out.events.push(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp: self.now,
            event_type: ty,
            details,
        });
        id
    }

    /// Appends an event of frame `f`, which the frame's next event follows.
    fn event(&mut self, f: FrameId, ty: EventType, details: Option<Map<String, Value>>) -> u64 {
        self.event_details(f, ty, details.map(Details::Fields))
    }

    fn event_details(&mut self, f: FrameId, ty: EventType, details: Option<Details>) -> u64 {
        let frame = self.frame(f);
        if frame.silent {
            return frame.last;
        }
        let id = self.record_details(ty, frame.last, details);
        self.frame_mut(f).last = id;
        id
    }

    /// Appends an event that closes something (`*Succeeded`): the next event does not follow it.
    fn closing_event(&mut self, f: FrameId, ty: EventType, previous: u64) -> u64 {
        if self.frame(f).silent {
            return previous;
        }
        self.record(ty, previous, None)
    }

    // ----- timers and tasks -------------------------------------------------------------

    fn new_timer(&mut self, purpose: TimerPurpose) -> TimerId {
        let id = self.next_timer;
        self.next_timer += 1;
        self.timers.insert(id, purpose);
        id
    }

    fn start_timer(&mut self, purpose: TimerPurpose, fire_at: DateTime<Utc>) -> TimerId {
        let timer = self.new_timer(purpose);
        self.out
            .commands
            .push(Command::StartTimer { timer, fire_at });
        timer
    }

    fn cancel_timer(&mut self, timer: TimerId) {
        if self.timers.remove(&timer).is_some() {
            self.out.commands.push(Command::CancelTimer { timer });
        }
    }

    fn cancel_task(&mut self, task: TaskId) {
        if let Some(p) = self.tasks.remove(&task) {
            for t in [p.timeout_timer, p.heartbeat_timer].into_iter().flatten() {
                self.cancel_timer(t);
            }
            self.out.commands.push(Command::CancelTask { task });
        }
    }

    fn timer_fired(&mut self, timer: TimerId) {
        let Some(purpose) = self.timers.remove(&timer) else {
            return;
        };
        match purpose {
            TimerPurpose::Wait(f) => {
                if self.frames.get(f).is_some_and(Option::is_some) {
                    let flow = self.wait_done(f);
                    self.queue.push_back((f, flow));
                }
            }
            TimerPurpose::Retry(f) => {
                if self.frames.get(f).is_some_and(Option::is_some) {
                    let flow = self.retry_now(f);
                    self.queue.push_back((f, flow));
                }
            }
            TimerPurpose::TaskTimeout(task) => {
                let fault = Fault {
                    error: Some(names::TIMEOUT.into()),
                    cause: None,
                };
                self.task_failed(task, fault, true);
            }
            TimerPurpose::Heartbeat(task) => {
                let fault = Fault {
                    error: Some(names::HEARTBEAT_TIMEOUT.into()),
                    cause: None,
                };
                self.task_failed(task, fault, true);
            }
            TimerPurpose::ExecutionTimeout => {
                // DescribeExecution shows neither error nor cause for a timed-out execution.
                let last = self.root_last();
                self.abort_all();
                self.record(EventType::ExecutionTimedOut, last, Some(Map::new()));
                self.finish(Completion {
                    status: Status::TimedOut,
                    output: None,
                    error: None,
                    cause: None,
                });
            }
        }
    }

    // ----- entering and leaving states --------------------------------------------------

    fn state<'m>(machine: &'m StateMachine, name: &str) -> &'m State {
        &machine.states[name]
    }

    fn enter(&mut self, f: FrameId, name: String, raw_input: Value) -> Flow {
        let machine = self.frame(f).machine.clone();
        let Some(state) = machine.states.get(&name) else {
            return Flow::Failed(lang::runtime(format!("State '{name}' does not exist")).into());
        };
        let ty = entered_type(&state.kind);
        let details = Details::StateEntered {
            name: name.clone(),
            input: lang::to_json(&raw_input),
        };
        let entered_id = self.event_details(f, ty, Some(details));
        let retries = vec![0; state.kind.retriers().len()];
        self.frame_mut(f).active = Some(Active {
            name,
            effective: Value::Null,
            raw_input,
            entered_id,
            entered_time: self.now,
            retries,
            retry_count: 0,
            waiting: Waiting::Nothing,
        });
        let flow = self.run_state(f, state);
        self.settle(f, state, flow)
    }

    /// Turns a state's failure into Retry, Catch or the frame's failure.
    fn settle(&mut self, f: FrameId, state: &State, flow: Flow) -> Flow {
        match flow {
            Flow::Failed(fault) => self.state_failed(f, state, fault),
            other => other,
        }
    }

    /// Prefixes a cause with AWS's "An error occurred while executing the state …".
    fn in_state(&mut self, f: FrameId, failure: Failure) -> Fault {
        let active = self.active(f);
        Fault {
            error: Some(failure.error),
            cause: Some(format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                active.name, active.entered_id, failure.cause
            )),
        }
    }

    /// Like [`Self::in_state`], for JSONata errors, which also get an EvaluationFailed event.
    fn evaluation_failed(&mut self, f: FrameId, failure: Failure, location: &str) -> Fault {
        let fault = self.in_state(f, failure);
        if fault.name() == names::QUERY_EVALUATION_ERROR && !self.frame(f).silent {
            let mut details = Map::new();
            add_error(&mut details, &fault);
            details.insert("location".into(), Value::from(location));
            details.insert("state".into(), Value::from(self.active(f).name.clone()));
            let id = self.record(EventType::EvaluationFailed, 0, Some(details));
            self.frame_mut(f).last = id;
        }
        fault
    }

    /// Leaves the current state with `output`, assigning its variables first.
    fn exit(
        &mut self,
        f: FrameId,
        state: &State,
        output: Value,
        assigned: Option<Map<String, Value>>,
    ) -> Flow {
        let size = lang::to_json(&output);
        if size.len() > MAX_PAYLOAD_BYTES {
            let name = self.active(f).name.clone();
            let fault = Fault {
                error: Some(names::DATA_LIMIT_EXCEEDED.into()),
                cause: Some(format!(
                    "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
                )),
            };
            return self.fatal(f, fault);
        }
        if let Some(ty) = exited_type(&state.kind) {
            let details = Details::StateExited {
                name: state.name.clone(),
                output: size,
                assigned: assigned.as_ref().map(|vars| {
                    vars.iter()
                        .map(|(k, v)| (k.clone(), Value::from(lang::to_json(v))))
                        .collect()
                }),
            };
            self.event_details(f, ty, Some(details));
        }
        if let Some(vars) = assigned {
            self.frame_mut(f).vars.extend(vars);
        }
        self.frame_mut(f).active = None;
        match state.kind.transition() {
            Some(Transition::Next(next)) => Flow::Next(next.clone(), output),
            Some(Transition::End) | None => Flow::End(output),
        }
    }

    /// Ends the execution because of an error nothing may catch.
    fn fatal(&mut self, f: FrameId, fault: Fault) -> Flow {
        let last = self.frame(f).last;
        self.fail_execution(last, fault);
        Flow::Halt
    }

    fn state_failed(&mut self, f: FrameId, state: &State, fault: Fault) -> Flow {
        if fault.is_fatal() {
            return self.fatal(f, fault);
        }
        // Retry: the first retrier naming the error decides.
        let retriers = state.kind.retriers();
        if let Some(i) = retriers
            .iter()
            .position(|r| matches_error(&r.error_equals, fault.name()))
        {
            let r = &retriers[i];
            let active = self.active(f);
            let attempt = active.retries[i];
            if u64::from(attempt) < r.max_attempts {
                active.retries[i] += 1;
                active.retry_count += 1;
                let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(attempt as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max as f64);
                }
                if r.jitter == stepwise_asl::model::JitterStrategy::Full {
                    delay *= self.entropy.unit_f64();
                }
                let fire_at = self.now + Duration::milliseconds((delay * 1000.0) as i64);
                let timer = self.start_timer(TimerPurpose::Retry(f), fire_at);
                self.active(f).waiting = Waiting::Retry(timer);
                return Flow::Blocked;
            }
        }
        match &state.kind {
            StateKind::Map(_) => {
                self.event(f, EventType::MapStateFailed, None);
            }
            StateKind::Parallel(_) => {
                self.event(f, EventType::ParallelStateFailed, None);
            }
            _ => {}
        }
        // Catch.
        let catchers = state.kind.catchers();
        if let Some(c) = catchers
            .iter()
            .find(|c| matches_error(&c.error_equals, fault.name()))
        {
            let raw = self.active(f).raw_input.clone();
            let error_output = fault.error_output();
            let result = if state.query_language == QueryLanguage::Jsonata {
                let states = self.jsonata_states(f, &raw, None, Some(&error_output));
                let assigned = match &c.assign {
                    Some(t) => match self.jsonata_assign(f, t, &states) {
                        Ok(v) => Some(v),
                        Err(e) => return self.evaluation_error_after_catch(f, e),
                    },
                    None => None,
                };
                let output = match &c.output {
                    Some(t) => match self.jsonata_template(f, t, &states, "Output") {
                        Ok(v) => v,
                        Err(e) => return self.evaluation_error_after_catch(f, e),
                    },
                    None => raw.clone(),
                };
                Ok((output, assigned))
            } else {
                let assigned = match &c.assign {
                    Some(t) => match self.payload(f, t, &error_output, None) {
                        Ok(Value::Object(m)) => Some(m),
                        Ok(_) => None,
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    },
                    None => None,
                };
                lang::apply_result_path(&c.result_path, &raw, error_output).map(|o| (o, assigned))
            };
            return match result {
                Ok((output, assigned)) => {
                    let flow = self.exit(f, state, output, assigned);
                    match flow {
                        Flow::Next(_, out) | Flow::End(out) => Flow::Next(c.next.clone(), out),
                        other => other,
                    }
                }
                Err(e) => {
                    let fault = self.in_state(f, e);
                    self.fatal(f, fault)
                }
            };
        }
        self.frame_mut(f).active = None;
        Flow::Failed(fault)
    }

    fn evaluation_error_after_catch(&mut self, f: FrameId, e: Failure) -> Flow {
        let fault = self.evaluation_failed(f, e, "Catch");
        self.frame_mut(f).active = None;
        Flow::Failed(fault)
    }

    fn retry_now(&mut self, f: FrameId) -> Flow {
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).waiting = Waiting::Nothing;
        let flow = self.run_state(f, state);
        self.settle(f, state, flow)
    }

    // ----- evaluation helpers -----------------------------------------------------------

    fn context(&self, f: FrameId, map_item: Option<(usize, &Value)>, token: Option<&str>) -> Value {
        let frame = self.frame(f);
        let active = frame.active.as_ref();
        let uses_context = active
            .and_then(|a| frame.machine.states.get(&a.name))
            .is_none_or(lang::state_uses_context);
        if !uses_context {
            return Value::Null;
        }
        context_object(
            &self.info,
            &self.input,
            StateContext {
                name: active.map_or("", |a| a.name.as_str()),
                entered_time: active.map_or(self.now, |a| a.entered_time),
                retry_count: active
                    .filter(|a| {
                        matches!(
                            frame.machine.states.get(&a.name).map(|s| &s.kind),
                            Some(StateKind::Task(_))
                        )
                    })
                    .map(|a| a.retry_count),
                task_token: token,
                map_item,
            },
        )
    }

    /// Evaluates a JSONPath payload template with `input` as `$`.
    fn payload(
        &mut self,
        f: FrameId,
        template: &stepwise_asl::model::Template,
        input: &Value,
        map_item: Option<(usize, &Value)>,
    ) -> Result<Value, Failure> {
        if let stepwise_asl::model::Template::Literal(v) = template {
            return Ok(v.clone());
        }
        let context = self.context(f, map_item, None);
        let scopes = Scopes {
            frames: &self.frames,
            frame: f,
        };
        let scope = stepwise_asl::eval::Scope {
            input,
            context: &context,
            variables: &scopes,
        };
        lang::payload(template, &scope, &mut self.entropy)
    }

    /// The `$states` object for a JSONata evaluation.
    fn jsonata_states(
        &self,
        f: FrameId,
        input: &Value,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Value {
        let mut states = Map::new();
        states.insert("input".into(), input.clone());
        if let Some(r) = result {
            states.insert("result".into(), r.clone());
        }
        if let Some(e) = error_output {
            states.insert("errorOutput".into(), e.clone());
        }
        let context = self.context(f, None, None);
        if !context.is_null() {
            states.insert("context".into(), context);
        }
        Value::Object(states)
    }

    fn jsonata_template(
        &mut self,
        f: FrameId,
        template: &stepwise_asl::model::Template,
        states: &Value,
        field: &str,
    ) -> Result<Value, Failure> {
        if let stepwise_asl::model::Template::Literal(v) = template {
            return Ok(v.clone());
        }
        let scopes = Scopes {
            frames: &self.frames,
            frame: f,
        };
        let env = lang::JsonataEnv {
            states,
            variables: &scopes,
        };
        lang::jsonata_template(template, &env, &mut self.entropy, field)
    }

    fn jsonata_assign(
        &mut self,
        f: FrameId,
        template: &stepwise_asl::model::Template,
        states: &Value,
    ) -> Result<Map<String, Value>, Failure> {
        match self.jsonata_template(f, template, states, "Assign")? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }

    fn jsonata_expr(
        &mut self,
        f: FrameId,
        expr: &stepwise_asl::jsonata::JsonataExpr,
        states: &Value,
        field: &str,
    ) -> Result<Value, Failure> {
        let scopes = Scopes {
            frames: &self.frames,
            frame: f,
        };
        let env = lang::JsonataEnv {
            states,
            variables: &scopes,
        };
        lang::jsonata_value(expr, &env, &mut self.entropy, field)
    }

    fn condition(
        &mut self,
        f: FrameId,
        condition: &stepwise_asl::model::Condition,
        input: &Value,
    ) -> Result<bool, Failure> {
        let context = self.context(f, None, None);
        let scopes = Scopes {
            frames: &self.frames,
            frame: f,
        };
        let scope = stepwise_asl::eval::Scope {
            input,
            context: &context,
            variables: &scopes,
        };
        condition.evaluate(&scope)
    }

    /// Ends a JSONPath state: Assign (against `assign_input`), then the output.
    fn finish_jsonpath(
        &mut self,
        f: FrameId,
        state: &State,
        assign_input: &Value,
        output: Value,
    ) -> Flow {
        let assigned = match &state.assign {
            Some(t) => match self.payload(f, t, assign_input, None) {
                Ok(Value::Object(m)) => Some(m),
                Ok(_) => Some(Map::new()),
                Err(e) => return Flow::Failed(self.in_state(f, e)),
            },
            None => None,
        };
        self.exit(f, state, output, assigned)
    }

    /// Ends a JSONata state: Assign and Output, both seeing `$states.input` and `result`.
    fn finish_jsonata(&mut self, f: FrameId, state: &State, result: Option<Value>) -> Flow {
        let raw = self.active(f).raw_input.clone();
        let states = self.jsonata_states(f, &raw, result.as_ref(), None);
        let assigned = match &state.assign {
            Some(t) => match self.jsonata_assign(f, t, &states) {
                Ok(m) => Some(m),
                Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Assign")),
            },
            None => None,
        };
        let output = match &state.io.output {
            Some(t) => match self.jsonata_template(f, t, &states, "Output") {
                Ok(v) => v,
                Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Output")),
            },
            None => result.unwrap_or(raw),
        };
        self.exit(f, state, output, assigned)
    }

    // ----- the states -------------------------------------------------------------------

    /// Runs the current state from its start (or again, for a retry).
    fn run_state(&mut self, f: FrameId, state: &State) -> Flow {
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        // Task, Parallel and Map may retry or catch, and JSONata states read `$states.input`
        // when they finish: they keep their raw input. The others finish at once, so it moves.
        let keeps_raw = jsonata
            || matches!(
                state.kind,
                StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
            );
        let input = if keeps_raw {
            self.active(f).raw_input.clone()
        } else {
            std::mem::take(&mut self.active(f).raw_input)
        };
        // A Pass state's ResultPath merges its result into the raw input.
        let pass_raw = (matches!(state.kind, StateKind::Pass(_)) && state.io.result_path.is_some())
            .then(|| input.clone());
        let effective = if jsonata {
            input
        } else {
            match self.io_path(f, &state.io.input_path, input) {
                Ok(v) => v,
                Err(e) => return Flow::Failed(self.in_state(f, e)),
            }
        };
        match &state.kind {
            StateKind::Pass(pass) => {
                if jsonata {
                    return self.finish_jsonata(f, state, None);
                }
                let result = if let Some(p) = &state.io.parameters {
                    match self.payload(f, p, &effective, None) {
                        Ok(v) => v,
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    }
                } else if let Some(r) = &pass.result {
                    r.clone()
                } else {
                    effective
                };
                let raw = pass_raw.unwrap_or(Value::Null);
                self.result_to_output(f, state, &raw, result)
            }
            StateKind::Succeed => {
                if jsonata {
                    return self.finish_jsonata(f, state, None);
                }
                self.path_only_output(f, state, effective)
            }
            StateKind::Fail(fail) => self.run_fail(f, state, fail, &effective),
            StateKind::Choice(choice) => self.run_choice(f, state, choice, &effective),
            StateKind::Wait(wait) => self.run_wait(f, state, wait, &effective),
            StateKind::Task(task) => self.run_task(f, state, task, &effective),
            StateKind::Parallel(parallel) => self.run_parallel(f, state, parallel, &effective),
            StateKind::Map(map) => self.run_map(f, state, map, &effective),
        }
    }

    /// ResultSelector was applied already: ResultPath, OutputPath, Assign.
    fn result_to_output(&mut self, f: FrameId, state: &State, raw: &Value, result: Value) -> Flow {
        let assign_input = state.assign.as_ref().map(|_| result.clone());
        let merged = match lang::apply_result_path(&state.io.result_path, raw, result) {
            Ok(v) => v,
            Err(e) => return Flow::Failed(self.in_state(f, e)),
        };
        let output = match self.io_path(f, &state.io.output_path, merged) {
            Ok(v) => v,
            Err(e) => return Flow::Failed(self.in_state(f, e)),
        };
        let assign_input = assign_input.unwrap_or(Value::Null);
        self.finish_jsonpath(f, state, &assign_input, output)
    }

    /// States without a result (Choice, Wait, Succeed): OutputPath over the effective input.
    fn path_only_output(&mut self, f: FrameId, state: &State, effective: Value) -> Flow {
        let assign_input = state.assign.as_ref().map(|_| effective.clone());
        let output = match self.io_path(f, &state.io.output_path, effective) {
            Ok(v) => v,
            Err(e) => return Flow::Failed(self.in_state(f, e)),
        };
        let assign_input = assign_input.unwrap_or(Value::Null);
        self.finish_jsonpath(f, state, &assign_input, output)
    }

    fn run_fail(
        &mut self,
        f: FrameId,
        state: &State,
        fail: &stepwise_asl::model::Fail,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::{FailField, PathExpr};
        let mut fields = [None, None];
        for (i, (field, name)) in [(&fail.error, "Error"), (&fail.cause, "Cause")]
            .into_iter()
            .enumerate()
        {
            let value = match field {
                None => None,
                Some(FailField::Literal(s)) => Some(s.clone()),
                Some(FailField::Path(PathExpr::Path(p))) => {
                    let context = self.context(f, None, None);
                    let scopes = Scopes {
                        frames: &self.frames,
                        frame: f,
                    };
                    let scope = stepwise_asl::eval::Scope {
                        input: effective,
                        context: &context,
                        variables: &scopes,
                    };
                    match scope.root(p).and_then(|root| lang::select(p, root)) {
                        Some(Value::String(s)) => Some(s),
                        Some(other) => Some(lang::to_json(&other)),
                        None => {
                            let e = lang::runtime(format!(
                                "The JSONPath '{p}' specified for the field '{name}Path' could not be found in the input '{}'",
                                lang::to_json(effective)
                            ));
                            let fault = self.in_state(f, e);
                            return self.fatal(f, fault);
                        }
                    }
                }
                Some(FailField::Path(PathExpr::Intrinsic(call))) => {
                    let t = stepwise_asl::model::Template::Intrinsic(call.clone());
                    match self.payload(f, &t, effective, None) {
                        Ok(Value::String(s)) => Some(s),
                        Ok(other) => Some(lang::to_json(&other)),
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    }
                }
                Some(FailField::Jsonata(expr)) => {
                    let states = self.jsonata_states(f, effective, None, None);
                    match self.jsonata_expr(f, expr, &states, name) {
                        Ok(Value::String(s)) => Some(s),
                        Ok(other) => Some(lang::to_json(&other)),
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, name)),
                    }
                }
            };
            fields[i] = value;
        }
        let [error, cause] = fields;
        let _ = state;
        self.frame_mut(f).active = None;
        Flow::Failed(Fault { error, cause })
    }

    fn run_choice(
        &mut self,
        f: FrameId,
        state: &State,
        choice: &stepwise_asl::model::Choice,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::Condition;
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let states = jsonata.then(|| self.jsonata_states(f, effective, None, None));
        let mut chosen = None;
        for (i, rule) in choice.choices.iter().enumerate() {
            let matched = match (&rule.condition, &states) {
                (Condition::Jsonata(t), Some(states)) => {
                    let field = format!("Choices[{i}].Condition");
                    match self.jsonata_template(f, t, states, &field) {
                        Ok(Value::Bool(b)) => b,
                        Ok(other) => {
                            let e = lang::query_error(format!(
                                "The JSONata expression '{}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
                                template_source(t),
                                lang::type_name(&other),
                                lang::to_json(&other)
                            ));
                            return Flow::Failed(self.evaluation_failed(f, e, "Condition"));
                        }
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Condition")),
                    }
                }
                (c, _) => match self.condition(f, c, effective) {
                    Ok(b) => b,
                    Err(e) => return Flow::Failed(self.in_state(f, e)),
                },
            };
            if matched {
                chosen = Some(rule);
                break;
            }
        }
        let next = match (chosen, &choice.default) {
            (Some(rule), _) => rule.next.clone(),
            (None, Some(default)) => default.clone(),
            (None, None) => {
                self.frame_mut(f).active = None;
                return Flow::Failed(Fault {
                    error: Some(names::NO_CHOICE_MATCHED.into()),
                    cause: Some(format!(
                        "An error occurred while executing the state '{}' (entered at the event id #{}). No Matches!",
                        state.name,
                        self.frame(f).last
                    )),
                });
            }
        };
        let flow = if let Some(states) = &states {
            let assign = chosen
                .and_then(|r| r.assign.as_ref())
                .or(state.assign.as_ref());
            let assigned = match assign {
                Some(t) => match self.jsonata_assign(f, t, states) {
                    Ok(m) => Some(m),
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Assign")),
                },
                None => None,
            };
            let output_t = chosen
                .and_then(|r| r.output.as_ref())
                .or(state.io.output.as_ref());
            let output = match output_t {
                Some(t) => match self.jsonata_template(f, t, states, "Output") {
                    Ok(v) => v,
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Output")),
                },
                None => effective.clone(),
            };
            self.exit(f, state, output, assigned)
        } else {
            self.path_only_output(f, state, effective.clone())
        };
        match flow {
            Flow::Next(_, out) | Flow::End(out) => Flow::Next(next, out),
            other => other,
        }
    }

    fn run_wait(
        &mut self,
        f: FrameId,
        state: &State,
        wait: &stepwise_asl::model::Wait,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::{NumberSource, TimestampSource, WaitDuration};
        let fire_at = match &wait.duration {
            WaitDuration::Seconds(NumberSource::Literal(v)) => {
                self.now + Duration::seconds(v.as_i64().unwrap_or(0))
            }
            WaitDuration::Seconds(NumberSource::Path(p)) => {
                let value = self.read_path(f, p, effective);
                match value.as_ref().and_then(seconds_value) {
                    Some(Ok(s)) => self.now + Duration::seconds(s),
                    Some(Err(())) => {
                        let e = lang::runtime(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {p} == {}",
                            value.as_ref().map(lang::to_json).unwrap_or_default()
                        ));
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                    None => {
                        let e = lang::runtime(format!(
                            "The SecondsPath parameter does not reference an input value: {p}"
                        ));
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                }
            }
            WaitDuration::Seconds(NumberSource::Jsonata(expr)) => {
                let states = self.jsonata_states(f, effective, None, None);
                match self.jsonata_expr(f, expr, &states, "Seconds") {
                    Ok(v) => match v.as_i64().filter(|s| *s >= 0) {
                        Some(s) => self.now + Duration::seconds(s),
                        None => {
                            let e = lang::query_error(format!(
                                "The JSONata expression '{}' specified for the field 'Seconds' returned an unexpected result type. Expected 'integer', but was '{}' for value: {}",
                                expr.source().trim(),
                                lang::type_name(&v),
                                lang::to_json(&v)
                            ));
                            return Flow::Failed(self.evaluation_failed(f, e, "Seconds"));
                        }
                    },
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Seconds")),
                }
            }
            WaitDuration::Timestamp(TimestampSource::Literal(s)) => {
                match stepwise_asl::timestamp::parse_rfc3339(s) {
                    Some(t) => t.with_timezone(&Utc),
                    None => self.now,
                }
            }
            WaitDuration::Timestamp(TimestampSource::Path(p)) => {
                let value = self.read_path(f, p, effective);
                match value
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(stepwise_asl::timestamp::parse_rfc3339)
                {
                    Some(t) => t.with_timezone(&Utc),
                    None => {
                        let e = match &value {
                            None => lang::runtime(format!(
                                "The TimestampPath parameter does not reference an input value: {p}"
                            )),
                            Some(v) => lang::runtime(format!(
                                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| lang::to_json(v))
                            )),
                        };
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                }
            }
            WaitDuration::Timestamp(TimestampSource::Jsonata(expr)) => {
                let states = self.jsonata_states(f, effective, None, None);
                match self.jsonata_expr(f, expr, &states, "Timestamp") {
                    Ok(v) => match v.as_str().and_then(stepwise_asl::timestamp::parse_rfc3339) {
                        Some(t) => t.with_timezone(&Utc),
                        None => {
                            let e = lang::query_error(format!(
                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| lang::to_json(&v))
                            ));
                            return Flow::Failed(self.evaluation_failed(f, e, "Timestamp"));
                        }
                    },
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Timestamp")),
                }
            }
        };
        let _ = state;
        self.active(f).effective = effective.clone();
        let timer = self.start_timer(TimerPurpose::Wait(f), fire_at.max(self.now));
        self.active(f).waiting = Waiting::Timer(timer);
        Flow::Blocked
    }

    fn wait_done(&mut self, f: FrameId) -> Flow {
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).waiting = Waiting::Nothing;
        let effective = self.active(f).effective.clone();
        let flow = if state.query_language == QueryLanguage::Jsonata {
            self.finish_jsonata(f, state, None)
        } else {
            self.path_only_output(f, state, effective)
        };
        self.settle(f, state, flow)
    }

    /// `InputPath`/`OutputPath`, whose path may also start at `$$` or a variable.
    fn io_path(
        &self,
        f: FrameId,
        path: &Option<Option<stepwise_asl::jsonpath::JsonPath>>,
        value: Value,
    ) -> Result<Value, Failure> {
        match path {
            Some(Some(p)) if p.root != stepwise_asl::jsonpath::Root::Input => {
                self.read_path(f, p, &value).ok_or_else(|| {
                    lang::runtime(format!(
                        "Invalid path '{p}' : No results for path: {}",
                        bracketed(p)
                    ))
                })
            }
            _ => lang::apply_path(path, value),
        }
    }

    /// Resolves a path used by a state field (`SecondsPath`, `TimeoutSecondsPath`, …).
    fn read_path(
        &self,
        f: FrameId,
        path: &stepwise_asl::jsonpath::JsonPath,
        effective: &Value,
    ) -> Option<Value> {
        let context;
        let root = match &path.root {
            stepwise_asl::jsonpath::Root::Input => effective,
            stepwise_asl::jsonpath::Root::Context => {
                context = self.context(f, None, None);
                &context
            }
            stepwise_asl::jsonpath::Root::Variable(name) => {
                let scopes = Scopes {
                    frames: &self.frames,
                    frame: f,
                };
                return scopes.variable(name).and_then(|v| lang::select(path, v));
            }
        };
        lang::select(path, root)
    }

    /// A numeric field (`TimeoutSeconds`, `MaxConcurrency`, …) from a literal, path or JSONata.
    fn number_field(
        &mut self,
        f: FrameId,
        source: &stepwise_asl::model::NumberSource,
        effective: &Value,
        field: &str,
    ) -> Result<Option<Value>, Fault> {
        use stepwise_asl::model::NumberSource;
        match source {
            NumberSource::Literal(v) => Ok(Some(v.clone())),
            NumberSource::Path(p) => match self.read_path(f, p, effective) {
                Some(v) => Ok(Some(v)),
                None => Err(self.in_state(
                    f,
                    lang::runtime(format!(
                        "Invalid path '{p}' : No results for path: {}",
                        bracketed(p)
                    )),
                )),
            },
            NumberSource::Jsonata(expr) => {
                let states = self.jsonata_states(f, effective, None, None);
                match self.jsonata_expr(f, expr, &states, field) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) => Err(self.evaluation_failed(f, e, field)),
                }
            }
        }
    }

    fn run_task(
        &mut self,
        f: FrameId,
        state: &State,
        task: &stepwise_asl::model::Task,
        effective: &Value,
    ) -> Flow {
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let kind = task_kind(&task.resource);
        let token = matches!(
            stepwise_asl::parse::classify(&task.resource),
            Some(stepwise_asl::parse::Resource::Service(ref s))
                if s.pattern == stepwise_asl::parse::Pattern::WaitForTaskToken
        )
        .then(|| self.entropy.uuid());
        let input = if jsonata {
            match &state.io.arguments {
                Some(t) => {
                    let mut states = self.jsonata_states(f, effective, None, None);
                    if let (Some(tok), Some(ctx)) = (&token, states.get_mut("context")) {
                        if let Some(m) = ctx.as_object_mut() {
                            let mut t = Map::new();
                            t.insert("Token".into(), Value::from(tok.as_str()));
                            m.insert("Task".into(), Value::Object(t));
                        }
                    }
                    match self.jsonata_template(f, t, &states, "Arguments") {
                        Ok(v) => v,
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Arguments")),
                    }
                }
                None => effective.clone(),
            }
        } else {
            match &state.io.parameters {
                Some(p) => {
                    let context = self.context(f, None, token.as_deref());
                    let scopes = Scopes {
                        frames: &self.frames,
                        frame: f,
                    };
                    let scope = stepwise_asl::eval::Scope {
                        input: effective,
                        context: &context,
                        variables: &scopes,
                    };
                    match lang::payload(p, &scope, &mut self.entropy) {
                        Ok(v) => v,
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    }
                }
                None => effective.clone(),
            }
        };
        let mut seconds = [None, None];
        for (i, (source, field)) in [
            (&task.timeout_seconds, "TimeoutSeconds"),
            (&task.heartbeat_seconds, "HeartbeatSeconds"),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(source) = source {
                match self.number_field(f, source, effective, field) {
                    Ok(v) => seconds[i] = v.and_then(|v| v.as_u64()),
                    Err(fault) if fault.is_fatal() => return self.fatal(f, fault),
                    Err(fault) => return Flow::Failed(fault),
                }
            }
        }
        let [timeout_seconds, heartbeat_seconds] = seconds;

        let id = self.next_task;
        self.next_task += 1;
        let (ty, details) = scheduled_event(
            &kind,
            &task.resource,
            &self.info.region,
            &input,
            timeout_seconds,
            heartbeat_seconds,
        );
        self.event(f, ty, Some(details));
        let timeout_timer = timeout_seconds.map(|s| {
            self.start_timer(
                TimerPurpose::TaskTimeout(id),
                self.now + Duration::seconds(s as i64),
            )
        });
        self.tasks.insert(
            id,
            PendingTask {
                frame: f,
                kind: kind.clone(),
                resource: task.resource.clone(),
                started: false,
                timeout_timer,
                heartbeat_timer: None,
                heartbeat_seconds,
            },
        );
        self.active(f).waiting = Waiting::Task(id);
        self.out.commands.push(Command::ScheduleTask(TaskRequest {
            task: id,
            state_name: state.name.clone(),
            resource: task.resource.clone(),
            kind,
            input,
            timeout_seconds,
            heartbeat_seconds,
            task_token: token,
        }));
        Flow::Blocked
    }

    fn task_started(&mut self, task: TaskId, worker: Option<String>) {
        let Some(p) = self.tasks.get_mut(&task) else {
            return;
        };
        if p.started {
            return;
        }
        p.started = true;
        let (f, kind, resource, hb) = (
            p.frame,
            p.kind.clone(),
            p.resource.clone(),
            p.heartbeat_seconds,
        );
        let (ty, details) = match &kind {
            TaskKind::LambdaFunction => (EventType::LambdaFunctionStarted, None),
            TaskKind::Activity => {
                let mut d = Map::new();
                if let Some(w) = worker {
                    d.insert("workerName".into(), Value::from(w));
                }
                (EventType::ActivityStarted, Some(d))
            }
            TaskKind::Service {
                resource_type,
                resource,
            } => (
                EventType::TaskStarted,
                Some(service_details(resource_type, resource)),
            ),
        };
        let _ = resource;
        self.event(f, ty, details);
        if let Some(s) = hb {
            let timer = self.start_timer(
                TimerPurpose::Heartbeat(task),
                self.now + Duration::seconds(s as i64),
            );
            if let Some(p) = self.tasks.get_mut(&task) {
                p.heartbeat_timer = Some(timer);
            }
        }
    }

    fn task_heartbeat(&mut self, task: TaskId) {
        let Some(p) = self.tasks.get(&task) else {
            return;
        };
        if let (Some(old), Some(s)) = (p.heartbeat_timer, p.heartbeat_seconds) {
            self.cancel_timer(old);
            let timer = self.start_timer(
                TimerPurpose::Heartbeat(task),
                self.now + Duration::seconds(s as i64),
            );
            if let Some(p) = self.tasks.get_mut(&task) {
                p.heartbeat_timer = Some(timer);
            }
        }
    }

    fn take_task(&mut self, task: TaskId) -> Option<PendingTask> {
        let p = self.tasks.remove(&task)?;
        for t in [p.timeout_timer, p.heartbeat_timer].into_iter().flatten() {
            self.cancel_timer(t);
        }
        Some(p)
    }

    fn task_succeeded(&mut self, task: TaskId, output: Value) {
        let Some(p) = self.take_task(task) else {
            return;
        };
        if !p.started {
            self.tasks.insert(task, p);
            self.task_started(task, None);
            let Some(p) = self.take_task(task) else {
                return;
            };
            return self.task_result(task, p, output);
        }
        self.task_result(task, p, output);
    }

    fn task_result(&mut self, _task: TaskId, p: PendingTask, output: Value) {
        let f = p.frame;
        let out_text = lang::to_json(&output);
        let mut details = match &p.kind {
            TaskKind::Service {
                resource_type,
                resource,
            } => service_details(resource_type, resource),
            _ => Map::new(),
        };
        details.insert("output".into(), Value::from(out_text));
        details.insert("outputDetails".into(), truncated_false());
        let ty = match p.kind {
            TaskKind::LambdaFunction => EventType::LambdaFunctionSucceeded,
            TaskKind::Activity => EventType::ActivitySucceeded,
            TaskKind::Service { .. } => EventType::TaskSucceeded,
        };
        self.event(f, ty, Some(details));
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).waiting = Waiting::Nothing;
        let flow = self.state_result(f, state, output);
        let flow = self.settle(f, state, flow);
        self.queue.push_back((f, flow));
    }

    /// A Task, Parallel or Map produced its result: ResultSelector, ResultPath, OutputPath.
    fn state_result(&mut self, f: FrameId, state: &State, result: Value) -> Flow {
        if state.query_language == QueryLanguage::Jsonata {
            return self.finish_jsonata(f, state, Some(result));
        }
        let result = match &state.io.result_selector {
            Some(t) => match self.payload(f, t, &result, None) {
                Ok(v) => v,
                Err(e) => return Flow::Failed(self.in_state(f, e)),
            },
            None => result,
        };
        let raw = self.active(f).raw_input.clone();
        self.result_to_output(f, state, &raw, result)
    }

    fn task_failed(&mut self, task: TaskId, fault: Fault, timed_out: bool) {
        let Some(p) = self.take_task(task) else {
            return;
        };
        let f = p.frame;
        let mut details = match &p.kind {
            TaskKind::Service {
                resource_type,
                resource,
            } => service_details(resource_type, resource),
            _ => Map::new(),
        };
        add_error(&mut details, &fault);
        let ty = match (&p.kind, timed_out) {
            (TaskKind::LambdaFunction, false) => EventType::LambdaFunctionFailed,
            (TaskKind::LambdaFunction, true) => EventType::LambdaFunctionTimedOut,
            (TaskKind::Activity, false) => EventType::ActivityFailed,
            (TaskKind::Activity, true) => EventType::ActivityTimedOut,
            (TaskKind::Service { .. }, false) => EventType::TaskFailed,
            (TaskKind::Service { .. }, true) => EventType::TaskTimedOut,
        };
        if timed_out {
            self.out.commands.push(Command::CancelTask { task });
        }
        self.event(f, ty, Some(details));
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).waiting = Waiting::Nothing;
        let flow = self.state_failed(f, state, fault);
        self.queue.push_back((f, flow));
    }

    fn run_parallel(
        &mut self,
        f: FrameId,
        state: &State,
        parallel: &stepwise_asl::model::Parallel,
        effective: &Value,
    ) -> Flow {
        let input = if state.query_language == QueryLanguage::Jsonata {
            match &state.io.arguments {
                Some(t) => {
                    let states = self.jsonata_states(f, effective, None, None);
                    match self.jsonata_template(f, t, &states, "Arguments") {
                        Ok(v) => v,
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Arguments")),
                    }
                }
                None => effective.clone(),
            }
        } else {
            match &state.io.parameters {
                Some(p) => match self.payload(f, p, effective, None) {
                    Ok(v) => v,
                    Err(e) => return Flow::Failed(self.in_state(f, e)),
                },
                None => effective.clone(),
            }
        };
        self.event(f, EventType::ParallelStateStarted, None);
        let n = parallel.branches.len();
        let last = self.frame(f).last;
        let silent = self.frame(f).silent;
        let mut running = VecDeque::with_capacity(n);
        for (i, branch) in parallel.branches.iter().enumerate() {
            let child = self.alloc_frame(Frame {
                machine: branch.clone(),
                parent: Some((f, i)),
                iteration: None,
                silent,
                vars: Map::new(),
                last,
                active: None,
            });
            running.push_back(child);
            self.queue.push_back((child, Flow::Begin(input.clone())));
        }
        self.active(f).waiting = Waiting::Children(Box::new(Children {
            results: vec![None; n],
            running,
            remaining: n,
            pending: VecDeque::new(),
            max_concurrency: 0,
            distributed: false,
            tolerated_failures: None,
            tolerated_percentage: None,
            failures: 0,
            total: n,
            closing_prev: last,
        }));
        Flow::Blocked
    }

    fn run_map(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::ProcessorMode;
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        // The items.
        let items = if jsonata {
            match &map.items {
                Some(t) => {
                    let states = self.jsonata_states(f, effective, None, None);
                    match self.jsonata_template(f, t, &states, "Items") {
                        Ok(Value::Array(a)) => a,
                        Ok(other) => {
                            let e = lang::query_error(format!(
                                "The JSONata expression '{}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
                                template_source(t),
                                lang::type_name(&other),
                                lang::to_json(&other)
                            ));
                            return Flow::Failed(self.evaluation_failed(f, e, "Items"));
                        }
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Items")),
                    }
                }
                None => match effective {
                    Value::Array(a) => a.clone(),
                    other => {
                        let e = lang::query_error(format!(
                            "Map state input must be an array but was: {}",
                            lang::to_json(other)
                        ));
                        return Flow::Failed(self.evaluation_failed(f, e, "Items"));
                    }
                },
            }
        } else {
            let selected = match &map.items_path {
                Some(p) => self.read_path(f, p, effective),
                None => Some(effective.clone()),
            };
            match selected {
                Some(Value::Array(a)) => a,
                _ => {
                    let shown = map
                        .items_path
                        .as_ref()
                        .map_or("$".to_owned(), |p| p.to_string());
                    let e =
                        lang::runtime(format!("Reference path \"{shown}\" must point to array."));
                    let fault = self.in_state(f, e);
                    return self.fatal(f, fault);
                }
            }
        };
        let distributed = map.processor_config.mode == ProcessorMode::Distributed;

        // MaxConcurrency and the tolerated failures.
        let max_concurrency = match &map.max_concurrency {
            None => 0,
            Some(source) => match self.number_field(f, source, effective, "MaxConcurrency") {
                Ok(Some(v)) => match integer_value(&v).and_then(|n| u64::try_from(n).ok()) {
                    Some(n) => n as usize,
                    None => {
                        let p = path_of(source);
                        let e = lang::runtime(format!(
                            "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {p}",
                            plain(&v)
                        ));
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                },
                Ok(None) => 0,
                Err(fault) if fault.is_fatal() => return self.fatal(f, fault),
                Err(fault) => return Flow::Failed(fault),
            },
        };
        self.event(
            f,
            EventType::MapStateStarted,
            Some({
                let mut d = Map::new();
                d.insert("length".into(), Value::from(items.len()));
                d
            }),
        );

        let mut tolerated = [None, None];
        for (i, (source, field, kind)) in [
            (
                &map.tolerated_failure_count,
                "ToleratedFailureCount",
                "integer",
            ),
            (
                &map.tolerated_failure_percentage,
                "ToleratedFailurePercentage",
                "float",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(source) = source else { continue };
            let v = match self.number_field(f, source, effective, field) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(fault) if fault.is_fatal() => return self.fatal(f, fault),
                Err(fault) => return Flow::Failed(fault),
            };
            let number = if kind == "integer" {
                integer_value(&v).map(|n| n as f64)
            } else {
                float_value(&v)
            };
            let Some(number) = number else {
                let p = path_of(source);
                let e = lang::runtime(format!(
                    "The {field}Path field refers to value \"{}\" which is not a valid {kind}: {p}",
                    plain(&v)
                ));
                let fault = self.in_state(f, e);
                return self.fatal(f, fault);
            };
            if i == 0 && number < 0.0 {
                let fault = self.in_state(
                    f,
                    lang::runtime("ToleratedFailureCount cannot be negative."),
                );
                return self.fatal(f, fault);
            }
            if i == 1 && !(0.0..=100.0).contains(&number) {
                let fault = self.in_state(
                    f,
                    lang::runtime("ToleratedFailurePercentage must be between 0 and 100."),
                );
                return self.fatal(f, fault);
            }
            tolerated[i] = Some(number);
        }

        // Each item's input.
        let mut inputs = VecDeque::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let input = match &map.item_selector {
                None => item.clone(),
                Some(t) if jsonata => {
                    let mut states = self.jsonata_states(f, effective, None, None);
                    if let Some(ctx) = states.get_mut("context").and_then(Value::as_object_mut) {
                        let mut it = Map::new();
                        it.insert("Index".into(), Value::from(index));
                        it.insert("Value".into(), item.clone());
                        let mut m = Map::new();
                        m.insert("Item".into(), Value::Object(it));
                        ctx.insert("Map".into(), Value::Object(m));
                    }
                    match self.jsonata_template(f, t, &states, "ItemSelector") {
                        Ok(v) => v,
                        Err(e) => {
                            return Flow::Failed(self.evaluation_failed(f, e, "ItemSelector"));
                        }
                    }
                }
                Some(t) => match self.payload(f, t, effective, Some((index, item))) {
                    Ok(v) => v,
                    Err(e) => return Flow::Failed(self.in_state(f, e)),
                },
            };
            inputs.push_back((index, input));
        }

        if distributed {
            let label = format!(
                "{}:{}",
                self.info.execution_arn.replace(":execution:", ":mapRun:"),
                self.entropy.uuid()
            );
            let mut d = Map::new();
            d.insert("mapRunArn".into(), Value::from(label));
            self.event(f, EventType::MapRunStarted, Some(d));
        }
        let total = inputs.len();
        let last = self.frame(f).last;
        self.active(f).waiting = Waiting::Children(Box::new(Children {
            results: vec![None; total],
            running: VecDeque::new(),
            remaining: total,
            pending: inputs,
            max_concurrency,
            distributed,
            tolerated_failures: tolerated[0],
            tolerated_percentage: tolerated[1],
            failures: 0,
            total,
            closing_prev: last,
        }));
        if total == 0 {
            return self.children_done(f);
        }
        self.start_iterations(f);
        Flow::Blocked
    }

    /// Starts as many pending iterations as MaxConcurrency allows.
    fn start_iterations(&mut self, f: FrameId) {
        let (machine, map_name, silent, last) = {
            let frame = self.frame(f);
            let active = frame.active.as_ref().expect("map state");
            let StateKind::Map(map) = &frame.machine.states[&active.name].kind else {
                return;
            };
            let distributed = matches!(
                &active.waiting,
                Waiting::Children(c) if c.distributed
            );
            (
                map.processor.clone(),
                active.name.clone(),
                frame.silent || distributed,
                frame.last,
            )
        };
        loop {
            let next = {
                let Waiting::Children(c) = &mut self.active(f).waiting else {
                    return;
                };
                if c.max_concurrency != 0 && c.running.len() >= c.max_concurrency {
                    return;
                }
                c.pending.pop_front()
            };
            let Some((index, input)) = next else { return };
            let child = self.alloc_frame(Frame {
                machine: machine.clone(),
                parent: Some((f, index)),
                iteration: Some(Iteration {
                    index,
                    map_state: map_name.clone(),
                }),
                silent,
                vars: Map::new(),
                last,
                active: None,
            });
            if let Waiting::Children(c) = &mut self.active(f).waiting {
                c.running.push_back(child);
            }
            self.queue.push_back((child, Flow::Begin(input)));
        }
    }

    fn child_finished(
        &mut self,
        parent: FrameId,
        child: FrameId,
        slot: usize,
        child_last: u64,
        closing: u64,
        outcome: Result<Value, Fault>,
    ) {
        if !self.frames.get(parent).is_some_and(Option::is_some) {
            return;
        }
        if self.frame(parent).active.is_none() {
            return;
        }
        let silent_child;
        {
            let Waiting::Children(c) = &mut self.active(parent).waiting else {
                return;
            };
            if let Some(i) = c.running.iter().position(|r| *r == child) {
                c.running.remove(i);
            }
            silent_child = c.distributed;
        }
        if !silent_child {
            self.frame_mut(parent).last = child_last;
        }
        let failed = match outcome {
            Ok(output) => {
                let Waiting::Children(c) = &mut self.active(parent).waiting else {
                    return;
                };
                c.results[slot] = Some(output);
                c.remaining -= 1;
                if !silent_child {
                    c.closing_prev = closing;
                }
                None
            }
            Err(fault) => {
                let Waiting::Children(c) = &mut self.active(parent).waiting else {
                    return;
                };
                c.failures += 1;
                c.remaining -= 1;
                let tolerated = c.distributed
                    && (c.tolerated_failures.is_some_and(|n| c.failures as f64 <= n)
                        || c.tolerated_percentage.is_some_and(|p| {
                            c.failures as f64 * 100.0 / c.total.max(1) as f64 <= p
                        }));
                if tolerated {
                    c.results[slot] = Some(fault.error_output());
                    None
                } else {
                    Some(fault)
                }
            }
        };
        if let Some(fault) = failed {
            // One failure fails the state: abort the siblings.
            let (running, distributed) = {
                let Waiting::Children(c) = &mut self.active(parent).waiting else {
                    return;
                };
                c.pending.clear();
                (std::mem::take(&mut c.running), c.distributed)
            };
            for r in running {
                self.abort_frame(r);
            }
            self.active(parent).waiting = Waiting::Nothing;
            let fault = if distributed {
                self.event(parent, EventType::MapRunFailed, None);
                Fault {
                    error: Some(names::EXCEED_TOLERATED_FAILURE_THRESHOLD.into()),
                    cause: Some("The specified tolerated failure threshold was exceeded".into()),
                }
            } else {
                fault
            };
            let machine = self.frame(parent).machine.clone();
            let name = self.active(parent).name.clone();
            let state = Self::state(&machine, &name);
            let flow = self.state_failed(parent, state, fault);
            self.queue.push_front((parent, flow));
            return;
        }
        let remaining = match &self.active(parent).waiting {
            Waiting::Children(c) => c.remaining,
            _ => return,
        };
        if remaining == 0 {
            let flow = self.children_done(parent);
            self.queue.push_front((parent, flow));
        } else {
            self.start_iterations(parent);
        }
    }

    /// Every branch or iteration succeeded.
    fn children_done(&mut self, f: FrameId) -> Flow {
        let Waiting::Children(c) = std::mem::replace(&mut self.active(f).waiting, Waiting::Nothing)
        else {
            return Flow::Blocked;
        };
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        // AWS records MapStateSucceeded, but no ParallelStateSucceeded.
        let mut closing = c.closing_prev;
        if let StateKind::Map(_) = &state.kind {
            if c.distributed {
                closing = self.event(f, EventType::MapRunSucceeded, None);
            }
            self.closing_event(f, EventType::MapStateSucceeded, closing);
        }
        self.frame_mut(f).last = closing;
        let result = Value::Array(
            c.results
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect(),
        );
        let flow = self.state_result(f, state, result);
        self.settle(f, state, flow)
    }
}

fn truncated_false() -> Value {
    let mut m = Map::new();
    m.insert("truncated".into(), Value::Bool(false));
    Value::Object(m)
}

fn iteration_details(name: &str, index: usize) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("index".into(), Value::from(index));
    d.insert("name".into(), Value::from(name));
    d
}

fn add_error(details: &mut Map<String, Value>, fault: &Fault) {
    if let Some(e) = &fault.error {
        details.insert("error".into(), Value::from(e.as_str()));
    }
    if let Some(c) = &fault.cause {
        details.insert("cause".into(), Value::from(c.as_str()));
    }
}

fn service_details(resource_type: &str, resource: &str) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("resourceType".into(), Value::from(resource_type));
    d.insert("resource".into(), Value::from(resource));
    d
}

fn scheduled_event(
    kind: &TaskKind,
    arn: &str,
    region: &str,
    input: &Value,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
) -> (EventType, Map<String, Value>) {
    let text = lang::to_json(input);
    let mut d = Map::new();
    let ty = match kind {
        TaskKind::LambdaFunction => {
            d.insert("resource".into(), Value::from(arn));
            d.insert("input".into(), Value::from(text));
            d.insert("inputDetails".into(), truncated_false());
            EventType::LambdaFunctionScheduled
        }
        TaskKind::Activity => {
            d.insert("resource".into(), Value::from(arn));
            d.insert("input".into(), Value::from(text));
            d.insert("inputDetails".into(), truncated_false());
            EventType::ActivityScheduled
        }
        TaskKind::Service {
            resource_type,
            resource,
        } => {
            d = service_details(resource_type, resource);
            d.insert("region".into(), Value::from(region));
            d.insert("parameters".into(), Value::from(text));
            EventType::TaskScheduled
        }
    };
    if let Some(t) = timeout {
        d.insert("timeoutInSeconds".into(), Value::from(t));
    }
    if let Some(h) = heartbeat {
        d.insert("heartbeatInSeconds".into(), Value::from(h));
    }
    (ty, d)
}

/// How a Task's Resource is reached.
pub fn task_kind(resource: &str) -> TaskKind {
    use stepwise_asl::parse::Resource;
    match stepwise_asl::parse::classify(resource) {
        Some(Resource::LambdaFunction) => TaskKind::LambdaFunction,
        Some(Resource::Activity) => TaskKind::Activity,
        _ => {
            let rest = resource.splitn(6, ':').nth(5).unwrap_or(resource);
            let (resource_type, action) = match rest.strip_prefix("aws-sdk:") {
                Some(sdk) => {
                    let (svc, action) = sdk.split_once(':').unwrap_or((sdk, ""));
                    (format!("aws-sdk:{svc}"), action.to_owned())
                }
                None => {
                    let (svc, action) = rest.split_once(':').unwrap_or((rest, ""));
                    (svc.to_owned(), action.to_owned())
                }
            };
            TaskKind::Service {
                resource_type,
                resource: action,
            }
        }
    }
}

fn entered_type(kind: &StateKind) -> EventType {
    match kind {
        StateKind::Pass(_) => EventType::PassStateEntered,
        StateKind::Task(_) => EventType::TaskStateEntered,
        StateKind::Choice(_) => EventType::ChoiceStateEntered,
        StateKind::Wait(_) => EventType::WaitStateEntered,
        StateKind::Succeed => EventType::SucceedStateEntered,
        StateKind::Fail(_) => EventType::FailStateEntered,
        StateKind::Parallel(_) => EventType::ParallelStateEntered,
        StateKind::Map(_) => EventType::MapStateEntered,
    }
}

fn exited_type(kind: &StateKind) -> Option<EventType> {
    Some(match kind {
        StateKind::Pass(_) => EventType::PassStateExited,
        StateKind::Task(_) => EventType::TaskStateExited,
        StateKind::Choice(_) => EventType::ChoiceStateExited,
        StateKind::Wait(_) => EventType::WaitStateExited,
        StateKind::Succeed => EventType::SucceedStateExited,
        StateKind::Parallel(_) => EventType::ParallelStateExited,
        StateKind::Map(_) => EventType::MapStateExited,
        StateKind::Fail(_) => return None,
    })
}

fn matches_error(error_equals: &[String], name: &str) -> bool {
    error_equals.iter().any(|e| {
        e == name
            || (e == names::ALL && names::caught_by_states_all(name))
            || (e == names::TASK_FAILED
                && name != names::TIMEOUT
                && names::caught_by_states_all(name))
    })
}

/// `SecondsPath`'s value as whole seconds: `Err` when it is a number that is not a long.
fn seconds_value(v: &Value) -> Option<Result<i64, ()>> {
    match v {
        Value::Number(n) => Some(match n.as_i64() {
            Some(s) if s >= 0 => Ok(s),
            Some(_) => return None,
            None => Err(()),
        }),
        _ => None,
    }
}

/// An integer field's value: a JSON integer, or a string holding one (AWS parses both).
fn integer_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A float field's value: a JSON number, or a string holding one.
fn float_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn path_of(source: &stepwise_asl::model::NumberSource) -> String {
    match source {
        stepwise_asl::model::NumberSource::Path(p) => p.to_string(),
        _ => String::new(),
    }
}

/// A value as Java's `toString` shows it inside AWS's quotes: strings bare, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => lang::to_json(other),
    }
}

/// `$['a']['b']` for `$.a.b`, as Jayway prints paths.
fn bracketed(p: &stepwise_asl::jsonpath::JsonPath) -> String {
    use stepwise_asl::jsonpath::{Segment, Selector};
    let mut s = String::from("$");
    for seg in &p.segments {
        match seg {
            Segment::Child(Selector::Name(n)) => s.push_str(&format!("['{n}']")),
            Segment::Child(Selector::Index(i)) => s.push_str(&format!("[{i}]")),
            _ => {}
        }
    }
    s
}

/// The expression text of a JSONata template, for causes.
fn template_source(t: &stepwise_asl::model::Template) -> String {
    match t {
        stepwise_asl::model::Template::Jsonata(e) => e.source().trim().to_owned(),
        stepwise_asl::model::Template::Literal(v) => lang::to_json(v),
        _ => String::new(),
    }
}
