//! Evaluation helpers: the context object, variable scopes, JSONPath payloads and paths,
//! JSONata expressions and templates, and numeric state fields.

use serde_json::{Map, Value};
use stepwise_asl::eval::{Entropy, Failure, Scope, Variables};
use stepwise_asl::model::{QueryLanguage, State, StateKind};

use crate::context::{StateContext, context_object};
use crate::lang;

use super::frames::Frame;
use super::probe::Field;
use super::{Execution, Fault, FrameId};

/// The variables a frame sees: its own, then its ancestors'.
pub(super) struct Scopes<'a> {
    pub(super) frames: &'a [Option<Frame>],
    pub(super) frame: FrameId,
}

impl Variables for Scopes<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        let mut at = Some(self.frame);
        while let Some(f) = at {
            let frame = self.frames[f].as_ref()?;
            if let Some(v) = frame.vars.get(name) {
                return Some(v);
            }
            at = frame.parent.map(|(p, _)| p);
        }
        None
    }
}

impl Execution {
    pub(super) fn context(
        &self,
        f: FrameId,
        map_item: Option<(usize, &Value)>,
        token: Option<&str>,
    ) -> Value {
        let frame = self.frame(f);
        let active = frame.active.as_ref();
        let uses_context = active
            .and_then(|a| frame.machine.states.get(&a.name))
            .is_none_or(lang::state_uses_context);
        if !uses_context {
            return Value::Null;
        }
        if let Some(p) = self.probe.as_deref() {
            return p.context_for(map_item, token);
        }
        context_object(
            &self.info,
            &self.input,
            StateContext {
                name: active.map_or("", |a| a.name.as_str()),
                entered_time: active.map_or(self.now, |a| a.entered_time),
                retry_count: active
                    .filter(|a| {
                        matches!(
                            frame.machine.states.get(&a.name).map(|s| &s.kind),
                            Some(StateKind::Task(_))
                        )
                    })
                    .map(|a| a.retry_count),
                task_token: token,
                map_item,
            },
        )
    }

    /// Evaluates a JSONPath payload template with `input` as `$`.
    pub(super) fn payload(
        &mut self,
        f: FrameId,
        template: &stepwise_asl::model::Template,
        input: &Value,
        map_item: Option<(usize, &Value)>,
    ) -> Result<Value, Failure> {
        if let stepwise_asl::model::Template::Literal(v) = template {
            return Ok(v.clone());
        }
        self.with_scope(f, input, map_item, None, |scope, entropy| {
            lang::payload(template, scope, entropy)
        })
    }

