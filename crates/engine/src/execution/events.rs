//! Recording history events, and the small builders for their details and types.

use serde_json::{Map, Value};
use stepwise_asl::model::StateKind;

use crate::history::{Details, EventType, HistoryEvent};

use super::{Completion, Execution, Fault, FrameId, Status};
use stepwise_asl::error_names as names;

/// AWS's hard quota on one execution's history.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

fn closes_execution(ty: EventType) -> bool {
    matches!(
        ty,
        EventType::ExecutionSucceeded
            | EventType::ExecutionFailed
            | EventType::ExecutionAborted
            | EventType::ExecutionTimedOut
    )
}

impl Execution {
    /// Appends an event to the history.
    pub(super) fn record(
        &mut self,
        ty: EventType,
        previous: u64,
        details: Option<Map<String, Value>>,
    ) -> u64 {
        self.record_details(ty, previous, details.map(Details::Fields))
    }

    fn record_details(&mut self, ty: EventType, previous: u64, details: Option<Details>) -> u64 {
        if self.history_full {
            return self.next_event_id - 1;
        }
        if self.next_event_id == MAX_HISTORY_EVENTS && !closes_execution(ty) {
            self.history_limit_reached(previous);
            return self.next_event_id - 1;
        }
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

    /// AWS keeps at most 25,000 events: when the last one would not end the execution, it is
    /// ExecutionFailed instead, and the execution is over.
    fn history_limit_reached(&mut self, previous: u64) {
        let fault = Fault {
            error: Some(names::RUNTIME.to_owned()),
            cause: Some(format!(
                "The execution reached the maximum number of history events ({MAX_HISTORY_EVENTS})."
            )),
        };
        let mut details = Map::new();
        add_error(&mut details, &fault);
        self.record(EventType::ExecutionFailed, previous, Some(details));
        self.history_full = true;
        self.finish(Completion {
            status: Status::Failed,
            output: None,
            error: fault.error,
            cause: fault.cause,
        });
    }

    /// Appends an event of frame `f`, which the frame's next event follows.
    pub(super) fn event(
        &mut self,
        f: FrameId,
        ty: EventType,
        details: Option<Map<String, Value>>,
    ) -> u64 {
        self.event_details(f, ty, details.map(Details::Fields))
    }

    pub(super) fn event_details(
        &mut self,
        f: FrameId,
        ty: EventType,
        details: Option<Details>,
    ) -> u64 {
        let frame = self.frame(f);
        if frame.silent {
            return frame.last;
        }
        let id = self.record_details(ty, frame.last, details);
        self.frame_mut(f).last = id;
        id
    }

    /// Appends an event that closes something (`*Succeeded`): the next event does not follow it.
    pub(super) fn closing_event(&mut self, f: FrameId, ty: EventType, previous: u64) -> u64 {
        if self.frame(f).silent {
            return previous;
        }
        self.record(ty, previous, None)
    }
}

pub(super) fn truncated_false() -> Value {
    let mut m = Map::new();
    m.insert("truncated".into(), Value::Bool(false));
    Value::Object(m)
}

pub(super) fn iteration_details(name: &str, index: usize) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("index".into(), Value::from(index));
    d.insert("name".into(), Value::from(name));
    d
}

pub(super) fn add_error(details: &mut Map<String, Value>, fault: &Fault) {
    if let Some(e) = &fault.error {
        details.insert("error".into(), Value::from(e.as_str()));
    }
    if let Some(c) = &fault.cause {
        details.insert("cause".into(), Value::from(c.as_str()));
    }
}

pub(super) fn entered_type(kind: &StateKind) -> EventType {
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

pub(super) fn exited_type(kind: &StateKind) -> Option<EventType> {
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
