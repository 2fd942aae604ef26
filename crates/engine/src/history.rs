//! Execution history: the 62 `HistoryEventType`s of the service model and events in
//! GetExecutionHistory's shape.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Every history event type AWS Step Functions defines (`HistoryEventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    ActivityFailed,
    ActivityScheduled,
    ActivityScheduleFailed,
    ActivityStarted,
    ActivitySucceeded,
    ActivityTimedOut,
    ChoiceStateEntered,
    ChoiceStateExited,
    ExecutionAborted,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionTimedOut,
    FailStateEntered,
    LambdaFunctionFailed,
    LambdaFunctionScheduled,
    LambdaFunctionScheduleFailed,
    LambdaFunctionStarted,
    LambdaFunctionStartFailed,
    LambdaFunctionSucceeded,
    LambdaFunctionTimedOut,
    MapIterationAborted,
    MapIterationFailed,
    MapIterationStarted,
    MapIterationSucceeded,
    MapStateAborted,
    MapStateEntered,
    MapStateExited,
    MapStateFailed,
    MapStateStarted,
    MapStateSucceeded,
    ParallelStateAborted,
    ParallelStateEntered,
    ParallelStateExited,
    ParallelStateFailed,
    ParallelStateStarted,
    ParallelStateSucceeded,
    PassStateEntered,
    PassStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    TaskFailed,
    TaskScheduled,
    TaskStarted,
    TaskStartFailed,
    TaskStateAborted,
    TaskStateEntered,
    TaskStateExited,
    TaskSubmitFailed,
    TaskSubmitted,
    TaskSucceeded,
    TaskTimedOut,
    WaitStateAborted,
    WaitStateEntered,
    WaitStateExited,
    MapRunAborted,
    MapRunFailed,
    MapRunStarted,
    MapRunSucceeded,
    ExecutionRedriven,
    MapRunRedriven,
    EvaluationFailed,
}

impl EventType {
    /// All 62 types, in the service model's order.
    pub const ALL: [EventType; 62] = [
        EventType::ActivityFailed,
        EventType::ActivityScheduled,
        EventType::ActivityScheduleFailed,
        EventType::ActivityStarted,
        EventType::ActivitySucceeded,
        EventType::ActivityTimedOut,
        EventType::ChoiceStateEntered,
        EventType::ChoiceStateExited,
        EventType::ExecutionAborted,
        EventType::ExecutionFailed,
        EventType::ExecutionStarted,
        EventType::ExecutionSucceeded,
        EventType::ExecutionTimedOut,
        EventType::FailStateEntered,
        EventType::LambdaFunctionFailed,
        EventType::LambdaFunctionScheduled,
        EventType::LambdaFunctionScheduleFailed,
        EventType::LambdaFunctionStarted,
        EventType::LambdaFunctionStartFailed,
        EventType::LambdaFunctionSucceeded,
        EventType::LambdaFunctionTimedOut,
        EventType::MapIterationAborted,
        EventType::MapIterationFailed,
        EventType::MapIterationStarted,
        EventType::MapIterationSucceeded,
        EventType::MapStateAborted,
        EventType::MapStateEntered,
        EventType::MapStateExited,
        EventType::MapStateFailed,
        EventType::MapStateStarted,
        EventType::MapStateSucceeded,
        EventType::ParallelStateAborted,
        EventType::ParallelStateEntered,
        EventType::ParallelStateExited,
        EventType::ParallelStateFailed,
        EventType::ParallelStateStarted,
        EventType::ParallelStateSucceeded,
        EventType::PassStateEntered,
        EventType::PassStateExited,
        EventType::SucceedStateEntered,
        EventType::SucceedStateExited,
        EventType::TaskFailed,
        EventType::TaskScheduled,
        EventType::TaskStarted,
        EventType::TaskStartFailed,
        EventType::TaskStateAborted,
        EventType::TaskStateEntered,
        EventType::TaskStateExited,
        EventType::TaskSubmitFailed,
        EventType::TaskSubmitted,
        EventType::TaskSucceeded,
        EventType::TaskTimedOut,
        EventType::WaitStateAborted,
        EventType::WaitStateEntered,
        EventType::WaitStateExited,
        EventType::MapRunAborted,
        EventType::MapRunFailed,
        EventType::MapRunStarted,
        EventType::MapRunSucceeded,
        EventType::ExecutionRedriven,
        EventType::MapRunRedriven,
        EventType::EvaluationFailed,
    ];

