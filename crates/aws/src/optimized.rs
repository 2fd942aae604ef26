//! The optimized integrations that are an AWS API call with Step Functions' own conventions
//! (`arn:aws:states:::dynamodb:putItem`, `sns:publish`, `sqs:sendMessage`, `events:putEvents`):
//! the same request as the API action, but errors named as the AWS SDK for Java 1.x names
//! them (`DynamoDB.ConditionalCheckFailedException`, `SQS.AmazonSQSException`, causes ending
//! `(Service: AmazonSQS; Status Code: 400; Error Code: ...; Request ID: ...; Proxy: null)`),
//! JSON values accepted where the API takes text (an SQS message body, an event's detail), and
//! for some, the SDK's HTTP metadata in the result (`SdkHttpMetadata`, `SdkResponseMetadata`).

use serde_json::{Map, Value};

use crate::model::{Model, Shape};
use crate::values::{pascal, resolve, timestamp_in};

/// One optimized integration's conventions.
#[derive(Debug)]
pub struct Optimized {
    /// The service as the Resource names it (`dynamodb`, `events`).
    pub service: &'static str,
    /// The actions it offers (camelCase, as in the Resource).
    pub actions: &'static [&'static str],
    /// The model it calls (`aws-sdk` name).
    pub model: &'static str,
    /// Its errors' prefix (`DynamoDB`, `SQS`).
    pub prefix: &'static str,
    /// The SDK 1.x service name in causes (`AmazonDynamoDBv2`).
    pub sdk_service: &'static str,
    /// The exception for errors the model does not list (`AmazonDynamoDBException`).
    pub base_exception: &'static str,
    /// Whether results carry `SdkHttpMetadata` and `SdkResponseMetadata`.
    pub http_metadata: bool,
    /// Members given as JSON that the API takes as text: (path of list members, member).
    pub json_text: &'static [(&'static [&'static str], &'static str)],
    /// Whether timestamps in results are epoch milliseconds (as the SDK 1.x objects of the
    /// job integrations serialize them) rather than ISO-8601 text.
    pub epoch_dates: bool,
    /// What the integration does beyond the API call itself.
    pub adapt: Adapt,
    /// Idempotency-token members the API model does not mark as such, by action (CodeBuild's
    /// `idempotencyToken`): filled like the marked ones (see [`crate::Caller::idempotency`]).
    pub tokens: &'static [(&'static str, &'static str)],
}

/// How an integration differs from the API action it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapt {
    /// The API's call and answer as they are.
    None,
    /// EMR: Step Functions' own actions over EMR's (see [`Optimized::api_call`]).
    EmrActions,
    /// Glue: StartJobRun's answer gets the request's `JobName`.
    GlueJobName,
    /// Bedrock: InvokeModel's `Input.S3Uri` is read into its `Body`, and the answer's `Body` is
    /// the JSON it holds.
    BedrockBody,
    /// EventBridge: a PutEvents answer with failed entries fails the task.
    FailedEntries,
    /// SQS: the call goes to the host of its `QueueUrl`, as the AWS SDK for Java 1.x sends it
    /// (so a queue of another region, or a URL whose host does not exist, behaves as on AWS).
    QueueUrlHost,
    /// EMR Serverless: StartApplication, StopApplication and DeleteApplication answer nothing;
    /// the integration answers `{"ApplicationId"}`, the request's (as the guide's table says).
    ApplicationId,
}

