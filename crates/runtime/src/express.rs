//! Express executions: run in memory from start to end, as AWS runs them, with no per-step
//! history kept. StartSyncExecution waits for the end; StartExecution returns at once.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use stepwise_asl::StateMachine;
use stepwise_engine::local::{Clock, RunOptions, TaskHandler, TaskOutcome, run};
use stepwise_engine::{Completion, ExecutionInfo, TaskKind, TaskRequest};

use crate::Runtime;

/// How an Express execution ended.
#[derive(Debug, Clone)]
pub struct ExpressOutcome {
    pub completion: Completion,
    pub stop_ms: i64,
}

/// Answers the tasks of Express executions: no integration is bound yet, so each fails the
/// way an unbound Standard task does.
#[derive(Debug, Default)]
pub(crate) struct Unbound;

impl TaskHandler for Unbound {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        TaskOutcome::Failed {
            error: Some("States.TaskFailed".into()),
            cause: Some(unbound_cause(request)),
        }
    }
}

/// The cause of a task whose resource this server cannot reach yet.
pub(crate) fn unbound_cause(request: &TaskRequest) -> String {
    let what = match request.kind {
        TaskKind::Activity => "activities are not supported by Express state machines",
        _ => "this server runs activities only",
    };
    format!(
        "Stepwise cannot call the resource '{}' yet: {what}",
        request.resource
    )
}

impl Runtime {
    /// Runs an Express execution to its end on a blocking thread.
    pub async fn run_express(
        &self,
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        input_text: String,
    ) -> ExpressOutcome {
        self.metrics().express_started();
        let scale = self.wait_time_scale();
        let seed = Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64;
        let joined = tokio::task::spawn_blocking(move || {
            let options = RunOptions {
                clock: if scale == 0.0 {
                    Clock::Virtual
                } else {
                    Clock::Scaled(scale)
                },
                seed,
                ..RunOptions::default()
            };
            run(
                machine,
                info,
                input,
                Some(input_text),
                &mut Unbound,
                &options,
                |_| {},
            )
        })
        .await;
        let stop_ms = Utc::now().timestamp_millis();
        match joined {
            Ok(result) => {
                let entered = result
                    .events
                    .iter()
                    .filter(|e| e.event_type.as_str().ends_with("StateEntered"))
                    .count();
                self.metrics().add_transitions(entered as u64);
                ExpressOutcome {
                    completion: result.completion,
                    stop_ms,
                }
            }
            Err(e) => ExpressOutcome {
                completion: Completion {
                    status: stepwise_engine::Status::Failed,
                    output: None,
                    error: Some("States.Runtime".into()),
                    cause: Some(format!("The execution stopped unexpectedly: {e}")),
                },
                stop_ms,
            },
        }
    }
}
