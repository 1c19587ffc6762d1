"""Lambda's framing of an invocation's log (pure): the START, END and REPORT lines around what
the function printed, and the platform's own lines (an init error, a timeout, a crash).

The texts are Lambda's, so that what reads CloudWatch Logs (and `aloft tail`) reads these."""

from __future__ import annotations

import json
import math
import os
import time
from datetime import UTC, datetime

from aloft.local.types import FunctionVersion


def log_stream_name(version: int, when: float | None = None) -> str:
    """A new instance's log stream, named as Lambda names them: the day it started, its
    version, 32 random hex digits (`2024/05/01/[3]8c1e...`)."""
    day = time.strftime("%Y/%m/%d", time.gmtime(when))
    return f"{day}/[{version}]{os.urandom(16).hex()}"


def start_line(fv: FunctionVersion, request_id: str, trace_root: str = "") -> str:
    """Lambda's START line; with the invocation's X-Ray trace id after it when it has one."""
    line = f"START RequestId: {request_id} Version: {fv.version}"
    return f"{line} TraceId: {trace_root}" if trace_root else line


def report_text(
    fv: FunctionVersion,
    request_id: str,
    duration: float,
    maxrss_kb: int,
    init_ms: float | None,
    start: str | None,
) -> str:
    """END and REPORT, after the START line when it is still unwritten: one sink entry."""
    # ('%.2f' % x, not {x:.2f}: compiled, a format spec costs a str.format call, 3x slower;
    # this line is written for every request)
    report = (
        f"END RequestId: {request_id}\nREPORT RequestId: {request_id}\t"
        f"Duration: {'%.2f' % duration} ms\tBilled Duration: {max(1, math.ceil(duration))} ms\t"  # noqa: UP031
        f"Memory Size: {fv.memory} MB\tMax Memory Used: {maxrss_kb // 1024} MB"
    )
    if init_ms is not None:
        report += f"\tInit Duration: {'%.2f' % init_ms} ms"  # noqa: UP031
    return report if start is None else f"{start}\n{report}"


def runtime_error_line(error: bytes) -> str:
    """`errorType: errorMessage` of Lambda's error object (or the payload as text)."""
    try:
        data = json.loads(error)
        return f"{data.get('errorType', 'Runtime.Error')}: {data.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        return error.decode(errors="replace")


def timeout_line(request_id: str, timeout: float) -> str:
    return f"{_timestamp()} {request_id} Task timed out after {timeout:.2f} seconds"


def runtime_exit_message(request_id: str, reason: str) -> str:
    """What Lambda says of a runtime process that ended during a request (`reason`: how)."""
    return f"RequestId: {request_id} Error: Runtime exited with error: {reason}"


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