    /// Runs `eval` with what frame `f`'s JSONPath expressions resolve against: `input` as `$`,
    /// the context object (with `Map.Item` or `Task.Token` when given) and the variables.
    fn with_scope<T>(
        &mut self,
        f: FrameId,
        input: &Value,
        map_item: Option<(usize, &Value)>,
        token: Option<&str>,
        eval: impl FnOnce(&Scope<'_>, &mut dyn Entropy) -> T,
    ) -> T {
        let context = self.context(f, map_item, token);
        let scopes = Scopes {
            frames: &self.frames,
            frame: f,
        };
        let scope = Scope {
            input,
            context: &context,
            variables: &scopes,
        };
        eval(&scope, &mut self.entropy)
    }

    /// Runs `eval` with frame `f`'s variables and `$states`.
    fn with_jsonata_env<T>(
        &mut self,
        f: FrameId,
        states: &Value,
        eval: impl FnOnce(&lang::JsonataEnv<'_>, &mut dyn Entropy) -> T,
    ) -> T {
        let scopes = Scopes {
            frames: &self.frames,
            frame: f,
        };
        let env = lang::JsonataEnv {
            states,
            variables: &scopes,
        };
        eval(&env, &mut self.entropy)
    }

    /// What a Task or Parallel state passes on: `Arguments` (JSONata) or `Parameters`
    /// (JSONPath) evaluated over the effective input, else the effective input itself.
    /// `token` is the `.waitForTaskToken` token, visible as `$$.Task.Token`.
    pub(super) fn state_arguments(
        &mut self,
        f: FrameId,
        state: &State,
        effective: &Value,
        token: Option<&str>,
    ) -> Result<Value, Fault> {
        if state.query_language == QueryLanguage::Jsonata {
            let Some(t) = &state.io.arguments else {
                return Ok(effective.clone());
            };
            let states = self.jsonata_states_in(f, effective, None, token);
            let args = self
                .jsonata_template(f, t, &states, "Arguments")
                .map_err(|e| self.evaluation_failed(f, e, "Arguments"))?;
            self.inspect(Field::AfterArguments, &args);
            Ok(args)
        } else {
            let params = match &state.io.parameters {
                None => effective.clone(),
                Some(p) => self
                    .with_scope(f, effective, None, token, |scope, entropy| {
                        lang::payload(p, scope, entropy)
                    })
                    .map_err(|e| self.in_state(f, e))?,
            };
            self.inspect(Field::AfterParameters, &params);
            Ok(params)
        }
    }

    /// A Task's `Credentials` (`RoleArn`, `RoleArn.$`, or JSONata), evaluated as its arguments
    /// are.
    pub(super) fn task_credentials(
        &mut self,
        f: FrameId,
        state: &State,
        template: Option<&stepwise_asl::model::Template>,
        effective: &Value,
    ) -> Result<Option<Value>, Fault> {
        self.field_template(f, state, template, effective, "Credentials")
    }

    /// A template field of `state` other than its arguments (`Credentials`, an ItemReader's
    /// `Parameters`/`Arguments`, an ItemBatcher's `BatchInput`), evaluated over the effective
    /// input in the state's query language; `field` names it in errors.
    pub(super) fn field_template(
        &mut self,
        f: FrameId,
        state: &State,
        template: Option<&stepwise_asl::model::Template>,
        effective: &Value,
        field: &str,
    ) -> Result<Option<Value>, Fault> {
        let Some(t) = template else {
            return Ok(None);
        };
        if state.query_language == QueryLanguage::Jsonata {
            let states = self.jsonata_states_in(f, effective, None, None);
            self.jsonata_template(f, t, &states, field)
                .map(Some)
                .map_err(|e| self.evaluation_failed(f, e, field))
        } else {
            self.with_scope(f, effective, None, None, |scope, entropy| {
                lang::payload(t, scope, entropy)
            })
            .map(Some)
            .map_err(|e| self.in_state(f, e))
        }
    }

    /// The `$states` object for a JSONata evaluation.
    pub(super) fn jsonata_states(
        &self,
        f: FrameId,
        input: &Value,
        result: Option<&Value>,
        error_output: Option<&Value>,
    ) -> Value {
        states_object(input, result, error_output, self.context(f, None, None))
    }

    /// `$states` whose context also has `Map.Item` (an ItemSelector) or `Task.Token`.
    pub(super) fn jsonata_states_in(
        &self,
        f: FrameId,
        input: &Value,
        map_item: Option<(usize, &Value)>,
        token: Option<&str>,
    ) -> Value {
        states_object(input, None, None, self.context(f, map_item, token))
    }

    pub(super) fn jsonata_template(
        &mut self,
        f: FrameId,
        template: &stepwise_asl::model::Template,
        states: &Value,
        field: &str,
    ) -> Result<Value, Failure> {
        if let stepwise_asl::model::Template::Literal(v) = template {
            return Ok(v.clone());
        }
        self.with_jsonata_env(f, states, |env, entropy| {
            lang::jsonata_template(template, env, entropy, field)
        })
    }

    pub(super) fn jsonata_assign(
        &mut self,
        f: FrameId,
        template: &stepwise_asl::model::Template,
        states: &Value,
    ) -> Result<Map<String, Value>, Failure> {
        match self.jsonata_template(f, template, states, "Assign")? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }

    pub(super) fn jsonata_expr(
        &mut self,
        f: FrameId,
        expr: &stepwise_asl::jsonata::JsonataExpr,
        states: &Value,
        field: &str,
    ) -> Result<Value, Failure> {
        self.with_jsonata_env(f, states, |env, entropy| {
            lang::jsonata_value(expr, env, entropy, field)
        })
    }

    pub(super) fn condition(
        &mut self,
        f: FrameId,
        condition: &stepwise_asl::model::Condition,
        input: &Value,
    ) -> Result<bool, Failure> {
        self.with_scope(f, input, None, None, |scope, _| condition.evaluate(scope))
    }

    /// `InputPath`/`OutputPath`, whose path may also start at `$$` or a variable.
    pub(super) fn io_path(
        &self,
        f: FrameId,
        path: &Option<Option<stepwise_asl::jsonpath::JsonPath>>,
        value: Value,
    ) -> Result<Value, Failure> {
        match path {
            Some(Some(p)) if p.root != stepwise_asl::jsonpath::Root::Input => {
                self.read_path(f, p, &value).ok_or_else(|| {
                    lang::runtime(format!(
                        "Invalid path '{p}' : No results for path: {}",
                        lang::bracketed(&p.segments)
                    ))
                })
            }
            _ => lang::apply_path(path, value),
        }
    }

    /// Resolves a path used by a state field (`SecondsPath`, `TimeoutSecondsPath`, …).
    pub(super) fn read_path(
        &self,
        f: FrameId,
        path: &stepwise_asl::jsonpath::JsonPath,
        effective: &Value,
    ) -> Option<Value> {
        let context;
        let root = match &path.root {
            stepwise_asl::jsonpath::Root::Input => effective,
            stepwise_asl::jsonpath::Root::Context => {
                context = self.context(f, None, None);
                &context
            }
            stepwise_asl::jsonpath::Root::Variable(name) => {
                let scopes = Scopes {
                    frames: &self.frames,
                    frame: f,
                };
                return scopes.variable(name).and_then(|v| lang::select(path, v));
            }
        };
        lang::select(path, root)
    }

    /// A numeric field (`TimeoutSeconds`, `MaxConcurrency`, …) from a literal, path or JSONata.
    pub(super) fn number_field(
        &mut self,
        f: FrameId,
        source: &stepwise_asl::model::NumberSource,
        effective: &Value,
        field: &str,
    ) -> Result<Option<Value>, Fault> {
        use stepwise_asl::model::NumberSource;
        match source {
            NumberSource::Literal(v) => Ok(Some(v.clone())),
            NumberSource::Path(p) => match self.read_path(f, p, effective) {
                Some(v) => Ok(Some(v)),
                None => Err(self.in_state(
                    f,
                    lang::runtime(format!(
                        "Invalid path '{p}' : No results for path: {}",
                        lang::bracketed(&p.segments)
                    )),
                )),
            },
            NumberSource::Jsonata(expr) => {
                let states = self.jsonata_states(f, effective, None, None);
                match self.jsonata_expr(f, expr, &states, field) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) => Err(self.evaluation_failed(f, e, field)),
                }
            }
        }
    }
}

/// The `$states` object: `input`, and `result`, `errorOutput` and `context` when there are.
fn states_object(
    input: &Value,
    result: Option<&Value>,
    error_output: Option<&Value>,
    context: Value,
) -> Value {
    let mut states = Map::new();
    states.insert("input".into(), input.clone());
    if let Some(r) = result {
        states.insert("result".into(), r.clone());
    }
    if let Some(e) = error_output {
        states.insert("errorOutput".into(), e.clone());
    }
    if !context.is_null() {
        states.insert("context".into(), context);
    }
    Value::Object(states)
}
