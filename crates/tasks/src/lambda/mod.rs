//! Lambda: `arn:aws:states:::lambda:invoke` and the direct `arn:aws:lambda:…:function:NAME` form,
//! run by a Lambda Invoke API endpoint or by a local command.
//!
//! A function is looked up by name: first among `[lambda.functions.NAME]` (a local command, see
//! [`local`]), then at the Invoke API endpoint (`LAMBDA_ENDPOINT` or `[lambda] endpoint`, see
//! [`endpoint`]); with neither, it does not exist, and the task fails as AWS fails it for a
//! function that does not exist. Both ways give an [`Invoked`] (what Lambda's Invoke answered) or
//! an [`InvokeError`] (the exception the Lambda client raised), and this module turns that into
//! what Step Functions hands the state, in its words:
//!
//! - the optimized integration's result `{ExecutedVersion, Payload, SdkHttpMetadata,
//!   SdkResponseMetadata, StatusCode}`, the function's own result for the direct form;
//! - a function error (`X-Amz-Function-Error`) fails the task with the payload's `errorType`
//!   (`Lambda.Unknown` when it has none) and the payload as the cause: exactly as the function
//!   answered for the direct form, re-serialized compactly for the optimized integration (as
//!   AWS's recordings show);
//! - an Invoke API error fails it with `Lambda.<exception>` and the Java SDK's message shape,
//!   `<message> (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException;
//!   Request ID: <id>; Proxy: null)`;
//! - a result over 256 KiB fails it with `States.DataLimitExceeded`.

mod endpoint;
mod ids;
mod local;

use serde_json::{Map, Value};

use crate::{CallContext, Integrations, Outcome};

/// The largest result a task may hand its state (AWS's 256 KiB payload quota).
pub const MAX_RESULT_BYTES: usize = 256 * 1024;

/// The fields the optimized integration passes on to Invoke.
const INVOKE_FIELDS: [&str; 6] = [
    "FunctionName",
    "Payload",
    "InvocationType",
    "Qualifier",
    "ClientContext",
    "LogType",
];

/// The exceptions Lambda's Invoke is modelled with: the Java SDK raises each as its own class,
/// which Step Functions names `Lambda.<class>`. Any other error code is `AWSLambdaException`.
const MODELED_ERRORS: [&str; 34] = [
    "EC2AccessDeniedException",
    "EC2ThrottledException",
    "EC2UnexpectedException",
    "EFSIOException",
    "EFSMountConnectivityException",
    "EFSMountFailureException",
    "EFSMountTimeoutException",
    "ENILimitReachedException",
    "InvalidParameterValueException",
    "InvalidRequestContentException",
    "InvalidRuntimeException",
    "InvalidSecurityGroupIDException",
    "InvalidSubnetIDException",
    "InvalidZipFileException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
    "RecursiveInvocationException",
    "RequestTooLargeException",
    "ResourceConflictException",
    "ResourceNotFoundException",
    "ResourceNotReadyException",
    "ServiceException",
    "SnapStartException",
    "SnapStartNotReadyException",
    "SnapStartTimeoutException",
    "SubnetIPAddressLimitReachedException",
    "TooManyRequestsException",
    "UnsupportedMediaTypeException",
    "CodeSigningConfigNotFoundException",
    "CodeStorageExceededException",
    "CodeVerificationFailedException",
    "InvalidCodeSignatureException",
];

/// Lambda's pattern for `FunctionName`, as its validation error quotes it.
const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";

/// How Invoke runs the function (`InvocationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvocationType {
    /// Wait for the function's answer (200).
    RequestResponse,
    /// Queue the event and answer at once (202).
    Event,
    /// Only check that the call would be allowed (204).
    DryRun,
}

impl InvocationType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InvocationType::RequestResponse => "RequestResponse",
            InvocationType::Event => "Event",
            InvocationType::DryRun => "DryRun",
        }
    }
}

