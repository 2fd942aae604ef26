"""A stand-in for the job services of the `.sync` integrations (Glue, Athena, Batch, ECS,
CodeBuild, EMR, EMR Serverless, EMR on EKS, EKS, DataBrew, SageMaker, Bedrock): each start
action starts a job that is described as running for a few polls, then as over. Run as
`job_stand_in.py PORT`; the Rust harness (e2e_sync.rs) points `stepwise serve` at it with
AWS_ENDPOINT_URL. It plays only what the integrations call: the start, describe and stop
actions, in each service's wire protocol (JSON with X-Amz-Target; the REST-JSON services' paths,
told apart by the service their SigV4 signature names).

A job's name says how it goes: `fail` in it ends it in the service's failure state, `slow` keeps
it running until it is stopped, and `polls-N` makes it run for N describes (default 3).
`GET /counts` answers how many starts, describes and stops each job had, by job name, and the
idempotency token its (last) start carried (`token`, when it had one).
"""

import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

LOCK = threading.Lock()
JOBS = {}  # id -> {"name", "kind", "polls", "stopped"}
COUNTS = {}  # name -> {"starts", "describes", "stops"}
NOW = 1700000000.5


def count(name, what):
    COUNTS.setdefault(name, {"starts": 0, "describes": 0, "stops": 0})[what] += 1


def start(kind, name, token=None):
    job_id = uuid.uuid4().hex
    with LOCK:
        JOBS[job_id] = {"name": name, "kind": kind, "polls": 0, "stopped": False}
        count(name, "starts")
        if token:
            COUNTS[name]["token"] = token
    return job_id


def status(job_id):
    """Describes a job once: "RUNNING", "SUCCEEDED", "FAILED" or "STOPPED"."""
    with LOCK:
        job = JOBS[job_id]
        job["polls"] += 1
        count(job["name"], "describes")
        name = job["name"]
        if job["stopped"]:
            return "STOPPED"
        needed = 3
        m = re.search(r"polls-(\d+)", name)
        if m:
            needed = int(m.group(1))
        if "slow" in name or job["polls"] < needed:
            return "RUNNING"
        return "FAILED" if "fail" in name else "SUCCEEDED"


def stop(job_id):
    with LOCK:
        job = JOBS.get(job_id)
        if job:
            job["stopped"] = True
            count(job["name"], "stops")


def glue(action, body):
    if action == "StartJobRun":
        return {"JobRunId": "jr_" + start("glue", body["JobName"])}
    if action == "GetJobRun":
        run_id = body["RunId"]
        s = status(run_id[3:])
        state = {"RUNNING": "RUNNING", "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED"}.get(s, "STOPPED")
        run = {
            "Id": run_id,
            "JobName": body["JobName"],
            "JobRunState": state,
            "StartedOn": NOW,
            "Attempt": 0,
        }
        if state == "FAILED":
            run["ErrorMessage"] = "the job failed"
        return {"JobRun": run}
    if action == "BatchStopJobRun":
        for run_id in body["JobRunIds"]:
            stop(run_id[3:])
        return {"SuccessfulSubmissions": [{"JobName": body["JobName"], "JobRunId": r} for r in body["JobRunIds"]], "Errors": []}
    raise KeyError(action)


def athena(action, body):
    if action == "StartQueryExecution":
        return {"QueryExecutionId": start("athena", body.get("WorkGroup") or body["QueryString"])}
    if action == "GetQueryExecution":
        qid = body["QueryExecutionId"]
        s = status(qid)
        state = {"STOPPED": "CANCELLED"}.get(s, s)
        return {
            "QueryExecution": {
                "QueryExecutionId": qid,
                "Query": "SELECT 1",
                "WorkGroup": JOBS[qid]["name"],
                "Status": {"State": state, "SubmissionDateTime": NOW},
            }
        }
    if action == "StopQueryExecution":
        stop(body["QueryExecutionId"])
        return {}
    raise KeyError(action)