const INTEGRATIONS: &[Optimized] = &[
    Optimized {
        service: "dynamodb",
        actions: &["getItem", "putItem", "updateItem", "deleteItem"],
        model: "dynamodb",
        prefix: "DynamoDB",
        sdk_service: "AmazonDynamoDBv2",
        base_exception: "AmazonDynamoDBException",
        http_metadata: true,
        json_text: &[],
        epoch_dates: false,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "sns",
        actions: &["publish"],
        model: "sns",
        prefix: "SNS",
        sdk_service: "AmazonSNS",
        base_exception: "AmazonSNSException",
        http_metadata: true,
        json_text: &[(&[], "Message")],
        epoch_dates: false,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "sqs",
        actions: &["sendMessage"],
        model: "sqs",
        prefix: "SQS",
        sdk_service: "AmazonSQS",
        base_exception: "AmazonSQSException",
        http_metadata: true,
        json_text: &[(&[], "MessageBody")],
        epoch_dates: false,
        adapt: Adapt::QueueUrlHost,
        tokens: &[],
    },
    Optimized {
        service: "events",
        actions: &["putEvents"],
        model: "eventbridge",
        prefix: "EventBridge",
        sdk_service: "AmazonEventBridge",
        base_exception: "AmazonEventBridgeException",
        http_metadata: false,
        json_text: &[(&["Entries"], "Detail")],
        epoch_dates: false,
        adapt: Adapt::FailedEntries,
        tokens: &[],
    },
    Optimized {
        service: "glue",
        actions: &["startJobRun"],
        model: "glue",
        prefix: "Glue",
        sdk_service: "AWSGlue",
        base_exception: "AWSGlueException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::GlueJobName,
        tokens: &[],
    },
    Optimized {
        service: "athena",
        actions: &[
            "startQueryExecution",
            "stopQueryExecution",
            "getQueryExecution",
            "getQueryResults",
        ],
        model: "athena",
        prefix: "Athena",
        sdk_service: "AmazonAthena",
        base_exception: "AmazonAthenaException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "batch",
        actions: &["submitJob"],
        model: "batch",
        prefix: "Batch",
        sdk_service: "AWSBatch",
        base_exception: "AWSBatchException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "ecs",
        actions: &["runTask"],
        model: "ecs",
        prefix: "ECS",
        sdk_service: "AmazonECS",
        base_exception: "AmazonECSException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "codebuild",
        actions: &[
            "startBuild",
            "stopBuild",
            "batchDeleteBuilds",
            "batchGetReports",
            "startBuildBatch",
            "stopBuildBatch",
            "retryBuildBatch",
            "retryBuild",
            "deleteBuildBatch",
        ],
        model: "codebuild",
        prefix: "CodeBuild",
        sdk_service: "AWSCodeBuild",
        base_exception: "AWSCodeBuildException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[
            ("startBuild", "IdempotencyToken"),
            ("startBuildBatch", "IdempotencyToken"),
            ("retryBuild", "IdempotencyToken"),
            ("retryBuildBatch", "IdempotencyToken"),
        ],
    },
    Optimized {
        service: "elasticmapreduce",
        actions: &[
            "createCluster",
            "terminateCluster",
            "addStep",
            "cancelStep",
            "setClusterTerminationProtection",
        ],
        model: "emr",
        prefix: "EMR",
        sdk_service: "AmazonElasticMapReduce",
        base_exception: "AmazonElasticMapReduceException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::EmrActions,
        tokens: &[],
    },
    Optimized {
        service: "sagemaker",
        actions: &[
            "createEndpoint",
            "createEndpointConfig",
            "createHyperParameterTuningJob",
            "createLabelingJob",
            "createModel",
            "createProcessingJob",
            "createTrainingJob",
            "createTransformJob",
            "updateEndpoint",
            "stopTrainingJob",
            "stopTransformJob",
        ],
        model: "sagemaker",
        prefix: "SageMaker",
        sdk_service: "AmazonSageMaker",
        base_exception: "AmazonSageMakerException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "bedrock",
        actions: &["invokeModel"],
        model: "bedrockruntime",
        prefix: "Bedrock",
        sdk_service: "AmazonBedrockRuntime",
        base_exception: "AmazonBedrockRuntimeException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: false,
        adapt: Adapt::BedrockBody,
        tokens: &[],
    },
    // Bedrock's control plane: the model customization jobs.
    Optimized {
        service: "bedrock",
        actions: &["createModelCustomizationJob"],
        model: "bedrock",
        prefix: "Bedrock",
        sdk_service: "AmazonBedrock",
        base_exception: "AmazonBedrockException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "emr-serverless",
        actions: &[
            "createApplication",
            "startApplication",
            "stopApplication",
            "deleteApplication",
            "startJobRun",
            "cancelJobRun",
        ],
        model: "emrserverless",
        prefix: "EMRServerless",
        sdk_service: "AWSEMRServerless",
        base_exception: "AWSEMRServerlessException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::ApplicationId,
        tokens: &[],
    },
    Optimized {
        service: "emr-containers",
        actions: &[
            "createVirtualCluster",
            "deleteVirtualCluster",
            "startJobRun",
        ],
        model: "emrcontainers",
        prefix: "EMRContainers",
        sdk_service: "AmazonEMRContainers",
        base_exception: "AmazonEMRContainersException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "eks",
        actions: &[
            "createCluster",
            "deleteCluster",
            "createNodegroup",
            "deleteNodegroup",
            "createFargateProfile",
            "deleteFargateProfile",
        ],
        model: "eks",
        prefix: "EKS",
        sdk_service: "AmazonEKS",
        base_exception: "AmazonEKSException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
    Optimized {
        service: "databrew",
        actions: &["startJobRun"],
        model: "databrew",
        prefix: "GlueDataBrew",
        sdk_service: "AWSGlueDataBrew",
        base_exception: "AWSGlueDataBrewException",
        http_metadata: false,
        json_text: &[],
        epoch_dates: true,
        adapt: Adapt::None,
        tokens: &[],
    },
];

