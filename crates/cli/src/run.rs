//! `stepwise run FILE`: one execution in-process, no server; the result as one JSON object.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use serde_json::{Map, Value};
use stepwise_asl::eval::{Entropy, SeededEntropy};
use stepwise_asl::model::{StateKind, StateMachine};
use stepwise_asl::{ParseOptions, parse_definition};
use stepwise_engine::mock::{MockConfig, TestCase};
use stepwise_engine::{ExecutionInfo, HistoryEvent, Status};
use stepwise_runtime::LocalTasks;
use stepwise_runtime::host::{self, HostOptions};

use stepwise_tasks::{Config, Integrations};

use crate::validate::write_human;

const AFTER_HELP: &str = "\
Prints one JSON object on stdout: {\"status\": \"SUCCEEDED\", \"output\": ...} or {\"status\": \
\"FAILED\"|\"TIMED_OUT\"|\"ABORTED\", \"error\": ..., \"cause\": ...}. Exit code 0 when the execution \
succeeded, 1 when it did not, 2 for an invalid definition, input or mock file, or a usage error.

Task states call the HTTP Task, Lambda and AWS services for real, as `stepwise serve` does, \
configured by --config (stepwise.toml: connections, allowed hosts, Lambda functions as local \
commands), LAMBDA_ENDPOINT, AWS_ENDPOINT_URL[_<SERVICE>] and the AWS credential chain. --mock \
answers Task states from a test case of Step Functions Local's mock configuration file \
(MockConfigFile.json) instead; states it does not mock are called for real. Activities, \
callbacks (.waitForTaskToken) and nested executions need `stepwise serve` or a mock, and fail \
with States.Runtime here.";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The state machine definition (Amazon States Language JSON).
    #[arg(value_name = "DEFINITION_FILE")]
    file: PathBuf,
    /// The execution input, as JSON text.
    #[arg(
        long,
        value_name = "JSON",
        default_value = "{}",
        conflicts_with = "input_file"
    )]
    input: String,
    /// Read the execution input from a file (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// Add the execution history ("events", as GetExecutionHistory returns them).
    #[arg(long)]
    history: bool,
    /// Answer Task states from a Step Functions Local mock configuration file.
    #[arg(long, value_name = "FILE")]
    mock: Option<PathBuf>,
    /// The test case of the mock configuration to use (default: the state machine's only one).
    #[arg(long, value_name = "NAME", requires = "mock")]
    test_case: Option<String>,
    /// The configuration file (stepwise.toml) for the HTTP Task and Lambda.
    #[arg(long, value_name = "FILE", env = "STEPWISE_CONFIG")]
    config: Option<PathBuf>,
    /// Really sleep this many times each Wait and retry interval (like Step Functions Local's
    /// WAIT_TIME_SCALE); 0 does not sleep. The execution's clock moves by the full duration.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = time_scale)]
    time_scale: f64,
    /// The execution's name (default: a generated UUID).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The state machine's name, in ARNs, the context object and the mock configuration
    /// (default: the file name without `.json` and `.asl`).
    #[arg(long, value_name = "NAME")]
    state_machine_name: Option<String>,
    /// Also write the state machine's graph, each state coloured by how the run left it, as
    /// SVG to this file (the layout of `stepwise graph`).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    #[command(flatten)]
    endpoints: crate::sfn_local::EndpointFlags,
}

fn time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(f),
        _ => Err(format!(
            "expected a number of 0 or more (0.5 halves every wait), got {text:?}"
        )),
    }
}

/// A reason to stop before the execution starts: printed on stderr, exit code 2.
struct Usage(String);

pub fn run(args: &Args) -> ExitCode {
    match prepare(args) {
        Ok(prepared) => execute(args, prepared),
        Err(Usage(message)) => {
            if !message.is_empty() {
                eprintln!("stepwise: {message}");
            }
            ExitCode::from(2)
        }
    }
}

struct Prepared {
    machine: Arc<StateMachine>,
    info: ExecutionInfo,
    input: Value,
    input_text: String,
    config: Config,
    mocks: Option<TestCase>,
}

