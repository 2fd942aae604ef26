//! Frames (the top-level machine, Parallel branches, Map iterations) and what they are
//! waiting for: allocation, success and failure, aborting, and the end of the execution.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use stepwise_asl::model::{StateKind, StateMachine};

use crate::history::EventType;
use crate::lang;

use super::children::Children;
use super::events::{add_error, iteration_details, truncated_false};
use super::redrive::{ChildrenPoint, RedrivePoint, Resume};
use super::{Command, Completion, Execution, Fault, FrameId, Status, TaskId, TimerId};

#[derive(Debug)]
pub(super) struct Iteration {
    pub(super) index: usize,
    pub(super) map_state: String,
}

#[derive(Debug)]
pub(super) struct Frame {
    pub(super) machine: Arc<StateMachine>,
    /// The enclosing frame and this frame's slot in its results.
    pub(super) parent: Option<(FrameId, usize)>,
    pub(super) iteration: Option<Iteration>,
    /// Inside a Distributed Map: runs without history events.
    pub(super) silent: bool,
    pub(super) vars: Map<String, Value>,
    /// The event the next event of this frame follows.
    pub(super) last: u64,
    pub(super) active: Option<Active>,
    /// The state this frame failed in and its input, for a redrive.
    pub(super) failed: Option<Box<RedrivePoint>>,
    /// A redrive resumes this Parallel or Map state's unfinished branches or iterations only.
    pub(super) resume: Option<Resume>,
}

/// The state a frame is in.
#[derive(Debug)]
pub(super) struct Active {
    pub(super) name: String,
    pub(super) raw_input: Value,
    /// After InputPath.
    pub(super) effective: Value,
    pub(super) entered_id: u64,
    pub(super) entered_time: DateTime<Utc>,
    /// Attempts used per retrier.
    pub(super) retries: Vec<u32>,
    pub(super) retry_count: u32,
    /// Changed only by the transitions below.
    phase: StatePhase,
    /// A Parallel or Map state's branches or iterations when one of them failed, for a redrive.
    pub(super) partial: Option<Box<ChildrenPoint>>,
}

/// What the state a frame is in waits for between steps: its lifecycle.
///
/// ```text
///             +--sleep----> Sleeping(timer) ---woke(timer)----------+
///             +--work-----> Working(task) -----worked(task)---------+
/// Evaluating -+--back_off-> BackingOff(timer) --retry_due(timer)----+--> Evaluating
///             +--spawn----> Children (its own phases) --collect-----+
/// ```
///
/// Evaluating is the state running within one step (entered, run again after a retry
/// interval, or leaving): no event from outside concerns it. Every other phase names the one
/// thing that moves the state on: the Wait state's timer, the Task state's task (whose own
/// phases are a `TaskPhase`), the Retry interval's timer, or the Parallel or Map state's
/// children (a `ChildrenPhase` and a `Child` each). Leaving a phase other than through its
/// transition happens only when the state is aborted (the frame is dropped with it).
#[derive(Debug)]
pub(super) enum StatePhase {
    Evaluating,
    /// A Wait state waits for this timer.
    Sleeping(TimerId),
    /// A Task state waits for this task.
    Working(TaskId),
    /// A Retry interval: the state runs again when this timer fires.
    BackingOff(TimerId),
    /// A Parallel state's branches or a Map state's iterations run.
    Children(Box<Children>),
}

impl StatePhase {
    /// The phase in a refusal's reason.
    pub(super) fn describe(&self) -> String {
        match self {
            StatePhase::Evaluating => "evaluating".into(),
            StatePhase::Sleeping(t) => format!("sleeping on timer {t}"),
            StatePhase::Working(t) => format!("waiting for task {t}"),
            StatePhase::BackingOff(t) => format!("backing off until timer {t}"),
            StatePhase::Children(_) => "running its branches or iterations".into(),
        }
    }
}

impl Active {
    pub(super) fn new(
        name: String,
        raw_input: Value,
        entered_id: u64,
        entered_time: DateTime<Utc>,
        retries: Vec<u32>,
        retry_count: u32,
    ) -> Self {
        Active {
            name,
            raw_input,
            effective: Value::Null,
            entered_id,
            entered_time,
            retries,
            retry_count,
            phase: StatePhase::Evaluating,
            partial: None,
        }
    }

    #[cfg(test)]
    pub(super) fn phase_description(&self) -> String {
        self.phase.describe()
    }

    /// The branches or iterations, while they run.
    pub(super) fn children(&self) -> Option<&Children> {
        match &self.phase {
            StatePhase::Children(c) => Some(c),
            _ => None,
        }
    }

