//! One test per validation rule, each asserting the exact text AWS's CreateStateMachine would put
//! in its `InvalidDefinition` message (`CODE: message at location`).

use serde_json::{Value, json};
use stepwise_asl::{MachineType, ParseOptions, validate_definition};

fn check(def: &Value, machine_type: MachineType) -> Vec<String> {
    let report = validate_definition(&def.to_string(), ParseOptions { machine_type });
    report.errors().map(|d| d.aws_text()).collect()
}

/// The errors AWS would report for a Standard machine.
fn errors(def: Value) -> Vec<String> {
    check(&def, MachineType::Standard)
}

fn express_errors(def: Value) -> Vec<String> {
    check(&def, MachineType::Express)
}

/// A one-state machine around `state`, named `S`.
fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn text(s: &str) -> Vec<String> {
    let report = validate_definition(s, ParseOptions::default());
    report.errors().map(|d| d.aws_text()).collect()
}

#[test]
fn valid_definitions_have_no_errors() {
    assert!(errors(one(json!({"Type": "Succeed"}))).is_empty());
    assert!(
        errors(json!({
            "QueryLanguage": "JSONata",
            "StartAt": "T",
            "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                      "Arguments": {"FunctionName": "f", "Payload": "{% $states.input %}"},
                      "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0},
                                {"ErrorEquals": ["States.ALL"]}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "Output": "{% $states.errorOutput %}"}],
                      "Assign": {"x": "{% $states.result.Payload %}"},
                      "Next": "C"},
                "C": {"Type": "Choice", "Choices": [{"Condition": "{% $x > 1 %}", "Next": "W"}], "Default": "F"},
                "W": {"Type": "Wait", "Seconds": "{% $x %}", "End": true},
                "F": {"Type": "Fail", "Error": "Oops", "Cause": "{% 'because ' & $x %}"}
            }
        }))
        .is_empty()
    );
}

#[test]
fn not_a_json_object() {
    let expected = vec!["SCHEMA_VALIDATION_FAILED: Definition must be a valid JSON object at null"];
    assert_eq!(text(" "), expected);
    assert_eq!(text("[1, 2]"), expected);
    assert_eq!(text("\"StartAt\""), expected);
}

#[test]
fn not_json() {
    assert_eq!(
        text("not a definition"),
        vec![
            "INVALID_JSON_DESCRIPTION: Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4] at [Source: (String)\"not a definition\"; line: 1, column: 4]"
        ]
    );
}

#[test]
fn required_top_level_fields() {
    assert_eq!(
        errors(json!({})),
        vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [States, StartAt] at /"]
    );
    assert_eq!(
        errors(json!({"StartAt": "A"})),
        vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [States] at /"]
    );
}

#[test]
fn unknown_top_level_field_and_version() {
    let mut def = one(json!({"Type": "Succeed"}));
    def["comment"] = json!("lower case");
    def["Version"] = json!("2.0");
    assert_eq!(
        errors(def),
        vec![
            "SCHEMA_VALIDATION_FAILED: Field 'comment' is not supported at /",
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [1.0] at /Version",
        ]
    );
}

#[test]
fn missing_next_target_and_unreachable_state() {
    let def = json!({"StartAt": "pass1", "States": {
        "pass1": {"Type": "Pass", "Next": "pass3"},
        "pass2": {"Type": "Pass", "End": true}
    }});
    let report = validate_definition(&def.to_string(), ParseOptions::default());
    // The multi-error message recorded from AWS.
    assert_eq!(
        report.invalid_definition_message().as_deref(),
        Some(
            "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at /States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
        )
    );
}

#[test]
fn missing_targets_everywhere_say_next() {
    let def = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "X"}], "Default": "Y"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}]}
    }});
    assert_eq!(
        errors(def),
        vec![
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Y at /States/C/Default",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: X at /States/C/Choices[0]/Next",
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Z at /States/T/Catch[0]/Next",
            "MISSING_TRANSITION_TARGET: State \"T\" is not reachable. at /States/T",
        ]
    );
}

