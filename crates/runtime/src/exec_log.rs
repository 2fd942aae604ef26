//! Execution logs, as Step Functions writes them to CloudWatch Logs: for an execution whose
//! state machine (or the version it runs) has a `loggingConfiguration` other than OFF, each
//! history event its level keeps becomes one JSON object on one line,
//!
//! ```json
//! {"id":"2","type":"TaskStateEntered","details":{"input":"{}","inputDetails":{"truncated":false},"name":"Call"},"previous_event_id":"0","event_timestamp":"1713959670680","execution_arn":"arn:aws:states:…:execution:orders:run-1","redrive_count":"0"}
//! ```
//!
//! (every value but `details` a string, as AWS writes them; `details` the event's
//! `*EventDetails` object as GetExecutionHistory has it, `{}` when the event has none), written
//! to the file `stepwise.toml`'s `[logging]` gives the configuration's log group, else stdout.
//!
//! One writer thread does all the IO, so neither the durable driver nor an Express execution
//! ever waits on a file. The driver hands over each batch's events after its commit
//! ([`ExecutionLogs::committed`]): only events that are durable are logged, and each once. The
//! writer buffers and flushes whenever it has nothing more queued, and at shutdown
//! ([`ExecutionLogs::close`]) after the driver's last commit. A crash loses what was committed
//! but not yet flushed (at most the last moments' lines); nothing is logged twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;

use serde::Deserialize;
use serde_json::{Map, Value};
use stepwise_engine::{EventType, HistoryEvent};

use crate::task_metrics::TaskMetrics;
use crate::trace::{ExecutionTrace, Exporter, TraceContext};

/// A `loggingConfiguration`'s `level`: which event types are logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    All,
    Error,
    Fatal,
    Off,
}

/// What FATAL logs: the events that end an execution otherwise than by success (AWS's "Log
/// levels" table).
const FATAL: [EventType; 3] = [
    EventType::ExecutionAborted,
    EventType::ExecutionFailed,
    EventType::ExecutionTimedOut,
];

/// What ERROR logs: AWS's "Log levels" table, and the Map Run's failure and abort.
const ERROR: [EventType; 22] = [
    EventType::ExecutionAborted,
    EventType::ExecutionFailed,
    EventType::ExecutionTimedOut,
    EventType::FailStateEntered,
    EventType::LambdaFunctionFailed,
    EventType::LambdaFunctionScheduleFailed,
    EventType::LambdaFunctionStartFailed,
    EventType::LambdaFunctionTimedOut,
    EventType::MapIterationAborted,
    EventType::MapIterationFailed,
    EventType::MapRunAborted,
    EventType::MapRunFailed,
    EventType::MapStateAborted,
    EventType::MapStateFailed,
    EventType::ParallelStateAborted,
    EventType::ParallelStateFailed,
    EventType::TaskFailed,
    EventType::TaskStartFailed,
    EventType::TaskStateAborted,
    EventType::TaskSubmitFailed,
    EventType::TaskTimedOut,
    EventType::WaitStateAborted,
];

impl Level {
    /// `ALL`, `ERROR`, `FATAL` or `OFF`.
    pub fn from_name(name: &str) -> Option<Level> {
        Some(match name {
            "ALL" => Level::All,
            "ERROR" => Level::Error,
            "FATAL" => Level::Fatal,
            "OFF" => Level::Off,
            _ => return None,
        })
    }

    /// Whether this level logs events of type `t`.
    pub fn logs(self, t: EventType) -> bool {
        match self {
            Level::All => true,
            Level::Error => ERROR.contains(&t),
            Level::Fatal => FATAL.contains(&t),
            Level::Off => false,
        }
    }
}

/// How one execution is logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    pub level: Level,
    /// `includeExecutionData`: false leaves every input and output out of the lines.
    pub include_execution_data: bool,
    /// The destination's `cloudWatchLogsLogGroup.logGroupArn` (empty when only traced).
    pub log_group_arn: String,
    /// `tracingConfiguration.enabled`: the execution's trace, whose spans the writer builds
    /// from the same events and hands to the OTLP exporter ([`crate::trace`]).
    pub trace: Option<TraceContext>,
}