    /// The wire name, e.g. `PassStateEntered`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ActivityFailed => "ActivityFailed",
            EventType::ActivityScheduled => "ActivityScheduled",
            EventType::ActivityScheduleFailed => "ActivityScheduleFailed",
            EventType::ActivityStarted => "ActivityStarted",
            EventType::ActivitySucceeded => "ActivitySucceeded",
            EventType::ActivityTimedOut => "ActivityTimedOut",
            EventType::ChoiceStateEntered => "ChoiceStateEntered",
            EventType::ChoiceStateExited => "ChoiceStateExited",
            EventType::ExecutionAborted => "ExecutionAborted",
            EventType::ExecutionFailed => "ExecutionFailed",
            EventType::ExecutionStarted => "ExecutionStarted",
            EventType::ExecutionSucceeded => "ExecutionSucceeded",
            EventType::ExecutionTimedOut => "ExecutionTimedOut",
            EventType::FailStateEntered => "FailStateEntered",
            EventType::LambdaFunctionFailed => "LambdaFunctionFailed",
            EventType::LambdaFunctionScheduled => "LambdaFunctionScheduled",
            EventType::LambdaFunctionScheduleFailed => "LambdaFunctionScheduleFailed",
            EventType::LambdaFunctionStarted => "LambdaFunctionStarted",
            EventType::LambdaFunctionStartFailed => "LambdaFunctionStartFailed",
            EventType::LambdaFunctionSucceeded => "LambdaFunctionSucceeded",
            EventType::LambdaFunctionTimedOut => "LambdaFunctionTimedOut",
            EventType::MapIterationAborted => "MapIterationAborted",
            EventType::MapIterationFailed => "MapIterationFailed",
            EventType::MapIterationStarted => "MapIterationStarted",
            EventType::MapIterationSucceeded => "MapIterationSucceeded",
            EventType::MapStateAborted => "MapStateAborted",
            EventType::MapStateEntered => "MapStateEntered",
            EventType::MapStateExited => "MapStateExited",
            EventType::MapStateFailed => "MapStateFailed",
            EventType::MapStateStarted => "MapStateStarted",
            EventType::MapStateSucceeded => "MapStateSucceeded",
            EventType::ParallelStateAborted => "ParallelStateAborted",
            EventType::ParallelStateEntered => "ParallelStateEntered",
            EventType::ParallelStateExited => "ParallelStateExited",
            EventType::ParallelStateFailed => "ParallelStateFailed",
            EventType::ParallelStateStarted => "ParallelStateStarted",
            EventType::ParallelStateSucceeded => "ParallelStateSucceeded",
            EventType::PassStateEntered => "PassStateEntered",
            EventType::PassStateExited => "PassStateExited",
            EventType::SucceedStateEntered => "SucceedStateEntered",
            EventType::SucceedStateExited => "SucceedStateExited",
            EventType::TaskFailed => "TaskFailed",
            EventType::TaskScheduled => "TaskScheduled",
            EventType::TaskStarted => "TaskStarted",
            EventType::TaskStartFailed => "TaskStartFailed",
            EventType::TaskStateAborted => "TaskStateAborted",
            EventType::TaskStateEntered => "TaskStateEntered",
            EventType::TaskStateExited => "TaskStateExited",
            EventType::TaskSubmitFailed => "TaskSubmitFailed",
            EventType::TaskSubmitted => "TaskSubmitted",
            EventType::TaskSucceeded => "TaskSucceeded",
            EventType::TaskTimedOut => "TaskTimedOut",
            EventType::WaitStateAborted => "WaitStateAborted",
            EventType::WaitStateEntered => "WaitStateEntered",
            EventType::WaitStateExited => "WaitStateExited",
            EventType::MapRunAborted => "MapRunAborted",
            EventType::MapRunFailed => "MapRunFailed",
            EventType::MapRunStarted => "MapRunStarted",
            EventType::MapRunSucceeded => "MapRunSucceeded",
            EventType::ExecutionRedriven => "ExecutionRedriven",
            EventType::MapRunRedriven => "MapRunRedriven",
            EventType::EvaluationFailed => "EvaluationFailed",
        }
    }

    /// The `HistoryEvent` member that carries this type's details, if it has any.
    pub fn details_key(self) -> Option<&'static str> {
        match self {
            EventType::ActivityFailed => Some("activityFailedEventDetails"),
            EventType::ActivityScheduled => Some("activityScheduledEventDetails"),
            EventType::ActivityScheduleFailed => Some("activityScheduleFailedEventDetails"),
            EventType::ActivityStarted => Some("activityStartedEventDetails"),
            EventType::ActivitySucceeded => Some("activitySucceededEventDetails"),
            EventType::ActivityTimedOut => Some("activityTimedOutEventDetails"),
            EventType::ChoiceStateEntered => Some("stateEnteredEventDetails"),
            EventType::ChoiceStateExited => Some("stateExitedEventDetails"),
            EventType::ExecutionAborted => Some("executionAbortedEventDetails"),
            EventType::ExecutionFailed => Some("executionFailedEventDetails"),
            EventType::ExecutionStarted => Some("executionStartedEventDetails"),
            EventType::ExecutionSucceeded => Some("executionSucceededEventDetails"),
            EventType::ExecutionTimedOut => Some("executionTimedOutEventDetails"),
            EventType::FailStateEntered => Some("stateEnteredEventDetails"),
            EventType::LambdaFunctionFailed => Some("lambdaFunctionFailedEventDetails"),
            EventType::LambdaFunctionScheduled => Some("lambdaFunctionScheduledEventDetails"),
            EventType::LambdaFunctionScheduleFailed => {
                Some("lambdaFunctionScheduleFailedEventDetails")
            }
            EventType::LambdaFunctionStarted => None,
            EventType::LambdaFunctionStartFailed => Some("lambdaFunctionStartFailedEventDetails"),
            EventType::LambdaFunctionSucceeded => Some("lambdaFunctionSucceededEventDetails"),
            EventType::LambdaFunctionTimedOut => Some("lambdaFunctionTimedOutEventDetails"),
            EventType::MapIterationAborted => Some("mapIterationAbortedEventDetails"),
            EventType::MapIterationFailed => Some("mapIterationFailedEventDetails"),
            EventType::MapIterationStarted => Some("mapIterationStartedEventDetails"),
            EventType::MapIterationSucceeded => Some("mapIterationSucceededEventDetails"),
            EventType::MapStateAborted => None,
            EventType::MapStateEntered => Some("stateEnteredEventDetails"),
            EventType::MapStateExited => Some("stateExitedEventDetails"),
            EventType::MapStateFailed => None,
            EventType::MapStateStarted => Some("mapStateStartedEventDetails"),
            EventType::MapStateSucceeded => None,
            EventType::ParallelStateAborted => None,
            EventType::ParallelStateEntered => Some("stateEnteredEventDetails"),
            EventType::ParallelStateExited => Some("stateExitedEventDetails"),
            EventType::ParallelStateFailed => None,
            EventType::ParallelStateStarted => None,
            EventType::ParallelStateSucceeded => None,
            EventType::PassStateEntered => Some("stateEnteredEventDetails"),
            EventType::PassStateExited => Some("stateExitedEventDetails"),
            EventType::SucceedStateEntered => Some("stateEnteredEventDetails"),
            EventType::SucceedStateExited => Some("stateExitedEventDetails"),
            EventType::TaskFailed => Some("taskFailedEventDetails"),
            EventType::TaskScheduled => Some("taskScheduledEventDetails"),
            EventType::TaskStarted => Some("taskStartedEventDetails"),
            EventType::TaskStartFailed => Some("taskStartFailedEventDetails"),
            EventType::TaskStateAborted => None,
            EventType::TaskStateEntered => Some("stateEnteredEventDetails"),
            EventType::TaskStateExited => Some("stateExitedEventDetails"),
            EventType::TaskSubmitFailed => Some("taskSubmitFailedEventDetails"),
            EventType::TaskSubmitted => Some("taskSubmittedEventDetails"),
            EventType::TaskSucceeded => Some("taskSucceededEventDetails"),
            EventType::TaskTimedOut => Some("taskTimedOutEventDetails"),
            EventType::WaitStateAborted => None,
            EventType::WaitStateEntered => Some("stateEnteredEventDetails"),
            EventType::WaitStateExited => Some("stateExitedEventDetails"),
            EventType::MapRunAborted => None,
            EventType::MapRunFailed => Some("mapRunFailedEventDetails"),
            EventType::MapRunStarted => Some("mapRunStartedEventDetails"),
            EventType::MapRunSucceeded => None,
            EventType::ExecutionRedriven => Some("executionRedrivenEventDetails"),
            EventType::MapRunRedriven => Some("mapRunRedrivenEventDetails"),
            EventType::EvaluationFailed => Some("evaluationFailedEventDetails"),
        }
    }

    pub fn from_name(name: &str) -> Option<EventType> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp: DateTime<Utc>,
    pub event_type: EventType,
    /// The `*EventDetails` object, when the type has one.
    pub details: Option<Details>,
}

