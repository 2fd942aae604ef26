//! Task `Resource` ARNs: which integration a Resource names, and whether AWS offers it.
//!
//! The optimized integrations (`arn:aws:states:::SERVICE:ACTION[.PATTERN]`) are listed as data
//! from the AWS Step Functions developer guide; `aws-sdk:SERVICE:ACTION` takes any action. AWS
//! also accepts an integration's ARN with a region and account in it; it names the same
//! integration. Every crate that routes a Task asks [`classify`], so no two disagree.

/// What a Task `Resource` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
    Activity,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`.
    LambdaFunction,
    /// `arn:aws:states:::SERVICE:ACTION[.sync|.sync:2|.waitForTaskToken]`, also with a region
    /// and account (`arn:aws:states:REGION:ACCOUNT:SERVICE:ACTION...`).
    Service(ServiceIntegration),
}

/// An optimized or SDK service integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIntegration {
    pub service: String,
    pub action: String,
    pub pattern: Pattern,
    /// `aws-sdk:SERVICE:ACTION`.
    pub sdk: bool,
}

/// The service integration pattern, from the Resource's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    RequestResponse,
    /// `.sync`
    Sync,
    /// `.sync:2`
    Sync2,
    /// `.waitForTaskToken`
    WaitForTaskToken,
}

impl Pattern {
    pub fn is_sync(self) -> bool {
        matches!(self, Pattern::Sync | Pattern::Sync2)
    }
}

/// Which patterns an optimized integration's action supports.
#[derive(Debug, Clone, Copy)]
struct Patterns {
    sync: bool,
    sync2: bool,
    token: bool,
}

const RR: Patterns = Patterns {
    sync: false,
    sync2: false,
    token: false,
};
const TOKEN: Patterns = Patterns {
    sync: false,
    sync2: false,
    token: true,
};
const SYNC: Patterns = Patterns {
    sync: true,
    sync2: false,
    token: false,
};
const SYNC_TOKEN: Patterns = Patterns {
    sync: true,
    sync2: false,
    token: true,
};
const ALL: Patterns = Patterns {
    sync: true,
    sync2: true,
    token: true,
};

/// (service, action, supported patterns).
const OPTIMIZED: &[(&str, &str, Patterns)] = &[
    ("lambda", "invoke", TOKEN),
    ("states", "startExecution", ALL),
    ("sns", "publish", TOKEN),
    ("sqs", "sendMessage", TOKEN),
    ("events", "putEvents", TOKEN),
    ("apigateway", "invoke", TOKEN),
    ("http", "invoke", RR),
    ("dynamodb", "getItem", RR),
    ("dynamodb", "putItem", RR),
    ("dynamodb", "updateItem", RR),
    ("dynamodb", "deleteItem", RR),
    ("batch", "submitJob", SYNC_TOKEN),
    ("ecs", "runTask", SYNC_TOKEN),
    ("glue", "startJobRun", SYNC_TOKEN),
    ("databrew", "startJobRun", SYNC),
    ("codebuild", "startBuild", SYNC_TOKEN),
    ("codebuild", "stopBuild", TOKEN),
    ("codebuild", "batchDeleteBuilds", TOKEN),
    ("codebuild", "batchGetReports", TOKEN),
    ("codebuild", "startBuildBatch", SYNC_TOKEN),
    ("codebuild", "stopBuildBatch", TOKEN),
    ("codebuild", "retryBuildBatch", SYNC_TOKEN),
    ("codebuild", "retryBuild", SYNC_TOKEN),
    ("codebuild", "deleteBuildBatch", TOKEN),
    ("athena", "startQueryExecution", SYNC_TOKEN),
    ("athena", "stopQueryExecution", TOKEN),
    ("athena", "getQueryExecution", TOKEN),
    ("athena", "getQueryResults", TOKEN),
    ("athena", "startSessionQueryExecution", SYNC_TOKEN),
    ("elasticmapreduce", "createCluster", SYNC_TOKEN),
    ("elasticmapreduce", "terminateCluster", SYNC_TOKEN),
    ("elasticmapreduce", "addStep", SYNC_TOKEN),
    ("elasticmapreduce", "cancelStep", TOKEN),
    ("elasticmapreduce", "setClusterTerminationProtection", TOKEN),
    ("elasticmapreduce", "modifyInstanceFleetByName", TOKEN),
    ("elasticmapreduce", "modifyInstanceGroupByName", TOKEN),
    ("emr-containers", "startJobRun", SYNC_TOKEN),
    ("emr-containers", "createVirtualCluster", RR),
    ("emr-containers", "deleteVirtualCluster", SYNC),
    ("emr-serverless", "createApplication", SYNC),
    ("emr-serverless", "startApplication", SYNC),
    ("emr-serverless", "stopApplication", SYNC),
    ("emr-serverless", "deleteApplication", SYNC),
    ("emr-serverless", "startJobRun", SYNC),
    ("emr-serverless", "cancelJobRun", SYNC),
    ("eks", "createCluster", SYNC_TOKEN),
    ("eks", "deleteCluster", SYNC_TOKEN),
    ("eks", "createFargateProfile", SYNC_TOKEN),
    ("eks", "deleteFargateProfile", SYNC_TOKEN),
    ("eks", "createNodegroup", SYNC_TOKEN),
    ("eks", "deleteNodegroup", SYNC_TOKEN),
    ("eks", "runJob", SYNC_TOKEN),
    ("eks", "call", RR),
    ("sagemaker", "createEndpoint", TOKEN),
    ("sagemaker", "createEndpointConfig", TOKEN),
    ("sagemaker", "createHyperParameterTuningJob", SYNC_TOKEN),
    ("sagemaker", "createLabelingJob", SYNC_TOKEN),
    ("sagemaker", "createModel", TOKEN),
    ("sagemaker", "createProcessingJob", SYNC_TOKEN),
    ("sagemaker", "createTrainingJob", SYNC_TOKEN),
    ("sagemaker", "createTransformJob", SYNC_TOKEN),
    ("sagemaker", "updateEndpoint", TOKEN),
    ("mediaconvert", "createJob", SYNC_TOKEN),
    ("bedrock", "invokeModel", TOKEN),
    ("bedrock", "createModelCustomizationJob", SYNC_TOKEN),
    ("glue", "startCrawler", RR),
    // Distributed Map ItemReader / ResultWriter.
    ("s3", "getObject", RR),
    ("s3", "listObjectsV2", RR),
    ("s3", "putObject", RR),
];

/// The integrations (service, action) an ItemReader may name, request-response only.
pub(crate) const ITEM_READER_RESOURCES: &[(&str, &str)] =
    &[("s3", "getObject"), ("s3", "listObjectsV2")];
/// The integrations a ResultWriter may name.
pub(crate) const RESULT_WRITER_RESOURCES: &[(&str, &str)] = &[("s3", "putObject")];

/// True when the text has an ARN's shape (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`),
/// whether or not it names anything.
pub fn looks_like_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.split(':').count() >= 6
}

