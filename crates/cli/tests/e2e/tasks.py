"""Task states that wait: .waitForTaskToken callbacks (signed tokens, SendTaskSuccess/Failure,
heartbeats and timeouts) and nested executions (startExecution, .sync, .sync:2), through boto3.

The callee of every callback here is a child execution started with
`states:startExecution.waitForTaskToken`: the test reads the token from the child's input, as a
worker would, and answers with SendTask*.
"""

import json
import time

from common import (
    client, create_machine, definition, details, eq, event_types, expect_error, history,
    run_tests, wait_done,
)

sfn = client()

HOLD = definition({"Hold": {"Type": "Wait", "Seconds": 100000, "End": True}})


def callback_machine(child, extra=None, catch=None):
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
        "Parameters": {
            "StateMachineArn": child,
            "Input": {"token.$": "$$.Task.Token", "order.$": "$.order"},
        },
        "End": True,
    }
    task.update(extra or {})
    states = {"Call": task}
    if catch:
        task["Catch"] = [{"ErrorEquals": [catch], "Next": "Caught", "ResultPath": "$.error"}]
        states["Caught"] = {"Type": "Pass", "End": True}
    return definition(states)


def token_of_child(child, timeout=20.0):
    """Waits for the child execution the callback task started; returns (child arn, token)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=child, statusFilter="RUNNING")["executions"]
        if running:
            arn = running[0]["executionArn"]
            return arn, json.loads(sfn.describe_execution(executionArn=arn)["input"])["token"]
        time.sleep(0.05)
    raise AssertionError("the callback task did not start its child")


def start(machine, payload):
    return sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]


def test_a_callback_completes_the_task():
    child = create_machine(sfn, HOLD, prefix="worker")
    parent = create_machine(sfn, callback_machine(child), prefix="callback")
    arn = start(parent, {"order": 7})
    _, token = token_of_child(child)
    assert "{" not in token and "order" not in token, f"tokens are opaque: {token}"
    eq(sfn.describe_execution(executionArn=arn)["status"], "RUNNING", "waiting for the token")
    sfn.send_task_success(taskToken=token, output=json.dumps({"shipped": 7}))
    d = wait_done(sfn, arn)
    eq(d["status"], "SUCCEEDED", "status")
    eq(json.loads(d["output"]), {"shipped": 7}, "the task's result is what the worker sent")
    types = event_types(history(sfn, arn))
    eq(
        [t for t in types if t.startswith("Task") and not t.startswith("TaskState")],
        ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"],
        "task events",
    )
    submitted = next(e for e in history(sfn, arn) if e["type"] == "TaskSubmitted")
    out = json.loads(details(submitted)["output"])
    assert out["ExecutionArn"].startswith("arn:aws:states:"), out


def test_a_callback_failure_is_caught_by_its_error_name():
    child = create_machine(sfn, HOLD, prefix="worker")
    parent = create_machine(sfn, callback_machine(child, catch="Order.Rejected"), prefix="callback")
    arn = start(parent, {"order": 8})
    _, token = token_of_child(child)
    sfn.send_task_failure(taskToken=token, error="Order.Rejected", cause="out of stock")
    d = wait_done(sfn, arn)
    eq(d["status"], "SUCCEEDED", "caught")
    eq(json.loads(d["output"])["error"], {"Error": "Order.Rejected", "Cause": "out of stock"}, "error")


def test_forged_tampered_and_spent_tokens():
    child = create_machine(sfn, HOLD, prefix="worker")
    parent = create_machine(sfn, callback_machine(child), prefix="callback")
    arn = start(parent, {"order": 9})
    _, token = token_of_child(child)
    expect_error("InvalidToken", sfn.send_task_success, taskToken="not-a-token", output="{}")
    # Change one character of the claims: the signature no longer matches.
    body, sig = token.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    expect_error("InvalidToken", sfn.send_task_success, taskToken=f"{flipped}.{sig}", output="{}")
    expect_error("InvalidToken", sfn.send_task_heartbeat, taskToken=body)
    sfn.send_task_success(taskToken=token, output="{}")
    eq(wait_done(sfn, arn)["status"], "SUCCEEDED", "status")
    expect_error("TaskTimedOut", sfn.send_task_success, taskToken=token, output="{}")


def test_heartbeats_keep_a_callback_alive_until_they_stop():
    child = create_machine(sfn, HOLD, prefix="worker")
    parent = create_machine(sfn, callback_machine(child, {"HeartbeatSeconds": 2}), prefix="heartbeat")
    arn = start(parent, {"order": 10})
    _, token = token_of_child(child)
    began = time.monotonic()
    while time.monotonic() - began < 3.5:
        sfn.send_task_heartbeat(taskToken=token)
        time.sleep(0.4)
    eq(sfn.describe_execution(executionArn=arn)["status"], "RUNNING", "alive while heartbeats come")
    d = wait_done(sfn, arn, timeout=15)
    eq((d["status"], d.get("error")), ("FAILED", "States.Timeout"), "after they stop (AWS names a missed heartbeat States.Timeout)")
    assert "TaskTimedOut" in event_types(history(sfn, arn))
    expect_error("TaskTimedOut", sfn.send_task_success, taskToken=token, output="{}")


def test_a_task_timeout_fires():
    child = create_machine(sfn, HOLD, prefix="worker")
    parent = create_machine(sfn, callback_machine(child, {"TimeoutSeconds": 1}), prefix="timeout")
    arn = start(parent, {"order": 11})
    d = wait_done(sfn, arn, timeout=15)
    eq((d["status"], d.get("error")), ("FAILED", "States.Timeout"), "timed out")
    timed_out = next(e for e in history(sfn, arn) if e["type"] == "TaskTimedOut")
    eq(details(timed_out)["error"], "States.Timeout", "TaskTimedOut's error")


def nest(child, resource_suffix, extra_params=None):
    params = {
        "StateMachineArn": child,
        "Input": {"from.$": "$", "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
    }
    params.update(extra_params or {})
    return definition({
        "Run": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution" + resource_suffix,
            "Parameters": params,
            "End": True,
        }
    })


def test_sync_three_deep():
    leaf = create_machine(sfn, definition({"Leaf": {"Type": "Pass", "Result": {"depth": 3}, "End": True}}), prefix="leaf")
    middle = create_machine(sfn, nest(leaf, ".sync:2"), prefix="middle")
    top = create_machine(sfn, nest(middle, ".sync"), prefix="top")
    arn = start(top, {"hello": "world"})
    d = wait_done(sfn, arn)
    eq(d["status"], "SUCCEEDED", "top")
    out = json.loads(d["output"])
    eq(out["Status"], "SUCCEEDED", "middle's status")
    assert isinstance(out["Output"], str), ".sync gives Output as JSON text"
    middle_out = json.loads(out["Output"])
    eq(middle_out["Output"], {"depth": 3}, ".sync:2 gives Output as JSON")
    eq(middle_out["Input"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"], out["ExecutionArn"], "started by")
    eq(json.loads(out["Input"])["from"], {"hello": "world"}, "middle's input")
    for e in (out["ExecutionArn"], middle_out["ExecutionArn"]):
        eq(sfn.describe_execution(executionArn=e)["status"], "SUCCEEDED", e)
    types = event_types(history(sfn, arn))
    assert types.index("TaskSubmitted") < types.index("TaskSucceeded"), types


def test_a_failed_child_fails_the_sync_task():
    leaf = create_machine(sfn, definition({"Boom": {"Type": "Fail", "Error": "Deep.Failure", "Cause": "at the bottom"}}), prefix="leaf")
    middle = create_machine(sfn, nest(leaf, ".sync"), prefix="middle")
    top = create_machine(sfn, nest(middle, ".sync"), prefix="top")
    arn = start(top, {})
    d = wait_done(sfn, arn)
    eq((d["status"], d["error"]), ("FAILED", "States.TaskFailed"), "top")
    cause = json.loads(d["cause"])
    eq((cause["Status"], cause["Error"]), ("FAILED", "States.TaskFailed"), "middle in the cause")
    inner = json.loads(cause["Cause"])
    eq((inner["Error"], inner["Cause"]), ("Deep.Failure", "at the bottom"), "leaf in the middle's cause")


def test_stopping_a_parent_stops_its_sync_child():
    slow = create_machine(sfn, HOLD, prefix="slow")
    top = create_machine(sfn, nest(slow, ".sync"), prefix="top")
    arn = start(top, {})
    deadline = time.monotonic() + 20
    while not sfn.list_executions(stateMachineArn=slow)["executions"]:
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    child = sfn.list_executions(stateMachineArn=slow)["executions"][0]["executionArn"]
    # Wait for TaskSubmitted, so that the parent knows its child.
    while "TaskSubmitted" not in event_types(history(sfn, arn)):
        assert time.monotonic() < deadline, "no TaskSubmitted"
        time.sleep(0.05)
    sfn.stop_execution(executionArn=arn, error="Stop.Test", cause="stopping the parent")
    eq(wait_done(sfn, arn)["status"], "ABORTED", "parent")
    eq(wait_done(sfn, child)["status"], "ABORTED", "child")


def test_request_response_start_returns_at_once():
    slow = create_machine(sfn, HOLD, prefix="slow")
    top = create_machine(sfn, nest(slow, "", {"Name": "fixed-child-name"}), prefix="top")
    arn = start(top, {})
    d = wait_done(sfn, arn)
    eq(d["status"], "SUCCEEDED", "top")
    out = json.loads(d["output"])
    assert out["ExecutionArn"].endswith(":fixed-child-name"), out
    assert isinstance(out["StartDate"], int), out
    eq(out["SdkHttpMetadata"]["HttpStatusCode"], 200, "metadata")
    eq(sfn.describe_execution(executionArn=out["ExecutionArn"])["status"], "RUNNING", "child runs on")
    sfn.stop_execution(executionArn=out["ExecutionArn"])


def test_a_missing_child_machine_is_awss_error():
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine"
    top = create_machine(sfn, nest(missing, ".sync"), prefix="top")
    d = wait_done(sfn, start(top, {}))
    eq((d["status"], d["error"]), ("FAILED", "StepFunctions.StateMachineDoesNotExistException"), "error")
    assert d["cause"].startswith(f"State Machine Does Not Exist: '{missing}' (Service: AWSStepFunctions; Status Code: 400; Error Code: StateMachineDoesNotExist; Request ID: "), d["cause"]


run_tests(globals())
