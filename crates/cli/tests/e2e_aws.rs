//! End-to-end test of `aws-sdk:*` Task states: `stepwise serve` pointed at moto's server
//! (`AWS_ENDPOINT_URL`), boto3 running state machines that call DynamoDB, S3, SQS, SNS,
//! EventBridge, Secrets Manager, STS, IAM, EC2 and Lambda (`tests/e2e/aws_services.py`); and the
//! optimized API Gateway and Bedrock integrations against a stand-in (`tests/e2e/apigw_bedrock.py`).
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{Moto, Server, python, run_python_env, scratch_store};

#[test]
fn aws_sdk_tasks_reach_aws_services() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("aws_sdk");
    let server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    run_python_env(
        &python,
        "aws_services.py",
        &server,
        &[],
        &[("MOTO_URL", moto.url.as_str())],
    );
}

/// The optimized API Gateway and Bedrock integrations, against a stand-in the script serves
/// (`tests/e2e/apigw_bedrock.py`): API Gateway Tasks name it as their ApiEndpoint, Bedrock
/// reaches it through `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` (and S3, for InvokeModel's `Input`,
/// through `AWS_ENDPOINT_URL_S3`).
#[test]
fn api_gateway_and_bedrock_reach_their_stand_ins() {
    let Some(python) = python() else { return };
    // The stand-in's port: free now, taken by the script before any task runs.
    let port = stepwise_test_support::free_port().to_string();
    let endpoint = format!("http://127.0.0.1:{port}");
    let store = scratch_store("apigw_bedrock");
    let server = Server::start(
        &store,
        &[
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", endpoint.as_str()),
            ("AWS_ENDPOINT_URL_S3", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    );
    run_python_env(
        &python,
        "apigw_bedrock.py",
        &server,
        &[],
        &[("STANDIN_PORT", port.as_str())],
    );
}

/// `stepwise run` reaches the same services as the server, configured the same way
/// (`AWS_ENDPOINT_URL`): `aws-sdk:*` calls, an optimized DynamoDB call with its own error name,
/// and a Glue `.sync` job polled to its end, in one process with no server.
#[test]
fn stepwise_run_reaches_aws_services_as_the_server_does() {
    use serde_json::{Value, json};
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let sdk = |action: &str| format!("arn:aws:states:::aws-sdk:{action}");
    let task = |resource: String, parameters: Value, result: &str, next: &str| {
        json!({"Type": "Task", "Resource": resource, "Parameters": parameters,
               "ResultPath": format!("$.{result}"), "Next": next})
    };
    let machine = json!({
        "StartAt": "Bucket",
        "States": {
            "Bucket": task(sdk("s3:createBucket"), json!({"Bucket": "run-e2e"}), "bucket", "Put"),
            "Put": task(sdk("s3:putObject"),
                        json!({"Bucket": "run-e2e", "Key": "k", "Body.$": "$.text"}), "put", "Get"),
            "Get": task(sdk("s3:getObject"), json!({"Bucket": "run-e2e", "Key": "k"}), "got", "Table"),
            "Table": task(sdk("dynamodb:createTable"), json!({
                "TableName": "run-e2e",
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST"}), "table", "Item"),
            "Item": task("arn:aws:states:::dynamodb:putItem".into(), json!({
                "TableName": "run-e2e", "Item": {"id": {"S": "a"}},
                "ConditionExpression": "attribute_not_exists(id)"}), "item", "Again"),
            "Again": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                      "Parameters": {"TableName": "run-e2e", "Item": {"id": {"S": "a"}},
                                     "ConditionExpression": "attribute_not_exists(id)"},
                      "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                                 "ResultPath": "$.conflict", "Next": "Job"}],
                      "Next": "Job"},
            "Job": task(sdk("glue:createJob"), json!({
                "Name": "run-e2e", "Role": "arn:aws:iam::123456789012:role/glue",
                "Command": {"Name": "glueetl", "ScriptLocation": "s3://run-e2e/script.py"}}),
                "job", "Run"),
            "Run": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                    "Parameters": {"JobName": "run-e2e"}, "ResultSelector": {"State.$": "$.JobRunState"},
                    "ResultPath": "$.run", "End": true}
        }
    });
    let dir = scratch_store("run_aws");
    let file = dir.with_file_name("machine.asl.json");
    std::fs::write(&file, machine.to_string()).expect("write the definition");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args([
            "run",
            file.to_str().expect("utf-8 path"),
            "--input",
            r#"{"text": "hello"}"#,
        ])
        .env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("STEPWISE_SYNC_POLL_SECONDS", "0.05")
        .output()
        .expect("run stepwise");
    let output = &succeeded(&out);
    assert_eq!(
        output["got"]["Body"], "\"hello\"",
        "the object read back: {output}"
    );
    assert_eq!(
        output["item"]["SdkHttpMetadata"]["HttpStatusCode"], 200,
        "{output}"
    );
    assert_eq!(
        output["conflict"]["Error"], "DynamoDB.ConditionalCheckFailedException",
        "{output}"
    );
    assert_eq!(output["run"], json!({"State": "SUCCEEDED"}), "{output}");
}

/// Endpoints from the configuration file (`[aws.endpoints]`) and from Step Functions Local's
/// command-line options, which win over the file: S3 goes where the file says, DynamoDB where
/// the flag says, and SQS to the file's `default`, a port nothing listens on.
#[test]
fn endpoints_come_from_the_file_and_the_command_line() {
    use serde_json::json;
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let dir = scratch_store("run_endpoints");
    let config = dir.with_file_name("stepwise.toml");
    std::fs::write(
        &config,
        format!(
            "[aws.endpoints]\ns3 = \"{}\"\ndynamodb = \"http://127.0.0.1:9\"\ndefault = \"http://127.0.0.1:9\"\n",
            moto.url
        ),
    )
    .expect("write the configuration");
    let sdk = |action: &str| format!("arn:aws:states:::aws-sdk:{action}");
    let machine = json!({
        "StartAt": "Bucket",
        "States": {
            "Bucket": {"Type": "Task", "Resource": sdk("s3:createBucket"),
                       "Parameters": {"Bucket": "endpoints-e2e"}, "ResultPath": null, "Next": "Tables"},
            "Tables": {"Type": "Task", "Resource": sdk("dynamodb:listTables"),
                       "Parameters": {}, "ResultPath": "$.tables", "Next": "Queues"},
            "Queues": {"Type": "Task", "Resource": sdk("sqs:listQueues"), "Parameters": {},
                       "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.queues", "Next": "Done"}],
                       "Next": "Done"},
            "Done": {"Type": "Pass", "End": true}
        }
    });
    let file = dir.with_file_name("endpoints.asl.json");
    std::fs::write(&file, machine.to_string()).expect("write the definition");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", file.to_str().expect("utf-8 path"), "--config"])
        .arg(&config)
        .args(["-dynamoDBEndpoint", &moto.url])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .env_remove("DYNAMODB_ENDPOINT")
        .env_remove("SQS_ENDPOINT")
        .env_remove("AWS_ENDPOINT_URL_SQS")
        .output()
        .expect("run stepwise");
    let output = &succeeded(&out);
    assert!(output["tables"]["TableNames"].is_array(), "{output}");
    assert_eq!(
        output["queues"]["Error"], "Sqs.SdkClientException",
        "{output}"
    );
}

/// The output of a `stepwise run` that must have succeeded (its stdout: one JSON object).
fn succeeded(out: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let result: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(result["status"], "SUCCEEDED", "{result}");
    result["output"].clone()
}
