"""`.sync` Task states of the job integrations (Glue, Athena, Batch, ECS, CodeBuild, EMR, EMR
Serverless, EMR on EKS, EKS, DataBrew, SageMaker, Bedrock) through
boto3 against `stepwise serve`. The Rust harness (e2e_sync.rs) points the server at a stand-in
for the services (job_stand_in.py, STAND_IN_URL) or at moto's server (MOTO_URL).

`sync_jobs.py stand-in` runs the stand-in checks; `sync_jobs.py moto` the moto ones;
`sync_jobs.py crash-start FILE` starts an execution whose job runs for a while, waits until the
server has described it twice, and writes the execution's ARN to FILE; `sync_jobs.py
crash-finish FILE` waits for that execution (after the harness killed and restarted the server)
and checks that the job was started exactly once.
"""

import json
import os
import sys
import time
import urllib.request


from common import client, create_machine, definition, eq, history, moto, run_tests, succeeded, wait_done

sfn = client()


def counts():
    with urllib.request.urlopen(os.environ["STAND_IN_URL"] + "/counts", timeout=5) as r:
        return json.loads(r.read())


def task(resource, parameters, **extra):
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    state.update(extra)
    return {"Job": state}


def start(states):
    arn = create_machine(sfn, definition(states))
    return sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]


def run(states, timeout=30.0):
    return wait_done(sfn, start(states), timeout=timeout)


output = succeeded


def types(arn):
    return [e["type"] for e in history(sfn, arn)]


# ----- against the stand-in -----------------------------------------------------------------

ROLE = "arn:aws:iam::123456789012:role/r"

# The start actions whose idempotency token Stepwise fills (the stand-in records it).
TOKENED = {"codebuild:startBuild", "codebuild:startBuildBatch", "emr-serverless:startJobRun",
           "emr-containers:startJobRun", "bedrock:createModelCustomizationJob"}

STAND_IN_CASES = [
    ("glue:startJobRun", lambda n: {"JobName": n}),
    ("athena:startQueryExecution", lambda n: {"QueryString": "SELECT 1", "WorkGroup": n}),
    ("batch:submitJob", lambda n: {"JobName": n, "JobQueue": "q", "JobDefinition": "d"}),
    ("ecs:runTask", lambda n: {"TaskDefinition": "td", "Group": n, "Cluster": "c"}),
    ("codebuild:startBuild", lambda n: {"ProjectName": n}),
    ("elasticmapreduce:addStep", lambda n: {"ClusterId": "j-1", "Step": {"Name": n}}),
    ("sagemaker:createTrainingJob", lambda n: {
        "TrainingJobName": n,
        "RoleArn": "arn:aws:iam::123456789012:role/sm",
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://b/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }),
    ("emr-serverless:startJobRun", lambda n: {
        "ApplicationId": "00app1", "ExecutionRoleArn": ROLE, "Name": n,
        "JobDriver": {"SparkSubmit": {"EntryPoint": "s3://b/job.py"}},
    }),
    ("emr-containers:startJobRun", lambda n: {
        "VirtualClusterId": "vc1", "Name": n, "ExecutionRoleArn": ROLE, "ReleaseLabel": "emr-6.2.0-latest",
        "JobDriver": {"SparkSubmitJobDriver": {"EntryPoint": "s3://b/job.py"}},
    }),
    ("databrew:startJobRun", lambda n: {"Name": n}),
    ("codebuild:startBuildBatch", lambda n: {"ProjectName": n}),
    ("sagemaker:createHyperParameterTuningJob", lambda n: {
        "HyperParameterTuningJobName": n,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
        },
    }),
    ("sagemaker:createProcessingJob", lambda n: {
        "ProcessingJobName": n, "RoleArn": ROLE, "AppSpecification": {"ImageUri": "img"},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
    }),
    ("sagemaker:createLabelingJob", lambda n: {
        "LabelingJobName": n, "LabelAttributeName": "label", "RoleArn": ROLE,
        "InputConfig": {"DataSource": {"S3DataSource": {"ManifestS3Uri": "s3://b/manifest"}}},
        "OutputConfig": {"S3OutputPath": "s3://b/out"},
        "HumanTaskConfig": {
            "WorkteamArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/t",
            "UiConfig": {"UiTemplateS3Uri": "s3://b/ui.html"}, "PreHumanTaskLambdaArn": "arn:aws:lambda:us-east-1:1:function:pre",
            "TaskTitle": "t", "TaskDescription": "d", "NumberOfHumanWorkersPerDataObject": 1,
            "TaskTimeLimitInSeconds": 60,
            "AnnotationConsolidationConfig": {"AnnotationConsolidationLambdaArn": "arn:aws:lambda:us-east-1:1:function:acs"},
        },
    }),
    ("bedrock:createModelCustomizationJob", lambda n: {
        "JobName": n, "CustomModelName": "m", "RoleArn": ROLE, "BaseModelIdentifier": "amazon.titan-text-express-v1",
        "TrainingDataConfig": {"S3Uri": "s3://b/train.jsonl"}, "OutputDataConfig": {"S3Uri": "s3://b/out/"},
    }),
    ("sagemaker:createTransformJob", lambda n: {
        "TransformJobName": n,
        "ModelName": "m",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}},
        "TransformOutput": {"S3OutputPath": "s3://b/out"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }),
]

