"""Writes the fuzz targets' seed corpora from the repository's examples and the shared conformance
cases (run once; what is committed is the corpus after fuzzing, minimized)."""
import hashlib, hmac, json, os, sys, glob, datetime

root = sys.argv[1]
conf = sys.argv[2]
out = os.path.join(root, "fuzz", "corpus")

def save(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

cases = [json.loads(l) for l in open(os.path.join(conf, "asl/cases.jsonl"))]
defs = set()
for c in cases:
    d = c.get("definition")
    if d is None:
        continue
    defs.add(d if isinstance(d, str) else json.dumps(d))
for p in glob.glob(os.path.join(root, "examples", "*.asl.json")):
    defs.add(open(p).read())
for d in defs:
    save("definition", d)

# Strings inside definitions: paths, intrinsics, JSONata, templates.
paths, calls, exprs, templates = set(), set(), set(), set()
def walk(v, key=None):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("Parameters", "ResultSelector", "ItemSelector", "Arguments", "Output", "Assign") and not isinstance(x, str):
                templates.add(json.dumps(x))
            walk(x, k)
    elif isinstance(v, list):
        for x in v:
            walk(x, key)
    elif isinstance(v, str):
        s = v.strip()
        if s.startswith("{%") and s.endswith("%}"):
            exprs.add(s[2:-2].strip().replace("\n", " "))
        elif s.startswith("States."):
            calls.add(s)
        elif s.startswith("$") and key and (key.endswith(".$") or key.endswith("Path")):
            paths.add(s)
inputs = []
for c in cases:
    d = c.get("definition")
    try:
        v = json.loads(d) if isinstance(d, str) else d
    except Exception:
        continue
    walk(v)
    inp = c.get("input")
    if inp is not None and len(json.dumps(inp)) < 2000:
        inputs.append(json.dumps(inp))
inputs = sorted(set(inputs)) or ["{}"]
for i, p in enumerate(sorted(paths)):
    save("jsonpath", p + "\n" + inputs[i % len(inputs)])
for p in ["$", "$.a", "$..b", "$[0]", "$.a[*].b", "$[?(@.x > 1)]", "$[1:3]", "$['a b']", "$$.Execution.Id", "$var.x", "$.a[-1:]", "$[?(@.a == 'x' && @.b)]"]:
    save("jsonpath", p + '\n{"a":[{"b":1,"x":2}],"b":{"b":[3]}}')
for i, s in enumerate(sorted(calls)):
    save("intrinsics", s + "\n" + inputs[i % len(inputs)])
for i, t in enumerate(sorted(templates)):
    save("payload_template", t + "\n" + inputs[i % len(inputs)])
for i, e in enumerate(sorted(exprs)):
    save("jsonata", e + "\n" + inputs[i % len(inputs)])
for l in open(os.path.join(conf, "jsonata/cases.jsonl")):
    c = json.loads(l)
    e = c.get("expr")
    if not isinstance(e, str):
        continue
    data = c.get("data")
    doc = json.dumps(data) if data is not None else ""
    if len(doc) > 4000:
        doc = "{}"
    save("jsonata", e.replace("\n", " ") + "\n" + doc)

# API requests: every action with an empty body, and some real ones.
model = json.load(open(os.path.join(root, "crates/service/model/stepfunctions.json")))
for name in model["operations"]:
    save("api_request", f"AWSStepFunctions.{name}\napplication/x-amz-json-1.0\n{{}}")
hello = open(os.path.join(root, "examples", "hello.asl.json")).read()
arn = "arn:aws:states:us-east-1:123456789012:stateMachine:hello"
for target, body in [
    ("CreateStateMachine", {"name": "hello", "definition": hello, "roleArn": "arn:aws:iam::123456789012:role/R", "type": "EXPRESS", "tags": [{"key": "k", "value": "v"}], "loggingConfiguration": {"level": "ALL", "includeExecutionData": True}}),
    ("StartExecution", {"stateMachineArn": arn, "name": "run-1", "input": "{\"a\": 1}"}),
    ("ListExecutions", {"stateMachineArn": arn, "statusFilter": "RUNNING", "maxResults": 10, "nextToken": "abc"}),
    ("DescribeExecution", {"executionArn": arn.replace("stateMachine", "execution") + ":run-1"}),
    ("SendTaskSuccess", {"taskToken": "t", "output": "{}"}),
    ("TestState", {"definition": "{\"Type\":\"Pass\",\"End\":true}", "roleArn": "arn:aws:iam::123456789012:role/R", "input": "{}", "inspectionLevel": "DEBUG"}),
    ("UpdateMapRun", {"mapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:hello/m:1", "maxConcurrency": 5, "toleratedFailurePercentage": 1.5}),
    ("CreateStateMachineAlias", {"name": "live", "routingConfiguration": [{"stateMachineVersionArn": arn + ":1", "weight": 100}]}),
    ("GetExecutionHistory", {"executionArn": arn, "maxResults": 1000, "reverseOrder": True, "includeExecutionData": False}),
]:
    save("api_request", f"AWSStepFunctions.{target}\napplication/x-amz-json-1.0\n" + json.dumps(body))
save("api_request", "AWSStepFunctions.ListStateMachines\n\n")
save("api_request", "AWSStepFunctions.ListStateMachines\ntext/plain\n{}")
save("api_request", "Nope.ListStateMachines\napplication/json\n{\"maxResults\": \"x\"}")
save("api_request", b"AWSStepFunctions.StartExecution\napplication/x-amz-json-1.0\n{\"stateMachineArn\": \"\xff\xfe\"}")

# SigV4: requests signed with the target's key, in the header and presigned.
AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
def hmac256(k, m):
    return hmac.new(k, m.encode(), hashlib.sha256).digest()
def signing_key(date, region, service):
    k = hmac256(("AWS4" + SK).encode(), date)
    k = hmac256(k, region)
    k = hmac256(k, service)
    return hmac256(k, "aws4_request")
def signed(body, amz_date, region="us-east-1", presign=False, expires=300):
    date = amz_date[:8]
    scope = f"{date}/{region}/states/aws4_request"
    host = "localhost:8083"
    payload = hashlib.sha256(body.encode()).hexdigest()
    if presign:
        from urllib.parse import quote
        q = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{AK}/{scope}", "X-Amz-Date": amz_date, "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": "host"}
        cq = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(q.items()))
        creq = f"POST\n/\n{cq}\nhost:{host}\n\nhost\n{payload}"
        sts = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n" + hashlib.sha256(creq.encode()).hexdigest()
        sig = hmac.new(signing_key(date, region, "states"), sts.encode(), hashlib.sha256).hexdigest()
        return f"/?{cq}&X-Amz-Signature={sig}\nhost: {host}\n\n{body}"
    headers = {"content-type": "application/x-amz-json-1.0", "host": host, "x-amz-date": amz_date, "x-amz-target": "AWSStepFunctions.ListStateMachines"}
    names = sorted(headers)
    creq = "POST\n/\n\n" + "".join(f"{n}:{headers[n]}\n" for n in names) + "\n" + ";".join(names) + "\n" + payload
    sts = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n" + hashlib.sha256(creq.encode()).hexdigest()
    sig = hmac.new(signing_key(date, region, "states"), sts.encode(), hashlib.sha256).hexdigest()
    auth = f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    return "/\n" + "".join(f"{n}: {headers[n]}\n" for n in names) + f"authorization: {auth}\n\n{body}"
save("sigv4", signed("{}", "20240101T000000Z"))
save("sigv4", signed('{"maxResults": 5}', "20251231T235959Z", region="eu-west-1"))
save("sigv4", signed("{}", "20240101T000000Z", presign=True))
save("sigv4", signed("", "20240229T120000Z", presign=True, expires=604800))
save("sigv4", "/\nhost: localhost\n\n{}")
save("sigv4", "/\nauthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/states/aws4_request\nx-amz-date: 20240101T000000Z\n\n")
for t in sorted(os.listdir(out)):
    print(t, len(os.listdir(os.path.join(out, t))))