impl LogSettings {
    /// Whether the execution is logged or traced at all.
    fn wanted(&self) -> bool {
        self.level != Level::Off || self.trace.is_some()
    }
}

/// What `includeExecutionData: false` leaves out of `details`: the data, and the notes about
/// it. Errors, causes, names and resources stay (as AWS records them).
const DATA_MEMBERS: [&str; 6] = [
    "input",
    "inputDetails",
    "output",
    "outputDetails",
    "assignedVariables",
    "assignedVariablesDetails",
];

/// One history event, in GetExecutionHistory's shape (`HistoryEvent::to_json`, or the text the
/// store keeps), as the line AWS writes for it. `None` when it is not such an event.
pub fn log_line(
    event: &Value,
    execution_arn: &str,
    redrive_count: u64,
    include_execution_data: bool,
) -> Option<String> {
    let t = EventType::from_name(event.get("type")?.as_str()?)?;
    let mut details = t
        .details_key()
        .and_then(|k| event.get(k))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if !include_execution_data {
        for member in DATA_MEMBERS {
            details.remove(member);
        }
    }
    let number = |key: &str| event.get(key).and_then(Value::as_u64).unwrap_or(0);
    let ms = event
        .get("timestamp")
        .and_then(Value::as_f64)
        .map_or(0, |s| (s * 1000.0).round() as i64);
    // In AWS's order (serde_json keeps insertion order here).
    let mut line = Map::new();
    line.insert("id".into(), number("id").to_string().into());
    line.insert("type".into(), t.as_str().into());
    line.insert("details".into(), Value::Object(details));
    line.insert(
        "previous_event_id".into(),
        number("previousEventId").to_string().into(),
    );
    line.insert("event_timestamp".into(), ms.to_string().into());
    line.insert("execution_arn".into(), execution_arn.into());
    line.insert("redrive_count".into(), redrive_count.to_string().into());
    Some(Value::Object(line).to_string())
}

/// Where a log group's lines go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Sink {
    Stdout,
    File(PathBuf),
}

/// `stepwise.toml`'s `[logging]`, its relative paths resolved.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    directory: Option<PathBuf>,
    groups: BTreeMap<String, PathBuf>,
}

impl Destinations {
    pub fn from_config(config: &stepwise_tasks::Config) -> Destinations {
        let section = &config.logging;
        Destinations {
            directory: section.directory.as_deref().map(|d| config.resolve(d)),
            groups: section
                .groups
                .iter()
                .map(|(k, p)| (k.clone(), config.resolve(p)))
                .collect(),
        }
    }

    /// The log group `arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*` (or just `NAME`): the path
    /// `groups` gives its ARN (with or without `:*`) or its name (a folder gets `NAME.log`
    /// inside), else `directory/NAME.log`, else stdout. `/` in a name becomes `-` in a file
    /// name.
    pub fn sink(&self, log_group_arn: &str) -> Sink {
        let name = group_name(log_group_arn);
        let file = {
            let base = name.trim_start_matches('/').replace('/', "-");
            format!("{}.log", if base.is_empty() { "log-group" } else { &base })
        };
        let given = self
            .groups
            .get(log_group_arn)
            .or_else(|| self.groups.get(log_group_arn.trim_end_matches(":*")))
            .or_else(|| self.groups.get(name));
        match (given, &self.directory) {
            (Some(p), _) if p.is_dir() => Sink::File(p.join(file)),
            (Some(p), _) => Sink::File(p.clone()),
            (None, Some(d)) => Sink::File(d.join(file)),
            (None, None) => Sink::Stdout,
        }
    }
}

/// The log group's name in its ARN.
fn group_name(arn: &str) -> &str {
    match arn.split_once(":log-group:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => arn,
    }
}

/// Who knows how a Standard execution is logged (the service, from its state machine's or
/// version's record): asked on the writer's thread, once per execution it has not been told
/// about (after a restart), never by the driver.
pub trait SettingsSource: Send + Sync {
    /// The settings and redrive count of `execution_arn`; `None` when it is not logged. Called
    /// on the writer's own thread, in the async runtime's context (so it may block on it).
    fn settings(&self, execution_arn: &str) -> Option<(LogSettings, u64)>;
}