EMR_INSTANCES = {"KeepJobFlowAliveWhenNoSteps": True, "InstanceCount": 1, "MasterInstanceType": "m5.xlarge"}


def test_each_sync_job_is_started_once_polled_to_its_end_and_gives_its_description():
    for action, params in STAND_IN_CASES:
        job = f"ok-{action.replace(':', '-')}"
        arn = start(task(f"arn:aws:states:::{action}.sync", params(job)))
        d = wait_done(sfn, arn)
        out = output(d)
        c = counts()[job]
        eq(c["starts"], 1, f"{action}: started once")
        assert c["describes"] >= 3, f"{action}: polled until over: {c}"
        eq(c["stops"], 0, action)
        if action.startswith("glue"):
            eq(out["JobRunState"], "SUCCEEDED")
            eq(out["JobName"], job)
            eq(out["StartedOn"], 1700000000500, "timestamps as epoch milliseconds")
        elif action.startswith("athena"):
            eq(out["QueryExecution"]["Status"]["State"], "SUCCEEDED")
            eq(out["QueryExecution"]["Status"]["SubmissionDateTime"], 1700000000500)
        elif action.startswith("batch"):
            eq(out["Status"], "SUCCEEDED")
            eq(out["JobName"], job)
        elif action.startswith("ecs"):
            eq(out["LastStatus"], "STOPPED")
            eq(out["Containers"][0]["ExitCode"], 0)
        elif action.startswith("elasticmapreduce"):
            eq(out["Step"]["Status"]["State"], "COMPLETED")
            eq(out["Step"]["Name"], job)
            eq(out["Step"]["Status"]["Timeline"]["CreationDateTime"], 1700000000500)
        elif action.endswith("TrainingJob"):
            eq(out["TrainingJobStatus"], "Completed")
            eq(out["CreationTime"], 1700000000500)
        elif action.startswith("sagemaker"):
            eq([v for k, v in out.items() if k.endswith("JobStatus")], ["Completed"], action)
        elif action.startswith("emr-serverless"):
            eq(sorted(out), ["ApplicationId", "Arn", "JobRunId"], "the start answer, as the guide says")
            eq(out["ApplicationId"], "00app1")
        elif action.startswith("emr-containers"):
            eq(out["JobRun"]["State"], "COMPLETED")
            eq(out["JobRun"]["CreatedAt"], 1700000000500)
        elif action.startswith("databrew"):
            eq((out["State"], out["JobName"], out["StartedOn"]), ("SUCCEEDED", job, 1700000000500))
        elif action.startswith("bedrock"):
            eq((out["Status"], out["JobName"]), ("Completed", job))
            eq(out["CreationTime"], 1700000000500)
        elif action.endswith("BuildBatch"):
            eq(out["BuildBatch"]["BuildBatchStatus"], "SUCCEEDED")
        else:
            eq(out["Build"]["BuildStatus"], "SUCCEEDED")
        if action in TOKENED:
            assert c.get("token"), f"{action}: the start carried an idempotency token: {c}"
        t = types(arn)
        eq(
            t[2:6],
            ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"],
            action,
        )


def test_a_job_that_fails_fails_the_task_with_its_description():
    for action, params in STAND_IN_CASES:
        job = f"fail-{action.replace(':', '-')}"
        d = run(task(f"arn:aws:states:::{action}.sync", params(job)))
        eq(d["status"], "FAILED", action)
        eq(d["error"], "States.TaskFailed", action)
        cause = json.loads(d["cause"])
        assert job in json.dumps(cause), f"{action}: the cause describes the job: {cause}"


