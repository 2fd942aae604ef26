//! The embedded backend: one SQLite file in WAL mode.
//!
//! One connection writes (SQLite has one writer at a time anyway); a few more read, so API
//! reads never wait for a commit. `synchronous=NORMAL` in WAL mode keeps every committed
//! transaction through a crash of the process (kill -9); only a power loss may lose the last
//! commits, never corrupt the file.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use async_trait::async_trait;

use crate::{
    Batch, CLOSED_STATUSES_SQL, Catalog, ExecutionCursor, ExecutionFilter, ExecutionLog,
    ExecutionRecord, MapRunChange, MapRunCount, MapRunRecord, Purge, Resource, ResourceKind,
    Result, StoreError, TaskChange, TaskRow, TimerChange, TimerRow, closed_cursor, prefix_end,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (
    arn TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    parent TEXT,
    sort_key TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS resources_list ON resources (kind, parent, sort_key);
CREATE TABLE IF NOT EXISTS definitions (
    hash TEXT PRIMARY KEY,
    text TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    version_arn TEXT,
    alias_arn TEXT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    definition_hash TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    trace_header TEXT,
    redrive_count INTEGER NOT NULL,
    redrive_ms INTEGER,
    event_count INTEGER NOT NULL,
    step_count INTEGER NOT NULL,
    parent TEXT,
    test_case TEXT,
    history_digest TEXT,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_ms DESC, arn DESC);
CREATE INDEX IF NOT EXISTS executions_by_version ON executions (version_arn, start_ms DESC, arn DESC) WHERE version_arn IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_by_alias ON executions (alias_arn, start_ms DESC, arn DESC) WHERE alias_arn IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_open ON executions (status) WHERE status = 'RUNNING';
CREATE TABLE IF NOT EXISTS events (
    execution TEXT NOT NULL,
    id INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS steps (
    execution TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
    execution TEXT NOT NULL,
    timer INTEGER NOT NULL,
    fire_ms INTEGER NOT NULL,
    PRIMARY KEY (execution, timer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_due ON timers (fire_ms);
CREATE TABLE IF NOT EXISTS tasks (
    token TEXT PRIMARY KEY,
    execution TEXT NOT NULL,
    task INTEGER NOT NULL,
    activity TEXT NOT NULL,
    input TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    worker TEXT
);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks (activity, created_ms) WHERE worker IS NULL;
CREATE INDEX IF NOT EXISTS tasks_by_execution ON tasks (execution);
CREATE TABLE IF NOT EXISTS map_runs (
    arn TEXT PRIMARY KEY,
    execution TEXT NOT NULL,
    status TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    max_concurrency INTEGER NOT NULL DEFAULT 0,
    tolerated_count REAL,
    tolerated_pct REAL,
    children INTEGER,
    items INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution, start_ms);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
";

/// Columns added after a table was first created: added to older files when they are opened.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("executions", "parent", "TEXT"),
    ("executions", "test_case", "TEXT"),
    ("executions", "history_digest", "TEXT"),
    (
        "executions",
        "clock_offset_ms",
        "INTEGER NOT NULL DEFAULT 0",
    ),
    ("executions", "map_run_arn", "TEXT"),
    ("executions", "map_run_index", "INTEGER"),
    ("map_runs", "redrive_count", "INTEGER NOT NULL DEFAULT 0"),
    ("map_runs", "redrive_ms", "INTEGER"),
];

/// Indexes on added columns: made once the columns exist.
const ADDED_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS executions_by_map_run ON executions (map_run_arn, start_ms DESC, arn DESC) WHERE map_run_arn IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_by_map_run_index ON executions (map_run_arn, map_run_index) WHERE map_run_arn IS NOT NULL;
CREATE INDEX IF NOT EXISTS executions_by_machine_status ON executions (state_machine_arn, status, start_ms DESC, arn DESC);
";

/// Below this many executions of a state machine with a name prefix, a page of them is read
/// through the name index and sorted; from this many on, along the start-time index (where a
/// page then reads at most about `page × executions / SPARSE_PREFIX` index entries).
const SPARSE_PREFIX: i64 = 2000;

/// The schema's versions, in order: migration `n` (from 1) takes a file at version `n - 1` to
/// version `n`, recorded in SQLite's `user_version`. Version 1 is the baseline: it creates the
/// tables of a new file, and brings a file from before versions were kept (version 0, with any
/// subset of the columns added since) to the same schema.
const MIGRATIONS: &[fn(&Connection) -> Result<()>] =
    &[baseline, name_index, closed_index, history_chunks];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 2: executions found by a name prefix (the console's search).
fn name_index(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS executions_by_machine_name ON executions (state_machine_arn, name);",
    )
    .map_err(backend)
}

/// Version 3: closed executions by when they closed (retention).
fn closed_index(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE INDEX IF NOT EXISTS executions_closed ON executions (stop_ms, arn) WHERE stop_ms IS NOT NULL;",
    )
    .map_err(backend)
}

/// Version 4: history kept in chunks (see [`crate::chunks`]); the events of older files become
/// chunks of one event each, as they were.
fn history_chunks(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS event_chunks (
             execution TEXT NOT NULL,
             first_id INTEGER NOT NULL,
             last_id INTEGER NOT NULL,
             codec INTEGER NOT NULL,
             body BLOB NOT NULL,
             PRIMARY KEY (execution, first_id)
         ) WITHOUT ROWID;
         INSERT OR IGNORE INTO event_chunks (execution, first_id, last_id, codec, body)
             SELECT execution, id, id, 0, CAST(body AS BLOB) FROM events;
         DROP TABLE events;",
    )
    .map_err(backend)
}

fn baseline(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA).map_err(backend)?;
    for (table, column, ty) in ADDED_COLUMNS {
        let present: bool = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                [column],
                |r| r.get::<_, i64>(0),
            )
            .map_err(backend)?
            > 0;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {ty}"))
                .map_err(backend)?;
        }
    }
    conn.execute_batch(ADDED_INDEXES).map_err(backend)?;
    Ok(())
}

