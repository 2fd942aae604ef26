//! What `stepwise serve` writes on stderr when it is not a terminal (a pipe here, as under
//! systemd, Docker or CI): plain text without ANSI colour codes, a start-up line that names the
//! account, region, store, configuration file and mock file in use, and durations rounded to
//! hundredths of a millisecond.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Starts `stepwise serve` with `args` and `envs`, returns the first stderr line that says it is
/// listening (and everything before it), then kills it.
fn start_up_lines(args: &[&str], envs: &[(&str, &str)]) -> Vec<String> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stepwise"));
    cmd.args(["serve", "--port", "0"]);
    if !args.contains(&"--store") {
        cmd.args(["--store", ":memory:"]);
    }
    cmd.args(args)
        .env_remove("STEPWISE_LOG_FORMAT")
        .env_remove("STEPWISE_CONFIG")
        .env_remove("SFN_MOCK_CONFIG")
        .env_remove("AWS_ACCOUNT_ID")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_REGION")
        .env("STEPWISE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn stepwise serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = line.contains("stepwise listening");
            seen.push(line);
            if done {
                break;
            }
        }
        let _ = tx.send(seen);
    });
    let lines = rx.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    lines.expect("stepwise serve said it was listening within 30 s")
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {name}="))?;
    line[at + name.len() + 2..].split(' ').next()
}

#[test]
fn the_start_up_line_is_plain_text_and_names_what_is_in_use() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mock = examples.join("order.mock.json");
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve_log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let config = dir.join("stepwise.toml");
    std::fs::write(&config, "[server]\nwait_time_scale = 0\n").expect("write config");
    let lines = start_up_lines(
        &["--config", config.to_str().expect("utf-8 path")],
        &[
            ("SFN_MOCK_CONFIG", mock.to_str().expect("utf-8 path")),
            ("AWS_ACCOUNT_ID", "111122223333"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
        ],
    );
    for line in &lines {
        assert!(
            !line.contains('\u{1b}'),
            "ANSI escape in a piped log: {line:?}"
        );
    }
    let ready = lines.last().expect("the listening line");
    assert_eq!(field(ready, "account"), Some("111122223333"), "{ready}");
    assert_eq!(field(ready, "region"), Some("eu-west-1"), "{ready}");
    assert_eq!(field(ready, "store"), Some(":memory:"), "{ready}");
    assert_eq!(field(ready, "config"), config.to_str(), "{ready}");
    assert_eq!(field(ready, "mock_config"), mock.to_str(), "{ready}");
    let ready_ms = field(ready, "ready_ms").expect("ready_ms");
    let decimals = ready_ms.split_once('.').map_or(0, |(_, d)| d.len());
    assert!(
        decimals <= 2 && ready_ms.parse::<f64>().is_ok(),
        "ready_ms={ready_ms} is not rounded to hundredths"
    );
}

#[test]
fn without_files_the_start_up_line_says_none_and_the_defaults() {
    let lines = start_up_lines(&[], &[]);
    let ready = lines.last().expect("the listening line");
    assert_eq!(field(ready, "account"), Some("123456789012"), "{ready}");
    assert_eq!(field(ready, "region"), Some("us-east-1"), "{ready}");
    assert_eq!(field(ready, "config"), Some("none"), "{ready}");
    assert_eq!(field(ready, "mock_config"), Some("none"), "{ready}");
}

/// Step Functions Local's command-line options, in its single-dash and long forms: the
/// account, region and wait time scale, and the services' endpoints, which win over the
/// environment's, which win over the file's `[aws.endpoints]`.
#[test]
fn step_functions_locals_options_set_the_account_region_and_endpoints() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve_log-flags-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let config = dir.join("stepwise.toml");
    std::fs::write(
        &config,
        "[aws.endpoints]\ns3 = \"http://file-s3:1\"\nsqs = \"http://file-sqs:1\"\n",
    )
    .expect("write config");
    let lines = start_up_lines(
        &[
            "--config",
            config.to_str().expect("utf-8 path"),
            "-account",
            "111122223333",
            "--aws-region",
            "eu-west-2",
            "-waitTimeScale",
            "0",
            "-dynamoDBEndpoint",
            "http://flag-ddb:2",
            "--sns-endpoint",
            "http://flag-sns:2",
        ],
        &[
            ("SQS_ENDPOINT", "http://env-sqs:3"),
            ("SNS_ENDPOINT", "http://env-sns:3"),
            ("AWS_DEFAULT_REGION", "us-west-1"),
        ],
    );
    let ready = lines.last().expect("the listening line");
    assert_eq!(field(ready, "account"), Some("111122223333"), "{ready}");
    assert_eq!(field(ready, "region"), Some("eu-west-2"), "{ready}");
    assert_eq!(field(ready, "wait_time_scale"), Some("0.0"), "{ready}");
    assert_eq!(
        field(ready, "endpoints"),
        Some(
            "dynamodb=http://flag-ddb:2,s3=http://file-s3:1,sns=http://flag-sns:2,sqs=http://env-sqs:3"
        ),
        "{ready}"
    );
}

#[test]
fn a_bad_endpoint_in_the_file_is_refused_at_start() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("serve_log-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let config = dir.join("stepwise.toml");
    std::fs::write(&config, "[aws.endpoints]\ndynamo = \"http://x:1\"\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["serve", "--port", "0", "--store", ":memory:", "--config"])
        .arg(&config)
        .env_remove("STEPWISE_CONFIG")
        .output()
        .expect("run stepwise serve");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("aws.endpoints.dynamo") && stderr.contains("not a service"),
        "{stderr}"
    );
}

#[test]
fn a_start_on_postgres_logs_its_migration_once_and_no_server_notices() {
    let Some(schema) = stepwise_test_support::postgres::Schema::fresh("serve_log") else {
        return;
    };
    let url = schema.url();
    let first = start_up_lines(&["--store", &url], &[]);
    let again = start_up_lines(&["--store", &url], &[]);
    assert!(
        first.iter().any(|l| l.contains("schema migrated")),
        "the first start makes the tables: {first:#?}"
    );
    assert!(
        !again.iter().any(|l| l.contains("migrated")),
        "the second finds them: {again:#?}"
    );
    for line in first.iter().chain(&again) {
        assert!(
            !line.contains("NOTICE"),
            "a server notice in the log: {line}"
        );
    }
    assert_eq!(
        schema.count("SELECT COUNT(*) FROM stepwise_schema"),
        1,
        "the tables are in the schema the URL names"
    );
}
