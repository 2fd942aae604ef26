//! Calling a service: endpoint, credentials, SigV4, the HTTP exchange, and AWS's error names.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::AwsError;
use crate::credentials::Chain;
use crate::model::{Model, Models};
use crate::optimized::{Adapt, Optimized, add_http_metadata, epoch_dates};
use crate::protocol::{self, WireResponse};
use crate::values::pascal;

/// The most a service's answer may hold. Step Functions refuses a task result over 256 KiB;
/// the wire form may be larger than the result (XML), so the answer is read up to four times
/// that and refused beyond, without reading the rest.
const MAX_RESPONSE_BYTES: usize = 4 * 256 * 1024;

/// The most a task's result may hold (256 KiB).
const MAX_RESULT_BYTES: usize = 256 * 1024;

/// A result larger than a state may take, as Step Functions words it.
fn too_large(service: &str) -> AwsError {
    AwsError::new(
        "States.DataLimitExceeded",
        format!(
            "The state/task '{service}' returned a result with a size exceeding the maximum \
             number of bytes service limit."
        ),
    )
}

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

    /// These endpoints, with `more` (a configuration file's, by Task service name, `default`
    /// for every service) filling in what they leave unset: `more` ranks below them.
    pub fn or(mut self, more: &BTreeMap<String, String>) -> Endpoints {
        for (service, url) in more {
            if service == "default" {
                self.default.get_or_insert_with(|| url.clone());
            } else {
                self.services
                    .entry(service.clone())
                    .or_insert_with(|| url.clone());
            }
        }
        self
    }

    /// These endpoints with `over` (command-line flags, by Task service name, `default` for
    /// every service) put over them: `over` ranks above them.
    pub fn over(mut self, over: &BTreeMap<String, String>) -> Endpoints {
        for (service, url) in over {
            if service == "default" {
                self.default = Some(url.clone());
            } else {
                self.services.insert(service.clone(), url.clone());
            }
        }
        self
    }

    /// Whether `name` is a service an endpoint may be given for: a Task service name
    /// (`dynamodb`, `s3`, `sfn`, `lambda`, ...) or `default`.
    pub fn is_service(name: &str) -> bool {
        name == "default" || Models::bundled().names().any(|n| n == name)
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

/// Who makes a call: the execution's region and account, and the role its state names, if
/// any.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub region: &'a str,
    /// The execution's account (calls to this server's own API act in it).
    pub account: Option<&'a str>,
    /// `Credentials.RoleArn`.
    pub role: Option<&'a str>,
    /// The value for the action's idempotency-token members the parameters leave out
    /// (Athena's `ClientRequestToken`, ECS's and EC2's `ClientToken`). The SDKs fill them with a
    /// random UUID; one stable per task makes a call made again after a crash the same call to
    /// the service. `None`: a random one.
    pub idempotency: Option<&'a str>,
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

    /// From the process environment, with a configuration file's endpoints below it and the
    /// command line's above it (flags win over the environment, which wins over the file).
    pub fn layered(file: &BTreeMap<String, String>, flags: &BTreeMap<String, String>) -> AwsConfig {
        let mut config = AwsConfig::from_env();
        config.endpoints = config.endpoints.or(file).over(flags);
        config
    }
}

/// Calls AWS services for `aws-sdk:*` Task states.
#[derive(Debug, Clone)]
pub struct AwsClient {
    config: AwsConfig,
    pub(crate) http: reqwest::Client,
    /// Credentials of the roles Tasks assumed (`Credentials.RoleArn`), until they expire.
    assumed: Arc<Mutex<HashMap<String, (StaticCredentials, SystemTime)>>>,
    /// The SDKs' credential chain, for calls to AWS when no keys are in the environment.
    chain: Arc<Chain>,
    /// The service whose calls go to this server's own API, and how they are signed there.
    own: Option<(String, OwnKey)>,
}

/// How an execution signs its calls to this server's own API (when the server checks
/// signatures): with the key id `prefix` + the execution's account, and `secret`.
#[derive(Clone, PartialEq, Eq)]
pub struct OwnKey {
    pub prefix: String,
    pub secret: String,
}

