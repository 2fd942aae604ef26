//! Authentication and authorization end to end: `stepwise serve --keys FILE` with boto3, the AWS
//! CLI and hand-signed requests (`tests/e2e/auth.py`, which also gives the keys file), and
//! `serve` refusing to listen beyond loopback with no keys.
//!
//! Without Python or PyPI the e2e part skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, python, python_command, run_python, scratch_store};

#[test]
fn signed_requests_with_configured_keys_and_their_policies() {
    let Some(python) = python() else { return };
    let store = scratch_store("auth");
    let keys = store.with_file_name("keys.json");
    let out = python_command(&python, "auth.py", "http://127.0.0.1:9")
        .arg("keys")
        .output()
        .expect("run auth.py keys");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&keys, &out.stdout).expect("write the keys file");
    let server = Server::start(
        &store,
        &[("STEPWISE_KEYS", keys.to_str().expect("utf-8 path"))],
    );
    run_python(&python, "auth.py", &server, &[]);
}

/// `serve` on an address other than loopback with no keys: refused, with the reason; with
/// `--allow-anonymous` it listens.
#[test]
fn serve_refuses_to_listen_beyond_loopback_without_keys() {
    let serve = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stepwise"));
        cmd.args([
            "serve", "--bind", "0.0.0.0", "--port", "0", "--store", ":memory:",
        ])
        .args(extra)
        .env_remove("STEPWISE_KEYS")
        .env("STEPWISE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        cmd.spawn().expect("spawn stepwise serve")
    };
    let refused = serve(&[]).wait_with_output().expect("wait");
    assert_eq!(refused.status.code(), Some(2));
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(
        text.contains("refusing to listen on 0.0.0.0 with no authentication")
            && text.contains("--allow-anonymous"),
        "{text}"
    );

    let mut allowed = serve(&["--allow-anonymous"]);
    let stderr = allowed.stderr.take().expect("stderr");
    let began = Instant::now();
    let mut listening = false;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if line.contains("stepwise listening") {
            assert!(line.contains("\"auth\":\"none\""), "{line}");
            listening = true;
            break;
        }
        if began.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    let _ = allowed.kill();
    let _ = allowed.wait();
    assert!(listening, "serve --allow-anonymous did not start listening");
}
