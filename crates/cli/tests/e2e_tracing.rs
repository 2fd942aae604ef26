//! End-to-end test of tracing: `stepwise serve` with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
//! collector stand-in the script runs (`tests/e2e/tracing_otlp.py`), boto3 running executions
//! of state machines with and without `tracingConfiguration`, whose HTTP Task calls a local
//! server that records the trace headers.
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{Server, python, run_python, scratch_store};

/// The tasks crate's runner: imports a handler and answers as Lambda's Python runtime.
const RUNNER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tasks/tests/lambda/runner.py"
);

/// A function that answers the trace header Lambda's runtime gave it.
const TRACED: &str =
    "import os\n\n\ndef handler(event, context):\n    return os.environ.get('_X_AMZN_TRACE_ID')\n";

#[test]
fn tracing_otlp() {
    let Some(python) = python() else { return };
    let store = scratch_store("tracing_otlp");
    let dir = store.parent().expect("the store's folder").to_owned();
    let functions = dir.join("functions");
    std::fs::create_dir_all(&functions).expect("functions folder");
    std::fs::write(functions.join("traced.py"), TRACED).expect("write traced.py");
    let config = dir.join("stepwise.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[http]
allow_hosts = ["127.0.0.1"]

[connections.e2e]
auth = "api_key"
api_key_name = "x-api-key"
api_key_value = "e2e-secret"

[lambda.functions.traced]
command = ["python3", {RUNNER:?}, "functions", "traced.handler"]
timeout_seconds = 30
"#
        ),
    )
    .expect("write stepwise.toml");
    // The collector's port: free now, bound again by the script.
    let port = stepwise_test_support::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let server = Server::start(
        &store,
        &[
            ("WAIT_TIME_SCALE", "0.01"),
            ("STEPWISE_CONFIG", config.to_str().expect("a UTF-8 path")),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    );
    run_python(&python, "tracing_otlp.py", &server, &[&port.to_string()]);
}
