"""Runs a Python Lambda handler as a Stepwise local command, answering as AWS's Python runtime.

    command = ["python3", "runner.py", "TASK_ROOT", "module.function"]

The event is read from stdin as JSON. The handler's result is written to stdout as JSON (bytes
are written as they are, as the runtime does); a raised exception is written as the runtime
reports it, {"errorMessage", "errorType", "requestId", "stackTrace"}, with exit status 1.
Whatever the handler prints goes to stderr (the function's log), as on Lambda. Files under
TASK_ROOT appear in stack traces under /var/task, where Lambda puts a function's code.
"""

import importlib
import json
import os
import sys
import time
import traceback

TASK_ROOT_ON_LAMBDA = "/var/task"


class Context:
    """The handler's context object, from what Stepwise passes in the environment."""

    def __init__(self):
        env = os.environ
        self.aws_request_id = env.get("AWS_LAMBDA_REQUEST_ID", "")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = env.get("AWS_LAMBDA_INVOKED_FUNCTION_ARN", "")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = ""
        self.identity = None
        client_context = env.get("AWS_LAMBDA_CLIENT_CONTEXT")
        self.client_context = json.loads(client_context) if client_context else None
        self._deadline_ms = int(env.get("AWS_LAMBDA_DEADLINE_MS", "0") or 0)

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def error(message, error_type, request_id, stack_trace):
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def stack_trace(tb, task_root):
    """The frames from the handler on, as (file, line, function, text) as the runtime lists them."""
    frames = []
    for frame in traceback.extract_tb(tb):
        filename = frame.filename
        if not frames and os.path.abspath(filename) == os.path.abspath(__file__):
            continue  # the runner's own frames, as the runtime drops its bootstrap's
        if filename.startswith(task_root + os.sep):
            filename = TASK_ROOT_ON_LAMBDA + filename[len(task_root):]
        frames.append((filename, frame.lineno, frame.name, frame.line))
    return traceback.format_list(frames)


def main():
    task_root = os.path.abspath(sys.argv[1])
    module_name, _, function_name = sys.argv[2].rpartition(".")
    # The handler's prints are its log; stdout is kept for the answer.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    context = Context()
    request_id = context.aws_request_id

    def fail(body):
        answer.write(json.dumps(body).encode())
        answer.flush()
        sys.exit(1)

    sys.path.insert(0, task_root)
    try:
        module = importlib.import_module(module_name)
    except Exception as e:  # noqa: BLE001 - every import failure is the function's
        fail(error(f"Unable to import module '{module_name}': {e}", "Runtime.ImportModuleError", request_id, []))
    handler = getattr(module, function_name, None)
    if handler is None:
        fail(error(f"Handler '{function_name}' missing on module '{module_name}'", "Runtime.HandlerNotFound", request_id, []))

    raw = sys.stdin.buffer.read()
    event = json.loads(raw) if raw.strip() else {}
    try:
        result = handler(event, context)
    except Exception as e:  # noqa: BLE001 - the function's error, reported as Lambda reports it
        fail(error(str(e), type(e).__name__, request_id, stack_trace(e.__traceback__, task_root)))

    if isinstance(result, (bytes, bytearray)):
        body = bytes(result)
    else:
        try:
            body = json.dumps(result, ensure_ascii=False).encode()
        except (TypeError, ValueError) as e:
            fail(error(f"Unable to marshal response: {e}", "Runtime.MarshalError", request_id, []))
    answer.write(body)
    answer.flush()


if __name__ == "__main__":
    main()
