//! Task states that call AWS services: `arn:aws:states:::aws-sdk:SERVICE:action`.
//!
//! Driven by the services' published API models ([`model::Models`], inside the binary), not
//! by code per service: the Task's PascalCase parameters become the request of the action's
//! protocol ([`protocol`]), signed with SigV4 ([`AwsClient`]), sent to the service's endpoint
//! (real AWS, or a local stand-in such as moto: [`Endpoints`]); the answer becomes the result
//! Step Functions gives (PascalCase members, ISO-8601 timestamps), and a refusal the error
//! Step Functions names (`DynamoDb.ConditionalCheckFailedException`, `S3.NoSuchKeyException`,
//! `DynamoDb.DynamoDbException` for errors the model does not list) with AWS's cause text.

pub mod apigateway;
pub mod client;
mod credentials;
pub mod jobs;
pub mod json;
pub mod model;
pub mod optimized;
pub mod protocol;
pub mod s3;
pub mod values;
pub mod xml;

pub use client::{AwsClient, AwsConfig, Caller, Endpoints, StaticCredentials};
pub use jobs::{JobKind, JobRef, JobState};
pub use optimized::Optimized;

/// Why a call failed: the error and cause a Task's Catch sees.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct AwsError {
    pub error: String,
    pub cause: String,
}

impl AwsError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> AwsError {
        AwsError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}