/// An event's details. The two most frequent shapes are typed (every transition records
/// them, so they are kept cheap to build); the rest are kept as their JSON members.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// `StateEnteredEventDetails`: the state's name and its input as JSON text.
    StateEntered { name: String, input: String },
    /// `StateExitedEventDetails`: the state's name, its output as JSON text, and the
    /// variables it assigned (each value as JSON text).
    StateExited {
        name: String,
        output: String,
        assigned: Option<Map<String, Value>>,
    },
    /// Any other details object, members in AWS's names.
    Fields(Map<String, Value>),
}

impl Details {
    /// The details object as the service model shapes it.
    pub fn to_json(&self) -> Value {
        let truncated = || {
            let mut m = Map::new();
            m.insert("truncated".into(), Value::Bool(false));
            Value::Object(m)
        };
        match self {
            Details::StateEntered { name, input } => {
                let mut m = Map::new();
                m.insert("name".into(), Value::from(name.as_str()));
                m.insert("input".into(), Value::from(input.as_str()));
                m.insert("inputDetails".into(), truncated());
                Value::Object(m)
            }
            Details::StateExited {
                name,
                output,
                assigned,
            } => {
                let mut m = Map::new();
                m.insert("name".into(), Value::from(name.as_str()));
                m.insert("output".into(), Value::from(output.as_str()));
                m.insert("outputDetails".into(), truncated());
                if let Some(vars) = assigned {
                    m.insert("assignedVariables".into(), Value::Object(vars.clone()));
                    m.insert("assignedVariablesDetails".into(), truncated());
                }
                Value::Object(m)
            }
            Details::Fields(m) => Value::Object(m.clone()),
        }
    }

