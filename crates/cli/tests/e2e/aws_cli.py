"""The AWS CLI (from the same venv) against the server: create-state-machine, start-execution,
describe-execution, get-execution-history, list-state-machines, and one error."""

import json
import os
import subprocess
import sys
import time

from common import ROLE, URL, definition, eq, name, run_tests

AWS = os.path.join(os.path.dirname(sys.executable), "aws")


def aws(*args, check=True):
    env = dict(os.environ, AWS_PAGER="", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    p = subprocess.run(
        [AWS, "--endpoint-url", URL, "--region", "us-east-1", "--output", "json", "stepfunctions", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    if check:
        assert p.returncode == 0, f"aws {' '.join(args)} exited {p.returncode}: {p.stderr}"
        return json.loads(p.stdout) if p.stdout.strip() else {}
    return p


def test_cli_round_trip():
    n = name("cli")
    text = definition({"Hello": {"Type": "Pass", "Parameters": {"greeting.$": "States.Format('hi {}', $.who)"}, "End": True}})
    created = aws("create-state-machine", "--name", n, "--definition", text, "--role-arn", ROLE)
    arn = created["stateMachineArn"]
    assert arn.endswith(f":stateMachine:{n}"), created
    assert "creationDate" in created, created
    started = aws("start-execution", "--state-machine-arn", arn, "--name", "run-1", "--input", '{"who": "cli"}')
    e = started["executionArn"]
    assert e.endswith(f":execution:{n}:run-1"), started
    deadline = time.monotonic() + 20
    while True:
        d = aws("describe-execution", "--execution-arn", e)
        if d["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    eq(d["status"], "SUCCEEDED", "status")
    eq(json.loads(d["output"]), {"greeting": "hi cli"}, "output")
    h = aws("get-execution-history", "--execution-arn", e)
    eq(
        [ev["type"] for ev in h["events"]],
        ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"],
        "history",
    )
    eq([ev["id"] for ev in h["events"]], [1, 2, 3, 4], "ids")
    listed = aws("list-state-machines")
    assert arn in [m["stateMachineArn"] for m in listed["stateMachines"]], listed


def test_cli_error():
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:" + name("missing")
    p = aws("describe-state-machine", "--state-machine-arn", missing, check=False)
    assert p.returncode in (254, 255), f"exit code {p.returncode}: {p.stderr}"
    assert "StateMachineDoesNotExist" in p.stderr, p.stderr
    assert f"State Machine Does Not Exist: '{missing}'" in p.stderr, p.stderr
    p = aws("create-state-machine", "--name", name(), "--definition", "{}", "--role-arn", ROLE, check=False)
    assert p.returncode in (254, 255), f"exit code {p.returncode}: {p.stderr}"
    assert "InvalidDefinition" in p.stderr, p.stderr


if __name__ == "__main__":
    run_tests(globals())
