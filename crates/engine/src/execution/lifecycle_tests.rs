//! The state phases checked from inside: events whose task or timer is still on the engine's
//! books but whose state (or enclosing Parallel or Map) is not in the phase that waits for it.
//! The engine never gets there by itself (ending a state cancels its task and timers); these
//! tests put such an entry on the books by hand and show the phase check refuses the event,
//! changes nothing, and that the execution goes on exactly as a twin that never saw it.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use stepwise_asl::{ParseOptions, parse_definition};

use super::task::{PendingTask, TaskPhase};
use super::timers::TimerPurpose;
use super::*;

const TASK: &str = "arn:aws:states:::lambda:invoke";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("time")
}

fn step(secs: i64, event: Event) -> Step {
    Step {
        now: t0() + Duration::seconds(secs),
        seed: secs as u64,
        event,
    }
}

/// An execution and a twin that gets only the accepted events (see tests/lifecycle.rs).
struct Twins {
    exec: Execution,
    twin: Execution,
}

impl Twins {
    fn new(definition: Value) -> (Self, StepOutput) {
        let (machine, _) =
            parse_definition(&definition.to_string(), ParseOptions::default()).expect("valid");
        let machine = Arc::new(machine);
        let new = || Execution::new(machine.clone(), ExecutionInfo::local("sm", "e", t0()));
        let (mut exec, mut twin) = (new(), new());
        let start = || {
            step(
                0,
                Event::Start {
                    input: json!({}),
                    input_text: None,
                },
            )
        };
        let out = exec.step(start()).expect("starts");
        assert_eq!(twin.step(start()).expect("starts"), out);
        (Twins { exec, twin }, out)
    }

    fn ok(&mut self, secs: i64, event: Event) -> StepOutput {
        let out = self.exec.step(step(secs, event.clone())).expect("accepted");
        assert_eq!(out, self.twin.step(step(secs, event)).expect("twin"));
        out
    }

    /// Refused, with this reason; the books are as they were.
    fn refused(&mut self, secs: i64, event: Event) -> String {
        let (timers, tasks) = (self.exec.timers.len(), self.exec.tasks.len());
        let (events, next_timer) = (self.exec.next_event_id, self.exec.next_timer);
        let reason = match self.exec.step(step(secs, event)) {
            Err(StepError::UnexpectedEvent { event, reason }) => format!("{event}: {reason}"),
            other => panic!("expected UnexpectedEvent, got {other:?}"),
        };
        assert_eq!(
            (timers, tasks, events, next_timer),
            (
                self.exec.timers.len(),
                self.exec.tasks.len(),
                self.exec.next_event_id,
                self.exec.next_timer
            )
        );
        reason
    }

    fn phase(&self, f: FrameId) -> String {
        self.exec
            .frame(f)
            .active
            .as_ref()
            .expect("active")
            .phase_description()
    }
}

fn timer_of(out: &StepOutput) -> TimerId {
    out.commands
        .iter()
        .find_map(|c| match c {
            Command::StartTimer { timer, .. } => Some(*timer),
            _ => None,
        })
        .expect("a timer")
}

fn task_of(out: &StepOutput) -> TaskId {
    out.commands
        .iter()
        .find_map(|c| match c {
            Command::ScheduleTask(r) => Some(r.task),
            _ => None,
        })
        .expect("a task")
}

fn stray_task(frame: FrameId) -> PendingTask {
    PendingTask {
        frame,
        kind: TaskKind::LambdaFunction,
        phase: TaskPhase::Started,
        timeout_timer: None,
        heartbeat_timer: None,
        heartbeat_seconds: None,
        reader_of: None,
        map_run: None,
    }
}

fn completed(out: &StepOutput) -> Option<Status> {
    out.commands.iter().find_map(|c| match c {
        Command::Complete(c) => Some(c.status),
        _ => None,
    })
}

#[test]
fn a_timer_the_wait_is_not_sleeping_on_is_refused() {
    let (mut run, out) = Twins::new(json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "End": true}}}));
    let timer = timer_of(&out);
    assert_eq!(run.phase(0), format!("sleeping on timer {timer}"));
    // Another Wait timer for the same state, and a retry timer for it.
    run.exec.timers.insert(90, TimerPurpose::Wait(0));
    run.exec.timers.insert(91, TimerPurpose::Retry(0));
    assert_eq!(
        run.refused(5, Event::TimerFired { timer: 90 }),
        format!("TimerFired: timer 90 is stale: state W is sleeping on timer {timer}")
    );
    assert_eq!(
        run.refused(5, Event::TimerFired { timer: 91 }),
        format!("TimerFired: timer 91 is stale: state W is sleeping on timer {timer}")
    );
    // A task the Wait state never scheduled.
    run.exec.tasks.insert(77, stray_task(0));
    assert_eq!(
        run.refused(
            5,
            Event::TaskSucceeded {
                task: 77,
                output: json!(1)
            }
        ),
        format!("TaskSucceeded: task 77 is stale: state W is sleeping on timer {timer}")
    );
    assert_eq!(run.phase(0), format!("sleeping on timer {timer}"));
    run.exec.timers.retain(|t, _| *t < 90);
    run.exec.tasks.clear();
    let out = run.ok(10, Event::TimerFired { timer });
    assert_eq!(completed(&out), Some(Status::Succeeded));
}

