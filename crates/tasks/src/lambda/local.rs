//! A function run as a local command (`[lambda.functions.NAME]`), answering as Lambda's Invoke
//! would.
//!
//! The event goes to the command's stdin as JSON. Exit status 0: stdout is the function's result
//! (one trailing newline dropped). Any other status: the function failed, and stdout is its
//! error, `{"errorType": …, "errorMessage": …}` (passed on as it is, as Lambda passes on what a
//! runtime reports). stderr is the function's log: each line goes to the server's log, and
//! `LogType: Tail` returns its last 4 KB. The command runs in the configured folder (else the
//! config file's), with the server's environment plus the configured `env` and what Lambda's
//! runtime would tell it:
//!
//! | variable | value |
//! |---|---|
//! | `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_VERSION` | the function, `$LATEST` (or the numeric qualifier) |
//! | `AWS_REGION`, `AWS_DEFAULT_REGION` | the function's region |
//! | `AWS_LAMBDA_REQUEST_ID` | this invocation's request id (the context's `aws_request_id`) |
//! | `AWS_LAMBDA_INVOKED_FUNCTION_ARN` | the ARN it was invoked by |
//! | `AWS_LAMBDA_DEADLINE_MS` | when it will be stopped, in Unix milliseconds |
//! | `AWS_LAMBDA_CLIENT_CONTEXT` | the decoded `ClientContext` JSON, when given |
//! | `_X_AMZN_TRACE_ID` | the invocation's trace header |
//!
//! A command still running after `timeout_seconds` is killed and the function fails with
//! `Sandbox.Timedout`, as Lambda's do; one that exits non-zero without an error on stdout fails
//! with `Runtime.ExitError`.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::{InvocationType, Invoke, InvokeError, Invoked, ids};
use crate::config::{Config, LocalFunction};

/// The largest response Lambda returns from a synchronous invocation.
const MAX_RESPONSE_BYTES: usize = 6_291_556;
/// How much of the log `LogType: Tail` returns.
const LOG_TAIL_BYTES: usize = 4096;

/// How a run ended.
enum End {
    Exited(ExitStatus),
    TimedOut,
    SpawnFailed(std::io::Error),
}

/// What a run left behind.
struct Run {
    end: End,
    stdout: Vec<u8>,
    stdout_too_large: bool,
    /// The last bytes of stderr.
    log_tail: Vec<u8>,
    took: Duration,
}

/// The invocation's identity, shared by the environment, the log and the answer.
struct Context {
    request_id: String,
    trace_id: String,
    version: String,
}

