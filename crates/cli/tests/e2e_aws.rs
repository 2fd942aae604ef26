//! End-to-end test of `aws-sdk:*` Task states: `stepwise serve` pointed at moto's server
//! (`AWS_ENDPOINT_URL`), boto3 running state machines that call DynamoDB, S3, SQS, SNS,
//! EventBridge, Secrets Manager, STS, IAM, EC2 and Lambda (`tests/e2e/aws_services.py`).
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
