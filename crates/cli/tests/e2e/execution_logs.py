"""Execution logs: a state machine's loggingConfiguration writes AWS's CloudWatch Logs event
shape, one JSON object per line, to the file stepwise.toml's [logging] gives its log group.

The Rust harness (e2e_logs.rs) starts the server with a stepwise.toml whose [logging] sends
every log group to LOG_DIR/groups/NAME.log, except the group `named`, which goes to
LOG_DIR/named.jsonl. Lines are written by their own thread after the commit, so each check
waits (boundedly) for the line it needs, then reads the whole file."""

import json
import os
import time

from common import ROLE, client, create_machine, definition, details, eq, history, name, run_tests, wait_done

sfn = client()
LOG_DIR = os.environ["LOG_DIR"]
ACCOUNT = "123456789012"


def group_arn(group):
    return f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:*"


def logging(group, level="ALL", data=True):
    return {"level": level, "includeExecutionData": data,
            "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": group_arn(group)}}]}


def path_of(group):
    return os.path.join(LOG_DIR, "named.jsonl") if group == "named" else \
        os.path.join(LOG_DIR, "groups", f"{group}.log")


def lines(group, arn=None):
    """The group's log lines (of execution `arn`), each parsed; [] when there is no file."""
    try:
        with open(path_of(group)) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    assert text == "" or text.endswith("\n"), f"{group}: a line is cut short: {text[-200:]!r}"
    parsed = [json.loads(line) for line in text.splitlines()]
    return [p for p in parsed if arn is None or p["execution_arn"] == arn]


def wait_for(group, arn, kind, timeout=30.0):
    """The lines of `arn` in `group`, once one of type `kind` is there."""
    deadline = time.monotonic() + timeout
    while True:
        found = lines(group, arn)
        if any(line["type"] == kind for line in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {kind} line for {arn} in {group} after {timeout}s: {found}")
        time.sleep(0.05)


# A Task whose call fails (no such Lambda function), caught, then a Pass.
CAUGHT = definition({
    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
             "Parameters": {"FunctionName": "missing"},
             "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Handled"}],
             "End": True},
    "Handled": {"Type": "Pass", "Parameters": {"handled.$": "$.error.Error"}, "End": True}})
# A run that fails: a Fail state.
FAILS = definition({
    "Start": {"Type": "Pass", "Next": "Stop"},
    "Stop": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}})


def run(group, text=CAUGHT, level="ALL", data=True, input=None, **kwargs):
    sm = create_machine(sfn, text, loggingConfiguration=logging(group, level, data), **kwargs)
    ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps(input or {"order": 7}))["executionArn"]
    d = wait_done(sfn, ex)
    return ex, d


def test_all_writes_every_event_in_aws_shape():
    group = name("all")
    ex, d = run(group)
    eq(d["status"], "SUCCEEDED", "the error was caught")
    got = wait_for(group, ex, "ExecutionSucceeded")
    events = history(sfn, ex)
    eq([g["type"] for g in got], [e["type"] for e in events], "one line per history event, in order")
    expected_types = ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted",
                      "TaskFailed", "TaskStateExited", "PassStateEntered", "PassStateExited",
                      "ExecutionSucceeded"]
    eq([g["type"] for g in got], expected_types, "a caught Task error's events")
    for g, e in zip(got, events):
        eq(list(g), ["id", "type", "details", "previous_event_id", "event_timestamp",
                     "execution_arn", "redrive_count"], "members, in AWS's order")
        eq(g["id"], str(e["id"]), "id as a string")
        eq(g["previous_event_id"], str(e["previousEventId"]), "previous_event_id")
        eq(g["execution_arn"], ex, "execution_arn")
        eq(g["redrive_count"], "0", "redrive_count")
        eq(g["event_timestamp"], str(round(e["timestamp"].timestamp() * 1000)), "epoch ms")
        want = details(e)
        for note in ("inputDetails", "outputDetails"):
            if note in want:
                want[note] = {"truncated": False}
        eq(g["details"], want, f"{g['type']} details as the history's")
    started = got[0]["details"]
    eq(json.loads(started["input"]), {"order": 7}, "ExecutionStarted input")
    eq(started["roleArn"], ROLE, "ExecutionStarted roleArn")
    failed = next(g for g in got if g["type"] == "TaskFailed")["details"]
    eq(failed["error"], "Lambda.ResourceNotFoundException", "TaskFailed error")
    assert failed.get("cause"), f"TaskFailed has a cause: {failed}"
    eq(json.loads(got[-1]["details"]["output"]),
       {"handled": "Lambda.ResourceNotFoundException"}, "ExecutionSucceeded output")


def test_error_writes_only_error_events():
    group = name("error")
    ex, d = run(group, level="ERROR")
    eq(d["status"], "SUCCEEDED", "caught")
    # The failing run after it: once its ExecutionFailed is written, the first run's lines
    # (written before, by the same writer) are all there.
    ex2, d2 = run(group, FAILS, level="ERROR")
    eq(d2["status"], "FAILED", "the second run fails")
    wait_for(group, ex2, "ExecutionFailed")
    eq([g["type"] for g in lines(group, ex)], ["TaskFailed"], "a caught error: its TaskFailed only")
    got = lines(group, ex2)
    eq([g["type"] for g in got], ["FailStateEntered", "ExecutionFailed"], "a failed run")
    eq(got[1]["details"], {"cause": "on purpose", "error": "Broken"}, "ExecutionFailed details")
    eq(got[1]["previous_event_id"], got[0]["id"], "previous_event_id as in the history")


