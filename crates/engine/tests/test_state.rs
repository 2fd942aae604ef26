//! TestState as a user sees it, for what the recorded corpus does not cover: tasks answered by
//! the caller's handler, Retry and Catch of a handler's failure, Wait, variables and Assign.

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use stepwise_engine::local::TaskOutcome;
use stepwise_engine::test_state::{
    InspectionLevel, TestStateErrorCode, TestStateMock, TestStateRequest, test_state,
};
use stepwise_test_support::tasks::ScriptedTasks;

fn run(req: &TestStateRequest, handler: &mut ScriptedTasks) -> Value {
    let now = Utc
        .with_ymd_and_hms(2025, 3, 1, 12, 0, 0)
        .single()
        .expect("a date");
    test_state(req, handler, now, 1).expect("a test result")
}

fn request(definition: Value, input: Value) -> TestStateRequest {
    TestStateRequest {
        definition: definition.to_string(),
        input: Some(input.to_string()),
        role_arn: Some("arn:aws:iam::123456789012:role/test".into()),
        inspection_level: InspectionLevel::Debug,
        ..TestStateRequest::default()
    }
}

fn parsed(v: &Value) -> Value {
    serde_json::from_str(v.as_str().expect("JSON text")).expect("valid JSON")
}

#[test]
fn a_task_without_a_mock_goes_to_the_handler() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$.p"},
        "ResultSelector": {"v.$": "$.Payload"}, "ResultPath": "$.r", "Next": "After"});
    let mut handler = ScriptedTasks::always(TaskOutcome::Succeeded(json!({"Payload": 42})));
    let out = run(&request(def, json!({"p": "x"})), &mut handler);
    assert_eq!(handler.seen.len(), 1);
    assert_eq!(
        handler.seen[0].input,
        json!({"FunctionName": "f", "Payload": "x"})
    );
    assert_eq!(out["status"], "SUCCEEDED");
    assert_eq!(out["nextState"], "After");
    assert_eq!(parsed(&out["output"]), json!({"p": "x", "r": {"v": 42}}));
    let data = &out["inspectionData"];
    assert_eq!(parsed(&data["result"]), json!({"Payload": 42}));
    assert_eq!(parsed(&data["afterResultSelector"]), json!({"v": 42}));
    assert_eq!(
        parsed(&data["afterParameters"]),
        json!({"FunctionName": "f", "Payload": "x"})
    );
}

#[test]
fn a_handler_failure_is_retriable_then_caught() {
    let def = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "Retry": [{"ErrorEquals": ["Boom"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handle"}],
        "End": true});
    let failing = || TaskOutcome::Failed {
        error: Some("Boom".into()),
        cause: Some("it broke".into()),
    };
    let mut handler = ScriptedTasks::always(failing());
    let out = run(&request(def.clone(), json!({})), &mut handler);
    assert_eq!(out["status"], "RETRIABLE");
    assert_eq!(out["error"], "Boom");
    assert_eq!(out["cause"], "it broke");
    assert_eq!(
        out["inspectionData"]["errorDetails"],
        json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 3})
    );
    assert!(out.get("output").is_none());

    // After both attempts the Catch takes over.
    let mut req = request(def, json!({}));
    req.state_configuration = Some(stepwise_engine::test_state::TestStateConfiguration {
        retrier_retry_count: Some(2),
        ..Default::default()
    });
    let out = run(&req, &mut ScriptedTasks::always(failing()));
    assert_eq!(out["status"], "CAUGHT_ERROR");
    assert_eq!(out["nextState"], "Handle");
    assert_eq!(
        parsed(&out["output"]),
        json!({"err": {"Error": "Boom", "Cause": "it broke"}})
    );
    assert_eq!(
        out["inspectionData"]["errorDetails"],
        json!({"retryIndex": 0, "catchIndex": 0})
    );
}

#[test]
fn wait_does_not_wait_and_names_the_next_state() {
    let def = json!({"Type": "Wait", "Seconds": 3600, "OutputPath": "$.a", "Next": "Later"});
    let mut req = request(def, json!({"a": [1]}));
    req.inspection_level = InspectionLevel::Info;
    let started = std::time::Instant::now();
    let out = run(
        &req,
        &mut ScriptedTasks::always(TaskOutcome::Succeeded(json!(null))),
    );
    assert!(started.elapsed().as_secs() < 5);
    assert_eq!(
        out,
        json!({"status": "SUCCEEDED", "nextState": "Later", "output": "[1]"})
    );
}

#[test]
fn variables_go_in_and_assigned_ones_come_out() {
    let def = json!({"Type": "Pass", "QueryLanguage": "JSONata",
        "Assign": {"total": "{% $base + $states.input.n %}"},
        "Output": "{% $base %}", "End": true});
    let mut req = request(def, json!({"n": 2}));
    req.variables = Some(json!({"base": 40}).to_string());
    let out = run(
        &req,
        &mut ScriptedTasks::always(TaskOutcome::Succeeded(json!(null))),
    );
    assert_eq!(out["status"], "SUCCEEDED");
    assert_eq!(parsed(&out["output"]), json!(40));
    assert_eq!(
        parsed(&out["inspectionData"]["variables"]),
        json!({"base": 40, "total": 42})
    );
}

#[test]
fn bad_requests_get_aws_errors() {
    let mut handler = ScriptedTasks::always(TaskOutcome::Succeeded(json!(null)));
    let now = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).single().unwrap();
    let pass = json!({"Type": "Pass", "End": true});

    let mut req = request(pass.clone(), json!({}));
    req.input = Some("{not json".into());
    let err = test_state(&req, &mut handler, now, 1).unwrap_err();
    assert_eq!(err.code, TestStateErrorCode::InvalidExecutionInput);
    assert_eq!(
        err.message,
        "Invalid State Machine Execution Input: 'Unexpected character ('n' (code 110)): was expecting double-quote to start field name'"
    );

    let mut req = request(json!({"Type": "Pass", "Next": 3}), json!({}));
    req.role_arn = None;
    let err = test_state(&req, &mut handler, now, 1).unwrap_err();
    assert_eq!(err.code, TestStateErrorCode::InvalidDefinition);
    assert!(
        err.message
            .starts_with("Invalid State Machine Definition: '")
    );

    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"}, "End": true});
    let mut req = request(task.clone(), json!({}));
    req.role_arn = None;
    let err = test_state(&req, &mut handler, now, 1).unwrap_err();
    assert_eq!(
        err.message,
        "RoleArn must be specified when testing a Task state"
    );
    // With a mock the role is optional.
    req.mock = Some(TestStateMock {
        result: Some(r#"{"StatusCode": 200}"#.into()),
        ..Default::default()
    });
    assert_eq!(
        test_state(&req, &mut handler, now, 1).unwrap()["status"],
        "SUCCEEDED"
    );

    let mut req = request(pass, json!({}));
    req.context = Some(r#"{"Execution": {"Nope": 1}}"#.into());
    let err = test_state(&req, &mut handler, now, 1).unwrap_err();
    assert_eq!(
        err.message,
        "Invalid Context object provided: Field 'Nope' is not allowed"
    );
    assert!(handler.seen.is_empty(), "no request ran a task");
}
