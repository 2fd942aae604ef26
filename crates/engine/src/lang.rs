//! The bridge between the engine and the language's evaluators: payload templates (JSONPath
//! `.$` keys and intrinsic calls), JSONata templates, the JSONPath data-flow fields, and AWS's
//! wording for the failures of each.

use serde_json::{Map, Value};
use stepwise_asl::error_names as names;
use stepwise_asl::eval::{Entropy, Failure, Scope, Variables};
use stepwise_asl::intrinsics;
use stepwise_asl::jsonata::{self, JsonataExpr};
use stepwise_asl::jsonpath::JsonPath;
use stepwise_asl::model::Template;

/// AWS's per-state payload limit: 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

pub fn runtime(cause: impl Into<String>) -> Failure {
    Failure::new(names::RUNTIME, cause)
}

pub fn query_error(cause: impl Into<String>) -> Failure {
    Failure::new(names::QUERY_EVALUATION_ERROR, cause)
}

/// Compact JSON text, as AWS prints values in causes and history.
pub fn to_json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The values a path selects: one value for a definite path, an array of matches otherwise.
pub fn select(path: &JsonPath, root: &Value) -> Option<Value> {
    if path.is_definite() {
        path.get(root).cloned()
    } else {
        Some(Value::Array(
            path.query(root).into_iter().cloned().collect(),
        ))
    }
}

fn select_in_scope(path: &JsonPath, scope: &Scope<'_>) -> Option<Value> {
    select(path, scope.root(path)?)
}

/// `InputPath` / `OutputPath`: `None` keeps the value, `Some(None)` (null) gives `{}`.
pub fn apply_path(path: &Option<Option<JsonPath>>, value: Value) -> Result<Value, Failure> {
    match path {
        None => Ok(value),
        Some(None) => Ok(Value::Object(Map::new())),
        Some(Some(p)) if p.segments.is_empty() && p.variable().is_none() && !p.is_context() => {
            Ok(value)
        }
        Some(Some(p)) => select(p, &value).ok_or_else(|| {
            runtime(format!(
                "Invalid path '{p}' : {}",
                jsonpath_miss_reason(p, &value)
            ))
        }),
    }
}

/// Jayway's wording for a path that selects nothing.
fn jsonpath_miss_reason(path: &JsonPath, root: &Value) -> String {
    use stepwise_asl::jsonpath::{Segment, Selector};
    let mut at = root;
    for (k, seg) in path.segments.iter().enumerate() {
        let shown = || bracketed(&path.segments[..=k]);
        let next = match seg {
            Segment::Child(Selector::Name(name)) => at.as_object().and_then(|m| m.get(name)),
            Segment::Child(Selector::Index(i)) => at
                .as_array()
                .and_then(|a| usize::try_from(*i).ok().and_then(|i| a.get(i))),
            _ => return format!("No results for path: {}", shown()),
        };
        match next {
            Some(v) => at = v,
            None if k + 1 == path.segments.len() => {
                return format!("No results for path: {}", shown());
            }
            None => return format!("Missing property in path {}", shown()),
        }
    }
    format!("No results for path: {}", bracketed(&path.segments))
}

/// Path segments as Jayway prints them: `$['a'][0]`.
pub fn bracketed(segments: &[stepwise_asl::jsonpath::Segment]) -> String {
    use stepwise_asl::jsonpath::{Segment, Selector};
    let mut s = String::from("$");
    for seg in segments {
        match seg {
            Segment::Child(Selector::Name(n)) => s.push_str(&format!("['{n}']")),
            Segment::Child(Selector::Index(i)) => s.push_str(&format!("[{i}]")),
            _ => {}
        }
    }
    s
}