/// A function as `FunctionName` names it, completed with the caller's region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    pub partition: String,
    pub region: String,
    pub account: String,
    pub name: String,
    pub qualifier: Option<String>,
}

impl FunctionRef {
    /// Reads `FunctionName` as Invoke takes it: `NAME`, `ACCOUNT:function:NAME`,
    /// `REGION:ACCOUNT:function:NAME` or `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME`,
    /// each with an optional `:QUALIFIER`. `None` when it is none of these.
    pub(crate) fn parse(text: &str, ctx: &CallContext) -> Option<FunctionRef> {
        let parts: Vec<&str> = text.split(':').collect();
        let (partition, region, account, rest) = match parts.as_slice() {
            [
                "arn",
                partition,
                "lambda",
                region,
                account,
                "function",
                rest @ ..,
            ] => (Some(*partition), Some(*region), Some(*account), rest),
            [region, account, "function", rest @ ..] => (None, Some(*region), Some(*account), rest),
            [account, "function", rest @ ..] => (None, None, Some(*account), rest),
            rest => (None, None, None, rest),
        };
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, qualifier] => (*name, Some(*qualifier)),
            _ => return None,
        };
        let valid_name = !name.is_empty()
            && name.len() <= if text.starts_with("arn:") { 140 } else { 64 }
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        let valid_qualifier = qualifier.is_none_or(|q| {
            q == "$LATEST"
                || (!q.is_empty()
                    && q.len() <= 128
                    && q.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')))
        });
        let valid_partition = partition.is_none_or(|p| {
            p.starts_with("aws") && p.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
        });
        let valid_region = region.is_none_or(|r| {
            !r.is_empty()
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        let valid_account =
            account.is_none_or(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()));
        if !(valid_name && valid_qualifier && valid_partition && valid_region && valid_account) {
            return None;
        }
        Some(FunctionRef {
            partition: partition.unwrap_or("aws").to_owned(),
            region: region.unwrap_or(&ctx.region).to_owned(),
            account: account.unwrap_or(&ctx.account).to_owned(),
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
        })
    }

    /// The function's unqualified ARN.
    pub(crate) fn arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition, self.region, self.account, self.name
        )
    }

    /// The ARN of the version or alias called (`$LATEST` when unqualified), as Lambda's
    /// "Function not found" message names it.
    pub(crate) fn qualified_arn(&self) -> String {
        format!(
            "{}:{}",
            self.arn(),
            self.qualifier.as_deref().unwrap_or("$LATEST")
        )
    }
}

/// One call of Lambda's Invoke.
#[derive(Debug, Clone)]
pub(crate) struct Invoke {
    pub function: FunctionRef,
    /// The request body; empty when the task gave no `Payload` (Lambda then passes `{}`).
    pub payload: Vec<u8>,
    pub invocation_type: InvocationType,
    /// `LogType: Tail`: return the last 4 KB of the log, base64-encoded.
    pub log_tail: bool,
    /// `ClientContext`: base64-encoded JSON, as given.
    pub client_context: Option<String>,
    /// The trace headers the call carries (see [`CallContext::trace`]).
    pub trace: Vec<(String, String)>,
}

/// What Invoke answered (a 2xx).
#[derive(Debug, Clone)]
pub(crate) struct Invoked {
    /// 200 (RequestResponse), 202 (Event) or 204 (DryRun).
    pub status: u16,
    pub payload: Vec<u8>,
    /// `X-Amz-Function-Error` (`Handled` or `Unhandled`): the payload is the function's error.
    pub function_error: Option<String>,
    pub executed_version: Option<String>,
    /// `X-Amz-Log-Result`.
    pub log_result: Option<String>,
    pub request_id: String,
    pub trace_id: String,
    pub date: String,
}