#[test]
fn a_timer_the_retry_interval_is_not_backing_off_on_is_refused() {
    let (mut run, out) = Twins::new(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": TASK, "Parameters": {"FunctionName": "f"},
              "TimeoutSeconds": 60,
              "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 1}],
              "End": true}}}));
    let task = task_of(&out);
    assert_eq!(run.phase(0), format!("waiting for task {task}"));
    // A Wait timer while the Task state works: not its phase.
    run.exec.timers.insert(90, TimerPurpose::Wait(0));
    assert_eq!(
        run.refused(1, Event::TimerFired { timer: 90 }),
        format!("TimerFired: timer 90 is stale: state T is waiting for task {task}")
    );
    run.exec.timers.remove(&90);
    let out = run.ok(
        1,
        Event::TaskFailed {
            task,
            error: Some("E".into()),
            cause: None,
        },
    );
    let backoff = timer_of(&out);
    assert_eq!(run.phase(0), format!("backing off until timer {backoff}"));
    // Another retry timer, and the failed attempt's timeout timer kept by mistake.
    run.exec.timers.insert(91, TimerPurpose::Retry(0));
    run.exec.timers.insert(92, TimerPurpose::TaskTimeout(task));
    run.exec.tasks.insert(task, stray_task(0));
    assert_eq!(
        run.refused(2, Event::TimerFired { timer: 91 }),
        format!("TimerFired: timer 91 is stale: state T is backing off until timer {backoff}")
    );
    assert_eq!(
        run.refused(2, Event::TimerFired { timer: 92 }),
        format!("TimerFired: timer 92 is stale: state T is backing off until timer {backoff}")
    );
    assert_eq!(
        run.refused(2, Event::TaskHeartbeat { task }),
        format!(
            "TaskHeartbeat: task {task} is stale: state T is backing off until timer {backoff}"
        )
    );
    run.exec.timers.retain(|t, _| *t < 90);
    run.exec.tasks.clear();
    let out = run.ok(3, Event::TimerFired { timer: backoff });
    let again = task_of(&out);
    let out = run.ok(
        4,
        Event::TaskSucceeded {
            task: again,
            output: json!("ok"),
        },
    );
    assert_eq!(completed(&out), Some(Status::Succeeded));
}

#[test]
fn a_branch_that_already_ended_cannot_end_again() {
    // Branch 0 (a Pass) is done at once; branch 1 waits for its task.
    let (mut run, out) = Twins::new(json!({"StartAt": "P", "States": {"P": {"Type": "Parallel",
        "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": TASK,
                "Parameters": {"FunctionName": "b"}, "End": true}}}]}}}));
    let task = task_of(&out);
    let frame = run.exec.tasks[&task].frame;
    assert_eq!(run.exec.frame(frame).parent.map(|p| p.1), Some(1));
    // Were branch B's frame to answer for branch A's slot, A would end twice.
    run.exec.frame_mut(frame).parent = Some((0, 0));
    for event in [
        Event::TaskSucceeded {
            task,
            output: json!("b"),
        },
        Event::TaskStarted { task, worker: None },
    ] {
        let reason = run.refused(1, event);
        assert!(
            reason.ends_with(&format!(
                "task {task} is stale: branch 0 of P is not running: it has already ended"
            )),
            "{reason}"
        );
    }
    // Or for a slot it does not run.
    run.exec.frame_mut(frame).parent = Some((0, 5));
    assert!(
        run.refused(1, Event::TaskStarted { task, worker: None })
            .ends_with("branch 5 of P is not running: there is no such child")
    );
    run.exec.frame_mut(frame).parent = Some((0, 1));
    let out = run.ok(
        2,
        Event::TaskSucceeded {
            task,
            output: json!("b"),
        },
    );
    let Some(Command::Complete(done)) = out.commands.last() else {
        panic!("{out:?}");
    };
    assert_eq!(done.output, Some(json!(["a", "b"])));
}

#[test]
fn an_iteration_its_map_has_queued_cannot_answer() {
    // MaxConcurrency 1: iteration 0 runs, iteration 1 is queued.
    let (mut run, out) = Twins::new(json!({"StartAt": "Items", "States": {
        "Items": {"Type": "Pass", "Result": [1, 2], "Next": "M"},
        "M": {"Type": "Map", "MaxConcurrency": 1, "End": true,
              "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task",
                  "Resource": TASK, "Parameters": {"FunctionName": "f"}, "End": true}}}}}}));
    let task = task_of(&out);
    let frame = run.exec.tasks[&task].frame;
    assert_eq!(run.exec.frame(frame).parent.map(|p| p.1), Some(0));
    // Were iteration 0's frame to answer for iteration 1, which has not started.
    run.exec.frame_mut(frame).parent = Some((0, 1));
    let reason = run.refused(
        1,
        Event::TaskSucceeded {
            task,
            output: json!(1),
        },
    );
    assert_eq!(
        reason,
        format!(
            "TaskSucceeded: task {task} is stale: iteration 1 of M is not running: it has not started"
        )
    );
    run.exec.frame_mut(frame).parent = Some((0, 0));
    let out = run.ok(
        2,
        Event::TaskSucceeded {
            task,
            output: json!(1),
        },
    );
    let next = task_of(&out);
    let out = run.ok(
        3,
        Event::TaskSucceeded {
            task: next,
            output: json!(2),
        },
    );
    assert_eq!(completed(&out), Some(Status::Succeeded));
}
