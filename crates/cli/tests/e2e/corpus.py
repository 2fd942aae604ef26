"""Runs the shared ASL corpus (cases recorded against AWS) through `stepwise serve` with boto3 and
compares what a user sees, as crates/engine/tests/conformance_execution.rs does in-process:
status and output (JSON-equal, masks as wildcards) or error; the cause text; for Standard
executions, the sequence of history event types.

Usage: corpus.py CASES_JSONL SUMMARY_JSON [THREADS]. Prints every mismatch and the rates, and
writes the counts to SUMMARY_JSON for the Rust test to check."""

import json
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from common import client

ROLE = "arn:aws:iam::111111111111:role/sfn_fake_role"
DEADLINE = 60.0

_local = threading.local()


def sfn():
    if not hasattr(_local, "client"):
        _local.client = client(read_timeout=120)
    return _local.client


# ----- comparing with the recording's masks ---------------------------------------------------

TOKEN = re.compile(r"<[A-Za-z_\-][A-Za-z0-9_\-]*(:[0-9]+)?(_[0-9]+idx)?>|111111111111|\bdate\b")
_patterns = {}


def mask_pattern(expected):
    """A recorded (masked) string as a pattern: mask tokens match anything."""
    p = _patterns.get(expected)
    if p is None:
        parts, last = [], 0
        for m in TOKEN.finditer(expected):
            parts.append(re.escape(expected[last : m.start()]))
            parts.append(".*?")
            last = m.end()
        parts.append(re.escape(expected[last:]))
        p = re.compile("".join(parts), re.S)
        _patterns[expected] = p
    return p


def text_matches(expected, actual):
    return expected == actual or mask_pattern(expected).fullmatch(actual) is not None


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def value_matches(expected, actual):
    if isinstance(expected, str):
        if expected in ("date", "timestamp"):
            return True
        if isinstance(actual, str):
            return text_matches(expected, actual)
        if expected.startswith("<"):
            return text_matches(expected, compact(actual))
        return False
    if is_number(expected):
        return is_number(actual) and (expected == actual or float(expected) == float(actual))
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(value_matches(e, a) for e, a in zip(expected, actual))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and len(expected) == len(actual)
            and all(k in actual and value_matches(v, actual[k]) for k, v in expected.items())
        )
    if isinstance(expected, bool):
        return isinstance(actual, bool) and expected == actual
    return expected == actual


def apply_output_masks(case, output):
    """The recording's masks that replace values inside the execution's output."""
    masking = case.get("masking")
    transformers = masking.get("test_transformers") if isinstance(masking, dict) else None
    for t in transformers if isinstance(transformers, list) else []:
        if not isinstance(t, dict):
            continue
        if t.get("type") == "RegexTransformer":
            regex, replacement = t.get("regex"), t.get("replacement")
            if not isinstance(regex, str) or not isinstance(replacement, str):
                continue
            if regex.startswith("${fake:tracked:") and "output/" in regex:
                key = regex.split("output/", 1)[1].rstrip("}")
                if isinstance(output, dict) and key in output:
                    output[key] = replacement
                continue
            try:
                output = json.loads(compact(output).replace(regex, replacement))
            except ValueError:
                pass
            continue
        if t.get("type") != "JsonpathTransformer":
            continue
        path, replacement = t.get("jsonpath"), t.get("replacement")
        if not isinstance(path, str) or "replacement" not in t:
            continue
        marker = "executionSucceededEventDetails.output."
        if marker not in path:
            continue
        keys = path.split(marker, 1)[1].split(".")
        at = output
        for i, key in enumerate(keys):
            if not isinstance(at, dict) or key not in at:
                break
            if i + 1 == len(keys):
                at[key] = replacement
                break
            at = at[key]
    return output


# ----- running one case -----------------------------------------------------------------------


