//! The service's one error type: an AWS error name as data (`StateMachineDoesNotExist`), its
//! message, the shape's further members, and what kind of failure it is. No HTTP: the wire
//! crate maps [`ErrorClass`] to a status code.
//!
//! The error names and the fixed message wordings AWS uses live here, in one place; the code
//! that decides *when* an error happens lives with the actions.

use std::fmt;

use serde_json::{Map, Value};

/// What kind of failure an error is; the wire turns it into a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The request cannot be carried out as asked (HTTP 400).
    Client,
    /// It conflicts with the current state of a resource (`ConflictException`, HTTP 409).
    Conflict,
    /// An account quota is used up (`ServiceQuotaExceededException`, HTTP 402).
    QuotaExceeded,
    /// A failure inside the server: a store error, a bug (HTTP 500).
    Internal,
}

/// An error of a Step Functions action.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The error shape name, e.g. `StateMachineDoesNotExist` (botocore reads it from `__type`).
    pub code: String,
    pub message: String,
    pub class: ErrorClass,
    /// Further members of the error shape (`resourceName`, `reason`); boxed to keep results
    /// small.
    extra: Option<Box<Map<String, Value>>>,
}

impl ServiceError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, class: ErrorClass) -> Self {
        ServiceError {
            code: code.into(),
            message: message.into(),
            class,
            extra: None,
        }
    }

    /// A client error with this shape name.
    pub fn client(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, message, ErrorClass::Client)
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

    // ----- failures inside the server ---------------------------------------------------------

    /// Something failed inside the server (a store error, a bug).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", message, ErrorClass::Internal)
    }

    /// A request body of the wrong shape (`SerializationException`).
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
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
        Self::new("ConflictException", message, ErrorClass::Conflict)
    }

    /// HTTP 402, as the model's documentation of the shape says.
    pub fn service_quota_exceeded(message: impl Into<String>) -> Self {
        Self::new(
            "ServiceQuotaExceededException",
            message,
            ErrorClass::QuotaExceeded,
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

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

impl From<stepwise_store::StoreError> for ServiceError {
    fn from(e: stepwise_store::StoreError) -> Self {
        ServiceError::internal(e.to_string())
    }
}

/// AWS's ValidationException message for a list of violations: `1 validation error
/// detected: ...` or `2 validation errors detected: ...; ...`.
pub fn validation_message(violations: &[String]) -> String {
    let n = violations.len();
    let noun = if n == 1 { "error" } else { "errors" };
    format!("{n} validation {noun} detected: {}", violations.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_type_message_and_extra_members() {
        let e = ServiceError::resource_not_found("arn:aws:states:us-east-1:1:stateMachine:x:1");
        assert_eq!(e.class, ErrorClass::Client);
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
    fn conflict_and_quota_have_their_own_classes() {
        assert_eq!(ServiceError::conflict("x").class, ErrorClass::Conflict);
        assert_eq!(
            ServiceError::service_quota_exceeded("x").class,
            ErrorClass::QuotaExceeded
        );
    }
}