def test_request_response_returns_the_start_answer_at_once():
    job = "rr-glue-slow"
    out = output(run(task("arn:aws:states:::glue:startJobRun", {"JobName": job})))
    eq(sorted(out), ["JobName", "JobRunId"])
    eq(out["JobName"], job, "Glue's JobName added to the answer")
    c = counts()[job]
    eq((c["starts"], c["describes"]), (1, 0))
    out = output(run(task("arn:aws:states:::codebuild:startBuild", {"ProjectName": "rr-cb"})))
    eq(out["Build"]["BuildStatus"], "IN_PROGRESS")
    eq(out["Build"]["StartTime"], 1700000000500)


def test_emr_clusters_are_created_until_ready_and_terminated_until_gone():
    name = "ok-cluster"
    out = output(run(task("arn:aws:states:::elasticmapreduce:createCluster.sync", {"Name": name, "Instances": EMR_INSTANCES})))
    eq(out["Cluster"]["Status"]["State"], "WAITING")
    cluster = out["Cluster"]["Id"]
    assert counts()[name]["describes"] >= 3, counts()[name]
    out = output(run(task("arn:aws:states:::elasticmapreduce:terminateCluster.sync", {"ClusterId": cluster})))
    eq(out["Cluster"]["Status"]["State"], "TERMINATED")
    eq(counts()[name]["stops"], 1, "TerminateJobFlows called once")
    out = output(run(task("arn:aws:states:::elasticmapreduce:createCluster", {"Name": "rr-cluster", "Instances": EMR_INSTANCES})))
    eq(sorted(out), ["ClusterId"], "createCluster answers ClusterId (RunJobFlow's JobFlowId)")
    eq(counts()["rr-cluster"]["describes"], 0)
    out = output(run(task("arn:aws:states:::elasticmapreduce:addStep", {"ClusterId": "j-1", "Step": {"Name": "rr-step", "HadoopJarStep": {"Jar": "command-runner.jar"}}})))
    eq(sorted(out), ["StepId"], "addStep answers one StepId")
    d = run(task("arn:aws:states:::elasticmapreduce:createCluster.sync", {"Name": "fail-cluster", "Instances": EMR_INSTANCES}))
    eq((d["status"], d["error"]), ("FAILED", "States.TaskFailed"))
    assert "TERMINATED_WITH_ERRORS" in d["cause"], d["cause"]


def test_stopping_the_execution_stops_the_job():
    for action, params in STAND_IN_CASES:
        job = f"slow-stop-{action.replace(':', '-')}"
        arn = start(task(f"arn:aws:states:::{action}.sync", params(job)))
        deadline = time.monotonic() + 20
        while counts().get(job, {}).get("describes", 0) < 1:
            assert time.monotonic() < deadline, f"{action}: never polled"
            time.sleep(0.05)
        sfn.stop_execution(executionArn=arn)
        while counts()[job]["stops"] < 1:
            assert time.monotonic() < deadline, f"{action}: the job was not stopped"
            time.sleep(0.05)
        eq(counts()[job]["starts"], 1)
        eq(sfn.describe_execution(executionArn=arn)["status"], "ABORTED")


def test_a_task_timeout_stops_the_job_and_fails_with_states_timeout():
    for resource, params in [
        ("batch:submitJob", lambda n: {"JobName": n, "JobQueue": "q", "JobDefinition": "d"}),
        ("emr-serverless:startJobRun", lambda n: {"ApplicationId": "00app1", "ExecutionRoleArn": ROLE, "Name": n}),
        ("databrew:startJobRun", lambda n: {"Name": n}),
    ]:
        job = f"slow-timeout-{resource.split(':')[0]}"
        d = run(task(f"arn:aws:states:::{resource}.sync", params(job), TimeoutSeconds=1))
        eq(d["status"], "FAILED")
        eq(d["error"], "States.Timeout")
        deadline = time.monotonic() + 10
        while counts()[job]["stops"] < 1:
            assert time.monotonic() < deadline, f"{resource}: the job was not stopped"
            time.sleep(0.05)