/// Brings the file to [`SCHEMA_VERSION`], one migration per transaction; a file written by a
/// newer build is refused ([`StoreError::NewerSchema`]) and left as it is.
fn migrate(conn: &mut Connection) -> Result<()> {
    loop {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(backend)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        if version == SCHEMA_VERSION {
            return Ok(());
        }
        MIGRATIONS[version as usize](&tx)?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
}

const EXECUTION_COLUMNS: &str = "arn, state_machine_arn, version_arn, alias_arn, name, status, \
    start_ms, stop_ms, input, output, error, cause, definition_hash, role_arn, trace_header, \
    redrive_count, redrive_ms, event_count, step_count, parent, test_case, history_digest, \
    clock_offset_ms, map_run_arn, map_run_index";

const READERS: usize = 4;

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    writer: Mutex<Connection>,
    /// Empty for an in-memory database, which only the writer can see.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock cannot leave SQLite half-written: the transaction rolls
    // back when its guard drops, so the connection is still good.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(backend)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(backend)?;
    conn.pragma_update(None, "foreign_keys", "OFF")
        .map_err(backend)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut writer = Connection::open(path).map_err(backend)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(backend)?;
            configure(&conn)?;
            readers.push(Mutex::new(conn));
        }
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Writes a consistent copy of the store file at `source` to `dest` (which must not exist),
    /// while a server may be using it: SQLite's `VACUUM INTO` reads one snapshot (a WAL reader
    /// does not stop the writer) and writes it compacted. The copy opens as any store does.
    pub fn backup(source: impl AsRef<Path>, dest: impl AsRef<Path>) -> Result<()> {
        let dest = dest.as_ref();
        if dest.exists() {
            return Err(StoreError::Backend(format!(
                "{} exists: a backup is written to a new file",
                dest.display()
            )));
        }
        let source = source.as_ref();
        let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(backend)?;
        // Not a Stepwise store: nothing to copy (a lookup in the schema, not a table scan).
        let is_store: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'executions')",
                [],
                |r| r.get(0),
            )
            .map_err(backend)?;
        if !is_store {
            return Err(StoreError::Backend(format!(
                "{} is not a Stepwise store",
                source.display()
            )));
        }
        let target = dest.to_str().ok_or_else(|| {
            StoreError::Backend(format!("{} is not a UTF-8 path", dest.display()))
        })?;
        conn.execute("VACUUM INTO ?1", [target]).map_err(backend)?;
        Ok(())
    }

    /// A store that lives only as long as this value (for tests).
    pub fn memory() -> Result<Self> {
        let mut writer = Connection::open_in_memory().map_err(backend)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
        })
    }

    fn read(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            return lock(&self.writer);
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            if let Ok(guard) = self.readers[(start + i) % self.readers.len()].try_lock() {
                return guard;
            }
        }
        lock(&self.readers[start % self.readers.len()])
    }
}