impl std::fmt::Debug for OwnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Assumed roles' credentials are taken again this long before they expire.
const ROLE_REFRESH: Duration = Duration::from_secs(300);

impl AwsClient {
    pub fn new(config: AwsConfig, http: reqwest::Client) -> AwsClient {
        AwsClient {
            config,
            chain: Arc::new(Chain::new(http.clone())),
            http,
            assumed: Arc::default(),
            own: None,
        }
    }

    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// Sends `service`'s calls to `url` unless a variable names its own endpoint for it
    /// (`AWS_ENDPOINT_URL` alone does not): how `aws-sdk:sfn:*` reaches the Stepwise server
    /// the Task runs in. When that server checks signatures, `key` signs the calls sent there.
    pub fn with_own_endpoint(mut self, service: &str, url: &str, key: Option<OwnKey>) -> AwsClient {
        if let std::collections::btree_map::Entry::Vacant(e) =
            self.config.endpoints.services.entry(service.to_owned())
        {
            e.insert(url.to_owned());
            self.own = key.map(|k| (service.to_owned(), k));
        }
        self
    }

    /// The keys a call to this server's own API is signed with, if `service` goes there.
    fn own_credentials(&self, service: &str, caller: &Caller<'_>) -> Option<StaticCredentials> {
        let (own, key) = self.own.as_ref()?;
        let account = caller.account?;
        (own == service).then(|| StaticCredentials {
            access_key_id: format!("{}{account}", key.prefix),
            secret_access_key: key.secret.clone(),
            session_token: None,
        })
    }

    /// Calls `service`'s `action` (as a Task's resource names them: `dynamodb`, `putItem`)
    /// with a Task's parameters, in `region` (the execution's).
    pub async fn call(
        &self,
        service: &str,
        action: &str,
        params: &Value,
        caller: &Caller<'_>,
    ) -> Result<Value, AwsError> {
        self.invoke(service, action, params, caller, Naming::Sdk)
            .await
    }

    /// Calls an optimized integration (`dynamodb:putItem`, `sqs:sendMessage`) with its own
    /// conventions (see [`Optimized`]).
    pub async fn call_optimized(
        &self,
        integration: &Optimized,
        action: &str,
        params: &Value,
        caller: &Caller<'_>,
    ) -> Result<Value, AwsError> {
        let mut params =
            integration.with_token(action, integration.request(params), caller.idempotency);
        let mut output = None;
        if integration.adapt == Adapt::BedrockBody {
            output = params.as_object_mut().and_then(|p| p.remove("Output"));
            params = self.bedrock_input(params, caller).await?;
        }
        let (api, params) = integration.api_call(action, params);
        let result = self
            .invoke(
                integration.model,
                &api,
                &params,
                caller,
                Naming::Optimized(integration),
            )
            .await?;
        let mut result = integration.api_result(action, result);
        if let Some(output) = output {
            self.bedrock_output(&output, &mut result, caller).await?;
        }
        Ok(result)
    }

    /// InvokeModel's `Output.S3Uri`: the model's answer (`Body`) is written to that S3 object
    /// (PutObject, its `ContentType` the answer's) and the result's `Body` becomes a reference
    /// to it, `{"S3Uri": ...}`.
    async fn bedrock_output(
        &self,
        output: &Value,
        result: &mut Value,
        caller: &Caller<'_>,
    ) -> Result<(), AwsError> {
        let uri = output
            .get("S3Uri")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (bucket, key) = s3_object(uri).ok_or_else(|| {
            AwsError::new(
                "States.Runtime",
                format!(
                    "The Output.S3Uri of bedrock:invokeModel must be s3://BUCKET/KEY, not '{uri}'"
                ),
            )
        })?;
        let Value::Object(fields) = result else {
            return Ok(());
        };
        // The body as the model gave it: JSON is stored as its text (S3's Body parameter is
        // sent as its JSON text), so parsed JSON goes back as the JSON it was.
        let body = fields
            .remove("Body")
            .unwrap_or(Value::String(String::new()));
        let mut put = serde_json::json!({"Bucket": bucket, "Key": key, "Body": body});
        if let Some(t) = fields.get("ContentType") {
            put["ContentType"] = t.clone();
        }
        self.call("s3", "PutObject", &put, caller).await?;
        fields.insert("Body".into(), serde_json::json!({"S3Uri": uri}));
        Ok(())
    }

