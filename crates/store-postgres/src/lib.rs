//! The PostgreSQL backend of the store: the same [`Catalog`] and [`ExecutionLog`] as the
//! embedded SQLite file, on a database that many Stepwise nodes can share.
//!
//! - **Connections**: a pool (deadpool-postgres) of `tokio-postgres` connections; every method
//!   takes one for the length of its statement or transaction. Statements are prepared once per
//!   connection and cached.
//! - **Group commit**: [`ExecutionLog::commit`] applies a whole batch (the steps of many
//!   executions) in one transaction. Its statements are pipelined: they are all sent before the
//!   first answer is awaited, so a batch costs about one round trip per kind of row, not one per
//!   row; history events and engine steps go in one `UNNEST` insert each.
//! - **No single writer**: nothing here assumes it is the only client. A duplicate key (an
//!   execution started twice under one name, a history event written twice) is
//!   [`StoreError::Conflict`] and the transaction applies nothing.
//! - **Schema versions**: `stepwise_schema` keeps the version; [`PostgresStore::connect`]
//!   upgrades an older schema in place, one migration per transaction under an advisory lock
//!   (nodes starting together migrate once), and refuses a newer one
//!   ([`StoreError::NewerSchema`]) without changing it.
//! - **Ordering**: keys and sort keys are `COLLATE "C"`, so lists come in byte order, as on
//!   SQLite.

mod cluster;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use stepwise_store::{
    Batch, Catalog, CatalogLock, ExecutionCursor, ExecutionFilter, ExecutionLog, ExecutionRecord,
    MapRunChange, MapRunCount, MapRunRecord, Resource, ResourceKind, Result, StoreError,
    TaskChange, TaskRow, TimerChange, TimerRow, closed_cursor, partition_of, prefix_end,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

mod search_path;

/// The schema, one migration per entry: entry `n` (from 0) takes a database at version `n` to
/// version `n + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock that serialises migrations (any constant; this one spells "stepwise").
const MIGRATION_LOCK: i64 = 0x7374_6570_7769_7365;

/// How many connections a node keeps at most.
const POOL_SIZE: usize = 16;

const EXECUTION_COLUMNS: &str = "arn, state_machine_arn, version_arn, alias_arn, name, status, \
    start_ms, stop_ms, input, output, error, cause, definition_hash, role_arn, trace_header, \
    redrive_count, redrive_ms, event_count, step_count, parent, test_case, history_digest, \
    clock_offset_ms, map_run_arn, map_run_index";

const MAP_RUN_COLUMNS: &str = "arn, execution, status, start_ms, stop_ms, max_concurrency, \
    tolerated_count, tolerated_pct, children, items, redrive_count, redrive_ms";

const TASK_COLUMNS: &str = "token, execution, task, activity, input, created_ms, worker";

/// The PostgreSQL store.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// Where it connects, without the password (for messages).
    place: String,
    /// How many partitions executions are spread over (see [`stepwise_store::Cluster`]).
    partitions: u32,
    /// Wake-ups from other nodes (`LISTEN`), fed by a task of its own while the store lives.
    listener: Arc<cluster::Listener>,
    /// The `NOTIFY` channel (one per schema).
    channel: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("place", &self.place)
            .finish()
    }
}

fn backend(e: impl fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A database error as the store's: a duplicate key is a conflict.
fn db(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        let detail = e
            .as_db_error()
            .and_then(|d| d.detail().map(str::to_owned))
            .unwrap_or_else(|| e.to_string());
        StoreError::Conflict(detail)
    } else {
        match e.as_db_error() {
            Some(d) => StoreError::Backend(format!("postgres: {}", d.message())),
            None => StoreError::Backend(format!("postgres: {e}")),
        }
    }
}