fn resource_from_row(
    row: &Row<'_>,
) -> rusqlite::Result<(String, String, Option<String>, String, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn kind_from_str(s: &str) -> Result<ResourceKind> {
    Ok(match s {
        "stateMachine" => ResourceKind::StateMachine,
        "version" => ResourceKind::Version,
        "alias" => ResourceKind::Alias,
        "activity" => ResourceKind::Activity,
        other => {
            return Err(StoreError::Backend(format!(
                "unknown resource kind {other}"
            )));
        }
    })
}

fn to_resource(
    (arn, kind, parent, sort_key, body): (String, String, Option<String>, String, String),
) -> Result<Resource> {
    Ok(Resource {
        arn,
        kind: kind_from_str(&kind)?,
        parent,
        sort_key,
        body: serde_json::from_str(&body).map_err(backend)?,
    })
}

fn execution_from_row(row: &Row<'_>) -> rusqlite::Result<ExecutionRecord> {
    Ok(ExecutionRecord {
        arn: row.get(0)?,
        state_machine_arn: row.get(1)?,
        version_arn: row.get(2)?,
        alias_arn: row.get(3)?,
        name: row.get(4)?,
        status: row.get(5)?,
        start_ms: row.get(6)?,
        stop_ms: row.get(7)?,
        input: row.get(8)?,
        output: row.get(9)?,
        error: row.get(10)?,
        cause: row.get(11)?,
        definition_hash: row.get(12)?,
        role_arn: row.get(13)?,
        trace_header: row.get(14)?,
        redrive_count: row.get(15)?,
        redrive_ms: row.get(16)?,
        event_count: row.get::<_, i64>(17)? as u64,
        step_count: row.get::<_, i64>(18)? as u64,
        parent: row.get(19)?,
        test_case: row.get(20)?,
        history_digest: row.get(21)?,
        clock_offset_ms: row.get(22)?,
        map_run_arn: row.get(23)?,
        map_run_index: row.get::<_, Option<i64>>(24)?.map(|i| i as u64),
    })
}

const MAP_RUN_COLUMNS: &str = "arn, execution, status, start_ms, stop_ms, max_concurrency, \
    tolerated_count, tolerated_pct, children, items, redrive_count, redrive_ms";

fn map_run_from_row(row: &Row<'_>) -> rusqlite::Result<MapRunRecord> {
    Ok(MapRunRecord {
        arn: row.get(0)?,
        execution: row.get(1)?,
        status: row.get(2)?,
        start_ms: row.get(3)?,
        stop_ms: row.get(4)?,
        max_concurrency: row.get::<_, i64>(5)? as u64,
        tolerated_failure_count: row.get(6)?,
        tolerated_failure_percentage: row.get(7)?,
        children: row.get::<_, Option<i64>>(8)?.map(|n| n as u64),
        items: row.get::<_, Option<i64>>(9)?.map(|n| n as u64),
        redrive_count: row.get::<_, i64>(10)? as u32,
        redrive_ms: row.get(11)?,
    })
}

fn task_from_row(row: &Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        token: row.get(0)?,
        execution: row.get(1)?,
        task: row.get::<_, i64>(2)? as u64,
        activity: row.get(3)?,
        input: row.get(4)?,
        created_ms: row.get(5)?,
        worker: row.get(6)?,
    })
}

const TASK_COLUMNS: &str = "token, execution, task, activity, input, created_ms, worker";