    /// InvokeModel's parameters as Bedrock takes them: `Input.S3Uri` read from S3 into `Body`
    /// (its content type the `ContentType` when none is given), `ContentType` and `Accept`
    /// `application/json` unless given.
    async fn bedrock_input(
        &self,
        mut params: Value,
        caller: &Caller<'_>,
    ) -> Result<Value, AwsError> {
        let refused = |cause: String| AwsError::new("States.Runtime", cause);
        let Value::Object(fields) = &mut params else {
            return Ok(params);
        };
        if let Some(input) = fields.remove("Input") {
            if fields.contains_key("Body") {
                return Err(refused(
                    "bedrock:invokeModel takes either Body or Input, not both".into(),
                ));
            }
            let uri = input
                .get("S3Uri")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let Some((bucket, key)) = s3_object(uri) else {
                return Err(refused(format!(
                    "The Input.S3Uri of bedrock:invokeModel must be s3://BUCKET/KEY, not '{uri}'"
                )));
            };
            let object = self
                .call(
                    "s3",
                    "GetObject",
                    &serde_json::json!({"Bucket": bucket, "Key": key}),
                    caller,
                )
                .await?;
            fields.insert(
                "Body".into(),
                object
                    .get("Body")
                    .cloned()
                    .unwrap_or(Value::String(String::new())),
            );
            if !fields.contains_key("ContentType") {
                if let Some(t) = object.get("ContentType") {
                    fields.insert("ContentType".into(), t.clone());
                }
            }
        }
        for member in ["ContentType", "Accept"] {
            fields
                .entry(member)
                .or_insert_with(|| Value::String("application/json".into()));
        }
        Ok(params)
    }