/// The exception the Lambda client raised instead of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum InvokeError {
    /// Lambda refused the call: its error code (`ResourceNotFoundException`), the HTTP status,
    /// its message and the request's id.
    Service {
        code: Option<String>,
        status: u16,
        message: String,
        request_id: String,
    },
    /// No answer came: the endpoint could not be reached or the connection broke.
    Client(String),
    /// The client gave up waiting for the answer.
    ClientTimeout,
}

impl InvokeError {
    /// `ResourceNotFoundException` for `function`, in Lambda's words.
    pub(crate) fn not_found(function: &FunctionRef) -> InvokeError {
        InvokeError::Service {
            code: Some("ResourceNotFoundException".into()),
            status: 404,
            message: format!("Function not found: {}", function.qualified_arn()),
            request_id: ids::request_id(),
        }
    }

    /// A request Lambda refuses before running anything (400).
    pub(crate) fn bad_request(code: &str, message: impl Into<String>) -> InvokeError {
        InvokeError::Service {
            code: Some(code.into()),
            status: 400,
            message: message.into(),
            request_id: ids::request_id(),
        }
    }

    /// The task's failure: `Lambda.<exception>` and the Java SDK's message.
    pub(crate) fn outcome(&self) -> Outcome {
        match self {
            InvokeError::Service {
                code,
                status,
                message,
                request_id,
            } => {
                let class = match code.as_deref() {
                    Some(c) if MODELED_ERRORS.contains(&c) => c,
                    _ => "AWSLambdaException",
                };
                Outcome::failed(
                    format!("Lambda.{class}"),
                    format!(
                        "{message} (Service: AWSLambda; Status Code: {status}; Error Code: {}; \
                         Request ID: {request_id}; Proxy: null)",
                        code.as_deref().unwrap_or("null")
                    ),
                )
            }
            InvokeError::Client(reason) => Outcome::failed(
                "Lambda.SdkClientException",
                format!("Unable to execute HTTP request: {reason}"),
            ),
            InvokeError::ClientTimeout => Outcome::failed(
                "Lambda.ClientExecutionTimeoutException",
                "Client execution did not complete before the specified timeout configuration.",
            ),
        }
    }
}

impl Integrations {
    /// `arn:aws:states:::lambda:invoke`: `parameters` holds `FunctionName`, `Payload`, … The
    /// result is `{ExecutedVersion, Payload, StatusCode, SdkHttpMetadata, SdkResponseMetadata}`.
    pub async fn lambda_invoke(&self, parameters: &Value, ctx: &CallContext) -> Outcome {
        let call = match invoke_parameters(parameters, ctx) {
            Ok(call) => call,
            Err(outcome) => return outcome,
        };
        match self.invoke_lambda(&call).await {
            Ok(invoked) if invoked.function_error.is_some() => function_failed(&invoked, false),
            Ok(invoked) => within_limit(invoke_result(&invoked), "lambda"),
            Err(e) => e.outcome(),
        }
    }

    /// The direct form: `Resource` is the function's ARN and `payload` the effective
    /// parameters; the result is the function's answer itself.
    pub async fn lambda_function(
        &self,
        function_arn: &str,
        payload: &Value,
        ctx: &CallContext,
    ) -> Outcome {
        let Some(function) = FunctionRef::parse(function_arn, ctx) else {
            return invalid_function_name(function_arn).outcome();
        };
        let call = Invoke {
            function,
            payload: serde_json::to_vec(payload).unwrap_or_default(),
            invocation_type: InvocationType::RequestResponse,
            log_tail: false,
            client_context: None,
            trace: ctx.trace.clone(),
        };
        match self.invoke_lambda(&call).await {
            Ok(invoked) if invoked.function_error.is_some() => function_failed(&invoked, true),
            Ok(invoked) => within_limit(payload_value(&invoked.payload), function_arn),
            Err(e) => e.outcome(),
        }
    }

