//! A store whose Nth commit fails, for tests of what a failed group commit does to the
//! executions in it: every call goes to the wrapped store, except that commit number `n`
//! (counting from 1) returns [`StoreError::Backend`] and applies nothing, as a backend that lost
//! its disk or connection would.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use stepwise_store::{
    Batch, Catalog, ExecutionCursor, ExecutionFilter, ExecutionLog, ExecutionRecord, Resource,
    ResourceKind, Result, Store, StoreError, TaskRow, TimerRow,
};

/// Wraps a store; its `fail_on`th commit fails (only that one).
#[derive(Debug)]
pub struct FailingCommitStore {
    inner: Arc<dyn Store>,
    fail_on: u64,
    commits: AtomicU64,
}

impl FailingCommitStore {
    /// `inner`, whose commit number `fail_on` (from 1) fails.
    pub fn new(inner: Arc<dyn Store>, fail_on: u64) -> FailingCommitStore {
        FailingCommitStore {
            inner,
            fail_on,
            commits: AtomicU64::new(0),
        }
    }

    /// How many commits were tried, the failed one included.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Catalog for FailingCommitStore {
    async fn create_resource(&self, resource: &Resource) -> Result<()> {
        self.inner.create_resource(resource).await
    }

    async fn put_resource(&self, resource: &Resource) -> Result<()> {
        self.inner.put_resource(resource).await
    }

    async fn get_resource(&self, arn: &str) -> Result<Option<Resource>> {
        self.inner.get_resource(arn).await
    }

    async fn delete_resource(&self, arn: &str) -> Result<bool> {
        self.inner.delete_resource(arn).await
    }

    async fn list_resources(
        &self,
        kind: ResourceKind,
        parent: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Resource>> {
        self.inner.list_resources(kind, parent, after, limit).await
    }

    async fn put_definition(&self, hash: &str, text: &str) -> Result<()> {
        self.inner.put_definition(hash, text).await
    }

    async fn get_definition(&self, hash: &str) -> Result<Option<String>> {
        self.inner.get_definition(hash).await
    }

    async fn secret(&self, name: &str, candidate: &str) -> Result<String> {
        self.inner.secret(name, candidate).await
    }

    async fn lock_catalog(&self) -> Result<Option<stepwise_store::CatalogLock>> {
        self.inner.lock_catalog().await
    }
}

#[async_trait]
impl ExecutionLog for FailingCommitStore {
    async fn get_execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        self.inner.get_execution(arn).await
    }

    async fn get_map_run(&self, arn: &str) -> Result<Option<stepwise_store::MapRunRecord>> {
        self.inner.get_map_run(arn).await
    }

    async fn map_runs_of(&self, execution: &str) -> Result<Vec<stepwise_store::MapRunRecord>> {
        self.inner.map_runs_of(execution).await
    }

    async fn map_run_counts(
        &self,
        arn: &str,
        batched: bool,
    ) -> Result<Vec<stepwise_store::MapRunCount>> {
        self.inner.map_run_counts(arn, batched).await
    }

    async fn map_run_children(
        &self,
        arn: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>> {
        self.inner.map_run_children(arn, from, limit).await
    }

    async fn list_executions(
        &self,
        filter: &ExecutionFilter,
        after: Option<&ExecutionCursor>,
        limit: usize,
    ) -> Result<Vec<ExecutionRecord>> {
        self.inner.list_executions(filter, after, limit).await
    }

    async fn open_executions(&self) -> Result<Vec<String>> {
        self.inner.open_executions().await
    }

    async fn closed_before(
        &self,
        before_ms: i64,
        after: Option<&(i64, String)>,
        limit: usize,
    ) -> Result<Vec<(i64, String)>> {
        self.inner.closed_before(before_ms, after, limit).await
    }

    async fn history(&self, execution: &str, from: u64, to: u64) -> Result<Vec<String>> {
        self.inner.history(execution, from, to).await
    }

    async fn steps(&self, execution: &str) -> Result<Vec<String>> {
        self.inner.steps(execution).await
    }

    async fn due_timers(&self, before_ms: i64, limit: usize) -> Result<Vec<TimerRow>> {
        self.inner.due_timers(before_ms, limit).await
    }

    async fn next_queued_tasks(&self, activity: &str, limit: usize) -> Result<Vec<TaskRow>> {
        self.inner.next_queued_tasks(activity, limit).await
    }

    async fn taken_tasks(&self, activity: &str, worker_prefix: &str) -> Result<Vec<TaskRow>> {
        self.inner.taken_tasks(activity, worker_prefix).await
    }

    async fn task_by_token(&self, token: &str) -> Result<Option<TaskRow>> {
        self.inner.task_by_token(token).await
    }

    async fn tasks_of(&self, execution: &str) -> Result<Vec<TaskRow>> {
        self.inner.tasks_of(execution).await
    }

    async fn commit(&self, batch: &Batch) -> Result<()> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_on {
            return Err(StoreError::Backend(format!(
                "commit {n} failed on purpose (FailingCommitStore)"
            )));
        }
        self.inner.commit(batch).await
    }
}

#[cfg(test)]
mod tests {
    use stepwise_store::SqliteStore;

    use super::*;
    use crate::records::ExecutionRecordBuilder;

    fn starting(name: &str) -> Batch {
        let record = ExecutionRecordBuilder::new("m", name).build();
        let arn = record.arn.clone();
        Batch {
            new_executions: vec![record],
            events: vec![(arn, 1, "ExecutionStarted".into())],
            ..Batch::default()
        }
    }

    #[tokio::test]
    async fn only_the_nth_commit_fails_and_it_keeps_nothing() {
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory store"));
        let store = FailingCommitStore::new(inner.clone(), 2);

        store
            .commit(&starting("a"))
            .await
            .expect("the first commit");
        let failed = store.commit(&starting("b")).await;
        assert!(
            matches!(&failed, Err(StoreError::Backend(m)) if m.contains("commit 2")),
            "{failed:?}"
        );
        store
            .commit(&starting("c"))
            .await
            .expect("the third commit");
        assert_eq!(store.commits(), 3);

        let names: Vec<String> = store
            .list_executions(&ExecutionFilter::default(), None, 10)
            .await
            .expect("list")
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"a".into()) && names.contains(&"c".into()));
        let b = ExecutionRecordBuilder::new("m", "b").build().arn;
        assert_eq!(inner.get_execution(&b).await.expect("get"), None);
        assert!(
            inner
                .history(&b, 1, u64::MAX)
                .await
                .expect("history")
                .is_empty()
        );
    }

    #[tokio::test]
    async fn everything_else_reaches_the_wrapped_store() {
        let inner: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory store"));
        let store = FailingCommitStore::new(inner.clone(), 1);
        store.put_definition("h", "{}").await.expect("put");
        assert_eq!(
            inner.get_definition("h").await.expect("get").as_deref(),
            Some("{}")
        );
        assert_eq!(store.secret("k", "v").await.expect("secret"), "v");
        assert_eq!(inner.secret("k", "other").await.expect("secret"), "v");
        assert!(store.commit(&starting("a")).await.is_err());
        assert_eq!(
            store.open_executions().await.expect("open"),
            Vec::<String>::new()
        );
    }
}
