//! The test PostgreSQL database (`STEPWISE_TEST_POSTGRES_URL`, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`) and a schema of its own for each test, made
//! before the test and dropped after it (also when it fails), so that tests running at once
//! never see each other's tables.
//!
//! Without the variable a test skips with a note, unless `STEPWISE_E2E_REQUIRED` says the
//! machine must have the database (CI sets both).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

/// The database's address, or `None` (with a note) where the machine has none; a failure
/// instead when `STEPWISE_E2E_REQUIRED` is set.
pub fn url() -> Option<String> {
    match std::env::var("STEPWISE_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
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

/// `url` with libpq's `options` parameter setting the `search_path` to `schema`: the URL that
/// puts a Stepwise server's tables in that schema. Both forms of address are taken: a URL
/// (`postgres://...`, a query parameter) and libpq's `key=value` words.
pub fn url_in_schema(url: &str, schema: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-csearch_path%3D{schema}")
    } else {
        format!("{url} options=-csearch_path={schema}")
    }
}

/// A schema of its own in the test database, dropped (with everything in it) when this is
/// dropped.
#[derive(Debug)]
pub struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// Makes a fresh, empty schema named after `what` (lowercase letters, digits and `_`), the
    /// process and a counter; `None` where the machine has no database (see [`url`]).
    pub fn fresh(what: &str) -> Option<Schema> {
        static N: AtomicU64 = AtomicU64::new(0);
        let url = url()?;
        let name = format!(
            "stepwise_{what}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        assert!(
            name.len() <= 63
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "'{name}' is not a plain schema name"
        );
        let schema = Schema { url, name };
        schema.execute(&format!(
            "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
            schema.name
        ));
        Some(schema)
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database URL whose connections keep their tables in this schema.
    pub fn url(&self) -> String {
        url_in_schema(&self.url, &self.name)
    }

    /// Runs `sql` (one or more statements) in this schema; panics when it fails.
    pub fn execute(&self, sql: &str) {
        let (url, sql) = (self.url(), sql.to_owned());
        if let Err(e) = on_a_thread(async move {
            let client = connect(&url).await?;
            client.batch_execute(&sql).await
        }) {
            panic!("{e}");
        }
    }

    /// The number `sql` answers (its first row's first column, as `COUNT(*)` gives it), in
    /// this schema; panics when the query fails.
    pub fn count(&self, sql: &str) -> i64 {
        let (url, query) = (self.url(), sql.to_owned());
        match on_a_thread(async move {
            let client = connect(&url).await?;
            client
                .query_one(&query, &[])
                .await
                .map(|r| r.get::<_, i64>(0))
        }) {
            Ok(n) => n,
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (url, sql) = (
            self.url.clone(),
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
        let dropped = on_a_thread(async move {
            let client = connect(&url).await?;
            client.batch_execute(&sql).await
        });
        if let Err(e) = dropped {
            eprintln!("note: schema {} was not dropped: {e}", self.name);
        }
    }
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// Runs `f` to its end on a runtime of its own, on a thread of its own (so that it works
/// inside a test's runtime as well as outside any).
fn on_a_thread<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    })
    .join()
    .expect("the database thread")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_goes_into_either_form_of_address() {
        assert_eq!(
            url_in_schema("postgres://u@h:5432/db", "s_1"),
            "postgres://u@h:5432/db?options=-csearch_path%3Ds_1"
        );
        assert_eq!(
            url_in_schema("postgresql://u@h/db?sslmode=disable", "s"),
            "postgresql://u@h/db?sslmode=disable&options=-csearch_path%3Ds"
        );
        assert_eq!(
            url_in_schema("host=h user=u", "s"),
            "host=h user=u options=-csearch_path=s"
        );
    }

    #[test]
    fn a_fresh_schema_is_empty_holds_what_is_made_in_it_and_is_dropped_after() {
        let Some(schema) = Schema::fresh("support") else {
            return;
        };
        let name = schema.name().to_owned();
        assert_eq!(
            schema.count("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()"),
            0
        );
        schema.execute("CREATE TABLE t (n BIGINT); INSERT INTO t VALUES (1), (2)");
        assert_eq!(schema.count(&format!("SELECT COUNT(*) FROM {name}.t")), 2);
        let other = Schema::fresh("support").expect("a second schema");
        assert_ne!(other.name(), name);
        other.execute("CREATE TABLE t (n BIGINT)");
        assert_eq!(other.count("SELECT COUNT(*) FROM t"), 0, "its own table");
        drop(schema);
        assert_eq!(
            other.count(&format!(
                "SELECT COUNT(*) FROM pg_namespace WHERE nspname = '{name}'"
            )),
            0,
            "dropped"
        );
    }
}
