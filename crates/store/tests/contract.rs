//! The store contract: every backend must pass these. Each test runs against every backend
//! this build has (SQLite on a file, SQLite in memory; PostgreSQL joins when it exists).

use serde_json::json;
use stepwise_store::{
    Batch, ExecutionCursor, ExecutionFilter, ExecutionRecord, Resource, ResourceKind, SqliteStore,
    Store, StoreError, TaskChange, TaskRow, TimerChange, TimerRow,
};
use stepwise_test_support::records::{ExecutionRecordBuilder, ExecutionUpdateBuilder};

struct Backend {
    name: &'static str,
    store: Box<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = SqliteStore::open(dir.path().join("store.db")).expect("open sqlite file");
    vec![
        Backend {
            name: "sqlite-file",
            store: Box::new(file),
            _dir: Some(dir),
        },
        Backend {
            name: "sqlite-memory",
            store: Box::new(SqliteStore::memory().expect("sqlite memory")),
            _dir: None,
        },
    ]
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

#[test]
fn resources_create_once_list_in_order_and_delete() {
    for b in backends() {
        let s = &b.store;
        for name in ["b", "a", "c"] {
            s.create_resource(&machine(name)).expect("create");
        }
        assert!(
            matches!(
                s.create_resource(&machine("a")),
                Err(StoreError::Conflict(_))
            ),
            "{}: a second create of the same ARN conflicts",
            b.name
        );
        let page = s
            .list_resources(ResourceKind::StateMachine, None, None, 2)
            .expect("list");
        let names: Vec<_> = page.iter().map(|r| r.sort_key.as_str()).collect();
        assert_eq!(names, ["a", "b"], "{}", b.name);
        let rest = s
            .list_resources(ResourceKind::StateMachine, None, Some("b"), 10)
            .expect("list");
        assert_eq!(rest.len(), 1, "{}", b.name);
        assert!(
            s.list_resources(ResourceKind::Activity, None, None, 10)
                .expect("list")
                .is_empty()
        );

        let mut changed = machine("a");
        changed.body = json!({"name": "a", "description": "new"});
        s.put_resource(&changed).expect("put");
        let got = s.get_resource(&changed.arn).expect("get").expect("exists");
        assert_eq!(got, changed, "{}", b.name);

        assert!(s.delete_resource(&changed.arn).expect("delete"));
        assert!(!s.delete_resource(&changed.arn).expect("delete again"));
        assert!(s.get_resource(&changed.arn).expect("get").is_none());
    }
}

#[test]
fn definitions_are_kept_by_hash() {
    for b in backends() {
        b.store.put_definition("h1", "{\"a\":1}").expect("put");
        b.store
            .put_definition("h1", "{\"a\":1}")
            .expect("put twice");
        assert_eq!(
            b.store.get_definition("h1").expect("get").as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(
            b.store.get_definition("h2").expect("get"),
            None,
            "{}",
            b.name
        );
    }
}

#[test]
fn a_batch_is_applied_whole_or_not_at_all() {
    for b in backends() {
        let s = &b.store;
        let e = execution("m", "one", 1000);
        let arn = e.arn.clone();
        let mut first = Batch::default();
        first.new_executions.push(e);
        first.steps.push((arn.clone(), 0, "step0".into()));
        first.events.push((arn.clone(), 1, "ev1".into()));
        first.events.push((arn.clone(), 2, "ev2".into()));
        s.commit(&first).expect("first batch");

        // Event 2 again plus a new timer: the duplicate fails the whole batch.
        let mut dup = Batch::default();
        dup.events.push((arn.clone(), 3, "ev3".into()));
        dup.events.push((arn.clone(), 2, "ev2 again".into()));
        dup.timers.push(TimerChange::Add(TimerRow {
            execution: arn.clone(),
            timer: 1,
            fire_ms: 5,
        }));
        assert!(s.commit(&dup).is_err(), "{}", b.name);
        assert_eq!(
            s.history(&arn, 1, u64::MAX).expect("history"),
            ["ev1", "ev2"],
            "{}: nothing of the failed batch is kept",
            b.name
        );
        assert!(s.due_timers(i64::MAX, 10).expect("timers").is_empty());
        assert_eq!(s.steps(&arn).expect("steps"), ["step0"]);
        assert_eq!(s.history(&arn, 2, 2).expect("history"), ["ev2"]);
    }
}

#[test]
fn executions_list_newest_first_with_filters_and_cursor() {
    for b in backends() {
        let s = &b.store;
        let mut batch = Batch::default();
        for i in 0..5 {
            batch
                .new_executions
                .push(execution("m", &format!("e{i}"), 1000 + i));
        }
        batch.new_executions.push(execution("other", "x", 5000));
        s.commit(&batch).expect("commit");
        let mut done = Batch::default();
        done.updates.push(
            ExecutionUpdateBuilder::closed(execution("m", "e3", 0).arn, "SUCCEEDED", 2000)
                .output("{\"ok\":true}")
                .counts(4, 1)
                .build(),
        );
        s.commit(&done).expect("commit");

        let filter = ExecutionFilter {
            state_machine_arn: Some(execution("m", "e0", 0).state_machine_arn),
            ..ExecutionFilter::default()
        };
        let page = s.list_executions(&filter, None, 2).expect("list");
        let names: Vec<_> = page.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["e4", "e3"], "{}", b.name);
        let last = page.last().expect("two");
        let cursor = ExecutionCursor {
            start_ms: last.start_ms,
            arn: last.arn.clone(),
        };
        let next = s.list_executions(&filter, Some(&cursor), 10).expect("list");
        let names: Vec<_> = next.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["e2", "e1", "e0"], "{}", b.name);

        let running = ExecutionFilter {
            status: Some("RUNNING".into()),
            ..filter.clone()
        };
        assert_eq!(
            s.list_executions(&running, None, 10).expect("list").len(),
            4
        );
        let all = s
            .list_executions(&ExecutionFilter::default(), None, 100)
            .expect("list");
        assert_eq!(all.len(), 6, "{}", b.name);

        let e3 = s
            .get_execution(&execution("m", "e3", 0).arn)
            .expect("get")
            .expect("exists");
        assert_eq!(e3.status, "SUCCEEDED");
        assert_eq!(e3.output.as_deref(), Some("{\"ok\":true}"));
        assert_eq!(e3.stop_ms, Some(2000));
        let mut open = s.open_executions().expect("open");
        open.sort();
        assert_eq!(open.len(), 5, "{}", b.name);
        assert!(!open.contains(&e3.arn));

        let mut again = Batch::default();
        again.new_executions.push(execution("m", "e1", 9));
        assert!(
            matches!(s.commit(&again), Err(StoreError::Conflict(_))),
            "{}: an execution ARN is unique",
            b.name
        );
    }
}

