//! The store contract on PostgreSQL (`STEPWISE_TEST_POSTGRES_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`), each test in a schema of its own that is
//! dropped after it; and what only this backend does (schema versions in the database).
//!
//! Without the variable the tests pass with a note, unless `STEPWISE_E2E_REQUIRED` says the
//! machine must have the database (CI sets both).

use std::ops::Deref;

use stepwise_store::{Batch, ExecutionLog, StoreError};
use stepwise_store_postgres::PostgresStore;
use stepwise_test_support::postgres::{Schema, url};

/// A store in a fresh schema (test-support's [`Schema`]), dropped with it.
#[derive(Debug)]
pub struct Fresh {
    store: Option<PostgresStore>,
    schema: Schema,
}

impl Fresh {
    /// The database's address (without the schema).
    fn url(&self) -> String {
        url().expect("the database was there a moment ago")
    }

    fn schema(&self) -> &str {
        self.schema.name()
    }
}

impl Deref for Fresh {
    type Target = PostgresStore;
    fn deref(&self) -> &PostgresStore {
        self.store.as_ref().expect("connected")
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        // The store's connections go before its schema.
        self.store.take();
    }
}

/// A fresh store in a schema of its own; `None` where there is no database.
pub async fn fresh() -> Option<Fresh> {
    let schema = Schema::fresh("test")?;
    let store = PostgresStore::connect_in_schema(&url()?, schema.name())
        .await
        .expect("connect to PostgreSQL");
    Some(Fresh {
        store: Some(store),
        schema,
    })
}

mod postgres {
    stepwise_store::store_contract!(optional super::fresh());
}

#[tokio::test]
async fn a_schema_from_a_newer_build_is_refused_and_left_alone() {
    let Some(fresh) = fresh().await else { return };
    fresh
        .commit(&Batch {
            new_executions: vec![
                stepwise_store::contract::records::ExecutionRecordBuilder::new("m", "kept").build(),
            ],
            ..Batch::default()
        })
        .await
        .expect("commit");
    let newer = stepwise_store_postgres::SCHEMA_VERSION + 1;
    let (client, conn) = tokio_postgres::connect(&fresh.url(), tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
        .execute(
            &format!("UPDATE {}.stepwise_schema SET version = $1", fresh.schema()),
            &[&newer],
        )
        .await
        .expect("set version");
    let err = PostgresStore::connect_in_schema(&fresh.url(), fresh.schema())
        .await
        .expect_err("a newer schema is refused");
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == newer),
        "{err}"
    );
    let rows: i64 = client
        .query_one(
            &format!("SELECT COUNT(*) FROM {}.executions", fresh.schema()),
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 1, "nothing was changed");
}

#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let Some(schema) = Schema::fresh("together") else {
        return;
    };
    let url = url().expect("the database");
    let opens = (0..4).map(|_| PostgresStore::connect_in_schema(&url, schema.name()));
    let stores = futures_util::future::join_all(opens).await;
    for s in &stores {
        assert!(s.is_ok(), "{:?}", s.as_ref().err());
    }
    drop(stores);
    assert_eq!(schema.count("SELECT COUNT(*) FROM stepwise_schema"), 1);
    assert_eq!(
        schema.count("SELECT version FROM stepwise_schema"),
        stepwise_store_postgres::SCHEMA_VERSION
    );
}

/// A second node's connection to the same schema.
async fn second_node(fresh: &Fresh) -> PostgresStore {
    PostgresStore::connect_in_schema(&fresh.url(), fresh.schema())
        .await
        .expect("connect a second node")
}

fn partitions_of(leases: &[stepwise_store::Lease]) -> Vec<u32> {
    leases.iter().map(|l| l.partition).collect()
}

/// An execution of partition `p` (of 64).
fn execution_in(p: u32) -> String {
    (0..)
        .map(|i| stepwise_store::contract::records::execution_arn("m", &format!("e{i}")))
        .find(|arn| stepwise_store::partition_of(arn, 64) == p)
        .expect("some execution falls in every partition")
}

fn fenced_start(node: &str, lease: stepwise_store::Lease, arn: &str) -> Batch {
    let name = arn.rsplit(':').next().unwrap_or_default();
    Batch {
        new_executions: vec![
            stepwise_store::contract::records::ExecutionRecordBuilder::new("m", name).build(),
        ],
        fence: Some(stepwise_store::Fence {
            node: node.to_owned(),
            leases: vec![lease],
        }),
        ..Batch::default()
    }
}