fn prepare(args: &Args) -> Result<Prepared, Usage> {
    let file = args.file.display().to_string();
    let text = read(&args.file)?;
    let machine = match parse_definition(&text, ParseOptions::default()) {
        Ok((machine, report)) => {
            // Warnings only: show them as `validate` does, and run.
            if !report.diagnostics.is_empty() {
                let _ = write_human(&mut std::io::stderr().lock(), &file, &report);
            }
            machine
        }
        Err(report) => {
            let _ = write_human(&mut std::io::stderr().lock(), &file, &report);
            return Err(Usage(String::new()));
        }
    };

    let input_text = match &args.input_file {
        Some(path) => read(path)?,
        None => args.input.clone(),
    };
    let input = stepwise_asl::parse_json(&input_text).map_err(|e| {
        Usage(format!(
            "InvalidExecutionInput: Invalid State Machine Execution Input: '{}'",
            e.message
        ))
    })?;

    let state_machine_name = match &args.state_machine_name {
        Some(name) => checked_name("state machine name", name)?,
        None => default_machine_name(&args.file),
    };
    let name = match &args.name {
        Some(name) => checked_name("execution name", name)?,
        None => generated_name(),
    };

    let mut config = match &args.config {
        Some(path) => {
            Config::load(path).map_err(|e| Usage(format!("invalid configuration: {e}")))?
        }
        None => Config::default(),
    };
    config.aws.flag_endpoints = args.endpoints.by_service();
    let info = ExecutionInfo::local(&state_machine_name, &name, chrono::Utc::now());
    let mocks = match &args.mock {
        None => None,
        Some(path) => {
            let config = MockConfig::parse(&read(path)?).map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {e}", path.display()))
                    .collect();
                Usage(format!("invalid mock configuration:\n{}", lines.join("\n")))
            })?;
            let case = config
                .test_case(&state_machine_name, args.test_case.as_deref())
                .map_err(|e| {
                    let hint = match e {
                        stepwise_engine::mock::SelectError::TestCaseRequired { .. } => {
                            " with --test-case"
                        }
                        stepwise_engine::mock::SelectError::UnknownStateMachine { .. }
                            if args.state_machine_name.is_none() =>
                        {
                            " (the name comes from the file name; set it with --state-machine-name)"
                        }
                        _ => "",
                    };
                    Usage(format!("{}: {e}{hint}", path.display()))
                })?;
            let tasks = task_states(&machine);
            for state in case.mocks.keys() {
                if !tasks.contains(&state.as_str()) {
                    eprintln!(
                        "stepwise: warning: test case {} mocks {}, which is not a Task state of {file}",
                        Value::from(case.name.as_str()),
                        Value::from(state.as_str()),
                    );
                }
            }
            Some(case)
        }
    };

    Ok(Prepared {
        machine: Arc::new(machine),
        info,
        input,
        input_text,
        config,
        mocks,
    })
}

