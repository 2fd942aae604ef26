//! Shared by the end-to-end tests: a Python venv with the real AWS clients (boto3, awscli) from
//! PyPI, and a `stepwise serve` child process on a free port, on a SQLite file or in a fresh
//! PostgreSQL schema ([`TestStore`]).
//!
//! The venv lives in Cargo's target directory and is made once. Without Python or PyPI the
//! tests that need it skip with a message, unless `STEPWISE_E2E_REQUIRED=1` (CI sets it) makes
//! that a failure.

#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use stepwise_test_support::postgres::Schema;

/// The tasks crate's runner: imports a handler and answers as Lambda's Python runtime.
pub const LAMBDA_RUNNER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tasks/tests/lambda/runner.py"
);

/// `stepwise.toml` lines for HTTP Task tests: only 127.0.0.1 may be called, and the connection
/// `e2e` sends the API key `x-api-key: e2e-secret`.
pub const HTTP_TASK_CONFIG: &str = r#"
[http]
allow_hosts = ["127.0.0.1"]

[connections.e2e]
auth = "api_key"
api_key_name = "x-api-key"
api_key_value = "e2e-secret"
"#;

/// Writes Python Lambda handlers (`(name, source)`: `name.py` defining `handler`) into
/// `dir/functions`; answers the `stepwise.toml` tables that make each a local function, run by
/// `python` through [`LAMBDA_RUNNER`] with `timeout_seconds`.
pub fn lambda_functions(
    dir: &Path,
    python: &str,
    functions: &[(&str, &str)],
    timeout_seconds: u64,
) -> String {
    let folder = dir.join("functions");
    std::fs::create_dir_all(&folder).expect("functions folder");
    let folder = folder.to_str().expect("a UTF-8 path").to_owned();
    let mut config = String::new();
    for (name, source) in functions {
        std::fs::write(Path::new(&folder).join(format!("{name}.py")), source)
            .expect("write a function");
        config.push_str(&format!(
            "\n[lambda.functions.{name}]\ncommand = [{python:?}, {LAMBDA_RUNNER:?}, {folder:?}, \"{name}.handler\"]\ntimeout_seconds = {timeout_seconds}\n"
        ));
    }
    config
}

/// Where the end-to-end Python sources are.
pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// The venv's python, made on first use (boto3, awscli and moto from PyPI).
pub fn python() -> Option<PathBuf> {
    stepwise_test_support::python::venv_python(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        &e2e_dir().join("requirements.txt"),
    )
}

/// Which store a test's server keeps its state in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a fresh directory.
    Sqlite,
    /// A fresh schema of the test PostgreSQL database (`STEPWISE_TEST_POSTGRES_URL`).
    Postgres,
}

/// A test's store: what `serve --store` is given, a scratch directory for the test's other
/// files, and on PostgreSQL the schema, dropped when the last of this and the servers started
/// on it is dropped (after they are killed), also when the test fails.
#[derive(Debug)]
pub struct TestStore {
    arg: OsString,
    dir: PathBuf,
    schema: Option<Arc<Schema>>,
}

impl TestStore {
    /// A fresh store for `test` (lowercase letters, digits and `_`) on `backend`; `None` (the
    /// test skips with a note) where the machine has no PostgreSQL, unless
    /// `STEPWISE_E2E_REQUIRED` makes that a failure.
    pub fn new(test: &str, backend: Backend) -> Option<TestStore> {
        let file = scratch_store(&match backend {
            Backend::Sqlite => test.to_owned(),
            Backend::Postgres => format!("{test}-postgres"),
        });
        let dir = file.parent().expect("a scratch directory").to_owned();
        match backend {
            Backend::Sqlite => Some(TestStore {
                arg: file.into_os_string(),
                dir,
                schema: None,
            }),
            Backend::Postgres => {
                let schema = Schema::fresh(&format!("e2e_{test}"))?;
                Some(TestStore {
                    arg: schema.url().into(),
                    dir,
                    schema: Some(Arc::new(schema)),
                })
            }
        }
    }

    /// A directory of the test's own for its other files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The PostgreSQL schema, on that backend.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_deref()
    }
}

