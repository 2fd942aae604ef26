//! Calling a service: endpoint, credentials, SigV4, the HTTP exchange, and AWS's error names.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::AwsError;
use crate::model::{Model, Models};
use crate::optimized::{Optimized, add_http_metadata};
use crate::protocol::{self, WireResponse};
use crate::values::pascal;

/// The most a service's answer may hold. Step Functions refuses a task result over 256 KiB;
/// the wire form may be larger than the result (XML), so the answer is read up to four times
/// that and refused beyond, without reading the rest.
const MAX_RESPONSE_BYTES: usize = 4 * 256 * 1024;

/// Step Functions Local's variables for its services' endpoints, by Task service name.
const SFN_LOCAL_VARS: &[(&str, &str)] = &[
    ("sqs", "SQS_ENDPOINT"),
    ("sns", "SNS_ENDPOINT"),
    ("dynamodb", "DYNAMODB_ENDPOINT"),
    ("ecs", "ECS_ENDPOINT"),
    ("batch", "BATCH_ENDPOINT"),
    ("glue", "GLUE_ENDPOINT"),
    ("sagemaker", "SAGE_MAKER_ENDPOINT"),
    ("sfn", "STEP_FUNCTIONS_ENDPOINT"),
    ("lambda", "LAMBDA_ENDPOINT"),
];

/// Where each service's calls go: a URL per service (local stand-ins), one for every service,
/// or AWS's own endpoints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Endpoints {
    /// `AWS_ENDPOINT_URL`: every service not named otherwise.
    pub default: Option<String>,
    /// By Task service name (`dynamodb`, `s3`, `sfn`).
    pub services: BTreeMap<String, String>,
}

impl Endpoints {
    /// From environment variables: the AWS SDKs' `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>` (the service's id in upper case, spaces as `_`:
    /// `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SECRETS_MANAGER`), and Step Functions
    /// Local's `SQS_ENDPOINT`, `DYNAMODB_ENDPOINT`, ...
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Endpoints {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let mut endpoints = Endpoints {
            default: vars.get("AWS_ENDPOINT_URL").cloned(),
            services: BTreeMap::new(),
        };
        for (service, var) in SFN_LOCAL_VARS {
            if let Some(url) = vars.get(*var) {
                endpoints
                    .services
                    .insert((*service).to_owned(), url.clone());
            }
        }
        let models = Models::bundled();
        for (var, url) in &vars {
            let Some(id) = var.strip_prefix("AWS_ENDPOINT_URL_") else {
                continue;
            };
            let wanted = id.replace('_', "").to_ascii_lowercase();
            // The Task's service name is the Java client's name; the variable is named after
            // the service id. Both drop spaces and case, so they meet here.
            if let Some(name) = models.names().find(|n| *n == wanted) {
                endpoints.services.insert(name.to_owned(), url.clone());
            }
        }
        endpoints
    }

    /// The endpoint for a service, when one is configured.
    pub fn get(&self, service: &str) -> Option<&str> {
        self.services
            .get(service)
            .or(self.default.as_ref())
            .map(String::as_str)
    }
}

/// Keys to sign with.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl StaticCredentials {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Option<StaticCredentials> {
        Some(StaticCredentials {
            access_key_id: get("AWS_ACCESS_KEY_ID").filter(|s| !s.is_empty())?,
            secret_access_key: get("AWS_SECRET_ACCESS_KEY").filter(|s| !s.is_empty())?,
            session_token: get("AWS_SESSION_TOKEN").filter(|s| !s.is_empty()),
        })
    }
}

/// How calls are made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsConfig {
    pub endpoints: Endpoints,
    /// `None`: calls to local endpoints are signed with placeholder keys (local stand-ins
    /// accept any); calls to AWS fail, saying why.
    pub credentials: Option<StaticCredentials>,
}