pub(super) async fn invoke(
    name: &str,
    function: &LocalFunction,
    config: &Config,
    call: &Invoke,
) -> Result<Invoked, InvokeError> {
    // Lambda refuses a body that is not JSON, and a client context that is not base64 JSON.
    if !call.payload.is_empty() {
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&call.payload) {
            return Err(InvokeError::bad_request(
                "InvalidRequestContentException",
                format!(
                    "Could not parse request body into json: Could not parse payload into json: {e}"
                ),
            ));
        }
    }
    let client_context = match &call.client_context {
        None => None,
        Some(encoded) => match decode_client_context(encoded) {
            Some(json) => Some(json),
            None => {
                return Err(InvokeError::bad_request(
                    "InvalidRequestContentException",
                    "Client context must be a valid Base64-encoded JSON object.",
                ));
            }
        },
    };
    let ctx = Context {
        request_id: ids::request_id(),
        trace_id: call
            .trace
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("X-Amzn-Trace-Id"))
            .map_or_else(ids::trace_id, |(_, v)| v.clone()),
        version: match &call.function.qualifier {
            Some(q) if q.chars().all(|c| c.is_ascii_digit()) => q.clone(),
            _ => "$LATEST".to_owned(),
        },
    };
    let answer = |status: u16, payload: Vec<u8>, function_error: Option<&str>| Invoked {
        status,
        payload,
        function_error: function_error.map(str::to_owned),
        executed_version: (status == 200).then(|| ctx.version.clone()),
        log_result: None,
        request_id: ctx.request_id.clone(),
        trace_id: ctx.trace_id.clone(),
        date: ids::http_date(SystemTime::now()),
    };
    match call.invocation_type {
        InvocationType::DryRun => return Ok(answer(204, Vec::new(), None)),
        InvocationType::Event => {
            // Queued: it runs on its own, and nothing waits for its answer.
            let (name, function, config, call) = (
                name.to_owned(),
                function.clone(),
                config.clone(),
                call.clone(),
            );
            let context = Context {
                request_id: ctx.request_id.clone(),
                trace_id: ctx.trace_id.clone(),
                version: ctx.version.clone(),
            };
            tokio::spawn(async move {
                let run = run(&name, &function, &config, &call, &context, client_context).await;
                if !matches!(run.end, End::Exited(s) if s.success()) {
                    tracing::warn!(function = %name, request_id = %context.request_id, "asynchronous invocation failed");
                }
            });
            return Ok(answer(202, Vec::new(), None));
        }
        InvocationType::RequestResponse => {}
    }

    let run = run(name, function, config, call, &ctx, client_context).await;
    let (payload, function_error) = match run.end {
        End::SpawnFailed(ref e) => (
            sandbox_error(
                "Runtime.InvalidEntrypoint",
                &format!(
                    "RequestId: {} Error: could not start {:?}: {e}",
                    ctx.request_id, function.command[0]
                ),
            ),
            Some("Unhandled"),
        ),
        End::TimedOut => (
            sandbox_error(
                "Sandbox.Timedout",
                &format!(
                    "RequestId: {} Error: Task timed out after {}.00 seconds",
                    ctx.request_id, function.timeout_seconds
                ),
            ),
            Some("Unhandled"),
        ),
        _ if run.stdout_too_large => (
            serde_json::to_vec(&serde_json::json!({
                "errorMessage": format!("Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
                "errorType": "Function.ResponseSizeTooLarge",
            }))
            .unwrap_or_default(),
            Some("Unhandled"),
        ),
        End::Exited(status) if status.success() => (trim_newline(run.stdout.clone()), None),
        End::Exited(status) => {
            let stdout = trim_newline(run.stdout.clone());
            if serde_json::from_slice::<Value>(&stdout).is_ok() {
                (stdout, Some("Unhandled"))
            } else {
                if !stdout.is_empty() {
                    tracing::warn!(function = %name, "the function failed without a JSON error on stdout: {}", String::from_utf8_lossy(&stdout));
                }
                let how = match status.code() {
                    Some(code) => format!("exit status {code}"),
                    None => "signal: killed".to_owned(),
                };
                (
                    sandbox_error(
                        "Runtime.ExitError",
                        &format!(
                            "RequestId: {} Error: Runtime exited with error: {how}",
                            ctx.request_id
                        ),
                    ),
                    Some("Unhandled"),
                )
            }
        }
    };
    let mut invoked = answer(200, payload, function_error);
    if call.log_tail {
        invoked.log_result = Some(log_result(&ctx, &run));
    }
    Ok(invoked)
}

