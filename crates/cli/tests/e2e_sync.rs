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

use support::{
    Moto, Server, e2e_dir, http_get_at, python, python_command, run_python_env, scratch_store,
};

/// The job services' stand-in, on a free port; stopped when dropped.
struct StandIn {
    child: Child,
    url: String,
}

impl StandIn {
    fn start(python: &Path) -> StandIn {
        let port = stepwise_test_support::free_port();
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

/// `stepwise run` polls a `.sync` job in its own process, and stops it when the task ends
/// first (here its `TimeoutSeconds`), as the server does.
#[test]
fn stepwise_run_polls_a_job_and_stops_it_when_its_task_times_out() {
    let Some(python) = python() else { return };
    let stand_in = StandIn::start(&python);
    let machine = serde_json::json!({
        "StartAt": "Done",
        "States": {
            "Done": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                     "Parameters": {"JobName": "run-polls-2"}, "Next": "Slow"},
            "Slow": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
                     "Parameters": {"JobName": "run-slow"}, "TimeoutSeconds": 1, "End": true}
        }
    });
    let file = scratch_store("run_sync").with_file_name("machine.asl.json");
    std::fs::write(&file, machine.to_string()).expect("write the definition");
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", file.to_str().expect("utf-8 path")])
        .env("AWS_ENDPOINT_URL", &stand_in.url)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("STEPWISE_SYNC_POLL_SECONDS", "0.05")
        .output()
        .expect("run stepwise");
    let result: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(result["status"], "FAILED", "{result}");
    assert_eq!(result["error"], "States.Timeout", "{result}");
    // The stop is sent as the run ends; give the stand-in a moment to count it.
    let mut counts = serde_json::Value::Null;
    for _ in 0..100 {
        let (_, body) = http_get_at(&stand_in.url, "/counts");
        counts = serde_json::from_str(&body).expect("counts are JSON");
        if counts["run-slow"]["stops"] == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(counts["run-polls-2"]["starts"], 1, "{counts}");
    assert_eq!(counts["run-polls-2"]["describes"], 2, "{counts}");
    assert_eq!(counts["run-polls-2"]["stops"], 0, "{counts}");
    assert_eq!(counts["run-slow"]["starts"], 1, "{counts}");
    assert_eq!(
        counts["run-slow"]["stops"], 1,
        "the job of the timed-out task: {counts}"
    );
}
