//! Runs every TestState case recorded against AWS (`../shared/conformance/asl/cases.jsonl`,
//! `api == "TestState"`, `needs == ["none"]`) through `test_state` and compares what a user sees:
//! the API error (code and message), or the status, output, error, cause, next state and every
//! inspection value (no more, no fewer).
//!
//! The recordings leave out the request's `roleArn`; the recorder sent one when testing a Task,
//! Map or Parallel state (their context objects show it), so this test does too.
//!
//! Run with `--nocapture` to see the rate and the mismatches. Skips with a message when the corpus
//! is not beside the checkout.

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value};
use stepwise_engine::local::NoTasks;
use stepwise_engine::test_state::{TestStateRequest, test_state};
use stepwise_test_support::corpus::{api_error, asl_cases, definition_text};
use stepwise_test_support::{text_matches, value_matches};

/// The type of the state a request tests.
fn tested_type(definition: &Value, state_name: Option<&str>) -> Option<String> {
    fn find<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
        match v {
            Value::Object(m) => {
                if let Some(s) = m.get("States").and_then(|s| s.get(name)) {
                    return Some(s);
                }
                m.values().find_map(|x| find(x, name))
            }
            Value::Array(a) => a.iter().find_map(|x| find(x, name)),
            _ => None,
        }
    }
    let state = match state_name {
        Some(name) => find(definition, name)?,
        None => definition,
    };
    state["Type"].as_str().map(str::to_owned)
}

fn request(case: &Value) -> Option<TestStateRequest> {
    let mut req: TestStateRequest =
        serde_json::from_value(case["request"].clone().as_object().map_or_else(
            || Value::Object(Map::new()),
            |m| {
                let mut m = m.clone();
                m.insert("definition".into(), Value::from(""));
                Value::Object(m)
            },
        ))
        .ok()?;
    req.definition = definition_text(case);
    req.input = case["input_raw"].as_str().map(str::to_owned);
    if matches!(
        tested_type(&case["definition"], req.state_name.as_deref()).as_deref(),
        Some("Task" | "Map" | "Parallel")
    ) {
        req.role_arn = Some("arn:aws:iam::111111111111:role/sfn_fake_role".into());
    }
    Some(req)
}

/// Applies the recording's text masks and `$..output..KEY` masks to our output.
fn mask_output(case: &Value, output: &mut Value) {
    fn replace_key(v: &mut Value, key: &str, replacement: &Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == key {
                        *x = replacement.clone();
                    } else {
                        replace_key(x, key, replacement);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| replace_key(x, key, replacement)),
            _ => {}
        }
    }
    for t in case["masking"]["test_transformers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if t["type"] == "RegexTransformer" {
            // The recording replaced this text (a placeholder's value) everywhere.
            let (Some(re), Some(replacement)) = (t["regex"].as_str(), t["replacement"].as_str())
            else {
                continue;
            };
            let text = serde_json::to_string(output).unwrap_or_default();
            if let Ok(v) = serde_json::from_str(&text.replace(re, replacement)) {
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
        if let Some(key) = path.strip_prefix("$..output..") {
            replace_key(output, key, replacement);
        }
    }
}

/// A JSON-text field of ours against the recorded value (parsed when it was an object).
fn data_matches(expected: &Value, actual: &Value) -> bool {
    let parsed = |v: &Value| match v {
        Value::String(s) => serde_json::from_str::<Value>(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    };
    match (expected, actual) {
        (Value::Number(_), _) | (Value::Bool(_), _) => value_matches(expected, actual),
        _ => value_matches(&parsed(expected), &parsed(actual)) || value_matches(expected, actual),
    }
}

fn check_case(case: &Value) -> Result<(), String> {
    let req = request(case).ok_or("request not understood")?;
    let now = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .ok_or("date")?;
    let result = test_state(&req, &mut NoTasks, now, 7);
    let expected = &case["expected"];
    if let Some((code, message)) = api_error(case) {
        return match result {
            Err(e) if e.code.as_str() == code && text_matches(&message, &e.message) => Ok(()),
            Err(e) => Err(format!(
                "error: expected {code}: {message}\n          got {}: {}",
                e.code.as_str(),
                e.message
            )),
            Ok(v) => Err(format!("expected {code}: {message}\n     got a result {v}")),
        };
    }
    let got = result.map_err(|e| format!("unexpected {}: {}", e.code.as_str(), e.message))?;
    let mut problems = Vec::new();
    for key in ["status", "error", "cause", "nextState"] {
        let (e, a) = (&expected[key], &got[key]);
        let ok = match (e.as_str(), a.as_str()) {
            (Some(e), Some(a)) => text_matches(e, a),
            (None, None) => true,
            _ => false,
        };
        if !ok {
            problems.push(format!("{key}: expected {e} got {a}"));
        }
    }
    let our_output = got["output"]
        .as_str()
        .map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::Null));
    match (expected.get("output"), our_output) {
        (None, None) => {}
        (Some(e), Some(mut a)) => {
            mask_output(case, &mut a);
            if !value_matches(e, &a) {
                problems.push(format!("output: expected {e}\n             got {a}"));
            }
        }
        (e, a) => problems.push(format!("output: expected {e:?} got {a:?}")),
    }
    let empty = Map::new();
    let want = expected["inspectionData"].as_object().unwrap_or(&empty);
    let have = got["inspectionData"].as_object().unwrap_or(&empty);
    for (k, e) in want {
        match have.get(k) {
            Some(a) if data_matches(e, a) => {}
            a => problems.push(format!("inspectionData.{k}: expected {e} got {a:?}")),
        }
    }
    for k in have.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("inspectionData.{k}: not expected, got {}", have[k]));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n    "))
    }
}

#[test]
fn test_state_cases_match_aws() {
    let Some(cases) = asl_cases() else { return };
    let runnable: Vec<&Value> = cases
        .iter()
        .filter(|c| c["api"] == "TestState" && c["needs"] == serde_json::json!(["none"]))
        .collect();
    let mut failures = Vec::new();
    for case in &runnable {
        if let Err(why) = check_case(case) {
            failures.push((case["id"].as_str().unwrap_or("?"), why));
        }
    }
    for (id, why) in &failures {
        println!("MISMATCH {id}\n    {why}");
    }
    let total = runnable.len();
    let passed = total - failures.len();
    let rate = passed as f64 * 100.0 / total.max(1) as f64;
    println!("TestState cases matching AWS: {passed}/{total} ({rate:.1}%)");
    assert!(total > 0, "the corpus has runnable TestState cases");
    assert!(
        rate >= 98.0,
        "at least 98% of the runnable TestState cases match AWS"
    );
}

/// The recorded cases whose state machine calls API Gateway (`needs == ["apigateway"]`) test
/// its Choice states: nothing is called, and each must match AWS exactly (the definition with
/// `apigateway:invoke` is accepted, the Choice goes where AWS's went).
#[test]
fn test_state_cases_beside_an_api_gateway_task_match_aws() {
    let Some(cases) = asl_cases() else { return };
    let runnable: Vec<&Value> = cases
        .iter()
        .filter(|c| c["api"] == "TestState" && c["needs"] == serde_json::json!(["apigateway"]))
        .collect();
    assert_eq!(runnable.len(), 4, "the corpus's four API Gateway cases");
    for case in runnable {
        if let Err(why) = check_case(case) {
            panic!("{}\n    {why}", case["id"].as_str().unwrap_or("?"));
        }
    }
}
