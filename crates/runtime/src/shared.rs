//! What the driver thread and the API handlers share: parsed definitions, activity wake-ups,
//! metrics and settings.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use stepwise_asl::{ParseOptions, StateMachine, parse_definition};
use stepwise_engine::Status;
use stepwise_engine::mock::MockConfig;
use stepwise_store::Store;
use stepwise_tasks::Integrations;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::dispatch::Starter;
use crate::driver::RuntimeError;
use crate::token::Tokens;

/// Counters the runtime exports on `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    started: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    aborted: AtomicU64,
    transitions: AtomicU64,
    events: AtomicU64,
    batches: AtomicU64,
    express_started: AtomicU64,
    quarantined: AtomicU64,
    /// AWS's execution metrics (CloudWatch namespace `AWS/States`), by state machine ARN.
    by_machine: Mutex<std::collections::BTreeMap<String, MachineCounts>>,
}

/// One state machine's executions as AWS counts them.
#[derive(Debug, Default, Clone, Copy)]
struct MachineCounts {
    started: u64,
    succeeded: u64,
    failed: u64,
    aborted: u64,
    timed_out: u64,
    redriven: u64,
    /// `ExecutionTime`: milliseconds from start to close, summed, and how many closed.
    time_ms: u64,
    timed: u64,
}

impl Metrics {
    pub(crate) fn started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn quarantined(&self) {
        self.quarantined.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn express_started(&self) {
        self.express_started.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self, status: Status) {
        let counter = match status {
            Status::Succeeded => &self.succeeded,
            Status::Failed => &self.failed,
            Status::TimedOut => &self.timed_out,
            Status::Aborted => &self.aborted,
            Status::Running => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn machine(&self, machine: &str, count: impl FnOnce(&mut MachineCounts)) {
        if let Ok(mut m) = self.by_machine.lock() {
            count(m.entry(machine.to_owned()).or_default());
        }
    }

    /// An execution of `machine` started (`ExecutionsStarted`).
    pub(crate) fn machine_started(&self, machine: &str) {
        self.machine(machine, |c| c.started += 1);
    }

    /// An execution of `machine` was redriven (`ExecutionsRedriven`).
    pub(crate) fn machine_redriven(&self, machine: &str) {
        self.machine(machine, |c| c.redriven += 1);
    }

    /// An execution of `machine` closed with `status` after `ms` (`ExecutionsSucceeded`, ...,
    /// `ExecutionTime`).
    pub(crate) fn machine_finished(&self, machine: &str, status: Status, ms: i64) {
        self.machine(machine, |c| {
            match status {
                Status::Succeeded => c.succeeded += 1,
                Status::Failed => c.failed += 1,
                Status::Aborted => c.aborted += 1,
                Status::TimedOut => c.timed_out += 1,
                Status::Running => return,
            }
            c.time_ms += ms.max(0) as u64;
            c.timed += 1;
        });
    }

    pub(crate) fn record_batch(&self, events: u64, transitions: u64) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.events.fetch_add(events, Ordering::Relaxed);
        self.transitions.fetch_add(transitions, Ordering::Relaxed);
    }

    pub(crate) fn add_transitions(&self, n: u64) {
        self.transitions.fetch_add(n, Ordering::Relaxed);
    }

    /// Appends the Prometheus text of these counters.
    pub fn render(&self, out: &mut String) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let started = get(&self.started);
        let closed =
            get(&self.succeeded) + get(&self.failed) + get(&self.timed_out) + get(&self.aborted);
        let _ = writeln!(
            out,
            "# HELP stepwise_executions_started_total Standard executions started.\n\
             # TYPE stepwise_executions_started_total counter\n\
             stepwise_executions_started_total {started}\n\
             # HELP stepwise_executions_finished_total Standard executions that ended, by status.\n\
             # TYPE stepwise_executions_finished_total counter"
        );
        for (status, c) in [
            (Status::Succeeded, &self.succeeded),
            (Status::Failed, &self.failed),
            (Status::TimedOut, &self.timed_out),
            (Status::Aborted, &self.aborted),
        ] {
            let _ = writeln!(
                out,
                "stepwise_executions_finished_total{{status=\"{}\"}} {}",
                status.as_str(),
                get(c)
            );
        }
        let _ = writeln!(
            out,
            "# HELP stepwise_executions_running Standard executions started and not yet ended (since this process started).\n\
             # TYPE stepwise_executions_running gauge\n\
             stepwise_executions_running {}\n\
             # HELP stepwise_express_executions_started_total Express executions started.\n\
             # TYPE stepwise_express_executions_started_total counter\n\
             stepwise_express_executions_started_total {}\n\
             # HELP stepwise_state_transitions_total States entered.\n\
             # TYPE stepwise_state_transitions_total counter\n\
             stepwise_state_transitions_total {}\n\
             # HELP stepwise_history_events_total History events committed.\n\
             # TYPE stepwise_history_events_total counter\n\
             stepwise_history_events_total {}\n\
             # HELP stepwise_store_commits_total Batches committed to the store.\n\
             # TYPE stepwise_store_commits_total counter\n\
             stepwise_store_commits_total {}\n\
             # HELP stepwise_executions_quarantined_total Executions failed because rebuilding them from their steps did not give their stored history.\n\
             # TYPE stepwise_executions_quarantined_total counter\n\
             stepwise_executions_quarantined_total {}",
            started.saturating_sub(closed),
            get(&self.express_started),
            get(&self.transitions),
            get(&self.events),
            get(&self.batches),
            get(&self.quarantined),
        );
        self.render_aws(out);
    }

    /// AWS's execution metrics with their CloudWatch names and `StateMachineArn` dimension.
    fn render_aws(&self, out: &mut String) {
        let Ok(machines) = self.by_machine.lock() else {
            return;
        };
        type Pick = fn(&MachineCounts) -> u64;
        let counters: [(&str, &str, Pick); 6] = [
            ("ExecutionsStarted", "Executions started", |c| c.started),
            ("ExecutionsSucceeded", "Executions that succeeded", |c| {
                c.succeeded
            }),
            ("ExecutionsFailed", "Executions that failed", |c| c.failed),
            ("ExecutionsAborted", "Executions aborted (stopped)", |c| {
                c.aborted
            }),
            ("ExecutionsTimedOut", "Executions that timed out", |c| {
                c.timed_out
            }),
            ("ExecutionsRedriven", "Executions redriven", |c| c.redriven),
        ];
        for (name, help, pick) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help} (AWS/States, by StateMachineArn).\n# TYPE {name} counter"
            );
            for (arn, c) in machines.iter() {
                let _ = writeln!(out, "{name}{{StateMachineArn=\"{arn}\"}} {}", pick(c));
            }
        }
        let _ = writeln!(
            out,
            "# HELP ExecutionTime Milliseconds from an execution's start to its close (AWS/States, by StateMachineArn).\n# TYPE ExecutionTime summary"
        );
        for (arn, c) in machines.iter() {
            let _ = writeln!(
                out,
                "ExecutionTime_sum{{StateMachineArn=\"{arn}\"}} {}\nExecutionTime_count{{StateMachineArn=\"{arn}\"}} {}",
                c.time_ms, c.timed
            );
        }
    }
}

