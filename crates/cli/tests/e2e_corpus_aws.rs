//! The corpus cases recorded against AWS that call SQS, SNS, DynamoDB, S3, EventBridge, API
//! Gateway, Secrets Manager or `aws-sdk:*`, through `stepwise serve` pointed at moto's server
//! (tests/e2e/corpus_aws.py): each case's queues, topics, buckets, tables and state machines
//! made in moto first, its callbacks answered as the recording's test answered them, then
//! compared with the recording (masks as wildcards).
//!
//! The objects that Distributed Maps read with an ItemReader were not recorded: the script
//! writes each again from what its family's recordings show (the items a plain Pass passed
//! through), and those cases are held to a floor of their own.
//!
//! Most mismatches are moto's: it answers with its own HTTP headers (SdkHttpMetadata), does
//! not validate what AWS validates (secret and table names, PutEvents entries), words some
//! errors its own way. So this asserts a floor, not a rate, and prints every mismatch.
//!
//! Skips with a message when the corpus is not beside the checkout, or without Python or PyPI
//! (unless STEPWISE_E2E_REQUIRED=1).

mod support;

use stepwise_test_support::corpus::asl_cases_file;
use support::{Moto, Server, python, python_command, scratch_store};

/// Cases that must match the recording exactly (42 of 74 with moto 5.2.5, 21 of them
/// Distributed Maps reading S3).
const MIN_MATCHED: u64 = 39;
/// Cases that must match once SdkHttpMetadata's headers (moto's HTTP server's) are left out
/// (53 of 74).
const MIN_MATCHED_BUT_HEADERS: u64 = 50;
/// Distributed Maps reading an S3 object written again from their recordings: all 21 match.
const MIN_READERS_MATCHED: u64 = 21;

#[test]
fn corpus_cases_that_call_aws_services_against_moto() {
    let Some(cases) = asl_cases_file() else {
        return;
    };
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("corpus_aws");
    let server = Server::start(
        &store,
        &[
            ("AWS_ENDPOINT_URL", moto.url.as_str()),
            ("AWS_ACCOUNT_ID", "111111111111"),
            ("WAIT_TIME_SCALE", "0.01"),
        ],
    );
    let summary = store.with_file_name("summary.json");
    let out = python_command(&python, "corpus_aws.py", &server.url)
        .arg(&cases)
        .arg(&summary)
        .env("MOTO_URL", &moto.url)
        .output()
        .expect("run corpus_aws.py");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "corpus_aws.py failed:\n{text}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    let ok = s["ok"].as_u64().unwrap_or(0);
    let lenient = s["lenient"].as_u64().unwrap_or(0);
    let readers_ok = s["readers_ok"].as_u64().unwrap_or(0);
    assert!(
        ok >= MIN_MATCHED,
        "{ok} cases matched the recording (at least {MIN_MATCHED} expected)"
    );
    assert!(
        lenient >= MIN_MATCHED_BUT_HEADERS,
        "{lenient} cases matched but for SdkHttpMetadata's headers (at least \
         {MIN_MATCHED_BUT_HEADERS} expected)"
    );
    assert!(
        readers_ok >= MIN_READERS_MATCHED,
        "{readers_ok} Distributed Maps reading S3 matched the recording (at least \
         {MIN_READERS_MATCHED} expected)"
    );
}
