//! The Step Functions wire protocol (AWS JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Action>`),
//! and only that: decode a request, check it against the service model ([`model`],
//! [`validate`]), call the [`Service`], encode its answer or its error ([`error`]); the API's
//! metrics ([`metrics`]) and the axum [`router`].
//!
//! Everything the actions do is the service's ([`stepwise_service`]).

pub mod auth;
pub mod error;
pub mod metrics;
pub mod model;
pub mod router;
pub mod validate;
pub mod wire;

use std::sync::Arc;

pub use error::ApiError;
pub use metrics::Metrics;
pub use router::router;
pub use stepwise_service::Service;

/// Everything the router serves.
#[derive(Debug)]
pub struct Api {
    pub service: Arc<Service>,
    pub metrics: Metrics,
    /// The keys requests are checked against (SigV4, policies); none: not checked.
    pub keys: auth::Keys,
}

impl Api {
    pub fn new(service: Arc<Service>) -> Self {
        Api {
            service,
            metrics: Metrics::new(),
            keys: auth::Keys::default(),
        }
    }

    /// Every request must be signed with one of `keys` and allowed by its policy.
    pub fn with_keys(mut self, keys: auth::Keys) -> Self {
        self.keys = keys;
        self
    }
}
