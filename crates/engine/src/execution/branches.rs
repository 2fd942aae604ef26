//! Parallel and Map states: starting branches and iterations as child frames, and collecting
//! their results (or failing the state when one fails).

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Map, Value};
use stepwise_asl::error_names as names;
use stepwise_asl::eval::Entropy;
use stepwise_asl::model::{QueryLanguage, State, StateKind, StateMachine};

use crate::history::EventType;
use crate::lang;

use super::children::{Child, Children, ChildrenPhase, Tolerance, Verdict};
use super::flow::Flow;
use super::frames::{Frame, Iteration, Start};
use super::probe::Field;
use super::redrive::{ChildrenPoint, RedrivePoint, Resume};
use super::{Command, Execution, Fault, FrameId, MapRunChange};
use crate::map_run::{BatcherSpec, MapRunSpec, Selection};

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
        let slots = match self.take_resume(f, n) {
            Some(point) => resumed_slots(point, |_| Start::Begin(input.clone())),
            None => (0..n)
                .map(|_| Child::Queued(Start::Begin(input.clone())))
                .collect(),
        };
        let children = Children::new(slots, 0, false, Tolerance::default(), last);
        self.active(f).spawn(children);
        let branches = parallel.branches.clone();
        self.launch(f, |slot| (branches[slot].clone(), false, silent));
        if self.active(f).children().map(Children::phase) == Some(ChildrenPhase::AllDone) {
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
        // A Map Run whose children are executions: its host runs it, items and all.
        let coordinated = self.child_executions
            && self.probe.is_none()
            && map.processor_config.mode == ProcessorMode::Distributed;
        if coordinated && map.item_reader.is_some() {
            return self.start_map_run(f, state, map, effective, None);
        }
        // A Distributed Map reading its items: its Map Run starts, then the host reads them.
        if reader_data.is_none()
            && map.item_reader.is_some()
            && map.processor_config.mode == ProcessorMode::Distributed
        {
            return self.start_reader(f, state, map, effective);
        }
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
        if coordinated {
            return self.start_map_run(f, state, map, effective, Some(items));
        }
        self.map_items(f, state, map, effective, items, None)
    }

    /// Starts a Map Run its host runs (children as executions): `MapStateStarted` (the number
    /// of items, 0 when a reader will read them), `MapRunStarted`, then one task whose input is
    /// the [`MapRunSpec`]: everything the run needs from this state, evaluated.
    fn start_map_run(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
        items: Option<Vec<Value>>,
    ) -> Flow {
        let max_concurrency = match self.max_concurrency_of(f, map, effective) {
            Ok(n) => n,
            Err(flow) => return flow,
        };
        let mut d = Map::new();
        d.insert(
            "length".into(),
            Value::from(items.as_ref().map_or(0, Vec::len)),
        );
        self.event(f, EventType::MapStateStarted, Some(d));
        let tolerated = match self.tolerance_of(f, map, effective) {
            Ok(t) => t,
            Err(flow) => return flow,
        };
        // A redrive takes up the Map Run that failed: `MapRunRedriven`, the same ARN.
        let (arn, redrives) = match self.take_resume(f, 0).and_then(|p| p.map_run) {
            Some((arn, redrives)) => {
                let mut d = Map::new();
                d.insert("mapRunArn".into(), Value::from(arn.clone()));
                d.insert("redriveCount".into(), Value::from(redrives + 1));
                self.event(f, EventType::MapRunRedriven, Some(d));
                self.out
                    .commands
                    .push(Command::MapRun(MapRunChange::Redriven { arn: arn.clone() }));
                (arn, redrives + 1)
            }
            None => (self.map_run_started(f), 0),
        };
        // What a redrive of the parent takes up, however this state ends: this Map Run.
        self.active(f).partial = Some(Box::new(ChildrenPoint {
            results: Vec::new(),
            redo: Vec::new(),
            map_run: Some((arn.clone(), redrives)),
        }));
        let reader = match &items {
            Some(_) => None,
            None => match self.reader_input(f, state, map, effective) {
                Ok(input) => Some(input),
                Err(fault) => return self.reader_failed(f, arn, fault),
            },
        };
        let batcher = match map.item_batcher.is_some() {
            true => match self.batcher_spec(f, state, map, effective) {
                Ok(b) => Some(b),
                Err(fault) => return self.reader_failed(f, arn, fault),
            },
            false => None,
        };
        let writer = match &map.result_writer {
            Some(w) => {
                let field = match state.query_language {
                    QueryLanguage::Jsonata => "Arguments",
                    QueryLanguage::JsonPath => "Parameters",
                };
                let template = map.data.writer_parameters.as_ref();
                let parameters = match self.field_template(f, state, template, effective, field) {
                    Ok(p) => p,
                    Err(fault) => return self.reader_failed(f, arn, fault),
                };
                let mut w = w.as_object().cloned().unwrap_or_default();
                w.remove("Arguments");
                w.remove("Parameters");
                if let Some(p) = parameters {
                    w.insert("Parameters".into(), p);
                }
                Some(Value::Object(w))
            }
            None => None,
        };
        let active = self.active(f);
        let cause_prefix =
            stepwise_asl::jsonata::state_cause_prefix(&active.name, active.entered_id);
        let selection = Selection {
            effective: effective.clone(),
            context: self.context(f, None, None),
            variables: self.visible_variables(f),
            cause_prefix,
        };
        self.out
            .commands
            .push(Command::MapRun(MapRunChange::Configured {
                arn: arn.clone(),
                max_concurrency: max_concurrency as u64,
                tolerated_failure_count: tolerated[0],
                tolerated_failure_percentage: tolerated[1],
                children: items
                    .as_ref()
                    .filter(|_| batcher.is_none())
                    .map(|i| i.len() as u64),
                items: batcher
                    .as_ref()
                    .map(|_| items.as_ref().map_or(0, |i| i.len() as u64)),
            }));
        let spec = MapRunSpec {
            arn: arn.clone(),
            state: state.name.clone(),
            definition: map
                .processor_definition
                .as_deref()
                .unwrap_or_default()
                .to_owned(),
            express: map.processor_config.execution_type
                == Some(stepwise_asl::model::ExecutionType::Express),
            role_arn: self.info.role_arn.clone(),
            items,
            reader,
            selection,
            batcher,
            max_concurrency: max_concurrency as u64,
            tolerated_failure_count: tolerated[0],
            tolerated_failure_percentage: tolerated[1],
            writer,
            redrive: redrives > 0,
        };
        let input = serde_json::to_value(&spec).unwrap_or(Value::Null);
        self.schedule_map_run(f, state, input, arn)
    }

    /// The variables frame `f` sees, each by the name nearest to it.
    fn visible_variables(&self, f: FrameId) -> Map<String, Value> {
        let mut out = Map::new();
        let mut at = Some(f);
        while let Some(id) = at {
            let Some(frame) = self.frames.get(id).and_then(Option::as_ref) else {
                break;
            };
            for (k, v) in &frame.vars {
                if !out.contains_key(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            at = frame.parent.map(|(p, _)| p);
        }
        out
    }

    /// The Map Run its host ran succeeded with `output` (the Map's result): `MapRunSucceeded`,
    /// `MapStateSucceeded`, then the state's output processing.
    pub(super) fn map_run_succeeded(&mut self, f: FrameId, arn: String, output: Value) -> Flow {
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        let closing = self.event(f, EventType::MapRunSucceeded, None);
        self.map_run_ended(Some(arn), "SUCCEEDED");
        self.closing_event(f, EventType::MapStateSucceeded, closing);
        self.frame_mut(f).last = closing;
        let flow = self.state_result(f, state, output);
        self.settle(f, state, flow)
    }

    /// The Map Run its host ran failed: `MapRunFailed` (with the error, unless it is the
    /// tolerated-failure threshold's), then the Map state fails with it.
    pub(super) fn map_run_failed(&mut self, f: FrameId, arn: String, fault: Fault) -> Flow {
        let flow = if fault.name() == names::EXCEED_TOLERATED_FAILURE_THRESHOLD {
            self.event(f, EventType::MapRunFailed, None);
            self.map_run_ended(Some(arn), "FAILED");
            Flow::Failed(fault)
        } else {
            self.reader_failed(f, arn, fault)
        };
        match flow {
            Flow::Failed(fault) => {
                let machine = self.frame(f).machine.clone();
                let name = self.active(f).name.clone();
                let state = Self::state(&machine, &name);
                self.state_failed(f, state, fault)
            }
            other => other,
        }
    }

    /// The items a Distributed Map's reader read: its Map goes on as with items from its input.
    pub(super) fn items_read(
        &mut self,
        f: FrameId,
        effective: Value,
        map_run_arn: String,
        items: Value,
    ) -> Flow {
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        let StateKind::Map(map) = &state.kind else {
            return Flow::Failed(lang::runtime("an item reader's state is not a Map").into());
        };
        let Value::Array(items) = items else {
            let fault = Fault {
                error: Some(names::ITEM_READER_FAILED.into()),
                cause: Some("The item reader did not give an array of items".into()),
            };
            return self.reader_failed(f, map_run_arn, fault);
        };
        self.map_items(f, state, map, &effective, items, Some(map_run_arn))
    }

    /// Starts a Distributed Map's Map Run and asks the host to read its items (its
    /// `ItemReader`'s `Parameters`/`Arguments` and `MaxItems` evaluated): `MapStateStarted`
    /// (length 0: AWS does not know the count yet) and `MapRunStarted` come first.
    fn start_reader(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Flow {
        let mut d = Map::new();
        d.insert("length".into(), Value::from(0));
        self.event(f, EventType::MapStateStarted, Some(d));
        let map_run_arn = self.map_run_started(f);
        let input = match self.reader_input(f, state, map, effective) {
            Ok(input) => input,
            Err(fault) => return self.reader_failed(f, map_run_arn.clone(), fault),
        };
        let resource = input["Resource"].as_str().unwrap_or_default().to_owned();
        self.schedule_reader(f, state, &resource, input, (effective.clone(), map_run_arn))
    }

    /// An `ItemReader` evaluated: `{"Resource", "Parameters", "ReaderConfig"}` (its
    /// `Parameters`/`Arguments` and `MaxItems(Path)` evaluated).
    fn reader_input(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Result<Value, Fault> {
        let reader = map.item_reader.as_ref().and_then(Value::as_object);
        let resource = reader
            .and_then(|r| r.get("Resource"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let field = match state.query_language {
            QueryLanguage::Jsonata => "Arguments",
            QueryLanguage::JsonPath => "Parameters",
        };
        let reader_parameters = map.data.reader_parameters.as_ref();
        let parameters = self
            .field_template(f, state, reader_parameters, effective, field)?
            .unwrap_or_else(|| Value::Object(Map::new()));
        let mut config = reader
            .and_then(|r| r.get("ReaderConfig"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        config.remove("MaxItemsPath");
        if let Some(source) = &map.data.max_items {
            if let Some(v) = self.number_field(f, source, effective, "MaxItems")? {
                config.insert("MaxItems".into(), v);
            }
        }
        let mut input = Map::new();
        input.insert("Resource".into(), Value::from(resource));
        input.insert("Parameters".into(), parameters);
        input.insert("ReaderConfig".into(), Value::Object(config));
        Ok(Value::Object(input))
    }

    /// The Map Run failed before its children started (its reader): `MapRunFailed` with the
    /// error, then the Map state fails.
    pub(super) fn reader_failed(&mut self, f: FrameId, map_run: String, fault: Fault) -> Flow {
        let mut details = Map::new();
        super::events::add_error(&mut details, &fault);
        self.event(f, EventType::MapRunFailed, Some(details));
        self.map_run_ended(Some(map_run), "FAILED");
        Flow::Failed(fault)
    }

    /// `MapRunStarted`, with the Map Run's ARN (`…:mapRun:STATE_MACHINE/LABEL:UUID`, the label
    /// the Map's `Label`, else its name); the ARN.
    fn map_run_started(&mut self, f: FrameId) -> String {
        let label = {
            let frame = self.frame(f);
            let name = &frame
                .active
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_default();
            match frame.machine.states.get(name).map(|s| &s.kind) {
                Some(StateKind::Map(m)) => m.label.clone().unwrap_or_else(|| name.clone()),
                _ => name.clone(),
            }
        };
        let prefix: Vec<&str> = self.info.execution_arn.splitn(6, ':').take(5).collect();
        let arn = format!(
            "{}:mapRun:{}/{label}:{}",
            prefix.join(":"),
            self.info.state_machine_name,
            self.entropy.uuid()
        );
        let mut d = Map::new();
        d.insert("mapRunArn".into(), Value::from(arn.clone()));
        self.event(f, EventType::MapRunStarted, Some(d));
        self.out
            .commands
            .push(Command::MapRun(MapRunChange::Started { arn: arn.clone() }));
        arn
    }

    /// A Map Run ended.
    fn map_run_ended(&mut self, arn: Option<String>, status: &'static str) {
        if let Some(arn) = arn {
            self.out
                .commands
                .push(Command::MapRun(MapRunChange::Ended { arn, status }));
        }
    }

    /// A Map's items, from its input or its reader (`started`: the Map Run its reader started),
    /// into its iterations.
    fn map_items(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
        items: Vec<Value>,
        started: Option<String>,
    ) -> Flow {
        let read = started.is_some();
        use stepwise_asl::model::ProcessorMode;
        let jsonata = state.query_language == QueryLanguage::Jsonata;
        let distributed = map.processor_config.mode == ProcessorMode::Distributed;

        // MaxConcurrency and the tolerated failures.
        let max_concurrency = match self.max_concurrency_of(f, map, effective) {
            Ok(n) => n,
            Err(flow) => return flow,
        };
        if let Some(p) = self.probe.as_deref_mut() {
            p.data.max_concurrency = Some(max_concurrency as u64);
        }
        if !read {
            let mut d = Map::new();
            d.insert("length".into(), Value::from(items.len()));
            self.event(f, EventType::MapStateStarted, Some(d));
        }

        let tolerated = match self.tolerance_of(f, map, effective) {
            Ok(t) => t,
            Err(flow) => return flow,
        };
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

        // A Distributed Map's ItemBatcher: each child gets a batch of the selected items.
        let batched_items =
            (distributed && map.item_batcher.is_some()).then_some(inputs.len() as u64);
        if distributed && map.item_batcher.is_some() {
            inputs = match self.batched(f, state, map, effective, inputs) {
                Ok(batches) => batches,
                Err(fault) => return Flow::Failed(fault),
            };
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
        let map_run = match started {
            Some(arn) => Some(arn),
            None if distributed => Some(self.map_run_started(f)),
            None => None,
        };
        let total = inputs.len();
        let last = self.frame(f).last;
        // A redrive runs only the iterations that did not succeed, from where they stopped.
        let slots = match self.take_resume(f, total) {
            Some(point) => {
                let mut inputs: Vec<Option<Start>> =
                    inputs.into_iter().map(|(_, start)| Some(start)).collect();
                resumed_slots(point, |slot| {
                    inputs[slot].take().unwrap_or(Start::Begin(Value::Null))
                })
            }
            None => inputs
                .into_iter()
                .map(|(_, start)| Child::Queued(start))
                .collect(),
        };
        let tolerance = Tolerance {
            count: tolerated[0],
            percentage: tolerated[1],
        };
        let mut children = Children::new(slots, max_concurrency, distributed, tolerance, last);
        if let Some(arn) = &map_run {
            self.out
                .commands
                .push(Command::MapRun(MapRunChange::Configured {
                    arn: arn.clone(),
                    max_concurrency: max_concurrency as u64,
                    tolerated_failure_count: tolerated[0],
                    tolerated_failure_percentage: tolerated[1],
                    children: Some(total as u64),
                    items: batched_items,
                }));
        }
        children.map_run = map_run;
        self.active(f).spawn(children);
        if self.active(f).children().map(Children::phase) == Some(ChildrenPhase::AllDone) {
            return self.children_done(f);
        }
        self.start_iterations(f);
        Flow::Blocked
    }

    /// A Map's `MaxConcurrency(Path)` evaluated (0: no limit); `Err` is how the state ends.
    fn max_concurrency_of(
        &mut self,
        f: FrameId,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Result<usize, Flow> {
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
                        return Err(self.fatal(f, fault));
                    }
                },
                Ok(None) => 0,
                Err(fault) if fault.is_fatal() => return Err(self.fatal(f, fault)),
                Err(fault) => return Err(Flow::Failed(fault)),
            },
        };
        Ok(max_concurrency)
    }

    /// A Map's `ToleratedFailureCount(Path)` and `ToleratedFailurePercentage(Path)` evaluated;
    /// `Err` is how the state ends.
    fn tolerance_of(
        &mut self,
        f: FrameId,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Result<[Option<f64>; 2], Flow> {
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
                Err(fault) if fault.is_fatal() => return Err(self.fatal(f, fault)),
                Err(fault) => return Err(Flow::Failed(fault)),
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
                return Err(self.fatal(f, fault));
            };
            if i == 0 && number < 0.0 {
                let fault = self.in_state(
                    f,
                    lang::runtime("ToleratedFailureCount cannot be negative."),
                );
                return Err(self.fatal(f, fault));
            }
            if i == 1 && !(0.0..=100.0).contains(&number) {
                let fault = self.in_state(
                    f,
                    lang::runtime("ToleratedFailurePercentage must be between 0 and 100."),
                );
                return Err(self.fatal(f, fault));
            }
            tolerated[i] = Some(number);
        }
        Ok(tolerated)
    }

    /// The children's inputs grouped by the Map's `ItemBatcher` (`MaxItemsPerBatch(Path)`,
    /// `MaxInputBytesPerBatch(Path)`, `BatchInput` evaluated): `{"BatchInput", "Items"}` each.
    fn batched(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
        inputs: VecDeque<(usize, Start)>,
    ) -> Result<VecDeque<(usize, Start)>, Fault> {
        let spec = self.batcher_spec(f, state, map, effective)?;
        let runtime = |this: &mut Self, cause: String| this.in_state(f, lang::runtime(cause));
        let mut batcher = match spec.batcher() {
            Ok(batcher) => batcher,
            Err(cause) => return Err(runtime(self, cause)),
        };
        let mut batches = Vec::new();
        for (_, start) in inputs {
            let Start::Begin(item) = start else { continue };
            match batcher.push(item) {
                Ok(closed) => batches.extend(closed),
                Err(cause) => return Err(runtime(self, cause)),
            }
        }
        batches.extend(batcher.finish());
        Ok(batches
            .into_iter()
            .enumerate()
            .map(|(i, b)| (i, Start::Begin(b)))
            .collect())
    }

    /// A Map's `ItemBatcher` evaluated: its limits (`MaxItemsPerBatch(Path)`,
    /// `MaxInputBytesPerBatch(Path)`) and its `BatchInput`.
    fn batcher_spec(
        &mut self,
        f: FrameId,
        state: &State,
        map: &stepwise_asl::model::Map,
        effective: &Value,
    ) -> Result<BatcherSpec, Fault> {
        let mut limits = [None, None];
        for (i, (source, field)) in [
            (&map.data.max_items_per_batch, "MaxItemsPerBatch"),
            (&map.data.max_input_bytes_per_batch, "MaxInputBytesPerBatch"),
        ]
        .into_iter()
        .enumerate()
        {
            let Some(source) = source else { continue };
            let Some(v) = self.number_field(f, source, effective, field)? else {
                continue;
            };
            match integer_value(&v) {
                Some(n) => limits[i] = Some(n),
                None => {
                    return Err(self.in_state(
                        f,
                        lang::runtime(format!(
                            "The {field} field's value \"{}\" is not a valid integer",
                            plain(&v)
                        )),
                    ));
                }
            }
        }
        let batch_input = self.field_template(
            f,
            state,
            map.data.batch_input.as_ref(),
            effective,
            "BatchInput",
        )?;
        Ok(BatcherSpec {
            max_items_per_batch: limits[0],
            max_input_bytes_per_batch: limits[1],
            batch_input,
        })
    }

    /// UpdateMapRun on the Map Run `map_run_arn`, which its host runs: the new settings,
    /// recorded (`Configured`) for the host to apply.
    pub(super) fn update_map_run(
        &mut self,
        map_run_arn: &str,
        max_concurrency: Option<u64>,
        tolerated_failure_count: Option<f64>,
        tolerated_failure_percentage: Option<f64>,
    ) {
        if self.map_run_task(map_run_arn).is_none() {
            return;
        }
        self.out
            .commands
            .push(Command::MapRun(MapRunChange::Configured {
                arn: map_run_arn.to_owned(),
                max_concurrency: max_concurrency.unwrap_or_default(),
                tolerated_failure_count,
                tolerated_failure_percentage,
                children: None,
                items: None,
            }));
    }

    /// Starts as many queued iterations as MaxConcurrency allows.
    fn start_iterations(&mut self, f: FrameId) {
        let (processor, silent) = {
            let frame = self.frame(f);
            let active = frame.active.as_ref().expect("map state");
            let StateKind::Map(map) = &frame.machine.states[&active.name].kind else {
                return;
            };
            let distributed = active.children().is_some_and(Children::distributed);
            (map.processor.clone(), frame.silent || distributed)
        };
        self.launch(f, |_| (processor.clone(), true, silent));
    }

    /// Launches the children of the Parallel or Map state `f` is in that may start now, each
    /// as a frame running the machine `child(slot)` says (with whether it is a Map iteration,
    /// and whether it is silent).
    fn launch(&mut self, f: FrameId, child: impl Fn(usize) -> (Arc<StateMachine>, bool, bool)) {
        let (state, last) = (self.active(f).name.clone(), self.frame(f).last);
        loop {
            let Some((slot, start)) = self
                .active(f)
                .children_mut()
                .and_then(Children::next_to_launch)
            else {
                return;
            };
            let (machine, iteration, silent) = child(slot);
            let (vars, resume, flow) = match start {
                Start::Begin(input) => (Map::new(), None, Flow::Begin(input)),
                Start::Resume(p) => resumed(*p),
            };
            let frame = self.alloc_frame(Frame {
                machine,
                parent: Some((f, slot)),
                iteration: iteration.then(|| Iteration {
                    index: slot,
                    map_state: state.clone(),
                }),
                silent,
                vars,
                last,
                active: None,
                failed: None,
                resume,
            });
            if let Some(c) = self.active(f).children_mut() {
                c.launched(slot, frame);
            }
            self.queue.push_back((frame, flow));
        }
    }

    /// Child frame `child` of the Parallel or Map state `parent` is in ended (in `slot`), its
    /// last event `child_last` and its closing event `closing`.
    pub(super) fn child_finished(
        &mut self,
        parent: FrameId,
        child: FrameId,
        slot: usize,
        child_last: u64,
        closing: u64,
        outcome: Result<Value, (Fault, Option<Box<RedrivePoint>>)>,
    ) {
        let Some(distributed) = self
            .frames
            .get(parent)
            .and_then(Option::as_ref)
            .and_then(|p| p.active.as_ref())
            .and_then(|a| a.children())
            .map(Children::distributed)
        else {
            debug_assert!(false, "frame {child} ended outside its parent's children");
            return;
        };
        if !distributed {
            self.frame_mut(parent).last = child_last;
        }
        let c = self.active(parent).children_mut().expect("children");
        let verdict = match outcome {
            Ok(output) => c.succeeded(slot, child, output).map(|v| (v, None)),
            Err((fault, point)) => c
                .failed(slot, child, fault.error_output())
                .map(|v| (v, Some((fault, point)))),
        };
        let (verdict, failure) = match verdict {
            Ok(v) => v,
            Err(reason) => {
                // `admissible` let no event through that ends a child twice.
                debug_assert!(false, "child {slot} of frame {parent}: {reason}");
                return;
            }
        };
        if !distributed && verdict != Verdict::Failed {
            c.closing_prev = closing;
        }
        match (verdict, failure) {
            // A Map's queued iterations may start now (a Parallel has none).
            (Verdict::Continue, _) => self.start_iterations(parent),
            (Verdict::AllDone, _) => {
                let flow = self.children_done(parent);
                self.queue.push_front((parent, flow));
            }
            (Verdict::Failed, Some((fault, point))) => {
                self.children_failed(parent, slot, fault, point)
            }
            (Verdict::Failed, None) => unreachable!("only a failure fails the children"),
        }
    }

    /// A child failed beyond the tolerance: Cancelling. What a redrive keeps is taken, the
    /// siblings are aborted, and the state fails (Retry and Catch may take it).
    fn children_failed(
        &mut self,
        f: FrameId,
        slot: usize,
        fault: Fault,
        point: Option<Box<RedrivePoint>>,
    ) {
        let distributed = self.active(f).children().is_some_and(Children::distributed);
        if !distributed {
            // What a redrive keeps: taken before the siblings are aborted.
            self.keep_partial(f, slot, point);
        }
        let running = self
            .active(f)
            .children_mut()
            .map(Children::cancel)
            .unwrap_or_default();
        for r in running {
            self.abort_frame(r);
        }
        let map_run = self.active(f).children().and_then(|c| c.map_run.clone());
        self.active(f).collect();
        let fault = if distributed {
            self.event(f, EventType::MapRunFailed, None);
            self.map_run_ended(map_run, "FAILED");
            Fault {
                error: Some(names::EXCEED_TOLERATED_FAILURE_THRESHOLD.into()),
                cause: Some("The specified tolerated failure threshold was exceeded".into()),
            }
        } else {
            fault
        };
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        let flow = self.state_failed(f, state, fault);
        self.queue.push_front((f, flow));
    }

    /// Every branch or iteration succeeded (or failed within the tolerance): AllDone.
    fn children_done(&mut self, f: FrameId) -> Flow {
        let Some(c) = self.active(f).collect() else {
            return Flow::Blocked;
        };
        let machine = self.frame(f).machine.clone();
        let name = self.active(f).name.clone();
        let state = Self::state(&machine, &name);
        // AWS records MapStateSucceeded, but no ParallelStateSucceeded.
        let mut closing = c.closing_prev;
        if let StateKind::Map(_) = &state.kind {
            if c.distributed() {
                closing = self.event(f, EventType::MapRunSucceeded, None);
                self.map_run_ended(c.map_run.clone(), "SUCCEEDED");
            }
            self.closing_event(f, EventType::MapStateSucceeded, closing);
        }
        self.frame_mut(f).last = closing;
        let result = Value::Array(c.results());
        let flow = self.state_result(f, state, result);
        self.settle(f, state, flow)
    }
}

/// The children of a Parallel or Map state a redrive resumes: those that succeeded keep their
/// results, the others are queued again, from where they stopped or (`start`) from the start.
fn resumed_slots(point: ChildrenPoint, mut start: impl FnMut(usize) -> Start) -> Vec<Child> {
    let mut slots: Vec<Child> = point
        .results
        .into_iter()
        .map(|r| r.map_or(Child::Aborted, Child::Done))
        .collect();
    for (slot, p) in point.redo {
        if let Some(child) = slots.get_mut(slot) {
            *child = Child::Queued(match p {
                Some(p) => Start::Resume(p),
                None => start(slot),
            });
        }
    }
    slots
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
