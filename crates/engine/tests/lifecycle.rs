//! Each task and timer has a lifecycle: an event its current phase does not allow is refused
//! with `StepError::UnexpectedEvent`, applies nothing and records nothing; commands come out in
//! the same order on every run.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::{Command, Event, Execution, ExecutionInfo, Step, StepError, StepOutput};
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
