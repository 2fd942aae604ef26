"""The client side of the crash test (crates/cli/tests/crash.rs): while the Rust test kills the
server with SIGKILL and restarts it on the same store and port, this script starts N Standard
executions of a machine mixing Pass, Wait, an inline Map and an activity Task, serves the
activity with worker threads that ride out the restarts, waits until every execution SUCCEEDED,
and then checks every history: ids exactly 1..n, nothing applied twice.

Usage: crash_driver.py N. Every call survives the server being down (it retries on connection
errors); service errors are real answers."""

import collections
import json
import sys
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from common import ROLE, client, paginate, replay_problems

N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
WORKERS = 8
DEADLINE = 100.0  # seconds for every execution to succeed
began = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - began:6.2f}s] {msg}", flush=True)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()

    def add(self, key, n=1):
        with self.lock:
            self.c[key] += n


stats = Stats()


def retrying(call, *args, what="call", patience=60.0, **kwargs):
    """Calls `call` until it gets an answer from the server (success or a service error)."""
    deadline = time.monotonic() + patience
    delay = 0.02
    while True:
        try:
            return call(*args, **kwargs)
        except BotoCoreError:
            # Connection refused or reset, read timeout: the server is down or restarting.
            stats.add(f"{what}: retried after a connection error")
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def machine(activity):
    return json.dumps(
        {
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Parameters": {"id.$": "$.id", "items": [1, 2, 3]}, "Next": "Pause"},
                # 500 s at WAIT_TIME_SCALE=0.01: five seconds, so that executions are open
                # while the server is being killed.
                "Pause": {"Type": "Wait", "Seconds": 500, "Next": "Each"},
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "StartAt": "Double",
                        "States": {
                            "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "Next": "Breathe"},
                            "Breathe": {"Type": "Wait", "Seconds": 20, "End": True},
                        },
                    },
                    "ResultPath": "$.mapped",
                    "Next": "Work",
                },
                # A task whose worker took it but whose answer died with the server is taken
                # again after the heartbeat timeout. A heartbeat measures a worker's time, which
                # WAIT_TIME_SCALE does not scale: two real seconds.
                "Work": {
                    "Type": "Task",
                    "Resource": activity,
                    "HeartbeatSeconds": 2,
                    "Retry": [
                        {
                            "ErrorEquals": ["States.HeartbeatTimeout", "States.Timeout"],
                            "IntervalSeconds": 1,
                            "MaxAttempts": 50,
                            "BackoffRate": 1.0,
                        }
                    ],
                    "ResultPath": "$.work",
                    "Next": "Done",
                },
                "Done": {"Type": "Pass", "End": True},
            },
        }
    )


def worker(activity, stop, index):
    sfn = client(read_timeout=70)
    while not stop.is_set():
        try:
            task = sfn.get_activity_task(activityArn=activity, workerName=f"crash-worker-{index}")
        except BotoCoreError:
            stats.add("worker: poll failed on a connection error")
            time.sleep(0.05)
            continue
        except ClientError as e:
            stats.add(f"worker: poll answered {e.response['Error']['Code']}")
            time.sleep(0.05)
            continue
        token = task.get("taskToken")
        if not token:
            continue
        stats.add("tasks received")
        inp = json.loads(task["input"])
        answer = json.dumps({"id": inp["id"], "ok": True})
        try:
            retrying(sfn.send_task_heartbeat, taskToken=token, what="heartbeat", patience=20)
            retrying(sfn.send_task_success, taskToken=token, output=answer, what="success", patience=20)
            stats.add("answers accepted")
        except ClientError as e:
            # The task was answered before a crash (the answer's reply was lost), or timed out
            # and was scheduled again: someone else takes it.
            stats.add(f"answer refused: {e.response['Error']['Code']}")
        except BotoCoreError:
            stats.add("answer given up after 20 s of connection errors")


def start_all(sfn, arn):
    """Starts N executions at about 100 a second, so the kills land while they run."""
    t0 = time.monotonic()
    for i in range(N):
        name, inp = f"crash-{i}", json.dumps({"id": i})
        try:
            retrying(sfn.start_execution, stateMachineArn=arn, name=name, input=inp, what="start")
        except ClientError as e:
            # Started before a crash whose reply was lost, and already finished.
            if e.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            stats.add("start: ExecutionAlreadyExists on a retry")
        pause = t0 + (i + 1) / 100.0 - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def count_by_status(sfn, arn):
    listed = paginate(
        lambda **args: retrying(sfn.list_executions, what="list", **args),
        "executions",
        stateMachineArn=arn,
        maxResults=1000,
    )
    return collections.Counter(x["status"] for x in listed)


