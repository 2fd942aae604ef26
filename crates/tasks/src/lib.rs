//! What Task states reach beyond the engine: the HTTP Task and Lambda functions, configured by
//! `stepwise.toml` ([`config`]).
//!
//! Each integration is an async function from the task's effective parameters to an
//! [`Outcome`]: the result AWS would hand the state, or the error name and cause AWS would raise.
//! The runtime decides when to call them (once per attempt, again after a crash) and what the
//! execution's history says about it.

pub mod config;
pub mod http;
pub mod lambda;

use std::sync::{Arc, Once};

use serde_json::Value;
use stepwise_asl::parse::{Resource, classify};
pub use stepwise_aws::{JobKind, JobRef, JobState};

pub use config::{Config, ConfigError};

/// How a call ended, in the terms a Task state sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The task's result.
    Succeeded(Value),
    /// The task failed with this error name and cause (both as AWS words them).
    Failed { error: String, cause: String },
}

impl Outcome {
    pub fn failed(error: impl Into<String>, cause: impl Into<String>) -> Outcome {
        Outcome::Failed {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

impl From<Outcome> for stepwise_engine::local::TaskOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Succeeded(v) => Self::Succeeded(v),
            Outcome::Failed { error, cause } => Self::Failed {
                error: Some(error),
                cause: Some(cause),
            },
        }
    }
}

/// Who is calling: for ARNs built in results and error causes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    pub region: String,
    pub account: String,
    /// The role the state's `Credentials.RoleArn` names: AWS calls are made as it.
    pub role_arn: Option<String>,
    /// Stable for the task: what fills an AWS action's idempotency tokens, so that a call made
    /// again after a crash is the same call (`None`: a random one, as the SDKs do).
    pub idempotency: Option<String>,
    /// The trace context the call carries (`traceparent`, `X-Amzn-Trace-Id`) when its
    /// execution is traced: headers of HTTP Task and Lambda requests, and a local Lambda
    /// command's `_X_AMZN_TRACE_ID`.
    pub trace: Vec<(String, String)>,
}

impl CallContext {
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> CallContext {
        CallContext {
            region: region.into(),
            account: account.into(),
            role_arn: None,
            idempotency: None,
            trace: Vec::new(),
        }
    }

    /// The region and account of the execution with this ARN.
    pub fn of_execution(arn: &str) -> CallContext {
        match stepwise_engine::ExecutionArn::parse(arn) {
            Some(e) => CallContext::new(e.region(), e.account()),
            None => CallContext::new("us-east-1", "123456789012"),
        }
    }

    /// The same caller, whose calls carry these trace headers.
    pub fn with_trace(mut self, headers: Vec<(String, String)>) -> CallContext {
        self.trace = headers;
        self
    }

    /// The same caller, with a value stable for the task for idempotency tokens.
    pub fn with_idempotency(mut self, token: Option<String>) -> CallContext {
        self.idempotency = token;
        self
    }

    /// As the aws crate sees the caller.
    pub fn caller(&self) -> stepwise_aws::Caller<'_> {
        stepwise_aws::Caller {
            region: &self.region,
            account: Some(&self.account),
            role: self.role_arn.as_deref(),
            idempotency: self.idempotency.as_deref(),
        }
    }

    /// The same caller, acting as `role` when there is one.
    pub fn with_role(mut self, role: Option<&str>) -> CallContext {
        self.role_arn = role.map(str::to_owned);
        self
    }
}

/// The integrations, sharing one HTTP client and the configuration.
#[derive(Debug)]
pub struct Integrations {
    config: Arc<Config>,
    client: reqwest::Client,
    /// The Lambda Invoke API to call for functions not bound to a command.
    lambda_endpoint: Option<String>,
    /// OAuth access tokens by connection name, with when they expire.
    oauth_tokens: tokio::sync::Mutex<std::collections::HashMap<String, http::CachedToken>>,
    /// `aws-sdk:*` calls.
    aws: stepwise_aws::AwsClient,
    /// How often `.sync` jobs are described.
    poll_interval: std::time::Duration,
}