#[test]
fn start_at_naming_no_state() {
    assert_eq!(
        errors(json!({"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}})),
        vec![
            "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nope at /StartAt",
            "MISSING_TRANSITION_TARGET: State \"A\" is not reachable. at /States/A",
        ]
    );
}

#[test]
fn loop_without_terminal_state() {
    assert_eq!(
        errors(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "Next": "A"}
        }})),
        vec!["MISSING_END_STATE: Workflow has no terminal state at null"]
    );
}

#[test]
fn next_and_end() {
    assert_eq!(
        errors(one(json!({"Type": "Pass", "Next": "S", "End": true}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [Next, End] at /States/S"
        ]
    );
    assert_eq!(
        errors(
            json!({"StartAt": "S", "States": {"S": {"Type": "Pass"}, "E": {"Type": "Succeed"}}})
        ),
        vec![
            "SCHEMA_VALIDATION_FAILED: This object should have only one of the following fields: [Next, End] at /States/S",
            "MISSING_TRANSITION_TARGET: State \"E\" is not reachable. at /States/E",
        ]
    );
}

#[test]
fn state_type() {
    assert_eq!(
        errors(one(json!({"Type": "Sleep", "End": true}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map] at /States/S/Type"
        ]
    );
    assert_eq!(
        errors(one(json!({"End": true}))),
        vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [Type] at /States/S"]
    );
}

#[test]
fn fields_a_state_type_does_not_have() {
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "TimeoutSeconds": 5, "Retry": [], "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Field 'TimeoutSeconds' is not supported at /States/S",
            "SCHEMA_VALIDATION_FAILED: Field 'Retry' is not supported at /States/S",
        ]
    );
}

#[test]
fn fields_of_the_other_query_language() {
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "Output": {"a": 1}, "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage at /States/S"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "QueryLanguage": "JSONata", "InputPath": "$.a", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage at /States/S"
        ]
    );
}

#[test]
fn query_language_values() {
    let mut def = one(json!({"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}));
    def["QueryLanguage"] = json!("JSONata");
    assert_eq!(
        errors(def),
        vec![
            "SCHEMA_VALIDATION_FAILED: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine at /States/S"
        ]
    );
    let mut def = one(json!({"Type": "Succeed"}));
    def["QueryLanguage"] = json!("jsonata");
    assert_eq!(
        errors(def),
        vec![
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [JSONPath, JSONata] at /QueryLanguage"
        ]
    );
    let mut def = one(json!({"Type": "Succeed"}));
    def["QueryLanguage"] = json!(1);
    assert_eq!(
        errors(def),
        vec!["SCHEMA_VALIDATION_FAILED: Expected value of type [STRING] at /QueryLanguage"]
    );
}

#[test]
fn nested_machines_take_no_query_language() {
    assert_eq!(
        errors(one(json!({"Type": "Parallel", "End": true, "Branches": [
            {"QueryLanguage": "JSONata", "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}
        ]}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: Field 'QueryLanguage' is not supported at /States/S/Branches[0]"
        ]
    );
}

#[test]
fn states_all_alone_and_last() {
    let expected = "SCHEMA_VALIDATION_FAILED: States.ALL must appear alone and at end of list at /States/S/Retry[0]/ErrorEquals";
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "Retry": [{"ErrorEquals": ["States.ALL", "Other"]}]})
        )),
        vec![expected]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["Other"]}]})
        )),
        vec![expected]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "Retry": [{"ErrorEquals": []}]})
        )),
        vec!["SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/S/Retry[0]/ErrorEquals"]
    );
}

