"""The control plane through boto3: state machines, versions, aliases, activities, tags,
ValidateStateMachineDefinition and DescribeStateMachineForExecution, with AWS's error codes
and (where AWS's wording is known) messages."""

import datetime
import json

from common import (
    PASS_MACHINE,
    ROLE,
    client,
    create_machine,
    definition,
    eq,
    error_of,
    expect_error,
    name,
    run_tests,
    wait_done,
)

sfn = client()


def prefix_of(arn):
    """`arn:aws:states:REGION:ACCOUNT:` of an ARN the server handed out."""
    return ":".join(arn.split(":")[:5]) + ":"


def test_create_and_describe_state_machine():
    n = name("create")
    r = sfn.create_state_machine(name=n, definition=PASS_MACHINE, roleArn=ROLE)
    arn = r["stateMachineArn"]
    assert arn.startswith("arn:aws:states:") and arn.endswith(f":stateMachine:{n}"), arn
    assert isinstance(r["creationDate"], datetime.datetime), r
    d = sfn.describe_state_machine(stateMachineArn=arn)
    eq(d["stateMachineArn"], arn, "arn")
    eq(d["name"], n, "name")
    eq(d["status"], "ACTIVE", "status")
    eq(d["definition"], PASS_MACHINE, "definition is the exact text sent")
    eq(d["roleArn"], ROLE, "roleArn")
    eq(d["type"], "STANDARD", "default type")
    eq(d["creationDate"], r["creationDate"], "creationDate")
    eq(d["loggingConfiguration"]["level"], "OFF", "default logging level")
    eq(d["tracingConfiguration"], {"enabled": False}, "default tracing")

    # The same request again is idempotent: same ARN, same creation date.
    again = sfn.create_state_machine(name=n, definition=PASS_MACHINE, roleArn=ROLE)
    eq(again["stateMachineArn"], arn, "idempotent create")
    eq(again["creationDate"], r["creationDate"], "idempotent create keeps the date")

    # A different definition under the same name is StateMachineAlreadyExists.
    other = definition({"Q": {"Type": "Pass", "End": True}})
    expect_error(
        "StateMachineAlreadyExists",
        sfn.create_state_machine,
        name=n,
        definition=other,
        roleArn=ROLE,
        message=f"State Machine Already Exists: '{arn}'",
    )


def test_express_state_machine():
    arn = create_machine(sfn, type="EXPRESS")
    eq(sfn.describe_state_machine(stateMachineArn=arn)["type"], "EXPRESS", "type")
    # AWS's own words for an activity in an Express machine (recorded).
    activity = sfn.create_activity(name=name("act"))["activityArn"]
    text = definition({"ActivityTask": {"Type": "Task", "Resource": activity, "End": True}})
    expect_error(
        "InvalidDefinition",
        sfn.create_state_machine,
        name=name(),
        definition=text,
        roleArn=ROLE,
        type="EXPRESS",
        message="Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Express state "
        "machine does not support Activity ARN at /States/ActivityTask/Resource'",
    )


def test_invalid_definitions():
    # Messages recorded against AWS.
    expect_error(
        "InvalidDefinition",
        sfn.create_state_machine,
        name=name(),
        definition=json.dumps({"Comment": "BASE_INVALID_DER", "StartAt": "State_1"}),
        roleArn=ROLE,
        message="Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: These fields "
        "are required: [States] at /'",
    )
    expect_error(
        "InvalidDefinition",
        sfn.create_state_machine,
        name=name(),
        definition=definition(
            {"WaitUntil": {"Type": "Wait", "Timestamp": "2016-12-05T21:29:29", "End": True}}
        ),
        roleArn=ROLE,
        message="Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: String does not "
        "match RFC3339 timestamp at /States/WaitUntil/Timestamp'",
    )
    # Not JSON; a StartAt naming no state.
    expect_error(
        "InvalidDefinition",
        sfn.create_state_machine,
        name=name(),
        definition="{not json",
        roleArn=ROLE,
        message_prefix="Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION",
    )
    msg = expect_error(
        "InvalidDefinition",
        sfn.create_state_machine,
        name=name(),
        definition=definition({"P": {"Type": "Pass", "End": True}}, start="Nowhere"),
        roleArn=ROLE,
        message_prefix="Invalid State Machine Definition: '",
    )
    assert "Nowhere" in msg and "/StartAt" in msg, msg


def test_invalid_names_and_lengths():
    expect_error(
        "InvalidName",
        sfn.create_state_machine,
        name="bad name",
        definition=PASS_MACHINE,
        roleArn=ROLE,
        message="Invalid Name: 'bad name'",
    )
    long_name = "n" * 81
    expect_error(
        "ValidationException",
        sfn.create_state_machine,
        name=long_name,
        definition=PASS_MACHINE,
        roleArn=ROLE,
        message=f"1 validation error detected: Value '{long_name}' at 'name' failed to satisfy "
        "constraint: Member must have length less than or equal to 80",
    )
    # 80 characters is fine.
    create_machine(sfn, prefix="x" * 67)
    expect_error(
        "InvalidName",
        sfn.create_activity,
        name="no/slashes",
        message="Invalid Name: 'no/slashes'",
    )


