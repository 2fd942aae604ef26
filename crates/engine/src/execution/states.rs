//! Running a state, and the states that need no task or children: Pass, Succeed, Fail,
//! Choice and Wait.

use chrono::{Duration, Utc};
use serde_json::Value;
use stepwise_asl::error_names as names;
use stepwise_asl::eval::Failure;
use stepwise_asl::model::{QueryLanguage, State, StateKind};

use crate::lang;

use super::flow::Flow;
use super::probe::Field;
use super::timers::TimerPurpose;
use super::{Execution, Fault, FrameId, TimerId};

impl Execution {
    /// Runs the current state from its start (or again, for a retry).
    pub(super) fn run_state(&mut self, f: FrameId, state: &State) -> Flow {
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let input = if keeps_raw(state) {
            self.active(f).raw_input.clone()
        } else {
            std::mem::take(&mut self.active(f).raw_input)
        };
        // A Pass state's ResultPath merges its result into the raw input.
        let pass_raw = (matches!(state.kind, StateKind::Pass(_)) && state.io.result_path.is_some())
            .then(|| input.clone());
        let effective = if jsonata {
            input
        } else {
            match self.io_path(f, &state.io.input_path, input) {
                Ok(v) => v,
                Err(e) => return Flow::Failed(self.in_state(f, e)),
            }
        };
        if !jsonata {
            self.inspect(Field::AfterInputPath, &effective);
        }
        match &state.kind {
            StateKind::Pass(pass) => {
                if jsonata {
                    return self.finish_jsonata(f, state, None);
                }
                // `Result` wins over `Parameters` (AWS does not evaluate them then).
                let result = if let Some(r) = &pass.result {
                    self.inspect(Field::Result, r);
                    r.clone()
                } else if let Some(p) = &state.io.parameters {
                    match self.payload(f, p, &effective, None) {
                        Ok(v) => v,
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    }
                } else {
                    effective
                };
                if pass.result.is_none() {
                    self.inspect(Field::AfterParameters, &result);
                }
                let raw = pass_raw.unwrap_or(Value::Null);
                self.result_to_output(f, state, &raw, result)
            }
            StateKind::Succeed => {
                if jsonata {
                    return self.finish_jsonata(f, state, None);
                }
                self.path_only_output(f, state, effective)
            }
            StateKind::Fail(fail) => self.run_fail(f, fail, &effective),
            StateKind::Choice(choice) => self.run_choice(f, state, choice, &effective),
            StateKind::Wait(wait) => self.run_wait(f, wait, &effective),
            StateKind::Task(task) => self.run_task(f, state, task, &effective),
            StateKind::Parallel(parallel) => self.run_parallel(f, state, parallel, &effective),
            StateKind::Map(map) => self.run_map(f, state, map, &effective),
        }
    }

