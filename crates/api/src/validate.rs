//! Request checking against the service model, the way AWS's front end (Coral) does it.
//!
//! Two passes over an action's input:
//! 1. JSON types. A member of the wrong JSON type cannot be read at all: `SerializationException`
//!    for the first one found, as AWS JSON 1.0 services answer.
//! 2. Constraints: required members, string/list/map lengths, number ranges, enums and patterns,
//!    nested through structures, lists and maps. Every violation is collected and reported in one
//!    `ValidationException`: `N validation error(s) detected: Value 'x' at 'path' failed to
//!    satisfy constraint: ...`, joined by `; `.
//!
//! Members the model does not know are ignored; JSON `null` is the same as an absent member.
//! The checks the actions make beyond the model (ARN kinds, names, definitions) are not here.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use stepwise_service::error::validation_message;

use crate::error::ApiError;
use crate::model::{Shape, ShapeKind, model};

/// Checks an action's input. Unknown actions are not this function's business (the router
/// answers them first); an action without an input shape takes any object.
pub fn check_input(action: &str, input: &Value) -> Result<(), ApiError> {
    let m = model();
    let Some(input_shape) = m
        .operation(action)
        .and_then(|op| op.input.as_deref())
        .and_then(|name| m.shape(name))
    else {
        return match input {
            Value::Object(_) => Ok(()),
            other => Err(type_mismatch(other, ShapeKind::Structure)),
        };
    };
    check_types(input, input_shape)?;
    let mut violations = Vec::new();
    if let Value::Object(members) = input {
        check_structure(members, input_shape, "", &mut violations);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(validation_message(&violations)))
    }
}

// ----- pass 1: JSON types ---------------------------------------------------------------------

