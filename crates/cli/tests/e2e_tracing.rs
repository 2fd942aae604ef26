//! End-to-end test of tracing: `stepwise serve` with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a
//! collector stand-in the script runs (`tests/e2e/tracing_otlp.py`), boto3 running executions
//! of state machines with and without `tracingConfiguration`, whose HTTP Task calls a local
//! server that records the trace headers.
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{
    HTTP_TASK_CONFIG, Server, http_get, lambda_functions, python, run_python, scratch_store,
};

/// A function that answers the trace header Lambda's runtime gave it.
const TRACED: &str =
    "import os\n\n\ndef handler(event, context):\n    return os.environ.get('_X_AMZN_TRACE_ID')\n";

#[test]
fn tracing_otlp() {
    let Some(python) = python() else { return };
    let store = scratch_store("tracing_otlp");
    let dir = store.parent().expect("the store's folder").to_owned();
    let config = dir.join("stepwise.toml");
    let functions = lambda_functions(&dir, "python3", &[("traced", TRACED)], 30);
    std::fs::write(&config, format!("{HTTP_TASK_CONFIG}{functions}")).expect("write stepwise.toml");
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

    // AWS's service integration metrics counted the same calls: four executions (one of them
    // Express) of two HTTP attempts each (the first failing), one Lambda call.
    let http = "{ServiceIntegrationResourceArn=\"arn:aws:states:::http:invoke\"}";
    let lambda = "{ServiceIntegrationResourceArn=\"arn:aws:states:::lambda:invoke\"}";
    let expected = [
        format!("ServiceIntegrationsScheduled{http} 8"),
        format!("ServiceIntegrationsStarted{http} 8"),
        format!("ServiceIntegrationsFailed{http} 4"),
        format!("ServiceIntegrationsSucceeded{http} 4"),
        format!("ServiceIntegrationTime_count{http} 8"),
        format!("ServiceIntegrationsSucceeded{lambda} 1"),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, metrics) = http_get(&server, "/metrics");
        let missing: Vec<&String> = expected
            .iter()
            .filter(|line| !metrics.lines().any(|l| l == line.as_str()))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "missing from /metrics: {missing:?}\n{}",
            metrics
                .lines()
                .filter(|l| l.starts_with("ServiceIntegration"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
