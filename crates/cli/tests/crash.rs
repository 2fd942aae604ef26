//! The crash test: 500 open Standard executions (Pass, Wait, an inline Map, an activity Task
//! served by worker threads) while the server is killed with SIGKILL at random moments ten times
//! and restarted on the same store and port. After the last restart every execution must
//! SUCCEED and every history must be exactly ids 1..n with nothing applied twice (the checks are
//! in tests/e2e/crash_driver.py, which is the client side). Once on a SQLite file, once on
//! PostgreSQL (a fresh schema of `STEPWISE_TEST_POSTGRES_URL`'s database).
//!
//! `STEPWISE_CRASH_SEED` repeats a run's kill moments; the seed is printed.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Backend, Server, TestStore, python, python_command};

const EXECUTIONS: usize = 500;
const KILLS: usize = 10;
const BUDGET: Duration = Duration::from_secs(120);

/// A small deterministic generator (xorshift64*), so a seed repeats a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[lo, hi)` milliseconds.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo))
    }
}

#[test]
fn kill_nine_ten_times_and_every_execution_still_succeeds_once() {
    crash_on(Backend::Sqlite);
}

#[test]
fn kill_nine_ten_times_on_postgres_and_every_execution_still_succeeds_once() {
    crash_on(Backend::Postgres);
}

fn crash_on(backend: Backend) {
    let Some(python) = python() else { return };
    let Some(store) = TestStore::new("crash", backend) else {
        return;
    };
    let seed = std::env::var("STEPWISE_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("crash test on {backend:?} seed: {seed} (STEPWISE_CRASH_SEED={seed} repeats it)");
    let mut rng = Rng(seed);
    let began = Instant::now();
    let mut server = Server::start_on(&store, &[("WAIT_TIME_SCALE", "0.01")]);
    let mut driver = python_command(&python, "crash_driver.py", &server.url)
        .arg(EXECUTIONS.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the crash driver");
    let output = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    for stream in [
        Box::new(driver.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(driver.stderr.take().expect("stderr")),
    ] {
        let output = output.clone();
        readers.push(std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                eprintln!("[driver] {line}");
                output.lock().expect("output").push_str(&(line + "\n"));
            }
        }));
    }

    let mut downtime = Duration::ZERO;
    for kill in 1..=KILLS {
        std::thread::sleep(rng.millis(300, 1200));
        if let Ok(Some(status)) = driver.try_wait() {
            panic!(
                "the driver ended before kill {kill} ({status}):\n{}",
                output.lock().expect("output")
            );
        }
        let at = began.elapsed();
        server.kill9();
        std::thread::sleep(rng.millis(0, 200));
        let t = Instant::now();
        server.restart();
        downtime += t.elapsed();
        eprintln!(
            "kill -9 #{kill} at {:.2}s; restarted in {:.0} ms",
            at.as_secs_f64(),
            t.elapsed().as_secs_f64() * 1000.0
        );
    }
    eprintln!(
        "{KILLS} kills done at {:.2}s (restarts took {:.0} ms in all)",
        began.elapsed().as_secs_f64(),
        downtime.as_secs_f64() * 1000.0
    );

    let status = loop {
        if let Some(status) = driver.try_wait().expect("wait for the driver") {
            break status;
        }
        if began.elapsed() > BUDGET {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!(
                "the crash test took more than {BUDGET:?}:\n{}",
                output.lock().expect("output")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for r in readers {
        let _ = r.join();
    }
    let text = output.lock().expect("output").clone();
    eprintln!(
        "crash test on {backend:?} total: {:.2}s",
        began.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "the crash driver failed ({status}):\n{text}"
    );
    assert!(text.contains("CRASH DRIVER OK"), "{text}");
    if let Some(schema) = store.schema() {
        // What the clients saw is what the database keeps.
        let succeeded =
            schema.count("SELECT COUNT(*) FROM executions WHERE status = 'SUCCEEDED'") as usize;
        assert_eq!(
            (
                schema.count("SELECT COUNT(*) FROM executions") as usize,
                succeeded
            ),
            (EXECUTIONS, EXECUTIONS),
            "executions in PostgreSQL schema {} (all, SUCCEEDED)",
            schema.name()
        );
    }
}
