"""The corpus cases (recorded against AWS) that call SQS, SNS, DynamoDB, S3, EventBridge, API
Gateway, Secrets Manager or `aws-sdk:*`, through `stepwise serve` pointed at moto's server
(tests/e2e_corpus_aws.rs). Each case's resources are made in moto first, as the recording's test
made them in AWS: the queues, topics and buckets its placeholders name, the tables and state
machines its input names, the objects it reads; a worker answers its callbacks as the test did.
Then it runs and is compared as corpus.py compares (status, output with the masks as wildcards,
error, cause, history event types).

Usage: corpus_aws.py CASES_JSONL SUMMARY_JSON. Prints every case that does not match with why,
and the cases left out with why; writes the counts to SUMMARY_JSON."""

import json
import os
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor


import corpus
from common import client, moto

NEEDS = {"sqs", "sns", "dynamodb", "s3", "eventbridge", "apigateway", "secretsmanager"}


aws = moto


def short(case):
    return case["id"].split("::", 1)[-1]


# ----- which cases, and why the others are left out -------------------------------------------


def wanted(case):
    needs = case.get("needs") or []
    return any(n in NEEDS or n.startswith("aws-sdk:") for n in needs)


def left_out(case):
    """Why a wanted case cannot run here, or None."""
    needs = case.get("needs") or []
    if case.get("api") not in ("StartExecution", "StartSyncExecution"):
        return f"{case.get('api')}: not an execution (the definition-only corpora cover it)"
    if "localstack-mock-config" in needs:
        return "needs LocalStack's mock configuration, not AWS"
    if "stepfunctions-nested" in needs:
        return "starts a child state machine whose definition is not recorded"
    if "map:item_reader" in (case.get("features") or []):
        return "a Distributed Map reading S3 (ItemReader): the objects' content is not recorded"
    if case["expected"].get("status") not in ("SUCCEEDED", "FAILED", "TIMED_OUT"):
        return "no final status recorded"
    return None


# ----- the resources a case's test made --------------------------------------------------------

# What the recording's test did besides starting the execution, by test function: how the
# worker answered the callback it read from the queue, and how the topic was made.
WORKERS = {
    "test_sqs_wait_for_task_token": ("success", "Message"),
    "test_sqs_failure_in_wait_for_task_token": ("failure", {"error": "Failure error", "cause": "Failure cause"}),
    "test_multiple_heartbeat_notifications": ("heartbeats", None),
    "test_sqs_failure_in_wait_for_task_tok_no_error_field": ("failure", {}),
}
FIFO_TOPIC = ("test_fifo_message_attribute",)
DELETED_TOPIC = ("test_publish_base_error_topic_arn",)


def test_function(case):
    return re.sub(r"\[.*$", "", short(case).split("::")[-1]).split("#")[0]


