//! Lambda tasks against real functions: local commands (Python handlers run by
//! `tests/lambda/runner.py`, and `sh` scripts) and a Lambda Invoke API server on 127.0.0.1.
//! What the task hands its state, what the function receives, and how it fails.
//!
//! These tests assume `LAMBDA_ENDPOINT` is not set (it would win over the configuration).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use stepwise_tasks::{CallContext, Config, Integrations, Outcome};

fn ctx() -> CallContext {
    CallContext::new("us-east-1", "111122223333")
}

const RUNNER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lambda/runner.py");

fn python() -> bool {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipping: python3 not found");
    }
    found
}

/// A folder of Python handlers and the `stepwise.toml` that binds each as a function named
/// after its file, plus any extra TOML.
struct Functions {
    dir: tempfile::TempDir,
    toml: String,
}

impl Functions {
    fn new() -> Functions {
        Functions {
            dir: tempfile::tempdir().expect("temp dir"),
            toml: String::new(),
        }
    }

    /// A Python handler `handler(event, context)` in `NAME.py`, bound as function NAME.
    fn python(mut self, name: &str, source: &str) -> Functions {
        std::fs::write(self.dir.path().join(format!("{name}.py")), source).expect("write");
        self.toml.push_str(&format!(
            "[lambda.functions.{name}]\ncommand = [\"python3\", {RUNNER:?}, \".\", \"{name}.handler\"]\n"
        ));
        self
    }

    /// A shell script bound as function NAME.
    fn sh(mut self, name: &str, script: &str, timeout_seconds: u64) -> Functions {
        self.toml.push_str(&format!(
            "[lambda.functions.{name}]\ncommand = [\"sh\", \"-c\", {script:?}]\ntimeout_seconds = {timeout_seconds}\n"
        ));
        self
    }

    fn endpoint(mut self, url: &str) -> Functions {
        self.toml
            .insert_str(0, &format!("[lambda]\nendpoint = {url:?}\n"));
        self
    }

    fn integrations(&self) -> Integrations {
        let path = self.dir.path().join("stepwise.toml");
        std::fs::write(&path, &self.toml).expect("write config");
        let config = Config::load(&path).expect("config");
        Integrations::new(Arc::new(config))
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn failed(outcome: Outcome) -> (String, String) {
    match outcome {
        Outcome::Failed { error, cause } => (error, cause),
        Outcome::Succeeded(v) => panic!("expected a failure, got {v}"),
    }
}

fn succeeded(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Succeeded(v) => v,
        Outcome::Failed { error, cause } => panic!("expected success, got {error}: {cause}"),
    }
}

const ECHO: &str = "def handler(event, context):\n    return event\n";

#[tokio::test]
async fn the_optimized_integration_returns_the_sdks_result() {
    if !python() {
        return;
    }
    let f = Functions::new().python("echo", ECHO);
    let lambda = f.integrations();
    let result = succeeded(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "echo", "Payload": {"n": 1, "x": [0.5, "s"]}}),
                &ctx(),
            )
            .await,
    );
    let keys: Vec<&str> = result
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "ExecutedVersion",
            "Payload",
            "SdkHttpMetadata",
            "SdkResponseMetadata",
            "StatusCode"
        ]
    );
    assert_eq!(result["ExecutedVersion"], "$LATEST");
    assert_eq!(result["Payload"], json!({"n": 1, "x": [0.5, "s"]}));
    assert_eq!(result["StatusCode"], 200);
    let http = &result["SdkHttpMetadata"];
    assert_eq!(http["HttpStatusCode"], 200);
    let body_len = r#"{"n": 1, "x": [0.5, "s"]}"#.len().to_string();
    assert_eq!(http["HttpHeaders"]["Content-Length"], body_len);
    assert_eq!(http["AllHttpHeaders"]["Content-Length"], json!([body_len]));
    assert_eq!(http["HttpHeaders"]["Content-Type"], "application/json");
    assert_eq!(http["HttpHeaders"]["X-Amz-Executed-Version"], "$LATEST");
    let request_id = result["SdkResponseMetadata"]["RequestId"]
        .as_str()
        .expect("a request id");
    assert_eq!(http["HttpHeaders"]["x-amzn-RequestId"], request_id);
    assert_eq!(request_id.len(), 36, "{request_id}");

    // The direct form hands the state the function's answer itself.
    let direct = lambda
        .lambda_function(
            "arn:aws:lambda:us-east-1:111122223333:function:echo",
            &json!({"a": true}),
            &ctx(),
        )
        .await;
    assert_eq!(succeeded(direct), json!({"a": true}));
}

