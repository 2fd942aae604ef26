//! The lifecycle of a Parallel state's branches and a Map state's iterations.
//!
//! Each branch or iteration (a *child*, in its *slot*) is a [`Child`]; the state's children as
//! a whole are in a [`ChildrenPhase`]. The transitions below are the only way either changes:
//!
//! ```text
//! child:    Queued --launch--> Running --succeeded--------------------> Done
//!              |                  |  \--failed, within the tolerance--> Done (its error output)
//!              |                  |  \--failed, beyond it-------------> Failed
//!              +------------------+--cancel (a sibling failed)--------> Aborted
//!
//! children: Running --the last one Done--> AllDone
//!              \-----one Failed-----------> Cancelling --cancel--> (the state fails)
//! ```
//!
//! A Parallel state launches every branch at once. A Map state launches iterations in index
//! order while fewer than MaxConcurrency run (0: no limit); the others stay queued until one
//! ends. Only a Distributed Map tolerates failures (ToleratedFailureCount/Percentage).
//!
//! A child ends at most once, and only while it runs and its siblings do: anything else (a
//! second end, an end after the state failed) is refused with the reason, and changes nothing.
//! Slots run in index order, so the running children, and what aborting them records, are
//! in the order they started.

use serde_json::Value;

use super::FrameId;
use super::frames::Start;
use super::redrive::{ChildrenPoint, RedrivePoint};

/// One branch or iteration.
#[derive(Debug)]
pub(super) enum Child {
    /// Not started: a Map iteration MaxConcurrency holds back (or a child about to launch).
    Queued(Start),
    /// Running as this frame.
    Running(FrameId),
    /// Ended with this result: its output, a tolerated failure's error output, or (after a
    /// redrive) what it returned before.
    Done(Value),
    /// Failed beyond what is tolerated: it fails the state.
    Failed,
    /// Cancelled because a sibling failed. (Also a slot a redrive neither keeps nor resumes,
    /// which a redrive point never has.)
    Aborted,
}

/// Where the children stand as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChildrenPhase {
    /// Some run or are queued; none failed beyond the tolerance.
    Running,
    /// Every one is Done: the state collects their results.
    AllDone,
    /// One failed beyond the tolerance: the others are cancelled and the state fails.
    Cancelling,
}

impl ChildrenPhase {
    fn name(self) -> &'static str {
        match self {
            ChildrenPhase::Running => "running",
            ChildrenPhase::AllDone => "done",
            ChildrenPhase::Cancelling => "failed and cancelling",
        }
    }
}

/// A Distributed Map's ToleratedFailureCount and ToleratedFailurePercentage.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tolerance {
    pub(super) count: Option<f64>,
    pub(super) percentage: Option<f64>,
}

/// What a child's end means for its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Others still run or are queued: launch what MaxConcurrency now allows.
    Continue,
    /// That was the last one: the state succeeds with the results.
    AllDone,
    /// It failed beyond the tolerance: cancel the others, fail the state.
    Failed,
}

/// A Parallel or Map state's children.
#[derive(Debug)]
pub(super) struct Children {
    phase: ChildrenPhase,
    slots: Vec<Child>,
    /// How many slots are Running.
    running: usize,
    /// How many slots are Queued; the first of them is at `cursor` or after.
    queued: usize,
    cursor: usize,
    /// 0: no limit.
    max_concurrency: usize,
    distributed: bool,
    tolerance: Tolerance,
    /// Failures so far (tolerated or not).
    failures: usize,
    /// The event the state's closing event follows (the last child's closing event).
    pub(super) closing_prev: u64,
    /// A Distributed Map's Map Run.
    pub(super) map_run: Option<String>,
}

impl Children {
    /// Children in `slots` (Queued, or Done when a redrive keeps their results), none running.
    pub(super) fn new(
        slots: Vec<Child>,
        max_concurrency: usize,
        distributed: bool,
        tolerance: Tolerance,
        closing_prev: u64,
    ) -> Self {
        let queued = slots
            .iter()
            .filter(|c| matches!(c, Child::Queued(_)))
            .count();
        Children {
            phase: if queued == 0 {
                ChildrenPhase::AllDone
            } else {
                ChildrenPhase::Running
            },
            slots,
            running: 0,
            queued,
            cursor: 0,
            max_concurrency,
            distributed,
            tolerance,
            failures: 0,
            closing_prev,
            map_run: None,
        }
    }

    pub(super) fn phase(&self) -> ChildrenPhase {
        self.phase
    }

    /// A Distributed Map's: its children record no history events.
    pub(super) fn distributed(&self) -> bool {
        self.distributed
    }