/// Runs the command once with `call`'s payload on stdin.
async fn run(
    name: &str,
    function: &LocalFunction,
    config: &Config,
    call: &Invoke,
    ctx: &Context,
    client_context: Option<String>,
) -> Run {
    let started = Instant::now();
    let limit = Duration::from_secs(function.timeout_seconds);
    let deadline = SystemTime::now() + limit;
    let mut command = tokio::process::Command::new(&function.command[0]);
    command
        .args(&function.command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match &function.cwd {
        Some(dir) => {
            command.current_dir(config.resolve(dir));
        }
        None if !config.base_dir.as_os_str().is_empty() => {
            command.current_dir(&config.base_dir);
        }
        None => {}
    }
    let region = &call.function.region;
    command
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", &ctx.version)
        .env("AWS_REGION", region)
        .env("AWS_DEFAULT_REGION", region)
        .env("AWS_LAMBDA_REQUEST_ID", &ctx.request_id)
        .env(
            "AWS_LAMBDA_INVOKED_FUNCTION_ARN",
            match &call.function.qualifier {
                Some(_) => call.function.qualified_arn(),
                None => call.function.arn(),
            },
        )
        .env(
            "AWS_LAMBDA_DEADLINE_MS",
            deadline
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default()
                .to_string(),
        )
        .env("_X_AMZN_TRACE_ID", &ctx.trace_id);
    if let Some(json) = client_context {
        command.env("AWS_LAMBDA_CLIENT_CONTEXT", json);
    }
    command.envs(&function.env);

    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Run {
                end: End::SpawnFailed(e),
                stdout: Vec::new(),
                stdout_too_large: false,
                log_tail: Vec::new(),
                took: started.elapsed(),
            };
        }
    };
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let event = if call.payload.is_empty() {
        b"{}".to_vec()
    } else {
        call.payload.clone()
    };
    let write = async move {
        if let Some(mut stdin) = stdin {
            // A command that does not read its event may close stdin first: not an error.
            let _ = stdin.write_all(&event).await;
            let _ = stdin.shutdown().await;
        }
    };
    let read_stdout = async move {
        let mut kept = Vec::new();
        let mut too_large = false;
        if let Some(mut stdout) = stdout {
            let mut buf = vec![0u8; 64 * 1024];
            // Past the limit, keep draining so the command is never blocked on a full pipe.
            while let Ok(n) = stdout.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                if kept.len() + n > MAX_RESPONSE_BYTES {
                    too_large = true;
                } else if !too_large {
                    kept.extend_from_slice(&buf[..n]);
                }
            }
        }
        (kept, too_large)
    };
    let read_stderr = async move {
        let mut tail: Vec<u8> = Vec::new();
        if let Some(stderr) = stderr {
            let mut lines = BufReader::new(stderr);
            let mut line = Vec::new();
            while let Ok(n) = lines.read_until(b'\n', &mut line).await {
                if n == 0 {
                    break;
                }
                tracing::info!(function = %name, "{}", String::from_utf8_lossy(&line).trim_end());
                tail.extend_from_slice(&line);
                if tail.len() > LOG_TAIL_BYTES {
                    tail.drain(..tail.len() - LOG_TAIL_BYTES);
                }
                line.clear();
            }
        }
        tail
    };
    let finished = tokio::time::timeout(limit, async {
        let (_, (stdout, too_large), log_tail) = tokio::join!(write, read_stdout, read_stderr);
        let status = child.wait().await;
        (status, stdout, too_large, log_tail)
    })
    .await;
    match finished {
        Ok((status, stdout, stdout_too_large, log_tail)) => Run {
            end: match status {
                Ok(status) => End::Exited(status),
                Err(e) => End::SpawnFailed(e),
            },
            stdout,
            stdout_too_large,
            log_tail,
            took: started.elapsed(),
        },
        Err(_) => {
            let _ = child.start_kill();
            let _ = child.wait().await;
            Run {
                end: End::TimedOut,
                stdout: Vec::new(),
                stdout_too_large: false,
                log_tail: Vec::new(),
                took: started.elapsed(),
            }
        }
    }
}

/// An error Lambda itself reports for a function (`Sandbox.Timedout`, `Runtime.ExitError`).
fn sandbox_error(error_type: &str, message: &str) -> Vec<u8> {
    let mut error = serde_json::Map::new();
    error.insert("errorType".into(), Value::from(error_type));
    error.insert("errorMessage".into(), Value::from(message));
    serde_json::to_vec(&error).unwrap_or_default()
}

fn trim_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    bytes
}

/// The last 4 KB of the invocation's log, framed as Lambda frames it, base64-encoded.
fn log_result(ctx: &Context, run: &Run) -> String {
    let ms = run.took.as_secs_f64() * 1000.0;
    let mut log = format!(
        "START RequestId: {} Version: {}\n",
        ctx.request_id, ctx.version
    )
    .into_bytes();
    log.extend_from_slice(&run.log_tail);
    log.extend_from_slice(
        format!(
            "END RequestId: {id}\nREPORT RequestId: {id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\t\n",
            ms.ceil() as u64,
            id = ctx.request_id,
        )
        .as_bytes(),
    );
    let start = log.len().saturating_sub(LOG_TAIL_BYTES);
    base64::engine::general_purpose::STANDARD.encode(&log[start..])
}

/// `ClientContext` decoded: base64 of a JSON object, else `None`.
fn decode_client_context(encoded: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value
        .is_object()
        .then(|| String::from_utf8_lossy(&bytes).into_owned())
}
