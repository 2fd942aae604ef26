//! `stepwise run` as a user runs it: the JSON on stdout, exit codes, messages on stderr, mocks.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A file with `text` in a directory of its own (a fresh one per call), named `name`.
fn temp_file(name: &str, text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "stepwise-run-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

fn definition(value: Value) -> PathBuf {
    temp_file("machine.asl.json", &value.to_string())
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

fn stepwise(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("stepwise runs")
}

fn run(file: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", path_str(file)];
    args.extend_from_slice(extra);
    stepwise(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout must be exactly one JSON object (and a newline).
fn result(o: &Output) -> Value {
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.ends_with('\n'),
        "stdout: {text:?}, stderr: {}",
        stderr(o)
    );
    let value: Value = serde_json::from_str(&text).expect("stdout is one JSON value");
    assert!(value.is_object(), "{value}");
    value
}

/// A machine whose Task state `Call` has the fields `extra`, and a Pass state `Handled` for
/// its Catch to go to.
fn one_task(extra: Value) -> Value {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f", "Payload.$": "$"},
        "End": true
    });
    for (k, v) in extra.as_object().expect("object") {
        task[k] = v.clone();
    }
    let mut machine = json!({"StartAt": "Call", "States": {"Call": task}});
    if extra.get("Catch").is_some() {
        machine["States"]["Handled"] = json!({"Type": "Pass", "End": true});
    }
    machine
}

fn mock(responses: Value) -> PathBuf {
    temp_file(
        "mock.json",
        &json!({
            "StateMachines": {"machine": {"TestCases": {"Case": {"Call": "R"}}}},
            "MockedResponses": {"R": responses}
        })
        .to_string(),
    )
}

#[test]
fn success_prints_the_output_and_exits_zero() {
    let out = run(
        &examples().join("hello.asl.json"),
        &["--input", r#"{"name": "Ada", "patient": false}"#],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        result(&out),
        json!({"status": "SUCCEEDED", "output": {"greeting": "Hello, Ada!", "patient": false}})
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_fail_state_prints_error_and_cause_and_exits_one() {
    let file = definition(json!({
        "StartAt": "Nope",
        "States": {"Nope": {"Type": "Fail", "Error": "Custom.Error", "Cause": "It went wrong."}}
    }));
    let out = run(&file, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        result(&out),
        json!({"status": "FAILED", "error": "Custom.Error", "cause": "It went wrong."})
    );

    // Absent error and cause are left out, not null.
    let file = definition(json!({"StartAt": "Nope", "States": {"Nope": {"Type": "Fail"}}}));
    let out = run(&file, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(result(&out), json!({"status": "FAILED"}));
}

#[test]
fn an_invalid_definition_exits_two_with_validates_diagnostics_on_stderr() {
    let file = definition(json!({
        "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Next": "Missing"}}
    }));
    let out = run(&file, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let text = stderr(&out);
    assert!(
        text.contains(&format!(
            "{}: /States/A/Next: MISSING_TRANSITION_TARGET: Missing 'Next' target: Missing",
            file.display()
        )),
        "{text}"
    );

    let out = run(&examples().join("no-such-file.json"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn bad_input_json_exits_two_with_a_clear_message() {
    let out = run(
        &examples().join("hello.asl.json"),
        &["--input", "{name: 1}"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        stderr(&out),
        "stepwise: InvalidExecutionInput: Invalid State Machine Execution Input: 'Unexpected character ('n' (code 110)): was expecting double-quote to start field name'\n"
    );
}

#[test]
fn history_runs_from_execution_started_to_execution_succeeded() {
    let file = definition(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    let out = run(&file, &["--history", "--input", r#"{"a": 1}"#]);
    assert_eq!(out.status.code(), Some(0));
    let value = result(&out);
    assert_eq!(value["output"], json!({"a": 1}));
    let events = value["events"].as_array().expect("events");
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(events[0]["id"], 1);
    assert_eq!(events[0]["previousEventId"], 0);
    assert_eq!(
        events[0]["executionStartedEventDetails"]["input"],
        r#"{"a": 1}"#
    );
    assert!(events[0]["timestamp"].is_number());
    assert_eq!(
        events[3]["executionSucceededEventDetails"]["output"],
        r#"{"a":1}"#
    );
}

#[test]
fn a_mocked_task_returns_its_mocked_result() {
    let file = definition(one_task(json!({"OutputPath": "$.Payload"})));
    let mock = mock(json!({"0": {"Return": {"StatusCode": 200, "Payload": {"ok": true}}}}));
    let out = run(&file, &["--mock", path_str(&mock), "--test-case", "Case"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        result(&out),
        json!({"status": "SUCCEEDED", "output": {"ok": true}})
    );

    // The only test case is used when none is named.
    let out = run(&file, &["--mock", path_str(&mock)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_mocked_throw_is_caught_by_catch() {
    let file = definition(one_task(json!({
        "Catch": [{"ErrorEquals": ["Lambda.Unknown"], "Next": "Handled"}]
    })));
    let mock = mock(json!({"0": {"Throw": {"Error": "Lambda.Unknown", "Cause": "boom"}}}));
    let out = run(&file, &["--mock", path_str(&mock)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        result(&out),
        json!({"status": "SUCCEEDED", "output": {"Error": "Lambda.Unknown", "Cause": "boom"}})
    );
}

#[test]
fn a_range_throws_twice_then_the_retry_gets_the_return() {
    let file = definition(one_task(json!({
        "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 30, "MaxAttempts": 2}]
    })));
    let mock = mock(json!({
        "0-1": {"Throw": {"Error": "Flaky", "Cause": "try again"}},
        "2": {"Return": "third time lucky"}
    }));
    let out = run(&file, &["--mock", path_str(&mock), "--history"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value = result(&out);
    assert_eq!(value["output"], "third time lucky");
    let types: Vec<&str> = value["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|t| t.starts_with("Task") && !t.starts_with("TaskState"))
        .collect();
    assert_eq!(
        types,
        [
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded"
        ]
    );

    // One retry too few: the second Throw fails the execution.
    let file = definition(one_task(json!({
        "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 1}]
    })));
    let out = run(&file, &["--mock", path_str(&mock)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        result(&out),
        json!({"status": "FAILED", "error": "Flaky", "cause": "try again"})
    );
}

#[test]
fn an_invocation_with_no_mocked_response_fails_the_execution() {
    let file = definition(one_task(json!({
        "Retry": [{"ErrorEquals": ["Flaky"], "MaxAttempts": 3}]
    })));
    let mock = mock(json!({"0": {"Throw": {"Error": "Flaky"}}}));
    let out = run(&file, &["--mock", path_str(&mock)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        result(&out),
        json!({
            "status": "FAILED",
            "error": "States.Runtime",
            "cause": "The mocked response \"R\" (test case \"Case\") has no entry for invocation 1 of the state \"Call\""
        })
    );
}

/// An integration Stepwise does not have fails as it does on a server; what only a server
/// could answer (a callback, a child execution, an activity) fails with States.Runtime.
#[test]
fn a_task_stepwise_cannot_reach_fails_the_execution() {
    let file = definition(one_task(json!({
        "Resource": "arn:aws:states:::eks:runJob.sync",
        "Parameters": {"ClusterName": "c", "Job": {}}
    })));
    let out = run(&file, &[]);
    assert_eq!(out.status.code(), Some(1));
    let value = result(&out);
    assert_eq!(value["status"], "FAILED");
    assert_eq!(value["error"], "States.TaskFailed");
    assert!(
        value["cause"]
            .as_str()
            .is_some_and(|c| c.contains("eks:runJob.sync")),
        "{value}"
    );
    for (resource, parameters) in [
        (
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            json!({"FunctionName": "f", "Payload": {"token.$": "$$.Task.Token"}}),
        ),
        (
            "arn:aws:states:::states:startExecution.sync:2",
            json!({"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m"}),
        ),
        (
            "arn:aws:states:us-east-1:123456789012:activity:work",
            json!({}),
        ),
    ] {
        let file = definition(json!({"StartAt": "Call", "States": {"Call": {
            "Type": "Task", "Resource": resource, "End": true, "Parameters": parameters
        }}}));
        let out = run(&file, &[]);
        let value = result(&out);
        assert_eq!(value["error"], "States.Runtime", "{resource}: {value}");
        assert!(
            value["cause"]
                .as_str()
                .is_some_and(|c| c.contains("needs `stepwise serve`")),
            "{resource}: {value}"
        );
    }
}

/// An AWS service with no endpoint configured is AWS itself, which needs keys: without them
/// the task fails at once, saying so, under the integration's own error prefix.
#[test]
fn an_aws_call_without_credentials_fails_saying_so() {
    let file = definition(one_task(json!({
        "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": "t", "Item": {"id": {"S": "1"}}}
    })));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stepwise"));
    cmd.args(["run", path_str(&file)]);
    for var in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "DYNAMODB_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    // Nothing for the SDKs' chain to find either: no profile files, no instance metadata.
    let none = std::env::temp_dir().join("stepwise-no-such-aws-file");
    cmd.env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    let out = cmd.output().expect("run stepwise");
    assert_eq!(out.status.code(), Some(1));
    let value = result(&out);
    assert_eq!(value["error"], "DynamoDB.SdkClientException", "{value}");
    assert!(
        value["cause"]
            .as_str()
            .is_some_and(|c| c.starts_with("Unable to load credentials")),
        "{value}"
    );
}

/// Lambda is called for real: a function bound to nothing does not exist, as on AWS.
#[test]
fn an_unbound_lambda_function_does_not_exist() {
    let file = definition(one_task(json!({})));
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", path_str(&file)])
        .env_remove("LAMBDA_ENDPOINT")
        .env_remove("STEPWISE_CONFIG")
        .output()
        .expect("run stepwise");
    assert_eq!(out.status.code(), Some(1));
    let value = result(&out);
    assert_eq!(value["status"], "FAILED");
    assert_eq!(value["error"], "Lambda.ResourceNotFoundException");
}

/// `--config` binds a Lambda function to a local command.
#[test]
fn a_lambda_function_bound_to_a_command_runs() {
    let file = definition(one_task(json!({"ResultSelector": {"got.$": "$.Payload"}})));
    let dir = file.parent().expect("dir").to_owned();
    let config = dir.join("stepwise.toml");
    std::fs::write(
        &config,
        "[lambda.functions.f]\ncommand = [\"sh\", \"-c\", \"cat\"]\n",
    )
    .expect("write config");
    let out = run(
        &file,
        &["--config", path_str(&config), "--input", r#"{"n": 1}"#],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        result(&out),
        json!({"status": "SUCCEEDED", "output": {"got": {"n": 1}}})
    );
}

#[test]
fn a_bad_config_file_exits_two_naming_the_line() {
    let file = definition(one_task(json!({})));
    let config = file.parent().expect("dir").join("bad.toml");
    std::fs::write(&config, "[lambda]\nendpoint = 3\n").expect("write config");
    let out = run(&file, &["--config", path_str(&config)]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:2: endpoint:"), "{stderr}");
}

#[test]
fn tasks_inside_a_map_are_mocked_by_state_name_and_count_together() {
    let file = definition(json!({
        "StartAt": "Each",
        "States": {"Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {"StartAt": "Call", "States": {"Call": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
                "End": true
            }}},
            "End": true
        }}
    }));
    let mock = mock(json!({"0": {"Return": "first"}, "1-2": {"Return": "later"}}));
    let out = run(
        &file,
        &[
            "--mock",
            path_str(&mock),
            "--input",
            r#"{"items": [1, 2, 3]}"#,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(result(&out)["output"], json!(["first", "later", "later"]));
}

#[test]
fn a_bad_mock_file_exits_two_saying_what_is_wrong_and_where() {
    let file = definition(one_task(json!({})));
    let mock = mock(json!({
        "0": {"Return": 1, "Throw": {"Error": "E"}},
        "1-x": {"Return": 1}
    }));
    let out = run(&file, &["--mock", path_str(&mock)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let m = mock.display();
    assert_eq!(
        stderr(&out),
        format!(
            "stepwise: invalid mock configuration:\n\
             {m}: MockedResponses.R.\"0\": expected exactly one of Return or Throw, found \"Return\", \"Throw\"\n\
             {m}: MockedResponses.R.\"1-x\": expected an invocation number (\"0\") or an inclusive range (\"1-2\")\n"
        )
    );
}

#[test]
fn the_mock_test_case_is_chosen_by_state_machine_name_and_test_case() {
    let file = definition(one_task(json!({})));
    let mock = temp_file(
        "mock.json",
        &json!({
            "StateMachines": {
                "machine": {"TestCases": {"A": {"Call": "One"}, "B": {"Call": "Two"}}},
                "Other": {"TestCases": {"A": {"Call": "Two"}}}
            },
            "MockedResponses": {"One": {"0": {"Return": 1}}, "Two": {"0": {"Return": 2}}}
        })
        .to_string(),
    );
    let m = path_str(&mock);
    let out = run(&file, &["--mock", m]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "stepwise: {m}: the state machine \"machine\" has 2 test cases in the mock configuration (\"A\", \"B\"); name the one to use with --test-case\n"
        )
    );
    let out = run(&file, &["--mock", m, "--test-case", "B"]);
    assert_eq!(result(&out)["output"], 2);
    let out = run(
        &file,
        &[
            "--mock",
            m,
            "--state-machine-name",
            "Other",
            "--test-case",
            "A",
        ],
    );
    assert_eq!(result(&out)["output"], 2);
    let out = run(&file, &["--mock", m, "--test-case", "C"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no test case named \"C\""),
        "{}",
        stderr(&out)
    );
    let out = run(&file, &["--test-case", "A"]);
    assert_eq!(out.status.code(), Some(2), "--test-case needs --mock");
}

#[test]
fn input_comes_from_a_file_or_stdin() {
    let input = temp_file("input.json", r#"{"name": "Grace", "patient": false}"#);
    let hello = examples().join("hello.asl.json");
    let out = run(&hello, &["--input-file", path_str(&input)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(result(&out)["output"]["greeting"], "Hello, Grace!");

    let mut child = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", path_str(&hello), "--input-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stepwise runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(br#"{"name": "Linus", "patient": false}"#)
        .expect("write stdin");
    let out = child.wait_with_output().expect("stepwise ends");
    assert_eq!(result(&out)["output"]["greeting"], "Hello, Linus!");

    let out = run(&hello, &["--input", "{}", "--input-file", path_str(&input)]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--input and --input-file conflict"
    );
}

#[test]
fn a_wait_with_the_default_time_scale_finishes_at_once_on_the_executions_clock() {
    let file = definition(json!({
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}
    }));
    let started = Instant::now();
    let out = run(&file, &["--history"]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value = result(&out);
    let events = value["events"].as_array().expect("events");
    let first = events[0]["timestamp"].as_f64().expect("timestamp");
    let last = events[events.len() - 1]["timestamp"]
        .as_f64()
        .expect("timestamp");
    assert_eq!(last - first, 3600.0);
}

#[test]
fn a_time_scale_really_sleeps_that_fraction() {
    let file = definition(json!({
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 2, "End": true}}
    }));
    let started = Instant::now();
    let out = run(&file, &["--time-scale", "0.25"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(started.elapsed() >= Duration::from_millis(500));
    let out = run(&file, &["--time-scale", "-1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn names_reach_the_context_object() {
    let file = definition(json!({
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {
            "execution.$": "$$.Execution.Name",
            "machine.$": "$$.StateMachine.Name",
            "id.$": "$$.Execution.Id"
        }, "End": true}}
    }));
    let out = run(&file, &["--name", "run-1"]);
    assert_eq!(
        result(&out)["output"],
        json!({
            "execution": "run-1",
            "machine": "machine",
            "id": "arn:aws:states:us-east-1:123456789012:execution:machine:run-1"
        })
    );
    let out = run(&file, &["--state-machine-name", "Orders"]);
    let output = &result(&out)["output"];
    assert_eq!(output["machine"], "Orders");
    assert_eq!(
        output["execution"]
            .as_str()
            .expect("a generated name")
            .len(),
        36
    );
    let out = run(&file, &["--name", "no spaces please"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("stepwise: InvalidName: Invalid Name: 'no spaces please'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_readme_examples_run_as_shown() {
    let order = examples().join("order.asl.json");
    let mock = examples().join("order.mock.json");
    let out = run(
        &order,
        &[
            "--input",
            r#"{"order": 42}"#,
            "--mock",
            path_str(&mock),
            "--test-case",
            "FlakyNetwork",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        result(&out),
        json!({"status": "SUCCEEDED", "output": {"order": 42, "payment": {"receipt": "r-2"}}})
    );
    let out = run(
        &order,
        &["--mock", path_str(&mock), "--test-case", "CardDeclined"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        result(&out),
        json!({"status": "FAILED", "error": "OrderDeclined", "cause": "The card was declined."})
    );
}

/// A definition and a stepwise.toml binding the Lambda function `slow` to a command that takes
/// three seconds.
fn with_slow_function(machine: Value) -> (PathBuf, PathBuf) {
    let file = definition(machine);
    let config = file.with_file_name("stepwise.toml");
    std::fs::write(
        &config,
        "[lambda.functions.slow]\ncommand = [\"sh\", \"-c\", \"sleep 3; echo '{\\\"done\\\": true}'\"]\ntimeout_seconds = 30\n",
    )
    .expect("write config");
    (file, config)
}

fn slow_task(extra: Value) -> Value {
    let mut task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "slow"}, "OutputPath": "$.Payload", "End": true});
    for (k, v) in extra.as_object().expect("object") {
        task[k] = v.clone();
    }
    task
}

/// Seconds between two history events, by the execution's clock.
fn seconds_between(events: &[Value], first: usize, last: usize) -> f64 {
    let at = |i: usize| events[i]["timestamp"].as_f64().expect("timestamp");
    at(last) - at(first)
}

fn event_types(value: &Value) -> Vec<String> {
    value["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect()
}

#[test]
fn the_tasks_of_parallel_branches_run_at_the_same_time() {
    let branch = |name: &str| json!({"StartAt": name, "States": {name: slow_task(json!({}))}});
    let (file, config) = with_slow_function(json!({"StartAt": "Both", "States": {"Both": {
        "Type": "Parallel", "Branches": [branch("A"), branch("B")], "End": true}}}));
    let out = run(&file, &["--config", path_str(&config), "--history"]);
    let value = result(&out);
    assert_eq!(value["status"], "SUCCEEDED", "{value}");
    assert_eq!(value["output"], json!([{"done": true}, {"done": true}]));
    // Both calls started before either ended: they overlapped.
    let types = event_types(&value);
    let started: Vec<usize> = (0..types.len())
        .filter(|&i| types[i] == "TaskStarted")
        .collect();
    let first_done = types
        .iter()
        .position(|t| t == "TaskSucceeded")
        .expect("a task succeeded");
    assert_eq!(started.len(), 2, "{types:?}");
    assert!(started[1] < first_done, "{types:?}");
    let events = value["events"].as_array().expect("events");
    let whole = seconds_between(events, 0, events.len() - 1);
    assert!(
        (3.0..5.5).contains(&whole),
        "two 3 s calls side by side take about 3 s, not 6: {whole}"
    );
}

#[test]
fn a_task_timeout_fires_while_the_call_runs() {
    let (file, config) = with_slow_function(json!({"StartAt": "Call", "States": {
        "Call": slow_task(json!({"TimeoutSeconds": 1}))}}));
    let out = run(&file, &["--config", path_str(&config), "--history"]);
    let value = result(&out);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(value["status"], "FAILED", "{value}");
    assert_eq!(value["error"], "States.Timeout");
    let types = event_types(&value);
    assert!(types.contains(&"TaskTimedOut".to_owned()), "{types:?}");
    let events = value["events"].as_array().expect("events");
    let whole = seconds_between(events, 0, events.len() - 1);
    assert!(
        (1.0..2.5).contains(&whole),
        "the 1 s timeout ends the task, not the 3 s call: {whole}"
    );
}
