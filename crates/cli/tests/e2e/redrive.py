"""RedriveExecution through boto3: a Task whose worker fails the first attempt and succeeds the
second; the failed execution is redriven and succeeds.

Written before redrive was wired into the server: if RedriveExecution answers
ExecutionNotRedrivable here, redrive is not wired (the test fails on purpose; never skip it)."""

import json
import threading

from common import (
    Worker,
    client,
    create_machine,
    definition,
    eq,
    error_of,
    event_types,
    history,
    name,
    run_tests,
    wait_done,
)

sfn = client()

PENDING = {
    "test_redrive_after_a_failed_task": "ExecutionNotRedrivable here means RedriveExecution is not wired into the server "
    "(it fails on purpose until it is)",
}


def test_redrive_after_a_failed_task():
    activity = sfn.create_activity(name=name("flaky"))["activityArn"]
    arn = create_machine(sfn, definition(
        {
            "Prepare": {"Type": "Pass", "Result": "prepared", "ResultPath": "$.prep", "Next": "Work"},
            "Work": {"Type": "Task", "Resource": activity, "Next": "Finish"},
            "Finish": {"Type": "Pass", "End": True},
        }
    ))
    attempts = []
    lock = threading.Lock()

    def handle(inp, token, s):
        with lock:
            attempts.append(inp)
            first = len(attempts) == 1
        if first:
            return ("failure", "Flaky.Error", "first attempt fails")
        return ("success", {"worked": True, "attempt": len(attempts)})

    worker = Worker(activity, handle)
    worker.start()
    e = sfn.start_execution(stateMachineArn=arn, input='{"job": 7}')["executionArn"]
    d = wait_done(sfn, e)
    eq((d["status"], d.get("error"), d.get("cause")), ("FAILED", "Flaky.Error", "first attempt fails"), "first run")
    eq(d["redriveStatus"], "REDRIVABLE", "redriveStatus")
    failed_events = len(history(sfn, e))

    r = sfn.redrive_execution(executionArn=e)
    assert r["redriveDate"] >= d["stopDate"], r
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", "after redrive")
    eq(json.loads(d["output"]), {"worked": True, "attempt": 2}, "output")
    eq(d["redriveCount"], 1, "redriveCount")
    eq(d["redriveDate"], r["redriveDate"], "redriveDate")
    events = history(sfn, e)
    eq([ev["id"] for ev in events], list(range(1, len(events) + 1)), "ids 1..n after redrive")
    types = event_types(events)
    eq(types.count("ExecutionRedriven"), 1, "one ExecutionRedriven")
    eq(types.index("ExecutionRedriven"), failed_events, "ExecutionRedriven follows the failed run")
    eq(types.count("ExecutionStarted"), 1, "one ExecutionStarted")
    # The redrive restarts the failed state, not the ones that succeeded.
    entered = [ev["stateEnteredEventDetails"]["name"] for ev in events if "stateEnteredEventDetails" in ev]
    eq(entered, ["Prepare", "Work", "Work", "Finish"], "states entered")
    eq(len(attempts), 2, "the worker ran twice")
    eq(attempts[1], {"job": 7, "prep": "prepared"}, "the redriven task's input")
    # A SUCCEEDED execution cannot be redriven.
    code, _, _ = error_of(sfn.redrive_execution, executionArn=e)
    eq(code, "ExecutionNotRedrivable", "redriving a SUCCEEDED execution")
    worker.stop()
    eq(worker.errors, [], "worker errors")


if __name__ == "__main__":
    run_tests(globals(), pending=PENDING)
