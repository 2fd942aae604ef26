//! What the conformance tests share: loading the recorded corpus and comparing recorded (masked)
//! values with the engine's.

#![allow(dead_code)]

use std::path::PathBuf;

use regex::Regex;
use serde_json::Value;

/// Every case of `../shared/conformance/asl/cases.jsonl`, or `None` (with a message) when the
/// corpus is not beside the checkout.
pub fn corpus() -> Option<Vec<Value>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/asl/cases.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "skipping: conformance corpus not found at {}",
            path.display()
        );
        return None;
    };
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
            .collect(),
    )
}

/// A recorded (masked) string as a pattern: mask tokens match anything.
pub fn mask_pattern(expected: &str) -> Regex {
    let token = Regex::new(r"<[A-Za-z_\-]+(:[0-9]+)?(_[0-9]+idx)?>|111111111111|\bdate\b")
        .expect("token regex");
    let mut pattern = String::from("(?s)^");
    let mut last = 0;
    for m in token.find_iter(expected) {
        pattern.push_str(&regex::escape(&expected[last..m.start()]));
        pattern.push_str(".*?");
        last = m.end();
    }
    pattern.push_str(&regex::escape(&expected[last..]));
    pattern.push('$');
    Regex::new(&pattern).unwrap_or_else(|_| Regex::new("^$").expect("empty regex"))
}

pub fn text_matches(expected: &str, actual: &str) -> bool {
    expected == actual || mask_pattern(expected).is_match(actual)
}

pub fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    a == b || a.as_f64() == b.as_f64()
}

/// Compares a recorded value with ours, honouring the recording's masks.
pub fn value_matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(e), _) if e == "date" || e == "timestamp" => true,
        (Value::String(e), Value::String(a)) => text_matches(e, a),
        (Value::String(e), other) if e.starts_with('<') => {
            text_matches(e, &serde_json::to_string(other).unwrap_or_default())
        }
        (Value::Number(e), Value::Number(a)) => numbers_equal(e, a),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| value_matches(x, y))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|av| value_matches(v, av)))
        }
        (e, a) => e == a,
    }
}
