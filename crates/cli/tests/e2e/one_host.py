"""Express and Standard executions drive the engine the same way: the tasks of parallel
branches run at the same time, a task's TimeoutSeconds fires while its call runs, and the same
definition with the same task outcomes gives the same result on both.

The Rust harness (e2e_hosts.rs) starts the server with a stepwise.toml binding the Lambda
function `slow` to a command that answers {"done": true} after 3 s, and WAIT_TIME_SCALE=1."""

import json
import time

from common import client, create_machine, definition, eq, history, run_tests, wait_done

sfn = client()


def slow(**extra):
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "slow"}, "OutputPath": "$.Payload", "End": True}
    task.update(extra)
    return task


PARALLEL = definition({"Both": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "A", "States": {"A": slow()}},
    {"StartAt": "B", "States": {"B": slow()}}]}})
TIMEOUT = definition({"Call": slow(TimeoutSeconds=1)})
# A Wait and a retry interval beside the calls: timers, in both hosts.
MIXED = definition({
    "Nap": {"Type": "Wait", "Seconds": 1, "Next": "Both"},
    "Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Fail", "States": {"Fail": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "missing"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "End": True},
            "Caught": {"Type": "Pass", "Parameters": {"error.$": "$.error.Error"}, "End": True}}},
        {"StartAt": "B", "States": {"B": slow()}}]}})


def express(text):
    arn = create_machine(sfn, text, prefix="express", type="EXPRESS")
    began = time.monotonic()
    r = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    return r, time.monotonic() - began


def standard(text):
    arn = create_machine(sfn, text, prefix="standard")
    began = time.monotonic()
    run = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, run, timeout=60)
    return d, time.monotonic() - began, history(sfn, run)


def outcome(d):
    return {k: (json.loads(d[k]) if k == "output" else d[k])
            for k in ("status", "output", "error") if k in d}


def test_parallel_tasks_run_at_the_same_time():
    r, took = express(PARALLEL)
    print(f"     Parallel of two 3 s calls: Express StartSyncExecution {took:.2f} s")
    eq(outcome(r), {"status": "SUCCEEDED", "output": [{"done": True}, {"done": True}]}, "express")
    assert took < 5.5, f"two 3 s calls side by side take about 3 s under Express, not {took:.1f}"
    d, took, events = standard(PARALLEL)
    print(f"     Parallel of two 3 s calls: Standard {took:.2f} s")
    eq(outcome(d), outcome(r), "standard as express")
    types = [e["type"] for e in events]
    assert types.index("TaskSucceeded") > max(i for i, t in enumerate(types) if t == "TaskStarted")


def test_a_task_timeout_fires_while_the_call_runs():
    r, took = express(TIMEOUT)
    print(f"     TimeoutSeconds 1 on a 3 s call: Express StartSyncExecution {took:.2f} s")
    eq(outcome(r), {"status": "FAILED", "error": "States.Timeout"}, "express")
    assert took < 2.5, f"the 1 s timeout ends an Express task after about 1 s, not {took:.1f}"
    d, took, _ = standard(TIMEOUT)
    print(f"     TimeoutSeconds 1 on a 3 s call: Standard {took:.2f} s")
    eq(outcome(d), outcome(r), "standard as express")
    assert took < 2.5, f"the 1 s timeout ends a Standard task after about 1 s, not {took:.1f}"


def test_waits_and_retries_beside_calls_give_the_same_result():
    r, _ = express(MIXED)
    eq(r["status"], "SUCCEEDED", "express")
    eq(json.loads(r["output"]),
       [{"error": "Lambda.ResourceNotFoundException"}, {"done": True}], "express output")
    d, _, _ = standard(MIXED)
    eq(outcome(d), outcome(r), "standard as express")


if __name__ == "__main__":
    run_tests(globals())
