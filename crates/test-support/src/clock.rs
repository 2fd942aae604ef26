//! Time under a test's control: a [`VirtualClock`] that stands still until the test sets or
//! advances it, shared by every clone, and the fixed instant tests start executions at.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, TimeZone, Utc};

/// The instant tests start their executions at: 2024-05-01T12:00:00Z.
pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// A clock that only moves when told to; its random numbers come from a counter, so two runs
/// with the same steps give the same identifiers. Clones share one time, so a test keeps one and hands
/// the other to the code under test (e.g. as `move || clock.now()`).
#[derive(Debug, Clone)]
pub struct VirtualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
    /// Random numbers drawn so far (read by the `runtime` feature's `Clock`).
    #[cfg_attr(not(feature = "runtime"), allow(dead_code))]
    draws: Arc<std::sync::atomic::AtomicU64>,
}

impl Default for VirtualClock {
    /// A clock at [`start_time`].
    fn default() -> Self {
        VirtualClock::at(start_time())
    }
}

impl VirtualClock {
    pub fn at(now: DateTime<Utc>) -> VirtualClock {
        VirtualClock {
            now: Arc::new(Mutex::new(now)),
            draws: Arc::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Milliseconds since the Unix epoch, as the store and the API keep times.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Sets the time (backwards too: a test may need a clock that jumps).
    pub fn set(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time on by `by` and returns the new time.
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
        *now
    }
}

#[cfg(feature = "runtime")]
impl stepwise_runtime::clock::Clock for VirtualClock {
    fn now_ms(&self) -> i64 {
        VirtualClock::now_ms(self)
    }

    fn random_u64(&self) -> u64 {
        // The engine's seeded generator on a counter: the same sequence every run.
        use stepwise_asl::eval::Entropy;
        let n = self
            .draws
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        stepwise_asl::eval::SeededEntropy::new(n).next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_only_when_told_and_clones_share_it() {
        let clock = VirtualClock::default();
        let handed_out = clock.clone();
        assert_eq!(handed_out.now(), start_time());
        assert_eq!(clock.now_ms(), 1_714_564_800_000);

        let later = clock.advance(Duration::seconds(90));
        assert_eq!(later, start_time() + Duration::seconds(90));
        assert_eq!(handed_out.now(), later);

        clock.set(start_time() - Duration::days(1));
        assert_eq!(handed_out.now_ms(), 1_714_564_800_000 - 86_400_000);
    }
}
