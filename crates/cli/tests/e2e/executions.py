"""The execution plane through boto3: StartExecution (idempotency, bad input), DescribeExecution,
ListExecutions, GetExecutionHistory, StopExecution, Wait states under WAIT_TIME_SCALE, and
Express machines (StartExecution, StartSyncExecution).

The server runs with WAIT_TIME_SCALE=0.01: a 100-second Wait takes about one second."""

import datetime
import json
import time

from common import (
    client,
    create_machine,
    definition,
    details,
    eq,
    event_types,
    expect_error,
    history,
    name,
    run_tests,
    wait_done,
)

sfn = client()

def present(path):
    return {"Variable": path, "IsPresent": True}


# Succeeds with {"in": input} unless the input says {"fail": true}.
CHOICE_MACHINE = definition(
    {
        "Decide": {
            "Type": "Choice",
            "Choices": [{"And": [present("$.fail"), {"Variable": "$.fail", "BooleanEquals": True}], "Next": "Boom"}],
            "Default": "Done",
        },
        "Boom": {"Type": "Fail", "Error": "Custom.Boom", "Cause": "asked to fail"},
        "Done": {"Type": "Pass", "Parameters": {"in.$": "$"}, "End": True},
    }
)
# Waits 1000 s (10 s at the test's scale): long enough to be RUNNING while the test looks.
LONG_WAIT = definition({"W": {"Type": "Wait", "Seconds": 1000, "End": True}})


def test_start_and_describe_succeeded():
    arn = create_machine(sfn, CHOICE_MACHINE)
    n = name("exec")
    raw = '{"fail": false, "n": 1.50}'
    s = sfn.start_execution(stateMachineArn=arn, name=n, input=raw)
    e = s["executionArn"]
    assert e.endswith(f":execution:{arn.rsplit(':', 1)[1]}:{n}"), e
    assert isinstance(s["startDate"], datetime.datetime)
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", "status")
    eq(d["name"], n, "name")
    eq(d["stateMachineArn"], arn, "stateMachineArn")
    eq(d["input"], raw, "input is the exact text sent")
    out = json.loads(d["output"])
    eq(out, {"in": {"fail": False, "n": 1.5}}, "output")
    assert d["stopDate"] >= d["startDate"], d
    eq(d["redriveStatus"], "NOT_REDRIVABLE", "redriveStatus of a SUCCEEDED execution")
    eq(d["redriveCount"], 0, "redriveCount")
    assert "error" not in d and "cause" not in d, d


