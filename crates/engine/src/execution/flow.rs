//! Entering and leaving states: where a frame goes next ([`Flow`]), a state's output
//! processing (ResultSelector, ResultPath, OutputPath, Assign, JSONata Output), and how a
//! failure becomes a Retry, a Catch or the frame's failure.

use chrono::Duration;
use serde_json::{Map, Value};
use stepwise_asl::error_names as names;
use stepwise_asl::eval::{Entropy, Failure};
use stepwise_asl::jsonata;
use stepwise_asl::model::{QueryLanguage, State, StateKind, StateMachine, Transition};

use crate::history::{Details, EventType};
use crate::lang::{self, MAX_PAYLOAD_BYTES};

use super::events::{add_error, entered_type, exited_type};
use super::frames::Active;
use super::probe::Field;
use super::timers::TimerPurpose;
use super::{Execution, Fault, FrameId, TimerId};

/// Where a frame goes next.
#[derive(Debug)]
pub(super) enum Flow {
    /// A child frame begins (emits MapIterationStarted for iterations).
    Begin(Value),
    /// A child frame begins again at this state with this input (a redrive).
    Resume(String, Value),
    /// Enter this state with this input.
    Next(String, Value),
    /// The frame's machine ended with this output.
    End(Value),
    /// The frame failed.
    Failed(Fault),
    /// The frame waits for an event.
    Blocked,
    /// Nothing more to do here (the execution ended, or the frame was aborted).
    Halt,
}

