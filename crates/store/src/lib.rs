//! Where the server keeps everything that must survive a restart: state machines, versions,
//! aliases and activities ("resources"), definitions, executions, their history and the engine
//! steps that rebuild them, timers and the activity task queue.
//!
//! [`Store`] is the backend-neutral interface; [`sqlite::SqliteStore`] is the embedded backend.
//! Everything one engine step changes goes into one [`Batch`], and [`Store::commit`] applies a
//! batch (which may hold the steps of many executions) in one transaction: that is the group
//! commit the runtime relies on.

pub mod chunks;
pub mod cluster;
#[cfg(feature = "contract")]
pub mod contract;
pub mod sqlite;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use cluster::{Cluster, Fence, InboxItem, Lease, Signal, partition_of};
pub use sqlite::SqliteStore;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A resource or execution with this key already exists.
    #[error("already exists: {0}")]
    Conflict(String),
    /// The backend failed (IO, corruption, a lost connection).
    #[error("store: {0}")]
    Backend(String),
    /// The store was written by a newer Stepwise: its schema is at a version this build does
    /// not know, so it is left untouched.
    #[error(
        "the store's schema is at version {found}, newer than this build of Stepwise knows \
         (up to {known}): run the newer Stepwise, or restore a backup taken before it upgraded \
         the store"
    )]
    NewerSchema { found: i64, known: i64 },
    /// A commit's fence failed: the node no longer holds these partitions at the epochs it
    /// named (another node took them), so nothing was written.
    #[error("fenced: partitions {0:?} are no longer this node's")]
    Fenced(Vec<u32>),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The kinds of named resource the control plane keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    StateMachine,
    Version,
    Alias,
    Activity,
}

impl ResourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::StateMachine => "stateMachine",
            ResourceKind::Version => "version",
            ResourceKind::Alias => "alias",
            ResourceKind::Activity => "activity",
        }
    }
}

/// A state machine, version, alias or activity. `body` is the control plane's own record
/// (definition hash, role, tags, routing…): the store only keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub arn: String,
    pub kind: ResourceKind,
    /// A version's or alias's state machine.
    pub parent: Option<String>,
    /// Lists are ordered by this key, ascending.
    pub sort_key: String,
    pub body: Value,
}

/// One execution as DescribeExecution and ListExecutions show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub arn: String,
    /// The unqualified state machine ARN.
    pub state_machine_arn: String,
    /// Set when started through a version or an alias (the version the alias chose).
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub name: String,
    /// RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED (PENDING_REDRIVE while a redrive waits).
    pub status: String,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    /// The input exactly as sent.
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// The definition the execution runs (see [`Store::put_definition`]).
    pub definition_hash: String,
    pub role_arn: String,
    pub trace_header: Option<String>,
    pub redrive_count: u32,
    pub redrive_ms: Option<i64>,
    /// History events recorded so far.
    pub event_count: u64,
    /// Engine steps recorded so far.
    pub step_count: u64,
    /// Started by a parent execution's `.sync` task: how to tell the parent it ended (JSON text
    /// the runtime writes and reads).
    #[serde(default)]
    pub parent: Option<String>,
    /// The mock configuration test case this execution runs (`stateMachineArn#TestCase`).
    #[serde(default)]
    pub test_case: Option<String>,
    /// A digest of the history as committed ([`HistoryDigest`]), checked when the execution is
    /// rebuilt from its steps. `None` for executions recorded before digests were kept.
    #[serde(default)]
    pub history_digest: Option<String>,
    /// How far the execution's own clock is ahead of real time, in milliseconds: the idle time
    /// its scaled Waits and retry intervals skipped (0 unless `WAIT_TIME_SCALE` is below 1).
    /// Its history, its timers and its timeout are in its own time.
    #[serde(default)]
    pub clock_offset_ms: i64,
    /// A Distributed Map's child: the Map Run it belongs to.
    #[serde(default)]
    pub map_run_arn: Option<String>,
    /// A Distributed Map's child: its place among its Map Run's children (its item, or its
    /// batch), from 0.
    #[serde(default)]
    pub map_run_index: Option<u64>,
}

