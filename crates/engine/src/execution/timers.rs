//! Timers: what each one is for, setting and cancelling them, and what happens when one fires.

use chrono::{DateTime, Utc};
use serde_json::Map;
use stepwise_asl::error_names as names;

use crate::history::EventType;

use super::{Command, Completion, Execution, Fault, FrameId, Status, TaskId, TimerId};

#[derive(Debug, Clone, Copy)]
pub(super) enum TimerPurpose {
    Wait(FrameId),
    Retry(FrameId),
    TaskTimeout(TaskId),
    Heartbeat(TaskId),
    ExecutionTimeout,
}

/// What a timer measures. A host lets time pass differently for each: a Wait state, a retry
/// interval or the state machine's timeout is the workflow's own time, which a host may skip or
/// scale (Step Functions Local's `WAIT_TIME_SCALE`); a task's timeout or heartbeat measures
/// work done outside the engine, so it always runs in real time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// A Wait state.
    Wait,
    /// A Retry rule's interval.
    Retry,
    /// A Task state's `TimeoutSeconds`.
    TaskTimeout,
    /// A Task state's `HeartbeatSeconds`.
    Heartbeat,
    /// The state machine's `TimeoutSeconds`.
    ExecutionTimeout,
}

impl TimerKind {
    /// Whether the timer measures work done outside the engine (a task's timeout or
    /// heartbeat): such time is never skipped or scaled.
    pub fn measures_work(self) -> bool {
        matches!(self, TimerKind::TaskTimeout | TimerKind::Heartbeat)
    }
}

impl TimerPurpose {
    fn kind(self) -> TimerKind {
        match self {
            TimerPurpose::Wait(_) => TimerKind::Wait,
            TimerPurpose::Retry(_) => TimerKind::Retry,
            TimerPurpose::TaskTimeout(_) => TimerKind::TaskTimeout,
            TimerPurpose::Heartbeat(_) => TimerKind::Heartbeat,
            TimerPurpose::ExecutionTimeout => TimerKind::ExecutionTimeout,
        }
    }
}

impl Execution {
    pub(super) fn new_timer(&mut self, purpose: TimerPurpose) -> TimerId {
        let id = self.next_timer;
        self.next_timer += 1;
        self.timers.insert(id, purpose);
        id
    }

    pub(super) fn start_timer(&mut self, purpose: TimerPurpose, fire_at: DateTime<Utc>) -> TimerId {
        let timer = self.new_timer(purpose);
        self.out.commands.push(Command::StartTimer {
            timer,
            fire_at,
            kind: purpose.kind(),
        });
        timer
    }

    pub(super) fn cancel_timer(&mut self, timer: TimerId) {
        if self.timers.remove(&timer).is_some() {
            self.out.commands.push(Command::CancelTimer { timer });
        }
    }

    pub(super) fn timer_fired(&mut self, timer: TimerId) {
        let Some(purpose) = self.timers.remove(&timer) else {
            return;
        };
        match purpose {
            TimerPurpose::Wait(f) => {
                if self.frames.get(f).is_some_and(Option::is_some) {
                    let flow = self.wait_done(f, timer);
                    self.queue.push_back((f, flow));
                }
            }
            TimerPurpose::Retry(f) => {
                if self.frames.get(f).is_some_and(Option::is_some) {
                    let flow = self.retry_now(f, timer);
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
                // AWS records a missed heartbeat as States.Timeout (TaskTimedOut and
                // ExecutionFailed both say so in its recordings), not States.HeartbeatTimeout.
                let fault = Fault {
                    error: Some(names::TIMEOUT.into()),
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
}
