//! The Map Run coordinator: runs a Distributed Map's Map Run for the durable driver, whose
//! children are executions.
//!
//! The engine asks for a Map Run as one task of the parent (`TaskKind::MapRun`, its input a
//! [`MapRunSpec`]); the dispatcher hands that task here. The coordinator streams the items (from
//! the spec, or from the `ItemReader` through `stepwise-items`), builds each child's input with
//! the engine's own `ItemSelector` evaluation ([`ItemInputs`]) and `ItemBatcher`, starts children
//! while fewer than `MaxConcurrency` run, counts how they end, applies the tolerated failures,
//! and answers the parent's task with the children's outputs in item order (or the run's error).
//!
//! It keeps nothing the store does not: child `i` is named after the Map Run and `i`, and
//! carries `i` (`map_run_index`); children are started one at a time, each committed before the
//! next, so the children in the store are always items `0..n`. After a restart (the task row is
//! dispatched again) the coordinator reads its children back, takes up the running ones, and
//! resumes the items at `n`: no item that had a child gets another, none is skipped. A child's
//! end reaches it as a note sent after the commit that ended it ([`Note::ChildEnded`]); the
//! note for a child that ended while nobody listened is not needed, as the children are read
//! back after the coordinator starts listening. UpdateMapRun reaches it the same way.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use stepwise_asl::eval::SeededEntropy;
use stepwise_engine::map_run::{ItemInputs, MapRunSpec};
use stepwise_engine::{Fault, Status};
use stepwise_store::{Batch, MapRunChange, Store};
use stepwise_tasks::CallContext;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::dispatch::{ChildStart, ChildStarted, Job, MapRunChild};
use crate::driver::{RuntimeError, TaskAnswer};
use crate::shared::Shared;

/// What reaches a running coordinator.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Note {
    /// A child ended (committed), with its status.
    ChildEnded { arn: String, status: String },
    /// UpdateMapRun (committed): the run's settings now.
    Update {
        max_concurrency: u64,
        tolerated_failure_count: Option<f64>,
        tolerated_failure_percentage: Option<f64>,
    },
}

/// How many children are read back from the store at a time.
const PAGE: usize = 1000;

/// The error and cause of a Map Run that failed beyond its tolerance.
const EXCEEDED: &str = stepwise_asl::error_names::EXCEED_TOLERATED_FAILURE_THRESHOLD;
const EXCEEDED_CAUSE: &str = "The specified tolerated failure threshold was exceeded";

/// Runs the Map Run of `job` (a `TaskKind::MapRun` task) to its end and answers its task; a
/// cancelled task (the parent stopped, or its state ended) stops the running children.
pub(crate) async fn run(
    shared: Arc<Shared>,
    store: Arc<dyn Store>,
    work: crate::cluster::Router,
    job: Job,
) {
    let cancelled = shared.watch_poll(&job.token);
    let answer = match serde_json::from_value::<MapRunSpec>(job.call.parameters.clone()) {
        Ok(spec) => {
            let notes = shared.listen_map_run(&spec.arn);
            let mut run = Coordinator {
                shared: &shared,
                store: &*store,
                work: &work,
                spec: &spec,
                running: HashSet::new(),
                early: HashMap::new(),
                counts: Counts::default(),
                settings: Settings {
                    max_concurrency: spec.max_concurrency,
                    count: spec.tolerated_failure_count,
                    percentage: spec.tolerated_failure_percentage,
                },
                next: 0,
                total: None,
            };
            let answer = run.run(&job, notes, cancelled).await;
            shared.forget_map_run(&spec.arn);
            answer
        }
        Err(e) => Some(failed(
            "States.Runtime",
            format!("the Map Run's task does not decode: {e}"),
        )),
    };
    shared.forget_poll(&job.token);
    if let Some(answer) = answer {
        crate::dispatch::deliver(&work, &job, answer).await;
    }
}

fn failed(error: &str, cause: impl Into<String>) -> TaskAnswer {
    TaskAnswer::Failed {
        error: Some(error.to_owned()),
        cause: Some(cause.into()),
    }
}

/// Children by how they ended.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    succeeded: u64,
    /// Failed, timed out or aborted: what the tolerance counts.
    failed: u64,
}

impl Counts {
    fn add(&mut self, status: &str) {
        if status == Status::Succeeded.as_str() {
            self.succeeded += 1;
        } else if status != Status::Running.as_str() {
            self.failed += 1;
        }
    }
}

