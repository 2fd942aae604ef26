//! RedriveExecution as a user sees it: a FAILED, TIMED_OUT or ABORTED execution continues from
//! the state that did not succeed, with that state's original input and the variables of that
//! moment, `$$.Execution.RedriveCount` goes up, and the history goes on with ExecutionRedriven.
//! Every run is replayed from its recorded steps too, and must give the same history.

use std::sync::Arc;

use chrono::Duration;
use serde_json::{Value, json};
use stepwise_asl::model::StateMachine;
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::local::{self, RunOptions, RunResult, TaskOutcome};
use stepwise_engine::{Event, Execution, ExecutionInfo, NotRedrivable, Status, Step, StepError};
use stepwise_test_support::start_time;
use stepwise_test_support::tasks::{ScriptedTasks, failed};

fn fail(error: &str) -> TaskOutcome {
    failed(error, "it broke")
}

fn machine(definition: Value) -> Arc<StateMachine> {
    let (m, _) = parse_definition(&definition.to_string(), ParseOptions::default())
        .expect("valid definition");
    Arc::new(m)
}

fn info() -> ExecutionInfo {
    ExecutionInfo::local("sm", "exec", start_time())
}

fn start(m: &Arc<StateMachine>, input: Value, script: &mut ScriptedTasks) -> RunResult {
    local::run(
        m.clone(),
        info(),
        input,
        None,
        script,
        &RunOptions::default(),
        |_| {},
    )
}

fn redrive(m: &Arc<StateMachine>, previous: &RunResult, script: &mut ScriptedTasks) -> RunResult {
    let r = local::redrive(
        m.clone(),
        info(),
        previous,
        script,
        &RunOptions::default(),
        |_| {},
    )
    .expect("redrivable");
    assert_eq!(
        local::replay(m.clone(), info(), &r.steps),
        r.events,
        "replaying the steps reproduces the history"
    );
    r
}

fn types(events: &[stepwise_engine::HistoryEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn details(e: &stepwise_engine::HistoryEvent) -> Value {
    e.details.as_ref().map_or(Value::Null, |d| d.to_json())
}

#[test]
fn a_failed_task_runs_again_with_its_input_and_the_run_goes_on() {
    let m = machine(json!({
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Parameters": {"order.$": "$.id"},
                        "Assign": {"customer": "ada"}, "Next": "Charge"},
            "Charge": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "charge", "Payload": {
                           "order.$": "$.order", "who.$": "$customer",
                           "redrives.$": "$$.Execution.RedriveCount"}},
                       "ResultSelector": {"paid.$": "$.Payload"}, "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }
    }));
    let mut script = ScriptedTasks::new([fail("PaymentDown")]);
    let first = start(&m, json!({"id": 7}), &mut script);
    assert_eq!(first.completion.status, Status::Failed);
    assert_eq!(first.completion.error.as_deref(), Some("PaymentDown"));

    script
        .answers
        .push_back(TaskOutcome::Succeeded(json!({"Payload": true})));
    let r = redrive(&m, &first, &mut script);
    assert_eq!(r.completion.status, Status::Succeeded);
    assert_eq!(r.completion.output, Some(json!({"paid": true})));

    // The task ran again with the same input, seeing the variable and the redrive count.
    assert_eq!(script.seen.len(), 2);
    assert_eq!(
        script.seen[1].input["Payload"],
        json!({"order": 7, "who": "ada", "redrives": 1})
    );
    assert_eq!(script.seen[0].input["Payload"]["redrives"], json!(0));

    // The history continues after ExecutionFailed; Prepare is not run again.
    let new = &r.events[first.events.len()..];
    assert_eq!(
        types(new),
        [
            "ExecutionRedriven",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(details(&new[0]), json!({"redriveCount": 1}));
    assert_eq!(new[0].id, first.events.len() as u64 + 1);
    assert_eq!(new[0].previous_event_id, first.events.len() as u64);
    assert_eq!(new[1].previous_event_id, new[0].id);
    assert_eq!(details(&new[1])["input"], json!("{\"order\":7}"));
}

#[test]
fn a_parallel_state_runs_only_its_failed_branch_again() {
    let m = machine(json!({
        "StartAt": "Both",
        "States": {
            "Both": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": "a"}, "OutputPath": "$.Payload", "End": true}}},
                {"StartAt": "B0", "States": {
                    "B0": {"Type": "Pass", "Assign": {"step": "b0"}, "Next": "B"},
                    "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                          "Parameters": {"FunctionName": "b", "Payload": {"after.$": "$step"}},
                          "OutputPath": "$.Payload", "End": true}}}
            ]}
        }
    }));
    let mut script = ScriptedTasks::new([
        TaskOutcome::Succeeded(json!({"Payload": "a1"})),
        fail("BranchBroke"),
    ]);
    let first = start(&m, json!({"x": 1}), &mut script);
    assert_eq!(first.completion.status, Status::Failed);
    assert_eq!(first.completion.error.as_deref(), Some("BranchBroke"));

    script
        .answers
        .push_back(TaskOutcome::Succeeded(json!({"Payload": "b2"})));
    let r = redrive(&m, &first, &mut script);
    assert_eq!(r.completion.status, Status::Succeeded);
    // Branch A keeps its result; branch B resumes at B (not B0), with its variable.
    assert_eq!(r.completion.output, Some(json!(["a1", "b2"])));
    assert_eq!(script.seen.len(), 3);
    assert_eq!(script.seen[2].input["FunctionName"], json!("b"));
    assert_eq!(script.seen[2].input["Payload"], json!({"after": "b0"}));
    let new = &r.events[first.events.len()..];
    assert_eq!(
        types(new),
        [
            "ExecutionRedriven",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(details(&new[1])["input"], json!("{\"x\":1}"));
}

#[test]
fn an_inline_map_runs_only_its_failed_iterations_again() {
    let m = machine(json!({
        "StartAt": "Each",
        "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": true,
                "ItemProcessor": {"StartAt": "Work", "States": {
                    "Work": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                             "Parameters": {"FunctionName": "w", "Payload.$": "$"},
                             "OutputPath": "$.Payload", "End": true}}}}
        }
    }));
    // Item 1 fails; with MaxConcurrency 1, item 2 never starts.
    let mut script = ScriptedTasks::new([
        TaskOutcome::Succeeded(json!({"Payload": "r0"})),
        fail("ItemBroke"),
    ]);
    let first = start(&m, json!({"items": [10, 11, 12]}), &mut script);
    assert_eq!(first.completion.status, Status::Failed);
    assert_eq!(script.seen.len(), 2);

    script.answers.extend([
        TaskOutcome::Succeeded(json!({"Payload": "r1"})),
        TaskOutcome::Succeeded(json!({"Payload": "r2"})),
    ]);
    let r = redrive(&m, &first, &mut script);
    assert_eq!(r.completion.status, Status::Succeeded);
    assert_eq!(r.completion.output, Some(json!(["r0", "r1", "r2"])));
    let payloads: Vec<&Value> = script.seen[2..]
        .iter()
        .map(|t| &t.input["Payload"])
        .collect();
    assert_eq!(payloads, [&json!(11), &json!(12)]);
    let new = &r.events[first.events.len()..];
    let started: Vec<Value> = new
        .iter()
        .filter(|e| e.event_type.as_str() == "MapIterationStarted")
        .map(|e| details(e)["index"].clone())
        .collect();
    assert_eq!(started, [json!(1), json!(2)]);
}