    /// Runs `call` where the function lives: a local command bound to its name, else the Invoke
    /// API endpoint; with neither, the function does not exist.
    async fn invoke_lambda(&self, call: &Invoke) -> Result<Invoked, InvokeError> {
        if let Some(function) = self.config.lambda.functions.get(&call.function.name) {
            return local::invoke(&call.function.name, function, &self.config, call).await;
        }
        if let Some(url) = &self.lambda_endpoint {
            return endpoint::invoke(&self.client, url, call).await;
        }
        Err(InvokeError::not_found(&call.function))
    }
}

/// Reads the optimized integration's parameters into an Invoke call, or the task's failure.
fn invoke_parameters(parameters: &Value, ctx: &CallContext) -> Result<Invoke, Outcome> {
    let Some(fields) = parameters.as_object() else {
        return Err(bad_parameters(
            parameters,
            "The value of the field 'Parameters' must be an object",
        ));
    };
    if let Some(field) = fields.keys().find(|k| !INVOKE_FIELDS.contains(&k.as_str())) {
        return Err(bad_parameters(
            parameters,
            &format!("The field \"{field}\" is not supported by Step Functions"),
        ));
    }
    let text = |field: &str| -> Result<Option<&str>, Outcome> {
        match fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(bad_parameters(
                parameters,
                &format!("The value of the field '{field}' has an invalid format"),
            )),
        }
    };
    let Some(name) = text("FunctionName")? else {
        return Err(bad_parameters(
            parameters,
            "The field 'FunctionName' is required but was missing",
        ));
    };
    let qualifier = text("Qualifier")?;
    let invocation_type = match text("InvocationType")? {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(validation_error(
                other,
                "invocationType",
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )
            .outcome());
        }
    };
    let log_tail = match text("LogType")? {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(validation_error(
                other,
                "logType",
                "Member must satisfy enum value set: [None, Tail]",
            )
            .outcome());
        }
    };
    let client_context = text("ClientContext")?.map(str::to_owned);
    let Some(mut function) = FunctionRef::parse(name, ctx) else {
        return Err(invalid_function_name(name).outcome());
    };
    if let Some(q) = qualifier {
        match &function.qualifier {
            Some(derived) if derived != q => {
                return Err(InvokeError::bad_request(
                    "InvalidParameterValueException",
                    "The derived qualifier from the function name does not match the specified \
                     qualifier.",
                )
                .outcome());
            }
            _ => function.qualifier = Some(q.to_owned()),
        }
    }
    // A string is sent as it is (it holds JSON text); anything else is sent as JSON.
    let payload = match fields.get("Payload") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        Some(v) => serde_json::to_vec(v).unwrap_or_default(),
    };
    Ok(Invoke {
        function,
        payload,
        invocation_type,
        log_tail,
        client_context,
        trace: ctx.trace.clone(),
    })
}

/// Parameters the integration cannot use: `States.Runtime`, in the words AWS uses for them.
fn bad_parameters(parameters: &Value, problem: &str) -> Outcome {
    Outcome::failed(
        "States.Runtime",
        format!(
            "The Parameters '{}' could not be used to start the Task: [{problem}]",
            compact(parameters)
        ),
    )
}

/// Lambda's `ValidationException` for a value outside its constraint.
fn validation_error(value: &str, field: &str, constraint: &str) -> InvokeError {
    InvokeError::bad_request(
        "ValidationException",
        format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
             constraint: {constraint}"
        ),
    )
}

fn invalid_function_name(name: &str) -> InvokeError {
    validation_error(
        name,
        "functionName",
        &format!("Member must satisfy regular expression pattern: {FUNCTION_NAME_PATTERN}"),
    )
}

/// A function error: the payload's `errorType` (else `Lambda.Unknown`) and the payload as the
/// cause, as the function wrote it (`direct`) or re-serialized compactly (optimized).
fn function_failed(invoked: &Invoked, direct: bool) -> Outcome {
    let text = String::from_utf8_lossy(&invoked.payload).into_owned();
    let parsed: Option<Value> = serde_json::from_slice(&invoked.payload).ok();
    let error = parsed
        .as_ref()
        .and_then(|v| v.get("errorType"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("Lambda.Unknown")
        .to_owned();
    let cause = match parsed {
        Some(v) if !direct => compact(&v),
        _ => text,
    };
    Outcome::failed(error, cause)
}

/// The response payload as a value: its JSON, else its text (an empty payload is `""`).
fn payload_value(payload: &[u8]) -> Value {
    if payload.is_empty() {
        return Value::from("");
    }
    serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(payload).into_owned()))
}

