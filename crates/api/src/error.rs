//! The one error type of the wire protocol: an AWS error shape name, its message and the HTTP
//! status, rendered as AWS JSON 1.0 (`{"__type": "...", "message": "..."}`).
//!
//! The error names and the fixed message wordings AWS uses live here, as data in one place; the
//! code that decides *when* an error happens lives with the actions.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An error answer of the Step Functions API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The error shape name, e.g. `StateMachineDoesNotExist` (botocore reads it from `__type`).
    pub code: String,
    pub message: String,
    pub status: StatusCode,
    /// Further members of the error shape (`resourceName`, `reason`); boxed to keep results
    /// small.
    extra: Option<Box<Map<String, Value>>>,
}

impl ApiError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, status: StatusCode) -> Self {
        ApiError {
            code: code.into(),
            message: message.into(),
            status,
            extra: None,
        }
    }

    /// A 400 error with this shape name.
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, message, StatusCode::BAD_REQUEST)
    }

    /// Adds a member to the error body.
    pub fn with(mut self, member: &str, value: impl Into<Value>) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(member.to_string(), value.into());
        self
    }

    /// A member beyond `__type` and `message`.
    pub fn extra(&self, member: &str) -> Option<&Value> {
        self.extra.as_ref().and_then(|m| m.get(member))
    }

    /// The JSON body AWS sends.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("__type".into(), Value::String(self.code.clone()));
        body.insert("message".into(), Value::String(self.message.clone()));
        for (k, v) in self.extra.iter().flat_map(|m| m.iter()) {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }

    // ----- protocol errors -------------------------------------------------------------------

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
        Self::client("SerializationException", message)
    }

    /// The request body is larger than the server accepts.
    pub fn request_too_large(limit: usize) -> Self {
        Self::new(
            "RequestEntityTooLargeException",
            format!("Request body is larger than the maximum of {limit} bytes"),
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    }

    /// Something failed inside the server (a store error, a bug).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            "InternalFailure",
            message,
            StatusCode::INTERNAL_SERVER_ERROR,
        )
    }

    // ----- ValidationException -----------------------------------------------------------------

    /// A model constraint violation or a semantic check with AWS's free text.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::client("ValidationException", message)
    }

    /// A ValidationException with its `reason` member.
    pub fn validation_reason(message: impl Into<String>, reason: &str) -> Self {
        Self::validation(message).with("reason", reason)
    }

    // ----- ARNs and names ----------------------------------------------------------------------

    /// `Invalid Arn: '<detail>'`.
    pub fn invalid_arn(detail: impl fmt::Display) -> Self {
        Self::client("InvalidArn", format!("Invalid Arn: '{detail}'"))
    }

    pub fn invalid_name(name: &str) -> Self {
        Self::client("InvalidName", format!("Invalid Name: '{name}'"))
    }

    pub fn invalid_token(detail: impl fmt::Display) -> Self {
        Self::client("InvalidToken", format!("Invalid Token: '{detail}'"))
    }

    // ----- state machines ----------------------------------------------------------------------

    /// `message` is the asl crate's `Invalid State Machine Definition: '...'` text.
    pub fn invalid_definition(message: impl Into<String>) -> Self {
        Self::client("InvalidDefinition", message)
    }

    pub fn state_machine_does_not_exist(arn: &str) -> Self {
        Self::client(
            "StateMachineDoesNotExist",
            format!("State Machine Does Not Exist: '{arn}'"),
        )
    }

    pub fn state_machine_already_exists(arn: &str) -> Self {
        Self::client(
            "StateMachineAlreadyExists",
            format!("State Machine Already Exists: '{arn}'"),
        )
    }

    pub fn state_machine_deleting(arn: &str) -> Self {
        Self::client(
            "StateMachineDeleting",
            format!("State Machine is being deleted: '{arn}'"),
        )
    }

    /// StartSyncExecution on a Standard state machine (and the like).
    pub fn state_machine_type_not_supported() -> Self {
        Self::client(
            "StateMachineTypeNotSupported",
            "This operation is not supported by this type of state machine",
        )
    }

    pub fn missing_required_parameter(message: impl Into<String>) -> Self {
        Self::client("MissingRequiredParameter", message)
    }

    pub fn invalid_logging_configuration(detail: &str) -> Self {
        Self::client(
            "InvalidLoggingConfiguration",
            format!("Invalid Logging Configuration: {detail}"),
        )
    }

    pub fn invalid_tracing_configuration(detail: &str) -> Self {
        Self::client(
            "InvalidTracingConfiguration",
            format!("Invalid Tracing Configuration: {detail}"),
        )
    }

    pub fn invalid_encryption_configuration(detail: &str) -> Self {
        Self::client(
            "InvalidEncryptionConfiguration",
            format!("Invalid Encryption Configuration: {detail}"),
        )
    }

    /// HTTP 409, as the model's documentation of the shape says.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", message, StatusCode::CONFLICT)
    }

    /// HTTP 402, as the model's documentation of the shape says.
    pub fn service_quota_exceeded(message: impl Into<String>) -> Self {
        Self::new(
            "ServiceQuotaExceededException",
            message,
            StatusCode::PAYMENT_REQUIRED,
        )
    }

    // ----- executions --------------------------------------------------------------------------

    pub fn execution_does_not_exist(arn: &str) -> Self {
        Self::client(
            "ExecutionDoesNotExist",
            format!("Execution Does Not Exist: '{arn}'"),
        )
    }

    pub fn execution_already_exists(arn: &str) -> Self {
        Self::client(
            "ExecutionAlreadyExists",
            format!("Execution Already Exists: '{arn}'"),
        )
    }

    pub fn execution_not_redrivable(message: impl Into<String>) -> Self {
        Self::client("ExecutionNotRedrivable", message)
    }

    pub fn execution_limit_exceeded(message: impl Into<String>) -> Self {
        Self::client("ExecutionLimitExceeded", message)
    }

    /// `detail` is the parser's complaint, e.g. Jackson's `Unrecognized token ...`.
    pub fn invalid_execution_input(detail: &str) -> Self {
        Self::client(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{detail}'"),
        )
    }

    pub fn invalid_output(message: impl Into<String>) -> Self {
        Self::client("InvalidOutput", message)
    }

    // ----- activities and tasks ----------------------------------------------------------------

    pub fn activity_does_not_exist(arn: &str) -> Self {
        Self::client(
            "ActivityDoesNotExist",
            format!("Activity Does Not Exist: '{arn}'"),
        )
    }

    pub fn activity_already_exists(arn: &str) -> Self {
        Self::client(
            "ActivityAlreadyExists",
            format!("Activity Already Exists: '{arn}'"),
        )
    }

    pub fn activity_limit_exceeded(message: impl Into<String>) -> Self {
        Self::client("ActivityLimitExceeded", message)
    }

    pub fn activity_worker_limit_exceeded(message: impl Into<String>) -> Self {
        Self::client("ActivityWorkerLimitExceeded", message)
    }

    pub fn task_does_not_exist(message: impl Into<String>) -> Self {
        Self::client("TaskDoesNotExist", message)
    }

    pub fn task_timed_out(message: impl Into<String>) -> Self {
        Self::client("TaskTimedOut", message)
    }

    // ----- tags and other resources ------------------------------------------------------------

    pub fn resource_not_found(arn: &str) -> Self {
        Self::client("ResourceNotFound", format!("Resource not found: '{arn}'"))
            .with("resourceName", arn)
    }

    /// The wording UpdateStateMachineAlias and its siblings use for a missing alias.
    pub fn resource_not_found_reference(arn: &str) -> Self {
        Self::client(
            "ResourceNotFound",
            "Request references a resource that does not exist.",
        )
        .with("resourceName", arn)
    }

    pub fn too_many_tags(arn: &str, limit: usize) -> Self {
        Self::client(
            "TooManyTags",
            format!("Too many tags for resource: '{arn}'. The maximum is {limit}"),
        )
        .with("resourceName", arn)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<stepwise_store::StoreError> for ApiError {
    fn from(e: stepwise_store::StoreError) -> Self {
        ApiError::internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Ok(v) = HeaderValue::from_str(&self.code) {
            headers.insert("x-amzn-errortype", v);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_type_message_and_extra_members() {
        let e = ApiError::resource_not_found("arn:aws:states:us-east-1:1:stateMachine:x:1");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            e.body(),
            serde_json::json!({
                "__type": "ResourceNotFound",
                "message": "Resource not found: 'arn:aws:states:us-east-1:1:stateMachine:x:1'",
                "resourceName": "arn:aws:states:us-east-1:1:stateMachine:x:1",
            })
        );
    }

    #[test]
    fn conflict_and_quota_use_the_documented_statuses() {
        assert_eq!(ApiError::conflict("x").status, StatusCode::CONFLICT);
        assert_eq!(
            ApiError::service_quota_exceeded("x").status,
            StatusCode::PAYMENT_REQUIRED
        );
    }

    #[test]
    fn every_constructor_names_a_shape_of_the_model_or_a_protocol_error() {
        let model = crate::model::model();
        let protocol = [
            "UnknownOperationException",
            "SerializationException",
            "RequestEntityTooLargeException",
            "InternalFailure",
        ];
        let errors = [
            ApiError::invalid_arn("x"),
            ApiError::invalid_name("x"),
            ApiError::invalid_token("x"),
            ApiError::invalid_definition("x"),
            ApiError::state_machine_does_not_exist("x"),
            ApiError::state_machine_already_exists("x"),
            ApiError::state_machine_deleting("x"),
            ApiError::state_machine_type_not_supported(),
            ApiError::missing_required_parameter("x"),
            ApiError::invalid_logging_configuration("x"),
            ApiError::invalid_tracing_configuration("x"),
            ApiError::invalid_encryption_configuration("x"),
            ApiError::conflict("x"),
            ApiError::service_quota_exceeded("x"),
            ApiError::execution_does_not_exist("x"),
            ApiError::execution_already_exists("x"),
            ApiError::execution_not_redrivable("x"),
            ApiError::execution_limit_exceeded("x"),
            ApiError::invalid_execution_input("x"),
            ApiError::invalid_output("x"),
            ApiError::activity_does_not_exist("x"),
            ApiError::activity_already_exists("x"),
            ApiError::activity_limit_exceeded("x"),
            ApiError::activity_worker_limit_exceeded("x"),
            ApiError::task_does_not_exist("x"),
            ApiError::task_timed_out("x"),
            ApiError::resource_not_found("x"),
            ApiError::too_many_tags("x", 50),
            ApiError::validation("x"),
            ApiError::unknown_operation(None),
            ApiError::serialization("x"),
            ApiError::request_too_large(1),
            ApiError::internal("x"),
        ];
        for e in errors {
            let known = protocol.contains(&e.code.as_str())
                || model.shape(&e.code).is_some_and(|s| s.exception);
            assert!(known, "{}", e.code);
        }
    }
}