    fn run_fail(
        &mut self,
        f: FrameId,
        fail: &stepwise_asl::model::Fail,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::{FailField, PathExpr};
        let mut fields = [None, None];
        for (i, (field, name)) in [(&fail.error, "Error"), (&fail.cause, "Cause")]
            .into_iter()
            .enumerate()
        {
            let value = match field {
                None => None,
                Some(FailField::Literal(s)) => Some(s.clone()),
                Some(FailField::Path(PathExpr::Path(p))) => match self.read_path(f, p, effective) {
                    Some(Value::String(s)) => Some(s),
                    Some(other) => Some(lang::to_json(&other)),
                    None => {
                        let e = lang::runtime(format!(
                            "The JSONPath '{p}' specified for the field '{name}Path' could not be found in the input '{}'",
                            lang::to_json(effective)
                        ));
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                },
                Some(FailField::Path(PathExpr::Intrinsic(call))) => {
                    let t = stepwise_asl::model::Template::Intrinsic(call.clone());
                    match self.payload(f, &t, effective, None) {
                        Ok(Value::String(s)) => Some(s),
                        Ok(other) => Some(lang::to_json(&other)),
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    }
                }
                Some(FailField::Jsonata(expr)) => {
                    let states = self.jsonata_states(f, effective, None, None);
                    match self.jsonata_expr(f, expr, &states, name) {
                        Ok(Value::String(s)) => Some(s),
                        Ok(other) => Some(lang::to_json(&other)),
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, name)),
                    }
                }
            };
            fields[i] = value;
        }
        let [error, cause] = fields;
        Flow::Failed(Fault { error, cause })
    }

    fn run_choice(
        &mut self,
        f: FrameId,
        state: &State,
        choice: &stepwise_asl::model::Choice,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::Condition;
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let states = jsonata.then(|| self.jsonata_states(f, effective, None, None));
        let mut chosen = None;
        for rule in &choice.choices {
            let matched = match (&rule.condition, &states) {
                (Condition::Jsonata(t), Some(states)) => {
                    match self.jsonata_template(f, t, states, "Condition") {
                        Ok(Value::Bool(b)) => b,
                        Ok(other) => {
                            let e = lang::unexpected_type(t, "Condition", "boolean", &other);
                            return Flow::Failed(self.evaluation_failed(f, e, "Condition"));
                        }
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Condition")),
                    }
                }
                (c, _) => match self.condition(f, c, effective) {
                    Ok(b) => b,
                    Err(e) => return Flow::Failed(self.in_state(f, e)),
                },
            };
            if matched {
                chosen = Some(rule);
                break;
            }
        }
        let next = match (chosen, &choice.default) {
            (Some(rule), _) => rule.next.clone(),
            (None, Some(default)) => default.clone(),
            (None, None) => {
                let failure = Failure::new(names::NO_CHOICE_MATCHED, "No Matches!");
                let fault = self.in_state(f, failure);
                return Flow::Failed(fault);
            }
        };
        let flow = if let Some(states) = &states {
            let assign = chosen
                .and_then(|r| r.assign.as_ref())
                .or(state.assign.as_ref());
            let assigned = match assign {
                Some(t) => match self.jsonata_assign(f, t, states) {
                    Ok(m) => Some(m),
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Assign")),
                },
                None => None,
            };
            let output_t = chosen
                .and_then(|r| r.output.as_ref())
                .or(state.io.output.as_ref());
            let output = match output_t {
                Some(t) => match self.jsonata_template(f, t, states, "Output") {
                    Ok(v) => v,
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Output")),
                },
                None => effective.clone(),
            };
            self.exit(f, state, output, assigned)
        } else {
            self.path_only_output(f, state, effective.clone())
        };
        match flow {
            Flow::Next(_, out) | Flow::End(out) => Flow::Next(next, out),
            other => other,
        }
    }

    fn run_wait(
        &mut self,
        f: FrameId,
        wait: &stepwise_asl::model::Wait,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::{NumberSource, TimestampSource, WaitDuration};
        let fire_at = match &wait.duration {
            WaitDuration::Seconds(NumberSource::Literal(v)) => {
                self.now + Duration::seconds(v.as_i64().unwrap_or(0))
            }
            WaitDuration::Seconds(NumberSource::Path(p)) => {
                let value = self.read_path(f, p, effective);
                match seconds_from_path(p, value.as_ref()) {
                    Ok(s) => self.now + Duration::seconds(s),
                    Err(cause) => {
                        let fault = self.in_state(f, lang::runtime(cause));
                        return self.fatal(f, fault);
                    }
                }
            }
            WaitDuration::Seconds(NumberSource::Jsonata(expr)) => {
                let states = self.jsonata_states(f, effective, None, None);
                match self.jsonata_expr(f, expr, &states, "Seconds") {
                    Ok(v) => match v.as_i64().filter(|s| *s >= 0) {
                        Some(s) => self.now + Duration::seconds(s),
                        None => {
                            let e = lang::unexpected_type_of(expr, "Seconds", "integer", &v);
                            return Flow::Failed(self.evaluation_failed(f, e, "Seconds"));
                        }
                    },
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Seconds")),
                }
            }
            WaitDuration::Timestamp(TimestampSource::Literal(s)) => {
                match stepwise_asl::timestamp::parse_rfc3339(s) {
                    Some(t) => t.with_timezone(&Utc),
                    None => self.now,
                }
            }
            WaitDuration::Timestamp(TimestampSource::Path(p)) => {
                let value = self.read_path(f, p, effective);
                match value
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(stepwise_asl::timestamp::parse_rfc3339)
                {
                    Some(t) => t.with_timezone(&Utc),
                    None => {
                        let e = match &value {
                            None => lang::runtime(format!(
                                "The TimestampPath parameter does not reference an input value: {p}"
                            )),
                            Some(v) => lang::runtime(format!(
                                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| lang::to_json(v))
                            )),
                        };
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                }
            }
            WaitDuration::Timestamp(TimestampSource::Jsonata(expr)) => {
                let states = self.jsonata_states(f, effective, None, None);
                match self.jsonata_expr(f, expr, &states, "Timestamp") {
                    Ok(v) => match v.as_str().and_then(stepwise_asl::timestamp::parse_rfc3339) {
                        Some(t) => t.with_timezone(&Utc),
                        None => {
                            let e = lang::query_error(format!(
                                "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                                v.as_str()
                                    .map(str::to_owned)
                                    .unwrap_or_else(|| lang::to_json(&v))
                            ));
                            return Flow::Failed(self.evaluation_failed(f, e, "Timestamp"));
                        }
                    },
                    Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Timestamp")),
                }
            }
        };
        self.active(f).effective = effective.clone();
        let timer = self.start_timer(TimerPurpose::Wait(f), fire_at.max(self.now));
        self.active(f).sleep(timer);
        Flow::Blocked
    }

    /// The Wait state's `timer` fired: the state leaves.
    pub(super) fn wait_done(&mut self, f: FrameId, timer: TimerId) -> Flow {
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).woke(timer);
        let effective = self.active(f).effective.clone();
        let flow = if state.query_language == QueryLanguage::Jsonata {
            self.finish_jsonata(f, state, None)
        } else {
            self.path_only_output(f, state, effective)
        };
        self.settle(f, state, flow)
    }
}

