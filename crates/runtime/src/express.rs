//! Express executions: run in memory from start to end, as AWS runs them, with no per-step
//! history kept. StartSyncExecution waits for the end; StartExecution returns at once. Their
//! tasks call the same integrations as Standard executions' do.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use stepwise_asl::StateMachine;
use stepwise_engine::local::{Clock, RunOptions, TaskHandler, TaskOutcome, run};
use stepwise_engine::mock::{MockTasks, TestCase};
use stepwise_engine::{Completion, ExecutionInfo, TaskKind, TaskRequest};
use stepwise_tasks::Outcome;

use crate::Runtime;
use crate::dispatch::{Call, Performed, perform, unsupported};
use crate::shared::Shared;

/// How an Express execution ended.
#[derive(Debug, Clone)]
pub struct ExpressOutcome {
    pub completion: Completion,
    pub stop_ms: i64,
}

/// Answers tasks that run to their end in one call (Express executions, TestState): the same
/// integrations as Standard executions, made from a blocking thread.
#[derive(Debug)]
pub(crate) struct Integrated {
    shared: Arc<Shared>,
    handle: tokio::runtime::Handle,
    execution: String,
}

impl Integrated {
    /// Must be made on the async runtime; used from a blocking thread.
    pub(crate) fn new(shared: Arc<Shared>, execution: &str) -> Integrated {
        Integrated {
            shared,
            handle: tokio::runtime::Handle::current(),
            execution: execution.to_owned(),
        }
    }
}

impl TaskHandler for Integrated {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        let call = Call {
            resource: request.resource.clone(),
            state: request.state_name.clone(),
            parameters: request.input.clone(),
        };
        if request.kind == TaskKind::Activity {
            return TaskOutcome::Failed {
                error: Some("States.TaskFailed".into()),
                cause: Some(unsupported(&call)),
            };
        }
        let performed = self
            .handle
            .block_on(perform(&self.shared, &self.execution, None, &call));
        let outcome = match performed {
            Performed::Done(o) | Performed::SubmittedThenDone { outcome: o, .. } => o,
            Performed::Submitted { .. } => Outcome::failed(
                "States.TaskFailed",
                "an Express execution cannot wait for a callback or a child execution",
            ),
        };
        outcome.into()
    }
}

impl Runtime {
    /// Runs an Express execution to its end on a blocking thread.
    pub async fn run_express(
        &self,
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        input_text: String,
        test_case: Option<TestCase>,
    ) -> ExpressOutcome {
        self.metrics().express_started();
        let integrated = Integrated::new(self.shared().clone(), &info.execution_arn);
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
            let mut handler: Box<dyn TaskHandler> = match test_case {
                Some(case) => Box::new(MockTasks::with_fallback(case, integrated)),
                None => Box::new(integrated),
            };
            run(
                machine,
                info,
                input,
                Some(input_text),
                &mut *handler,
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
