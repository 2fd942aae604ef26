//! Time and randomness, in one place: the [`Clock`] the runtime and the service are given
//! (milliseconds since the epoch, random numbers, version 4 UUIDs). [`SystemClock`] is the
//! real one; a test gives a virtual clock and runs the whole service in virtual time.

use std::sync::Arc;

/// Where the runtime and the service get the time and random numbers. Nothing below the
/// binary reads the system clock or seeds a random generator of its own.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Milliseconds since the epoch, now.
    fn now_ms(&self) -> i64;

    /// 64 random bits (seeds of executions' randomness, token nonces, identifiers).
    fn random_u64(&self) -> u64;

    /// A random (version 4) UUID, lower-case and hyphenated.
    fn uuid(&self) -> String {
        let hi = self.random_u64();
        stepwise_asl::eval::uuid_v4(hi, self.random_u64())
    }
}

/// The system's clock, and randomness seeded by the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        now_ms()
    }

    fn random_u64(&self) -> u64 {
        random_u64()
    }
}

/// The system clock, shared.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Milliseconds since the epoch by the system clock.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// 64 random bits. std's `RandomState` is seeded from the operating system once per process
/// and differs for each instance; mixed with the clock and a counter it gives identifiers that do
/// not repeat (not secrets: nothing here needs cryptographic randomness).
fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_i64(now_ms());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let a = SystemClock.uuid();
        let b = SystemClock.uuid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        let many: std::collections::HashSet<String> =
            (0..10_000).map(|_| SystemClock.uuid()).collect();
        assert_eq!(many.len(), 10_000);
    }
}