/// The optimized integration's result: the response as the Java SDK describes it.
fn invoke_result(invoked: &Invoked) -> Value {
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let Some(log) = &invoked.log_result {
        headers.push(("X-Amz-Log-Result", log.clone()));
    }
    if let Some(version) = &invoked.executed_version {
        headers.push(("X-Amz-Executed-Version", version.clone()));
    }
    headers.extend([
        ("x-amzn-Remapped-Content-Length", "0".to_owned()),
        ("Connection", "keep-alive".to_owned()),
        ("x-amzn-RequestId", invoked.request_id.clone()),
        ("Content-Length", invoked.payload.len().to_string()),
        ("Date", invoked.date.clone()),
        ("X-Amzn-Trace-Id", invoked.trace_id.clone()),
        ("Content-Type", "application/json".to_owned()),
    ]);
    let all: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::from(vec![v.clone()])))
        .collect();
    let mut sorted = headers.clone();
    sorted.sort_by_key(|(k, _)| k.to_ascii_lowercase());
    let single: Map<String, Value> = sorted
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();

    let mut http = Map::new();
    http.insert("AllHttpHeaders".into(), Value::Object(all));
    http.insert("HttpHeaders".into(), Value::Object(single));
    http.insert("HttpStatusCode".into(), Value::from(invoked.status));
    let mut sdk = Map::new();
    sdk.insert("RequestId".into(), Value::from(invoked.request_id.clone()));

    let mut result = Map::new();
    if let Some(version) = &invoked.executed_version {
        result.insert("ExecutedVersion".into(), Value::from(version.clone()));
    }
    if let Some(log) = &invoked.log_result {
        result.insert("LogResult".into(), Value::from(log.clone()));
    }
    result.insert("Payload".into(), payload_value(&invoked.payload));
    result.insert("SdkHttpMetadata".into(), Value::Object(http));
    result.insert("SdkResponseMetadata".into(), Value::Object(sdk));
    result.insert("StatusCode".into(), Value::from(invoked.status));
    Value::Object(result)
}

