//! End-to-end tests of Distributed Maps that read their items from S3: `stepwise serve` pointed
//! at moto's server (`AWS_ENDPOINT_URL`), boto3 running the state machines
//! (`tests/e2e/distributed_map.py`).
//!
//! Without Python or PyPI it skips with a message, unless STEPWISE_E2E_REQUIRED=1.

mod support;

use std::time::{Duration, Instant};

use support::{Moto, Server, python, python_output, run_python_env, scratch_store};

#[test]
fn distributed_maps_read_their_items_from_s3() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("distributed");
    let server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    run_python_env(
        &python,
        "distributed_map.py",
        &server,
        &[],
        &[("MOTO_URL", moto.url.as_str())],
    );
}

/// Moto's and the server's environment for the scale script.
fn scale_env(moto: &Moto) -> [(&str, &str); 1] {
    [("MOTO_URL", moto.url.as_str())]
}

/// A Map Run killed with SIGKILL twice while its 20,000 children run: after each restart it
/// takes up where it was, and in the end every item had exactly one child, which succeeded once
/// (`distributed_scale.py check`).
#[test]
fn a_map_run_survives_kill_nine_twice_and_runs_each_item_once() {
    const ITEMS: &str = "20000";
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("distributed-kill");
    let mut server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    let env = scale_env(&moto);
    let script = "distributed_scale.py";
    let arn = python_output(
        &python,
        script,
        &server,
        &["start", ITEMS, "0", "500"],
        &env,
    );
    let arn = arn.trim().to_owned();
    // Killed once 2,000 children exist, then again once 8,000 do.
    for at_least in [2_000u64, 8_000] {
        let began = Instant::now();
        loop {
            let n: u64 = python_output(&python, script, &server, &["progress", &arn], &env)
                .trim()
                .parse()
                .expect("a count");
            if n >= at_least {
                eprintln!("{n} children when killed");
                break;
            }
            assert!(
                began.elapsed() < Duration::from_secs(300),
                "only {n} children after 300 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server.kill9();
        server.restart();
    }
    run_python_env(&python, script, &server, &["check", &arn, ITEMS, "0"], &env);
}

/// 100,000 JSON Lines items in batches of 100 under MaxConcurrency 1,000, their results written
/// by a ResultWriter (FLATTEN, JSONL), and 10,000 the same way on a fresh server: both checked
/// line by line against what the test computes; the peak memory of each server printed for
/// comparison (it must not grow with the number of items: the coordinator streams them).
#[test]
fn a_map_run_over_100000_items_streams_them() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let env = scale_env(&moto);
    for items in ["10000", "100000"] {
        let store = scratch_store(&format!("distributed-scale-{items}"));
        let mut server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
        let script = "distributed_scale.py";
        let began = Instant::now();
        let arn = python_output(
            &python,
            script,
            &server,
            &["start", items, "100", "1000", "writer"],
            &env,
        );
        run_python_env(
            &python,
            script,
            &server,
            &["check", arn.trim(), items, "100", "writer"],
            &env,
        );
        eprintln!(
            "{items} items: {:.1} s, peak RSS {} KiB",
            began.elapsed().as_secs_f64(),
            server.peak_rss_kib().map_or("?".into(), |k| k.to_string())
        );
        server.terminate();
    }
}

/// Every kind of ItemReader through a state machine (`tests/e2e/distributed_readers.py`): CSV
/// (header row, headers given, other delimiters), JSON with `ItemsPointer`, JSON Lines, Parquet,
/// an S3 Inventory manifest, a listObjectsV2 prefix of 5,000 keys, and `MaxItems`.
#[test]
fn distributed_maps_read_every_kind_of_item_source() {
    let Some(python) = python() else { return };
    let moto = Moto::start(&python);
    let store = scratch_store("distributed-readers");
    let server = Server::start(&store, &[("AWS_ENDPOINT_URL", moto.url.as_str())]);
    run_python_env(
        &python,
        "distributed_readers.py",
        &server,
        &[],
        &[("MOTO_URL", moto.url.as_str())],
    );
}