#[test]
fn retrier_bounds() {
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": -1, "BackoffRate": 0.5,
                       "IntervalSeconds": 0, "MaxDelaySeconds": 31622401, "JitterStrategy": "SOME"}]})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/S/Retry[0]/MaxAttempts",
            "SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /States/S/Retry[0]/BackoffRate",
            "SCHEMA_VALIDATION_FAILED: Maximum value is 31622400 at /States/S/Retry[0]/MaxDelaySeconds",
            "SCHEMA_VALIDATION_FAILED: Value should be one of the following: [NONE, FULL] at /States/S/Retry[0]/JitterStrategy",
        ]
    );
}

#[test]
fn catcher_needs_next() {
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"]}]})
        )),
        vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/S/Catch[0]"]
    );
}

#[test]
fn paths() {
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "InputPath": "a.b", "ResultPath": "$.items[*]",
                          "OutputPath": "$$.Execution.Input", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Value must be a valid JSONPath. at /States/S/InputPath",
            "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: Reference path may only select a single node by name or index at /States/S/ResultPath",
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Wait", "SecondsPath": "seconds", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: Reference path didn't start with '$' at /States/S/SecondsPath"
        ]
    );
}

/// Jayway's lenient forms that AWS deploys: an unquoted word in a filter comparison is a
/// string, and a name may follow `]` without a dot. A filter still never makes a Reference Path.
#[test]
fn lenient_jayway_paths_validate() {
    let def = json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "InputPath": "$.items[?(@.status==Failure)]",
              "Parameters": {
                  "es.$": "$[?(@.TargetLanguageCode==es)].TranslatedText",
                  "id.$": "$.Reservations[0].Instances[0]InstanceId",
                  "n.$": "States.ArrayLength($.items[?(@.status == Failure)])"},
              "ResultPath": "$.Reservations[0]Result",
              "OutputPath": "$.items[0]status", "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
              "Parameters": {"FunctionName": "f", "Payload.$": "$.a[?(@.b==c)]"},
              "ResultSelector": {"x.$": "$.Payload[?(@.kind == Order)]"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [
                 {"Variable": "$.Reservations[0].Instances[0]InstanceId", "StringEquals": "i-1", "Next": "M"}],
              "Default": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.Reservations[0]Instances",
              "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
              "Next": "W"},
        "W": {"Type": "Wait", "SecondsPath": "$.waits[0]seconds", "End": true}
    }});
    assert_eq!(errors(def), Vec::<String>::new());
    assert_eq!(
        errors(json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.items[?(@.status==Failure)]", "IsPresent": true, "Next": "E"}],
                "Default": "E"},
            "E": {"Type": "Succeed"}}})),
        vec![
            "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: Reference path may only select a single node by name or index at /States/C/Choices[0]/Variable"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "InputPath": "$.items[?(@.status==Two Words)]", "End": true})
        )),
        vec!["SCHEMA_VALIDATION_FAILED: Value must be a valid JSONPath. at /States/S/InputPath"]
    );
}

#[test]
fn payload_template_paths_and_intrinsics() {
    let def = one(json!({"Type": "Pass", "End": true, "Parameters": {
        "ok.$": "States.Format('{} and {}', $.a, States.UUID())",
        "bad.$": "not a path",
        "nested": {"escape.$": "States.Format('He said, \\\"Hi\\\"')"},
        "unknown.$": "States.Nope($.a)",
        "arity.$": "States.MathAdd(1)"
    }}));
    assert_eq!(
        errors(def),
        vec![
            "SCHEMA_VALIDATION_FAILED: The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call at /States/S/Parameters",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'escape.$' must be a valid JSONPath or a valid intrinsic function call at /States/S/Parameters/nested",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'unknown.$' must be a valid JSONPath or a valid intrinsic function call at /States/S/Parameters",
            "SCHEMA_VALIDATION_FAILED: The value for the field 'arity.$' must be a valid JSONPath or a valid intrinsic function call at /States/S/Parameters",
        ]
    );
}