/// State shared between the driver and the handlers.
#[derive(Debug)]
pub struct Shared {
    pub metrics: Metrics,
    /// Real waiting time per second of execution time (Step Functions Local's WAIT_TIME_SCALE).
    pub wait_time_scale: f64,
    machines: Mutex<HashMap<String, Arc<StateMachine>>>,
    activities: Mutex<HashMap<String, Arc<Notify>>>,
    /// Signs and checks task tokens.
    pub tokens: Tokens,
    /// The HTTP Task and Lambda.
    pub integrations: Arc<Integrations>,
    /// Step Functions Local's mock configuration, for executions started with `#TestCase`.
    pub mocks: Option<Arc<MockConfig>>,
    /// Time and randomness.
    pub clock: Arc<dyn Clock>,
    /// Starts the child executions of nested tasks (the service's execution plane, once it exists).
    starter: OnceLock<Weak<dyn Starter>>,
    /// The `.sync` jobs being polled, by task token: told to stop when their task ends some
    /// other way (a timeout, the execution stopped).
    polls: Mutex<HashMap<String, tokio::sync::oneshot::Sender<()>>>,
    /// The stops of `.sync` jobs polled in memory whose tasks ended first, still being sent.
    pub(crate) stops: Arc<Stops>,
    /// The running Map Run coordinators, by Map Run ARN: what the driver tells them.
    map_runs: Mutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<crate::map_run::Note>>>,
}

/// Calls that stop jobs, made in the background; a process about to exit waits for them.
#[derive(Debug, Default)]
pub(crate) struct Stops(Mutex<Vec<tokio::task::JoinHandle<()>>>);

impl Stops {
    pub(crate) fn add(&self, stop: tokio::task::JoinHandle<()>) {
        if let Ok(mut stops) = self.0.lock() {
            stops.retain(|s| !s.is_finished());
            stops.push(stop);
        }
    }

    /// Waits for every stop sent so far.
    pub(crate) async fn settle(&self) {
        let pending = self.0.lock().map(|mut s| std::mem::take(&mut *s));
        for stop in pending.unwrap_or_default() {
            let _ = stop.await;
        }
    }
}