enum Msg {
    /// A committed batch's history events: (execution ARN, event id, GetExecutionHistory JSON).
    Committed(Vec<(String, u64, String)>),
    /// An Express execution's events (GetExecutionHistory JSON), with its settings.
    Express(Arc<str>, Arc<LogSettings>, Vec<String>),
    Flush(Sender<()>),
    Close,
}

/// Settings as the writer keeps them, with the execution's redrive count.
type Noted = HashMap<String, Option<Arc<LogSettings>>>;

/// The execution log writer: a thread, and what the rest of the runtime hands it.
pub struct ExecutionLogs {
    tx: Sender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Settings of Standard executions just started, told by the service before the start.
    noted: Arc<Mutex<Noted>>,
    source: Arc<OnceLock<Weak<dyn SettingsSource>>>,
    /// AWS's task metrics, counted by the writer from every committed event.
    task_metrics: Arc<TaskMetrics>,
}

impl std::fmt::Debug for ExecutionLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExecutionLogs")
    }
}

impl ExecutionLogs {
    /// Starts the writer thread.
    pub fn start(destinations: Destinations) -> Arc<ExecutionLogs> {
        let (tx, rx) = mpsc::channel();
        let noted: Arc<Mutex<Noted>> = Arc::default();
        let source: Arc<OnceLock<Weak<dyn SettingsSource>>> = Arc::default();
        let task_metrics: Arc<TaskMetrics> = Arc::default();
        let writer = Writer {
            task_metrics: task_metrics.clone(),
            destinations,
            sinks: HashMap::new(),
            files: HashMap::new(),
            failed: HashSet::new(),
            open: HashMap::new(),
            noted: noted.clone(),
            source: source.clone(),
            traces: HashMap::new(),
            exporter: None,
        };
        // The writer's thread may wait on the async runtime (a settings source that reads the
        // store): it runs in the runtime's context when there is one.
        let runtime = tokio::runtime::Handle::try_current().ok();
        let thread = std::thread::Builder::new()
            .name("stepwise-exec-log".into())
            .spawn(move || {
                let _context = runtime.as_ref().map(|h| h.enter());
                writer.run(rx)
            })
            .ok();
        Arc::new(ExecutionLogs {
            tx,
            thread: Mutex::new(thread),
            noted,
            source,
            task_metrics,
        })
    }

    /// AWS's activity, Lambda and service integration metrics, from committed events.
    pub fn task_metrics(&self) -> &TaskMetrics {
        &self.task_metrics
    }

    /// Who to ask about Standard executions the writer was not told about.
    pub fn set_source(&self, source: Weak<dyn SettingsSource>) {
        let _ = self.source.set(source);
    }

    /// The settings of a Standard execution about to start (`None`: not logged), so the writer
    /// need not look them up.
    pub fn note(&self, execution_arn: &str, settings: Option<LogSettings>) {
        let settings = settings.filter(LogSettings::wanted).map(Arc::new);
        let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
        noted.insert(execution_arn.to_owned(), settings);
    }

    /// The driver, after a commit: that batch's history events. Never blocks.
    pub(crate) fn committed(&self, events: Vec<(String, u64, String)>) {
        if !events.is_empty() {
            let _ = self.tx.send(Msg::Committed(events));
        }
    }

    /// The log of an in-memory (Express) execution; `None` when it is neither logged nor
    /// traced.
    pub fn session(
        self: &Arc<Self>,
        settings: Option<LogSettings>,
        execution_arn: &str,
    ) -> Option<Session> {
        let settings = settings.filter(LogSettings::wanted)?;
        Some(Session {
            logs: self.clone(),
            settings: Arc::new(settings),
            execution_arn: execution_arn.into(),
        })
    }