def test_invalid_arns_and_missing_machines():
    expect_error(
        "InvalidArn",
        sfn.describe_state_machine,
        stateMachineArn="not-an-arn",
        message="Invalid Arn: 'Invalid ARN prefix: not-an-arn'",
    )
    real = create_machine(sfn)
    missing = prefix_of(real) + "stateMachine:" + name("missing")
    expect_error(
        "StateMachineDoesNotExist",
        sfn.describe_state_machine,
        stateMachineArn=missing,
        message=f"State Machine Does Not Exist: '{missing}'",
    )
    expect_error(
        "StateMachineDoesNotExist",
        sfn.update_state_machine,
        stateMachineArn=missing,
        definition=PASS_MACHINE,
        message=f"State Machine Does Not Exist: '{missing}'",
    )
    expect_error(
        "StateMachineDoesNotExist",
        sfn.start_execution,
        stateMachineArn=missing,
        message=f"State Machine Does Not Exist: '{missing}'",
    )
    # An activity ARN where a state machine ARN belongs.
    expect_error(
        "InvalidArn",
        sfn.describe_state_machine,
        stateMachineArn=prefix_of(real) + "activity:x",
    )


def test_update_state_machine():
    arn = create_machine(sfn)
    new = definition({"P2": {"Type": "Pass", "Result": 2, "End": True}})
    role2 = ROLE + "-2"
    u = sfn.update_state_machine(stateMachineArn=arn, definition=new, roleArn=role2)
    assert isinstance(u["updateDate"], datetime.datetime), u
    assert u.get("revisionId"), u
    d = sfn.describe_state_machine(stateMachineArn=arn)
    eq(d["definition"], new, "updated definition")
    eq(d["roleArn"], role2, "updated role")
    eq(d["revisionId"], u["revisionId"], "revisionId")
    # Executions started after the update run the new definition.
    e = sfn.start_execution(stateMachineArn=arn)
    eq(json.loads(wait_done(sfn, e["executionArn"])["output"]), 2, "output of the new definition")
    code, _, _ = error_of(sfn.update_state_machine, stateMachineArn=arn)
    eq(code, "MissingRequiredParameter", "update with nothing to change")
    expect_error(
        "InvalidDefinition",
        sfn.update_state_machine,
        stateMachineArn=arn,
        definition='{"StartAt": "X"}',
        message_prefix="Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED",
    )
    # The failed update changed nothing.
    eq(sfn.describe_state_machine(stateMachineArn=arn)["definition"], new, "unchanged")


def test_delete_and_list_state_machines():
    names = sorted(name("list") for _ in range(3))
    arns = [
        sfn.create_state_machine(name=n, definition=PASS_MACHINE, roleArn=ROLE)["stateMachineArn"]
        for n in names
    ]
    listed = {m["stateMachineArn"]: m for m in sfn.list_state_machines()["stateMachines"]}
    for n, a in zip(names, arns):
        assert a in listed, f"{a} not listed"
        eq(listed[a]["name"], n, "listed name")
        eq(listed[a]["type"], "STANDARD", "listed type")
        assert isinstance(listed[a]["creationDate"], datetime.datetime)
    eq(sfn.delete_state_machine(stateMachineArn=arns[0])["ResponseMetadata"]["HTTPStatusCode"], 200, "delete")
    expect_error(
        "StateMachineDoesNotExist",
        sfn.describe_state_machine,
        stateMachineArn=arns[0],
        message=f"State Machine Does Not Exist: '{arns[0]}'",
    )
    listed = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    assert arns[0] not in listed and arns[1] in listed, listed
    # Deleting again is not an error (DeleteStateMachine has no StateMachineDoesNotExist).
    sfn.delete_state_machine(stateMachineArn=arns[0])
    # The name is free again.
    again = sfn.create_state_machine(name=names[0], definition=PASS_MACHINE, roleArn=ROLE)
    eq(again["stateMachineArn"], arns[0], "re-created under the same name")


