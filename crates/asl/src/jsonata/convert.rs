//! Converting between `serde_json::Value` and jsonata-core's `JValue`, keeping key order.

use std::rc::Rc;

use jsonata_core::value::{JArray, JMap, JValue, with_stack};
use serde_json::{Map, Number, Value};

use super::JsonataError;

/// The largest magnitude below which every integer is exactly representable as an `f64`.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

/// A JSON value as jsonata-core's value. Deep values grow the stack rather than overflow it.
pub fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::String(Rc::from(s.as_str())),
        Value::Array(items) => with_stack(|| {
            let mut flat = true;
            let items: Vec<JValue> = items
                .iter()
                .map(|item| {
                    flat &= !item.is_array();
                    to_jvalue(item)
                })
                .collect();
            JValue::Array(JArray::new_flat(items, flat))
        }),
        Value::Object(map) => with_stack(|| {
            let map: JMap = map.iter().map(|(k, v)| (k.clone(), to_jvalue(v))).collect();
            JValue::Object(Rc::new(map))
        }),
    }
}

/// A result as JSON. `Ok(None)` is undefined. A function (or regex) result has no JSON form
/// ([`JsonataError::UnsupportedResult`]); one nested in an object is left out, one nested in an
/// array becomes `null` (as `JSON.stringify` treats them). A number that is not finite fails
/// with `D1001`. Integral numbers within ±2^53 come back as JSON integers (`3.0` is `3`,
/// `-0` is `0`).
pub fn from_jvalue(value: &JValue) -> Result<Option<Value>, JsonataError> {
    match value {
        JValue::Undefined => Ok(None),
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            Err(JsonataError::UnsupportedResult)
        }
        other => nested(other).map(Some),
    }
}

fn nested(value: &JValue) -> Result<Value, JsonataError> {
    Ok(match value {
        JValue::Null
        | JValue::Undefined
        | JValue::Lambda(_)
        | JValue::Builtin { .. }
        | JValue::Regex { .. } => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n)?,
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => with_stack(|| {
            items
                .iter()
                .map(nested)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        })?,
        JValue::Object(map) => with_stack(|| {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map.iter() {
                if is_omitted_in_object(v) {
                    continue;
                }
                out.insert(k.clone(), nested(v)?);
            }
            Ok::<_, JsonataError>(Value::Object(out))
        })?,
    })
}

fn is_omitted_in_object(value: &JValue) -> bool {
    matches!(
        value,
        JValue::Undefined | JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. }
    )
}

/// A JSONata number as JSON.
pub(crate) fn number(n: f64) -> Result<Value, JsonataError> {
    if !n.is_finite() {
        return Err(JsonataError::Evaluation {
            code: Some("D1001".to_string()),
            message: "Number out of range".to_string(),
        });
    }
    if n.fract() == 0.0 && n.abs() < EXACT_INTEGER_LIMIT {
        // Exact: |n| < 2^53, and integral (so -0.0 becomes 0).
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| JsonataError::Evaluation {
            code: Some("D1001".to_string()),
            message: "Number out of range".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_keeps_key_order() {
        let v = json!({"z": 1, "a": [1, 2.5, "x", null, true, {"m": {}, "b": []}], "k": -3});
        let back = from_jvalue(&to_jvalue(&v)).unwrap().unwrap();
        assert_eq!(back, v);
        let keys: Vec<_> = back.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "k"]);
    }

    #[test]
    fn integral_floats_print_as_integers() {
        assert_eq!(number(3.0).unwrap().to_string(), "3");
        assert_eq!(number(-0.0).unwrap().to_string(), "0");
        assert_eq!(number(1.5).unwrap().to_string(), "1.5");
        assert!(number(f64::INFINITY).is_err());
        assert!(number(f64::NAN).is_err());
    }

    #[test]
    fn undefined_is_none_and_functions_are_unsupported() {
        assert_eq!(from_jvalue(&JValue::Undefined).unwrap(), None);
        assert_eq!(
            from_jvalue(&JValue::builtin("sum")),
            Err(JsonataError::UnsupportedResult)
        );
    }

    #[test]
    fn deep_values_convert_without_overflow() {
        let mut v = json!(1);
        for _ in 0..20_000 {
            v = Value::Array(vec![v]);
        }
        let j = to_jvalue(&v);
        let back = from_jvalue(&j).unwrap().unwrap();
        // Drop the deep values iteratively-ish: serde_json's drop is recursive.
        let mut cur = back;
        while let Value::Array(mut items) = cur {
            cur = items.pop().unwrap_or(Value::Null);
        }
        let mut cur = v;
        while let Value::Array(mut items) = cur {
            cur = items.pop().unwrap_or(Value::Null);
        }
    }
}
