"""Lambda tasks (arn:aws:states:::lambda:invoke and arn:aws:lambda:...:function:NAME) through boto3
against `stepwise serve`.

The Rust harness (e2e_lambda.rs) starts the server with a stepwise.toml binding two Python
functions as local commands (`greet`, and `picky`, which raises OrderRejected for more than 10
items) and with LAMBDA_ENDPOINT=http://127.0.0.1:$LAMBDA_STANDIN_PORT, where this script serves a
Lambda Invoke API stand-in (http.server in a thread) with the functions `add`, `fails` and
`throttled-once`; any other function does not exist there."""

import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from common import client, create_machine, definition, details, eq, history, run_tests, wait_done

sfn = client()
ACCOUNT = "123456789012"

# What the stand-in saw, and how often each function was called.
seen = []
calls = {}
lock = threading.Lock()


class InvokeApi(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, **headers):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = url.path.split("/")  # ['', '2015-03-31', 'functions', NAME, 'invocations']
        name = parts[3] if len(parts) == 5 and parts[4] == "invocations" else None
        with lock:
            seen.append({"path": url.path, "query": parse_qs(url.query), "body": body,
                         "headers": {k.lower(): v for k, v in self.headers.items()}})
            n = calls[name] = calls.get(name, 0) + 1
        event = json.loads(body) if body else {}
        if name == "add":
            self.answer(200, json.dumps({"sum": event["a"] + event["b"]}), X_Amz_Executed_Version="$LATEST")
        elif name == "fails":
            error = {"errorMessage": "remote failure", "errorType": "RemoteError", "stackTrace": []}
            self.answer(200, json.dumps(error), X_Amz_Function_Error="Unhandled")
        elif name == "throttled-once" and n == 1:
            self.answer(429, json.dumps({"Type": "User", "message": "Rate Exceeded."}),
                        x_amzn_ErrorType="TooManyRequestsException")
        elif name == "throttled-once":
            self.answer(200, json.dumps({"attempt": n}))
        else:
            message = f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"
            self.answer(404, json.dumps({"Type": "User", "message": message}),
                        x_amzn_ErrorType="ResourceNotFoundException")


api = ThreadingHTTPServer(("127.0.0.1", int(os.environ["LAMBDA_STANDIN_PORT"])), InvokeApi)
threading.Thread(target=api.serve_forever, daemon=True).start()


def invoke(function, payload=None, **fields):
    params = {"FunctionName": function}
    if payload is not None:
        params["Payload"] = payload
    params.update(fields)
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": params, "End": True}


def function_arn(function):
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"


def run(states, input_="{}", **kwargs):
    arn = create_machine(sfn, definition(states), **kwargs)
    e = sfn.start_execution(stateMachineArn=arn, input=input_)["executionArn"]
    return e, wait_done(sfn, e, timeout=60)


def ok(d):
    eq(d["status"], "SUCCEEDED", f"status ({d.get('error')}: {d.get('cause')})")
    return json.loads(d["output"])


def test_the_optimized_integration_runs_a_local_function():
    e, d = run({"Greet": invoke("greet", {"name.$": "$.who"})}, '{"who": "Ada"}')
    out = ok(d)
    eq(out["StatusCode"], 200, "StatusCode")
    eq(out["ExecutedVersion"], "$LATEST", "ExecutedVersion")
    eq(out["Payload"]["greeting"], "hello Ada", "Payload")
    eq(out["Payload"]["requestId"], out["SdkResponseMetadata"]["RequestId"], "the request id the function saw")
    eq(out["SdkHttpMetadata"]["HttpStatusCode"], 200, "HttpStatusCode")
    events = history(sfn, e)
    types = [ev["type"] for ev in events]
    assert "TaskScheduled" in types and "TaskSucceeded" in types, types
    scheduled = details(next(ev for ev in events if ev["type"] == "TaskScheduled"))
    eq((scheduled["resourceType"], scheduled["resource"]), ("lambda", "invoke"), "TaskScheduled resource")


def test_the_direct_form_hands_the_state_the_functions_answer():
    task = {"Type": "Task", "Resource": function_arn("greet"), "ResultSelector": {"g.$": "$.greeting"}, "End": True}
    e, d = run({"Greet": task}, '{"name": "Grace"}')
    eq(ok(d), {"g": "hello Grace"}, "output")
    types = [ev["type"] for ev in history(sfn, e)]
    for t in ("LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionSucceeded"):
        assert t in types, f"{t} not in {types}"