def check_history(arn, events, i):
    """Every problem with one execution's history (empty when it is right)."""
    problems = replay_problems(events)
    types = collections.Counter(e["type"] for e in events)
    for t, want in (
        ("ExecutionStarted", 1),
        ("ExecutionSucceeded", 1),
        ("WaitStateEntered", 4),
        ("WaitStateExited", 4),
        ("MapStateStarted", 1),
        ("MapStateSucceeded", 1),
        ("MapIterationStarted", 3),
        ("MapIterationSucceeded", 3),
        ("ActivitySucceeded", 1),
    ):
        if types[t] != want:
            problems.append(f"{types[t]} {t}, expected {want}")
    if events and events[-1]["type"] != "ExecutionSucceeded":
        problems.append(f"last event is {events[-1]['type']}")
    entered = collections.Counter()
    exited = collections.Counter()
    for e in events:
        if e["type"].endswith("StateEntered"):
            entered[e["stateEnteredEventDetails"]["name"]] += 1
        if e["type"].endswith("StateExited"):
            exited[e["stateExitedEventDetails"]["name"]] += 1
    want_entered = {"Init": 1, "Pause": 1, "Each": 1, "Double": 3, "Breathe": 3, "Work": 1, "Done": 1}
    if dict(entered) != want_entered:
        problems.append(f"states entered {dict(entered)}, expected {want_entered}")
    if entered != exited:
        problems.append(f"entered {dict(entered)} but exited {dict(exited)}")
    scheduled, started = types["ActivityScheduled"], types["ActivityStarted"]
    ended = types["ActivitySucceeded"] + types["ActivityFailed"] + types["ActivityTimedOut"]
    if scheduled != ended:
        problems.append(f"{scheduled} ActivityScheduled but {ended} ended")
    if not 1 <= started <= scheduled:
        problems.append(f"{started} ActivityStarted for {scheduled} ActivityScheduled")
    # Within one attempt: scheduled, at most one started, then one end, in this order.
    state = None
    for e in events:
        t = e["type"]
        if t == "ActivityScheduled":
            if state not in (None, "ended"):
                problems.append(f"ActivityScheduled at {e['id']} while an attempt is {state}")
            state = "scheduled"
        elif t == "ActivityStarted":
            if state != "scheduled":
                problems.append(f"ActivityStarted at {e['id']} while {state}")
            state = "started"
        elif t in ("ActivitySucceeded", "ActivityFailed", "ActivityTimedOut"):
            if state not in ("scheduled", "started"):
                problems.append(f"{t} at {e['id']} while {state}")
            state = "ended"
    if events and events[-1]["type"] == "ExecutionSucceeded":
        out = json.loads(events[-1]["executionSucceededEventDetails"]["output"])
        want = {"id": i, "items": [1, 2, 3], "mapped": [{"v": 2}, {"v": 4}, {"v": 6}], "work": {"id": i, "ok": True}}
        if out != want:
            problems.append(f"output {out}, expected {want}")
    stats.add("activity attempts", scheduled)
    stats.add("ActivityTimedOut events", types["ActivityTimedOut"])
    return problems


def history(sfn, arn):
    return paginate(
        lambda **args: retrying(sfn.get_execution_history, what="history", **args),
        "events",
        executionArn=arn,
        maxResults=1000,
    )


def show_stuck(sfn, arn):
    """Prints the last events of up to three executions still running, to say where they stopped."""
    running = retrying(sfn.list_executions, stateMachineArn=arn, statusFilter="RUNNING", maxResults=3, what="list")
    for x in running["executions"]:
        events = history(sfn, x["executionArn"])
        log(f"still running: {x['executionArn']} ({len(events)} events), the last ones:")
        for e in events[-6:]:
            details = {k: v for k, v in e.items() if k.endswith("EventDetails")}
            log(f"    {e['id']} {e['type']} {e['timestamp']} {json.dumps(details, default=str)[:300]}")


def main():
    sfn = client(read_timeout=30)
    activity = retrying(sfn.create_activity, name="crash-activity", what="setup")["activityArn"]
    arn = retrying(
        sfn.create_state_machine, name="crash-machine", definition=machine(activity), roleArn=ROLE, what="setup"
    )["stateMachineArn"]
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(activity, stop, k), daemon=True) for k in range(WORKERS)]
    for t in threads:
        t.start()
    start_all(sfn, arn)
    log(f"started {N} executions")
    deadline = began + DEADLINE
    last = None
    while True:
        counts = count_by_status(sfn, arn)
        if counts != last:
            log(f"executions: {dict(counts)}")
            last = counts
        bad = {s: n for s, n in counts.items() if s not in ("RUNNING", "SUCCEEDED")}
        if bad:
            for x in retrying(sfn.list_executions, stateMachineArn=arn, maxResults=1000, what="list")["executions"]:
                if x["status"] in bad:
                    d = retrying(sfn.describe_execution, executionArn=x["executionArn"], what="describe")
                    log(f"{x['executionArn']}: {d['status']} {d.get('error')}: {d.get('cause')}")
                    break
            raise SystemExit(f"executions ended badly: {bad}")
        if counts["SUCCEEDED"] == N:
            break
        if time.monotonic() > deadline:
            show_stuck(sfn, arn)
            raise SystemExit(f"not every execution succeeded within {DEADLINE}s: {dict(counts)}")
        time.sleep(0.25)
    log(f"all {N} executions SUCCEEDED")
    stop.set()
    t0 = time.monotonic()
    prefix = arn.replace(":stateMachine:", ":execution:")
    failures = {}
    for i in range(N):
        e = f"{prefix}:crash-{i}"
        problems = check_history(e, history(sfn, e), i)
        if problems:
            failures[e] = problems
    log(f"checked {N} histories in {time.monotonic() - t0:.2f}s")
    for k, v in sorted(stats.c.items()):
        print(f"    {k}: {v}")
    if failures:
        for e, problems in list(failures.items())[:10]:
            print(f"BAD HISTORY {e}")
            for p in problems:
                print(f"    {p}")
        raise SystemExit(f"{len(failures)} of {N} histories are wrong")
    print("CRASH DRIVER OK")


if __name__ == "__main__":
    main()
