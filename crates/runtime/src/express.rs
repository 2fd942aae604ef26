//! Express executions: run in memory from start to end on the in-memory [`host`](crate::host),
//! as AWS runs them, with no per-step history kept. StartSyncExecution waits for the end;
//! StartExecution returns at once. Their tasks call the same integrations as Standard
//! executions' do, concurrently, each on its own async task.

use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use stepwise_asl::StateMachine;
use stepwise_engine::local::{TaskHandler, TaskOutcome};
use stepwise_engine::mock::TestCase;
use stepwise_engine::{Completion, ExecutionInfo, TaskKind, TaskRequest};
use stepwise_tasks::Outcome;

use crate::Runtime;
use crate::dispatch::{Call, Performed, is_nested, perform, unsupported};
use crate::host::{self, HostOptions, TaskFuture, TaskRunner};
use crate::shared::Shared;
use crate::token::Tokens;
use stepwise_asl::parse::classify;
use stepwise_tasks::Integrations;

/// Why TestState gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestStateFailed {
    /// The request was refused: AWS's error name and message.
    Refused(String, String),
    /// The run stopped unexpectedly.
    Crashed(String),
}

/// How an Express execution ended.
#[derive(Debug, Clone)]
pub struct ExpressOutcome {
    pub completion: Completion,
    pub stop_ms: i64,
}

/// Answers tasks that run to their end in one call (Express executions, TestState): the same
/// integrations as Standard executions.
#[derive(Debug, Clone)]
pub(crate) struct Integrated {
    shared: Arc<Shared>,
    execution: Arc<str>,
    /// A traced execution's trace: its calls carry the context of their attempt's span.
    trace: Option<crate::trace::TraceContext>,
}

impl Integrated {
    pub(crate) fn new(shared: Arc<Shared>, execution: &str) -> Integrated {
        Integrated {
            shared,
            execution: execution.into(),
            trace: None,
        }
    }

    /// The same, for an execution traced as `trace` says.
    fn traced(mut self, trace: Option<crate::trace::TraceContext>) -> Integrated {
        self.trace = trace;
        self
    }

    async fn call(self, request: TaskRequest) -> TaskOutcome {
        let activity = request.kind == TaskKind::Activity;
        let trace = self.trace.map(|context| {
            let span =
                crate::trace::task_span(&self.execution, &request.state_name, request.invocation);
            context.headers(span)
        });
        let mut call = Call::of(request);
        call.trace = trace.unwrap_or_default();
        if activity {
            return TaskOutcome::Failed {
                error: Some("States.TaskFailed".into()),
                cause: Some(unsupported(&call)),
            };
        }
        let outcome = match perform(&self.shared, &self.execution, None, &call).await {
            Performed::Done(o) | Performed::SubmittedThenDone { outcome: o, .. } => o,
            Performed::Submitted { .. } => Outcome::failed(
                "States.TaskFailed",
                "an Express execution cannot wait for a callback or a child execution",
            ),
        };
        outcome.into()
    }
}

impl TaskRunner for Integrated {
    fn run(&self, request: TaskRequest) -> TaskFuture {
        Box::pin(self.clone().call(request))
    }
}

/// The tasks of `stepwise run`: one execution in this process, no server. Its calls go through
/// the same integrations, in the same way, as an Express execution's on a server (`.sync` jobs
/// polled to their end in place); what needs a server to answer (activities, callbacks, child
/// executions) fails with `States.Runtime`.
#[derive(Debug)]
pub struct LocalTasks {
    integrated: Integrated,
}

impl LocalTasks {
    pub fn new(integrations: Arc<Integrations>, execution_arn: &str) -> LocalTasks {
        let mut key = [0u8; 32];
        // A token could never come back to this process: any key will do.
        let _ = getrandom::fill(&mut key);
        let shared = Shared::new(
            0.0,
            Tokens::new(&key),
            integrations,
            None,
            crate::clock::system(),
        );
        LocalTasks {
            integrated: Integrated::new(Arc::new(shared), execution_arn),
        }
    }
}