def test_failed_execution_has_error_and_cause():
    arn = create_machine(sfn, CHOICE_MACHINE)
    e = sfn.start_execution(stateMachineArn=arn, input='{"fail": true}')["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "FAILED", "status")
    eq(d["error"], "Custom.Boom", "error")
    eq(d["cause"], "asked to fail", "cause")
    assert "output" not in d, d
    eq(d["redriveStatus"], "REDRIVABLE", "redriveStatus of a FAILED execution")
    last = history(sfn, e)[-1]
    eq(last["type"], "ExecutionFailed", "last event")
    eq(last["executionFailedEventDetails"], {"error": "Custom.Boom", "cause": "asked to fail"}, "details")


def test_default_name_and_input():
    arn = create_machine(sfn)
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    d = wait_done(sfn, e)
    eq(d["input"], "{}", "default input")
    eq(len(d["name"]), 36, "a UUID names an unnamed execution")
    eq(json.loads(d["output"]), {"ok": True}, "output")


def test_start_is_idempotent_while_running():
    arn = create_machine(sfn, LONG_WAIT)
    n = name("idem")
    first = sfn.start_execution(stateMachineArn=arn, name=n, input='{"a": 1}')
    again = sfn.start_execution(stateMachineArn=arn, name=n, input='{"a": 1}')
    eq(again["executionArn"], first["executionArn"], "same name and input while running")
    eq(again["startDate"], first["startDate"], "the same execution's start date")
    expect_error(
        "ExecutionAlreadyExists",
        sfn.start_execution,
        stateMachineArn=arn,
        name=n,
        input='{"a": 2}',
        message=f"Execution Already Exists: '{first['executionArn']}'",
    )
    sfn.stop_execution(executionArn=first["executionArn"])
    eq(wait_done(sfn, first["executionArn"])["status"], "ABORTED", "stopped")
    # Once closed, even the same input is ExecutionAlreadyExists.
    expect_error(
        "ExecutionAlreadyExists",
        sfn.start_execution,
        stateMachineArn=arn,
        name=n,
        input='{"a": 1}',
        message=f"Execution Already Exists: '{first['executionArn']}'",
    )


def test_bad_input_and_names():
    arn = create_machine(sfn)
    expect_error(
        "InvalidExecutionInput",
        sfn.start_execution,
        stateMachineArn=arn,
        input="not json",
        message_prefix="Invalid State Machine Execution Input: '",
    )
    expect_error(
        "InvalidName",
        sfn.start_execution,
        stateMachineArn=arn,
        name="bad name",
        message="Invalid Name: 'bad name'",
    )
    expect_error("InvalidArn", sfn.start_execution, stateMachineArn="arn:aws:states:nope")
    expect_error("InvalidArn", sfn.describe_execution, executionArn="nope")
    missing = arn.replace(":stateMachine:", ":execution:") + ":missing"
    expect_error(
        "ExecutionDoesNotExist",
        sfn.describe_execution,
        executionArn=missing,
        message=f"Execution Does Not Exist: '{missing}'",
    )
    expect_error("ExecutionDoesNotExist", sfn.get_execution_history, executionArn=missing)
    expect_error("ExecutionDoesNotExist", sfn.stop_execution, executionArn=missing)


def test_invalid_execution_input_message():
    """AWS: "Invalid State Machine Execution Input: '<the parser's complaint>'", the prefix once
    (recorded: "...Input: 'Unrecognized token 'not': was expecting (JSON String, ...)'")."""
    arn = create_machine(sfn)
    msg = expect_error(
        "InvalidExecutionInput",
        sfn.start_execution,
        stateMachineArn=arn,
        input="not json",
        message_prefix="Invalid State Machine Execution Input: '",
    )
    eq(msg.count("Invalid State Machine Execution Input"), 1, f"the prefix once in {msg!r}")
    assert msg.endswith("'"), msg
    # The three texts recorded against AWS (../shared/conformance/asl/cases.jsonl).
    for text, detail in [
        (
            "not some json",
            "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token "
            "'null', 'true' or 'false')",
        ),
        ("{'not': 'json'", "Unexpected character (''' (code 39)): was expecting double-quote to start field name"),
        ("", "Invalid execution input."),
    ]:
        expect_error(
            "InvalidExecutionInput",
            sfn.start_execution,
            stateMachineArn=arn,
            input=text,
            message=f"Invalid State Machine Execution Input: '{detail}'",
        )


def test_input_limit_is_in_utf8_bytes():
    """AWS: "Length constraints apply to the payload size, and are expressed as bytes in UTF-8
    encoding" (262,144): a JSON string of three-byte characters that is 262,144 bytes long
    starts; one byte more is refused, though it has a third as many characters."""
    arn = create_machine(sfn)
    at_limit = '"' + "€" * 87_380 + 'aa"'
    assert len(at_limit.encode("utf-8")) == 262_144
    e = sfn.start_execution(stateMachineArn=arn, input=at_limit)["executionArn"]
    eq(wait_done(sfn, e)["status"], "SUCCEEDED", "status at the limit")
    expect_error(
        "ValidationException",
        sfn.start_execution,
        stateMachineArn=arn,
        input=at_limit + " ",
        message="1 validation error detected: Value at 'input' failed to satisfy constraint: "
        "Member must have length less than or equal to 262144",
    )


def test_list_executions_with_status_filter():
    arn = create_machine(sfn, definition(
        {
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.fail", "IsPresent": True, "Next": "Boom"},
                    {"Variable": "$.wait", "IsPresent": True, "Next": "Long"},
                ],
                "Default": "Done",
            },
            "Boom": {"Type": "Fail", "Error": "E"},
            "Long": {"Type": "Wait", "Seconds": 1000, "End": True},
            "Done": {"Type": "Succeed"},
        }
    ))
    started = {}
    for kind, inp, count in (("ok", "{}", 3), ("fail", '{"fail": true}', 2), ("wait", '{"wait": true}', 1)):
        started[kind] = [sfn.start_execution(stateMachineArn=arn, input=inp)["executionArn"] for _ in range(count)]
    for e in started["ok"] + started["fail"]:
        wait_done(sfn, e)
    every = sfn.list_executions(stateMachineArn=arn)["executions"]
    eq(len(every), 6, "all executions")
    starts = [x["startDate"] for x in every]
    eq(starts, sorted(starts, reverse=True), "newest first")
    for status, kind in (("SUCCEEDED", "ok"), ("FAILED", "fail"), ("RUNNING", "wait")):
        got = sfn.list_executions(stateMachineArn=arn, statusFilter=status)["executions"]
        eq(sorted(x["executionArn"] for x in got), sorted(started[kind]), f"statusFilter={status}")
        assert all(x["status"] == status for x in got), got
    eq(sfn.list_executions(stateMachineArn=arn, statusFilter="ABORTED")["executions"], [], "none aborted")
    wait_one = started["wait"][0]
    sfn.stop_execution(executionArn=wait_one)
    wait_done(sfn, wait_one)
    got = sfn.list_executions(stateMachineArn=arn, statusFilter="ABORTED")["executions"]
    eq([x["executionArn"] for x in got], [wait_one], "ABORTED after stop")
    assert got[0]["stopDate"] >= got[0]["startDate"]
    missing = arn + "-missing"
    expect_error("StateMachineDoesNotExist", sfn.list_executions, stateMachineArn=missing)


