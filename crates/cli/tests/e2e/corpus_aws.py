"""The corpus cases (recorded against AWS) that call SQS, SNS, DynamoDB, S3, EventBridge, API
Gateway, Secrets Manager or `aws-sdk:*`, through `stepwise serve` pointed at moto's server
(tests/e2e_corpus_aws.rs). Each case's resources are made in moto first, as the recording's test
made them in AWS: the queues, topics and buckets its placeholders name, the tables and state
machines its input names, the objects it reads; a worker answers its callbacks as the test did.
Then it runs and is compared as corpus.py compares (status, output with the masks as wildcards,
error, cause, history event types).

The S3 objects that Distributed Maps read with an ItemReader were not recorded: each is written
again from what its recordings show (reader_objects).

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


def left_out(case, objects):
    """Why a wanted case cannot run here, or None. `objects`: what reader_objects answered."""
    needs = case.get("needs") or []
    if case.get("api") not in ("StartExecution", "StartSyncExecution"):
        return f"{case.get('api')}: not an execution (the definition-only corpora cover it)"
    if "localstack-mock-config" in needs:
        return "needs LocalStack's mock configuration, not AWS"
    if "stepfunctions-nested" in needs:
        return "starts a child state machine whose definition is not recorded"
    if "map:item_reader" in (case.get("features") or []) and isinstance(objects.get(case["id"]), str):
        return objects[case["id"]]
    if case["expected"].get("status") not in ("SUCCEEDED", "FAILED", "TIMED_OUT"):
        return "no final status recorded"
    return None


# ----- the objects a Distributed Map reads (ItemReader) ----------------------------------------
#
# The recordings do not hold the S3 objects their ItemReaders read: each is written again from
# what its family's recordings show. A family is the cases of one test function (its
# parametrisations) reading one Key with one reader configuration: they read the same object.
# A case whose Map passes its items through unchanged (a plain Pass processor, nothing between
# the items and the execution's output) shows them in its output, in batches under "Items" when
# an ItemBatcher batches them; the family's object is written from the case showing the most,
# one that MaxItems did not cut first, in the reader's format. A failure whose cause does not
# depend on the content needs only some object at the Key; one that says the JSON is not a list
# needs a JSON object that is not a list.

CONTENT_FREE_CAUSES = ("field MaxItems must be positive", "CSV headers cannot contain duplicates.")
NOT_A_LIST_CAUSE = "Attempting to map over non-iterable node."
# Chosen for those: the smallest object of each format that reads without error, and for the
# not-a-list failure a JSON object.
ANY_OBJECT = {"JSON": "[]", "JSONL": "{}\n", "CSV": "A,B\n1,2\n"}
NOT_A_LIST = '{"not": "a list"}'
DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}
# Fields that would make a Pass, or the Map state, change what it passes on.
PASS_CHANGES = ("Parameters", "Arguments", "Result", "ResultPath", "InputPath", "OutputPath", "Output")
MAP_CHANGES = ("ItemSelector", "Parameters", "ResultSelector", "ResultPath", "OutputPath", "Output",
               "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailureCount")


def reader_maps(states):
    """Every Map state with an ItemReader in `states`, nested ones included."""
    found = []
    for name, st in (states or {}).items():
        if not isinstance(st, dict):
            continue
        if st.get("Type") == "Map" and isinstance(st.get("ItemReader"), dict):
            found.append(st)
        for sub in [st.get("ItemProcessor"), st.get("Iterator")] + list(st.get("Branches") or []):
            if isinstance(sub, dict):
                found += reader_maps(sub.get("States"))
    return found


def input_value(case, text):
    """A reader argument taken from the execution's input: `$.X` or `{% $states.input.X %}`."""
    m = re.fullmatch(r"\$\.([A-Za-z_][A-Za-z0-9_]*)|\{%\s*\$states\.input\.([A-Za-z_][A-Za-z0-9_]*)\s*%\}", text)
    data = case.get("input")
    if not m or not isinstance(data, dict):
        return None
    return data.get(m.group(1) or m.group(2))


