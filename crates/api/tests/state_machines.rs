//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition and DescribeStateMachineForExecution through
//! the router, with AWS's recorded answers where there are some.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::{Harness, ROLE, pass};
use serde_json::{Value, json};
use stepwise_store::Batch;
use stepwise_test_support::corpus::{asl_cases, definition_text};
use stepwise_test_support::records::ExecutionRecordBuilder;

#[tokio::test]
async fn create_then_describe() {
    let h = Harness::new();
    let definition = pass("one");
    let created = h.create("orders", &definition).await;
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:orders";
    assert_eq!(created["stateMachineArn"], arn);
    assert!(created["creationDate"].is_number());
    assert!(created.get("stateMachineVersionArn").is_none());
    let described = h
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(
        described,
        json!({
            "stateMachineArn": arn,
            "name": "orders",
            "status": "ACTIVE",
            "definition": definition,
            "roleArn": ROLE,
            "type": "STANDARD",
            "creationDate": created["creationDate"],
            "loggingConfiguration": {"includeExecutionData": false, "level": "OFF"},
            "tracingConfiguration": {"enabled": false},
            "encryptionConfiguration": {"type": "AWS_OWNED_KEY"},
        })
    );
}

#[tokio::test]
async fn creates_are_idempotent_on_name_and_configuration() {
    let h = Harness::new();
    let first = h.create("sm", &pass("a")).await;
    // A different role or tags are ignored (API reference).
    let again = h
        .ok(
            "CreateStateMachine",
            json!({"name": "sm", "definition": pass("a"), "roleArn": "arn:aws:iam::1:role/other",
                   "tags": [{"key": "k", "value": "v"}]}),
        )
        .await;
    assert_eq!(again, first);
    // The same definition written differently is a different definition (recorded on AWS).
    let reformatted =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&pass("a")).unwrap()).unwrap();
    for body in [
        json!({"name": "sm", "definition": reformatted, "roleArn": ROLE}),
        json!({"name": "sm", "definition": pass("b"), "roleArn": ROLE}),
        json!({"name": "sm", "definition": pass("a"), "roleArn": ROLE, "type": "EXPRESS"}),
        json!({"name": "sm", "definition": pass("a"), "roleArn": ROLE, "publish": true}),
        json!({"name": "sm", "definition": pass("a"), "roleArn": ROLE, "tracingConfiguration": {"enabled": true}}),
    ] {
        let (code, message, _) = h.err("CreateStateMachine", body).await;
        assert_eq!(code, "StateMachineAlreadyExists");
        assert_eq!(
            message,
            "State Machine Already Exists: 'arn:aws:states:us-east-1:123456789012:stateMachine:sm'"
        );
    }
}