#[test]
fn executions_are_searched_by_name_prefix_and_start_time_page_by_page() {
    for b in backends() {
        let s = &b.store;
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
        s.commit(&batch).expect("commit");
        let names = |f: &ExecutionFilter, after: Option<&ExecutionCursor>, n: usize| {
            s.list_executions(f, after, n)
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
            let page = names(&orders, after.as_ref(), 3);
            let Some((_, start_ms, arn)) = page.last().cloned() else {
                break;
            };
            seen.extend(page.into_iter().map(|(n, _, _)| n));
            after = Some(ExecutionCursor { start_ms, arn });
        }
        let want: Vec<String> = (0..10).rev().map(|i| format!("order-{i}")).collect();
        assert_eq!(seen, want, "{}", b.name);
        // A prefix is a prefix, not a substring; and it is case-sensitive.
        let none = ExecutionFilter {
            name_prefix: Some("der-".into()),
            ..machine.clone()
        };
        assert!(names(&none, None, 10).is_empty(), "{}", b.name);
        let upper = ExecutionFilter {
            name_prefix: Some("Order-".into()),
            ..machine.clone()
        };
        assert!(names(&upper, None, 10).is_empty(), "{}", b.name);
        // From is inclusive, before exclusive; with the prefix and a cursor.
        let window = ExecutionFilter {
            started_from_ms: Some(1020),
            started_before_ms: Some(1060),
            ..machine.clone()
        };
        let got: Vec<String> = names(&window, None, 100).into_iter().map(|t| t.0).collect();
        assert_eq!(
            got,
            [
                "refund-5", "order-5", "refund-4", "order-4", "refund-3", "order-3", "refund-2",
                "order-2"
            ],
            "{}",
            b.name
        );
        let both = ExecutionFilter {
            name_prefix: Some("refund-".into()),
            ..window.clone()
        };
        let first = names(&both, None, 2);
        let (_, start_ms, arn) = first.last().cloned().expect("two");
        let rest = names(&both, Some(&ExecutionCursor { start_ms, arn }), 10);
        let got: Vec<String> = first.into_iter().chain(rest).map(|t| t.0).collect();
        assert_eq!(
            got,
            ["refund-5", "refund-4", "refund-3", "refund-2"],
            "{}",
            b.name
        );

        // Enough of one prefix that it is read along the start-time index rather than
        // through the names: the same answers, page by page.
        let mut bulk = Batch::default();
        for i in 0..2100 {
            bulk.new_executions
                .push(execution("m", &format!("bulk-{i:04}"), 2000 + i));
        }
        s.commit(&bulk).expect("commit");
        for (prefix, want) in [("bulk-", 2100), ("bulk-20", 100), ("order-", 10)] {
            let f = ExecutionFilter {
                name_prefix: Some(prefix.into()),
                started_before_ms: Some(4050),
                ..machine.clone()
            };
            let mut seen: Vec<(String, i64)> = Vec::new();
            let mut after: Option<ExecutionCursor> = None;
            loop {
                let page = names(&f, after.as_ref(), 500);
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
            assert_eq!(expected, seen.len(), "{}: {prefix} only", b.name);
            let before_cut = if prefix == "order-" { want } else { want - 50 };
            assert_eq!(seen.len(), before_cut, "{}: {prefix}", b.name);
            assert!(
                seen.windows(2).all(|w| w[0].1 >= w[1].1),
                "{}: {prefix} newest first",
                b.name
            );
        }
    }
}

#[test]
fn timers_come_due_in_order_and_go_with_their_execution() {
    for b in backends() {
        let s = &b.store;
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
        s.commit(&batch).expect("commit");
        let due: Vec<_> = s
            .due_timers(300, 10)
            .expect("due")
            .into_iter()
            .map(|t| t.fire_ms)
            .collect();
        assert_eq!(due, [100, 200, 300], "{}", b.name);
        assert_eq!(s.due_timers(300, 1).expect("due").len(), 1);

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
        s.commit(&cancel).expect("commit");
        let due: Vec<_> = s
            .due_timers(i64::MAX, 10)
            .expect("due")
            .into_iter()
            .map(|t| (t.execution, t.timer))
            .collect();
        assert_eq!(due, [(a.clone(), 1)], "{}", b.name);
    }
}

#[test]
fn tasks_queue_oldest_first_until_taken() {
    for b in backends() {
        let s = &b.store;
        let exec = execution("m", "t", 1);
        let arn = exec.arn.clone();
        let mut batch = Batch::default();
        batch.new_executions.push(exec);
        batch.tasks.push(TaskChange::Add(task(&arn, "tok-2", 20)));
        batch.tasks.push(TaskChange::Add(task(&arn, "tok-1", 10)));
        s.commit(&batch).expect("commit");
        let activity = "arn:aws:states:us-east-1:123456789012:activity:work";
        let first = s.next_queued_tasks(activity, 1).expect("next").remove(0);
        assert_eq!(first.token, "tok-1", "{}", b.name);

        let mut take = Batch::default();
        take.tasks.push(TaskChange::Start {
            token: "tok-1".into(),
            worker: "w1".into(),
        });
        s.commit(&take).expect("commit");
        let next = s.next_queued_tasks(activity, 5).expect("next");
        assert_eq!(
            next.len(),
            1,
            "{}: a taken task is no longer queued",
            b.name
        );
        let next = &next[0];
        assert_eq!(next.token, "tok-2");
        let taken = s.task_by_token("tok-1").expect("get").expect("exists");
        assert_eq!(taken.worker.as_deref(), Some("w1"));
        assert_eq!(s.tasks_of(&arn).expect("tasks").len(), 2);
        let by_worker = |prefix: &str| -> Vec<String> {
            s.taken_tasks(activity, prefix)
                .expect("taken")
                .into_iter()
                .map(|t| t.token)
                .collect()
        };
        assert_eq!(by_worker("w"), ["tok-1"], "{}", b.name);
        assert_eq!(by_worker(""), ["tok-1"], "{}", b.name);
        assert!(by_worker("w2").is_empty(), "{}", b.name);
        assert!(
            s.next_queued_tasks("arn:other", 1)
                .expect("next")
                .is_empty()
        );

        let mut done = Batch::default();
        done.tasks.push(TaskChange::Remove {
            token: "tok-1".into(),
        });
        s.commit(&done).expect("commit");
        assert!(
            s.task_by_token("tok-1").expect("get").is_none(),
            "{}",
            b.name
        );
    }
}

#[test]
fn a_file_store_keeps_everything_across_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("store.db");
    let exec = execution("m", "durable", 7);
    {
        let s = SqliteStore::open(&path).expect("open");
        s.create_resource(&machine("m")).expect("create");
        let mut batch = Batch::default();
        batch.new_executions.push(exec.clone());
        batch.events.push((exec.arn.clone(), 1, "ev1".into()));
        batch.timers.push(TimerChange::Add(TimerRow {
            execution: exec.arn.clone(),
            timer: 1,
            fire_ms: 50,
        }));
        s.commit(&batch).expect("commit");
    }
    let s = SqliteStore::open(&path).expect("reopen");
    assert_eq!(
        s.get_execution(&exec.arn).expect("get").expect("kept"),
        exec
    );
    assert_eq!(s.history(&exec.arn, 1, 10).expect("history"), ["ev1"]);
    assert_eq!(s.due_timers(50, 10).expect("due").len(), 1);
    assert!(s.get_resource(&machine("m").arn).expect("get").is_some());
}

