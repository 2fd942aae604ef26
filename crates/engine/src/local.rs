//! Runs one execution to its end in-process: timers on a clock that is either virtual (jumps
//! to the next timer) or real and scaled (like Step Functions Local's `WAIT_TIME_SCALE`), and
//! tasks answered by a [`TaskHandler`] (mocks, in `stepwise run`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use stepwise_asl::model::StateMachine;

use crate::agenda::{Agenda, Next, TaskEffect};
use crate::context::ExecutionInfo;
use crate::execution::{Completion, Event, Execution, Status, Step, StepError, TaskRequest};
use crate::history::HistoryEvent;

/// What a task handler answers.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    Succeeded(Value),
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
}

impl TaskOutcome {
    /// The event that reports this outcome of task `task`.
    pub fn into_event(self, task: crate::TaskId) -> Event {
        match self {
            TaskOutcome::Succeeded(output) => Event::TaskSucceeded { task, output },
            TaskOutcome::Failed { error, cause } => Event::TaskFailed { task, error, cause },
        }
    }
}

/// Runs tasks for a local execution.
pub trait TaskHandler {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome;
}

/// Fails every task: for machines that are expected not to call any.
#[derive(Debug, Default)]
pub struct NoTasks;

impl TaskHandler for NoTasks {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        TaskOutcome::Failed {
            error: Some("States.Runtime".into()),
            cause: Some(format!(
                "No resource binding or mock response for the state '{}' (resource {})",
                request.state_name, request.resource
            )),
        }
    }
}

/// How time passes in a local run.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// Timers fire at once; the execution's clock jumps forward to them.
    Virtual,
    /// Really sleep, `scale` times the requested duration (0.0 never sleeps); the execution's
    /// clock still moves by the full duration.
    Scaled(f64),
}

/// Options of a local run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub clock: Clock,
    /// Seeds each step's randomness (UUIDs, `States.MathRandom`, jitter).
    pub seed: u64,
    /// A guard against executions that never end: at most this many steps.
    pub max_steps: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clock: Clock::Virtual,
            seed: 0,
            max_steps: 10_000_000,
        }
    }
}

/// The result of a local run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub completion: Completion,
    pub events: Vec<HistoryEvent>,
    /// Every step applied, in order: replaying them reproduces `events` exactly.
    pub steps: Vec<Step>,
}

/// Runs `machine` on `input` until the execution ends.
pub fn run(
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    input: Value,
    input_text: Option<String>,
    handler: &mut dyn TaskHandler,
    options: &RunOptions,
    progress: impl FnMut(&[HistoryEvent]),
) -> RunResult {
    let now = info.start_time;
    let exec = Execution::new(machine, info);
    let first = Event::Start { input, input_text };
    drive(
        exec,
        first,
        now,
        handler,
        options,
        progress,
        (Vec::new(), Vec::new()),
    )
}

/// Redrives the execution `previous` ran (RedriveExecution): rebuilds it from its steps, then
/// continues it from the state that did not succeed until it ends again. The result holds the
/// whole run: `previous`'s events and steps, then the redrive's.
pub fn redrive(
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    previous: &RunResult,
    handler: &mut dyn TaskHandler,
    options: &RunOptions,
    progress: impl FnMut(&[HistoryEvent]),
) -> Result<RunResult, StepError> {
    let now = previous.steps.last().map_or(info.start_time, |s| s.now);
    let mut exec = Execution::new(machine, info);
    for step in &previous.steps {
        let _ = exec.step(step.clone());
    }
    exec.redrive_status(now).map_err(StepError::NotRedrivable)?;
    Ok(drive(
        exec,
        Event::Redrive,
        now,
        handler,
        options,
        progress,
        (previous.events.clone(), previous.steps.clone()),
    ))
}

/// Applies `first`, then every event that follows from it, until the execution ends. The
/// handler answers each task as soon as it is scheduled, so no task is ever running while
/// time passes: this is the [`Agenda`] with instantaneous tasks.
fn drive(
    mut exec: Execution,
    first: Event,
    mut now: DateTime<Utc>,
    handler: &mut dyn TaskHandler,
    options: &RunOptions,
    mut progress: impl FnMut(&[HistoryEvent]),
    (mut events, mut steps): (Vec<HistoryEvent>, Vec<Step>),
) -> RunResult {
    let mut agenda = Agenda::new(first);
    let mut seed = options
        .seed
        .wrapping_add((steps.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut completion = None;

    for _ in 0..options.max_steps {
        let event = match agenda.next(now) {
            Next::Step(event) => event,
            Next::Await { until: Some(at) } | Next::Idle { until: at, .. } => {
                if at > now {
                    if let Clock::Scaled(scale) = options.clock {
                        let wait = (at - now).to_std().unwrap_or_default().mul_f64(scale);
                        if !wait.is_zero() {
                            std::thread::sleep(wait);
                        }
                    }
                    now = at;
                }
                continue;
            }
            Next::Done(c) => {
                completion = Some(c);
                break;
            }
            Next::Await { until: None } | Next::Stalled => break,
        };
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let step = Step { now, seed, event };
        let Ok(out) = exec.step(step.clone()) else {
            continue;
        };
        steps.push(step);
        events.extend(out.events);
        progress(&events);
        agenda.absorb(out.commands, |effect| match effect {
            TaskEffect::Run(request) => Some(handler.run(&request).into_event(request.task)),
            TaskEffect::Cancel(_) => None,
        });
    }
    if completion.is_none() {
        if let Next::Done(c) = agenda.next(now) {
            completion = Some(c);
        }
    }
    let completion = completion.unwrap_or(Completion {
        status: Status::Running,
        output: None,
        error: None,
        cause: None,
    });
    RunResult {
        completion,
        events,
        steps,
    }
}

/// Replays recorded steps on a fresh execution and returns the events they produce.
pub fn replay(
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    steps: &[Step],
) -> Vec<HistoryEvent> {
    let mut exec = Execution::new(machine, info);
    let mut events = Vec::new();
    for step in steps {
        if let Ok(out) = exec.step(step.clone()) {
            events.extend(out.events);
        }
    }
    events
}