/// `ResultPath`: where the result goes in the state's raw input.
pub fn apply_result_path(
    path: &Option<Option<JsonPath>>,
    raw_input: &Value,
    result: Value,
) -> Result<Value, Failure> {
    match path {
        None => Ok(result),
        Some(None) => Ok(raw_input.clone()),
        Some(Some(p)) if p.segments.is_empty() => Ok(result),
        Some(Some(p)) => {
            let mut doc = raw_input.clone();
            p.set(&mut doc, result).map_err(|_| {
                runtime(format!(
                    "Invalid path '{p}' : {}",
                    jsonpath_miss_reason(p, raw_input)
                ))
            })?;
            Ok(doc)
        }
    }
}

/// Evaluates a JSONPath payload template (`Parameters`, `ResultSelector`, `ItemSelector`,
/// `Assign` of JSONPath states) against `scope`.
pub fn payload(
    template: &Template,
    scope: &Scope<'_>,
    entropy: &mut dyn Entropy,
) -> Result<Value, Failure> {
    payload_field(template, scope, entropy, None)
}

fn payload_field(
    template: &Template,
    scope: &Scope<'_>,
    entropy: &mut dyn Entropy,
    key: Option<&str>,
) -> Result<Value, Failure> {
    match template {
        Template::Literal(v) => Ok(v.clone()),
        Template::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, sub) in fields {
                let v = payload_field(sub, scope, entropy, Some(k))?;
                out.insert(k.clone(), v);
            }
            Ok(Value::Object(out))
        }
        Template::Array(items) => items
            .iter()
            .map(|t| payload_field(t, scope, entropy, None))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Template::Path(p) => select_in_scope(p, scope).ok_or_else(|| {
            runtime(format!(
                "The JSONPath '{p}' specified for the field '{}.$' could not be found in the input '{}'",
                key.unwrap_or(""),
                to_json(scope.input)
            ))
        }),
        Template::Intrinsic(call) => intrinsics::evaluate(call, scope, entropy),
        Template::Jsonata(e) => Err(query_error(format!(
            "The JSONata expression '{}' cannot be used in a JSONPath state",
            e.source().trim()
        ))),
    }
}

/// What JSONata expressions see: `$states` and the variables.
pub struct JsonataEnv<'a> {
    pub states: &'a Value,
    pub variables: &'a dyn Variables,
}

impl std::fmt::Debug for JsonataEnv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonataEnv")
            .field("states", self.states)
            .finish_non_exhaustive()
    }
}

/// Evaluates one JSONata expression for the field `field` (AWS names fields like `Output`,
/// `Arguments/FunctionName`, `Assign/result`).
pub fn jsonata_value(
    expr: &JsonataExpr,
    env: &JsonataEnv<'_>,
    entropy: &mut dyn Entropy,
    field: &str,
) -> Result<Value, Failure> {
    match expr.evaluate(env.states, env.variables, entropy) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(query_error(jsonata::undefined_cause(expr, field))),
        Err(e) => Err(query_error(jsonata::error_cause(expr, field, &e))),
    }
}

/// Evaluates a JSONata template (a JSON value whose `{% %}` strings are expressions).
pub fn jsonata_template(
    template: &Template,
    env: &JsonataEnv<'_>,
    entropy: &mut dyn Entropy,
    field: &str,
) -> Result<Value, Failure> {
    match template {
        Template::Literal(v) => Ok(v.clone()),
        Template::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, sub) in fields {
                let v = jsonata_template(sub, env, entropy, &format!("{field}/{k}"))?;
                out.insert(k.clone(), v);
            }
            Ok(Value::Object(out))
        }
        Template::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, t)| jsonata_template(t, env, entropy, &format!("{field}/{i}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Template::Jsonata(e) => jsonata_value(e, env, entropy, field),
        Template::Path(_) | Template::Intrinsic(_) => Ok(Value::Null),
    }
}

/// A JSONata template yielded a value of the wrong type for its field
/// (`… returned an unexpected result type. Expected 'array', but was 'object' for value: {…}`).
pub fn unexpected_type(template: &Template, field: &str, expected: &str, value: &Value) -> Failure {
    match template {
        Template::Jsonata(e) => unexpected_type_of(e, field, expected, value),
        _ => query_error(format!(
            "The value specified for the field '{field}' has an unexpected type. Expected '{expected}', but was '{}' for value: {value}",
            jsonata::json_type_name(value)
        )),
    }
}

