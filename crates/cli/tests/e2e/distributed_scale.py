"""A large Distributed Map against moto's S3, in phases the Rust harness (e2e_distributed.rs)
runs around server restarts and kill -9s:

  start N BATCH CONCURRENCY [writer]
                              writes N JSON Lines items, starts a Map Run over them (batches of
                              BATCH when BATCH > 0; with `writer`, a ResultWriter writing
                              FLATTEN to JSONL), prints the parent execution's ARN
  check ARN N BATCH [writer]  waits for the parent to end, then checks: it SUCCEEDED; each item
                              went to exactly one child (one child per item or batch, each
                              SUCCEEDED once, named once), the children's outputs in item order
                              are what the test computes; DescribeMapRun's counts
  progress ARN                prints how many children exist now

Each child doubles its items' numbers (a Pass state); the parent keeps only a digest of the
results (ResultSelector), so its output stays small whatever N is.
"""

import json
import sys
import time

from common import client, create_machine, definition, eq, moto, paginate

sfn = client()
BUCKET = "stepwise-e2e-scale"


def machine(batch, concurrency, writer=False):
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Double",
        "States": {"Double": {"Type": "Pass", "End": True,
                              "Parameters": {"sum.$": "States.MathAdd($.n, $.n)", "i.$": "$.i"}}},
    }
    if batch and writer:
        # Each batch's output is one result per item: FLATTEN writes each as its own line.
        processor["States"]["Double"] = {
            "Type": "Pass", "End": True, "QueryLanguage": "JSONata",
            "Output": "{% [$map($states.input.Items, function($v) { {'i': $v.i, 'sum': $v.n * 2} })] %}"}
    elif batch:
        processor["States"]["Double"] = {
            "Type": "Pass", "End": True,
            "Parameters": {"first.$": "$.Items[0].i", "count.$": "States.ArrayLength($.Items)",
                           "tag.$": "$.BatchInput.tag"}}
    state = {
        "Type": "Map",
        "MaxConcurrency": concurrency,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
                       "Parameters": {"Bucket": BUCKET, "Key": "items.jsonl"}},
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "n.$": "$$.Map.Item.Value.n"},
        "ItemProcessor": processor,
        # The results stay out of the state's output (256 KiB): only their number and ends.
        "ResultSelector": {"count.$": "States.ArrayLength($)", "first.$": "$[0]", "last.$": "$[-1:]"},
        "End": True,
    }
    if writer:
        del state["ResultSelector"]
        state["ResultWriter"] = {"Resource": "arn:aws:states:::s3:putObject",
                                 "Parameters": {"Bucket": BUCKET, "Prefix": "results"},
                                 "WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSONL"}}
    if batch:
        state["ItemBatcher"] = {"MaxItemsPerBatch": batch, "BatchInput": {"tag": "b"}}
    return definition({"Items": state})


def start(n, batch, concurrency, writer=False):
    s3 = moto("s3")
    s3.create_bucket(Bucket=BUCKET)
    body = "\n".join(json.dumps({"n": i}) for i in range(n)).encode()
    s3.put_object(Bucket=BUCKET, Key="items.jsonl", Body=body)
    arn = create_machine(sfn, machine(batch, concurrency, writer), prefix="scale")
    run = sfn.start_execution(stateMachineArn=arn, input="{}")
    print(run["executionArn"], flush=True)


def map_run_of(arn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        if runs:
            return runs[0]["mapRunArn"]
        time.sleep(0.2)
    raise AssertionError("no Map Run started")


def children(map_run):
    return paginate(sfn.list_executions, "executions", mapRunArn=map_run, maxResults=1000)


def progress(arn):
    print(len(children(map_run_of(arn))), flush=True)


def written(out, n):
    """The results the ResultWriter wrote (FLATTEN, JSONL): one line per item, in order."""
    s3 = moto("s3")
    details = out["ResultWriterDetails"]
    eq(details["Bucket"], BUCKET, "results bucket")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=details["Key"])["Body"].read())
    eq(manifest["MapRunArn"], out["MapRunArn"], "manifest's Map Run")
    eq(manifest["ResultFiles"].get("FAILED", []), [], "no failed results")
    lines = []
    for f in manifest["ResultFiles"]["SUCCEEDED"]:
        body = s3.get_object(Bucket=BUCKET, Key=f["Key"])["Body"].read()
        eq(len(body), f["Size"], f"size of {f['Key']}")
        lines.extend(json.loads(line) for line in body.decode().splitlines() if line)
    eq(len(lines), n, "result lines")
    bad = [x for k, x in enumerate(lines) if x != {"i": k, "sum": 2 * k}]
    eq(bad[:3], [], "results that differ from the reference")


