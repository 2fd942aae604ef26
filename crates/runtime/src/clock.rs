//! The wall clock and random identifiers, in one place: milliseconds since the epoch, and
//! version 4 UUIDs (request ids, generated names).

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
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

/// A random (version 4) UUID, lower-case and hyphenated.
pub fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&random_u64().to_le_bytes());
    b[8..].copy_from_slice(&random_u64().to_le_bytes());
    uuid_v4_from(b)
}

/// A version 4 UUID made of these 16 bytes (the version and variant bits are set).
pub fn uuid_v4_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let a = uuid_v4();
        let b = uuid_v4();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        let many: std::collections::HashSet<String> = (0..10_000).map(|_| uuid_v4()).collect();
        assert_eq!(many.len(), 10_000);
    }
}