fn write_resource(conn: &Connection, r: &Resource, replace: bool) -> rusqlite::Result<usize> {
    let verb = if replace {
        "INSERT OR REPLACE"
    } else {
        "INSERT"
    };
    conn.prepare_cached(&format!(
        "{verb} INTO resources (arn, kind, parent, sort_key, body) VALUES (?1, ?2, ?3, ?4, ?5)"
    ))?
    .execute(params![
        r.arn,
        r.kind.as_str(),
        r.parent,
        r.sort_key,
        r.body.to_string()
    ])
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}

#[async_trait]
impl Catalog for SqliteStore {
    async fn create_resource(&self, resource: &Resource) -> Result<()> {
        let conn = lock(&self.writer);
        match write_resource(&conn, resource, false) {
            Ok(_) => Ok(()),
            Err(e) if is_constraint(&e) => Err(StoreError::Conflict(resource.arn.clone())),
            Err(e) => Err(backend(e)),
        }
    }

    async fn put_resource(&self, resource: &Resource) -> Result<()> {
        let conn = lock(&self.writer);
        write_resource(&conn, resource, true).map_err(backend)?;
        Ok(())
    }

    async fn get_resource(&self, arn: &str) -> Result<Option<Resource>> {
        let conn = self.read();
        let row = conn
            .prepare_cached(
                "SELECT arn, kind, parent, sort_key, body FROM resources WHERE arn = ?1",
            )
            .map_err(backend)?
            .query_row(params![arn], resource_from_row)
            .optional()
            .map_err(backend)?;
        row.map(to_resource).transpose()
    }

    async fn delete_resource(&self, arn: &str) -> Result<bool> {
        let conn = lock(&self.writer);
        let n = conn
            .prepare_cached("DELETE FROM resources WHERE arn = ?1")
            .map_err(backend)?
            .execute(params![arn])
            .map_err(backend)?;
        Ok(n > 0)
    }

    async fn list_resources(
        &self,
        kind: ResourceKind,
        parent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Resource>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT arn, kind, parent, sort_key, body FROM resources
                 WHERE kind = ?1 AND parent IS ?2 AND (?3 IS NULL OR sort_key > ?3)
                 ORDER BY sort_key LIMIT ?4",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(
                params![kind.as_str(), parent, after, limit as i64],
                resource_from_row,
            )
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend).and_then(to_resource))
            .collect()
    }

    async fn put_definition(&self, hash: &str, text: &str) -> Result<()> {
        let conn = lock(&self.writer);
        conn.prepare_cached("INSERT OR IGNORE INTO definitions (hash, text) VALUES (?1, ?2)")
            .map_err(backend)?
            .execute(params![hash, text])
            .map_err(backend)?;
        Ok(())
    }

    async fn get_definition(&self, hash: &str) -> Result<Option<String>> {
        let conn = self.read();
        conn.prepare_cached("SELECT text FROM definitions WHERE hash = ?1")
            .map_err(backend)?
            .query_row(params![hash], |row| row.get(0))
            .optional()
            .map_err(backend)
    }

    async fn secret(&self, name: &str, candidate: &str) -> Result<String> {
        let conn = lock(&self.writer);
        conn.execute(
            "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, candidate],
        )
        .map_err(backend)?;
        conn.query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .map_err(backend)
    }
}