#[test]
fn jsonata_expressions() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Pass", "End": true,
        "Output": {"sum": "{% 1 + %}", "open": "{% $states.input"}
    }}});
    assert_eq!(
        errors(def),
        vec![
            "INVALID_JSONATA_EXPRESSION: Unexpected end of expression at /States/S/Output/sum",
            "SCHEMA_VALIDATION_FAILED: JSONata string must start with {% and end with %} at /States/S/Output/open",
        ]
    );
}

#[test]
fn variables() {
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "End": true, "Assign": {"states": 1}})
        )),
        vec![
            "RESERVED_VARIABLE_NAME: Cannot assign to reserved variable '$states'. at /States/S/Assign"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Pass", "End": true, "Assign": {"a-b.$": "$.x"}})
        )),
        vec![
            "INVALID_VARIABLE_NAME: Invalid variable name 'a-b': the variable name contains invalid characters. at /States/S/Assign"
        ]
    );
}

#[test]
fn wait_delays() {
    assert_eq!(
        errors(one(
            json!({"Type": "Wait", "Seconds": 1, "Timestamp": "2016-03-14T01:59:00Z", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp] at /States/S"
        ]
    );
    assert_eq!(
        errors(one(json!({"Type": "Wait", "End": true}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: This object should have only one of the following fields: [SecondsPath, Seconds, TimestampPath, Timestamp] at /States/S"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Wait", "Timestamp": "2016-12-05 21:29:29Z", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/S/Timestamp"
        ]
    );
    assert_eq!(
        errors(one(json!({"Type": "Wait", "Seconds": -1, "End": true}))),
        vec!["SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/S/Seconds"]
    );
    assert_eq!(
        errors(one(json!({"Type": "Wait", "Seconds": "10", "End": true}))),
        vec!["SCHEMA_VALIDATION_FAILED: Expected value of type [INTEGER] at /States/S/Seconds"]
    );
}

#[test]
fn choice_rules() {
    let choice = |rules: Value| {
        errors(json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": rules, "Default": "E"},
            "E": {"Type": "Succeed"}
        }}))
    };
    assert_eq!(
        choice(json!([])),
        vec!["SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/C/Choices"]
    );
    assert_eq!(
        choice(json!([{"Variable": "$.a", "IsPresent": true}])),
        vec!["SCHEMA_VALIDATION_FAILED: These fields are required: [Next] at /States/C/Choices[0]"]
    );
    assert_eq!(
        choice(json!([{"Not": {"Variable": "$.a", "IsNull": true, "Next": "E"}, "Next": "E"}])),
        vec!["SCHEMA_VALIDATION_FAILED: Field 'Next' is not supported at /States/C/Choices[0]/Not"]
    );
    assert_eq!(
        choice(json!([{"Next": "E"}])),
        vec![
            "SCHEMA_VALIDATION_FAILED: The object must have only one of the following fields, [And, Or, Not, Variable, Condition] at /States/C/Choices[0]"
        ]
    );
    assert_eq!(
        choice(json!([{"Variable": "$.a", "StringEquals": "x", "IsNull": true, "Next": "E"}])),
        vec![
            "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [StringEquals, IsNull] at /States/C/Choices[0]"
        ]
    );
    assert_eq!(
        choice(json!([{"Variable": "$.a", "NumericEquals": "1", "Next": "E"}])),
        vec![
            "SCHEMA_VALIDATION_FAILED: Expected value of type [NUMBER] at /States/C/Choices[0]/NumericEquals"
        ]
    );
    assert_eq!(
        choice(json!([{"Variable": "States.ArrayLength($.a)", "NumericEquals": 1, "Next": "E"}])),
        vec![
            "SCHEMA_VALIDATION_FAILED: Value is not a Reference Path: Reference path didn't start with '$' at /States/C/Choices[0]/Variable"
        ]
    );
    assert_eq!(
        choice(json!([{"Variable": "$.t", "TimestampEquals": "yesterday", "Next": "E"}])),
        vec![
            "SCHEMA_VALIDATION_FAILED: String does not match RFC3339 timestamp at /States/C/Choices[0]/TimestampEquals"
        ]
    );
}

#[test]
fn fail_fields() {
    assert_eq!(
        errors(one(
            json!({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [Error, ErrorPath] at /States/S"
        ]
    );
    assert!(
        errors(one(
            json!({"Type": "Fail", "CausePath": "States.Format('x {}', $.a)"})
        ))
        .is_empty()
    );
}

#[test]
fn parallel_branches() {
    assert_eq!(
        errors(one(
            json!({"Type": "Parallel", "Branches": [], "End": true})
        )),
        vec!["SCHEMA_VALIDATION_FAILED: Value cannot be empty at /States/S/Branches"]
    );
    assert_eq!(
        errors(one(json!({"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Ghost": {"Type": "Succeed"}}}
        ]}))),
        vec![
            "MISSING_TRANSITION_TARGET: State \"Ghost\" is not reachable. at /States/S/Branches[0]/States/Ghost"
        ]
    );
}

#[test]
fn state_names() {
    assert_eq!(
        errors(json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "A", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
            ]},
            "A": {"Type": "Succeed"}
        }})),
        vec!["DUPLICATE_STATE_NAME: Duplicate State name: A at /States/A"]
    );
    let long = "x".repeat(81);
    assert_eq!(
        errors(json!({"StartAt": long, "States": {long.clone(): {"Type": "Succeed"}}})),
        vec![format!(
            "INVALID_STATE_NAME: Invalid State name: State '{long}' exceeds the 80-character limit allowed by the service at /States/{long}"
        )]
    );
}

