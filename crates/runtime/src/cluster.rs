//! Many nodes on one shared store: which node drives which execution, and how work reaches it.
//!
//! Executions are spread over the store's partitions ([`stepwise_store::partition_of`]). A
//! node drives the executions of the partitions it holds under a lease ([`Node`], renewed by
//! [`lease_loop`]); every commit of its driver names the leases it writes under, and the store
//! refuses it if another node has taken one since (fencing). Work for an execution of another
//! partition — an API call that landed here, a call's answer after its partition moved, a
//! child telling its parent it ended — goes to the partition's inbox in the store as a
//! [`Request`]; its owner handles it in one of its commits and, when asked, writes the outcome
//! back for the node that posted it. With one node (SQLite) there is no [`Node`]: the driver
//! owns everything and every request goes straight to it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stepwise_engine::Event;
use stepwise_store::{ExecutionRecord, Signal, Store, TaskRow, partition_of};
use tokio::sync::oneshot;

use crate::driver::{Reply, RuntimeError, TaskAnswer, Work};
use crate::shared::{Histogram, SECONDS};

/// What the driver is asked to do: from this node's API, from its dispatcher, or through the
/// inbox from another node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(crate) enum Request {
    /// Start a Standard execution (idempotently): answers [`crate::Started`].
    Start {
        record: Box<ExecutionRecord>,
        input: Value,
        /// The parsed definition, when the request comes from this node's API (which parsed
        /// it); through the inbox the owner finds it by the record's definition hash.
        #[serde(skip)]
        machine: Option<Arc<stepwise_asl::StateMachine>>,
    },
    /// Answers when it stopped (ms).
    Stop {
        arn: String,
        error: Option<String>,
        cause: Option<String>,
    },
    /// A task's answer.
    Answer { task: TaskRow, answer: TaskAnswer },
    /// Hand the oldest queued task of an activity to a worker (one node only): answers
    /// `Option<TaskRow>`.
    ClaimNext { activity: String, worker: String },
    /// Hand this queued task to a worker, if it is still queued: answers `Option<TaskRow>`.
    ClaimTask { task: TaskRow, worker: String },
    /// Answers when it was redriven (ms).
    Redrive { arn: String },
    /// UpdateMapRun's event for the Map Run's parent: answers when (ms).
    UpdateMapRun { execution: String, event: Event },
    /// An event from another execution (a child that ended, a parent that stopped its
    /// child): nobody waits for it.
    Event { execution: String, event: Event },
    /// A Map Run's child ended on another node: its coordinator runs with the Map Run's
    /// parent `execution`.
    MapRunNote {
        execution: String,
        map_run: String,
        note: crate::map_run::Note,
    },
    /// An inbox item that did not decode (answered with why).
    #[serde(skip)]
    Unreadable(String),
}

impl Request {
    /// The execution it is for (none: any node may handle it).
    pub(crate) fn execution(&self) -> Option<&str> {
        match self {
            Request::Start { record, .. } => Some(&record.arn),
            Request::Stop { arn, .. } | Request::Redrive { arn } => Some(arn),
            Request::Answer { task, .. } | Request::ClaimTask { task, .. } => Some(&task.execution),
            Request::UpdateMapRun { execution, .. }
            | Request::Event { execution, .. }
            | Request::MapRunNote { execution, .. } => Some(execution),
            Request::ClaimNext { .. } | Request::Unreadable(_) => None,
        }
    }
}

/// The outcome of a request as the inbox keeps it.
pub(crate) fn outcome_text(result: &Result<Value, RuntimeError>) -> String {
    serde_json::to_string(result).unwrap_or_else(|e| {
        serde_json::to_string(&Err::<Value, _>(RuntimeError::Store(e.to_string())))
            .unwrap_or_default()
    })
}

/// How long a node waits for the owner of a partition to handle what it posted there.
const REMOTE_WAIT: Duration = Duration::from_secs(70);

/// This node, when many share the store.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) partitions: u32,
    /// A lease lasts this long unless renewed (renewed every third of it).
    pub(crate) lease_ms: i64,
    /// The partitions this node holds, and their epochs (the driver's view is the one that
    /// counts: this is for routing, and may lag it briefly).
    pub(crate) held: RwLock<BTreeMap<u32, i64>>,
    /// Requests posted to other partitions' owners, waiting for their outcome.
    waiting: Mutex<HashMap<i64, oneshot::Sender<String>>>,
    outcome_ready: tokio::sync::Notify,
    pub(crate) metrics: NodeMetrics,
}