impl Optimized {
    /// The optimized integration `service:action` (`dynamodb`, `putItem`), if it is one of
    /// these.
    pub fn find(service: &str, action: &str) -> Option<&'static Optimized> {
        INTEGRATIONS
            .iter()
            .find(|o| o.service == service && o.actions.contains(&action))
    }

    /// The parameters as the API takes them: JSON given where the API wants text becomes its
    /// JSON text.
    pub fn request(&self, params: &Value) -> Value {
        let mut params = params.clone();
        for (path, member) in self.json_text {
            let mut targets: Vec<&mut Value> = vec![&mut params];
            for step in *path {
                targets = targets
                    .into_iter()
                    .filter_map(|v| v.get_mut(*step))
                    .flat_map(|v| match v {
                        Value::Array(items) => items.iter_mut().collect::<Vec<_>>(),
                        other => vec![other],
                    })
                    .collect();
            }
            for target in targets {
                if let Some(v) = target.get_mut(*member) {
                    if !v.is_string() && !v.is_null() {
                        *v = Value::String(v.to_string());
                    }
                }
            }
        }
        params
    }

    /// The parameters with the action's idempotency token (CodeBuild's `IdempotencyToken`, which
    /// the model does not mark as one) filled with `token` when they leave it out.
    pub fn with_token(&self, action: &str, mut params: Value, token: Option<&str>) -> Value {
        let member = self
            .tokens
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, m)| *m);
        if let (Some(member), Some(token), Value::Object(fields)) = (member, token, &mut params) {
            fields
                .entry(member)
                .or_insert_with(|| Value::String(token.to_owned()));
        }
        params
    }

    /// The API action an integration's action calls, with its parameters: EMR's actions are
    /// Step Functions' own, each a call of an EMR action with the members renamed
    /// (`createCluster` is RunJobFlow; `addStep` is AddJobFlowSteps with `ClusterId` as
    /// `JobFlowId` and one `Step` as `Steps`; `terminateCluster` is TerminateJobFlows and
    /// `setClusterTerminationProtection` SetTerminationProtection with `ClusterId` as
    /// `JobFlowIds`; `cancelStep` is CancelSteps with `StepId` as `StepIds`). Other actions are
    /// the API's own.
    /// Where the call goes instead of the service's endpoint, and the region it is signed
    /// for: for SQS, its `QueueUrl`'s scheme and authority (the region from an AWS queue
    /// host, `sqs.REGION.amazonaws.com` or `REGION.queue.amazonaws.com`).
    pub fn endpoint_of(&self, params: &Value) -> Option<(String, Option<String>)> {
        if self.adapt != Adapt::QueueUrlHost {
            return None;
        }
        let url = params.get("QueueUrl")?.as_str()?;
        let (scheme, rest) = url.split_once("://")?;
        if !matches!(scheme, "http" | "https") {
            return None;
        }
        let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
        let host = authority.split(':').next().unwrap_or(authority);
        let region = host
            .strip_suffix(".amazonaws.com")
            .and_then(|h| h.strip_prefix("sqs.").or_else(|| h.strip_suffix(".queue")))
            .filter(|r| !r.contains('.'))
            .map(str::to_owned);
        Some((format!("{scheme}://{authority}"), region))
    }

    pub fn api_call(&self, action: &str, params: Value) -> (String, Value) {
        if self.adapt != Adapt::EmrActions {
            return (action.to_owned(), params);
        }
        let Value::Object(mut p) = params else {
            return (action.to_owned(), params);
        };
        let listed = |v: Option<Value>| Value::Array(v.into_iter().collect());
        let api = match action {
            "createCluster" => "runJobFlow",
            "addStep" => {
                if let Some(id) = p.remove("ClusterId") {
                    p.insert("JobFlowId".into(), id);
                }
                let step = p.remove("Step");
                p.insert("Steps".into(), listed(step));
                "addJobFlowSteps"
            }
            "terminateCluster" | "setClusterTerminationProtection" => {
                let id = p.remove("ClusterId");
                p.insert("JobFlowIds".into(), listed(id));
                if action == "terminateCluster" {
                    "terminateJobFlows"
                } else {
                    "setTerminationProtection"
                }
            }
            "cancelStep" => {
                let id = p.remove("StepId");
                p.insert("StepIds".into(), listed(id));
                "cancelSteps"
            }
            other => other,
        };
        (api.to_owned(), Value::Object(p))
    }

    /// The integration's answer from the API's (see [`Optimized::api_call`]): EMR's
    /// `createCluster` answers `ClusterId` (RunJobFlow's `JobFlowId`), `addStep` one `StepId`,
    /// `cancelStep` one `CancelStepsInfo`.
    pub fn api_result(&self, action: &str, result: Value) -> Value {
        if self.adapt != Adapt::EmrActions {
            return result;
        }
        let first = |v: &Value| v.get(0).cloned().unwrap_or(Value::Null);
        match action {
            "createCluster" => serde_json::json!({"ClusterId": result["JobFlowId"]}),
            "addStep" => serde_json::json!({"StepId": first(&result["StepIds"])}),
            "cancelStep" => {
                serde_json::json!({"CancelStepsInfo": first(&result["CancelStepsInfoList"])})
            }
            _ => result,
        }
    }

    /// What the integration adds to the API's answer: Glue's `JobName`, taken from the
    /// request (StartJobRun answers with the run's id alone); EMR Serverless's `ApplicationId`
    /// for the application actions that answer nothing; Bedrock's `Body` as the JSON it
    /// holds (the model's answer, `$.Body.results[0].outputText`), its text when it is not JSON.
    pub fn complete(&self, action: &str, params: &Value, result: &mut Value) {
        if self.adapt == Adapt::BedrockBody && action == "invokeModel" {
            if let Some(body) = result.get_mut("Body") {
                if let Some(parsed) = body
                    .as_str()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                {
                    *body = parsed;
                }
            }
        }
        if self.adapt == Adapt::ApplicationId
            && matches!(
                action,
                "startApplication" | "stopApplication" | "deleteApplication"
            )
        {
            if let (Some(id), Value::Object(out)) = (params.get("ApplicationId"), result) {
                out.insert("ApplicationId".into(), id.clone());
            }
            return;
        }
        if self.adapt == Adapt::GlueJobName && action == "startJobRun" {
            if let (Some(name), Value::Object(out)) = (params.get("JobName"), result) {
                out.insert("JobName".into(), name.clone());
            }
        }
    }

    /// EventBridge's PutEvents answers 200 even when some of its entries failed; the
    /// integration fails the task then, with `EventBridge.FailedEntry` and the answer (its
    /// `Entries` and `FailedEntryCount`) as the cause.
    pub fn refuse_failed_entries(&self, result: &Value) -> Result<(), crate::AwsError> {
        let failed = result
            .get("FailedEntryCount")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if self.adapt != Adapt::FailedEntries || failed == 0 {
            return Ok(());
        }
        let mut cause = serde_json::Map::new();
        for key in ["Entries", "FailedEntryCount"] {
            if let Some(v) = result.get(key) {
                cause.insert(key.to_owned(), v.clone());
            }
        }
        Err(crate::AwsError::new(
            format!("{}.FailedEntry", self.prefix),
            Value::Object(cause).to_string(),
        ))
    }

    /// The error name of a refusal with the code `code` (`modeled`: the model lists it).
    pub fn error_name(&self, modeled: Option<&str>) -> String {
        match modeled {
            Some(name) if name.ends_with("Exception") => format!("{}.{name}", self.prefix),
            Some(name) => format!("{}.{name}Exception", self.prefix),
            None => format!("{}.{}", self.prefix, self.base_exception),
        }
    }

    /// The cause of a refusal, as the SDK 1.x words it.
    pub fn cause(&self, message: &str, status: u16, code: &str, request_id: &str) -> String {
        format!(
            "{message} (Service: {}; Status Code: {status}; Error Code: {code}; Request ID: \
             {request_id}; Proxy: null)",
            self.sdk_service
        )
    }
}