def run_case(case):
    """Returns a dict: id, status_ok, cause_ok (None when not recorded), events_ok (None when not
    compared), detail, seconds."""
    t0 = time.monotonic()
    expected = case["expected"]
    want_status = expected["status"]
    out = {"id": case["id"], "status_ok": False, "cause_ok": None, "events_ok": None, "detail": ""}
    c = sfn()
    definition = case["definition"]
    text = definition if case.get("definition_is_raw_text") else json.dumps(definition, ensure_ascii=False)
    express = case.get("state_machine_type") == "EXPRESS"
    input_raw = case.get("input_raw")
    if not isinstance(input_raw, str):
        input_raw = "{}"
    try:
        arn = c.create_state_machine(
            name="corpus-" + uuid.uuid4().hex,
            definition=text,
            roleArn=ROLE,
            type="EXPRESS" if express else "STANDARD",
        )["stateMachineArn"]
    except ClientError as e:
        out["detail"] = f"definition rejected: {e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}"
        return finish(out, t0)
    try:
        if express:
            got = c.start_sync_execution(stateMachineArn=arn, input=input_raw)
        else:
            e_arn = c.start_execution(stateMachineArn=arn, input=input_raw)["executionArn"]
            out["started"] = True
            deadline = time.monotonic() + DEADLINE
            delay = 0.02
            while True:
                got = c.describe_execution(executionArn=e_arn)
                if got["status"] != "RUNNING":
                    break
                if time.monotonic() > deadline:
                    c.stop_execution(executionArn=e_arn)
                    out["detail"] = f"still RUNNING after {DEADLINE}s"
                    return finish(out, t0)
                time.sleep(delay)
                delay = min(delay * 1.5, 0.2)
    except ClientError as e:
        out["detail"] = f"start failed: {e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}"
        return finish(out, t0)

    status = got["status"]
    error, cause = got.get("error"), got.get("cause")
    if status != want_status:
        out["detail"] = f"status: expected {want_status} got {status} ({error!r}: {cause!r})"
    elif status == "SUCCEEDED":
        actual = apply_output_masks(case, json.loads(got.get("output", "null")))
        out["status_ok"] = value_matches(expected.get("output"), actual)
        if not out["status_ok"]:
            out["detail"] = f"output: expected {compact(expected.get('output'))} got {compact(actual)}"
    else:
        out["status_ok"] = expected.get("error") == error
        if not out["status_ok"]:
            out["detail"] = f"error: expected {expected.get('error')!r} got {error!r}"
    if isinstance(expected.get("cause"), str):
        out["cause_ok"] = isinstance(cause, str) and text_matches(expected["cause"], cause)
        if not out["cause_ok"] and not out["detail"]:
            out["detail"] = f"cause: expected {expected['cause']!r} got {cause!r}"
    want_types = expected.get("history_event_types")
    if isinstance(want_types, list) and not express:
        events, token = [], None
        while True:
            args = {"executionArn": e_arn, "maxResults": 1000, "includeExecutionData": False}
            if token:
                args["nextToken"] = token
            page = c.get_execution_history(**args)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                break
        got_types = [ev["type"] for ev in events]
        want = list(want_types)
        if "SfnNoneRecursiveParallelTransformer" in json.dumps(case.get("masking")):
            want.sort()
            got_types.sort()
        out["events_ok"] = want == got_types
        if not out["events_ok"] and not out["detail"]:
            out["detail"] = f"events: expected {want}\n                got {got_types}"
        if [ev["id"] for ev in events] != list(range(1, len(events) + 1)):
            out["events_ok"] = False
            out["detail"] += " (event ids are not 1..n)"
    return finish(out, t0)


def finish(out, t0):
    out["seconds"] = time.monotonic() - t0
    return out


def selected(cases):
    for case in cases:
        if case.get("needs") != ["none"]:
            continue
        if case.get("api") not in ("StartExecution", "StartSyncExecution"):
            continue
        if case["expected"].get("status") not in ("SUCCEEDED", "FAILED", "TIMED_OUT"):
            continue
        if (case.get("max_wait_seconds") or 0) > 60:
            continue
        yield case


def rate(n, d):
    return 100.0 if d == 0 else n * 100.0 / d


def main():
    path, summary_path = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    with open(path, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f if line.strip()]
    chosen = list(selected(cases))
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(safe_run, chosen))
    took = time.monotonic() - began
    for o in outcomes:
        if not o["status_ok"] or o["cause_ok"] is False or o["events_ok"] is False:
            print(f"MISMATCH {o['id']}\n    {o['detail']}")
    total = len(outcomes)
    status_ok = sum(o["status_ok"] for o in outcomes)
    causes = [o["cause_ok"] for o in outcomes if o["cause_ok"] is not None]
    events = [o["events_ok"] for o in outcomes if o["events_ok"] is not None]
    print(f"status+output/error: {status_ok}/{total} ({rate(status_ok, total):.1f}%)")
    print(f"cause text: {sum(causes)}/{len(causes)} ({rate(sum(causes), len(causes)):.1f}%)")
    print(f"event-type sequence (Standard): {sum(events)}/{len(events)} ({rate(sum(events), len(events)):.1f}%)")
    slowest = sorted(outcomes, key=lambda o: -o["seconds"])[:3]
    print(f"{total} cases in {took:.1f}s with {threads} threads; slowest: "
          + ", ".join(f"{o['id'].split('::')[-1]} {o['seconds']:.1f}s" for o in slowest))
    with open(summary_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "total": total,
                "status_ok": status_ok,
                "cause_total": len(causes),
                "cause_ok": sum(causes),
                "events_total": len(events),
                "events_ok": sum(events),
                # Standard executions started (each kept in the store).
                "standard_started": sum(bool(o.get("started")) for o in outcomes),
                "seconds": took,
            },
            f,
        )


def safe_run(case):
    try:
        return run_case(case)
    except Exception as e:  # noqa: BLE001 - a case that breaks the client is a mismatch
        return {
            "id": case["id"],
            "status_ok": False,
            "cause_ok": None,
            "events_ok": None,
            "detail": f"client error: {e!r}",
            "seconds": 0.0,
        }


if __name__ == "__main__":
    main()