def test_versions():
    n = name("ver")
    r = sfn.create_state_machine(
        name=n, definition=PASS_MACHINE, roleArn=ROLE, publish=True, versionDescription="first"
    )
    arn = r["stateMachineArn"]
    v1 = r["stateMachineVersionArn"]
    eq(v1, arn + ":1", "version 1 ARN")
    # Publishing the same revision again gives the same version.
    eq(sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"], v1, "idempotent publish")
    new = definition({"P": {"Type": "Pass", "Result": "v2", "End": True}})
    u = sfn.update_state_machine(stateMachineArn=arn, definition=new)
    expect_error(
        "ConflictException",
        sfn.publish_state_machine_version,
        stateMachineArn=arn,
        revisionId="not-the-latest-revision",
    )
    p = sfn.publish_state_machine_version(stateMachineArn=arn, revisionId=u["revisionId"], description="second")
    v2 = p["stateMachineVersionArn"]
    eq(v2, arn + ":2", "version 2 ARN")
    assert isinstance(p["creationDate"], datetime.datetime)
    d1 = sfn.describe_state_machine(stateMachineArn=v1)
    eq(d1["stateMachineArn"], v1, "describe a version")
    eq(d1["definition"], PASS_MACHINE, "version 1 keeps its definition")
    eq(d1["description"], "first", "version 1 description")
    d2 = sfn.describe_state_machine(stateMachineArn=v2)
    eq(d2["definition"], new, "version 2 definition")
    eq(d2["description"], "second", "version 2 description")
    listed = [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]]
    eq(listed, [v2, v1], "versions, newest first")
    # An execution of version 1 runs version 1 and says so.
    e = sfn.start_execution(stateMachineArn=v1)
    done = wait_done(sfn, e["executionArn"])
    eq(json.loads(done["output"]), {"ok": True}, "version 1 output")
    eq(done["stateMachineVersionArn"], v1, "stateMachineVersionArn")
    eq(done["stateMachineArn"], arn, "an execution of a version names the unqualified machine")
    assert e["executionArn"].endswith(f":execution:{n}:" + e["executionArn"].rsplit(":", 1)[1])
    # Delete version 1.
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)
    listed = [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]]
    eq(listed, [v2], "after deleting version 1")
    expect_error("StateMachineDoesNotExist", sfn.describe_state_machine, stateMachineArn=v1)
    # Version numbers are never reused.
    sfn.update_state_machine(stateMachineArn=arn, definition=PASS_MACHINE, publish=True)
    listed = [v["stateMachineVersionArn"] for v in sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]]
    eq(listed, [arn + ":3", v2], "the next version is 3")
    expect_error("InvalidArn", sfn.delete_state_machine_version, stateMachineVersionArn=arn)