def test_emr_serverless_applications_wait_for_each_state_and_answer_as_the_api():
    base = "arn:aws:states:::emr-serverless:"
    out = output(run(task(base + "createApplication.sync", {"Name": "ok-app", "ReleaseLabel": "emr-6.9.0", "Type": "SPARK"})))
    eq(sorted(out), ["ApplicationId", "Arn", "Name"], "createApplication's answer")
    app = out["ApplicationId"]
    assert counts()["ok-app"].get("token"), "the clientToken was filled"
    for action in ["startApplication", "stopApplication", "deleteApplication"]:
        eq(output(run(task(base + action + ".sync", {"ApplicationId": app}))), {"ApplicationId": app}, action)
    c = counts()["ok-app"]
    eq(c["starts"], 4)
    assert c["describes"] >= 12, f"each waited for its state: {c}"
    out = output(run(task(base + "createApplication", {"Name": "rr-app", "ReleaseLabel": "emr-6.9.0", "Type": "SPARK"})))
    eq(output(run(task(base + "startApplication", {"ApplicationId": out["ApplicationId"]}))),
       {"ApplicationId": out["ApplicationId"]})
    eq(counts()["rr-app"]["describes"], 0)
    d = run(task(base + "createApplication.sync", {"Name": "fail-app", "ReleaseLabel": "emr-6.9.0", "Type": "SPARK"}))
    eq((d["status"], d["error"]), ("FAILED", "States.TaskFailed"))
    assert '"State":"TERMINATED"' in d["cause"], d["cause"]
    d = run(task(base + "startApplication", {"ApplicationId": "nope"}))
    eq((d["status"], d["error"]), ("FAILED", "EMRServerless.ResourceNotFoundException"))
    assert "(Service: AWSEMRServerless; Status Code: 404; Error Code: ResourceNotFoundException" in d["cause"], d["cause"]


def test_emr_on_eks_virtual_clusters_are_created_and_deleted_until_terminated():
    base = "arn:aws:states:::emr-containers:"
    provider = {"Id": "eks1", "Type": "EKS", "Info": {"EksInfo": {"Namespace": "ns"}}}
    out = output(run(task(base + "createVirtualCluster", {"Name": "ok-vc", "ContainerProvider": provider})))
    eq(sorted(out), ["Arn", "Id", "Name"])
    out = output(run(task(base + "deleteVirtualCluster.sync", {"Id": out["Id"]})))
    eq(out["VirtualCluster"]["State"], "TERMINATED")
    assert counts()["ok-vc"]["describes"] >= 3


def test_eks_resources_are_created_until_active_and_deleted_until_gone():
    base = "arn:aws:states:::eks:"
    out = output(run(task(base + "createCluster.sync", {"Name": "ok-eks", "RoleArn": ROLE, "ResourcesVpcConfig": {"SubnetIds": ["s1"]}})))
    eq(out["Cluster"]["Status"], "ACTIVE")
    eq(out["Cluster"]["CreatedAt"], 1700000000500)
    assert counts()["ok-eks"].get("token"), "the clientRequestToken was filled"
    out = output(run(task(base + "createNodegroup.sync", {"ClusterName": "ok-eks", "NodegroupName": "ok-ng", "Subnets": ["s1"], "NodeRole": ROLE})))
    eq(out["Nodegroup"]["Status"], "ACTIVE")
    out = output(run(task(base + "createFargateProfile.sync", {"ClusterName": "ok-eks", "FargateProfileName": "ok-fp", "PodExecutionRoleArn": ROLE})))
    eq(out["FargateProfile"]["Status"], "ACTIVE")
    for action, member, params in [
        ("deleteFargateProfile", "FargateProfile", {"ClusterName": "ok-eks", "FargateProfileName": "ok-fp"}),
        ("deleteNodegroup", "Nodegroup", {"ClusterName": "ok-eks", "NodegroupName": "ok-ng"}),
        ("deleteCluster", "Cluster", {"Name": "ok-eks"}),
    ]:
        out = output(run(task(base + action + ".sync", params)))
        eq(out[member]["Status"], "DELETING", f"{action}: the delete call's answer")
    c = counts()["ok-eks"]
    eq(c["starts"], 2)
    assert c["describes"] >= 6, c
    d = run(task(base + "createCluster.sync", {"Name": "fail-eks", "RoleArn": ROLE, "ResourcesVpcConfig": {}}))
    eq((d["status"], d["error"]), ("FAILED", "States.TaskFailed"))
    assert '"Status":"FAILED"' in d["cause"], d["cause"]
    d = run(task(base + "deleteCluster.sync", {"Name": "never-made"}))
    eq((d["status"], d["error"]), ("FAILED", "EKS.ResourceNotFoundException"))


# ----- against moto -------------------------------------------------------------------------