def prepare(case):
    """Makes the case's resources in moto; answers (input text, extra masks: actual -> masked,
    queue url to answer callbacks from or None)."""
    text = case.get("input_raw") if isinstance(case.get("input_raw"), str) else "{}"
    masks = {}
    queue = None
    fn = test_function(case)
    replacement = {
        t.get("regex"): t.get("replacement")
        for t in (case.get("masking") or {}).get("test_transformers", [])
        if isinstance(t, dict) and t.get("type") == "RegexTransformer"
    }
    for ph in case.get("placeholders") or []:
        kind = ph[len("${fake:") : -1]
        if kind in ("sqs_create_queue", "events_to_sqs_queue"):
            value = aws("sqs").create_queue(QueueName="corpus-" + uuid.uuid4().hex[:12])["QueueUrl"]
            queue = value
        elif kind == "sns_create_topic.TopicArn":
            name = "corpus-" + uuid.uuid4().hex[:12]
            if fn in FIFO_TOPIC:
                topic = aws("sns").create_topic(Name=name + ".fifo", Attributes={"FifoTopic": "true"})
            else:
                topic = aws("sns").create_topic(Name=name)
            value = topic["TopicArn"]
            if fn in DELETED_TOPIC:
                aws("sns").delete_topic(TopicArn=value)
        elif kind == "s3_create_bucket":
            value = "corpus-" + uuid.uuid4().hex[:12]
            aws("s3").create_bucket(Bucket=value)
        else:
            raise ValueError(f"no fixture for the placeholder {ph}")
        text = text.replace(ph, value)
        if ph in replacement:
            masks[value] = replacement[ph]
    data = json.loads(text)
    if isinstance(data, dict):
        # A table the test made (named as the recording names it), keyed as the input's Key:
        # one of its own per case, masked as the recording's name was.
        table = data.get("TableName")
        if isinstance(table, str) and table.startswith("sfn_test_table"):
            own = f"corpus-table-{uuid.uuid4().hex[:12]}"
            text = text.replace(table, own)
            data["TableName"] = own
            if table in replacement:
                masks[own] = replacement[table]
            key = next(iter((data.get("Key") or {"id": None}).keys()))
            aws("dynamodb").create_table(
                TableName=own,
                KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        # An object the test wrote before reading it: its body is the one the recording read.
        out = case["expected"].get("output")
        if "getObject" in json.dumps(case["definition"]) and isinstance(out, dict) and "Body" in out:
            aws("s3").put_object(Bucket=data["Bucket"], Key=data["Key"], Body=out["Body"].encode())
        # A state machine the test made for a Task to start.
        arn = data.get("StateMachineArn")
        if isinstance(arn, str) and ":stateMachine:" in arn:
            name = arn.rsplit(":", 1)[1]
            try:
                client().create_state_machine(
                    name=name,
                    definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
                    roleArn=corpus.ROLE,
                )
            except Exception:  # noqa: BLE001 - made by an earlier case
                pass
    return text, masks, queue


def worker(case, queue, stop):
    """Answers the callback the execution sends to `queue`, as the recording's test did."""
    action = WORKERS.get(test_function(case))
    if action is None or queue is None:
        return
    sqs, sfn = aws("sqs"), client()
    while not stop.is_set():
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            continue
        body = json.loads(got[0]["Body"])
        token = body.get("TaskToken")
        if not token:
            return
        kind, arg = action
        if kind == "success":
            sfn.send_task_success(taskToken=token, output=json.dumps(body[arg]))
        elif kind == "heartbeats":
            for _ in range(3):
                sfn.send_task_heartbeat(taskToken=token)
            sfn.send_task_success(taskToken=token, output=json.dumps(body))
        else:
            sfn.send_task_failure(taskToken=token, **arg)
        return


# ----- comparing: the recording's masks, and what moto's wire makes differ --------------------


def masked_to_name(expected):
    """The recording masked some values to their own key (`"x-amzn-RequestId":
    "x-amzn-RequestId"`, `"Server": ["Server"]`): those match anything."""
    if isinstance(expected, dict):
        out = {}
        for k, v in expected.items():
            if v == k or v == [k]:
                out[k] = "<masked>"
            else:
                out[k] = masked_to_name(v)
        return out
    if isinstance(expected, list):
        return [masked_to_name(v) for v in expected]
    return expected


def without_http_headers(value):
    """The value without SdkHttpMetadata's headers (what moto's HTTP server sends, not what the
    service's answer says)."""
    if isinstance(value, dict):
        return {
            k: without_http_headers(v)
            for k, v in value.items()
            if k not in ("HttpHeaders", "AllHttpHeaders")
        }
    if isinstance(value, list):
        return [without_http_headers(v) for v in value]
    return value


def run(case):
    began = time.monotonic()
    try:
        text, masks, queue = prepare(case)
    except Exception as e:  # noqa: BLE001 - a fixture moto cannot make is a mismatch, said so
        return {"id": case["id"], "ok": False, "lenient": False, "detail": f"setup: {e!r}", "seconds": 0.0}
    c = dict(case)
    c["input_raw"] = text
    c["expected"] = dict(case["expected"])
    if "output" in c["expected"]:
        c["expected"]["output"] = masked_to_name(c["expected"]["output"])
    transformers = [{"type": "RegexTransformer", "regex": k, "replacement": v} for k, v in masks.items()]
    transformers += list((case.get("masking") or {}).get("test_transformers", []))
    c["masking"] = {"test_transformers": transformers}
    stop = threading.Event()
    t = threading.Thread(target=worker, args=(case, queue, stop), daemon=True)
    t.start()
    try:
        out = corpus.safe_run(c)
    finally:
        stop.set()
    ok = out["status_ok"] and out["cause_ok"] is not False and out["events_ok"] is not False
    lenient = ok
    if not ok and out["detail"].startswith("output:") and out["cause_ok"] is not False and out["events_ok"] is not False:
        # Whether only SdkHttpMetadata's headers differ.
        m = re.match(r"output: expected (.*) got (.*)$", out["detail"], re.S)
        if m:
            exp, got = json.loads(m.group(1)), json.loads(m.group(2))
            lenient = corpus.value_matches(without_http_headers(exp), without_http_headers(got))
    return {"id": case["id"], "ok": ok, "lenient": lenient, "detail": out["detail"],
            "seconds": time.monotonic() - began}


def main():
    path, summary_path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    chosen = [c for c in cases if wanted(c)]
    skipped = [(c, left_out(c)) for c in chosen if left_out(c)]
    runnable = [c for c in chosen if not left_out(c)]
    began = time.monotonic()
    # moto is one account for every case: those that list what the account holds run first,
    # before other cases add to it.
    lists = [c for c in runnable if re.search(r":list[A-Z]", json.dumps(c["definition"]))]
    rest = [c for c in runnable if c not in lists]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, lists)) + list(pool.map(run, rest))
    took = time.monotonic() - began
    for o in outcomes:
        if not o["ok"]:
            kind = "MISMATCH (SdkHttpMetadata headers only)" if o["lenient"] else "MISMATCH"
            print(f"{kind} {o['id'].split('::', 1)[-1]}\n    {o['detail'][:int(os.environ.get('CORPUS_DETAIL', '1500'))]}")
    by_reason = {}
    for c, why in skipped:
        by_reason.setdefault(why, []).append(short(c))
    for why, ids in sorted(by_reason.items()):
        print(f"left out ({len(ids)}): {why}")
    ok = sum(o["ok"] for o in outcomes)
    lenient = sum(o["lenient"] for o in outcomes)
    print(f"{len(chosen)} cases need these services; {len(runnable)} run against moto in {took:.1f}s: "
          f"{ok} match ({corpus.rate(ok, len(runnable)):.1f}%), {lenient} when SdkHttpMetadata's "
          f"headers are left out; {len(skipped)} left out")
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump({"selected": len(chosen), "total": len(runnable), "ok": ok, "lenient": lenient,
                   "left_out": len(skipped), "seconds": took}, f)


if __name__ == "__main__":
    main()