/// [`unexpected_type`] for a bare expression.
pub fn unexpected_type_of(
    expr: &JsonataExpr,
    field: &str,
    expected: &str,
    value: &Value,
) -> Failure {
    query_error(jsonata::unexpected_type_cause(expr, field, expected, value))
}

/// Whether a state reads the context object (`$$…` paths, or `$states.context` in JSONata).
/// Building the context copies the execution's input, so states that never read it skip that.
pub fn state_uses_context(state: &stepwise_asl::model::State) -> bool {
    use stepwise_asl::model::{FailField, NumberSource, PathExpr, StateKind, TimestampSource};
    let io = &state.io;
    let paths = [&io.input_path, &io.output_path, &io.result_path];
    if paths
        .iter()
        .any(|p| matches!(p, Some(Some(p)) if p.is_context()))
    {
        return true;
    }
    let templates = [
        &io.parameters,
        &io.result_selector,
        &io.arguments,
        &io.output,
        &state.assign,
    ];
    if templates
        .iter()
        .any(|t| t.as_ref().is_some_and(template_uses_context))
    {
        return true;
    }
    let number = |n: &Option<NumberSource>| match n {
        Some(NumberSource::Path(p)) => p.is_context(),
        Some(NumberSource::Jsonata(e)) => jsonata_uses_context(e),
        _ => false,
    };
    let catchers = state.kind.catchers().iter().any(|c| {
        [&c.output, &c.assign]
            .iter()
            .any(|t| t.as_ref().is_some_and(template_uses_context))
    });
    catchers
        || match &state.kind {
            StateKind::Task(t) => number(&t.timeout_seconds) || number(&t.heartbeat_seconds),
            StateKind::Choice(c) => c.choices.iter().any(|r| {
                condition_uses_context(&r.condition)
                    || [&r.assign, &r.output]
                        .iter()
                        .any(|t| t.as_ref().is_some_and(template_uses_context))
            }),
            StateKind::Wait(w) => match &w.duration {
                stepwise_asl::model::WaitDuration::Seconds(n) => number(&Some(n.clone())),
                stepwise_asl::model::WaitDuration::Timestamp(TimestampSource::Path(p)) => {
                    p.is_context()
                }
                stepwise_asl::model::WaitDuration::Timestamp(TimestampSource::Jsonata(e)) => {
                    jsonata_uses_context(e)
                }
                stepwise_asl::model::WaitDuration::Timestamp(TimestampSource::Literal(_)) => false,
            },
            StateKind::Fail(f) => [&f.error, &f.cause].iter().any(|field| match field {
                Some(FailField::Path(PathExpr::Path(p))) => p.is_context(),
                Some(FailField::Path(PathExpr::Intrinsic(c))) => call_uses_context(c),
                Some(FailField::Jsonata(e)) => jsonata_uses_context(e),
                _ => false,
            }),
            StateKind::Map(m) => {
                // ItemSelector reads `$$.Map.Item`, which is part of the context object.
                let d = &m.data;
                m.item_selector.is_some()
                    || m.items.as_ref().is_some_and(template_uses_context)
                    || matches!(&m.items_path, Some(p) if p.is_context())
                    || number(&m.max_concurrency)
                    || number(&m.tolerated_failure_count)
                    || number(&m.tolerated_failure_percentage)
                    // What a Distributed Map's ItemReader, ItemBatcher and ResultWriter evaluate.
                    || [&d.reader_parameters, &d.batch_input, &d.writer_parameters]
                        .iter()
                        .any(|t| t.as_ref().is_some_and(template_uses_context))
                    || number(&d.max_items)
                    || number(&d.max_items_per_batch)
                    || number(&d.max_input_bytes_per_batch)
            }
            _ => false,
        }
}

