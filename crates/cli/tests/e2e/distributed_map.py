"""Distributed Maps whose ItemReader reads S3 (moto's server, MOTO_URL), through `stepwise serve`
with boto3 (the Rust harness, e2e_distributed.rs, points the server at moto): JSON Lines, CSV
with its header row, a prefix listing, MaxItems, and the Map Run's failure when the reader
fails; each checked against what the test computes from the data it wrote, and against the
history AWS records (MapStateStarted with length 0, MapRunStarted, MapRunSucceeded or
MapRunFailed)."""

import json
import time

from common import (client, create_machine, definition, eq, event_types, expect_error, history, moto, run_machine,
                    run_tests, succeeded, wait_done)

sfn = client()
BUCKET = "stepwise-e2e-items"


def setup():
    s3 = moto("s3")
    s3.create_bucket(Bucket=BUCKET)
    return s3


def distributed(reader, processor_states, start="Work", **map_fields):
    """A state machine whose one state is a Distributed Map reading with `reader`."""
    return {
        "Items": {
            "Type": "Map",
            "ItemReader": reader,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": start,
                "States": processor_states,
            },
            "End": True,
            **map_fields,
        }
    }


DOUBLE = {"Work": {"Type": "Pass", "Parameters": {"n.$": "$.n", "double.$": "States.MathAdd($.n, $.n)"},
                   "End": True}}


def test_jsonl_items_are_read_in_order_with_max_concurrency_and_item_selector():
    s3 = setup()
    lines = [{"n": i} for i in range(1000)]
    s3.put_object(Bucket=BUCKET, Key="in/numbers.jsonl", Body="\n".join(json.dumps(x) for x in lines).encode())
    d = run_machine(sfn, distributed(
        {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
         "Parameters": {"Bucket": BUCKET, "Key.$": "$.key"}},
        DOUBLE, MaxConcurrency=50,
        ItemSelector={"n.$": "$$.Map.Item.Value.n", "index.$": "$$.Map.Item.Index"}),
        {"key": "in/numbers.jsonl"}, timeout=120)
    out = succeeded(d)
    eq(out, [{"n": i, "double": 2 * i} for i in range(1000)], "each item's result, in item order")
    types = event_types(history(sfn, d["executionArn"]))
    eq(types, ["ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapRunStarted",
               "MapRunSucceeded", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"],
       "the parent's history")
    started = [e for e in history(sfn, d["executionArn"]) if e["type"] == "MapStateStarted"][0]
    eq(started["mapStateStartedEventDetails"], {"length": 0}, "MapStateStarted before the items are read")
    # Each item ran as a child execution of the Map Run.
    map_run = [e for e in history(sfn, d["executionArn"]) if e["type"] == "MapRunStarted"][0][
        "mapRunStartedEventDetails"]["mapRunArn"]
    machine = d["stateMachineArn"].split(":stateMachine:")[1]
    assert f":mapRun:{machine}/Items:" in map_run, map_run
    children = []
    for page in sfn.get_paginator("list_executions").paginate(mapRunArn=map_run, PaginationConfig={"PageSize": 400}):
        children += page["executions"]
    eq(len(children), 1000, "child executions listed by their Map Run")
    eq({c["status"] for c in children}, {"SUCCEEDED"}, "their status")
    eq({c.get("itemCount") for c in children}, {1}, "one item each (itemCount, shown for a Map Run's children)")
    assert all(f":execution:{machine}/Items:" in c["executionArn"] for c in children), children[0]
    child = sfn.describe_execution(executionArn=children[0]["executionArn"])
    eq(child["mapRunArn"], map_run, "DescribeExecution names the child's Map Run")
    eq(child["stateMachineArn"], d["stateMachineArn"] + "/Items", "the child's state machine")
    out_child = json.loads(child["output"])
    eq(out_child["double"], 2 * out_child["n"], "the child's own output")
    eq(event_types(history(sfn, child["executionArn"])),
       ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"], "the child's own history")
    # The Map Run itself.
    runs = sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"]
    eq([(r["mapRunArn"], r["stateMachineArn"]) for r in runs], [(map_run, d["stateMachineArn"] + "/Items")],
       "ListMapRuns")
    assert "stopDate" in runs[0], runs
    run = sfn.describe_map_run(mapRunArn=map_run)
    eq((run["status"], run["executionArn"], run["maxConcurrency"]), ("SUCCEEDED", d["executionArn"], 50),
       "DescribeMapRun")
    counts = {k: v for k, v in run["executionCounts"].items() if k in
              ("pending", "running", "succeeded", "failed", "timedOut", "aborted", "total")}
    eq(counts, {"pending": 0, "running": 0, "succeeded": 1000, "failed": 0, "timedOut": 0, "aborted": 0,
                "total": 1000}, "its children, counted")


def test_items_are_batched_with_batch_input():
    s3 = setup()
    s3.put_object(Bucket=BUCKET, Key="in/batched.jsonl",
                  Body="\n".join(json.dumps({"n": i}) for i in range(250)).encode())
    d = run_machine(sfn, distributed(
        {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
         "Parameters": {"Bucket": BUCKET, "Key": "in/batched.jsonl"}},
        {"Work": {"Type": "Pass", "End": True, "Parameters": {
            "run.$": "$.BatchInput.run", "count.$": "States.ArrayLength($.Items)", "first.$": "$.Items[0].n"}}},
        ItemBatcher={"MaxItemsPerBatchPath": "$.per", "BatchInput": {"run.$": "$.run"}}),
        {"per": 100, "run": "r-1"})
    eq(succeeded(d), [{"run": "r-1", "count": c, "first": f} for c, f in ((100, 0), (100, 100), (50, 200))],
       "one child per batch of at most 100 items, with BatchInput")
    run = sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"][0]
    run = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    eq((run["itemCounts"]["total"], run["itemCounts"]["succeeded"], run["itemCounts"]["pending"]), (250, 250, 0),
       "items counted by the batches that held them")
    eq((run["executionCounts"]["total"], run["executionCounts"]["succeeded"]), (3, 3), "one child per batch")
    children = sfn.list_executions(mapRunArn=run["mapRunArn"])["executions"]
    eq(sorted(c["itemCount"] for c in children), [50, 100, 100], "each child's itemCount: its batch's items")
    assert all("itemCount" not in x for x in sfn.list_executions(stateMachineArn=d["stateMachineArn"])["executions"])


def inline(processor_states, **map_fields):
    """A Distributed Map over the input's `items`, each a child execution."""
    return {
        "Items": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Check",
                "States": processor_states,
            },
            "End": True,
            **map_fields,
        }
    }