fn execute(args: &Args, prepared: Prepared) -> ExitCode {
    let Prepared {
        machine,
        info,
        input,
        input_text,
        config,
        mocks,
    } = prepared;
    let graph = args
        .svg
        .as_ref()
        .map(|_| stepwise_graph::Graph::of(&machine));
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stepwise: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let options = HostOptions {
        time_scale: args.time_scale,
        seed: RandomState::new().build_hasher().finish(),
        mocks,
        keep_events: true,
        ..HostOptions::default()
    };
    let mut progress = Progress::new();
    let result = rt.block_on(async {
        // The HTTP client must be made inside the runtime it runs on.
        let runner = Arc::new(LocalTasks::new(
            Arc::new(Integrations::new(Arc::new(config))),
            &info.execution_arn,
        ));
        let result = host::run(
            machine,
            info,
            input,
            Some(input_text),
            Arc::clone(&runner) as Arc<dyn host::TaskRunner>,
            options,
            |events| progress.update(events),
        )
        .await;
        runner.settle().await;
        result
    });
    progress.finish();

    let completion = result.completion;
    let mut out = Map::new();
    out.insert("status".into(), Value::from(completion.status.as_str()));
    if completion.status == Status::Succeeded {
        out.insert("output".into(), completion.output.unwrap_or(Value::Null));
    }
    if let Some(error) = completion.error {
        out.insert("error".into(), Value::from(error));
    }
    if let Some(cause) = completion.cause {
        out.insert("cause".into(), Value::from(cause));
    }
    let events: Vec<Value> = if args.history || graph.is_some() {
        result.events.iter().map(HistoryEvent::to_json).collect()
    } else {
        Vec::new()
    };
    if let (Some(graph), Some(path)) = (&graph, &args.svg) {
        let statuses = stepwise_graph::status::statuses_of_json(&events);
        let layout = stepwise_graph::layout(graph);
        let svg = stepwise_graph::render::svg(graph, &layout, Some(&statuses), Default::default());
        if let Err(e) = std::fs::write(path, svg) {
            eprintln!("stepwise: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if args.history {
        out.insert("events".into(), Value::Array(events));
    }
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{}", Value::Object(out)).is_err() || stdout.flush().is_err() {
        return ExitCode::from(2);
    }
    if completion.status == Status::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A file's text (`-` is stdin).
fn read(path: &Path) -> Result<String, Usage> {
    let bytes = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map(|_| bytes)
            .map_err(|e| Usage(format!("cannot read stdin: {e}")))?
    } else {
        std::fs::read(path).map_err(|e| Usage(format!("cannot read {}: {e}", path.display())))?
    };
    // Bytes that are not UTF-8 cannot be JSON; let the JSON parser say where it breaks.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `hello.asl.json` → `hello`; `orders.json` → `orders`.
fn default_machine_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = file.strip_suffix(".json").unwrap_or(&file);
    let stem = stem.strip_suffix(".asl").unwrap_or(stem);
    if stem.is_empty() {
        "StateMachine".to_owned()
    } else {
        stem.to_owned()
    }
}

/// AWS's rules for execution and state machine names: 1 to 80 characters, no whitespace,
/// brackets, wildcards, special or control characters.
fn checked_name(what: &str, name: &str) -> Result<String, Usage> {
    let bad = |c: char| {
        c.is_whitespace()
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
            || ('\u{0}'..='\u{1f}').contains(&c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
    };
    let length = name.chars().count();
    if (1..=80).contains(&length) && !name.chars().any(bad) {
        Ok(name.to_owned())
    } else {
        Err(Usage(format!(
            "InvalidName: Invalid Name: '{name}' (an {what} has 1 to 80 characters and no \
             whitespace, brackets, wildcards, special or control characters)"
        )))
    }
}

/// A random UUID, as AWS names executions started without a name.
fn generated_name() -> String {
    let seed = RandomState::new().build_hasher().finish();
    SeededEntropy::new(seed).uuid()
}

/// The names of every Task state, nested ones included.
fn task_states(machine: &StateMachine) -> Vec<&str> {
    let mut names = Vec::new();
    let mut machines = vec![machine];
    while let Some(m) = machines.pop() {
        for state in m.states.values() {
            match &state.kind {
                StateKind::Task(_) => names.push(state.name.as_str()),
                StateKind::Parallel(p) => machines.extend(p.branches.iter().map(Arc::as_ref)),
                StateKind::Map(map) => machines.push(map.processor.as_ref()),
                _ => {}
            }
        }
    }
    names
}

/// One updating line on stderr while a long run goes on (also while it sleeps), when stderr is
/// a terminal: the number of history events and the state most recently entered.
struct Progress {
    shared: Arc<Mutex<(usize, String)>>,
    /// Events already looked at.
    seen: usize,
    painter: Option<(mpsc::Sender<()>, thread::JoinHandle<()>)>,
}

impl Progress {
    /// Runs shorter than this show nothing.
    const DELAY: Duration = Duration::from_millis(300);
    const EVERY: Duration = Duration::from_millis(100);

    fn new() -> Self {
        let shared = Arc::new(Mutex::new((0, String::new())));
        let painter = std::io::stderr().is_terminal().then(|| {
            let (stop, stopped) = mpsc::channel::<()>();
            let shared = Arc::clone(&shared);
            let handle = thread::spawn(move || {
                let mut drawn = false;
                let mut wait = Self::DELAY;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    wait = Self::EVERY;
                    let line = match shared.lock() {
                        Ok(g) => format!(
                            "stepwise: {} events, in state {}",
                            g.0,
                            Value::from(g.1.as_str())
                        ),
                        Err(_) => break,
                    };
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "\r\x1b[2K{line}");
                    let _ = err.flush();
                    drawn = true;
                }
                if drawn {
                    let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
                }
            });
            (stop, handle)
        });
        Progress {
            shared,
            seen: 0,
            painter,
        }
    }

    fn update(&mut self, events: &[HistoryEvent]) {
        if self.painter.is_none() {
            return;
        }
        let entered = events
            .get(self.seen..)
            .unwrap_or_default()
            .iter()
            .rev()
            .filter(|e| e.event_type.as_str().ends_with("StateEntered"))
            .find_map(|e| {
                let name = e.details.as_ref()?.get("name")?;
                name.as_str().map(str::to_owned)
            });
        self.seen = events.len();
        if let Ok(mut g) = self.shared.lock() {
            g.0 = events.len();
            if let Some(name) = entered {
                g.1 = name;
            }
        }
    }

    fn finish(self) {
        if let Some((stop, handle)) = self.painter {
            let _ = stop.send(());
            let _ = handle.join();
        }
    }
}
