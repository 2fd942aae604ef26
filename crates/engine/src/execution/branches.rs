//! Parallel and Map states: starting branches and iterations as child frames, and collecting
//! their results (or failing the state when one fails).

use std::collections::VecDeque;

use serde_json::{Map, Value};
use stepwise_asl::error_names as names;
use stepwise_asl::eval::Entropy;
use stepwise_asl::model::{QueryLanguage, State, StateKind};

use crate::history::EventType;
use crate::lang;

use super::flow::Flow;
use super::frames::{Children, Frame, Iteration, Start, Waiting};
use super::probe::Field;
use super::redrive::{RedrivePoint, Resume};
use super::{Execution, Fault, FrameId};

impl Execution {
    pub(super) fn run_parallel(
        &mut self,
        f: FrameId,
        state: &State,
        parallel: &stepwise_asl::model::Parallel,
        effective: &Value,
    ) -> Flow {
        let input = match self.state_arguments(f, state, effective, None) {
            Ok(v) => v,
            Err(fault) => return Flow::Failed(fault),
        };
        if let Some(answer) = self.mock_answer() {
            return self.mocked(f, state, answer);
        }
        self.event(f, EventType::ParallelStateStarted, None);
        let n = parallel.branches.len();
        let last = self.frame(f).last;
        let silent = self.frame(f).silent;
        // A redrive runs only the branches that did not succeed, from where they stopped.
        let (results, starts) = match self.take_resume(f, n) {
            Some(point) => (point.results, point.redo),
            None => (vec![None; n], (0..n).map(|i| (i, None)).collect()),
        };
        let remaining = starts.len();
        let mut running = VecDeque::with_capacity(remaining);
        for (i, point) in starts {
            let (vars, resume, flow) = match point {
                None => (Map::new(), None, Flow::Begin(input.clone())),
                Some(p) => resumed(*p),
            };
            let child = self.alloc_frame(Frame {
                machine: parallel.branches[i].clone(),
                parent: Some((f, i)),
                iteration: None,
                silent,
                vars,
                last,
                active: None,
                failed: None,
                resume,
            });
            running.push_back(child);
            self.queue.push_back((child, flow));
        }
        let all_done = remaining == 0;
        self.active(f).waiting = Waiting::Children(Box::new(Children {
            results,
            running,
            remaining,
            pending: VecDeque::new(),
            max_concurrency: 0,
            distributed: false,
            tolerated_failures: None,
            tolerated_percentage: None,
            failures: 0,
            total: n,
            closing_prev: last,
        }));
        if all_done {
            return self.children_done(f);
        }
        Flow::Blocked
    }

