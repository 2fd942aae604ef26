//! The Run a Job (`.sync`) pattern of the optimized integrations that start a job (`KINDS`:
//! Glue, Athena, Batch, ECS, CodeBuild's builds and build batches, EMR, EMR Serverless, EMR on
//! EKS, EKS, Glue DataBrew, SageMaker's training, transform, tuning, labeling and processing
//! jobs, Bedrock's model customization jobs). The start call is the request-response
//! integration's; what it started is named by a [`JobRef`] (kept by the caller, so that polling
//! can carry on after a restart without starting the job again); [`AwsClient::poll_job`]
//! describes the job once and says whether it is over, with the task's result or failure;
//! [`AwsClient::stop_job`] stops it when the task ends some other way.
//!
//! Results are the describe action's, as Step Functions gives them: Glue's `JobRun`, Athena's
//! `{QueryExecution}`, Batch's job detail, ECS's task, CodeBuild's `{Build}` or `{BuildBatch}`,
//! timestamps as epoch milliseconds. The guide does not say what EMR's, EMR on EKS's, EKS's,
//! DataBrew's, SageMaker's and Bedrock's are: the describe answers too. EMR Serverless's are
//! the start call's answer (the guide: no differences in the responses; only the wait), and an
//! EKS deletion's, whose resource is gone at the end, the delete call's answer. Clusters,
//! applications, virtual clusters and EKS resources are never deleted or stopped by Stepwise
//! (as the guide says of EKS clusters); steps, job runs, builds and jobs are. A job that ends in
//! any other state than success fails the task with `States.TaskFailed` and that same
//! description (as JSON text) as the cause.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::Caller;
use crate::{AwsClient, AwsError, Optimized};

/// The integrations with a `.sync` pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Glue,
    Athena,
    Batch,
    Ecs,
    CodeBuild,
    /// `elasticmapreduce:createCluster`: waits for the cluster to be ready (WAITING/RUNNING).
    EmrCluster,
    /// `elasticmapreduce:addStep`: waits for the step to end.
    EmrStep,
    /// `elasticmapreduce:terminateCluster`: waits for the cluster to be terminated.
    EmrTermination,
    SageMakerTraining,
    SageMakerTransform,
    SageMakerTuning,
    SageMakerLabeling,
    SageMakerProcessing,
    /// `codebuild:retryBuild`: a build, as `startBuild`'s.
    CodeBuildRetry,
    /// `codebuild:startBuildBatch`.
    CodeBuildBatch,
    /// `codebuild:retryBuildBatch`: a build batch, as `startBuildBatch`'s.
    CodeBuildBatchRetry,
    /// `databrew:startJobRun`.
    DataBrew,
    /// `bedrock:createModelCustomizationJob`.
    BedrockCustomization,
    /// `emr-serverless:createApplication`: waits for the application to be `CREATED`.
    EmrServerlessCreate,
    /// `emr-serverless:startApplication`: waits for `STARTED`.
    EmrServerlessStart,
    /// `emr-serverless:stopApplication`: waits for `STOPPED`.
    EmrServerlessStop,
    /// `emr-serverless:deleteApplication`: waits for `TERMINATED`.
    EmrServerlessDelete,
    /// `emr-serverless:startJobRun`: waits for the run's `SUCCESS`.
    EmrServerlessJobRun,
    /// `emr-serverless:cancelJobRun`: waits for the run to be `CANCELLED`.
    EmrServerlessCancel,
    /// `emr-containers:startJobRun`: waits for the run to be `COMPLETED`.
    EmrContainersJobRun,
    /// `emr-containers:deleteVirtualCluster`: waits for the virtual cluster to be `TERMINATED`.
    EmrContainersDelete,
    /// `eks:createCluster`: waits for the cluster to be `ACTIVE`.
    EksCluster,
    /// `eks:deleteCluster`: waits for the cluster to be gone.
    EksClusterDelete,
    /// `eks:createNodegroup`: waits for `ACTIVE`.
    EksNodegroup,
    /// `eks:deleteNodegroup`: waits for the node group to be gone.
    EksNodegroupDelete,
    /// `eks:createFargateProfile`: waits for `ACTIVE`.
    EksFargateProfile,
    /// `eks:deleteFargateProfile`: waits for the profile to be gone.
    EksFargateProfileDelete,
}

/// Each kind's integration `service:action`.
const KINDS: &[(JobKind, &str, &str)] = &[
    (JobKind::Glue, "glue", "startJobRun"),
    (JobKind::Athena, "athena", "startQueryExecution"),
    (JobKind::Batch, "batch", "submitJob"),
    (JobKind::Ecs, "ecs", "runTask"),
    (JobKind::CodeBuild, "codebuild", "startBuild"),
    (JobKind::CodeBuildRetry, "codebuild", "retryBuild"),
    (JobKind::CodeBuildBatch, "codebuild", "startBuildBatch"),
    (JobKind::CodeBuildBatchRetry, "codebuild", "retryBuildBatch"),
    (JobKind::EmrCluster, "elasticmapreduce", "createCluster"),
    (JobKind::EmrStep, "elasticmapreduce", "addStep"),
    (
        JobKind::EmrTermination,
        "elasticmapreduce",
        "terminateCluster",
    ),
    (JobKind::SageMakerTraining, "sagemaker", "createTrainingJob"),
    (
        JobKind::SageMakerTransform,
        "sagemaker",
        "createTransformJob",
    ),
    (
        JobKind::SageMakerTuning,
        "sagemaker",
        "createHyperParameterTuningJob",
    ),
    (JobKind::SageMakerLabeling, "sagemaker", "createLabelingJob"),
    (
        JobKind::SageMakerProcessing,
        "sagemaker",
        "createProcessingJob",
    ),
    (JobKind::DataBrew, "databrew", "startJobRun"),
    (
        JobKind::BedrockCustomization,
        "bedrock",
        "createModelCustomizationJob",
    ),
    (
        JobKind::EmrServerlessCreate,
        "emr-serverless",
        "createApplication",
    ),
    (
        JobKind::EmrServerlessStart,
        "emr-serverless",
        "startApplication",
    ),
    (
        JobKind::EmrServerlessStop,
        "emr-serverless",
        "stopApplication",
    ),
    (
        JobKind::EmrServerlessDelete,
        "emr-serverless",
        "deleteApplication",
    ),
    (
        JobKind::EmrServerlessJobRun,
        "emr-serverless",
        "startJobRun",
    ),
    (
        JobKind::EmrServerlessCancel,
        "emr-serverless",
        "cancelJobRun",
    ),
    (
        JobKind::EmrContainersJobRun,
        "emr-containers",
        "startJobRun",
    ),
    (
        JobKind::EmrContainersDelete,
        "emr-containers",
        "deleteVirtualCluster",
    ),
    (JobKind::EksCluster, "eks", "createCluster"),
    (JobKind::EksClusterDelete, "eks", "deleteCluster"),
    (JobKind::EksNodegroup, "eks", "createNodegroup"),
    (JobKind::EksNodegroupDelete, "eks", "deleteNodegroup"),
    (JobKind::EksFargateProfile, "eks", "createFargateProfile"),
    (
        JobKind::EksFargateProfileDelete,
        "eks",
        "deleteFargateProfile",
    ),
];

