//! The store contract: what every backend must do, as async functions over `&dyn Store`, and
//! [`store_contract!`](crate::store_contract), which makes each of them a test for one backend.
//! A backend in any crate runs the whole suite with one line in its tests:
//!
//! ```ignore
//! stepwise_store::store_contract!(async { MyStore::fresh().await });
//! ```
//!
//! where the expression gives a fresh, empty store for each test (anything that derefs to a
//! `dyn Store`, e.g. an `Arc<dyn Store>`, or a guard that also owns its temporary files).
//! Behind the `contract` feature; [`records`] builds the rows it writes.

pub mod records;

use serde_json::json;

use crate::{
    Batch, ExecutionCursor, ExecutionFilter, ExecutionRecord, Resource, ResourceKind, Store,
    StoreError, TaskChange, TaskRow, TimerChange, TimerRow,
};
use records::{ExecutionRecordBuilder, ExecutionUpdateBuilder};

/// Makes one `#[tokio::test]` per contract function, each on a fresh store from `$fresh` (an
/// expression evaluating to a future of the store: anything that derefs to a `dyn Store`).
/// `store_contract!(optional FRESH)` takes a future of an `Option` of the store instead, and
/// a test whose store is `None` (its backend is not on this machine) returns at once. The
/// calling crate needs tokio as a dev-dependency.
#[macro_export]
macro_rules! store_contract {
    (optional $fresh:expr) => {
        $crate::store_contract!(@names [optional] $fresh);
    };
    ($fresh:expr) => {
        $crate::store_contract!(@names [always] $fresh);
    };
    (@names [$mode:ident] $fresh:expr) => {
        $crate::store_contract!(@each [$mode] $fresh;
            resources_create_once_list_in_order_and_delete,
            definitions_are_kept_by_hash,
            a_batch_is_applied_whole_or_not_at_all,
            executions_list_newest_first_with_filters_and_cursor,
            timers_come_due_in_order_and_go_with_their_execution,
            tasks_queue_oldest_first_until_taken,
            a_secret_is_made_once_and_kept,
            an_execution_keeps_its_parent_and_test_case,
            a_map_runs_children_are_listed_by_it_newest_first,
            a_map_runs_children_are_read_in_item_order_from_an_index,
            a_map_runs_count_is_recorded_once_its_items_are_read,
            concurrent_commits_of_different_executions_all_apply,
            executions_are_searched_by_name_prefix_and_start_time_page_by_page,
            closed_executions_are_purged_with_all_of_theirs
        );
    };
    (@each [always] $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store = $fresh.await;
                $crate::contract::$name(&*store).await;
            }
        )*
    };
    (@each [optional] $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(store) = $fresh.await else { return };
                $crate::contract::$name(&*store).await;
            }
        )*
    };
}

fn machine(name: &str) -> Resource {
    Resource {
        arn: format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"),
        kind: ResourceKind::StateMachine,
        parent: None,
        sort_key: name.to_owned(),
        body: json!({"name": name}),
    }
}

fn execution(machine: &str, name: &str, start_ms: i64) -> ExecutionRecord {
    ExecutionRecordBuilder::new(machine, name)
        .start_ms(start_ms)
        .build()
}

fn task(execution: &str, token: &str, created_ms: i64) -> TaskRow {
    TaskRow {
        token: token.into(),
        execution: execution.into(),
        task: 1,
        activity: "arn:aws:states:us-east-1:123456789012:activity:work".into(),
        input: "{}".into(),
        created_ms,
        worker: None,
    }
}

