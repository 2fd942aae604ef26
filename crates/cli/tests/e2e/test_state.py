"""TestState through boto3 (one state, inspectionLevel DEBUG), with values recorded against AWS.

Written before TestState was wired into the server: if it answers ValidationException here,
TestState is not wired (the tests fail on purpose; never skip them)."""

import json

from common import ROLE, client, eq, run_tests

sfn = client()

PENDING = {
    "test_pass_state_debug": "ValidationException here means TestState is not wired into the server",
    "test_fail_and_choice_states": "ValidationException here means TestState is not wired into the server",
}


def test_pass_state_debug():
    state = {
        "Type": "Pass",
        "InputPath": "$.initialData",
        "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
        "ResultPath": "$.modifiedData",
        "End": True,
    }
    inp = {
        "initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234},
    }
    r = sfn.test_state(
        definition=json.dumps(state), roleArn=ROLE, input=json.dumps(inp), inspectionLevel="DEBUG"
    )
    eq(r["status"], "SUCCEEDED", "status")
    after_parameters = {"staticValue": "some value", "inputValue": "value from input"}
    output = dict(inp, modifiedData=after_parameters)
    eq(json.loads(r["output"]), output, "output")
    data = {k: json.loads(v) for k, v in r["inspectionData"].items() if isinstance(v, str)}
    eq(
        data,
        {
            "input": inp,
            "afterInputPath": inp["initialData"],
            "afterParameters": after_parameters,
            "afterResultSelector": after_parameters,
            "afterResultPath": output,
        },
        "inspectionData",
    )


def test_fail_and_choice_states():
    r = sfn.test_state(
        definition=json.dumps({"Type": "Fail", "Error": "Oops", "Cause": "on purpose"}),
        roleArn=ROLE,
        input="{}",
    )
    eq((r["status"], r.get("error"), r.get("cause")), ("FAILED", "Oops", "on purpose"), "Fail state")
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
        "Default": "Small",
    }
    r = sfn.test_state(definition=json.dumps(choice), roleArn=ROLE, input='{"n": 5}')
    eq((r["status"], r.get("nextState")), ("SUCCEEDED", "Big"), "Choice state")


if __name__ == "__main__":
    run_tests(globals(), pending=PENDING)