/// A job a `.sync` task started: enough to describe and stop it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    pub kind: JobKind,
    pub region: String,
    /// Glue's run id, Athena's query execution id, Batch's job id, ECS's task ARNs,
    /// CodeBuild's build id.
    pub ids: Vec<String>,
    /// Glue's job name; ECS's cluster (none: the default cluster).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The role the task's `Credentials.RoleArn` named: the job is described and stopped as it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The start call's answer, for the kinds whose `.sync` result it is (EMR Serverless's,
    /// whose guide says the responses do not differ) or whose job leaves nothing to describe
    /// (EKS's deletions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Value>,
}

/// What describing a job found.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    /// Not over yet.
    Running,
    /// Over and successful: the task's result.
    Succeeded(Value),
    /// Over otherwise: the task fails with this error and cause.
    Failed { error: String, cause: String },
}

impl JobKind {
    /// The integration `service:action` starts a job Stepwise can wait for (`.sync`).
    pub fn of(service: &str, action: &str) -> Option<JobKind> {
        KINDS
            .iter()
            .find(|(_, s, a)| *s == service && *a == action)
            .map(|(k, _, _)| *k)
    }

    fn entry(self) -> &'static (JobKind, &'static str, &'static str) {
        KINDS
            .iter()
            .find(|(k, _, _)| *k == self)
            .expect("every job kind is in KINDS")
    }

    fn service(self) -> &'static str {
        self.entry().1
    }

    fn start_action(self) -> &'static str {
        self.entry().2
    }

    /// Kinds whose `.sync` result is the start call's answer.
    fn answers_with_start(self) -> bool {
        matches!(
            self,
            JobKind::EmrServerlessCreate
                | JobKind::EmrServerlessStart
                | JobKind::EmrServerlessStop
                | JobKind::EmrServerlessDelete
                | JobKind::EmrServerlessJobRun
                | JobKind::EmrServerlessCancel
                | JobKind::EksClusterDelete
                | JobKind::EksNodegroupDelete
                | JobKind::EksFargateProfileDelete
        )
    }

    /// Kinds that wait for their resource to be gone: a describe answered "not found" ends them.
    fn ends_when_gone(self) -> bool {
        matches!(
            self,
            JobKind::EmrServerlessDelete
                | JobKind::EmrContainersDelete
                | JobKind::EksClusterDelete
                | JobKind::EksNodegroupDelete
                | JobKind::EksFargateProfileDelete
        )
    }

    fn integration(self) -> &'static Optimized {
        Optimized::find(self.service(), self.start_action())
            .expect("every job kind is an optimized integration")
    }

    /// The job a start call's answer names.
    fn job_of(self, params: &Value, started: &Value, region: &str) -> Result<JobRef, String> {
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let (ids, scope): (Vec<String>, Option<String>) = match self {
            JobKind::Glue => (
                text(&started["JobRunId"]).into_iter().collect(),
                text(&params["JobName"]),
            ),
            JobKind::Athena => (
                text(&started["QueryExecutionId"]).into_iter().collect(),
                None,
            ),
            JobKind::Batch => (text(&started["JobId"]).into_iter().collect(), None),
            JobKind::Ecs => (
                started["Tasks"]
                    .as_array()
                    .map(|tasks| tasks.iter().filter_map(|t| text(&t["TaskArn"])).collect())
                    .unwrap_or_default(),
                text(&params["Cluster"]),
            ),
            JobKind::CodeBuild => (text(&started["Build"]["Id"]).into_iter().collect(), None),
            JobKind::EmrCluster => (text(&started["ClusterId"]).into_iter().collect(), None),
            JobKind::EmrStep => (
                text(&started["StepId"]).into_iter().collect(),
                text(&params["ClusterId"]),
            ),
            // TerminateJobFlows answers nothing: the cluster is the one the parameters name.
            JobKind::EmrTermination => (text(&params["ClusterId"]).into_iter().collect(), None),
            JobKind::SageMakerTraining => {
                (text(&params["TrainingJobName"]).into_iter().collect(), None)
            }
            JobKind::SageMakerTransform => (
                text(&params["TransformJobName"]).into_iter().collect(),
                None,
            ),
            JobKind::SageMakerTuning => (
                text(&params["HyperParameterTuningJobName"])
                    .into_iter()
                    .collect(),
                None,
            ),
            JobKind::SageMakerLabeling => {
                (text(&params["LabelingJobName"]).into_iter().collect(), None)
            }
            JobKind::SageMakerProcessing => (
                text(&params["ProcessingJobName"]).into_iter().collect(),
                None,
            ),
            JobKind::CodeBuildRetry => (text(&started["Build"]["Id"]).into_iter().collect(), None),
            JobKind::CodeBuildBatch | JobKind::CodeBuildBatchRetry => (
                text(&started["BuildBatch"]["Id"]).into_iter().collect(),
                None,
            ),
            JobKind::DataBrew => (
                text(&started["RunId"]).into_iter().collect(),
                text(&params["Name"]),
            ),
            JobKind::BedrockCustomization => (text(&started["JobArn"]).into_iter().collect(), None),
            JobKind::EmrServerlessCreate => {
                (text(&started["ApplicationId"]).into_iter().collect(), None)
            }
            JobKind::EmrServerlessStart
            | JobKind::EmrServerlessStop
            | JobKind::EmrServerlessDelete => {
                (text(&params["ApplicationId"]).into_iter().collect(), None)
            }
            JobKind::EmrServerlessJobRun => (
                text(&started["JobRunId"]).into_iter().collect(),
                text(&started["ApplicationId"]).or_else(|| text(&params["ApplicationId"])),
            ),
            JobKind::EmrServerlessCancel => (
                text(&params["JobRunId"]).into_iter().collect(),
                text(&params["ApplicationId"]),
            ),
            JobKind::EmrContainersJobRun => (
                text(&started["Id"]).into_iter().collect(),
                text(&started["VirtualClusterId"]).or_else(|| text(&params["VirtualClusterId"])),
            ),
            JobKind::EmrContainersDelete => (text(&params["Id"]).into_iter().collect(), None),
            JobKind::EksCluster | JobKind::EksClusterDelete => {
                (text(&params["Name"]).into_iter().collect(), None)
            }
            JobKind::EksNodegroup | JobKind::EksNodegroupDelete => (
                text(&params["NodegroupName"]).into_iter().collect(),
                text(&params["ClusterName"]),
            ),
            JobKind::EksFargateProfile | JobKind::EksFargateProfileDelete => (
                text(&params["FargateProfileName"]).into_iter().collect(),
                text(&params["ClusterName"]),
            ),
        };
        if ids.is_empty() {
            return Err(started.to_string());
        }
        Ok(JobRef {
            kind: self,
            region: region.to_owned(),
            ids,
            scope,
            role: None,
            answer: self.answers_with_start().then(|| started.clone()),
        })
    }
}

