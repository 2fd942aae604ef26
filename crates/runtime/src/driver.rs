//! The driver: one thread that owns every Standard execution's engine state, applies events to
//! it and commits what each step produced.
//!
//! Work arrives on a channel (starts, task results, stops, claims of activity tasks) or from
//! the timer wheel. The driver takes everything that is waiting, up to [`MAX_BATCH`] items,
//! steps the executions, and commits all their history events, steps, timers and tasks in one
//! transaction (group commit). Only after the commit does anyone hear about it: replies to the
//! API, wake-ups of activity pollers, timers armed. So nothing a client has seen can be lost by
//! a crash, and a crash before the commit loses only steps nobody has seen, which the same
//! inputs re-create.
//!
//! A commit that fails is dropped the same way: its callers get the store's error, nothing is
//! armed, dispatched or woken for it, metrics do not count it, and the executions it changed
//! are forgotten, to be rebuilt from the store. What has no caller to try again is tried again
//! here: the timers that fired in it fire again [`RETRY_MS`] later (the dispatcher sends a
//! call's answer again itself).
//!
//! Executions are rebuilt on demand by replaying their recorded steps, so memory holds only a
//! bounded cache of recently used executions, and timers due within the next [`HORIZON_MS`].

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use lru::LruCache;
use serde_json::Value;
use stepwise_asl::eval::{Entropy, SeededEntropy};
use stepwise_engine::local::TaskOutcome;
use stepwise_engine::mock::TestCase;
use stepwise_engine::{
    Command, Event, Execution, ExecutionInfo, MapRunChange, Status, Step, StepError, TaskKind,
    TaskRequest, TimerKind, TokenMinter,
};
use stepwise_engine::{Details, EventType, HistoryEvent};
use stepwise_store::{
    Batch, ExecutionRecord, ExecutionUpdate, HistoryDigest, MapRunChange as StoreMapRunChange,
    Store, TaskChange, TaskRow, TimerChange, TimerRow,
};
use tokio::sync::oneshot;

use crate::cluster::{Node, Request, outcome_text};
use crate::dispatch::{self, Job, Jobs, ParentLink};
use crate::shared::Shared;
use crate::time_of;

/// At most this many work items go into one commit.
const MAX_BATCH: usize = 1024;
/// Timers due within this window are kept in memory; later ones stay in the store.
const HORIZON_MS: i64 = 30_000;
/// A timer that fired in a batch whose commit failed fires again this much later.
const RETRY_MS: i64 = 250;

/// Why the driver refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum RuntimeError {
    #[error("Execution Does Not Exist: '{0}'")]
    ExecutionDoesNotExist(String),
    #[error("Execution Already Exists: '{0}'")]
    ExecutionAlreadyExists(String),
    #[error("Task Does Not Exist")]
    TaskDoesNotExist,
    #[error("{0}")]
    NotRedrivable(String),
    #[error("{0}")]
    Store(String),
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The execution is already over.
    #[error("the execution is not running")]
    NotRunning,
    /// The engine refused an event its execution's phase does not allow (a late answer of a
    /// task that timed out, a timer already cancelled).
    #[error("{0}")]
    UnexpectedEvent(String),
    /// Rebuilding the execution from its recorded steps did not give its stored history: it
    /// was failed rather than continued.
    #[error("{0}")]
    Quarantined(String),
    /// Many nodes: another node holds the execution's partition (it moved).
    #[error("the execution is driven by another node")]
    NotOwner,
}

/// How a worker answered a task.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TaskAnswer {
    Succeeded(Value),
    Failed {
        error: Option<String>,
        cause: Option<String>,
    },
    Heartbeat,
    /// The integration accepted the call; the task now waits for its callback or its child.
    Submitted {
        output: Value,
        worker: String,
    },
}

/// The answer to a start.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Started {
    pub arn: String,
    pub start_ms: i64,
}

/// Where a request's outcome goes.
#[derive(Debug)]
pub(crate) enum Reply {
    /// To a caller on this node, once the batch's fate is known.
    Local(oneshot::Sender<Result<Value, RuntimeError>>),
    /// Into the inbox item it came from, in the same commit (`answer`: its poster waits for
    /// it; if not, the item just goes).
    Remote {
        id: i64,
        partition: u32,
        answer: bool,
    },
}

/// Work for the driver.
#[derive(Debug)]
pub(crate) enum Work {
    Request {
        request: Box<Request>,
        reply: Reply,
    },
    Timer {
        execution: String,
        timer: u64,
    },
    /// Something was posted to the inbox of a partition this node holds.
    Inbox,
    /// The partitions this node holds now, with their epochs (many nodes only).
    Leases {
        held: BTreeMap<u32, i64>,
        reply: oneshot::Sender<()>,
    },
    /// Retention: closed executions to remove if, when the batch commits, they are still
    /// closed before `before_ms`; answered once it commits.
    Purge {
        executions: Vec<String>,
        before_ms: i64,
        reply: oneshot::Sender<Result<Value, RuntimeError>>,
    },
    Shutdown,
}

/// An execution the driver has in memory.
#[derive(Debug)]
struct Live {
    exec: Execution,
    record: ExecutionRecord,
    /// Tokens of the execution's open tasks, by engine task id.
    tokens: HashMap<u64, String>,
    /// Child executions of open `.sync` tasks, by engine task id: stopped with the task.
    children: HashMap<u64, String>,
    /// Tokens of open `.sync` tasks whose job the dispatcher polls, by engine task id: the
    /// poll (and the job) is stopped with the task.
    polls: HashMap<u64, String>,
    /// The mock test case it runs (`stateMachineArn#TestCase`), resolved once.
    mocks: Option<TestCase>,
    /// The digest of its history so far (`None`: recorded before digests were kept).
    digest: Option<HistoryDigest>,
    /// Its pending timers: when each is due in the execution's own time, and what it measures.
    timers: Timers,
}

/// An execution's pending timers, by id: due time (ms, in the execution's own time) and kind.
type Timers = BTreeMap<u64, (i64, TimerKind)>;

/// Follows an execution's pending timers through one step: the timer that fired goes, the
/// timers it started come, the ones it cancelled go.
fn track_timers(timers: &mut Timers, fired: Option<u64>, commands: &[Command]) {
    if let Some(timer) = fired {
        timers.remove(&timer);
    }
    for command in commands {
        match command {
            Command::StartTimer {
                timer,
                fire_at,
                kind,
            } => {
                timers.insert(*timer, (fire_at.timestamp_millis(), *kind));
            }
            Command::CancelTimer { timer } => {
                timers.remove(timer);
            }
            _ => {}
        }
    }
}

fn fired_timer(event: &Event) -> Option<u64> {
    match event {
        Event::TimerFired { timer } => Some(*timer),
        _ => None,
    }
}

/// Whether a timer is idle time the workflow itself waits out (a Wait, a retry interval),
/// which `WAIT_TIME_SCALE` shortens. A task's timeout and heartbeat measure others' work, in
/// real time; the execution's timeout is due in the execution's own time.
fn skippable(kind: TimerKind) -> bool {
    matches!(kind, TimerKind::Wait | TimerKind::Retry)
}

