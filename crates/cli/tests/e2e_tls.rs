//! `stepwise serve` over HTTPS (`--tls-cert`, `--tls-key`) with boto3 and the AWS CLI
//! (`tests/e2e/tls.py`), on a self-signed certificate made with `openssl` for 127.0.0.1.
//!
//! Without Python, PyPI or openssl it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::{python, python_command, scratch_store};

#[test]
fn boto3_and_the_aws_cli_reach_the_server_over_https() {
    let Some(python) = python() else { return };
    let dir = scratch_store("tls");
    let dir = dir.parent().expect("a folder").to_owned();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    match made {
        Ok(out) if out.status.success() => {}
        other => {
            let why = format!("openssl could not make a certificate: {other:?}");
            assert!(std::env::var("STEPWISE_E2E_REQUIRED").is_err(), "{why}");
            eprintln!("skipped: {why}");
            return;
        }
    }
    let mut server = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["serve", "--port", "0", "--store", ":memory:", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .env("STEPWISE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stepwise serve");
    let stderr = server.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("stepwise listening") {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                let _ = tx.send((
                    v["fields"]["address"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    v["fields"]["scheme"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ));
            }
        }
    });
    let (address, scheme) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server listens");
    assert_eq!(scheme, "https");
    let out = python_command(&python, "tls.py", &format!("https://{address}"))
        .env("AWS_CA_BUNDLE", &cert)
        .output()
        .expect("run tls.py");
    let _ = server.kill();
    let _ = server.wait();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "tls.py failed:\n{text}");
}
