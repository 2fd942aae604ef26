//! History storage (`cargo bench -p stepwise-store --bench history`): events kept one row each
//! (the layout before schema version 4, rebuilt here with raw SQL as the baseline) against
//! chunks (`stepwise_store::chunks`, what the store writes), in the same process, on SQLite
//! files with the store's settings (WAL, `synchronous = NORMAL`).
//!
//! - `write_*`: one transaction adding a 10-Pass execution's 22 history events (the JSON
//!   `stepwise serve` writes for it), as each commit of such an execution does.
//! - `read_page_*`: GetExecutionHistory's read of 100 events from the middle of a
//!   25,000-event history (written by commits of 500 events, as an inline Map's are).
//! - `make_chunks`: only the chunking and deflating of the 22 events, for its share of a write.
//!
//! Each write benchmark prints the file's size per execution once it is done (`bytes/execution`).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use divan::Bencher;
use rusqlite::{Connection, params};
use stepwise_store::chunks;

fn main() {
    divan::main();
}

/// A 10-Pass execution's history as the server writes it (input of about 40 bytes).
fn ten_pass_events(execution: &str, n: u64) -> Vec<(String, u64, String)> {
    let data = format!(r#"{{\"order\":{n},\"customer\":\"c-{n}\"}}"#);
    let mut events = vec![format!(
        r#"{{"timestamp":1796300018.899,"type":"ExecutionStarted","id":1,"previousEventId":0,"executionStartedEventDetails":{{"input":"{data}","inputDetails":{{"truncated":false}},"roleArn":"arn:aws:iam::123456789012:role/R"}}}}"#
    )];
    for i in 0..10 {
        let id = 2 + 2 * i;
        events.push(format!(
            r#"{{"timestamp":1796300018.899,"type":"PassStateEntered","id":{id},"previousEventId":{},"stateEnteredEventDetails":{{"name":"S{i}","input":"{data}","inputDetails":{{"truncated":false}}}}}}"#,
            id - 1
        ));
        events.push(format!(
            r#"{{"timestamp":1796300018.899,"type":"PassStateExited","id":{},"previousEventId":{id},"stateExitedEventDetails":{{"name":"S{i}","output":"{data}","outputDetails":{{"truncated":false}}}}}}"#,
            id + 1
        ));
    }
    events.push(format!(
        r#"{{"timestamp":1796300018.899,"type":"ExecutionSucceeded","id":22,"previousEventId":21,"executionSucceededEventDetails":{{"output":"{data}","outputDetails":{{"truncated":false}}}}}}"#
    ));
    events
        .into_iter()
        .enumerate()
        .map(|(i, text)| (execution.to_owned(), i as u64 + 1, text))
        .collect()
}

fn arn(n: u64) -> String {
    format!(
        "arn:aws:states:us-east-1:123456789012:execution:ten:{n:08x}-31fa-462c-a57c-a09a66feaad7"
    )
}

fn open(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS events (execution TEXT NOT NULL, id INTEGER NOT NULL,
             body TEXT NOT NULL, PRIMARY KEY (execution, id)) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS event_chunks (execution TEXT NOT NULL,
             first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, codec INTEGER NOT NULL,
             body BLOB NOT NULL, PRIMARY KEY (execution, first_id)) WITHOUT ROWID;",
    )
    .expect("tables");
    conn
}