fn map(extra: Value) -> Value {
    let mut state = json!({"Type": "Map", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}});
    if let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    one(state)
}

#[test]
fn map_processor() {
    assert_eq!(
        errors(one(json!({"Type": "Map", "End": true}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: This object should have only one of the following fields: [ItemProcessor, Iterator] at /States/S"
        ]
    );
    assert_eq!(
        errors(one(json!({"Type": "Map", "End": true, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: These fields are required: [ExecutionType] at /States/S/ItemProcessor/ProcessorConfig"
        ]
    );
    assert_eq!(
        errors(one(json!({"Type": "Map", "End": true, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "INLINE", "ExecutionType": "EXPRESS"}, "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: Field 'ExecutionType' is not supported at /States/S/ItemProcessor/ProcessorConfig"
        ]
    );
    assert_eq!(
        errors(map(
            json!({"MaxConcurrency": -1, "ToleratedFailurePercentage": 101})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Minimum value is 0 at /States/S/MaxConcurrency",
            "SCHEMA_VALIDATION_FAILED: Maximum value is 100 at /States/S/ToleratedFailurePercentage",
        ]
    );
    assert_eq!(
        errors(map(
            json!({"ItemReader": {"Resource": "arn:aws:states:::s3:putObject"}})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'Resource' does not match any of the allowed values at /States/S/ItemReader/Resource"
        ]
    );
}

#[test]
fn map_labels() {
    assert_eq!(
        errors(map(json!({"Label": "a".repeat(41)}))),
        vec![format!(
            "INVALID_LABEL_NAME: Invalid Label name: Label '{}' exceeds the 40-character limit allowed by the service at /States/S/Label",
            "a".repeat(41)
        )]
    );
    assert_eq!(
        errors(map(json!({"Label": "label_?"}))),
        vec![
            "INVALID_LABEL_NAME: Invalid Label name: Label 'label_?' contains the invalid character '?' at /States/S/Label"
        ]
    );
    assert!(errors(map(json!({"Label": "batch-1_ok"}))).is_empty());
}

#[test]
fn task_resources() {
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "${LambdaArn}", "End": true})
        )),
        vec!["SCHEMA_VALIDATION_FAILED: Value is not a valid resource ARN at /States/S/Resource"]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.sync", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The resource provided arn:aws:states:::lambda:invoke.sync is not recognized. The value is not a valid resource ARN, or the resource is not available in this region. at /States/S/Resource"
        ]
    );
}

/// An integration's ARN with a region and account names the same integration as the short
/// form, checked by the same rules; only `activity:` is an activity.
#[test]
fn task_resources_with_region_and_account() {
    let task = |resource: &str, extra: Value| {
        let mut state = json!({"Type": "Task", "Resource": resource, "End": true});
        if let (Some(s), Value::Object(extra)) = (state.as_object_mut(), extra) {
            s.extend(extra);
        }
        errors(one(state))
    };
    for resource in [
        "arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject",
        "arn:aws:states:us-east-1:123456789012:athena:startQueryExecution.sync",
        "arn:aws:states:us-east-1:123456789012:activity:work",
    ] {
        assert_eq!(
            task(resource, json!({})),
            Vec::<String>::new(),
            "{resource}"
        );
    }
    assert_eq!(
        task(
            "arn:aws:states:us-east-1:123456789012:lambda:invoke",
            json!({"Parameters": {"Payload.$": "$"}})
        ),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'FunctionName' is required but was missing at /States/S/Parameters"
        ]
    );
    assert_eq!(
        task(
            "arn:aws:states:us-east-1:123456789012:sqs:sendMessage",
            json!({})
        ),
        vec![
            "SCHEMA_VALIDATION_FAILED: Parameters field is required for resource ARN: arn:aws:states:us-east-1:123456789012:sqs:sendMessage at /States/S"
        ]
    );
    assert_eq!(
        task(
            "arn:aws:states:us-east-1:123456789012:lambda:invoke.sync",
            json!({"Parameters": {"FunctionName": "f"}})
        ),
        vec![
            "SCHEMA_VALIDATION_FAILED: The resource provided arn:aws:states:us-east-1:123456789012:lambda:invoke.sync is not recognized. The value is not a valid resource ARN, or the resource is not available in this region. at /States/S/Resource"
        ]
    );
    assert_eq!(
        express_errors(one(json!({"Type": "Task", "End": true,
            "Resource": "arn:aws:states:us-east-1:123456789012:athena:startQueryExecution.sync"}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.sync' service integration  at /States/S/Resource"
        ]
    );
    // A Distributed Map's ItemReader takes the same form.
    let reader = |resource: &str| {
        errors(one(json!({"Type": "Map", "End": true,
            "ItemReader": {"Resource": resource, "Parameters": {"Bucket": "b", "Key": "k"}},
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                              "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}})))
    };
    assert_eq!(
        reader("arn:aws:states:us-east-1:123456789012:s3:getObject"),
        Vec::<String>::new()
    );
    assert_eq!(
        reader("arn:aws:states:us-east-1:123456789012:s3:putObject"),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'Resource' does not match any of the allowed values at /States/S/ItemReader/Resource"
        ]
    );
}

#[test]
fn task_credentials() {
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets",
                          "Credentials": {}, "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required but was missing at /States/S/Credentials"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:a",
                          "Credentials": {"RoleArn": "arn:aws:iam::123456789012:role/r"}, "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'Credentials' is not supported for activities at /States/S"
        ]
    );
}

#[test]
fn task_timeouts() {
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "TimeoutSeconds": 10, "TimeoutSecondsPath": "$.t"})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: There should only be one of the following fields: [TimeoutSeconds, TimeoutSecondsPath] at /States/S"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "End": true,
            "TimeoutSeconds": 0})
        )),
        vec!["SCHEMA_VALIDATION_FAILED: Minimum value is 1 at /States/S/TimeoutSeconds"]
    );
}

