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
#[derive(Debug)]
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
    /// How long the store took to commit a batch, and how many events it held.
    commit_seconds: Histogram,
    commit_events: Histogram,
    /// AWS's execution metrics (CloudWatch namespace `AWS/States`), by state machine ARN.
    by_machine: Mutex<std::collections::BTreeMap<String, MachineCounts>>,
}

/// A Prometheus histogram with fixed buckets.
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// One count per bound, then one for above the last.
    counts: Vec<AtomicU64>,
    /// The sum of the observations, in millionths.
    sum_micros: AtomicU64,
}

/// Bucket bounds for durations, in seconds.
pub(crate) const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Bucket bounds for sizes (events in a commit).
pub(crate) const SIZES: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub(crate) fn observe(&self, value: f64) {
        let value = value.max(0.0);
        let bucket = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6).round() as u64, Ordering::Relaxed);
    }

    /// Appends the series of `name` (cumulative buckets, sum and count) with `labels` (e.g.
    /// `node="a"`, or empty).
    pub(crate) fn render(&self, out: &mut String, name: &str, help: &str, labels: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let sep = if labels.is_empty() { "" } else { "," };
        let mut total = 0;
        for (i, count) in self.counts.iter().enumerate() {
            total += count.load(Ordering::Relaxed);
            let le = match self.bounds.get(i) {
                Some(b) => b.to_string(),
                None => "+Inf".to_owned(),
            };
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {total}");
        }
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(
            out,
            "{name}_sum{braces} {sum}\n{name}_count{braces} {total}"
        );
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: AtomicU64::default(),
            succeeded: AtomicU64::default(),
            failed: AtomicU64::default(),
            timed_out: AtomicU64::default(),
            aborted: AtomicU64::default(),
            transitions: AtomicU64::default(),
            events: AtomicU64::default(),
            batches: AtomicU64::default(),
            express_started: AtomicU64::default(),
            quarantined: AtomicU64::default(),
            commit_seconds: Histogram::new(SECONDS),
            commit_events: Histogram::new(SIZES),
            by_machine: Mutex::default(),
        }
    }
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

    pub(crate) fn record_batch(
        &self,
        events: u64,
        transitions: u64,
        took: Option<std::time::Duration>,
    ) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        if let Some(took) = took {
            self.commit_seconds.observe(took.as_secs_f64());
            self.commit_events.observe(events as f64);
        }
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
        self.commit_seconds.render(
            out,
            "stepwise_store_commit_seconds",
            "Time the store took to commit a batch of steps.",
            "",
        );
        self.commit_events.render(
            out,
            "stepwise_store_commit_events",
            "History events per committed batch.",
            "",
        );
        self.render_aws(out);
    }

    /// AWS's execution metrics with their CloudWatch names and `StateMachineArn` dimension.
    fn render_aws(&self, out: &mut String) {
        let Ok(machines) = self.by_machine.lock() else {
            return;
        };
        type Pick = fn(&MachineCounts) -> u64;
        let counters: [(&str, &str, Pick); 7] = [
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
            (
                "ExecutionThrottled",
                "State entries and retries throttled: Stepwise has no state transition quota, so none are",
                |_| 0,
            ),
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
    /// The calls, polls and Map Run coordinators running for the driver's executions.
    pub(crate) in_flight: InFlight,
    /// After each commit, the executions whose history it added to (for whoever watches
    /// them, such as the console's live pages); sent only while someone listens.
    pub(crate) commits: tokio::sync::broadcast::Sender<Arc<Vec<String>>>,
}

/// The work the dispatcher runs for executions (calls, `.sync` polls, Map Run coordinators),
/// by execution: a node that loses a partition abandons that partition's work, since the
/// partition's new owner makes the calls again and coordinates its Map Runs.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    next: AtomicU64,
    running: Arc<Mutex<HashMap<u64, (String, tokio::task::AbortHandle)>>>,
}