/// What a node measures of its work with the others (on `/metrics`).
#[derive(Debug)]
pub(crate) struct NodeMetrics {
    /// A request posted to another partition's owner, until its outcome came back.
    remote_seconds: Histogram,
    /// How long requests waited in the inbox before their partition's owner read them.
    pub(crate) inbox_age_seconds: Histogram,
    /// Taking and renewing the leases (the round trips to the store's lease table).
    lease_seconds: Histogram,
}

impl Default for NodeMetrics {
    fn default() -> Self {
        NodeMetrics {
            remote_seconds: Histogram::new(SECONDS),
            inbox_age_seconds: Histogram::new(SECONDS),
            lease_seconds: Histogram::new(SECONDS),
        }
    }
}

impl Node {
    pub(crate) fn new(id: String, store: Arc<dyn Store>, lease_ms: i64) -> Option<Arc<Node>> {
        let partitions = store.cluster()?.partitions();
        Some(Arc::new(Node {
            id,
            store,
            partitions,
            lease_ms,
            held: RwLock::new(BTreeMap::new()),
            waiting: Mutex::new(HashMap::new()),
            outcome_ready: tokio::sync::Notify::new(),
            metrics: NodeMetrics::default(),
        }))
    }

    pub(crate) fn partition(&self, execution: &str) -> u32 {
        partition_of(execution, self.partitions)
    }

    pub(crate) fn holds(&self, execution: &str) -> bool {
        let p = self.partition(execution);
        self.held.read().is_ok_and(|h| h.contains_key(&p))
    }

    /// The partitions held now.
    pub fn leases(&self) -> BTreeMap<u32, i64> {
        self.held.read().map(|h| h.clone()).unwrap_or_default()
    }

