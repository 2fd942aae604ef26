//! Runs the language-neutral JSONata test suite (jsonata-js's `test/test-suite`, shared in
//! `../shared/conformance/jsonata`) through the JSONata layer, in its plain-JSONata dialect.
//! Skips, passing, when the shared folder is not there.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};
use stepwise_asl::eval::SeededEntropy;
use stepwise_asl::jsonata::{Dialect, EvalOptions, JsonataError, JsonataExpr};
use stepwise_test_support::corpus::JsonataSuite;

/// Cases without a time limit of their own get this one, so a runaway case fails rather
/// than hangs the test.
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10);

enum Expected {
    Result(Value, bool),
    Undefined,
    Code(String),
}

enum Outcome {
    Pass,
    /// Passed once the harness's own limits are read as jsonata-js's harness reads them: it
    /// reports both its time limit and its depth limit as `U1001`.
    PassByLimit,
    WrongCode(String),
    Mismatch(String),
}

fn expected_of(case: &Map<String, Value>) -> Option<Expected> {
    if let Some(code) = case.get("code").and_then(Value::as_str) {
        return Some(Expected::Code(code.to_string()));
    }
    if let Some(code) = case
        .get("error")
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
    {
        return Some(Expected::Code(code.to_string()));
    }
    if case.get("undefinedResult") == Some(&Value::Bool(true)) {
        return Some(Expected::Undefined);
    }
    let unordered = case.get("unordered") == Some(&Value::Bool(true));
    case.get("result")
        .map(|r| Expected::Result(r.clone(), unordered))
}

/// JSON equality with numbers compared by value (`1` equals `1.0`), to 15 significant digits.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            // The suite's numbers are written to 15 significant digits; the last bit of a
            // double may differ (`90.57` against `90.57000000000001`).
            x == y || (x - y).abs() <= 1e-14 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Equality ignoring the order of a top-level array's items.
fn same_unordered(a: &Value, b: &Value) -> bool {
    let (Value::Array(x), Value::Array(y)) = (a, b) else {
        return same(a, b);
    };
    if x.len() != y.len() {
        return false;
    }
    let mut used = vec![false; y.len()];
    x.iter().all(|item| {
        let found = y
            .iter()
            .enumerate()
            .find(|(i, other)| !used[*i] && same(item, other));
        match found {
            Some((i, _)) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

fn run_case(
    case: &Map<String, Value>,
    datasets: &mut HashMap<String, Value>,
    suite: &JsonataSuite,
) -> Outcome {
    let Some(expected) = expected_of(case) else {
        return Outcome::Mismatch("case has no expectation".into());
    };
    let expr = case.get("expr").and_then(Value::as_str).unwrap_or_default();
    let dataset = |name: &str| -> Value {
        datasets
            .entry(name.to_string())
            .or_insert_with(|| suite.dataset(name))
            .clone()
    };
    // `data` is the input as given (`null` included); a `dataset` of `null` is no input.
    let input: Option<Value> = match case.get("data") {
        Some(data) => Some(data.clone()),
        None => case.get("dataset").and_then(Value::as_str).map(dataset),
    };
    let bindings: Map<String, Value> = case
        .get("bindings")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let time_limit = case
        .get("timelimit")
        .and_then(Value::as_u64)
        .map(Duration::from_millis);
    let options = EvalOptions {
        dialect: Dialect::Standard,
        timeout: Some(time_limit.unwrap_or(DEFAULT_TIME_LIMIT)),
        max_depth: None,
    };

    let outcome: Result<Option<Value>, (Option<String>, String)> = match JsonataExpr::parse(expr) {
        Err(e) => Err((e.code().map(str::to_string), e.message.clone())),
        Ok(parsed) => parsed
            .evaluate_with(
                input.as_ref(),
                None,
                &bindings,
                &mut SeededEntropy::new(0),
                &options,
            )
            .map_err(|e: JsonataError| (e.code().map(str::to_string), e.to_string())),
    };

    match (expected, outcome) {
        (Expected::Code(want), Err((got, message))) => {
            if got.as_deref() == Some(want.as_str()) {
                Outcome::Pass
            } else if want == "U1001"
                && time_limit.is_some()
                && matches!(got.as_deref(), Some("D1012" | "D1011"))
            {
                Outcome::PassByLimit
            } else {
                Outcome::WrongCode(format!("expected {want}, got error {message}"))
            }
        }
        (Expected::Code(want), Ok(got)) => Outcome::Mismatch(format!(
            "expected error {want}, got {}",
            got.map_or("undefined".to_string(), |v| v.to_string())
        )),
        (Expected::Undefined, Ok(None)) => Outcome::Pass,
        (Expected::Result(want, unordered), Ok(Some(got))) => {
            let equal = if unordered {
                same_unordered(&want, &got)
            } else {
                same(&want, &got)
            };
            if equal {
                Outcome::Pass
            } else {
                Outcome::Mismatch(format!("expected {want}, got {got}"))
            }
        }
        (Expected::Undefined, Ok(Some(got))) => {
            Outcome::Mismatch(format!("expected undefined, got {got}"))
        }
        (Expected::Result(want, _), Ok(None)) => {
            Outcome::Mismatch(format!("expected {want}, got undefined"))
        }
        (_, Err((_, message))) => Outcome::Mismatch(format!("unexpected error {message}")),
    }
}

fn run_suite() {
    let Some(suite) = JsonataSuite::load() else {
        return;
    };
    let mut datasets = HashMap::new();
    let (mut total, mut passed, mut by_limit) = (0usize, 0usize, 0usize);
    let mut wrong_codes = Vec::new();
    let mut mismatches = Vec::new();
    for case in suite.cases() {
        total += 1;
        let case: Map<String, Value> = match case {
            Ok(case) => case,
            Err(e) => {
                // A lone surrogate (`\ud800`) is valid JSON text but no Rust string holds it.
                mismatches.push(format!("line {total}: not representable here: {e}"));
                continue;
            }
        };
        let id = case
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let expr = case
            .get("expr")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case(&case, &mut datasets, &suite)
        }))
        .unwrap_or_else(|_| Outcome::Mismatch("panicked".into()));
        match outcome {
            Outcome::Pass => passed += 1,
            Outcome::PassByLimit => {
                passed += 1;
                by_limit += 1;
            }
            Outcome::WrongCode(why) => wrong_codes.push(format!("{id}: {expr}\n    {why}")),
            Outcome::Mismatch(why) => mismatches.push(format!("{id}: {expr}\n    {why}")),
        }
    }
    let rate = passed as f64 / total as f64 * 100.0;
    println!(
        "JSONata suite: {passed}/{total} passed ({rate:.2}%); {by_limit} of them by the harness's time/depth limit; {} wrong error code, {} other failures",
        wrong_codes.len(),
        mismatches.len()
    );
    for failure in wrong_codes.iter().chain(&mismatches).take(30) {
        println!("  {failure}");
    }
    assert!(rate >= 99.0, "pass rate {rate:.2}% is below 99%");
}

#[test]
fn jsonata_test_suite() {
    // Deep recursion in some cases: run on a thread with room for it.
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(run_suite)
        .expect("spawns")
        .join()
        .expect("the suite runs");
}
