//! Benchmarks of `stepwise serve` (`cargo bench -p stepwise-cli --bench server`).
//!
//! Four scenarios, each printed as a table; every figure comes with a baseline measured in the
//! same process, so the ratio holds across machines.
//!
//! - `express`: StartSyncExecution of an Express 10-Pass chain over HTTP/1.1 keep-alive, one
//!   connection and several; baseline: `GET /health` and ListActivities (an empty store) on the
//!   same kind of connection.
//! - `standard`: a Standard 10-Pass chain on a SQLite file. Start to SUCCEEDED latency
//!   (StartExecution, then DescribeExecution until it is no longer RUNNING), and durable
//!   transitions/s: many executions started concurrently, wall time until all SUCCEEDED; then
//!   the same with execution logs (level ALL, with data, to a file).
//! - `rss`: resident memory with up to 100,000 executions waiting in a Wait state of an hour.
//! - `express-waiting`: the same with asynchronous Express executions (in memory, each a timer
//!   on the async runtime): resident memory and the process's thread count must stay flat.
//! - `startup`: spawn the release binary, time until `GET /health` answers; baseline: spawning
//!   `stepwise --version` and waiting for it to exit.
//! - `cluster`: the Standard 10-Pass chain on a SQLite file (the baseline), then on PostgreSQL
//!   with 1, 2 and 3 nodes sharing one schema (`STEPWISE_TEST_POSTGRES_URL`; skipped without
//!   it): start -> SUCCEEDED p50/p99 with requests spread over the nodes, and durable
//!   transitions/s of many executions started at once over every node.
//! - `retention`: a steady load of Standard 10-Pass executions (`STEPWISE_BENCH_RATE` a second)
//!   for 10 minutes (quick: 60 s), twice: on a server that keeps everything (the baseline),
//!   then on one that keeps closed executions 1 minute (quick: 10 s). The store's size over
//!   time in both (with removal it must level off), and StartExecution p50/p99 once removal
//!   runs against the same stretch of the baseline run.
//!
//! The server runs in-process (the wiring of `stepwise serve`) for the first three; `startup`
//! runs the `stepwise` binary Cargo built for this bench. Each scenario runs in its own process
//! (this bench re-runs itself), so one scenario's memory does not show in the next.
//!
//! Pick scenarios by name: `cargo bench -p stepwise-cli --bench server -- express rss`.
//! Sizes come from the environment:
//!
//! | variable | default (quick) | what |
//! |---|---|---|
//! | `STEPWISE_BENCH_QUICK=1` | | the quick sizes below; the whole run takes well under a minute |
//! | `STEPWISE_BENCH_REQUESTS` | 20000 (2000) | requests per latency measurement |
//! | `STEPWISE_BENCH_CONCURRENCY` | 8 | connections of the concurrent latency runs |
//! | `STEPWISE_BENCH_EXECUTIONS` | 5000 (2000) | Standard executions of the throughput run |
//! | `STEPWISE_BENCH_CONNECTIONS` | 64 | connections that start them (and the waiting ones) |
//! | `STEPWISE_BENCH_WAITING` | 100000 (10000) | executions left waiting for the RSS figures |
//! | `STEPWISE_BENCH_STARTS` | 20 (5) | process starts timed |
//! | `STEPWISE_BENCH_RATE` | 200 (200) | executions started a second in `retention` |
//!
//! Run by `cargo test` (without `--bench`, as CI runs every benchmark), each scenario runs once
//! at tiny sizes, so that a benchmark cannot rot unseen; its figures mean nothing.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use stepwise_api::{Api, router};
use stepwise_runtime::{Runtime, RuntimeConfig};
use stepwise_service::{Arns, Service};
use stepwise_store::{SqliteStore, Store};