/// A schema name that needs no quoting: letters, digits and `_`, not starting with a digit.
fn check_schema_name(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "'{schema}' is not a schema name Stepwise uses (lowercase letters, digits and _)"
        )))
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, or
    /// libpq's `key=value` form) and brings its schema to [`SCHEMA_VERSION`]. Where `url`'s
    /// `options` set a `search_path` (libpq's way:
    /// `postgres://u@h/db?options=-csearch_path%3Dname`), the tables are kept in the first
    /// schema it names, made if missing.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        Self::open(url, None).await
    }

    /// The same, with every table in `schema` (made if missing): several deployments, or
    /// tests, sharing one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<PostgresStore> {
        check_schema_name(schema)?;
        Self::open(url, Some(schema)).await
    }

    async fn open(url: &str, schema: Option<&str>) -> Result<PostgresStore> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("not a PostgreSQL address: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("stepwise");
        }
        let place = format!(
            "{}/{}",
            config
                .get_hosts()
                .iter()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            config.get_dbname().unwrap_or_default()
        );
        let schema = match schema {
            Some(schema) => {
                // After the URL's own options, so that it wins over a search_path among them.
                let options = match config.get_options() {
                    Some(given) => format!("{given} -c search_path={schema}"),
                    None => format!("-c search_path={schema}"),
                };
                config.options(options);
                Some(schema.to_owned())
            }
            None => search_path::first_schema(config.get_options()),
        };
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(backend)?;
        let client = pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => db(e),
            other => StoreError::Backend(format!("postgres: {other}")),
        })?;
        let mut client = client;
        migrate(&mut client, schema.as_deref()).await?;
        let partitions: i64 = client
            .query_one("SELECT count(*) FROM partitions", &[])
            .await
            .map_err(db)?
            .get(0);
        drop(client);
        let channel = cluster::channel_of(schema.as_deref());
        let listener = Arc::new(cluster::Listener::start(config, channel.clone()));
        Ok(PostgresStore {
            pool,
            place,
            partitions: u32::try_from(partitions).unwrap_or(1).max(1),
            listener,
            channel,
        })
    }

    /// Where it is connected (host and database, no credentials).
    pub fn place(&self) -> &str {
        &self.place
    }

    async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => db(e),
            other => StoreError::Backend(format!("postgres: {other}")),
        })
    }

    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client.query(&stmt, params).await.map_err(db)
    }

    async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client.query_opt(&stmt, params).await.map_err(db)
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(db)?;
        client.execute(&stmt, params).await.map_err(db)
    }
}

/// Brings the schema to [`SCHEMA_VERSION`]; a newer one is refused and left as it is.
/// `schema`, when given, is made first (under the same lock: two nodes making it at once would
/// otherwise collide).
async fn migrate(client: &mut deadpool_postgres::Client, schema: Option<&str>) -> Result<()> {
    let tx = client.transaction().await.map_err(db)?;
    // Without the server's notices ("relation ... already exists, skipping"), which the log
    // would show at every start.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await
        .map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(db)?;
    if let Some(schema) = schema {
        // Made only when missing: CREATE SCHEMA needs the right to create schemas in the
        // database even when the schema exists, which a role given its schema need not have.
        let exists = tx
            .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])
            .await
            .map_err(db)?
            .is_some();
        if !exists {
            tx.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                search_path::quoted(schema)
            ))
            .await
            .map_err(db)?;
        }
    }
    tx.batch_execute("CREATE TABLE IF NOT EXISTS stepwise_schema (version BIGINT NOT NULL)")
        .await
        .map_err(db)?;
    let found: Option<i64> = tx
        .query_opt("SELECT version FROM stepwise_schema", &[])
        .await
        .map_err(db)?
        .map(|r| r.get(0));
    let version = match found {
        Some(v) => v,
        None => {
            tx.execute("INSERT INTO stepwise_schema (version) VALUES (0)", &[])
                .await
                .map_err(db)?;
            0
        }
    };
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: version,
            known: SCHEMA_VERSION,
        });
    }
    for (n, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(migration).await.map_err(db)?;
        if n + 1 == 2 {
            cluster::fill_partitions(&tx).await?;
        }
        tx.execute(
            "UPDATE stepwise_schema SET version = $1",
            &[&(n as i64 + 1)],
        )
        .await
        .map_err(db)?;
        tracing::info!(version = n + 1, "PostgreSQL store schema migrated");
    }
    tx.commit().await.map_err(db)
}

/// A column, read as its Rust type (a type that does not match is an error, not a panic).
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(backend)
}

