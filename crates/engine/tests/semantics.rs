//! Behaviour a user of Step Functions relies on, run end to end through the engine with
//! scripted task results.

use std::sync::Arc;

use serde_json::{Value, json};
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::local::{self, RunOptions, RunResult};
use stepwise_engine::{ExecutionInfo, Status, TaskKind};
use stepwise_test_support::start_time;
use stepwise_test_support::tasks::{ScriptedTasks, failed};

fn run_with(definition: Value, input: Value, script: &mut ScriptedTasks) -> RunResult {
    let (machine, _) = parse_definition(&definition.to_string(), ParseOptions::default())
        .unwrap_or_else(|r| panic!("definition rejected: {:?}", r.invalid_definition_message()));
    local::run(
        Arc::new(machine),
        ExecutionInfo::local("sm", "exec", start_time()),
        input,
        None,
        script,
        &RunOptions::default(),
        |_| {},
    )
}

fn run(definition: Value, input: Value) -> RunResult {
    run_with(definition, input, &mut ScriptedTasks::default())
}

fn types(r: &RunResult) -> Vec<&'static str> {
    r.events.iter().map(|e| e.event_type.as_str()).collect()
}

#[test]
fn input_path_can_select_the_context_object() {
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$.Execution.Name", "End": true}}}),
        json!({"a": 1}),
    );
    assert_eq!(r.completion.output, Some(json!("exec")));
    let r = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$$", "End": true}}}),
        json!({"a": 1}),
    );
    let out = r.completion.output.unwrap();
    assert_eq!(out["Execution"]["Input"], json!({"a": 1}));
    assert_eq!(out["State"]["Name"], json!("P"));
}

/// Paths AWS deploys that rely on Jayway's leniency run as AWS runs them: an unquoted word in a
/// filter is a string, and a name right after `]` needs no dot.
#[test]
fn lenient_jayway_paths_evaluate() {
    let r = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass",
                  "Parameters": {
                      "failed.$": "$.items[?(@.status==Failure)].id",
                      "spanish.$": "$.translations[?(@.TargetLanguageCode==es)].TranslatedText",
                      "instance.$": "$.Reservations[0].Instances[0]InstanceId",
                      "count.$": "States.ArrayLength($.items[?(@.status == Failure)])"},
                  "ResultPath": "$.picked", "Next": "F"},
            "F": {"Type": "Pass", "InputPath": "$.items[?(@.status!=Failure)]",
                  "ResultPath": "$.others", "Next": "C"},
            "C": {"Type": "Choice", "Choices": [
                     {"Variable": "$.Reservations[0].Instances[0]InstanceId", "StringEquals": "i-1",
                      "Next": "M"}],
                  "Default": "Bad"},
            "M": {"Type": "Map", "ItemsPath": "$.Reservations[0]Instances",
                  "ItemProcessor": {"StartAt": "I", "States": {
                      "I": {"Type": "Pass", "InputPath": "$.InstanceId", "End": true}}},
                  "ResultPath": "$.ids", "Next": "Out"},
            "Out": {"Type": "Pass",
                    "Parameters": {"picked.$": "$.picked", "others.$": "$.others", "ids.$": "$.ids",
                                   "second.$": "$$.Execution.Input.items[1]id"},
                    "End": true},
            "Bad": {"Type": "Fail"}
        }}),
        json!({
            "items": [{"id": 1, "status": "Failure"}, {"id": 2, "status": "Success"},
                      {"id": 3, "status": "Failure"}],
            "translations": [{"TargetLanguageCode": "fr", "TranslatedText": "Bonjour"},
                             {"TargetLanguageCode": "es", "TranslatedText": "Hola"}],
            "Reservations": [{"Instances": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]}]
        }),
    );
    assert_eq!(r.completion.status, Status::Succeeded, "{:?}", r.completion);
    assert_eq!(
        r.completion.output,
        Some(json!({
            "picked": {"failed": [1, 3], "spanish": ["Hola"], "instance": "i-1", "count": 2},
            "others": [{"id": 2, "status": "Success"}],
            "ids": ["i-1", "i-2"],
            "second": 2
        }))
    );
}

