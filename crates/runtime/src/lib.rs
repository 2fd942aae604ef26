//! Drives the engine for the server.
//!
//! Standard executions are durable: a single driver thread ([`driver`]) owns their engine
//! state, and every step is committed to the [`Store`] before anyone outside hears of it. Many
//! executions' steps share one commit. After a restart nothing needs recovering up front: the
//! store holds every open execution's timers and queued tasks, and an execution is rebuilt
//! from its recorded steps the first time something happens to it.
//!
//! Express executions run in memory ([`express`]), as on AWS: no per-step history is kept.

pub mod clock;
pub mod dispatch;
pub mod driver;
pub mod exec_log;
pub mod express;
pub mod host;
mod map_run;
mod shared;
pub mod token;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;
use stepwise_asl::StateMachine;
use stepwise_engine::{ExecutionArn, StateMachineArn};
use stepwise_store::{ExecutionRecord, Store, TaskRow};
use tokio::sync::oneshot;

pub use dispatch::{BoxFuture, ChildRefused, ChildStart, ChildStarted, MapRunChild, Starter};
pub use driver::{RuntimeError, Started, TaskAnswer};
pub use express::{ExpressOutcome, LocalTasks, TestStateFailed};
pub use shared::Metrics;
pub use stepwise_engine::mock::MockConfig;
pub use stepwise_tasks::Integrations;
pub use token::Tokens;

use driver::{Driver, Work};
use exec_log::ExecutionLogs;
use shared::Shared;

/// Milliseconds since the epoch as a time.
pub fn time_of(ms: i64) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
}

/// Who an execution is, as the engine sees it. `$$.StateMachine.Id` is the version's ARN when
/// the execution runs a version; the region comes from the execution's own ARN.
pub fn execution_info(
    arn: &str,
    name: &str,
    state_machine_arn: &str,
    version_arn: Option<&str>,
    role_arn: &str,
    start_ms: i64,
    redrive_count: u32,
) -> stepwise_engine::ExecutionInfo {
    stepwise_engine::ExecutionInfo {
        execution_arn: arn.to_owned(),
        name: name.to_owned(),
        state_machine_arn: version_arn.unwrap_or(state_machine_arn).to_owned(),
        state_machine_name: StateMachineArn::parse(state_machine_arn)
            .map(|m| m.name().to_owned())
            .unwrap_or_default(),
        role_arn: role_arn.to_owned(),
        region: ExecutionArn::parse(arn)
            .map_or_else(|| "us-east-1".to_owned(), |e| e.region().to_owned()),
        start_time: time_of(start_ms),
        redrive_count,
    }
}

/// Settings of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Real seconds waited per second of a Wait state or retry interval (1.0 = real time).
    pub wait_time_scale: f64,
    /// Executions kept in memory; others are rebuilt from the store when needed.
    pub cache_capacity: usize,
    /// The HTTP Task and Lambda (none: the defaults of an empty `stepwise.toml`).
    pub integrations: Option<Arc<Integrations>>,
    /// Step Functions Local's mock configuration, for `stateMachineArn#TestCase`.
    pub mocks: Option<Arc<MockConfig>>,
    /// Time and randomness (the system's, unless a test gives a virtual clock).
    pub clock: Arc<dyn clock::Clock>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            wait_time_scale: 1.0,
            cache_capacity: 4096,
            integrations: None,
            mocks: None,
            clock: clock::system(),
        }
    }
}

/// The running runtime. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Runtime {
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Work>,
    thread: Mutex<Option<JoinHandle<()>>>,
    logs: Arc<ExecutionLogs>,
}

impl Runtime {
    /// Starts the driver thread on `store`, and the dispatcher on the current async runtime.
    /// Open executions carry on from what the store holds; calls that were in flight when the
    /// server stopped are made again.
    pub async fn start(
        store: Arc<dyn Store>,
        config: RuntimeConfig,
    ) -> Result<Arc<Runtime>, RuntimeError> {
        let tokens = Tokens::load(&*store).await.map_err(RuntimeError::Store)?;
        let integrations = config.integrations.clone().unwrap_or_else(|| {
            Arc::new(Integrations::new(Arc::new(
                stepwise_tasks::Config::default(),
            )))
        });
        let logs = ExecutionLogs::start(exec_log::Destinations::from_config(integrations.config()));
        let shared = Arc::new(Shared::new(
            config.wait_time_scale,
            tokens,
            integrations,
            config.mocks.clone(),
            config.clock.clone(),
        ));
        let (tx, rx) = mpsc::channel();
        let (jobs, job_rx) = tokio::sync::mpsc::unbounded_channel();
        if dispatch::spawn(shared.clone(), store.clone(), tx.clone(), job_rx) {
            let queued = store
                .next_queued_tasks(dispatch::QUEUE, usize::MAX >> 1)
                .await
                .map_err(|e| RuntimeError::Store(e.to_string()))?;
            if !queued.is_empty() {
                tracing::info!(
                    calls = queued.len(),
                    "making again the calls in flight at the last stop"
                );
            }
            for row in &queued {
                if let Some(job) = dispatch::Job::from_row(row) {
                    let _ = jobs.send(job);
                }
            }
            // `.sync` jobs started before the stop: polled again, not started again.
            let polled = store
                .taken_tasks(dispatch::QUEUE, dispatch::POLL)
                .await
                .map_err(|e| RuntimeError::Store(e.to_string()))?;
            if !polled.is_empty() {
                tracing::info!(
                    jobs = polled.len(),
                    "polling again the .sync jobs of open tasks"
                );
            }
            for row in &polled {
                if let Some(job) = dispatch::Job::from_row(row).filter(|j| j.resume.is_some()) {
                    let _ = jobs.send(job);
                }
            }
        }
        let driver = Driver::new(
            tokio::runtime::Handle::current(),
            store.clone(),
            shared.clone(),
            rx,
            config.cache_capacity,
            jobs,
            logs.clone(),
        );
        let thread = std::thread::Builder::new()
            .name("stepwise-driver".into())
            .spawn(move || driver.run())
            .ok();
        Ok(Arc::new(Runtime {
            store,
            shared,
            tx,
            thread: Mutex::new(thread),
            logs,
        }))
    }

