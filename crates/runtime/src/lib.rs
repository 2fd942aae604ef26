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
mod cluster;
pub mod dispatch;
pub mod driver;
pub mod exec_log;
pub mod express;
pub mod host;
mod map_run;
mod retention;
mod shared;
pub mod task_metrics;
pub mod token;
pub mod trace;

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

use cluster::{Node, Request, Router};
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
    /// Many nodes (a store they share, PostgreSQL): this node's name (unique among them;
    /// none: made up from the host, the process and a random number).
    pub node_id: Option<String>,
    /// Many nodes: how long a node's hold on its partitions lasts unless renewed, in ms: how
    /// soon the others carry on the work of a node that died.
    pub lease_ms: i64,
    /// How long a closed execution is kept (none: forever). AWS keeps them 90 days.
    pub retention: Option<Duration>,
}

/// How long AWS keeps a closed Standard execution.
pub const AWS_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            wait_time_scale: 1.0,
            cache_capacity: 4096,
            integrations: None,
            mocks: None,
            clock: clock::system(),
            node_id: None,
            lease_ms: 10_000,
            retention: Some(AWS_RETENTION),
        }
    }
}

/// The running runtime. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Runtime {
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Work>,
    router: Router,
    thread: Mutex<Option<JoinHandle<()>>>,
    logs: Arc<ExecutionLogs>,
    /// Many nodes: this node, and how to stop its lease keeping (which hands its partitions
    /// back).
    node: Option<Arc<Node>>,
    leaving: Arc<tokio::sync::Notify>,
    lease_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Removes closed executions past their retention.
    retention: Option<tokio::task::AbortHandle>,
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
        let node = store.cluster().and_then(|_| {
            let id = config
                .node_id
                .clone()
                .unwrap_or_else(|| node_name(&*config.clock));
            Node::new(id, store.clone(), config.lease_ms.max(300))
        });
        let router = Router {
            tx: tx.clone(),
            node: node.clone(),
        };
        // Many nodes: the calls in flight are made again per partition, as a node takes it.
        if dispatch::spawn(shared.clone(), store.clone(), router.clone(), job_rx) && node.is_none()
        {
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
        )
        .on_node(node.clone());
        let thread = std::thread::Builder::new()
            .name("stepwise-driver".into())
            .spawn(move || driver.run())
            .ok();
        let retention = config.retention.map(|keep| {
            tokio::spawn(retention::run(
                store.clone(),
                tx.clone(),
                node.clone(),
                config.clock.clone(),
                keep,
            ))
            .abort_handle()
        });
        let leaving = Arc::new(tokio::sync::Notify::new());
        let mut lease_task = None;
        if let Some(node) = &node {
            tracing::info!(node = %node.id, partitions = node.partitions, lease_ms = node.lease_ms, "joining the nodes that share the store");
            tokio::spawn(cluster::listen(node.clone(), tx.clone(), shared.clone()));
            tokio::spawn(node.clone().collect_outcomes());
            let (first, first_done) = oneshot::channel();
            lease_task = Some(tokio::spawn(cluster::lease_loop(
                node.clone(),
                tx.clone(),
                leaving.clone(),
                first,
            )));
            let _ = first_done.await;
        }
        Ok(Arc::new(Runtime {
            store,
            shared,
            tx,
            router,
            thread: Mutex::new(thread),
            logs,
            node,
            leaving,
            lease_task: Mutex::new(lease_task),
            retention,
        }))
    }

    /// Many nodes: this node's name and the partitions it holds (with their epochs).
    pub fn node(&self) -> Option<(String, std::collections::BTreeMap<u32, i64>)> {
        self.node.as_ref().map(|n| (n.id.clone(), n.leases()))
    }

    /// Many nodes: appends this node's series (partitions held, remote request and inbox
    /// latency, lease round trips) to a Prometheus text. Nothing with one node.
    pub fn render_node_metrics(&self, out: &mut String) {
        if let Some(node) = &self.node {
            node.render_metrics(out);
        }
    }

    /// Many nodes: stops taking work and hands this node's partitions back at once, so the
    /// others carry on its executions without waiting for its leases to expire (SIGTERM).
    /// Nothing with one node.
    pub async fn leave(&self) {
        self.leaving.notify_one();
        let task = self
            .lease_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
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

    /// After each of this node's commits, the executions whose history it added to. A
    /// receiver that falls more than 64 commits behind is told it lagged (`RecvError::Lagged`):
    /// anything may have changed. Executions another node runs are not heard of here.
    pub fn watch_commits(&self) -> tokio::sync::broadcast::Receiver<Arc<Vec<String>>> {
        self.shared.commits.subscribe()
    }

    /// Appends the Prometheus text of the runtime's series: executions, commits, and AWS's
    /// execution, activity, Lambda and service integration metrics.
    pub fn render_metrics(&self, out: &mut String) {
        self.shared.metrics.render(out);
        self.logs.task_metrics().render(out);
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

    /// Starts a Standard execution (idempotently, as StartExecution). `record` holds its
    /// identity; it is durable when this returns.
    pub async fn start_execution(
        &self,
        record: ExecutionRecord,
        machine: Arc<StateMachine>,
        input: Value,
    ) -> Result<Started, RuntimeError> {
        self.router
            .call_as(Request::Start {
                record: Box::new(record),
                input,
                machine: Some(machine),
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
        self.router
            .call_as(Request::Stop { arn, error, cause })
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
        self.router
            .call_as(Request::UpdateMapRun { execution, event })
            .await
    }

    /// Resumes a failed, timed-out or aborted execution.
    pub async fn redrive_execution(&self, arn: String) -> Result<i64, RuntimeError> {
        self.router.call_as(Request::Redrive { arn }).await
    }

    /// SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat.
    pub async fn answer_task(&self, task: TaskRow, answer: TaskAnswer) -> Result<(), RuntimeError> {
        self.router.call_as(Request::Answer { task, answer }).await
    }

    /// GetActivityTask: the oldest queued task of `activity`, waiting up to `wait` for one.
    /// With many nodes, this node picks the oldest queued tasks and the owner of each one's
    /// execution hands it out (or says another worker has it); a task queued on another node
    /// wakes this one through the store, and every second it looks again in case a wake-up was
    /// lost.
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
            let claimed = match &self.node {
                None => {
                    self.router
                        .call_as(Request::ClaimNext {
                            activity: activity.to_owned(),
                            worker: worker.to_owned(),
                        })
                        .await?
                }
                Some(_) => self.claim_anywhere(activity, worker).await?,
            };
            if claimed.is_some() {
                return Ok(claimed);
            }
            let next = match &self.node {
                None => deadline,
                Some(_) => deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
            };
            if tokio::time::timeout_at(next, woken).await.is_err()
                && tokio::time::Instant::now() >= deadline
            {
                return Ok(None);
            }
        }
    }

    /// Many nodes: the oldest queued task of `activity` that its owner hands to `worker`.
    async fn claim_anywhere(
        &self,
        activity: &str,
        worker: &str,
    ) -> Result<Option<TaskRow>, RuntimeError> {
        let queued = self
            .store
            .next_queued_tasks(activity, 8)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        for task in queued {
            let claimed: Option<TaskRow> = self
                .router
                .call_as(Request::ClaimTask {
                    task,
                    worker: worker.to_owned(),
                })
                .await?;
            if claimed.is_some() {
                return Ok(claimed);
            }
        }
        Ok(None)
    }

    /// Finishes the work in hand and stops the driver, then writes out the execution logs of
    /// everything it committed.
    pub fn shutdown(&self) {
        if let Some(retention) = &self.retention {
            retention.abort();
        }
        let _ = self.tx.send(Work::Shutdown);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
        self.logs.close();
    }
}

/// A node's name when none is given: the host, the process and a random number, so that a
/// node restarted on the same host is a new node (its old leases expire or were handed back).
fn node_name(clock: &dyn clock::Clock) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        clock.random_u64() as u32
    )
}
