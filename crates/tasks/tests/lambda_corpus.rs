//! Runs every execution recorded against AWS that needs nothing but Lambda
//! (`../shared/conformance/asl/cases.jsonl`, `needs == ["lambda"]`) through the engine, with each
//! recorded Python function bound as a local command (`tests/lambda/runner.py` emulates AWS's
//! Python runtime), and compares what a user sees: the status, the output or error, and the
//! cause, with the recording's masks as wildcards (the engine's conformance comparison).
//!
//! The task timeout (`TimeoutSeconds`) is the runtime's to enforce; here the handler gives each
//! call that long and reports `States.Timeout` when it runs out, as the runtime does.
//!
//! Run with `--nocapture` to see the score and the mismatches. Skips with a message when the
//! corpus is not beside the checkout or python3 is missing.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::ExecutionInfo;
use stepwise_engine::TaskRequest;
use stepwise_engine::local::{self, RunOptions, TaskHandler, TaskOutcome};
use stepwise_tasks::{CallContext, Config, Integrations};
use stepwise_test_support::corpus::asl_cases;
use stepwise_test_support::{text_matches, value_matches};

const RUNNER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lambda/runner.py");
/// The recordings' region and (masked) account.
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "111111111111";

/// The cases that must keep matching: raise it when more match, never lower it.
const FLOOR: usize = 63;

/// Runs each task through the integrations, on a runtime of its own.
struct Lambdas {
    integrations: Integrations,
    runtime: tokio::runtime::Runtime,
    ctx: CallContext,
}

impl TaskHandler for Lambdas {
    fn run(&mut self, request: &TaskRequest) -> TaskOutcome {
        let call = self
            .integrations
            .call(&request.resource, &request.input, &self.ctx);
        let outcome = self.runtime.block_on(async {
            match request.timeout_seconds {
                Some(s) => tokio::time::timeout(Duration::from_secs(s), call)
                    .await
                    .ok(),
                None => Some(call.await),
            }
        });
        match outcome {
            None => TaskOutcome::Failed {
                error: Some("States.Timeout".into()),
                cause: None,
            },
            Some(None) => TaskOutcome::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(format!("no integration runs {}", request.resource)),
            },
            Some(Some(outcome)) => outcome.into(),
        }
    }
}

/// Applies the recording's `RegexTransformer` masks (e.g. the test's function name shown as
/// `<lambda_function_name>` or `lambda_function_name`) to text of ours.
fn regex_masks(case: &Value, text: &str) -> String {
    let mut text = text.to_owned();
    for t in case["masking"]["test_transformers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if t["type"] != "RegexTransformer" {
            continue;
        }
        let (Some(re), Some(with)) = (t["regex"].as_str(), t["replacement"].as_str()) else {
            continue;
        };
        if let Ok(re) = regex::Regex::new(re) {
            text = re.replace_all(&text, regex::NoExpand(with)).into_owned();
        }
    }
    text
}

/// The response metadata the recordings masked by key (a request id shown as
/// `"x-amzn-RequestId": "x-amzn-RequestId"`): where the recording has such a mask, ours takes it.
fn adopt_key_masks(expected: &Value, actual: &mut Value) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let Some(av) = a.get_mut(key) else { continue };
                let masked = matches!(
                    key.as_str(),
                    "x-amzn-RequestId" | "X-Amzn-Trace-Id" | "RequestId"
                ) && ev.as_str() == Some(key.as_str());
                if masked {
                    *av = ev.clone();
                } else {
                    adopt_key_masks(ev, av);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (ev, av) in e.iter().zip(a.iter_mut()) {
                adopt_key_masks(ev, av);
            }
        }
        _ => {}
    }
}

struct Verdict {
    id: String,
    ok: bool,
    detail: String,
}