impl AwsConfig {
    /// From the process environment.
    pub fn from_env() -> AwsConfig {
        let get = |k: &str| std::env::var(k).ok();
        AwsConfig {
            endpoints: Endpoints::from_vars(std::env::vars()),
            credentials: StaticCredentials::from_vars(get),
        }
    }
}

/// Calls AWS services for `aws-sdk:*` Task states.
#[derive(Debug, Clone)]
pub struct AwsClient {
    config: AwsConfig,
    http: reqwest::Client,
}

impl AwsClient {
    pub fn new(config: AwsConfig, http: reqwest::Client) -> AwsClient {
        AwsClient { config, http }
    }

    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// Sends `service`'s calls to `url` unless a variable names its own endpoint for it
    /// (`AWS_ENDPOINT_URL` alone does not): how `aws-sdk:sfn:*` reaches the Stepwise server
    /// the Task runs in.
    pub fn with_own_endpoint(mut self, service: &str, url: &str) -> AwsClient {
        self.config
            .endpoints
            .services
            .entry(service.to_owned())
            .or_insert_with(|| url.to_owned());
        self
    }

    /// Calls `service`'s `action` (as a Task's resource names them: `dynamodb`, `putItem`)
    /// with a Task's parameters, in `region` (the execution's).
    pub async fn call(
        &self,
        service: &str,
        action: &str,
        params: &Value,
        region: &str,
    ) -> Result<Value, AwsError> {
        self.invoke(service, action, params, region, Naming::Sdk)
            .await
    }

    /// Calls an optimized integration (`dynamodb:putItem`, `sqs:sendMessage`) with its own
    /// conventions (see [`Optimized`]).
    pub async fn call_optimized(
        &self,
        integration: &Optimized,
        action: &str,
        params: &Value,
        region: &str,
    ) -> Result<Value, AwsError> {
        let params = integration.request(params);
        self.invoke(
            integration.model,
            action,
            &params,
            region,
            Naming::Optimized(integration),
        )
        .await
    }

    async fn invoke(
        &self,
        service: &str,
        action: &str,
        params: &Value,
        region: &str,
        naming: Naming<'_>,
    ) -> Result<Value, AwsError> {
        let models = Models::bundled();
        let Some(model) = models.get(service) else {
            return Err(AwsError::new(
                "States.Runtime",
                format!(
                    "Stepwise has no API model for the service '{service}' of aws-sdk:{service}:{action}"
                ),
            ));
        };
        let Some(op) = model.operation(action) else {
            return Err(AwsError::new(
                "States.Runtime",
                format!("The service '{service}' has no action '{action}'"),
            ));
        };
        if !model.metadata.speakable() {
            return Err(AwsError::new(
                "States.Runtime",
                format!(
                    "Stepwise does not speak the protocol of the service '{service}' ({})",
                    model.metadata.protocol
                ),
            ));
        }
        let prefix = naming.prefix(&model);
        if let Some(missing) = protocol::missing_required(&model, op, params) {
            // Refused as the service refuses it, without a request.
            let (code, message) = if model.metadata.query_style_errors() {
                (
                    "MissingParameter",
                    format!(
                        "The request must contain the parameter {}.",
                        pascal(&missing)
                    ),
                )
            } else {
                (
                    "ValidationException",
                    format!(
                        "1 validation error detected: Value null at '{missing}' failed to \
                         satisfy constraint: Member must not be null"
                    ),
                )
            };
            let refusal = Refusal {
                status: 400,
                code: code.to_owned(),
                message,
                request_id: uuid_like(),
                extended_id: None,
            };
            return Err(naming.error(&model, &refusal));
        }
        let wire = protocol::request(&model, op, params);
        let response = self.send(service, &model, wire, region, &prefix).await?;
        if !(200..300).contains(&response.status) {
            return Err(naming.error(&model, &Refusal::of(&model, &response)));
        }
        let mut result = protocol::result(&model, op, &response).map_err(|e| {
            AwsError::new(
                format!("{prefix}.SdkClientException"),
                format!("Unable to read the answer of {service}:{action}: {e}"),
            )
        })?;
        if let Naming::Optimized(o) = naming {
            if o.http_metadata {
                add_http_metadata(&mut result, response.status, &response.headers);
            }
        }
        Ok(result)
    }