/// A service integration's ARN with a region and account runs as that integration (Task*
/// events, the callback token of `.waitForTaskToken`), never as an activity.
#[test]
fn an_integration_arn_with_region_and_account_runs_as_the_integration() {
    let mut script = ScriptedTasks::default();
    let r = run_with(
        json!({"StartAt": "Get", "States": {
            "Get": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject",
                    "Parameters": {"Bucket": "b", "Key": "k"}, "Next": "Call"},
            "Call": {"Type": "Task",
                     "Resource": "arn:aws:states:us-east-1:123456789012:lambda:invoke.waitForTaskToken",
                     "Parameters": {"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}},
                     "End": true}
        }}),
        json!({}),
        &mut script,
    );
    assert_eq!(r.completion.status, Status::Succeeded, "{:?}", r.completion);
    let kinds: Vec<_> = script.seen.iter().map(|t| t.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            TaskKind::Service {
                resource_type: "aws-sdk:s3".into(),
                resource: "getObject".into()
            },
            TaskKind::Service {
                resource_type: "lambda".into(),
                resource: "invoke.waitForTaskToken".into()
            },
        ]
    );
    let token = script.seen[1].task_token.clone().expect("a callback token");
    assert_eq!(script.seen[1].input["Payload"]["token"], json!(token));
    assert!(
        !types(&r).iter().any(|t| t.starts_with("Activity")),
        "{:?}",
        types(&r)
    );
}

/// The causes of a `SecondsPath` that selects nothing, a negative number, or a number that is
/// not a long.
#[test]
fn seconds_path_causes() {
    let cause = |input: Value| {
        let r = run(
            json!({"StartAt": "W", "States": {
                "W": {"Type": "Wait", "SecondsPath": "$.input.waitSeconds", "End": true}}}),
            input,
        );
        assert_eq!(r.completion.status, Status::Failed);
        assert_eq!(r.completion.error.as_deref(), Some("States.Runtime"));
        r.completion.cause.unwrap_or_default()
    };
    let prefix = "An error occurred while executing the state 'W' (entered at the event id #2). ";
    assert_eq!(
        cause(json!({"input": {"waitSeconds": -1}})),
        format!(
            "{prefix}The SecondsPath parameter references a negative value: $.input.waitSeconds == -1"
        )
    );
    assert_eq!(
        cause(json!({"input": {"waitSeconds": -1.5}})),
        format!(
            "{prefix}The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == -1.5"
        )
    );
    assert_eq!(
        cause(json!({"input": {"waitSeconds": 18446744073709551615_u64}})),
        format!(
            "{prefix}The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 18446744073709551615"
        )
    );
    assert_eq!(
        cause(json!({})),
        format!(
            "{prefix}The SecondsPath parameter does not reference an input value: $.input.waitSeconds"
        )
    );
    let r = run(
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.input.waitSeconds", "End": true}}}),
        json!({"input": {"waitSeconds": 0}}),
    );
    assert_eq!(r.completion.status, Status::Succeeded);
}

/// JSONata errors read as JSONata 2.0.6 (AWS's version) words them.
#[test]
fn jsonata_errors_use_jsonata_2_0_6_wording() {
    let cause = |expr: &str| {
        let r = run(
            json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {
                "P": {"Type": "Pass", "Output": format!("{{% {expr} %}}"), "End": true}}}),
            json!({}),
        );
        assert_eq!(r.completion.status, Status::Failed);
        assert_eq!(
            r.completion.error.as_deref(),
            Some("States.QueryEvaluationError")
        );
        r.completion.cause.unwrap_or_default()
    };
    let prefix = "An error occurred while executing the state 'P' (entered at the event id #2). ";
    assert_eq!(
        cause("$foo()"),
        format!(
            "{prefix}The JSONata expression '$foo()' specified for the field 'Output' threw an error during evaluation. T1006: Attempted to invoke a non-function"
        )
    );
    assert_eq!(
        cause("$number('1/2')"),
        format!(
            "{prefix}The JSONata expression '$number('1/2')' specified for the field 'Output' threw an error during evaluation. D3030: Unable to cast value to a number: \"1/2\""
        )
    );
    assert_eq!(
        cause("[1..'a']"),
        format!(
            "{prefix}The JSONata expression '[1..'a']' specified for the field 'Output' threw an error during evaluation. T2004: The right side of the range operator (..) must evaluate to an integer"
        )
    );
}

