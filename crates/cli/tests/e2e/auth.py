"""Authentication and authorization against `stepwise serve --keys FILE` (the Rust harness,
e2e_auth.rs, writes the keys file with the keys below): boto3 and the AWS CLI signed with a
configured key work; a wrong secret, an unknown key, a request signed too long ago, a tampered
body and an unsigned request are refused with AWS's errors; a read-only key cannot start or
delete; a Deny wins over an Allow."""

import datetime
import hashlib
import hmac
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from common import ROLE, URL, definition, eq, name, run_tests

ACCOUNT = "123456789012"
ADMIN = ("AKIAADMIN0000000000", "admin-secret")
READER = ("AKIAREADER000000000", "reader-secret")
KEEPER = ("AKIAKEEPER000000000", "keeper-secret")


def sfn(key, secret):
    return boto3.client(
        "stepfunctions", endpoint_url=URL, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}))


def error(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"], \
            e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call.__name__} was not refused")


MACHINE = definition({"P": {"Type": "Pass", "End": True}})


def test_boto3_with_a_configured_key_works():
    c = sfn(*ADMIN)
    arn = c.create_state_machine(name=name("auth"), definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    run = c.start_execution(stateMachineArn=arn, input="{}")
    eq(c.describe_execution(executionArn=run["executionArn"])["stateMachineArn"], arn, "described")


def test_the_aws_cli_with_a_configured_key_works():
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    env = dict(os.environ, AWS_PAGER="", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_ACCESS_KEY_ID=ADMIN[0], AWS_SECRET_ACCESS_KEY=ADMIN[1])
    cmd = [aws, "--endpoint-url", URL, "--region", "us-east-1", "--output", "json", "stepfunctions"]
    n = name("cli")
    p = subprocess.run([*cmd, "create-state-machine", "--name", n, "--definition", MACHINE, "--role-arn", ROLE],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([*cmd, "list-state-machines"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert n in [m["name"] for m in json.loads(p.stdout)["stateMachines"]], p.stdout
    # The same CLI with a wrong secret is refused with AWS's error.
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    p = subprocess.run([*cmd, "list-state-machines"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0 and "InvalidSignatureException" in p.stderr, p.stderr


def test_a_wrong_secret_is_an_invalid_signature():
    code, message, status = error(sfn(ADMIN[0], "wrong").list_state_machines)
    eq((code, status), ("InvalidSignatureException", 400), message)
    eq(message, "The request signature we calculated does not match the signature you provided. Check your "
                "AWS Secret Access Key and signing method. Consult the service documentation for details.", "text")


def test_an_unknown_key_is_unrecognized():
    code, message, status = error(sfn("AKIANOBODY000000000", "x").list_state_machines)
    eq((code, message, status), ("UnrecognizedClientException",
                                 "The security token included in the request is invalid.", 400), "unknown key")


def signed(body, key, secret, when, target="AWSStepFunctions.ListStateMachines"):
    """A request signed by hand (SigV4) at `when`: headers and body."""
    host = URL.split("://", 1)[1]
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"content-type": "application/x-amz-json-1.0", "host": host, "x-amz-date": amz_date,
               "x-amz-target": target}
    names = sorted(headers)
    canonical = "\n".join(["POST", "/", "", *[f"{h}:{headers[h]}" for h in names], "", ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{day}/us-east-1/states/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, "us-east-1", "states", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={';'.join(names)}, "
                                f"Signature={signature}")
    return headers


def send(headers, body):
    request = urllib.request.Request(URL + "/", data=body, method="POST",
                                     headers={k: v for k, v in headers.items() if k != "host"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_a_request_signed_by_hand_now_is_accepted_and_the_same_ten_minutes_old_is_not():
    body = b"{}"
    now = datetime.datetime.now(datetime.timezone.utc)
    status, out = send(signed(body, *ADMIN, now), body)
    eq(status, 200, f"a fresh signature: {out}")
    old = now - datetime.timedelta(minutes=10)
    status, out = send(signed(body, *ADMIN, old), body)
    eq((status, out.get("__type")), (400, "InvalidSignatureException"), "a signature 10 minutes old")
    assert out["message"].startswith(f"Signature expired: {old.strftime('%Y%m%dT%H%M%SZ')} is now earlier than "), out


def test_a_tampered_body_is_an_invalid_signature():
    headers = signed(b'{"maxResults": 1}', *ADMIN, datetime.datetime.now(datetime.timezone.utc))
    status, out = send(headers, b'{"maxResults": 2}')
    eq((status, out.get("__type")), (400, "InvalidSignatureException"), "a body changed after signing")


def test_an_unsigned_request_is_missing_its_token():
    body = b"{}"
    status, out = send({"content-type": "application/x-amz-json-1.0",
                        "x-amz-target": "AWSStepFunctions.ListStateMachines"}, body)
    eq((status, out.get("__type"), out.get("message")),
       (400, "MissingAuthenticationTokenException", "Missing Authentication Token"), "unsigned")


def test_a_read_only_key_can_describe_and_list_but_not_start_or_delete():
    arn = sfn(*ADMIN).create_state_machine(name=name("ro"), definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    reader = sfn(*READER)
    eq(reader.describe_state_machine(stateMachineArn=arn)["stateMachineArn"], arn, "described")
    assert any(m["stateMachineArn"] == arn for m in reader.list_state_machines()["stateMachines"])
    code, message, status = error(reader.start_execution, stateMachineArn=arn, input="{}")
    eq((code, status), ("AccessDeniedException", 400), message)
    eq(message, f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: states:StartExecution "
                f"on resource: {arn} because no identity-based policy allows the states:StartExecution action",
       "AWS's text")
    code, _, _ = error(reader.delete_state_machine, stateMachineArn=arn)
    eq(code, "AccessDeniedException", "delete")
    eq(sfn(*ADMIN).describe_state_machine(stateMachineArn=arn)["status"], "ACTIVE", "still there")


def test_a_deny_wins_over_an_allow():
    keeper = sfn(*KEEPER)
    kept = keeper.create_state_machine(name=name("keep"), definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    other = keeper.create_state_machine(name=name("temp"), definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    code, message, _ = error(keeper.delete_state_machine, stateMachineArn=kept)
    eq(code, "AccessDeniedException", "delete a kept machine")
    assert message.endswith("with an explicit deny in an identity-based policy"), message
    keeper.delete_state_machine(stateMachineArn=other)  # allowed: the Deny names keep-* only
    keeper.start_execution(stateMachineArn=kept, input="{}")


KEYS = {"keys": [
    {"accessKeyId": ADMIN[0], "secretAccessKey": ADMIN[1], "user": "admin"},
    {"accessKeyId": READER[0], "secretAccessKey": READER[1], "user": "reader",
     "policy": {"Version": "2012-10-17", "Statement": [
         {"Effect": "Allow", "Action": ["states:Describe*", "states:List*"], "Resource": "*"}]}},
    {"accessKeyId": KEEPER[0], "secretAccessKey": KEEPER[1], "user": "keeper",
     "policy": {"Version": "2012-10-17", "Statement": [
         {"Effect": "Allow", "Action": "states:*", "Resource": "*"},
         {"Effect": "Deny", "Action": "states:DeleteStateMachine",
          "Resource": f"arn:aws:states:*:{ACCOUNT}:stateMachine:keep-*"}]}},
]}

if __name__ == "__main__":
    if sys.argv[1:] == ["keys"]:
        print(json.dumps(KEYS))
    else:
        run_tests(globals())
