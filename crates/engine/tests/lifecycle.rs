//! Each task, timer, waiting state (Wait, Retry interval, Parallel, Map) and each branch or
//! iteration has a lifecycle: an event its current phase does not allow is refused with
//! `StepError::UnexpectedEvent`, applies nothing and records nothing, and the execution goes on
//! exactly as if it had never come (each test runs a twin that never sees the refused events);
//! once the execution has ended such events are `NotRunning`. Commands come out in the same
//! order on every run.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::{
    Command, Event, Execution, ExecutionInfo, Status, Step, StepError, StepOutput, TimerKind,
};
use stepwise_test_support::start_time;

fn execution(definition: Value) -> Execution {
    let (machine, _) =
        parse_definition(&definition.to_string(), ParseOptions::default()).expect("valid");
    Execution::new(
        Arc::new(machine),
        ExecutionInfo::local("sm", "e", start_time()),
    )
}

fn at(exec: &Execution, secs: i64, event: Event) -> Step {
    Step {
        now: exec.info().start_time + Duration::seconds(secs),
        seed: secs as u64,
        event,
    }
}

fn start(exec: &mut Execution) -> StepOutput {
    let step = at(
        exec,
        0,
        Event::Start {
            input: json!({}),
            input_text: None,
        },
    );
    exec.step(step).expect("starts")
}

fn scheduled(out: &StepOutput) -> Vec<u64> {
    out.commands
        .iter()
        .filter_map(|c| match c {
            Command::ScheduleTask(r) => Some(r.task),
            _ => None,
        })
        .collect()
}

fn timers(out: &StepOutput) -> Vec<u64> {
    out.commands
        .iter()
        .filter_map(|c| match c {
            Command::StartTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .collect()
}

fn unexpected(result: Result<StepOutput, StepError>) -> String {
    match result {
        Err(StepError::UnexpectedEvent { event, reason }) => format!("{event}: {reason}"),
        other => panic!("expected UnexpectedEvent, got {other:?}"),
    }
}

const TASK: &str = "arn:aws:states:::lambda:invoke";

#[test]
fn a_late_result_of_a_timed_out_task_is_refused_and_changes_nothing() {
    let mut exec = execution(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "f"},
              "TimeoutSeconds": 5, "End": true,
              "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Rest"}]},
        "Rest": {"Type": "Wait", "Seconds": 100, "End": true}}}));
    let out = start(&mut exec);
    let task = scheduled(&out)[0];
    let timeout = timers(&out)[0];
    let s = at(&exec, 0, Event::TaskStarted { task, worker: None });
    exec.step(s).expect("started");
    // A second start of the same task cannot happen.
    let s = at(&exec, 1, Event::TaskStarted { task, worker: None });
    assert_eq!(
        unexpected(exec.step(s)),
        format!("TaskStarted: task {task} is already started")
    );
    let s = at(&exec, 5, Event::TimerFired { timer: timeout });
    let out = exec.step(s).expect("times out");
    assert!(out.commands.contains(&Command::CancelTask { task }));
    // The call's answer arrives after the timeout: refused, nothing recorded.
    let s = at(
        &exec,
        6,
        Event::TaskSucceeded {
            task,
            output: json!(1),
        },
    );
    assert_eq!(
        unexpected(exec.step(s)),
        format!("TaskSucceeded: task {task} is not running (it ended or was cancelled)")
    );
}

#[test]
fn events_for_tasks_and_timers_that_do_not_exist_are_refused() {
    let mut exec = execution(json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", "End": true}}},
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}}]}}}));
    let out = start(&mut exec);
    let task = scheduled(&out)[0];
    let s = at(&exec, 1, Event::TaskHeartbeat { task });
    assert_eq!(
        unexpected(exec.step(s)),
        format!("TaskHeartbeat: task {task} has not started")
    );
    let s = at(
        &exec,
        1,
        Event::TaskSucceeded {
            task: task + 100,
            output: json!(1),
        },
    );
    assert_eq!(
        unexpected(exec.step(s)),
        format!(
            "TaskSucceeded: task {} is not running (it ended or was cancelled)",
            task + 100
        )
    );
    let s = at(&exec, 1, Event::TimerFired { timer: 999 });
    assert_eq!(
        unexpected(exec.step(s)),
        "TimerFired: timer 999 is not set (it fired or was cancelled)"
    );
    // A Lambda task is not a service integration that can be submitted.
    let s = at(
        &exec,
        1,
        Event::TaskSubmitted {
            task,
            output: json!({}),
        },
    );
    assert_eq!(
        unexpected(exec.step(s)),
        format!("TaskSubmitted: task {task} is not a service integration's")
    );
    // The refusals left the execution as it was: the task still ends it normally.
    let s = at(
        &exec,
        2,
        Event::TaskSucceeded {
            task,
            output: json!("a"),
        },
    );
    let out = exec.step(s).expect("the real answer is taken");
    assert!(!out.events.is_empty());
}