#[test]
fn express_restrictions() {
    let task = |resource: &str| {
        express_errors(one(
            json!({"Type": "Task", "Resource": resource, "End": true,
                   "Parameters": {"QueueUrl": "q", "MessageBody": "m"}}),
        ))
    };
    assert_eq!(
        task("arn:aws:states:::sqs:sendMessage.waitForTaskToken"),
        vec![
            "SCHEMA_VALIDATION_FAILED: Express state machine does not support '.waitForTaskToken' service integration  at /States/S/Resource"
        ]
    );
    assert_eq!(
        task("arn:aws:states:us-east-1:123456789012:activity:a"),
        vec![
            "SCHEMA_VALIDATION_FAILED: Express state machine does not support Activity ARN at /States/S/Resource"
        ]
    );
    assert_eq!(
        express_errors(map(json!({}))),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'Mode' with value 'DISTRIBUTED' is not supported inside 'EXPRESS' state machines at /States/S/ItemProcessor/ProcessorConfig/Mode"
        ]
    );
    // Standard machines may use all three.
    assert!(
        errors(one(json!({"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": "q", "MessageBody.$": "$$.Task.Token"}})))
        .is_empty()
    );
}

#[test]
fn definition_size_limit() {
    let big = format!(
        "{{\"Comment\": \"{}\", \"StartAt\": \"S\", \"States\": {{\"S\": {{\"Type\": \"Succeed\"}}}}}}",
        "x".repeat(1_048_576)
    );
    assert_eq!(
        text(&big),
        vec![
            "SCHEMA_VALIDATION_FAILED: Definition must be at most 1048576 characters long at null"
        ]
    );
}