FAIL_EVERY_20TH = {
    "Check": {"Type": "Choice", "Choices": [{"Variable": "$.bad", "BooleanEquals": True, "Next": "Bad"}],
              "Default": "Good"},
    "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "a bad item"},
    "Good": {"Type": "Pass", "End": True},
}


def test_tolerated_failures_of_child_executions():
    items = [{"n": i, "bad": i % 20 == 0} for i in range(100)]  # 5% fail
    d = run_machine(sfn, inline(FAIL_EVERY_20TH, ToleratedFailurePercentage=10), {"items": items}, timeout=60)
    out = succeeded(d)
    eq([o.get("Error") for o in out if "Error" in o], ["Item.Bad"] * 5, "the failed children's errors in the results")
    map_run = [e for e in history(sfn, d["executionArn"]) if e["type"] == "MapRunStarted"][0][
        "mapRunStartedEventDetails"]["mapRunArn"]
    failed = sfn.list_executions(mapRunArn=map_run, statusFilter="FAILED")["executions"]
    eq(len(failed), 5, "failed children listed by status")
    child = sfn.describe_execution(executionArn=failed[0]["executionArn"])
    eq((child["error"], child["cause"]), ("Item.Bad", "a bad item"), "a failed child's own error")
    run = sfn.describe_map_run(mapRunArn=map_run)
    eq((run["status"], run["toleratedFailurePercentage"], run["executionCounts"]["failed"],
        run["executionCounts"]["succeeded"]), ("SUCCEEDED", 10.0, 5, 95), "a run within its tolerance")
    # Over the threshold: the Map Run fails.
    d = run_machine(sfn, inline(FAIL_EVERY_20TH, ToleratedFailurePercentage=2), {"items": items}, timeout=60)
    eq((d["status"], d.get("error")), ("FAILED", "States.ExceedToleratedFailureThreshold"), "over the threshold")
    types = event_types(history(sfn, d["executionArn"]))
    assert "MapRunFailed" in types and "MapStateFailed" in types, types
    run = sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"][0]
    eq(sfn.describe_map_run(mapRunArn=run["mapRunArn"])["status"], "FAILED", "a run over its tolerance")