/// `value` (a result read with `shape`, timestamps as ISO-8601 text) with its timestamps as
/// epoch milliseconds.
pub fn epoch_dates(model: &Model, shape: &Shape, value: &mut Value) {
    match (shape.kind.as_str(), value) {
        ("structure", Value::Object(out)) => {
            for (name, r) in &shape.members {
                if let Some(v) = out.get_mut(&pascal(name)) {
                    epoch_dates(model, resolve(model, r), v);
                }
            }
        }
        ("list", Value::Array(items)) => {
            if let Some(m) = &shape.member {
                let target = resolve(model, m);
                for item in items {
                    epoch_dates(model, target, item);
                }
            }
        }
        ("map", Value::Object(entries)) => {
            if let Some(vr) = &shape.value {
                let target = resolve(model, vr);
                for v in entries.values_mut() {
                    epoch_dates(model, target, v);
                }
            }
        }
        ("timestamp", v) => {
            if let Some(t) = timestamp_in(v) {
                *v = Value::from(t.timestamp_millis());
            }
        }
        _ => {}
    }
}

/// `SdkHttpMetadata` and `SdkResponseMetadata` of an answer, added to `result`.
pub fn add_http_metadata(result: &mut Value, status: u16, headers: &http::HeaderMap) {
    let Value::Object(out) = result else { return };
    let mut all = Map::new();
    let mut single = Map::new();
    for name in headers.keys() {
        let values: Vec<Value> = headers
            .get_all(name)
            .iter()
            .map(|v| Value::String(v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let spelled = header_spelling(name.as_str());
        single.insert(
            spelled.clone(),
            values.last().cloned().unwrap_or(Value::Null),
        );
        all.insert(spelled, Value::Array(values));
    }
    let request_id = headers
        .get("x-amzn-requestid")
        .or_else(|| headers.get("x-amz-request-id"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut http = Map::new();
    http.insert("AllHttpHeaders".into(), Value::Object(all));
    http.insert("HttpHeaders".into(), Value::Object(single));
    http.insert("HttpStatusCode".into(), Value::from(status));
    out.insert("SdkHttpMetadata".into(), Value::Object(http));
    let mut response = Map::new();
    response.insert("RequestId".into(), Value::String(request_id));
    out.insert("SdkResponseMetadata".into(), Value::Object(response));
}

/// A header's name as AWS's services spell it (HTTP/1 names arrive in lower case here):
/// `Content-Type`, `x-amzn-RequestId`, `x-amz-crc32`.
fn header_spelling(name: &str) -> String {
    match name {
        "x-amzn-requestid" => "x-amzn-RequestId".into(),
        n if n.starts_with("x-") => n.into(),
        n => crate::values::title_case(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_sqs_call_goes_to_its_queue_urls_host() {
        let sqs = Optimized::find("sqs", "sendMessage").expect("sqs");
        let at = |url: &str| sqs.endpoint_of(&serde_json::json!({"QueueUrl": url}));
        assert_eq!(
            at("https://sqs.eu-west-1.amazonaws.com/123456789012/q"),
            Some((
                "https://sqs.eu-west-1.amazonaws.com".into(),
                Some("eu-west-1".into())
            ))
        );
        assert_eq!(
            at("https://ap-south-1.queue.amazonaws.com/123456789012/q"),
            Some((
                "https://ap-south-1.queue.amazonaws.com".into(),
                Some("ap-south-1".into())
            ))
        );
        assert_eq!(
            at("http://localhost:4566/000000000000/q"),
            Some(("http://localhost:4566".into(), None))
        );
        assert_eq!(at("q"), None);
        let ddb = Optimized::find("dynamodb", "putItem").expect("dynamodb");
        assert_eq!(
            ddb.endpoint_of(&serde_json::json!({"QueueUrl": "http://x/"})),
            None
        );
    }

    #[test]
    fn put_events_with_a_failed_entry_fails_the_task() {
        let events = Optimized::find("events", "putEvents").expect("events");
        let ok = json!({"Entries": [{"EventId": "e1"}], "FailedEntryCount": 0});
        assert!(events.refuse_failed_entries(&ok).is_ok());
        let failed = json!({
            "Entries": [{"EventId": "e1"}, {"ErrorCode": "InvalidArgument", "ErrorMessage": "m"}],
            "FailedEntryCount": 1
        });
        let e = events.refuse_failed_entries(&failed).expect_err("refused");
        assert_eq!(e.error, "EventBridge.FailedEntry");
        assert_eq!(
            serde_json::from_str::<Value>(&e.cause).expect("json"),
            failed
        );
        let sqs = Optimized::find("sqs", "sendMessage").expect("sqs");
        assert!(sqs.refuse_failed_entries(&failed).is_ok());
    }

    #[test]
    fn json_given_where_the_api_takes_text_is_sent_as_its_text() {
        let sqs = Optimized::find("sqs", "sendMessage").expect("sqs");
        assert_eq!(
            sqs.request(&json!({"QueueUrl": "q", "MessageBody": {"a": 1}})),
            json!({"QueueUrl": "q", "MessageBody": "{\"a\":1}"})
        );
        let events = Optimized::find("events", "putEvents").expect("events");
        assert_eq!(
            events.request(&json!({"Entries": [{"Detail": {"x": [1]}}, {"Detail": "t"}]})),
            json!({"Entries": [{"Detail": "{\"x\":[1]}"}, {"Detail": "t"}]})
        );
        assert!(Optimized::find("dynamodb", "query").is_none());
    }

    #[test]
    fn bedrock_calls_the_runtime_model_and_reads_its_body_as_json() {
        let bedrock = Optimized::find("bedrock", "invokeModel").expect("bedrock");
        let model = crate::model::Models::bundled()
            .get(bedrock.model)
            .expect("the bedrock-runtime model is bundled");
        assert!(model.operation("InvokeModel").is_some());
        assert_eq!(
            bedrock.error_name(Some("ValidationException")),
            "Bedrock.ValidationException"
        );
        let mut result = json!({"Body": "{\"results\":[{\"outputText\":\"hi\"}]}",
                                "ContentType": "application/json"});
        bedrock.complete("invokeModel", &json!({}), &mut result);
        assert_eq!(
            result,
            json!({"Body": {"results": [{"outputText": "hi"}]}, "ContentType": "application/json"})
        );
        let mut text = json!({"Body": "plain words", "ContentType": "text/plain"});
        bedrock.complete("invokeModel", &json!({}), &mut text);
        assert_eq!(text["Body"], json!("plain words"));
    }

    #[test]
    fn emr_actions_are_step_functions_own_over_emr_actions() {
        let emr = Optimized::find("elasticmapreduce", "addStep").expect("emr");
        let models = crate::model::Models::bundled();
        let model = models.get(emr.model).expect("the emr model is bundled");
        let (api, params) = emr.api_call(
            "addStep",
            json!({"ClusterId": "j-1", "Step": {"Name": "s"}}),
        );
        assert!(model.operation(&api).is_some(), "{api}");
        assert_eq!(
            params,
            json!({"JobFlowId": "j-1", "Steps": [{"Name": "s"}]})
        );
        assert_eq!(
            emr.api_result("addStep", json!({"StepIds": ["s-1"]})),
            json!({"StepId": "s-1"})
        );
        let (api, params) = emr.api_call("terminateCluster", json!({"ClusterId": "j-1"}));
        assert!(model.operation(&api).is_some(), "{api}");
        assert_eq!(params, json!({"JobFlowIds": ["j-1"]}));
        let (api, _) = emr.api_call("createCluster", json!({"Name": "c"}));
        assert!(model.operation(&api).is_some(), "{api}");
        assert_eq!(
            emr.api_result(
                "createCluster",
                json!({"JobFlowId": "j-1", "ClusterArn": "a"})
            ),
            json!({"ClusterId": "j-1"})
        );
        let (api, params) = emr.api_call("cancelStep", json!({"ClusterId": "j", "StepId": "s"}));
        assert!(model.operation(&api).is_some(), "{api}");
        assert_eq!(params, json!({"ClusterId": "j", "StepIds": ["s"]}));
        assert!(model.operation("describeStep").is_some());
        assert_eq!(emr.error_name(None), "EMR.AmazonElasticMapReduceException");
        let sm = Optimized::find("sagemaker", "createTrainingJob").expect("sagemaker");
        assert_eq!(
            sm.error_name(Some("ResourceNotFound")),
            "SageMaker.ResourceNotFoundException"
        );
        let sm_model = models
            .get(sm.model)
            .expect("the sagemaker model is bundled");
        for op in [
            "createTransformJob",
            "describeTrainingJob",
            "stopTransformJob",
        ] {
            assert!(sm_model.operation(op).is_some(), "{op}");
        }
    }

    #[test]
    fn errors_are_named_and_worded_as_the_sdk_1_names_them() {
        let ddb = Optimized::find("dynamodb", "putItem").expect("dynamodb");
        assert_eq!(
            ddb.error_name(Some("ResourceNotFoundException")),
            "DynamoDB.ResourceNotFoundException"
        );
        assert_eq!(ddb.error_name(None), "DynamoDB.AmazonDynamoDBException");
        assert_eq!(
            ddb.cause(
                "Requested resource not found",
                400,
                "ResourceNotFoundException",
                "R1"
            ),
            "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error \
             Code: ResourceNotFoundException; Request ID: R1; Proxy: null)"
        );
        assert_eq!(header_spelling("content-type"), "Content-Type");
        assert_eq!(header_spelling("x-amzn-requestid"), "x-amzn-RequestId");
    }

    #[test]
    fn the_new_integrations_call_their_models_and_name_errors_with_their_prefix() {
        let models = crate::model::Models::bundled();
        for (service, action, exception, error) in [
            (
                "emr-serverless",
                "startJobRun",
                "ValidationException",
                "EMRServerless.ValidationException",
            ),
            (
                "emr-containers",
                "startJobRun",
                "ValidationException",
                "EMRContainers.ValidationException",
            ),
            (
                "eks",
                "createCluster",
                "ResourceInUseException",
                "EKS.ResourceInUseException",
            ),
            (
                "databrew",
                "startJobRun",
                "ResourceNotFoundException",
                "GlueDataBrew.ResourceNotFoundException",
            ),
            (
                "bedrock",
                "createModelCustomizationJob",
                "ValidationException",
                "Bedrock.ValidationException",
            ),
            (
                "sagemaker",
                "createEndpoint",
                "ResourceLimitExceeded",
                "SageMaker.ResourceLimitExceededException",
            ),
        ] {
            let o = Optimized::find(service, action).unwrap_or_else(|| panic!("{service}"));
            let model = models.get(o.model).unwrap_or_else(|| panic!("{}", o.model));
            assert!(
                model.shapes.contains_key(exception),
                "{service}: {exception}"
            );
            assert_eq!(o.error_name(Some(exception)), error);
            for a in o.actions {
                let (api, _) = o.api_call(a, json!({}));
                assert!(model.operation(&api).is_some(), "{service}:{api}");
            }
        }
        let eks = Optimized::find("eks", "deleteCluster").expect("eks");
        assert_eq!(eks.error_name(None), "EKS.AmazonEKSException");
        assert!(
            eks.cause("m", 404, "ResourceNotFoundException", "r")
                .contains("Service: AmazonEKS;")
        );
        assert!(Optimized::find("eks", "runJob").is_none());
        assert!(Optimized::find("eks", "call").is_none());
        let invoke = Optimized::find("bedrock", "invokeModel").expect("invoke");
        assert_eq!(invoke.model, "bedrockruntime");
        let custom = Optimized::find("bedrock", "createModelCustomizationJob").expect("custom");
        assert_eq!(
            (custom.model, custom.sdk_service),
            ("bedrock", "AmazonBedrock")
        );
    }

    #[test]
    fn emr_serverless_application_actions_answer_their_application_id() {
        let emr = Optimized::find("emr-serverless", "stopApplication").expect("emr-serverless");
        for action in ["startApplication", "stopApplication", "deleteApplication"] {
            let mut result = json!({});
            emr.complete(action, &json!({"ApplicationId": "00f1"}), &mut result);
            assert_eq!(result, json!({"ApplicationId": "00f1"}), "{action}");
        }
        let mut run = json!({"ApplicationId": "00f1", "JobRunId": "jr", "Arn": "a"});
        emr.complete("startJobRun", &json!({"ApplicationId": "other"}), &mut run);
        assert_eq!(
            run["ApplicationId"], "00f1",
            "startJobRun answers as the API does"
        );
    }

    #[test]
    fn codebuild_idempotency_tokens_are_filled_unless_given() {
        let cb = Optimized::find("codebuild", "startBuild").expect("codebuild");
        for action in [
            "startBuild",
            "startBuildBatch",
            "retryBuild",
            "retryBuildBatch",
        ] {
            assert_eq!(
                cb.with_token(action, json!({"ProjectName": "p"}), Some("t-1")),
                json!({"ProjectName": "p", "IdempotencyToken": "t-1"}),
                "{action}"
            );
        }
        let given = json!({"ProjectName": "p", "IdempotencyToken": "mine"});
        assert_eq!(
            cb.with_token("startBuild", given.clone(), Some("t-1")),
            given
        );
        assert_eq!(
            cb.with_token("startBuild", json!({"ProjectName": "p"}), None),
            json!({"ProjectName": "p"})
        );
        assert_eq!(
            cb.with_token("stopBuild", json!({"Id": "b"}), Some("t-1")),
            json!({"Id": "b"})
        );
        // Glue's StartJobRun and Batch's SubmitJob have no token to fill.
        let models = crate::model::Models::bundled();
        for (service, op) in [("glue", "startJobRun"), ("batch", "submitJob")] {
            let o = Optimized::find(service, op).expect("integration");
            assert!(o.tokens.is_empty());
            let model = models.get(o.model).expect("model");
            let operation = model.operation(op).expect("operation");
            assert!(
                crate::protocol::with_idempotency_tokens(&model, operation, &json!({}), || {
                    unreachable!()
                })
                .is_none(),
                "{service}"
            );
        }
        // The model marks the tokens of EMR Serverless's, EMR on EKS's, EKS's and Bedrock's
        // start actions: those are filled by the protocol layer.
        for (model_name, op) in [
            ("emrserverless", "startJobRun"),
            ("emrserverless", "createApplication"),
            ("emrcontainers", "startJobRun"),
            ("eks", "createCluster"),
            ("eks", "createNodegroup"),
            ("bedrock", "createModelCustomizationJob"),
        ] {
            let model = models.get(model_name).expect("model");
            let operation = model.operation(op).expect("operation");
            let filled =
                crate::protocol::with_idempotency_tokens(&model, operation, &json!({}), || {
                    "stable".into()
                });
            assert!(filled.is_some(), "{model_name}:{op}");
        }
    }
}