#[test]
fn jsonata_messages_quote_symbols_as_jsonata_does() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
        "Type": "Pass", "End": true, "Output": {"a": "{% {\"a\":} %}"}
    }}});
    assert_eq!(
        errors(def),
        vec![
            "INVALID_JSONATA_EXPRESSION: The symbol \"}\" cannot be used as a unary operator at /States/S/Output/a"
        ]
    );
    // JSONata 2.0.6's wording (jsonata-js `errorCodes`), not jsonata-core's.
    let output = |expr: &str| {
        errors(
            json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
                "Type": "Pass", "End": true, "Output": format!("{{% {expr} %}}")
            }}}),
        )
    };
    assert_eq!(
        output("[1,2)"),
        vec!["INVALID_JSONATA_EXPRESSION: Expected \"]\", got \")\" at /States/S/Output"]
    );
    assert_eq!(
        output("$a;"),
        vec!["INVALID_JSONATA_EXPRESSION: Syntax error: \";\" at /States/S/Output"]
    );
    assert_eq!(
        output("Account.Order@o.Product"),
        vec![
            "INVALID_JSONATA_EXPRESSION: The right side of \"@\" must be a variable name (start with $) at /States/S/Output"
        ]
    );
}

#[test]
fn optimized_integrations_need_their_request() {
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Parameters field is required for resource ARN: arn:aws:states:::lambda:invoke at /States/S"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": true,
            "Parameters": {"QueueUrl.$": "$.queue"}})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: The field 'MessageBody' is required but was missing at /States/S/Parameters"
        ]
    );
    assert_eq!(
        errors(one(
            json!({"Type": "Task", "QueryLanguage": "JSONata", "End": true,
            "Resource": "arn:aws:states:::dynamodb:getItem"})
        )),
        vec![
            "SCHEMA_VALIDATION_FAILED: Arguments field is required for resource ARN: arn:aws:states:::dynamodb:getItem at /States/S"
        ]
    );
    // SDK integrations and JSONata expressions are not checked field by field.
    assert!(
        errors(one(json!({"Type": "Task", "End": true,
        "Resource": "arn:aws:states:::aws-sdk:s3:listBuckets", "Parameters": {}})))
        .is_empty()
    );
    assert!(
        errors(one(
            json!({"Type": "Task", "QueryLanguage": "JSONata", "End": true,
        "Resource": "arn:aws:states:::lambda:invoke", "Arguments": "{% $states.input %}"})
        ))
        .is_empty()
    );
}
