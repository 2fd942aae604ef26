//! Many nodes on one database: partition leases with epochs, the fence every commit checks,
//! the inbox, and the `LISTEN` connection that wakes a node when another posts for it.
//!
//! Leases are timed by the database's clock (`clock_timestamp()`), so the nodes' clocks play no
//! part; and time plays no part in safety at all: a commit names the epochs it holds and is
//! refused if any partition moved on ([`check_fence`]).

use std::collections::BTreeSet;

use async_trait::async_trait;
use stepwise_store::{
    Batch, Cluster, Fence, InboxItem, Lease, Result, Signal, StoreError, TaskRow, TimerRow,
    partition_of,
};
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::{Ops, PostgresStore, col, db, rows, task_from_row, timer_from_row};

/// The database's clock, in milliseconds since the epoch.
const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// The channel `NOTIFY` and `LISTEN` use, per schema (channels are database-wide).
pub(crate) fn channel_of(schema: Option<&str>) -> String {
    match schema {
        Some(s) => format!("stepwise_{s}"),
        None => "stepwise".to_owned(),
    }
}

/// Gives the timers and tasks written before version 2 their partition.
pub(crate) async fn fill_partitions(tx: &deadpool_postgres::Transaction<'_>) -> Result<()> {
    let count: i64 = tx
        .query_one("SELECT count(*) FROM partitions", &[])
        .await
        .map_err(db)?
        .get(0);
    let count = u32::try_from(count).unwrap_or(1);
    let executions = tx
        .query(
            "SELECT execution FROM timers WHERE part IS NULL
             UNION SELECT execution FROM tasks WHERE part IS NULL",
            &[],
        )
        .await
        .map_err(db)?;
    for row in executions {
        let execution: String = col(&row, 0)?;
        let part = partition_of(&execution, count) as i32;
        for table in ["timers", "tasks"] {
            tx.execute(
                &format!("UPDATE {table} SET part = $1 WHERE execution = $2"),
                &[&part, &execution],
            )
            .await
            .map_err(db)?;
        }
    }
    Ok(())
}

/// The first statement of a fenced commit: the partitions it writes must still be this node's
/// at the epochs it names. `FOR SHARE` holds their rows until the commit ends, so a node taking
/// one of them (an `UPDATE`) waits for this commit, and a commit after the take sees the new
/// epoch: there is no moment between the check and the write.
pub(crate) async fn check_fence(
    tx: &deadpool_postgres::Transaction<'_>,
    fence: &Fence,
) -> Result<()> {
    if fence.leases.is_empty() {
        return Ok(());
    }
    let ids: Vec<i32> = fence.leases.iter().map(|l| l.partition as i32).collect();
    let held = tx
        .query(
            "SELECT id, epoch FROM partitions WHERE id = ANY($1) AND owner = $2 FOR SHARE",
            &[&ids, &fence.node],
        )
        .await
        .map_err(db)?;
    let held: BTreeSet<(i32, i64)> = held
        .iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
        .collect::<Result<_>>()?;
    let lost: Vec<u32> = fence
        .leases
        .iter()
        .filter(|l| !held.contains(&(l.partition as i32, l.epoch)))
        .map(|l| l.partition)
        .collect();
    if lost.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Fenced(lost))
    }
}

