//! The Run a Job (`.sync`) pattern of the optimized integrations that start a job:
//! `glue:startJobRun`, `athena:startQueryExecution`, `batch:submitJob`, `ecs:runTask`,
//! `codebuild:startBuild`, `elasticmapreduce:createCluster`/`addStep`/`terminateCluster`,
//! `sagemaker:createTrainingJob`/`createTransformJob`. The start call is the request-response integration's; what it
//! started is named by a [`JobRef`] (kept by the caller, so that polling can carry on after a
//! restart without starting the job again); [`AwsClient::poll_job`] describes the job once
//! (GetJobRun, GetQueryExecution, DescribeJobs, DescribeTasks, BatchGetBuilds) and says whether
//! it is over, with the task's result or failure; [`AwsClient::stop_job`] stops it (BatchStopJobRun,
//! StopQueryExecution, TerminateJob, StopTask, StopBuild) when the task ends some other way.
//!
//! Results are the describe action's, as Step Functions gives them: Glue's `JobRun`, Athena's
//! `{QueryExecution}`, Batch's job detail, ECS's task, CodeBuild's `{Build}`, timestamps as epoch
//! milliseconds. EMR's (`{Cluster}`, `{Step}`) and SageMaker's (DescribeTrainingJob's,
//! DescribeTransformJob's) are the describe answers too: the guide does not say what they are.
//! An EMR cluster is never terminated by Stepwise (as by Step Functions); a step is cancelled. A job that ends in any other state than success fails the task with
//! `States.TaskFailed` and that same description (as JSON text) as the cause.

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
}

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
        Some(match (service, action) {
            ("glue", "startJobRun") => JobKind::Glue,
            ("athena", "startQueryExecution") => JobKind::Athena,
            ("batch", "submitJob") => JobKind::Batch,
            ("ecs", "runTask") => JobKind::Ecs,
            ("codebuild", "startBuild") => JobKind::CodeBuild,
            ("elasticmapreduce", "createCluster") => JobKind::EmrCluster,
            ("elasticmapreduce", "addStep") => JobKind::EmrStep,
            ("elasticmapreduce", "terminateCluster") => JobKind::EmrTermination,
            ("sagemaker", "createTrainingJob") => JobKind::SageMakerTraining,
            ("sagemaker", "createTransformJob") => JobKind::SageMakerTransform,
            _ => return None,
        })
    }

    fn service(self) -> &'static str {
        match self {
            JobKind::Glue => "glue",
            JobKind::Athena => "athena",
            JobKind::Batch => "batch",
            JobKind::Ecs => "ecs",
            JobKind::CodeBuild => "codebuild",
            JobKind::EmrCluster | JobKind::EmrStep | JobKind::EmrTermination => "elasticmapreduce",
            JobKind::SageMakerTraining | JobKind::SageMakerTransform => "sagemaker",
        }
    }

    fn start_action(self) -> &'static str {
        match self {
            JobKind::Glue => "startJobRun",
            JobKind::Athena => "startQueryExecution",
            JobKind::Batch => "submitJob",
            JobKind::Ecs => "runTask",
            JobKind::CodeBuild => "startBuild",
            JobKind::EmrCluster => "createCluster",
            JobKind::EmrStep => "addStep",
            JobKind::EmrTermination => "terminateCluster",
            JobKind::SageMakerTraining => "createTrainingJob",
            JobKind::SageMakerTransform => "createTransformJob",
        }
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
            JobKind::CodeBuild => {
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
            JobKind::SageMakerTraining | JobKind::SageMakerTransform => {
                let member = if self.kind == JobKind::SageMakerTraining {
                    "TrainingJobStatus"
                } else {
                    "TransformJobStatus"
                };
                match status(&described, member).as_str() {
                    "Completed" => JobState::Succeeded(described),
                    "Failed" | "Stopped" => failed(&described),
                    _ => JobState::Running,
                }
            }
        }
    }
}

impl JobRef {
    /// Who describes and stops the job: the region and role that started it.
    fn caller(&self) -> Caller<'_> {
        Caller {
            region: &self.region,
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
            .await?;
        Ok(job.state_of(described))
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
}
