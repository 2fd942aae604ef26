"""The client side of the cluster test (crates/cli/tests/cluster.rs): several `stepwise serve`
nodes share one PostgreSQL database while the Rust test kills, pauses and restarts them. This
script creates the machine on one node, starts N Standard executions spread over every node,
serves the activity with workers that poll one node and answer through another, waits until
every execution SUCCEEDED, and checks every history (ids exactly 1..n, nothing applied twice) and
the Lambda calls (each recorded once, made at most once more per owner that failed while it was
in flight: the test kills one node and pauses another, so at most three times).

Usage: cluster_driver.py N URL[,URL...] CALLS_FILE. A node that does not answer (killed,
paused) is skipped: the call goes to the next one. Prints "PHASE started" once every execution
is started, so the test knows when to strike."""

import collections
import json
import sys
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from common import ROLE, client, paginate, replay_problems

N = int(sys.argv[1])
URLS = sys.argv[2].split(",")
CALLS = sys.argv[3]
WORKERS = 6
DEADLINE = 150.0
began = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - began:6.2f}s] {msg}", flush=True)


stats = collections.Counter()
stats_lock = threading.Lock()


def count(key, n=1):
    with stats_lock:
        stats[key] += n


class Nodes:
    """One client per node; a call goes to the given node first, then to the others."""

    def __init__(self, read_timeout=30):
        self.clients = [client(read_timeout, u) for u in URLS]

    def call(self, action, first=0, patience=60.0, **kwargs):
        deadline = time.monotonic() + patience
        k = first
        while True:
            sfn = self.clients[k % len(self.clients)]
            try:
                return getattr(sfn, action)(**kwargs)
            except BotoCoreError:
                count(f"{action}: a node did not answer, tried the next")
                if time.monotonic() > deadline:
                    raise
                k += 1
                time.sleep(0.05)
            except ClientError as e:
                # A node that lost its hold on an execution mid-call says so; the next try
                # reaches its new owner.
                if e.response["Error"]["Code"] in ("InternalFailure", "ServiceUnavailable", "ThrottlingException"):
                    count(f"{action}: {e.response['Error']['Code']}, tried again")
                    if time.monotonic() > deadline:
                        raise
                    k += 1
                    time.sleep(0.1)
                    continue
                raise


def function_arn(name):
    return f"arn:aws:lambda:us-east-1:123456789012:function:{name}"


def machine(activity):
    return json.dumps(
        {
            "StartAt": "Init",
            "States": {
                "Init": {"Type": "Pass", "Parameters": {"id.$": "$.id", "items": [1, 2, 3]}, "Next": "Pause"},
                # 300 s at WAIT_TIME_SCALE=0.01: three seconds, so executions are open while
                # nodes die.
                "Pause": {"Type": "Wait", "Seconds": 300, "Next": "Both"},
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {
                            "StartAt": "Flaky",
                            "States": {
                                # Fails on its first attempt, succeeds on the retry.
                                "Flaky": {
                                    "Type": "Task",
                                    "Resource": function_arn("flaky"),
                                    "Parameters": {"id.$": "$.id", "attempt.$": "$$.State.RetryCount"},
                                    "Retry": [{"ErrorEquals": ["FirstTry"], "IntervalSeconds": 50, "MaxAttempts": 2}],
                                    "End": True,
                                }
                            },
                        },
                        {
                            "StartAt": "Each",
                            "States": {
                                "Each": {
                                    "Type": "Map",
                                    "ItemsPath": "$.items",
                                    "ItemProcessor": {
                                        "StartAt": "Double",
                                        "States": {
                                            "Double": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"}, "Next": "Breathe"},
                                            "Breathe": {"Type": "Wait", "Seconds": 100, "End": True},
                                        },
                                    },
                                    "End": True,
                                }
                            },
                        },
                    ],
                    "ResultPath": "$.both",
                    "Next": "Work",
                },
                "Work": {
                    "Type": "Task",
                    "Resource": activity,
                    "HeartbeatSeconds": 3,
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


def distributed_machine():
    """A Distributed Map whose Standard children spread over every node's partitions: its
    coordinator, on the parent's node, hears of each child's end from whichever node drove it."""
    return json.dumps(
        {
            "StartAt": "Fan",
            "States": {
                "Fan": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "MaxConcurrency": 10,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                        "StartAt": "Square",
                        "States": {
                            "Square": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, 1)"}, "Next": "Rest"},
                            "Rest": {"Type": "Wait", "Seconds": 50, "End": True},
                        },
                    },
                    "End": True,
                }
            },
        }
    )


DISTRIBUTED = 3
ITEMS = 30


def worker(activity, stop, index):
    nodes = Nodes(read_timeout=70)
    while not stop.is_set():
        poll_at = index
        try:
            task = nodes.clients[poll_at % len(URLS)].get_activity_task(
                activityArn=activity, workerName=f"cluster-worker-{index}"
            )
        except (BotoCoreError, ClientError):
            count("worker: a poll failed")
            index += 1
            time.sleep(0.05)
            continue
        token = task.get("taskToken")
        if not token:
            continue
        count("tasks received")
        inp = json.loads(task["input"])
        answer = json.dumps({"id": inp["id"], "ok": True})
        try:
            # Answered through another node than the one that handed the task out.
            nodes.call("send_task_success", first=poll_at + 1, patience=30, taskToken=token, output=answer)
            count("answers accepted")
        except ClientError as e:
            count(f"answer refused: {e.response['Error']['Code']}")
        except BotoCoreError:
            count("answer given up")