#[test]
fn ending_an_execution_cancels_its_timers_and_tasks_in_a_fixed_order() {
    let branches: Vec<Value> = (0..8)
        .map(|i| {
            let name = format!("T{i}");
            json!({"StartAt": name, "States": {name: {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "f"}, "TimeoutSeconds": 60, "End": true}}})
        })
        .collect();
    let definition = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "Branches": branches, "End": true}}});
    let cancels = || {
        let mut exec = execution(definition.clone());
        start(&mut exec);
        let stop = at(
            &exec,
            1,
            Event::Stop {
                error: None,
                cause: None,
            },
        );
        let out = exec.step(stop).expect("stops");
        out.commands
            .into_iter()
            .filter(|c| !matches!(c, Command::Complete(_)))
            .collect::<Vec<_>>()
    };
    let first = cancels();
    assert!(first.len() >= 16, "{first:?}");
    for _ in 0..5 {
        assert_eq!(cancels(), first);
    }
    let tasks: Vec<u64> = first
        .iter()
        .filter_map(|c| match c {
            Command::CancelTask { task } => Some(*task),
            _ => None,
        })
        .collect();
    let mut sorted = tasks.clone();
    sorted.sort_unstable();
    assert_eq!(tasks, sorted);
}

/// An execution and its twin: every accepted event goes to both and must produce the same
/// output in both; a refused event goes to the first only. So a refusal that changed anything
/// (a counter, an id, a phase) shows in a later output.
struct Twins {
    exec: Execution,
    twin: Execution,
}

impl Twins {
    /// Both started; the start's output.
    fn new(definition: Value) -> (Self, StepOutput) {
        let mut exec = execution(definition.clone());
        let mut twin = execution(definition);
        let out = start(&mut exec);
        assert_eq!(start(&mut twin), out);
        (Twins { exec, twin }, out)
    }

    fn ok(&mut self, secs: i64, event: Event) -> StepOutput {
        let out = self
            .exec
            .step(at(&self.exec, secs, event.clone()))
            .expect("accepted");
        let twin = self.twin.step(at(&self.twin, secs, event)).expect("twin");
        assert_eq!(out, twin, "a refused event changed the execution");
        out
    }

    fn refused(&mut self, secs: i64, event: Event) -> String {
        unexpected(self.exec.step(at(&self.exec, secs, event)))
    }
}

fn status(out: &StepOutput) -> Option<Status> {
    out.commands.iter().find_map(|c| match c {
        Command::Complete(c) => Some(c.status),
        _ => None,
    })
}

fn types(out: &StepOutput) -> Vec<String> {
    out.events
        .iter()
        .map(|e| e.event_type.as_str().to_owned())
        .collect()
}

fn timer_of(out: &StepOutput, kind: TimerKind) -> u64 {
    out.commands
        .iter()
        .find_map(|c| match c {
            Command::StartTimer { timer, kind: k, .. } if *k == kind => Some(*timer),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {kind:?} timer in {out:?}"))
}

fn succeeded(task: u64, output: Value) -> Event {
    Event::TaskSucceeded { task, output }
}

fn failed(task: u64) -> Event {
    Event::TaskFailed {
        task,
        error: Some("E".into()),
        cause: None,
    }
}

fn started(task: u64) -> Event {
    Event::TaskStarted { task, worker: None }
}

fn fired(timer: u64) -> Event {
    Event::TimerFired { timer }
}

#[test]
fn a_wait_timer_fires_once() {
    let (mut run, out) = Twins::new(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "W2"},
        "W2": {"Type": "Wait", "Seconds": 5, "End": true}}}));
    let first = timer_of(&out, TimerKind::Wait);
    let out = run.ok(10, fired(first));
    let second = timer_of(&out, TimerKind::Wait);
    // The first Wait's timer again, while the second Wait sleeps: not its timer.
    assert_eq!(
        run.refused(11, fired(first)),
        format!("TimerFired: timer {first} is not set (it fired or was cancelled)")
    );
    let out = run.ok(15, fired(second));
    assert_eq!(status(&out), Some(Status::Succeeded));
}

#[test]
fn a_retry_interval_fires_once_and_the_failed_attempt_cannot_answer() {
    let (mut run, out) = Twins::new(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "f"},
              "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 1}],
              "End": true}}}));
    let first = scheduled(&out)[0];
    run.ok(0, started(first));
    let out = run.ok(1, failed(first));
    let backoff = timer_of(&out, TimerKind::Retry);
    // While the state backs off, the failed attempt's task is over: no answer, no start.
    for event in [succeeded(first, json!(1)), started(first), failed(first)] {
        let refusal = run.refused(2, event);
        assert!(
            refusal.ends_with(&format!(
                "task {first} is not running (it ended or was cancelled)"
            )),
            "{refusal}"
        );
    }
    let out = run.ok(3, fired(backoff));
    let second = scheduled(&out)[0];
    assert_ne!(second, first);
    assert_eq!(
        run.refused(3, fired(backoff)),
        format!("TimerFired: timer {backoff} is not set (it fired or was cancelled)")
    );
    run.ok(3, started(second));
    let out = run.ok(4, succeeded(second, json!("ok")));
    assert_eq!(status(&out), Some(Status::Succeeded));
}