/// A run's MaxConcurrency (0: no limit) and tolerated failures, as last set.
#[derive(Debug, Clone, Copy)]
struct Settings {
    max_concurrency: u64,
    count: Option<f64>,
    percentage: Option<f64>,
}

/// An ItemReader's error as the run's fault.
fn fault_of(e: stepwise_items::ItemsError) -> Fault {
    Fault {
        error: Some(e.error.to_owned()),
        cause: Some(e.cause),
    }
}

/// A Map Run's children in item order, a page at a time.
struct ChildPages<'a> {
    store: &'a dyn Store,
    arn: &'a str,
    from: u64,
    done: bool,
}

impl ChildPages<'_> {
    /// The next page; `None` after the last.
    async fn next_page(
        &mut self,
    ) -> Option<Result<Vec<stepwise_store::ExecutionRecord>, stepwise_store::StoreError>> {
        if self.done {
            return None;
        }
        let page = match self.store.map_run_children(self.arn, self.from, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.done = page.len() < PAGE;
        if let Some(last) = page.last() {
            self.from = last.map_run_index.unwrap_or(self.from) + 1;
        }
        Some(Ok(page))
    }
}

/// Where the items come from.
enum Source {
    Inline(std::collections::VecDeque<Value>),
    Reader(Box<stepwise_items::Items>),
}

impl Source {
    async fn next(&mut self) -> Result<Option<Value>, Fault> {
        match self {
            Source::Inline(items) => Ok(items.pop_front()),
            Source::Reader(items) => items.next().await.map_err(fault_of),
        }
    }
}

struct Coordinator<'a> {
    shared: &'a Shared,
    store: &'a dyn Store,
    work: &'a crate::cluster::Router,
    spec: &'a MapRunSpec,
    /// The children that run now.
    running: HashSet<String>,
    /// Children whose end was heard before their start was answered.
    early: HashMap<String, String>,
    counts: Counts,
    settings: Settings,
    /// The next child's index (children `0..next` exist).
    next: u64,
    /// How many children there are, once every item is read.
    total: Option<u64>,
}

