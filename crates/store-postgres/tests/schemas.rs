//! Where the store keeps its tables on PostgreSQL (`STEPWISE_TEST_POSTGRES_URL`): in the schema
//! a URL's `options` name on the `search_path` (made if missing), and in a schema an
//! administrator made for a role that may not create schemas itself.
//!
//! Without the variable the tests pass with a note, unless `STEPWISE_E2E_REQUIRED` says the
//! machine must have the database (CI sets both).

use stepwise_store::contract::records::{ExecutionRecordBuilder, execution_arn};
use stepwise_store::{Batch, ExecutionLog};
use stepwise_store_postgres::PostgresStore;
use stepwise_test_support::postgres::url;

/// A connection as the URL's user (an administrator of the test database).
async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(conn);
    client
}

/// Runs `sql` as the administrator when dropped (the cleanup, even when the test fails).
struct Cleanup {
    url: String,
    sql: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let (url, sql) = (self.url.clone(), self.sql.clone());
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
                    if let Err(e) = client.batch_execute(&sql).await {
                        eprintln!("cleanup failed ({sql}): {e}");
                    }
                }
            });
        })
        .join();
    }
}

/// The same database as `url`, as another user (libpq's `key=value` form).
fn as_user(url: &str, user: &str, password: &str) -> String {
    let config: tokio_postgres::Config = url.parse().expect("a PostgreSQL URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or("postgres");
    format!("host={host} port={port} dbname={dbname} user={user} password={password}")
}

#[tokio::test]
async fn a_role_given_a_schema_needs_no_right_to_create_schemas() {
    let Some(url) = url() else { return };
    let role = format!("stepwise_test_role_{}", std::process::id());
    let schema = format!("stepwise_test_{}_granted", std::process::id());
    let client = admin(&url).await;
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; DROP ROLE IF EXISTS {role};
             CREATE ROLE {role} LOGIN PASSWORD 'pw';
             CREATE SCHEMA {schema} AUTHORIZATION {role};"
        ))
        .await
        .expect("make the role and its schema");
    let _cleanup = Cleanup {
        url: url.clone(),
        sql: format!("DROP SCHEMA IF EXISTS {schema} CASCADE; DROP ROLE IF EXISTS {role};"),
    };
    let may_create: bool = client
        .query_one(
            "SELECT has_database_privilege($1, current_database(), 'CREATE')",
            &[&role],
        )
        .await
        .expect("privilege")
        .get(0);
    assert!(!may_create, "the role must not be able to create schemas");

    let store = PostgresStore::connect_in_schema(&as_user(&url, &role, "pw"), &schema)
        .await
        .expect("the role opens the store in the schema it was given");
    store
        .commit(&Batch {
            new_executions: vec![ExecutionRecordBuilder::new("m", "granted").build()],
            ..Batch::default()
        })
        .await
        .expect("commit");
    let again = PostgresStore::connect_in_schema(&as_user(&url, &role, "pw"), &schema)
        .await
        .expect("opened again");
    assert!(
        again
            .get_execution(&execution_arn("m", "granted"))
            .await
            .expect("read")
            .is_some(),
        "the execution is kept"
    );
    let rows: i64 = client
        .query_one(&format!("SELECT COUNT(*) FROM {schema}.executions"), &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 1, "the tables are in the schema given");
}

/// `url` with libpq's `options` setting the search_path to `schema`.
fn in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

#[tokio::test]
async fn the_schema_a_url_names_is_made_and_keeps_that_stores_tables_apart() {
    let Some(url) = url() else { return };
    let schemas = [
        format!("stepwise_test_{}_url_a", std::process::id()),
        format!("stepwise_test_{}_url_b", std::process::id()),
    ];
    let client = admin(&url).await;
    let mut cleanups = Vec::new();
    for schema in &schemas {
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .await
            .expect("no such schema yet");
        cleanups.push(Cleanup {
            url: url.clone(),
            sql: format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        });
    }
    for (schema, name) in schemas.iter().zip(["in-a", "in-b"]) {
        let store = PostgresStore::connect(&in_schema(&url, schema))
            .await
            .expect("connect with the schema in the URL");
        store
            .commit(&Batch {
                new_executions: vec![ExecutionRecordBuilder::new("m", name).build()],
                ..Batch::default()
            })
            .await
            .expect("commit");
    }
    for (schema, (mine, theirs)) in schemas.iter().zip([("in-a", "in-b"), ("in-b", "in-a")]) {
        let rows: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM {schema}.executions"), &[])
            .await
            .expect("the schema was made with the tables in it")
            .get(0);
        assert_eq!(rows, 1, "one execution in {schema}");
        // Opened again, as a restarted server does: it sees its own and only its own.
        let store = PostgresStore::connect(&in_schema(&url, schema))
            .await
            .expect("connect again");
        assert!(
            store
                .get_execution(&execution_arn("m", mine))
                .await
                .expect("read")
                .is_some(),
            "{mine} is kept in {schema}"
        );
        assert!(
            store
                .get_execution(&execution_arn("m", theirs))
                .await
                .expect("read")
                .is_none(),
            "{theirs} is not in {schema}"
        );
    }
}

/// A database from before history chunks (schema version 3, one row per event) keeps its
/// history when a newer build opens it.
#[tokio::test]
async fn a_database_with_one_row_per_event_keeps_its_history() {
    let Some(url) = url() else { return };
    let schema = format!("stepwise_test_{}_v3", std::process::id());
    let client = admin(&url).await;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("no such schema yet");
    let _cleanup = Cleanup {
        url: url.clone(),
        sql: format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
    };
    let exec = ExecutionRecordBuilder::new("m", "old").build();
    {
        let store = PostgresStore::connect(&in_schema(&url, &schema))
            .await
            .expect("connect");
        store
            .commit(&Batch {
                new_executions: vec![exec.clone()],
                ..Batch::default()
            })
            .await
            .expect("commit");
    }
    client
        .batch_execute(&format!(
            "SET search_path = {schema};
             DROP TABLE event_chunks;
             CREATE TABLE events (execution TEXT COLLATE \"C\" NOT NULL, id BIGINT NOT NULL,
                 body TEXT NOT NULL, PRIMARY KEY (execution, id));
             INSERT INTO events VALUES ('{arn}', 1, '{{\"id\":1}}'), ('{arn}', 2, '{{\"id\":2}}');
             UPDATE stepwise_schema SET version = 3;
             RESET search_path;",
            arn = exec.arn
        ))
        .await
        .expect("the old layout");
    let store = PostgresStore::connect(&in_schema(&url, &schema))
        .await
        .expect("reopen migrates");
    assert_eq!(
        store.history(&exec.arn, 1, 10).await.expect("history"),
        [r#"{"id":1}"#, r#"{"id":2}"#]
    );
    let mut batch = Batch::default();
    for id in 3..=30 {
        batch.events.push((
            exec.arn.clone(),
            id,
            format!("{{\"id\":{id},\"pad\":\"{}\"}}", "y".repeat(20)),
        ));
    }
    store.commit(&batch).await.expect("commit");
    let all = store.history(&exec.arn, 2, 4).await.expect("history");
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], r#"{"id":2}"#);
    assert!(all[2].starts_with(r#"{"id":4,"#), "{}", all[2]);
    // Written again, the same events fail the batch.
    let again = Batch {
        events: vec![(exec.arn.clone(), 5, "{}".into())],
        ..Batch::default()
    };
    assert!(store.commit(&again).await.is_err());
}