#[test]
fn a_secret_is_made_once_and_kept() {
    for b in backends() {
        let first = b.store.secret("token-key", "aaaa").expect("secret");
        assert_eq!(first, "aaaa", "{}", b.name);
        let again = b.store.secret("token-key", "bbbb").expect("secret");
        assert_eq!(again, "aaaa", "{}: the first value stays", b.name);
        let other = b.store.secret("other", "cccc").expect("secret");
        assert_eq!(other, "cccc", "{}", b.name);
    }
}

#[test]
fn an_execution_keeps_its_parent_and_test_case() {
    for b in backends() {
        let exec = ExecutionRecordBuilder::new("m", "child")
            .start_ms(1)
            .parent(r#"{"token":"t"}"#)
            .test_case("HappyPath")
            .build();
        let mut batch = Batch::default();
        batch.new_executions.push(exec.clone());
        b.store.commit(&batch).expect("commit");
        let got = b
            .store
            .get_execution(&exec.arn)
            .expect("get")
            .expect("kept");
        assert_eq!(got, exec, "{}", b.name);
    }
}

#[test]
fn a_file_from_before_the_added_columns_opens_and_gains_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    {
        let s = SqliteStore::open(&path).expect("open");
        s.commit(&Batch {
            new_executions: vec![execution("m", "old", 1)],
            ..Batch::default()
        })
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
             ALTER TABLE executions DROP COLUMN map_run_index;",
        )
        .expect("drop columns");
    }
    let s = SqliteStore::open(&path).expect("reopen migrates");
    let exec = execution("m", "old", 1);
    assert_eq!(s.get_execution(&exec.arn).expect("get"), Some(exec));
}