impl<'a> Coordinator<'a> {
    /// The run; `None` when it was cancelled (nobody waits for an answer).
    async fn run(
        &mut self,
        job: &Job,
        mut notes: UnboundedReceiver<Note>,
        mut cancelled: tokio::sync::oneshot::Receiver<()>,
    ) -> Option<TaskAnswer> {
        let store_failed = |e: stepwise_store::StoreError| failed("States.Runtime", e.to_string());
        // The settings as last recorded (UpdateMapRun may have changed them).
        match self.store.get_map_run(&self.spec.arn).await {
            Ok(Some(r)) => {
                self.settings = Settings {
                    max_concurrency: r.max_concurrency,
                    count: r.tolerated_failure_count,
                    percentage: r.tolerated_failure_percentage,
                }
            }
            Ok(None) => {}
            Err(e) => return Some(store_failed(e)),
        }
        let unsuccessful = match self.read_back().await {
            Ok(u) => u,
            Err(e) => return Some(store_failed(e)),
        };
        // A redriven Map Run redrives its Standard children that did not succeed (Express
        // children keep their end).
        for arn in unsuccessful {
            let redrive = crate::cluster::Request::Redrive { arn: arn.clone() };
            match self.work.call(redrive).await {
                Ok(_) => {
                    self.running.insert(arn);
                }
                Err(RuntimeError::ShuttingDown) => return None,
                Err(e) => {
                    tracing::warn!(child = %arn, error = %e, "a Map Run's child was not redriven");
                    self.counts.failed += 1;
                }
            }
        }
        let parent = match self.store.get_execution(&job.execution).await {
            Ok(Some(p)) => p,
            Ok(None) => return Some(failed("States.Runtime", "the Map Run's parent is gone")),
            Err(e) => return Some(store_failed(e)),
        };
        let machine = match self
            .shared
            .machine(self.store, &parent.definition_hash)
            .await
        {
            Ok(m) => m,
            Err(e) => return Some(failed("States.Runtime", e.to_string())),
        };
        let Some(inputs) = ItemInputs::new(&machine, self.spec) else {
            return Some(failed(
                "States.Runtime",
                format!("no Map state '{}' in the parent", self.spec.state),
            ));
        };
        let mut children = match self.children(job, &inputs).await {
            Ok(c) => c,
            Err(fault) => return Some(self.fail(fault).await),
        };
        let child_machine = self.child_state_machine();
        let Some(starter) = self.shared.starter() else {
            return Some(failed(
                "States.Runtime",
                "Map Runs need the Step Functions API of `stepwise serve`",
            ));
        };
        loop {
            // Start children while there is room and the failures are tolerated.
            while self.total.is_none() && self.has_room() && !self.exceeded() {
                let input = match children.next().await {
                    Ok(Some(input)) => input,
                    Ok(None) => {
                        self.total = Some(self.next);
                        let counted = MapRunChange::Counted {
                            arn: self.spec.arn.clone(),
                            children: self.next,
                            items: children.items(),
                        };
                        let batch = Batch {
                            map_runs: vec![counted],
                            ..Batch::default()
                        };
                        if let Err(e) = self.store.commit(&batch).await {
                            tracing::warn!(map_run = %self.spec.arn, error = %e,
                                "could not record the Map Run's child count");
                        }
                        break;
                    }
                    Err(fault) => return Some(self.fail(fault).await),
                };
                let index = self.next;
                let request = ChildStart {
                    state_machine_arn: child_machine.clone(),
                    name: child_name(&self.spec.arn, index),
                    input: input.to_string(),
                    parent: None,
                    wait: false,
                    map_run: Some(MapRunChild {
                        map_run_arn: self.spec.arn.clone(),
                        definition: self.spec.definition.clone(),
                        express: self.spec.express,
                        role_arn: self.spec.role_arn.clone(),
                        index: Some(index),
                    }),
                };
                let started = tokio::select! {
                    started = starter.start_child(request) => started,
                    _ = &mut cancelled => return self.abort().await,
                };
                match started {
                    Ok(ChildStarted::Started { arn, .. }) => match self.early.remove(&arn) {
                        Some(status) => self.counts.add(&status),
                        None => {
                            self.running.insert(arn);
                        }
                    },
                    Ok(ChildStarted::Finished(record)) => self.counts.add(&record.status),
                    Err(refused) => {
                        return Some(
                            self.fail(Fault {
                                error: Some(format!("StepFunctions.{}", refused.code)),
                                cause: Some(refused.message),
                            })
                            .await,
                        );
                    }
                }
                self.next += 1;
                // Notes that arrived meanwhile.
                while let Ok(note) = notes.try_recv() {
                    self.hear(note);
                }
            }
            if self.exceeded() {
                return Some(self.fail(exceeded()).await);
            }
            if self.total.is_some() && self.running.is_empty() {
                break;
            }
            tokio::select! {
                note = notes.recv() => match note {
                    Some(note) => self.hear(note),
                    None => return None,
                },
                _ = &mut cancelled => return self.abort().await,
            }
        }
        Some(match &self.spec.writer {
            None => match self.results().await {
                Ok(results) => TaskAnswer::Succeeded(Value::Array(results)),
                Err(e) => store_failed(e),
            },
            Some(writer) => match self.write_results(job, writer).await {
                Ok(output) => TaskAnswer::Succeeded(output),
                Err(e) => failed(e.error, e.cause),
            },
        })
    }

    /// The children's results through the Map's ResultWriter (`writer`: its `Resource`,
    /// evaluated `Parameters` and `WriterConfig`): the manifest and result files in S3, the
    /// state's output naming them; or, with no destination, the results transformed.
    async fn write_results(
        &self,
        job: &Job,
        writer: &Value,
    ) -> Result<Value, stepwise_items::ItemsError> {
        use stepwise_items::{ChildResult, ChildStatus, ResultWriter, ResultWriterSpec};
        let spec = ResultWriterSpec::parse(writer, writer.get("Parameters"))?;
        let ctx = CallContext::of_execution(&job.execution);
        let store = self.shared.integrations.result_store(&ctx);
        let mut out = ResultWriter::new(spec, store, &self.spec.arn);
        let stored =
            |e: stepwise_store::StoreError| stepwise_items::ItemsError::writer(e.to_string());
        let mut pages = self.child_pages();
        while let Some(page) = pages.next_page().await {
            for child in page.map_err(stored)? {
                let index = child.map_run_index.unwrap_or_default();
                let status = ChildStatus::parse(&child.status).unwrap_or(ChildStatus::Failed);
                let succeeded = status == ChildStatus::Succeeded;
                let result = ChildResult {
                    index,
                    execution_arn: child.arn,
                    name: child.name,
                    state_machine_arn: child.state_machine_arn,
                    status,
                    input: child.input,
                    output: child.output.filter(|_| succeeded),
                    error: child.error,
                    cause: child.cause,
                    start_date: chrono::DateTime::from_timestamp_millis(child.start_ms),
                    stop_date: child
                        .stop_ms
                        .and_then(chrono::DateTime::from_timestamp_millis),
                    redrive_count: child.redrive_count,
                    redrive_status: if succeeded || self.spec.express {
                        "NOT_REDRIVABLE".into()
                    } else {
                        "REDRIVABLE".into()
                    },
                    redrive_status_reason: None,
                };
                out.add(&result).await?;
            }
        }
        Ok(match out.finish().await? {
            stepwise_items::WriterOutcome::Exported { output, .. } => output,
            stepwise_items::WriterOutcome::Inline(results) => Value::Array(results),
        })
    }