def test_a_failed_map_run_is_redriven_with_its_parent_once_its_items_are_fixed():
    """3% of 200 items fail (their S3 object is missing): within a 5% threshold the run
    succeeds; over a 2% one it fails with States.ExceedToleratedFailureThreshold; once the
    objects exist, RedriveExecution of the parent redrives the same Map Run, whose failed
    children (and only they) run again and succeed."""
    s3 = setup()
    bad = {7, 40, 77, 110, 150, 199}
    for i in range(200):
        if i not in bad:
            s3.put_object(Bucket=BUCKET, Key=f"fix/{i}", Body=f"item {i}".encode())
    lines = "\n".join(json.dumps({"i": i}) for i in range(200)).encode()
    s3.put_object(Bucket=BUCKET, Key="in/fix.jsonl", Body=lines)
    reader = {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSONL"},
              "Parameters": {"Bucket": BUCKET, "Key": "in/fix.jsonl"}}
    fetch = {"Work": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                      "Parameters": {"Bucket": BUCKET, "Key.$": "States.Format('fix/{}', $.i)"},
                      "ResultSelector": {"i.$": "$$.Execution.Input.i", "size.$": "$.ContentLength"},
                      "End": True}}

    within = run_machine(sfn, distributed(reader, fetch, MaxConcurrency=20, ToleratedFailurePercentage=5),
                         timeout=120)
    out = succeeded(within)
    eq(sorted(k for k, o in enumerate(out) if "Error" in o), sorted(bad), "the failed items' results")
    eq({o["Error"] for o in out if "Error" in o}, {"S3.NoSuchKeyException"}, "their errors")

    arn = create_machine(sfn, definition(distributed(reader, fetch, MaxConcurrency=20,
                                                     ToleratedFailurePercentage=2)))
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, ex, timeout=120)
    eq((d["status"], d.get("error")), ("FAILED", "States.ExceedToleratedFailureThreshold"), "over 2%")
    map_run = sfn.list_map_runs(executionArn=ex)["mapRuns"][0]["mapRunArn"]
    eq(sfn.describe_map_run(mapRunArn=map_run)["status"], "FAILED", "the Map Run")
    before = {c["executionArn"]: c["status"]
              for c in sfn.list_executions(mapRunArn=map_run, maxResults=1000)["executions"]}

    for i in bad:
        s3.put_object(Bucket=BUCKET, Key=f"fix/{i}", Body=f"item {i}".encode())
    sfn.redrive_execution(executionArn=ex)
    d = wait_done(sfn, ex, timeout=120)
    out = succeeded(d)
    eq([o["i"] for o in out], list(range(200)), "every item's result, in item order")
    eq({o["size"] for o in out}, {len(f"item {i}") for i in range(200)}, "their objects read")
    events = history(sfn, ex)
    redriven = [e["mapRunRedrivenEventDetails"] for e in events if e["type"] == "MapRunRedriven"]
    eq(redriven, [{"mapRunArn": map_run, "redriveCount": 1}], "MapRunRedriven names the same Map Run")
    eq([e["type"] for e in events if e["type"].startswith("MapRun")],
       ["MapRunStarted", "MapRunFailed", "MapRunRedriven", "MapRunSucceeded"], "the parent's Map Run events")
    run = sfn.describe_map_run(mapRunArn=map_run)
    eq((run["status"], run["redriveCount"], run["executionCounts"]["succeeded"], run["executionCounts"]["total"]),
       ("SUCCEEDED", 1, 200, 200), "the redriven Map Run")
    after = sfn.list_executions(mapRunArn=map_run, maxResults=1000)["executions"]
    eq(len(after), 200, "no child added: the unsuccessful ones were redriven")
    for c in after:
        redrives = sfn.describe_execution(executionArn=c["executionArn"]).get("redriveCount", 0)
        was = before.get(c["executionArn"])
        if was == "SUCCEEDED":
            eq(redrives, 0, f"a child that had succeeded ({c['name']}) is not run again")
        elif was is not None:
            eq(redrives, 1, f"a child that had {was} ({c['name']}) is redriven")