#[async_trait]
impl ExecutionLog for SqliteStore {
    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        let conn = self.read();
        conn.prepare_cached(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"
        ))
        .map_err(backend)?
        .query_row(params![arn], execution_from_row)
        .optional()
        .map_err(backend)
    }

    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
        after: Option<&ExecutionCursor>,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>> {
        let conn = self.read();
        // One statement per key column, so each query walks its index in order.
        let (column, key) = if let Some(m) = &filter.map_run_arn {
            ("map_run_arn = ?1", Some(m.as_str()))
        } else if let Some(v) = &filter.version_arn {
            ("version_arn = ?1", Some(v.as_str()))
        } else if let Some(a) = &filter.alias_arn {
            ("alias_arn = ?1", Some(a.as_str()))
        } else if let Some(s) = &filter.state_machine_arn {
            ("state_machine_arn = ?1", Some(s.as_str()))
        } else {
            ("?1 IS NULL", None)
        };
        // Only conditions the index can seek on: a status filter that is there, and the
        // cursor as one row-value comparison (`x IS NULL OR …` and an OR of two comparisons
        // made SQLite walk every row before the page, so deep pages and rare statuses cost
        // more than the first page).
        let status = if filter.status.is_some() {
            "status = ?2"
        } else {
            "?2 IS NULL"
        };
        // The cursor and the console's `started_before_ms` are one upper bound, written as one
        // row-value comparison: `start_ms < B` is `(start_ms, arn) < (B, '')`. With both a
        // cursor and `start_ms < ?` SQLite seeks on the plain range only (and, with a status,
        // leaves the status index for the start-time one), so deep pages would read every row
        // before them again.
        let bound: Option<(i64, &str)> = match (after, filter.started_before_ms) {
            (Some(c), Some(before)) if before <= c.start_ms => Some((before, "")),
            (Some(c), _) => Some((c.start_ms, c.arn.as_str())),
            (None, Some(before)) => Some((before, "")),
            (None, None) => None,
        };
        let cursor = if bound.is_some() {
            "(start_ms, arn) < (?3, ?4)"
        } else {
            "?3 IS NULL AND ?4 IS NULL"
        };
        // The console's search: the start of a time range seeks the same index (start_ms
        // follows the key column and the status).
        let from = if filter.started_from_ms.is_some() {
            "start_ms >= ?6"
        } else {
            "?6 IS NULL"
        };
        // A name prefix: a common one is checked on each row along the start-time index
        // (written so that the name index cannot serve it); a rare one of a state machine
        // seeks the name index and sorts its few matches, since walking the start-time index
        // for it would read every execution of the machine.
        let prefix_end = filter.name_prefix.as_deref().and_then(prefix_end);
        let sparse = match (&filter.name_prefix, &filter.state_machine_arn) {
            (Some(p), Some(sm)) if column.starts_with("state_machine_arn") => {
                let end = if prefix_end.is_some() {
                    "name < ?3"
                } else {
                    "?3 IS NULL"
                };
                let matches: i64 = conn
                    .prepare_cached(&format!(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM executions
                         INDEXED BY executions_by_machine_name
                         WHERE state_machine_arn = ?1 AND name >= ?2 AND {end} LIMIT ?4)"
                    ))
                    .and_then(|mut stmt| {
                        stmt.query_row(params![sm, p, prefix_end, SPARSE_PREFIX], |r| r.get(0))
                    })
                    .map_err(backend)?;
                matches < SPARSE_PREFIX
            }
            _ => false,
        };
        let (index, prefix) = match (&filter.name_prefix, sparse) {
            (None, _) => ("", "?7 IS NULL AND ?8 IS NULL"),
            (Some(_), false) => ("", "substr(name, 1, length(?7)) = ?7 AND ?8 IS NULL"),
            (Some(_), true) if prefix_end.is_some() => (
                "INDEXED BY executions_by_machine_name",
                "name >= ?7 AND name < ?8",
            ),
            (Some(_), true) => (
                "INDEXED BY executions_by_machine_name",
                "name >= ?7 AND ?8 IS NULL",
            ),
        };
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions {index}
             WHERE {column} AND {status} AND {cursor} AND {from} AND {prefix}
             ORDER BY start_ms DESC, arn DESC LIMIT ?5"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
        let rows = stmt
            .query_map(
                params![
                    key,
                    filter.status,
                    bound.map(|b| b.0),
                    bound.map(|b| b.1),
                    limit as i64,
                    filter.started_from_ms,
                    filter.name_prefix,
                    prefix_end.filter(|_| sparse),
                ],
                execution_from_row,
            )
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn get_map_run(&self, arn: &str) -> Result<Option<MapRunRecord>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {MAP_RUN_COLUMNS} FROM map_runs WHERE arn = ?1"
            ))
            .map_err(backend)?;
        stmt.query_row([arn], map_run_from_row)
            .optional()
            .map_err(backend)
    }

    async fn map_runs_of(&self, execution: &str) -> Result<Vec<MapRunRecord>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {MAP_RUN_COLUMNS} FROM map_runs WHERE execution = ?1 ORDER BY start_ms, arn"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map([execution], map_run_from_row)
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn map_run_counts(&self, arn: &str, batched: bool) -> Result<Vec<MapRunCount>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT status, COUNT(*),
                        CASE WHEN ?2 THEN SUM(COALESCE(json_array_length(
                            CASE WHEN json_valid(input) THEN input END, '$.Items'), 0))
                        ELSE 0 END
                 FROM executions WHERE map_run_arn = ?1 GROUP BY status",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![arn, batched], |r| {
                Ok(MapRunCount {
                    status: r.get(0)?,
                    executions: r.get::<_, i64>(1)? as u64,
                    batched_items: r.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn map_run_children(
        &self,
        arn: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM executions
                 WHERE map_run_arn = ?1 AND map_run_index >= ?2
                 ORDER BY map_run_index LIMIT ?3"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![arn, from as i64, limit as i64], execution_from_row)
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn open_executions(&self) -> Result<Vec<String>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached("SELECT arn FROM executions WHERE status = 'RUNNING'")
            .map_err(backend)?;
        let rows = stmt.query_map([], |row| row.get(0)).map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn closed_before(
        &self,
        before_ms: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String)>> {
        let (after_ms, after_arn) = closed_cursor(after);
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT stop_ms, arn FROM executions
                 WHERE stop_ms IS NOT NULL AND stop_ms < ?1 AND (stop_ms, arn) > (?2, ?3)
                 AND status IN {CLOSED_STATUSES_SQL}
                 ORDER BY stop_ms, arn LIMIT ?4"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![before_ms, after_ms, after_arn, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn history(&self, execution: &str, from: u64, to: u64) -> Result<Vec<String>> {
        let conn = self.read();
        // The chunk holding `from` (the last to start at or before it), and those after it
        // that start by `to`.
        let mut stmt = conn
            .prepare_cached(
                "SELECT first_id, codec, body FROM event_chunks
                 WHERE execution = ?1 AND first_id <= ?3 AND first_id >= COALESCE(
                     (SELECT first_id FROM event_chunks WHERE execution = ?1 AND first_id <= ?2
                      ORDER BY first_id DESC LIMIT 1), 0)
                 ORDER BY first_id",
            )
            .map_err(backend)?;
        let (from_i, to_i) = (
            from.min(i64::MAX as u64) as i64,
            to.min(i64::MAX as u64) as i64,
        );
        let mut rows = stmt
            .query(params![execution, from_i, to_i])
            .map_err(backend)?;
        let mut events = Vec::new();
        while let Some(row) = rows.next().map_err(backend)? {
            let first: i64 = row.get(0).map_err(backend)?;
            let codec: i64 = row.get(1).map_err(backend)?;
            let body = row.get_ref(2).map_err(backend)?;
            let body = body.as_bytes().map_err(backend)?;
            crate::chunks::read_into(first as u64, codec, body, (from, to), &mut events)?;
        }
        Ok(events)
    }

    async fn steps(&self, execution: &str) -> Result<Vec<String>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached("SELECT body FROM steps WHERE execution = ?1 ORDER BY seq")
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![execution], |row| row.get(0))
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn due_timers(&self, before_ms: i64, limit: usize) -> Result<Vec<TimerRow>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT execution, timer, fire_ms FROM timers WHERE fire_ms <= ?1
                 ORDER BY fire_ms LIMIT ?2",
            )
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![before_ms, limit as i64], |row| {
                Ok(TimerRow {
                    execution: row.get(0)?,
                    timer: row.get::<_, i64>(1)? as u64,
                    fire_ms: row.get(2)?,
                })
            })
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn next_queued_tasks(&self, activity: &str, limit: usize) -> Result<Vec<TaskRow>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE activity = ?1 AND worker IS NULL
                 ORDER BY created_ms, token LIMIT ?2"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![activity, limit as i64], task_from_row)
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn taken_tasks(&self, activity: &str, worker_prefix: &str) -> Result<Vec<TaskRow>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE activity = ?1 AND worker IS NOT NULL
                 AND substr(worker, 1, length(?2)) = ?2 ORDER BY created_ms, token"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![activity, worker_prefix], task_from_row)
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn task_by_token(&self, token: &str) -> Result<Option<TaskRow>> {
        let conn = self.read();
        conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE token = ?1"
        ))
        .map_err(backend)?
        .query_row(params![token], task_from_row)
        .optional()
        .map_err(backend)
    }

    async fn tasks_of(&self, execution: &str) -> Result<Vec<TaskRow>> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE execution = ?1 ORDER BY created_ms"
            ))
            .map_err(backend)?;
        let rows = stmt
            .query_map(params![execution], task_from_row)
            .map_err(backend)?;
        rows.map(|r| r.map_err(backend)).collect()
    }

    async fn commit(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if !batch.handled.is_empty() || !batch.posts.is_empty() {
            return Err(StoreError::Backend(
                "a SQLite store has no inbox: it is not shared by many nodes".into(),
            ));
        }
        let mut conn = lock(&self.writer);
        let tx = conn.transaction().map_err(backend)?;
        apply(&tx, batch).map_err(|e| {
            if is_constraint(&e) {
                StoreError::Conflict(e.to_string())
            } else {
                backend(e)
            }
        })?;
        tx.commit().map_err(backend)
    }
}

