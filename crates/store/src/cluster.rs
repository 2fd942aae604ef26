//! What many nodes sharing one store need of it: partitions owned under leases, fenced commits,
//! and an inbox through which any node hands work to the owner of an execution's partition.
//!
//! A backend that many nodes can share (PostgreSQL) implements [`Cluster`] and returns it from
//! [`crate::ExecutionLog::cluster`]; a backend only one process opens (SQLite) does not, and its
//! one node owns everything. See `docs/scaling.md` for the design.

use async_trait::async_trait;

use crate::{Result, TaskRow, TimerRow};

/// The partition an execution belongs to, out of `count`: a hash of its ARN (64-bit FNV-1a),
/// the same on every node and every backend. Timers, tasks and inbox items go with their
/// execution's partition.
pub fn partition_of(execution: &str, count: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in execution.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(count.max(1))) as u32
}

/// A partition a node holds, and the epoch it took it at: the partition's epoch grows by one
/// each time a node takes it, so a node that lost it holds a stale epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lease {
    pub partition: u32,
    pub epoch: i64,
}

/// What a commit claims to hold: the node and the leases of the partitions the batch writes.
/// A backend checks them in the commit's transaction, holding the partitions' rows against a
/// take until it commits, and refuses the whole batch ([`crate::StoreError::Fenced`]) if any
/// lease is no longer the node's at that epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fence {
    pub node: String,
    pub leases: Vec<Lease>,
}

/// A request posted for the owner of a partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub id: i64,
    pub partition: u32,
    /// The request (the runtime's JSON).
    pub body: String,
    /// Whether the poster waits for an outcome ([`Cluster::outcome`]); if not, the item goes
    /// once handled.
    pub reply: bool,
    /// How long ago it was posted, by the store's clock.
    pub age_ms: i64,
}

/// A wake-up from another node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Something was posted to this partition's inbox.
    Inbox(u32),
    /// Some posted request has its outcome.
    Outcome,
    /// A task of this activity was queued.
    Activity(String),
    /// The wake-ups were interrupted (a reconnect): anything may have been missed.
    Lost,
}

/// The shared store's side of many nodes.
#[async_trait]
pub trait Cluster: Send + Sync + std::fmt::Debug + 'static {
    /// How many partitions there are (fixed when the store was created).
    fn partitions(&self) -> u32;

    /// A node's heartbeat and lease renewal, in one: records that `node` is alive, renews every
    /// lease it holds for `lease_ms` (by the store's clock), then takes free or expired
    /// partitions until it holds `want`. Returns every lease it holds now.
    async fn lease(&self, node: &str, want: u32, lease_ms: i64) -> Result<Vec<Lease>>;

    /// Gives partitions back at once (their lease expired, owner cleared), for the other nodes
    /// to take; and, with `leaving`, forgets the node, so it no longer counts as live.
    async fn release(&self, node: &str, partitions: &[u32], leaving: bool) -> Result<()>;

    /// The nodes whose heartbeat is within `lease_ms`.
    async fn live_nodes(&self, lease_ms: i64) -> Result<Vec<String>>;

    /// Posts a request for the owner of `partition` (and wakes it). Returns its id.
    async fn post(&self, partition: u32, body: &str, reply: bool) -> Result<i64>;

    /// The oldest unhandled requests of these partitions.
    async fn inbox(&self, partitions: &[u32], limit: usize) -> Result<Vec<InboxItem>>;

    /// The outcomes of those of these posted requests that their owners handled (and
    /// committed): taken, so each is given once.
    async fn outcomes(&self, ids: &[i64]) -> Result<Vec<(i64, String)>>;

    /// Timers of these partitions due before `before_ms`, earliest first.
    async fn due_timers_in(
        &self,
        partitions: &[u32],
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<TimerRow>>;

    /// The tasks (queued or taken) of `activity` whose executions are in these partitions.
    async fn tasks_in(&self, partitions: &[u32], activity: &str) -> Result<Vec<TaskRow>>;

    /// Wake-ups from other nodes (`LISTEN`); `None` if the backend has none (then nodes poll).
    fn signals(&self) -> Option<tokio::sync::broadcast::Receiver<Signal>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        let p = partition_of("arn:aws:states:us-east-1:123456789012:execution:m:a", 64);
        assert_eq!(
            p,
            partition_of("arn:aws:states:us-east-1:123456789012:execution:m:a", 64)
        );
        let mut seen = std::collections::HashSet::new();
        for i in 0..1000 {
            let part = partition_of(&format!("arn:aws:states:r:1:execution:m:e{i}"), 64);
            assert!(part < 64);
            seen.insert(part);
        }
        assert_eq!(seen.len(), 64, "1000 executions cover every partition");
        assert_eq!(partition_of("anything", 1), 0);
    }
}