/// What one batch has done so far, and what to do once it is committed.
#[derive(Debug, Default)]
struct Pending {
    batch: Batch,
    updates: HashMap<String, ExecutionUpdate>,
    /// Executions started in this batch, for idempotent starts within it.
    created: HashMap<String, (String, i64)>,
    replies: Vec<AfterCommit>,
    wake_activities: HashSet<String>,
    arm: Vec<TimerRow>,
    disarm: Vec<(String, u64)>,
    closed: Vec<String>,
    transitions: u64,
    /// Executions this batch changed: they must not be evicted before it commits.
    touched: HashSet<String>,
    /// Calls to hand to the dispatcher once committed.
    dispatch: Vec<Job>,
    /// Timers that fired in this batch: armed again if it does not commit.
    fired: Vec<(String, u64)>,
    /// Tokens of `.sync` tasks that ended otherwise than by their job: their polls stop once
    /// committed.
    cancel_polls: Vec<String>,
    /// Timers already armed that are due earlier now (an execution's timeout, once its clock
    /// moved ahead): armed again at their new time once committed.
    rearm: Vec<TimerRow>,
    /// What to tell Map Run coordinators once committed (their children's ends, their new
    /// settings), by Map Run ARN.
    map_run_notes: Vec<(String, crate::map_run::Note)>,
    /// What to count once committed: executions started (or redriven), ended, quarantined.
    started: u64,
    finished: Vec<Status>,
    /// AWS's metrics, by state machine: started, redriven, closed (status, milliseconds).
    machines_started: Vec<String>,
    machines_redriven: Vec<String>,
    machines_finished: Vec<(String, Status, i64)>,
    quarantined: u64,
    /// Many nodes: the partitions of the inbox items this batch handled.
    handled_from: HashSet<u32>,
    /// A step could not read what it needed from the store (a lost connection): the batch is
    /// not committed, as if its commit had failed, rather than committed without that step
    /// (its timer's row deleted, its answer's task dropped, a parent never told).
    poisoned: Option<String>,
    /// How long the store took to commit the batch (none: nothing to commit).
    took: Option<std::time::Duration>,
}

/// A reply to send once the batch's fate is known.
struct AfterCommit(Box<dyn FnOnce(Result<(), RuntimeError>) + Send>);

impl std::fmt::Debug for AfterCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterCommit")
    }
}

pub(crate) struct Driver {
    /// The async runtime the store's futures are driven on: the driver is a thread of its
    /// own, and waits for each store call it makes.
    handle: tokio::runtime::Handle,
    store: Arc<dyn Store>,
    shared: Arc<Shared>,
    rx: Receiver<Work>,
    /// Recently used executions. Unbounded while a batch runs (an execution the batch changed
    /// must stay until it commits), trimmed to `capacity` after each commit.
    cache: LruCache<String, Live>,
    capacity: usize,
    heap: BinaryHeap<Reverse<(i64, String, u64)>>,
    armed: HashSet<(String, u64)>,
    /// Every stored timer due before this is in `heap`.
    horizon: i64,
    rng: SeededEntropy,
    followups: VecDeque<(String, Event)>,
    jobs: Jobs,
    logs: Arc<crate::exec_log::ExecutionLogs>,
    /// Many nodes: this node, and the partitions its driver holds with their epochs (`None`:
    /// one node, which owns every execution).
    node: Option<Arc<Node>>,
    owned: Option<BTreeMap<u32, i64>>,
    /// Many nodes: when to look in the inbox next (it is also looked in when woken).
    inbox_at: i64,
    /// Many nodes: the parent execution of each Map Run whose children ended here.
    map_run_parents: HashMap<String, String>,
}

/// How often a node looks in its partitions' inboxes without being woken (a lost
/// notification delays a request by at most this).
const INBOX_POLL_MS: i64 = 1000;

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("cached", &self.cache.len())
            .field("timers", &self.heap.len())
            .finish()
    }
}

impl Driver {
    pub(crate) fn new(
        handle: tokio::runtime::Handle,
        store: Arc<dyn Store>,
        shared: Arc<Shared>,
        rx: Receiver<Work>,
        cache_capacity: usize,
        jobs: Jobs,
        logs: Arc<crate::exec_log::ExecutionLogs>,
    ) -> Self {
        let rng = SeededEntropy::new(shared.clock.random_u64());
        Driver {
            handle,
            store,
            shared,
            rx,
            cache: LruCache::unbounded(),
            capacity: cache_capacity.max(1),
            heap: BinaryHeap::new(),
            armed: HashSet::new(),
            horizon: i64::MIN,
            rng,
            followups: VecDeque::new(),
            jobs,
            logs,
            node: None,
            owned: None,
            inbox_at: i64::MIN,
            map_run_parents: HashMap::new(),
        }
    }

    /// Many nodes: the driver of `node`, which drives only the partitions it holds (none
    /// until told).
    pub(crate) fn on_node(mut self, node: Option<Arc<Node>>) -> Self {
        self.owned = node.as_ref().map(|_| BTreeMap::new());
        self.node = node;
        self
    }

    /// Whether this node drives the execution (one node drives all).
    fn owns(&self, execution: &str) -> bool {
        match (&self.owned, &self.node) {
            (Some(owned), Some(node)) => owned.contains_key(&node.partition(execution)),
            _ => true,
        }
    }

    fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Waits for a store call (or anything else async) on the driver's thread.
    fn wait<F: std::future::Future>(&self, f: F) -> F::Output {
        self.handle.block_on(f)
    }

