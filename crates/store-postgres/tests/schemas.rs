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
