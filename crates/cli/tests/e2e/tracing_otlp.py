"""Tracing (a state machine's tracingConfiguration) through boto3 against `stepwise serve`: the
spans reach an OTLP/HTTP collector stand-in this script runs, and the HTTP Task's requests carry
the trace context of their attempt's span.

The Rust harness (e2e_tracing.rs) picks the collector's port, starts the server with
OTEL_EXPORTER_OTLP_ENDPOINT pointing at it and a stepwise.toml allowing 127.0.0.1, and passes
the port as the first argument."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import client, create_machine, definition, eq, run_tests, wait_done

sfn = client()
CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/e2e/5f6a7b8c-0000-4000-8000-000000000000"
ROOT = "5759e988bd862e3fe1be46a994272793"
GIVEN = f"Root=1-{ROOT[:8]}-{ROOT[8:]};Sampled=1"

lock = threading.Lock()
spans = []  # every span the collector received
posts = []  # (content-type, service.name) of each export request
requests = []  # what the HTTP Task's endpoint saw
calls = {}


class Collector(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = self.path == "/v1/traces"
        if ok:
            doc = json.loads(body)
            with lock:
                for rs in doc["resourceSpans"]:
                    service = {a["key"]: a["value"]["stringValue"] for a in rs["resource"]["attributes"]}
                    posts.append((self.headers.get("Content-Type"), service.get("service.name")))
                    for ss in rs["scopeSpans"]:
                        spans.extend(ss["spans"])
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


class Api(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with lock:
            n = calls[self.path] = calls.get(self.path, 0) + 1
            requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
        status, body = (503, b"try again") if n == 1 else (200, b'{"ok": true}')
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


collector = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Collector)
threading.Thread(target=collector.serve_forever, daemon=True).start()
api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
threading.Thread(target=api.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{api.server_address[1]}"
sys.argv[1:] = sys.argv[2:]


def machine_call(path):
    """An HTTP Task calling `path`, retried once on a 503."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": f"{BASE}{path}", "Method": "GET", "Authentication": {"ConnectionArn": CONNECTION}},
        "Retry": [{"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 1, "MaxAttempts": 2}],
        "Next": "Noted",
    }


def machine(path, traced):
    call = machine_call(path)
    both = {
        "Type": "Parallel",
        "Branches": [
            {"StartAt": "Call", "States": {"Call": call, "Noted": {"Type": "Pass", "End": True}}},
            {"StartAt": "Other", "States": {"Other": {"Type": "Pass", "End": True}}},
        ],
        "End": True,
    }
    return create_machine(sfn, definition({"Both": both}), prefix="traced", tracingConfiguration={"enabled": traced})


def spans_of(trace_id, root_name, timeout=15.0):
    """The spans of one trace, once its execution's span has come."""
    deadline = time.monotonic() + timeout
    while True:
        with lock:
            mine = [s for s in spans if s["traceId"] == trace_id]
        if any(s["name"] == root_name for s in mine) or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


def test_a_traced_execution_sends_its_spans_and_its_calls_carry_their_context():
    arn = machine("/traced", True)
    e = sfn.start_execution(stateMachineArn=arn, input="{}", traceHeader=GIVEN)["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    eq(d.get("traceHeader"), GIVEN, "DescribeExecution's traceHeader")
    machine_name = arn.rsplit(":", 1)[1]
    got = spans_of(ROOT, machine_name)
    by_name = {}
    for s in got:
        by_name.setdefault(s["name"], []).append(s)
    root = by_name[machine_name]
    eq(len(root), 1, "the execution's span")
    assert "parentSpanId" not in root[0], root[0]
    both = by_name["Both"][0]
    eq(both["parentSpanId"], root[0]["spanId"], "the Parallel's parent")
    for state in ("Call", "Noted", "Other"):
        eq(by_name[state][0]["parentSpanId"], both["spanId"], f"{state}'s parent")
    attempts = sorted(by_name["invoke"], key=lambda s: int(s["startTimeUnixNano"]))
    eq(len(attempts), 2, "a span per attempt (the first failed and was retried)")
    for a in attempts:
        eq(a["parentSpanId"], by_name["Call"][0]["spanId"], "an attempt's parent")
        eq(a["kind"], 3, "an attempt is a client's call")
    eq(attempts[0]["status"]["code"], 2, "the failed attempt's status")
    assert "503" in attempts[0]["status"]["message"], attempts[0]["status"]
    eq(attempts[1]["status"]["code"], 1, "the retried attempt's status")
    for s in got:
        assert int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"]), s
    # Each request carried the context of its own attempt's span.
    with lock:
        seen = [r["headers"] for r in requests if r["path"] == "/traced"]
    eq(len(seen), 2, "requests made")
    for headers, attempt in zip(seen, attempts):
        eq(headers.get("traceparent"), f"00-{ROOT}-{attempt['spanId']}-01", "traceparent")
        eq(headers.get("x-amzn-trace-id"), f"{GIVEN.split(';')[0]};Parent={attempt['spanId']};Sampled=1", "X-Amzn-Trace-Id")
    with lock:
        eq({p for p in posts}, {("application/json", "stepwise")}, "export requests")


def test_a_traced_execution_started_without_a_header_gets_one():
    arn = machine("/made-up", True)
    e = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", "status")
    header = d.get("traceHeader") or ""
    assert header.startswith("Root=1-") and header.endswith(";Sampled=1"), header
    root = header[len("Root=1-"):].split(";")[0].replace("-", "")
    got = spans_of(root, arn.rsplit(":", 1)[1])
    eq(len([s for s in got if s["name"] == "invoke"]), 2, "attempt spans under the made-up trace")
    with lock:
        seen = [r["headers"] for r in requests if r["path"] == "/made-up"]
    assert all(h.get("traceparent", "").startswith(f"00-{root}-") for h in seen), seen


def test_a_lambda_function_is_given_the_trace_header_of_its_attempt():
    root = "65a1b2c3d4e5f60718293a4b5c6d7e8f"
    given = f"Root=1-{root[:8]}-{root[8:]};Sampled=1"
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "traced", "Payload": {}}, "End": True}
    arn = create_machine(sfn, definition({"Fn": task}), prefix="traced", tracingConfiguration={"enabled": True})
    e = sfn.start_execution(stateMachineArn=arn, input="{}", traceHeader=given)["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    got = spans_of(root, arn.rsplit(":", 1)[1])
    attempt = [s for s in got if s["kind"] == 3]
    eq(len(attempt), 1, "the call's span")
    eq(json.loads(d["output"])["Payload"], f"Root=1-{root[:8]}-{root[8:]};Parent={attempt[0]['spanId']};Sampled=1",
       "_X_AMZN_TRACE_ID")


def test_an_express_execution_is_traced_too():
    root = "75a1b2c3d4e5f60718293a4b5c6d7e8f"
    given = f"Root=1-{root[:8]}-{root[8:]};Sampled=1"
    call = machine_call("/express")
    call["End"] = True
    del call["Next"]
    states = {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": call}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
    ]}}
    arn = create_machine(sfn, definition(states), prefix="express", type="EXPRESS",
                         tracingConfiguration={"enabled": True})
    r = sfn.start_sync_execution(stateMachineArn=arn, input="{}", traceHeader=given)
    eq(r["status"], "SUCCEEDED", "status")
    machine_name = arn.rsplit(":", 1)[1]
    got = {s["name"]: s for s in spans_of(root, machine_name)}
    assert machine_name in got, sorted(got)
    eq(got["Both"]["parentSpanId"], got[machine_name]["spanId"], "the Parallel's parent")
    eq(got["A"]["parentSpanId"], got["Both"]["spanId"], "a branch state's parent")
    eq(got["B"]["parentSpanId"], got["Both"]["spanId"], "a branch state's parent")
    attempts = sorted((s for s in spans_of(root, machine_name) if s["name"] == "invoke"),
                      key=lambda s: int(s["startTimeUnixNano"]))
    eq(len(attempts), 2, "attempt spans")
    with lock:
        seen = [r["headers"] for r in requests if r["path"] == "/express"]
    eq([h.get("traceparent") for h in seen], [f"00-{root}-{a['spanId']}-01" for a in attempts],
       "each call's traceparent names its attempt's span")


def test_an_untraced_execution_sends_nothing_and_its_calls_carry_no_context():
    arn = machine("/untraced", False)
    e = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    d = wait_done(sfn, e)
    eq(d["status"], "SUCCEEDED", "status")
    assert "traceHeader" not in d, d.get("traceHeader")
    time.sleep(2.5)  # a batch of spans goes within a second
    with lock:
        seen = [r["headers"] for r in requests if r["path"] == "/untraced"]
        names = {s["name"] for s in spans}
    eq(len(seen), 2, "requests made")
    assert all("traceparent" not in h and "x-amzn-trace-id" not in h for h in seen), seen
    assert arn.rsplit(":", 1)[1] not in names, names


if __name__ == "__main__":
    run_tests(globals())