def test_execution_history():
    arn = create_machine(sfn, definition(
        {
            "First": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "Second"},
            "Second": {"Type": "Pass", "End": True},
        }
    ))
    e = sfn.start_execution(stateMachineArn=arn, input='{"in": "put"}')["executionArn"]
    wait_done(sfn, e)
    events = history(sfn, e)
    eq(
        event_types(events),
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded",
        ],
        "event types",
    )
    eq([ev["id"] for ev in events], list(range(1, len(events) + 1)), "ids 1..n")
    # As AWS records it: the first state's entry also points at 0, then each event at the one
    # before it.
    eq([ev["previousEventId"] for ev in events], [0, 0, 2, 3, 4, 5], "previousEventId")
    stamps = [ev["timestamp"] for ev in events]
    eq(stamps, sorted(stamps), "timestamps do not go back")
    started = events[0]["executionStartedEventDetails"]
    eq(json.loads(started["input"]), {"in": "put"}, "started input")
    eq(started["roleArn"], "arn:aws:iam::123456789012:role/stepwise-e2e", "roleArn")
    eq(events[1]["stateEnteredEventDetails"]["name"], "First", "entered name")
    eq(json.loads(events[2]["stateExitedEventDetails"]["output"]), {"in": "put", "r": {"x": 1}}, "exited output")
    eq(
        json.loads(events[-1]["executionSucceededEventDetails"]["output"]),
        {"in": "put", "r": {"x": 1}},
        "succeeded output",
    )
    rev = history(sfn, e, reverseOrder=True)
    eq([ev["id"] for ev in rev], list(range(len(events), 0, -1)), "reverseOrder")
    bare = history(sfn, e, includeExecutionData=False)
    eq(event_types(bare), event_types(events), "same events without data")
    for ev in bare:
        d = details(ev)
        assert "input" not in d and "output" not in d, ev
    eq(bare[1]["stateEnteredEventDetails"]["name"], "First", "names stay")


def test_stop_execution():
    arn = create_machine(sfn, LONG_WAIT)
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    eq(sfn.describe_execution(executionArn=e)["status"], "RUNNING", "running")
    r = sfn.stop_execution(executionArn=e, error="Manual.Stop", cause="operator said so")
    assert isinstance(r["stopDate"], datetime.datetime)
    d = wait_done(sfn, e)
    eq(d["status"], "ABORTED", "status")
    eq(d["error"], "Manual.Stop", "error")
    eq(d["cause"], "operator said so", "cause")
    eq(d["redriveStatus"], "REDRIVABLE", "an ABORTED execution is redrivable")
    last = history(sfn, e)[-1]
    eq(last["type"], "ExecutionAborted", "last event")
    eq(last["executionAbortedEventDetails"], {"error": "Manual.Stop", "cause": "operator said so"}, "details")


def test_wait_states_run_scaled():
    arn = create_machine(sfn, definition(
        {
            "W": {"Type": "Wait", "Seconds": 100, "Next": "P"},
            "P": {"Type": "Wait", "SecondsPath": "$.more", "Next": "Past"},
            "Past": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "End": True},
        }
    ))
    t0 = time.monotonic()
    e = sfn.start_execution(stateMachineArn=arn, input='{"more": 50}')["executionArn"]
    d = wait_done(sfn, e, timeout=30)
    took = time.monotonic() - t0
    eq(d["status"], "SUCCEEDED", "status")
    # 150 s of waiting at scale 0.01 is 1.5 s.
    assert 1.4 <= took < 10, f"150 s of Wait took {took:.2f}s at scale 0.01"
    types = event_types(history(sfn, e))
    eq(types.count("WaitStateEntered"), 3, "three waits")