    /// Whether another child may start now.
    fn has_room(&self) -> bool {
        let max = self.settings.max_concurrency;
        max == 0 || (self.running.len() as u64) < max
    }

    /// Takes in a note.
    fn hear(&mut self, note: Note) {
        match note {
            Note::ChildEnded { arn, status } => {
                if self.running.remove(&arn) {
                    self.counts.add(&status);
                } else {
                    self.early.insert(arn, status);
                }
            }
            Note::Update {
                max_concurrency: m,
                tolerated_failure_count,
                tolerated_failure_percentage,
            } => {
                self.settings = Settings {
                    max_concurrency: m,
                    count: tolerated_failure_count,
                    percentage: tolerated_failure_percentage,
                }
            }
        }
    }

    /// Whether the failures so far are beyond the tolerance. A percentage is judged against
    /// the number of children, so only once every item is read.
    fn exceeded(&self) -> bool {
        let Settings {
            count, percentage, ..
        } = self.settings;
        let n = self.counts.failed as f64;
        if n == 0.0 {
            return false;
        }
        let within_count = count.is_some_and(|c| n <= c);
        let within_percentage = percentage.is_some_and(|p| match self.total {
            Some(total) => n * 100.0 / total.max(1) as f64 <= p,
            None => true,
        });
        !(within_count || within_percentage)
    }

    /// The children already in the store (after a restart, or a redrive): counted, the
    /// running ones taken up, the items resumed after them. A redrive's Standard children that
    /// did not succeed are not counted but answered, to be redriven.
    async fn read_back(&mut self) -> Result<Vec<String>, stepwise_store::StoreError> {
        let mut unsuccessful = Vec::new();
        let mut pages = self.child_pages();
        while let Some(page) = pages.next_page().await {
            for child in page? {
                if child.status == Status::Running.as_str() {
                    self.running.insert(child.arn);
                } else if self.spec.redrive
                    && !self.spec.express
                    && child.status != Status::Succeeded.as_str()
                {
                    unsuccessful.push(child.arn);
                } else {
                    self.counts.add(&child.status);
                }
                self.next = self.next.max(child.map_run_index.unwrap_or(0) + 1);
            }
        }
        Ok(unsuccessful)
    }