    /// Appends this node's series to a Prometheus text.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        let labels = format!("node=\"{}\"", self.id);
        let _ = writeln!(
            out,
            "# HELP stepwise_node_partitions Partitions of the shared store this node drives.\n\
             # TYPE stepwise_node_partitions gauge\n\
             stepwise_node_partitions{{{labels}}} {}",
            self.leases().len()
        );
        let m = &self.metrics;
        m.remote_seconds.render(
            out,
            "stepwise_node_remote_request_seconds",
            "Requests for executions of partitions another node drives: from posting to the owner's outcome.",
            &labels,
        );
        m.inbox_age_seconds.render(
            out,
            "stepwise_node_inbox_age_seconds",
            "How long requests waited in this node's partitions' inboxes before it read them.",
            &labels,
        );
        m.lease_seconds.render(
            out,
            "stepwise_node_lease_seconds",
            "Taking and renewing this node's partition leases (one round of store calls).",
            &labels,
        );
    }

    fn cluster(&self) -> &dyn stepwise_store::Cluster {
        self.store
            .cluster()
            .expect("a node exists only on a store with a cluster")
    }

    /// Posts a request for its execution's owner and waits for the outcome.
    async fn remote(&self, execution: &str, request: &Request) -> Result<Value, RuntimeError> {
        let body =
            serde_json::to_string(request).map_err(|e| RuntimeError::Store(e.to_string()))?;
        let partition = self.partition(execution);
        let began = std::time::Instant::now();
        let id = self
            .cluster()
            .post(partition, &body, true)
            .await
            .map_err(|e| RuntimeError::Store(e.to_string()))?;
        let (tx, rx) = oneshot::channel();
        if let Ok(mut w) = self.waiting.lock() {
            w.insert(id, tx);
        }
        self.outcome_ready.notify_one();
        let outcome = tokio::time::timeout(REMOTE_WAIT, rx).await;
        if let Ok(mut w) = self.waiting.lock() {
            w.remove(&id);
        }
        self.metrics
            .remote_seconds
            .observe(began.elapsed().as_secs_f64());
        match outcome {
            Ok(Ok(text)) => serde_json::from_str::<Result<Value, RuntimeError>>(&text)
                .map_err(|e| RuntimeError::Store(format!("an unreadable outcome: {e}")))?,
            Ok(Err(_)) => Err(RuntimeError::ShuttingDown),
            Err(_) => Err(RuntimeError::Store(format!(
                "no node handled the request within {} s (partition {partition})",
                REMOTE_WAIT.as_secs()
            ))),
        }
    }

    /// Hands out the outcomes of waiting requests as they come: woken by the store's
    /// notifications, and every quarter second while anything waits (a missed notification).
    pub(crate) async fn collect_outcomes(self: Arc<Self>) {
        loop {
            let waiting: Vec<i64> = self
                .waiting
                .lock()
                .map(|w| w.keys().copied().collect())
                .unwrap_or_default();
            if waiting.is_empty() {
                self.outcome_ready.notified().await;
                continue;
            }
            match self.cluster().outcomes(&waiting).await {
                Ok(found) => {
                    if let Ok(mut w) = self.waiting.lock() {
                        for (id, text) in found {
                            if let Some(tx) = w.remove(&id) {
                                let _ = tx.send(text);
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not read the outcomes of requests"),
            }
            let _ = tokio::time::timeout(Duration::from_millis(250), self.outcome_ready.notified())
                .await;
        }
    }
}

/// Where a request goes: the driver of this node, or the inbox of its execution's owner.
#[derive(Debug, Clone)]
pub(crate) struct Router {
    pub(crate) tx: std::sync::mpsc::Sender<Work>,
    pub(crate) node: Option<Arc<Node>>,
}

impl Router {
    /// Sends a request and waits for its outcome.
    pub(crate) async fn call(&self, request: Request) -> Result<Value, RuntimeError> {
        let remote = match (&self.node, request.execution()) {
            (Some(node), Some(execution)) => Some((node, execution.to_owned())),
            _ => None,
        };
        if let Some((node, execution)) = &remote {
            if !node.holds(execution) {
                return node.remote(execution, &request).await;
            }
        }
        let again = remote.as_ref().map(|_| request.clone());
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Work::Request {
                request: Box::new(request),
                reply: Reply::Local(reply),
            })
            .map_err(|_| RuntimeError::ShuttingDown)?;
        let result = answer.await.map_err(|_| RuntimeError::ShuttingDown)?;
        match (result, remote, again) {
            // The partition moved between the look and the step.
            (Err(RuntimeError::NotOwner), Some((node, execution)), Some(request)) => {
                node.remote(&execution, &request).await
            }
            (result, _, _) => result,
        }
    }

    /// [`Router::call`], its outcome read as `T`.
    pub(crate) async fn call_as<T: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<T, RuntimeError> {
        let value = self.call(request).await?;
        serde_json::from_value(value).map_err(|e| RuntimeError::Store(e.to_string()))
    }
}

/// Wakes this node when another posts for it, when a posted request has its outcome, and
/// when an activity task was queued anywhere.
pub(crate) async fn listen(
    node: Arc<Node>,
    tx: std::sync::mpsc::Sender<Work>,
    shared: Arc<crate::shared::Shared>,
) {
    let Some(mut signals) = node.cluster().signals() else {
        return;
    };
    loop {
        match signals.recv().await {
            Ok(Signal::Inbox(p)) => {
                if node.held.read().is_ok_and(|h| h.contains_key(&p))
                    && tx.send(Work::Inbox).is_err()
                {
                    return;
                }
            }
            Ok(Signal::Outcome) => node.outcome_ready.notify_one(),
            Ok(Signal::Activity(activity)) => shared.wake(&activity),
            Ok(Signal::Lost) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                node.outcome_ready.notify_one();
                shared.wake_all();
                if tx.send(Work::Inbox).is_err() {
                    return;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Keeps this node's leases: renews them every third of the lease, takes its fair share of
/// the partitions (all of them divided by the live nodes, rounded up) and gives back what is
/// beyond it, so a node that joins late gets work. The driver hears of every change before
/// requests are routed by it.
pub(crate) async fn lease_loop(
    node: Arc<Node>,
    tx: std::sync::mpsc::Sender<Work>,
    stop: Arc<tokio::sync::Notify>,
    first: oneshot::Sender<()>,
) {
    let mut first = Some(first);
    let cluster = node.cluster();
    let period = Duration::from_millis((node.lease_ms / 3).max(50) as u64);
    let mut last_renewed = tokio::time::Instant::now();
    loop {
        let began = std::time::Instant::now();
        let renewed = async {
            let live = cluster.live_nodes(node.lease_ms).await?.len().max(1) as u32;
            let share = node.partitions.div_ceil(live);
            let leases = cluster.lease(&node.id, share, node.lease_ms).await?;
            Ok::<_, stepwise_store::StoreError>((share, leases))
        }
        .await;
        node.metrics
            .lease_seconds
            .observe(began.elapsed().as_secs_f64());
        match renewed {
            Ok((share, leases)) => {
                last_renewed = tokio::time::Instant::now();
                let mut held: BTreeMap<u32, i64> =
                    leases.iter().map(|l| (l.partition, l.epoch)).collect();
                // Beyond the fair share (a node joined): give back the highest, driver first.
                let excess: Vec<u32> = held
                    .keys()
                    .rev()
                    .take(held.len().saturating_sub(share as usize))
                    .copied()
                    .collect();
                for p in &excess {
                    held.remove(p);
                }
                if !set_held(&node, &tx, held).await {
                    return;
                }
                if !excess.is_empty() {
                    tracing::info!(node = %node.id, partitions = ?excess, "handing partitions over to a node that joined");
                    if let Err(e) = cluster.release(&node.id, &excess, false).await {
                        tracing::warn!(error = %e, "could not release partitions");
                    }
                }
            }
            Err(e) => {
                tracing::warn!(node = %node.id, error = %e, "could not renew leases");
                // Past the lease, others may have them: stop driving them (fencing would refuse
                // the commits anyway).
                if last_renewed.elapsed() > Duration::from_millis(node.lease_ms as u64)
                    && !set_held(&node, &tx, BTreeMap::new()).await
                {
                    return;
                }
            }
        }
        if let Some(first) = first.take() {
            let _ = first.send(());
        }
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.notified() => break,
        }
    }
    // Leaving (SIGTERM): the driver lets go, then the leases go back at once.
    let mine: Vec<u32> = node.leases().keys().copied().collect();
    let _ = set_held(&node, &tx, BTreeMap::new()).await;
    match cluster.release(&node.id, &mine, true).await {
        Ok(()) => {
            tracing::info!(node = %node.id, partitions = mine.len(), "partitions handed back")
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not hand partitions back; they expire with their lease")
        }
    }
}

/// From the leases held `before` to those held `after`: the partitions gained (new, or taken
/// again at a new epoch) and those lost (gone, or held at a new epoch since).
pub(crate) fn changes(
    before: &BTreeMap<u32, i64>,
    after: &BTreeMap<u32, i64>,
) -> (Vec<u32>, Vec<u32>) {
    let moved = |from: &BTreeMap<u32, i64>, to: &BTreeMap<u32, i64>| {
        from.iter()
            .filter(|(p, e)| to.get(p) != Some(e))
            .map(|(p, _)| *p)
            .collect::<Vec<u32>>()
    };
    (moved(after, before), moved(before, after))
}

/// Tells the driver the partitions it holds now (and waits until it took them in); routing
/// follows. Whether the driver still runs.
async fn set_held(
    node: &Node,
    tx: &std::sync::mpsc::Sender<Work>,
    held: BTreeMap<u32, i64>,
) -> bool {
    if node.leases() == held {
        return true;
    }
    let (gained, lost) = changes(&node.leases(), &held);
    // Routing stops sending the lost ones here before the driver lets go of them.
    if let Ok(mut h) = node.held.write() {
        h.retain(|p, _| !lost.contains(p));
    }
    let (reply, done) = oneshot::channel();
    if tx
        .send(Work::Leases {
            held: held.clone(),
            reply,
        })
        .is_err()
    {
        return false;
    }
    if done.await.is_err() {
        return false;
    }
    if let Ok(mut h) = node.held.write() {
        *h = held;
    }
    if !gained.is_empty() {
        tracing::info!(node = %node.id, partitions = ?gained, "took partitions");
    }
    if !lost.is_empty() {
        tracing::info!(node = %node.id, partitions = ?lost, "let partitions go");
    }
    true
}