    pub(super) fn children_mut(&mut self) -> Option<&mut Children> {
        match &mut self.phase {
            StatePhase::Children(c) => Some(c),
            _ => None,
        }
    }

    fn enter_from_evaluating(&mut self, next: StatePhase) {
        debug_assert!(
            matches!(self.phase, StatePhase::Evaluating),
            "{} is {}, not evaluating",
            self.name,
            self.phase.describe()
        );
        self.phase = next;
    }

    /// Evaluating -> Sleeping: a Wait state set its timer.
    pub(super) fn sleep(&mut self, timer: TimerId) {
        self.enter_from_evaluating(StatePhase::Sleeping(timer));
    }

    /// Sleeping -> Evaluating: the Wait state's timer fired.
    pub(super) fn woke(&mut self, timer: TimerId) {
        debug_assert!(matches!(self.phase, StatePhase::Sleeping(t) if t == timer));
        self.phase = StatePhase::Evaluating;
    }

    /// Evaluating -> Working: a Task state scheduled its task.
    pub(super) fn work(&mut self, task: TaskId) {
        self.enter_from_evaluating(StatePhase::Working(task));
    }

    /// Working -> Evaluating: the task ended (succeeded, failed, timed out).
    pub(super) fn worked(&mut self, task: TaskId) {
        debug_assert!(matches!(self.phase, StatePhase::Working(t) if t == task));
        self.phase = StatePhase::Evaluating;
    }

    /// Evaluating -> BackingOff: a Retry rule applies; the state runs again when `timer` fires.
    pub(super) fn back_off(&mut self, timer: TimerId) {
        self.enter_from_evaluating(StatePhase::BackingOff(timer));
    }

    /// BackingOff -> Evaluating: the retry interval is over.
    pub(super) fn retry_due(&mut self, timer: TimerId) {
        debug_assert!(matches!(self.phase, StatePhase::BackingOff(t) if t == timer));
        self.phase = StatePhase::Evaluating;
    }

    /// Evaluating -> Children: a Parallel or Map state's children start.
    pub(super) fn spawn(&mut self, children: Children) {
        self.enter_from_evaluating(StatePhase::Children(Box::new(children)));
    }

    /// Children -> Evaluating: the children are all done, or one failed and the others were
    /// cancelled. Gives them back.
    pub(super) fn collect(&mut self) -> Option<Box<Children>> {
        match std::mem::replace(&mut self.phase, StatePhase::Evaluating) {
            StatePhase::Children(c) => Some(c),
            other => {
                self.phase = other;
                None
            }
        }
    }

    /// The phase the state is aborted in (its frame is being dropped).
    fn abort(self) -> StatePhase {
        self.phase
    }
}

/// How a pending Map iteration starts.
#[derive(Debug)]
pub(super) enum Start {
    /// From the ItemProcessor's StartAt, with this input.
    Begin(Value),
    /// Where a redrive resumes it.
    Resume(Box<RedrivePoint>),
}

