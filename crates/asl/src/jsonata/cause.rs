//! AWS's wording for a failed JSONata evaluation (`States.QueryEvaluationError`).
//!
//! A whole cause reads, for example:
//! `An error occurred while executing the state 'State0' (entered at the event id #2). The
//! JSONata expression '$doesNotExist' specified for the field 'Output' returned nothing
//! (undefined).` — [`state_cause_prefix`] gives the first sentence, the other functions the
//! second. The field is the path to the expression inside the state (`Output`,
//! `Arguments/FunctionName`, `Assign/result`, `Items`, …).

use serde_json::Value;

use super::{JsonataError, JsonataExpr};

/// `An error occurred while executing the state '<state>' (entered at the event id #<n>). `
/// (with the trailing space), the opening of every run-time cause AWS words for a state.
pub fn state_cause_prefix(state: &str, entered_event_id: u64) -> String {
    format!(
        "An error occurred while executing the state '{state}' (entered at the event id #{entered_event_id}). "
    )
}

fn sentence(expr: &JsonataExpr, field: &str) -> String {
    format!(
        "The JSONata expression '{}' specified for the field '{field}'",
        expr.quoted_source()
    )
}

/// `The JSONata expression '<expr>' specified for the field '<field>' returned nothing
/// (undefined).` (recorded from AWS).
pub fn undefined_cause(expr: &JsonataExpr, field: &str) -> String {
    format!("{} returned nothing (undefined).", sentence(expr, field))
}

/// `… returned an unexpected result type. Expected '<expected>', but was '<type>' for value:
/// <json>` (recorded from AWS for `Items`). `expected` is a JSON type name as
/// [`json_type_name`] gives them.
pub fn unexpected_type_cause(
    expr: &JsonataExpr,
    field: &str,
    expected: &str,
    value: &Value,
) -> String {
    format!(
        "{} returned an unexpected result type. Expected '{expected}', but was '{}' for value: {value}",
        sentence(expr, field),
        json_type_name(value)
    )
}

/// `… returned an unsupported result type.` (recorded from AWS for a function result).
pub fn unsupported_result_cause(expr: &JsonataExpr, field: &str) -> String {
    format!(
        "{} returned an unsupported result type.",
        sentence(expr, field)
    )
}

/// The cause for any [`JsonataError`]. For an error JSONata raised: `… threw an error during
/// evaluation. <CODE>: <message>`, or `…: <message>` when the error has no code. (Not in the
/// recordings: this follows others' measurements of AWS, so treat the wording as likely, not
/// certain.)
pub fn error_cause(expr: &JsonataExpr, field: &str, error: &JsonataError) -> String {
    match error {
        JsonataError::UnsupportedResult => unsupported_result_cause(expr, field),
        JsonataError::Evaluation {
            code: Some(code),
            message,
        } => format!(
            "{} threw an error during evaluation. {code}: {message}",
            sentence(expr, field)
        ),
        JsonataError::Evaluation {
            code: None,
            message,
        } => format!(
            "{} threw an error during evaluation: {message}",
            sentence(expr, field)
        ),
    }
}

/// The JSON type name AWS uses in causes: `null`, `boolean`, `number`, `string`, `array`,
/// `object`.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