def test_moto_glue_athena_and_codebuild_jobs_run_to_their_end():
    moto("glue").create_job(
        Name="etl", Role="arn:aws:iam::123456789012:role/r", Command={"Name": "glueetl"}
    )
    out = output(run(task("arn:aws:states:::glue:startJobRun.sync", {"JobName": "etl"})))
    eq(out["JobName"], "etl")
    eq(out["JobRunState"], "SUCCEEDED")
    assert isinstance(out["StartedOn"], int), out
    runs = moto("glue").get_job_runs(JobName="etl")["JobRuns"]
    eq(len(runs), 1, "one run started")

    out = output(
        run(
            task(
                "arn:aws:states:::athena:startQueryExecution.sync",
                {
                    "QueryString": "SELECT 1",
                    "ResultConfiguration": {"OutputLocation": "s3://results/"},
                },
            )
        )
    )
    eq(out["QueryExecution"]["Status"]["State"], "SUCCEEDED")

    moto("codebuild").create_project(
        name="build",
        source={"type": "S3", "location": "bucket/src.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole="arn:aws:iam::123456789012:role/r",
    )
    out = output(run(task("arn:aws:states:::codebuild:startBuild.sync", {"ProjectName": "build"})))
    eq(out["Build"]["BuildStatus"], "SUCCEEDED")
    eq(out["Build"]["ProjectName"], "build")


def test_moto_an_emr_cluster_is_created_given_a_step_and_terminated():
    # moto's clusters are WAITING at once and TERMINATED at once; its steps never end, so the
    # step is added request-response.
    out = output(run(task("arn:aws:states:::elasticmapreduce:createCluster.sync", {
        "Name": "moto-cluster", "ReleaseLabel": "emr-6.15.0", "Instances": EMR_INSTANCES,
        "JobFlowRole": "EMR_EC2_DefaultRole", "ServiceRole": "EMR_DefaultRole",
    })))
    eq(out["Cluster"]["Status"]["State"], "WAITING")
    cluster = out["Cluster"]["Id"]
    out = output(run(task("arn:aws:states:::elasticmapreduce:addStep", {
        "ClusterId": cluster,
        "Step": {"Name": "s", "ActionOnFailure": "CONTINUE", "HadoopJarStep": {"Jar": "command-runner.jar"}},
    })))
    steps = moto("emr").list_steps(ClusterId=cluster)["Steps"]
    eq([st["Id"] for st in steps], [out["StepId"]])
    out = output(run(task("arn:aws:states:::elasticmapreduce:terminateCluster.sync", {"ClusterId": cluster})))
    eq(out["Cluster"]["Status"]["State"], "TERMINATED")
    d = run(task("arn:aws:states:::elasticmapreduce:addStep", {"ClusterId": "j-NOPE", "Step": {"Name": "s", "HadoopJarStep": {"Jar": "j"}}}))
    eq(d["status"], "FAILED")
    assert d["error"].startswith("EMR."), d["error"]


def test_moto_emr_serverless_eks_emr_on_eks_and_sagemaker_jobs():
    # moto's EMR Serverless applications are STARTED at once and its job runs SUCCESS.
    base = "arn:aws:states:::emr-serverless:"
    out = output(run(task(base + "createApplication.sync", {"Name": "moto-app", "ReleaseLabel": "emr-6.9.0", "Type": "SPARK"})))
    app = out["ApplicationId"]
    out = output(run(task(base + "startJobRun.sync", {
        "ApplicationId": app, "ExecutionRoleArn": ROLE, "Name": "moto-run",
        "JobDriver": {"SparkSubmit": {"EntryPoint": "s3://b/job.py"}},
    })))
    eq(sorted(out), ["ApplicationId", "Arn", "JobRunId"])
    runs = moto("emr-serverless").list_job_runs(applicationId=app)["jobRuns"]
    eq([r["id"] for r in runs], [out["JobRunId"]], "one run started")
    for action in ["stopApplication", "deleteApplication"]:
        eq(output(run(task(base + action + ".sync", {"ApplicationId": app}))), {"ApplicationId": app})
    eq(moto("emr-serverless").get_application(applicationId=app)["application"]["state"], "TERMINATED")

    # moto's EKS resources are ACTIVE at once and gone once deleted.
    base = "arn:aws:states:::eks:"
    out = output(run(task(base + "createCluster.sync", {"Name": "moto-eks", "RoleArn": ROLE, "ResourcesVpcConfig": {"SubnetIds": ["subnet-1"]}})))
    eq(out["Cluster"]["Status"], "ACTIVE")
    out = output(run(task(base + "createNodegroup.sync", {"ClusterName": "moto-eks", "NodegroupName": "ng", "Subnets": ["subnet-1"], "NodeRole": ROLE})))
    eq(out["Nodegroup"]["Status"], "ACTIVE")
    output(run(task(base + "deleteNodegroup.sync", {"ClusterName": "moto-eks", "NodegroupName": "ng"})))
    output(run(task(base + "deleteCluster.sync", {"Name": "moto-eks"})))
    eq(moto("eks").list_clusters()["clusters"], [])

    # moto's EMR on EKS job runs never end: the task times out and the run is cancelled.
    base = "arn:aws:states:::emr-containers:"
    vc = output(run(task(base + "createVirtualCluster", {"Name": "moto-vc", "ContainerProvider": {
        "Id": "eks1", "Type": "EKS", "Info": {"EksInfo": {"Namespace": "ns"}}}})))["Id"]
    d = run(task(base + "startJobRun.sync", {
        "VirtualClusterId": vc, "Name": "moto-run", "ExecutionRoleArn": ROLE, "ReleaseLabel": "emr-6.2.0-latest",
        "JobDriver": {"SparkSubmitJobDriver": {"EntryPoint": "s3://b/job.py"}},
    }, TimeoutSeconds=2))
    eq(d["error"], "States.Timeout")
    deadline = time.monotonic() + 10
    while True:
        runs = moto("emr-containers").list_job_runs(virtualClusterId=vc)["jobRuns"]
        if [r["state"] for r in runs] == ["CANCELLED"]:
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.1)
    out = output(run(task(base + "deleteVirtualCluster.sync", {"Id": vc})))
    eq(out["VirtualCluster"]["State"], "TERMINATED")

    out = output(run(task("arn:aws:states:::sagemaker:createProcessingJob.sync", {
        "ProcessingJobName": "moto-proc", "RoleArn": ROLE, "AppSpecification": {"ImageUri": "img"},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
    })))
    eq(out["ProcessingJobStatus"], "Completed")

    # Not Bedrock's model customization jobs: moto finds them by name only, and Stepwise
    # describes and stops them by the job ARN CreateModelCustomizationJob answers (the API takes
    # either); the stand-in plays them.


