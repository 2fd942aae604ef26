//! Times as AWS JSON 1.0 writes them. The clock itself is the runtime's
//! ([`stepwise_runtime::clock::Clock`]), given to the service.

use serde_json::{Number, Value};

use crate::types::Timestamp;

/// A time in milliseconds since the epoch as the API's types hold it (seconds; written as
/// AWS writes them by [`crate::types`]).
pub fn seconds(ms: i64) -> Timestamp {
    ms as f64 / 1000.0
}

/// A timestamp as AWS JSON 1.0 sends it: epoch seconds as a JSON number with millisecond
/// precision (botocore reads it into a datetime).
pub fn timestamp(ms: i64) -> Value {
    if ms % 1000 == 0 {
        return Value::Number(Number::from(ms / 1000));
    }
    Number::from_f64(ms as f64 / 1000.0).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_epoch_seconds_with_milliseconds() {
        assert_eq!(timestamp(1_700_000_000_123).to_string(), "1700000000.123");
        assert_eq!(timestamp(1_700_000_000_000).to_string(), "1700000000");
        assert_eq!(timestamp(1_700_000_000_050).to_string(), "1700000000.05");
    }
}