/// Whether a state keeps its raw input while it runs. Task, Parallel and Map may retry or catch,
/// JSONata states read `$states.input` when they finish, and a redrive re-enters a Wait or Fail
/// state with it: they keep it. The others (JSONPath Pass, Succeed, Choice) finish within the
/// step that entered them, so their input moves (a redrive finds it in that step's history).
pub(super) fn keeps_raw(state: &State) -> bool {
    state.query_language == QueryLanguage::Jsonata
        || matches!(
            state.kind,
            StateKind::Task(_)
                | StateKind::Parallel(_)
                | StateKind::Map(_)
                | StateKind::Wait(_)
                | StateKind::Fail(_)
        )
}

/// `SecondsPath`'s value as whole seconds, or the cause of the execution's failure.
fn seconds_from_path(
    path: &stepwise_asl::jsonpath::JsonPath,
    value: Option<&Value>,
) -> Result<i64, String> {
    // AWS's recorded text for a path that selects nothing. (A value that is not a number gets
    // it too: no recording says what AWS answers for one.)
    let Some(Value::Number(n)) = value else {
        return Err(format!(
            "The SecondsPath parameter does not reference an input value: {path}"
        ));
    };
    match n.as_i64() {
        Some(s) if s >= 0 => Ok(s),
        // Not in the recordings: the wording of LocalStack's implementation, whose two sibling
        // texts here match AWS's recordings word for word.
        Some(_) => Err(format!(
            "The SecondsPath parameter references a negative value: {path} == {n}"
        )),
        // AWS's recorded text (`$.input.waitSeconds == -1.5`).
        None => Err(format!(
            "The SecondsPath parameter cannot be parsed as a long value: {path} == {n}"
        )),
    }
}
