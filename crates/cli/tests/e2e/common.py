"""What the end-to-end scripts share: a boto3 client on `stepwise serve`, small helpers, and a
tiny test runner (plain functions named test_*, run in file order, every failure reported).

The Rust harness (crates/cli/tests/support/mod.rs) sets STEPWISE_URL and dummy credentials.
"""

import inspect
import json
import os
import sys
import threading
import time
import traceback
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

URL = os.environ.get("STEPWISE_URL", "http://127.0.0.1:8083")
ROLE = "arn:aws:iam::123456789012:role/stepwise-e2e"


def client(read_timeout=70, url=None):
    """A Step Functions client on the server under test (or the one at `url`). GetActivityTask
    long-polls for up to 60 s, so the read timeout is above that."""
    return boto3.client(
        "stepfunctions",
        endpoint_url=url or URL,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(
            inject_host_prefix=False,
            retries={"max_attempts": 1, "mode": "standard"},
            read_timeout=read_timeout,
            connect_timeout=5,
            max_pool_connections=32,
        ),
    )


def name(prefix="e2e"):
    """A fresh resource name (at most 80 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def definition(states, start=None, **extra):
    d = {"StartAt": start or next(iter(states)), "States": states}
    d.update(extra)
    return json.dumps(d)


PASS_MACHINE = definition({"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}})


def create_machine(sfn, text=PASS_MACHINE, prefix="sm", **kwargs):
    kwargs.setdefault("roleArn", ROLE)
    r = sfn.create_state_machine(name=name(prefix), definition=text, **kwargs)
    return r["stateMachineArn"]


def error_of(call, *args, **kwargs):
    """Calls `call`, which must fail with a service error; returns (code, message, response)."""
    try:
        r = call(*args, **kwargs)
    except ClientError as e:
        err = e.response["Error"]
        return err.get("Code"), err.get("Message"), e.response
    raise AssertionError(f"expected an error, got {r!r}")


def expect_error(code, call, *args, message=None, message_prefix=None, **kwargs):
    got_code, got_message, response = error_of(call, *args, **kwargs)
    assert got_code == code, f"expected {code}, got {got_code}: {got_message}"
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    assert 400 <= status < 500, f"{code} came with HTTP {status}"
    if message is not None:
        assert got_message == message, f"{code} message: expected {message!r}, got {got_message!r}"
    if message_prefix is not None:
        assert got_message.startswith(message_prefix), (
            f"{code} message: expected it to start with {message_prefix!r}, got {got_message!r}"
        )
    return got_message


def eq(actual, expected, what=""):
    assert actual == expected, f"{what}: expected {expected!r}, got {actual!r}"


def wait_done(sfn, arn, timeout=30.0):
    """Polls DescribeExecution until the execution is no longer RUNNING."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        if time.monotonic() > deadline:
            raise AssertionError(f"{arn} still RUNNING after {timeout}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def run_machine(sfn, states, input=None, timeout=30.0, **extra):
    """Creates a state machine of `states`, runs one execution of it on `input` to its end and
    returns DescribeExecution."""
    arn = create_machine(sfn, definition(states, **extra))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(input or {}))["executionArn"]
    return wait_done(sfn, ex, timeout=timeout)


def succeeded(d):
    """The output of an execution that must have SUCCEEDED."""
    assert d["status"] == "SUCCEEDED", f"{d['status']}: {d.get('error')}: {d.get('cause')}"
    return json.loads(d["output"])