/// A batch's inbox statements: the requests it handled, those it posts, and the wake-ups.
pub(crate) fn inbox_ops(ops: &mut Ops, batch: &Batch, channel: &str) {
    let mut wake = BTreeSet::new();
    let (answered, dropped): (Vec<_>, Vec<_>) = batch.handled.iter().partition(|h| h.1.is_some());
    if !answered.is_empty() {
        let ids: Vec<i64> = answered.iter().map(|h| h.0).collect();
        let outcomes: Vec<String> = answered.iter().filter_map(|h| h.1.clone()).collect();
        ops.push(
            "UPDATE inbox SET done = true, outcome = o.outcome
             FROM UNNEST($1::bigint[], $2::text[]) AS o(id, outcome) WHERE inbox.id = o.id",
            vec![Box::new(ids), Box::new(outcomes)],
        );
        wake.insert("o".to_owned());
    }
    if !dropped.is_empty() {
        let ids: Vec<i64> = dropped.iter().map(|h| h.0).collect();
        ops.push("DELETE FROM inbox WHERE id = ANY($1)", vec![Box::new(ids)]);
    }
    if !batch.posts.is_empty() {
        let parts: Vec<i32> = batch.posts.iter().map(|p| p.0 as i32).collect();
        let bodies: Vec<String> = batch.posts.iter().map(|p| p.1.clone()).collect();
        wake.extend(parts.iter().map(|p| format!("i{p}")));
        ops.push(
            "INSERT INTO inbox (part, body, reply, created_ms)
             SELECT p, b, false, (extract(epoch from clock_timestamp()) * 1000)::bigint
             FROM UNNEST($1::int[], $2::text[]) AS t(p, b)",
            vec![Box::new(parts), Box::new(bodies)],
        );
    }
    for change in &batch.tasks {
        if let stepwise_store::TaskChange::Add(t) = change {
            wake.insert(format!("a{}", t.activity));
        }
    }
    if !wake.is_empty() {
        // Delivered when the transaction commits, not before (and not at all if it does not).
        ops.push(
            "SELECT pg_notify($1, w) FROM UNNEST($2::text[]) AS w",
            vec![
                Box::new(channel.to_owned()),
                Box::new(wake.into_iter().collect::<Vec<_>>()),
            ],
        );
    }
}

fn signal_of(payload: &str) -> Option<Signal> {
    match payload.split_at_checked(1)? {
        ("i", part) => part.parse().ok().map(Signal::Inbox),
        ("o", _) => Some(Signal::Outcome),
        ("a", activity) => Some(Signal::Activity(activity.to_owned())),
        _ => None,
    }
}

/// The `LISTEN` connection: a task of its own that forwards notifications to whoever
/// subscribed, and reconnects (saying [`Signal::Lost`]) when the connection drops.
pub(crate) struct Listener {
    tx: broadcast::Sender<Signal>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    pub(crate) fn start(config: tokio_postgres::Config, channel: String) -> Listener {
        let (tx, _) = broadcast::channel(4096);
        let task = tokio::spawn(listen(config, channel, tx.clone()));
        Listener { tx, task }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen(config: tokio_postgres::Config, channel: String, tx: broadcast::Sender<Signal>) {
    let mut connected_before = false;
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let forward = tx.clone();
                let messages = tokio::spawn(async move {
                    while let Some(message) =
                        futures_util::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                if let Some(signal) = signal_of(n.payload()) {
                                    let _ = forward.send(signal);
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the PostgreSQL LISTEN connection failed");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {channel}")).await {
                    Ok(()) => {
                        if connected_before {
                            let _ = tx.send(Signal::Lost);
                        }
                        connected_before = true;
                        let _ = messages.await;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "could not LISTEN on PostgreSQL");
                        messages.abort();
                    }
                }
                drop(client);
            }
            Err(e) => tracing::debug!(error = %e, "the LISTEN connection could not connect"),
        }
        // Whatever was sent meanwhile is lost: say so, so nodes look for themselves.
        let _ = tx.send(Signal::Lost);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn parts_of(partitions: &[u32]) -> Vec<i32> {
    partitions.iter().map(|p| *p as i32).collect()
}

fn leases_of(found: Vec<tokio_postgres::Row>) -> Result<Vec<Lease>> {
    found
        .iter()
        .map(|r| {
            Ok(Lease {
                partition: u32::try_from(col::<i32>(r, 0)?).unwrap_or_default(),
                epoch: col(r, 1)?,
            })
        })
        .collect()
}

#[async_trait]
impl Cluster for PostgresStore {
    fn partitions(&self) -> u32 {
        self.partitions
    }

