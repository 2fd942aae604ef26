//! The store contract on PostgreSQL (`STEPWISE_TEST_POSTGRES_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`), each test in a schema of its own that is
//! dropped after it; and what only this backend does (schema versions in the database).
//!
//! Without the variable the tests pass with a note, unless `STEPWISE_E2E_REQUIRED` says the
//! machine must have the database (CI sets both).

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};

use stepwise_store::{Batch, ExecutionLog, StoreError};
use stepwise_store_postgres::PostgresStore;

/// A store in a fresh schema, dropped with it.
#[derive(Debug)]
pub struct Fresh {
    store: Option<PostgresStore>,
    url: String,
    schema: String,
}

impl Deref for Fresh {
    type Target = PostgresStore;
    fn deref(&self) -> &PostgresStore {
        self.store.as_ref().expect("connected")
    }
}

impl Drop for Fresh {
    fn drop(&mut self) {
        self.store.take();
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Dropped inside the test's runtime: the cleanup runs on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// The database's address, or `None` (with a note) where the machine has none.
pub fn url() -> Option<String> {
    match std::env::var("STEPWISE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("STEPWISE_E2E_REQUIRED").is_none(),
                "STEPWISE_TEST_POSTGRES_URL is not set, and STEPWISE_E2E_REQUIRED says the \
                 PostgreSQL tests must run"
            );
            eprintln!("note: STEPWISE_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped");
            None
        }
    }
}

/// A fresh store in a schema of its own; `None` where there is no database.
pub async fn fresh() -> Option<Fresh> {
    static N: AtomicU64 = AtomicU64::new(0);
    let url = url()?;
    let schema = format!(
        "stepwise_test_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let store = PostgresStore::connect_in_schema(&url, &schema)
        .await
        .expect("connect to PostgreSQL");
    Some(Fresh {
        store: Some(store),
        url,
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
    let (client, conn) = tokio_postgres::connect(&fresh.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
        .execute(
            &format!("UPDATE {}.stepwise_schema SET version = $1", fresh.schema),
            &[&newer],
        )
        .await
        .expect("set version");
    let err = PostgresStore::connect_in_schema(&fresh.url, &fresh.schema)
        .await
        .expect_err("a newer schema is refused");
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == newer),
        "{err}"
    );
    let rows: i64 = client
        .query_one(
            &format!("SELECT COUNT(*) FROM {}.executions", fresh.schema),
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 1, "nothing was changed");
}

#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let Some(url) = url() else { return };
    let schema = format!("stepwise_test_{}_together", std::process::id());
    let opens = (0..4).map(|_| PostgresStore::connect_in_schema(&url, &schema));
    let stores = futures_util::future::join_all(opens).await;
    for s in &stores {
        assert!(s.is_ok(), "{:?}", s.as_ref().err());
    }
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    let versions: Vec<i64> = client
        .query(
            &format!("SELECT version FROM {schema}.stepwise_schema"),
            &[],
        )
        .await
        .expect("versions")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let _ = client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await;
    assert_eq!(versions, [stepwise_store_postgres::SCHEMA_VERSION]);
}
