//! End-to-end test of Lambda tasks: `stepwise serve` with a stepwise.toml binding two Python
//! functions as local commands (run by the tasks crate's runner, which answers as AWS's Python
//! runtime), and `LAMBDA_ENDPOINT` pointing at a Lambda Invoke API stand-in that the script
//! starts; boto3 drives executions that call both (`tests/e2e/lambda_task.py`).
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use support::{Server, lambda_functions, python, run_python_env, scratch_store};

const GREET: &str = "def handler(event, context):\n    \
    print('greeting', event.get('name'))\n    \
    return {'greeting': 'hello ' + event['name'], 'requestId': context.aws_request_id}\n";

const PICKY: &str = "class OrderRejected(Exception):\n    pass\n\n\n\
    def handler(event, context):\n    \
    if event.get('quantity', 0) > 10:\n        \
    raise OrderRejected('too many: ' + str(event['quantity']))\n    \
    return {'accepted': event['quantity']}\n";

#[test]
fn lambda_task() {
    let Some(python) = python() else { return };
    let store = scratch_store("lambda_task");
    let dir = store.parent().expect("the store's folder").to_owned();
    let functions = lambda_functions(&dir, "python3", &[("greet", GREET), ("picky", PICKY)], 30);
    let config = dir.join("stepwise.toml");
    std::fs::write(&config, functions).expect("write stepwise.toml");
    // The stand-in Invoke API's port: free now, taken by the script before any task runs.
    let port = stepwise_test_support::free_port().to_string();
    let endpoint = format!("http://127.0.0.1:{port}");
    let server = Server::start(
        &store,
        &[
            ("WAIT_TIME_SCALE", "0.01"),
            ("LAMBDA_ENDPOINT", &endpoint),
            ("STEPWISE_CONFIG", config.to_str().expect("a UTF-8 path")),
        ],
    );
    run_python_env(
        &python,
        "lambda_task.py",
        &server,
        &[],
        &[("LAMBDA_STANDIN_PORT", &port)],
    );
}
