//! End-to-end tests of the Run a Job (`.sync`) Task states of the job integrations (Glue,
//! Athena, Batch, ECS, CodeBuild): `stepwise serve` pointed at a stand-in for the services
//! (`tests/e2e/job_stand_in.py`, jobs that run for a few describes) or at moto's server, boto3
//! running the state machines (`tests/e2e/sync_jobs.py`); and a server killed with SIGKILL while
//! it polls a job, which after its restart polls the same job to its end without starting
//! another.
//!
//! Without Python or PyPI they skip with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{Moto, Server, e2e_dir, python, python_command, run_python_env, scratch_store};

/// The job services' stand-in, on a free port; stopped when dropped.
struct StandIn {
    child: Child,
    url: String,
}

impl StandIn {
    fn start(python: &Path) -> StandIn {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(python)
            .arg(e2e_dir().join("job_stand_in.py"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the stand-in");
        let stand_in = StandIn {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return stand_in;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the stand-in did not start on port {port}");
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sync_jobs_are_polled_to_their_end_and_stopped_with_their_task() {
    let Some(python) = python() else { return };
    let stand_in = StandIn::start(&python);
    let store = scratch_store("sync_jobs");
    let server = Server::start(
        &store,
        &[
            ("AWS_ENDPOINT_URL", stand_in.url.as_str()),
            ("STEPWISE_SYNC_POLL_SECONDS", "0.05"),
        ],
    );
    run_python_env(
        &python,
        "sync_jobs.py",
        &server,
        &["stand-in"],
        &[("STAND_IN_URL", stand_in.url.as_str())],
    );
}

#[test]
fn sync_jobs_run_to_their_end_in_moto() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("sync_moto");
    let server = Server::start(
        &store,
        &[
            ("AWS_ENDPOINT_URL", moto.url.as_str()),
            ("STEPWISE_SYNC_POLL_SECONDS", "0.05"),
        ],
    );
    run_python_env(
        &python,
        "sync_jobs.py",
        &server,
        &["moto"],
        &[("MOTO_URL", moto.url.as_str())],
    );
}

#[test]
fn a_server_killed_while_polling_polls_the_same_job_after_its_restart() {
    let Some(python) = python() else { return };
    let stand_in = StandIn::start(&python);
    let store = scratch_store("sync_crash");
    let arn_file = store.with_file_name("execution-arn");
    let mut server = Server::start(
        &store,
        &[
            ("AWS_ENDPOINT_URL", stand_in.url.as_str()),
            ("STEPWISE_SYNC_POLL_SECONDS", "0.1"),
        ],
    );
    let step = |server: &Server, mode: &str| {
        let out = python_command(&python, "sync_jobs.py", &server.url)
            .args([mode, arn_file.to_str().expect("utf-8 path")])
            .env("STAND_IN_URL", &stand_in.url)
            .output()
            .expect("run sync_jobs.py");
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{text}");
        assert!(out.status.success(), "sync_jobs.py {mode} failed:\n{text}");
    };
    // The job runs for 25 describes (2.5 s); the server dies after the second.
    step(&server, "crash-start");
    server.kill9();
    std::thread::sleep(Duration::from_millis(300));
    server.restart();
    step(&server, "crash-finish");
}
