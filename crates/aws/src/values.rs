//! Scalars between a Task's JSON and the wire: member names, timestamps, blobs, numbers.

use base64::Engine;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::model::{Model, Shape, ShapeRef};

/// The value a Task's parameters give for `member`: Step Functions writes every member in
/// PascalCase (`StateMachineArn` for the model's `stateMachineArn`); the model's own spelling
/// is taken too.
pub fn member<'a>(input: &'a Map<String, Value>, member: &str) -> Option<&'a Value> {
    input
        .get(member)
        .or_else(|| input.get(&pascal(member)))
        .filter(|v| !v.is_null())
}

/// `name` with its first letter in upper case: how Step Functions names members in results.
pub fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A header name with each dash-separated word capitalised: `content-type` as `Content-Type`,
/// `apigw-requestid` as `Apigw-Requestid` (HTTP/1 names arrive in lower case; AWS's recorded
/// answers spell them so).
pub fn title_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The shape a reference points to. Models are closed, so a miss is a model defect, reported
/// as an empty structure rather than a panic.
pub fn resolve<'m>(model: &'m Model, r: &ShapeRef) -> &'m Shape {
    static EMPTY: std::sync::OnceLock<Shape> = std::sync::OnceLock::new();
    model.shape(&r.shape).unwrap_or_else(|| {
        EMPTY.get_or_init(|| {
            serde_json::from_value(serde_json::json!({"type": "structure"}))
                .expect("an empty structure")
        })
    })
}

/// A timestamp a Task gave: ISO-8601 text or epoch seconds.
pub fn timestamp_in(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .ok()
            .or_else(|| s.parse::<f64>().ok().and_then(from_epoch)),
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        _ => None,
    }
}

fn from_epoch(secs: f64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt((secs * 1000.0).round() as i64)
        .single()
}

/// A timestamp as Step Functions puts it in a result (as Java's `Instant` prints it:
/// `2024-05-01T12:00:00Z`, `2024-05-01T12:00:00.123Z`).
pub fn timestamp_out(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// A timestamp read from the wire in any of AWS's formats (epoch seconds, ISO-8601,
/// RFC 1123 in headers).
pub fn timestamp_from_wire(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_f64().and_then(from_epoch),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| DateTime::parse_from_rfc2822(s).map(|d| d.with_timezone(&Utc)))
            .ok()
            .or_else(|| s.parse::<f64>().ok().and_then(from_epoch)),
        _ => None,
    }
}

/// A timestamp in the wire format `format` names (`iso8601`, `unixTimestamp`, `rfc822`).
pub fn timestamp_text(t: DateTime<Utc>, format: &str) -> String {
    match format {
        "unixTimestamp" => {
            let ms = t.timestamp_millis();
            if ms % 1000 == 0 {
                (ms / 1000).to_string()
            } else {
                format!("{:.3}", ms as f64 / 1000.0)
            }
        }
        "rfc822" => t.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        _ => t.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// A blob a Task gave: text is sent as its UTF-8 bytes, anything else as its JSON text.
pub fn blob_in(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

/// A blob in a result: its text when it is UTF-8, else base64.
pub fn blob_out(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

/// A scalar's text for a query string, header or XML element.
pub fn scalar_text(shape: &Shape, r: Option<&ShapeRef>, v: &Value, default_ts: &str) -> String {
    match shape.kind.as_str() {
        "timestamp" => {
            let format = r
                .and_then(|r| r.timestamp_format.as_deref())
                .or(shape.timestamp_format.as_deref())
                .unwrap_or(default_ts);
            timestamp_in(v)
                .map(|t| timestamp_text(t, format))
                .unwrap_or_else(|| plain(v))
        }
        "blob" => b64(&blob_in(v)),
        _ => plain(v),
    }
}

/// A JSON scalar's text (strings without quotes).
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A scalar read as text from the wire (XML, headers), typed by its shape.
pub fn scalar_from_text(shape: &Shape, text: &str) -> Value {
    match shape.kind.as_str() {
        "integer" | "long" => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(text.to_owned())),
        "float" | "double" => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(text.to_owned())),
        "boolean" => Value::Bool(text.trim().eq_ignore_ascii_case("true")),
        "timestamp" => timestamp_from_wire(&Value::String(text.trim().to_owned()))
            .map(timestamp_out)
            .unwrap_or_else(|| Value::String(text.to_owned())),
        "blob" => unb64(text)
            .map(|b| blob_out(&b))
            .unwrap_or_else(|| Value::String(text.to_owned())),
        _ => Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_found_in_pascal_case_or_as_the_model_spells_them() {
        let input = json!({"StateMachineArn": "a", "input": "b", "Gone": null});
        let input = input.as_object().expect("object");
        assert_eq!(member(input, "stateMachineArn"), Some(&json!("a")));
        assert_eq!(member(input, "input"), Some(&json!("b")));
        assert_eq!(member(input, "Gone"), None);
        assert_eq!(pascal("stateMachineArn"), "StateMachineArn");
    }

    #[test]
    fn timestamps_print_as_java_instants() {
        let t = timestamp_in(&json!(1_700_000_000.5)).expect("epoch");
        assert_eq!(timestamp_out(t), json!("2023-11-14T22:13:20.500Z"));
        let t = timestamp_in(&json!("2023-11-14T22:13:20Z")).expect("iso");
        assert_eq!(timestamp_out(t), json!("2023-11-14T22:13:20Z"));
        assert_eq!(timestamp_text(t, "unixTimestamp"), "1700000000");
        assert_eq!(timestamp_text(t, "rfc822"), "Tue, 14 Nov 2023 22:13:20 GMT");
    }
}
