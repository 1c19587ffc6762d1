"""Lambda's log framing of an invocation, as CloudWatch Logs (and `aloft tail`) read it."""

from __future__ import annotations

import re
from pathlib import Path

from aloft.local.instances.log_framing import (
    report_text,
    runtime_error_line,
    runtime_exit_message,
    start_line,
    timeout_line,
)
from aloft.local.types import FunctionVersion

RID = "8f5c6e1a-3b7d-4c2e-9a10-0123456789ab"


def fv(**changes: object) -> FunctionVersion:
    base: dict[str, object] = {"function": "shop-dev-app", "version": 3, "code_dir": Path("/c"),
                               "layer_dir": Path("/l"), "memory": 256, "timeout": 6,
                               "concurrency": None, "keep_alive": 600}
    return FunctionVersion(**{**base, **changes})  # type: ignore[arg-type]


def test_start_end_report() -> None:
    assert start_line(fv(), RID) == f"START RequestId: {RID} Version: 3"
    warm = report_text(fv(), RID, 12.3456, 40 * 1024, None, None)
    assert warm == (f"END RequestId: {RID}\nREPORT RequestId: {RID}\tDuration: 12.35 ms\t"
                    "Billed Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 40 MB")
    cold = report_text(fv(), RID, 0.2, 0, 81.5, start_line(fv(), RID))
    first, *_, last = cold.splitlines()
    assert first.startswith("START ") and "Billed Duration: 1 ms" in last  # at least 1 ms
    assert last.endswith("\tInit Duration: 81.50 ms")


def test_error_lines() -> None:
    error = b'{"errorMessage": "boom", "errorType": "ValueError"}'
    assert runtime_error_line(error) == "ValueError: boom"
    assert runtime_error_line(b"not json \xff") == "not json \ufffd"
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\dT[\d:.]+Z {RID} Task timed out after 6.00 seconds",
                        timeout_line(RID, 6))
    assert runtime_exit_message(RID, "signal: killed") == (
        f"RequestId: {RID} Error: Runtime exited with error: signal: killed")
