//! Runs every pure execution case recorded against AWS (`../shared/conformance/asl/cases.jsonl`:
//! `needs == ["none"]`, api StartExecution or StartSyncExecution) through the engine and compares
//! what a user sees: the status and output (or error), the cause text, and the sequence of
//! history event types. Also replays each run from its recorded steps and requires identical
//! histories.
//!
//! Run with `--nocapture` to see the rates and the mismatches. Skips with a message when the
//! corpus is not beside the checkout.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::ExecutionInfo;
use stepwise_engine::local::{self, NoTasks, RunOptions};
use stepwise_test_support::corpus::asl_cases;
use stepwise_test_support::{percent, text_matches, value_matches};

/// Applies the recording's `JsonpathTransformer` masks that replace values inside the execution's
/// output (e.g. a random number shown as `RandomNumberGenerated`).
fn apply_output_masks(case: &Value, output: &mut Value) {
    let Some(listed) = case["masking"]["test_transformers"].as_array() else {
        return;
    };
    // Some recordings group transformers in nested lists.
    let mut transformers = Vec::new();
    let mut pending: Vec<&Value> = listed.iter().rev().collect();
    while let Some(t) = pending.pop() {
        match t {
            Value::Array(inner) => pending.extend(inner.iter().rev()),
            t => transformers.push(t),
        }
    }
    for t in transformers {
        if t["type"] == "RegexTransformer" {
            let (Some(re), Some(replacement)) = (t["regex"].as_str(), t["replacement"].as_str())
            else {
                continue;
            };
            if let Some(key) = re
                .strip_prefix("${fake:tracked:")
                .and_then(|r| r.split_once("output/"))
                .map(|(_, k)| k.trim_end_matches('}'))
            {
                if let Some(v) = output.get_mut(key) {
                    *v = Value::from(replacement);
                }
                continue;
            }
            let text = serde_json::to_string(output).unwrap_or_default();
            let replaced = text.replace(re, replacement);
            if let Ok(v) = serde_json::from_str(&replaced) {
                *output = v;
            }
            continue;
        }
        if t["type"] != "JsonpathTransformer" {
            continue;
        }
        let (Some(path), Some(replacement)) = (t["jsonpath"].as_str(), t.get("replacement")) else {
            continue;
        };
        // `$..KEY`: every value under KEY, at any depth.
        if let Some(key) = path.strip_prefix("$..").filter(|k| !k.contains(['.', '['])) {
            replace_under(output, key, replacement);
            continue;
        }
        let Some((_, keys)) = path.split_once("executionSucceededEventDetails.output.") else {
            continue;
        };
        let mut at = &mut *output;
        let keys: Vec<&str> = keys.split('.').collect();
        for (i, key) in keys.iter().enumerate() {
            let Some(next) = at.get_mut(*key) else { break };
            if i + 1 == keys.len() {
                *next = replacement.clone();
                break;
            }
            at = next;
        }
    }
}

fn replace_under(v: &mut Value, key: &str, replacement: &Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == key {
                    *x = replacement.clone();
                } else {
                    replace_under(x, key, replacement);
                }
            }
        }
        Value::Array(items) => {
            for x in items {
                replace_under(x, key, replacement);
            }
        }
        _ => {}
    }
}

struct Outcome {
    id: String,
    status_ok: bool,
    cause_ok: Option<bool>,
    events_ok: Option<bool>,
    replay_ok: bool,
    detail: String,
}