    pub(super) fn run_map(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Flow {
        use stepwise_asl::model::ProcessorMode;
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        // The items.
        let reader_data = match (&map.item_reader, self.probe.as_deref()) {
            (Some(_), Some(p)) => Some(match &p.map_item_reader_data {
                Some(Value::Array(a)) => a.clone(),
                _ => Vec::new(),
            }),
            _ => None,
        };
        let items = if let Some(items) = reader_data {
            items
        } else if jsonata {
            match &map.items {
                Some(t) => {
                    let states = self.jsonata_states(f, effective, None, None);
                    match self.jsonata_template(f, t, &states, "Items") {
                        Ok(Value::Array(a)) => a,
                        Ok(other) => {
                            let e = lang::unexpected_type(t, "Items", "array", &other);
                            return Flow::Failed(self.evaluation_failed(f, e, "Items"));
                        }
                        Err(e) => return Flow::Failed(self.evaluation_failed(f, e, "Items")),
                    }
                }
                None => match effective {
                    Value::Array(a) => a.clone(),
                    other => {
                        let e = lang::query_error(format!(
                            "Map state input must be an array but was: {}",
                            lang::to_json(other)
                        ));
                        return Flow::Failed(self.evaluation_failed(f, e, "Items"));
                    }
                },
            }
        } else {
            let selected = match &map.items_path {
                Some(p) => self.read_path(f, p, effective),
                None => Some(effective.clone()),
            };
            match selected {
                Some(Value::Array(a)) => {
                    self.inspect(Field::AfterItemsPath, &Value::Array(a.clone()));
                    a
                }
                _ => {
                    // AWS names a context path by its place in the context object: `$$.X` as `$.X`.
                    let shown = map.items_path.as_ref().map_or("$".to_owned(), |p| {
                        let text = p.to_string();
                        match p.root {
                            stepwise_asl::jsonpath::Root::Context => text[1..].to_owned(),
                            _ => text,
                        }
                    });
                    let e =
                        lang::runtime(format!("Reference path \"{shown}\" must point to array."));
                    let fault = self.in_state(f, e);
                    return self.fatal(f, fault);
                }
            }
        };
        let distributed = map.processor_config.mode == ProcessorMode::Distributed;

        // MaxConcurrency and the tolerated failures.
        let max_concurrency = match &map.max_concurrency {
            None => 0,
            Some(source) => match self.number_field(f, source, effective, "MaxConcurrency") {
                Ok(Some(v)) => match integer_value(&v).and_then(|n| u64::try_from(n).ok()) {
                    Some(n) => n as usize,
                    None => {
                        let p = path_of(source);
                        let e = lang::runtime(format!(
                            "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {p}",
                            plain(&v)
                        ));
                        let fault = self.in_state(f, e);
                        return self.fatal(f, fault);
                    }
                },
                Ok(None) => 0,
                Err(fault) if fault.is_fatal() => return self.fatal(f, fault),
                Err(fault) => return Flow::Failed(fault),
            },
        };
        if let Some(p) = self.probe.as_deref_mut() {
            p.data.max_concurrency = Some(max_concurrency as u64);
        }
        self.event(
            f,
            EventType::MapStateStarted,
            Some({
                let mut d = Map::new();
                d.insert("length".into(), Value::from(items.len()));
                d
            }),
        );

        let mut tolerated = [None, None];
        for (i, (source, field, kind)) in [
            (
                &map.tolerated_failure_count,
                "ToleratedFailureCount",
                "integer",
            ),
            (
                &map.tolerated_failure_percentage,
                "ToleratedFailurePercentage",
                "float",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(source) = source else { continue };
            let v = match self.number_field(f, source, effective, field) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(fault) if fault.is_fatal() => return self.fatal(f, fault),
                Err(fault) => return Flow::Failed(fault),
            };
            let number = if kind == "integer" {
                integer_value(&v).map(|n| n as f64)
            } else {
                float_value(&v)
            };
            let Some(number) = number else {
                let p = path_of(source);
                let e = lang::runtime(format!(
                    "The {field}Path field refers to value \"{}\" which is not a valid {kind}: {p}",
                    plain(&v)
                ));
                let fault = self.in_state(f, e);
                return self.fatal(f, fault);
            };
            if i == 0 && number < 0.0 {
                let fault = self.in_state(
                    f,
                    lang::runtime("ToleratedFailureCount cannot be negative."),
                );
                return self.fatal(f, fault);
            }
            if i == 1 && !(0.0..=100.0).contains(&number) {
                let fault = self.in_state(
                    f,
                    lang::runtime("ToleratedFailurePercentage must be between 0 and 100."),
                );
                return self.fatal(f, fault);
            }
            tolerated[i] = Some(number);
        }
        if let Some(p) = self.probe.as_deref_mut() {
            p.data.tolerated_failure_count = tolerated[0];
            p.data.tolerated_failure_percentage = tolerated[1];
        }

        // Each item's input.
        let mut inputs = VecDeque::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let input = match &map.item_selector {
                None => item.clone(),
                Some(t) if jsonata => {
                    let states = self.jsonata_states_in(f, effective, Some((index, item)), None);
                    match self.jsonata_template(f, t, &states, "ItemSelector") {
                        Ok(v) => v,
                        Err(e) => {
                            return Flow::Failed(self.evaluation_failed(f, e, "ItemSelector"));
                        }
                    }
                }
                Some(t) => match self.payload(f, t, effective, Some((index, item))) {
                    Ok(v) => v,
                    Err(e) => return Flow::Failed(self.in_state(f, e)),
                },
            };
            inputs.push_back((index, Start::Begin(input)));
        }

        if let Some(answer) = self.mock_answer() {
            let failed = self
                .probe
                .as_deref()
                .and_then(|p| p.map_iteration_failure_count);
            let exceeded = failed.is_some_and(|n| {
                let n = n as f64;
                tolerated[0].is_some_and(|c| n > c)
                    || tolerated[1].is_some_and(|p| n * 100.0 / inputs.len().max(1) as f64 > p)
            });
            if exceeded && matches!(answer, super::probe::MockAnswer::Result(_)) {
                return Flow::Failed(Fault {
                    error: Some(names::EXCEED_TOLERATED_FAILURE_THRESHOLD.into()),
                    cause: Some("The specified tolerated failure threshold was exceeded".into()),
                });
            }
            return self.mocked(f, state, answer);
        }
        if distributed {
            let label = format!(
                "{}:{}",
                self.info.execution_arn.replace(":execution:", ":mapRun:"),
                self.entropy.uuid()
            );
            let mut d = Map::new();
            d.insert("mapRunArn".into(), Value::from(label));
            self.event(f, EventType::MapRunStarted, Some(d));
        }
        let total = inputs.len();
        let last = self.frame(f).last;
        // A redrive runs only the iterations that did not succeed, from where they stopped.
        let (results, pending) = match self.take_resume(f, total) {
            Some(point) => {
                let mut redo: std::collections::HashMap<usize, Option<Box<RedrivePoint>>> =
                    point.redo.into_iter().collect();
                let pending: VecDeque<(usize, Start)> = inputs
                    .into_iter()
                    .filter_map(|(i, start)| {
                        let point = redo.remove(&i)?;
                        Some((i, point.map_or(start, Start::Resume)))
                    })
                    .collect();
                (point.results, pending)
            }
            None => (vec![None; total], inputs),
        };
        let remaining = pending.len();
        self.active(f).waiting = Waiting::Children(Box::new(Children {
            results,
            running: VecDeque::new(),
            remaining,
            pending,
            max_concurrency,
            distributed,
            tolerated_failures: tolerated[0],
            tolerated_percentage: tolerated[1],
            failures: 0,
            total,
            closing_prev: last,
        }));
        if remaining == 0 {
            return self.children_done(f);
        }
        self.start_iterations(f);
        Flow::Blocked
    }