    /// The next child MaxConcurrency lets start, taken from the queue; [`Self::launched`]
    /// must follow with its frame.
    pub(super) fn next_to_launch(&mut self) -> Option<(usize, Start)> {
        if self.phase != ChildrenPhase::Running
            || self.queued == 0
            || (self.max_concurrency != 0 && self.running >= self.max_concurrency)
        {
            return None;
        }
        while !matches!(self.slots[self.cursor], Child::Queued(_)) {
            self.cursor += 1;
        }
        let slot = self.cursor;
        let Child::Queued(start) = std::mem::replace(&mut self.slots[slot], Child::Aborted) else {
            unreachable!("the cursor stops at a queued child");
        };
        self.queued -= 1;
        Some((slot, start))
    }

    /// Queued -> Running: the child in `slot` runs as `frame`.
    pub(super) fn launched(&mut self, slot: usize, frame: FrameId) {
        self.slots[slot] = Child::Running(frame);
        self.running += 1;
    }

    /// Whether `frame` may report on the child in `slot`: it runs, and so do its siblings.
    pub(super) fn admits(&self, slot: usize, frame: FrameId) -> Result<(), String> {
        if self.phase != ChildrenPhase::Running {
            return Err(format!("its siblings are {}", self.phase.name()));
        }
        match self.slots.get(slot) {
            Some(Child::Running(f)) if *f == frame => Ok(()),
            Some(Child::Running(f)) => Err(format!("it runs as frame {f}, not {frame}")),
            Some(Child::Queued(_)) => Err("it has not started".into()),
            Some(Child::Done(_)) | Some(Child::Failed) => Err("it has already ended".into()),
            Some(Child::Aborted) => Err("it was cancelled".into()),
            None => Err("there is no such child".into()),
        }
    }

    /// Running -> Done: the child in `slot` (frame `frame`) returned `output`.
    pub(super) fn succeeded(
        &mut self,
        slot: usize,
        frame: FrameId,
        output: Value,
    ) -> Result<Verdict, String> {
        self.admits(slot, frame)?;
        self.slots[slot] = Child::Done(output);
        self.running -= 1;
        Ok(self.after_end())
    }

    /// Running -> Done (tolerated, with `error_output` as its result) or Failed (which moves
    /// the children to Cancelling).
    pub(super) fn failed(
        &mut self,
        slot: usize,
        frame: FrameId,
        error_output: Value,
    ) -> Result<Verdict, String> {
        self.admits(slot, frame)?;
        self.running -= 1;
        self.failures += 1;
        if self.tolerates(self.failures) {
            self.slots[slot] = Child::Done(error_output);
            return Ok(self.after_end());
        }
        self.slots[slot] = Child::Failed;
        self.phase = ChildrenPhase::Cancelling;
        Ok(Verdict::Failed)
    }

    /// Whether `failures` failures are within a Distributed Map's tolerance.
    fn tolerates(&self, failures: usize) -> bool {
        let n = failures as f64;
        self.distributed
            && (self.tolerance.count.is_some_and(|c| n <= c)
                || self
                    .tolerance
                    .percentage
                    .is_some_and(|p| n * 100.0 / self.slots.len().max(1) as f64 <= p))
    }

    fn after_end(&mut self) -> Verdict {
        if self.running == 0 && self.queued == 0 {
            self.phase = ChildrenPhase::AllDone;
            Verdict::AllDone
        } else {
            Verdict::Continue
        }
    }

    /// Cancelling: every child still running or queued is Aborted; the frames that ran them,
    /// in the order they started, are for the caller to abort.
    pub(super) fn cancel(&mut self) -> Vec<FrameId> {
        let mut frames = Vec::with_capacity(self.running);
        for child in &mut self.slots {
            match child {
                Child::Running(f) => {
                    frames.push(*f);
                    *child = Child::Aborted;
                }
                Child::Queued(_) => *child = Child::Aborted,
                _ => {}
            }
        }
        self.running = 0;
        self.queued = 0;
        frames
    }

