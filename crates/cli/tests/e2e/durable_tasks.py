"""Callbacks and retries across a kill -9 (driven by e2e_tasks.rs): `test_before` starts an
execution waiting for its task token and one waiting out a retry interval, and writes what it
needs to $STEPWISE_E2E_STATE; the harness kills the server with SIGKILL and starts it again;
`test_after` answers the token and checks that both executions finish, each event once. A third
execution's Lambda call is in flight at the kill: it is made again after the restart."""

import json
import os
import time

from common import ROLE, client, create_machine, definition, eq, event_types, history, run_tests, wait_done

sfn = client()
STATE = os.environ["STEPWISE_E2E_STATE"]


def test_before():
    child = create_machine(sfn, definition({"Hold": {"Type": "Wait", "Seconds": 100000, "End": True}}), prefix="worker")
    parent = create_machine(sfn, definition({
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.waitForTaskToken",
            "Parameters": {"StateMachineArn": child, "Input": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    }), prefix="callback")
    callback = sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]
    # The retrying machine's name is the one the mock configuration knows.
    flaky = sfn.create_state_machine(name="RetryFlow", roleArn=ROLE, definition=definition({
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "flaky"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 1}],
            "End": True,
        }
    }))["stateMachineArn"]
    retrying = sfn.start_execution(stateMachineArn=flaky + "#FailOnce", input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    token = None
    while token is None:
        assert time.monotonic() < deadline, "no child started"
        running = sfn.list_executions(stateMachineArn=child)["executions"]
        if running and "TaskSubmitted" in event_types(history(sfn, callback)):
            token = json.loads(sfn.describe_execution(executionArn=running[0]["executionArn"])["input"])["token"]
        time.sleep(0.05)
    while "TaskFailed" not in event_types(history(sfn, retrying)):
        assert time.monotonic() < deadline, "the first attempt did not fail"
        time.sleep(0.05)
    eq(sfn.describe_execution(executionArn=retrying)["status"], "RUNNING", "waiting out the interval")
    # A Lambda call (a local command that takes 3 s) in flight when the server dies.
    slow = create_machine(sfn, definition({
        "Slow": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "slow", "Payload": {"n": 1}},
            "OutputPath": "$.Payload",
            "End": True,
        }
    }), prefix="slow")
    in_flight = sfn.start_execution(stateMachineArn=slow, input="{}")["executionArn"]
    while not os.path.exists(os.environ["STEPWISE_E2E_CALLS"]):
        assert time.monotonic() < deadline, "the function was not called"
        time.sleep(0.02)
    with open(STATE, "w") as f:
        json.dump({"callback": callback, "retrying": retrying, "token": token, "in_flight": in_flight}, f)


def once_each(arn):
    events = history(sfn, arn)
    eq([e["id"] for e in events], list(range(1, len(events) + 1)), f"event ids of {arn}")
    return event_types(events)


def test_after():
    with open(STATE) as f:
        s = json.load(f)
    eq(sfn.describe_execution(executionArn=s["callback"])["status"], "RUNNING", "still waiting after the crash")
    sfn.send_task_success(taskToken=s["token"], output='{"after": "restart"}')
    d = wait_done(sfn, s["callback"])
    eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"after": "restart"}), "callback")
    types = once_each(s["callback"])
    eq(types.count("TaskSubmitted"), 1, "submitted once")
    d = wait_done(sfn, s["retrying"], timeout=30)
    eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"attempt": 2}), "retry")
    types = once_each(s["retrying"])
    eq([t for t in types if t in ("TaskFailed", "TaskSucceeded")], ["TaskFailed", "TaskSucceeded"], "attempts")
    d = wait_done(sfn, s["in_flight"], timeout=30)
    eq((d["status"], json.loads(d["output"])), ("SUCCEEDED", {"n": 1}), "the call in flight")
    types = once_each(s["in_flight"])
    eq(types.count("TaskSucceeded"), 1, "one result")
    with open(os.environ["STEPWISE_E2E_CALLS"]) as f:
        eq(len(f.read().split()), 2, "the call cut off by the crash was made again")


run_tests(globals())
