"""A stand-in for the job services of the `.sync` integrations (Glue, Athena, Batch, ECS,
CodeBuild, EMR, SageMaker): each start action starts a job that is described as running for a few polls, then
as over. Run as `job_stand_in.py PORT`; the Rust harness (e2e_sync.rs) points `stepwise serve`
at it with AWS_ENDPOINT_URL. It plays only what the integrations call: the start, describe and
stop actions, in each service's wire protocol (JSON with X-Amz-Target; Batch's REST paths).

A job's name says how it goes: `fail` in it ends it in the service's failure state, `slow` keeps
it running until it is stopped, and `polls-N` makes it run for N describes (default 3).
`GET /counts` answers how many starts, describes and stops each job had, by job name.
"""

import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
JOBS = {}  # id -> {"name", "kind", "polls", "stopped"}
COUNTS = {}  # name -> {"starts", "describes", "stops"}
NOW = 1700000000.5


def count(name, what):
    COUNTS.setdefault(name, {"starts": 0, "describes": 0, "stops": 0})[what] += 1


def start(kind, name):
    job_id = str(uuid.uuid4())
    with LOCK:
        JOBS[job_id] = {"name": name, "kind": kind, "polls": 0, "stopped": False}
        count(name, "starts")
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
    if action == "StartBuild":
        build_id = body["projectName"] + ":" + start("codebuild", body["projectName"])
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
    for kind in ("Training", "Transform"):
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
            self.answer(404, {})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        target = self.headers.get("X-Amz-Target")
        try:
            if target:
                service, action = target.split(".", 1)
                self.answer(200, SERVICES[service](action, body))
            else:
                self.answer(200, batch(self.path, body))
        except KeyError as e:
            self.answer(400, {"__type": "InvalidRequestException", "message": f"not played: {e}"})


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