def reader_argument(case, reader, name):
    """The reader's Bucket or Key as written in the input (placeholders still in), or None."""
    params = reader.get("Arguments") if isinstance(reader.get("Arguments"), dict) else reader.get("Parameters")
    if not isinstance(params, dict):
        return None
    if isinstance(params.get(name + ".$"), str):
        return input_value(case, params[name + ".$"])
    v = params.get(name)
    if isinstance(v, str) and v.startswith("{%"):
        return input_value(case, v)
    return v if isinstance(v, str) else None


def reader_of(case):
    """(Map state, reader, format, Bucket, Key) of the case's one ItemReader, or a reason."""
    maps = reader_maps(case["definition"].get("States") if isinstance(case["definition"], dict) else None)
    if len(maps) != 1:
        return f"{len(maps)} Map states with an ItemReader: which reads what is not known"
    m = maps[0]
    reader = m["ItemReader"]
    resource = reader.get("Resource", "")
    config = reader.get("ReaderConfig") or {}
    if not resource.endswith(":s3:getObject") or config.get("InputType") not in ANY_OBJECT:
        return f"{resource.rsplit(':', 1)[-1]} of {config.get('InputType')}: not written from items"
    bucket, key = reader_argument(case, reader, "Bucket"), reader_argument(case, reader, "Key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return "the reader's Bucket or Key does not come from the input"
    return m, reader, config["InputType"], bucket, key


def family(case, reader):
    """The cases that read one object: one test function, one Key, one reader configuration."""
    _, r, fmt, _, key = reader
    config = {k: v for k, v in (r.get("ReaderConfig") or {}).items() if not k.startswith("MaxItems")}
    test = re.sub(r"\[[^\]]*\]", "", case["id"]).split("#")[0]
    return test, key, json.dumps(config, sort_keys=True)


def max_items(case, config):
    """The MaxItems the reader applies: None for none, "?" when it cannot be told here."""
    if "MaxItems" in config:
        v = config["MaxItems"]
        return v if isinstance(v, int) else "?"
    if "MaxItemsPath" in config:
        v = input_value(case, config["MaxItemsPath"])
        return v if isinstance(v, int) else "?"
    return None


def items_shown(case, reader):
    """(items, cut) when the case's output shows every item its reader read, else None; cut
    when MaxItems may have left items of the object out."""
    m, r, _, _, _ = reader
    out = case["expected"].get("output")
    if case["expected"].get("status") != "SUCCEEDED" or not isinstance(out, list):
        return None
    if not m.get("End") or any(k in m for k in MAP_CHANGES):
        return None
    processor = m.get("ItemProcessor") or m.get("Iterator") or {}
    states = processor.get("States") or {}
    if len(states) != 1:
        return None
    only = next(iter(states.values()))
    if only.get("Type") != "Pass" or not only.get("End") or any(k in only for k in PASS_CHANGES):
        return None
    if "ItemBatcher" in m:
        if not all(isinstance(b, dict) and isinstance(b.get("Items"), list) for b in out):
            return None
        items = [i for b in out for i in b["Items"]]
    else:
        items = out
    limit = max_items(case, r.get("ReaderConfig") or {})
    cut = limit == "?" or (isinstance(limit, int) and 0 < limit <= len(items))
    return items, cut


def csv_field(value, delimiter, alone):
    """One CSV field as the reader parses it back: quoted when it holds the delimiter, a quote
    or a line break, or is the only field of its row and empty (else the row is an empty line,
    which is skipped); backslashes doubled (a backslash escapes the character after it)."""
    value = value.replace("\\", "\\\\")
    if any(c in value for c in (delimiter, '"', "\n", "\r")) or (alone and value == ""):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(rows, delimiter):
    return "".join(delimiter.join(csv_field(v, delimiter, len(row) == 1) for v in row) + "\n" for row in rows)


def write_items(fmt, config, items):
    """The object's text in the reader's format, or a reason it cannot be written."""
    if fmt == "JSON":
        return json.dumps(items)
    if fmt == "JSONL":
        return "".join(json.dumps(i) + "\n" for i in items)
    delimiter = DELIMITERS.get(config.get("CSVDelimiter", "COMMA"))
    if delimiter is None:
        return None
    if not items or not all(isinstance(i, dict) and all(isinstance(v, str) for v in i.values()) for i in items):
        return None
    if config.get("CSVHeaderLocation") == "GIVEN":
        headers = config.get("CSVHeaders") or []
        if len(set(headers)) != len(headers) or any(set(i) != set(headers) for i in items):
            return None
        return csv_text([[i[h] for h in headers] for i in items], delimiter)
    headers = list(items[0])
    if any(set(i) != set(headers) for i in items):
        return None
    return csv_text([headers] + [[i[h] for h in headers] for i in items], delimiter)


def reader_objects(cases):
    """For each case with an ItemReader: its object as (Bucket, Key, text) with the input's
    placeholders still in, or the reason it cannot be written (a string)."""
    readers = {c["id"]: reader_of(c) for c in cases if "map:item_reader" in (c.get("features") or [])}
    families = {}
    for c in cases:
        r = readers.get(c["id"])
        if isinstance(r, tuple):
            families.setdefault(family(c, r), []).append(c)
    written = {}
    for fam, members in families.items():
        shown = []
        for c in members:
            s = items_shown(c, readers[c["id"]])
            if s is not None:
                shown.append((s[1], -len(s[0]), c["id"], s[0]))
        for _, _, cid, items in sorted(shown, key=lambda t: t[:3]):
            _, r, fmt, _, _ = readers[cid]
            text = write_items(fmt, r.get("ReaderConfig") or {}, items)
            if text is not None:
                written[fam] = text
                break
    answers = {}
    for c in cases:
        r = readers.get(c["id"])
        if r is None:
            continue
        if isinstance(r, str):
            answers[c["id"]] = r
            continue
        _, _, fmt, bucket, key = r
        text = written.get(family(c, r))
        cause = c["expected"].get("cause")
        if c["expected"].get("error") == "States.ItemReaderFailed" and cause == NOT_A_LIST_CAUSE:
            text = NOT_A_LIST if fmt == "JSON" else None
        elif text is None and c["expected"].get("error") == "States.ItemReaderFailed" and cause in CONTENT_FREE_CAUSES:
            text = ANY_OBJECT[fmt]
        if text is None:
            answers[c["id"]] = "a Distributed Map reading S3: no case of its family shows the object's items"
        else:
            answers[c["id"]] = (bucket, key, text)
    return answers


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


def prepare(case, objects):
    """Makes the case's resources in moto (the object its ItemReader reads as `objects` has it);
    answers (input text, extra masks: actual -> masked, queue url to answer callbacks from or
    None)."""
    text = case.get("input_raw") if isinstance(case.get("input_raw"), str) else "{}"
    masks = {}
    queue = None
    made = {}
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
        made[ph] = value
        if ph in replacement:
            masks[value] = replacement[ph]
    data = json.loads(text)
    obj = objects.get(case["id"])
    if isinstance(obj, tuple):
        bucket, key, body = obj
        for ph, value in made.items():
            bucket, key = bucket.replace(ph, value), key.replace(ph, value)
        aws("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
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


def run(case, objects):
    began = time.monotonic()
    try:
        text, masks, queue = prepare(case, objects)
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
    objects = reader_objects(chosen)
    skipped = [(c, left_out(c, objects)) for c in chosen if left_out(c, objects)]
    runnable = [c for c in chosen if not left_out(c, objects)]
    began = time.monotonic()
    # moto is one account for every case: those that list what the account holds run first,
    # before other cases add to it.
    lists = [c for c in runnable if re.search(r":list[A-Z]", json.dumps(c["definition"]))]
    rest = [c for c in runnable if c not in lists]
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda c: run(c, objects), lists))
        outcomes += list(pool.map(lambda c: run(c, objects), rest))
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
    readers = [o for o in outcomes if isinstance(objects.get(o["id"]), tuple)]
    readers_ok = sum(o["ok"] for o in readers)
    print(f"Distributed Maps reading an object written again from their recordings: {len(readers)} "
          f"run, {readers_ok} match")
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump({"selected": len(chosen), "total": len(runnable), "ok": ok, "lenient": lenient,
                   "left_out": len(skipped), "readers": len(readers), "readers_ok": readers_ok,
                   "seconds": took}, f)


if __name__ == "__main__":
    main()
