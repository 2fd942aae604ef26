//! The wire's error: an AWS error shape rendered as AWS JSON 1.0 (`{"__type": "...",
//! "message": "..."}`) with its HTTP status. Errors of the actions come from the service as
//! [`ServiceError`]s and are mapped here; the protocol's own (an unknown operation, a body
//! that is not JSON or too large, a member of the wrong type) are made here.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use stepwise_service::{ErrorClass, ServiceError};

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An error answer of the Step Functions API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The shape name, message and members, as the service (or the protocol) gave them.
    pub error: ServiceError,
    pub status: StatusCode,
}

impl ApiError {
    /// A 400 error with this shape name.
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        ServiceError::client(code, message).into()
    }

    /// The error shape name, e.g. `StateMachineDoesNotExist`.
    pub fn code(&self) -> &str {
        &self.error.code
    }

    /// The JSON body AWS sends.
    pub fn body(&self) -> Value {
        self.error.body()
    }

    /// The target names no operation of the service (or is missing).
    pub fn unknown_operation(target: Option<&str>) -> Self {
        let message = match target {
            Some(t) => format!("Unknown operation: '{t}'"),
            None => "Missing X-Amz-Target header".to_string(),
        };
        Self::client("UnknownOperationException", message)
    }

    /// The body is not JSON, or a member has the wrong JSON type.
    pub fn serialization(message: impl Into<String>) -> Self {
        ServiceError::serialization(message).into()
    }

    /// The request body is larger than the server accepts.
    pub fn request_too_large(limit: usize) -> Self {
        ApiError {
            error: ServiceError::client(
                "RequestEntityTooLargeException",
                format!("Request body is larger than the maximum of {limit} bytes"),
            ),
            status: StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// Something failed inside the server.
    pub fn internal(message: impl Into<String>) -> Self {
        ServiceError::internal(message).into()
    }

    /// A model constraint violation.
    pub fn validation(message: impl Into<String>) -> Self {
        ServiceError::validation(message).into()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = match error.class {
            ErrorClass::Client => StatusCode::BAD_REQUEST,
            // As the model's documentation of the shapes says.
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { error, status }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Ok(v) = HeaderValue::from_str(&self.error.code) {
            headers.insert("x-amzn-errortype", v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_map_to_the_documented_statuses() {
        let status = |e: ServiceError| ApiError::from(e).status;
        assert_eq!(
            status(ServiceError::resource_not_found("x")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status(ServiceError::conflict("x")), StatusCode::CONFLICT);
        assert_eq!(
            status(ServiceError::service_quota_exceeded("x")),
            StatusCode::PAYMENT_REQUIRED
        );
        assert_eq!(
            status(ServiceError::internal("x")),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn every_error_names_a_shape_of_the_model_or_a_protocol_error() {
        let model = crate::model::model();
        let protocol = [
            "UnknownOperationException",
            "SerializationException",
            "RequestEntityTooLargeException",
            "InternalFailure",
        ];
        let service = [
            ServiceError::invalid_arn("x"),
            ServiceError::invalid_name("x"),
            ServiceError::invalid_token("x"),
            ServiceError::invalid_definition("x"),
            ServiceError::state_machine_does_not_exist("x"),
            ServiceError::state_machine_already_exists("x"),
            ServiceError::state_machine_deleting("x"),
            ServiceError::state_machine_type_not_supported(),
            ServiceError::missing_required_parameter("x"),
            ServiceError::invalid_logging_configuration("x"),
            ServiceError::invalid_tracing_configuration("x"),
            ServiceError::invalid_encryption_configuration("x"),
            ServiceError::conflict("x"),
            ServiceError::service_quota_exceeded("x"),
            ServiceError::execution_does_not_exist("x"),
            ServiceError::execution_already_exists("x"),
            ServiceError::execution_not_redrivable("x"),
            ServiceError::execution_limit_exceeded("x"),
            ServiceError::invalid_execution_input("x"),
            ServiceError::invalid_output("x"),
            ServiceError::activity_does_not_exist("x"),
            ServiceError::activity_already_exists("x"),
            ServiceError::activity_limit_exceeded("x"),
            ServiceError::activity_worker_limit_exceeded("x"),
            ServiceError::task_does_not_exist("x"),
            ServiceError::task_timed_out("x"),
            ServiceError::resource_not_found("x"),
            ServiceError::too_many_tags("x", 50),
            ServiceError::validation("x"),
            ServiceError::internal("x"),
        ];
        let wire = [
            ApiError::unknown_operation(None),
            ApiError::serialization("x"),
            ApiError::request_too_large(1),
        ];
        let codes = service
            .into_iter()
            .map(|e| e.code)
            .chain(wire.into_iter().map(|e| e.error.code));
        for code in codes {
            let known = protocol.contains(&code.as_str())
                || model.shape(&code).is_some_and(|s| s.exception);
            assert!(known, "{code}");
        }
    }
}