pub async fn resources_create_once_list_in_order_and_delete(s: &dyn Store) {
    for name in ["b", "a", "c"] {
        s.create_resource(&machine(name)).await.expect("create");
    }
    assert!(
        matches!(
            s.create_resource(&machine("a")).await,
            Err(StoreError::Conflict(_))
        ),
        "a second create of the same ARN conflicts"
    );
    let page = s
        .list_resources(ResourceKind::StateMachine, None, None, 2)
        .await
        .expect("list");
    let names: Vec<_> = page.iter().map(|r| r.sort_key.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    let rest = s
        .list_resources(ResourceKind::StateMachine, None, Some("b"), 10)
        .await
        .expect("list");
    assert_eq!(rest.len(), 1);
    assert!(
        s.list_resources(ResourceKind::Activity, None, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
    // A parent lists its own; no parent lists those with none (another account's state
    // machines are filed under their account).
    let mut filed = machine("d");
    filed.arn = "arn:aws:states:us-east-1:111122223333:stateMachine:d".into();
    filed.parent = Some("arn:aws:states:us-east-1:111122223333:".into());
    s.create_resource(&filed).await.expect("create");
    let top = s
        .list_resources(ResourceKind::StateMachine, None, None, 10)
        .await
        .expect("list");
    let names: Vec<_> = top.iter().map(|r| r.sort_key.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let under = s
        .list_resources(
            ResourceKind::StateMachine,
            filed.parent.as_deref(),
            None,
            10,
        )
        .await
        .expect("list");
    assert_eq!(under, [filed]);

    let mut changed = machine("a");
    changed.body = json!({"name": "a", "description": "new"});
    s.put_resource(&changed).await.expect("put");
    let got = s
        .get_resource(&changed.arn)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got, changed);

    assert!(s.delete_resource(&changed.arn).await.expect("delete"));
    assert!(!s.delete_resource(&changed.arn).await.expect("delete again"));
    assert!(s.get_resource(&changed.arn).await.expect("get").is_none());
}

pub async fn definitions_are_kept_by_hash(s: &dyn Store) {
    s.put_definition("h1", "{\"a\":1}").await.expect("put");
    s.put_definition("h1", "{\"a\":1}")
        .await
        .expect("put twice");
    assert_eq!(
        s.get_definition("h1").await.expect("get").as_deref(),
        Some("{\"a\":1}")
    );
    assert_eq!(s.get_definition("h2").await.expect("get"), None);
}

pub async fn a_batch_is_applied_whole_or_not_at_all(s: &dyn Store) {
    let e = execution("m", "one", 1000);
    let arn = e.arn.clone();
    let mut first = Batch::default();
    first.new_executions.push(e);
    first.steps.push((arn.clone(), 0, "step0".into()));
    first.events.push((arn.clone(), 1, "ev1".into()));
    first.events.push((arn.clone(), 2, "ev2".into()));
    s.commit(&first).await.expect("first batch");

    // Event 2 again plus a new timer: the duplicate fails the whole batch.
    let mut dup = Batch::default();
    dup.events.push((arn.clone(), 3, "ev3".into()));
    dup.events.push((arn.clone(), 2, "ev2 again".into()));
    dup.timers.push(TimerChange::Add(TimerRow {
        execution: arn.clone(),
        timer: 1,
        fire_ms: 5,
    }));
    assert!(s.commit(&dup).await.is_err());
    assert_eq!(
        s.history(&arn, 1, u64::MAX).await.expect("history"),
        ["ev1", "ev2"],
        "nothing of the failed batch is kept"
    );
    assert!(s.due_timers(i64::MAX, 10).await.expect("timers").is_empty());
    assert_eq!(s.steps(&arn).await.expect("steps"), ["step0"]);
    assert_eq!(s.history(&arn, 2, 2).await.expect("history"), ["ev2"]);
}

pub async fn executions_list_newest_first_with_filters_and_cursor(s: &dyn Store) {
    let mut batch = Batch::default();
    for i in 0..5 {
        batch
            .new_executions
            .push(execution("m", &format!("e{i}"), 1000 + i));
    }
    batch.new_executions.push(execution("other", "x", 5000));
    s.commit(&batch).await.expect("commit");
    let mut done = Batch::default();
    done.updates.push(
        ExecutionUpdateBuilder::closed(execution("m", "e3", 0).arn, "SUCCEEDED", 2000)
            .output("{\"ok\":true}")
            .counts(4, 1)
            .build(),
    );
    s.commit(&done).await.expect("commit");

    let filter = ExecutionFilter {
        state_machine_arn: Some(execution("m", "e0", 0).state_machine_arn),
        ..ExecutionFilter::default()
    };
    let page = s.list_executions(&filter, None, 2).await.expect("list");
    let names: Vec<_> = page.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["e4", "e3"]);
    let last = page.last().expect("two");
    let cursor = ExecutionCursor {
        start_ms: last.start_ms,
        arn: last.arn.clone(),
    };
    let next = s
        .list_executions(&filter, Some(&cursor), 10)
        .await
        .expect("list");
    let names: Vec<_> = next.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["e2", "e1", "e0"]);

    let running = ExecutionFilter {
        status: Some("RUNNING".into()),
        ..filter.clone()
    };
    assert_eq!(
        s.list_executions(&running, None, 10)
            .await
            .expect("list")
            .len(),
        4
    );
    let all = s
        .list_executions(&ExecutionFilter::default(), None, 100)
        .await
        .expect("list");
    assert_eq!(all.len(), 6);

    let e3 = s
        .get_execution(&execution("m", "e3", 0).arn)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(e3.status, "SUCCEEDED");
    assert_eq!(e3.output.as_deref(), Some("{\"ok\":true}"));
    assert_eq!(e3.stop_ms, Some(2000));
    let mut open = s.open_executions().await.expect("open");
    open.sort();
    assert_eq!(open.len(), 5);
    assert!(!open.contains(&e3.arn));

    let mut again = Batch::default();
    again.new_executions.push(execution("m", "e1", 9));
    assert!(
        matches!(s.commit(&again).await, Err(StoreError::Conflict(_))),
        "an execution ARN is unique"
    );
}

pub async fn timers_come_due_in_order_and_go_with_their_execution(s: &dyn Store) {
    let a = execution("m", "a", 1).arn;
    let c = execution("m", "c", 1).arn;
    let mut batch = Batch::default();
    batch.new_executions.push(execution("m", "a", 1));
    batch.new_executions.push(execution("m", "c", 1));
    for (exec, timer, fire_ms) in [(&a, 1, 300), (&a, 2, 100), (&c, 1, 200), (&c, 2, 900)] {
        batch.timers.push(TimerChange::Add(TimerRow {
            execution: exec.clone(),
            timer,
            fire_ms,
        }));
    }
    s.commit(&batch).await.expect("commit");
    let due: Vec<_> = s
        .due_timers(300, 10)
        .await
        .expect("due")
        .into_iter()
        .map(|t| t.fire_ms)
        .collect();
    assert_eq!(due, [100, 200, 300]);
    assert_eq!(s.due_timers(300, 1).await.expect("due").len(), 1);

    let mut cancel = Batch::default();
    cancel.timers.push(TimerChange::Remove {
        execution: a.clone(),
        timer: 2,
    });
    cancel.updates.push(
        ExecutionUpdateBuilder::closed(c.clone(), "ABORTED", 10)
            .counts(3, 2)
            .build(),
    );
    s.commit(&cancel).await.expect("commit");
    let due: Vec<_> = s
        .due_timers(i64::MAX, 10)
        .await
        .expect("due")
        .into_iter()
        .map(|t| (t.execution, t.timer))
        .collect();
    assert_eq!(due, [(a.clone(), 1)]);
}

pub async fn tasks_queue_oldest_first_until_taken(s: &dyn Store) {
    let exec = execution("m", "t", 1);
    let arn = exec.arn.clone();
    let mut batch = Batch::default();
    batch.new_executions.push(exec);
    batch.tasks.push(TaskChange::Add(task(&arn, "tok-2", 20)));
    batch.tasks.push(TaskChange::Add(task(&arn, "tok-1", 10)));
    s.commit(&batch).await.expect("commit");
    let activity = "arn:aws:states:us-east-1:123456789012:activity:work";
    let first = s
        .next_queued_tasks(activity, 1)
        .await
        .expect("next")
        .remove(0);
    assert_eq!(first.token, "tok-1");

    let mut take = Batch::default();
    take.tasks.push(TaskChange::Start {
        token: "tok-1".into(),
        worker: "w1".into(),
    });
    s.commit(&take).await.expect("commit");
    let next = s.next_queued_tasks(activity, 5).await.expect("next");
    assert_eq!(next.len(), 1, "a taken task is no longer queued");
    let next = &next[0];
    assert_eq!(next.token, "tok-2");
    let taken = s
        .task_by_token("tok-1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(taken.worker.as_deref(), Some("w1"));
    assert_eq!(s.tasks_of(&arn).await.expect("tasks").len(), 2);
    let by_worker = async |prefix: &str| -> Vec<String> {
        s.taken_tasks(activity, prefix)
            .await
            .expect("taken")
            .into_iter()
            .map(|t| t.token)
            .collect()
    };
    assert_eq!(by_worker("w").await, ["tok-1"]);
    assert_eq!(by_worker("").await, ["tok-1"]);
    assert!(by_worker("w2").await.is_empty());
    assert!(
        s.next_queued_tasks("arn:other", 1)
            .await
            .expect("next")
            .is_empty()
    );

    let mut done = Batch::default();
    done.tasks.push(TaskChange::Remove {
        token: "tok-1".into(),
    });
    s.commit(&done).await.expect("commit");
    assert!(s.task_by_token("tok-1").await.expect("get").is_none());
}

pub async fn a_secret_is_made_once_and_kept(s: &dyn Store) {
    let first = s.secret("token-key", "aaaa").await.expect("secret");
    assert_eq!(first, "aaaa");
    let again = s.secret("token-key", "bbbb").await.expect("secret");
    assert_eq!(again, "aaaa", "the first value stays");
    let other = s.secret("other", "cccc").await.expect("secret");
    assert_eq!(other, "cccc");
}

pub async fn an_execution_keeps_its_parent_and_test_case(s: &dyn Store) {
    let exec = ExecutionRecordBuilder::new("m", "child")
        .start_ms(1)
        .parent(r#"{"token":"t"}"#)
        .test_case("HappyPath")
        .build();
    let mut batch = Batch::default();
    batch.new_executions.push(exec.clone());
    s.commit(&batch).await.expect("commit");
    let got = s
        .get_execution(&exec.arn)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(got, exec);
}

pub async fn a_map_runs_children_are_listed_by_it_newest_first(s: &dyn Store) {
    const RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/Items:1";
    let mut batch = Batch::default();
    for i in 0..4 {
        let mut child = execution("m/Items", &format!("c{i}"), 100 + i);
        child.map_run_arn = Some(RUN.into());
        batch.new_executions.push(child);
    }
    batch.new_executions.push(execution("m", "parent", 50));
    s.commit(&batch).await.expect("commit");
    let filter = ExecutionFilter {
        map_run_arn: Some(RUN.into()),
        ..ExecutionFilter::default()
    };
    let listed = s.list_executions(&filter, None, 10).await.expect("list");
    let names: Vec<_> = listed.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["c3", "c2", "c1", "c0"]);
    assert_eq!(listed[0].map_run_arn.as_deref(), Some(RUN));
    let other = ExecutionFilter {
        map_run_arn: Some(format!("{RUN}0")),
        ..ExecutionFilter::default()
    };
    assert!(
        s.list_executions(&other, None, 10)
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn a_map_runs_children_are_read_in_item_order_from_an_index(s: &dyn Store) {
    const RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/Items:2";
    let mut batch = Batch::default();
    // Started out of name order; listed by their items' order.
    for (i, name) in ["z", "a", "m", "b", "q"].iter().enumerate() {
        let mut child = execution("m/Items", name, 100 + i as i64);
        child.map_run_arn = Some(RUN.into());
        child.map_run_index = Some(i as u64);
        batch.new_executions.push(child);
    }
    s.commit(&batch).await.expect("commit");
    let names = async |from, limit| -> Vec<String> {
        s.map_run_children(RUN, from, limit)
            .await
            .expect("children")
            .into_iter()
            .map(|e| e.name)
            .collect()
    };
    assert_eq!(names(0, 10).await, ["z", "a", "m", "b", "q"]);
    assert_eq!(names(2, 2).await, ["m", "b"]);
    assert!(names(5, 10).await.is_empty());
    let got = s.map_run_children(RUN, 4, 1).await.expect("children");
    assert_eq!(got[0].map_run_index, Some(4));
}

pub async fn a_map_runs_count_is_recorded_once_its_items_are_read(s: &dyn Store) {
    use crate::MapRunChange;
    const RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/Items:3";
    let changes = vec![
        MapRunChange::Start {
            arn: RUN.into(),
            execution: "arn:aws:states:us-east-1:123456789012:execution:m:e".into(),
            start_ms: 1,
        },
        MapRunChange::Configure {
            arn: RUN.into(),
            max_concurrency: 5,
            tolerated_failure_count: None,
            tolerated_failure_percentage: Some(5.0),
            children: None,
            items: Some(0),
        },
    ];
    s.commit(&Batch {
        map_runs: changes,
        ..Batch::default()
    })
    .await
    .expect("commit");
    let run = s.get_map_run(RUN).await.expect("get").expect("kept");
    assert_eq!((run.children, run.items), (None, Some(0)));
    s.commit(&Batch {
        map_runs: vec![MapRunChange::Counted {
            arn: RUN.into(),
            children: 1000,
            items: Some(100_000),
        }],
        ..Batch::default()
    })
    .await
    .expect("commit");
    // An UpdateMapRun afterwards keeps the count.
    s.commit(&Batch {
        map_runs: vec![MapRunChange::Configure {
            arn: RUN.into(),
            max_concurrency: 9,
            tolerated_failure_count: None,
            tolerated_failure_percentage: Some(5.0),
            children: None,
            items: None,
        }],
        ..Batch::default()
    })
    .await
    .expect("commit");
    let run = s.get_map_run(RUN).await.expect("get").expect("kept");
    assert_eq!(run.children, Some(1000));
    assert_eq!(run.items, Some(100_000));
    assert_eq!(run.max_concurrency, 9);
}

/// Commits from many tasks at once (as several nodes' drivers make them) each apply whole.
pub async fn concurrent_commits_of_different_executions_all_apply(s: &dyn Store) {
    let commits = (0..16).map(|i| async move {
        let exec = execution("m", &format!("c{i}"), i);
        let arn = exec.arn.clone();
        let mut batch = Batch::default();
        batch.new_executions.push(exec);
        for id in 1..=20 {
            batch.events.push((arn.clone(), id, format!("ev{id}")));
        }
        batch.steps.push((arn.clone(), 0, "step0".into()));
        s.commit(&batch).await.expect("commit");
        arn
    });
    let arns = futures_util::future::join_all(commits).await;
    for arn in arns {
        let history = s.history(&arn, 1, u64::MAX).await.expect("history");
        assert_eq!(history.len(), 20, "{arn}: every event of its commit");
        assert_eq!(history[19], "ev20");
    }
    assert_eq!(s.open_executions().await.expect("open").len(), 16);
}

pub async fn executions_are_searched_by_name_prefix_and_start_time_page_by_page(s: &dyn Store) {
    let mut batch = Batch::default();
    // order-0 .. order-9 at 1000, 1010, ...; refund-0 .. refund-9 between them.
    for i in 0..10 {
        batch
            .new_executions
            .push(execution("m", &format!("order-{i}"), 1000 + 10 * i));
        batch
            .new_executions
            .push(execution("m", &format!("refund-{i}"), 1005 + 10 * i));
    }
    batch
        .new_executions
        .push(execution("other", "order-x", 1050));
    s.commit(&batch).await.expect("commit");
    let names = async |f: &ExecutionFilter, after: Option<&ExecutionCursor>, n: usize| {
        s.list_executions(f, after, n)
            .await
            .expect("list")
            .into_iter()
            .map(|e| (e.name, e.start_ms, e.arn))
            .collect::<Vec<_>>()
    };
    let machine = ExecutionFilter {
        state_machine_arn: Some(execution("m", "x", 0).state_machine_arn),
        ..ExecutionFilter::default()
    };
    let orders = ExecutionFilter {
        name_prefix: Some("order-".into()),
        ..machine.clone()
    };
    // Page by page through the prefix, with the cursor: every order, newest first.
    let mut seen = Vec::new();
    let mut after: Option<ExecutionCursor> = None;
    loop {
        let page = names(&orders, after.as_ref(), 3).await;
        let Some((_, start_ms, arn)) = page.last().cloned() else {
            break;
        };
        seen.extend(page.into_iter().map(|(n, _, _)| n));
        after = Some(ExecutionCursor { start_ms, arn });
    }
    let want: Vec<String> = (0..10).rev().map(|i| format!("order-{i}")).collect();
    assert_eq!(seen, want);
    // A prefix is a prefix, not a substring; and it is case-sensitive.
    let none = ExecutionFilter {
        name_prefix: Some("der-".into()),
        ..machine.clone()
    };
    assert!(names(&none, None, 10).await.is_empty());
    let upper = ExecutionFilter {
        name_prefix: Some("Order-".into()),
        ..machine.clone()
    };
    assert!(names(&upper, None, 10).await.is_empty());
    // From is inclusive, before exclusive; with the prefix and a cursor.
    let window = ExecutionFilter {
        started_from_ms: Some(1020),
        started_before_ms: Some(1060),
        ..machine.clone()
    };
    let got: Vec<String> = names(&window, None, 100)
        .await
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(
        got,
        [
            "refund-5", "order-5", "refund-4", "order-4", "refund-3", "order-3", "refund-2",
            "order-2"
        ]
    );
    let both = ExecutionFilter {
        name_prefix: Some("refund-".into()),
        ..window.clone()
    };
    let first = names(&both, None, 2).await;
    let (_, start_ms, arn) = first.last().cloned().expect("two");
    let rest = names(&both, Some(&ExecutionCursor { start_ms, arn }), 10).await;
    let got: Vec<String> = first.into_iter().chain(rest).map(|t| t.0).collect();
    assert_eq!(got, ["refund-5", "refund-4", "refund-3", "refund-2"]);

    // Enough of one prefix that it is read along the start-time index rather than
    // through the names: the same answers, page by page.
    let mut bulk = Batch::default();
    for i in 0..2100 {
        bulk.new_executions
            .push(execution("m", &format!("bulk-{i:04}"), 2000 + i));
    }
    s.commit(&bulk).await.expect("commit");
    for (prefix, want) in [("bulk-", 2100), ("bulk-20", 100), ("order-", 10)] {
        let f = ExecutionFilter {
            name_prefix: Some(prefix.into()),
            started_before_ms: Some(4050),
            ..machine.clone()
        };
        let mut seen: Vec<(String, i64)> = Vec::new();
        let mut after: Option<ExecutionCursor> = None;
        loop {
            let page = names(&f, after.as_ref(), 500).await;
            let Some((_, start_ms, arn)) = page.last().cloned() else {
                break;
            };
            seen.extend(page.into_iter().map(|(n, t, _)| (n, t)));
            after = Some(ExecutionCursor { start_ms, arn });
        }
        let expected = seen
            .iter()
            .filter(|(n, t)| n.starts_with(prefix) && *t < 4050)
            .count();
        assert_eq!(expected, seen.len(), "{prefix} only");
        let before_cut = if prefix == "order-" { want } else { want - 50 };
        assert_eq!(seen.len(), before_cut, "{prefix}");
        assert!(
            seen.windows(2).all(|w| w[0].1 >= w[1].1),
            "{prefix} newest first"
        );
    }
}

pub async fn closed_executions_are_purged_with_all_of_theirs(s: &dyn Store) {
    use crate::{MapRunChange, Purge};
    const OPEN_RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:p/Items:1";
    const CLOSED_RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:q/Items:1";
    let closed = |machine: &str, name: &str, status: &str, stop_ms: i64| {
        ExecutionRecordBuilder::new(machine, name)
            .start_ms(stop_ms - 10)
            .status(status)
            .stop_ms(stop_ms)
            .build()
    };
    let old = closed("m", "old", "SUCCEEDED", 1000);
    let recent = closed("m", "recent", "FAILED", 3000);
    let running = execution("m", "running", 10);
    // A Map Run whose parent still runs keeps its children; one whose parent closed does not.
    let open_parent = execution("p", "parent", 10);
    let mut kept_child = closed("p/Items", "kept-child", "SUCCEEDED", 500);
    kept_child.map_run_arn = Some(OPEN_RUN.into());
    let closed_parent = closed("q", "parent", "SUCCEEDED", 900);
    let mut gone_child = closed("q/Items", "gone-child", "SUCCEEDED", 600);
    gone_child.map_run_arn = Some(CLOSED_RUN.into());
    let all = [
        &old,
        &recent,
        &running,
        &open_parent,
        &kept_child,
        &closed_parent,
        &gone_child,
    ];
    let mut batch = Batch::default();
    for e in all {
        batch.new_executions.push(e.clone());
        batch.events.push((e.arn.clone(), 1, "{}".into()));
        batch.steps.push((e.arn.clone(), 1, "{}".into()));
    }
    for (run, parent) in [(OPEN_RUN, &open_parent), (CLOSED_RUN, &closed_parent)] {
        batch.map_runs.push(MapRunChange::Start {
            arn: run.into(),
            execution: parent.arn.clone(),
            start_ms: 1,
        });
    }
    batch.timers.push(TimerChange::Add(TimerRow {
        execution: running.arn.clone(),
        timer: 1,
        fire_ms: 99_999,
    }));
    s.commit(&batch).await.expect("commit");

    // The candidates: closed before 2000, oldest first, page by page.
    let first = s.closed_before(2000, None, 2).await.expect("closed");
    assert_eq!(
        first,
        [(500, kept_child.arn.clone()), (600, gone_child.arn.clone())]
    );
    let rest = s
        .closed_before(2000, first.last(), 10)
        .await
        .expect("closed");
    assert_eq!(
        rest,
        [(900, closed_parent.arn.clone()), (1000, old.arn.clone())]
    );

    // Asked to purge all of them, the store removes only what is still eligible.
    let purge = Batch {
        purge: Purge {
            executions: all.iter().map(|e| e.arn.clone()).collect(),
            before_ms: 2000,
        },
        ..Batch::default()
    };
    s.commit(&purge).await.expect("purge");
    for e in [&old, &gone_child, &closed_parent] {
        assert_eq!(
            s.get_execution(&e.arn).await.expect("get"),
            None,
            "{}",
            e.name
        );
        assert!(s.history(&e.arn, 1, 10).await.expect("history").is_empty());
    }
    assert_eq!(s.get_map_run(CLOSED_RUN).await.expect("map run"), None);
    for e in [&recent, &running, &open_parent, &kept_child] {
        assert!(
            s.get_execution(&e.arn).await.expect("get").is_some(),
            "{} kept",
            e.name
        );
        assert_eq!(s.history(&e.arn, 1, 10).await.expect("history").len(), 1);
    }
    assert!(s.get_map_run(OPEN_RUN).await.expect("map run").is_some());
    assert_eq!(s.due_timers(i64::MAX, 10).await.expect("timers").len(), 1);
    assert_eq!(
        s.closed_before(2000, None, 10).await.expect("closed"),
        [(500, kept_child.arn.clone())]
    );
}
