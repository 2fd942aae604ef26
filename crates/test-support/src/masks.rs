//! Comparing a value recorded against AWS with ours. The recordings were masked before they were
//! kept: ARNs, ids, dates and the account became tokens such as `<ExecArn_idx:1>`,
//! `111111111111` or `date`; here a mask token matches any text, and numbers compare by value.
//!
//! The recordings' per-case transformers (which keys or texts a case masked) differ by API and
//! are applied by the tests that know them.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

/// A recorded (masked) string as a pattern: mask tokens match anything, the rest literally.
pub fn mask_pattern(expected: &str) -> Regex {
    static TOKEN: OnceLock<Regex> = OnceLock::new();
    let token = TOKEN.get_or_init(|| {
        Regex::new(r"<[A-Za-z_\-][A-Za-z0-9_\-]*(:[0-9]+)?(_[0-9]+idx)?>|111111111111|\bdate\b")
            .expect("token regex")
    });
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

/// Whether our text is the recorded one, its mask tokens matching anything.
pub fn text_matches(expected: &str, actual: &str) -> bool {
    expected == actual || mask_pattern(expected).is_match(actual)
}

/// Numbers equal as JSON or as doubles (`1` and `1.0`).
pub fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    a == b || a.as_f64() == b.as_f64()
}

/// Compares a recorded value with ours, honouring the recording's masks: `"date"` and
/// `"timestamp"` match anything, a masked string matches ours (a non-string of ours as its JSON
/// text), objects have the same keys.
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mask_tokens_match_any_text_and_the_rest_matches_literally() {
        let recorded = "arn:<partition>:states:us-east-1:111111111111:execution:<ExecArn_idx:1>";
        assert!(text_matches(
            recorded,
            "arn:aws:states:us-east-1:123456789012:execution:m:e"
        ));
        assert!(!text_matches(
            recorded,
            "arn:aws:states:eu-west-1:123456789012:execution:m:e"
        ));
        // Regex syntax in the recording is literal text.
        assert!(text_matches("a.b (c)", "a.b (c)"));
        assert!(!text_matches("a.b", "axb"));
    }

    #[test]
    fn values_compare_through_masks_and_numbers_by_value() {
        let recorded = json!({"at": "date", "id": "<uuid>", "n": 1, "list": [1.5]});
        assert!(value_matches(
            &recorded,
            &json!({"at": 17, "id": "0f8f", "n": 1.0, "list": [1.5]})
        ));
        assert!(!value_matches(
            &recorded,
            &json!({"at": 17, "id": "0f8f", "n": 2, "list": [1.5]})
        ));
        assert!(!value_matches(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(value_matches(&json!("<count>"), &json!(3)));
    }
}
