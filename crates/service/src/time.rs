//! Times as the API's types hold them. The clock itself is the runtime's
//! ([`stepwise_runtime::clock::Clock`]), given to the service; how a time is written on the
//! wire (whole seconds without a fraction) is [`crate::types`]'.

use crate::types::Timestamp;

/// A time in milliseconds since the epoch as the API's types hold it: seconds, with the
/// milliseconds as the fraction.
pub fn seconds(ms: i64) -> Timestamp {
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_the_fraction() {
        assert_eq!(seconds(1_700_000_000_123), 1_700_000_000.123);
        assert_eq!(seconds(1_700_000_000_000), 1_700_000_000.0);
    }
}