impl Shared {
    pub(crate) fn new(
        wait_time_scale: f64,
        tokens: Tokens,
        integrations: Arc<Integrations>,
        mocks: Option<Arc<MockConfig>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Shared {
            clock,
            metrics: Metrics::default(),
            wait_time_scale,
            machines: Mutex::new(HashMap::new()),
            activities: Mutex::new(HashMap::new()),
            tokens,
            integrations,
            mocks,
            starter: OnceLock::new(),
            polls: Mutex::new(HashMap::new()),
            stops: Arc::default(),
            map_runs: Mutex::default(),
        }
    }

    /// A `.sync` job of the task with this token is being polled: the receiver hears when the
    /// task is cancelled.
    pub(crate) fn watch_poll(&self, token: &str) -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Ok(mut polls) = self.polls.lock() {
            polls.insert(token.to_owned(), tx);
        }
        rx
    }

    /// The poll of this task is over (its answer delivered).
    pub(crate) fn forget_poll(&self, token: &str) {
        if let Ok(mut polls) = self.polls.lock() {
            polls.remove(token);
        }
    }

    /// The task with this token was cancelled: its poll stops (and stops the job).
    pub(crate) fn cancel_poll(&self, token: &str) {
        let tx = self.polls.lock().ok().and_then(|mut p| p.remove(token));
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }

    /// A Map Run's coordinator listens to what the driver commits for it.
    pub(crate) fn listen_map_run(
        &self,
        arn: &str,
    ) -> tokio::sync::mpsc::UnboundedReceiver<crate::map_run::Note> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        if let Ok(mut runs) = self.map_runs.lock() {
            runs.insert(arn.to_owned(), tx);
        }
        rx
    }

    /// The coordinator of a Map Run stopped listening.
    pub(crate) fn forget_map_run(&self, arn: &str) {
        if let Ok(mut runs) = self.map_runs.lock() {
            runs.remove(arn);
        }
    }

    /// Tells a Map Run's coordinator, if one runs, what was committed.
    pub(crate) fn tell_map_run(&self, arn: &str, note: crate::map_run::Note) {
        if let Ok(runs) = self.map_runs.lock() {
            if let Some(tx) = runs.get(arn) {
                let _ = tx.send(note);
            }
        }
    }

    pub(crate) fn set_starter(&self, starter: Weak<dyn Starter>) {
        let _ = self.starter.set(starter);
    }

    pub(crate) fn starter(&self) -> Option<Arc<dyn Starter>> {
        self.starter.get().and_then(Weak::upgrade)
    }

    /// The parsed definition with this hash, from the cache or the store.
    pub(crate) async fn machine(
        &self,
        store: &dyn Store,
        hash: &str,
    ) -> Result<Arc<StateMachine>, RuntimeError> {
        if let Some(m) = self.cached_machine(hash) {
            return Ok(m);
        }
        let text = store
            .get_definition(hash)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?
            // Not a failure to reach the store: what it holds cannot be run.
            .ok_or_else(|| RuntimeError::Quarantined(format!("definition {hash} is missing")))?;
        self.parse_machine(hash, &text)
    }

    pub(crate) fn cached_machine(&self, hash: &str) -> Option<Arc<StateMachine>> {
        self.machines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .cloned()
    }

    /// Parses a definition the control plane accepted and caches it under its hash.
    pub(crate) fn parse_machine(
        &self,
        hash: &str,
        text: &str,
    ) -> Result<Arc<StateMachine>, RuntimeError> {
        let (machine, _) = parse_definition(text, ParseOptions::default()).map_err(|report| {
            RuntimeError::Quarantined(format!(
                "a stored definition no longer parses: {}",
                report.invalid_definition_message().unwrap_or_default()
            ))
        })?;
        let machine = Arc::new(machine);
        let mut cache = self.machines.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(hash.to_owned(), machine.clone());
        Ok(machine)
    }

    /// The wake-up of pollers of one activity.
    pub(crate) fn activity(&self, arn: &str) -> Arc<Notify> {
        self.activities
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(arn.to_owned())
            .or_default()
            .clone()
    }

    pub(crate) fn wake(&self, activity: &str) {
        let notify = self
            .activities
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(activity)
            .cloned();
        if let Some(n) = notify {
            n.notify_waiters();
        }
    }

    /// Wakes the pollers of every activity (a wake-up from another node may have been missed).
    pub(crate) fn wake_all(&self) {
        let all: Vec<Arc<Notify>> = self
            .activities
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect();
        for n in all {
            n.notify_waiters();
        }
    }
}