/// Which executions ListExecutions wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionFilter {
    /// A Map Run's children.
    pub map_run_arn: Option<String>,
    pub state_machine_arn: Option<String>,
    pub version_arn: Option<String>,
    pub alias_arn: Option<String>,
    pub status: Option<String>,
    /// Names starting with this (the console's search; ListExecutions has no such filter).
    pub name_prefix: Option<String>,
    /// Started at or after this (ms since the epoch; the console's search).
    pub started_from_ms: Option<i64>,
    /// Started before this (ms since the epoch; the console's search).
    pub started_before_ms: Option<i64>,
}

/// Where to continue a list of executions (newest first): after this start time and ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionCursor {
    pub start_ms: i64,
    pub arn: String,
}

/// A change to an execution's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionUpdate {
    pub arn: String,
    pub status: String,
    pub stop_ms: Option<i64>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub event_count: u64,
    pub step_count: u64,
    pub redrive_count: u32,
    pub redrive_ms: Option<i64>,
    /// The execution is over: its timers and tasks go too.
    pub closed: bool,
    /// The history's digest after this update's events.
    pub history_digest: Option<String>,
    /// See [`ExecutionRecord::clock_offset_ms`].
    pub clock_offset_ms: i64,
}

/// A running digest of an execution's history: each event's stored text, in order, folded
/// into 64-bit FNV-1a. Not cryptographic: it tells a replay that diverged from what was
/// committed, cheaply, for every event appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryDigest(u64);

impl Default for HistoryDigest {
    fn default() -> Self {
        HistoryDigest(0xcbf2_9ce4_8422_2325)
    }
}

impl HistoryDigest {
    /// The digest of a history whose stored digest is `text` (`None` if it does not parse).
    pub fn parse(text: &str) -> Option<HistoryDigest> {
        u64::from_str_radix(text, 16).ok().map(HistoryDigest)
    }

    /// Folds in the next event's stored text.
    pub fn push(&mut self, event: &str) {
        for byte in event.bytes().chain(std::iter::once(b'\n')) {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// As stored: 16 hex digits.
    pub fn to_text(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A pending timer of an open execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRow {
    pub execution: String,
    pub timer: u64,
    pub fire_ms: i64,
}

/// An activity task, queued or handed to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRow {
    /// The task token workers send back.
    pub token: String,
    pub execution: String,
    /// The engine's task id within the execution.
    pub task: u64,
    /// The activity ARN.
    pub activity: String,
    pub input: String,
    pub created_ms: i64,
    /// Set once a worker has taken it.
    pub worker: Option<String>,
}

/// A change to the timer table.
#[derive(Debug, Clone, PartialEq)]
pub enum TimerChange {
    Add(TimerRow),
    Remove { execution: String, timer: u64 },
}

/// A change to the task queue.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskChange {
    Add(TaskRow),
    /// A worker took it.
    Start {
        token: String,
        worker: String,
    },
    Remove {
        token: String,
    },
}

/// Everything some engine steps changed, committed atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub new_executions: Vec<ExecutionRecord>,
    /// Applied after the new executions.
    pub updates: Vec<ExecutionUpdate>,
    /// `(execution, seq, step)`: the engine's inputs, to rebuild an execution by replaying them.
    pub steps: Vec<(String, u64, String)>,
    /// `(execution, event id, event)`: the history, as GetExecutionHistory shows each event.
    pub events: Vec<(String, u64, String)>,
    pub timers: Vec<TimerChange>,
    pub tasks: Vec<TaskChange>,
    /// Map Runs started, configured or ended in this batch, in order.
    pub map_runs: Vec<MapRunChange>,
    /// Many nodes: the leases this batch is written under ([`Cluster`]); checked before
    /// anything is written.
    pub fence: Option<Fence>,
    /// Many nodes: inbox items this batch handled, with the outcome for the poster (if it
    /// waits for one); handled exactly once, as the batch commits or not.
    pub handled: Vec<(i64, Option<String>)>,
    /// Many nodes: requests for other partitions' owners, posted if the batch commits.
    pub posts: Vec<(u32, String)>,
    /// Closed executions to remove (retention), applied last.
    pub purge: Purge,
}

/// Closed executions to remove with their history, steps, timers, tasks and Map Runs: each
/// only if, when the batch commits, it is still closed (not redriven), closed before
/// `before_ms`, and not a child of a Map Run whose parent is still open (the parent's
/// coordinator may read it again).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Purge {
    pub executions: Vec<String>,
    pub before_ms: i64,
}