def statuses(nodes, arn, first=0):
    listed = paginate(
        lambda **args: nodes.call("list_executions", first=first, **args),
        "executions",
        stateMachineArn=arn,
        maxResults=1000,
    )
    return collections.Counter(x["status"] for x in listed)


def history(nodes, arn, first):
    return paginate(
        lambda **args: nodes.call("get_execution_history", first=first, **args),
        "events",
        executionArn=arn,
        maxResults=1000,
    )


def check_history(events, i):
    problems = replay_problems(events)
    types = collections.Counter(e["type"] for e in events)
    for t, want in (
        ("ExecutionStarted", 1),
        ("ExecutionSucceeded", 1),
        ("WaitStateEntered", 4),
        ("ParallelStateEntered", 1),
        ("ParallelStateExited", 1),
        ("MapIterationSucceeded", 3),
        ("LambdaFunctionScheduled", 2),
        ("LambdaFunctionFailed", 1),
        ("LambdaFunctionSucceeded", 1),
        ("ActivitySucceeded", 1),
    ):
        if types[t] != want:
            problems.append(f"{types[t]} {t}, expected {want}")
    if events and events[-1]["type"] == "ExecutionSucceeded":
        out = json.loads(events[-1]["executionSucceededEventDetails"]["output"])
        want_work = {"id": i, "ok": True}
        if out.get("work") != want_work or out.get("both", [None, None])[1] != [{"v": 2}, {"v": 4}, {"v": 6}]:
            problems.append(f"output {out}")
    count("ActivityTimedOut events", types["ActivityTimedOut"])
    return problems


def main():
    nodes = Nodes()
    activity = nodes.call("create_activity", name="cluster-activity")["activityArn"]
    arn = nodes.call("create_state_machine", first=1, name="cluster-machine", definition=machine(activity), roleArn=ROLE)[
        "stateMachineArn"
    ]
    fan = nodes.call("create_state_machine", first=2, name="cluster-fan", definition=distributed_machine(), roleArn=ROLE)[
        "stateMachineArn"
    ]
    fans = [
        nodes.call("start_execution", first=k, stateMachineArn=fan, name=f"fan-{k}", input=json.dumps({"items": list(range(ITEMS))}))[
            "executionArn"
        ]
        for k in range(DISTRIBUTED)
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(activity, stop, k), daemon=True) for k in range(WORKERS)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    for i in range(N):
        try:
            nodes.call("start_execution", first=i, stateMachineArn=arn, name=f"c-{i}", input=json.dumps({"id": i}))
        except ClientError as e:
            if e.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
            count("start: ExecutionAlreadyExists on a retry")
        # About 50 a second, so their Lambda calls (a process each) do not all come at once.
        pause = t0 + (i + 1) / 50.0 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    log(f"PHASE started: {N} executions in {time.monotonic() - t0:.2f}s")
    deadline = began + DEADLINE
    last = None
    while True:
        counts = statuses(nodes, arn)
        if counts != last:
            log(f"executions: {dict(counts)}")
            last = counts
        bad = {s: n for s, n in counts.items() if s not in ("RUNNING", "SUCCEEDED")}
        if bad:
            raise SystemExit(f"executions ended badly: {bad}")
        if counts["SUCCEEDED"] == N:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"not every execution succeeded within {DEADLINE}s: {dict(counts)}")
        time.sleep(0.25)
    log(f"PHASE succeeded: all {N} executions SUCCEEDED")
    for k, e in enumerate(fans):
        while True:
            d = nodes.call("describe_execution", first=k + 1, executionArn=e)
            if d["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the Distributed Map {e} did not end within {DEADLINE}s")
            time.sleep(0.25)
        if d["status"] != "SUCCEEDED" or json.loads(d["output"]) != [{"v": i + 1} for i in range(ITEMS)]:
            raise SystemExit(f"the Distributed Map {e} ended {d['status']}: {d.get('output') or d.get('cause')}")
    log(f"PHASE distributed: {DISTRIBUTED} Distributed Maps of {ITEMS} children SUCCEEDED")
    stop.set()
    prefix = arn.replace(":stateMachine:", ":execution:")
    failures = {}
    for i in range(N):
        problems = check_history(history(nodes, f"{prefix}:c-{i}", i), i)
        if problems:
            failures[i] = problems
    calls = collections.Counter()
    with open(CALLS) as f:
        for line in f:
            calls[line.strip()] += 1
    # A call in flight when its node dies (or stalls past its lease) is made again by the new
    # owner: once per failed owner. The test strikes twice (a kill, then a pause), and the
    # pause can hit the very node that took the call over.
    too_many = {k: v for k, v in calls.items() if v > 3}
    missing = [i for i in range(N) for a in (0, 1) if calls[f"{i}/{a}"] == 0]
    count("Lambda calls", sum(calls.values()))
    count("Lambda calls made twice", sum(1 for v in calls.values() if v == 2))
    count("Lambda calls made three times", sum(1 for v in calls.values() if v == 3))
    for k, v in sorted(stats.items()):
        print(f"    {k}: {v}")
    if failures:
        for i, problems in list(failures.items())[:10]:
            print(f"BAD HISTORY c-{i}")
            for p in problems:
                print(f"    {p}")
        raise SystemExit(f"{len(failures)} of {N} histories are wrong")
    if too_many or missing:
        raise SystemExit(f"Lambda calls made more than three times: {too_many}; never made: {missing[:10]}")
    print("CLUSTER DRIVER OK", flush=True)


if __name__ == "__main__":
    main()