    /// Runs until [`Work::Shutdown`] or until every sender is gone.
    pub(crate) fn run(mut self) {
        tracing::debug!("driver started");
        loop {
            if let Err(e) = self.refill_timers() {
                tracing::error!(error = %e, "could not read timers");
            }
            let wait = self
                .heap
                .peek()
                .map(|Reverse((at, _, _))| *at)
                .unwrap_or(i64::MAX)
                .min(self.horizon.saturating_sub(HORIZON_MS / 2))
                .min(if self.node.is_some() {
                    self.inbox_at
                } else {
                    i64::MAX
                })
                .saturating_sub(self.now_ms())
                .clamp(0, 1000) as u64;
            let mut work = Vec::new();
            match self.rx.recv_timeout(Duration::from_millis(wait)) {
                Ok(w) => work.push(w),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while work.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(w) => work.push(w),
                    Err(_) => break,
                }
            }
            let woken = work.iter().any(|w| matches!(w, Work::Inbox));
            if self.node.is_some() && (woken || self.now_ms() >= self.inbox_at) {
                self.inbox_at = self.now_ms() + INBOX_POLL_MS;
                self.read_inbox(&mut work);
            }
            let now = self.now_ms();
            while work.len() < MAX_BATCH {
                match self.heap.peek() {
                    Some(Reverse((at, _, _))) if *at <= now => {}
                    _ => break,
                }
                let Some(Reverse((_, execution, timer))) = self.heap.pop() else {
                    break;
                };
                if self.armed.remove(&(execution.clone(), timer)) {
                    work.push(Work::Timer { execution, timer });
                }
            }
            let shutdown = work.iter().any(|w| matches!(w, Work::Shutdown));
            if !work.is_empty() {
                self.process(work);
            }
            if shutdown {
                break;
            }
        }
        tracing::debug!("driver stopped");
    }

    /// Loads the timers of the next window from the store.
    fn refill_timers(&mut self) -> Result<(), RuntimeError> {
        let now = self.now_ms();
        if now + HORIZON_MS / 2 < self.horizon {
            return Ok(());
        }
        let horizon = now + HORIZON_MS;
        let mut due = match (&self.node, &self.owned) {
            // Many nodes: the timers of the partitions this node holds.
            (Some(node), Some(owned)) => {
                let partitions: Vec<u32> = owned.keys().copied().collect();
                match node.store.cluster() {
                    Some(cluster) if !partitions.is_empty() => self
                        .wait(cluster.due_timers_in(&partitions, horizon, 100_000))
                        .map_err(store_err)?,
                    _ => Vec::new(),
                }
            }
            _ => self
                .wait(self.store.due_timers(horizon, 100_000))
                .map_err(store_err)?,
        };
        let full = due.len() == 100_000;
        let horizon = if full {
            due.last().map(|t| t.fire_ms).unwrap_or(horizon)
        } else {
            horizon
        };
        for t in due.drain(..) {
            self.arm(t);
        }
        self.horizon = horizon;
        Ok(())
    }

    fn arm(&mut self, t: TimerRow) {
        if self.armed.insert((t.execution.clone(), t.timer)) {
            self.heap.push(Reverse((t.fire_ms, t.execution, t.timer)));
        }
    }

    fn process(&mut self, work: Vec<Work>) {
        let mut pending = Pending::default();
        for w in work {
            self.handle(w, &mut pending);
            while let Some((arn, event)) = self.followups.pop_front() {
                if !self.owns(&arn) {
                    // Another node drives it: posted to its inbox by this commit.
                    self.post(&mut pending, arn, event);
                    continue;
                }
                if let Err(e) = self.step(&arn, event, &mut pending) {
                    tracing::warn!(execution = %arn, error = %e, "follow-up step refused");
                }
            }
        }
        self.commit(pending);
    }

    /// Posts an event for an execution another node drives, with the batch.
    fn post(&self, pending: &mut Pending, execution: String, event: Event) {
        let Some(node) = &self.node else { return };
        let partition = node.partition(&execution);
        let request = Request::Event { execution, event };
        match serde_json::to_string(&request) {
            Ok(body) => pending.batch.posts.push((partition, body)),
            Err(e) => tracing::error!(error = %e, "could not post an event"),
        }
    }

    /// Many nodes: a Map Run's coordinator runs on the node of the Map Run's parent. The ends
    /// of children driven here whose parent another node drives are posted to that node with
    /// this batch (so each is told exactly once, as the child's end commits).
    fn route_map_run_notes(&mut self, pending: &mut Pending) {
        let Some(node) = self.node.clone() else {
            return;
        };
        let notes = std::mem::take(&mut pending.map_run_notes);
        for (map_run, note) in notes {
            let parent = match self.map_run_parents.get(&map_run) {
                Some(parent) => Some(parent.clone()),
                None => match self.wait(self.store.get_map_run(&map_run)) {
                    Ok(Some(run)) => {
                        if self.map_run_parents.len() > 10_000 {
                            self.map_run_parents.clear();
                        }
                        self.map_run_parents
                            .insert(map_run.clone(), run.execution.clone());
                        Some(run.execution)
                    }
                    _ => None,
                },
            };
            match parent {
                Some(parent) if !self.owns(&parent) => {
                    let partition = node.partition(&parent);
                    let request = Request::MapRunNote {
                        execution: parent,
                        map_run,
                        note,
                    };
                    if let Ok(body) = serde_json::to_string(&request) {
                        pending.batch.posts.push((partition, body));
                    }
                }
                _ => pending.map_run_notes.push((map_run, note)),
            }
        }
    }

    /// Takes the requests posted for this node's partitions, as work of this batch.
    fn read_inbox(&mut self, work: &mut Vec<Work>) {
        let (Some(node), Some(owned)) = (&self.node, &self.owned) else {
            return;
        };
        if owned.is_empty() {
            return;
        }
        let partitions: Vec<u32> = owned.keys().copied().collect();
        let Some(cluster) = node.store.cluster() else {
            return;
        };
        let limit = MAX_BATCH.saturating_sub(work.len()).max(1);
        let items = match self.wait(cluster.inbox(&partitions, limit)) {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the inbox");
                return;
            }
        };
        for item in items {
            node.metrics
                .inbox_age_seconds
                .observe(item.age_ms as f64 / 1000.0);
            let reply = Reply::Remote {
                id: item.id,
                partition: item.partition,
                answer: item.reply,
            };
            match serde_json::from_str::<Request>(&item.body) {
                Ok(request) => work.push(Work::Request {
                    request: Box::new(request),
                    reply,
                }),
                Err(e) => {
                    tracing::error!(id = item.id, error = %e, "an unreadable request in the inbox");
                    // Answered with the error, so it goes and its poster hears why.
                    work.push(Work::Request {
                        request: Box::new(Request::Unreadable(e.to_string())),
                        reply,
                    });
                }
            }
        }
    }

    /// The partitions this node holds changed: executions of those it let go leave memory
    /// with their timers; those it took have their due timers loaded and the calls that were
    /// in flight made again (at least once, as on AWS: the node that had them may have died
    /// mid-call), their `.sync` jobs polled again, and their inboxes read.
    fn set_leases(&mut self, held: BTreeMap<u32, i64>) {
        let Some(node) = self.node.clone() else {
            return;
        };
        let before = self.owned.take().unwrap_or_default();
        let (gained, lost) = crate::cluster::changes(&before, &held);
        let lost: HashSet<u32> = lost.into_iter().collect();
        if !lost.is_empty() {
            let gone: Vec<String> = self
                .cache
                .iter()
                .filter(|(arn, _)| lost.contains(&node.partition(arn)))
                .map(|(arn, _)| arn.clone())
                .collect();
            for arn in gone {
                self.cache.pop(&arn);
            }
            self.armed
                .retain(|(execution, _)| !lost.contains(&node.partition(execution)));
            // The new owner makes these calls again and coordinates these Map Runs.
            let abandoned = self
                .shared
                .in_flight
                .abandon(|execution| lost.contains(&node.partition(execution)));
            if abandoned > 0 {
                tracing::info!(
                    tasks = abandoned,
                    "abandoned the calls in flight in partitions lost"
                );
            }
        }
        self.owned = Some(held);
        if gained.is_empty() {
            return;
        }
        let Some(cluster) = node.store.cluster() else {
            return;
        };
        match self.wait(cluster.due_timers_in(&gained, self.horizon.max(self.now_ms()), 100_000)) {
            Ok(due) => {
                for t in due {
                    self.arm(t);
                }
            }
            Err(e) => tracing::error!(error = %e, "could not read the timers of partitions taken"),
        }
        match self.wait(cluster.tasks_in(&gained, dispatch::QUEUE)) {
            Ok(rows) => {
                let mut again = 0;
                for row in &rows {
                    let resumed = match &row.worker {
                        None => dispatch::Job::from_row(row),
                        Some(w) if w.starts_with(dispatch::POLL) => {
                            dispatch::Job::from_row(row).filter(|j| j.resume.is_some())
                        }
                        Some(_) => None,
                    };
                    if let Some(job) = resumed {
                        again += 1;
                        let _ = self.jobs.send(job);
                    }
                }
                if again > 0 {
                    tracing::info!(
                        calls = again,
                        "making again the calls in flight in partitions taken"
                    );
                }
            }
            Err(e) => tracing::error!(error = %e, "could not read the calls of partitions taken"),
        }
        self.inbox_at = i64::MIN;
    }

    /// The fence of a batch: the leases of the partitions it writes. A partition it writes
    /// that this node does not hold (it let go of it while the batch was built) gets an epoch
    /// no partition has, so the store refuses the batch.
    fn fence(&self, pending: &Pending) -> Option<stepwise_store::Fence> {
        let (node, owned) = (self.node.as_ref()?, self.owned.as_ref()?);
        let mut partitions: BTreeMap<u32, i64> = BTreeMap::new();
        let batch = &pending.batch;
        let executions = batch
            .new_executions
            .iter()
            .map(|e| e.arn.as_str())
            .chain(batch.updates.iter().map(|u| u.arn.as_str()))
            .chain(batch.steps.iter().map(|s| s.0.as_str()))
            .chain(batch.events.iter().map(|e| e.0.as_str()))
            .chain(pending.touched.iter().map(String::as_str));
        for arn in executions {
            let p = node.partition(arn);
            partitions.insert(p, owned.get(&p).copied().unwrap_or(-1));
        }
        for p in &pending.handled_from {
            partitions.insert(*p, owned.get(p).copied().unwrap_or(-1));
        }
        Some(stepwise_store::Fence {
            node: node.id.clone(),
            leases: partitions
                .into_iter()
                .map(|(partition, epoch)| stepwise_store::Lease { partition, epoch })
                .collect(),
        })
    }

    fn commit(&mut self, mut pending: Pending) {
        pending.batch.updates = pending.updates.drain().map(|(_, u)| u).collect();
        self.route_map_run_notes(&mut pending);
        pending.batch.fence = self.fence(&pending);
        let result = if let Some(why) = pending.poisoned.take() {
            Err(RuntimeError::Store(format!(
                "a step could not read the store: {why}"
            )))
        } else if pending.batch.is_empty() {
            Ok(())
        } else {
            let began = std::time::Instant::now();
            let committed = self.wait(self.store.commit(&pending.batch));
            pending.took = Some(began.elapsed());
            match committed {
                Ok(()) => Ok(()),
                Err(stepwise_store::StoreError::Fenced(lost)) => {
                    // Another node took these partitions: let them go here, and have the
                    // callers send again, to their new owner.
                    tracing::warn!(partitions = ?lost, "a commit was fenced: partitions taken by another node");
                    if let Some(owned) = &self.owned {
                        let held = owned
                            .iter()
                            .filter(|(p, _)| !lost.contains(p))
                            .map(|(p, e)| (*p, *e))
                            .collect();
                        self.set_leases(held);
                    }
                    Err(RuntimeError::NotOwner)
                }
                Err(e) => Err(store_err(e)),
            }
        };
        match &result {
            Ok(()) => {
                for t in pending.arm.drain(..) {
                    if t.fire_ms < self.horizon {
                        self.arm(t);
                    }
                }
                for key in pending.disarm.drain(..) {
                    self.armed.remove(&key);
                }
                // The entry at the old, later time stays in the heap: once this one fired, the
                // timer is no longer armed and that entry is skipped.
                for t in pending.rearm.drain(..) {
                    if t.fire_ms < self.horizon {
                        self.armed.insert((t.execution.clone(), t.timer));
                        self.heap.push(Reverse((t.fire_ms, t.execution, t.timer)));
                    }
                }
                for arn in &pending.closed {
                    self.cache.pop(arn);
                }
                while self.cache.len() > self.capacity {
                    self.cache.pop_lru();
                }
                let metrics = &self.shared.metrics;
                metrics.record_batch(
                    pending.batch.events.len() as u64,
                    pending.transitions,
                    pending.took,
                );
                // Durable now: to whoever watches these executions, and to the execution
                // logs (their own thread).
                if self.shared.commits.receiver_count() > 0 {
                    let mut seen = std::collections::HashSet::new();
                    let touched: Vec<String> = pending
                        .batch
                        .events
                        .iter()
                        .filter(|(arn, ..)| seen.insert(arn.as_str()))
                        .map(|(arn, ..)| arn.clone())
                        .collect();
                    let _ = self.shared.commits.send(Arc::new(touched));
                }
                self.logs
                    .committed(std::mem::take(&mut pending.batch.events));
                for _ in 0..pending.started {
                    metrics.started();
                }
                for status in pending.finished.drain(..) {
                    metrics.finished(status);
                }
                for machine in pending.machines_started.drain(..) {
                    metrics.machine_started(&machine);
                }
                for machine in pending.machines_redriven.drain(..) {
                    metrics.machine_redriven(&machine);
                }
                for (machine, status, ms) in pending.machines_finished.drain(..) {
                    metrics.machine_finished(&machine, status, ms);
                }
                for _ in 0..pending.quarantined {
                    metrics.quarantined();
                }
                for activity in &pending.wake_activities {
                    self.shared.wake(activity);
                }
                for job in pending.dispatch.drain(..) {
                    let _ = self.jobs.send(job);
                }
                for token in pending.cancel_polls.drain(..) {
                    self.shared.cancel_poll(&token);
                }
                for (map_run, note) in pending.map_run_notes.drain(..) {
                    self.shared.tell_map_run(&map_run, note);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed; the batch is dropped");
                // The engine states in memory ran ahead of the store: forget them.
                for arn in &pending.touched {
                    self.cache.pop(arn);
                }
                // Their rows are still stored, but they left the wheel when they fired, and the
                // next refill of the window may be seconds away: fire them again soon.
                let retry_ms = self.now_ms() + RETRY_MS;
                for (execution, timer) in pending.fired.drain(..) {
                    self.arm(TimerRow {
                        execution,
                        timer,
                        fire_ms: retry_ms,
                    });
                }
            }
        }
        for reply in pending.replies {
            (reply.0)(result.clone());
        }
    }

    fn handle(&mut self, work: Work, pending: &mut Pending) {
        match work {
            Work::Request { request, reply } => {
                let result = match request.execution() {
                    Some(execution) if !self.owns(execution) => Err(RuntimeError::NotOwner),
                    _ => self.request(*request, pending),
                };
                match reply {
                    Reply::Local(reply) => respond(pending, reply, result),
                    // Not this node's: left in the inbox for the partition's owner.
                    Reply::Remote { .. } if result == Err(RuntimeError::NotOwner) => {}
                    Reply::Remote {
                        id,
                        partition,
                        answer,
                    } => {
                        pending.handled_from.insert(partition);
                        let outcome = answer.then(|| outcome_text(&result));
                        pending.batch.handled.push((id, outcome));
                    }
                }
            }
            Work::Timer { execution, timer } => {
                // A timer of a partition let go: its new owner fires it.
                if self.owns(&execution) {
                    self.fire(&execution, timer, pending);
                }
            }
            // Mid-batch too: what the batch wrote for a partition let go is fenced at commit
            // (see `fence`), so it is sent on to the new owner rather than written.
            Work::Leases { held, reply } => {
                self.set_leases(held);
                let _ = reply.send(());
            }
            Work::Purge {
                executions,
                before_ms,
                reply,
            } => {
                let purge = &mut pending.batch.purge;
                let before = purge.executions.len();
                // One in memory is open (a redrive) or closing in this very batch.
                purge.executions.extend(
                    executions
                        .into_iter()
                        .filter(|arn| self.owns(arn) && !self.cache.contains(arn)),
                );
                purge.before_ms = purge.before_ms.max(before_ms);
                let asked = purge.executions.len() - before;
                respond(pending, reply, Ok(Value::from(asked)));
            }
            Work::Inbox | Work::Shutdown => {}
        }
    }

    /// Does what a request asks; its outcome as JSON.
    fn request(&mut self, request: Request, pending: &mut Pending) -> Result<Value, RuntimeError> {
        fn json<T: serde::Serialize>(value: T) -> Result<Value, RuntimeError> {
            serde_json::to_value(value).map_err(|e| RuntimeError::Store(e.to_string()))
        }
        match request {
            Request::Start {
                record,
                input,
                machine,
            } => {
                let machine = match machine {
                    Some(machine) => machine,
                    None => {
                        self.wait(self.shared.machine(&*self.store, &record.definition_hash))?
                    }
                };
                json(self.start(*record, machine, input, pending)?)
            }
            Request::Stop { arn, error, cause } => json(self.stop(&arn, error, cause, pending)?),
            Request::Answer { task, answer } => json(self.answer(task, answer, pending)?),
            Request::ClaimNext { activity, worker } => {
                json(self.claim(&activity, worker, pending)?)
            }
            Request::ClaimTask { task, worker } => json(self.claim_task(task, worker, pending)?),
            Request::Redrive { arn } => json(self.redrive(&arn, pending)?),
            Request::UpdateMapRun { execution, event } => {
                json(self.step(&execution, event, pending)?)
            }
            Request::Event { execution, event } => json(self.step(&execution, event, pending)?),
            Request::MapRunNote { map_run, note, .. } => {
                pending.map_run_notes.push((map_run, note));
                Ok(Value::Null)
            }
            Request::Unreadable(why) => {
                Err(RuntimeError::Store(format!("an unreadable request: {why}")))
            }
        }
    }

    /// Hands one queued task to a worker, if no worker has it yet (many nodes: the node a
    /// worker polls picks the task, and its partition's owner hands it out, so two nodes
    /// never hand out the same task).
    fn claim_task(
        &mut self,
        task: TaskRow,
        worker: String,
        pending: &mut Pending,
    ) -> Result<Option<TaskRow>, RuntimeError> {
        let taken_here = pending.batch.tasks.iter().any(|c| {
            matches!(c, TaskChange::Start { token, .. } | TaskChange::Remove { token } if *token == task.token)
        });
        if taken_here {
            return Ok(None);
        }
        let Some(task) = self
            .wait(self.store.task_by_token(&task.token))
            .map_err(store_err)?
            .filter(|t| t.worker.is_none())
        else {
            return Ok(None);
        };
        self.hand_out(task, worker, pending)
    }

    /// Hands a queued task to a worker: taken, and its `TaskStarted` stepped, in this batch.
    fn hand_out(
        &mut self,
        task: TaskRow,
        worker: String,
        pending: &mut Pending,
    ) -> Result<Option<TaskRow>, RuntimeError> {
        pending.batch.tasks.push(TaskChange::Start {
            token: task.token.clone(),
            worker: worker.clone(),
        });
        let event = Event::TaskStarted {
            task: task.task,
            worker: Some(worker),
        };
        match self.step(&task.execution, event, pending) {
            Ok(_) => Ok(Some(task)),
            // The batch is not written: the worker polls again.
            Err(e @ RuntimeError::Store(_)) => Err(e),
            Err(e) => {
                // The execution is gone: drop its task rather than handing it out.
                tracing::debug!(error = %e, "dropping a task of a closed execution");
                pending
                    .batch
                    .tasks
                    .push(TaskChange::Remove { token: task.token });
                Ok(None)
            }
        }
    }

    fn start(
        &mut self,
        record: ExecutionRecord,
        machine: Arc<stepwise_asl::StateMachine>,
        input: Value,
        pending: &mut Pending,
    ) -> Result<Started, RuntimeError> {
        // StartExecution is idempotent for a running execution with the same input.
        let existing = match pending.created.get(&record.arn) {
            Some((input, start_ms)) => Some((input.clone(), *start_ms, true)),
            None => self
                .wait(self.store.get_execution(&record.arn))
                .map_err(store_err)?
                .map(|e| (e.input, e.start_ms, e.status == Status::Running.as_str())),
        };
        if let Some((old_input, start_ms, running)) = existing {
            if running && old_input == record.input {
                return Ok(Started {
                    arn: record.arn,
                    start_ms,
                });
            }
            return Err(RuntimeError::ExecutionAlreadyExists(record.arn));
        }
        let info = execution_info(&record);
        let arn = record.arn.clone();
        let machine_arn = record.state_machine_arn.clone();
        let start_ms = record.start_ms;
        let input_text = Some(record.input.clone());
        pending
            .created
            .insert(arn.clone(), (record.input.clone(), start_ms));
        pending.batch.new_executions.push(record.clone());
        let mut exec = Execution::new(machine, info);
        exec.set_token_minter(self.minter(&arn));
        exec.set_child_executions(true);
        let live = Live {
            exec,
            mocks: test_case_of(&self.shared, &record),
            record,
            tokens: HashMap::new(),
            children: HashMap::new(),
            polls: HashMap::new(),
            digest: Some(HistoryDigest::default()),
            timers: Timers::new(),
        };
        self.cache.put(arn.clone(), live);
        self.step_at(&arn, Event::Start { input, input_text }, start_ms, pending)?;
        pending.started += 1;
        pending.machines_started.push(machine_arn);
        Ok(Started { arn, start_ms })
    }

    fn stop(
        &mut self,
        arn: &str,
        error: Option<String>,
        cause: Option<String>,
        pending: &mut Pending,
    ) -> Result<i64, RuntimeError> {
        match self.step(arn, Event::Stop { error, cause }, pending) {
            Ok(at) => Ok(at),
            // Already over: StopExecution answers with when it stopped.
            Err(RuntimeError::NotRunning | RuntimeError::Quarantined(_)) => {
                let record = self.record(arn)?;
                Ok(record.stop_ms.unwrap_or_else(|| self.now_ms()))
            }
            Err(e) => Err(e),
        }
    }

    fn answer(
        &mut self,
        task: TaskRow,
        answer: TaskAnswer,
        pending: &mut Pending,
    ) -> Result<(), RuntimeError> {
        let id = task.task;
        let event = match answer {
            TaskAnswer::Succeeded(output) => Event::TaskSucceeded { task: id, output },
            TaskAnswer::Failed { error, cause } => Event::TaskFailed {
                task: id,
                error,
                cause,
            },
            TaskAnswer::Heartbeat => Event::TaskHeartbeat { task: id },
            TaskAnswer::Submitted { output, worker } => {
                pending.batch.tasks.push(TaskChange::Start {
                    token: task.token.clone(),
                    worker: worker.clone(),
                });
                self.step(
                    &task.execution,
                    Event::TaskSubmitted { task: id, output },
                    pending,
                )
                .map_err(refused_task)?;
                if let Some(live) = self.cache.get_mut(&task.execution) {
                    if worker.starts_with("arn:") {
                        live.children.insert(id, worker);
                    } else if worker.starts_with(dispatch::POLL) {
                        live.polls.insert(id, task.token.clone());
                    }
                }
                return Ok(());
            }
        };
        let heartbeat = matches!(event, Event::TaskHeartbeat { .. });
        if !heartbeat {
            pending.batch.tasks.push(TaskChange::Remove {
                token: task.token.clone(),
            });
            if let Some(live) = self.cache.get_mut(&task.execution) {
                live.polls.remove(&id);
            }
        }
        self.step(&task.execution, event, pending)
            .map(drop)
            .map_err(refused_task)
    }

    fn claim(
        &mut self,
        activity: &str,
        worker: String,
        pending: &mut Pending,
    ) -> Result<Option<TaskRow>, RuntimeError> {
        // Several claims may share a batch: skip the tasks taken earlier in it.
        let taken: HashSet<&str> = pending
            .batch
            .tasks
            .iter()
            .filter_map(|c| match c {
                TaskChange::Start { token, .. } => Some(token.as_str()),
                _ => None,
            })
            .collect();
        let Some(task) = self
            .wait(self.store.next_queued_tasks(activity, taken.len() + 1))
            .map_err(store_err)?
            .into_iter()
            .find(|t| !taken.contains(t.token.as_str()))
        else {
            return Ok(None);
        };
        self.hand_out(task, worker, pending)
    }

    /// A timer is due. In an execution whose Waits and retry intervals are shortened
    /// (`WAIT_TIME_SCALE` below 1), its timers still fire in the order of its own clock: when a
    /// Wait is due, an earlier timer of the workflow's own (another Wait, the execution's
    /// timeout) fires first, and the Wait fires right after. Firing a shortened timer moves the
    /// execution's clock ahead to the timer's time, and with it the execution's timeout.
    fn fire(&mut self, execution: &str, timer: u64, pending: &mut Pending) {
        let now = self.now_ms();
        let mut fires = timer;
        if self.shared.wait_time_scale < 1.0 && self.load(execution, pending).is_ok() {
            if let Some(live) = self.cache.get_mut(execution) {
                if let Some(&(due, kind)) = live.timers.get(&timer) {
                    if skippable(kind) {
                        let earlier = live
                            .timers
                            .iter()
                            .filter(|(t, (at, k))| **t != timer && !k.measures_work() && *at < due)
                            .min_by_key(|(t, (at, _))| (*at, **t))
                            .map(|(t, (at, _))| (*t, *at));
                        let target = match earlier {
                            Some((other, at)) => {
                                fires = other;
                                // This one fires next, right after.
                                pending.arm.push(TimerRow {
                                    execution: execution.to_owned(),
                                    timer,
                                    fire_ms: now,
                                });
                                pending.disarm.push((execution.to_owned(), other));
                                pending.fired.push((execution.to_owned(), timer));
                                at
                            }
                            None => due,
                        };
                        if target - now > live.record.clock_offset_ms {
                            live.record.clock_offset_ms = target - now;
                            // Timers due in the execution's own time come nearer.
                            for (&t, &(at, k)) in &live.timers {
                                if k == TimerKind::ExecutionTimeout && t != fires {
                                    let row = TimerRow {
                                        execution: execution.to_owned(),
                                        timer: t,
                                        fire_ms: (at - live.record.clock_offset_ms).max(now),
                                    };
                                    pending.batch.timers.push(TimerChange::Add(row.clone()));
                                    pending.rearm.push(row);
                                }
                            }
                        }
                    }
                }
            }
        }
        pending.batch.timers.push(TimerChange::Remove {
            execution: execution.to_owned(),
            timer: fires,
        });
        pending.fired.push((execution.to_owned(), fires));
        if let Err(e) = self.step_at(execution, Event::TimerFired { timer: fires }, now, pending) {
            tracing::debug!(execution = %execution, error = %e, "timer for a closed execution");
        }
    }

    fn redrive(&mut self, arn: &str, pending: &mut Pending) -> Result<i64, RuntimeError> {
        let at = self.now_ms();
        match self.step_at(arn, Event::Redrive, at, pending) {
            Ok(at) => Ok(at),
            Err(RuntimeError::Quarantined(why)) => Err(RuntimeError::NotRedrivable(why)),
            Err(e) => Err(e),
        }
    }

    fn record(&self, arn: &str) -> Result<ExecutionRecord, RuntimeError> {
        self.wait(self.store.get_execution(arn))
            .map_err(store_err)?
            .ok_or_else(|| RuntimeError::ExecutionDoesNotExist(arn.to_owned()))
    }

    /// Brings an execution into memory, replaying its recorded steps, and checks that the
    /// replay gives the history that was committed (its count and digest). One that does not
    /// is quarantined: failed with a cause that says so, in this batch, and never continued.
    fn load(&mut self, arn: &str, pending: &mut Pending) -> Result<(), RuntimeError> {
        if self.cache.contains(arn) {
            return Ok(());
        }
        let record = self.record(arn)?;
        let machine = self.wait(self.shared.machine(&*self.store, &record.definition_hash))?;
        let info = execution_info(&record);
        let mut exec = Execution::new(machine, info);
        exec.set_token_minter(self.minter(arn));
        exec.set_child_executions(true);
        let mut digest = HistoryDigest::default();
        let mut count = 0u64;
        let mut undecodable = None;
        let mut timers = Timers::new();
        for text in self.wait(self.store.steps(arn)).map_err(store_err)? {
            let step: Step = match serde_json::from_str(&text) {
                Ok(step) => step,
                Err(e) => {
                    undecodable = Some(format!("a recorded step that does not decode ({e})"));
                    break;
                }
            };
            // Refusals were recorded as refusals: replay them the same way.
            let fired = fired_timer(&step.event);
            if let Ok(out) = exec.step(step) {
                track_timers(&mut timers, fired, &out.commands);
                for ev in &out.events {
                    digest.push(&ev.to_json().to_string());
                }
                count += out.events.len() as u64;
            }
        }
        let stored = record
            .history_digest
            .as_deref()
            .and_then(HistoryDigest::parse);
        let divergence = undecodable.or_else(|| {
            if count != record.event_count {
                Some(format!(
                    "{count} history events where {} were committed",
                    record.event_count
                ))
            } else if stored.is_some_and(|d| d != digest) {
                Some(format!(
                    "{count} history events that differ from the {count} committed"
                ))
            } else {
                None
            }
        });
        if let Some(found) = divergence {
            return Err(self.quarantine(record, stored, &found, pending));
        }
        let mut tokens = HashMap::new();
        let mut children = HashMap::new();
        let mut polls = HashMap::new();
        for t in self.wait(self.store.tasks_of(arn)).map_err(store_err)? {
            if t.activity == dispatch::QUEUE
                && t.worker.is_none()
                && serde_json::from_str::<dispatch::Call>(&t.input).is_ok_and(|c| c.map_run)
            {
                polls.insert(t.task, t.token.clone());
            }
            if let (Some(worker), true) = (t.worker.as_deref(), t.activity == dispatch::QUEUE) {
                if worker.starts_with("arn:") {
                    children.insert(t.task, worker.to_owned());
                } else if worker.starts_with(dispatch::POLL) {
                    polls.insert(t.task, t.token.clone());
                }
            }
            tokens.insert(t.task, t.token);
        }
        self.cache.put(
            arn.to_owned(),
            Live {
                exec,
                mocks: test_case_of(&self.shared, &record),
                record,
                tokens,
                children,
                polls,
                digest: Some(digest),
                timers,
            },
        );
        Ok(())
    }

    /// Fails an execution whose replay diverged from its stored history: an ExecutionFailed
    /// event after the stored ones (States.Runtime, with a cause that says what happened), its
    /// timers and tasks dropped. Its other events stay as they were. Logged and counted.
    fn quarantine(
        &mut self,
        record: ExecutionRecord,
        stored: Option<HistoryDigest>,
        found: &str,
        pending: &mut Pending,
    ) -> RuntimeError {
        let cause = format!(
            "Stepwise could not rebuild this execution from its recorded steps: replaying them \
             gave {found}. The execution was stopped rather than continued from a state that \
             may not be the one recorded."
        );
        if record.status != Status::Running.as_str() || pending.closed.contains(&record.arn) {
            // Already over (an earlier quarantine, or it ended before): nothing to record.
            return RuntimeError::Quarantined(cause);
        }
        tracing::error!(execution = %record.arn, found, "replay diverged from the stored history; execution quarantined");
        pending.quarantined += 1;
        pending.finished.push(Status::Failed);
        pending.machines_finished.push((
            record.state_machine_arn.clone(),
            Status::Failed,
            self.now_ms() - record.start_ms,
        ));
        let at = self.now_ms();
        let id = record.event_count + 1;
        let mut details = serde_json::Map::new();
        details.insert("error".into(), Value::from("States.Runtime"));
        details.insert("cause".into(), Value::from(cause.as_str()));
        let event = HistoryEvent {
            id,
            previous_event_id: record.event_count,
            timestamp: time_of(at),
            event_type: EventType::ExecutionFailed,
            details: Some(Details::Fields(details)),
        };
        let text = event.to_json().to_string();
        let digest = stored.map(|mut d| {
            d.push(&text);
            d.to_text()
        });
        pending.batch.events.push((record.arn.clone(), id, text));
        pending.updates.insert(
            record.arn.clone(),
            ExecutionUpdate {
                arn: record.arn.clone(),
                status: Status::Failed.as_str().to_owned(),
                stop_ms: Some(at),
                output: None,
                error: Some("States.Runtime".into()),
                cause: Some(cause.clone()),
                event_count: id,
                step_count: record.step_count,
                redrive_count: record.redrive_count,
                redrive_ms: record.redrive_ms,
                closed: true,
                history_digest: digest,
                clock_offset_ms: record.clock_offset_ms,
            },
        );
        pending.closed.push(record.arn);
        RuntimeError::Quarantined(cause)
    }

    /// Signs the `.waitForTaskToken` tokens of one execution.
    fn minter(&self, arn: &str) -> TokenMinter {
        let tokens = self.shared.tokens.clone();
        let arn = arn.to_owned();
        TokenMinter(Arc::new(move |task, nonce| tokens.issue(&arn, task, nonce)))
    }

    fn step(
        &mut self,
        arn: &str,
        event: Event,
        pending: &mut Pending,
    ) -> Result<i64, RuntimeError> {
        self.step_at(arn, event, self.now_ms(), pending)
    }

    /// Applies one event to one execution at real time `at_ms` and records everything it
    /// produced in `pending`. Answers the time of the step in the execution's own clock.
    fn step_at(
        &mut self,
        arn: &str,
        event: Event,
        at_ms: i64,
        pending: &mut Pending,
    ) -> Result<i64, RuntimeError> {
        if let Err(e) = self.load(arn, pending) {
            if let RuntimeError::Store(why) = &e {
                // What this step would have done is unknown: nothing of the batch is written.
                pending.poisoned = Some(why.clone());
            }
            return Err(e);
        }
        let seed = self.rng.next_u64();
        let Some(live) = self.cache.get_mut(arn) else {
            return Err(RuntimeError::ExecutionDoesNotExist(arn.to_owned()));
        };
        // The execution's own time: real time plus the idle time its scaled timers skipped.
        let now_ms = at_ms + live.record.clock_offset_ms;
        let fired = fired_timer(&event);
        let step = Step {
            now: time_of(now_ms),
            seed,
            event,
        };
        let text = serde_json::to_string(&step)
            .map_err(|e| RuntimeError::Store(format!("a step does not encode: {e}")))?;
        let redriving = matches!(step.event, Event::Redrive);
        let out = live.exec.step(step).map_err(|e| match e {
            StepError::NotRunning => RuntimeError::NotRunning,
            StepError::NotRedrivable(reason) => RuntimeError::NotRedrivable(reason.to_string()),
            e @ StepError::UnexpectedEvent { .. } => RuntimeError::UnexpectedEvent(e.to_string()),
            other => RuntimeError::Store(other.to_string()),
        })?;
        if redriving {
            let r = &mut live.record;
            r.status = Status::Running.as_str().to_owned();
            r.stop_ms = None;
            r.output = None;
            r.error = None;
            r.cause = None;
            r.redrive_count = live.exec.redrive_count();
            r.redrive_ms = Some(now_ms);
            pending.started += 1;
            pending.machines_redriven.push(r.state_machine_arn.clone());
        }
        pending.touched.insert(arn.to_owned());
        pending
            .batch
            .steps
            .push((arn.to_owned(), live.record.step_count, text));
        live.record.step_count += 1;
        for ev in &out.events {
            if ev.event_type.as_str().ends_with("StateEntered") {
                pending.transitions += 1;
            }
            let text = ev.to_json().to_string();
            if let Some(d) = live.digest.as_mut() {
                d.push(&text);
            }
            pending.batch.events.push((arn.to_owned(), ev.id, text));
        }
        live.record.event_count += out.events.len() as u64;
        track_timers(&mut live.timers, fired, &out.commands);
        let scale = self.shared.wait_time_scale;
        let mut closed = false;
        for command in out.commands {
            match command {
                Command::ScheduleTask(request) => {
                    schedule(
                        live,
                        arn,
                        request,
                        at_ms,
                        pending,
                        &mut self.followups,
                        &mut self.rng,
                        &self.shared,
                    );
                }
                Command::CancelTask { task } => {
                    if let Some(token) = live.tokens.remove(&task) {
                        pending.batch.tasks.push(TaskChange::Remove { token });
                    }
                    // A `.sync` task that ends otherwise (timeout, stop) stops its child, or
                    // its job.
                    if let Some(child) = live.children.remove(&task) {
                        self.followups.push_back(stop_child(child));
                    }
                    if let Some(token) = live.polls.remove(&task) {
                        pending.cancel_polls.push(token);
                    }
                }
                Command::StartTimer {
                    timer,
                    fire_at,
                    kind,
                } => {
                    // WAIT_TIME_SCALE shortens the idle time of Waits and retry intervals; the
                    // rest is due when the execution's clock gets there (see `fire`).
                    let scale = if skippable(kind) { scale } else { 1.0 };
                    let delay = (fire_at.timestamp_millis() - now_ms).max(0) as f64 * scale;
                    let row = TimerRow {
                        execution: arn.to_owned(),
                        timer,
                        fire_ms: at_ms + delay as i64,
                    };
                    pending.batch.timers.push(TimerChange::Add(row.clone()));
                    pending.arm.push(row);
                }
                Command::CancelTimer { timer } => {
                    pending.batch.timers.push(TimerChange::Remove {
                        execution: arn.to_owned(),
                        timer,
                    });
                    pending.disarm.push((arn.to_owned(), timer));
                }
                Command::MapRun(change) => {
                    pending.batch.map_runs.push(match change {
                        MapRunChange::Started { arn: map_run } => StoreMapRunChange::Start {
                            arn: map_run,
                            execution: arn.to_owned(),
                            start_ms: now_ms,
                        },
                        MapRunChange::Configured {
                            arn: map_run,
                            max_concurrency,
                            tolerated_failure_count,
                            tolerated_failure_percentage,
                            children,
                            items,
                        } => {
                            pending.map_run_notes.push((
                                map_run.clone(),
                                crate::map_run::Note::Update {
                                    max_concurrency,
                                    tolerated_failure_count,
                                    tolerated_failure_percentage,
                                },
                            ));
                            StoreMapRunChange::Configure {
                                arn: map_run,
                                max_concurrency,
                                tolerated_failure_count,
                                tolerated_failure_percentage,
                                children,
                                items,
                            }
                        }
                        MapRunChange::Redriven { arn: map_run } => StoreMapRunChange::Redrive {
                            arn: map_run,
                            redrive_ms: now_ms,
                        },
                        MapRunChange::Ended {
                            arn: map_run,
                            status,
                        } => StoreMapRunChange::End {
                            arn: map_run,
                            status: status.to_owned(),
                            stop_ms: now_ms,
                        },
                    });
                }
                Command::Complete(c) => {
                    live.record.status = c.status.as_str().to_owned();
                    live.record.stop_ms = Some(now_ms);
                    live.record.output = c.output.as_ref().map(|v| v.to_string());
                    live.record.error = c.error.clone();
                    live.record.cause = c.cause.clone();
                    closed = true;
                    pending.finished.push(c.status);
                    pending.machines_finished.push((
                        live.record.state_machine_arn.clone(),
                        c.status,
                        now_ms - live.record.start_ms,
                    ));
                }
            }
        }
        let r = &live.record;
        pending.updates.insert(
            arn.to_owned(),
            ExecutionUpdate {
                arn: arn.to_owned(),
                status: r.status.clone(),
                stop_ms: r.stop_ms,
                output: r.output.clone(),
                error: r.error.clone(),
                cause: r.cause.clone(),
                event_count: r.event_count,
                step_count: r.step_count,
                redrive_count: r.redrive_count,
                redrive_ms: r.redrive_ms,
                closed: closed || live.exec.status() != Status::Running,
                history_digest: live.digest.map(HistoryDigest::to_text),
                clock_offset_ms: r.clock_offset_ms,
            },
        );
        if closed {
            live.tokens.clear();
            self.followups
                .extend(live.children.drain().map(|(_, child)| stop_child(child)));
            pending
                .cancel_polls
                .extend(live.polls.drain().map(|(_, token)| token));
            pending.closed.push(arn.to_owned());
            // A Map Run's child tells its coordinator, once committed.
            if let (Some(map_run), None) = (&live.record.map_run_arn, &live.record.parent) {
                pending.map_run_notes.push((
                    map_run.clone(),
                    crate::map_run::Note::ChildEnded {
                        arn: arn.to_owned(),
                        status: live.record.status.clone(),
                    },
                ));
            }
            // A child of a `.sync` task tells its parent, in the same commit.
            if let Some(link) = live.record.parent.as_deref().and_then(ParentLink::parse) {
                let record = live.record.clone();
                self.followups.push_back((
                    link.execution.clone(),
                    Event::TaskSubmitted {
                        task: link.task,
                        output: dispatch::start_output(
                            &*self.shared.clock,
                            &record.arn,
                            record.start_ms,
                        ),
                    },
                ));
                let outcome: TaskOutcome = dispatch::child_outcome(&record, link.json).into();
                let event = outcome.into_event(link.task);
                self.followups.push_back((link.execution, event));
                pending
                    .batch
                    .tasks
                    .push(TaskChange::Remove { token: link.token });
            }
        }
        Ok(now_ms)
    }
}

