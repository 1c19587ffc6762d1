"""Lambda's error object for an instance whose init failed, built as Lambda's own Python
runtime builds it: `errorType` says what kind of failure (Runtime.ImportModuleError,
Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError, or the type of what the user's code
raised while it was imported), `errorMessage` says what, `stackTrace` where.

The stack is the one of the exception that started it all (the user's, which a runtime error
wraps as its cause): its frames run through the user's modules. Whoever shows it to a person
keeps the user's frames and maps the paths back to the project (aloft.init_report)."""

from __future__ import annotations

import traceback
from typing import Any

from aloft.runtime.errors import InitError
from aloft.runtime.lambda_logging import format_frames


def init_error_type(exc: BaseException) -> str:
    return exc.error_type if isinstance(exc, InitError) else type(exc).__name__


def init_stack_trace(exc: BaseException) -> list[str]:
    """`traceback.format_list` entries of the root cause, plus where a syntax error is."""
    root = exc
    while root.__cause__ is not None:
        root = root.__cause__
    entries = format_frames(list(traceback.extract_tb(root.__traceback__)))
    if isinstance(root, SyntaxError) and root.filename:
        code = (root.text or "").strip()
        entries.append(f'  File "{root.filename}", line {root.lineno}\n'
                       + (f"    {code}\n" if code else ""))
    return entries


def init_error_object(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": init_error_type(exc),
        "requestId": "",
        "stackTrace": init_stack_trace(exc),
    }


def init_log_text(error: dict[str, Any]) -> str:
    """What Lambda writes to the function's log for a failed init."""
    frames = "".join(error["stackTrace"])
    trace = f"Traceback (most recent call last):\n{frames}" if frames else ""
    return f"[ERROR] {error['errorType']}: {error['errorMessage']}\n{trace}"