impl Execution {
    pub(super) fn alloc_frame(&mut self, frame: Frame) -> FrameId {
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

    pub(super) fn frame(&self, f: FrameId) -> &Frame {
        self.frames[f].as_ref().expect("live frame")
    }

    pub(super) fn frame_mut(&mut self, f: FrameId) -> &mut Frame {
        self.frames[f].as_mut().expect("live frame")
    }

    pub(super) fn active(&mut self, f: FrameId) -> &mut Active {
        self.frame_mut(f).active.as_mut().expect("active state")
    }

    /// Whether an event may concern the state frame `f` is in: the frame is live, its state is
    /// in a phase `phase_admits` accepts, and each enclosing Parallel or Map state is running
    /// this frame's branch or iteration (not done with it, not cancelling it).
    pub(super) fn state_admits(
        &self,
        f: FrameId,
        phase_admits: impl FnOnce(&StatePhase) -> bool,
    ) -> Result<(), String> {
        let frame = self
            .frames
            .get(f)
            .and_then(Option::as_ref)
            .ok_or_else(|| format!("frame {f} has ended"))?;
        let active = frame
            .active
            .as_ref()
            .ok_or_else(|| format!("frame {f} is between states"))?;
        if !phase_admits(&active.phase) {
            return Err(format!(
                "state {} is {}",
                active.name,
                active.phase.describe()
            ));
        }
        self.frame_admits(f)
    }

    /// Whether frame `f` and every frame above it still run: each enclosing Parallel or Map
    /// state admits its child (see `Children::admits`).
    fn frame_admits(&self, mut f: FrameId) -> Result<(), String> {
        loop {
            let frame = self
                .frames
                .get(f)
                .and_then(Option::as_ref)
                .ok_or_else(|| format!("frame {f} has ended"))?;
            let Some((parent, slot)) = frame.parent else {
                return Ok(());
            };
            let what = if frame.iteration.is_some() {
                "iteration"
            } else {
                "branch"
            };
            let active = self
                .frames
                .get(parent)
                .and_then(Option::as_ref)
                .and_then(|p| p.active.as_ref());
            let verdict = match active.map(|a| (a, a.children())) {
                Some((_, Some(c))) => c.admits(slot, f),
                Some((a, None)) => Err(format!("its state is {}", a.phase.describe())),
                None => Err("its state has ended".into()),
            };
            verdict.map_err(|reason| {
                let state = active.map_or("?", |a| a.name.as_str());
                format!("{what} {slot} of {state} is not running: {reason}")
            })?;
            f = parent;
        }
    }

    pub(super) fn root_last(&self) -> u64 {
        self.frames
            .first()
            .and_then(|f| f.as_ref())
            .map_or(0, |f| f.last)
    }

    /// The root frame (or a child) finished its machine.
    pub(super) fn frame_succeeded(&mut self, f: FrameId, output: Value) {
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

    pub(super) fn frame_failed(&mut self, f: FrameId, fault: Fault) {
        let Some(frame) = self.release_frame(f) else {
            return;
        };
        match frame.parent {
            None => {
                self.redrive_point = self.redrive_point_of(&frame);
                self.fail_execution(frame.last, fault)
            }
            Some((parent, slot)) => {
                // Distributed Map iterations start over on a redrive: nothing to keep.
                let point = if frame.silent {
                    None
                } else {
                    self.redrive_point_of(&frame)
                };
                let mut closing = frame.last;
                if let Some(it) = &frame.iteration {
                    if !frame.silent {
                        let mut details = iteration_details(&it.map_state, it.index);
                        add_error(&mut details, &fault);
                        closing =
                            self.record(EventType::MapIterationFailed, frame.last, Some(details));
                    }
                }
                self.child_finished(parent, f, slot, frame.last, closing, Err((fault, point)));
            }
        }
    }

    pub(super) fn fail_execution(&mut self, last: u64, fault: Fault) {
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

    pub(super) fn finish(&mut self, completion: Completion) {
        self.status = completion.status;
        for (timer, _) in std::mem::take(&mut self.timers) {
            self.out.commands.push(Command::CancelTimer { timer });
        }
        for (task, _) in std::mem::take(&mut self.tasks) {
            self.out.commands.push(Command::CancelTask { task });
        }
        self.completion = Some(completion.clone());
        self.closed_at = Some(self.now);
        self.out.commands.push(Command::Complete(completion));
        self.queue.clear();
    }

    /// Drops every frame without events (the execution is ending); a Map Run still running
    /// ends as aborted.
    pub(super) fn abort_all(&mut self) {
        let running_map_runs: Vec<String> = self
            .frames
            .iter()
            .flatten()
            .filter_map(|frame| frame.active.as_ref()?.children()?.map_run.clone())
            .chain(self.tasks.values().filter_map(|p| p.map_run.clone()))
            .collect();
        for arn in running_map_runs {
            self.out
                .commands
                .push(super::Command::MapRun(super::MapRunChange::Ended {
                    arn,
                    status: "ABORTED",
                }));
        }
        if self.redrive_point.is_none() {
            if let Some(root) = self.frames.first().and_then(Option::as_ref) {
                self.redrive_point = self.redrive_point_of(root);
            }
        }
        for slot in &mut self.frames {
            *slot = None;
        }
        self.free_frames.clear();
        self.queue.clear();
    }

    /// Aborts a frame and everything below it, with AWS's `*Aborted` events.
    pub(super) fn abort_frame(&mut self, f: FrameId) {
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
        match active.abort() {
            StatePhase::Sleeping(t) | StatePhase::BackingOff(t) => self.cancel_timer(t),
            StatePhase::Working(t) => {
                if let Some(arn) = self.tasks.get(&t).and_then(|p| p.map_run.clone()) {
                    self.out
                        .commands
                        .push(super::Command::MapRun(super::MapRunChange::Ended {
                            arn,
                            status: "ABORTED",
                        }));
                }
                self.cancel_task(t)
            }
            StatePhase::Children(children) => {
                for child in children.running() {
                    self.abort_frame(child);
                }
                if let Some(arn) = children.map_run.clone() {
                    self.out
                        .commands
                        .push(super::Command::MapRun(super::MapRunChange::Ended {
                            arn,
                            status: "ABORTED",
                        }));
                }
            }
            StatePhase::Evaluating => {}
        }
        if let (Some(ty), false) = (ty, frame.silent) {
            self.record(ty, frame.last, None);
        }
    }
}
