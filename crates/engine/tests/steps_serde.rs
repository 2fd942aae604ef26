//! Recorded steps survive a trip through JSON (the runtime stores them that way): the shape is
//! the documented one, and replaying the decoded steps reproduces the history exactly.

use std::sync::Arc;

use serde_json::{Value, json};
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::local::{self, RunOptions, TaskOutcome};
use stepwise_engine::{Event, ExecutionInfo, Status, Step};
use stepwise_test_support::start_time;
use stepwise_test_support::tasks::ScriptedTasks;

#[test]
fn steps_round_trip_through_json_and_replay_identically() {
    let def = json!({
        "StartAt": "T",
        "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                  "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 2}], "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"u.$": "States.UUID()"}, "End": true}
        }
    });
    let (machine, _) = parse_definition(&def.to_string(), ParseOptions::default()).unwrap();
    let machine = Arc::new(machine);
    let info = ExecutionInfo::local("sm", "exec", start_time());
    let mut script = ScriptedTasks::new([TaskOutcome::Failed {
        error: Some("E".into()),
        cause: None,
    }])
    .otherwise(TaskOutcome::Succeeded(json!({"ok": 1.5})));
    let result = local::run(
        machine.clone(),
        info.clone(),
        json!({"n": 1}),
        Some("{\"n\": 1}".into()),
        &mut script,
        &RunOptions::default(),
        |_| {},
    );
    assert_eq!(result.completion.status, Status::Succeeded);

    let text = serde_json::to_string(&result.steps).unwrap();
    let decoded: Vec<Step> = serde_json::from_str(&text).unwrap();
    assert_eq!(decoded, result.steps);
    assert_eq!(local::replay(machine, info, &decoded), result.events);

    let as_json: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(
        as_json[0]["event"],
        json!({"type": "Start", "input": {"n": 1}, "input_text": "{\"n\": 1}"})
    );
    assert_eq!(as_json[0]["now"], json!("2024-05-01T12:00:00Z"));
    let failed = as_json
        .iter()
        .find(|s| s["event"]["type"] == "TaskFailed")
        .unwrap();
    // Absent fields are left out.
    assert_eq!(
        failed["event"],
        json!({"type": "TaskFailed", "task": 1, "error": "E"})
    );
    assert!(as_json.iter().any(|s| s["event"]["type"] == "TimerFired"));
}

#[test]
fn events_decode_from_their_documented_shape() {
    let step: Step = serde_json::from_value(json!({
        "now": "2024-05-01T12:00:00.250Z",
        "seed": 7,
        "event": {"type": "Stop", "cause": "bye"}
    }))
    .unwrap();
    assert_eq!(step.seed, 7);
    assert_eq!(step.now.timestamp_subsec_millis(), 250);
    assert_eq!(
        step.event,
        Event::Stop {
            error: None,
            cause: Some("bye".into())
        }
    );
    let bad = serde_json::from_value::<Step>(json!({
        "now": "2024-05-01T12:00:00Z", "seed": 1, "event": {"type": "Explode"}
    }));
    assert!(bad.is_err());
}