    /// Starts as many pending iterations as MaxConcurrency allows.
    fn start_iterations(&mut self, f: FrameId) {
        let (machine, map_name, silent, last) = {
            let frame = self.frame(f);
            let active = frame.active.as_ref().expect("map state");
            let StateKind::Map(map) = &frame.machine.states[&active.name].kind else {
                return;
            };
            let distributed = matches!(
                &active.waiting,
                Waiting::Children(c) if c.distributed
            );
            (
                map.processor.clone(),
                active.name.clone(),
                frame.silent || distributed,
                frame.last,
            )
        };
        loop {
            let next = {
                let Waiting::Children(c) = &mut self.active(f).waiting else {
                    return;
                };
                if c.max_concurrency != 0 && c.running.len() >= c.max_concurrency {
                    return;
                }
                c.pending.pop_front()
            };
            let Some((index, start)) = next else { return };
            let (vars, resume, flow) = match start {
                Start::Begin(input) => (Map::new(), None, Flow::Begin(input)),
                Start::Resume(p) => resumed(*p),
            };
            let child = self.alloc_frame(Frame {
                machine: machine.clone(),
                parent: Some((f, index)),
                iteration: Some(Iteration {
                    index,
                    map_state: map_name.clone(),
                }),
                silent,
                vars,
                last,
                active: None,
                failed: None,
                resume,
            });
            if let Waiting::Children(c) = &mut self.active(f).waiting {
                c.running.push_back(child);
            }
            self.queue.push_back((child, flow));
        }
    }

