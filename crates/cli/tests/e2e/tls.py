"""`stepwise serve --tls-cert --tls-key` (the Rust harness, e2e_tls.rs, makes a self-signed
certificate and sets AWS_CA_BUNDLE to it): boto3 and the AWS CLI over HTTPS; a client that does
not trust the certificate, and plain HTTP to the port, get nowhere; an `aws-sdk:sfn` Task still
reaches the server it runs in."""

import http.client
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import SSLError

from common import ROLE, URL, definition, eq, name, run_tests, wait_done

MACHINE = definition({"P": {"Type": "Pass", "Result": "over TLS", "End": True}})


def sfn(**kwargs):
    return boto3.client("stepfunctions", endpoint_url=URL, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1, "mode": "standard"}), **kwargs)


def test_boto3_over_https():
    assert URL.startswith("https://"), URL
    c = sfn()
    arn = c.create_state_machine(name=name("tls"), definition=MACHINE, roleArn=ROLE)["stateMachineArn"]
    ex = c.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    eq(c.describe_execution(executionArn=ex)["stateMachineArn"], arn, "described over HTTPS")


def test_the_aws_cli_over_https():
    aws = os.path.join(os.path.dirname(sys.executable), "aws")
    env = dict(os.environ, AWS_PAGER="", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    p = subprocess.run([aws, "--endpoint-url", URL, "--region", "us-east-1", "--output", "json",
                        "stepfunctions", "list-state-machines"], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "stateMachines" in json.loads(p.stdout), p.stdout


def test_an_aws_sdk_sfn_task_reaches_the_server_it_runs_in():
    c = sfn()
    listed = definition({"List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:sfn:listStateMachines",
                                  "Parameters": {"MaxResults": 1000}, "End": True,
                                  "ResultSelector": {"names.$": "$.StateMachines[*].Name"}}})
    n = name("self")
    arn = c.create_state_machine(name=n, definition=listed, roleArn=ROLE)["stateMachineArn"]
    done = wait_done(c, c.start_execution(stateMachineArn=arn)["executionArn"])
    eq(done["status"], "SUCCEEDED", done.get("cause"))
    assert n in json.loads(done["output"])["names"], done["output"]


def test_a_client_that_does_not_trust_the_certificate_is_refused():
    try:
        sfn(verify=True if "AWS_CA_BUNDLE" not in os.environ else "/etc/ssl/certs/ca-certificates.crt") \
            .list_state_machines()
    except SSLError:
        return
    raise AssertionError("a self-signed certificate was trusted")


def test_plain_http_to_the_https_port_gets_no_answer():
    plain = URL.replace("https://", "http://", 1)
    request = urllib.request.Request(plain + "/", data=b"{}", method="POST", headers={
        "content-type": "application/x-amz-json-1.0", "x-amz-target": "AWSStepFunctions.ListStateMachines"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            raise AssertionError(f"plain HTTP answered {r.status}")
    except (urllib.error.URLError, http.client.HTTPException, OSError):
        pass  # a TLS alert or a closed connection: no HTTP answer


if __name__ == "__main__":
    run_tests(globals())