/// The request fields an optimized integration cannot do without (a `Field.$` counts).
pub(crate) fn required_parameters(integration: &ServiceIntegration) -> &'static [&'static str] {
    if integration.sdk {
        return &[];
    }
    match (integration.service.as_str(), integration.action.as_str()) {
        ("lambda", "invoke") => &["FunctionName"],
        ("sqs", "sendMessage") => &["QueueUrl", "MessageBody"],
        ("sns", "publish") => &["Message"],
        ("dynamodb", "putItem") => &["TableName", "Item"],
        ("dynamodb", "getItem" | "deleteItem" | "updateItem") => &["TableName", "Key"],
        ("states", "startExecution") => &["StateMachineArn"],
        ("events", "putEvents") => &["Entries"],
        ("ecs", "runTask") => &["TaskDefinition"],
        ("glue", "startJobRun") => &["JobName"],
        ("batch", "submitJob") => &["JobName", "JobQueue", "JobDefinition"],
        ("http" | "apigateway", "invoke") => &["ApiEndpoint", "Method"],
        _ => &[],
    }
}

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"];

/// What a Resource names, or `None` when AWS would not recognise it.
pub fn classify(arn: &str) -> Option<Resource> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, rest] = parts.as_slice() else {
        return None;
    };
    if *scheme != "arn" || !PARTITIONS.contains(partition) {
        return None;
    }
    match *service {
        "lambda" => {
            let name = rest.strip_prefix("function:")?;
            (!region.is_empty() && !account.is_empty() && !name.is_empty())
                .then_some(Resource::LambdaFunction)
        }
        // AWS takes a region and account in an integration's ARN too
        // (`arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject`); only `activity:`
        // names an activity, and only with a region or account.
        "states" => match rest.strip_prefix("activity:") {
            Some(name) if !(region.is_empty() && account.is_empty()) => {
                (!name.is_empty()).then_some(Resource::Activity)
            }
            Some(_) => None,
            None => service_integration(rest),
        },
        _ => None,
    }
}

impl Resource {
    /// The service integration, when the Resource names one.
    pub fn integration(&self) -> Option<&ServiceIntegration> {
        match self {
            Resource::Service(s) => Some(s),
            _ => None,
        }
    }
}