    /// The frames running now, in the order they started (for aborting the state).
    pub(super) fn running(&self) -> impl Iterator<Item = FrameId> + '_ {
        self.slots.iter().filter_map(|c| match c {
            Child::Running(f) => Some(*f),
            _ => None,
        })
    }

    /// AllDone: the results in slot order (`null` for a slot without one).
    pub(super) fn results(self) -> Vec<Value> {
        debug_assert_eq!(self.phase, ChildrenPhase::AllDone);
        self.slots
            .into_iter()
            .map(|c| match c {
                Child::Done(v) => v,
                _ => Value::Null,
            })
            .collect()
    }

    /// Where each child stands, for a redrive: the results of those Done, and where each
    /// other one resumes (`frame_point` says it for a running frame).
    pub(super) fn point(
        &self,
        frame_point: impl Fn(FrameId) -> Option<Box<RedrivePoint>>,
    ) -> ChildrenPoint {
        let results = self
            .slots
            .iter()
            .map(|c| match c {
                Child::Done(v) => Some(v.clone()),
                _ => None,
            })
            .collect();
        let redo = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, c)| !matches!(c, Child::Done(_)))
            .map(|(slot, c)| {
                let point = match c {
                    Child::Running(f) => frame_point(*f),
                    Child::Queued(Start::Resume(p)) => Some(p.clone()),
                    _ => None,
                };
                (slot, point)
            })
            .collect();
        ChildrenPoint {
            results,
            redo,
            map_run: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn queued(n: usize) -> Vec<Child> {
        (0..n)
            .map(|i| Child::Queued(Start::Begin(json!(i))))
            .collect()
    }

    fn launch_all(c: &mut Children, first_frame: FrameId) -> Vec<usize> {
        let mut launched = Vec::new();
        while let Some((slot, _)) = c.next_to_launch() {
            c.launched(slot, first_frame + slot);
            launched.push(slot);
        }
        launched
    }

    #[test]
    fn max_concurrency_holds_iterations_back_until_one_ends() {
        let mut c = Children::new(queued(3), 2, false, Tolerance::default(), 0);
        assert_eq!(launch_all(&mut c, 10), [0, 1]);
        assert_eq!(c.succeeded(1, 11, json!("b")), Ok(Verdict::Continue));
        assert_eq!(launch_all(&mut c, 10), [2]);
        assert_eq!(c.succeeded(0, 10, json!("a")), Ok(Verdict::Continue));
        assert_eq!(c.succeeded(2, 12, json!("c")), Ok(Verdict::AllDone));
        assert_eq!(c.phase(), ChildrenPhase::AllDone);
        assert_eq!(c.results(), [json!("a"), json!("b"), json!("c")]);
    }

    #[test]
    fn a_child_ends_once_and_only_while_it_and_its_siblings_run() {
        let mut c = Children::new(queued(3), 1, false, Tolerance::default(), 0);
        assert_eq!(launch_all(&mut c, 0), [0]);
        // Queued, not started.
        assert_eq!(
            c.succeeded(1, 1, json!(1)),
            Err("it has not started".into())
        );
        // Another frame than the one running it.
        assert_eq!(
            c.succeeded(0, 7, json!(1)),
            Err("it runs as frame 0, not 7".into())
        );
        assert_eq!(c.succeeded(0, 0, json!(0)), Ok(Verdict::Continue));
        assert_eq!(
            c.failed(0, 0, json!({})),
            Err("it has already ended".into())
        );
        assert_eq!(launch_all(&mut c, 0), [1]);
        assert_eq!(c.failed(1, 1, json!({})), Ok(Verdict::Failed));
        assert_eq!(c.phase(), ChildrenPhase::Cancelling);
        // Nothing more launches, and nothing more ends.
        assert_eq!(launch_all(&mut c, 0), Vec::<usize>::new());
        assert_eq!(
            c.succeeded(2, 2, json!(2)),
            Err("its siblings are failed and cancelling".into())
        );
        assert!(c.cancel().is_empty());
    }

    #[test]
    fn a_failure_cancels_the_running_siblings_in_start_order() {
        let mut c = Children::new(queued(4), 0, false, Tolerance::default(), 0);
        assert_eq!(launch_all(&mut c, 20), [0, 1, 2, 3]);
        assert_eq!(c.failed(2, 22, json!({})), Ok(Verdict::Failed));
        assert_eq!(c.cancel(), [20, 21, 23]);
        assert_eq!(c.running().count(), 0);
        let point = c.point(|_| None);
        assert_eq!(point.results, [None, None, None, None]);
    }

    #[test]
    fn a_distributed_map_tolerates_failures_up_to_its_threshold() {
        let tolerance = Tolerance {
            count: Some(1.0),
            percentage: None,
        };
        let mut c = Children::new(queued(3), 0, true, tolerance, 0);
        launch_all(&mut c, 0);
        assert_eq!(c.failed(0, 0, json!({"Error": "E"})), Ok(Verdict::Continue));
        assert_eq!(c.succeeded(1, 1, json!(1)), Ok(Verdict::Continue));
        assert_eq!(c.failed(2, 2, json!({"Error": "E"})), Ok(Verdict::Failed));
        // Without a tolerance, an inline Map's first failure fails it.
        let mut c = Children::new(queued(2), 0, false, tolerance, 0);
        launch_all(&mut c, 0);
        assert_eq!(c.failed(1, 1, json!({})), Ok(Verdict::Failed));
    }

    #[test]
    fn children_a_redrive_kept_are_done_from_the_start() {
        let c = Children::new(
            vec![Child::Done(json!(1)), Child::Done(json!(2))],
            0,
            false,
            Tolerance::default(),
            0,
        );
        assert_eq!(c.phase(), ChildrenPhase::AllDone);
        assert_eq!(c.results(), [json!(1), json!(2)]);
    }
}
