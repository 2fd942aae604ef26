"""Authentication and authorization against `stepwise serve --keys FILE` (the Rust harness,
e2e_auth.rs, writes the keys file with the keys below): boto3 and the AWS CLI signed with a
configured key work; a wrong secret, an unknown key, a request signed too long ago, a tampered
body and an unsigned request are refused with AWS's errors; a read-only key cannot start or
delete; a Deny wins over an Allow; a key of another account sees and reaches only its own
account's resources, and executions call the server in their own account."""

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

from common import ROLE, URL, definition, eq, name, paginate, run_tests, wait_done

ACCOUNT = "123456789012"
ADMIN = ("AKIAADMIN0000000000", "admin-secret")
READER = ("AKIAREADER000000000", "reader-secret")
KEEPER = ("AKIAKEEPER000000000", "keeper-secret")
OTHER_ACCOUNT = "111122223333"
OTHER = ("AKIAOTHER0000000000", "other-secret")


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


def test_keys_of_two_accounts_each_see_only_their_own():
    home, other = sfn(*ADMIN), sfn(*OTHER)
    n = name("acct")
    mine = other.create_state_machine(name=n, definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    theirs = home.create_state_machine(name=n, definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    eq(mine, f"arn:aws:states:us-east-1:{OTHER_ACCOUNT}:stateMachine:{n}", "made in the key's account")
    eq(theirs, f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{n}", "the same name in the server's")
    listed = [m["stateMachineArn"] for m in paginate(other.list_state_machines, "stateMachines")]
    assert mine in listed and not any(f":{ACCOUNT}:" in a for a in listed), listed
    listed = [m["stateMachineArn"] for m in paginate(home.list_state_machines, "stateMachines")]
    assert theirs in listed and not any(f":{OTHER_ACCOUNT}:" in a for a in listed), listed
    for call, kwargs in [(other.describe_state_machine, {"stateMachineArn": theirs}),
                         (other.start_execution, {"stateMachineArn": theirs}),
                         (other.list_executions, {"stateMachineArn": theirs}),
                         (other.delete_state_machine, {"stateMachineArn": theirs}),
                         (home.describe_state_machine, {"stateMachineArn": mine})]:
        code, message, status = error(call, **kwargs)
        eq((code, status), ("AccessDeniedException", 400), f"{call.__name__}: {message}")
        assert message.endswith("because no resource-based policy allows the "
                                f"states:{''.join(w.title() for w in call.__name__.split('_'))} action"), message
    # Executions, versions and aliases of its machine are in its account too.
    run = other.start_execution(stateMachineArn=mine)["executionArn"]
    eq(run.split(":")[4], OTHER_ACCOUNT, run)
    eq(wait_done(other, run)["status"], "SUCCEEDED", "ran")
    version = other.publish_state_machine_version(stateMachineArn=mine)["stateMachineVersionArn"]
    eq(version, f"{mine}:1", "version")
    alias = other.create_state_machine_alias(
        name="live", routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}])
    eq(alias["stateMachineAliasArn"], f"{mine}:live", "alias")
    code, _, _ = error(home.create_state_machine_alias, name="steal",
                       routingConfiguration=[{"stateMachineVersionArn": version, "weight": 100}])
    eq(code, "AccessDeniedException", "an alias over another account's version")
    # Activities: the same name in each account, each listing its own.
    a = name("work")
    act = other.create_activity(name=a)["activityArn"]
    eq(act.split(":")[4], OTHER_ACCOUNT, act)
    assert act not in [x["activityArn"] for x in paginate(home.list_activities, "activities")]
    code, _, _ = error(home.get_activity_task, activityArn=act)
    eq(code, "AccessDeniedException", "another account's activity")


def test_an_execution_calls_this_server_in_its_own_account():
    """`aws-sdk:sfn:*` Tasks reach this server with keys configured, acting in the account of
    their execution; a nested execution is made in its machine's account."""
    other = sfn(*OTHER)
    child = other.create_state_machine(name=name("child"), definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    theirs = sfn(*ADMIN).create_state_machine(name=name("theirs"), definition=MACHINE,
                                              roleArn=ROLE)["stateMachineArn"]
    parent = definition({
        "List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listStateMachines",
                 "Parameters": {"MaxResults": 1000}, "ResultSelector": {"arns.$": "$.StateMachines[*].StateMachineArn"},
                 "ResultPath": "$.listed", "Next": "Theirs"},
        "Theirs": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:describeStateMachine",
                   "Parameters": {"StateMachineArn": theirs}, "ResultPath": "$.theirs",
                   "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.refused", "Next": "Nested"}],
                   "Next": "Nested"},
        "Nested": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                   "Parameters": {"StateMachineArn": child}, "ResultSelector": {"arn.$": "$.ExecutionArn"},
                   "ResultPath": "$.nested", "End": True},
    })
    arn = other.create_state_machine(name=name("caller"), definition=parent, roleArn=ROLE)["stateMachineArn"]
    run = other.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    done = wait_done(other, run, timeout=60)
    eq(done["status"], "SUCCEEDED", done.get("cause"))
    out = json.loads(done["output"])
    assert child in out["listed"]["arns"] and arn in out["listed"]["arns"], out["listed"]
    assert all(f":{OTHER_ACCOUNT}:" in a for a in out["listed"]["arns"]), out["listed"]
    # AccessDeniedException is not in DescribeStateMachine's model: the service's own exception,
    # as AWS names an unmodelled error of an SDK integration.
    eq(out["refused"]["Error"], "Sfn.SfnException", out["refused"])
    assert "is not authorized to perform: states:DescribeStateMachine" in out["refused"]["Cause"], out["refused"]
    eq(out["nested"]["arn"].split(":")[4], OTHER_ACCOUNT, out["nested"])


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
    {"accessKeyId": OTHER[0], "secretAccessKey": OTHER[1], "user": "other", "account": OTHER_ACCOUNT},
]}

if __name__ == "__main__":
    if sys.argv[1:] == ["keys"]:
        print(json.dumps(KEYS))
    else:
        run_tests(globals())