    /// Waits until everything handed over so far is written and flushed.
    pub fn flush(&self) {
        let (ack, done) = mpsc::channel();
        if self.tx.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// Writes and flushes everything handed over, and stops the writer. Lines handed over
    /// later are dropped.
    pub fn close(&self) {
        let _ = self.tx.send(Msg::Close);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

/// The log of one in-memory execution: its events go to the writer, which logs, traces and
/// counts them as it does a Standard execution's committed events.
#[derive(Debug, Clone)]
pub struct Session {
    logs: Arc<ExecutionLogs>,
    settings: Arc<LogSettings>,
    execution_arn: Arc<str>,
}

impl Session {
    /// One step's events.
    pub fn events(&self, events: &[HistoryEvent]) {
        if events.is_empty() {
            return;
        }
        let texts = events.iter().map(|e| e.to_json().to_string()).collect();
        let _ = self.logs.tx.send(Msg::Express(
            self.execution_arn.clone(),
            self.settings.clone(),
            texts,
        ));
    }
}

/// The writer thread's state.
struct Writer {
    destinations: Destinations,
    sinks: HashMap<Arc<str>, Sink>,
    files: HashMap<Sink, BufWriter<Box<dyn Write + Send>>>,
    /// Sinks that could not be opened (said once).
    failed: HashSet<Sink>,
    /// Open Standard executions seen so far: their settings and redrive count (`None`: not
    /// logged). Forgotten when they end.
    open: HashMap<String, Option<(Arc<LogSettings>, u64)>>,
    noted: Arc<Mutex<Noted>>,
    source: Arc<OnceLock<Weak<dyn SettingsSource>>>,
    task_metrics: Arc<TaskMetrics>,
    /// The spans being built of the traced open executions.
    traces: HashMap<String, ExecutionTrace>,
    /// Started when the first traced execution is seen (`None` after that: not sending).
    exporter: Option<Option<Exporter>>,
}

/// The members of a stored event the writer needs to read for every event.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
}

impl Writer {
    fn run(mut self, rx: Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            let mut close = false;
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Committed(events) => self.committed(events),
                    Msg::Express(arn, settings, events) => self.express(&arn, settings, events),
                    Msg::Flush(ack) => {
                        self.flush();
                        self.flush_traces();
                        let _ = ack.send(());
                    }
                    Msg::Close => close = true,
                }
                if close {
                    break;
                }
                next = rx.try_recv().ok();
            }
            // Nothing more queued: what was written reaches the files now.
            self.flush();
            if close {
                break;
            }
        }
        self.flush();
        self.flush_traces();
    }

    fn committed(&mut self, events: Vec<(String, u64, String)>) {
        {
            let mut noted = self.noted.lock().unwrap_or_else(|p| p.into_inner());
            if !noted.is_empty() {
                for (arn, _, _) in &events {
                    if let Some(n) = noted.remove(arn) {
                        self.open.insert(arn.clone(), n.map(|s| (s, 0)));
                    }
                }
            }
        }
        for (arn, _, text) in events {
            self.one(&arn, &text);
        }
    }

    /// An Express execution's events (its settings with them).
    fn express(&mut self, arn: &str, settings: Arc<LogSettings>, events: Vec<String>) {
        if !self.open.contains_key(arn) {
            self.open.insert(arn.to_owned(), Some((settings, 0)));
        }
        for text in events {
            self.one(arn, &text);
        }
    }

    /// One event of `arn`: counted, traced and logged as its settings say.
    fn one(&mut self, arn: &str, text: &str) {
        let Ok(head) = serde_json::from_str::<Head>(text) else {
            return;
        };
        let Some(t) = EventType::from_name(head.kind) else {
            return;
        };
        if !self.open.contains_key(arn) {
            let found = self.look_up(arn);
            self.open.insert(arn.to_owned(), found);
        }
        let settings = self.open.get(arn).cloned().flatten();
        let logged = settings.as_ref().is_some_and(|(s, _)| s.level.logs(t));
        let traced = settings.as_ref().and_then(|(s, _)| s.trace);
        let redriven = settings.is_some() && t == EventType::ExecutionRedriven;
        let counted = TaskMetrics::counts(t);
        if logged || traced.is_some() || redriven || counted {
            let event: Value = serde_json::from_str(text).unwrap_or_default();
            if counted {
                self.task_metrics.event(arn, t, &event);
            }
            if let Some(context) = traced {
                self.trace(arn, context, &event);
            }
            let mut redrives = settings.as_ref().map_or(0, |(_, r)| *r);
            if redriven {
                let count = event
                    .pointer("/executionRedrivenEventDetails/redriveCount")
                    .and_then(Value::as_u64);
                redrives = count.unwrap_or(redrives + 1);
                if let Some(Some((_, r))) = self.open.get_mut(arn) {
                    *r = redrives;
                }
            }
            if let (true, Some((settings, _))) = (logged, &settings) {
                let line = log_line(&event, arn, redrives, settings.include_execution_data);
                if let Some(line) = line {
                    let group: Arc<str> = settings.log_group_arn.as_str().into();
                    self.write(&group, &[line]);
                }
            }
        }
        if matches!(
            t,
            EventType::ExecutionSucceeded
                | EventType::ExecutionFailed
                | EventType::ExecutionTimedOut
                | EventType::ExecutionAborted
        ) {
            self.open.remove(arn);
            self.traces.remove(arn);
        }
    }

    /// The event to the execution's trace; the spans it ends to the exporter.
    fn trace(&mut self, arn: &str, context: TraceContext, event: &Value) {
        let trace = self
            .traces
            .entry(arn.to_owned())
            .or_insert_with(|| ExecutionTrace::new(arn, context));
        let ended = trace.event(event);
        if ended.is_empty() {
            return;
        }
        let exporter = self.exporter.get_or_insert_with(|| {
            crate::trace::ExportSettings::from_env().and_then(|settings| {
                tracing::info!(endpoint = %settings.endpoint, "sending traces (OTLP/HTTP, JSON)");
                Exporter::start(settings)
            })
        });
        if let Some(exporter) = exporter {
            exporter.send(ended);
        }
    }

    /// Waits (a while) for the spans handed to the exporter to be sent.
    fn flush_traces(&self) {
        let (Some(Some(exporter)), Ok(handle)) =
            (&self.exporter, tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let exporter = exporter.clone();
        let _ = handle.block_on(tokio::time::timeout(
            std::time::Duration::from_secs(5),
            async move { exporter.flush().await },
        ));
    }

    fn look_up(&self, arn: &str) -> Option<(Arc<LogSettings>, u64)> {
        let source = self.source.get()?.upgrade()?;
        let (settings, redrives) = source.settings(arn)?;
        settings.wanted().then(|| (Arc::new(settings), redrives))
    }

    fn write(&mut self, group: &Arc<str>, lines: &[String]) {
        let sink = match self.sinks.get(group) {
            Some(s) => s.clone(),
            None => {
                let s = self.destinations.sink(group);
                self.sinks.insert(group.clone(), s.clone());
                s
            }
        };
        if !self.files.contains_key(&sink) {
            if self.failed.contains(&sink) {
                return;
            }
            match open(&sink) {
                Ok(w) => {
                    self.files
                        .insert(sink.clone(), BufWriter::with_capacity(64 * 1024, w));
                }
                Err(e) => {
                    tracing::warn!(log_group = %group, error = %e, "cannot open the execution log; its lines are dropped");
                    self.failed.insert(sink);
                    return;
                }
            }
        }
        let Some(w) = self.files.get_mut(&sink) else {
            return;
        };
        for line in lines {
            let written = w
                .write_all(line.as_bytes())
                .and_then(|()| w.write_all(b"\n"));
            if let Err(e) = written {
                tracing::warn!(log_group = %group, error = %e, "cannot write the execution log");
                break;
            }
        }
    }

    fn flush(&mut self) {
        for w in self.files.values_mut() {
            if let Err(e) = w.flush() {
                tracing::warn!(error = %e, "cannot flush an execution log");
            }
        }
    }
}

