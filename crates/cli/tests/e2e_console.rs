//! The web console in a real browser: `stepwise serve`, Debian's headless Chromium, and
//! Playwright (from PyPI, in a venv of its own) clicking through `tests/e2e/console_browser.py`,
//! and with access keys configured through `tests/e2e/console_login.py` (sign-in, policies).
//! Screenshots are kept in the target directory (`tmp/console-screenshots/`).
//!
//! `stepwise graph`'s Mermaid is checked by Mermaid's own parser in the same page, and every
//! kind of page by axe-core's WCAG 2.1 A and AA rules (npm packages, fetched with `npm pack`).
//!
//! Without Chromium, PyPI or npm this skips with a message, unless `STEPWISE_E2E_REQUIRED=1` (CI
//! sets it, and installs Chromium) makes that a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Server, python_command, scratch_store};

/// Debian's Chromium and the venv with Playwright, or none (the test then skips, or fails when
/// STEPWISE_E2E_REQUIRED=1).
fn browser() -> Option<(String, PathBuf)> {
    let chromium =
        std::env::var("STEPWISE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        stepwise_test_support::python::unavailable(&format!(
            "{chromium} is missing (apt-get install chromium)"
        ));
        return None;
    }
    let python = stepwise_test_support::python::named_venv_python(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "console-venv",
        &support::e2e_dir().join("console-requirements.txt"),
    )?;
    Some((chromium, python))
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
}

fn check(out: &std::process::Output, script: &str) {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}\nscreenshots: {}", screenshots().display());
    assert!(out.status.success(), "{script} failed:\n{text}");
}

#[test]
fn the_console_in_a_browser() {
    let Some((chromium, python)) = browser() else {
        return;
    };
    let Some(mermaid) = npm_file("mermaid", MERMAID, "dist/mermaid.min.js") else {
        return;
    };
    let Some(axe) = npm_file("axe-core", AXE, "axe.min.js") else {
        return;
    };
    let server = Server::start(&scratch_store("console"), &[]);
    let out = python_command(&python, "console_browser.py", &server.url)
        .env("STEPWISE_SCREENSHOTS", screenshots())
        .env("STEPWISE_CHROMIUM", &chromium)
        .env("STEPWISE_MERMAID_JS", &mermaid)
        .env("STEPWISE_AXE_JS", &axe)
        .env("STEPWISE_BIN", env!("CARGO_BIN_EXE_stepwise"))
        .output()
        .expect("run the browser tests");
    check(&out, "console_browser.py");
}

/// With access keys (the SigV4 keys file): the sign-in page, a wrong secret, a read-only key
/// refused a Stop in the page, the CSRF header, signing out (`tests/e2e/console_login.py`).
#[test]
fn the_console_asks_for_a_key_when_keys_are_configured() {
    let Some((chromium, python)) = browser() else {
        return;
    };
    let Some(axe) = npm_file("axe-core", AXE, "axe.min.js") else {
        return;
    };
    let store = scratch_store("console-login");
    let keys = store.with_file_name("keys.json");
    std::fs::write(&keys, KEYS).expect("write the keys file");
    let keys = keys.to_str().expect("utf-8 path");
    let server = Server::start(&store, &[("STEPWISE_KEYS", keys)]);
    let out = python_command(&python, "console_login.py", &server.url)
        .env("STEPWISE_SCREENSHOTS", screenshots())
        .env("STEPWISE_CHROMIUM", &chromium)
        .env("STEPWISE_KEYS_FILE", keys)
        .env("STEPWISE_AXE_JS", &axe)
        .output()
        .expect("run the sign-in browser tests");
    check(&out, "console_login.py");
}

/// An administrator (no policy: everything allowed) and a read-only key.
const KEYS: &str = r#"{"keys": [
  {"accessKeyId": "AKIACONSOLEADMIN", "secretAccessKey": "admin/console/secret+1", "user": "alice"},
  {"accessKeyId": "AKIACONSOLEREAD", "secretAccessKey": "read/console/secret+2", "user": "rita", "policy": {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["states:Describe*", "states:List*", "states:GetExecutionHistory"], "Resource": "*"}]}}
]}"#;

/// The Mermaid version whose parser checks `stepwise graph`'s output.
const MERMAID: &str = "12.3.0";

/// The axe-core version whose WCAG 2.1 A/AA rules check the pages.
const AXE: &str = "4.14.1";

/// One file of an npm package (`FILE` under its `package/`), fetched once with `npm pack`
/// into the target directory: Mermaid's browser bundle, axe-core's script.
fn npm_file(package: &str, version: &str, file: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{package}-{version}"));
    let inner = format!("package/{file}");
    let js = dir.join(&inner);
    if js.exists() {
        return Some(js);
    }
    std::fs::create_dir_all(&dir).expect("npm package dir");
    let packed = Command::new("npm")
        .args([
            "pack",
            &format!("{package}@{version}"),
            "--silent",
            "--pack-destination",
        ])
        .arg(&dir)
        .status();
    if !packed.is_ok_and(|s| s.success()) {
        return stepwise_test_support::python::unavailable(&format!(
            "npm could not fetch {package}"
        ));
    }
    let unpacked = Command::new("tar")
        .arg("xzf")
        .arg(dir.join(format!("{package}-{version}.tgz")))
        .arg("-C")
        .arg(&dir)
        .arg(&inner)
        .status();
    if !unpacked.is_ok_and(|s| s.success()) || !js.exists() {
        return stepwise_test_support::python::unavailable(&format!(
            "{package}'s package did not unpack"
        ));
    }
    Some(js)
}
