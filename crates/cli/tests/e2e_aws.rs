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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
        .to_string();
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