    /// The run's children in item order, a page at a time (borrowing the store and the
    /// spec, not the coordinator).
    fn child_pages(&self) -> ChildPages<'a> {
        ChildPages {
            store: self.store,
            arn: &self.spec.arn,
            from: 0,
            done: false,
        }
    }

    /// The children's inputs, from child `self.next` on.
    async fn children<'b>(
        &self,
        job: &Job,
        inputs: &'b ItemInputs<'b>,
    ) -> Result<Children<'b>, Fault> {
        let batcher = match &self.spec.batcher {
            Some(b) => Some(b.batcher().map_err(|cause| Fault {
                error: Some("States.Runtime".into()),
                cause: Some(cause),
            })?),
            None => None,
        };
        // Without batches child i is item i; with them, the batches before child `next` are
        // made again (batching is deterministic) and passed over.
        let skip = if batcher.is_some() { 0 } else { self.next };
        let source = match (&self.spec.items, &self.spec.reader) {
            (Some(items), _) => {
                let from = (skip as usize).min(items.len());
                Source::Inline(items[from..].iter().cloned().collect())
            }
            (None, Some(reader)) => {
                let resource = reader["Resource"].as_str().unwrap_or_default();
                let ctx = CallContext::of_execution(&job.execution);
                let items = self
                    .shared
                    .integrations
                    .open_items(resource, reader, &ctx, skip)
                    .await
                    .map_err(fault_of)?;
                Source::Reader(Box::new(items))
            }
            (None, None) => Source::Inline(std::collections::VecDeque::new()),
        };
        let mut children = Children {
            source,
            inputs,
            batcher,
            index: skip,
            closed: std::collections::VecDeque::new(),
            done: false,
            items: 0,
            arn: self.spec.arn.clone(),
        };
        for _ in 0..(self.next - skip) {
            if children.next().await?.is_none() {
                break;
            }
        }
        Ok(children)
    }

    /// Fails the run with `fault`: its running children are stopped first.
    async fn fail(&mut self, fault: Fault) -> TaskAnswer {
        self.stop_running().await;
        TaskAnswer::Failed {
            error: fault.error,
            cause: fault.cause,
        }
    }

    /// The parent's task was cancelled: the running children are stopped.
    async fn abort(&mut self) -> Option<TaskAnswer> {
        self.stop_running().await;
        None
    }

    async fn stop_running(&mut self) {
        for arn in std::mem::take(&mut self.running) {
            let stop = crate::cluster::Request::Stop {
                arn,
                error: None,
                cause: None,
            };
            let _ = self.work.call(stop).await;
        }
    }

    /// The children's outputs in item order: a child that did not succeed gives its error
    /// output (`{"Error", "Cause"}`), as a tolerated failure does in an inline Map.
    async fn results(&self) -> Result<Vec<Value>, stepwise_store::StoreError> {
        let mut results = Vec::new();
        let mut pages = self.child_pages();
        while let Some(page) = pages.next_page().await {
            results.extend(page?.into_iter().map(|child| {
                if child.status == Status::Succeeded.as_str() {
                    let text = child.output.as_deref().unwrap_or("null");
                    serde_json::from_str(text).unwrap_or_else(|_| Value::from(text))
                } else {
                    Fault {
                        error: child.error,
                        cause: child.cause,
                    }
                    .error_output()
                }
            }));
        }
        Ok(results)
    }

    /// The state machine ARN the children run as: `…:stateMachine:STATE_MACHINE/LABEL`.
    fn child_state_machine(&self) -> String {
        let arn = &self.spec.arn;
        match arn.split_once(":mapRun:") {
            Some((prefix, rest)) => {
                let labeled = rest.rsplit_once(':').map_or(rest, |(l, _)| l);
                format!("{prefix}:stateMachine:{labeled}")
            }
            None => arn.clone(),
        }
    }
}

fn exceeded() -> Fault {
    Fault {
        error: Some(EXCEEDED.into()),
        cause: Some(EXCEEDED_CAUSE.into()),
    }
}

/// Child `index`'s name: the same for the same Map Run and index, UUID-shaped as AWS's are.
fn child_name(map_run: &str, index: u64) -> String {
    crate::dispatch::uuid_from(&format!("{map_run}#{index}"))
}

/// A seed derived from `text`.
fn seed_of(text: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The children's inputs, in order: items selected, then batched.
struct Children<'a> {
    source: Source,
    inputs: &'a ItemInputs<'a>,
    batcher: Option<stepwise_engine::batch::Batcher>,
    /// The next item's index.
    index: u64,
    /// Batches closed and not yet given.
    closed: std::collections::VecDeque<Value>,
    done: bool,
    /// Items read (with batches: how many the children share).
    items: u64,
    arn: String,
}

impl Children<'_> {
    /// The next child's input; `None` when there are no more.
    async fn next(&mut self) -> Result<Option<Value>, Fault> {
        loop {
            if let Some(batch) = self.closed.pop_front() {
                return Ok(Some(batch));
            }
            if self.done {
                return Ok(None);
            }
            let Some(item) = self.source.next().await? else {
                self.done = true;
                if let Some(b) = self.batcher.as_mut() {
                    self.closed.extend(b.finish());
                }
                continue;
            };
            let index = self.index;
            self.index += 1;
            self.items += 1;
            // The same entropy for the same item, so that a child made again is the same.
            let seed = seed_of(&format!("{}#{index}", self.arn));
            let mut entropy = SeededEntropy::new(seed);
            let input = self.inputs.input(index as usize, item, &mut entropy)?;
            match self.batcher.as_mut() {
                None => return Ok(Some(input)),
                Some(b) => {
                    let closed = b.push(input).map_err(|cause| Fault {
                        error: Some("States.Runtime".into()),
                        cause: Some(cause),
                    })?;
                    self.closed.extend(closed);
                }
            }
        }
    }

    /// With an ItemBatcher, how many items the children share.
    fn items(&self) -> Option<u64> {
        self.batcher.as_ref().map(|_| self.items)
    }
}