fn template_uses_context(t: &Template) -> bool {
    match t {
        Template::Literal(_) => false,
        Template::Object(fields) => fields.iter().any(|(_, t)| template_uses_context(t)),
        Template::Array(items) => items.iter().any(template_uses_context),
        Template::Path(p) => p.is_context(),
        Template::Intrinsic(c) => call_uses_context(c),
        Template::Jsonata(e) => jsonata_uses_context(e),
    }
}

fn call_uses_context(call: &intrinsics::IntrinsicCall) -> bool {
    call.args.iter().any(|a| match a {
        intrinsics::IntrinsicArg::Path(p) => p.is_context(),
        intrinsics::IntrinsicArg::Call(c) => call_uses_context(c),
        _ => false,
    })
}

fn condition_uses_context(c: &stepwise_asl::model::Condition) -> bool {
    use stepwise_asl::model::{Condition, Operand};
    match c {
        Condition::And(cs) | Condition::Or(cs) => cs.iter().any(condition_uses_context),
        Condition::Not(c) => condition_uses_context(c),
        Condition::Compare {
            variable, operand, ..
        } => variable.is_context() || matches!(operand, Operand::Path(p) if p.is_context()),
        Condition::Jsonata(t) => template_uses_context(t),
    }
}

/// A JSONata expression can only reach `$states.context` by naming it, or by taking `$states`
/// as a whole.
fn jsonata_uses_context(e: &JsonataExpr) -> bool {
    let src = e.source();
    src.contains("context")
        || src
            .match_indices("$states")
            .any(|(i, m)| !src[i + m.len()..].starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stepwise_asl::jsonpath;

    fn path(s: &str) -> Option<Option<JsonPath>> {
        Some(Some(jsonpath::parse(s).unwrap()))
    }

    #[test]
    fn input_and_output_paths_follow_aws() {
        let v = json!({"a": {"b": 1}});
        assert_eq!(apply_path(&None, v.clone()).unwrap(), v);
        assert_eq!(apply_path(&Some(None), v.clone()).unwrap(), json!({}));
        assert_eq!(
            apply_path(&path("$.a"), v.clone()).unwrap(),
            json!({"b": 1})
        );
        let err = apply_path(&path("$.NoSuchInputPath"), v.clone()).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause,
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        );
    }

    #[test]
    fn result_path_merges_into_the_raw_input() {
        let raw = json!({"x": 1});
        assert_eq!(
            apply_result_path(&path("$.r"), &raw, json!(2)).unwrap(),
            json!({"x": 1, "r": 2})
        );
        assert_eq!(apply_result_path(&Some(None), &raw, json!(2)).unwrap(), raw);
        assert_eq!(apply_result_path(&None, &raw, json!(2)).unwrap(), json!(2));
    }

    #[test]
    fn a_distributed_maps_batcher_and_reader_may_read_the_context() {
        let map = |reader_config: Value, batcher: Value| {
            let state = json!({
                "Type": "Map", "QueryLanguage": "JSONata", "End": true,
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": reader_config,
                    "Arguments": {"Bucket": "b", "Key": "k"}
                },
                "ItemBatcher": batcher,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}
                }
            });
            stepwise_asl::parse::parse_state(&state, Default::default()).expect("a Map state")
        };
        let json = json!({"InputType": "JSON"});
        let plain = map(json.clone(), json!({"MaxItemsPerBatch": 2}));
        assert!(!state_uses_context(&plain));
        let batch_input = json!({"BatchInput": {"At": "{% $states.context.State.EnteredTime %}"}});
        assert!(state_uses_context(&map(json.clone(), batch_input)));
        let per_batch = json!({"MaxItemsPerBatch": "{% $states.context.Execution.Input.n %}"});
        assert!(state_uses_context(&map(json, per_batch)));
        let max_items = json!({"InputType": "JSON", "MaxItems": "{% $count($states.context) %}"});
        assert!(state_uses_context(&map(
            max_items,
            json!({"MaxItemsPerBatch": 2})
        )));
    }
}
