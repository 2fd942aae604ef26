//! Checks a mocked Task result against the output shape of the integration it stands for, as
//! TestState's `fieldValidationMode` asks: `STRICT` (required fields present, present fields
//! well-typed), `PRESENT` (present fields well-typed) or `NONE`.
//!
//! The shapes live in `shapes.json`, written in the AWS service models' own vocabulary; an
//! integration without a shape there is not checked. Fields the shape does not name are allowed,
//! as AWS allows them.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// How strictly a mocked result is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldValidationMode {
    #[default]
    Strict,
    Present,
    None,
}

fn shapes() -> &'static Map<String, Value> {
    static SHAPES: OnceLock<Map<String, Value>> = OnceLock::new();
    SHAPES.get_or_init(|| serde_json::from_str(include_str!("shapes.json")).unwrap_or_default())
}

/// The output shape of `resource_type:action` (e.g. `lambda:invoke`, `aws-sdk:s3:getObject`).
pub(crate) fn output_shape(key: &str) -> Option<&'static Value> {
    resolve(shapes().get(key)?)
}

fn resolve(shape: &'static Value) -> Option<&'static Value> {
    match shape.get("ref").and_then(Value::as_str) {
        Some(name) => resolve(shapes().get(name)?),
        None => Some(shape),
    }
}

/// Checks `value` against `shape`; the error is AWS's sentence without its prefix
/// (`Field 'Entries' must be an array`).
pub(crate) fn check(shape: &Value, value: &Value, mode: FieldValidationMode) -> Result<(), String> {
    if mode == FieldValidationMode::None {
        return Ok(());
    }
    match value {
        Value::Object(fields) => check_members(shape, fields, mode),
        _ => Ok(()),
    }
}

fn check_members(
    shape: &Value,
    fields: &Map<String, Value>,
    mode: FieldValidationMode,
) -> Result<(), String> {
    let members = shape.get("members").and_then(Value::as_object);
    if mode == FieldValidationMode::Strict {
        for name in shape
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if fields.get(name).is_none_or(Value::is_null) {
                return Err(format!("Field '{name}' is required"));
            }
        }
    }
    let Some(members) = members else {
        return Ok(());
    };
    for (name, value) in fields {
        let Some(member) = members.get(name).and_then(resolve_local) else {
            continue;
        };
        check_field(name, member, value, mode)?;
    }
    Ok(())
}

fn check_field(
    name: &str,
    shape: &Value,
    value: &Value,
    mode: FieldValidationMode,
) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    let fail = |what: &str| Err(format!("Field '{name}' {what}"));
    let ty = shape
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("document");
    let min = shape.get("min").and_then(Value::as_f64);
    let max = shape.get("max").and_then(Value::as_f64);
    match ty {
        "string" | "blob" | "timestamp" => {
            let Some(s) = value.as_str() else {
                return fail("must be a string");
            };
            if let Some(allowed) = shape.get("enum").and_then(Value::as_array) {
                if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                    return fail("is not an expected value");
                }
            }
            let len = s.chars().count() as f64;
            if min.is_some_and(|m| len < m) {
                return fail("is smaller than the minimum length");
            }
            if max.is_some_and(|m| len > m) {
                return fail("exceeds the maximum length");
            }
            Ok(())
        }
        "integer" | "long" | "double" | "float" => {
            let Some(n) = value.as_f64() else {
                return fail("must be a number");
            };
            if min.is_some_and(|m| n < m) {
                return fail("is less than the minimum value");
            }
            if max.is_some_and(|m| n > m) {
                return fail("exceeds the maximum value");
            }
            Ok(())
        }
        "boolean" => match value {
            Value::Bool(_) => Ok(()),
            _ => fail("must be a boolean"),
        },
        "list" => {
            let Some(items) = value.as_array() else {
                return fail("must be an array");
            };
            let Some(member) = shape.get("member").and_then(resolve_local) else {
                return Ok(());
            };
            for item in items {
                check_field(name, member, item, mode)?;
            }
            Ok(())
        }
        "map" => {
            let Some(entries) = value.as_object() else {
                return fail("must be an object");
            };
            let Some(member) = shape.get("value").and_then(resolve_local) else {
                return Ok(());
            };
            for (key, v) in entries {
                check_field(key, member, v, mode)?;
            }
            Ok(())
        }
        "structure" => {
            let Some(fields) = value.as_object() else {
                return fail("must be an object");
            };
            check_members(shape, fields, mode)
        }
        _ => Ok(()),
    }
}

/// A nested shape, following a `ref` into the shared table.
fn resolve_local(shape: &Value) -> Option<&Value> {
    match shape.get("ref").and_then(Value::as_str) {
        Some(name) => resolve(shapes().get(name)?),
        None => Some(shape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_key(key: &str, v: Value, mode: FieldValidationMode) -> Result<(), String> {
        check(output_shape(key).expect("known shape"), &v, mode)
    }

    #[test]
    fn every_reference_in_the_table_resolves() {
        fn walk(v: &Value) {
            if let Some(name) = v.get("ref").and_then(Value::as_str) {
                assert!(shapes().contains_key(name), "unresolved ref {name}");
            }
            match v {
                Value::Object(m) => m.values().for_each(walk),
                Value::Array(a) => a.iter().for_each(walk),
                _ => {}
            }
        }
        assert!(shapes().len() > 5);
        walk(&Value::Object(shapes().clone()));
    }

    #[test]
    fn present_and_strict_modes() {
        use FieldValidationMode::*;
        let key = "states:startExecution";
        assert_eq!(check_key(key, json!({}), Present), Ok(()));
        assert_eq!(
            check_key(key, json!({}), Strict),
            Err("Field 'ExecutionArn' is required".into())
        );
        assert_eq!(
            check_key(key, json!({"ExecutionArn": "a", "StartDate": 1}), Strict),
            Err("Field 'StartDate' must be a string".into())
        );
        assert_eq!(
            check_key(key, json!({"ExecutionArn": "a", "StartDate": true}), None),
            Ok(())
        );
        assert_eq!(
            check_key(
                "dynamodb:putItem",
                json!({"ConsumedCapacity": {"Table": {"CapacityUnits": "1"}}}),
                Present
            ),
            Err("Field 'CapacityUnits' must be a number".into())
        );
        assert_eq!(
            check_key("events:putEvents", json!({"unknown": 1}), Strict),
            Ok(())
        );
    }
}