#[tokio::test]
async fn a_partition_has_one_owner_and_a_commit_under_a_lost_lease_is_refused() {
    use stepwise_store::Cluster;
    let Some(a) = fresh().await else { return };
    let b = second_node(&a).await;
    assert_eq!(a.partitions(), 64);
    let held_a = a.lease("a", 64, 10_000).await.expect("lease");
    assert_eq!(partitions_of(&held_a), (0..64).collect::<Vec<_>>());
    assert!(held_a.iter().all(|l| l.epoch == 1), "{held_a:?}");
    // Nothing is free and nothing expired: b gets nothing.
    assert!(b.lease("b", 32, 10_000).await.expect("lease").is_empty());
    let live = a.live_nodes(10_000).await.expect("live");
    assert_eq!(live, ["a", "b"]);
    // a hands half over; b takes it, at a new epoch.
    a.release("a", &(32..64).collect::<Vec<_>>(), false)
        .await
        .expect("release");
    let held_b = b.lease("b", 32, 10_000).await.expect("lease");
    assert_eq!(partitions_of(&held_b), (32..64).collect::<Vec<_>>());
    assert!(held_b.iter().all(|l| l.epoch == 2), "{held_b:?}");
    // a, still thinking it holds partition 40, is fenced; nothing it wrote is kept.
    let arn = execution_in(40);
    let err = a
        .commit(&fenced_start("a", held_a[40], &arn))
        .await
        .expect_err("fenced");
    assert!(
        matches!(&err, StoreError::Fenced(lost) if lost == &[40]),
        "{err}"
    );
    assert!(a.get_execution(&arn).await.expect("get").is_none());
    // Its owner's commit goes through.
    b.commit(&fenced_start("b", held_b[40 - 32], &arn))
        .await
        .expect("the owner commits");
    assert!(a.get_execution(&arn).await.expect("get").is_some());
    // Renewing keeps what a holds, at the same epochs.
    let renewed = a.lease("a", 32, 10_000).await.expect("renew");
    assert_eq!(renewed, held_a[..32]);
}

#[tokio::test]
async fn an_expired_lease_is_taken_at_a_new_epoch() {
    use stepwise_store::Cluster;
    let Some(a) = fresh().await else { return };
    let b = second_node(&a).await;
    let held_a = a.lease("a", 64, 300).await.expect("lease");
    assert_eq!(held_a.len(), 64);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let held_b = b.lease("b", 64, 10_000).await.expect("lease");
    assert_eq!(held_b.len(), 64, "every expired partition is taken");
    assert!(held_b.iter().all(|l| l.epoch == 2));
    // a wakes up: it renews nothing, and writes nothing.
    assert!(a.lease("a", 0, 10_000).await.expect("renew").is_empty());
    let arn = execution_in(5);
    let err = a
        .commit(&fenced_start("a", held_a[5], &arn))
        .await
        .expect_err("fenced");
    assert!(matches!(err, StoreError::Fenced(_)), "{err}");
    assert_eq!(live_after_leaving(&b).await, Vec::<String>::new());
}

async fn live_after_leaving(b: &PostgresStore) -> Vec<String> {
    use stepwise_store::Cluster;
    b.release("b", &(0..64).collect::<Vec<_>>(), true)
        .await
        .expect("leave");
    b.live_nodes(60_000)
        .await
        .expect("live")
        .into_iter()
        .filter(|n| n == "b")
        .collect()
}

#[tokio::test]
async fn the_inbox_hands_a_request_to_the_owner_and_its_outcome_back_once() {
    use stepwise_store::{Cluster, Signal};
    let Some(a) = fresh().await else { return };
    let b = second_node(&a).await;
    let mut signals = b.signals().expect("PostgreSQL wakes nodes up");
    let held = b.lease("b", 64, 10_000).await.expect("lease");
    let id = a.post(7, "do this", true).await.expect("post");
    // b is woken for partition 7.
    let woken = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if let Ok(Signal::Inbox(7)) = signals.recv().await {
                return;
            }
        }
    })
    .await;
    assert!(woken.is_ok(), "no wake-up for partition 7");
    let items = b.inbox(&[7], 10).await.expect("inbox");
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0].id, items[0].body.as_str(), items[0].reply),
        (id, "do this", true)
    );
    assert!(b.inbox(&[8], 10).await.expect("inbox").is_empty());
    assert!(
        a.outcomes(&[id]).await.expect("outcomes").is_empty(),
        "not handled yet"
    );
    // Handled in a fenced commit that also posts a request for another partition.
    b.commit(&Batch {
        handled: vec![(id, Some("done".into()))],
        posts: vec![(9, "and this".into())],
        fence: Some(stepwise_store::Fence {
            node: "b".into(),
            leases: vec![held[7]],
        }),
        ..Batch::default()
    })
    .await
    .expect("commit");
    assert!(
        b.inbox(&[7], 10).await.expect("inbox").is_empty(),
        "handled once"
    );
    assert_eq!(
        a.outcomes(&[id]).await.expect("outcomes"),
        [(id, "done".to_owned())]
    );
    assert!(
        a.outcomes(&[id]).await.expect("outcomes").is_empty(),
        "taken once"
    );
    let next = b.inbox(&[9], 10).await.expect("inbox");
    assert_eq!(next.len(), 1);
    assert!(!next[0].reply);
    // One nobody waits for goes when handled.
    b.commit(&Batch {
        handled: vec![(next[0].id, None)],
        ..Batch::default()
    })
    .await
    .expect("commit");
    assert!(b.inbox(&[9], 10).await.expect("inbox").is_empty());
}

#[tokio::test]
async fn one_node_at_a_time_holds_the_catalog_lock() {
    use stepwise_store::Catalog;
    let Some(a) = fresh().await else { return };
    let b = second_node(&a).await;
    let Some(other) = fresh().await else { return };
    let held = a
        .lock_catalog()
        .await
        .expect("lock")
        .expect("shared by the nodes");
    // Another schema's catalog is not this one's.
    drop(other.lock_catalog().await.expect("another schema's lock"));
    let waiting = tokio::spawn(async move {
        let lock = b.lock_catalog().await;
        (lock.map(|l| l.is_some()), b)
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "b took the lock a holds");
    drop(held);
    let (taken, b) = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("b takes the lock once a lets it go")
        .expect("joined");
    assert!(matches!(taken, Ok(true)), "{taken:?}");
    drop(b);
}