fn open(sink: &Sink) -> std::io::Result<Box<dyn Write + Send>> {
    match sink {
        Sink::Stdout => Ok(Box::new(std::io::stdout())),
        Sink::File(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let file: File = OpenOptions::new().create(true).append(true).open(path)?;
            Ok(Box::new(file))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:states:us-east-1:123456789012:execution:orders:run-1";

    fn settings(level: Level, data: bool, group: &str) -> LogSettings {
        LogSettings {
            level,
            include_execution_data: data,
            log_group_arn: format!("arn:aws:logs:us-east-1:123456789012:log-group:{group}:*"),
            trace: None,
        }
    }

    #[test]
    fn levels_keep_the_event_types_aws_lists() {
        let kept = |level: Level| {
            EventType::ALL
                .iter()
                .copied()
                .filter(|t| level.logs(*t))
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(Level::All).len(), EventType::ALL.len());
        assert!(kept(Level::Off).is_empty());
        assert_eq!(
            kept(Level::Fatal),
            [
                EventType::ExecutionAborted,
                EventType::ExecutionFailed,
                EventType::ExecutionTimedOut
            ]
        );
        let error = kept(Level::Error);
        for t in [
            EventType::TaskFailed,
            EventType::FailStateEntered,
            EventType::ParallelStateFailed,
            EventType::MapIterationFailed,
            EventType::WaitStateAborted,
        ] {
            assert!(error.contains(&t), "{t:?}");
        }
        for t in [
            EventType::ExecutionStarted,
            EventType::ExecutionSucceeded,
            EventType::TaskSucceeded,
            EventType::TaskStateEntered,
            EventType::ExecutionRedriven,
        ] {
            assert!(!error.contains(&t), "{t:?}");
        }
        // Everything FATAL keeps, ERROR keeps.
        assert!(kept(Level::Fatal).iter().all(|t| error.contains(t)));
        assert_eq!(Level::from_name("ERROR"), Some(Level::Error));
        assert_eq!(Level::from_name("error"), None);
    }

    fn entered() -> Value {
        HistoryEvent {
            id: 2,
            previous_event_id: 0,
            timestamp: crate::time_of(1_713_959_670_680),
            event_type: EventType::PassStateEntered,
            details: Some(stepwise_engine::Details::StateEntered {
                name: "LogInput".into(),
                input: r#"{"order":7}"#.into(),
            }),
        }
        .to_json()
    }

    #[test]
    fn a_line_has_aws_members_in_aws_order_as_strings() {
        let line = log_line(&entered(), ARN, 1, true).expect("a line");
        assert_eq!(
            line,
            r#"{"id":"2","type":"PassStateEntered","details":{"name":"LogInput","input":"{\"order\":7}","inputDetails":{"truncated":false}},"previous_event_id":"0","event_timestamp":"1713959670680","execution_arn":"arn:aws:states:us-east-1:123456789012:execution:orders:run-1","redrive_count":"1"}"#
        );
    }

    #[test]
    fn without_execution_data_inputs_and_outputs_are_left_out_errors_stay() {
        let line: Value =
            serde_json::from_str(&log_line(&entered(), ARN, 0, false).expect("a line")).unwrap();
        assert_eq!(line["details"], json!({"name": "LogInput"}));
        let failed = json!({"timestamp": 1.5, "type": "ExecutionFailed", "id": 9,
            "previousEventId": 8,
            "executionFailedEventDetails": {"error": "Broken", "cause": "on purpose"}});
        let line: Value =
            serde_json::from_str(&log_line(&failed, ARN, 0, false).expect("a line")).unwrap();
        assert_eq!(
            line["details"],
            json!({"error": "Broken", "cause": "on purpose"})
        );
        assert_eq!(line["event_timestamp"], "1500");
        let succeeded = json!({"timestamp": 2.0, "type": "ExecutionSucceeded", "id": 10,
            "previousEventId": 9, "executionSucceededEventDetails":
            {"output": "{}", "outputDetails": {"truncated": false}}});
        let line: Value =
            serde_json::from_str(&log_line(&succeeded, ARN, 0, false).expect("a line")).unwrap();
        assert_eq!(line["details"], json!({}));
        // An event type with no details object has `{}`.
        let started = json!({"timestamp": 2.0, "type": "ParallelStateStarted", "id": 3,
            "previousEventId": 2});
        let line: Value =
            serde_json::from_str(&log_line(&started, ARN, 0, true).expect("a line")).unwrap();
        assert_eq!(line["details"], json!({}));
        assert_eq!(log_line(&json!({"type": "Nonsense"}), ARN, 0, true), None);
    }

    #[test]
    fn a_log_group_goes_where_the_configuration_says() {
        let dir = tempfile::tempdir().expect("a folder");
        let folder = dir.path().join("by-name");
        std::fs::create_dir_all(&folder).unwrap();
        let config = stepwise_tasks::Config::parse(
            &format!(
                "[logging]\ndirectory = \"{}\"\n[logging.groups]\n\
                 \"arn:aws:logs:us-east-1:123456789012:log-group:orders:*\" = \"/tmp/o.log\"\n\
                 \"arn:aws:logs:us-east-1:123456789012:log-group:bare\" = \"/tmp/b.log\"\n\
                 payments = \"/tmp/p.log\"\nfolder = \"{}\"\n",
                dir.path().join("all").display(),
                folder.display()
            ),
            "stepwise.toml",
        )
        .expect("parses");
        let d = Destinations::from_config(&config);
        let arn = |g: &str| format!("arn:aws:logs:us-east-1:123456789012:log-group:{g}:*");
        assert_eq!(d.sink(&arn("orders")), Sink::File("/tmp/o.log".into()));
        assert_eq!(d.sink(&arn("bare")), Sink::File("/tmp/b.log".into()));
        assert_eq!(d.sink(&arn("payments")), Sink::File("/tmp/p.log".into()));
        assert_eq!(
            d.sink(&arn("folder")),
            Sink::File(folder.join("folder.log"))
        );
        assert_eq!(
            d.sink(&arn("/aws/vendedlogs/states/x")),
            Sink::File(dir.path().join("all").join("aws-vendedlogs-states-x.log"))
        );
        let none = Destinations::from_config(&stepwise_tasks::Config::default());
        assert_eq!(none.sink(&arn("orders")), Sink::Stdout);
    }

    /// The source of settings for executions the writer was not told about.
    struct Known(LogSettings);

    impl SettingsSource for Known {
        fn settings(&self, execution_arn: &str) -> Option<(LogSettings, u64)> {
            (execution_arn == "e-known").then(|| (self.0.clone(), 2))
        }
    }

    fn stored(arn: &str, id: u64, kind: &str) -> (String, u64, String) {
        let text = json!({"timestamp": 1.0, "type": kind, "id": id, "previousEventId": id - 1})
            .to_string();
        (arn.to_owned(), id, text)
    }

    #[test]
    fn committed_events_are_written_once_by_their_execution_settings() {
        let dir = tempfile::tempdir().expect("a folder");
        let config = stepwise_tasks::Config::parse(
            &format!("[logging]\ndirectory = \"{}\"\n", dir.path().display()),
            "stepwise.toml",
        )
        .unwrap();
        let logs = ExecutionLogs::start(Destinations::from_config(&config));
        let source: Arc<dyn SettingsSource> = Arc::new(Known(settings(Level::All, true, "known")));
        logs.set_source(Arc::downgrade(&source));
        logs.note("e-noted", Some(settings(Level::Error, true, "noted")));
        logs.note("e-off", Some(settings(Level::Off, true, "off")));
        logs.committed(vec![
            stored("e-noted", 1, "ExecutionStarted"),
            stored("e-off", 1, "ExecutionStarted"),
            stored("e-known", 1, "ExecutionStarted"),
            stored("e-unknown", 1, "ExecutionStarted"),
            stored("e-noted", 2, "FailStateEntered"),
        ]);
        logs.committed(vec![
            stored("e-noted", 3, "ExecutionFailed"),
            stored("e-off", 2, "ExecutionFailed"),
            stored("e-known", 2, "ExecutionSucceeded"),
        ]);
        logs.flush();
        let read = |g: &str| -> Vec<Value> {
            std::fs::read_to_string(dir.path().join(format!("{g}.log")))
                .unwrap_or_default()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let noted = read("noted");
        let types: Vec<_> = noted.iter().map(|l| l["type"].clone()).collect();
        assert_eq!(types, [json!("FailStateEntered"), json!("ExecutionFailed")]);
        let known = read("known");
        assert_eq!(known.len(), 2);
        assert_eq!(known[0]["redrive_count"], "2", "the source's redrive count");
        assert!(!dir.path().join("off.log").exists());
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 2, "only the logged executions' groups");
        logs.close();
        logs.committed(vec![stored("e-known", 3, "ExecutionStarted")]);
        assert_eq!(read("known").len(), 2, "nothing after close");
    }
}