    /// The state's name, for events that carry one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Details::StateEntered { name, .. } | Details::StateExited { name, .. } => Some(name),
            Details::Fields(m) => m.get("name").and_then(Value::as_str),
        }
    }

    /// A member by its AWS name (`name`, `input`, `error`, …).
    pub fn get(&self, key: &str) -> Option<Value> {
        match (self, key) {
            (Details::StateEntered { name, .. } | Details::StateExited { name, .. }, "name") => {
                Some(Value::from(name.as_str()))
            }
            (Details::StateEntered { input, .. }, "input") => Some(Value::from(input.as_str())),
            (Details::StateExited { output, .. }, "output") => Some(Value::from(output.as_str())),
            (Details::Fields(m), k) => m.get(k).cloned(),
            _ => None,
        }
    }
}

impl HistoryEvent {
    /// The event as GetExecutionHistory returns it (timestamps as epoch seconds).
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert(
            "timestamp".into(),
            Value::from(self.timestamp.timestamp_millis() as f64 / 1000.0),
        );
        obj.insert("type".into(), Value::from(self.event_type.as_str()));
        obj.insert("id".into(), Value::from(self.id));
        obj.insert(
            "previousEventId".into(),
            Value::from(self.previous_event_id),
        );
        if let (Some(key), Some(details)) = (self.event_type.details_key(), &self.details) {
            obj.insert(key.into(), details.to_json());
        }
        Value::Object(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_details_keys_follow_the_model() {
        assert_eq!(EventType::ALL.len(), 62);
        for t in EventType::ALL {
            assert_eq!(EventType::from_name(t.as_str()), Some(t));
        }
        assert_eq!(
            EventType::PassStateEntered.details_key(),
            Some("stateEnteredEventDetails")
        );
        assert_eq!(
            EventType::MapIterationStarted.details_key(),
            Some("mapIterationStartedEventDetails")
        );
        assert_eq!(EventType::ParallelStateStarted.details_key(), None);
        assert_eq!(EventType::MapStateSucceeded.details_key(), None);
    }
}