#[test]
fn retry_then_catch_with_error_output() {
    let def = json!({
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f", "Payload.$": "$"},
                "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Handled"}],
                "End": true
            },
            "Handled": {"Type": "Pass", "End": true}
        }
    });
    let mut script = ScriptedTasks::new([
        failed("Boom", "1"),
        failed("Boom", "2"),
        failed("Boom", "3"),
    ]);
    let r = run_with(def, json!({"x": 1}), &mut script);
    assert_eq!(script.seen.len(), 3, "one try and two retries");
    assert_eq!(r.completion.status, Status::Succeeded);
    assert_eq!(
        r.completion.output,
        Some(json!({"x": 1, "err": {"Error": "Boom", "Cause": "3"}}))
    );
    let t = types(&r);
    assert_eq!(t.iter().filter(|t| **t == "TaskScheduled").count(), 3);
    assert!(t.contains(&"TaskStateExited"));
    // Retries wait IntervalSeconds * BackoffRate^n: 1 s, then 2 s.
    let scheduled: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.event_type.as_str() == "TaskScheduled")
        .map(|e| e.timestamp)
        .collect();
    assert_eq!((scheduled[1] - scheduled[0]).num_seconds(), 1);
    assert_eq!((scheduled[2] - scheduled[1]).num_seconds(), 2);
}

#[test]
fn states_all_does_not_catch_runtime_errors() {
    let def = json!({
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "C"}], "End": true},
            "C": {"Type": "Succeed"}
        }
    });
    let r = run(def, json!({}));
    assert_eq!(r.completion.status, Status::Failed);
    assert_eq!(r.completion.error.as_deref(), Some("States.Runtime"));
}

#[test]
fn parallel_branch_failure_is_caught() {
    let def = json!({
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel",
                  "Branches": [
                      {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                      {"StartAt": "B", "States": {"B": {"Type": "Fail", "Error": "E", "Cause": "c"}}}
                  ],
                  "Catch": [{"ErrorEquals": ["E"], "Next": "C"}], "End": true},
            "C": {"Type": "Pass", "End": true}
        }
    });
    let r = run(def, json!({"in": 1}));
    assert_eq!(
        r.completion.output,
        Some(json!({"Error": "E", "Cause": "c"}))
    );
    let t = types(&r);
    let failed = t.iter().position(|t| *t == "ParallelStateFailed").unwrap();
    assert_eq!(t[failed + 1], "ParallelStateExited");
}

/// AWS's recording: a Task of a Parallel branch that fails with no error name (SendTaskFailure
/// without `error`) is aborted as the Parallel fails; one that fails with a name is not.
#[test]
fn a_branch_task_failing_without_an_error_name_is_aborted_with_its_parallel() {
    let def = json!({
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel",
                  "Branches": [{"StartAt": "T", "States": {"T": {
                      "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                      "End": true}}}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "C"}],
                  "End": true},
            "C": {"Type": "Pass", "End": true}
        }
    });
    let nameless = stepwise_engine::local::TaskOutcome::Failed {
        error: None,
        cause: None,
    };
    let r = run_with(def.clone(), json!({}), &mut ScriptedTasks::new([nameless]));
    let t = types(&r);
    let at = t
        .iter()
        .position(|t| *t == "LambdaFunctionFailed")
        .expect("failed");
    assert_eq!(
        t[at + 1..at + 3],
        ["TaskStateAborted", "ParallelStateFailed"]
    );
    assert_eq!(
        r.completion.output,
        Some(json!({"error": {"Error": null, "Cause": null}}))
    );
    let r = run_with(def, json!({}), &mut ScriptedTasks::new([failed("E", "c")]));
    let t = types(&r);
    let at = t
        .iter()
        .position(|t| *t == "LambdaFunctionFailed")
        .expect("failed");
    assert_eq!(t[at + 1], "ParallelStateFailed");
}

#[test]
fn map_collects_results_in_order_with_item_selector() {
    let def = json!({
        "StartAt": "M",
        "States": {
            "M": {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 2,
                  "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index", "k.$": "$.k"},
                  "ItemProcessor": {"StartAt": "Double", "States": {
                      "Double": {"Type": "Pass", "Parameters": {"r.$": "States.MathAdd($.v, $.v)", "i.$": "$.i", "k.$": "$.k"}, "End": true}}},
                  "End": true}
        }
    });
    let r = run(def, json!({"xs": [1, 2, 3], "k": "z"}));
    assert_eq!(
        r.completion.output,
        Some(
            json!([{"r": 2, "i": 0, "k": "z"}, {"r": 4, "i": 1, "k": "z"}, {"r": 6, "i": 2, "k": "z"}])
        )
    );
}

#[test]
fn variables_are_visible_in_nested_scopes_and_assign_sees_old_values() {
    let def = json!({
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
            "B": {"Type": "Pass", "Assign": {"x": 2, "y.$": "$x"}, "Next": "M"},
            "M": {"Type": "Map", "Items": [1], "QueryLanguage": "JSONata",
                  "ItemProcessor": {"StartAt": "In", "States": {"In": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% [$x, $y, $states.input] %}", "End": true}}},
                  "End": true}
        }
    });
    let r = run(def, json!({}));
    assert_eq!(r.completion.output, Some(json!([[2, 1, 1]])));
}

#[test]
fn execution_timeout_ends_with_execution_timed_out() {
    let def = json!({
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}},
        "TimeoutSeconds": 5
    });
    let r = run(def, json!({}));
    assert_eq!(r.completion.status, Status::TimedOut);
    assert_eq!(types(&r).last(), Some(&"ExecutionTimedOut"));
}

