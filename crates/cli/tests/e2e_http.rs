//! End-to-end test of the HTTP Task: `stepwise serve` with a stepwise.toml (an API-key
//! connection, only 127.0.0.1 allowed) and boto3 driving executions whose Task states call a
//! local HTTP server the script starts (`tests/e2e/http_task.py`).
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{HTTP_TASK_CONFIG, Server, python, run_python, scratch_store};

#[test]
fn http_task() {
    let Some(python) = python() else { return };
    let store = scratch_store("http_task");
    let config = store.with_file_name("stepwise.toml");
    std::fs::write(&config, HTTP_TASK_CONFIG).expect("write stepwise.toml");
    let config = config.to_str().expect("a UTF-8 path");
    let server = Server::start(
        &store,
        &[("WAIT_TIME_SCALE", "0.01"), ("STEPWISE_CONFIG", config)],
    );
    run_python(&python, "http_task.py", &server, &[]);
}