    async fn send(
        &self,
        service: &str,
        model: &Model,
        wire: protocol::WireRequest,
        region: &str,
        java: &str,
    ) -> Result<WireResponse, AwsError> {
        let meta = &model.metadata;
        let custom = self.config.endpoints.get(service);
        let (base, region) = match custom {
            Some(url) => (url.trim_end_matches('/').to_owned(), region.to_owned()),
            None => {
                let prefix = wire.host_prefix.clone().unwrap_or_default();
                match Models::bundled().global_endpoint(&meta.endpoint_prefix) {
                    Some(g) => (format!("https://{prefix}{}", g.hostname), g.region.clone()),
                    None => (
                        format!(
                            "https://{prefix}{}.{region}.amazonaws.com",
                            meta.endpoint_prefix
                        ),
                        region.to_owned(),
                    ),
                }
            }
        };
        let mut url = format!("{base}{}", wire.path);
        if !wire.query.is_empty() {
            url.push('?');
            url.push_str(&protocol::form(&wire.query));
        }
        let credentials = match (&self.config.credentials, custom) {
            (Some(c), _) => c.clone(),
            (None, Some(_)) => StaticCredentials {
                access_key_id: "test".into(),
                secret_access_key: "test".into(),
                session_token: None,
            },
            (None, None) => {
                return Err(AwsError::new(
                    format!("{java}.SdkClientException"),
                    "Unable to load credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                     or point the service at a local endpoint (AWS_ENDPOINT_URL)",
                ));
            }
        };
        let mut headers = wire.headers.clone();
        let signed = sign_request(
            &wire.method,
            &url,
            &mut headers,
            &wire.body,
            &credentials,
            &region,
            meta.signing_name(),
            meta.protocol == "rest-xml",
        )
        .map_err(|e| AwsError::new(format!("{java}.SdkClientException"), e))?;
        let method = reqwest::Method::from_bytes(wire.method.as_bytes())
            .map_err(|e| AwsError::new(format!("{java}.SdkClientException"), e.to_string()))?;
        let mut request = self.http.request(method, &url).body(wire.body);
        for (k, v) in signed {
            request = request.header(k, v);
        }
        let mut answer = request.send().await.map_err(|e| {
            AwsError::new(
                format!("{java}.SdkClientException"),
                format!("Unable to execute HTTP request: {e}"),
            )
        })?;
        let status = answer.status().as_u16();
        let headers = answer.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = answer.chunk().await.map_err(|e| {
            AwsError::new(
                format!("{java}.SdkClientException"),
                format!("Unable to read the answer: {e}"),
            )
        })? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(AwsError::new(
                    "States.DataLimitExceeded",
                    format!(
                        "The answer of {service} exceeds the maximum size of the task's result \
                         (262144 bytes)"
                    ),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(WireResponse {
            status,
            headers,
            body,
        })
    }
}

/// Signs a request with SigV4; answers every header to send (the request's and the
/// signature's).
#[allow(clippy::too_many_arguments)]
fn sign_request(
    method: &str,
    url: &str,
    headers: &mut Vec<(String, String)>,
    body: &[u8],
    credentials: &StaticCredentials,
    region: &str,
    signing_name: &str,
    s3_style: bool,
) -> Result<Vec<(String, String)>, String> {
    let identity = Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "stepwise",
    )
    .into();
    let mut settings = SigningSettings::default();
    if s3_style {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(signing_name)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let (signed, _query) = instructions.into_parts();
    for h in signed {
        headers.push((h.name().to_owned(), h.value().to_owned()));
    }
    Ok(std::mem::take(headers))
}

/// How a call's errors are named: as the `aws-sdk:*` integration names them, or as an
/// optimized integration does.
#[derive(Debug, Clone, Copy)]
enum Naming<'a> {
    Sdk,
    Optimized(&'a Optimized),
}

impl Naming<'_> {
    /// The errors' prefix: the AWS SDK for Java 2.x client's name (`DynamoDb`), or the
    /// optimized integration's (`DynamoDB`).
    fn prefix(&self, model: &Model) -> String {
        match self {
            Naming::Sdk => model.metadata.java_name.clone(),
            Naming::Optimized(o) => o.prefix.to_owned(),
        }
    }

    /// `<Prefix>.<Exception>` for the service's modeled exceptions (a name without
    /// `Exception` gets it), else the service's base exception; the cause as the SDK words it.
    fn error(&self, model: &Model, refusal: &Refusal) -> AwsError {
        let modeled = model
            .shapes
            .iter()
            .filter(|(_, s)| s.exception || s.error.is_some())
            .find(|(name, s)| {
                **name == refusal.code
                    || s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(&refusal.code)
            })
            .map(|(name, _)| name.as_str());
        match self {
            Naming::Sdk => {
                let java = &model.metadata.java_name;
                let error = match modeled {
                    Some(name) if name.ends_with("Exception") => format!("{java}.{name}"),
                    Some(name) => format!("{java}.{name}Exception"),
                    None => format!("{java}.{java}Exception"),
                };
                let mut cause = format!(
                    "{} (Service: {java}, Status Code: {}, Request ID: {}",
                    refusal.message, refusal.status, refusal.request_id
                );
                if let Some(extended) = &refusal.extended_id {
                    cause.push_str(&format!(", Extended Request ID: {extended}"));
                }
                cause.push(')');
                AwsError::new(error, cause)
            }
            Naming::Optimized(o) => AwsError::new(
                o.error_name(modeled),
                o.cause(
                    &refusal.message,
                    refusal.status,
                    &refusal.code,
                    &refusal.request_id,
                ),
            ),
        }
    }
}

/// What a service's refusal says.
#[derive(Debug)]
struct Refusal {
    status: u16,
    code: String,
    message: String,
    request_id: String,
    /// S3's `x-amz-id-2`.
    extended_id: Option<String>,
}

impl Refusal {
    fn of(model: &Model, res: &WireResponse) -> Refusal {
        let (code, message) = protocol::error_of(&model.metadata.protocol, res);
        let request_id = res
            .header("x-amzn-requestid")
            .or_else(|| res.header("x-amz-request-id"))
            .map(str::to_owned)
            .or_else(|| {
                crate::xml::parse(&res.body).ok().and_then(|r| {
                    r.find_text("RequestId")
                        .or_else(|| r.find_text("RequestID"))
                        .map(str::to_owned)
                })
            })
            .unwrap_or_default();
        Refusal {
            status: res.status,
            code,
            message,
            request_id,
            extended_id: res.header("x-amz-id-2").map(str::to_owned),
        }
    }
}

/// A request id for refusals made before any request (as the service would give one).
fn uuid_like() -> String {
    let random = || getrandom::u64().unwrap_or_default();
    stepwise_asl::eval::uuid_v4(random(), random())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_sdk_and_step_functions_local_variables() {
        let e = Endpoints::from_vars([
            ("AWS_ENDPOINT_URL".to_owned(), "http://all:1".to_owned()),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER".to_owned(),
                "http://sm:2".to_owned(),
            ),
            ("DYNAMODB_ENDPOINT".to_owned(), "http://ddb:3".to_owned()),
            (
                "AWS_ENDPOINT_URL_DYNAMODB".to_owned(),
                "http://ddb:4".to_owned(),
            ),
        ]);
        assert_eq!(e.get("secretsmanager"), Some("http://sm:2"));
        // The SDKs' variable wins over Step Functions Local's.
        assert_eq!(e.get("dynamodb"), Some("http://ddb:4"));
        assert_eq!(e.get("s3"), Some("http://all:1"));
        assert_eq!(Endpoints::default().get("s3"), None);
    }
}