impl ServiceIntegration {
    /// True for the optimized integration `service:action` (not an `aws-sdk:` one), whatever
    /// its pattern.
    pub fn is(&self, service: &str, action: &str) -> bool {
        !self.sdk && self.service == service && self.action == action
    }
}

fn service_integration(rest: &str) -> Option<Resource> {
    let (base, pattern) = if let Some(b) = rest.strip_suffix(".sync:2") {
        (b, Pattern::Sync2)
    } else if let Some(b) = rest.strip_suffix(".sync") {
        (b, Pattern::Sync)
    } else if let Some(b) = rest.strip_suffix(".waitForTaskToken") {
        (b, Pattern::WaitForTaskToken)
    } else {
        (rest, Pattern::RequestResponse)
    };
    if let Some(sdk) = base.strip_prefix("aws-sdk:") {
        let (service, action) = sdk.split_once(':')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        };
        // SDK integrations support request-response and the callback pattern, not `.sync`.
        if !valid(service) || !valid(action) || pattern.is_sync() {
            return None;
        }
        return Some(Resource::Service(ServiceIntegration {
            service: service.to_owned(),
            action: action.to_owned(),
            pattern,
            sdk: true,
        }));
    }
    let (service, action) = base.split_once(':')?;
    let (_, _, patterns) = OPTIMIZED
        .iter()
        .find(|(s, a, _)| *s == service && *a == action)?;
    let supported = match pattern {
        Pattern::RequestResponse => true,
        Pattern::Sync => patterns.sync,
        Pattern::Sync2 => patterns.sync2,
        Pattern::WaitForTaskToken => patterns.token,
    };
    supported.then(|| {
        Resource::Service(ServiceIntegration {
            service: service.to_owned(),
            action: action.to_owned(),
            pattern,
            sdk: false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_integrations() {
        assert_eq!(
            classify("arn:aws:states:us-east-1:123456789012:activity:work"),
            Some(Resource::Activity)
        );
        assert_eq!(
            classify("arn:aws:lambda:us-east-1:123456789012:function:f"),
            Some(Resource::LambdaFunction)
        );
        assert!(classify("arn:aws:states:::lambda:invoke").is_some());
        assert!(classify("arn:aws:states:::lambda:invoke.waitForTaskToken").is_some());
        assert!(classify("arn:aws:states:::states:startExecution.sync:2").is_some());
        assert!(classify("arn:aws:states:::aws-sdk:s3:listObjectsV2").is_some());
        match classify("arn:aws:states:::sqs:sendMessage.waitForTaskToken") {
            Some(Resource::Service(s)) => {
                assert_eq!(s.pattern, Pattern::WaitForTaskToken);
                assert_eq!(s.service, "sqs");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_integration_arn_may_carry_a_region_and_account() {
        let integration = |arn: &str| match classify(arn) {
            Some(Resource::Service(s)) => s,
            other => panic!("{arn}: {other:?}"),
        };
        let s = integration("arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject");
        assert!(s.sdk);
        assert_eq!((s.service.as_str(), s.action.as_str()), ("s3", "getObject"));
        let s =
            integration("arn:aws:states:us-east-1:123456789012:athena:startQueryExecution.sync");
        assert!(s.is("athena", "startQueryExecution"));
        assert_eq!(s.pattern, Pattern::Sync);
        let s = integration("arn:aws:states:eu-west-1:123456789012:lambda:invoke.waitForTaskToken");
        assert!(s.is("lambda", "invoke"));
        assert_eq!(s.pattern, Pattern::WaitForTaskToken);
        // The same rules as the short form.
        for arn in [
            "arn:aws:states:us-east-1:123456789012:dynamodb:query",
            "arn:aws:states:us-east-1:123456789012:lambda:invoke.sync",
            "arn:aws:states:us-east-1:123456789012:aws-sdk:s3:getObject.sync",
            "arn:aws:states:us-east-1:123456789012:activity:",
            "arn:aws:states:::activity:work",
        ] {
            assert_eq!(classify(arn), None, "{arn}");
        }
    }

    #[test]
    fn rejects_what_aws_does_not_offer() {
        assert_eq!(classify("arn:aws:states:::dynamodb:query"), None);
        assert_eq!(classify("arn:aws:states:::lambda:invoke.sync"), None);
        assert_eq!(classify("arn:aws:states:::nosuch:thing"), None);
        assert_eq!(classify("not an arn"), None);
        assert_eq!(classify("arn:aws:states:::aws-sdk:s3"), None);
        assert_eq!(
            classify("arn:aws:lambda:us-east-1:123456789012:layer:x"),
            None
        );
    }
}