#[tokio::test]
async fn payload_strings_are_sent_as_they_are_and_no_payload_is_an_empty_object() {
    if !python() {
        return;
    }
    let f = Functions::new().python("echo", ECHO);
    let lambda = f.integrations();
    let invoke = |payload: Value| {
        let lambda = &lambda;
        async move {
            let mut p = json!({"FunctionName": "echo"});
            if !payload.is_null() {
                p["Payload"] = payload;
            }
            succeeded(lambda.lambda_invoke(&p, &ctx()).await)["Payload"].clone()
        }
    };
    assert_eq!(invoke(json!("\"HelloWorld\"")).await, json!("HelloWorld"));
    assert_eq!(invoke(json!("0")).await, json!(0));
    assert_eq!(invoke(json!("{\"k\": [true]}")).await, json!({"k": [true]}));
    assert_eq!(invoke(Value::Null).await, json!({}));
    let (error, cause) = failed(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "echo", "Payload": "not json"}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(error, "Lambda.InvalidRequestContentException");
    assert!(
        cause.starts_with("Could not parse request body into json: ")
            && cause.contains("(Service: AWSLambda; Status Code: 400; Error Code: InvalidRequestContentException; Request ID: "),
        "{cause}"
    );
}

const RAISES: &str = "class CustomException(Exception):\n    pass\n\n\ndef handler(event, context):\n    raise CustomException(\"it went wrong\")\n";

#[tokio::test]
async fn a_raised_exception_fails_the_task_with_its_type_and_the_runtimes_error() {
    if !python() {
        return;
    }
    let f = Functions::new().python("raises", RAISES);
    let lambda = f.integrations();
    let (error, cause) = failed(
        lambda
            .lambda_function(
                "arn:aws:lambda:us-east-1:111122223333:function:raises",
                &json!({}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(error, "CustomException");
    // The direct form's cause is the runtime's error as it wrote it (Python's spacing).
    assert!(
        cause.starts_with(
            r#"{"errorMessage": "it went wrong", "errorType": "CustomException", "requestId": ""#
        ),
        "{cause}"
    );
    assert!(
        cause.ends_with(r#""stackTrace": ["  File \"/var/task/raises.py\", line 6, in handler\n    raise CustomException(\"it went wrong\")\n"]}"#),
        "{cause}"
    );

    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "raises"}), &ctx())
            .await,
    );
    assert_eq!(error, "CustomException");
    // The optimized integration's is the same error, re-serialized compactly.
    let parsed: Value = serde_json::from_str(&cause).expect("JSON");
    assert_eq!(cause, serde_json::to_string(&parsed).expect("text"));
    let keys: Vec<&str> = parsed
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["errorMessage", "errorType", "requestId", "stackTrace"]
    );
    assert_eq!(parsed["errorMessage"], "it went wrong");
}

#[tokio::test]
async fn a_command_failing_without_an_error_type_is_lambda_unknown() {
    let f = Functions::new()
        .sh(
            "untyped",
            r#"echo '{"errorMessage": "no type"}'; exit 3"#,
            10,
        )
        .sh("silent", "echo 'not an error' >&2; exit 2", 10);
    let lambda = f.integrations();
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "untyped"}), &ctx())
            .await,
    );
    assert_eq!(error, "Lambda.Unknown");
    assert_eq!(cause, r#"{"errorMessage":"no type"}"#);
    let (error, cause) = failed(
        lambda
            .lambda_function(
                "arn:aws:lambda:us-east-1:111122223333:function:untyped",
                &json!({}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(error, "Lambda.Unknown");
    assert_eq!(cause, r#"{"errorMessage": "no type"}"#);

    // A crash with nothing on stdout is reported as Lambda reports a runtime that exited.
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "silent"}), &ctx())
            .await,
    );
    assert_eq!(error, "Runtime.ExitError");
    let parsed: Value = serde_json::from_str(&cause).expect("JSON");
    let message = parsed["errorMessage"].as_str().expect("message");
    assert!(
        message.starts_with("RequestId: ")
            && message.ends_with(" Error: Runtime exited with error: exit status 2"),
        "{message}"
    );
}