/// Carries out a ScheduleTask: activities are queued for workers; a task the execution's mock
/// test case covers is answered at once; every other call goes to the dispatcher once the
/// batch is committed.
#[allow(clippy::too_many_arguments)]
fn schedule(
    live: &mut Live,
    arn: &str,
    request: TaskRequest,
    at_ms: i64,
    pending: &mut Pending,
    followups: &mut VecDeque<(String, Event)>,
    rng: &mut SeededEntropy,
    shared: &Shared,
) {
    let task = request.task;
    if request.kind == TaskKind::Activity {
        let token = shared.tokens.issue(arn, task, rng.next_u64());
        live.tokens.insert(task, token.clone());
        pending.batch.tasks.push(TaskChange::Add(TaskRow {
            token,
            execution: arn.to_owned(),
            task,
            activity: request.resource.clone(),
            input: request.input.to_string(),
            created_ms: at_ms,
            worker: None,
        }));
        pending.wake_activities.insert(request.resource);
        return;
    }
    followups.push_back((arn.to_owned(), Event::TaskStarted { task, worker: None }));
    let mocked = live
        .mocks
        .as_ref()
        .and_then(|case| case.outcome(&request.state_name, request.invocation));
    if let Some(outcome) = mocked {
        followups.push_back((arn.to_owned(), outcome.into_event(task)));
        return;
    }
    let token = request
        .task_token
        .clone()
        .unwrap_or_else(|| shared.tokens.issue(arn, task, rng.next_u64()));
    live.tokens.insert(task, token.clone());
    // A traced execution's call carries the context of its attempt's span.
    let trace = live.record.trace_header.as_deref().map(|header| {
        let span = crate::trace::task_span(arn, &request.state_name, request.invocation);
        crate::trace::TraceContext::of(Some(header), arn).headers(span)
    });
    let mut call = dispatch::Call::of(request);
    call.trace = trace.unwrap_or_default();
    if call.map_run {
        // Its coordinator stops when the task ends some other way (see `map_run`).
        live.polls.insert(task, token.clone());
    }
    pending.batch.tasks.push(TaskChange::Add(TaskRow {
        token: token.clone(),
        execution: arn.to_owned(),
        task,
        activity: dispatch::QUEUE.to_owned(),
        input: serde_json::to_string(&call).unwrap_or_default(),
        created_ms: at_ms,
        worker: None,
    }));
    pending.dispatch.push(Job {
        execution: arn.to_owned(),
        task,
        token,
        call,
        resume: None,
    });
}

