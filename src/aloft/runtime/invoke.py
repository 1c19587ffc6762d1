"""One-shot local invocation: `python -S -m aloft.runtime.invoke < event.json`.

Used by `aloft invoke --local` with PYTHONPATH=<code dir>:<layer dir> and ALOFT_FUNCTION set.
Everything the function prints (stdout, logging) goes to stderr, logging set up as Lambda's
runtime sets it up (aloft.runtime.lambda_logging); the real stdout receives exactly one JSON
document: the return value, or Lambda's error object with exit code 1 (logged as Lambda's
runtime logs it); when the function's code could not even be initialised, the one Lambda's
runtime reports (aloft.runtime.faults) with exit code 3, and nothing in the log: the caller
shows it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from typing import Any, TextIO

from aloft.runtime import lambda_logging


def error_object(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """Lambda's shape for a failed invocation."""
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": lambda_logging.format_frames(list(frames)),
    }


def _take_stdout() -> TextIO:
    """Keep the real stdout for the result; point fd 1 and sys.stdout at stderr."""
    sys.stdout.flush()
    real = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real


INIT_FAILED = 3
"""The exit code when the function's code could not be initialised (`aloft invoke --local`
shows that error itself, with the user's frames at their project paths)."""


def run(raw_event: str) -> tuple[dict[str, Any] | Any, int]:
    """(JSON-ready result, exit code) for one invocation of this instance's function."""
    from aloft.runtime import handler as runtime
    from aloft.runtime.context import LambdaContext

    try:
        event = json.loads(raw_event) if raw_event.strip() else {}
    except ValueError as exc:
        return {"errorMessage": f"Unable to unmarshal input: {exc}",
                "errorType": "Runtime.UnmarshalError", "requestId": "", "stackTrace": []}, 1
    try:
        runtime.init()
    except Exception as exc:
        # Not logged: the caller shows the error object (type, message, the user's frames).
        from aloft.runtime.faults import init_error_object

        return init_error_object(exc), INIT_FAILED
    context = LambdaContext._from_environ()
    lambda_logging.set_request_id(context.aws_request_id)
    os.environ["_X_AMZN_TRACE_ID"] = _trace_id()
    try:
        result = runtime.handler(event, context)
    except Exception as exc:
        return _logged(lambda_logging.error_object(exc, context.aws_request_id,
                                                   skip=__file__)), 1
    try:
        json.dumps(result)
    except (TypeError, ValueError) as exc:
        return _logged({"errorMessage": f"Unable to marshal response: {exc}",
                        "errorType": "Runtime.MarshalError",
                        "requestId": context.aws_request_id, "stackTrace": []}), 1
    return result, 0


def _logged(error: dict[str, Any]) -> dict[str, Any]:
    sys.stdout.write(lambda_logging.error_record(error))
    return error


def _trace_id() -> str:
    raw = os.urandom(20).hex()
    return f"Root=1-{int(time.time()):08x}-{raw[:24]};Parent={raw[24:]};Sampled=0"


def main() -> int:
    real_stdout = _take_stdout()
    lambda_logging.install()
    result, code = run(sys.stdin.read())
    real_stdout.write(json.dumps(result) + "\n")
    real_stdout.flush()
    return code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C at the terminal reaches us too: the CLI says it stopped
        sys.exit(130)
