"""Child-process stand-in for the AWS Lambda Python runtime (used by tests/e2e/emulator.py).

Run as ``python3.13 -P -s lambda_runtime.py INVOCATION_JSON RESULT_JSON`` with the function's
code directory as the working directory and on PYTHONPATH. Only the standard library may be
imported here: this file runs under the Lambda runtime's interpreter, not the dev venv.

It mimics what our handlers and Terraform can observe of the real runtime:
- a context object with the attributes Powertools reads and ``get_remaining_time_in_millis``;
- the return value JSON-encoded (a ``datetime`` is a ``Runtime.MarshalError``, as in Lambda);
- an uncaught exception turned into ``{"errorMessage", "errorType", "requestId", "stackTrace"}``;
- the function timeout enforced, answering ``Task timed out after N seconds``.
The result file holds ``{"error": bool, "payload": "<response payload text>",
"handler_seconds": float | null}``: the handler's own time, without the init phase (imports),
like the ``Duration`` of Lambda's REPORT line beside its ``Init Duration``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_write_lock = threading.Lock()
_written = False
_handler_started: float | None = None


class LambdaContext:
    """The attributes of the runtime's context object that handlers and Powertools use."""

    def __init__(self, invocation: dict[str, Any], deadline: float) -> None:
        self.function_name: str = invocation["function_name"]
        self.function_version: str = invocation["function_version"]
        self.invoked_function_arn: str = invocation["invoked_function_arn"]
        self.memory_limit_in_mb: int = int(invocation["memory_limit_in_mb"])
        self.aws_request_id: str = invocation["request_id"]
        self.log_group_name: str = invocation["log_group_name"]
        self.log_stream_name: str = invocation["log_stream_name"]
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _write_result(path: Path, error: bool, payload: str) -> bool:
    """Write the result once: the timeout watchdog and the handler may race to answer."""
    global _written  # noqa: PLW0603 - one flag shared by the watchdog thread and main
    with _write_lock:
        if _written:
            return False
        tmp = path.with_suffix(".tmp")
        handler_seconds = None if _handler_started is None else time.monotonic() - _handler_started
        result = {"error": error, "payload": payload, "handler_seconds": handler_seconds}
        tmp.write_text(json.dumps(result), encoding="utf-8")
        os.replace(tmp, path)
        _written = True
        return True


def _error_payload(
    message: str, error_type: str, request_id: str, stack: list[str] | None = None
) -> str:
    body: dict[str, Any] = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack or [],
    }
    return json.dumps(body)


def _log_error(error_type: str, message: str, stack: list[str]) -> None:
    # The real runtime logs uncaught exceptions to the function's log as well.
    print(f"[ERROR] {error_type}: {message}", flush=True)
    for line in stack:
        print(line.rstrip("\n"), flush=True)


def _load_handler(handler: str, request_id: str) -> tuple[Any, str | None]:
    module_name, _, func_name = handler.rpartition(".")
    if not module_name:
        return None, _error_payload(
            f"Bad handler '{handler}': not enough values to unpack",
            "Runtime.MalformedHandlerName",
            request_id,
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:  # the runtime reports any import failure the same way
        message = f"Unable to import module '{module_name}': {exc}"
        stack = traceback.format_list(traceback.extract_tb(exc.__traceback__))
        _log_error("Runtime.ImportModuleError", message, stack)
        return None, _error_payload(message, "Runtime.ImportModuleError", request_id)
    func = getattr(module, func_name, None)
    if func is None:
        return None, _error_payload(
            f"Handler '{func_name}' missing on module '{module_name}'",
            "Runtime.HandlerNotFound",
            request_id,
        )
    return func, None


def main() -> int:
    invocation_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    invocation: dict[str, Any] = json.loads(invocation_path.read_text(encoding="utf-8"))
    request_id: str = invocation["request_id"]
    timeout = float(invocation["timeout_seconds"])

    func, init_error = _load_handler(invocation["handler"], request_id)
    if init_error is not None:
        _write_result(result_path, True, init_error)
        return 1

    # Like Lambda, the timeout counts from the start of the invocation, not of the init phase.
    global _handler_started  # noqa: PLW0603 - read by _write_result, from either thread
    _handler_started = time.monotonic()
    deadline = _handler_started + timeout

    def on_timeout() -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        message = f"{now} {request_id} Task timed out after {timeout:.2f} seconds"
        print(message, flush=True)
        if _write_result(result_path, True, json.dumps({"errorMessage": message})):
            sys.stdout.flush()
            os._exit(2)  # the handler thread cannot be interrupted otherwise

    watchdog = threading.Timer(timeout, on_timeout)
    watchdog.daemon = True
    watchdog.start()

    context = LambdaContext(invocation, deadline)
    try:
        result = func(invocation["event"], context)
    except Exception as exc:
        # Like Lambda's stackTrace: the function's frames only, not this runner's.
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        stack = traceback.format_list(traceback.extract_tb(tb))
        _log_error(type(exc).__name__, str(exc), stack)
        payload = _error_payload(str(exc), type(exc).__name__, request_id, stack)
        _write_result(result_path, True, payload)
        return 1
    finally:
        watchdog.cancel()

    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as exc:
        message = f"Unable to marshal response: {exc}"
        _log_error("Runtime.MarshalError", message, [])
        _write_result(
            result_path, True, _error_payload(message, "Runtime.MarshalError", request_id)
        )
        return 1
    _write_result(result_path, False, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
