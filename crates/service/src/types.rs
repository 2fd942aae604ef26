//! The requests and responses of the 37 actions, and every shape inside them, generated from
//! the Step Functions service model by `build.rs`: structures as structs (optional members as
//! `Option`), string enums as enums (`ExecutionStatus::Running`), with AWS's member names on
//! the wire, so a value serialises to exactly the JSON the API carries.

#![allow(clippy::large_enum_variant, missing_docs)]

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serializer};

/// A point in time as AWS JSON 1.0 carries it: seconds since the epoch, with milliseconds.
pub type Timestamp = f64;

include!(concat!(env!("OUT_DIR"), "/model_types.rs"));

/// A timestamp as AWS writes it: whole seconds as an integer, others with their fraction
/// (`1700000000`, `1700000000.123`).
fn seconds<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    // Below 2^53 every whole f64 is an exact i64.
    if t.fract() == 0.0 && t.abs() < 9.0e15 {
        s.serialize_i64(*t as i64)
    } else {
        s.serialize_f64(*t)
    }
}

fn opt_seconds<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => seconds(t, s),
        None => s.serialize_none(),
    }
}

/// An integer member: a JSON integer, or a number without a fraction (`5.0`), which the
/// wire's model check accepts as one.
fn integral<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("{n} can not be converted to a Long")))
}

fn opt_integral<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?
        .map(|n| integral(n).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_aws_writes_them() {
        let at = |ms: i64| {
            serde_json::to_string(&StartExecutionOutput::new("e", ms as f64 / 1000.0)).unwrap()
        };
        assert_eq!(
            at(1_700_000_000_123),
            r#"{"executionArn":"e","startDate":1700000000.123}"#
        );
        assert_eq!(
            at(1_700_000_000_000),
            r#"{"executionArn":"e","startDate":1700000000}"#
        );
        assert_eq!(
            at(1_700_000_000_050),
            r#"{"executionArn":"e","startDate":1700000000.05}"#
        );
    }

    #[test]
    fn integers_may_come_as_whole_floats() {
        let page: ListActivitiesInput = serde_json::from_str(r#"{"maxResults": 5.0}"#).unwrap();
        assert_eq!(page.max_results, Some(5));
        let none: ListActivitiesInput = serde_json::from_str(r#"{"maxResults": null}"#).unwrap();
        assert_eq!(none.max_results, None);
        assert!(serde_json::from_str::<ListActivitiesInput>(r#"{"maxResults": 5.5}"#).is_err());
    }
}
