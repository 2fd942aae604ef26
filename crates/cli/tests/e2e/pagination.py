"""Pagination of every List* action and GetExecutionHistory: small maxResults, nextToken
followed to the end by hand and with boto3's paginators, and bad tokens (InvalidToken)."""

import math

from common import (
    client,
    create_machine,
    definition,
    eq,
    expect_error,
    name,
    run_tests,
    wait_done,
)

sfn = client()


def pages(call, key, page_size, **kwargs):
    """Follows nextToken by hand; returns the list of pages (each a list of items)."""
    out, token = [], None
    while True:
        args = dict(kwargs, maxResults=page_size)
        if token:
            args["nextToken"] = token
        r = call(**args)
        out.append(r[key])
        token = r.get("nextToken")
        assert len(out) < 1000, "nextToken never ran out"
        if not token:
            return out


def check_paged(call, key, id_key, page_size, **kwargs):
    """Pages of `page_size` give exactly the items of one big page, in the same order."""
    whole = call(maxResults=1000, **kwargs)
    assert "nextToken" not in whole, "one page of 1000 has everything"
    want = [x[id_key] for x in whole[key]]
    got_pages = pages(call, key, page_size, **kwargs)
    got = [x[id_key] for p in got_pages for x in p]
    eq(got, want, f"{key} paged by {page_size}")
    assert all(len(p) <= page_size for p in got_pages), [len(p) for p in got_pages]
    assert all(len(p) == page_size for p in got_pages[:-1]), [len(p) for p in got_pages]
    eq(len(got_pages), max(1, math.ceil(len(want) / page_size)), f"{key}: number of pages")
    eq(len(set(got)), len(got), f"{key}: no item twice")
    return want


def paginated(op, key, id_key, page_size, **kwargs):
    p = sfn.get_paginator(op)
    got = []
    for page in p.paginate(PaginationConfig={"PageSize": page_size}, **kwargs):
        assert len(page[key]) <= page_size
        got.extend(x[id_key] for x in page[key])
    return got


def test_list_state_machines():
    for _ in range(5):
        create_machine(sfn)
    want = check_paged(sfn.list_state_machines, "stateMachines", "stateMachineArn", 2)
    assert len(want) >= 5, want
    eq(paginated("list_state_machines", "stateMachines", "stateMachineArn", 2), want, "paginator")
    expect_error("InvalidToken", sfn.list_state_machines, nextToken="garbage-token")


def test_list_executions():
    arn = create_machine(sfn)
    arns = [sfn.start_execution(stateMachineArn=arn)["executionArn"] for _ in range(7)]
    for e in arns:
        wait_done(sfn, e)
    want = check_paged(sfn.list_executions, "executions", "executionArn", 3, stateMachineArn=arn)
    eq(sorted(want), sorted(arns), "every execution listed")
    eq(
        paginated("list_executions", "executions", "executionArn", 3, stateMachineArn=arn),
        want,
        "paginator",
    )
    # With a status filter too.
    filtered = check_paged(
        sfn.list_executions, "executions", "executionArn", 2, stateMachineArn=arn, statusFilter="SUCCEEDED"
    )
    eq(filtered, want, "SUCCEEDED filter")
    expect_error("InvalidToken", sfn.list_executions, stateMachineArn=arn, nextToken="garbage-token")
    # A token belongs to the request it came from.
    token = sfn.list_executions(stateMachineArn=arn, maxResults=2)["nextToken"]
    other = create_machine(sfn)
    expect_error("InvalidToken", sfn.list_executions, stateMachineArn=other, nextToken=token)
    expect_error("InvalidToken", sfn.list_state_machines, nextToken=token)


def test_get_execution_history():
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(10)}
    states["S10"] = {"Type": "Pass", "End": True}
    arn = create_machine(sfn, definition(states, start="S0"))
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_done(sfn, e)
    want = check_paged(sfn.get_execution_history, "events", "id", 5, executionArn=e)
    eq(want, list(range(1, 25)), "ids of 24 events")
    rev = check_paged(sfn.get_execution_history, "events", "id", 5, executionArn=e, reverseOrder=True)
    eq(rev, list(range(24, 0, -1)), "reverse ids")
    eq(paginated("get_execution_history", "events", "id", 4, executionArn=e), want, "paginator")
    eq(
        paginated("get_execution_history", "events", "id", 7, executionArn=e, reverseOrder=True),
        rev,
        "paginator, reversed",
    )
    expect_error("InvalidToken", sfn.get_execution_history, executionArn=e, nextToken="garbage-token")
    # A forward token does not continue a reverse listing.
    token = sfn.get_execution_history(executionArn=e, maxResults=3)["nextToken"]
    expect_error(
        "InvalidToken", sfn.get_execution_history, executionArn=e, reverseOrder=True, nextToken=token
    )


def test_list_activities():
    for _ in range(5):
        sfn.create_activity(name=name("page"))
    want = check_paged(sfn.list_activities, "activities", "activityArn", 2)
    assert len(want) >= 5
    eq(paginated("list_activities", "activities", "activityArn", 2), want, "paginator")
    expect_error("InvalidToken", sfn.list_activities, nextToken="garbage-token")


def test_list_state_machine_versions():
    arn = create_machine(sfn, publish=True)
    for i in range(4):
        sfn.update_state_machine(
            stateMachineArn=arn,
            definition=definition({"P": {"Type": "Pass", "Result": i, "End": True}}),
            publish=True,
        )
    want = check_paged(
        sfn.list_state_machine_versions, "stateMachineVersions", "stateMachineVersionArn", 2, stateMachineArn=arn
    )
    eq(want, [f"{arn}:{v}" for v in range(5, 0, -1)], "versions newest first")
    expect_error(
        "InvalidToken", sfn.list_state_machine_versions, stateMachineArn=arn, nextToken="garbage-token"
    )


def test_list_state_machine_aliases():
    arn = create_machine(sfn, publish=True)
    made = []
    for a in ("a1", "a2", "a3"):
        made.append(
            sfn.create_state_machine_alias(
                name=a, routingConfiguration=[{"stateMachineVersionArn": arn + ":1", "weight": 100}]
            )["stateMachineAliasArn"]
        )
    want = check_paged(
        sfn.list_state_machine_aliases, "stateMachineAliases", "stateMachineAliasArn", 2, stateMachineArn=arn
    )
    eq(sorted(want), sorted(made), "every alias listed")
    expect_error(
        "InvalidToken", sfn.list_state_machine_aliases, stateMachineArn=arn, nextToken="garbage-token"
    )


def test_list_map_runs():
    arn = create_machine(sfn)
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_done(sfn, e)
    eq(paginated("list_map_runs", "mapRuns", "mapRunArn", 2, executionArn=e), [], "no map runs")


if __name__ == "__main__":
    run_tests(globals())