def counts_add_up(m, what):
    """DescribeMapRun's counts, whenever they are read: the parts add up to the total."""
    for kind in ("itemCounts", "executionCounts"):
        c = m[kind]
        parts = c["pending"] + c["running"] + c["succeeded"] + c["failed"] + c["timedOut"] + c["aborted"]
        eq(parts, c["total"], f"{what}: {kind} {c}")
    assert m["executionCounts"]["running"] <= m["maxConcurrency"], m["executionCounts"]


def check(arn, n, batch, writer=False):
    deadline = time.time() + 600
    seen = []
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            break
        assert time.time() < deadline, "the parent did not end"
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        if runs:
            m = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
            if m["status"] == "RUNNING":
                counts_add_up(m, "while it runs")
                seen.append(m["executionCounts"]["succeeded"])
        time.sleep(0.5)
    eq(seen, sorted(seen), "succeeded children only ever grow while it runs")
    eq(d["status"], "SUCCEEDED", f"parent: {d.get('error')} {d.get('cause')}")
    expected_children = (n + batch - 1) // batch if batch else n
    out = json.loads(d["output"])
    if writer:
        written(out, n)
    elif batch:
        eq(out["count"], expected_children, "results")
        eq(out["first"], {"first": 0, "count": min(batch, n), "tag": "b"}, "first batch")
        last_first = (expected_children - 1) * batch
        eq(out["last"], [{"first": last_first, "count": n - last_first, "tag": "b"}], "last batch")
    else:
        eq(out["count"], expected_children, "results")
        eq(out["first"], {"sum": 0, "i": 0}, "first item")
        eq(out["last"], [{"sum": 2 * (n - 1), "i": n - 1}], "last item")
    map_run = map_run_of(arn)
    kids = children(map_run)
    names = [k["name"] for k in kids]
    eq(len(kids), expected_children, "children listed")
    eq(len(set(names)), expected_children, "children named once each")
    statuses = {k["status"] for k in kids}
    eq(statuses, {"SUCCEEDED"}, "children's statuses")
    m = sfn.describe_map_run(mapRunArn=map_run)
    counts_add_up(m, "after")
    eq(m["status"], "SUCCEEDED", "Map Run")
    eq(m["executionCounts"]["total"], expected_children, "executionCounts.total")
    eq(m["executionCounts"]["succeeded"], expected_children, "executionCounts.succeeded")
    eq(m["itemCounts"]["total"], n, "itemCounts.total")
    eq(m["itemCounts"]["succeeded"], n, "itemCounts.succeeded")
    # Each child ran once: one ExecutionSucceeded in its history (a sample, spread over the run).
    step = max(1, expected_children // 50)
    for k in kids[::step]:
        events = sfn.get_execution_history(executionArn=k["executionArn"], maxResults=1000)["events"]
        eq(sum(1 for e in events if e["type"] == "ExecutionSucceeded"), 1, k["name"])
        eq([e["id"] for e in events], list(range(1, len(events) + 1)), "event ids")
    print(f"checked {n} items in {expected_children} children "
          f"(DescribeMapRun read {len(seen)} times while it ran)", flush=True)


if __name__ == "__main__":
    phase = sys.argv[1]
    if phase == "start":
        start(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] == ["writer"])
    elif phase == "check":
        check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:] == ["writer"])
    elif phase == "progress":
        progress(sys.argv[2])
    else:
        raise SystemExit(f"unknown phase {phase}")
