"""Step Functions Local's mock configuration: the server runs with SFN_MOCK_CONFIG, and an
execution started on `stateMachineArn#TestCase` takes its Task results from that test case.
The Rust harness writes the file (see e2e_tasks.rs); its state machine is named OrderFlow."""

import json

from common import ROLE, client, eq, event_types, expect_error, history, run_tests, wait_done

sfn = client()

ORDER_FLOW = json.dumps({
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "ResultSelector": {"receipt.$": "$.Payload.receipt"},
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "Next": "Notify",
        },
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {"ApiEndpoint": "https://example.com/notify", "Method": "POST"},
            "ResultPath": "$.notified",
            "End": True,
        },
    },
})

machine = sfn.create_state_machine(name="OrderFlow", definition=ORDER_FLOW, roleArn=ROLE)["stateMachineArn"]


def test_a_test_case_answers_the_tasks_it_mocks():
    arn = sfn.start_execution(stateMachineArn=machine + "#HappyPath", input='{"amount": 5}')["executionArn"]
    d = wait_done(sfn, arn)
    eq(d["status"], "SUCCEEDED", "status")
    eq(json.loads(d["output"]), {"receipt": "r-1", "notified": {"StatusCode": 200}}, "output")
    types = [t for t in event_types(history(sfn, arn)) if t in ("TaskFailed", "TaskSucceeded")]
    eq(types, ["TaskFailed", "TaskSucceeded", "TaskSucceeded"], "the first Charge failed, the retry succeeded")


def test_a_thrown_error_fails_the_execution():
    arn = sfn.start_execution(stateMachineArn=machine + "#Declined", input="{}")["executionArn"]
    d = wait_done(sfn, arn)
    eq((d["status"], d["error"], d["cause"]), ("FAILED", "Card.Declined", "insufficient funds"), "failure")


def test_an_unknown_test_case_is_refused():
    # What Step Functions Local answers here could not be found in its documentation or in
    # reports of it; the start is refused (no execution runs unmocked by mistake), saying which
    # test cases the file has.
    before = len(sfn.list_executions(stateMachineArn=machine)["executions"])
    expect_error(
        "ValidationException",
        sfn.start_execution,
        stateMachineArn=machine + "#NoSuchCase",
        input="{}",
        message='the state machine "OrderFlow" has no test case named "NoSuchCase" in the mock '
        'configuration (it has: "HappyPath", "Declined")',
    )
    eq(len(sfn.list_executions(stateMachineArn=machine)["executions"]), before, "no execution started")


run_tests(globals())
