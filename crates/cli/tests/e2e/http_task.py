"""The HTTP Task (arn:aws:states:::http:invoke) through boto3 against `stepwise serve`, calling a
local HTTP server this script starts (http.server in a thread).

The Rust harness (e2e_http.rs) starts the server with a stepwise.toml that defines the
connection `e2e` (API key `x-api-key: e2e-secret`) and allows only 127.0.0.1, and with
WAIT_TIME_SCALE=0.01 so retry intervals are short."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from common import client, create_machine, definition, eq, history, run_tests, wait_done

sfn = client()
CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/e2e/5f6a7b8c-0000-4000-8000-000000000000"

# What the API saw, and how often each /flaky/<key> was called.
seen = []
calls = {}
lock = threading.Lock()


class Api(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with lock:
            seen.append({"method": self.command, "path": url.path, "query": url.query,
                         "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        if url.path == "/hello":
            self.answer(200, json.dumps({"hello": "world", "query": parse_qs(url.query)}))
        elif url.path.startswith("/status/"):
            self.answer(int(url.path.rsplit("/", 1)[1]), json.dumps({"message": "no"}))
        elif url.path.startswith("/flaky/"):
            with lock:
                n = calls[url.path] = calls.get(url.path, 0) + 1
            if n == 1:
                self.answer(503, "try again", "text/plain")
            else:
                self.answer(200, json.dumps({"attempt": n}))
        elif url.path == "/text":
            self.answer(200, "plain words", "text/plain")
        else:
            self.answer(404, "no such path", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


api = ThreadingHTTPServer(("127.0.0.1", 0), Api)
threading.Thread(target=api.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{api.server_address[1]}"


def http_task(endpoint, method="GET", **fields):
    params = {"ApiEndpoint": endpoint, "Method": method, "Authentication": {"ConnectionArn": CONNECTION}}
    params.update(fields)
    return {"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "Parameters": params, "End": True}


def run(states, input_="{}", **kwargs):
    arn = create_machine(sfn, definition(states), **kwargs)
    e = sfn.start_execution(stateMachineArn=arn, input=input_)["executionArn"]
    return e, wait_done(sfn, e)


def last_seen(path):
    with lock:
        return [s for s in seen if s["path"] == path][-1]


def test_success_hands_the_response_to_the_state():
    task = http_task(f"{BASE}/hello", Headers={"X-Request-Id": "r-1"}, QueryParameters={"currency": "usd"})
    task["Parameters"]["QueryParameters"] = {"currency.$": "$.currency"}
    e, d = run({"Call": task}, '{"currency": "eur"}')
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    out = json.loads(d["output"])
    eq(out["StatusCode"], 200, "StatusCode")
    eq(out["StatusText"], "OK", "StatusText")
    eq(out["ResponseBody"], {"hello": "world", "query": {"currency": ["eur"]}}, "ResponseBody")
    eq(out["Headers"]["content-type"], ["application/json"], "Headers")
    got = last_seen("/hello")
    eq(got["headers"].get("x-api-key"), "e2e-secret", "the connection's API key")
    eq(got["headers"].get("x-request-id"), "r-1", "the definition's header")
    eq(got["headers"].get("user-agent"), "Amazon|StepFunctions|HttpInvoke|us-east-1", "User-Agent")
    types = [ev["type"] for ev in history(sfn, e)]
    assert "TaskScheduled" in types and "TaskSucceeded" in types, types


def test_post_sends_the_request_body():
    task = http_task(f"{BASE}/hello", "POST", RequestBody={"order.$": "$.order", "fixed": 1})
    _, d = run({"Call": task}, '{"order": {"id": 7}}')
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    got = last_seen("/hello")
    eq(got["method"], "POST", "method")
    eq(json.loads(got["body"]), {"order": {"id": 7}, "fixed": 1}, "body")
    eq(got["headers"].get("content-type"), "application/json; charset=UTF-8", "content-type")


def test_a_4xx_fails_the_execution_with_its_status_code():
    e, d = run({"Call": http_task(f"{BASE}/status/404")})
    eq(d["status"], "FAILED", "status")
    eq(d["error"], "States.Http.StatusCode.404", "error")
    eq(d["cause"], "Not Found", "cause")
    failed = [ev for ev in history(sfn, e) if ev["type"] == "TaskFailed"]
    eq(len(failed), 1, "TaskFailed events")
    eq(failed[0]["taskFailedEventDetails"]["error"], "States.Http.StatusCode.404", "TaskFailed error")


def test_a_5xx_fails_the_execution_with_its_status_code():
    _, d = run({"Call": http_task(f"{BASE}/status/500")})
    eq(d["status"], "FAILED", "status")
    eq(d["error"], "States.Http.StatusCode.500", "error")
    eq(d["cause"], "Internal Server Error", "cause")


def test_a_retry_on_503_succeeds_on_the_second_call():
    task = http_task(f"{BASE}/flaky/retry")
    task["Retry"] = [{"ErrorEquals": ["States.Http.StatusCode.503"], "IntervalSeconds": 1, "MaxAttempts": 2}]
    e, d = run({"Call": task})
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    eq(json.loads(d["output"])["ResponseBody"], {"attempt": 2}, "the second call's answer")
    eq(calls["/flaky/retry"], 2, "calls made")
    types = [ev["type"] for ev in history(sfn, e)]
    eq(types.count("TaskFailed"), 1, f"TaskFailed events in {types}")
    eq(types.count("TaskSucceeded"), 1, f"TaskSucceeded events in {types}")


def test_a_catch_takes_the_error_and_a_text_body_is_a_string():
    states = {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::http:invoke",
            "QueryLanguage": "JSONata",
            "Arguments": {
                "ApiEndpoint": "{% $states.input.base & '/status/409' %}",
                "Method": "GET",
                "Authentication": {"ConnectionArn": CONNECTION},
            },
            "Catch": [{"ErrorEquals": ["States.Http.StatusCode.409"], "Output": "{% $states.errorOutput %}", "Next": "Text"}],
            "End": True,
        },
        "Text": http_task(f"{BASE}/text"),
    }
    states["Text"]["ResultSelector"] = {"body.$": "$.ResponseBody"}
    _, d = run(states, json.dumps({"base": BASE}))
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    eq(json.loads(d["output"]), {"body": "plain words"}, "output")


def test_express_sync_calls_the_api():
    arn = create_machine(sfn, definition({"Call": http_task(f"{BASE}/hello")}), type="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    eq(r["status"], "SUCCEEDED", f"status ({r.get('error')}: {r.get('cause')})")
    eq(json.loads(r["output"])["StatusCode"], 200, "StatusCode")
    r = sfn.start_sync_execution(
        stateMachineArn=create_machine(sfn, definition({"Call": http_task(f"{BASE}/status/429")}), type="EXPRESS"),
        input="{}",
    )
    eq(r["status"], "FAILED", "status")
    eq(r["error"], "States.Http.StatusCode.429", "error")


def test_a_host_outside_the_allow_list_is_refused():
    _, d = run({"Call": http_task("http://localhost:9/nowhere")})
    eq(d["status"], "FAILED", "status")
    eq(d["error"], "Stepwise.Http.HostNotAllowed", "error")
    assert "localhost" in d["cause"] and "allow_hosts" in d["cause"], d["cause"]


if __name__ == "__main__":
    run_tests(globals())