/// The allocator the `stepwise` binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SCENARIOS: [&str; 7] = [
    "express",
    "standard",
    "rss",
    "express-waiting",
    "startup",
    "cluster",
    "retention",
];

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test` does not, and then this is a smoke run.
    let benching = std::env::args().any(|a| a == "--bench");
    let sizes = match Sizes::from_env(!benching) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Words that are not flags name scenarios.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if let Some(unknown) = named.iter().find(|n| !SCENARIOS.contains(&n.as_str())) {
        eprintln!(
            "error: no scenario '{unknown}' (there are: {})",
            SCENARIOS.join(", ")
        );
        return ExitCode::from(2);
    }
    let chosen: Vec<&str> = SCENARIOS
        .into_iter()
        .filter(|s| named.is_empty() || named.iter().any(|n| n == s))
        .collect();
    if let [one] = chosen.as_slice() {
        match *one {
            "express" => express(&sizes),
            "standard" => standard(&sizes),
            "rss" => rss(&sizes, "STANDARD"),
            "express-waiting" => rss(&sizes, "EXPRESS"),
            "cluster" => cluster(&sizes),
            "retention" => retention(&sizes),
            _ => startup(&sizes),
        }
        return ExitCode::SUCCESS;
    }
    println!(
        "stepwise serve benchmarks: {} cores, {} sizes",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if sizes.smoke {
            "smoke (one tiny run each: not a measurement)"
        } else if sizes.quick {
            "quick"
        } else {
            "full"
        }
    );
    let me = std::env::current_exe().expect("the bench knows its own path");
    let mut failed = false;
    for scenario in chosen {
        let mut command = Command::new(&me);
        command.arg(scenario);
        if benching {
            command.arg("--bench");
        }
        let status = command.status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("scenario {scenario} failed");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

// ----- sizes --------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Sizes {
    /// Run by `cargo test`: every scenario once, at tiny sizes.
    smoke: bool,
    quick: bool,
    requests: usize,
    concurrency: usize,
    executions: usize,
    connections: usize,
    waiting: usize,
    starts: usize,
    rate: usize,
}

impl Sizes {
    fn from_env(smoke: bool) -> Result<Sizes, String> {
        let quick = std::env::var("STEPWISE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let pick = |name: &str, full: usize, small: usize| -> Result<usize, String> {
            match std::env::var(name) {
                Err(_) if smoke => Ok(small.div_ceil(100).max(2)),
                Err(_) => Ok(if quick { small } else { full }),
                Ok(text) => match text.trim().parse::<usize>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!(
                        "{name} must be a positive whole number, not '{text}'"
                    )),
                },
            }
        };
        Ok(Sizes {
            smoke,
            quick,
            requests: pick("STEPWISE_BENCH_REQUESTS", 20_000, 2_000)?,
            concurrency: pick("STEPWISE_BENCH_CONCURRENCY", 8, 8)?,
            executions: pick("STEPWISE_BENCH_EXECUTIONS", 5_000, 2_000)?,
            connections: pick("STEPWISE_BENCH_CONNECTIONS", 64, 64)?,
            waiting: pick("STEPWISE_BENCH_WAITING", 100_000, 10_000)?,
            starts: pick("STEPWISE_BENCH_STARTS", 20, 5)?,
            rate: pick("STEPWISE_BENCH_RATE", 200, 200)?,
        })
    }
}

// ----- an HTTP/1.1 keep-alive client --------------------------------------------------------

/// One keep-alive connection; one request at a time.
#[derive(Debug)]
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    out: Vec<u8>,
    line: String,
}

#[derive(Debug)]
struct Response {
    status: u16,
    body: String,
}

impl Client {
    fn connect(addr: SocketAddr) -> io::Result<Client> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        Ok(Client {
            reader: BufReader::new(stream.try_clone()?),
            stream,
            out: Vec::with_capacity(1024),
            line: String::new(),
        })
    }

    fn get(&mut self, path: &str) -> io::Result<Response> {
        self.out.clear();
        write!(self.out, "GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n")?;
        self.exchange()
    }

    /// `POST /` with `X-Amz-Target: AWSStepFunctions.<action>`.
    fn call(&mut self, action: &str, body: &str) -> io::Result<Response> {
        self.out.clear();
        write!(
            self.out,
            "POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: AWSStepFunctions.{action}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        self.exchange()
    }

    /// Like [`Client::call`], but an answer other than 200 is an error.
    fn ok(&mut self, action: &str, body: &str) -> io::Result<String> {
        let r = self.call(action, body)?;
        if r.status != 200 {
            return Err(io::Error::other(format!(
                "{action} answered {}: {}",
                r.status, r.body
            )));
        }
        Ok(r.body)
    }

    fn exchange(&mut self) -> io::Result<Response> {
        self.stream.write_all(&self.out)?;
        self.line.clear();
        if self.reader.read_line(&mut self.line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let status = self
            .line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {:?}", self.line)))?;
        let mut length = None;
        loop {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                }
            }
        }
        let length = length.ok_or_else(|| io::Error::other("an answer without Content-Length"))?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(Response {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

// ----- the server, in-process ---------------------------------------------------------------

/// A directory removed when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "stepwise-bench-{what}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `stepwise serve` on 127.0.0.1 and a free port, on a SQLite file in a temporary directory:
/// the same wiring as crates/cli/src/serve.rs.
#[derive(Debug)]
struct Server {
    addr: SocketAddr,
    runtime: Arc<Runtime>,
    tokio: Option<tokio::runtime::Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dir: TempDir,
}

impl Server {
    fn start() -> Server {
        Server::keeping(RuntimeConfig::default().retention)
    }

    /// A server on a SQLite file that keeps closed executions `retention` long.
    fn keeping(retention: Option<Duration>) -> Server {
        let dir = TempDir::new("store");
        let path = dir.path().join("stepwise.db");
        Server::with(dir, retention, move |_| {
            Arc::new(SqliteStore::open(path).expect("the store opens")) as Arc<dyn Store>
        })
    }

    /// A server on the store `open` makes (on the server's own async runtime), as one node.
    fn on(dir: TempDir, open: impl FnOnce(&tokio::runtime::Runtime) -> Arc<dyn Store>) -> Server {
        Server::with(dir, RuntimeConfig::default().retention, open)
    }

    fn with(
        dir: TempDir,
        retention: Option<Duration>,
        open: impl FnOnce(&tokio::runtime::Runtime) -> Arc<dyn Store>,
    ) -> Server {
        let tokio = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let store = open(&tokio);
        let listener = tokio
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a free port");
        let addr = listener.local_addr().expect("the bound address");
        // Execution logs (state machines with a loggingConfiguration) go to files in `logs/`.
        let config = stepwise_tasks::Config::parse(
            &format!(
                "[logging]\ndirectory = \"{}\"\n",
                dir.path().join("logs").display()
            ),
            "stepwise.toml",
        )
        .expect("the logging configuration");
        let config = RuntimeConfig {
            integrations: Some(Arc::new(stepwise_runtime::Integrations::new(Arc::new(
                config,
            )))),
            retention,
            ..RuntimeConfig::default()
        };
        let runtime = tokio
            .block_on(Runtime::start(store.clone(), config))
            .expect("runtime starts");
        let service = Service::on_runtime(runtime.clone(), store, Arns::from_env());
        let api = Arc::new(Api::new(Arc::new(service)));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio.spawn(async move {
            let served = axum::serve(listener, router(api))
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("the server stopped: {e}");
            }
        });
        Server {
            addr,
            runtime,
            tokio: Some(tokio),
            stop: Some(stop),
            dir,
        }
    }

    fn client(&self) -> Client {
        Client::connect(self.addr).expect("the server accepts connections")
    }

    /// Creates a state machine and answers its ARN.
    fn create(&self, name: &str, kind: &str, definition: &Value) -> String {
        self.create_with(name, kind, definition, json!({"level": "OFF"}))
    }

    /// Creates a state machine with a `loggingConfiguration` and answers its ARN.
    fn create_with(&self, name: &str, kind: &str, definition: &Value, logging: Value) -> String {
        let body = json!({
            "name": name,
            "type": kind,
            "definition": definition.to_string(),
            "roleArn": "arn:aws:iam::123456789012:role/bench",
            "loggingConfiguration": logging,
        });
        let answer = self
            .client()
            .ok("CreateStateMachine", &body.to_string())
            .expect("CreateStateMachine");
        let answer: Value = serde_json::from_str(&answer).expect("JSON");
        answer["stateMachineArn"]
            .as_str()
            .expect("stateMachineArn")
            .to_owned()
    }

    fn metrics(&self) -> Metrics {
        let r = self.client().get("/metrics").expect("GET /metrics");
        Metrics(r.body)
    }

    /// Bytes of the SQLite file and its write-ahead log.
    fn store_bytes(&self) -> u64 {
        ["stepwise.db", "stepwise.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(self.dir.path().join(f)).ok())
            .map(|m| m.len())
            .sum()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.runtime.shutdown();
        if let Some(t) = self.tokio.take() {
            t.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

/// The Prometheus text of `/metrics`.
#[derive(Debug)]
struct Metrics(String);

impl Metrics {
    fn value(&self, series: &str) -> u64 {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }

    fn succeeded(&self) -> u64 {
        self.value("stepwise_executions_finished_total{status=\"SUCCEEDED\"}")
    }
}

// ----- definitions --------------------------------------------------------------------------

const CHAIN: usize = 10;

/// `n` Pass states in a row, after a Wait of `wait_seconds` if given.
fn pass_chain(n: usize, wait_seconds: Option<u64>) -> Value {
    let mut states = Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass"});
        if i + 1 == n {
            s["End"] = json!(true);
        } else {
            s["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), s);
    }
    match wait_seconds {
        Some(seconds) => {
            states.insert(
                "Wait".into(),
                json!({"Type": "Wait", "Seconds": seconds, "Next": "S0"}),
            );
            json!({"StartAt": "Wait", "States": states})
        }
        None => json!({"StartAt": "S0", "States": states}),
    }
}

fn start_body(machine: &str) -> String {
    json!({"stateMachineArn": machine, "input": "{\"order\":42,\"items\":[\"a\",\"b\"]}"})
        .to_string()
}

// ----- measuring ----------------------------------------------------------------------------

/// Latencies of one run and its wall time.
#[derive(Debug)]
struct Run {
    label: String,
    latencies: Vec<Duration>,
    wall: Duration,
}

impl Run {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i]
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// `total` requests over `connections` connections at once; `request` makes one on a client.
fn drive(
    label: &str,
    server: &Server,
    total: usize,
    connections: usize,
    request: &(dyn Fn(&mut Client) -> io::Result<()> + Sync),
) -> Run {
    drive_on(label, &[server], total, connections, request)
}

/// [`drive`] with the connections spread over several servers (nodes), round robin.
fn drive_on(
    label: &str,
    servers: &[&Server],
    total: usize,
    connections: usize,
    request: &(dyn Fn(&mut Client) -> io::Result<()> + Sync),
) -> Run {
    let connections = connections.clamp(1, total.max(1));
    let mut clients: Vec<Client> = (0..connections)
        .map(|i| servers[i % servers.len()].client())
        .collect();
    let began = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|scope| {
        let workers: Vec<_> = clients
            .iter_mut()
            .enumerate()
            .map(|(i, client)| {
                let share = total / connections + usize::from(i < total % connections);
                scope.spawn(move || {
                    let mut mine = Vec::with_capacity(share);
                    for _ in 0..share {
                        let t = Instant::now();
                        if let Err(e) = request(client) {
                            panic!("{label}: {e}");
                        }
                        mine.push(t.elapsed());
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a client thread"))
            .collect()
    });
    Run {
        label: label.to_owned(),
        latencies,
        wall: began.elapsed(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// Prints runs as a table; ratios are against `baseline` (p50 against p50, rate against rate).
fn table(title: &str, baseline: &Run, runs: &[&Run]) {
    let mut out = String::new();
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  {:<44} {:>7} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "case", "n", "p50", "p99", "per s", "p50 / b", "rate / b"
    );
    for run in std::iter::once(baseline).chain(runs.iter().copied()) {
        let _ = writeln!(
            out,
            "  {:<44} {:>7} {:>10} {:>10} {:>10.0} {:>8.2}x {:>8.3}x",
            run.label,
            run.latencies.len(),
            ms(run.percentile(0.50)),
            ms(run.percentile(0.99)),
            run.per_second(),
            run.percentile(0.50).as_secs_f64() / baseline.percentile(0.50).as_secs_f64(),
            run.per_second() / baseline.per_second(),
        );
    }
    print!("{out}");
}

fn expect_status(body: &str, status: &str) -> io::Result<()> {
    if body.contains(&format!("\"status\":\"{status}\"")) {
        Ok(())
    } else {
        Err(io::Error::other(format!("expected {status}, got {body}")))
    }
}

// ----- 1. Express, synchronous --------------------------------------------------------------

fn express(sizes: &Sizes) {
    let server = Server::start();
    let machine = server.create("bench-express", "EXPRESS", &pass_chain(CHAIN, None));
    let body = start_body(&machine);
    let n = sizes.requests;
    let c = sizes.concurrency;
    let health = |client: &mut Client| {
        let r = client.get("/health")?;
        if r.status == 200 {
            Ok(())
        } else {
            Err(io::Error::other(format!("/health answered {}", r.status)))
        }
    };
    let list = |client: &mut Client| client.ok("ListActivities", "{}").map(drop);
    let sync = |client: &mut Client| {
        let answer = client.ok("StartSyncExecution", &body)?;
        expect_status(&answer, "SUCCEEDED")
    };
    // Warm up: connections, caches, the parsed definition.
    drive("warm-up", &server, 500, c, &sync);
    drive("warm-up", &server, 500, c, &list);

    let base = drive(
        "baseline: GET /health, 1 connection",
        &server,
        n,
        1,
        &health,
    );
    let list1 = drive("ListActivities (empty), 1 connection", &server, n, 1, &list);
    let sync1 = drive(
        "StartSyncExecution 10 Pass, 1 connection",
        &server,
        n,
        1,
        &sync,
    );
    table(
        &format!("express: StartSyncExecution of a {CHAIN}-Pass Express chain, sequential"),
        &base,
        &[&list1, &sync1],
    );
    let base_c = drive(
        &format!("baseline: GET /health, {c} connections"),
        &server,
        n,
        c,
        &health,
    );
    let list_c = drive(
        &format!("ListActivities (empty), {c} connections"),
        &server,
        n,
        c,
        &list,
    );
    let sync_c = drive(
        &format!("StartSyncExecution 10 Pass, {c} connections"),
        &server,
        n,
        c,
        &sync,
    );
    table(
        &format!("express: the same with {c} concurrent connections"),
        &base_c,
        &[&list_c, &sync_c],
    );
    let p50 = sync1.percentile(0.5);
    println!(
        "  target: sync p50 <= 1 ms: {} ({}); {:.0} transitions/s with {c} connections",
        if p50 <= Duration::from_millis(1) {
            "met"
        } else {
            "MISSED"
        },
        ms(p50),
        sync_c.per_second() * CHAIN as f64
    );
}

// ----- 2. Standard, durable -----------------------------------------------------------------

fn standard(sizes: &Sizes) {
    let server = Server::start();
    let machine = server.create("bench-standard", "STANDARD", &pass_chain(CHAIN, None));
    let body = start_body(&machine);
    let polls = AtomicUsize::new(0);
    let start = |client: &mut Client| client.ok("StartExecution", &body).map(drop);
    // Start, then DescribeExecution until it is no longer RUNNING.
    let to_end = |client: &mut Client| {
        let answer: Value =
            serde_json::from_str(&client.ok("StartExecution", &body)?).map_err(io::Error::other)?;
        let describe = json!({"executionArn": answer["executionArn"]}).to_string();
        loop {
            polls.fetch_add(1, Ordering::Relaxed);
            let d = client.ok("DescribeExecution", &describe)?;
            if !d.contains("\"status\":\"RUNNING\"") {
                return expect_status(&d, "SUCCEEDED");
            }
        }
    };
    let list = |client: &mut Client| client.ok("ListActivities", "{}").map(drop);
    drive("warm-up", &server, 300, 8, &to_end);
    drive("warm-up", &server, 300, 8, &list);

    let n = (sizes.requests / 10).max(100);
    let base = drive(
        "baseline: ListActivities (empty), 1 conn",
        &server,
        n,
        1,
        &list,
    );
    let start1 = drive("StartExecution, 1 connection", &server, n, 1, &start);
    polls.store(0, Ordering::Relaxed);
    let end1 = drive(
        "start -> SUCCEEDED (Describe polls), 1 conn",
        &server,
        n,
        1,
        &to_end,
    );
    let polls_per = polls.load(Ordering::Relaxed) as f64 / n as f64;
    table(
        &format!(
            "standard: a {CHAIN}-Pass Standard chain on a SQLite file, sequential (durable before the answer)"
        ),
        &base,
        &[&start1, &end1],
    );
    println!(
        "  DescribeExecution calls per execution: {polls_per:.2} (1.00 = SUCCEEDED when StartExecution answers)"
    );

    // Throughput: many executions at once, wall time until every one SUCCEEDED.
    let m = sizes.executions;
    let c = sizes.connections;
    let base_c = drive(
        &format!("baseline: ListActivities (empty), {c} conns"),
        &server,
        m,
        c,
        &list,
    );
    let before = server.metrics();
    let done_before = before.succeeded();
    let began = Instant::now();
    let started = drive(
        &format!("StartExecution, {c} connections"),
        &server,
        m,
        c,
        &start,
    );
    let mut monitor = server.client();
    let deadline = Instant::now() + Duration::from_secs(600);
    let after = loop {
        let now = Metrics(monitor.get("/metrics").expect("GET /metrics").body);
        if now.succeeded() >= done_before + m as u64 {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "executions did not finish in time"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = began.elapsed();
    table(
        &format!("standard: {m} executions started over {c} connections at once"),
        &base_c,
        &[&started],
    );
    let counted = |series: &str| after.value(series).saturating_sub(before.value(series));
    let transitions = (CHAIN * m) as f64;
    let commits = counted("stepwise_store_commits_total");
    let rate = transitions / wall.as_secs_f64();
    println!(
        "  all SUCCEEDED after {}: {:.0} executions/s, {rate:.0} durable transitions/s \
         ({} counted by the server; {commits} commits, {:.1} executions per commit; store {:.1} MB)",
        ms(wall),
        m as f64 / wall.as_secs_f64(),
        counted("stepwise_state_transitions_total"),
        m as f64 / commits.max(1) as f64,
        server.store_bytes() as f64 / 1e6,
    );
    println!(
        "  target: >= 20,000 durable transitions/s: {}",
        if rate >= 20_000.0 { "met" } else { "MISSED" }
    );

    // The same with execution logs: level ALL with the data, to a file.
    let logged = server.create_with(
        "bench-logged",
        "STANDARD",
        &pass_chain(CHAIN, None),
        json!({"level": "ALL", "includeExecutionData": true, "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn":
                "arn:aws:logs:us-east-1:123456789012:log-group:bench:*"}}]}),
    );
    let body = start_body(&logged);
    let start = |client: &mut Client| client.ok("StartExecution", &body).map(drop);
    let done_before = server.metrics().succeeded();
    let began = Instant::now();
    drive(
        &format!("StartExecution (logged), {c} connections"),
        &server,
        m,
        c,
        &start,
    );
    loop {
        let now = Metrics(monitor.get("/metrics").expect("GET /metrics").body);
        if now.succeeded() >= done_before + m as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline + wall,
            "logged executions did not finish in time"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let logged_wall = began.elapsed();
    server.runtime.execution_logs().flush();
    let written = began.elapsed();
    let log = server.dir.path().join("logs").join("bench.log");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = text.lines().count();
    println!(
        "  with execution logs (ALL, with data): all SUCCEEDED after {}: {:.0} executions/s \
         ({:.2}x the unlogged run's time); every line written after {}: {lines} lines \
         (expected {}), {:.1} MB",
        ms(logged_wall),
        m as f64 / logged_wall.as_secs_f64(),
        logged_wall.as_secs_f64() / wall.as_secs_f64(),
        ms(written),
        m * (2 * CHAIN + 2),
        text.len() as f64 / 1e6,
    );
    assert_eq!(lines, m * (2 * CHAIN + 2), "one line per history event");
}

// ----- 3. memory with many waiting executions ------------------------------------------------

/// This process's thread count, from /proc/self/status.
fn threads() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// This process's resident memory in bytes: `(total, anonymous, file and shared)`, from
/// /proc/self/status (VmRSS, RssAnon, RssFile + RssShmem).
fn rss_bytes() -> (u64, u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (
        field("VmRSS"),
        field("RssAnon"),
        field("RssFile") + field("RssShmem"),
    )
}

fn rss(sizes: &Sizes, kind: &str) {
    let server = Server::start();
    let machine = server.create("bench-waiting", kind, &pass_chain(2, Some(3600)));
    let body = start_body(&machine);
    let start = |client: &mut Client| {
        let answer = client.ok("StartExecution", &body)?;
        if answer.contains("executionArn") {
            Ok(())
        } else {
            Err(io::Error::other(answer))
        }
    };
    let total = sizes.waiting;
    let c = sizes.connections;
    // Every tenth of the way (which includes 10k, 50k and 100k of the full run).
    let marks: Vec<usize> = (0..=10).map(|i| total * i / 10).collect();
    if kind == "EXPRESS" {
        println!(
            "\nexpress-waiting: resident memory and threads of the process (server and clients) \
             with asynchronous Express executions waiting an hour (in memory, one timer each)"
        );
    } else {
        println!(
            "\nrss: resident memory of the process (server and clients) with executions waiting \
             an hour (cache_capacity {}; timers beyond 30 s stay in the store)",
            RuntimeConfig::default().cache_capacity
        );
    }
    println!(
        "  {:>9} {:>9} {:>9} {:>9} {:>12} {:>14} {:>9} {:>9} {:>8}",
        "waiting",
        "RSS MB",
        "anon MB",
        "file MB",
        "B / waiting",
        "B / since prev",
        "store MB",
        "starts/s",
        "threads"
    );
    let (base, _, _) = rss_bytes();
    let mut done = 0;
    let mut previous = (0usize, base);
    for mark in marks {
        let mut rate = 0.0;
        if mark > done {
            let run = drive("start", &server, mark - done, c, &start);
            rate = run.per_second();
            done = mark;
        } else if mark > 0 {
            continue;
        }
        // Let the allocator settle what the last requests freed.
        std::thread::sleep(Duration::from_millis(300));
        let (now, anon, file) = rss_bytes();
        let per = |from: u64, n: usize| {
            if n == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}", (now as f64 - from as f64) / n as f64)
            }
        };
        println!(
            "  {:>9} {:>9.1} {:>9.1} {:>9.1} {:>12} {:>14} {:>9.1} {:>9.0} {:>8}",
            mark,
            now as f64 / 1e6,
            anon as f64 / 1e6,
            file as f64 / 1e6,
            per(base, mark),
            per(previous.1, mark - previous.0),
            server.store_bytes() as f64 / 1e6,
            rate,
            threads(),
        );
        previous = (mark, now);
    }
    if kind == "STANDARD" {
        let running = server.metrics().value("stepwise_executions_running");
        println!("  executions running by the server's count: {running}");
    }
}

// ----- 4. time to the first answered request ------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Spawns `stepwise serve` and times until `GET /health` answers 200.
fn time_first_answer(binary: &Path, store: &Path) -> Duration {
    let port = free_port();
    let began = Instant::now();
    let mut child = Command::new(binary)
        .args(["serve", "--port", &port.to_string(), "--store"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the stepwise binary starts");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let answered = loop {
        let answered = Client::connect(addr)
            .and_then(|mut client| client.get("/health"))
            .is_ok_and(|r| r.status == 200);
        if answered {
            break began.elapsed();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("stepwise serve exited with {status} before answering");
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "stepwise serve did not answer within 30 s"
        );
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    answered
}

fn startup(sizes: &Sizes) {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_stepwise"));
    let dir = TempDir::new("startup");
    let n = sizes.starts;
    let version = |_: &mut ()| {
        let began = Instant::now();
        let out = Command::new(&binary)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .expect("stepwise --version runs");
        assert!(out.success(), "stepwise --version failed");
        began.elapsed()
    };
    let base = Run {
        label: "baseline: spawn `stepwise --version`, exit".into(),
        latencies: (0..n).map(|_| version(&mut ())).collect(),
        wall: Duration::from_secs(1),
    };
    let fresh = Run {
        label: "serve, new store file: first answer".into(),
        latencies: (0..n)
            .map(|i| time_first_answer(&binary, &dir.path().join(format!("fresh-{i}.db"))))
            .collect(),
        wall: Duration::from_secs(1),
    };
    let reused = dir.path().join("reused.db");
    time_first_answer(&binary, &reused);
    let existing = Run {
        label: "serve, existing store file: first answer".into(),
        latencies: (0..n)
            .map(|_| time_first_answer(&binary, &reused))
            .collect(),
        wall: Duration::from_secs(1),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nstartup: process start to the first answered GET /health ({})",
        binary.display()
    );
    let _ = writeln!(
        out,
        "  {:<44} {:>7} {:>10} {:>10} {:>10} {:>9}",
        "case", "n", "min", "p50", "max", "p50 / b"
    );
    for run in [&base, &fresh, &existing] {
        let _ = writeln!(
            out,
            "  {:<44} {:>7} {:>10} {:>10} {:>10} {:>8.2}x",
            run.label,
            run.latencies.len(),
            ms(run.percentile(0.0)),
            ms(run.percentile(0.5)),
            ms(run.percentile(1.0)),
            run.percentile(0.5).as_secs_f64() / base.percentile(0.5).as_secs_f64(),
        );
    }
    print!("{out}");
    let p50 = fresh.percentile(0.5).max(existing.percentile(0.5));
    println!(
        "  target: < 100 ms: {} ({})",
        if p50 < Duration::from_millis(100) {
            "met"
        } else {
            "MISSED"
        },
        ms(p50)
    );
}

// ----- 6. many nodes on PostgreSQL -----------------------------------------------------------

/// A schema of its own in the bench database, dropped with it (by `psql`).
struct PgSchema {
    url: String,
    name: String,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                &self.url,
                "-q",
                "-c",
                &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
            ])
            .env("PGOPTIONS", "-c client_min_messages=warning")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `nodes` servers on one fresh PostgreSQL schema, each with its partitions.
fn pg_nodes(url: &str, schema: &str, nodes: usize) -> Vec<Server> {
    let servers: Vec<Server> = (0..nodes)
        .map(|_| {
            let (url, schema) = (url.to_owned(), schema.to_owned());
            Server::on(TempDir::new("node"), move |tokio| {
                let store = tokio
                    .block_on(stepwise_store_postgres::PostgresStore::connect_in_schema(
                        &url, &schema,
                    ))
                    .expect("PostgreSQL");
                Arc::new(store) as Arc<dyn Store>
            })
        })
        .collect();
    // Every node takes its share (renewals are every third of the lease).
    let deadline = Instant::now() + Duration::from_secs(30);
    while servers.iter().any(|s| {
        s.runtime
            .node()
            .is_none_or(|(_, p)| p.len() < 64 / nodes - 1)
    }) {
        assert!(
            Instant::now() < deadline,
            "the nodes did not share the partitions"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    servers
}

/// Succeeded executions counted by every node.
fn succeeded_on(servers: &[&Server]) -> u64 {
    servers.iter().map(|s| s.metrics().succeeded()).sum()
}

/// One row of the cluster table: latency of start -> SUCCEEDED (sequential, spread over the
/// nodes) and the wall time of `m` executions started at once over every node.
fn cluster_row(label: &str, servers: &[&Server], sizes: &Sizes) -> (Run, Duration) {
    let machine = servers[0].create(
        &format!("bench-cluster-{}", servers.len()),
        "STANDARD",
        &pass_chain(CHAIN, None),
    );
    let body = start_body(&machine);
    let to_end = |client: &mut Client| {
        let answer: Value =
            serde_json::from_str(&client.ok("StartExecution", &body)?).map_err(io::Error::other)?;
        let describe = json!({"executionArn": answer["executionArn"]}).to_string();
        loop {
            let d = client.ok("DescribeExecution", &describe)?;
            if !d.contains("\"status\":\"RUNNING\"") {
                return expect_status(&d, "SUCCEEDED");
            }
        }
    };
    let start = |client: &mut Client| client.ok("StartExecution", &body).map(drop);
    drive_on("warm-up", servers, 50, servers.len(), &to_end);
    let n = (sizes.requests / 20).max(20);
    let latency = drive_on(label, servers, n, servers.len(), &to_end);
    let m = sizes.executions;
    let before = succeeded_on(servers);
    let began = Instant::now();
    drive_on(label, servers, m, sizes.connections, &start);
    let deadline = Instant::now() + Duration::from_secs(600);
    while succeeded_on(servers) < before + m as u64 {
        assert!(
            Instant::now() < deadline,
            "{label}: executions did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    (latency, began.elapsed())
}

fn cluster(sizes: &Sizes) {
    let Some(url) = std::env::var("STEPWISE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("\ncluster: skipped (STEPWISE_TEST_POSTGRES_URL is not set)");
        return;
    };
    let m = sizes.executions;
    let mut rows: Vec<(String, Run, Duration)> = Vec::new();
    {
        let server = Server::start();
        let (latency, wall) = cluster_row("SQLite file, 1 node", &[&server], sizes);
        rows.push(("SQLite file, 1 node".into(), latency, wall));
    }
    for nodes in 1..=3 {
        let schema = PgSchema {
            url: url.clone(),
            name: format!("stepwise_bench_{}_{nodes}", std::process::id()),
        };
        let servers = pg_nodes(&url, &schema.name, nodes);
        let refs: Vec<&Server> = servers.iter().collect();
        let label = format!(
            "PostgreSQL, {nodes} node{}",
            if nodes == 1 { "" } else { "s" }
        );
        let (latency, wall) = cluster_row(&label, &refs, sizes);
        rows.push((label, latency, wall));
        drop(servers);
        drop(schema);
    }
    let base_rate = (CHAIN * m) as f64 / rows[0].2.as_secs_f64();
    let base_p50 = rows[0].1.percentile(0.5);
    println!(
        "\ncluster: a {CHAIN}-Pass Standard chain; latency start -> SUCCEEDED sequential over the \
         nodes; throughput: {m} executions started over {} connections spread over the nodes",
        sizes.connections
    );
    println!(
        "  {:<24} {:>12} {:>12} {:>10} {:>16} {:>10}",
        "store", "p50", "p99", "p50 ratio", "transitions/s", "ratio"
    );
    for (label, latency, wall) in &rows {
        let rate = (CHAIN * m) as f64 / wall.as_secs_f64();
        let p50 = latency.percentile(0.5);
        println!(
            "  {label:<24} {:>12} {:>12} {:>9.2}x {rate:>16.0} {:>9.2}x",
            ms(p50),
            ms(latency.percentile(0.99)),
            p50.as_secs_f64() / base_p50.as_secs_f64(),
            rate / base_rate,
        );
    }
}

// ----- 7. Retention under steady load -------------------------------------------------------

/// One steady-load run of the `retention` scenario.
struct Steady {
    /// (offset from the start, latency) of each StartExecution.
    starts: Vec<(Duration, Duration)>,
    /// The store's size over time.
    samples: Vec<(Duration, u64)>,
    succeeded: u64,
}

/// `rate` StartExecutions a second of a 10-Pass chain for `total` on a server keeping closed
/// executions `keep` long (none: for ever).
fn steady(keep: Option<Duration>, total: Duration, rate: usize) -> Steady {
    let server = Server::keeping(keep);
    let machine = server.create("bench-retention", "STANDARD", &pass_chain(CHAIN, None));
    let body = start_body(&machine);
    let connections = 8;
    let began = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (starts, samples) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = vec![(Duration::ZERO, server.store_bytes())];
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(total / 20);
                samples.push((began.elapsed(), server.store_bytes()));
            }
            samples
        });
        let drivers: Vec<_> = (0..connections)
            .map(|k| {
                let body = &body;
                let server = &server;
                scope.spawn(move || {
                    let mut client = server.client();
                    let every = Duration::from_secs_f64(connections as f64 / rate as f64);
                    let mut mine = Vec::new();
                    // Paced: request i of this connection is due at its share of the rate.
                    let mut due = began + every.mul_f64(k as f64 / connections as f64);
                    while due < began + total {
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let t = Instant::now();
                        if let Err(e) = client.ok("StartExecution", body) {
                            panic!("StartExecution: {e}");
                        }
                        mine.push((t - began, t.elapsed()));
                        due += every;
                    }
                    mine
                })
            })
            .collect();
        let starts: Vec<(Duration, Duration)> = drivers
            .into_iter()
            .flat_map(|d| d.join().expect("a driver thread"))
            .collect();
        done.store(true, Ordering::Relaxed);
        (starts, sampler.join().expect("the sampler"))
    });
    let succeeded = server.metrics().succeeded();
    Steady {
        starts,
        samples,
        succeeded,
    }
}

impl Steady {
    /// The StartExecutions made from `from` to `to`.
    fn window(&self, label: &str, from: Duration, to: Duration) -> Run {
        Run {
            label: label.to_owned(),
            latencies: self
                .starts
                .iter()
                .filter(|(at, _)| *at >= from && *at < to)
                .map(|(_, took)| *took)
                .collect(),
            wall: to.saturating_sub(from),
        }
    }

    /// The store's size at `at` (the sample nearest to it).
    fn bytes_at(&self, at: Duration) -> u64 {
        self.samples
            .iter()
            .min_by_key(|(t, _)| t.abs_diff(at))
            .map_or(0, |(_, b)| *b)
    }
}

fn retention(sizes: &Sizes) {
    let (total, keep) = if sizes.smoke {
        (Duration::from_secs(3), Duration::from_secs(1))
    } else if sizes.quick {
        (Duration::from_secs(60), Duration::from_secs(10))
    } else {
        (Duration::from_secs(600), Duration::from_secs(60))
    };
    let rate = if sizes.smoke { 20 } else { sizes.rate };
    // The same load twice: keeping everything (the baseline), then keeping closed executions
    // `keep` long.
    let kept = steady(None, total, rate);
    let removed = steady(Some(keep), total, rate);
    // Nothing is old enough to go before `keep`; removal runs from the first look after it
    // (every tenth of the retention).
    let removing_from = keep + keep / 10 + Duration::from_secs(1);
    println!(
        "\nretention: {rate} executions a second for {} s ({} started each run), once keeping everything, once keeping closed ones {} s",
        total.as_secs(),
        removed.starts.len(),
        keep.as_secs(),
    );
    println!(
        "  {:>8} {:>16} {:>16}",
        "time", "keep everything", "keep for a while"
    );
    for (at, bytes) in &removed.samples {
        println!(
            "  {:>7.0}s {:>13.1} MB {:>13.1} MB",
            at.as_secs_f64(),
            kept.bytes_at(*at) as f64 / 1e6,
            *bytes as f64 / 1e6
        );
    }
    let at_keep = removed
        .window("", Duration::ZERO, keep)
        .latencies
        .len()
        .max(1);
    println!(
        "  {:.0} bytes per execution stored (at {} s); over the second half of the run the store grew {:.1} MB keeping everything, {:.1} MB with removal",
        removed.bytes_at(keep) as f64 / at_keep as f64,
        keep.as_secs(),
        (kept.bytes_at(total) as f64 - kept.bytes_at(total / 2) as f64) / 1e6,
        (removed.bytes_at(total) as f64 - removed.bytes_at(total / 2) as f64) / 1e6,
    );
    let base = kept.window("StartExecution, keeping everything", removing_from, total);
    let during = removed.window("StartExecution, while removing", removing_from, total);
    table(
        &format!(
            "retention: StartExecution latency from {} s to the end, without removal (baseline) and with it",
            removing_from.as_secs()
        ),
        &base,
        &[&during],
    );
    println!(
        "  p99 with removal / p99 without: {:.2}x",
        during.percentile(0.99).as_secs_f64() / base.percentile(0.99).as_secs_f64().max(1e-9)
    );
    println!(
        "  executions succeeded: {} and {} of {} and {} started",
        kept.succeeded,
        removed.succeeded,
        kept.starts.len(),
        removed.starts.len()
    );
}
