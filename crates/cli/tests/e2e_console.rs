//! The web console in a real browser: `stepwise serve`, Debian's headless Chromium, and
//! Playwright (from PyPI, in a venv of its own) clicking through `tests/e2e/console_browser.py`.
//! Screenshots are kept in the target directory (`tmp/console-screenshots/`).
//!
//! Without Chromium or PyPI this skips with a message, unless `STEPWISE_E2E_REQUIRED=1` (CI
//! sets it, and installs Chromium) makes that a failure.

mod support;

use std::path::Path;

use support::{Server, python_command, scratch_store};

#[test]
fn the_console_in_a_browser() {
    let chromium =
        std::env::var("STEPWISE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        stepwise_test_support::python::unavailable(&format!(
            "{chromium} is missing (apt-get install chromium)"
        ));
        return;
    }
    let Some(python) = stepwise_test_support::python::named_venv_python(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "console-venv",
        &support::e2e_dir().join("console-requirements.txt"),
    ) else {
        return;
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    let server = Server::start(&scratch_store("console"), &[]);
    let out = python_command(&python, "console_browser.py", &server.url)
        .env("STEPWISE_SCREENSHOTS", &shots)
        .env("STEPWISE_CHROMIUM", &chromium)
        .output()
        .expect("run the browser tests");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}\nscreenshots: {}", shots.display());
    assert!(out.status.success(), "console_browser.py failed:\n{text}");
}
