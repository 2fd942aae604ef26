//! Redrive (RedriveExecution): a FAILED, TIMED_OUT or ABORTED execution continues from the
//! state that did not succeed, with that state's original input and the variables of that
//! moment; `$$.Execution.RedriveCount` goes up by one and the history goes on with an
//! `ExecutionRedriven` event. States that succeeded are not run again. A Parallel or inline Map
//! state that did not succeed keeps the results of its branches or iterations that succeeded
//! and runs only the others again, each from the state where it stopped (at any depth).
//!
//! What a redrive needs is kept when the execution ends (the [`RedrivePoint`]); like everything
//! else in [`Execution`] it follows from the recorded steps, so a replayed execution can be
//! redriven too.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use crate::history::{Details, EventType};

use super::children::Children;
use super::flow::Flow;
use super::frames::{Active, Frame};
use super::states::keeps_raw;
use super::timers::TimerPurpose;
use super::{Execution, FrameId, Status};

/// AWS's history limit for a redrive: the ExecutionRedriven event and at least one more must fit
/// under 25,000 events.
const MAX_EVENTS_BEFORE_REDRIVE: u64 = 24_999;
/// How long after it ends an execution may be redriven.
const REDRIVABLE_DAYS: i64 = 14;
/// The longest an execution may stay open, redrives included.
const MAX_OPEN_DAYS: i64 = 365;

/// Why an execution cannot be redriven; `Display` gives AWS's `redriveStatusReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotRedrivable {
    #[error("Execution is RUNNING and cannot be redriven")]
    Running,
    #[error("Execution is SUCCEEDED and cannot be redriven")]
    Succeeded,
    #[error("Execution history event limit exceeded")]
    HistoryLimitExceeded,
    #[error("Execution has exceeded the max execution time")]
    MaxExecutionTimeExceeded,
    #[error("Execution redrivable period exceeded")]
    RedrivablePeriodExceeded,
}

/// Where a redrive continues in one frame: the state that did not succeed, its input, the
/// frame's variables when it ended, and for a Parallel or Map state, its branches or iterations.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RedrivePoint {
    pub(super) state: String,
    pub(super) input: Value,
    pub(super) vars: Map<String, Value>,
    pub(super) children: Option<Box<ChildrenPoint>>,
}

/// What a redrive leaves in a frame for the Parallel or Map state (named) it resumes.
pub(super) type Resume = Box<(String, ChildrenPoint)>;

/// A Parallel or Map state's branches or iterations: the results of those that succeeded, and
/// where each other one resumes (`None`: from its start).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ChildrenPoint {
    pub(super) results: Vec<Option<Value>>,
    pub(super) redo: Vec<(usize, Option<Box<RedrivePoint>>)>,
    /// A Distributed Map whose host ran its Map Run: the run (its ARN, how many times it was
    /// redriven), which a redrive takes up again rather than starting another.
    pub(super) map_run: Option<(String, u32)>,
}

impl Execution {
    /// How many times the execution has been redriven (`redriveCount`).
    pub fn redrive_count(&self) -> u32 {
        self.info.redrive_count
    }

    /// When it was last redriven (`redriveDate`).
    pub fn redrive_date(&self) -> Option<DateTime<Utc>> {
        self.redrive_date
    }

    /// Whether a redrive at `now` would be accepted (`redriveStatus` REDRIVABLE), and if not,
    /// why (`redriveStatusReason`).
    pub fn redrive_status(&self, now: DateTime<Utc>) -> Result<(), NotRedrivable> {
        match self.status {
            Status::Running => return Err(NotRedrivable::Running),
            Status::Succeeded => return Err(NotRedrivable::Succeeded),
            Status::Failed | Status::TimedOut | Status::Aborted => {}
        }
        if !self.started {
            return Err(NotRedrivable::Running);
        }
        if self.next_event_id.saturating_sub(1) >= MAX_EVENTS_BEFORE_REDRIVE {
            return Err(NotRedrivable::HistoryLimitExceeded);
        }
        if now > self.info.start_time + Duration::days(MAX_OPEN_DAYS) {
            return Err(NotRedrivable::MaxExecutionTimeExceeded);
        }
        if self
            .closed_at
            .is_some_and(|closed| now > closed + Duration::days(REDRIVABLE_DAYS))
        {
            return Err(NotRedrivable::RedrivablePeriodExceeded);
        }
        Ok(())
    }

    /// A state failed and nothing caught it: the frame leaves it, remembering where it was.
    pub(super) fn leave_failed(&mut self, f: FrameId) {
        let Some(active) = self.frame_mut(f).active.take() else {
            return;
        };
        let machine = self.frame(f).machine.clone();
        let input = if machine.states.get(&active.name).is_none_or(keeps_raw) {
            active.raw_input
        } else {
            self.entered_input(active.entered_id)
        };
        self.frame_mut(f).failed = Some(Box::new(RedrivePoint {
            state: active.name,
            input,
            vars: Map::new(),
            children: active.partial,
        }));
    }