    /// Who starts the child executions of nested tasks (the service's execution plane).
    pub fn set_starter(&self, starter: std::sync::Weak<dyn Starter>) {
        self.shared.set_starter(starter);
    }

    /// The execution log writer (a state machine's `loggingConfiguration`).
    pub fn execution_logs(&self) -> &Arc<ExecutionLogs> {
        &self.logs
    }

    /// Signs and checks task tokens.
    pub fn tokens(&self) -> &Tokens {
        &self.shared.tokens
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Where the runtime gets the time and random numbers.
    pub fn clock(&self) -> &Arc<dyn clock::Clock> {
        &self.shared.clock
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    pub fn wait_time_scale(&self) -> f64 {
        self.shared.wait_time_scale
    }

    /// The parsed definition behind a hash, parsing and caching `text` on first use.
    pub fn machine(&self, hash: &str, text: &str) -> Result<Arc<StateMachine>, RuntimeError> {
        match self.shared.cached_machine(hash) {
            Some(m) => Ok(m),
            None => self.shared.parse_machine(hash, text),
        }
    }

    async fn send<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, RuntimeError>>) -> Work,
    ) -> Result<T, RuntimeError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(make(reply))
            .map_err(|_| RuntimeError::ShuttingDown)?;
        answer.await.map_err(|_| RuntimeError::ShuttingDown)?
    }

    /// Starts a Standard execution (idempotently, as StartExecution). `record` holds its
    /// identity; it is durable when this returns.
    pub async fn start_execution(
        &self,
        record: ExecutionRecord,
        machine: Arc<StateMachine>,
        input: Value,
    ) -> Result<Started, RuntimeError> {
        self.send(|reply| Work::Start {
            record: Box::new(record),
            machine,
            input,
            reply,
        })
        .await
    }

    /// Stops a running execution; answers when it stopped.
    pub async fn stop_execution(
        &self,
        arn: String,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<i64, RuntimeError> {
        self.send(|reply| Work::Stop {
            arn,
            error,
            cause,
            reply,
        })
        .await
    }

    /// UpdateMapRun: the Map Run `map_run_arn` of the running execution `execution` takes new
    /// settings (those left out stay).
    pub async fn update_map_run(
        &self,
        execution: String,
        map_run_arn: String,
        max_concurrency: Option<u64>,
        tolerated_failure_count: Option<f64>,
        tolerated_failure_percentage: Option<f64>,
    ) -> Result<i64, RuntimeError> {
        let event = stepwise_engine::Event::UpdateMapRun {
            map_run_arn,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
        };
        self.send(|reply| Work::UpdateMapRun {
            execution,
            event,
            reply,
        })
        .await
    }

    /// Resumes a failed, timed-out or aborted execution.
    pub async fn redrive_execution(&self, arn: String) -> Result<i64, RuntimeError> {
        self.send(|reply| Work::Redrive { arn, reply }).await
    }

    /// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
    pub async fn answer_task(&self, task: TaskRow, answer: TaskAnswer) -> Result<(), RuntimeError> {
        self.send(|reply| Work::Answer {
            task,
            answer,
            reply,
        })
        .await
    }

    /// GetActivityTask: the oldest queued task of `activity`, waiting up to `wait` for one.
    pub async fn get_activity_task(
        &self,
        activity: &str,
        worker: &str,
        wait: Duration,
    ) -> Result<Option<TaskRow>, RuntimeError> {
        let deadline = tokio::time::Instant::now() + wait;
        let notify = self.shared.activity(activity);
        loop {
            // Registered before asking, so a task queued in between still wakes us.
            let woken = notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let claimed = self
                .send(|reply| Work::Claim {
                    activity: activity.to_owned(),
                    worker: worker.to_owned(),
                    reply,
                })
                .await?;
            if claimed.is_some() {
                return Ok(claimed);
            }
            if tokio::time::timeout_at(deadline, woken).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// Finishes the work in hand and stops the driver, then writes out the execution logs of
    /// everything it committed.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Work::Shutdown);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
        self.logs.close();
    }
}
