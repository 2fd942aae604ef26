//! `stepwise store backup FILE`: a copy of a live store, taken while its server runs
//! executions, from which a new server carries on every execution (`tests/e2e/backup.py`).

mod support;

use std::process::Command;

use support::{Server, python, python_output, run_python, scratch_store};

#[test]
fn a_backup_of_a_live_store_carries_on_every_execution() {
    let Some(python) = python() else { return };
    let store = scratch_store("backup");
    let mut server = Server::start(&store, &[]);
    let arns = python_output(&python, "backup.py", &server, &["start", "20"], &[]);
    let arns: Vec<&str> = arns.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(arns.len(), 20);

    // The copy is taken while the executions wait and the server runs.
    let copy = store.with_file_name("copy.db");
    let backup = || {
        Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .args(["store", "backup"])
            .arg(&copy)
            .arg("--store")
            .arg(&store)
            .output()
            .expect("run stepwise store backup")
    };
    let out = backup();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Again to the same file: refused, the first copy kept.
    let again = backup();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

    // The original is lost; a server on the copy carries on.
    server.kill9();
    let restored = Server::start(&copy, &[]);
    let mut args = vec!["check"];
    args.extend(arns);
    run_python(&python, "backup.py", &restored, &args);
}
