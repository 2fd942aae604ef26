"""Creates an activity and long-polls GetActivityTask on it (for the SIGTERM test): prints
"polling" first, then what the poll came back with."""

import sys

from common import client

sfn = client()
activity = sfn.create_activity(name="long-poll")["activityArn"]
print("polling", flush=True)
try:
    task = sfn.get_activity_task(activityArn=activity)
    print("poll answered:", {k: v for k, v in task.items() if k != "ResponseMetadata"}, flush=True)
except Exception as e:  # noqa: BLE001 - the server going away is an acceptable end
    print("poll ended:", repr(e), flush=True)
sys.exit(0)
