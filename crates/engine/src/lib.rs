//! The ASL interpreter as a deterministic step function.
//!
//! [`Execution::step`] takes an event (execution started, task finished, timer fired, stop
//! requested) together with the current time and a random seed, and returns the history events
//! it produced and the commands its caller must carry out (run a task, set a timer, …). It does
//! no IO and has no clock or randomness of its own, so a recorded run replays exactly.
//! [`local`] drives an execution to its end in-process, for `stepwise run` and tests;
//! [`test_state`] runs one state for the TestState action.

pub mod agenda;
pub mod arn;
pub mod batch;
pub mod context;
pub mod execution;
pub mod history;
pub mod lang;
pub mod local;
pub mod map_run;
pub mod mock;
pub mod test_state;

pub use arn::{ExecutionArn, StateMachineArn};
pub use context::ExecutionInfo;
pub use execution::{
    Command, Completion, Event, Execution, Fault, MapRunChange, NotRedrivable, Status, Step,
    StepError, StepOutput, TaskId, TaskKind, TaskRequest, TimerId, TimerKind, TokenMinter,
};
pub use history::{Details, EventType, HistoryEvent};