#[test]
fn no_choice_matched_fails_with_states_no_choice_matched() {
    let def = json!({
        "StartAt": "C",
        "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "NumericEquals": 1, "Next": "D"}]},
                   "D": {"Type": "Succeed"}}
    });
    let r = run(def, json!({"a": 2}));
    assert_eq!(
        r.completion.error.as_deref(),
        Some("States.NoChoiceMatched")
    );
}

#[test]
fn oversized_output_is_data_limit_exceeded() {
    let big = "x".repeat(300 * 1024);
    let def =
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": big, "End": true}}});
    let r = run(def, json!({}));
    assert_eq!(
        r.completion.error.as_deref(),
        Some("States.DataLimitExceeded")
    );
}

/// AWS's 256 KiB quota counts the state's output as UTF-8 bytes: 262,144 bytes pass, one more
/// fails, whatever the number of characters.
#[test]
fn the_payload_limit_is_counted_in_utf8_bytes() {
    let pass = |result: String| json!({"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Result": result, "End": true}}});
    // Two quotes, 87,380 three-byte characters and two ASCII ones: 262,144 bytes in all.
    let at_limit = format!("{}aa", "€".repeat(87_380));
    assert_eq!(serde_json::to_string(&at_limit).unwrap().len(), 262_144);
    let r = run(pass(at_limit.clone()), json!({}));
    assert_eq!(r.completion.status, Status::Succeeded, "{:?}", r.completion);
    let r = run(pass(format!("{at_limit}a")), json!({}));
    assert_eq!(r.completion.status, Status::Failed);
    assert_eq!(
        r.completion.error.as_deref(),
        Some("States.DataLimitExceeded")
    );
    assert_eq!(
        r.completion.cause.as_deref(),
        Some(
            "The state/task 'Big' returned a result with a size exceeding the maximum number of bytes service limit."
        )
    );
}

#[test]
fn an_execution_that_reaches_25000_history_events_fails() {
    // Each turn of the loop records four events; the loop never ends on its own.
    let definition = json!({
        "StartAt": "Spin",
        "States": {
            "Spin": {"Type": "Pass", "Next": "Again"},
            "Again": {"Type": "Choice", "Choices": [
                {"Variable": "$.stop", "IsPresent": true, "Next": "Done"}
            ], "Default": "Spin"},
            "Done": {"Type": "Succeed"}
        }
    });
    let result = run_with(definition, json!({}), &mut ScriptedTasks::default());
    assert_eq!(result.completion.status, Status::Failed);
    assert_eq!(result.completion.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        result.completion.cause.as_deref(),
        Some("The execution reached the maximum number of history events (25000).")
    );
    assert_eq!(
        result.events.len(),
        25_000,
        "AWS keeps 25,000 events, no more"
    );
    let last = result.events.last().expect("events");
    assert_eq!(last.id, 25_000);
    assert_eq!(last.event_type.as_str(), "ExecutionFailed");
}