#[tokio::test]
async fn a_function_past_its_timeout_is_killed_and_fails_with_sandbox_timedout() {
    let f = Functions::new().sh("sleepy", "sleep 30", 1);
    let lambda = f.integrations();
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "sleepy"}), &ctx())
            .await,
    );
    assert_eq!(error, "Sandbox.Timedout");
    let parsed: Value = serde_json::from_str(&cause).expect("JSON");
    assert_eq!(parsed["errorType"], "Sandbox.Timedout");
    let message = parsed["errorMessage"].as_str().expect("message");
    assert!(
        message.ends_with(" Error: Task timed out after 1.00 seconds"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unknown_function_fails_as_aws_fails_it() {
    let f = Functions::new();
    let lambda = f.integrations();
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "nowhere"}), &ctx())
            .await,
    );
    assert_eq!(error, "Lambda.ResourceNotFoundException");
    let prefix = "Function not found: arn:aws:lambda:us-east-1:111122223333:function:nowhere:$LATEST \
                  (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ";
    assert!(
        cause.starts_with(prefix) && cause.ends_with("; Proxy: null)"),
        "{cause}"
    );
    let (error, cause) = failed(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "arn:aws:lambda:eu-west-1:444455556666:function:gone", "Qualifier": "live"}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(error, "Lambda.ResourceNotFoundException");
    assert!(
        cause.starts_with(
            "Function not found: arn:aws:lambda:eu-west-1:444455556666:function:gone:live "
        ),
        "{cause}"
    );
    let (error, _) = failed(
        lambda
            .lambda_function(
                "arn:aws:lambda:us-east-1:111122223333:function:nowhere",
                &json!({}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(error, "Lambda.ResourceNotFoundException");
}

#[tokio::test]
async fn the_command_sees_its_event_and_lambdas_environment_and_its_log_comes_back_on_tail() {
    if !python() {
        return;
    }
    let source = "import os, sys\n\ndef handler(event, context):\n    print('processing', event['id'])\n    \
                  return {'id': event['id'], 'request': context.aws_request_id, 'name': context.function_name,\n            \
                  'arn': context.invoked_function_arn, 'region': os.environ['AWS_REGION'],\n            \
                  'remaining': context.get_remaining_time_in_millis() > 0, 'client': context.client_context}\n";
    let f = Functions::new().python("env", source);
    let lambda = f.integrations();
    let client = base64::engine::general_purpose::STANDARD.encode(r#"{"custom":{"k":"v"}}"#);
    let result = succeeded(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "env:7", "Payload": {"id": 42}, "LogType": "Tail",
                        "ClientContext": client}),
                &ctx(),
            )
            .await,
    );
    let payload = &result["Payload"];
    assert_eq!(payload["id"], 42);
    assert_eq!(
        payload["request"],
        result["SdkResponseMetadata"]["RequestId"]
    );
    assert_eq!(payload["name"], "env");
    assert_eq!(
        payload["arn"],
        "arn:aws:lambda:us-east-1:111122223333:function:env:7"
    );
    assert_eq!(payload["region"], "us-east-1");
    assert_eq!(payload["remaining"], true);
    assert_eq!(payload["client"], json!({"custom": {"k": "v"}}));
    assert_eq!(result["ExecutedVersion"], "7");
    let log = result["LogResult"].as_str().expect("a log");
    assert_eq!(
        result["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Log-Result"],
        log
    );
    let log = base64::engine::general_purpose::STANDARD
        .decode(log)
        .expect("base64");
    let log = String::from_utf8(log).expect("text");
    assert!(log.starts_with("START RequestId: "), "{log}");
    assert!(log.contains("processing 42\n"), "{log}");
    assert!(log.contains("END RequestId: "), "{log}");
}