#[tokio::test]
async fn names_and_role_arns_are_checked() {
    let h = Harness::new();
    for name in ["with space", "a/b", "a:b", "tab\t", "q?"] {
        let (code, message, _) = h
            .err(
                "CreateStateMachine",
                json!({"name": name, "definition": pass("x"), "roleArn": ROLE}),
            )
            .await;
        assert_eq!(code, "InvalidName");
        assert_eq!(message, format!("Invalid Name: '{name}'"));
    }
    let (code, message, _) = h
        .err(
            "CreateStateMachine",
            json!({"name": "ok", "definition": pass("x"), "roleArn": "not-a-role"}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
    assert_eq!(message, "Invalid Arn: 'Invalid ARN prefix: not-a-role'");
}

#[tokio::test]
async fn invalid_definitions_get_aws_messages() {
    let h = Harness::new();
    let (code, message, _) = h
        .err(
            "CreateStateMachine",
            json!({"name": "bad", "definition": "{\"StartAt\": \"A\"}", "roleArn": ROLE}),
        )
        .await;
    assert_eq!(code, "InvalidDefinition");
    assert_eq!(
        message,
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /'"
    );
    // Nothing was created.
    assert_eq!(
        h.ok("ListStateMachines", json!({})).await,
        json!({"stateMachines": []})
    );
}

#[tokio::test]
async fn version_description_needs_publish() {
    let h = Harness::new();
    let (code, message, _) = h
        .err(
            "CreateStateMachine",
            json!({"name": "sm", "definition": pass("x"), "roleArn": ROLE, "versionDescription": "d"}),
        )
        .await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Version description can only be set when publish is true"
    );
}

#[tokio::test]
async fn logging_and_tracing_configurations_are_echoed_with_defaults() {
    let h = Harness::new();
    let destination = json!({"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}});
    let created = h
        .ok(
            "CreateStateMachine",
            json!({"name": "logged", "definition": pass("x"), "roleArn": ROLE,
                   "loggingConfiguration": {"level": "ERROR", "destinations": [destination]},
                   "tracingConfiguration": {"enabled": true}}),
        )
        .await;
    let d = h
        .ok(
            "DescribeStateMachine",
            json!({"stateMachineArn": created["stateMachineArn"]}),
        )
        .await;
    assert_eq!(
        d["loggingConfiguration"],
        json!({"destinations": [destination], "includeExecutionData": false, "level": "ERROR"})
    );
    assert_eq!(d["tracingConfiguration"], json!({"enabled": true}));
    for logging in [
        json!({"level": "ALL"}),
        json!({"level": "OFF", "destinations": [destination, destination]}),
    ] {
        let (code, message, _) = h
            .err(
                "CreateStateMachine",
                json!({"name": "other", "definition": pass("x"), "roleArn": ROLE, "loggingConfiguration": logging}),
            )
            .await;
        assert_eq!(code, "InvalidLoggingConfiguration");
        assert_eq!(
            message,
            "Invalid Logging Configuration: Must specify exactly one Log Destination."
        );
    }
}

#[tokio::test]
async fn describing_what_is_not_there() {
    let h = Harness::new();
    let arn = h.arns().state_machine("ghost");
    let (code, message, _) = h
        .err("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(message, format!("State Machine Does Not Exist: '{arn}'"));
    let (code, message, _) = h
        .err(
            "DescribeStateMachine",
            json!({"stateMachineArn": "not_a_valid_arn"}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
    assert_eq!(
        message,
        "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'"
    );
    let (code, message, _) = h
        .err(
            "DescribeStateMachine",
            json!({"stateMachineArn": h.arns().execution("sm", "e")}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
    assert_eq!(
        message,
        "Invalid Arn: 'Resource type not valid in this context: execution'"
    );
    // A state machine of another account is not ours.
    h.create("mine", &pass("x")).await;
    let (code, _, _) = h
        .err(
            "DescribeStateMachine",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:999999999999:stateMachine:mine"}),
        )
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
}

#[tokio::test]
async fn updates_make_revisions() {
    let h = Harness::new();
    let arn = h.create("sm", &pass("v1")).await["stateMachineArn"].clone();
    let (code, message, _) = h
        .err("UpdateStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(code, "MissingRequiredParameter");
    assert_eq!(
        message,
        "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"
    );

    let first = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": pass("v2")}),
        )
        .await;
    let revision = first["revisionId"].as_str().unwrap().to_string();
    assert_eq!(revision.len(), 36);
    assert!(first["updateDate"].is_number());
    assert!(first.get("stateMachineVersionArn").is_none());
    let d = h
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(d["definition"], pass("v2"));
    assert_eq!(d["revisionId"], revision.as_str());

    // The same parameters again: no new revision (recorded on AWS).
    let same = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": pass("v2")}),
        )
        .await;
    assert_eq!(same["revisionId"], revision.as_str());

    let role = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "roleArn": "arn:aws:iam::123456789012:role/other"}),
        )
        .await;
    assert_ne!(role["revisionId"], revision.as_str());
    let d = h
        .ok("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(d["roleArn"], "arn:aws:iam::123456789012:role/other");
    assert_eq!(d["definition"], pass("v2"));

    let (code, _, _) = h
        .err(
            "UpdateStateMachine",
            json!({"stateMachineArn": arn, "definition": "{}"}),
        )
        .await;
    assert_eq!(code, "InvalidDefinition");
    let ghost = h.arns().state_machine("ghost");
    let (code, _, _) = h
        .err(
            "UpdateStateMachine",
            json!({"stateMachineArn": ghost, "definition": pass("x")}),
        )
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    // A version ARN is not something to update (recorded: does not exist).
    let version = format!("{}:2", arn.as_str().unwrap());
    let (code, message, _) = h
        .err(
            "UpdateStateMachine",
            json!({"stateMachineArn": version, "definition": pass("x")}),
        )
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    assert_eq!(
        message,
        format!("State Machine Does Not Exist: '{version}'")
    );
}

#[tokio::test]
async fn express_definitions_are_checked_as_express() {
    let h = Harness::new();
    let definition = json!({
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                         "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"}, "End": true}}
    })
    .to_string();
    let (code, message, _) = h
        .err(
            "CreateStateMachine",
            json!({"name": "ex", "definition": definition, "roleArn": ROLE, "type": "EXPRESS"}),
        )
        .await;
    assert_eq!(code, "InvalidDefinition");
    assert!(message.contains(".waitForTaskToken"), "{message}");
    h.ok(
        "CreateStateMachine",
        json!({"name": "std", "definition": definition, "roleArn": ROLE}),
    )
    .await;
}

#[tokio::test]
async fn deletes_take_versions_and_aliases_along() {
    let h = Harness::new();
    let created = h
        .ok(
            "CreateStateMachine",
            json!({"name": "sm", "definition": pass("x"), "roleArn": ROLE, "publish": true}),
        )
        .await;
    let arn = created["stateMachineArn"].clone();
    let version = created["stateMachineVersionArn"].clone();
    let alias = h
        .ok(
            "CreateStateMachineAlias",
            json!({"name": "live", "routingConfiguration": [{"stateMachineVersionArn": version, "weight": 100}]}),
        )
        .await["stateMachineAliasArn"]
        .clone();
    h.ok("DeleteStateMachine", json!({"stateMachineArn": arn}))
        .await;
    let (code, _, _) = h
        .err("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    let (code, _, _) = h
        .err("DescribeStateMachine", json!({"stateMachineArn": version}))
        .await;
    assert_eq!(code, "StateMachineDoesNotExist");
    let (code, _, _) = h
        .err(
            "DescribeStateMachineAlias",
            json!({"stateMachineAliasArn": alias}),
        )
        .await;
    assert_eq!(code, "ResourceNotFound");
    // Deleting what is not there succeeds (recorded).
    h.ok("DeleteStateMachine", json!({"stateMachineArn": arn}))
        .await;
    // The name is free again.
    h.create("sm", &pass("other")).await;
}

#[tokio::test]
async fn listing_pages_through_250_state_machines() {
    let h = Harness::new();
    for i in 0..250 {
        h.create(&format!("sm-{i:03}"), &pass("x")).await;
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut body = json!({"maxResults": 60});
        if let Some(t) = &token {
            body["nextToken"] = json!(t);
        }
        let page = h.ok("ListStateMachines", body).await;
        pages += 1;
        let items = page["stateMachines"].as_array().unwrap();
        assert!(items.len() <= 60);
        for item in items {
            assert_eq!(item["type"], "STANDARD");
            assert!(item["creationDate"].is_number());
            assert_eq!(
                item["stateMachineArn"],
                h.arns().state_machine(item["name"].as_str().unwrap())
            );
            names.push(item["name"].as_str().unwrap().to_string());
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let expected: Vec<String> = (0..250).map(|i| format!("sm-{i:03}")).collect();
    assert_eq!(names, expected);
    // Default page size: 100.
    let first = h.ok("ListStateMachines", json!({})).await;
    assert_eq!(first["stateMachines"].as_array().unwrap().len(), 100);
    let zero = h.ok("ListStateMachines", json!({"maxResults": 0})).await;
    assert_eq!(zero["stateMachines"].as_array().unwrap().len(), 100);
    // A token of another list is no good here.
    let activities_token = stepwise_service::paging::encode_token("ListActivities", "", &"x");
    let (code, message, _) = h
        .err("ListStateMachines", json!({"nextToken": activities_token}))
        .await;
    assert_eq!(code, "InvalidToken");
    assert_eq!(message, "Invalid Token: 'Invalid token'");
    let (code, _, _) = h
        .err("ListStateMachines", json!({"nextToken": "garbage"}))
        .await;
    assert_eq!(code, "InvalidToken");
}

/// The 9 ValidateStateMachineDefinition cases recorded on AWS, answered exactly.
#[tokio::test]
async fn validate_state_machine_definition_matches_aws_recordings() {
    let Some(cases) = asl_cases() else { return };
    let h = Harness::new();
    let mut seen = 0;
    for case in cases
        .iter()
        .filter(|c| c["api"] == "ValidateStateMachineDefinition")
    {
        seen += 1;
        let mut body = json!({"definition": definition_text(case)});
        if let Some(t) = case["request"]["type"].as_str() {
            body["type"] = json!(t);
        }
        let out = h.ok("ValidateStateMachineDefinition", body).await;
        assert_eq!(out, case["expected"]["response"], "{}", case["id"]);
    }
    assert_eq!(seen, 9);
}

/// CreateStateMachine's recorded InvalidDefinition cases: every definition the validator rejects
/// is rejected through the API with exactly the validator's AWS-worded message (how often that
/// equals AWS's own text is the asl crate's measure), and every one it accepts is created.
#[tokio::test]
async fn create_state_machine_passes_definition_errors_through_unchanged() {
    let Some(cases) = asl_cases() else { return };
    let h = Harness::new();
    let (mut total, mut rejected) = (0, 0);
    for case in cases.iter().filter(|c| {
        c["api"] == "CreateStateMachine" && c["expected"].to_string().contains("InvalidDefinition")
    }) {
        total += 1;
        let text = definition_text(case);
        let machine = case["request"]["type"].as_str().unwrap_or("STANDARD");
        let options = stepwise_asl::ParseOptions {
            machine_type: if machine == "EXPRESS" {
                stepwise_asl::MachineType::Express
            } else {
                stepwise_asl::MachineType::Standard
            },
        };
        let expected =
            stepwise_asl::validate_definition(&text, options).invalid_definition_message();
        let body = json!({"name": format!("case-{total}"), "definition": text, "roleArn": ROLE, "type": machine});
        let (status, out) = h.call("CreateStateMachine", body).await;
        match expected {
            Some(message) => {
                rejected += 1;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{}", case["id"]);
                assert_eq!(out["__type"], "InvalidDefinition", "{}", case["id"]);
                assert_eq!(out["message"], message.as_str(), "{}", case["id"]);
            }
            None => assert_eq!(status, StatusCode::OK, "{}: {out}", case["id"]),
        }
    }
    assert!(total >= 80, "{total}");
    // Nearly all recorded rejections are rejections here too.
    assert!(rejected * 100 >= total * 90, "{rejected}/{total}");
}

#[tokio::test]
async fn validate_honours_severity_and_max_results() {
    let h = Harness::new();
    let out = h
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": pass("x")}),
        )
        .await;
    assert_eq!(
        out,
        json!({"result": "OK", "diagnostics": [], "truncated": false})
    );
    // Two errors, one shown.
    let two = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}).to_string();
    let all = h
        .ok("ValidateStateMachineDefinition", json!({"definition": two}))
        .await;
    assert_eq!(all["result"], "FAIL");
    assert_eq!(all["diagnostics"].as_array().unwrap().len(), 2);
    let one = h
        .ok(
            "ValidateStateMachineDefinition",
            json!({"definition": two, "maxResults": 1}),
        )
        .await;
    assert_eq!(one["diagnostics"].as_array().unwrap().len(), 1);
    assert_eq!(one["truncated"], true);
    assert_eq!(one["result"], "FAIL");
}

#[tokio::test]
async fn describe_state_machine_for_execution_reads_the_execution_record() {
    let h = Harness::new();
    let created = h
        .ok(
            "CreateStateMachine",
            json!({"name": "sm", "definition": pass("v1"), "roleArn": ROLE, "publish": true}),
        )
        .await;
    let sm_arn = created["stateMachineArn"].as_str().unwrap().to_string();
    let version_arn = created["stateMachineVersionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let updated = h
        .ok(
            "UpdateStateMachine",
            json!({"stateMachineArn": sm_arn, "definition": pass("v2")}),
        )
        .await;
    let target = h
        .api
        .service
        .control()
        .resolve_for_start(&sm_arn, 0.5)
        .await
        .unwrap();
    assert_eq!(target.definition, pass("v2"));
    let record = |name: &str, hash: &str, version: Option<&str>| {
        let record = ExecutionRecordBuilder::new("sm", name)
            .arn(h.arns().execution("sm", name))
            .state_machine_arn(sm_arn.clone())
            .start_ms(1_700_000_000_000)
            .definition_hash(hash)
            .role_arn(ROLE);
        match version {
            Some(v) => record.version_arn(v),
            None => record,
        }
        .build()
    };
    let v1 = h
        .api
        .service
        .control()
        .resolve_for_start(&version_arn, 0.5)
        .await
        .unwrap();
    h.store
        .commit(&Batch {
            new_executions: vec![
                record("latest", &target.definition_hash, None),
                record("old", &v1.definition_hash, Some(&version_arn)),
            ],
            ..Batch::default()
        })
        .await
        .unwrap();
    let latest = h
        .ok(
            "DescribeStateMachineForExecution",
            json!({"executionArn": h.arns().execution("sm", "latest")}),
        )
        .await;
    assert_eq!(latest["stateMachineArn"], sm_arn.as_str());
    assert_eq!(latest["name"], "sm");
    assert_eq!(latest["definition"], pass("v2"));
    assert_eq!(latest["roleArn"], ROLE);
    assert_eq!(latest["revisionId"], updated["revisionId"]);
    assert_eq!(latest["updateDate"], updated["updateDate"]);
    assert_eq!(
        latest["loggingConfiguration"],
        json!({"includeExecutionData": false, "level": "OFF"})
    );
    assert!(latest.get("creationDate").is_none());
    assert_eq!(
        latest["encryptionConfiguration"],
        json!({"type": "AWS_OWNED_KEY"})
    );
    let old = h
        .ok(
            "DescribeStateMachineForExecution",
            json!({"executionArn": h.arns().execution("sm", "old")}),
        )
        .await;
    assert_eq!(old["stateMachineArn"], sm_arn.as_str());
    assert_eq!(old["definition"], pass("v1"));
    assert!(old.get("revisionId").is_none());

    let missing = h.arns().execution("sm", "missing");
    let (code, message, _) = h
        .err(
            "DescribeStateMachineForExecution",
            json!({"executionArn": missing}),
        )
        .await;
    assert_eq!(code, "ExecutionDoesNotExist");
    assert_eq!(message, format!("Execution Does Not Exist: '{missing}'"));
    let (code, _, _) = h
        .err(
            "DescribeStateMachineForExecution",
            json!({"executionArn": sm_arn}),
        )
        .await;
    assert_eq!(code, "InvalidArn");
}
