//! Small pieces of the wire format: durations as the logs show them.

/// A duration in milliseconds rounded to hundredths, as logs show it (`48.38`, not
/// `48.38424000000005`).
pub fn duration_ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_rounded_to_hundredths_of_a_millisecond() {
        let d = std::time::Duration::from_nanos(48_384_240);
        assert_eq!(duration_ms(d).to_string(), "48.38");
        assert_eq!(
            duration_ms(std::time::Duration::from_millis(3)).to_string(),
            "3"
        );
        assert_eq!(
            duration_ms(std::time::Duration::from_micros(70)).to_string(),
            "0.07"
        );
    }
}
