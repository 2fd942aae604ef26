//! Every AWS service moto stands in for, through `aws-sdk:*` Task states of one generated state
//! machine (tests/e2e/aws_catalog.py): the services and their read-only actions come from the
//! model bundle and from what moto answers, the expected results from boto3 against moto.
//! Covers every protocol Stepwise speaks (json, rest-json, rest-xml, query, ec2).
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{Moto, Server, python, run_python_env, scratch_store};

/// At least this many services must answer through Stepwise as they answer boto3 (133 with
/// moto 5.2.5; moto's coverage moves between releases).
const MIN_SERVICES: &str = "100";

#[test]
fn aws_sdk_tasks_reach_every_service_moto_answers() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("aws_catalog");
    let server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../aws/models/bundle.bin");
    run_python_env(
        &python,
        "aws_catalog.py",
        &server,
        &[bundle.to_str().expect("a UTF-8 path"), MIN_SERVICES],
        &[("MOTO_URL", moto.url.as_str())],
    );
}