fn u64_of(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

fn i64_of(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn execution_from_row(row: &Row) -> Result<ExecutionRecord> {
    Ok(ExecutionRecord {
        arn: col(row, 0)?,
        state_machine_arn: col(row, 1)?,
        version_arn: col(row, 2)?,
        alias_arn: col(row, 3)?,
        name: col(row, 4)?,
        status: col(row, 5)?,
        start_ms: col(row, 6)?,
        stop_ms: col(row, 7)?,
        input: col(row, 8)?,
        output: col(row, 9)?,
        error: col(row, 10)?,
        cause: col(row, 11)?,
        definition_hash: col(row, 12)?,
        role_arn: col(row, 13)?,
        trace_header: col(row, 14)?,
        redrive_count: u32::try_from(col::<i64>(row, 15)?).unwrap_or(u32::MAX),
        redrive_ms: col(row, 16)?,
        event_count: u64_of(col(row, 17)?),
        step_count: u64_of(col(row, 18)?),
        parent: col(row, 19)?,
        test_case: col(row, 20)?,
        history_digest: col(row, 21)?,
        clock_offset_ms: col(row, 22)?,
        map_run_arn: col(row, 23)?,
        map_run_index: col::<Option<i64>>(row, 24)?.map(u64_of),
    })
}

fn map_run_from_row(row: &Row) -> Result<MapRunRecord> {
    Ok(MapRunRecord {
        arn: col(row, 0)?,
        execution: col(row, 1)?,
        status: col(row, 2)?,
        start_ms: col(row, 3)?,
        stop_ms: col(row, 4)?,
        max_concurrency: u64_of(col(row, 5)?),
        tolerated_failure_count: col(row, 6)?,
        tolerated_failure_percentage: col(row, 7)?,
        children: col::<Option<i64>>(row, 8)?.map(u64_of),
        items: col::<Option<i64>>(row, 9)?.map(u64_of),
        redrive_count: u32::try_from(col::<i64>(row, 10)?).unwrap_or(u32::MAX),
        redrive_ms: col(row, 11)?,
    })
}

fn task_from_row(row: &Row) -> Result<TaskRow> {
    Ok(TaskRow {
        token: col(row, 0)?,
        execution: col(row, 1)?,
        task: u64_of(col(row, 2)?),
        activity: col(row, 3)?,
        input: col(row, 4)?,
        created_ms: col(row, 5)?,
        worker: col(row, 6)?,
    })
}

fn resource_from_row(row: &Row) -> Result<Resource> {
    let kind: String = col(row, 1)?;
    let kind = match kind.as_str() {
        "stateMachine" => ResourceKind::StateMachine,
        "version" => ResourceKind::Version,
        "alias" => ResourceKind::Alias,
        "activity" => ResourceKind::Activity,
        other => {
            return Err(StoreError::Backend(format!(
                "unknown resource kind {other}"
            )));
        }
    };
    let body: String = col(row, 4)?;
    Ok(Resource {
        arn: col(row, 0)?,
        kind,
        parent: col(row, 2)?,
        sort_key: col(row, 3)?,
        body: serde_json::from_str(&body).map_err(backend)?,
    })
}

/// A timer from `SELECT execution, timer, fire_ms`.
fn timer_from_row(row: &Row) -> Result<TimerRow> {
    Ok(TimerRow {
        execution: col(row, 0)?,
        timer: u64_of(col(row, 1)?),
        fire_ms: col(row, 2)?,
    })
}

fn rows<T>(rows: Vec<Row>, read: fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(read).collect()
}

#[async_trait]
impl Catalog for PostgresStore {
    async fn create_resource(&self, r: &Resource) -> Result<()> {
        let body = r.body.to_string();
        match self
            .execute(
                "INSERT INTO resources (arn, kind, parent, sort_key, body) VALUES ($1, $2, $3, $4, $5)",
                &[&r.arn, &r.kind.as_str(), &r.parent, &r.sort_key, &body],
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(StoreError::Conflict(r.arn.clone())),
            Err(e) => Err(e),
        }
    }

    async fn put_resource(&self, r: &Resource) -> Result<()> {
        let body = r.body.to_string();
        self.execute(
            "INSERT INTO resources (arn, kind, parent, sort_key, body) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (arn) DO UPDATE SET kind = EXCLUDED.kind, parent = EXCLUDED.parent,
             sort_key = EXCLUDED.sort_key, body = EXCLUDED.body",
            &[&r.arn, &r.kind.as_str(), &r.parent, &r.sort_key, &body],
        )
        .await?;
        Ok(())
    }

    async fn get_resource(&self, arn: &str) -> Result<Option<Resource>> {
        self.query_opt(
            "SELECT arn, kind, parent, sort_key, body FROM resources WHERE arn = $1",
            &[&arn],
        )
        .await?
        .as_ref()
        .map(resource_from_row)
        .transpose()
    }

    async fn delete_resource(&self, arn: &str) -> Result<bool> {
        Ok(self
            .execute("DELETE FROM resources WHERE arn = $1", &[&arn])
            .await?
            > 0)
    }

    async fn list_resources(
        &self,
        kind: ResourceKind,
        parent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Resource>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = self
            .query(
                "SELECT arn, kind, parent, sort_key, body FROM resources
                 WHERE kind = $1 AND (parent = $2 OR ($2::text IS NULL AND parent IS NULL))
                 AND ($3::text IS NULL OR sort_key > $3)
                 ORDER BY sort_key LIMIT $4",
                &[&kind.as_str(), &parent, &after, &limit],
            )
            .await?;
        rows(found, resource_from_row)
    }

    async fn put_definition(&self, hash: &str, text: &str) -> Result<()> {
        self.execute(
            "INSERT INTO definitions (hash, text) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
            &[&hash, &text],
        )
        .await?;
        Ok(())
    }

    async fn get_definition(&self, hash: &str) -> Result<Option<String>> {
        self.query_opt("SELECT text FROM definitions WHERE hash = $1", &[&hash])
            .await?
            .map(|r| col(&r, 0))
            .transpose()
    }

    async fn secret(&self, name: &str, candidate: &str) -> Result<String> {
        self.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &candidate],
        )
        .await?;
        let row = self
            .query_opt("SELECT value FROM meta WHERE name = $1", &[&name])
            .await?
            .ok_or_else(|| StoreError::Backend(format!("secret {name} vanished")))?;
        col(&row, 0)
    }

    /// A session advisory lock on a pooled connection, keyed by the schema (two schemas in one
    /// database do not share it). Tried rather than waited for on the server, so a node that
    /// holds it while paused makes the others' writes fail after [`CATALOG_LOCK_WAIT`], not
    /// hang; a node that dies releases it with its connection.
    async fn lock_catalog(&self) -> Result<Option<CatalogLock>> {
        let client = self.client().await?;
        let began = std::time::Instant::now();
        loop {
            let row = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))",
                    &[&CATALOG_LOCK],
                )
                .await
                .map_err(db)?;
            if col::<bool>(&row, 0)? {
                return Ok(Some(CatalogLock::new(CatalogUnlock(Some(client)))));
            }
            if began.elapsed() > CATALOG_LOCK_WAIT {
                return Err(StoreError::Backend(format!(
                    "the catalog is being changed by another node (its lock was not free within {} s)",
                    CATALOG_LOCK_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// How long a catalog write waits for another node's.
const CATALOG_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The first key of the catalog's advisory lock (the second is the schema's hash).
const CATALOG_LOCK: i32 = 0x6361_746c; // "catl"

/// Releases the catalog lock when dropped: unlocks on the connection in the background and
/// gives it back to the pool, or closes it (which releases the lock too) when that fails.
struct CatalogUnlock(Option<deadpool_postgres::Client>);

impl Drop for CatalogUnlock {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            drop(deadpool_postgres::Object::take(client));
            return;
        };
        handle.spawn(async move {
            let unlocked = client
                .query_one(
                    "SELECT pg_advisory_unlock($1, hashtext(current_schema()))",
                    &[&CATALOG_LOCK],
                )
                .await;
            if !matches!(unlocked.and_then(|r| r.try_get::<_, bool>(0)), Ok(true)) {
                drop(deadpool_postgres::Object::take(client));
            }
        });
    }
}

#[async_trait]
impl ExecutionLog for PostgresStore {
    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        self.query_opt(
            &format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = $1"),
            &[&arn],
        )
        .await?
        .as_ref()
        .map(execution_from_row)
        .transpose()
    }

    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
        after: Option<&ExecutionCursor>,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>> {
        // Only the conditions that apply, so each query walks its index in order.
        let mut conditions = Vec::new();
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::new();
        let key = [
            ("map_run_arn", &filter.map_run_arn),
            ("version_arn", &filter.version_arn),
            ("alias_arn", &filter.alias_arn),
            ("state_machine_arn", &filter.state_machine_arn),
        ]
        .into_iter()
        .find_map(|(column, value)| value.as_ref().map(|v| (column, v)));
        if let Some((column, value)) = key {
            params.push(value);
            conditions.push(format!("{column} = ${}", params.len()));
        }
        if let Some(status) = &filter.status {
            params.push(status);
            conditions.push(format!("status = ${}", params.len()));
        }
        // A prefix as a range of names (bytewise, as the column's collation): the name index
        // can seek on it, and `%` or `_` in a name mean themselves.
        let prefix_end = filter.name_prefix.as_deref().map(prefix_end);
        if let Some(prefix) = &filter.name_prefix {
            params.push(prefix);
            conditions.push(format!("name >= ${}", params.len()));
            if let Some(Some(end)) = &prefix_end {
                params.push(end);
                conditions.push(format!("name < ${}", params.len()));
            }
        }
        if let Some(from) = &filter.started_from_ms {
            params.push(from);
            conditions.push(format!("start_ms >= ${}", params.len()));
        }
        if let Some(before) = &filter.started_before_ms {
            params.push(before);
            conditions.push(format!("start_ms < ${}", params.len()));
        }
        if let Some(cursor) = after {
            params.push(&cursor.start_ms);
            params.push(&cursor.arn);
            conditions.push(format!(
                "(start_ms, arn) < (${}, ${})",
                params.len() - 1,
                params.len()
            ));
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        params.push(&limit);
        let condition = if conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            conditions.join(" AND ")
        };
        let sql = format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE {condition}
             ORDER BY start_ms DESC, arn DESC LIMIT ${}",
            params.len()
        );
        rows(self.query(&sql, &params).await?, execution_from_row)
    }

    async fn open_executions(&self) -> Result<Vec<String>> {
        self.query("SELECT arn FROM executions WHERE status = 'RUNNING'", &[])
            .await?
            .iter()
            .map(|r| col(r, 0))
            .collect()
    }

    async fn closed_before(
        &self,
        before_ms: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String)>> {
        let (after_ms, after_arn) = closed_cursor(after);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query(
            "SELECT stop_ms, arn FROM executions
             WHERE stop_ms IS NOT NULL AND stop_ms < $1 AND (stop_ms, arn) > ($2, $3)
             AND status IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')
             ORDER BY stop_ms, arn LIMIT $4",
            &[&before_ms, &after_ms, &after_arn, &limit],
        )
        .await?
        .iter()
        .map(|r| Ok((col(r, 0)?, col(r, 1)?)))
        .collect()
    }

    async fn get_map_run(&self, arn: &str) -> Result<Option<MapRunRecord>> {
        self.query_opt(
            &format!("SELECT {MAP_RUN_COLUMNS} FROM map_runs WHERE arn = $1"),
            &[&arn],
        )
        .await?
        .as_ref()
        .map(map_run_from_row)
        .transpose()
    }

    async fn map_runs_of(&self, execution: &str) -> Result<Vec<MapRunRecord>> {
        let found = self
            .query(
                &format!(
                    "SELECT {MAP_RUN_COLUMNS} FROM map_runs WHERE execution = $1 ORDER BY start_ms, arn"
                ),
                &[&execution],
            )
            .await?;
        rows(found, map_run_from_row)
    }

    async fn map_run_counts(&self, arn: &str, batched: bool) -> Result<Vec<MapRunCount>> {
        let sql = if batched {
            "SELECT status, COUNT(*), COALESCE(SUM(CASE
                 WHEN json_typeof(input::json -> 'Items') = 'array'
                 THEN json_array_length(input::json -> 'Items') ELSE 0 END), 0)::bigint
             FROM executions WHERE map_run_arn = $1 GROUP BY status"
        } else {
            "SELECT status, COUNT(*), 0::bigint FROM executions WHERE map_run_arn = $1 GROUP BY status"
        };
        self.query(sql, &[&arn])
            .await?
            .iter()
            .map(|r| {
                Ok(MapRunCount {
                    status: col(r, 0)?,
                    executions: u64_of(col(r, 1)?),
                    batched_items: u64_of(col(r, 2)?),
                })
            })
            .collect()
    }

    async fn map_run_children(
        &self,
        arn: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>> {
        let from = i64_of(from);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = self
            .query(
                &format!(
                    "SELECT {EXECUTION_COLUMNS} FROM executions
                     WHERE map_run_arn = $1 AND map_run_index >= $2
                     ORDER BY map_run_index LIMIT $3"
                ),
                &[&arn, &from, &limit],
            )
            .await?;
        rows(found, execution_from_row)
    }

    async fn history(&self, execution: &str, from: u64, to: u64) -> Result<Vec<String>> {
        let (from_i, to_i) = (i64_of(from), i64_of(to));
        // The chunk holding `from` (the last to start at or before it), and those after it
        // that start by `to`.
        let rows = self
            .query(
                "SELECT first_id, codec, body FROM event_chunks
                 WHERE execution = $1 AND first_id <= $3 AND first_id >= COALESCE(
                     (SELECT max(first_id) FROM event_chunks WHERE execution = $1 AND first_id <= $2), 0)
                 ORDER BY first_id",
                &[&execution, &from_i, &to_i],
            )
            .await?;
        let mut events = Vec::new();
        for r in &rows {
            let first: i64 = col(r, 0)?;
            let codec: i64 = col(r, 1)?;
            let body: &[u8] = col(r, 2)?;
            stepwise_store::chunks::read_into(first as u64, codec, body, (from, to), &mut events)?;
        }
        Ok(events)
    }

    async fn steps(&self, execution: &str) -> Result<Vec<String>> {
        self.query(
            "SELECT body FROM steps WHERE execution = $1 ORDER BY seq",
            &[&execution],
        )
        .await?
        .iter()
        .map(|r| col(r, 0))
        .collect()
    }

    async fn due_timers(&self, before_ms: i64, limit: usize) -> Result<Vec<TimerRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = self
            .query(
                "SELECT execution, timer, fire_ms FROM timers WHERE fire_ms <= $1
             ORDER BY fire_ms LIMIT $2",
                &[&before_ms, &limit],
            )
            .await?;
        rows(found, timer_from_row)
    }

    async fn next_queued_tasks(&self, activity: &str, limit: usize) -> Result<Vec<TaskRow>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let found = self
            .query(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM tasks WHERE activity = $1 AND worker IS NULL
                     ORDER BY created_ms, token LIMIT $2"
                ),
                &[&activity, &limit],
            )
            .await?;
        rows(found, task_from_row)
    }

    async fn taken_tasks(&self, activity: &str, worker_prefix: &str) -> Result<Vec<TaskRow>> {
        let found = self
            .query(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM tasks WHERE activity = $1 AND worker IS NOT NULL
                     AND left(worker, length($2)) = $2 ORDER BY created_ms, token"
                ),
                &[&activity, &worker_prefix],
            )
            .await?;
        rows(found, task_from_row)
    }

    async fn task_by_token(&self, token: &str) -> Result<Option<TaskRow>> {
        self.query_opt(
            &format!("SELECT {TASK_COLUMNS} FROM tasks WHERE token = $1"),
            &[&token],
        )
        .await?
        .as_ref()
        .map(task_from_row)
        .transpose()
    }

    async fn tasks_of(&self, execution: &str) -> Result<Vec<TaskRow>> {
        let found = self
            .query(
                &format!(
                    "SELECT {TASK_COLUMNS} FROM tasks WHERE execution = $1 ORDER BY created_ms"
                ),
                &[&execution],
            )
            .await?;
        rows(found, task_from_row)
    }

    fn cluster(&self) -> Option<&dyn stepwise_store::Cluster> {
        Some(self)
    }

    async fn commit(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db)?;
        if let Some(fence) = &batch.fence {
            cluster::check_fence(&tx, fence).await?;
        }
        let ops = Ops::of(batch, self.partitions, &self.channel);
        let mut statements = Vec::with_capacity(ops.0.len());
        for op in &ops.0 {
            statements.push(tx.prepare_cached(op.sql).await.map_err(db)?);
        }
        // Pipelined: every statement is sent, in order, before the first answer is awaited.
        let sent = ops.0.iter().zip(&statements).map(|(op, stmt)| {
            let params: Vec<&(dyn ToSql + Sync)> = op
                .params
                .iter()
                .map(|p| &**p as &(dyn ToSql + Sync))
                .collect();
            let tx = &tx;
            async move { tx.execute(stmt, &params).await }
        });
        let changed = futures_util::future::try_join_all(sent).await.map_err(db)?;
        for (op, n) in ops.0.iter().zip(changed) {
            if op.rows.is_some_and(|want| want != n) {
                tx.rollback().await.map_err(db)?;
                return Err(StoreError::Conflict(
                    "history events already stored were written again".into(),
                ));
            }
        }
        tx.commit().await.map_err(db)
    }
}

