"""Activities with a real worker thread: GetActivityTask (long poll), SendTaskHeartbeat,
SendTaskSuccess, SendTaskFailure caught by the machine's Catch, and the errors of each call."""

import json
import threading
import time

from common import (
    Worker,
    client,
    create_machine,
    definition,
    details,
    eq,
    error_of,
    event_types,
    expect_error,
    history,
    name,
    run_tests,
    wait_done,
)

sfn = client()


def activity_machine(activity, **task_extra):
    task = {
        "Type": "Task",
        "Resource": activity,
        "HeartbeatSeconds": 30,
        "Catch": [{"ErrorEquals": ["Worker.Failed"], "ResultPath": "$.error", "Next": "Handled"}],
        "End": True,
    }
    task.update(task_extra)
    return definition({"Work": task, "Handled": {"Type": "Pass", "End": True}})


def test_worker_success_heartbeat_and_failure():
    activity = sfn.create_activity(name=name("act"))["activityArn"]
    arn = create_machine(sfn, activity_machine(activity))
    seen = []

    def handle(inp, token, worker_sfn):
        seen.append((inp, token))
        worker_sfn.send_task_heartbeat(taskToken=token)
        if inp.get("fail"):
            return ("failure", "Worker.Failed", "it broke")
        return ("success", {"done": inp["n"]})

    # The worker is already long-polling when the executions start.
    worker = Worker(activity, handle, name="w-1")
    worker.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    ok = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')["executionArn"]
    d = wait_done(sfn, ok)
    eq(d["status"], "SUCCEEDED", "status")
    eq(json.loads(d["output"]), {"done": 1}, "the worker's output")
    assert time.monotonic() - t0 < 5, "a waiting long poll gets the task at once"
    events = history(sfn, ok)
    types = event_types(events)
    for t in ("ActivityScheduled", "ActivityStarted", "ActivitySucceeded"):
        eq(types.count(t), 1, t)
    scheduled = events[types.index("ActivityScheduled")]["activityScheduledEventDetails"]
    eq(scheduled["resource"], activity, "scheduled resource")
    eq(json.loads(scheduled["input"]), {"n": 1}, "scheduled input")
    eq(scheduled["heartbeatInSeconds"], 30, "heartbeat")
    eq(events[types.index("ActivityStarted")]["activityStartedEventDetails"]["workerName"], "w-1", "workerName")
    eq(
        json.loads(events[types.index("ActivitySucceeded")]["activitySucceededEventDetails"]["output"]),
        {"done": 1},
        "succeeded output",
    )

    failed = sfn.start_execution(stateMachineArn=arn, input='{"n": 2, "fail": true}')["executionArn"]
    d = wait_done(sfn, failed)
    eq(d["status"], "SUCCEEDED", "the Catch handled the failure")
    eq(
        json.loads(d["output"]),
        {"n": 2, "fail": True, "error": {"Error": "Worker.Failed", "Cause": "it broke"}},
        "output with the caught error",
    )
    events = history(sfn, failed)
    types = event_types(events)
    eq(types.count("ActivityFailed"), 1, "ActivityFailed")
    eq(
        events[types.index("ActivityFailed")]["activityFailedEventDetails"],
        {"error": "Worker.Failed", "cause": "it broke"},
        "failure details",
    )
    worker.stop()
    eq(worker.errors, [], "worker errors")
    eq(len(seen), 2, "tasks the worker got")


def test_uncaught_failure_fails_the_execution():
    activity = sfn.create_activity(name=name("act"))["activityArn"]
    arn = create_machine(sfn, activity_machine(activity))
    worker = Worker(activity, lambda inp, token, s: ("failure", "Other.Error", "not caught"))
    worker.start()
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "FAILED", "status")
    eq(d["error"], "Other.Error", "error")
    eq(d["cause"], "not caught", "cause")
    worker.stop()
    eq(worker.errors, [], "worker errors")


def test_token_errors():
    expect_error("InvalidToken", sfn.send_task_success, taskToken="bogus", output="{}")
    expect_error("InvalidToken", sfn.send_task_failure, taskToken="bogus")
    expect_error("InvalidToken", sfn.send_task_heartbeat, taskToken="bogus")
    activity = sfn.create_activity(name=name("act"))["activityArn"]
    arn = create_machine(sfn, activity_machine(activity))
    e = sfn.start_execution(stateMachineArn=arn, input='{"n": 3}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="manual")
    token = task["taskToken"]
    eq(json.loads(task["input"]), {"n": 3}, "task input")
    # Jackson's words (AWS parses with Jackson) behind the prefix InvalidOutput has here.
    expect_error(
        "InvalidOutput",
        sfn.send_task_success,
        taskToken=token,
        output="{'not': 'json'}",
        message="Invalid Output: 'Unexpected character (''' (code 39)): was expecting double-quote to start field name'",
    )
    # The bad answer changed nothing: the task still takes a good one.
    sfn.send_task_success(taskToken=token, output='{"fine": true}')
    eq(json.loads(wait_done(sfn, e)["output"]), {"fine": True}, "output")


def test_missing_activity():
    real = sfn.create_activity(name=name("act"))["activityArn"]
    missing = real.rsplit(":", 1)[0] + ":" + name("missing")
    expect_error(
        "ActivityDoesNotExist",
        sfn.get_activity_task,
        activityArn=missing,
        message=f"Activity Does Not Exist: '{missing}'",
    )
    expect_error("InvalidArn", sfn.get_activity_task, activityArn="not-an-arn")


def test_answered_token_is_closed():
    """AWS answers a token whose task is closed (already answered, timed out, or its execution
    ended) with TaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'" (API
    reference: "the task associated with the token has already been closed")."""
    activity = sfn.create_activity(name=name("act"))["activityArn"]
    arn = create_machine(sfn, activity_machine(activity))
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = sfn.get_activity_task(activityArn=activity)["taskToken"]
    sfn.send_task_success(taskToken=token, output="{}")
    wait_done(sfn, e)
    for call, extra in (
        (sfn.send_task_success, {"output": "{}"}),
        (sfn.send_task_failure, {}),
        (sfn.send_task_heartbeat, {}),
    ):
        code, message, _ = error_of(call, taskToken=token, **extra)
        eq(
            (code, message),
            ("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'"),
            f"{call.__name__} on an answered token",
        )


def test_heartbeat_timeout():
    activity = sfn.create_activity(name=name("act"))["activityArn"]
    arn = create_machine(
        sfn,
        definition(
            {
                "Work": {
                    "Type": "Task",
                    "Resource": activity,
                    "HeartbeatSeconds": 2,
                    "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Late"}],
                    "End": True,
                },
                "Late": {"Type": "Pass", "Result": "late", "End": True},
            }
        ),
    )
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    # Take the task and never answer it.
    got = {}
    poller = threading.Thread(
        target=lambda: got.update(client().get_activity_task(activityArn=activity)), daemon=True
    )
    poller.start()
    d = wait_done(sfn, e, timeout=30)
    eq(d["status"], "SUCCEEDED", "status")
    eq(json.loads(d["output"]), "late", "the Catch of States.HeartbeatTimeout ran")
    events = history(sfn, e)
    timed_out = [ev for ev in events if ev["type"] == "ActivityTimedOut"]
    eq(len(timed_out), 1, "ActivityTimedOut")
    # AWS's recordings name a missed heartbeat States.Timeout in the history.
    eq(details(timed_out[0])["error"], "States.Timeout", "error")
    assert got.get("taskToken"), got


if __name__ == "__main__":
    run_tests(globals())
