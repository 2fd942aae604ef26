//! The SQLite backend: the store contract on a file and in memory, and what only a file does
//! (it is kept across opens; it upgrades in place; a newer one is refused).

use std::ops::Deref;

use stepwise_store::contract::records::ExecutionRecordBuilder;
use stepwise_store::{
    Batch, Catalog, ExecutionLog, ExecutionRecord, Resource, ResourceKind, SqliteStore, StoreError,
    TimerChange, TimerRow,
};

/// A store on a file in a temporary directory, removed with it.
struct FileStore {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl Deref for FileStore {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        &self.store
    }
}

mod file {
    stepwise_store::store_contract!(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = stepwise_store::SqliteStore::open(dir.path().join("store.db")).expect("open");
        super::FileStore { store, _dir: dir }
    });
}

mod memory {
    stepwise_store::store_contract!(async {
        std::sync::Arc::new(stepwise_store::SqliteStore::memory().expect("memory"))
    });
}

fn machine(name: &str) -> Resource {
    Resource {
        arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"),
        kind: ResourceKind::StateMachine,
        parent: None,
        sort_key: name.to_owned(),
        body: serde_json::json!({"name": name}),
    }
}

fn execution(machine: &str, name: &str, start_ms: i64) -> ExecutionRecord {
    ExecutionRecordBuilder::new(machine, name)
        .start_ms(start_ms)
        .build()
}

#[tokio::test]
async fn a_file_store_keeps_everything_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.db");
    let exec = execution("m", "durable", 7);
    {
        let s = SqliteStore::open(&path).expect("open");
        s.create_resource(&machine("m")).await.expect("create");
        let mut batch = Batch::default();
        batch.new_executions.push(exec.clone());
        batch.events.push((exec.arn.clone(), 1, "ev1".into()));
        batch.timers.push(TimerChange::Add(TimerRow {
            execution: exec.arn.clone(),
            timer: 1,
            fire_ms: 50,
        }));
        s.commit(&batch).await.expect("commit");
    }
    let s = SqliteStore::open(&path).expect("reopen");
    assert_eq!(
        s.get_execution(&exec.arn)
            .await
            .expect("get")
            .expect("kept"),
        exec
    );
    assert_eq!(s.history(&exec.arn, 1, 10).await.expect("history"), ["ev1"]);
    assert_eq!(s.due_timers(50, 10).await.expect("due").len(), 1);
    assert!(
        s.get_resource(&machine("m").arn)
            .await
            .expect("get")
            .is_some()
    );
}

#[tokio::test]
async fn a_file_from_before_the_added_columns_opens_and_gains_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    {
        let s = SqliteStore::open(&path).expect("open");
        s.commit(&Batch {
            new_executions: vec![execution("m", "old", 1)],
            ..Batch::default()
        })
        .await
        .expect("commit");
    }
    // Make it look like a file written before `parent`, `test_case`, `map_run_arn` and
    // `map_run_index` existed.
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "DROP INDEX executions_by_map_run; DROP INDEX executions_by_map_run_index; \
             ALTER TABLE executions DROP COLUMN parent; \
             ALTER TABLE executions DROP COLUMN test_case; \
             ALTER TABLE executions DROP COLUMN map_run_arn; \
             ALTER TABLE executions DROP COLUMN map_run_index; \
             PRAGMA user_version = 0;",
        )
        .expect("drop columns");
    }
    let s = SqliteStore::open(&path).expect("reopen migrates");
    let exec = execution("m", "old", 1);
    assert_eq!(s.get_execution(&exec.arn).await.expect("get"), Some(exec));
}

#[tokio::test]
async fn a_file_from_a_newer_build_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("new.db");
    {
        let s = SqliteStore::open(&path).expect("open");
        s.commit(&Batch {
            new_executions: vec![execution("m", "kept", 1)],
            ..Batch::default()
        })
        .await
        .expect("commit");
    }
    let newer = stepwise_store::sqlite::SCHEMA_VERSION + 1;
    rusqlite::Connection::open(&path)
        .expect("raw open")
        .pragma_update(None, "user_version", newer)
        .expect("set version");
    let err = SqliteStore::open(&path).expect_err("a newer schema is refused");
    assert!(
        matches!(err, StoreError::NewerSchema { found, .. } if found == newer),
        "{err}"
    );
    assert!(err.to_string().contains("newer than this build"), "{err}");
    // Nothing was changed: the version and the execution are as they were.
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, newer);
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM executions", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn a_file_from_before_schema_versions_is_brought_to_the_current_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    drop(SqliteStore::open(&path).expect("open"));
    rusqlite::Connection::open(&path)
        .expect("raw open")
        .pragma_update(None, "user_version", 0)
        .expect("unversioned");
    let s = SqliteStore::open(&path).expect("reopen migrates");
    s.commit(&Batch {
        new_executions: vec![execution("m", "after", 1)],
        ..Batch::default()
    })
    .await
    .expect("commit");
    drop(s);
    let version: i64 = rusqlite::Connection::open(&path)
        .expect("raw open")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, stepwise_store::sqlite::SCHEMA_VERSION);
}

/// A file from before history chunks (schema version 3, one row per event) keeps its history:
/// the events read back as they were written, and new ones follow them.
#[tokio::test]
async fn a_file_with_one_row_per_event_keeps_its_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v3.db");
    let exec = execution("m", "old", 1);
    {
        let s = SqliteStore::open(&path).expect("open");
        s.commit(&Batch {
            new_executions: vec![exec.clone()],
            ..Batch::default()
        })
        .await
        .expect("commit");
    }
    {
        let conn = rusqlite::Connection::open(&path).expect("raw open");
        conn.execute_batch(
            "DROP TABLE event_chunks;
             CREATE TABLE events (execution TEXT NOT NULL, id INTEGER NOT NULL,
                 body TEXT NOT NULL, PRIMARY KEY (execution, id)) WITHOUT ROWID;
             PRAGMA user_version = 3;",
        )
        .expect("the old layout");
        for id in 1..=3 {
            conn.execute(
                "INSERT INTO events (execution, id, body) VALUES (?1, ?2, ?3)",
                rusqlite::params![exec.arn, id, format!("{{\"id\":{id}}}")],
            )
            .expect("an old event");
        }
    }
    let s = SqliteStore::open(&path).expect("reopen migrates");
    assert_eq!(
        s.history(&exec.arn, 2, 10).await.expect("history"),
        [r#"{"id":2}"#, r#"{"id":3}"#]
    );
    let mut batch = Batch::default();
    for id in 4..=40 {
        batch.events.push((
            exec.arn.clone(),
            id,
            format!("{{\"id\":{id},\"pad\":\"{}\"}}", "x".repeat(30)),
        ));
    }
    s.commit(&batch).await.expect("commit");
    let all = s.history(&exec.arn, 1, 100).await.expect("history");
    assert_eq!(all.len(), 40);
    assert_eq!(all[0], r#"{"id":1}"#);
    assert!(all[39].starts_with(r#"{"id":40,"#), "{}", all[39]);
    let middle = s.history(&exec.arn, 3, 5).await.expect("history");
    assert_eq!(middle.len(), 3);
    assert!(middle[2].starts_with(r#"{"id":5,"#), "{}", middle[2]);
}
