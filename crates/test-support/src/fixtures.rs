//! Where the shared fixtures are, and what happens when one is missing: a test that needs the
//! shared corpus skips with a message, unless `STEPWISE_FIXTURES_REQUIRED=1` (CI sets it) makes
//! that a failure, so that a CI run without the corpus cannot pass by testing nothing.
//!
//! Only missing fixtures go through here; a missing tool (python3, PyPI) is the end-to-end
//! tests' own `STEPWISE_E2E_REQUIRED`.

use std::fmt::Display;
use std::path::PathBuf;

/// The variable that turns a skip for a missing fixture into a failure.
pub const FIXTURES_REQUIRED: &str = "STEPWISE_FIXTURES_REQUIRED";

/// The shared read-only folder beside the checkout (`../shared` from the repository root).
pub fn shared_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Whether a missing fixture is a failure (`STEPWISE_FIXTURES_REQUIRED=1`).
pub fn fixtures_required() -> bool {
    std::env::var(FIXTURES_REQUIRED).is_ok_and(|v| v == "1")
}

/// Reports a missing fixture (`why`, e.g. "conformance corpus not found at …"): prints
/// `skipping: {why}` and returns, so the caller can skip; panics with the same words when
/// fixtures are required.
pub fn skip_or_fail(why: impl Display) {
    if fixtures_required() {
        panic!("{why} ({FIXTURES_REQUIRED}=1 makes a missing fixture a failure)");
    }
    eprintln!("skipping: {why} (set {FIXTURES_REQUIRED}=1 to make this a failure)");
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "STEPWISE_TEST_SUPPORT_CHILD";

    /// Changing this process's environment is `unsafe` (edition 2024) and the workspace forbids
    /// unsafe code, so the skip runs in a child process (this test binary) with its own.
    #[test]
    fn a_missing_fixture_skips_unless_fixtures_are_required() {
        let exe = std::env::current_exe().expect("test binary");
        let run = |required: Option<&str>| {
            let mut cmd = std::process::Command::new(&exe);
            cmd.args([
                "--exact",
                "fixtures::tests::child_reports_a_missing_fixture",
                "--ignored",
                "--nocapture",
            ]);
            cmd.env_remove(FIXTURES_REQUIRED).env(CHILD, "1");
            if let Some(v) = required {
                cmd.env(FIXTURES_REQUIRED, v);
            }
            let out = cmd.output().expect("runs the child test");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let (ok, stderr) = run(None);
        assert!(ok, "skips without the variable:\n{stderr}");
        assert!(
            stderr.contains("skipping: corpus not found at /nowhere"),
            "{stderr}"
        );
        let (ok, stderr) = run(Some("0"));
        assert!(ok, "only 1 requires fixtures:\n{stderr}");
        let (ok, stderr) = run(Some("1"));
        assert!(!ok, "fails with STEPWISE_FIXTURES_REQUIRED=1:\n{stderr}");
        assert!(
            stderr.contains("corpus not found at /nowhere (STEPWISE_FIXTURES_REQUIRED=1"),
            "{stderr}"
        );
    }

    #[test]
    #[ignore = "run by a_missing_fixture_skips_unless_fixtures_are_required in a child process"]
    fn child_reports_a_missing_fixture() {
        // `cargo test -- --ignored` runs it too; only the parent's child reports.
        if std::env::var(CHILD).is_err() {
            return;
        }
        skip_or_fail("corpus not found at /nowhere");
    }
}