/// Takes a finished (or aborted) task out of the registry.
struct Leaving {
    id: u64,
    running: Arc<Mutex<HashMap<u64, (String, tokio::task::AbortHandle)>>>,
}

impl Drop for Leaving {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.id);
        }
    }
}

impl InFlight {
    /// Runs `work` for `execution` on its own task, registered until it ends.
    pub(crate) fn spawn<F>(&self, execution: &str, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let leaving = Leaving {
            id,
            running: self.running.clone(),
        };
        // Registered under the lock the task's end takes, so an end cannot come first.
        let Ok(mut running) = self.running.lock() else {
            tokio::spawn(work);
            return;
        };
        let handle = tokio::spawn(async move {
            let _leaving = leaving;
            work.await;
        });
        running.insert(id, (execution.to_owned(), handle.abort_handle()));
    }

    /// Aborts the work of every execution `lost` says this node no longer drives; returns
    /// how many tasks were aborted.
    pub(crate) fn abandon(&self, lost: impl Fn(&str) -> bool) -> usize {
        let Ok(running) = self.running.lock() else {
            return 0;
        };
        let mut aborted = 0;
        for (execution, handle) in running.values() {
            if lost(execution) {
                handle.abort();
                aborted += 1;
            }
        }
        aborted
    }

    /// How many tasks run.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.running.lock().map(|r| r.len()).unwrap_or(0)
    }
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
            in_flight: InFlight::default(),
            commits: tokio::sync::broadcast::channel(64).0,
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

#[cfg(test)]
mod tests {
    use super::{Histogram, InFlight, SECONDS};

    #[test]
    fn a_histogram_renders_cumulative_buckets_a_sum_and_a_count() {
        let h = Histogram::new(SECONDS);
        for v in [0.0005, 0.003, 0.003, 0.2, 60.0] {
            h.observe(v);
        }
        let mut out = String::new();
        h.render(&mut out, "x_seconds", "What x took.", "node=\"a\"");
        for line in [
            "# TYPE x_seconds histogram",
            "x_seconds_bucket{node=\"a\",le=\"0.001\"} 1",
            "x_seconds_bucket{node=\"a\",le=\"0.0025\"} 1",
            "x_seconds_bucket{node=\"a\",le=\"0.005\"} 3",
            "x_seconds_bucket{node=\"a\",le=\"0.25\"} 4",
            "x_seconds_bucket{node=\"a\",le=\"10\"} 4",
            "x_seconds_bucket{node=\"a\",le=\"+Inf\"} 5",
            "x_seconds_sum{node=\"a\"} 60.2065",
            "x_seconds_count{node=\"a\"} 5",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} missing from\n{out}");
        }
        let mut bare = String::new();
        Histogram::new(SECONDS).render(&mut bare, "y", "Y.", "");
        assert!(
            bare.contains("y_bucket{le=\"+Inf\"} 0\ny_sum 0\ny_count 0"),
            "{bare}"
        );
    }

    /// Lets the spawned tasks run until none can make progress.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn abandoning_aborts_only_the_lost_executions_work() {
        let in_flight = InFlight::default();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut release = Vec::new();
        for execution in ["lost:1", "kept:1", "lost:2"] {
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            release.push(tx);
            let done = done_tx.clone();
            in_flight.spawn(execution, async move {
                let _ = rx.await;
                let _ = done.send(execution);
            });
        }
        settle().await;
        assert_eq!(in_flight.len(), 3);

        assert_eq!(in_flight.abandon(|e| e.starts_with("lost")), 2);
        settle().await;
        assert_eq!(in_flight.len(), 1, "the aborted tasks leave the registry");
        for tx in release {
            let _ = tx.send(());
        }
        settle().await;
        drop(done_tx);
        let mut finished = Vec::new();
        while let Some(execution) = done_rx.recv().await {
            finished.push(execution);
        }
        assert_eq!(
            finished,
            ["kept:1"],
            "only the kept execution's work ran to its end"
        );
        assert_eq!(in_flight.len(), 0);
        assert_eq!(in_flight.abandon(|_| true), 0);
    }
}