/// A `stepwise serve` process.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub url: String,
    store: OsString,
    envs: Vec<(String, String)>,
    /// Kept until the server is killed (fields drop after [`Drop::drop`]).
    _schema: Option<Arc<Schema>>,
}

impl Server {
    /// Starts a server on a free port with its store at `store`.
    pub fn start(store: &Path, envs: &[(&str, &str)]) -> Server {
        Server::start_store(store.as_os_str(), None, envs)
    }

    /// Starts a server on a free port on a test's store.
    pub fn start_on(store: &TestStore, envs: &[(&str, &str)]) -> Server {
        Server::start_store(&store.arg, store.schema.clone(), envs)
    }

    fn start_store(store: &OsStr, schema: Option<Arc<Schema>>, envs: &[(&str, &str)]) -> Server {
        let envs: Vec<(String, String)> = envs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, url) = spawn(store, &envs, 0);
        Server {
            child,
            url,
            store: store.to_owned(),
            envs,
            _schema: schema,
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in url")
    }

    /// The most memory the server has held so far (VmHWM, KiB), where /proc says it.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same store and port.
    pub fn restart(&mut self) {
        let port = self.port();
        let (child, url) = spawn(&self.store, &self.envs, port);
        self.child = child;
        self.url = url;
    }

    /// SIGTERM, then waits up to `grace` for the exit code; `Err` with the time waited if the
    /// server had not exited by then (it is then killed).
    pub fn terminate_within(&mut self, grace: Duration) -> Result<Option<i32>, Duration> {
        let began = std::time::Instant::now();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        while began.elapsed() < grace {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Ok(status.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
        Err(began.elapsed())
    }

    /// SIGTERM, then waits for the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(store: &OsStr, envs: &[(String, String)], port: u16) -> (Child, String) {
    for _attempt in 0..50 {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stepwise"));
        cmd.args(["serve", "--port", &port.to_string(), "--store"])
            .arg(store)
            .env("STEPWISE_LOG", "info")
            .env("STEPWISE_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn stepwise serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.contains("stepwise listening") {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                    let addr = v["fields"]["address"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(Some(addr));
                    sent = true;
                }
                if std::env::var("STEPWISE_E2E_SERVER_LOG").is_ok() {
                    eprintln!("[server] {line}");
                }
            }
            if !sent {
                let _ = tx.send(None);
            }
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(addr)) if !addr.is_empty() => return (child, format!("http://{addr}")),
            _ => {
                // The port may still be held by the process just killed: try again.
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    panic!("stepwise serve did not start");
}

/// The command that runs a Python e2e script with the venv's python against the server at `url`
/// (dummy credentials, unbuffered output).
pub fn python_command(python: &Path, script: &str, url: &str) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(e2e_dir().join(script))
        .current_dir(e2e_dir())
        .env("STEPWISE_URL", url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// Runs a Python e2e script with the venv's python against `server`; panics with its output
/// when it fails.
pub fn run_python(python: &Path, script: &str, server: &Server, args: &[&str]) {
    run_python_env(python, script, server, args, &[]);
}

/// [`run_python`] with more environment variables for the script.
pub fn run_python_env(
    python: &Path,
    script: &str,
    server: &Server,
    args: &[&str],
    envs: &[(&str, &str)],
) {
    let out = python_command(python, script, &server.url)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run python");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "{script} failed:\n{text}");
}

/// [`run_python_env`], answering what the script printed on stdout.
pub fn python_output(
    python: &Path,
    script: &str,
    server: &Server,
    args: &[&str],
    envs: &[(&str, &str)],
) -> String {
    let out = python_command(python, script, &server.url)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A fresh directory for one test's store (emptied if a previous run left it), and the store
/// file's path inside it.
pub fn scratch_store(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e-stores")
        .join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join("stepwise.db")
}

/// A plain HTTP/1.1 GET on the server; returns the status code and the body.
pub fn http_get(server: &Server, path: &str) -> (u16, String) {
    http_get_at(&server.url, path)
}

/// `GET path` at `url` (`http://host:port`): the status and the body.
pub fn http_get_at(url: &str, path: &str) -> (u16, String) {
    let host = url.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&host).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// moto's server (a local AWS) from the venv, on a free port; stopped when dropped.
#[allow(unused_imports)]
pub use stepwise_test_support::python::Moto;