def moto(service, **config):
    """A boto3 client on moto's server (MOTO_URL, which the Rust harness sets), one attempt per
    call."""
    return boto3.client(
        service,
        endpoint_url=os.environ["MOTO_URL"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
    )


def paginate(call, key, **kwargs):
    """Every item of a listing (`key` in each page), following nextToken."""
    items, token = [], None
    while True:
        args = dict(kwargs)
        if token:
            args["nextToken"] = token
        page = call(**args)
        items.extend(page[key])
        token = page.get("nextToken")
        if not token:
            return items


def history(sfn, arn, **kwargs):
    """Every event of an execution, following nextToken."""
    return paginate(sfn.get_execution_history, "events", executionArn=arn, **kwargs)


def replay_problems(events):
    """What shows a history recorded wrongly after crashes: ids other than exactly 1..n, and an
    event that appears twice (same type, previous event and details)."""
    problems = []
    ids = [e["id"] for e in events]
    if ids != list(range(1, len(events) + 1)):
        problems.append(f"ids are not 1..n: {ids}")
    seen = set()
    for e in events:
        key = (e["type"], e.get("previousEventId"), json.dumps(details(e), sort_keys=True, default=str))
        if key in seen:
            problems.append(f"event {e['id']} ({e['type']}) appears twice")
        seen.add(key)
    return problems


def event_types(events):
    return [e["type"] for e in events]


def details(event):
    """The event's *EventDetails member (or {})."""
    for k, v in event.items():
        if k.endswith("EventDetails"):
            return v
    return {}


class Worker(threading.Thread):
    """An activity worker: long-polls GetActivityTask and answers each task with
    `handle(input_dict, token, sfn)`, which returns ("success", output_dict) or
    ("failure", error, cause) or None (the handler answered itself)."""

    def __init__(self, activity_arn, handle, name="e2e-worker"):
        super().__init__(daemon=True)
        self.activity_arn = activity_arn
        self.handle = handle
        self.worker_name = name
        self.stopping = threading.Event()
        self.errors = []
        self.tasks = 0

    def run(self):
        sfn = client()
        while not self.stopping.is_set():
            try:
                task = sfn.get_activity_task(activityArn=self.activity_arn, workerName=self.worker_name)
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(e))
                time.sleep(0.1)
                continue
            token = task.get("taskToken")
            if not token:
                continue
            self.tasks += 1
            try:
                answer = self.handle(json.loads(task["input"]), token, sfn)
                if answer is None:
                    continue
                if answer[0] == "success":
                    sfn.send_task_success(taskToken=token, output=json.dumps(answer[1]))
                else:
                    sfn.send_task_failure(taskToken=token, error=answer[1], cause=answer[2])
            except Exception:  # noqa: BLE001 - reported by the test
                self.errors.append(traceback.format_exc())

    def stop(self):
        self.stopping.set()


def run_tests(module_globals, pending=()):
    """Runs the test_* functions of a script in file order (or those named on the command line;
    `-name` leaves one out, for the Rust harness to run it as a test of its own) and exits 1 if
    any failed. `pending` names tests that are expected to fail until a feature is
    wired; they still run and still fail the script, with a note saying why."""
    wanted = [a for a in sys.argv[1:] if not a.startswith("-")]
    skipped = [a[1:] for a in sys.argv[1:] if a.startswith("-")]
    every = {n: f for n, f in module_globals.items() if n.startswith("test_") and inspect.isfunction(f)}
    tests = [(n, f) for n, f in every.items() if (not wanted or n in wanted) and n not in skipped]
    tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    unknown = (set(wanted) | set(skipped)) - set(every)
    if unknown:
        print(f"no such tests: {sorted(unknown)}")
        sys.exit(2)
    failed = []
    began = time.monotonic()
    for n, f in tests:
        t0 = time.monotonic()
        try:
            f()
        except Exception:  # noqa: BLE001 - every failure is reported
            failed.append(n)
            print(f"FAIL {n} ({time.monotonic() - t0:.2f}s)")
            traceback.print_exc(file=sys.stdout)
            if n in pending:
                print(f"     ^ {n} is PENDING: {pending[n]}")
        else:
            print(f"ok   {n} ({time.monotonic() - t0:.2f}s)")
    print(f"{len(tests) - len(failed)}/{len(tests)} passed in {time.monotonic() - began:.2f}s")
    if failed:
        print("failed: " + ", ".join(failed))
        sys.exit(1)