fn write_rows(conn: &mut Connection, events: &[(String, u64, String)]) {
    let tx = conn.transaction().expect("tx");
    {
        let mut stmt = tx
            .prepare_cached("INSERT INTO events (execution, id, body) VALUES (?1, ?2, ?3)")
            .expect("prepare");
        for (e, id, text) in events {
            stmt.execute(params![e, *id as i64, text]).expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn write_chunks(conn: &mut Connection, events: &[(String, u64, String)]) {
    let tx = conn.transaction().expect("tx");
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO event_chunks (execution, first_id, last_id, codec, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .expect("prepare");
        for c in chunks::chunks(events) {
            stmt.execute(params![
                c.execution,
                c.first_id as i64,
                c.last_id as i64,
                c.codec,
                c.body
            ])
            .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn size_per_execution(path: &Path, executions: u64) -> u64 {
    let conn = Connection::open(path).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    let pages: u64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .expect("pages");
    let size: u64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .expect("size");
    pages * size / executions.max(1)
}

fn write_bench(bencher: Bencher, name: &str, write: fn(&mut Connection, &[(String, u64, String)])) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("h.db");
    let mut conn = open(&path);
    let next = AtomicU64::new(0);
    bencher.bench_local(|| {
        let n = next.fetch_add(1, Ordering::Relaxed);
        write(&mut conn, &ten_pass_events(&arn(n), n));
    });
    drop(conn);
    let n = next.load(Ordering::Relaxed);
    println!(
        "{name}: {} bytes/execution over {n} executions",
        size_per_execution(&path, n)
    );
}

#[divan::bench]
fn write_rows_baseline(bencher: Bencher) {
    write_bench(bencher, "rows", write_rows);
}

#[divan::bench]
fn write_chunks_deflated(bencher: Bencher) {
    write_bench(bencher, "chunks", write_chunks);
}

#[divan::bench]
fn make_chunks(bencher: Bencher) {
    let events = ten_pass_events(&arn(1), 1);
    bencher.bench_local(|| chunks::chunks(divan::black_box(&events)));
}

/// A 25,000-event history, committed 500 events at a time, in both layouts.
fn long_history(path: &Path) -> String {
    let mut conn = open(path);
    let execution = arn(u64::MAX >> 8);
    let events: Vec<(String, u64, String)> = (1..=25_000u64)
        .map(|id| {
            (
                execution.clone(),
                id,
                format!(
                    r#"{{"timestamp":1796300018.899,"type":"PassStateEntered","id":{id},"previousEventId":{},"stateEnteredEventDetails":{{"name":"Item","input":"{{\"index\":{id}}}","inputDetails":{{"truncated":false}}}}}}"#,
                    id - 1
                ),
            )
        })
        .collect();
    for batch in events.chunks(500) {
        write_rows(&mut conn, batch);
        write_chunks(&mut conn, batch);
    }
    execution
}

#[divan::bench]
fn read_page_rows_baseline(bencher: Bencher) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("long.db");
    let execution = long_history(&path);
    let conn = open(&path);
    bencher.bench_local(|| {
        let mut stmt = conn
            .prepare_cached(
                "SELECT body FROM events WHERE execution = ?1 AND id >= ?2 AND id <= ?3 ORDER BY id",
            )
            .expect("prepare");
        let rows: Vec<String> = stmt
            .query_map(params![execution, 12_000, 12_099], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        assert_eq!(rows.len(), 100);
        rows
    });
}

#[divan::bench]
fn read_page_chunks(bencher: Bencher) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("long.db");
    let execution = long_history(&path);
    let conn = open(&path);
    bencher.bench_local(|| {
        let (from, to) = (12_000u64, 12_099u64);
        let mut stmt = conn
            .prepare_cached(
                "SELECT first_id, codec, body FROM event_chunks
                 WHERE execution = ?1 AND first_id <= ?3 AND first_id >= COALESCE(
                     (SELECT first_id FROM event_chunks WHERE execution = ?1 AND first_id <= ?2
                      ORDER BY first_id DESC LIMIT 1), 0)
                 ORDER BY first_id",
            )
            .expect("prepare");
        let mut rows = stmt
            .query(params![execution, from as i64, to as i64])
            .expect("query");
        let mut events = Vec::new();
        while let Some(row) = rows.next().expect("row") {
            let first: i64 = row.get(0).expect("first");
            let codec: i64 = row.get(1).expect("codec");
            let body: Vec<u8> = row.get(2).expect("body");
            chunks::read_into(first as u64, codec, &body, (from, to), &mut events).expect("read");
        }
        assert_eq!(events.len(), 100);
        events
    });
}
