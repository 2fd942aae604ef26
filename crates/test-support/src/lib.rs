//! What Stepwise's tests and benchmarks share, so that each exists once: the recorded conformance
//! corpus and how a missing one is reported ([`fixtures`], [`corpus`]), how a recorded (masked)
//! value is compared with ours ([`masks`]), a virtual clock ([`clock`]), and, behind features,
//! a scripted task handler (feature `engine`: `tasks`) and store record builders and a store
//! whose commit fails on cue (feature `store`: `records`, `failing_store`); the end-to-end
//! tests' Python venv and moto's server ([`python`]); a PostgreSQL schema of its own for each
//! test (feature `postgres`: `postgres`).
//!
//! It is a dev-dependency only and never published. It owns no test: what a comparison must
//! score, or what a test asserts, stays in the test. The features keep a crate's tests from
//! building what they do not use (the language crate's tests need neither the engine nor the
//! store).

pub mod clock;
pub mod corpus;
#[cfg(feature = "store")]
pub mod failing_store;
pub mod fixtures;
pub mod masks;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod python;
#[cfg(feature = "store")]
pub mod records;
#[cfg(feature = "engine")]
pub mod tasks;

pub use clock::{VirtualClock, start_time};
pub use fixtures::{fixtures_required, skip_or_fail};
pub use masks::{mask_pattern, numbers_equal, text_matches, value_matches};

/// `n` of `d` as a percentage; 100 when there is nothing to count.
/// A local TCP port nothing listens on now (bound, then freed), for a stand-in server a test
/// starts, or for a call that must find nothing there.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn percent(n: usize, d: usize) -> f64 {
    if d == 0 {
        100.0
    } else {
        n as f64 * 100.0 / d as f64
    }
}