#[tokio::test]
async fn event_and_dry_run_invocations_answer_at_once() {
    let f = Functions::new().sh("touch", "cat > event.json", 10);
    let lambda = f.integrations();
    let result = succeeded(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "touch", "InvocationType": "Event", "Payload": {"queued": true}}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(result["StatusCode"], 202);
    assert_eq!(result["Payload"], "");
    assert!(result.get("ExecutedVersion").is_none(), "{result}");
    // The queued run happens on its own.
    let written = f.path().join("event.json");
    for _ in 0..200 {
        if std::fs::read_to_string(&written).is_ok_and(|t| t.contains("queued")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::read_to_string(&written).expect("the event was delivered"),
        r#"{"queued":true}"#
    );

    let result = succeeded(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "touch", "InvocationType": "DryRun"}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(result["StatusCode"], 204);
}

#[tokio::test]
async fn a_result_over_256_kib_is_states_data_limit_exceeded() {
    if !python() {
        return;
    }
    let source = "def handler(event, context):\n    return 'a' * (257 * 1024)\n";
    let f = Functions::new().python("big", source);
    let lambda = f.integrations();
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "big"}), &ctx())
            .await,
    );
    assert_eq!(error, "States.DataLimitExceeded");
    assert_eq!(
        cause,
        "The state/task 'lambda' returned a result with a size exceeding the maximum number of bytes service limit."
    );
    let arn = "arn:aws:lambda:us-east-1:111122223333:function:big";
    let (error, cause) = failed(lambda.lambda_function(arn, &json!({}), &ctx()).await);
    assert_eq!(error, "States.DataLimitExceeded");
    assert_eq!(
        cause,
        format!(
            "The state/task '{arn}' returned a result with a size exceeding the maximum number of bytes service limit."
        )
    );
}

/// One request as the Invoke API server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: String,
}