    async fn lease(&self, node: &str, want: u32, lease_ms: i64) -> Result<Vec<Lease>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        tx.execute(
            &format!(
                "INSERT INTO nodes (id, heartbeat_ms) VALUES ($1, {NOW_MS})
                 ON CONFLICT (id) DO UPDATE SET heartbeat_ms = EXCLUDED.heartbeat_ms"
            ),
            &[&node],
        )
        .await
        .map_err(db)?;
        let renewed = tx
            .query(
                &format!(
                    "UPDATE partitions SET lease_until_ms = {NOW_MS} + $2 WHERE owner = $1
                     RETURNING id, epoch"
                ),
                &[&node, &lease_ms],
            )
            .await
            .map_err(db)?;
        let mut leases = leases_of(renewed)?;
        let missing = i64::from(want).saturating_sub(leases.len() as i64);
        if missing > 0 {
            let taken = tx
                .query(
                    &format!(
                        "UPDATE partitions SET owner = $1, epoch = epoch + 1,
                         lease_until_ms = {NOW_MS} + $2
                         WHERE id IN (SELECT id FROM partitions
                             WHERE owner IS NULL OR lease_until_ms < {NOW_MS}
                             ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
                         RETURNING id, epoch"
                    ),
                    &[&node, &lease_ms, &missing],
                )
                .await
                .map_err(db)?;
            leases.extend(leases_of(taken)?);
        }
        tx.commit().await.map_err(db)?;
        leases.sort();
        Ok(leases)
    }

    async fn release(&self, node: &str, partitions: &[u32], leaving: bool) -> Result<()> {
        let parts = parts_of(partitions);
        self.execute(
            "UPDATE partitions SET owner = NULL, lease_until_ms = 0
             WHERE owner = $1 AND id = ANY($2)",
            &[&node, &parts],
        )
        .await?;
        if leaving {
            self.execute("DELETE FROM nodes WHERE id = $1", &[&node])
                .await?;
        }
        Ok(())
    }

    async fn live_nodes(&self, lease_ms: i64) -> Result<Vec<String>> {
        self.query(
            &format!("SELECT id FROM nodes WHERE heartbeat_ms >= {NOW_MS} - $1 ORDER BY id"),
            &[&lease_ms],
        )
        .await?
        .iter()
        .map(|r| col(r, 0))
        .collect()
    }

    async fn post(&self, partition: u32, body: &str, reply: bool) -> Result<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        let part = partition as i32;
        let id: i64 = tx
            .query_one(
                &format!(
                    "INSERT INTO inbox (part, body, reply, created_ms) VALUES ($1, $2, $3, {NOW_MS})
                     RETURNING id"
                ),
                &[&part, &body, &reply],
            )
            .await
            .map_err(db)?
            .get(0);
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[&self.channel, &format!("i{partition}")],
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(id)
    }

    async fn inbox(&self, partitions: &[u32], limit: usize) -> Result<Vec<InboxItem>> {
        let parts = parts_of(partitions);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            "SELECT id, part, body, reply,
                    (extract(epoch from clock_timestamp()) * 1000)::bigint - created_ms
             FROM inbox WHERE part = ANY($1) AND NOT done ORDER BY id LIMIT $2",
            &[&parts, &limit],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(InboxItem {
                id: col(r, 0)?,
                partition: u32::try_from(col::<i32>(r, 1)?).unwrap_or_default(),
                body: col(r, 2)?,
                reply: col(r, 3)?,
                age_ms: col(r, 4)?,
            })
        })
        .collect()
    }

    async fn outcomes(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        self.query(
            "DELETE FROM inbox WHERE id = ANY($1) AND done RETURNING id, outcome",
            &[&ids],
        )
        .await?
        .iter()
        .map(|r| Ok((col(r, 0)?, col::<Option<String>>(r, 1)?.unwrap_or_default())))
        .collect()
    }

    async fn due_timers_in(
        &self,
        partitions: &[u32],
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<TimerRow>> {
        let parts = parts_of(partitions);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = self.query(
            "SELECT execution, timer, fire_ms FROM timers WHERE part = ANY($1) AND fire_ms <= $2
             ORDER BY fire_ms LIMIT $3",
            &[&parts, &before_ms, &limit],
        )
        .await?;
        rows(found, timer_from_row)
    }

    async fn tasks_in(&self, partitions: &[u32], activity: &str) -> Result<Vec<TaskRow>> {
        let parts = parts_of(partitions);
        let found = self
            .query(
                &format!(
                    "SELECT {} FROM tasks WHERE part = ANY($1) AND activity = $2
                     ORDER BY created_ms, token",
                    crate::TASK_COLUMNS
                ),
                &[&parts, &activity],
            )
            .await?;
        rows(found, task_from_row)
    }

    fn signals(&self) -> Option<broadcast::Receiver<Signal>> {
        Some(self.listener.tx.subscribe())
    }
}