def ecs(action, body):
    if action == "RunTask":
        arn = "arn:aws:ecs:us-east-1:123456789012:task/c/" + start("ecs", body.get("group") or body["taskDefinition"])
        return {"tasks": [{"taskArn": arn, "lastStatus": "PROVISIONING"}], "failures": []}
    if action == "DescribeTasks":
        tasks = []
        for arn in body["tasks"]:
            job_id = arn.rsplit("/", 1)[1]
            s = status(job_id)
            task = {
                "taskArn": arn,
                "group": JOBS[job_id]["name"],
                "lastStatus": "RUNNING" if s == "RUNNING" else "STOPPED",
                "createdAt": NOW,
            }
            if s != "RUNNING":
                task["containers"] = [{"name": "app", "exitCode": 0 if s == "SUCCEEDED" else 1}]
                task["stopCode"] = "EssentialContainerExited"
            tasks.append(task)
        return {"tasks": tasks, "failures": []}
    if action == "StopTask":
        stop(body["task"].rsplit("/", 1)[1])
        return {"task": {"taskArn": body["task"], "lastStatus": "STOPPED"}}
    raise KeyError(action)


def codebuild(action, body):
    if action in ("StartBuildBatch", "RetryBuildBatch"):
        project = body.get("projectName") or body["id"].split(":", 1)[0]
        batch_id = project + ":" + start("codebuild", project, body.get("idempotencyToken"))
        return {"buildBatch": {"id": batch_id, "buildBatchStatus": "IN_PROGRESS", "startTime": NOW}}
    if action == "BatchGetBuildBatches":
        batches = []
        for batch_id in body["ids"]:
            s = status(batch_id.split(":", 1)[1])
            state = {"RUNNING": "IN_PROGRESS"}.get(s, s)
            batches.append({"id": batch_id, "buildBatchStatus": state, "startTime": NOW,
                            "projectName": batch_id.split(":", 1)[0]})
        return {"buildBatches": batches, "buildBatchesNotFound": []}
    if action == "StopBuildBatch":
        stop(body["id"].split(":", 1)[1])
        return {"buildBatch": {"id": body["id"], "buildBatchStatus": "STOPPED"}}
    if action in ("StartBuild", "RetryBuild"):
        project = body.get("projectName") or body["id"].split(":", 1)[0]
        build_id = project + ":" + start("codebuild", project, body.get("idempotencyToken"))
        return {"build": {"id": build_id, "buildStatus": "IN_PROGRESS", "startTime": NOW}}
    if action == "BatchGetBuilds":
        builds = []
        for build_id in body["ids"]:
            s = status(build_id.split(":", 1)[1])
            state = {"RUNNING": "IN_PROGRESS"}.get(s, s)
            builds.append({"id": build_id, "buildStatus": state, "startTime": NOW})
        return {"builds": builds, "buildsNotFound": []}
    if action == "StopBuild":
        stop(body["id"].split(":", 1)[1])
        return {"build": {"id": body["id"], "buildStatus": "STOPPED"}}
    raise KeyError(action)


def batch(path, body):
    if path == "/v1/submitjob":
        job_id = start("batch", body["jobName"])
        return {"jobArn": "arn:aws:batch:us-east-1:123456789012:job/" + job_id, "jobId": job_id, "jobName": body["jobName"]}
    if path == "/v1/describejobs":
        jobs = []
        for job_id in body["jobs"]:
            s = status(job_id)
            state = {"RUNNING": "RUNNING", "SUCCEEDED": "SUCCEEDED"}.get(s, "FAILED")
            jobs.append({"jobId": job_id, "jobName": JOBS[job_id]["name"], "status": state, "createdAt": 1700000000500})
        return {"jobs": jobs}
    if path == "/v1/terminatejob":
        stop(body["jobId"])
        return {}
    raise KeyError(path)


TERMINATED = {}  # EMR cluster id -> describes left before it is TERMINATED