fn token(value: &Value) -> &'static str {
    match value {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

fn type_mismatch(value: &Value, expected: ShapeKind) -> ApiError {
    let message = match (value, expected) {
        (Value::Object(_), _) => "Start of structure or map found where not expected.".to_string(),
        (Value::Array(_), _) => "Start of list found where not expected".to_string(),
        (_, kind) => {
            let target = match kind {
                ShapeKind::String | ShapeKind::Blob => "a String",
                ShapeKind::Integer => "an Integer",
                ShapeKind::Long => "a Long",
                ShapeKind::Float => "a Float",
                ShapeKind::Double => "a Double",
                ShapeKind::Boolean => "a Boolean",
                ShapeKind::Timestamp => "a Date",
                ShapeKind::Structure => "a Structure",
                ShapeKind::List => "a List",
                ShapeKind::Map => "a Map",
            };
            format!("{} can not be converted to {target}", token(value))
        }
    };
    ApiError::serialization(message)
}

fn fits(value: &Value, kind: ShapeKind) -> bool {
    match kind {
        ShapeKind::Structure | ShapeKind::Map => value.is_object(),
        ShapeKind::List => value.is_array(),
        ShapeKind::String | ShapeKind::Blob => value.is_string(),
        ShapeKind::Boolean => value.is_boolean(),
        ShapeKind::Integer => integral(value).is_some_and(|n| i32::try_from(n).is_ok()),
        ShapeKind::Long => integral(value).is_some(),
        ShapeKind::Float | ShapeKind::Double => value.is_number(),
        ShapeKind::Timestamp => value.is_number() || value.is_string(),
    }
}

/// A JSON number with no fractional part, as an i64.
fn integral(value: &Value) -> Option<i64> {
    let n = value.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    if f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64 {
        Some(f as i64)
    } else {
        None
    }
}

fn check_types(value: &Value, shape: &Shape) -> Result<(), ApiError> {
    if value.is_null() {
        return Ok(());
    }
    if !fits(value, shape.kind) {
        return Err(type_mismatch(value, shape.kind));
    }
    let m = model();
    match (value, shape.kind) {
        (Value::Object(members), ShapeKind::Structure) => {
            for (name, target) in &shape.members {
                if let (Some(v), Some(s)) = (members.get(name), m.shape(target)) {
                    check_types(v, s)?;
                }
            }
        }
        (Value::Object(entries), ShapeKind::Map) => {
            if let Some(s) = shape.value.as_deref().and_then(|v| m.shape(v)) {
                for v in entries.values() {
                    check_types(v, s)?;
                }
            }
        }
        (Value::Array(items), ShapeKind::List) => {
            if let Some(s) = shape.member.as_deref().and_then(|v| m.shape(v)) {
                for item in items {
                    if item.is_null() {
                        return Err(ApiError::serialization(
                            "Null value found in a list where not expected",
                        ));
                    }
                    check_types(item, s)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

// ----- pass 2: constraints --------------------------------------------------------------------

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

fn check_structure(members: &Map<String, Value>, shape: &Shape, path: &str, out: &mut Vec<String>) {
    let m = model();
    for (name, target) in &shape.members {
        let member_path = join(path, name);
        let value = members.get(name).filter(|v| !v.is_null());
        match value {
            None => {
                if shape.required.iter().any(|r| r == name) {
                    out.push(format!(
                        "Value null at '{member_path}' failed to satisfy constraint: Member must not be null"
                    ));
                }
            }
            Some(Value::String(text)) if shape.utf8_byte_members.contains(name) => {
                // AWS documents these lengths in UTF-8 bytes, not characters.
                if let Some(s) = m.shape(target) {
                    check_length(text.len() as f64, s, &mut |constraint| {
                        out.push(format!(
                            "{} failed to satisfy constraint: {constraint}",
                            shown_value(&Value::String(text.clone()), s, &member_path)
                        ));
                    });
                }
            }
            Some(v) => {
                if let Some(s) = m.shape(target) {
                    check_value(v, s, &member_path, out);
                }
            }
        }
    }
}

/// `Value 'x' at 'path'`, or `Value at 'path'` for a sensitive shape.
fn shown_value(value: &Value, shape: &Shape, path: &str) -> String {
    if shape.sensitive {
        format!("Value at '{path}'")
    } else {
        format!("Value '{}' at '{path}'", render(value, shape))
    }
}

fn check_value(value: &Value, shape: &Shape, path: &str, out: &mut Vec<String>) {
    let m = model();
    let mut fail = |constraint: String| {
        out.push(format!(
            "{} failed to satisfy constraint: {constraint}",
            shown_value(value, shape, path)
        ));
    };
    match (value, shape.kind) {
        (Value::String(s), ShapeKind::String | ShapeKind::Blob) => {
            // Coral counts Java chars: UTF-16 code units.
            let len = s.encode_utf16().count() as f64;
            check_length(len, shape, &mut fail);
            if shape
                .enum_values
                .as_ref()
                .is_some_and(|values| !values.iter().any(|v| v == s))
            {
                fail(format!(
                    "Member must satisfy enum value set: [{}]",
                    enum_display_order(shape).join(", ")
                ));
            }
            if let Some(pattern) = &shape.pattern {
                if compiled_pattern(pattern).is_some_and(|p| !p.matches(s)) {
                    fail(format!(
                        "Member must satisfy regular expression pattern: {pattern}"
                    ));
                }
            }
        }
        (
            Value::Number(n),
            ShapeKind::Integer | ShapeKind::Long | ShapeKind::Float | ShapeKind::Double,
        ) => {
            let v = n.as_f64().unwrap_or(0.0);
            if let Some(min) = shape.min.filter(|min| v < *min) {
                fail(format!(
                    "Member must have value greater than or equal to {}",
                    number_text(min)
                ));
            }
            if let Some(max) = shape.max.filter(|max| v > *max) {
                fail(format!(
                    "Member must have value less than or equal to {}",
                    number_text(max)
                ));
            }
        }
        (Value::Array(items), ShapeKind::List) => {
            check_length(items.len() as f64, shape, &mut fail);
            if let Some(member) = shape.member.as_deref().and_then(|s| m.shape(s)) {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_null() {
                        check_value(item, member, &format!("{path}.{}.member", i + 1), out);
                    }
                }
            }
        }
        (Value::Object(entries), ShapeKind::Map) => {
            check_length(entries.len() as f64, shape, &mut fail);
            let key_shape = shape.key.as_deref().and_then(|s| m.shape(s));
            let value_shape = shape.value.as_deref().and_then(|s| m.shape(s));
            for (i, (k, v)) in entries.iter().enumerate() {
                let entry = format!("{path}.{}", i + 1);
                if let Some(ks) = key_shape {
                    check_value(&Value::String(k.clone()), ks, &format!("{entry}.key"), out);
                }
                if let (Some(vs), false) = (value_shape, v.is_null()) {
                    check_value(v, vs, &format!("{entry}.value"), out);
                }
            }
        }
        (Value::Object(members), ShapeKind::Structure) => {
            check_structure(members, shape, path, out);
        }
        _ => {}
    }
}

fn check_length(len: f64, shape: &Shape, fail: &mut impl FnMut(String)) {
    if let Some(min) = shape.min.filter(|min| len < *min) {
        fail(format!(
            "Member must have length greater than or equal to {}",
            number_text(min)
        ));
    }
    if let Some(max) = shape.max.filter(|max| len > *max) {
        fail(format!(
            "Member must have length less than or equal to {}",
            number_text(max)
        ));
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The order AWS prints an enum's values in. Coral prints a hash set, whose order is not the
/// model's; where the real order has been recorded it is kept here, else the model's order.
fn enum_display_order(shape: &Shape) -> Vec<&str> {
    const RECORDED: &[(&str, &[&str])] = &[(
        "ExecutionStatus",
        &[
            "SUCCEEDED",
            "TIMED_OUT",
            "PENDING_REDRIVE",
            "ABORTED",
            "FAILED",
            "RUNNING",
        ],
    )];
    let values: Vec<&str> = shape
        .enum_values
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    match RECORDED.iter().find(|(name, _)| *name == shape.name) {
        // Only while the recorded set still is the model's set.
        Some((_, order))
            if order.len() == values.len() && order.iter().all(|v| values.contains(v)) =>
        {
            order.to_vec()
        }
        _ => values,
    }
}

/// How a value is printed in a message: strings as they are, lists as `[a, b]`, structures as
/// `Shape(member=value, ...)`, maps as `{k=v}` (Java's `toString`, which is what AWS prints).
fn render(value: &Value, shape: &Shape) -> String {
    let m = model();
    if shape.sensitive {
        return "***Sensitive Data Redacted***".to_string();
    }
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Array(items) => {
            let member = shape.member.as_deref().and_then(|s| m.shape(s));
            let parts: Vec<String> = items
                .iter()
                .map(|item| match member {
                    Some(ms) => render(item, ms),
                    None => item.to_string(),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(members) if shape.kind == ShapeKind::Structure => {
            let parts: Vec<String> = shape
                .members
                .iter()
                .filter_map(|(name, target)| {
                    let v = members.get(name).filter(|v| !v.is_null())?;
                    let text = match m.shape(target) {
                        Some(ts) => render(v, ts),
                        None => v.to_string(),
                    };
                    Some(format!("{name}={text}"))
                })
                .collect();
            format!("{}({})", shape.name, parts.join(", "))
        }
        Value::Object(entries) => {
            let value_shape = shape.value.as_deref().and_then(|s| m.shape(s));
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| {
                    let text = match value_shape {
                        Some(vs) => render(v, vs),
                        None => v.to_string(),
                    };
                    format!("{k}={text}")
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

// ----- patterns -------------------------------------------------------------------------------

/// A model pattern compiled for the regex crate, which has no look-around: leading positive
/// look-aheads (`^(?=X)Y$`) are checked as separate anchored regexes; any other look-around makes
/// the pattern unsupported, and it is not checked.
#[derive(Debug)]
pub struct Pattern {
    lookaheads: Vec<Regex>,
    body: Regex,
}

impl Pattern {
    /// Compiles a model (Java) pattern. `None` when it uses what the regex crate cannot do.
    pub fn compile(pattern: &str) -> Option<Pattern> {
        let translated = translate_java_classes(pattern);
        let mut rest = translated.as_str();
        let anchored = rest.starts_with('^');
        if anchored {
            rest = &rest[1..];
        }
        let mut lookaheads = Vec::new();
        while let Some(inner_start) = rest.strip_prefix("(?=") {
            let close = closing_paren(inner_start)?;
            let inner = &inner_start[..close];
            lookaheads.push(Regex::new(&format!("^(?:{inner})")).ok()?);
            rest = &inner_start[close + 1..];
        }
        if ["(?=", "(?!", "(?<=", "(?<!"]
            .iter()
            .any(|look| rest.contains(look))
        {
            return None;
        }
        let body = rest.strip_suffix('$').unwrap_or(rest);
        // Java's String.matches: the whole value must match.
        let body = Regex::new(&format!("^(?:{body})$")).ok()?;
        Some(Pattern { lookaheads, body })
    }

    pub fn matches(&self, text: &str) -> bool {
        self.lookaheads.iter().all(|r| r.is_match(text)) && self.body.is_match(text)
    }
}

/// The index of the `)` closing a group whose content starts at `text[0]`.
fn closing_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_class = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Java's POSIX classes the regex crate spells differently.
fn translate_java_classes(pattern: &str) -> String {
    const CLASSES: &[(&str, &str)] = &[
        (r"\p{ASCII}", r"[\x00-\x7F]"),
        (r"\p{Alpha}", r"[A-Za-z]"),
        (r"\p{Digit}", r"[0-9]"),
        (r"\p{Alnum}", r"[A-Za-z0-9]"),
        (r"\p{Upper}", r"[A-Z]"),
        (r"\p{Lower}", r"[a-z]"),
        (r"\p{Punct}", r"[!-/:-@\[-`{-~]"),
        (r"\p{Graph}", r"[!-~]"),
        (r"\p{Print}", r"[ -~]"),
        (r"\p{Blank}", r"[ \t]"),
        (r"\p{Cntrl}", r"[\x00-\x1F\x7F]"),
        (r"\p{XDigit}", r"[0-9a-fA-F]"),
        (r"\p{Space}", r"[ \t\n\x0B\f\r]"),
    ];
    let mut out = pattern.to_string();
    for (java, rust) in CLASSES {
        out = out.replace(java, rust);
    }
    out
}

static PATTERNS: LazyLock<HashMap<String, Option<Pattern>>> = LazyLock::new(|| {
    model()
        .shapes
        .values()
        .filter_map(|s| s.pattern.as_ref())
        .map(|p| (p.clone(), Pattern::compile(p)))
        .collect()
});

fn compiled_pattern(pattern: &str) -> Option<&'static Pattern> {
    PATTERNS.get(pattern).and_then(Option::as_ref)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(action: &str, input: Value) -> String {
        let err = check_input(action, &input).unwrap_err();
        assert_eq!(err.error.code, "ValidationException", "{err:?}");
        err.error.message
    }

    #[test]
    fn a_valid_request_passes() {
        let input = json!({
            "name": "sm", "definition": "{}", "roleArn": "arn:aws:iam::1:role/r",
            "type": "EXPRESS", "tags": [{"key": "k", "value": ""}],
            "loggingConfiguration": {"level": "OFF", "includeExecutionData": false},
            "unknownMember": [1, 2, 3],
        });
        assert!(check_input("CreateStateMachine", &input).is_ok());
        assert!(check_input("ListStateMachines", &json!({})).is_ok());
    }

    #[test]
    fn string_length_is_reported_as_aws_does() {
        let name = "A".repeat(81);
        assert_eq!(
            message("CreateActivity", json!({ "name": name })),
            format!(
                "1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 80"
            )
        );
    }

    #[test]
    fn numbers_out_of_range() {
        assert_eq!(
            message("ListStateMachines", json!({"maxResults": 1001})),
            "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
        );
        assert_eq!(
            message("ListStateMachines", json!({"maxResults": -1})),
            "1 validation error detected: Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 0"
        );
    }

    #[test]
    fn enums_print_aws_recorded_order() {
        assert_eq!(
            message(
                "ListExecutions",
                json!({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:x", "statusFilter": "succeeded"})
            ),
            "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
        );
        assert_eq!(
            message(
                "CreateStateMachine",
                json!({"name": "a", "definition": "{}", "roleArn": "r", "type": "BATCH"})
            ),
            "1 validation error detected: Value 'BATCH' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        );
    }

    #[test]
    fn payloads_are_counted_in_utf8_bytes_other_strings_in_characters() {
        let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:m";
        let too_long = "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144";
        // 87,381 three-byte characters and one ASCII one: 87,382 characters, 262,144 bytes.
        let at_limit = format!("{}a", "€".repeat(87_381));
        assert_eq!(at_limit.len(), 262_144);
        for action in ["StartExecution", "StartSyncExecution"] {
            let ok = json!({"stateMachineArn": arn, "input": at_limit});
            assert!(check_input(action, &ok).is_ok(), "{action}");
            let over = json!({"stateMachineArn": arn, "input": format!("{at_limit}a")});
            assert_eq!(message(action, over), too_long, "{action}");
        }
        // Far fewer characters than the limit, more bytes.
        let euros = "€".repeat(100_000);
        let over = json!({"taskToken": "t", "output": euros});
        assert_eq!(
            message("SendTaskSuccess", over),
            "1 validation error detected: Value at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144"
        );
        // A name is counted in characters: 80 three-byte characters are allowed.
        let name = "€".repeat(80);
        let named = json!({"stateMachineArn": arn, "name": name});
        assert!(check_input("StartExecution", &named).is_ok());
    }

    #[test]
    fn required_members_and_several_errors() {
        assert_eq!(
            message("CreateStateMachine", json!({"name": "a"})),
            "2 validation errors detected: Value null at 'definition' failed to satisfy constraint: Member must not be null; Value null at 'roleArn' failed to satisfy constraint: Member must not be null"
        );
        // null is the same as absent
        assert_eq!(
            message("DescribeActivity", json!({"activityArn": null})),
            "1 validation error detected: Value null at 'activityArn' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn nested_list_members_use_coral_paths_and_structures_print_like_java() {
        let v = "arn:aws:states:us-east-1:1:stateMachine:sm";
        assert_eq!(
            message(
                "CreateStateMachineAlias",
                json!({"name": "a", "routingConfiguration": [
                    {"stateMachineVersionArn": format!("{v}:1"), "weight": 50},
                    {"stateMachineVersionArn": format!("{v}:2"), "weight": 101}
                ]})
            ),
            "1 validation error detected: Value '101' at 'routingConfiguration.2.member.weight' failed to satisfy constraint: Member must have value less than or equal to 100"
        );
        let three = json!([
            {"stateMachineVersionArn": format!("{v}:1"), "weight": 50},
            {"stateMachineVersionArn": format!("{v}:2"), "weight": 30},
            {"stateMachineVersionArn": format!("{v}:3"), "weight": 20},
        ]);
        assert_eq!(
            message(
                "CreateStateMachineAlias",
                json!({"name": "a", "routingConfiguration": three})
            ),
            format!(
                "1 validation error detected: Value '[RoutingConfigurationListItem(stateMachineVersionArn={v}:1, weight=50), RoutingConfigurationListItem(stateMachineVersionArn={v}:2, weight=30), RoutingConfigurationListItem(stateMachineVersionArn={v}:3, weight=20)]' at 'routingConfiguration' failed to satisfy constraint: Member must have length less than or equal to 2"
            )
        );
        assert_eq!(
            message(
                "TagResource",
                json!({"resourceArn": v, "tags": [{"key": "", "value": "x"}]})
            ),
            "1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
    }

    #[test]
    fn look_ahead_patterns_are_checked_too() {
        let pattern = r"^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$";
        for bad in ["123", "INVALID ALIAS", "!INVALID", "ALIAS@"] {
            assert_eq!(
                message(
                    "CreateStateMachineAlias",
                    json!({"name": bad, "routingConfiguration": [
                        {"stateMachineVersionArn": "arn:aws:states:us-east-1:1:stateMachine:sm:1", "weight": 100}
                    ]})
                ),
                format!(
                    "1 validation error detected: Value '{bad}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
                )
            );
        }
        let p = Pattern::compile(pattern).unwrap();
        assert!(p.matches("PROD"));
        assert!(p.matches("v1.2"));
        assert!(!p.matches("12"));
        // Unsupported look-around is skipped, not an error.
        assert!(Pattern::compile("(?<!x)y").is_none());
        let ascii = Pattern::compile(r"\p{ASCII}*").unwrap();
        assert!(ascii.matches("Root=1-abc"));
        assert!(!ascii.matches("é"));
    }

    #[test]
    fn sensitive_values_are_not_echoed() {
        let long = "x".repeat(257);
        let msg = message(
            "PublishStateMachineVersion",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:sm", "description": long}),
        );
        assert_eq!(
            msg,
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"
        );
        assert!(!msg.contains("xxx"));
    }

    #[test]
    fn wrong_json_types_are_serialization_errors() {
        let cases = [
            (
                json!({"name": 5}),
                "NUMBER_VALUE can not be converted to a String",
            ),
            (
                json!({"name": true}),
                "TRUE_VALUE can not be converted to a String",
            ),
            (
                json!({"name": {}}),
                "Start of structure or map found where not expected.",
            ),
            (
                json!({"name": []}),
                "Start of list found where not expected",
            ),
            (
                json!({"name": "a", "tags": "x"}),
                "STRING_VALUE can not be converted to a List",
            ),
            (
                json!({"name": "a", "tags": [{"key": 1}]}),
                "NUMBER_VALUE can not be converted to a String",
            ),
        ];
        for (input, expected) in cases {
            let err = check_input("CreateActivity", &input).unwrap_err();
            assert_eq!(err.error.code, "SerializationException", "{input}");
            assert_eq!(err.error.message, expected, "{input}");
        }
        let err = check_input("ListStateMachines", &json!({"maxResults": "10"})).unwrap_err();
        assert_eq!(
            err.error.message,
            "STRING_VALUE can not be converted to an Integer"
        );
        let err = check_input("ListStateMachines", &json!({"maxResults": 1.5})).unwrap_err();
        assert_eq!(err.error.code, "SerializationException");
        assert!(check_input("ListStateMachines", &json!({"maxResults": 10.0})).is_ok());
        let err = check_input(
            "ListStateMachines",
            &json!({"maxResults": 3_000_000_000u64}),
        )
        .unwrap_err();
        assert_eq!(err.error.code, "SerializationException");
    }

    #[test]
    fn every_model_pattern_compiles_or_is_known_unsupported() {
        for shape in model().shapes.values() {
            if let Some(p) = &shape.pattern {
                assert!(Pattern::compile(p).is_some(), "{}: {p}", shape.name);
            }
        }
    }
}
