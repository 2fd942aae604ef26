//! Frames (the top-level machine, Parallel branches, Map iterations) and what they are
//! waiting for: allocation, success and failure, aborting, and the end of the execution.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use stepwise_asl::model::{StateKind, StateMachine};

use crate::history::EventType;
use crate::lang;

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
    pub(super) waiting: Waiting,
    /// A Parallel or Map state's branches or iterations when one of them failed, for a redrive.
    pub(super) partial: Option<Box<ChildrenPoint>>,
}

#[derive(Debug)]
pub(super) enum Waiting {
    Nothing,
    Timer(TimerId),
    Task(TaskId),
    Retry(TimerId),
    Children(Box<Children>),
}

/// How a pending Map iteration starts.
#[derive(Debug)]
pub(super) enum Start {
    /// From the ItemProcessor's StartAt, with this input.
    Begin(Value),
    /// Where a redrive resumes it.
    Resume(Box<RedrivePoint>),
}

#[derive(Debug)]
pub(super) struct Children {
    pub(super) results: Vec<Option<Value>>,
    pub(super) running: VecDeque<FrameId>,
    pub(super) remaining: usize,
    /// Map: iterations still to start, in order.
    pub(super) pending: VecDeque<(usize, Start)>,
    pub(super) max_concurrency: usize,
    pub(super) distributed: bool,
    /// Distributed Map: failures allowed.
    pub(super) tolerated_failures: Option<f64>,
    pub(super) tolerated_percentage: Option<f64>,
    pub(super) failures: usize,
    pub(super) total: usize,
    /// The event the state's closing event follows (the last child's closing event).
    pub(super) closing_prev: u64,
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

    /// Drops every frame without events (the execution is ending).
    pub(super) fn abort_all(&mut self) {
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
}
