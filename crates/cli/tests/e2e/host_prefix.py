"""StartSyncExecution and TestState through every client workaround the README gives for their
`sync-` host prefix (the service model's `endpoint.hostPrefix` for both operations).

botocore prepends the prefix to any endpoint, an IP address included: `http://127.0.0.1:8083`
becomes `http://sync-127.0.0.1:8083`, which does not resolve. Each test here runs one way round
that, with boto3 and with the AWS CLI, and one shows the failure without any of them."""

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from common import ROLE, URL, definition, eq, name, run_tests

AWS = os.path.join(os.path.dirname(sys.executable), "aws")
PORT = urlsplit(URL).port
# A host name, so that the prefixed name (`sync-localhost`) is a plain DNS name too.
LOCALHOST_URL = f"http://localhost:{PORT}"
EXPRESS = definition({"Echo": {"Type": "Pass", "Parameters": {"got.$": "$.n"}, "End": True}})
PASS_STATE = json.dumps({"Type": "Pass", "Parameters": {"got.$": "$.n"}, "End": True})
# The environment with every host-prefix switch and proxy variable removed.
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k.upper() not in ("AWS_DISABLE_HOST_PREFIX_INJECTION", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")
}


def sfn_client(endpoint=URL, **config):
    # A session of its own: a session reads the environment and the config file when made.
    return boto3.session.Session().client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, **config),
    )


def express_machine():
    sfn = sfn_client(inject_host_prefix=False)
    return sfn.create_state_machine(name=name("sync"), definition=EXPRESS, roleArn=ROLE, type="EXPRESS")[
        "stateMachineArn"
    ]


def check_sync_and_test_state(sfn, arn):
    r = sfn.start_sync_execution(stateMachineArn=arn, input='{"n": 7}')
    eq((r["status"], json.loads(r["output"])), ("SUCCEEDED", {"got": 7}), "StartSyncExecution")
    t = sfn.test_state(definition=PASS_STATE, roleArn=ROLE, input='{"n": 8}')
    eq((t["status"], json.loads(t["output"])), ("SUCCEEDED", {"got": 8}), "TestState")


def with_env(env, call):
    """Runs `call` with os.environ replaced by `env` (boto3 reads it when the client is made)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return call()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def aws(env, *args, endpoint=URL):
    env = dict(env, AWS_PAGER="", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    p = subprocess.run(
        [AWS, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json", "stepfunctions", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert p.returncode == 0, f"aws {' '.join(args)} exited {p.returncode}: {p.stderr}"
    return json.loads(p.stdout)


def check_cli(env, arn, endpoint=URL):
    r = aws(env, "start-sync-execution", "--state-machine-arn", arn, "--input", '{"n": 7}', endpoint=endpoint)
    eq((r["status"], json.loads(r["output"])), ("SUCCEEDED", {"got": 7}), "aws start-sync-execution")
    t = aws(
        env, "test-state", "--definition", PASS_STATE, "--role-arn", ROLE, "--input", '{"n": 8}', endpoint=endpoint
    )
    eq((t["status"], json.loads(t["output"])), ("SUCCEEDED", {"got": 8}), "aws test-state")


def test_without_a_workaround_the_prefixed_host_does_not_resolve():
    arn = express_machine()
    sfn = with_env(CLEAN, lambda: sfn_client())
    try:
        sfn.start_sync_execution(stateMachineArn=arn, input="{}")
    except EndpointConnectionError as e:
        assert "sync-" in str(e), e
    else:
        raise AssertionError("expected the sync- prefixed endpoint to be unreachable")


def test_boto3_config_inject_host_prefix_false():
    arn = express_machine()
    sfn = with_env(CLEAN, lambda: sfn_client(inject_host_prefix=False))
    check_sync_and_test_state(sfn, arn)


def test_boto3_environment_variable():
    arn = express_machine()
    sfn = with_env(dict(CLEAN, AWS_DISABLE_HOST_PREFIX_INJECTION="true"), lambda: sfn_client())
    check_sync_and_test_state(sfn, arn)


def test_boto3_shared_config_file_setting():
    arn = express_machine()
    config = os.path.join(os.environ.get("STEPWISE_SCRATCH", "."), f"aws-config-{os.getpid()}")
    with open(config, "w") as f:
        f.write("[default]\ndisable_host_prefix_injection = true\n")
    try:
        sfn = with_env(dict(CLEAN, AWS_CONFIG_FILE=config), lambda: sfn_client())
        check_sync_and_test_state(sfn, arn)
    finally:
        os.remove(config)


def test_boto3_through_the_server_as_http_proxy():
    """No client switch: HTTP_PROXY sends every request, `sync-localhost` ones included, to
    Stepwise, which answers requests in proxy (absolute URL) form."""
    arn = express_machine()
    sfn = with_env(dict(CLEAN, HTTP_PROXY=LOCALHOST_URL), lambda: sfn_client(endpoint=LOCALHOST_URL))
    check_sync_and_test_state(sfn, arn)


def test_aws_cli_environment_variable():
    check_cli(dict(CLEAN, AWS_DISABLE_HOST_PREFIX_INJECTION="true"), express_machine())


def test_aws_cli_through_the_server_as_http_proxy():
    check_cli(dict(CLEAN, HTTP_PROXY=LOCALHOST_URL), express_machine(), endpoint=LOCALHOST_URL)


if __name__ == "__main__":
    run_tests(globals())