impl LocalTasks {
    /// Waits for the calls still being made after the execution ended: the stops of `.sync`
    /// jobs whose tasks ended first (timed out, or the execution failed beside them).
    pub async fn settle(&self) {
        self.integrated.shared.stops.settle().await;
    }
}

impl TaskRunner for LocalTasks {
    fn run(&self, request: TaskRequest) -> TaskFuture {
        let needs_server = request.kind == TaskKind::Activity
            || request.task_token.is_some()
            || classify(&request.resource).as_ref().is_some_and(is_nested);
        if needs_server {
            let cause = format!(
                "The state '{}' calls {}, which needs `stepwise serve` (or a mock) to answer it",
                request.state_name, request.resource
            );
            return Box::pin(std::future::ready(TaskOutcome::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(cause),
            }));
        }
        self.integrated.run(request)
    }
}

/// TestState runs its one state synchronously, on a blocking thread: each call is made on the
/// async runtime and waited for.
#[derive(Debug)]
pub(crate) struct Blocking {
    integrated: Integrated,
    handle: tokio::runtime::Handle,
}

impl Blocking {
    /// Must be made on the async runtime; used from a blocking thread.
    pub(crate) fn new(integrated: Integrated) -> Blocking {
        Blocking {
            integrated,
            handle: tokio::runtime::Handle::current(),
        }
    }
}

impl TaskHandler for Blocking {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        self.handle
            .block_on(self.integrated.clone().call(request.clone()))
    }
}

impl Runtime {
    /// TestState: runs one state of `request` (its Task calls the same integrations as any
    /// execution's, made from a blocking thread), as execution `execution`.
    pub async fn test_state(
        &self,
        request: stepwise_engine::test_state::TestStateRequest,
        execution: &str,
        now: chrono::DateTime<Utc>,
        seed: u64,
    ) -> Result<Value, TestStateFailed> {
        let mut handler = Blocking::new(Integrated::new(self.shared().clone(), execution));
        tokio::task::spawn_blocking(move || {
            stepwise_engine::test_state::test_state(&request, &mut handler, now, seed)
                .map_err(|e| TestStateFailed::Refused(e.code.as_str().to_owned(), e.message))
        })
        .await
        .map_err(|e| TestStateFailed::Crashed(e.to_string()))?
    }

    /// The mock configuration in force (`SFN_MOCK_CONFIG`), if any.
    pub fn mocks(&self) -> Option<&stepwise_engine::mock::MockConfig> {
        self.shared().mocks.as_deref()
    }

    /// Runs an Express execution to its end, logged as `logging` says.
    pub async fn run_express(
        &self,
        machine: Arc<StateMachine>,
        info: ExecutionInfo,
        input: Value,
        input_text: String,
        test_case: Option<TestCase>,
        logging: Option<crate::exec_log::LogSettings>,
    ) -> ExpressOutcome {
        self.metrics().express_started();
        self.metrics().machine_started(&info.state_machine_arn);
        let machine_arn = info.state_machine_arn.clone();
        let began = std::time::Instant::now();
        let trace = logging.as_ref().and_then(|l| l.trace);
        let runner =
            Arc::new(Integrated::new(self.shared().clone(), &info.execution_arn).traced(trace));
        let options = HostOptions {
            time_scale: self.wait_time_scale(),
            seed: self.clock().random_u64(),
            mocks: test_case,
            keep_events: false,
            log: self.execution_logs().session(logging, &info.execution_arn),
            ..HostOptions::default()
        };
        let run = host::run(
            machine,
            info,
            input,
            Some(input_text),
            runner,
            options,
            |_| {},
        )
        .await;
        self.metrics().add_transitions(run.transitions);
        self.metrics().machine_finished(
            &machine_arn,
            run.completion.status,
            began.elapsed().as_millis() as i64,
        );
        ExpressOutcome {
            completion: run.completion,
            stop_ms: self.clock().now_ms(),
        }
    }
}