impl JobRef {
    /// The describe call: its action and parameters.
    fn describe(&self) -> (&'static str, Value) {
        let scope = self.scope.clone();
        match self.kind {
            JobKind::Glue => ("getJobRun", json!({"JobName": scope, "RunId": self.ids[0]})),
            JobKind::Athena => (
                "getQueryExecution",
                json!({"QueryExecutionId": self.ids[0]}),
            ),
            JobKind::Batch => ("describeJobs", json!({"Jobs": [self.ids[0]]})),
            JobKind::Ecs => {
                let mut p = json!({"Tasks": self.ids});
                if let Some(cluster) = scope {
                    p["Cluster"] = Value::String(cluster);
                }
                ("describeTasks", p)
            }
            JobKind::CodeBuild => ("batchGetBuilds", json!({"Ids": [self.ids[0]]})),
            JobKind::EmrCluster | JobKind::EmrTermination => {
                ("describeCluster", json!({"ClusterId": self.ids[0]}))
            }
            JobKind::EmrStep => (
                "describeStep",
                json!({"ClusterId": scope, "StepId": self.ids[0]}),
            ),
            JobKind::SageMakerTraining => (
                "describeTrainingJob",
                json!({"TrainingJobName": self.ids[0]}),
            ),
            JobKind::SageMakerTransform => (
                "describeTransformJob",
                json!({"TransformJobName": self.ids[0]}),
            ),
            JobKind::SageMakerTuning => (
                "describeHyperParameterTuningJob",
                json!({"HyperParameterTuningJobName": self.ids[0]}),
            ),
            JobKind::SageMakerLabeling => (
                "describeLabelingJob",
                json!({"LabelingJobName": self.ids[0]}),
            ),
            JobKind::SageMakerProcessing => (
                "describeProcessingJob",
                json!({"ProcessingJobName": self.ids[0]}),
            ),
            JobKind::CodeBuildRetry => ("batchGetBuilds", json!({"Ids": [self.ids[0]]})),
            JobKind::CodeBuildBatch | JobKind::CodeBuildBatchRetry => {
                ("batchGetBuildBatches", json!({"Ids": [self.ids[0]]}))
            }
            JobKind::DataBrew => (
                "describeJobRun",
                json!({"Name": scope, "RunId": self.ids[0]}),
            ),
            JobKind::BedrockCustomization => (
                "getModelCustomizationJob",
                json!({"JobIdentifier": self.ids[0]}),
            ),
            JobKind::EmrServerlessCreate
            | JobKind::EmrServerlessStart
            | JobKind::EmrServerlessStop
            | JobKind::EmrServerlessDelete => {
                ("getApplication", json!({"ApplicationId": self.ids[0]}))
            }
            JobKind::EmrServerlessJobRun | JobKind::EmrServerlessCancel => (
                "getJobRun",
                json!({"ApplicationId": scope, "JobRunId": self.ids[0]}),
            ),
            JobKind::EmrContainersJobRun => (
                "describeJobRun",
                json!({"Id": self.ids[0], "VirtualClusterId": scope}),
            ),
            JobKind::EmrContainersDelete => ("describeVirtualCluster", json!({"Id": self.ids[0]})),
            JobKind::EksCluster | JobKind::EksClusterDelete => {
                ("describeCluster", json!({"Name": self.ids[0]}))
            }
            JobKind::EksNodegroup | JobKind::EksNodegroupDelete => (
                "describeNodegroup",
                json!({"ClusterName": scope, "NodegroupName": self.ids[0]}),
            ),
            JobKind::EksFargateProfile | JobKind::EksFargateProfileDelete => (
                "describeFargateProfile",
                json!({"ClusterName": scope, "FargateProfileName": self.ids[0]}),
            ),
        }
    }

    /// The stop calls.
    fn stops(&self) -> Vec<(&'static str, Value)> {
        const REASON: &str = "Stopped by Stepwise: the Step Functions task that was waiting for \
                              this job ended before it";
        match self.kind {
            JobKind::Glue => vec![(
                "batchStopJobRun",
                json!({"JobName": self.scope, "JobRunIds": [self.ids[0]]}),
            )],
            JobKind::Athena => vec![(
                "stopQueryExecution",
                json!({"QueryExecutionId": self.ids[0]}),
            )],
            JobKind::Batch => vec![(
                "terminateJob",
                json!({"JobId": self.ids[0], "Reason": REASON}),
            )],
            JobKind::Ecs => self
                .ids
                .iter()
                .map(|task| {
                    let mut p = json!({"Task": task, "Reason": REASON});
                    if let Some(cluster) = &self.scope {
                        p["Cluster"] = Value::String(cluster.clone());
                    }
                    ("stopTask", p)
                })
                .collect(),
            JobKind::CodeBuild => vec![("stopBuild", json!({"Id": self.ids[0]}))],
            // As Step Functions, Stepwise does not terminate a cluster whose task ended before
            // it was ready (nor undo a termination): the workflow terminates its clusters.
            JobKind::EmrCluster | JobKind::EmrTermination => vec![],
            JobKind::EmrStep => vec![(
                "cancelSteps",
                json!({"ClusterId": self.scope, "StepIds": [self.ids[0]]}),
            )],
            JobKind::SageMakerTraining => {
                vec![("stopTrainingJob", json!({"TrainingJobName": self.ids[0]}))]
            }
            JobKind::SageMakerTransform => {
                vec![("stopTransformJob", json!({"TransformJobName": self.ids[0]}))]
            }
            JobKind::SageMakerTuning => vec![(
                "stopHyperParameterTuningJob",
                json!({"HyperParameterTuningJobName": self.ids[0]}),
            )],
            JobKind::SageMakerLabeling => {
                vec![("stopLabelingJob", json!({"LabelingJobName": self.ids[0]}))]
            }
            JobKind::SageMakerProcessing => vec![(
                "stopProcessingJob",
                json!({"ProcessingJobName": self.ids[0]}),
            )],
            JobKind::CodeBuildRetry => vec![("stopBuild", json!({"Id": self.ids[0]}))],
            JobKind::CodeBuildBatch | JobKind::CodeBuildBatchRetry => {
                vec![("stopBuildBatch", json!({"Id": self.ids[0]}))]
            }
            JobKind::DataBrew => vec![(
                "stopJobRun",
                json!({"Name": self.scope, "RunId": self.ids[0]}),
            )],
            JobKind::BedrockCustomization => vec![(
                "stopModelCustomizationJob",
                json!({"JobIdentifier": self.ids[0]}),
            )],
            JobKind::EmrServerlessJobRun => vec![(
                "cancelJobRun",
                json!({"ApplicationId": self.scope, "JobRunId": self.ids[0]}),
            )],
            JobKind::EmrContainersJobRun => vec![(
                "cancelJobRun",
                json!({"Id": self.ids[0], "VirtualClusterId": self.scope}),
            )],
            // An application, a virtual cluster or an EKS resource being created, started,
            // stopped or deleted is left as it is: the guide says Step Functions does not
            // terminate EKS clusters when the execution stops, and lists no stop for the others.
            JobKind::EmrServerlessCreate
            | JobKind::EmrServerlessStart
            | JobKind::EmrServerlessStop
            | JobKind::EmrServerlessDelete
            | JobKind::EmrServerlessCancel
            | JobKind::EmrContainersDelete
            | JobKind::EksCluster
            | JobKind::EksClusterDelete
            | JobKind::EksNodegroup
            | JobKind::EksNodegroupDelete
            | JobKind::EksFargateProfile
            | JobKind::EksFargateProfileDelete => vec![],
        }
    }

