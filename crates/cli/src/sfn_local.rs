//! Step Functions Local's command-line options, which `serve` and `run` take as it does: the
//! long forms (`--lambda-endpoint URL`) as flags, and its single-dash forms (`-lambdaEndpoint
//! URL`) rewritten to them before parsing.

use std::collections::BTreeMap;

/// The endpoints of the services a Task reaches (Step Functions Local's `--*-endpoint`
/// options). Each wins over its environment variable and over `[aws.endpoints]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EndpointFlags {
    /// The Lambda Invoke API (LAMBDA_ENDPOINT).
    #[arg(long, value_name = "URL")]
    lambda_endpoint: Option<String>,
    /// AWS Batch (BATCH_ENDPOINT).
    #[arg(long, value_name = "URL")]
    batch_endpoint: Option<String>,
    /// DynamoDB (DYNAMODB_ENDPOINT).
    #[arg(long, value_name = "URL")]
    dynamodb_endpoint: Option<String>,
    /// Amazon ECS (ECS_ENDPOINT).
    #[arg(long, value_name = "URL")]
    ecs_endpoint: Option<String>,
    /// AWS Glue (GLUE_ENDPOINT).
    #[arg(long, value_name = "URL")]
    glue_endpoint: Option<String>,
    /// SageMaker (SAGE_MAKER_ENDPOINT).
    #[arg(long, value_name = "URL")]
    sagemaker_endpoint: Option<String>,
    /// Amazon SQS (SQS_ENDPOINT).
    #[arg(long, value_name = "URL")]
    sqs_endpoint: Option<String>,
    /// Amazon SNS (SNS_ENDPOINT).
    #[arg(long, value_name = "URL")]
    sns_endpoint: Option<String>,
    /// Step Functions, for aws-sdk:sfn:* and nested executions' SDK calls
    /// (STEP_FUNCTIONS_ENDPOINT).
    #[arg(long, value_name = "URL")]
    step_functions_endpoint: Option<String>,
}

impl EndpointFlags {
    /// By Task service name, as `[aws.endpoints]` names them.
    pub fn by_service(&self) -> BTreeMap<String, String> {
        [
            ("lambda", &self.lambda_endpoint),
            ("batch", &self.batch_endpoint),
            ("dynamodb", &self.dynamodb_endpoint),
            ("ecs", &self.ecs_endpoint),
            ("glue", &self.glue_endpoint),
            ("sagemaker", &self.sagemaker_endpoint),
            ("sqs", &self.sqs_endpoint),
            ("sns", &self.sns_endpoint),
            ("sfn", &self.step_functions_endpoint),
        ]
        .into_iter()
        .filter_map(|(service, url)| Some((service.to_owned(), url.clone()?)))
        .collect()
    }
}

/// Step Functions Local's single-dash options and the long ones they are.
const SINGLE_DASH: &[(&str, &str)] = &[
    ("-account", "--aws-account"),
    ("-region", "--aws-region"),
    ("-waitTimeScale", "--wait-time-scale"),
    ("-lambdaEndpoint", "--lambda-endpoint"),
    ("-batchEndpoint", "--batch-endpoint"),
    ("-dynamoDBEndpoint", "--dynamodb-endpoint"),
    ("-ecsEndpoint", "--ecs-endpoint"),
    ("-glueEndpoint", "--glue-endpoint"),
    ("-sageMakerEndpoint", "--sagemaker-endpoint"),
    ("-sqsEndpoint", "--sqs-endpoint"),
    ("-snsEndpoint", "--sns-endpoint"),
    ("-stepFunctionsEndpoint", "--step-functions-endpoint"),
];

/// The arguments with Step Functions Local's single-dash options in their long form.
pub fn long_forms(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .map(|a| {
            SINGLE_DASH
                .iter()
                .find(|(short, _)| *short == a)
                .map_or(a, |(_, long)| (*long).to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_options_become_long_ones() {
        let args = [
            "stepwise",
            "serve",
            "-dynamoDBEndpoint",
            "http://x",
            "-region",
            "eu-west-1",
        ];
        assert_eq!(
            long_forms(args.map(String::from)),
            [
                "stepwise",
                "serve",
                "--dynamodb-endpoint",
                "http://x",
                "--aws-region",
                "eu-west-1"
            ]
        );
    }
}