/// A Lambda Invoke API: `echo` answers its event, `fails` answers a function error,
/// `throttled` refuses with 429; every other function does not exist.
struct InvokeApi {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl InvokeApi {
    async fn start() -> InvokeApi {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let shared = seen.clone();
        let app = Router::new().fallback(move |req: Request<Body>| {
            let seen = shared.clone();
            async move { invoke_api(seen, req).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        InvokeApi {
            url: format!("http://127.0.0.1:{port}"),
            seen,
        }
    }

    fn last(&self) -> Seen {
        self.seen
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a request")
    }
}

async fn invoke_api(seen: Arc<Mutex<Vec<Seen>>>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 10 << 20)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let path = parts.uri.path().to_owned();
    seen.lock().expect("lock").push(Seen {
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let name = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|p| p.strip_suffix("/invocations"))
        .unwrap_or_default();
    let response = Response::builder()
        .header("x-amzn-RequestId", "7c0e8f5e-0000-4000-8000-000000000001")
        .header("Content-Type", "application/json");
    match name {
        "echo" => response
            .status(200)
            .header("X-Amz-Executed-Version", "3")
            .header("X-Amz-Log-Result", "bG9n")
            .body(Body::from(body)),
        "fails" => response
            .status(200)
            .header("X-Amz-Function-Error", "Unhandled")
            .body(Body::from(
                r#"{"errorMessage": "bad input", "errorType": "ValueError", "stackTrace": []}"#,
            )),
        "throttled" => response
            .status(429)
            .header("x-amzn-ErrorType", "TooManyRequestsException")
            .body(Body::from(r#"{"Type":"User","message":"Rate Exceeded."}"#)),
        _ => response.status(404).body(Body::from(format!(
            r#"{{"Type":"User","message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"}}"#
        ))),
    }
    .expect("response")
}

#[tokio::test]
async fn functions_not_bound_locally_are_invoked_at_the_endpoint() {
    let api = InvokeApi::start().await;
    let f = Functions::new()
        .endpoint(&api.url)
        .sh("local", "echo '\"from the command\"'", 10);
    let lambda = f.integrations();

    let result = succeeded(
        lambda
            .lambda_invoke(
                &json!({"FunctionName": "arn:aws:lambda:us-east-1:111122223333:function:echo",
                        "Qualifier": "$LATEST", "Payload": {"p": 1}, "LogType": "Tail"}),
                &ctx(),
            )
            .await,
    );
    let seen = api.last();
    assert_eq!(seen.path, "/2015-03-31/functions/echo/invocations");
    assert_eq!(seen.query.as_deref(), Some("Qualifier=%24LATEST"));
    assert_eq!(seen.body, r#"{"p":1}"#);
    let header = |n: &str| seen.headers.get(n).and_then(|v| v.to_str().ok());
    assert_eq!(header("X-Amz-Invocation-Type"), Some("RequestResponse"));
    assert_eq!(header("X-Amz-Log-Type"), Some("Tail"));
    assert_eq!(result["Payload"], json!({"p": 1}));
    assert_eq!(result["ExecutedVersion"], "3");
    assert_eq!(result["LogResult"], "bG9n");
    assert_eq!(
        result["SdkResponseMetadata"]["RequestId"],
        "7c0e8f5e-0000-4000-8000-000000000001"
    );

    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "fails"}), &ctx())
            .await,
    );
    assert_eq!(error, "ValueError");
    assert_eq!(
        cause,
        r#"{"errorMessage":"bad input","errorType":"ValueError","stackTrace":[]}"#
    );
    let (error, cause) = failed(
        lambda
            .lambda_function(
                "arn:aws:lambda:us-east-1:111122223333:function:fails",
                &json!({"x": 1}),
                &ctx(),
            )
            .await,
    );
    assert_eq!(error, "ValueError");
    assert_eq!(
        cause,
        r#"{"errorMessage": "bad input", "errorType": "ValueError", "stackTrace": []}"#
    );
    assert_eq!(api.last().body, r#"{"x":1}"#);

    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "missing"}), &ctx())
            .await,
    );
    assert_eq!(error, "Lambda.ResourceNotFoundException");
    assert_eq!(
        cause,
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:missing (Service: \
         AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: \
         7c0e8f5e-0000-4000-8000-000000000001; Proxy: null)"
    );
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "throttled"}), &ctx())
            .await,
    );
    assert_eq!(error, "Lambda.TooManyRequestsException");
    assert!(
        cause.starts_with(
            "Rate Exceeded. (Service: AWSLambda; Status Code: 429; Error Code: TooManyRequestsException;"
        ),
        "{cause}"
    );

    // A function bound to a command runs there, not at the endpoint.
    let before = api.seen.lock().expect("lock").len();
    let result = succeeded(
        lambda
            .lambda_invoke(&json!({"FunctionName": "local"}), &ctx())
            .await,
    );
    assert_eq!(result["Payload"], "from the command");
    assert_eq!(api.seen.lock().expect("lock").len(), before);
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_sdk_client_exception() {
    // A port nothing listens on: bind one, then free it.
    let port = stepwise_test_support::free_port();
    let f = Functions::new().endpoint(&format!("http://127.0.0.1:{port}"));
    let lambda = f.integrations();
    let (error, cause) = failed(
        lambda
            .lambda_invoke(&json!({"FunctionName": "f"}), &ctx())
            .await,
    );
    assert_eq!(error, "Lambda.SdkClientException");
    assert!(
        cause.starts_with("Unable to execute HTTP request: "),
        "{cause}"
    );
}

#[tokio::test]
async fn a_missing_command_fails_the_invocation_not_the_server() {
    let f = Functions::new().sh("x", "true", 10);
    let lambda = f.integrations();
    // Rebind "x" to a program that does not exist.
    let dir = tempfile::tempdir().expect("dir");
    let path: PathBuf = dir.path().join("stepwise.toml");
    std::fs::write(
        &path,
        "[lambda.functions.ghost]\ncommand = [\"/nonexistent/program\"]\n",
    )
    .expect("write");
    let ghost = Integrations::new(Arc::new(Config::load(&path).expect("config")));
    let (error, cause) = failed(
        ghost
            .lambda_invoke(&json!({"FunctionName": "ghost"}), &ctx())
            .await,
    );
    assert_eq!(error, "Runtime.InvalidEntrypoint");
    assert!(cause.contains("/nonexistent/program"), "{cause}");
    // The other integration is unaffected.
    assert_eq!(
        succeeded(
            lambda
                .lambda_invoke(&json!({"FunctionName": "x"}), &ctx())
                .await
        )["Payload"],
        ""
    );
}