    /// What a describe answer says about the job.
    fn state_of(&self, described: Value) -> JobState {
        let failed = |v: &Value| JobState::Failed {
            error: "States.TaskFailed".into(),
            cause: v.to_string(),
        };
        let status = |v: &Value, member: &str| v[member].as_str().unwrap_or_default().to_owned();
        match self.kind {
            JobKind::Glue => {
                let run = described.get("JobRun").cloned().unwrap_or(Value::Null);
                match status(&run, "JobRunState").as_str() {
                    "SUCCEEDED" => JobState::Succeeded(run),
                    "STARTING" | "RUNNING" | "STOPPING" | "WAITING" | "" => JobState::Running,
                    _ => failed(&run),
                }
            }
            JobKind::Athena => {
                match status(&described["QueryExecution"]["Status"], "State").as_str() {
                    "SUCCEEDED" => JobState::Succeeded(described),
                    "FAILED" | "CANCELLED" => failed(&described),
                    _ => JobState::Running,
                }
            }
            JobKind::Batch => {
                let Some(job) = described["Jobs"].get(0).cloned() else {
                    return failed(&described);
                };
                match status(&job, "Status").as_str() {
                    "SUCCEEDED" => JobState::Succeeded(job),
                    "FAILED" => failed(&job),
                    _ => JobState::Running,
                }
            }
            JobKind::Ecs => {
                let tasks = described["Tasks"].as_array().cloned().unwrap_or_default();
                if tasks.is_empty() {
                    return failed(&described);
                }
                if tasks.iter().any(|t| status(t, "LastStatus") != "STOPPED") {
                    return JobState::Running;
                }
                // One task is the result itself; several are a list of them.
                let result = match tasks.as_slice() {
                    [one] => one.clone(),
                    _ => json!({"Tasks": tasks}),
                };
                // A task whose containers did not all exit with 0 (or never ran) failed.
                let ok = tasks.iter().all(|t| {
                    let containers = t["Containers"].as_array().cloned().unwrap_or_default();
                    let codes: Vec<Option<i64>> =
                        containers.iter().map(|c| c["ExitCode"].as_i64()).collect();
                    codes.iter().any(Option::is_some) && codes.iter().flatten().all(|c| *c == 0)
                });
                if ok {
                    JobState::Succeeded(result)
                } else {
                    failed(&result)
                }
            }
            JobKind::CodeBuild | JobKind::CodeBuildRetry => {
                let Some(build) = described["Builds"].get(0).cloned() else {
                    return failed(&described);
                };
                let result = json!({"Build": build});
                match status(&build, "BuildStatus").as_str() {
                    "SUCCEEDED" => JobState::Succeeded(result),
                    "IN_PROGRESS" | "" => JobState::Running,
                    _ => failed(&result),
                }
            }
            JobKind::EmrCluster => {
                match status(&described["Cluster"]["Status"], "State").as_str() {
                    "WAITING" | "RUNNING" => JobState::Succeeded(described),
                    "TERMINATING" | "TERMINATED" | "TERMINATED_WITH_ERRORS" => failed(&described),
                    _ => JobState::Running,
                }
            }
            JobKind::EmrTermination => {
                match status(&described["Cluster"]["Status"], "State").as_str() {
                    "TERMINATED" | "TERMINATED_WITH_ERRORS" => JobState::Succeeded(described),
                    _ => JobState::Running,
                }
            }
            JobKind::EmrStep => match status(&described["Step"]["Status"], "State").as_str() {
                "COMPLETED" => JobState::Succeeded(described),
                "FAILED" | "CANCELLED" | "INTERRUPTED" => failed(&described),
                _ => JobState::Running,
            },
            JobKind::SageMakerTraining
            | JobKind::SageMakerTransform
            | JobKind::SageMakerTuning
            | JobKind::SageMakerLabeling
            | JobKind::SageMakerProcessing => {
                let member = match self.kind {
                    JobKind::SageMakerTraining => "TrainingJobStatus",
                    JobKind::SageMakerTransform => "TransformJobStatus",
                    JobKind::SageMakerTuning => "HyperParameterTuningJobStatus",
                    JobKind::SageMakerLabeling => "LabelingJobStatus",
                    _ => "ProcessingJobStatus",
                };
                let s = status(&described, member);
                judge(&s, &["Completed"], &["Failed", "Stopped"], described)
            }
            JobKind::CodeBuildBatch | JobKind::CodeBuildBatchRetry => {
                let Some(batch) = described["BuildBatches"].get(0).cloned() else {
                    return failed(&described);
                };
                let s = status(&batch, "BuildBatchStatus");
                let result = json!({"BuildBatch": batch});
                match s.as_str() {
                    "IN_PROGRESS" | "" => JobState::Running,
                    _ => judge(&s, &["SUCCEEDED"], &[&s], result),
                }
            }
            JobKind::DataBrew => {
                let s = status(&described, "State");
                judge(
                    &s,
                    &["SUCCEEDED"],
                    &["FAILED", "STOPPED", "TIMEOUT"],
                    described,
                )
            }
            JobKind::BedrockCustomization => {
                let s = status(&described, "Status");
                judge(&s, &["Completed"], &["Failed", "Stopped"], described)
            }
            JobKind::EmrServerlessCreate
            | JobKind::EmrServerlessStart
            | JobKind::EmrServerlessStop
            | JobKind::EmrServerlessDelete => {
                let s = status(&described["Application"], "State");
                let (ok, bad): (&[&str], &[&str]) = match self.kind {
                    // Created, and perhaps already started since: anything but CREATING.
                    JobKind::EmrServerlessCreate => (
                        &["CREATED", "STARTING", "STARTED", "STOPPING", "STOPPED"],
                        &["TERMINATED"],
                    ),
                    JobKind::EmrServerlessStart => (&["STARTED"], &["STOPPED", "TERMINATED"]),
                    JobKind::EmrServerlessStop => (&["STOPPED"], &["TERMINATED"]),
                    _ => (&["TERMINATED"], &[]),
                };
                self.with_answer(judge(&s, ok, bad, described))
            }
            JobKind::EmrServerlessJobRun | JobKind::EmrServerlessCancel => {
                let s = status(&described["JobRun"], "State");
                let (ok, bad): (&[&str], &[&str]) = if self.kind == JobKind::EmrServerlessJobRun {
                    (&["SUCCESS"], &["FAILED", "CANCELLED"])
                } else {
                    (&["CANCELLED"], &["SUCCESS", "FAILED"])
                };
                self.with_answer(judge(&s, ok, bad, described))
            }
            JobKind::EmrContainersJobRun => {
                let s = status(&described["JobRun"], "State");
                judge(&s, &["COMPLETED"], &["FAILED", "CANCELLED"], described)
            }
            JobKind::EmrContainersDelete => {
                let s = status(&described["VirtualCluster"], "State");
                judge(&s, &["TERMINATED"], &[], described)
            }
            JobKind::EksCluster | JobKind::EksClusterDelete => {
                let s = status(&described["Cluster"], "Status");
                if self.kind == JobKind::EksCluster {
                    judge(&s, &["ACTIVE"], &["FAILED", "DELETING"], described)
                } else {
                    judge(&s, &[], &["FAILED"], described)
                }
            }
            JobKind::EksNodegroup | JobKind::EksNodegroupDelete => {
                let s = status(&described["Nodegroup"], "Status");
                if self.kind == JobKind::EksNodegroup {
                    let bad = ["CREATE_FAILED", "DELETING", "DEGRADED"];
                    judge(&s, &["ACTIVE"], &bad, described)
                } else {
                    judge(&s, &[], &["DELETE_FAILED"], described)
                }
            }
            JobKind::EksFargateProfile | JobKind::EksFargateProfileDelete => {
                let s = status(&described["FargateProfile"], "Status");
                if self.kind == JobKind::EksFargateProfile {
                    judge(&s, &["ACTIVE"], &["CREATE_FAILED", "DELETING"], described)
                } else {
                    judge(&s, &[], &["DELETE_FAILED"], described)
                }
            }
        }
    }

