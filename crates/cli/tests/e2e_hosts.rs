//! Express and Standard executions through `stepwise serve` with boto3
//! (`tests/e2e/one_host.py`): concurrent Parallel tasks, task timeouts that fire while the
//! call runs, and the same results from both hosts.
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{Server, python, run_python, scratch_store};

#[test]
fn express_and_standard_drive_the_engine_alike() {
    let Some(python) = python() else { return };
    let store = scratch_store("one_host");
    let config = store.with_file_name("stepwise.toml");
    std::fs::write(
        &config,
        "[lambda.functions.slow]\n\
         command = [\"sh\", \"-c\", \"sleep 3; echo '{\\\"done\\\": true}'\"]\n\
         timeout_seconds = 30\n",
    )
    .expect("write stepwise.toml");
    let server = Server::start(
        &store,
        &[
            ("WAIT_TIME_SCALE", "1"),
            ("STEPWISE_CONFIG", config.to_str().expect("a UTF-8 path")),
        ],
    );
    run_python(&python, "one_host.py", &server, &[]);
}
