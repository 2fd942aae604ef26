//! JSON bodies (the `json` and `rest-json` protocols): a Task's parameters to the wire, the
//! wire to a result.

use serde_json::{Map, Value};

use crate::model::{Model, Shape};
use crate::values::{
    b64, blob_in, member, pascal, resolve, timestamp_from_wire, timestamp_in, timestamp_out,
    timestamp_text, unb64,
};

/// `input` (a Task's parameters, PascalCase) as the JSON the service reads. Members bound
/// elsewhere (URI, query string, headers) are left out when `body_only`.
pub fn to_wire(model: &Model, shape: &Shape, input: &Value, body_only: bool) -> Value {
    match shape.kind.as_str() {
        "structure" => {
            let Some(obj) = input.as_object() else {
                return input.clone();
            };
            let mut out = Map::new();
            for (name, r) in &shape.members {
                if body_only && r.location.is_some() {
                    continue;
                }
                let Some(v) = member(obj, name) else { continue };
                let key = r.location_name.clone().unwrap_or_else(|| name.clone());
                let target = resolve(model, r);
                let v = if target.kind == "timestamp" {
                    timestamp_wire(
                        v,
                        r.timestamp_format
                            .as_deref()
                            .or(target.timestamp_format.as_deref()),
                    )
                } else {
                    to_wire(model, target, v, false)
                };
                out.insert(key, v);
            }
            Value::Object(out)
        }
        "list" => match (input, &shape.member) {
            (Value::Array(items), Some(m)) => {
                let target = resolve(model, m);
                Value::Array(
                    items
                        .iter()
                        .map(|v| to_wire(model, target, v, false))
                        .collect(),
                )
            }
            _ => input.clone(),
        },
        "map" => match (input, &shape.value) {
            (Value::Object(entries), Some(vr)) => {
                let target = resolve(model, vr);
                Value::Object(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), to_wire(model, target, v, false)))
                        .collect(),
                )
            }
            _ => input.clone(),
        },
        "timestamp" => timestamp_wire(input, shape.timestamp_format.as_deref()),
        "blob" => Value::String(b64(&blob_in(input))),
        _ => input.clone(),
    }
}

fn timestamp_wire(v: &Value, format: Option<&str>) -> Value {
    let Some(t) = timestamp_in(v) else {
        return v.clone();
    };
    match format.unwrap_or("unixTimestamp") {
        "unixTimestamp" => serde_json::Number::from_f64(t.timestamp_millis() as f64 / 1000.0)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        f => Value::String(timestamp_text(t, f)),
    }
}

/// The service's JSON answer as a Step Functions result: members in PascalCase, timestamps as
/// ISO-8601 text, blobs as text.
pub fn from_wire(model: &Model, shape: &Shape, v: &Value) -> Value {
    match shape.kind.as_str() {
        "structure" => {
            let Some(obj) = v.as_object() else {
                return v.clone();
            };
            let mut out = Map::new();
            for (name, r) in &shape.members {
                if r.location.is_some() {
                    continue;
                }
                let key = r.location_name.as_deref().unwrap_or(name);
                let Some(value) = obj.get(key).filter(|v| !v.is_null()) else {
                    continue;
                };
                out.insert(pascal(name), from_wire(model, resolve(model, r), value));
            }
            Value::Object(out)
        }
        "list" => match (v, &shape.member) {
            (Value::Array(items), Some(m)) => {
                let target = resolve(model, m);
                Value::Array(items.iter().map(|i| from_wire(model, target, i)).collect())
            }
            _ => v.clone(),
        },
        "map" => match (v, &shape.value) {
            (Value::Object(entries), Some(vr)) => {
                let target = resolve(model, vr);
                Value::Object(
                    entries
                        .iter()
                        .map(|(k, x)| (k.clone(), from_wire(model, target, x)))
                        .collect(),
                )
            }
            _ => v.clone(),
        },
        "timestamp" => timestamp_from_wire(v)
            .map(timestamp_out)
            .unwrap_or_else(|| v.clone()),
        "blob" => match v {
            Value::String(s) => unb64(s)
                .map(|b| crate::values::blob_out(&b))
                .unwrap_or_else(|| v.clone()),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}