    /// A success whose result is the start call's answer, for the kinds that keep it.
    fn with_answer(&self, state: JobState) -> JobState {
        match (state, &self.answer) {
            (JobState::Succeeded(_), Some(answer)) => JobState::Succeeded(answer.clone()),
            (state, _) => state,
        }
    }

    /// The state of a job a describe found gone (not found): over, for the kinds that wait for
    /// their resource to go; its result the start call's answer when kept.
    fn gone(&self) -> JobState {
        JobState::Succeeded(self.answer.clone().unwrap_or_else(|| json!({})))
    }
}

/// A job's state from its status: over and successful when it is one of `ok` (the result
/// `described`), failed when one of `failed` (`described` as the cause), else still running.
fn judge(status: &str, ok: &[&str], failed: &[&str], described: Value) -> JobState {
    if ok.contains(&status) {
        JobState::Succeeded(described)
    } else if failed.contains(&status) {
        JobState::Failed {
            error: "States.TaskFailed".into(),
            cause: described.to_string(),
        }
    } else {
        JobState::Running
    }
}

impl JobRef {
    /// Who describes and stops the job: the region and role that started it.
    fn caller(&self) -> Caller<'_> {
        Caller {
            region: &self.region,
            account: None,
            role: self.role.as_deref(),
            idempotency: None,
        }
    }
}

impl AwsClient {
    /// Starts the job of a `.sync` task: the integration's start call. Answers the call's
    /// result (the task's TaskSubmitted output) and the job it started.
    pub async fn start_job(
        &self,
        kind: JobKind,
        params: &Value,
        caller: &Caller<'_>,
    ) -> Result<(Value, JobRef), AwsError> {
        let integration = kind.integration();
        let started = self
            .call_optimized(integration, kind.start_action(), params, caller)
            .await?;
        let mut job = kind
            .job_of(params, &started, caller.region)
            .map_err(|answer| AwsError::new("States.TaskFailed", answer))?;
        job.role = caller.role.map(str::to_owned);
        Ok((started, job))
    }

    /// Describes a job once.
    pub async fn poll_job(&self, job: &JobRef) -> Result<JobState, AwsError> {
        let (action, params) = job.describe();
        let described = self
            .call_optimized(job.kind.integration(), action, &params, &job.caller())
            .await;
        match described {
            Ok(described) => Ok(job.state_of(described)),
            Err(e) if job.kind.ends_when_gone() && is_not_found(&e) => Ok(job.gone()),
            Err(e) => Err(e),
        }
    }

    /// Stops a job (best effort: the first refusal is returned, the other calls still made).
    pub async fn stop_job(&self, job: &JobRef) -> Result<(), AwsError> {
        let mut outcome = Ok(());
        for (action, params) in job.stops() {
            let stopped = self
                .call_optimized(job.kind.integration(), action, &params, &job.caller())
                .await;
            if let (Err(e), Ok(())) = (stopped, &outcome) {
                outcome = Err(e);
            }
        }
        outcome
    }
}