impl Integrations {
    /// `LAMBDA_ENDPOINT` (when set) wins over the file's `[lambda] endpoint`.
    pub fn new(config: Arc<Config>) -> Integrations {
        static PROVIDER: Once = Once::new();
        PROVIDER.call_once(|| {
            // Another part of the process may have installed one already: either is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        });
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(config.http.timeout_seconds))
            .redirect(http::redirect_policy(&config.http))
            .build()
            .unwrap_or_default();
        let lambda_endpoint = config
            .aws
            .flag_endpoints
            .get("lambda")
            .cloned()
            .or_else(config::lambda_endpoint_from_env)
            .or_else(|| config.lambda.endpoint.clone());
        let aws_config =
            stepwise_aws::AwsConfig::layered(&config.aws.endpoints, &config.aws.flag_endpoints);
        let aws = stepwise_aws::AwsClient::new(aws_config, client.clone());
        let poll_interval = config::sync_poll_interval(&config);
        Integrations {
            poll_interval,
            config,
            client,
            lambda_endpoint,
            oauth_tokens: Default::default(),
            aws,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `aws-sdk:sfn:*` calls go to the Step Functions API at `url` (this server's own) unless
    /// `AWS_ENDPOINT_URL_SFN` or `STEP_FUNCTIONS_ENDPOINT` points them elsewhere.
    /// With `key`, those calls are signed as the server's own executions (see
    /// [`stepwise_aws::client::OwnKey`]) when the server checks signatures.
    pub fn with_step_functions_at(
        mut self,
        url: &str,
        key: Option<stepwise_aws::client::OwnKey>,
    ) -> Integrations {
        self.aws = self.aws.with_own_endpoint("sfn", url, key);
        self
    }

    /// Runs the integration `resource` names, if it is one of this crate's: the HTTP Task,
    /// `apigateway:invoke`, `lambda:invoke` or a Lambda function's ARN (the service pattern suffix, such as
    /// `.waitForTaskToken`, is ignored here: the caller waits for the token). `None` for every
    /// other resource.
    pub async fn call(
        &self,
        resource: &str,
        parameters: &Value,
        ctx: &CallContext,
    ) -> Option<Outcome> {
        Some(match Target::of(resource)? {
            Target::Http => self.http_invoke_as(parameters, ctx).await,
            Target::LambdaInvoke => self.lambda_invoke(parameters, ctx).await,
            Target::LambdaFunction => self.lambda_function(resource, parameters, ctx).await,
            Target::AwsSdk | Target::AwsOptimized => self.call_aws(resource, parameters, ctx).await,
            Target::ApiGateway => match self.aws.invoke_api(parameters, &ctx.caller()).await {
                Ok(result) => Outcome::Succeeded(result),
                Err(e) => Outcome::failed(e.error, e.cause),
            },
        })
    }

    /// `aws-sdk:SERVICE:action` and the optimized integrations that are one API call: the
    /// service's API, through its model.
    async fn call_aws(&self, resource: &str, parameters: &Value, ctx: &CallContext) -> Outcome {
        let Some(Resource::Service(s)) = classify(resource) else {
            return Outcome::failed("States.Runtime", format!("not an AWS resource: {resource}"));
        };
        let optimized = stepwise_aws::Optimized::find(&s.service, &s.action).filter(|_| !s.sdk);
        let caller = ctx.caller();
        let called = match optimized {
            Some(o) => {
                self.aws
                    .call_optimized(o, &s.action, parameters, &caller)
                    .await
            }
            None => {
                self.aws
                    .call(&s.service, &s.action, parameters, &caller)
                    .await
            }
        };
        match called {
            Ok(result) => Outcome::Succeeded(result),
            Err(e) => Outcome::failed(e.error, e.cause),
        }
    }
}

/// A Distributed Map's `ItemReader`: its items, read from S3 (or the S3 endpoint configured).
impl Integrations {
    /// Reads every item `input` (`{"Parameters", "ReaderConfig"}`, evaluated by the engine)
    /// names from `resource` (`s3:getObject`, `s3:listObjectsV2`): the array of items, or
    /// the task's failure (`States.ItemReaderFailed`, `S3.NoSuchKeyException`, ...).
    pub async fn read_items(&self, resource: &str, input: &Value, ctx: &CallContext) -> Outcome {
        let read = async {
            let mut items = self.open_items(resource, input, ctx, 0).await?;
            let mut all = Vec::new();
            while let Some(item) = items.next().await? {
                all.push(item);
            }
            Ok::<_, stepwise_items::ItemsError>(all)
        };
        match read.await {
            Ok(items) => Outcome::Succeeded(Value::Array(items)),
            Err(e) => Outcome::failed(e.error, e.cause),
        }
    }

    /// S3 (or the S3 endpoint configured) as a Distributed Map's ResultWriter writes to it.
    pub fn result_store(
        &self,
        ctx: &CallContext,
    ) -> std::sync::Arc<dyn stepwise_items::ObjectStore> {
        std::sync::Arc::new(self.aws.s3(&ctx.caller()))
    }

    /// The items an `ItemReader` (`resource`, and `input`: `{"Parameters", "ReaderConfig"}`
    /// evaluated) reads, one at a time, from item `position` on.
    pub async fn open_items(
        &self,
        resource: &str,
        input: &Value,
        ctx: &CallContext,
        position: u64,
    ) -> Result<stepwise_items::Items, stepwise_items::ItemsError> {
        let mut reader = serde_json::Map::new();
        reader.insert("Resource".into(), Value::from(resource));
        let config = input.get("ReaderConfig").cloned().unwrap_or(Value::Null);
        let max_items = config.get("MaxItems").and_then(Value::as_i64);
        reader.insert("ReaderConfig".into(), config);
        let parameters = input.get("Parameters").cloned().unwrap_or(Value::Null);
        let spec =
            stepwise_items::ItemReaderSpec::parse(&Value::Object(reader), &parameters, max_items)?;
        let store = std::sync::Arc::new(self.aws.s3(&ctx.caller()));
        stepwise_items::Items::open(spec, store, position).await
    }
}

/// The Run a Job (`.sync`) tasks of the optimized integrations that start a job (Glue, Athena,
/// Batch, ECS, CodeBuild): the job is started, then described every
/// [`Integrations::poll_interval`] until it is over. The caller keeps the [`JobRef`] (so that
/// a restart resumes describing the same job) and does the waiting.
impl Integrations {
    /// The job kind of a `.sync` resource (`arn:aws:states:::glue:startJobRun.sync`), if it is
    /// one of these.
    pub fn sync_job(resource: &str) -> Option<JobKind> {
        match classify(resource)? {
            Resource::Service(s) if !s.sdk && s.pattern.is_sync() => {
                JobKind::of(&s.service, &s.action)
            }
            _ => None,
        }
    }

    /// How often a job is described.
    pub fn poll_interval(&self) -> std::time::Duration {
        self.poll_interval
    }

    /// Starts the job: the start call's result (the TaskSubmitted output) and the job, or how
    /// the task fails.
    pub async fn start_job(
        &self,
        kind: JobKind,
        parameters: &Value,
        ctx: &CallContext,
    ) -> Result<(Value, JobRef), Outcome> {
        self.aws
            .start_job(kind, parameters, &ctx.caller())
            .await
            .map_err(|e| Outcome::failed(e.error, e.cause))
    }

    /// Describes the job once.
    pub async fn poll_job(&self, job: &JobRef) -> Result<JobState, Outcome> {
        self.aws
            .poll_job(job)
            .await
            .map_err(|e| Outcome::failed(e.error, e.cause))
    }

    /// Stops the job (best effort).
    pub async fn stop_job(&self, job: &JobRef) {
        if let Err(e) = self.aws.stop_job(job).await {
            tracing::warn!(job = ?job, error = %e, "could not stop the job of a .sync task");
        }
    }
}

/// The integrations this crate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `arn:aws:states:::http:invoke`
    Http,
    /// `arn:aws:states:::lambda:invoke`
    LambdaInvoke,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`
    LambdaFunction,
    /// `arn:aws:states:::aws-sdk:SERVICE:action`
    AwsSdk,
    /// An optimized integration that is one AWS API call: `dynamodb:putItem`, `sns:publish`,
    /// `sqs:sendMessage`, `events:putEvents`, `bedrock:invokeModel`, ...
    AwsOptimized,
    /// `arn:aws:states:::apigateway:invoke`
    ApiGateway,
}

impl Target {
    /// The integration `resource` names, as the validator classifies it (so the region-and-
    /// account form `arn:aws:states:REGION:ACCOUNT:lambda:invoke` is `lambda:invoke` too).
    pub fn of(resource: &str) -> Option<Target> {
        match classify(resource)? {
            Resource::LambdaFunction => Some(Target::LambdaFunction),
            Resource::Service(s) if s.is("http", "invoke") => Some(Target::Http),
            Resource::Service(s) if s.is("lambda", "invoke") => Some(Target::LambdaInvoke),
            Resource::Service(s) if s.is("apigateway", "invoke") => Some(Target::ApiGateway),
            Resource::Service(s) if s.sdk => Some(Target::AwsSdk),
            Resource::Service(s)
                if stepwise_aws::Optimized::find(&s.service, &s.action).is_some() =>
            {
                Some(Target::AwsOptimized)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn resources_name_their_integration() {
        let cases = [
            ("arn:aws:states:::http:invoke", Some(Target::Http)),
            ("arn:aws:states:::lambda:invoke", Some(Target::LambdaInvoke)),
            (
                "arn:aws:states:::lambda:invoke.waitForTaskToken",
                Some(Target::LambdaInvoke),
            ),
            (
                "arn:aws:lambda:us-east-1:111122223333:function:f",
                Some(Target::LambdaFunction),
            ),
            (
                "arn:aws:lambda:us-east-1:111122223333:function:f:$LATEST",
                Some(Target::LambdaFunction),
            ),
            (
                "arn:aws:states:us-east-1:111122223333:lambda:invoke",
                Some(Target::LambdaInvoke),
            ),
            (
                "arn:aws:states:us-east-1:111122223333:http:invoke",
                Some(Target::Http),
            ),
            ("arn:aws:states:::states:startExecution.sync", None),
            (
                "arn:aws:states:::aws-sdk:lambda:invoke",
                Some(Target::AwsSdk),
            ),
            (
                "arn:aws:states:us-east-1:111122223333:aws-sdk:s3:getObject",
                Some(Target::AwsSdk),
            ),
            (
                "arn:aws:states:::dynamodb:putItem",
                Some(Target::AwsOptimized),
            ),
            (
                "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                Some(Target::AwsOptimized),
            ),
            (
                "arn:aws:states:::glue:startJobRun.sync",
                Some(Target::AwsOptimized),
            ),
            ("arn:aws:states:::glue:getJobRun", None),
            (
                "arn:aws:states:::apigateway:invoke",
                Some(Target::ApiGateway),
            ),
            (
                "arn:aws:states:::apigateway:invoke.waitForTaskToken",
                Some(Target::ApiGateway),
            ),
            (
                "arn:aws:states:::bedrock:invokeModel",
                Some(Target::AwsOptimized),
            ),
            ("arn:aws:states:us-east-1:111122223333:activity:a", None),
        ];
        for (resource, want) in cases {
            assert_eq!(Target::of(resource), want, "{resource}");
        }
    }
}