/// `result`, unless it is larger than a state may take: then `States.DataLimitExceeded`,
/// naming `task` (`lambda` for the optimized integration, the function's ARN for the direct
/// form).
fn within_limit(result: Value, task: &str) -> Outcome {
    if compact(&result).len() > MAX_RESULT_BYTES {
        return Outcome::failed(
            "States.DataLimitExceeded",
            format!(
                "The state/task '{task}' returned a result with a size exceeding the maximum \
                 number of bytes service limit."
            ),
        );
    }
    Outcome::Succeeded(result)
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> CallContext {
        CallContext::new("us-east-1", "111122223333")
    }

    #[test]
    fn function_names_in_every_form() {
        let f = FunctionRef::parse("orders", &ctx()).expect("name");
        assert_eq!(
            f.qualified_arn(),
            "arn:aws:lambda:us-east-1:111122223333:function:orders:$LATEST"
        );
        let f = FunctionRef::parse("orders:prod", &ctx()).expect("qualified name");
        assert_eq!(
            (f.name.as_str(), f.qualifier.as_deref()),
            ("orders", Some("prod"))
        );
        let f = FunctionRef::parse("444455556666:function:orders", &ctx()).expect("partial");
        assert_eq!(
            f.arn(),
            "arn:aws:lambda:us-east-1:444455556666:function:orders"
        );
        let f = FunctionRef::parse(
            "arn:aws-cn:lambda:cn-north-1:444455556666:function:orders:7",
            &ctx(),
        )
        .expect("full ARN");
        assert_eq!(
            f.qualified_arn(),
            "arn:aws-cn:lambda:cn-north-1:444455556666:function:orders:7"
        );
        for bad in [
            "",
            "has space",
            "a:b:c",
            "arn:aws:lambda:us-east-1:1234:function:f",
            "arn:aws:s3:::bucket",
            "f:",
            &"x".repeat(65),
        ] {
            assert_eq!(FunctionRef::parse(bad, &ctx()), None, "{bad:?}");
        }
    }

    #[test]
    fn service_errors_are_named_as_the_java_sdk_raises_them() {
        let f = FunctionRef::parse("missing", &ctx()).expect("name");
        let Outcome::Failed { error, cause } = InvokeError::not_found(&f).outcome() else {
            panic!("fails");
        };
        assert_eq!(error, "Lambda.ResourceNotFoundException");
        let want = "Function not found: arn:aws:lambda:us-east-1:111122223333:function:missing:$LATEST \
                    (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; Request ID: ";
        assert!(cause.starts_with(want), "{cause}");
        assert!(cause.ends_with("; Proxy: null)"), "{cause}");

        let unmodelled = InvokeError::Service {
            code: Some("ValidationException".into()),
            status: 400,
            message: "bad".into(),
            request_id: "r".into(),
        };
        assert_eq!(
            unmodelled.outcome(),
            Outcome::failed(
                "Lambda.AWSLambdaException",
                "bad (Service: AWSLambda; Status Code: 400; Error Code: ValidationException; \
                 Request ID: r; Proxy: null)"
            )
        );
        let Outcome::Failed { error, .. } = InvokeError::Client("refused".into()).outcome() else {
            panic!("fails");
        };
        assert_eq!(error, "Lambda.SdkClientException");
    }

    #[test]
    fn parameters_are_checked_as_step_functions_checks_them() {
        let fail = |p: Value| match invoke_parameters(&p, &ctx()) {
            Err(Outcome::Failed { error, cause }) => (error, cause),
            other => panic!("{p}: {other:?}"),
        };
        let (error, cause) = fail(serde_json::json!({"FunctionName": "f", "TaskToken": "t"}));
        assert_eq!(error, "States.Runtime");
        assert_eq!(
            cause,
            "The Parameters '{\"FunctionName\":\"f\",\"TaskToken\":\"t\"}' could not be used to \
             start the Task: [The field \"TaskToken\" is not supported by Step Functions]"
        );
        let (error, cause) = fail(serde_json::json!({"Payload": {}}));
        assert_eq!(error, "States.Runtime");
        assert!(cause.contains("FunctionName"), "{cause}");
        let (error, _) = fail(serde_json::json!({"FunctionName": 3}));
        assert_eq!(error, "States.Runtime");
        let (error, cause) =
            fail(serde_json::json!({"FunctionName": "f", "InvocationType": "Now"}));
        assert_eq!(error, "Lambda.AWSLambdaException");
        assert!(cause.contains("'invocationType'"), "{cause}");
        let (error, _) = fail(serde_json::json!({"FunctionName": "f:1", "Qualifier": "2"}));
        assert_eq!(error, "Lambda.InvalidParameterValueException");
        let (error, cause) = fail(serde_json::json!({"FunctionName": "not valid"}));
        assert_eq!(error, "Lambda.AWSLambdaException");
        assert!(cause.contains("at 'functionName'"), "{cause}");

        let call = invoke_parameters(
            &serde_json::json!({"FunctionName": "f", "Qualifier": "live", "Payload": "[1]",
                                "LogType": "Tail", "InvocationType": "Event"}),
            &ctx(),
        )
        .expect("valid");
        assert_eq!(call.function.qualifier.as_deref(), Some("live"));
        assert_eq!(call.payload, b"[1]");
        assert!(call.log_tail);
        assert_eq!(call.invocation_type, InvocationType::Event);
        let call = invoke_parameters(
            &serde_json::json!({"FunctionName": "f", "Payload": {"a": [1, 2.5]}}),
            &ctx(),
        )
        .expect("valid");
        assert_eq!(call.payload, br#"{"a":[1,2.5]}"#);
    }

    fn invoked(payload: &str, function_error: Option<&str>) -> Invoked {
        Invoked {
            status: 200,
            payload: payload.as_bytes().to_vec(),
            function_error: function_error.map(str::to_owned),
            executed_version: Some("$LATEST".into()),
            log_result: None,
            request_id: "rid".into(),
            trace_id: "tid".into(),
            date: "Mon, 01 Jan 2024 00:00:00 GMT".into(),
        }
    }

    #[test]
    fn function_errors_name_the_error_type_or_lambda_unknown() {
        let raw =
            r#"{"errorMessage": "m", "errorType": "Oops", "requestId": "r", "stackTrace": []}"#;
        assert_eq!(
            function_failed(&invoked(raw, Some("Unhandled")), true),
            Outcome::failed("Oops", raw)
        );
        assert_eq!(
            function_failed(&invoked(raw, Some("Unhandled")), false),
            Outcome::failed(
                "Oops",
                r#"{"errorMessage":"m","errorType":"Oops","requestId":"r","stackTrace":[]}"#
            )
        );
        assert_eq!(
            function_failed(
                &invoked(r#"{"errorMessage": "x"}"#, Some("Unhandled")),
                false
            ),
            Outcome::failed("Lambda.Unknown", r#"{"errorMessage":"x"}"#)
        );
        assert_eq!(
            function_failed(&invoked("not json", Some("Unhandled")), false),
            Outcome::failed("Lambda.Unknown", "not json")
        );
    }

    #[test]
    fn the_optimized_result_has_the_sdks_shape() {
        let mut i = invoked(r#"{"ok": true}"#, None);
        i.log_result = Some("TE9H".into());
        let r = invoke_result(&i);
        let keys: Vec<&str> = r
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "ExecutedVersion",
                "LogResult",
                "Payload",
                "SdkHttpMetadata",
                "SdkResponseMetadata",
                "StatusCode"
            ]
        );
        assert_eq!(r["Payload"], serde_json::json!({"ok": true}));
        assert_eq!(r["StatusCode"], 200);
        assert_eq!(
            r["SdkResponseMetadata"],
            serde_json::json!({"RequestId": "rid"})
        );
        let http = &r["SdkHttpMetadata"];
        assert_eq!(http["HttpStatusCode"], 200);
        assert_eq!(
            http["AllHttpHeaders"]["Content-Length"],
            serde_json::json!(["12"])
        );
        assert_eq!(http["HttpHeaders"]["X-Amz-Log-Result"], "TE9H");
        let order: Vec<&str> = http["HttpHeaders"]
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            order,
            [
                "Connection",
                "Content-Length",
                "Content-Type",
                "Date",
                "X-Amz-Executed-Version",
                "X-Amz-Log-Result",
                "x-amzn-Remapped-Content-Length",
                "x-amzn-RequestId",
                "X-Amzn-Trace-Id"
            ]
        );
        assert_eq!(payload_value(b"HelloWorld"), Value::from("HelloWorld"));
        assert_eq!(payload_value(b""), Value::from(""));
    }

    #[test]
    fn results_over_256_kib_are_refused() {
        let big = Value::from("a".repeat(MAX_RESULT_BYTES));
        assert_eq!(
            within_limit(big, "lambda"),
            Outcome::failed(
                "States.DataLimitExceeded",
                "The state/task 'lambda' returned a result with a size exceeding the maximum \
                 number of bytes service limit."
            )
        );
        let fits = Value::from("a".repeat(MAX_RESULT_BYTES - 2));
        assert!(matches!(
            within_limit(fits, "lambda"),
            Outcome::Succeeded(_)
        ));
    }
}