def test_aliases_and_routing():
    arn = create_machine(sfn, publish=True)
    v1 = arn + ":1"
    sfn.update_state_machine(
        stateMachineArn=arn, definition=definition({"P": {"Type": "Pass", "Result": "v2", "End": True}})
    )
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    a = sfn.create_state_machine_alias(
        name="live",
        description="production",
        routingConfiguration=[{"stateMachineVersionArn": v1, "weight": 100}],
    )
    alias = a["stateMachineAliasArn"]
    eq(alias, arn + ":live", "alias ARN")
    d = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    eq(d["name"], "live", "alias name")
    eq(d["description"], "production", "alias description")
    eq(d["routingConfiguration"], [{"stateMachineVersionArn": v1, "weight": 100}], "routing")
    assert isinstance(d["creationDate"], datetime.datetime)
    listed = [x["stateMachineAliasArn"] for x in sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]]
    eq(listed, [alias], "aliases")
    # An execution through the alias runs version 1 and names both.
    e = sfn.start_execution(stateMachineArn=alias)
    done = wait_done(sfn, e["executionArn"])
    eq(done["stateMachineAliasArn"], alias, "stateMachineAliasArn")
    eq(done["stateMachineVersionArn"], v1, "stateMachineVersionArn")
    # Weights must add up to 100.
    expect_error(
        "ValidationException",
        sfn.update_state_machine_alias,
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 50},
            {"stateMachineVersionArn": v2, "weight": 40},
        ],
    )
    u = sfn.update_state_machine_alias(
        stateMachineAliasArn=alias,
        routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 50},
            {"stateMachineVersionArn": v2, "weight": 50},
        ],
    )
    assert isinstance(u["updateDate"], datetime.datetime)
    d = sfn.describe_state_machine_alias(stateMachineAliasArn=alias)
    eq(len(d["routingConfiguration"]), 2, "routing after update")
    # A version an alias routes to cannot be deleted.
    expect_error("ConflictException", sfn.delete_state_machine_version, stateMachineVersionArn=v1)
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias)
    expect_error("ResourceNotFound", sfn.describe_state_machine_alias, stateMachineAliasArn=alias)
    eq(sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"], [], "no aliases")
    # Now version 1 can go.
    sfn.delete_state_machine_version(stateMachineVersionArn=v1)


def test_alias_routing_spreads_a_burst():
    """50/50 routing: 40 executions started in a quick burst reach both versions (the chance
    that a fair coin picks one version 40 times is 2 in 10^12)."""
    arn = create_machine(sfn, publish=True)
    v1 = arn + ":1"
    sfn.update_state_machine(stateMachineArn=arn, definition=definition({"P": {"Type": "Succeed"}}))
    v2 = sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"]
    alias = sfn.create_state_machine_alias(
        name="canary",
        routingConfiguration=[
            {"stateMachineVersionArn": v1, "weight": 50},
            {"stateMachineVersionArn": v2, "weight": 50},
        ],
    )["stateMachineAliasArn"]
    picked = []
    for _ in range(40):
        e = sfn.start_execution(stateMachineArn=alias)
        picked.append(sfn.describe_execution(executionArn=e["executionArn"])["stateMachineVersionArn"])
    counts = {v: picked.count(v) for v in (v1, v2)}
    assert all(counts.values()), f"versions picked by 40 executions at 50/50: {counts}"


def test_activities():
    n = name("act")
    r = sfn.create_activity(name=n)
    arn = r["activityArn"]
    assert arn.endswith(f":activity:{n}"), arn
    eq(sfn.create_activity(name=n)["activityArn"], arn, "idempotent create")
    d = sfn.describe_activity(activityArn=arn)
    eq(d["name"], n, "name")
    eq(d["activityArn"], arn, "arn")
    eq(d["creationDate"], r["creationDate"], "creationDate")
    listed = {a["activityArn"]: a for a in sfn.list_activities()["activities"]}
    assert arn in listed and listed[arn]["name"] == n, listed
    sfn.delete_activity(activityArn=arn)
    expect_error(
        "ActivityDoesNotExist",
        sfn.describe_activity,
        activityArn=arn,
        message=f"Activity Does Not Exist: '{arn}'",
    )
    assert arn not in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    expect_error("InvalidArn", sfn.describe_activity, activityArn="not-an-arn")


def test_tags():
    arn = create_machine(sfn, tags=[{"key": "team", "value": "a"}])
    eq(sfn.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "team", "value": "a"}], "tags at create")
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "prod"}, {"key": "team", "value": "b"}])
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]}
    eq(tags, {"team": "b", "env": "prod"}, "after TagResource")
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    eq(sfn.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "env", "value": "prod"}], "after UntagResource")
    activity = sfn.create_activity(name=name("tagged"), tags=[{"key": "k", "value": "v"}])["activityArn"]
    eq(sfn.list_tags_for_resource(resourceArn=activity)["tags"], [{"key": "k", "value": "v"}], "activity tags")
    missing = prefix_of(arn) + "stateMachine:" + name("missing")
    expect_error(
        "ResourceNotFound",
        sfn.list_tags_for_resource,
        resourceArn=missing,
        message=f"Resource not found: '{missing}'",
    )
    expect_error("ResourceNotFound", sfn.tag_resource, resourceArn=missing, tags=[{"key": "a", "value": "b"}])
    code, _, _ = error_of(
        sfn.tag_resource,
        resourceArn=arn,
        tags=[{"key": f"k{i}", "value": "v"} for i in range(51)],
    )
    eq(code, "TooManyTags", "51 tags")


def test_validate_state_machine_definition():
    ok = sfn.validate_state_machine_definition(definition=PASS_MACHINE, type="STANDARD")
    eq(ok["result"], "OK", "valid definition")
    eq(ok["diagnostics"], [], "no diagnostics")
    bad = sfn.validate_state_machine_definition(
        definition=definition({"P": {"Type": "Pass", "End": True}}, start="Nowhere")
    )
    eq(bad["result"], "FAIL", "invalid definition")
    assert bad["diagnostics"], bad
    diag = bad["diagnostics"][0]
    eq(diag["severity"], "ERROR", "severity")
    assert diag["code"] and diag["message"], diag
    eq(diag.get("location"), "/StartAt", "location")
    express = sfn.create_activity(name=name("va"))["activityArn"]
    r = sfn.validate_state_machine_definition(
        definition=definition({"T": {"Type": "Task", "Resource": express, "End": True}}), type="EXPRESS"
    )
    eq(r["result"], "FAIL", "activity in an Express machine")


def test_describe_state_machine_for_execution():
    arn = create_machine(sfn)
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_done(sfn, e)
    sfn.update_state_machine(stateMachineArn=arn, definition=definition({"Z": {"Type": "Succeed"}}))
    d = sfn.describe_state_machine_for_execution(executionArn=e)
    eq(d["stateMachineArn"], arn, "stateMachineArn")
    eq(d["definition"], PASS_MACHINE, "the definition the execution ran, not the updated one")
    eq(d["roleArn"], ROLE, "roleArn")
    assert isinstance(d["updateDate"], datetime.datetime), d
    missing = e + "-missing"
    expect_error(
        "ExecutionDoesNotExist",
        sfn.describe_state_machine_for_execution,
        executionArn=missing,
        message=f"Execution Does Not Exist: '{missing}'",
    )


if __name__ == "__main__":
    run_tests(globals())