/// Removes the executions of a [`Purge`] that are still eligible, with everything of theirs.
fn purge(tx: &Connection, purge: &Purge) -> rusqlite::Result<()> {
    let mut gone = tx.prepare_cached(&format!(
        "DELETE FROM executions WHERE arn = ?1 AND stop_ms < ?2 AND status IN {CLOSED_STATUSES_SQL}
         AND NOT EXISTS (SELECT 1 FROM map_runs m JOIN executions p ON p.arn = m.execution
                         WHERE m.arn = executions.map_run_arn
                         AND p.status NOT IN {CLOSED_STATUSES_SQL})"
    ))?;
    for arn in &purge.executions {
        if gone.execute(params![arn, purge.before_ms])? == 0 {
            continue;
        }
        for table in ["event_chunks", "steps", "timers", "tasks", "map_runs"] {
            tx.prepare_cached(&format!("DELETE FROM {table} WHERE execution = ?1"))?
                .execute(params![arn])?;
        }
    }
    Ok(())
}

fn apply(tx: &Connection, batch: &Batch) -> rusqlite::Result<()> {
    if !batch.new_executions.is_empty() {
        let mut stmt = tx.prepare_cached(&format!(
            "INSERT INTO executions ({EXECUTION_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
        ))?;
        for e in &batch.new_executions {
            stmt.execute(params![
                e.arn,
                e.state_machine_arn,
                e.version_arn,
                e.alias_arn,
                e.name,
                e.status,
                e.start_ms,
                e.stop_ms,
                e.input,
                e.output,
                e.error,
                e.cause,
                e.definition_hash,
                e.role_arn,
                e.trace_header,
                e.redrive_count,
                e.redrive_ms,
                e.event_count as i64,
                e.step_count as i64,
                e.parent,
                e.test_case,
                e.history_digest,
                e.clock_offset_ms,
                e.map_run_arn,
                e.map_run_index.map(|i| i as i64),
            ])?;
        }
    }
    if !batch.updates.is_empty() {
        let mut stmt = tx.prepare_cached(
            "UPDATE executions SET status = ?2, stop_ms = ?3, output = ?4, error = ?5, cause = ?6,
             event_count = ?7, step_count = ?8, redrive_count = ?9, redrive_ms = ?10,
             history_digest = ?11, clock_offset_ms = ?12 WHERE arn = ?1",
        )?;
        for u in &batch.updates {
            stmt.execute(params![
                u.arn,
                u.status,
                u.stop_ms,
                u.output,
                u.error,
                u.cause,
                u.event_count as i64,
                u.step_count as i64,
                u.redrive_count,
                u.redrive_ms,
                u.history_digest,
                u.clock_offset_ms,
            ])?;
        }
    }
    for change in &batch.map_runs {
        match change {
            MapRunChange::Start {
                arn,
                execution,
                start_ms,
            } => {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO map_runs (arn, execution, status, start_ms)
                     VALUES (?1, ?2, 'RUNNING', ?3)",
                )?
                .execute(params![arn, execution, start_ms])?;
            }
            MapRunChange::Configure {
                arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
                children,
                items,
            } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET max_concurrency = ?2, tolerated_count = ?3,
                     tolerated_pct = ?4, children = COALESCE(?5, children),
                     items = COALESCE(?6, items)
                     WHERE arn = ?1",
                )?
                .execute(params![
                    arn,
                    *max_concurrency as i64,
                    tolerated_failure_count,
                    tolerated_failure_percentage,
                    children.map(|n| n as i64),
                    items.map(|n| n as i64)
                ])?;
            }
            MapRunChange::Counted {
                arn,
                children,
                items,
            } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET children = ?2, items = COALESCE(?3, items) WHERE arn = ?1",
                )?
                .execute(params![
                    arn,
                    *children as i64,
                    items.map(|n| n as i64)
                ])?;
            }
            MapRunChange::End {
                arn,
                status,
                stop_ms,
            } => {
                tx.prepare_cached("UPDATE map_runs SET status = ?2, stop_ms = ?3 WHERE arn = ?1")?
                    .execute(params![arn, status, stop_ms])?;
            }
            MapRunChange::Redrive { arn, redrive_ms } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET status = 'RUNNING', stop_ms = NULL,
                     redrive_count = redrive_count + 1, redrive_ms = ?2 WHERE arn = ?1",
                )?
                .execute(params![arn, redrive_ms])?;
            }
        }
    }
    if !batch.steps.is_empty() {
        let mut stmt =
            tx.prepare_cached("INSERT INTO steps (execution, seq, body) VALUES (?1, ?2, ?3)")?;
        for (execution, seq, body) in &batch.steps {
            stmt.execute(params![execution, *seq as i64, body])?;
        }
    }
    if !batch.events.is_empty() {
        // A chunk overlapping one already stored (event ids written twice) fails the batch.
        // Stored chunks do not overlap, so only the last one starting by a new chunk's end can.
        let mut stmt = tx.prepare_cached(
            "INSERT INTO event_chunks (execution, first_id, last_id, codec, body)
             SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (
                 SELECT 1 FROM (SELECT last_id FROM event_chunks
                                WHERE execution = ?1 AND first_id <= ?3
                                ORDER BY first_id DESC LIMIT 1)
                 WHERE last_id >= ?2)",
        )?;
        for c in crate::chunks::chunks(&batch.events) {
            let added = stmt.execute(params![
                c.execution,
                c.first_id as i64,
                c.last_id as i64,
                c.codec,
                c.body
            ])?;
            if added == 0 {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY),
                    Some(format!(
                        "history events {}..={} of {} are already stored",
                        c.first_id, c.last_id, c.execution
                    )),
                ));
            }
        }
    }
    for change in &batch.timers {
        match change {
            TimerChange::Add(t) => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO timers (execution, timer, fire_ms) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![t.execution, t.timer as i64, t.fire_ms])?;
            }
            TimerChange::Remove { execution, timer } => {
                tx.prepare_cached("DELETE FROM timers WHERE execution = ?1 AND timer = ?2")?
                    .execute(params![execution, *timer as i64])?;
            }
        }
    }
    for change in &batch.tasks {
        match change {
            TaskChange::Add(t) => {
                tx.prepare_cached(&format!(
                    "INSERT INTO tasks ({TASK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ))?
                .execute(params![
                    t.token,
                    t.execution,
                    t.task as i64,
                    t.activity,
                    t.input,
                    t.created_ms,
                    t.worker
                ])?;
            }
            TaskChange::Start { token, worker } => {
                tx.prepare_cached("UPDATE tasks SET worker = ?2 WHERE token = ?1")?
                    .execute(params![token, worker])?;
            }
            TaskChange::Remove { token } => {
                tx.prepare_cached("DELETE FROM tasks WHERE token = ?1")?
                    .execute(params![token])?;
            }
        }
    }
    // Last, so a timer or task added earlier in the same batch goes too.
    for u in batch.updates.iter().filter(|u| u.closed) {
        tx.prepare_cached("DELETE FROM timers WHERE execution = ?1")?
            .execute(params![u.arn])?;
        tx.prepare_cached("DELETE FROM tasks WHERE execution = ?1")?
            .execute(params![u.arn])?;
    }
    if !batch.purge.executions.is_empty() {
        purge(tx, &batch.purge)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn a_prefix_ends_before_the_next_string_that_does_not_start_with_it() {
        assert_eq!(prefix_end("order-").as_deref(), Some("order."));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }
}
