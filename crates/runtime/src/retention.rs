//! Retention: a closed execution is removed with its history some time after it closed (AWS
//! keeps closed Standard executions 90 days). A background task finds the candidates, oldest
//! first, and hands them to the driver a page at a time; the driver removes them in its next
//! commit, between its other work, so a purge never holds the driver for long, and never
//! races a redrive (the store removes an execution only if it is still closed when the batch
//! commits). With many nodes each node purges the executions of the partitions it holds.

use std::sync::Arc;
use std::time::Duration;

use stepwise_store::Store;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::cluster::Node;
use crate::driver::Work;

/// Candidates read (and handed to the driver) at a time. A page's deletes are in the commit of
/// the driver's batch, so they delay that batch's requests: with 100 executions of a 10-state
/// chain a page took tens of milliseconds on SQLite (StartExecution's p99 4x of without
/// removal, in the `retention` bench); 20 keep it to a few.
const PAGE: usize = 20;
/// The pause after each page handed over: the driver's other work goes first. With [`PAGE`],
/// at most about a thousand executions a second are removed.
const PAUSE: Duration = Duration::from_millis(10);

/// How often the store is looked at for executions past their time: a tenth of the
/// retention, between a second and a minute.
fn period(keep: Duration) -> Duration {
    (keep / 10).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// Runs until the driver is gone.
pub(crate) async fn run(
    store: Arc<dyn Store>,
    tx: std::sync::mpsc::Sender<Work>,
    node: Option<Arc<Node>>,
    clock: Arc<dyn Clock>,
    keep: Duration,
) {
    let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    loop {
        let before = clock.now_ms().saturating_sub(keep_ms);
        match sweep(&*store, &tx, node.as_deref(), before).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "removed closed executions past retention"),
            Err(Gone) => return,
        }
        tokio::time::sleep(period(keep)).await;
    }
}

/// The driver is gone (the server is stopping).
struct Gone;

/// One pass over the executions closed before `before`; how many were handed to the driver.
async fn sweep(
    store: &dyn Store,
    tx: &std::sync::mpsc::Sender<Work>,
    node: Option<&Node>,
    before: i64,
) -> Result<usize, Gone> {
    let mut after = None;
    let mut handed = 0;
    loop {
        let page = match store.closed_before(before, after.as_ref(), PAGE).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "retention could not read closed executions");
                return Ok(handed);
            }
        };
        let full = page.len() == PAGE;
        after = page.last().cloned();
        let mine: Vec<String> = page
            .into_iter()
            .map(|(_, arn)| arn)
            .filter(|arn| node.is_none_or(|n| n.holds(arn)))
            .collect();
        if !mine.is_empty() {
            handed += mine.len();
            let (reply, done) = oneshot::channel();
            let purge = Work::Purge {
                executions: mine,
                before_ms: before,
                reply,
            };
            if tx.send(purge).is_err() {
                return Err(Gone);
            }
            if let Ok(Err(e)) = done.await {
                tracing::warn!(error = %e, "retention could not remove closed executions");
            }
            tokio::time::sleep(PAUSE).await;
        }
        if !full {
            return Ok(handed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_is_looked_at_every_tenth_of_the_retention_within_bounds() {
        assert_eq!(period(Duration::from_secs(60)), Duration::from_secs(6));
        assert_eq!(period(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(
            period(Duration::from_secs(90 * 24 * 3600)),
            Duration::from_secs(60)
        );
    }
}