def test_moto_a_missing_glue_job_fails_with_the_sdk_1_error_name():
    d = run(task("arn:aws:states:::glue:startJobRun.sync", {"JobName": "nope"}))
    eq(d["status"], "FAILED")
    eq(d["error"], "Glue.EntityNotFoundException")
    assert "(Service: AWSGlue; Status Code: 400; Error Code: EntityNotFoundException" in d["cause"], d["cause"]


# ----- a restart in the middle of polling ------------------------------------------------------

CRASH_JOB = "crash-batch-polls-25"


def crash_start(path):
    arn = start(
        task(
            "arn:aws:states:::batch:submitJob.sync",
            {"JobName": CRASH_JOB, "JobQueue": "q", "JobDefinition": "d"},
        )
    )
    deadline = time.monotonic() + 20
    while counts().get(CRASH_JOB, {}).get("describes", 0) < 2:
        assert time.monotonic() < deadline, "the job was never polled"
        time.sleep(0.05)
    with open(path, "w") as f:
        f.write(arn)
    print("CRASH START OK", arn, counts()[CRASH_JOB])


def crash_finish(path):
    with open(path) as f:
        arn = f.read().strip()
    d = wait_done(sfn, arn, timeout=60)
    out = output(d)
    eq(out["Status"], "SUCCEEDED")
    c = counts()[CRASH_JOB]
    eq(c["starts"], 1, "the job was started once, across the restart")
    assert c["describes"] >= 25, c
    t = types(arn)
    eq(t.count("TaskSubmitted"), 1)
    eq(t.count("TaskSucceeded"), 1)
    eq(t[-1], "ExecutionSucceeded")
    print("CRASH FINISH OK", c)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "crash-start":
        crash_start(sys.argv[2])
    elif mode == "crash-finish":
        crash_finish(sys.argv[2])
    else:
        prefix = "test_moto_" if mode == "moto" else "test_"
        tests = {
            k: v
            for k, v in globals().items()
            if k.startswith(prefix) and (mode == "moto" or not k.startswith("test_moto_"))
        }
        sys.argv = sys.argv[:1]
        run_tests(tests)