/// A refusal saying the resource does not exist (`EKS.ResourceNotFoundException`).
fn is_not_found(e: &AwsError) -> bool {
    e.error.ends_with(".ResourceNotFoundException")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: JobKind, ids: &[&str], scope: Option<&str>) -> JobRef {
        JobRef {
            kind,
            region: "us-east-1".into(),
            ids: ids.iter().map(|s| s.to_string()).collect(),
            scope: scope.map(str::to_owned),
            role: None,
            answer: None,
        }
    }

    #[test]
    fn start_answers_name_their_job() {
        let glue = JobKind::Glue
            .job_of(
                &json!({"JobName": "etl"}),
                &json!({"JobRunId": "jr_1", "JobName": "etl"}),
                "eu-west-1",
            )
            .expect("glue");
        assert_eq!(glue, {
            let mut j = job(JobKind::Glue, &["jr_1"], Some("etl"));
            j.region = "eu-west-1".into();
            j
        });
        let ecs = JobKind::Ecs
            .job_of(
                &json!({"Cluster": "c"}),
                &json!({"Tasks": [{"TaskArn": "t1"}, {"TaskArn": "t2"}], "Failures": []}),
                "us-east-1",
            )
            .expect("ecs");
        assert_eq!(ecs.ids, ["t1", "t2"]);
        assert!(
            JobKind::Ecs
                .job_of(
                    &json!({}),
                    &json!({"Tasks": [], "Failures": [{"Reason": "MISSING"}]}),
                    "r"
                )
                .is_err()
        );
        let text = serde_json::to_string(&ecs).expect("json");
        assert_eq!(serde_json::from_str::<JobRef>(&text).expect("back"), ecs);
        assert_eq!(
            JobKind::of("codebuild", "startBuild"),
            Some(JobKind::CodeBuild)
        );
        assert_eq!(JobKind::of("codebuild", "stopBuild"), None);
    }

    #[test]
    fn describe_answers_say_whether_the_job_is_over() {
        let glue = job(JobKind::Glue, &["jr_1"], Some("etl"));
        assert_eq!(
            glue.state_of(json!({"JobRun": {"JobRunState": "RUNNING"}})),
            JobState::Running
        );
        assert_eq!(
            glue.state_of(json!({"JobRun": {"Id": "jr_1", "JobRunState": "SUCCEEDED"}})),
            JobState::Succeeded(json!({"Id": "jr_1", "JobRunState": "SUCCEEDED"}))
        );
        let JobState::Failed { error, cause } =
            glue.state_of(json!({"JobRun": {"JobRunState": "FAILED", "ErrorMessage": "boom"}}))
        else {
            panic!("a failed run fails the task")
        };
        assert_eq!(error, "States.TaskFailed");
        assert!(cause.contains("boom"), "{cause}");

        let athena = job(JobKind::Athena, &["q"], None);
        let done = json!({"QueryExecution": {"Status": {"State": "SUCCEEDED"}}});
        assert_eq!(athena.state_of(done.clone()), JobState::Succeeded(done));

        let ecs = job(JobKind::Ecs, &["t"], None);
        let stopped = |code: i64| json!({"Tasks": [{"LastStatus": "STOPPED", "Containers": [{"ExitCode": code}]}]});
        assert_eq!(
            ecs.state_of(stopped(0)),
            JobState::Succeeded(json!({"LastStatus": "STOPPED", "Containers": [{"ExitCode": 0}]}))
        );
        assert!(matches!(ecs.state_of(stopped(2)), JobState::Failed { .. }));
        assert_eq!(
            ecs.state_of(json!({"Tasks": [{"LastStatus": "RUNNING"}]})),
            JobState::Running
        );

        let build = job(JobKind::CodeBuild, &["b:1"], None);
        assert_eq!(
            build.state_of(json!({"Builds": [{"BuildStatus": "SUCCEEDED"}]})),
            JobState::Succeeded(json!({"Build": {"BuildStatus": "SUCCEEDED"}}))
        );
        assert!(matches!(
            build.state_of(json!({"Builds": [{"BuildStatus": "FAULT"}]})),
            JobState::Failed { .. }
        ));
        let batch = job(JobKind::Batch, &["j"], None);
        assert_eq!(
            batch.state_of(json!({"Jobs": [{"Status": "RUNNABLE"}]})),
            JobState::Running
        );
    }

    #[test]
    fn emr_and_sagemaker_jobs_are_named_described_and_judged() {
        let step = JobKind::EmrStep
            .job_of(
                &json!({"ClusterId": "j-1", "Step": {"Name": "s"}}),
                &json!({"StepId": "s-1"}),
                "us-east-1",
            )
            .expect("step");
        assert_eq!(step, job(JobKind::EmrStep, &["s-1"], Some("j-1")));
        assert_eq!(
            step.describe(),
            ("describeStep", json!({"ClusterId": "j-1", "StepId": "s-1"}))
        );
        assert_eq!(step.stops()[0].0, "cancelSteps");
        let state = |s: &str| json!({"Step": {"Status": {"State": s}}});
        assert_eq!(step.state_of(state("RUNNING")), JobState::Running);
        assert_eq!(
            step.state_of(state("COMPLETED")),
            JobState::Succeeded(state("COMPLETED"))
        );
        for s in ["FAILED", "CANCELLED", "INTERRUPTED"] {
            assert!(matches!(step.state_of(state(s)), JobState::Failed { .. }));
        }

        let cluster = job(JobKind::EmrCluster, &["j-1"], None);
        let state = |s: &str| json!({"Cluster": {"Status": {"State": s}}});
        assert_eq!(cluster.state_of(state("STARTING")), JobState::Running);
        assert_eq!(cluster.state_of(state("BOOTSTRAPPING")), JobState::Running);
        assert!(matches!(
            cluster.state_of(state("WAITING")),
            JobState::Succeeded(_)
        ));
        assert!(matches!(
            cluster.state_of(state("TERMINATED_WITH_ERRORS")),
            JobState::Failed { .. }
        ));
        assert!(cluster.stops().is_empty(), "clusters are not terminated");
        let ending = JobKind::EmrTermination
            .job_of(&json!({"ClusterId": "j-1"}), &json!({}), "us-east-1")
            .expect("termination");
        assert_eq!(ending.state_of(state("TERMINATING")), JobState::Running);
        assert!(matches!(
            ending.state_of(state("TERMINATED")),
            JobState::Succeeded(_)
        ));

        let training = JobKind::SageMakerTraining
            .job_of(
                &json!({"TrainingJobName": "t"}),
                &json!({"TrainingJobArn": "arn:t"}),
                "us-east-1",
            )
            .expect("training");
        assert_eq!(
            training.describe(),
            ("describeTrainingJob", json!({"TrainingJobName": "t"}))
        );
        assert_eq!(training.stops()[0].0, "stopTrainingJob");
        let state = |s: &str| json!({"TrainingJobName": "t", "TrainingJobStatus": s});
        assert_eq!(training.state_of(state("InProgress")), JobState::Running);
        assert_eq!(training.state_of(state("Stopping")), JobState::Running);
        assert_eq!(
            training.state_of(state("Completed")),
            JobState::Succeeded(state("Completed"))
        );
        assert!(matches!(
            training.state_of(state("Stopped")),
            JobState::Failed { .. }
        ));
        let transform = job(JobKind::SageMakerTransform, &["x"], None);
        assert!(matches!(
            transform.state_of(json!({"TransformJobStatus": "Failed"})),
            JobState::Failed { .. }
        ));
        assert_eq!(
            JobKind::of("elasticmapreduce", "terminateCluster"),
            Some(JobKind::EmrTermination)
        );
    }

    /// Every kind's start, describe and stop actions are in its service's bundled model, and
    /// `of` finds each kind by its integration.
    #[test]
    fn every_kind_calls_actions_its_model_has() {
        let models = crate::model::Models::bundled();
        for (kind, service, action) in KINDS {
            assert_eq!(JobKind::of(service, action), Some(*kind));
            let integration = kind.integration();
            let model = models
                .get(integration.model)
                .unwrap_or_else(|| panic!("{} is bundled", integration.model));
            let (api, _) = integration.api_call(action, json!({}));
            assert!(model.operation(&api).is_some(), "{service}:{api}");
            let j = job(*kind, &["x"], Some("s"));
            let (describe, _) = j.describe();
            assert!(model.operation(describe).is_some(), "{service}:{describe}");
            for (stop, _) in j.stops() {
                assert!(model.operation(stop).is_some(), "{service}:{stop}");
            }
        }
        assert_eq!(
            JobKind::of("eks", "runJob"),
            None,
            "Kubernetes jobs are not run"
        );
        assert_eq!(JobKind::of("emr-containers", "createVirtualCluster"), None);
    }

    #[test]
    fn emr_serverless_jobs_wait_for_their_state_and_answer_with_the_start_answer() {
        let started = json!({"ApplicationId": "app1", "JobRunId": "jr1", "Arn": "arn:jr1"});
        let run = JobKind::EmrServerlessJobRun
            .job_of(&json!({"ApplicationId": "app1"}), &started, "us-east-1")
            .expect("run");
        assert_eq!(
            (run.ids.as_slice(), run.scope.as_deref()),
            (&["jr1".to_owned()][..], Some("app1"))
        );
        assert_eq!(
            run.describe(),
            (
                "getJobRun",
                json!({"ApplicationId": "app1", "JobRunId": "jr1"})
            )
        );
        assert_eq!(
            run.stops(),
            vec![(
                "cancelJobRun",
                json!({"ApplicationId": "app1", "JobRunId": "jr1"})
            )]
        );
        let state = |s: &str| json!({"JobRun": {"JobRunId": "jr1", "State": s}});
        for s in ["SUBMITTED", "PENDING", "SCHEDULED", "RUNNING", "QUEUED"] {
            assert_eq!(run.state_of(state(s)), JobState::Running, "{s}");
        }
        assert_eq!(run.state_of(state("SUCCESS")), JobState::Succeeded(started));
        for s in ["FAILED", "CANCELLED"] {
            assert!(
                matches!(run.state_of(state(s)), JobState::Failed { .. }),
                "{s}"
            );
        }
        let cancel = JobKind::EmrServerlessCancel
            .job_of(
                &json!({"ApplicationId": "app1", "JobRunId": "jr1"}),
                &json!({"ApplicationId": "app1", "JobRunId": "jr1"}),
                "r",
            )
            .expect("cancel");
        assert!(cancel.stops().is_empty());
        assert_eq!(cancel.state_of(state("CANCELLING")), JobState::Running);
        assert!(matches!(
            cancel.state_of(state("CANCELLED")),
            JobState::Succeeded(_)
        ));

        let app = |kind: JobKind| {
            kind.job_of(
                &json!({"ApplicationId": "app1"}),
                &json!({"ApplicationId": "app1"}),
                "r",
            )
            .expect("application")
        };
        let state = |s: &str| json!({"Application": {"ApplicationId": "app1", "State": s}});
        let start = app(JobKind::EmrServerlessStart);
        assert_eq!(
            start.describe(),
            ("getApplication", json!({"ApplicationId": "app1"}))
        );
        assert_eq!(start.state_of(state("STARTING")), JobState::Running);
        assert_eq!(
            start.state_of(state("STARTED")),
            JobState::Succeeded(json!({"ApplicationId": "app1"}))
        );
        assert!(matches!(
            start.state_of(state("STOPPED")),
            JobState::Failed { .. }
        ));
        let stop = app(JobKind::EmrServerlessStop);
        assert_eq!(stop.state_of(state("STOPPING")), JobState::Running);
        assert!(matches!(
            stop.state_of(state("STOPPED")),
            JobState::Succeeded(_)
        ));
        let delete = app(JobKind::EmrServerlessDelete);
        assert_eq!(delete.state_of(state("STOPPED")), JobState::Running);
        assert!(matches!(
            delete.state_of(state("TERMINATED")),
            JobState::Succeeded(_)
        ));
        assert!(JobKind::EmrServerlessDelete.ends_when_gone());
        let created = json!({"ApplicationId": "app2", "Name": "n", "Arn": "arn:app2"});
        let create = JobKind::EmrServerlessCreate
            .job_of(&json!({"Name": "n"}), &created, "r")
            .expect("create");
        assert_eq!(create.ids, ["app2"]);
        assert_eq!(create.state_of(state("CREATING")), JobState::Running);
        assert_eq!(
            create.state_of(state("CREATED")),
            JobState::Succeeded(created)
        );
        assert!(matches!(
            create.state_of(state("TERMINATED")),
            JobState::Failed { .. }
        ));
        // The start answer is kept with the job across a restart.
        let text = serde_json::to_string(&create).expect("json");
        assert_eq!(serde_json::from_str::<JobRef>(&text).expect("back"), create);
    }

    #[test]
    fn emr_on_eks_and_eks_jobs_are_named_described_and_judged() {
        let run = JobKind::EmrContainersJobRun
            .job_of(
                &json!({"VirtualClusterId": "vc1", "Name": "j"}),
                &json!({"Id": "r1", "Name": "j", "Arn": "a", "VirtualClusterId": "vc1"}),
                "r",
            )
            .expect("run");
        assert_eq!(
            run.describe(),
            (
                "describeJobRun",
                json!({"Id": "r1", "VirtualClusterId": "vc1"})
            )
        );
        assert_eq!(run.stops()[0].0, "cancelJobRun");
        let state = |s: &str| json!({"JobRun": {"Id": "r1", "State": s}});
        for s in ["PENDING", "SUBMITTED", "RUNNING", "CANCEL_PENDING"] {
            assert_eq!(run.state_of(state(s)), JobState::Running, "{s}");
        }
        assert_eq!(
            run.state_of(state("COMPLETED")),
            JobState::Succeeded(state("COMPLETED"))
        );
        assert!(matches!(
            run.state_of(state("FAILED")),
            JobState::Failed { .. }
        ));
        let vc = JobKind::EmrContainersDelete
            .job_of(&json!({"Id": "vc1"}), &json!({"Id": "vc1"}), "r")
            .expect("vc");
        let state = |s: &str| json!({"VirtualCluster": {"Id": "vc1", "State": s}});
        assert_eq!(vc.state_of(state("TERMINATING")), JobState::Running);
        assert!(matches!(
            vc.state_of(state("TERMINATED")),
            JobState::Succeeded(_)
        ));
        assert!(vc.stops().is_empty());

        let cluster = JobKind::EksCluster
            .job_of(
                &json!({"Name": "c"}),
                &json!({"Cluster": {"Name": "c"}}),
                "r",
            )
            .expect("cluster");
        let state = |s: &str| json!({"Cluster": {"Name": "c", "Status": s}});
        assert_eq!(cluster.state_of(state("CREATING")), JobState::Running);
        assert_eq!(
            cluster.state_of(state("ACTIVE")),
            JobState::Succeeded(state("ACTIVE"))
        );
        assert!(matches!(
            cluster.state_of(state("FAILED")),
            JobState::Failed { .. }
        ));
        assert!(cluster.stops().is_empty(), "EKS clusters are not deleted");
        let deleting = state("DELETING");
        let delete = JobKind::EksClusterDelete
            .job_of(&json!({"Name": "c"}), &deleting, "r")
            .expect("delete");
        assert_eq!(delete.state_of(state("DELETING")), JobState::Running);
        assert!(matches!(
            delete.state_of(state("FAILED")),
            JobState::Failed { .. }
        ));
        assert_eq!(delete.gone(), JobState::Succeeded(deleting));
        assert!(is_not_found(&AwsError::new(
            "EKS.ResourceNotFoundException",
            ""
        )));
        assert!(!is_not_found(&AwsError::new(
            "EKS.InvalidParameterException",
            ""
        )));

        let ng = JobKind::EksNodegroup
            .job_of(
                &json!({"ClusterName": "c", "NodegroupName": "ng"}),
                &json!({"Nodegroup": {}}),
                "r",
            )
            .expect("nodegroup");
        assert_eq!(
            ng.describe(),
            (
                "describeNodegroup",
                json!({"ClusterName": "c", "NodegroupName": "ng"})
            )
        );
        let state = |s: &str| json!({"Nodegroup": {"Status": s}});
        assert!(matches!(
            ng.state_of(state("CREATE_FAILED")),
            JobState::Failed { .. }
        ));
        assert!(matches!(
            ng.state_of(state("ACTIVE")),
            JobState::Succeeded(_)
        ));
        let fp = job(JobKind::EksFargateProfileDelete, &["fp"], Some("c"));
        assert_eq!(
            fp.describe(),
            (
                "describeFargateProfile",
                json!({"ClusterName": "c", "FargateProfileName": "fp"})
            )
        );
        let state = |s: &str| json!({"FargateProfile": {"Status": s}});
        assert!(matches!(
            fp.state_of(state("DELETE_FAILED")),
            JobState::Failed { .. }
        ));
        assert_eq!(fp.state_of(state("DELETING")), JobState::Running);
    }

    #[test]
    fn databrew_build_batches_sagemaker_and_bedrock_jobs_are_judged() {
        let brew = JobKind::DataBrew
            .job_of(&json!({"Name": "prep"}), &json!({"RunId": "db_1"}), "r")
            .expect("databrew");
        assert_eq!(
            brew.describe(),
            ("describeJobRun", json!({"Name": "prep", "RunId": "db_1"}))
        );
        assert_eq!(
            brew.stops(),
            vec![("stopJobRun", json!({"Name": "prep", "RunId": "db_1"}))]
        );
        let state = |s: &str| json!({"RunId": "db_1", "State": s});
        assert_eq!(brew.state_of(state("STARTING")), JobState::Running);
        assert_eq!(
            brew.state_of(state("SUCCEEDED")),
            JobState::Succeeded(state("SUCCEEDED"))
        );
        for s in ["FAILED", "STOPPED", "TIMEOUT"] {
            assert!(
                matches!(brew.state_of(state(s)), JobState::Failed { .. }),
                "{s}"
            );
        }

        let batch = JobKind::CodeBuildBatch
            .job_of(
                &json!({"ProjectName": "p"}),
                &json!({"BuildBatch": {"Id": "p:b1"}}),
                "r",
            )
            .expect("batch");
        assert_eq!(
            batch.describe(),
            ("batchGetBuildBatches", json!({"Ids": ["p:b1"]}))
        );
        assert_eq!(
            batch.stops(),
            vec![("stopBuildBatch", json!({"Id": "p:b1"}))]
        );
        let state = |s: &str| json!({"BuildBatches": [{"Id": "p:b1", "BuildBatchStatus": s}]});
        assert_eq!(batch.state_of(state("IN_PROGRESS")), JobState::Running);
        assert_eq!(
            batch.state_of(state("SUCCEEDED")),
            JobState::Succeeded(
                json!({"BuildBatch": {"Id": "p:b1", "BuildBatchStatus": "SUCCEEDED"}})
            )
        );
        for s in ["FAILED", "FAULT", "TIMED_OUT", "STOPPED"] {
            assert!(
                matches!(batch.state_of(state(s)), JobState::Failed { .. }),
                "{s}"
            );
        }
        let retried = JobKind::CodeBuildRetry
            .job_of(&json!({"Id": "p:1"}), &json!({"Build": {"Id": "p:2"}}), "r")
            .expect("retry");
        assert_eq!(
            retried.describe(),
            ("batchGetBuilds", json!({"Ids": ["p:2"]}))
        );

        for (kind, name, member) in [
            (
                JobKind::SageMakerTuning,
                "HyperParameterTuningJobName",
                "HyperParameterTuningJobStatus",
            ),
            (
                JobKind::SageMakerLabeling,
                "LabelingJobName",
                "LabelingJobStatus",
            ),
            (
                JobKind::SageMakerProcessing,
                "ProcessingJobName",
                "ProcessingJobStatus",
            ),
        ] {
            let j = kind
                .job_of(&json!({name: "n"}), &json!({}), "r")
                .expect("sagemaker");
            assert_eq!(j.describe().1, json!({name: "n"}));
            assert_eq!(j.stops()[0].1, json!({name: "n"}));
            assert_eq!(j.state_of(json!({member: "InProgress"})), JobState::Running);
            assert!(matches!(
                j.state_of(json!({member: "Completed"})),
                JobState::Succeeded(_)
            ));
            assert!(matches!(
                j.state_of(json!({member: "Stopped"})),
                JobState::Failed { .. }
            ));
        }

        let custom = JobKind::BedrockCustomization
            .job_of(&json!({"JobName": "j"}), &json!({"JobArn": "arn:j"}), "r")
            .expect("bedrock");
        assert_eq!(
            custom.describe(),
            (
                "getModelCustomizationJob",
                json!({"JobIdentifier": "arn:j"})
            )
        );
        assert_eq!(custom.stops()[0].0, "stopModelCustomizationJob");
        assert_eq!(
            custom.state_of(json!({"Status": "InProgress"})),
            JobState::Running
        );
        assert!(matches!(
            custom.state_of(json!({"Status": "Completed"})),
            JobState::Succeeded(_)
        ));
        assert!(matches!(
            custom.state_of(json!({"Status": "Failed"})),
            JobState::Failed { .. }
        ));
    }
}