    pub(super) fn child_finished(
        &mut self,
        parent: FrameId,
        child: FrameId,
        slot: usize,
        child_last: u64,
        closing: u64,
        outcome: Result<Value, (Fault, Option<Box<RedrivePoint>>)>,
    ) {
        if !self.frames.get(parent).is_some_and(Option::is_some) {
            return;
        }
        if self.frame(parent).active.is_none() {
            return;
        }
        let silent_child;
        {
            let Waiting::Children(c) = &mut self.active(parent).waiting else {
                return;
            };
            if let Some(i) = c.running.iter().position(|r| *r == child) {
                c.running.remove(i);
            }
            silent_child = c.distributed;
        }
        if !silent_child {
            self.frame_mut(parent).last = child_last;
        }
        let failed = match outcome {
            Ok(output) => {
                let Waiting::Children(c) = &mut self.active(parent).waiting else {
                    return;
                };
                c.results[slot] = Some(output);
                c.remaining -= 1;
                if !silent_child {
                    c.closing_prev = closing;
                }
                None
            }
            Err((fault, point)) => {
                let Waiting::Children(c) = &mut self.active(parent).waiting else {
                    return;
                };
                let keep = !c.distributed;
                c.failures += 1;
                c.remaining -= 1;
                let tolerated = c.distributed
                    && (c.tolerated_failures.is_some_and(|n| c.failures as f64 <= n)
                        || c.tolerated_percentage.is_some_and(|p| {
                            c.failures as f64 * 100.0 / c.total.max(1) as f64 <= p
                        }));
                if tolerated {
                    c.results[slot] = Some(fault.error_output());
                    None
                } else {
                    if keep {
                        // What a redrive keeps: taken before the siblings are aborted.
                        self.keep_partial(parent, slot, point);
                    }
                    Some(fault)
                }
            }
        };
        if let Some(fault) = failed {
            // One failure fails the state: abort the siblings.
            let (running, distributed) = {
                let Waiting::Children(c) = &mut self.active(parent).waiting else {
                    return;
                };
                c.pending.clear();
                (std::mem::take(&mut c.running), c.distributed)
            };
            for r in running {
                self.abort_frame(r);
            }
            self.active(parent).waiting = Waiting::Nothing;
            let fault = if distributed {
                self.event(parent, EventType::MapRunFailed, None);
                Fault {
                    error: Some(names::EXCEED_TOLERATED_FAILURE_THRESHOLD.into()),
                    cause: Some("The specified tolerated failure threshold was exceeded".into()),
                }
            } else {
                fault
            };
            let machine = self.frame(parent).machine.clone();
            let name = self.active(parent).name.clone();
            let state = Self::state(&machine, &name);
            let flow = self.state_failed(parent, state, fault);
            self.queue.push_front((parent, flow));
            return;
        }
        let remaining = match &self.active(parent).waiting {
            Waiting::Children(c) => c.remaining,
            _ => return,
        };
        if remaining == 0 {
            let flow = self.children_done(parent);
            self.queue.push_front((parent, flow));
        } else {
            self.start_iterations(parent);
        }
    }

    /// Every branch or iteration succeeded.
    fn children_done(&mut self, f: FrameId) -> Flow {
        let Waiting::Children(c) = std::mem::replace(&mut self.active(f).waiting, Waiting::Nothing)
        else {
            return Flow::Blocked;
        };
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        // AWS records MapStateSucceeded, but no ParallelStateSucceeded.
        let mut closing = c.closing_prev;
        if let StateKind::Map(_) = &state.kind {
            if c.distributed {
                closing = self.event(f, EventType::MapRunSucceeded, None);
            }
            self.closing_event(f, EventType::MapStateSucceeded, closing);
        }
        self.frame_mut(f).last = closing;
        let result = Value::Array(
            c.results
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect(),
        );
        let flow = self.state_result(f, state, result);
        self.settle(f, state, flow)
    }
}

/// An integer field's value: a JSON integer, or a string holding one (AWS parses both).
fn integer_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A float field's value: a JSON number, or a string holding one.
fn float_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn path_of(source: &stepwise_asl::model::NumberSource) -> String {
    match source {
        stepwise_asl::model::NumberSource::Path(p) => p.to_string(),
        _ => String::new(),
    }
}

/// A value as Java's `toString` shows it inside AWS's quotes: strings bare, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => lang::to_json(other),
    }
}

/// A branch or iteration a redrive resumes: its variables, what its Parallel or Map state (if
/// it stopped in one) resumes, and where it starts.
fn resumed(p: RedrivePoint) -> (Map<String, Value>, Option<Resume>, Flow) {
    let resume = p.children.map(|c| Box::new((p.state.clone(), *c)));
    (p.vars, resume, Flow::Resume(p.state, p.input))
}
