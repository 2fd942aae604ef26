//! A Standard execution (the durable driver, every step committed to SQLite) and an Express one
//! (the in-memory host) of the same definition and input end the same way: every pure case of
//! the AWS-recorded corpus (`needs == ["none"]`) is run both ways through the service, and the
//! status, error, cause and output must agree. Values that differ between any two runs
//! (timestamps, UUIDs, the execution's ARN, random numbers) are masked before comparing.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use regex::Regex;
use serde_json::Value;
use stepwise_runtime::RuntimeConfig;
use stepwise_service::types::{
    CreateStateMachineInput, StartExecutionInput, StartSyncExecutionInput, StateMachineType,
};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};
use stepwise_test_support::corpus::asl_cases;

const ROLE: &str = "arn:aws:iam::111111111111:role/sfn_fake_role";

/// What a user sees of how an execution ended, with run-specific values masked.
#[derive(Debug, Clone, PartialEq)]
struct Ending {
    status: String,
    error: Option<String>,
    cause: Option<String>,
    output: Option<String>,
}

fn masked(text: &str) -> String {
    static PATTERNS: LazyLock<Vec<(Regex, &str)>> = LazyLock::new(|| {
        [
            (r"arn:aws:states:[^\x22\\ ]*", "<arn>"),
            (
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?",
                "<time>",
            ),
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "<uuid>",
            ),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("pattern"), r))
        .collect()
    });
    let mut out = text.to_owned();
    for (re, replacement) in PATTERNS.iter() {
        out = re.replace_all(&out, *replacement).into_owned();
    }
    out
}

/// Definitions whose result is random by design (`States.MathRandom`, `$random()`): only
/// their status and error are compared.
fn random(definition: &str) -> bool {
    definition.contains("MathRandom") || definition.contains("$random(")
}

/// Runs `case` as a Standard execution on `standard` and as an Express one on `express` (two
/// services, so both state machines have the same name).
async fn run_both(
    standard_service: &Service,
    express_service: &Service,
    n: usize,
    case: &Value,
) -> Option<(Ending, Ending)> {
    let definition = serde_json::to_string(&case["definition"]).ok()?;
    let input = case["input_raw"].as_str().unwrap_or("{}").to_owned();
    let name = format!("m{n}");
    let standard = standard_service
        .create_state_machine(CreateStateMachineInput::new(
            &name,
            definition.clone(),
            ROLE,
        ))
        .await
        .ok()?;
    let express = express_service
        .create_state_machine(
            CreateStateMachineInput::new(&name, definition.clone(), ROLE)
                .r#type(StateMachineType::Express),
        )
        .await
        .ok()?;
    let run = standard_service
        .start_execution(StartExecutionInput::new(&standard.state_machine_arn).input(input.clone()))
        .await
        .ok()?;
    // A Timestamp years ahead is still years/1000 away at this scale: such a case is left out.
    let s = tokio::time::timeout(
        Duration::from_secs(20),
        standard_service.wait_for_execution(&run.execution_arn),
    )
    .await
    .ok()?
    .ok()?;
    let e = express_service
        .start_sync_execution(StartSyncExecutionInput::new(&express.state_machine_arn).input(input))
        .await
        .ok()?;
    let keep_output = !random(&definition);
    let ending = |status: String, error, cause: Option<String>, output: Option<String>| Ending {
        status,
        error,
        cause: cause.map(|c| masked(&c)),
        output: output.filter(|_| keep_output).map(|o| masked(&o)),
    };
    Some((
        ending(s.status.to_string(), s.error, s.cause, s.output),
        ending(e.status.to_string(), e.error, e.cause, e.output),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_and_express_end_alike_across_the_corpus() {
    let Some(cases) = asl_cases() else { return };
    let started = std::time::Instant::now();
    // Waits and retries pass at a thousandth of their time in the durable driver (whose timers
    // are real), and not at all in the in-memory host; the order of timers is kept in both.
    let config = RuntimeConfig {
        wait_time_scale: 0.001,
        ..RuntimeConfig::default()
    };
    let start = async || {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::memory().expect("memory store"));
        Service::start(
            store,
            Arns::new("us-east-1", "111111111111"),
            config.clone(),
        )
        .await
        .expect("service starts")
    };
    let (standard, express) = (start().await, start().await);
    let pure: Vec<&Value> = cases
        .iter()
        .filter(|c| c["needs"] == serde_json::json!(["none"]))
        .filter(|c| {
            matches!(
                c["expected"]["status"].as_str(),
                Some("SUCCEEDED" | "FAILED" | "TIMED_OUT")
            )
        })
        .filter(|c| {
            matches!(
                c["api"].as_str(),
                Some("StartExecution" | "StartSyncExecution")
            )
        })
        .collect();
    let mut compared = 0;
    let mut differ = BTreeMap::new();
    for (n, case) in pure.iter().enumerate() {
        let Some((s, e)) = run_both(&standard, &express, n, case).await else {
            continue;
        };
        compared += 1;
        if s != e {
            let id = case["id"].as_str().unwrap_or("?").to_owned();
            differ.insert(id, (s, e));
        }
    }
    println!(
        "Standard and Express agree on {}/{compared} pure corpus cases ({compared} of {} could run both ways; {:.1} s)",
        compared - differ.len(),
        pure.len(),
        started.elapsed().as_secs_f64()
    );
    for (id, (s, e)) in &differ {
        println!("DIFFER {id}\n  standard: {s:?}\n  express:  {e:?}");
    }
    assert!(compared > 600, "only {compared} cases ran both ways");
    assert!(differ.is_empty(), "{} cases end differently", differ.len());
    standard.shutdown();
    express.shutdown();
}
