"""`.sync` Task states of the job integrations (Glue, Athena, Batch, ECS, CodeBuild) through
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
        job = f"ok-{action.split(':')[1]}"
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
        elif action.endswith("TransformJob"):
            eq(out["TransformJobStatus"], "Completed")
        else:
            eq(out["Build"]["BuildStatus"], "SUCCEEDED")
        t = types(arn)
        eq(
            t[2:6],
            ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"],
            action,
        )


def test_a_job_that_fails_fails_the_task_with_its_description():
    for action, params in STAND_IN_CASES:
        job = f"fail-{action.split(':')[1]}"
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
        job = f"slow-stop-{action.split(':')[1]}"
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
    job = "slow-timeout-batch"
    d = run(
        task(
            "arn:aws:states:::batch:submitJob.sync",
            {"JobName": job, "JobQueue": "q", "JobDefinition": "d"},
            TimeoutSeconds=1,
        )
    )
    eq(d["status"], "FAILED")
    eq(d["error"], "States.Timeout")
    deadline = time.monotonic() + 10
    while counts()[job]["stops"] < 1:
        assert time.monotonic() < deadline, "the job was not terminated"
        time.sleep(0.05)


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