def test_a_function_error_is_caught_by_its_error_type():
    task = invoke("picky", {"quantity.$": "$.quantity"})
    task.pop("End")
    task["Catch"] = [{"ErrorEquals": ["OrderRejected"], "ResultPath": "$.error", "Next": "Rejected"}]
    task["Next"] = "Accepted"
    states = {
        "Order": task,
        "Accepted": {"Type": "Pass", "Result": "accepted", "End": True},
        "Rejected": {"Type": "Pass", "End": True},
    }
    _, d = run(states, '{"quantity": 12}')
    out = ok(d)
    eq(out["error"]["Error"], "OrderRejected", "Error")
    cause = json.loads(out["error"]["Cause"])
    eq(list(cause), ["errorMessage", "errorType", "requestId", "stackTrace"], "the cause's keys")
    eq(cause["errorMessage"], "too many: 12", "errorMessage")
    assert cause["stackTrace"][-1].startswith('  File "/var/task/picky.py", line 7, in handler'), cause
    # Below the limit the same machine takes the other way.
    _, d = run(states, '{"quantity": 3}')
    eq(ok(d), "accepted", "output")


def test_an_uncaught_function_error_fails_the_execution_with_the_runtimes_error():
    e, d = run({"Order": {"Type": "Task", "Resource": function_arn("picky"), "End": True}}, '{"quantity": 99}')
    eq(d["status"], "FAILED", "status")
    eq(d["error"], "OrderRejected", "error")
    assert d["cause"].startswith('{"errorMessage": "too many: 99", "errorType": "OrderRejected", "requestId": "'), d["cause"]
    failed = [details(ev) for ev in history(sfn, e) if ev["type"] == "LambdaFunctionFailed"]
    eq(len(failed), 1, "LambdaFunctionFailed events")
    eq(failed[0]["error"], "OrderRejected", "LambdaFunctionFailed error")


def test_functions_not_bound_locally_are_invoked_at_lambda_endpoint():
    _, d = run({"Add": invoke("add", {"a.$": "$.a", "b": 2}, Qualifier="$LATEST")}, '{"a": 40}')
    out = ok(d)
    eq(out["Payload"], {"sum": 42}, "Payload")
    with lock:
        got = [s for s in seen if s["path"] == "/2015-03-31/functions/add/invocations"][-1]
    eq(json.loads(got["body"]), {"a": 40, "b": 2}, "the event")
    eq(got["headers"].get("x-amz-invocation-type"), "RequestResponse", "X-Amz-Invocation-Type")
    eq(got["query"], {"Qualifier": ["$LATEST"]}, "the qualifier")


def test_an_endpoint_function_error_and_a_missing_function_are_caught():
    states = {
        "Fails": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "fails"},
            "Catch": [{"ErrorEquals": ["RemoteError"], "ResultPath": "$.remote", "Next": "Missing"}],
            "End": True,
        },
        "Missing": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "nowhere"},
            "Catch": [{"ErrorEquals": ["Lambda.ResourceNotFoundException"], "ResultPath": "$.missing", "Next": "Done"}],
            "End": True,
        },
        "Done": {"Type": "Pass", "End": True},
    }
    _, d = run(states)
    out = ok(d)
    eq(out["remote"]["Error"], "RemoteError", "the function error")
    eq(json.loads(out["remote"]["Cause"]), {"errorMessage": "remote failure", "errorType": "RemoteError", "stackTrace": []}, "its cause")
    eq(out["missing"]["Error"], "Lambda.ResourceNotFoundException", "the missing function")
    assert out["missing"]["Cause"].startswith(
        f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:nowhere (Service: AWSLambda; "
        "Status Code: 404; Error Code: ResourceNotFoundException; Request ID: "
    ), out["missing"]["Cause"]


def test_a_throttled_invoke_is_retried():
    task = invoke("throttled-once")
    task["Retry"] = [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 1, "MaxAttempts": 2}]
    e, d = run({"Call": task})
    eq(ok(d)["Payload"], {"attempt": 2}, "the second attempt's answer")
    failed = [details(ev) for ev in history(sfn, e) if ev["type"] == "TaskFailed"]
    eq([f["error"] for f in failed], ["Lambda.TooManyRequestsException"], "TaskFailed errors")


def test_express_sync_runs_a_local_function():
    arn = create_machine(sfn, definition({"Greet": invoke("greet", {"name": "Linus"})}), type="EXPRESS")
    r = sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    eq(r["status"], "SUCCEEDED", f"status ({r.get('error')}: {r.get('cause')})")
    eq(json.loads(r["output"])["Payload"]["greeting"], "hello Linus", "Payload")


if __name__ == "__main__":
    run_tests(globals())