fn run_case(case: &Value, dir: &std::path::Path) -> Option<Verdict> {
    let expected = &case["expected"];
    let status = expected["status"].as_str()?;
    if !matches!(status, "SUCCEEDED" | "FAILED" | "TIMED_OUT") {
        return None;
    }
    let id = case["id"].as_str().unwrap_or("?").to_owned();
    let mut definition = serde_json::to_string(&case["definition"]).ok()?;
    let mut input_raw = case["input_raw"].as_str().unwrap_or("{}").to_owned();

    // Each function in a folder of its own, bound by the name the test gave it; placeholders
    // become its ARN or name.
    let mut toml = String::new();
    if let Some(lambdas) = case["lambdas"].as_object() {
        for (key, lambda) in lambdas {
            let name = lambda["test_func_name"].as_str().unwrap_or(key);
            if key.starts_with("${fake:") {
                let with = match lambda["kind"].as_str() {
                    Some("arn") => format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
                    _ => name.to_owned(),
                };
                definition = definition.replace(key, &with);
                input_raw = input_raw.replace(key, &with);
            }
            let root = dir.join(name);
            let handler = lambda["handler"].as_str().unwrap_or("handler.handler");
            let module = handler.rsplit_once('.').map_or("handler", |(m, _)| m);
            std::fs::create_dir_all(&root).ok()?;
            std::fs::write(
                root.join(format!("{module}.py")),
                lambda["source"].as_str().unwrap_or_default(),
            )
            .ok()?;
            if !toml.contains(&format!("[lambda.functions.{name:?}]")) {
                let _ = write!(
                    toml,
                    "[lambda.functions.{name:?}]\ncommand = [\"python3\", {RUNNER:?}, {:?}, {handler:?}]\ntimeout_seconds = {}\n",
                    root.display().to_string(),
                    lambda["timeout"].as_u64().unwrap_or(3),
                );
            }
        }
    }
    let verdict = |ok: bool, detail: String| {
        Some(Verdict {
            id: id.clone(),
            ok,
            detail,
        })
    };
    let config = match Config::parse(&toml, "corpus.toml") {
        Ok(c) => c,
        Err(e) => return verdict(false, format!("config: {e}")),
    };
    let machine = match parse_definition(&definition, ParseOptions::default()) {
        Ok((m, _)) => Arc::new(m),
        Err(report) => {
            return verdict(
                false,
                format!(
                    "definition rejected: {:?}",
                    report.invalid_definition_message()
                ),
            );
        }
    };
    let input: Value = serde_json::from_str(&input_raw).unwrap_or(Value::Null);
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single()?;
    let mut info = ExecutionInfo::local("conformance", "run", start);
    info.execution_arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:conformance:run");
    info.state_machine_arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:conformance");
    info.role_arn = format!("arn:aws:iam::{ACCOUNT}:role/sfn_fake_role");
    let mut handler = Lambdas {
        integrations: Integrations::new(Arc::new(config)),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?,
        ctx: CallContext::new(REGION, ACCOUNT),
    };
    let result = local::run(
        machine,
        info,
        input,
        Some(input_raw),
        &mut handler,
        &RunOptions::default(),
        |_| {},
    );
    let c = result.completion;
    if c.status.as_str() != status {
        return verdict(
            false,
            format!(
                "status: expected {status} got {} ({:?}: {:?})",
                c.status.as_str(),
                c.error,
                c.cause
            ),
        );
    }
    if status == "SUCCEEDED" {
        let output = c.output.unwrap_or(Value::Null);
        let masked = regex_masks(case, &output.to_string());
        let mut output = serde_json::from_str(&masked).unwrap_or(output);
        adopt_key_masks(&expected["output"], &mut output);
        if !value_matches(&expected["output"], &output) {
            return verdict(
                false,
                format!(
                    "output: expected {}\n          got {output}",
                    expected["output"]
                ),
            );
        }
        return verdict(true, String::new());
    }
    if expected["error"].as_str() != c.error.as_deref()
        && !(expected.get("error").is_none() && c.error.is_none())
    {
        return verdict(
            false,
            format!("error: expected {} got {:?}", expected["error"], c.error),
        );
    }
    let cause = c.cause.as_deref().map(|text| regex_masks(case, text));
    let cause_ok = match &expected["cause"] {
        Value::Null => true,
        Value::String(e) => cause.as_deref().is_some_and(|a| text_matches(e, a)),
        // A cause holding JSON was recorded parsed.
        e => cause
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .is_some_and(|a| value_matches(e, &a)),
    };
    if !cause_ok {
        return verdict(
            false,
            format!("cause: expected {} got {:?}", expected["cause"], c.cause),
        );
    }
    verdict(true, String::new())
}

#[test]
fn recorded_lambda_executions_match_aws() {
    let Some(cases) = asl_cases() else { return };
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python {
        eprintln!("skipping: python3 not found");
        return;
    }
    let lambda_only: Vec<&Value> = cases
        .iter()
        .filter(|c| c["needs"] == serde_json::json!(["lambda"]))
        .collect();
    let (runnable, other_api): (Vec<&Value>, Vec<&Value>) =
        lambda_only.into_iter().partition(|c| {
            matches!(
                c["api"].as_str(),
                Some("StartExecution" | "StartSyncExecution")
            )
        });
    let dir = tempfile::tempdir().expect("temp dir");
    let next = AtomicUsize::new(0);
    let verdicts = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = runnable.get(i) else { break };
                    let case_dir = dir.path().join(format!("case{i}"));
                    if let Some(v) = run_case(case, &case_dir) {
                        verdicts.lock().expect("lock").push(v);
                    }
                }
            });
        }
    });
    let mut verdicts = verdicts.into_inner().expect("lock");
    verdicts.sort_by(|a, b| a.id.cmp(&b.id));
    let matched = verdicts.iter().filter(|v| v.ok).count();
    println!(
        "lambda corpus: {matched}/{} executions match AWS ({} cases of other APIs, such as TestState, not run here)",
        verdicts.len(),
        other_api.len()
    );
    for v in verdicts.iter().filter(|v| !v.ok) {
        println!("MISMATCH {}\n    {}", v.id, v.detail);
    }
    assert!(
        matched >= FLOOR,
        "{matched} recorded Lambda executions match AWS, fewer than the {FLOOR} that did"
    );
}