fn run_case(case: &Value) -> Option<Outcome> {
    let expected = &case["expected"];
    let status = expected["status"].as_str()?;
    if !matches!(status, "SUCCEEDED" | "FAILED" | "TIMED_OUT") {
        return None;
    }
    let id = case["id"].as_str().unwrap_or("?").to_owned();
    let text = serde_json::to_string(&case["definition"]).ok()?;
    let machine = match parse_definition(&text, ParseOptions::default()) {
        Ok((m, _)) => Arc::new(m),
        Err(report) => {
            return Some(Outcome {
                id,
                status_ok: false,
                cause_ok: None,
                events_ok: None,
                replay_ok: true,
                detail: format!(
                    "definition rejected: {:?}",
                    report.invalid_definition_message()
                ),
            });
        }
    };
    let input_raw = case["input_raw"].as_str().unwrap_or("{}");
    let input: Value = serde_json::from_str(input_raw).unwrap_or(Value::Null);
    let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).single()?;
    let mut info = ExecutionInfo::local("conformance", "run", start);
    // The recordings' role (their masks rename it).
    info.role_arn = "arn:aws:iam::111111111111:role/sfn_fake_role".into();
    // An Express case runs as an Express execution (its ARN says so, and its context differs).
    if case["state_machine_type"] == "EXPRESS" {
        info.execution_arn = format!(
            "{}:00000000-0000-4000-8000-000000000000",
            info.execution_arn.replacen(":execution:", ":express:", 1)
        );
    }
    let result = local::run(
        machine.clone(),
        info.clone(),
        input,
        Some(input_raw.to_owned()),
        &mut NoTasks,
        &RunOptions::default(),
        |_| {},
    );
    let replayed = local::replay(machine, info, &result.steps);
    let replay_ok = replayed == result.events;

    let mut completion = result.completion.clone();
    if let Some(output) = completion.output.as_mut() {
        apply_output_masks(case, output);
    }
    let c = &completion;
    let mut detail = String::new();
    let status_ok = c.status.as_str() == status
        && match status {
            "SUCCEEDED" => {
                let ok = value_matches(
                    &expected["output"],
                    c.output.as_ref().unwrap_or(&Value::Null),
                );
                if !ok {
                    detail = format!(
                        "output: expected {} got {}",
                        expected["output"],
                        c.output.as_ref().unwrap_or(&Value::Null)
                    );
                }
                ok
            }
            _ => {
                let ok = expected["error"].as_str() == c.error.as_deref()
                    || (expected.get("error").is_none() && c.error.is_none());
                if !ok {
                    detail = format!("error: expected {} got {:?}", expected["error"], c.error);
                }
                ok
            }
        };
    if c.status.as_str() != status {
        detail = format!(
            "status: expected {status} got {} ({:?}: {:?})",
            c.status.as_str(),
            c.error,
            c.cause
        );
    }
    let cause_ok = expected["cause"].as_str().map(|e| {
        let ok = c.cause.as_deref().is_some_and(|a| text_matches(e, a));
        if !ok && detail.is_empty() {
            detail = format!("cause: expected {e:?} got {:?}", c.cause);
        }
        ok
    });
    let events_ok = expected["history_event_types"].as_array().map(|types| {
        let mut want: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
        let mut got: Vec<&str> = result
            .events
            .iter()
            .map(|e| e.event_type.as_str())
            .collect();
        let sorted = case["masking"]
            .to_string()
            .contains("SfnNoneRecursiveParallelTransformer");
        if sorted {
            want.sort_unstable();
            got.sort_unstable();
        }
        let ok = want == got;
        if !ok && detail.is_empty() {
            detail = format!("events: expected {want:?}\n                got {got:?}");
        }
        ok
    });
    Some(Outcome {
        id,
        status_ok,
        cause_ok,
        events_ok,
        replay_ok,
        detail,
    })
}

#[test]
fn pure_execution_cases_match_aws() {
    let Some(cases) = asl_cases() else { return };
    let outcomes: Vec<Outcome> = cases
        .iter()
        .filter(|c| c["needs"] == serde_json::json!(["none"]))
        .filter(|c| {
            matches!(
                c["api"].as_str(),
                Some("StartExecution" | "StartSyncExecution")
            )
        })
        .filter_map(run_case)
        .collect();
    let total = outcomes.len();
    let status_ok = outcomes.iter().filter(|o| o.status_ok).count();
    let causes: Vec<bool> = outcomes.iter().filter_map(|o| o.cause_ok).collect();
    let events: Vec<bool> = outcomes.iter().filter_map(|o| o.events_ok).collect();
    let replay_ok = outcomes.iter().filter(|o| o.replay_ok).count();
    for o in outcomes
        .iter()
        .filter(|o| !o.status_ok || o.cause_ok == Some(false) || o.events_ok == Some(false))
    {
        println!("MISMATCH {}\n    {}", o.id, o.detail);
    }
    println!(
        "status+output/error: {status_ok}/{total} ({:.1}%)",
        percent(status_ok, total)
    );
    println!(
        "cause text: {}/{} ({:.1}%)",
        causes.iter().filter(|b| **b).count(),
        causes.len(),
        percent(causes.iter().filter(|b| **b).count(), causes.len())
    );
    println!(
        "event-type sequence: {}/{} ({:.1}%)",
        events.iter().filter(|b| **b).count(),
        events.len(),
        percent(events.iter().filter(|b| **b).count(), events.len())
    );
    println!("replay identical: {replay_ok}/{total}");
    assert_eq!(replay_ok, total, "every replay reproduces its history");
    assert!(
        percent(status_ok, total) >= 95.0,
        "status and output/error match for at least 95% of pure execution cases"
    );
}