def emr(action, body):
    if action == "RunJobFlow":
        cluster = "j-" + start("emr", body["Name"])
        return {"JobFlowId": cluster, "ClusterArn": "arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/" + cluster}
    if action == "DescribeCluster":
        cluster = body["ClusterId"]
        with LOCK:
            left = TERMINATED.get(cluster)
            if left is not None:
                TERMINATED[cluster] = left - 1
        if left is not None:
            state = "TERMINATED" if left <= 0 else "TERMINATING"
        else:
            s = status(cluster[2:])
            state = {"RUNNING": "STARTING", "SUCCEEDED": "WAITING"}.get(s, "TERMINATED_WITH_ERRORS")
        return {"Cluster": {"Id": cluster, "Name": JOBS[cluster[2:]]["name"], "Status": {
            "State": state, "Timeline": {"CreationDateTime": NOW}}}}
    if action == "TerminateJobFlows":
        with LOCK:
            for cluster in body["JobFlowIds"]:
                TERMINATED[cluster] = 2
                count(JOBS[cluster[2:]]["name"], "stops")
        return {}
    if action == "AddJobFlowSteps":
        assert len(body["Steps"]) == 1, body
        return {"StepIds": ["s-" + start("emr", body["Steps"][0]["Name"])]}
    if action == "DescribeStep":
        step = body["StepId"]
        s = status(step[2:])
        state = {"SUCCEEDED": "COMPLETED", "STOPPED": "CANCELLED"}.get(s, s)
        return {"Step": {"Id": step, "Name": JOBS[step[2:]]["name"], "Status": {
            "State": state, "Timeline": {"CreationDateTime": NOW}}}}
    if action == "CancelSteps":
        for step in body["StepIds"]:
            stop(step[2:])
        return {"CancelStepsInfoList": [{"StepId": s, "Status": "SUBMITTED"} for s in body["StepIds"]]}
    raise KeyError(action)


def sagemaker(action, body):
    for kind in ("Training", "Transform", "HyperParameterTuning", "Labeling", "Processing"):
        member = f"{kind}JobName"
        if action == f"Create{kind}Job":
            job_id = start("sagemaker", body[member])
            with LOCK:
                JOBS[body[member]] = JOBS[job_id]
            return {f"{kind}JobArn": f"arn:aws:sagemaker:us-east-1:123456789012:{kind.lower()}-job/{body[member]}"}
        if action == f"Describe{kind}Job":
            s = status(body[member])
            state = {"RUNNING": "InProgress", "SUCCEEDED": "Completed", "FAILED": "Failed"}.get(s, "Stopped")
            return {member: body[member], f"{kind}JobStatus": state, "CreationTime": NOW}
        if action == f"Stop{kind}Job":
            stop(body[member])
            return {}
    raise KeyError(action)


def not_found(what):
    return 404, {"__type": "ResourceNotFoundException", "message": f"{what} not found"}


def phase(job_id, running, done, failed):
    """A resource's state while the job that changes it runs, once it is over, or once it failed."""
    s = status(job_id)
    return {"RUNNING": running, "SUCCEEDED": done, "FAILED": failed}.get(s, failed)


APPS = {}  # EMR Serverless application id -> {"name", "job", "states": (running, done, failed)}
GONE = set()  # ids of deleted resources


def emr_serverless(method, parts, body):
    # /applications[/{id}[/start|/stop|/jobruns[/{run}]]]
    if parts == ["applications"] and method == "POST":
        app_id = start("emr-serverless", body["name"], body.get("clientToken"))
        with LOCK:
            APPS[app_id] = {"name": body["name"], "job": app_id, "states": ("CREATING", "CREATED", "TERMINATED")}
        return 200, {"applicationId": app_id, "name": body["name"], "arn": "arn:aws:emr-serverless:us-east-1:123456789012:/applications/" + app_id}
    app_id = parts[1]
    app = APPS.get(app_id)
    if app is None and parts[2:3] == ["jobruns"]:
        app = {"name": app_id}  # job runs need no application made here first
    if app is None:
        return not_found(f"Application {app_id}")
    if len(parts) == 2 and method == "GET":
        running, done, failed = app["states"]
        state = phase(app["job"], running, done, failed)
        if state == "TERMINATED" and app_id in GONE:
            return not_found(f"Application {app_id}")
        return 200, {"application": {"applicationId": app_id, "name": app["name"], "state": state,
                                     "arn": "arn:app/" + app_id, "releaseLabel": "emr-6.9.0", "type": "SPARK",
                                     "createdAt": NOW, "updatedAt": NOW}}
    transitions = {("POST", "start"): ("STARTING", "STARTED", "STOPPED"),
                   ("POST", "stop"): ("STOPPING", "STOPPED", "TERMINATED"),
                   ("DELETE", None): ("STOPPED", "TERMINATED", "STOPPED")}
    key = (method, parts[2] if len(parts) == 3 else None)
    if key in transitions and len(parts) <= 3:
        job = start("emr-serverless", app["name"])
        with LOCK:
            app["job"], app["states"] = job, transitions[key]
        return 200, {}
    if parts[2:] == ["jobruns"] and method == "POST":
        run = start("emr-serverless", body.get("name") or app["name"], body.get("clientToken"))
        return 200, {"applicationId": app_id, "jobRunId": run, "arn": f"arn:app/{app_id}/jobruns/{run}"}
    if len(parts) == 4 and parts[2] == "jobruns":
        run = parts[3]
        if method == "GET":
            state = {"RUNNING": "RUNNING", "SUCCEEDED": "SUCCESS", "FAILED": "FAILED"}.get(status(run), "CANCELLED")
            return 200, {"jobRun": {"applicationId": app_id, "jobRunId": run, "name": JOBS[run]["name"],
                                    "arn": f"arn:app/{app_id}/jobruns/{run}", "state": state,
                                    "stateDetails": "", "releaseLabel": "emr-6.9.0", "createdBy": "me",
                                    "executionRole": "arn:role", "createdAt": NOW, "updatedAt": NOW,
                                    "jobDriver": {}}}
        if method == "DELETE":
            stop(run)
            return 200, {"applicationId": app_id, "jobRunId": run}
    raise KeyError(f"{method} /{'/'.join(parts)}")