def test_express_children_run_to_their_end_and_are_counted():
    states = inline({"Check": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($, $)"}, "End": True}},
                    MaxConcurrency=4)
    states["Items"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    d = run_machine(sfn, states, {"items": list(range(20))})
    eq(succeeded(d), [{"twice": 2 * i} for i in range(20)], "each Express child's output, in item order")
    run = sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"][0]
    counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])["executionCounts"]
    eq((counts["succeeded"], counts["total"], counts["pending"]), (20, 20, 0), "Express children counted")


def test_stopping_the_parent_aborts_its_running_children():
    slow = {"Check": {"Type": "Wait", "Seconds": 600, "End": True}}
    arn = create_machine(sfn, definition(inline(slow, MaxConcurrency=3)))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": list(range(10))}))["executionArn"]
    deadline = time.monotonic() + 20
    map_run = None
    while map_run is None and time.monotonic() < deadline:
        started = [e for e in history(sfn, ex) if e["type"] == "MapRunStarted"]
        map_run = started[0]["mapRunStartedEventDetails"]["mapRunArn"] if started else None
        time.sleep(0.05)
    running = []
    while len(running) < 3 and time.monotonic() < deadline:
        try:
            running = sfn.list_executions(mapRunArn=map_run, statusFilter="RUNNING")["executions"]
        except sfn.exceptions.ResourceNotFound:
            pass
        time.sleep(0.05)
    eq(len(running), 3, "MaxConcurrency children running")
    sfn.stop_execution(executionArn=ex)
    wait_done(sfn, ex)
    deadline = time.monotonic() + 20
    statuses = set()
    while time.monotonic() < deadline:
        statuses = {c["status"] for c in sfn.list_executions(mapRunArn=map_run)["executions"]}
        if statuses == {"ABORTED"}:
            break
        time.sleep(0.05)
    eq(statuses, {"ABORTED"}, "the children of a stopped parent")
    run = sfn.describe_map_run(mapRunArn=map_run)
    eq((run["status"], run["executionCounts"]["pending"], run["executionCounts"]["total"]), ("ABORTED", 7, 10),
       "the Map Run of a stopped parent, with its items never started")


def test_update_map_run_raises_the_concurrency_of_a_running_run():
    slow = {"Check": {"Type": "Wait", "Seconds": 600, "End": True}}
    arn = create_machine(sfn, definition(inline(slow, MaxConcurrency=1)))
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": list(range(6))}))["executionArn"]
    deadline = time.monotonic() + 20
    runs = []
    while not runs and time.monotonic() < deadline:
        runs = sfn.list_map_runs(executionArn=ex)["mapRuns"]
        time.sleep(0.05)
    map_run = runs[0]["mapRunArn"]

    def running():
        return len(sfn.list_executions(mapRunArn=map_run, statusFilter="RUNNING")["executions"])

    while running() < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    eq(running(), 1, "MaxConcurrency 1")
    sfn.update_map_run(mapRunArn=map_run, maxConcurrency=4, toleratedFailurePercentage=50)
    while running() < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    eq(running(), 4, "after UpdateMapRun(maxConcurrency=4)")
    run = sfn.describe_map_run(mapRunArn=map_run)
    eq((run["maxConcurrency"], run["toleratedFailurePercentage"], run["executionCounts"]["pending"]), (4, 50.0, 2),
       "DescribeMapRun after the update")
    expect_error("ValidationException", sfn.update_map_run, mapRunArn=map_run)
    sfn.stop_execution(executionArn=ex)
    wait_done(sfn, ex)
    expect_error("ResourceNotFound", sfn.update_map_run, mapRunArn=map_run, maxConcurrency=2)


