"""A backup of a live store (the Rust harness, store_backup.rs, takes it between the phases):

  start N     creates a state machine (a 2-second Wait, then a Pass) and starts N executions;
              prints their ARNs, one per line
  check ARN…  on the server started from the copy: each execution carries on to SUCCEEDED, its
              history ids 1..n with one ExecutionStarted and one ExecutionSucceeded
"""

import json
import sys

from common import client, create_machine, definition, eq, history, wait_done

sfn = client()


def start(n):
    arn = create_machine(sfn, definition({
        "Sleep": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": {"done": True}, "End": True}}), prefix="backup")
    for i in range(n):
        print(sfn.start_execution(stateMachineArn=arn, input=json.dumps({"i": i}))["executionArn"], flush=True)


def check(arns):
    for arn in arns:
        d = wait_done(sfn, arn, timeout=60)
        eq(d["status"], "SUCCEEDED", arn)
        eq(json.loads(d["output"]), {"done": True}, "output")
        events = history(sfn, arn)
        eq([e["id"] for e in events], list(range(1, len(events) + 1)), "event ids")
        types = [e["type"] for e in events]
        eq((types.count("ExecutionStarted"), types.count("ExecutionSucceeded")), (1, 1), "started and ended once")
    print(f"{len(arns)} executions carried on from the copy", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "start":
        start(int(sys.argv[2]))
    else:
        check(sys.argv[2:])