CLUSTERS = {}  # EMR on EKS virtual cluster id -> {"name", "job"}


def emr_containers(method, parts, body):
    # /virtualclusters[/{id}[/jobruns[/{run}]]]
    if parts == ["virtualclusters"] and method == "POST":
        vc = start("emr-containers", body["name"], body.get("clientToken"))
        with LOCK:
            CLUSTERS[vc] = {"name": body["name"], "job": None}
        return 200, {"id": vc, "name": body["name"], "arn": "arn:vc/" + vc}
    vc = parts[1]
    if len(parts) == 2:
        cluster = CLUSTERS.get(vc)
        if cluster is None:
            return not_found(f"Virtual cluster {vc}")
        if method == "DELETE":
            job = start("emr-containers", cluster["name"])
            with LOCK:
                cluster["job"] = job
            return 200, {"id": vc}
        if method == "GET":
            state = "RUNNING" if cluster["job"] is None else phase(cluster["job"], "TERMINATING", "TERMINATED", "ARRESTED")
            return 200, {"virtualCluster": {"id": vc, "name": cluster["name"], "state": state, "createdAt": NOW}}
    if parts[2:] == ["jobruns"] and method == "POST":
        run = start("emr-containers", body["name"], body.get("clientToken"))
        return 200, {"id": run, "name": body["name"], "arn": "arn:run/" + run, "virtualClusterId": vc}
    if len(parts) == 4:
        run = parts[3]
        if method == "GET":
            state = {"RUNNING": "RUNNING", "SUCCEEDED": "COMPLETED", "FAILED": "FAILED"}.get(status(run), "CANCELLED")
            return 200, {"jobRun": {"id": run, "name": JOBS[run]["name"], "virtualClusterId": vc,
                                    "state": state, "createdAt": NOW}}
        if method == "DELETE":
            stop(run)
            return 200, {"id": run, "virtualClusterId": vc}
    raise KeyError(f"{method} /{'/'.join(parts)}")


EKS = {}  # (kind, cluster, name) -> {"job", "deleting"}