    /// A child of Parallel or Map state `f` failed (`failed`, in `slot`): what a redrive of the
    /// state keeps and resumes, taken before the other children are aborted.
    pub(super) fn keep_partial(
        &mut self,
        f: FrameId,
        slot: usize,
        failed: Option<Box<RedrivePoint>>,
    ) {
        let Some(c) = self.frame(f).active.as_ref().and_then(Active::children) else {
            return;
        };
        let mut point = self.children_point(c);
        if let Some(entry) = point.redo.iter_mut().find(|(s, _)| *s == slot) {
            entry.1 = failed;
        }
        self.active(f).partial = Some(Box::new(point));
    }

    /// Where each unfinished branch or iteration of `c` stands now.
    fn children_point(&self, c: &Children) -> ChildrenPoint {
        // Distributed Map iterations keep no history to find inputs in: they start over.
        c.point(|r| {
            self.frames
                .get(r)?
                .as_ref()
                .filter(|frame| !frame.silent)
                .and_then(|frame| self.redrive_point_of(frame))
        })
    }

    /// The raw input of the state `active` is in. States that move their input away
    /// ([`keeps_raw`]) ran within the step that entered them, whose StateEntered event has it.
    fn input_of(&self, machine: &stepwise_asl::model::StateMachine, active: &Active) -> Value {
        if machine.states.get(&active.name).is_none_or(keeps_raw) {
            active.raw_input.clone()
        } else {
            self.entered_input(active.entered_id)
        }
    }

    /// The input a StateEntered event of this step shows (`null` when there is none, e.g. in a
    /// Distributed Map's iterations, which record no events).
    fn entered_input(&self, entered_id: u64) -> Value {
        self.out
            .events
            .iter()
            .rev()
            .find(|e| e.id == entered_id)
            .and_then(|e| match &e.details {
                Some(Details::StateEntered { input, .. }) => serde_json::from_str(input).ok(),
                _ => None,
            })
            .unwrap_or(Value::Null)
    }

    /// Where a redrive of `frame` would continue: the state it is in (or failed in).
    pub(super) fn redrive_point_of(&self, frame: &Frame) -> Option<Box<RedrivePoint>> {
        match (&frame.active, &frame.failed) {
            (Some(active), _) => {
                let children = match active.children() {
                    Some(c) => Some(Box::new(self.children_point(c))),
                    None => active.partial.clone(),
                };
                Some(Box::new(RedrivePoint {
                    state: active.name.clone(),
                    input: self.input_of(&frame.machine, active),
                    vars: frame.vars.clone(),
                    children,
                }))
            }
            (None, Some(failed)) => {
                let mut point = failed.clone();
                point.vars = frame.vars.clone();
                Some(point)
            }
            (None, None) => None,
        }
    }

    /// Takes what a redrive left for the Parallel or Map state `f` is in, if it fits `slots`
    /// branches or iterations.
    pub(super) fn take_resume(&mut self, f: FrameId, slots: usize) -> Option<ChildrenPoint> {
        let name = self.frame(f).active.as_ref()?.name.clone();
        let resume = self.frame_mut(f).resume.take()?;
        let (state, point) = *resume;
        (state == name && point.results.len() == slots).then_some(point)
    }

    /// Applies a redrive the caller has checked with [`Self::redrive_status`].
    pub(super) fn redrive(&mut self) {
        let point = self.redrive_point.take();
        self.info.redrive_count += 1;
        self.redrive_date = Some(self.now);
        self.status = Status::Running;
        self.completion = None;
        self.closed_at = None;
        let mut details = Map::new();
        details.insert("redriveCount".into(), Value::from(self.info.redrive_count));
        let previous = self.next_event_id.saturating_sub(1);
        let redriven = self.record(EventType::ExecutionRedriven, previous, Some(details));
        // The state machine's timeout starts again.
        if let Some(secs) = self.machine.timeout_seconds {
            self.start_timer(
                TimerPurpose::ExecutionTimeout,
                self.now + Duration::seconds(secs as i64),
            );
        }
        self.frames.clear();
        self.free_frames.clear();
        self.queue.clear();
        let (state, input, vars, resume) = match point {
            Some(p) => {
                let resume = p.children.map(|c| Box::new((p.state.clone(), *c)));
                (p.state, p.input, p.vars, resume)
            }
            None => (
                self.machine.start_at.clone(),
                self.input.clone(),
                Map::new(),
                None,
            ),
        };
        let root = self.alloc_frame(Frame {
            machine: self.machine.clone(),
            parent: None,
            iteration: None,
            silent: false,
            vars,
            last: redriven,
            active: None,
            failed: None,
            resume,
        });
        self.queue.push_back((root, Flow::Next(state, input)));
    }
}
