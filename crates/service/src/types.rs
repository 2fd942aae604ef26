//! The requests and responses of the 37 actions, and every shape inside them, generated from
//! the Step Functions service model by `build.rs`: structures as structs (optional members as
//! `Option`), string enums as enums (`ExecutionStatus::Running`), with AWS's member names on
//! the wire, so a value serialises to exactly the JSON the API carries.

#![allow(clippy::large_enum_variant, missing_docs)]

use std::collections::BTreeMap;

/// A point in time as AWS JSON 1.0 carries it: seconds since the epoch, with milliseconds.
pub type Timestamp = f64;

include!(concat!(env!("OUT_DIR"), "/model_types.rs"));