    /// Calls an API Gateway endpoint for `apigateway:invoke` (see [`crate::apigateway`]).
    pub async fn invoke_api(&self, params: &Value, caller: &Caller<'_>) -> Result<Value, AwsError> {
        let call = crate::apigateway::ApiCall::of(params, caller.region)?;
        let mut headers = call.headers.clone();
        if call.auth == crate::apigateway::AuthType::IamRole {
            let credentials = match caller.role {
                Some(role) => self.assume(role, caller.region, "ApiGateway").await?,
                None => match (&self.config.credentials, call.local) {
                    (Some(c), _) => c.clone(),
                    (None, true) => placeholder_credentials(),
                    (None, false) => self.chain.resolve(&call.region).await.map_err(|e| {
                        AwsError::new(
                            "ApiGateway.SdkClientException",
                            format!("Unable to load credentials to sign the request: {e}"),
                        )
                    })?,
                },
            };
            headers = sign_request(
                &call.method,
                &call.url,
                &mut headers,
                &call.body,
                &credentials,
                &call.region,
                "execute-api",
                false,
            )
            .map_err(|e| AwsError::new("ApiGateway.SdkClientException", e))?;
        }
        let method = reqwest::Method::from_bytes(call.method.as_bytes())
            .map_err(|e| AwsError::new("States.Runtime", e.to_string()))?;
        let mut request = self.http.request(method, &call.url).body(call.body);
        for (k, v) in headers {
            request = request.header(k, v);
        }
        let mut answer = request
            .send()
            .await
            .map_err(|e| crate::apigateway::transport_error(&e))?;
        let status = answer.status().as_u16();
        let response_headers = answer.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = answer
            .chunk()
            .await
            .map_err(|e| crate::apigateway::transport_error(&e))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large("apigateway"));
            }
            body.extend_from_slice(&chunk);
        }
        let result = crate::apigateway::result_of(status, &response_headers, &body)?;
        if serde_json::to_vec(&result).map_or(0, |b| b.len()) > MAX_RESULT_BYTES {
            return Err(too_large("apigateway"));
        }
        Ok(result)
    }

    async fn invoke(
        &self,
        service: &str,
        action: &str,
        params: &Value,
        caller: &Caller<'_>,
        naming: Naming<'_>,
    ) -> Result<Value, AwsError> {
        let region = caller.region;
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
        let given = params;
        let filled = protocol::with_idempotency_tokens(&model, op, params, || {
            caller.idempotency.map_or_else(uuid_like, str::to_owned)
        });
        let params = filled.as_ref().unwrap_or(params);
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
        if let Some(m) = protocol::type_mismatch(&model, op, params) {
            // Step Functions checks the parameters against the API before it calls: its
            // words for a value of the wrong type (as it gives them for lambda:invoke).
            return Err(AwsError::new(
                "States.Runtime",
                format!(
                    "The Parameters '{}' could not be used to start the Task: [The value for \
                     the field '{}' must be a {}]",
                    given, m.path, m.expected
                ),
            ));
        }
        let credentials = match (self.own_credentials(service, caller), caller.role) {
            (Some(own), _) => own,
            (None, Some(role)) => self.assume(role, region, &prefix).await?,
            (None, None) => self.base_credentials(service, region, &prefix).await?,
        };
        let mut wire = protocol::request(&model, op, params);
        if let Naming::Optimized(o) = naming {
            wire.endpoint = o.endpoint_of(params);
        }
        let response = self
            .send(service, &model, wire, region, &prefix, &credentials)
            .await?;
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
            if o.epoch_dates {
                if let Some(out) = &op.output {
                    epoch_dates(&model, crate::values::resolve(&model, out), &mut result);
                }
            }
            o.complete(action, params, &mut result);
            if o.http_metadata {
                add_http_metadata(&mut result, response.status, &response.headers);
            }
            o.refuse_failed_entries(&result)?;
        }
        if serde_json::to_vec(&result).map_or(0, |b| b.len()) > MAX_RESULT_BYTES {
            return Err(too_large(service));
        }
        Ok(result)
    }

    /// The keys a call to `service` is signed with: the environment's; placeholder keys for a
    /// local endpoint (local stand-ins accept any); for AWS itself, the SDKs' credential chain.
    pub(crate) async fn base_credentials(
        &self,
        service: &str,
        region: &str,
        prefix: &str,
    ) -> Result<StaticCredentials, AwsError> {
        match (&self.config.credentials, self.config.endpoints.get(service)) {
            (Some(c), _) => Ok(c.clone()),
            (None, Some(_)) => Ok(placeholder_credentials()),
            (None, None) => self.chain.resolve(region).await.map_err(|e| {
                AwsError::new(
                    format!("{prefix}.SdkClientException"),
                    format!(
                        "Unable to load credentials from any of the providers in the chain \
                         (environment, profile files, web identity, container and instance \
                         metadata), or point the service at a local endpoint \
                         (AWS_ENDPOINT_URL): {e}"
                    ),
                )
            }),
        }
    }

    /// The credentials of `role`, assumed through STS (`AssumeRole`, at the STS endpoint
    /// configured, else AWS's) and kept until shortly before they expire.
    pub(crate) async fn assume(
        &self,
        role: &str,
        region: &str,
        prefix: &str,
    ) -> Result<StaticCredentials, AwsError> {
        let now = SystemTime::now();
        if let Some((c, until)) = self.lock_assumed().get(role) {
            if *until > now + ROLE_REFRESH {
                return Ok(c.clone());
            }
        }
        let refused = |cause: String| {
            AwsError::new(
                "States.TaskFailed",
                format!(
                    "Unable to assume the role '{role}' given in the state's Credentials: {cause}"
                ),
            )
        };
        let sts = Models::bundled()
            .get("sts")
            .ok_or_else(|| refused("no STS model".into()))?;
        let op = sts
            .operation("AssumeRole")
            .ok_or_else(|| refused("no AssumeRole action".into()))?;
        let params = serde_json::json!({"RoleArn": role, "RoleSessionName": "Stepwise"});
        let base = self.base_credentials("sts", region, prefix).await?;
        let wire = protocol::request(&sts, op, &params);
        let res = self.send("sts", &sts, wire, region, prefix, &base).await?;
        if !(200..300).contains(&res.status) {
            return Err(refused(
                Naming::Sdk.error(&sts, &Refusal::of(&sts, &res)).cause,
            ));
        }
        let out = protocol::result(&sts, op, &res).map_err(refused)?;
        let c = &out["Credentials"];
        let text = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(access_key_id), Some(secret_access_key)) =
            (text("AccessKeyId"), text("SecretAccessKey"))
        else {
            return Err(refused("STS answered without credentials".into()));
        };
        let credentials = StaticCredentials {
            access_key_id,
            secret_access_key,
            session_token: text("SessionToken"),
        };
        let until = c
            .get("Expiration")
            .and_then(crate::values::timestamp_in)
            .map(|t| {
                SystemTime::UNIX_EPOCH + Duration::from_millis(t.timestamp_millis().max(0) as u64)
            })
            .unwrap_or(now + ROLE_REFRESH * 2);
        self.lock_assumed()
            .insert(role.to_owned(), (credentials.clone(), until));
        Ok(credentials)
    }

    fn lock_assumed(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (StaticCredentials, SystemTime)>> {
        self.assumed.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn send(
        &self,
        service: &str,
        model: &Model,
        wire: protocol::WireRequest,
        region: &str,
        java: &str,
        credentials: &StaticCredentials,
    ) -> Result<WireResponse, AwsError> {
        let meta = &model.metadata;
        let custom = self.config.endpoints.get(service);
        let (base, region) = match (&wire.endpoint, custom) {
            (Some((url, signing)), _) => (
                url.clone(),
                signing.clone().unwrap_or_else(|| region.to_owned()),
            ),
            (None, Some(url)) => (url.trim_end_matches('/').to_owned(), region.to_owned()),
            (None, None) => {
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
        let mut headers = wire.headers.clone();
        let signed = sign_request(
            &wire.method,
            &url,
            &mut headers,
            &wire.body,
            credentials,
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
                format!("Unable to execute HTTP request: {}", transport_cause(&e)),
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
                return Err(too_large(service));
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

/// The bucket and key of an `s3://BUCKET/KEY` URI.
fn s3_object(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
}

/// The keys calls to local stand-ins are signed with (they accept any).
pub(crate) fn placeholder_credentials() -> StaticCredentials {
    StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        session_token: None,
    }
}

/// Signs a request with SigV4; answers every header to send (the request's and the
/// signature's).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_request(
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
        // S3 signs the path as sent: encoded once, not normalised (SigV4's S3 exception).
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
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
pub(crate) enum Naming<'a> {
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
    pub(crate) fn error(&self, model: &Model, refusal: &Refusal) -> AwsError {
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
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) request_id: String,
    /// S3's `x-amz-id-2`.
    pub(crate) extended_id: Option<String>,
}

impl Refusal {
    pub(crate) fn of(model: &Model, res: &WireResponse) -> Refusal {
        let protocol::WireError {
            code,
            message,
            request_id,
        } = protocol::error_of(&model.metadata.protocol, res);
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

/// Why a request could not be sent, as the AWS SDK for Java says it: a host that does not
/// resolve is `HOST: Name or service not known` (Java's UnknownHostException); anything else
/// the innermost cause's words.
fn transport_cause(e: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    let words = inner.to_string();
    let host = e.url().and_then(|u| u.host_str()).unwrap_or_default();
    match words.strip_prefix("failed to lookup address information: ") {
        Some(reason) if !host.is_empty() => format!("{host}: {reason}"),
        _ if e.is_connect() && !host.is_empty() => format!("Connect to {host} failed: {words}"),
        _ => e.to_string(),
    }
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

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let env = Endpoints::from_vars([
            ("SQS_ENDPOINT".to_owned(), "http://env-sqs".to_owned()),
            ("SNS_ENDPOINT".to_owned(), "http://env-sns".to_owned()),
        ]);
        let file = map(&[
            ("sqs", "http://file-sqs"),
            ("s3", "http://file-s3"),
            ("default", "http://file-all"),
        ]);
        let flags = map(&[("sns", "http://flag-sns")]);
        let e = env.or(&file).over(&flags);
        assert_eq!(e.get("sqs"), Some("http://env-sqs"));
        assert_eq!(e.get("sns"), Some("http://flag-sns"));
        assert_eq!(e.get("s3"), Some("http://file-s3"));
        assert_eq!(e.get("glue"), Some("http://file-all"));
        assert!(Endpoints::is_service("dynamodb") && Endpoints::is_service("default"));
        assert!(!Endpoints::is_service("dynamo"));
    }
}
