//! Three `stepwise serve` nodes sharing one PostgreSQL database (a fresh schema of the database
//! `STEPWISE_TEST_POSTGRES_URL` names). A Python client (tests/e2e/cluster_driver.py) starts
//! Standard executions mixing Wait, Parallel, an inline Map, a Lambda function (a local command)
//! that fails once and is retried, and an activity, spread over every node; its workers poll one
//! node and answer through another. Once they are all started, one node is killed with SIGKILL,
//! another is paused (SIGSTOP) past its lease and woken again, and the killed one is restarted.
//! Every execution must still SUCCEED exactly once: every history ids 1..n with nothing applied
//! twice, each Lambda call made at most twice (the node making it may die) and recorded once.
//!
//! `STEPWISE_CLUSTER_EXECUTIONS` sets how many executions (200 by default).
//! Without PostgreSQL it skips, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use stepwise_test_support::postgres::Schema;
use support::{Server, python, python_command};

/// The Lambda function: records each call (`id/attempt`) and fails the first attempt.
const FLAKY: &str = "import os\n\n\nclass FirstTry(Exception):\n    pass\n\n\n\
def handler(event, context):\n    \
with open(os.environ['CLUSTER_CALLS'], 'a') as f:\n        \
f.write(str(event['id']) + '/' + str(event['attempt']) + '\\n')\n    \
if event['attempt'] == 0:\n        \
raise FirstTry('the first try fails')\n    \
return {'id': event['id']}\n";

const RUNNER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tasks/tests/lambda/runner.py"
);

fn signal(server: &Server, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {sig} failed");
}

#[test]
fn three_nodes_share_executions_and_carry_on_when_one_dies_and_one_pauses() {
    run_with("kill", &|nodes: &mut Vec<Server>| {
        // Node 1 dies without a word; node 2 stops past its lease, then wakes up with
        // leases the others have taken (its commits must be refused); node 1 comes back.
        nodes[1].kill9();
        eprintln!("killed node 1");
        signal(&nodes[2], "-STOP");
        eprintln!("paused node 2");
        std::thread::sleep(Duration::from_millis(7000));
        signal(&nodes[2], "-CONT");
        eprintln!("woke node 2");
        nodes[1].restart();
        eprintln!("restarted node 1");
    });
}

/// PostgreSQL itself restarted mid-run: the nodes reconnect and every execution still
/// succeeds once. It restarts the server other tests use, so it runs only when asked:
/// `STEPWISE_TEST_POSTGRES_RESTART` is the command that restarts it (for example
/// `pg_ctlcluster 15 main restart -m fast`). The server it starts inherits this test's open
/// files: do not run it under a lock file (such as `flock`) that others wait for.
#[test]
fn three_nodes_carry_on_when_postgres_restarts() {
    let Ok(restart) = std::env::var("STEPWISE_TEST_POSTGRES_RESTART") else {
        eprintln!("skipped: STEPWISE_TEST_POSTGRES_RESTART is not set");
        return;
    };
    run_with("restart", &|_nodes: &mut Vec<Server>| {
        let status = Command::new("sh")
            .args(["-c", &restart])
            .status()
            .expect("run the restart command");
        assert!(status.success(), "{restart} failed");
        eprintln!("restarted PostgreSQL");
    });
}

fn run_with(name: &str, strike: &dyn Fn(&mut Vec<Server>)) {
    let Some(schema) = Schema::fresh(&format!("cluster_{name}")) else {
        return;
    };
    let Some(python) = python() else { return };
    let executions: usize = std::env::var("STEPWISE_CLUSTER_EXECUTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let dir = tempfile_dir(&format!("cluster-{name}"));
    let functions = dir.join("functions");
    std::fs::create_dir_all(&functions).expect("functions folder");
    std::fs::write(functions.join("flaky.py"), FLAKY).expect("write flaky.py");
    let calls = dir.join("calls.txt");
    std::fs::write(&calls, "").expect("calls file");
    let config = dir.join("stepwise.toml");
    std::fs::write(
        &config,
        format!(
            "[lambda.functions.flaky]\ncommand = [{:?}, {RUNNER:?}, {:?}, \"flaky.handler\"]\ntimeout_seconds = 60\n",
            python.to_str().expect("UTF-8 path"),
            functions.to_str().expect("UTF-8 path")
        ),
    )
    .expect("write stepwise.toml");
    let url = schema.url();
    let store = Path::new(&url);
    let node = |k: usize| {
        Server::start(
            store,
            &[
                ("WAIT_TIME_SCALE", "0.01"),
                ("STEPWISE_CONFIG", config.to_str().expect("UTF-8 path")),
                ("STEPWISE_LEASE_MS", "5000"),
                ("STEPWISE_NODE_ID", &format!("node-{k}")),
                ("CLUSTER_CALLS", calls.to_str().expect("UTF-8 path")),
            ],
        )
    };
    let mut nodes: Vec<Server> = (0..3).map(node).collect();
    // Every node has its share before work starts (a renewal is every third of the lease).
    std::thread::sleep(Duration::from_millis(2500));
    let urls: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();
    let mut driver = python_command(&python, "cluster_driver.py", &urls[0])
        .args([
            &executions.to_string(),
            &urls.join(","),
            calls.to_str().expect("UTF-8 path"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the cluster driver");
    let (tx, phases) = mpsc::channel();
    let stdout = driver.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            eprintln!("[driver] {line}");
            if line.contains("PHASE ") {
                let _ = tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let started = phases
        .recv_timeout(Duration::from_secs(120))
        .expect("the driver started every execution");
    assert!(started.contains("PHASE started"), "{started}");
    std::thread::sleep(Duration::from_millis(800));
    strike(&mut nodes);
    let status = driver.wait().expect("the driver ran");
    let output = reader.join().expect("driver output");
    assert!(
        status.success() && output.contains("CLUSTER DRIVER OK"),
        "the cluster driver failed"
    );
    // SIGTERM: each node hands its partitions back and exits cleanly.
    for (k, n) in nodes.iter_mut().enumerate() {
        assert_eq!(n.terminate(), Some(0), "node {k} exits cleanly");
    }
    drop(schema);
}

fn tempfile_dir(test: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}