#[test]
fn a_timed_out_parallel_resumes_the_branch_that_was_waiting() {
    let m = machine(json!({
        "StartAt": "Both",
        "TimeoutSeconds": 30,
        "States": {
            "Both": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "Quick", "States": {"Quick": {"Type": "Pass", "Result": "q", "End": true}}},
                {"StartAt": "Slow", "States": {
                    "Slow": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Last"},
                    "Last": {"Type": "Pass", "Result": "s", "End": true}}}
            ]}
        }
    }));
    let quick = start(&m, json!({"wait": 20}), &mut ScriptedTasks::default());
    assert_eq!(quick.completion.output, Some(json!(["q", "s"])));
    let first = start(&m, json!({"wait": 40}), &mut ScriptedTasks::default());
    assert_eq!(first.completion.status, Status::TimedOut);
    // After a redrive, the Wait starts again with 30 more seconds of execution time: it still
    // does not fit, so the execution times out again, having re-entered only the Wait.
    let r = redrive(&m, &first, &mut ScriptedTasks::default());
    assert_eq!(r.completion.status, Status::TimedOut);
    let new = &r.events[first.events.len()..];
    assert_eq!(
        types(new),
        [
            "ExecutionRedriven",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "WaitStateEntered",
            "ExecutionTimedOut"
        ]
    );
    assert_eq!(details(&new[3])["input"], json!("{\"wait\":40}"));
}

#[test]
fn a_timed_out_wait_waits_again_with_a_fresh_timeout() {
    let m = machine(json!({
        "StartAt": "Wait",
        "TimeoutSeconds": 30,
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Stop"},
            "Stop": {"Type": "Fail", "Error": "Never"}
        }
    }));
    let mut script = ScriptedTasks::default();
    let first = start(&m, json!({"n": 1}), &mut script);
    assert_eq!(first.completion.status, Status::TimedOut);

    let r = redrive(&m, &first, &mut script);
    assert_eq!(r.completion.status, Status::TimedOut);
    let new = &r.events[first.events.len()..];
    assert_eq!(
        types(new),
        ["ExecutionRedriven", "WaitStateEntered", "ExecutionTimedOut"]
    );
    // The state machine's timeout counted from the redrive.
    assert_eq!(new[2].timestamp - new[0].timestamp, Duration::seconds(30));
    assert_eq!(details(&new[1])["input"], json!("{\"n\":1}"));

    // And once more: the count goes on.
    let again = redrive(&m, &r, &mut script);
    let last_redrive = again
        .events
        .iter()
        .rfind(|e| e.event_type.as_str() == "ExecutionRedriven")
        .expect("a second ExecutionRedriven");
    assert_eq!(details(last_redrive), json!({"redriveCount": 2}));
}