def test_execution_timeout():
    arn = create_machine(sfn, definition(
        {"W": {"Type": "Wait", "Seconds": 60, "Next": "P"}, "P": {"Type": "Pass", "End": True}},
        TimeoutSeconds=5,
    ))
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "TIMED_OUT", "status")
    eq(history(sfn, e)[-1]["type"], "ExecutionTimedOut", "last event")


def test_map_and_parallel():
    arn = create_machine(sfn, definition(
        {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Double",
                    "States": {
                        "Double": {
                            "Type": "Pass",
                            "Parameters": {"v.$": "States.MathAdd($, $)"},
                            "End": True,
                        }
                    },
                },
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": "$[0]", "End": True}}},
                ],
                "End": True,
            },
        }
    ))
    e = sfn.start_execution(stateMachineArn=arn, input='{"items": [1, 2, 3]}')["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", "status")
    eq(json.loads(d["output"]), ["a", {"v": 2}], "output")


def test_express_start_execution():
    arn = create_machine(sfn, CHOICE_MACHINE, type="EXPRESS")
    n = name("x")
    e = sfn.start_execution(stateMachineArn=arn, name=n, input="{}")["executionArn"]
    sm_name = arn.rsplit(":", 1)[1]
    assert f":express:{sm_name}:{n}:" in e, e
    # AWS (recorded): the actions it refuses for Express executions answer their ARN with
    # InvalidArn, and ListExecutions on an Express state machine with StateMachineTypeNotSupported.
    express_arn = "Invalid Arn: 'Resource type not valid in this context: express'"
    for call in (
        sfn.describe_execution,
        sfn.get_execution_history,
        sfn.stop_execution,
        sfn.redrive_execution,
        sfn.describe_state_machine_for_execution,
        sfn.list_map_runs,
    ):
        expect_error("InvalidArn", call, executionArn=e, message=express_arn)
    not_supported = "This operation is not supported by this type of state machine"
    expect_error("StateMachineTypeNotSupported", sfn.list_executions, stateMachineArn=arn, message=not_supported)
    version = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    alias = sfn.create_state_machine_alias(
        name=name("a"), routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}]
    )["stateMachineAliasArn"]
    for qualified in (version, alias):
        expect_error(
            "StateMachineTypeNotSupported", sfn.list_executions, stateMachineArn=qualified, message=not_supported
        )


def test_start_sync_execution():
    arn = create_machine(sfn, CHOICE_MACHINE, type="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn, input='{"k": "v"}')
    eq(r["status"], "SUCCEEDED", "status")
    eq(json.loads(r["output"]), {"in": {"k": "v"}}, "output")
    eq(r["input"], '{"k": "v"}', "input")
    assert ":express:" in r["executionArn"], r
    eq(r["stateMachineArn"], arn, "stateMachineArn")
    assert r["stopDate"] >= r["startDate"]
    assert r["billingDetails"]["billedDurationInMilliseconds"] >= 100, r
    f = sfn.start_sync_execution(stateMachineArn=arn, input='{"fail": true}')
    eq(f["status"], "FAILED", "status")
    eq(f["error"], "Custom.Boom", "error")
    eq(f["cause"], "asked to fail", "cause")
    assert "output" not in f, f
    standard = create_machine(sfn)
    expect_error(
        "StateMachineTypeNotSupported",
        sfn.start_sync_execution,
        stateMachineArn=standard,
    )
    expect_error("InvalidExecutionInput", sfn.start_sync_execution, stateMachineArn=arn, input="{")


def test_express_waits_are_scaled():
    arn = create_machine(sfn, definition({"W": {"Type": "Wait", "Seconds": 100, "End": True}}), type="EXPRESS")
    t0 = time.monotonic()
    r = sfn.start_sync_execution(stateMachineArn=arn)
    took = time.monotonic() - t0
    eq(r["status"], "SUCCEEDED", "status")
    assert 0.9 <= took < 10, f"a 100 s Wait took {took:.2f}s at scale 0.01"


if __name__ == "__main__":
    run_tests(globals())
