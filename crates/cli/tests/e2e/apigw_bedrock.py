"""The optimized API Gateway (`arn:aws:states:::apigateway:invoke`, request-response and
`.waitForTaskToken`) and Bedrock (`arn:aws:states:::bedrock:invokeModel`) integrations through
boto3 against `stepwise serve`.

Neither moto's API Gateway nor anything in moto serves invocations, so this script serves one
small stand-in (http.server in a thread) on STANDIN_PORT: any path but /model/... answers as an
API Gateway stage would (echoing what it got; /forbidden answers 403 as API Gateway does without
credentials), POST /model/{modelId}/invoke answers as Bedrock Runtime's InvokeModel, GET
/prompts/KEY as S3's GetObject and any PUT (S3's PutObject, for InvokeModel's Output) as an echo. The Rust harness (e2e_aws.rs) starts the server with
AWS_ENDPOINT_URL_BEDROCK_RUNTIME and AWS_ENDPOINT_URL_S3 at http://127.0.0.1:$STANDIN_PORT; the API Gateway Tasks name the
stand-in as their ApiEndpoint (127.0.0.1:PORT)."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from common import client, create_machine, definition, eq, run_machine, run_tests, succeeded, wait_done

sfn = client()
PORT = int(os.environ["STANDIN_PORT"])
ENDPOINT = f"127.0.0.1:{PORT}"

seen = []
tokens = []
lock = threading.Lock()


class StandIn(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json", **headers):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        request = {
            "method": self.command,
            "path": url.path,
            "query": parse_qs(url.query),
            "body": body,
            "headers": {k.lower(): self.headers.get_all(k) for k in self.headers.keys()},
        }
        with lock:
            seen.append(request)
        parts = url.path.split("/")
        if url.path.startswith("/prompts/") and self.command == "GET":
            # S3 GetObject (path-style) for InvokeModel's Input.S3Uri.
            return self.answer(200, json.dumps({"inputText": "from s3"}), ETag='"e1"')
        if self.command == "PUT" and url.path.startswith("/answers/"):
            # S3 PutObject (path-style) for InvokeModel's Output.S3Uri: no body, as S3's.
            return self.answer(200, "", content_type="application/xml", ETag='"e2"')
        if len(parts) == 4 and parts[1] == "model" and parts[3] == "invoke":
            return self.bedrock(unquote(parts[2]), body)
        if url.path.endswith("/forbidden"):
            return self.answer(403, json.dumps({"message": "Missing Authentication Token"}))
        if url.path.endswith("/callback"):
            with lock:
                tokens.append(self.headers.get("TaskToken"))
            return self.answer(202, "accepted", content_type="text/plain")
        if url.path.endswith("/approval"):
            cost = json.loads(body)["cost"]
            return self.answer(200, json.dumps({"approval": cost < 100}))
        self.answer(200, json.dumps({"got": request}), X_Stand_In="yes")

    def bedrock(self, model, body):
        if model == "refuses":
            return self.answer(400, json.dumps({"message": "Malformed input request"}),
                               x_amzn_ErrorType="ValidationException:http://internal.amazon.com/",
                               x_amzn_RequestId="req-1")
        prompt = json.loads(body)["inputText"]
        self.answer(200, json.dumps({"results": [{"outputText": f"{model} says: {prompt}"}]}),
                    x_amzn_RequestId="req-2")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


server = ThreadingHTTPServer(("127.0.0.1", PORT), StandIn)
threading.Thread(target=server.serve_forever, daemon=True).start()


def run(states, input=None, **extra):
    return run_machine(sfn, states, input, **extra)


output = succeeded


def task(resource, parameters, **extra):
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    state.update(extra)
    return {"Call": state}


APIGW = "arn:aws:states:::apigateway:invoke"
BEDROCK = "arn:aws:states:::bedrock:invokeModel"


def test_api_gateway_call_builds_the_url_and_answers_in_step_functions_shape():
    out = output(run(task(APIGW, {
        "ApiEndpoint": ENDPOINT, "Method": "POST", "Stage": "prod", "Path.$": "$.path",
        "QueryParameters": {"id": ["1", "2"]},
        "Headers": {"X-Tenant": ["acme"]},
        "RequestBody": {"pet.$": "$.pet", "category": None},
    }), {"path": "pets/new", "pet": "turtle"}))
    eq(out["StatusCode"], 200)
    eq(out["StatusText"], "OK")
    eq(out["Headers"]["Content-Type"], ["application/json"])
    eq(out["Headers"]["X-Stand-In"], ["yes"])
    got = out["ResponseBody"]["got"]
    eq(got["method"], "POST")
    eq(got["path"], "/prod/pets/new")
    eq(got["query"], {"id": ["1", "2"]})
    eq(json.loads(got["body"]), {"pet": "turtle"}, "null members are left out by default")
    eq(got["headers"]["x-tenant"], ["acme"])
    assert "authorization" not in got["headers"], "NO_AUTH sends no signature"


def test_api_gateway_status_errors_are_named_by_status_and_caught():
    out = output(run(task(APIGW, {"ApiEndpoint": ENDPOINT, "Method": "GET", "Path": "forbidden"},
                          Catch=[{"ErrorEquals": ["ApiGateway.403"], "Next": "Done"}]) |
                     {"Done": {"Type": "Pass", "End": True}}))
    eq(out, {"Error": "ApiGateway.403", "Cause": '{"message": "Missing Authentication Token"}'})


def test_api_gateway_iam_role_signs_for_execute_api():
    out = output(run(task(APIGW, {"ApiEndpoint": ENDPOINT, "Method": "GET", "Path": "signed",
                                  "AuthType": "IAM_ROLE"})))
    auth = out["ResponseBody"]["got"]["headers"]["authorization"][0]
    assert auth.startswith("AWS4-HMAC-SHA256 "), auth
    assert "/us-east-1/execute-api/aws4_request" in auth, auth


def test_api_gateway_wait_for_task_token_waits_for_the_callback():
    arn = create_machine(sfn, definition(task(APIGW + ".waitForTaskToken", {
        "ApiEndpoint": ENDPOINT, "Method": "POST", "Path": "callback",
        "Headers": {"TaskToken.$": "States.Array($$.Task.Token)"},
        "RequestBody": {"order": 7},
    })))
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if tokens:
                break
        time.sleep(0.05)
    with lock:
        token = tokens.pop()
    assert token, "the stand-in got the task token in its header"
    eq(sfn.describe_execution(executionArn=ex)["status"], "RUNNING")
    sfn.send_task_success(taskToken=token, output=json.dumps({"paid": True}))
    eq(output(wait_done(sfn, ex)), {"paid": True})


def test_api_gateway_with_jsonata_arguments_as_the_recorded_approval_workflow():
    states = {
        "Ask": {"Type": "Task", "Resource": APIGW, "Arguments": {
            "Method": "POST", "ApiEndpoint": ENDPOINT, "Path": "/approval",
            "RequestBody": {"cost": "{% $states.input.cost %}", "dept_id": "12345678"},
            "AuthType": "NO_AUTH"},
            "Output": {"approval": "{% $states.result.ResponseBody.approval %}"}, "End": True},
    }
    eq(output(run(states, {"cost": 10}, QueryLanguage="JSONata")), {"approval": True})
    eq(output(run(states, {"cost": 500}, QueryLanguage="JSONata")), {"approval": False})


def test_api_gateway_refuses_an_endpoint_that_is_not_api_gateway():
    d = run(task(APIGW, {"ApiEndpoint": "example.com", "Method": "GET"}))
    eq(d["status"], "FAILED")
    eq(d["error"], "States.Runtime")
    assert "not an API Gateway endpoint" in d["cause"], d["cause"]


def test_bedrock_invoke_model_parses_the_models_body():
    out = output(run(task(BEDROCK, {
        "ModelId": "amazon.titan-text-express-v1",
        "Body": {"inputText.$": "$.prompt", "textGenerationConfig": {"maxTokenCount": 100}},
        "ContentType": "application/json", "Accept": "application/json",
    }, ResultSelector={"text.$": "$.Body.results[0].outputText", "type.$": "$.ContentType"}),
        {"prompt": "five names"}))
    eq(out, {"text": "amazon.titan-text-express-v1 says: five names", "type": "application/json"})
    with lock:
        call = [s for s in seen if s["path"].startswith("/model/")][-1]
    eq(call["path"], "/model/amazon.titan-text-express-v1/invoke")
    eq(json.loads(call["body"]), {"inputText": "five names", "textGenerationConfig": {"maxTokenCount": 100}})
    assert call["headers"]["authorization"][0].startswith("AWS4-HMAC-SHA256 "), "signed as AWS calls are"


def test_bedrock_input_is_read_from_s3_and_content_types_default_to_json():
    out = output(run(task(BEDROCK, {"ModelId": "titan", "Input": {"S3Uri": "s3://prompts/p.json"}})))
    eq(out["Body"], {"results": [{"outputText": "titan says: from s3"}]})
    with lock:
        call = [s for s in seen if s["path"].startswith("/model/")][-1]
    eq(call["headers"]["content-type"], ["application/json"])
    eq(call["headers"]["accept"], ["application/json"])


def test_bedrock_output_writes_the_models_answer_to_s3_and_answers_its_location():
    out = output(run(task(BEDROCK, {"ModelId": "titan", "Body": {"inputText": "to s3"},
                                    "Output": {"S3Uri": "s3://answers/run/1.json"}})))
    eq(out["Body"], {"S3Uri": "s3://answers/run/1.json"})
    with lock:
        put = [s for s in seen if s["method"] == "PUT"][-1]
    eq(put["path"], "/answers/run/1.json", "PutObject, path-style")
    eq(json.loads(put["body"]), {"results": [{"outputText": "titan says: to s3"}]})
    eq(put["headers"]["content-type"], ["application/json"])
    d = run(task(BEDROCK, {"ModelId": "titan", "Body": {"inputText": "x"}, "Output": {"S3Uri": "answers"}}))
    eq((d["status"], d["error"]), ("FAILED", "States.Runtime"))
    assert "s3://BUCKET/KEY" in d["cause"], d["cause"]


def test_bedrock_errors_are_named_bedrock_exception():
    d = run(task(BEDROCK, {"ModelId": "refuses", "Body": {"inputText": "x"}}))
    eq(d["status"], "FAILED")
    eq(d["error"], "Bedrock.ValidationException")
    assert d["cause"].startswith("Malformed input request (Service: AmazonBedrockRuntime; Status Code: 400;"), d["cause"]


if __name__ == "__main__":
    run_tests(globals())