/// A [`ExecutionLog::closed_before`] cursor as its parts: before every row when there is none.
pub fn closed_cursor(after: Option<&(i64, String)>) -> (i64, &str) {
    after.map_or((i64::MIN, ""), |(ms, arn)| (*ms, arn.as_str()))
}

/// The statuses of a closed execution, as SQL (`status IN (...)`).
pub const CLOSED_STATUSES_SQL: &str = "('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')";

/// A Distributed Map's Map Run, as DescribeMapRun and ListMapRuns show it (its children are
/// executions whose `map_run_arn` names it).
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunRecord {
    pub arn: String,
    /// The parent execution.
    pub execution: String,
    /// RUNNING, SUCCEEDED, FAILED or ABORTED.
    pub status: String,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    /// 0: no limit.
    pub max_concurrency: u64,
    pub tolerated_failure_count: Option<f64>,
    pub tolerated_failure_percentage: Option<f64>,
    /// How many children it has, once its items are known.
    pub children: Option<u64>,
    /// With an ItemBatcher, how many items its children share (`None`: one item each).
    pub items: Option<u64>,
    /// How many times it was redriven, and when last.
    pub redrive_count: u32,
    pub redrive_ms: Option<i64>,
}

/// A Map Run's children in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRunCount {
    pub status: String,
    pub executions: u64,
    /// The items of the batched ones among them (their input's `Items`).
    pub batched_items: u64,
}

/// A change to a Map Run's row.
#[derive(Debug, Clone, PartialEq)]
pub enum MapRunChange {
    Start {
        arn: String,
        execution: String,
        start_ms: i64,
    },
    Configure {
        arn: String,
        max_concurrency: u64,
        tolerated_failure_count: Option<f64>,
        tolerated_failure_percentage: Option<f64>,
        /// `None`: as before.
        children: Option<u64>,
        /// `None`: as before.
        items: Option<u64>,
    },
    /// Its items are all read: how many children it has, and (with an ItemBatcher) how many
    /// items they share.
    Counted {
        arn: String,
        children: u64,
        items: Option<u64>,
    },
    End {
        arn: String,
        status: String,
        stop_ms: i64,
    },
    /// Redriven (its parent was): running again, its redrive counted.
    Redrive { arn: String, redrive_ms: i64 },
}

impl Batch {
    /// Whether it writes nothing (a fence alone writes nothing).
    pub fn is_empty(&self) -> bool {
        self.new_executions.is_empty()
            && self.updates.is_empty()
            && self.steps.is_empty()
            && self.events.is_empty()
            && self.timers.is_empty()
            && self.tasks.is_empty()
            && self.map_runs.is_empty()
            && self.handled.is_empty()
            && self.posts.is_empty()
            && self.purge.executions.is_empty()
    }
}

/// The catalog: what the control plane keeps (state machines, versions, aliases, activities,
/// their definitions) and the server's secrets. Small, read often, written rarely.
#[async_trait]
pub trait Catalog: Send + Sync + std::fmt::Debug + 'static {
    /// Adds a resource; [`StoreError::Conflict`] when its ARN exists.
    async fn create_resource(&self, resource: &Resource) -> Result<()>;
    /// Replaces an existing resource (or adds it).
    async fn put_resource(&self, resource: &Resource) -> Result<()>;
    async fn get_resource(&self, arn: &str) -> Result<Option<Resource>>;
    /// Whether it existed.
    async fn delete_resource(&self, arn: &str) -> Result<bool>;
    /// Resources of one kind with this parent (`None`: those with none), ordered by sort key,
    /// starting after `after`.
    async fn list_resources(
        &self,
        kind: ResourceKind,
        parent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Resource>>;

    /// Keeps a definition under its content hash (idempotent).
    async fn put_definition(&self, hash: &str, text: &str) -> Result<()>;
    async fn get_definition(&self, hash: &str) -> Result<Option<String>>;

    /// The value kept under `name`, storing `candidate` first if there is none yet: for
    /// secrets such as the key task tokens are signed with, which must outlive restarts and be
    /// shared by every node.
    async fn secret(&self, name: &str, candidate: &str) -> Result<String>;

    /// Takes the catalog's write lock shared by every node on this store, held until the
    /// returned value is dropped: the control plane's read-modify-write sequences (an update,
    /// a version number, tags) hold it. `None`: the store has one process (its own lock is
    /// enough).
    async fn lock_catalog(&self) -> Result<Option<CatalogLock>> {
        Ok(None)
    }
}