#[test]
fn a_choice_without_a_match_is_entered_again_with_its_input() {
    let m = machine(json!({
        "StartAt": "Shape",
        "States": {
            "Shape": {"Type": "Pass", "Parameters": {"kind.$": "$.k"}, "Next": "Route"},
            "Route": {"Type": "Choice", "Choices": [
                {"Variable": "$.kind", "StringEquals": "a", "Next": "Done"}]},
            "Done": {"Type": "Succeed"}
        }
    }));
    let first = start(&m, json!({"k": "b"}), &mut ScriptedTasks::default());
    assert_eq!(
        first.completion.error.as_deref(),
        Some("States.NoChoiceMatched")
    );
    let r = redrive(&m, &first, &mut ScriptedTasks::default());
    let new = &r.events[first.events.len()..];
    assert_eq!(
        types(new),
        ["ExecutionRedriven", "ChoiceStateEntered", "ExecutionFailed"]
    );
    assert_eq!(details(&new[1])["input"], json!("{\"kind\":\"b\"}"));
}

#[test]
fn an_aborted_execution_continues_from_the_state_it_was_in() {
    let m = machine(json!({
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": "done", "End": true}
        }
    }));
    let i = info();
    let mut exec = Execution::new(m.clone(), i.clone());
    let at = |s: i64| i.start_time + Duration::seconds(s);
    let mut steps = vec![
        Step {
            now: at(0),
            seed: 1,
            event: Event::Start {
                input: json!({"v": 1}),
                input_text: None,
            },
        },
        Step {
            now: at(5),
            seed: 2,
            event: Event::Stop {
                error: None,
                cause: None,
            },
        },
    ];
    for s in &steps {
        exec.step(s.clone()).expect("accepted");
    }
    assert_eq!(exec.status(), Status::Aborted);
    assert_eq!(exec.redrive_status(at(6)), Ok(()));
    steps.push(Step {
        now: at(10),
        seed: 3,
        event: Event::Redrive,
    });
    let out = exec.step(steps[2].clone()).expect("redriven");
    assert_eq!(exec.status(), Status::Running);
    assert_eq!(exec.redrive_count(), 1);
    assert_eq!(exec.redrive_date(), Some(at(10)));
    assert_eq!(
        types(&out.events),
        ["ExecutionRedriven", "WaitStateEntered"]
    );
    let timer = out
        .commands
        .iter()
        .find_map(|c| match c {
            stepwise_engine::Command::StartTimer { timer, fire_at, .. } => Some((*timer, *fire_at)),
            _ => None,
        })
        .expect("the wait's timer");
    assert_eq!(timer.1, at(70));
    let out = exec
        .step(Step {
            now: at(70),
            seed: 4,
            event: Event::TimerFired { timer: timer.0 },
        })
        .expect("accepted");
    assert_eq!(exec.status(), Status::Succeeded);
    assert_eq!(types(&out.events).last(), Some(&"ExecutionSucceeded"));
}

#[test]
fn executions_that_cannot_be_redriven_say_why() {
    let m = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let ok = start(&m, json!({}), &mut ScriptedTasks::default());
    assert_eq!(ok.completion.status, Status::Succeeded);
    let err = local::redrive(
        m.clone(),
        info(),
        &ok,
        &mut ScriptedTasks::default(),
        &RunOptions::default(),
        |_| {},
    )
    .expect_err("a succeeded execution is not redrivable");
    assert_eq!(err, StepError::NotRedrivable(NotRedrivable::Succeeded));
    assert_eq!(
        err.to_string(),
        "Execution is SUCCEEDED and cannot be redriven"
    );

    let failing = machine(json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}));
    let failed = start(&failing, json!({}), &mut ScriptedTasks::default());
    let mut exec = Execution::new(failing.clone(), info());
    for s in &failed.steps {
        exec.step(s.clone()).expect("accepted");
    }
    let ended = failed.steps[0].now;
    assert_eq!(exec.redrive_status(ended + Duration::days(14)), Ok(()));
    assert_eq!(
        exec.redrive_status(ended + Duration::days(15)),
        Err(NotRedrivable::RedrivablePeriodExceeded)
    );
    let late = exec.step(Step {
        now: ended + Duration::days(15),
        seed: 9,
        event: Event::Redrive,
    });
    assert_eq!(
        late,
        Err(StepError::NotRedrivable(
            NotRedrivable::RedrivablePeriodExceeded
        ))
    );
    assert_eq!(
        exec.status(),
        Status::Failed,
        "a refused redrive changes nothing"
    );

    let running = Execution::new(failing, info());
    assert_eq!(running.redrive_status(ended), Err(NotRedrivable::Running));
}

#[test]
fn a_redrive_step_serialises_as_a_tagged_event() {
    let text = serde_json::to_string(&Event::Redrive).expect("serialises");
    assert_eq!(text, r#"{"type":"Redrive"}"#);
    assert_eq!(
        serde_json::from_str::<Event>(&text).expect("parses"),
        Event::Redrive
    );
}