def test_fatal_writes_only_the_end_of_a_failed_run():
    group = name("fatal")
    ok, _ = run(group, level="FATAL")
    bad, _ = run(group, FAILS, level="FATAL")
    wait_for(group, bad, "ExecutionFailed")
    eq(lines(group, ok), [], "a caught error is not fatal")
    eq([g["type"] for g in lines(group, bad)], ["ExecutionFailed"], "fatal")


def test_without_execution_data_no_input_or_output_is_written():
    group = name("nodata")
    ex, _ = run(group, data=False, input={"secret": "s3cr3t"})
    got = wait_for(group, ex, "ExecutionSucceeded")
    eq(len(got), len(history(sfn, ex)), "every event still logged")
    for g in got:
        for member in ("input", "inputDetails", "output", "outputDetails"):
            assert member not in g["details"], f"{g['type']} has {member}: {g['details']}"
    assert "s3cr3t" not in open(path_of(group)).read(), "no data anywhere in the file"
    eq(got[0]["details"], {"roleArn": ROLE}, "ExecutionStarted keeps its role")
    eq(got[1]["details"], {"name": "Call"}, "TaskStateEntered keeps its name")
    failed = next(g for g in got if g["type"] == "TaskFailed")["details"]
    eq(failed["error"], "Lambda.ResourceNotFoundException", "errors stay")
    eq(got[-1]["details"], {}, "ExecutionSucceeded has nothing left")


def test_express_executions_log_too():
    group = name("express")
    sm = create_machine(sfn, CAUGHT, type="EXPRESS", loggingConfiguration=logging(group))
    r = sfn.start_sync_execution(stateMachineArn=sm, input='{"order": 8}')
    eq(r["status"], "SUCCEEDED", "express run")
    ex = r["executionArn"]
    assert ":express:" in ex, ex
    got = wait_for(group, ex, "ExecutionSucceeded")
    standard, _ = run(name("standard"))
    events = history(sfn, standard)
    eq([g["type"] for g in got], [e["type"] for e in events], "the events of a Standard run")
    eq([g["id"] for g in got], [str(i) for i in range(1, len(got) + 1)], "ids from 1")
    eq([g["previous_event_id"] for g in got], [str(e["previousEventId"]) for e in events],
       "previous ids as a Standard run's")
    eq(len({g["execution_arn"] for g in got}), 1, "one execution")
    eq(json.loads(got[0]["details"]["input"]), {"order": 8}, "input")
    # StartExecution on an Express machine runs in the background; it logs the same way.
    bg = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
    eq(wait_for(group, bg, "ExecutionSucceeded")[-1]["type"], "ExecutionSucceeded", "async express")


def test_off_writes_nothing():
    off_group = name("off")
    sm = create_machine(sfn, CAUGHT, loggingConfiguration=logging(off_group, level="OFF"))
    off = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
    wait_done(sfn, off)
    express = create_machine(sfn, CAUGHT, type="EXPRESS",
                             loggingConfiguration=logging(off_group, level="OFF"))
    eq(sfn.start_sync_execution(stateMachineArn=express, input="{}")["status"], "SUCCEEDED", "x")
    # A logged run after them: once its last line is written, theirs would have been.
    after = name("after-off")
    ex, _ = run(after)
    wait_for(after, ex, "ExecutionSucceeded")
    assert not os.path.exists(path_of(off_group)), "OFF wrote a file"


def test_a_version_logs_as_it_was_published():
    group = name("version")
    sm = create_machine(sfn, CAUGHT, loggingConfiguration=logging(group), publish=True)
    version = sfn.list_state_machine_versions(stateMachineArn=sm)["stateMachineVersions"][0][
        "stateMachineVersionArn"]
    sfn.update_state_machine(stateMachineArn=sm, loggingConfiguration={"level": "OFF"})
    unlogged = sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"]
    wait_done(sfn, unlogged)
    logged = sfn.start_execution(stateMachineArn=version, input="{}")["executionArn"]
    wait_done(sfn, logged)
    wait_for(group, logged, "ExecutionSucceeded")
    eq(lines(group, unlogged), [], "the state machine's revision is OFF now")


def test_a_group_named_in_the_configuration_goes_to_its_file():
    ex, _ = run("named")
    got = wait_for("named", ex, "ExecutionSucceeded")
    eq(got[0]["type"], "ExecutionStarted", "first line")


def test_runs_left_to_the_stop():
    """Last: 20 runs, waited for but not their lines. The harness stops the server and counts
    their lines (4 each: a Pass machine) in LOG_DIR/groups/burst.log."""
    sm = create_machine(sfn, definition({"P": {"Type": "Pass", "End": True}}),
                        loggingConfiguration=logging("burst"))
    runs = [sfn.start_execution(stateMachineArn=sm, input="{}")["executionArn"] for _ in range(20)]
    for ex in runs:
        eq(wait_done(sfn, ex)["status"], "SUCCEEDED", ex)


if __name__ == "__main__":
    run_tests(globals())