impl Execution {
    pub(super) fn state<'m>(machine: &'m StateMachine, name: &str) -> &'m State {
        &machine.states[name]
    }

    pub(super) fn enter(&mut self, f: FrameId, name: String, raw_input: Value) -> Flow {
        let machine = self.frame(f).machine.clone();
        let Some(state) = machine.states.get(&name) else {
            return Flow::Failed(lang::runtime(format!("State '{name}' does not exist")).into());
        };
        let ty = entered_type(&state.kind);
        let details = Details::StateEntered {
            name: name.clone(),
            input: lang::to_json(&raw_input),
        };
        let entered_id = self.event_details(f, ty, Some(details));
        // TestState may say how many attempts the applicable Retrier has made already.
        let attempts = self.probe.as_deref().map_or(0, |p| p.retrier_retry_count);
        let retries = vec![attempts; state.kind.retriers().len()];
        self.frame_mut(f).active = Some(Active::new(
            name, raw_input, entered_id, self.now, retries, attempts,
        ));
        let flow = self.run_state(f, state);
        self.settle(f, state, flow)
    }

    /// Turns a state's failure into Retry, Catch or the frame's failure.
    pub(super) fn settle(&mut self, f: FrameId, state: &State, flow: Flow) -> Flow {
        match flow {
            Flow::Failed(fault) => self.state_failed(f, state, fault),
            other => other,
        }
    }

    /// Prefixes a cause with AWS's "An error occurred while executing the state …".
    pub(super) fn in_state(&mut self, f: FrameId, failure: Failure) -> Fault {
        if self.probe.is_some() {
            // TestState has no history for the prefix to point into.
            return failure.into();
        }
        let active = self.active(f);
        Fault {
            error: Some(failure.error),
            cause: Some(
                jsonata::state_cause_prefix(&active.name, active.entered_id) + &failure.cause,
            ),
        }
    }

    /// Like [`Self::in_state`], for JSONata errors, which also get an EvaluationFailed event.
    pub(super) fn evaluation_failed(
        &mut self,
        f: FrameId,
        failure: Failure,
        location: &str,
    ) -> Fault {
        let fault = self.in_state(f, failure);
        if fault.name() == names::QUERY_EVALUATION_ERROR && !self.frame(f).silent {
            let mut details = Map::new();
            add_error(&mut details, &fault);
            details.insert("location".into(), Value::from(location));
            details.insert("state".into(), Value::from(self.active(f).name.clone()));
            let id = self.record(EventType::EvaluationFailed, 0, Some(details));
            self.frame_mut(f).last = id;
        }
        fault
    }

    /// Leaves the current state with `output`, assigning its variables first.
    pub(super) fn exit(
        &mut self,
        f: FrameId,
        state: &State,
        output: Value,
        assigned: Option<Map<String, Value>>,
    ) -> Flow {
        let size = lang::to_json(&output);
        if size.len() > MAX_PAYLOAD_BYTES {
            let name = self.active(f).name.clone();
            let fault = Fault {
                error: Some(names::DATA_LIMIT_EXCEEDED.into()),
                cause: Some(format!(
                    "The state/task '{name}' returned a result with a size exceeding the maximum number of bytes service limit."
                )),
            };
            return self.fatal(f, fault);
        }
        if let Some(ty) = exited_type(&state.kind) {
            let details = Details::StateExited {
                name: state.name.clone(),
                output: size,
                assigned: assigned.as_ref().map(|vars| {
                    vars.iter()
                        .map(|(k, v)| (k.clone(), Value::from(lang::to_json(v))))
                        .collect()
                }),
            };
            self.event_details(f, ty, Some(details));
        }
        if let Some(vars) = assigned {
            self.frame_mut(f).vars.extend(vars);
        }
        self.frame_mut(f).active = None;
        match state.kind.transition() {
            Some(Transition::Next(next)) => Flow::Next(next.clone(), output),
            Some(Transition::End) | None => Flow::End(output),
        }
    }

    /// Ends the execution because of an error nothing may catch.
    pub(super) fn fatal(&mut self, f: FrameId, fault: Fault) -> Flow {
        let last = self.frame(f).last;
        self.fail_execution(last, fault);
        Flow::Halt
    }

    pub(super) fn state_failed(&mut self, f: FrameId, state: &State, fault: Fault) -> Flow {
        if fault.is_fatal() {
            return self.fatal(f, fault);
        }
        self.retry_or_catch(f, state, fault)
    }

    /// A task's failure as its integration reported it: Retry and Catch may take any error,
    /// States.DataLimitExceeded (an oversized result) included, but not States.Runtime.
    pub(super) fn task_state_failed(&mut self, f: FrameId, state: &State, fault: Fault) -> Flow {
        if fault.error.as_deref() == Some(names::RUNTIME) {
            return self.fatal(f, fault);
        }
        self.retry_or_catch(f, state, fault)
    }

    fn retry_or_catch(&mut self, f: FrameId, state: &State, fault: Fault) -> Flow {
        // Retry: the first retrier naming the error decides.
        let retriers = state.kind.retriers();
        if let Some(i) = retriers
            .iter()
            .position(|r| matches_error(&r.error_equals, fault.name()))
        {
            let r = &retriers[i];
            if let Some(p) = self.probe.as_deref_mut() {
                p.data.retry_index = Some(i);
            }
            let active = self.active(f);
            let attempt = active.retries[i];
            if u64::from(attempt) < r.max_attempts {
                // A retry runs the whole state again: what a redrive would keep is void.
                active.partial = None;
                active.retries[i] += 1;
                active.retry_count += 1;
                let mut delay = r.interval_seconds as f64 * r.backoff_rate.powi(attempt as i32);
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max as f64);
                }
                if let Some(p) = self.probe.as_deref_mut() {
                    // TestState stops here and says the state would be retried.
                    p.retriable = true;
                    p.data.retry_backoff_seconds = Some(delay as u64);
                    return self.fatal(f, fault);
                }
                if r.jitter == stepwise_asl::model::JitterStrategy::Full {
                    delay *= self.entropy.unit_f64();
                }
                let fire_at = self.now + Duration::milliseconds((delay * 1000.0) as i64);
                let timer = self.start_timer(TimerPurpose::Retry(f), fire_at);
                self.active(f).back_off(timer);
                return Flow::Blocked;
            }
        }
        match &state.kind {
            StateKind::Map(_) => {
                self.event(f, EventType::MapStateFailed, None);
            }
            StateKind::Parallel(_) => {
                self.event(f, EventType::ParallelStateFailed, None);
            }
            _ => {}
        }
        // Catch.
        let catchers = state.kind.catchers();
        if let Some(index) = catchers
            .iter()
            .position(|c| matches_error(&c.error_equals, fault.name()))
        {
            let c = &catchers[index];
            if let Some(p) = self.probe.as_deref_mut() {
                p.data.catch_index = Some(index);
                p.caught = Some(fault.clone());
            }
            let raw = self.active(f).raw_input.clone();
            let error_output = fault.error_output();
            let result = if state.query_language == QueryLanguage::Jsonata {
                let states = self.jsonata_states(f, &raw, None, Some(&error_output));
                let assigned = match &c.assign {
                    Some(t) => match self.jsonata_assign(f, t, &states) {
                        Ok(v) => Some(v),
                        Err(e) => return self.evaluation_error_after_catch(f, e),
                    },
                    None => None,
                };
                // Without Output, a JSONata catcher passes on the error output.
                let output = match &c.output {
                    Some(t) => match self.jsonata_template(f, t, &states, "Output") {
                        Ok(v) => v,
                        Err(e) => return self.evaluation_error_after_catch(f, e),
                    },
                    None => error_output.clone(),
                };
                Ok((output, assigned))
            } else {
                let assigned = match &c.assign {
                    Some(t) => match self.payload(f, t, &error_output, None) {
                        Ok(Value::Object(m)) => Some(m),
                        Ok(_) => None,
                        Err(e) => return Flow::Failed(self.in_state(f, e)),
                    },
                    None => None,
                };
                lang::apply_result_path(&c.result_path, &raw, error_output).map(|o| (o, assigned))
            };
            return match result {
                Ok((output, assigned)) => {
                    let flow = self.exit(f, state, output, assigned);
                    match flow {
                        Flow::Next(_, out) | Flow::End(out) => Flow::Next(c.next.clone(), out),
                        other => other,
                    }
                }
                Err(e) => {
                    let fault = self.in_state(f, e);
                    self.fatal(f, fault)
                }
            };
        }
        // AWS does not close a Task state of a Parallel branch that failed with no error name
        // (SendTaskFailure without `error`): the Parallel, failing, aborts it, so its history
        // has TaskFailed then TaskStateAborted.
        let frame = self.frame(f);
        if fault.error.is_none()
            && matches!(state.kind, StateKind::Task(_))
            && frame.parent.is_some()
            && frame.iteration.is_none()
            && !frame.silent
        {
            let last = frame.last;
            self.record(EventType::TaskStateAborted, last, None);
        }
        self.leave_failed(f);
        Flow::Failed(fault)
    }

    fn evaluation_error_after_catch(&mut self, f: FrameId, e: Failure) -> Flow {
        let fault = self.evaluation_failed(f, e, "Catch");
        self.leave_failed(f);
        Flow::Failed(fault)
    }

    /// The retry interval `timer` measured is over: the state runs again.
    pub(super) fn retry_now(&mut self, f: FrameId, timer: TimerId) -> Flow {
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        self.active(f).retry_due(timer);
        let flow = self.run_state(f, state);
        self.settle(f, state, flow)
    }

    /// Ends a JSONPath state: Assign (against `assign_input`), then the output.
    fn finish_jsonpath(
        &mut self,
        f: FrameId,
        state: &State,
        assign_input: &Value,
        output: Value,
    ) -> Flow {
        let assigned = match &state.assign {
            Some(t) => match self.payload(f, t, assign_input, None) {
                Ok(Value::Object(m)) => Some(m),
                Ok(_) => Some(Map::new()),
                Err(e) => return Flow::Failed(self.in_state(f, e)),
            },
            None => None,
        };
        self.exit(f, state, output, assigned)
    }

    /// Ends a JSONata state: Assign and Output, both seeing `$states.input` and `result`.
    pub(super) fn finish_jsonata(
        &mut self,
        f: FrameId,
        state: &State,
        result: Option<Value>,
    ) -> Flow {
        let raw = self.active(f).raw_input.clone();
        let states = self.jsonata_states(f, &raw, result.as_ref(), None);
        let assigned = match &state.assign {
            Some(t) => match self.jsonata_assign(f, t, &states) {
                Ok(m) => Some(m),
                Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Assign")),
            },
            None => None,
        };
        let output = match &state.io.output {
            Some(t) => match self.jsonata_template(f, t, &states, "Output") {
                Ok(v) => v,
                Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Output")),
            },
            None => result.unwrap_or(raw),
        };
        self.exit(f, state, output, assigned)
    }

    /// ResultSelector was applied already: ResultPath, OutputPath, Assign.
    pub(super) fn result_to_output(
        &mut self,
        f: FrameId,
        state: &State,
        raw: &Value,
        result: Value,
    ) -> Flow {
        self.inspect(Field::AfterResultSelector, &result);
        let assign_input = state.assign.as_ref().map(|_| result.clone());
        let merged = match lang::apply_result_path(&state.io.result_path, raw, result) {
            Ok(v) => v,
            Err(e) => return Flow::Failed(self.in_state(f, e)),
        };
        self.inspect(Field::AfterResultPath, &merged);
        let output = match self.io_path(f, &state.io.output_path, merged) {
            Ok(v) => v,
            Err(e) => return Flow::Failed(self.in_state(f, e)),
        };
        let assign_input = assign_input.unwrap_or(Value::Null);
        self.finish_jsonpath(f, state, &assign_input, output)
    }

    /// States without a result (Choice, Wait, Succeed): OutputPath over the effective input.
    pub(super) fn path_only_output(&mut self, f: FrameId, state: &State, effective: Value) -> Flow {
        let assign_input = state.assign.as_ref().map(|_| effective.clone());
        let output = match self.io_path(f, &state.io.output_path, effective) {
            Ok(v) => v,
            Err(e) => return Flow::Failed(self.in_state(f, e)),
        };
        let assign_input = assign_input.unwrap_or(Value::Null);
        self.finish_jsonpath(f, state, &assign_input, output)
    }

    /// A Task, Parallel or Map produced its result: ResultSelector, ResultPath, OutputPath.
    pub(super) fn state_result(&mut self, f: FrameId, state: &State, result: Value) -> Flow {
        self.inspect(Field::Result, &result);
        if state.query_language == QueryLanguage::Jsonata {
            return self.finish_jsonata(f, state, Some(result));
        }
        let result = match &state.io.result_selector {
            Some(t) => match self.payload(f, t, &result, None) {
                Ok(v) => v,
                Err(e) => return Flow::Failed(self.in_state(f, e)),
            },
            None => result,
        };
        let raw = self.active(f).raw_input.clone();
        self.result_to_output(f, state, &raw, result)
    }
}

fn matches_error(error_equals: &[String], name: &str) -> bool {
    error_equals.iter().any(|e| {
        e == name
            // AWS records a missed heartbeat as States.Timeout, yet documents
            // States.HeartbeatTimeout for Retry and Catch: let that name match it. (It also
            // matches a TimeoutSeconds timeout, which AWS would not.)
            || (e == names::HEARTBEAT_TIMEOUT && name == names::TIMEOUT)
            || (e == names::ALL && names::caught_by_states_all(name))
            || (e == names::TASK_FAILED
                && name != names::TIMEOUT
                && names::caught_by_states_all(name))
    })
}