/// The follow-up that stops the child of a `.sync` task that ended some other way.
fn stop_child(child: String) -> (String, Event) {
    let stop = Event::Stop {
        error: None,
        cause: None,
    };
    (child, stop)
}

/// The mock test case of an execution started with `#TestCase`.
fn test_case_of(shared: &Shared, record: &ExecutionRecord) -> Option<TestCase> {
    let case = record.test_case.as_deref()?;
    let mocks = shared.mocks.as_deref()?;
    let machine = stepwise_engine::StateMachineArn::parse(&record.state_machine_arn)?;
    mocks.test_case(machine.name(), Some(case)).ok()
}

fn respond(
    pending: &mut Pending,
    reply: oneshot::Sender<Result<Value, RuntimeError>>,
    result: Result<Value, RuntimeError>,
) {
    match result {
        // Refusals need no commit: answer at once.
        Err(e) => {
            let _ = reply.send(Err(e));
        }
        Ok(value) => pending.replies.push(AfterCommit(Box::new(move |committed| {
            let _ = reply.send(committed.map(|()| value));
        }))),
    }
}

/// A task answer the execution refused is for a task that no longer exists; a store that
/// could not be read is not a refusal (the answer is sent again).
fn refused_task(e: RuntimeError) -> RuntimeError {
    match e {
        RuntimeError::Store(_) | RuntimeError::NotOwner | RuntimeError::ShuttingDown => e,
        _ => RuntimeError::TaskDoesNotExist,
    }
}

fn store_err(e: stepwise_store::StoreError) -> RuntimeError {
    RuntimeError::Store(e.to_string())
}

/// The engine's view of who a Standard execution is.
pub(crate) fn execution_info(record: &ExecutionRecord) -> ExecutionInfo {
    crate::execution_info(
        &record.arn,
        &record.name,
        &record.state_machine_arn,
        record.version_arn.as_deref(),
        &record.role_arn,
        record.start_ms,
        record.redrive_count,
    )
}