/// One statement of a commit and its parameters (owned, so that all of them can be sent
/// before any answer comes back).
struct Op {
    sql: &'static str,
    params: Vec<Box<dyn ToSql + Sync + Send>>,
    /// The rows it must change, if that is part of its meaning (else the batch conflicts).
    rows: Option<u64>,
}

/// A batch's statements, in the order the SQLite backend applies them.
struct Ops(Vec<Op>);

impl Ops {
    fn push(&mut self, sql: &'static str, params: Vec<Box<dyn ToSql + Sync + Send>>) {
        self.0.push(Op {
            sql,
            params,
            rows: None,
        });
    }

    fn of(batch: &Batch, partitions: u32, channel: &str) -> Ops {
        let mut ops = Ops(Vec::new());
        for e in &batch.new_executions {
            ops.push(
                "INSERT INTO executions (arn, state_machine_arn, version_arn, alias_arn, name,
                 status, start_ms, stop_ms, input, output, error, cause, definition_hash,
                 role_arn, trace_header, redrive_count, redrive_ms, event_count, step_count,
                 parent, test_case, history_digest, clock_offset_ms, map_run_arn, map_run_index)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 $17, $18, $19, $20, $21, $22, $23, $24, $25)",
                vec![
                    Box::new(e.arn.clone()),
                    Box::new(e.state_machine_arn.clone()),
                    Box::new(e.version_arn.clone()),
                    Box::new(e.alias_arn.clone()),
                    Box::new(e.name.clone()),
                    Box::new(e.status.clone()),
                    Box::new(e.start_ms),
                    Box::new(e.stop_ms),
                    Box::new(e.input.clone()),
                    Box::new(e.output.clone()),
                    Box::new(e.error.clone()),
                    Box::new(e.cause.clone()),
                    Box::new(e.definition_hash.clone()),
                    Box::new(e.role_arn.clone()),
                    Box::new(e.trace_header.clone()),
                    Box::new(i64::from(e.redrive_count)),
                    Box::new(e.redrive_ms),
                    Box::new(i64_of(e.event_count)),
                    Box::new(i64_of(e.step_count)),
                    Box::new(e.parent.clone()),
                    Box::new(e.test_case.clone()),
                    Box::new(e.history_digest.clone()),
                    Box::new(e.clock_offset_ms),
                    Box::new(e.map_run_arn.clone()),
                    Box::new(e.map_run_index.map(i64_of)),
                ],
            );
        }
        for u in &batch.updates {
            ops.push(
                "UPDATE executions SET status = $2, stop_ms = $3, output = $4, error = $5,
                 cause = $6, event_count = $7, step_count = $8, redrive_count = $9,
                 redrive_ms = $10, history_digest = $11, clock_offset_ms = $12 WHERE arn = $1",
                vec![
                    Box::new(u.arn.clone()),
                    Box::new(u.status.clone()),
                    Box::new(u.stop_ms),
                    Box::new(u.output.clone()),
                    Box::new(u.error.clone()),
                    Box::new(u.cause.clone()),
                    Box::new(i64_of(u.event_count)),
                    Box::new(i64_of(u.step_count)),
                    Box::new(i64::from(u.redrive_count)),
                    Box::new(u.redrive_ms),
                    Box::new(u.history_digest.clone()),
                    Box::new(u.clock_offset_ms),
                ],
            );
        }
        for change in &batch.map_runs {
            ops.map_run(change);
        }
        if !batch.steps.is_empty() {
            let (executions, seqs, bodies) = columns(&batch.steps);
            ops.push(
                "INSERT INTO steps (execution, seq, body)
                 SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[])",
                vec![Box::new(executions), Box::new(seqs), Box::new(bodies)],
            );
        }
        if !batch.events.is_empty() {
            let chunks = stepwise_store::chunks::chunks(&batch.events);
            let mut executions = Vec::with_capacity(chunks.len());
            let (mut firsts, mut lasts, mut codecs) = (Vec::new(), Vec::new(), Vec::new());
            let mut bodies = Vec::with_capacity(chunks.len());
            for c in chunks {
                executions.push(c.execution);
                firsts.push(i64_of(c.first_id));
                lasts.push(i64_of(c.last_id));
                codecs.push(c.codec);
                bodies.push(c.body);
            }
            // A chunk overlapping one already stored (event ids written twice) is not added,
            // and the batch then conflicts. Stored chunks do not overlap, so only the last one
            // starting by a new chunk's end can.
            let rows = Some(executions.len() as u64);
            ops.0.push(Op {
                sql: "INSERT INTO event_chunks (execution, first_id, last_id, codec, body)
                 SELECT c.* FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bytea[])
                     AS c(execution, first_id, last_id, codec, body)
                 WHERE NOT EXISTS (
                     SELECT 1 FROM (SELECT o.last_id FROM event_chunks o
                                    WHERE o.execution = c.execution AND o.first_id <= c.last_id
                                    ORDER BY o.first_id DESC LIMIT 1) p
                     WHERE p.last_id >= c.first_id)",
                params: vec![
                    Box::new(executions),
                    Box::new(firsts),
                    Box::new(lasts),
                    Box::new(codecs),
                    Box::new(bodies),
                ],
                rows,
            });
        }
        for change in &batch.timers {
            match change {
                TimerChange::Add(t) => ops.push(
                    "INSERT INTO timers (execution, timer, fire_ms, part) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (execution, timer) DO UPDATE SET fire_ms = EXCLUDED.fire_ms",
                    vec![
                        Box::new(t.execution.clone()),
                        Box::new(i64_of(t.timer)),
                        Box::new(t.fire_ms),
                        Box::new(partition_of(&t.execution, partitions) as i32),
                    ],
                ),
                TimerChange::Remove { execution, timer } => ops.push(
                    "DELETE FROM timers WHERE execution = $1 AND timer = $2",
                    vec![Box::new(execution.clone()), Box::new(i64_of(*timer))],
                ),
            }
        }
        for change in &batch.tasks {
            match change {
                TaskChange::Add(t) => ops.push(
                    "INSERT INTO tasks (token, execution, task, activity, input, created_ms, worker,
                     part) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    vec![
                        Box::new(t.token.clone()),
                        Box::new(t.execution.clone()),
                        Box::new(i64_of(t.task)),
                        Box::new(t.activity.clone()),
                        Box::new(t.input.clone()),
                        Box::new(t.created_ms),
                        Box::new(t.worker.clone()),
                        Box::new(partition_of(&t.execution, partitions) as i32),
                    ],
                ),
                TaskChange::Start { token, worker } => ops.push(
                    "UPDATE tasks SET worker = $2 WHERE token = $1",
                    vec![Box::new(token.clone()), Box::new(worker.clone())],
                ),
                TaskChange::Remove { token } => ops.push(
                    "DELETE FROM tasks WHERE token = $1",
                    vec![Box::new(token.clone())],
                ),
            }
        }
        // Last, so a timer or task added earlier in the same batch goes too.
        for u in batch.updates.iter().filter(|u| u.closed) {
            ops.push(
                "DELETE FROM timers WHERE execution = $1",
                vec![Box::new(u.arn.clone())],
            );
            ops.push(
                "DELETE FROM tasks WHERE execution = $1",
                vec![Box::new(u.arn.clone())],
            );
        }
        cluster::inbox_ops(&mut ops, batch, channel);
        if !batch.purge.executions.is_empty() {
            // Last: after this batch's updates (a redrive in it keeps its execution).
            ops.push(
                "WITH gone AS (
                    DELETE FROM executions e WHERE e.arn = ANY($1) AND e.stop_ms < $2
                    AND e.status IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED')
                    AND NOT EXISTS (SELECT 1 FROM map_runs m JOIN executions p ON p.arn = m.execution
                                    WHERE m.arn = e.map_run_arn
                                    AND p.status NOT IN ('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'))
                    RETURNING e.arn
                 ), events_gone AS (DELETE FROM event_chunks WHERE execution IN (SELECT arn FROM gone)),
                 steps_gone AS (DELETE FROM steps WHERE execution IN (SELECT arn FROM gone)),
                 timers_gone AS (DELETE FROM timers WHERE execution IN (SELECT arn FROM gone)),
                 tasks_gone AS (DELETE FROM tasks WHERE execution IN (SELECT arn FROM gone))
                 DELETE FROM map_runs WHERE execution IN (SELECT arn FROM gone)",
                vec![
                    Box::new(batch.purge.executions.clone()),
                    Box::new(batch.purge.before_ms),
                ],
            );
        }
        ops
    }

    fn map_run(&mut self, change: &MapRunChange) {
        match change {
            MapRunChange::Start {
                arn,
                execution,
                start_ms,
            } => self.push(
                "INSERT INTO map_runs (arn, execution, status, start_ms)
                 VALUES ($1, $2, 'RUNNING', $3) ON CONFLICT (arn) DO NOTHING",
                vec![
                    Box::new(arn.clone()),
                    Box::new(execution.clone()),
                    Box::new(*start_ms),
                ],
            ),
            MapRunChange::Configure {
                arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
                children,
                items,
            } => self.push(
                "UPDATE map_runs SET max_concurrency = $2, tolerated_count = $3,
                 tolerated_pct = $4, children = COALESCE($5, children),
                 items = COALESCE($6, items) WHERE arn = $1",
                vec![
                    Box::new(arn.clone()),
                    Box::new(i64_of(*max_concurrency)),
                    Box::new(*tolerated_failure_count),
                    Box::new(*tolerated_failure_percentage),
                    Box::new(children.map(i64_of)),
                    Box::new(items.map(i64_of)),
                ],
            ),
            MapRunChange::Counted {
                arn,
                children,
                items,
            } => self.push(
                "UPDATE map_runs SET children = $2, items = COALESCE($3, items) WHERE arn = $1",
                vec![
                    Box::new(arn.clone()),
                    Box::new(i64_of(*children)),
                    Box::new(items.map(i64_of)),
                ],
            ),
            MapRunChange::End {
                arn,
                status,
                stop_ms,
            } => self.push(
                "UPDATE map_runs SET status = $2, stop_ms = $3 WHERE arn = $1",
                vec![
                    Box::new(arn.clone()),
                    Box::new(status.clone()),
                    Box::new(*stop_ms),
                ],
            ),
            MapRunChange::Redrive { arn, redrive_ms } => self.push(
                "UPDATE map_runs SET status = 'RUNNING', stop_ms = NULL,
                 redrive_count = redrive_count + 1, redrive_ms = $2 WHERE arn = $1",
                vec![Box::new(arn.clone()), Box::new(*redrive_ms)],
            ),
        }
    }
}

/// `(execution, n, body)` rows as three columns, for an `UNNEST` insert.
fn columns(rows: &[(String, u64, String)]) -> (Vec<String>, Vec<i64>, Vec<String>) {
    let mut executions = Vec::with_capacity(rows.len());
    let mut ns = Vec::with_capacity(rows.len());
    let mut bodies = Vec::with_capacity(rows.len());
    for (execution, n, body) in rows {
        executions.push(execution.clone());
        ns.push(i64_of(*n));
        bodies.push(body.clone());
    }
    (executions, ns, bodies)
}
