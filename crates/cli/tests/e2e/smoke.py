"""Makes a little state: one state machine (named on the command line) and one execution of it,
run to the end. With --check, only checks that the named machine is listed (after a restart)."""

import sys

from common import PASS_MACHINE, ROLE, client, eq, wait_done

sfn = client()
machine = sys.argv[1]
if "--check" in sys.argv:
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    assert machine in names, f"{machine} not in {names}"
    arn = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == machine][0]
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    eq([x["status"] for x in executions], ["SUCCEEDED"], "the execution before the restart")
    print("state survived the restart")
else:
    arn = sfn.create_state_machine(name=machine, definition=PASS_MACHINE, roleArn=ROLE)["stateMachineArn"]
    e = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    eq(wait_done(sfn, e)["status"], "SUCCEEDED", "status")
    print("made", arn)