def eks(method, parts, body):
    # /clusters[/{name}[/node-groups|/fargate-profiles[/{name}]]]
    members = {"node-groups": ("nodegroup", "nodegroupName", "CREATE_FAILED", "DELETE_FAILED"),
               "fargate-profiles": ("fargateProfile", "fargateProfileName", "CREATE_FAILED", "DELETE_FAILED")}
    if len(parts) in (1, 2):
        member, name_key, create_failed, delete_failed = "cluster", "name", "FAILED", "FAILED"
        cluster = body.get("name") if len(parts) == 1 else parts[1]
        name = cluster
    else:
        member, name_key, create_failed, delete_failed = members[parts[2]]
        cluster = parts[1]
        name = body.get(name_key) if len(parts) == 3 else parts[3]
    key = (member, cluster, name)

    def describe(entry):
        if entry["deleting"]:
            state = phase(entry["job"], "DELETING", "GONE", delete_failed)
        else:
            state = phase(entry["job"], "CREATING", "ACTIVE", create_failed)
        out = {"status": state, "createdAt": NOW}
        if member == "cluster":
            out["name"] = name
        else:
            out.update({"clusterName": cluster, name_key: name})
        return out

    if method == "POST":
        job = start("eks", name, body.get("clientRequestToken"))
        with LOCK:
            EKS[key] = {"job": job, "deleting": False}
        return 200, {member: describe(EKS[key])}
    entry = EKS.get(key)
    if entry is None:
        return not_found(f"{member} {name}")
    if method == "DELETE":
        job = start("eks", name)
        with LOCK:
            entry["job"], entry["deleting"] = job, True
        return 200, {member: describe(entry)}
    if method == "GET":
        out = describe(entry)
        if out["status"] == "GONE":
            with LOCK:
                EKS.pop(key, None)
            return not_found(f"{member} {name}")
        return 200, {member: out}
    raise KeyError(f"{method} /{'/'.join(parts)}")


def databrew(method, parts, body):
    # /jobs/{name}/startJobRun, /jobs/{name}/jobRun/{runId}[/stopJobRun]
    name = parts[1]
    if parts[2:] == ["startJobRun"]:
        return 200, {"RunId": "db_" + start("databrew", name)}
    run = parts[3]
    if parts[4:] == ["stopJobRun"]:
        stop(run[3:])
        return 200, {"RunId": run}
    state = {"RUNNING": "RUNNING", "SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED"}.get(status(run[3:]), "STOPPED")
    out = {"RunId": run, "JobName": name, "State": state, "StartedOn": NOW, "Attempt": 0}
    if state == "FAILED":
        out["ErrorMessage"] = "the job failed"
    return 200, out


def bedrock(method, parts, body):
    # /model-customization-jobs[/{jobIdentifier}[/stop]]
    if parts == ["model-customization-jobs"]:
        job = start("bedrock", body["jobName"], body.get("clientRequestToken"))
        return 200, {"jobArn": "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/" + job}
    arn = unquote(parts[1])
    job = arn.rsplit("/", 1)[1]
    if parts[2:] == ["stop"]:
        stop(job)
        return 200, {}
    state = {"RUNNING": "InProgress", "SUCCEEDED": "Completed", "FAILED": "Failed"}.get(status(job), "Stopped")
    return 200, {"jobArn": arn, "jobName": JOBS[job]["name"], "status": state, "creationTime": NOW,
                 "roleArn": "arn:role", "baseModelArn": "arn:base", "outputModelName": "m",
                 "trainingDataConfig": {"s3Uri": "s3://b/t"}, "outputDataConfig": {"s3Uri": "s3://b/o"}}


REST = {
    "emr-serverless": emr_serverless,
    "emr-containers": emr_containers,
    "eks": eks,
    "databrew": databrew,
    "bedrock": bedrock,
}


def signed_for(headers):
    """The service a SigV4 signature names (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`)."""
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("Authorization") or "")
    return m.group(1) if m else None


SERVICES = {
    "ElasticMapReduce": emr,
    "SageMaker": sagemaker,
    "AWSGlue": glue,
    "AmazonAthena": athena,
    "AmazonEC2ContainerServiceV20141113": ecs,
    "CodeBuild_20161006": codebuild,
}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/counts":
            with LOCK:
                self.answer(200, COUNTS)
        else:
            self.handle_any()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        target = self.headers.get("X-Amz-Target")
        service = signed_for(self.headers)
        try:
            if target:
                service, action = target.split(".", 1)
                self.answer(200, SERVICES[service](action, body))
            elif service in REST:
                parts = [p for p in urlsplit(self.path).path.split("/") if p]
                self.answer(*REST[service](self.command, parts, body))
            else:
                self.answer(200, batch(self.path, body))
        except KeyError as e:
            self.answer(400, {"__type": "InvalidRequestException", "message": f"not played: {e}"})

    do_POST = do_DELETE = handle_any


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