#[test]
fn a_branch_completes_once() {
    let (mut run, out) = Twins::new(json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "a"}, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "b"}, "End": true}}}]}}}));
    let (a, b) = (scheduled(&out)[0], scheduled(&out)[1]);
    run.ok(0, started(a));
    run.ok(0, started(b));
    run.ok(1, succeeded(a, json!("a")));
    // Branch A is done: it cannot end again, neither way.
    for event in [
        succeeded(a, json!("again")),
        failed(a),
        Event::TaskHeartbeat { task: a },
    ] {
        let refusal = run.refused(2, event);
        assert!(
            refusal.ends_with(&format!(
                "task {a} is not running (it ended or was cancelled)"
            )),
            "{refusal}"
        );
    }
    let out = run.ok(3, succeeded(b, json!("b")));
    assert_eq!(status(&out), Some(Status::Succeeded));
    let Some(Command::Complete(done)) = out.commands.last() else {
        panic!("{out:?}");
    };
    assert_eq!(done.output, Some(json!(["a", "b"])));
}

#[test]
fn a_branch_cancelled_because_its_sibling_failed_cannot_answer() {
    let (mut run, out) = Twins::new(json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "After",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}],
              "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "a"}, "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "b"}, "HeartbeatSeconds": 30, "End": true}}}]},
        "After": {"Type": "Wait", "Seconds": 5, "End": true}}}));
    let (a, b) = (scheduled(&out)[0], scheduled(&out)[1]);
    run.ok(0, started(a));
    let out = run.ok(0, started(b));
    let heartbeat = timer_of(&out, TimerKind::Heartbeat);
    let out = run.ok(1, failed(a));
    assert!(out.commands.contains(&Command::CancelTask { task: b }));
    assert!(types(&out).contains(&"ParallelStateFailed".to_owned()));
    let after = timer_of(&out, TimerKind::Wait);
    // Branch B was cancelled with its state: its answers and its heartbeat timer are stale.
    for event in [
        succeeded(b, json!("b")),
        failed(b),
        Event::TaskHeartbeat { task: b },
    ] {
        let refusal = run.refused(2, event);
        assert!(
            refusal.ends_with(&format!(
                "task {b} is not running (it ended or was cancelled)"
            )),
            "{refusal}"
        );
    }
    assert_eq!(
        run.refused(31, fired(heartbeat)),
        format!("TimerFired: timer {heartbeat} is not set (it fired or was cancelled)")
    );
    let out = run.ok(6, fired(after));
    assert_eq!(status(&out), Some(Status::Succeeded));
}

#[test]
fn a_cancelled_map_iteration_cannot_answer_and_queued_ones_never_start() {
    let (mut run, out) = Twins::new(json!({"StartAt": "Items", "States": {
        "Items": {"Type": "Pass", "Result": [1, 2, 3], "ResultPath": "$.items", "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2, "Next": "After",
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After"}],
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task",
                  "Resource": TASK, "Parameters": {"FunctionName": "f"}, "End": true}}}},
        "After": {"Type": "Wait", "Seconds": 5, "End": true}}}));
    // MaxConcurrency 2: iterations 0 and 1 run, 2 is queued.
    let tasks = scheduled(&out);
    assert_eq!(tasks.len(), 2);
    let (first, second) = (tasks[0], tasks[1]);
    run.ok(0, started(first));
    run.ok(0, started(second));
    let out = run.ok(1, failed(first));
    // Iteration 1 is cancelled with its state; iteration 2 never starts.
    assert!(out.commands.contains(&Command::CancelTask { task: second }));
    assert!(scheduled(&out).is_empty());
    let types = types(&out);
    assert!(
        types.contains(&"MapIterationAborted".to_owned()),
        "{types:?}"
    );
    assert!(types.contains(&"MapStateFailed".to_owned()), "{types:?}");
    let after = timer_of(&out, TimerKind::Wait);
    for event in [started(second), succeeded(second, json!(2)), failed(second)] {
        let refusal = run.refused(2, event);
        assert!(
            refusal.ends_with(&format!(
                "task {second} is not running (it ended or was cancelled)"
            )),
            "{refusal}"
        );
    }
    let out = run.ok(6, fired(after));
    assert_eq!(status(&out), Some(Status::Succeeded));
}

#[test]
fn events_after_the_execution_ended_are_not_running() {
    // A Stop ends everything: a timer or an answer that comes later is NotRunning (a host drops
    // it; StopExecution and SendTask* tell the client), not an UnexpectedEvent.
    let (mut run, out) = Twins::new(json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "End": true, "Branches": [
            {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "f"}, "End": true}}},
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}}]}}}));
    let task = scheduled(&out)[0];
    let wait = timer_of(&out, TimerKind::Wait);
    let stop = Event::Stop {
        error: None,
        cause: None,
    };
    let out = run.ok(1, stop);
    assert_eq!(status(&out), Some(Status::Aborted));
    for event in [fired(wait), succeeded(task, json!(1)), started(task)] {
        let step = at(&run.exec, 10, event);
        assert_eq!(run.exec.step(step), Err(StepError::NotRunning));
    }
}
