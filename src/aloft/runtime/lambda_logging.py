"""Logging as Lambda's Python runtime sets it up, for the places that run a function outside
Lambda (the local cloud's instances, `aloft invoke --local`). On Lambda, its own runtime does this
and nothing here runs.

What Lambda's runtime (awslambdaric's bootstrap) does before it imports the handler:

- `logging.Formatter.converter = time.gmtime` (every formatter's times are UTC);
- one handler on the root logger, writing to stdout: the text format
  `[LEVEL]\\t<ISO time>.<ms>Z\\t<request id>\\t<message>`, or with the function's LoggingConfig
  `LogFormat: JSON` (`AWS_LAMBDA_LOG_FORMAT=JSON`) one JSON object per record (timestamp,
  level, message, logger, requestId, and for an exception errorType, errorMessage, stackTrace,
  location; a record's `extra` fields too);
- the root logger's level stays Python's default (WARNING) unless `AWS_LAMBDA_LOG_LEVEL` (the
  ApplicationLogLevel) names one: so `logging.basicConfig(...)` in user code does nothing (the
  root logger has a handler already) unless it passes `force=True`, as on Lambda.

An unhandled error is logged as the runtime logs it (`error_record`). Standard library only, and
Python 3.9 compatible: this module is copied into every artifact.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Mapping
from typing import Any

TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
TEXT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
JSON_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
ENV_FORMAT = "AWS_LAMBDA_LOG_FORMAT"
ENV_LEVEL = "AWS_LAMBDA_LOG_LEVEL"
ERROR_LINE_END = "\r"  # the runtime keeps an error's lines in one log line, joined by CR
ERROR_INDENT = "\u00a0"  # and indents its traceback with no-break spaces

# LogRecord attributes that are not a record's `extra` fields (the JSON format adds those).
_RECORD_FIELDS = frozenset({
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
    "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
    "relativeCreated", "thread", "threadName", "processName", "process", "aws_request_id",
    "tenant_id", "_frame_type",
})
_request_id = ""


def set_request_id(request_id: str) -> None:
    """The request in progress: the request id every record carries until the next one."""
    global _request_id
    _request_id = request_id


def is_json(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return (env.get(ENV_FORMAT) or "").upper() == "JSON"


def log_level(environ: Mapping[str, str] | None = None) -> str:
    """The root logger's level the runtime sets ("" for none): Lambda's TRACE is DEBUG."""
    env = os.environ if environ is None else environ
    value = (env.get(ENV_LEVEL) or "").upper()
    return "DEBUG" if value == "TRACE" else value


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        record.tenant_id = None
        return True


class _StdoutHandler(logging.Handler):
    """Writes each formatted record (which ends with its own newline) to the current stdout."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


def _ensure_ascii() -> bool:
    # The runtime's encoder of error records keeps non-ASCII text as is from python3.12 on
    # (log records always do).
    return os.environ.get("AWS_EXECUTION_ENV", "") not in {
        "AWS_Lambda_python3.12", "AWS_Lambda_python3.13", "AWS_Lambda_python3.14",
        "AWS_Lambda_python3.15"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with the keys and order of Lambda's JSON log format."""

    def __init__(self) -> None:
        super().__init__(datefmt=JSON_DATE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10
        record.levelno, record.levelname = level, logging.getLevelName(level)
        exc = record.exc_info
        message = record.msg if isinstance(record.msg, dict) and not record.args \
            else record.getMessage()
        out: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "message": message,
            "logger": record.name,
            "stackTrace": traceback.format_tb(exc[2]) if exc else None,
            "errorType": exc[0].__name__ if exc and exc[0] else None,
            "errorMessage": str(exc[1]) if exc else None,
            "requestId": getattr(record, "aws_request_id", None),
            "location": f"{record.pathname}:{record.funcName}:{record.lineno}" if exc else None,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in out:
                out[key] = value
        out = {k: v for k, v in out.items() if v is not None}
        return json.dumps(out, ensure_ascii=False, default=str) + "\n"


def install(environ: Mapping[str, str] | None = None) -> logging.Handler:
    """Set up the root logger as Lambda's runtime does (see the module's docstring)."""
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    handler = _StdoutHandler()
    if is_json(environ):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, TEXT_DATE_FORMAT))
    level = log_level(environ)
    if level in logging._nameToLevel:
        root.setLevel(level)
    handler.addFilter(_RequestIdFilter())
    root.addHandler(handler)
    return handler


def _indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return ERROR_INDENT * (len(line) - len(stripped)) + stripped


def error_record(error: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> str:
    """What the runtime writes to the log for an unhandled error (`error`: Lambda's error
    object: errorMessage, errorType, requestId, stackTrace), newline included."""
    if is_json(environ):
        stamp = time.strftime(JSON_DATE_FORMAT, time.gmtime(time.time()))
        record = {"timestamp": stamp, "level": "ERROR", **error}
        return json.dumps(record, ensure_ascii=_ensure_ascii()) + "\n"
    head = "[ERROR]"
    kind, message = error.get("errorType"), error.get("errorMessage")
    if kind:
        head += f" {kind}"
    if message:
        head += f": {message}" if kind else f" {message}"
    lines = [head]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for entry in stack:
            lines.extend([""] if entry == "" else [_indent(x) for x in entry.splitlines()])
    return ERROR_LINE_END.join(lines) + "\n"


def error_object(exc: BaseException, request_id: str, error_type: str | None = None,
                 skip: str | None = None) -> dict[str, Any]:
    """Lambda's error object for an exception raised by the handler; the traceback's leading
    frames from the file `skip` (the runtime's own loop) are left out, as Lambda's runtime
    leaves out its bootstrap's."""
    frames: list[traceback.FrameSummary] = list(traceback.extract_tb(exc.__traceback__))
    if skip is not None:
        for i, frame in enumerate(frames):
            if not frame.filename.endswith(skip):
                frames = frames[i:]
                break
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": format_frames(frames),
    }


def format_frames(frames: list[traceback.FrameSummary]) -> list[str]:
    """`traceback.format_list` entries as Lambda's runtime makes them: from (file, line, name,
    text) tuples, so without Python 3.11's `^^^^` position lines."""
    return traceback.format_list([(f.filename, f.lineno or 0, f.name, f.line) for f in frames])