#[test]
fn a_map_runs_children_are_listed_by_it_newest_first() {
    const RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/Items:1";
    for b in backends() {
        let s = &b.store;
        let mut batch = Batch::default();
        for i in 0..4 {
            let mut child = execution("m/Items", &format!("c{i}"), 100 + i);
            child.map_run_arn = Some(RUN.into());
            batch.new_executions.push(child);
        }
        batch.new_executions.push(execution("m", "parent", 50));
        s.commit(&batch).expect("commit");
        let filter = ExecutionFilter {
            map_run_arn: Some(RUN.into()),
            ..ExecutionFilter::default()
        };
        let listed = s.list_executions(&filter, None, 10).expect("list");
        let names: Vec<_> = listed.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c3", "c2", "c1", "c0"], "{}", b.name);
        assert_eq!(listed[0].map_run_arn.as_deref(), Some(RUN), "{}", b.name);
        let other = ExecutionFilter {
            map_run_arn: Some(format!("{RUN}0")),
            ..ExecutionFilter::default()
        };
        assert!(
            s.list_executions(&other, None, 10)
                .expect("list")
                .is_empty()
        );
    }
}

#[test]
fn a_map_runs_children_are_read_in_item_order_from_an_index() {
    const RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/Items:2";
    for b in backends() {
        let s = &b.store;
        let mut batch = Batch::default();
        // Started out of name order; listed by their items' order.
        for (i, name) in ["z", "a", "m", "b", "q"].iter().enumerate() {
            let mut child = execution("m/Items", name, 100 + i as i64);
            child.map_run_arn = Some(RUN.into());
            child.map_run_index = Some(i as u64);
            batch.new_executions.push(child);
        }
        s.commit(&batch).expect("commit");
        let names = |from, limit| -> Vec<String> {
            s.map_run_children(RUN, from, limit)
                .expect("children")
                .into_iter()
                .map(|e| e.name)
                .collect()
        };
        assert_eq!(names(0, 10), ["z", "a", "m", "b", "q"], "{}", b.name);
        assert_eq!(names(2, 2), ["m", "b"], "{}", b.name);
        assert!(names(5, 10).is_empty(), "{}", b.name);
        let got = s.map_run_children(RUN, 4, 1).expect("children");
        assert_eq!(got[0].map_run_index, Some(4), "{}", b.name);
    }
}

#[test]
fn a_map_runs_count_is_recorded_once_its_items_are_read() {
    use stepwise_store::MapRunChange;
    const RUN: &str = "arn:aws:states:us-east-1:123456789012:mapRun:m/Items:3";
    for b in backends() {
        let s = &b.store;
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
        .expect("commit");
        let run = s.get_map_run(RUN).expect("get").expect("kept");
        assert_eq!((run.children, run.items), (None, Some(0)), "{}", b.name);
        s.commit(&Batch {
            map_runs: vec![MapRunChange::Counted {
                arn: RUN.into(),
                children: 1000,
                items: Some(100_000),
            }],
            ..Batch::default()
        })
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
        .expect("commit");
        let run = s.get_map_run(RUN).expect("get").expect("kept");
        assert_eq!(run.children, Some(1000), "{}", b.name);
        assert_eq!(run.items, Some(100_000), "{}", b.name);
        assert_eq!(run.max_concurrency, 9, "{}", b.name);
    }
}