def test_csv_with_its_header_row_and_max_items():
    s3 = setup()
    rows = ["id,name,score"] + [f"{i},name-{i},{i * 3}" for i in range(20)]
    s3.put_object(Bucket=BUCKET, Key="in/table.csv", Body="\n".join(rows).encode())
    d = run_machine(sfn, distributed(
        {"Resource": "arn:aws:states:::s3:getObject",
         "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 5},
         "Parameters": {"Bucket": BUCKET, "Key": "in/table.csv"}},
        {"Work": {"Type": "Pass", "End": True}}))
    out = succeeded(d)
    eq(len(out), 5, "MaxItems")
    eq([{k: r[k] for k in ("id", "name", "score")} for r in out],
       [{"id": str(i), "name": f"name-{i}", "score": str(i * 3)} for i in range(5)],
       "rows as objects of strings, keyed by the header row")


def test_a_prefix_listing_gives_one_item_per_object():
    s3 = setup()
    keys = [f"listed/{i:03}.txt" for i in range(30)]
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"x" * len(k))
    d = run_machine(sfn, distributed(
        {"Resource": "arn:aws:states:::s3:listObjectsV2",
         "Parameters": {"Bucket": BUCKET, "Prefix": "listed/"}},
        {"Work": {"Type": "Pass", "End": True}},
        ItemSelector={"key.$": "$$.Map.Item.Value.Key", "size.$": "$$.Map.Item.Value.Size"}))
    out = succeeded(d)
    eq(out, [{"key": k, "size": len(k)} for k in keys], "each listed object, in key order")


def test_a_reader_that_fails_fails_the_map_run():
    setup()
    d = run_machine(sfn, distributed(
        {"Resource": "arn:aws:states:::s3:getObject",
         "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItemsPath": "$.max"},
         "Parameters": {"Bucket": BUCKET, "Key": "in/table.csv"}},
        {"Work": {"Type": "Pass", "End": True}}), {"max": -1})
    eq(d["status"], "FAILED", "a negative MaxItems")
    eq((d["error"], d["cause"]), ("States.ItemReaderFailed", "field MaxItems must be positive"), "AWS's recorded error")
    events = history(sfn, d["executionArn"])
    eq(event_types(events)[2:6], ["MapStateStarted", "MapRunStarted", "MapRunFailed", "MapStateFailed"],
       "the parent's history")
    failed = [e for e in events if e["type"] == "MapRunFailed"][0]["mapRunFailedEventDetails"]
    eq(failed, {"error": "States.ItemReaderFailed", "cause": "field MaxItems must be positive"}, "MapRunFailed")
    run = sfn.list_map_runs(executionArn=d["executionArn"])["mapRuns"][0]
    eq(sfn.describe_map_run(mapRunArn=run["mapRunArn"])["status"], "FAILED", "a run whose reader failed")
    expect_error("ResourceNotFound", sfn.describe_map_run, mapRunArn=run["mapRunArn"] + "0")
    # A missing object: the reader's failure, with S3's error in its cause, caught like any other.
    d = run_machine(sfn, {
        **distributed({"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
                       "Parameters": {"Bucket": BUCKET, "Key": "no/such.json"}},
                      {"Work": {"Type": "Pass", "End": True}},
                      Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]),
        "Caught": {"Type": "Pass", "End": True},
    })
    out = succeeded(d)
    eq(out["Error"], "States.ItemReaderFailed", "a missing object")
    assert "NoSuchKey" in out["Cause"], out


if __name__ == "__main__":
    run_tests(globals())