/// A held [`Catalog::lock_catalog`]: released when dropped.
pub struct CatalogLock {
    /// What releases the lock when it is dropped.
    _held: Box<dyn Send + Sync>,
}

impl CatalogLock {
    /// A lock released when `held` is dropped.
    pub fn new(held: impl Send + Sync + 'static) -> Self {
        CatalogLock {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for CatalogLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatalogLock")
    }
}

/// The execution log: executions, their history and engine steps, timers, the task queue and
/// Map Runs. Written by the runtime's group commits ([`ExecutionLog::commit`]).
#[async_trait]
pub trait ExecutionLog: Send + Sync + std::fmt::Debug + 'static {
    // ----- executions --------------------------------------------------------------------
    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>>;
    /// Newest first.
    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
        after: Option<&ExecutionCursor>,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>>;
    /// ARNs of executions that are still running, for recovery.
    async fn open_executions(&self) -> Result<Vec<String>>;
    /// Closed executions that closed before `before_ms`, as `(stop_ms, arn)` in that order,
    /// after `after` (a cursor: the last one of the previous page): retention's candidates.
    async fn closed_before(
        &self,
        before_ms: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String)>>;

    // ----- Map Runs ----------------------------------------------------------------------
    async fn get_map_run(&self, arn: &str) -> Result<Option<MapRunRecord>>;
    /// The Map Runs of an execution, oldest first.
    async fn map_runs_of(&self, execution: &str) -> Result<Vec<MapRunRecord>>;
    /// How many of a Map Run's children are in each status, and, when its children take
    /// batches (`batched`), how many items they hold (the length of each one's `Items`).
    async fn map_run_counts(&self, arn: &str, batched: bool) -> Result<Vec<MapRunCount>>;
    /// A Map Run's children in the order of their items, from index `from`, at most `limit`.
    async fn map_run_children(
        &self,
        arn: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>>;

    // ----- history -----------------------------------------------------------------------
    /// History events with ids in `from..=to`, ascending.
    async fn history(&self, execution: &str, from: u64, to: u64) -> Result<Vec<String>>;
    /// The recorded engine steps, in order.
    async fn steps(&self, execution: &str) -> Result<Vec<String>>;

    // ----- timers and tasks --------------------------------------------------------------
    /// Timers due at or before `before_ms`, earliest first.
    async fn due_timers(&self, before_ms: i64, limit: usize) -> Result<Vec<TimerRow>>;
    /// The oldest tasks of this activity that no worker has taken, oldest first.
    async fn next_queued_tasks(&self, activity: &str, limit: usize) -> Result<Vec<TaskRow>>;
    /// The tasks of this activity taken by a worker whose name starts with `worker_prefix`,
    /// oldest first.
    async fn taken_tasks(&self, activity: &str, worker_prefix: &str) -> Result<Vec<TaskRow>>;
    async fn task_by_token(&self, token: &str) -> Result<Option<TaskRow>>;
    /// Tasks of one execution (queued or taken).
    async fn tasks_of(&self, execution: &str) -> Result<Vec<TaskRow>>;

    // ----- writes ------------------------------------------------------------------------
    /// Applies the whole batch in one transaction, or nothing.
    async fn commit(&self, batch: &Batch) -> Result<()>;

    // ----- many nodes --------------------------------------------------------------------
    /// The store's side of many nodes, if many nodes can share it (see [`cluster`]). `None`:
    /// one process has it, and owns every execution.
    fn cluster(&self) -> Option<&dyn Cluster> {
        None
    }
}

/// A whole store: the catalog and the execution log on one backend. Every method is atomic;
/// [`ExecutionLog::commit`] applies a whole batch or nothing.
pub trait Store: Catalog + ExecutionLog {}

impl<T: Catalog + ExecutionLog + ?Sized> Store for T {}

/// For a name-prefix search as a range of names: the least string greater than every string starting with `prefix` (its last character
/// that can be, incremented), or none (every character is the largest there is).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}
