"""aloft.runtime.lambda_logging formats exactly as Lambda's own runtime (awslambdaric) does:
the root logger's text and JSON records, the level, and the record of an unhandled error."""

from __future__ import annotations

import calendar
import importlib
import io
import json
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from awslambdaric import bootstrap
from awslambdaric import lambda_runtime_log_utils as ric_log

from aloft.runtime import lambda_logging


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, put back as it was afterwards (install() changes it globally)."""
    logger = logging.getLogger()
    handlers, level, converter = list(logger.handlers), logger.level, logging.Formatter.converter
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logging.Formatter.converter = converter  # type: ignore[method-assign]
    lambda_logging.set_request_id("")


class _Sink:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        self.lines.append(msg)

    def log_error(self, message_lines: list[str]) -> None:
        self.lines.append("\r".join(message_lines) + "\n")


def _record(msg: Any, *args: Any, exc: bool = False, **extra: Any) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise KeyError("missing")
        except KeyError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("shop.orders", logging.INFO, "/var/task/orders.py", 12, msg,
                               args, exc_info, func="handle")
    record.__dict__.update(extra)
    record.aws_request_id = "req-1"
    record.tenant_id = None
    return record


@pytest.mark.parametrize("record", [
    _record("plain %s", "text"),
    _record({"order": 7, "total": 1.5}),
    _record("with extra", order_id="o-1", nested={"a": [1, 2]}),
    _record("failed: %d", 3, exc=True),
    _record("non-ascii: é ü"),
])
def test_json_records_are_lambdas(record: logging.LogRecord) -> None:
    ours = lambda_logging.JsonFormatter().format(logging.makeLogRecord(record.__dict__))
    theirs = ric_log.JsonFormatter().format(logging.makeLogRecord(record.__dict__))
    assert json.loads(ours) == json.loads(theirs)
    assert ours == theirs  # byte for byte: key order, separators, ensure_ascii


def test_text_format_and_level_are_lambdas(root: logging.Logger,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    root.handlers.clear()
    root.setLevel(logging.WARNING)
    lambda_logging.install({})
    assert root.level == logging.WARNING  # Python's default: Lambda sets none without a level
    lambda_logging.set_request_id("8f5c3a0e-0000-4000-8000-000000000001")
    logging.getLogger("app").info("not shown")
    logging.basicConfig(level=logging.INFO)  # a no-op, as on Lambda: the root has a handler
    logging.getLogger("app").warning("careful: %s", "hot")
    line = out.getvalue()
    assert "not shown" not in line
    level, stamp, rid, message = line.rstrip("\n").split("\t")
    assert (level, rid, message) == ("[WARNING]", "8f5c3a0e-0000-4000-8000-000000000001",
                                     "careful: hot")
    parsed = time.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")  # ISO time, milliseconds, UTC
    assert abs(calendar.timegm(parsed) - time.time()) < 60
    assert len(stamp) == len("2026-01-01T00:00:00.000Z")

    # Lambda's runtime, set up on a fresh root logger, writes the same line for the same record.
    sink = _Sink()
    root.handlers.clear()
    bootstrap._setup_logging(ric_log.LogFormat.TEXT, "", sink)
    bootstrap._GLOBAL_AWS_REQUEST_ID = "8f5c3a0e-0000-4000-8000-000000000001"
    try:
        record = logging.LogRecord("app", logging.WARNING, __file__, 1, "careful: %s",
                                   ("hot",), None)
        root.handle(record)
        ours = lambda_logging._StdoutHandler()
        ours.setFormatter(logging.Formatter(lambda_logging.TEXT_FORMAT,
                                            lambda_logging.TEXT_DATE_FORMAT))
        ours.addFilter(lambda_logging._RequestIdFilter())
        lambda_logging.set_request_id("8f5c3a0e-0000-4000-8000-000000000001")
        mine = io.StringIO()
        monkeypatch.setattr(sys, "stdout", mine)
        ours.handle(logging.makeLogRecord(record.__dict__))
        assert mine.getvalue() == sink.lines[0]
    finally:
        bootstrap._GLOBAL_AWS_REQUEST_ID = None


@pytest.mark.parametrize(("env", "level"), [({"AWS_LAMBDA_LOG_LEVEL": "TRACE"}, logging.DEBUG),
                                            ({"AWS_LAMBDA_LOG_LEVEL": "info"}, logging.INFO),
                                            ({"AWS_LAMBDA_LOG_LEVEL": "WARN"}, logging.WARNING),
                                            ({"AWS_LAMBDA_LOG_LEVEL": "FATAL"}, logging.CRITICAL)])
def test_application_log_level(root: logging.Logger, env: dict[str, str], level: int) -> None:
    root.handlers.clear()
    lambda_logging.install({"AWS_LAMBDA_LOG_FORMAT": "JSON", **env})
    assert root.level == level
    assert isinstance(root.handlers[-1].formatter, lambda_logging.JsonFormatter)


def _raise() -> None:
    raise ValueError("bad order\nsecond line")


def _error() -> dict[str, Any]:
    try:
        _raise()
    except ValueError as exc:
        return lambda_logging.error_object(exc, "req-9")
    raise AssertionError("unreachable")


def test_error_record_text_is_lambdas() -> None:
    error = _error()
    sink = _Sink()
    bootstrap.log_error(error, sink)  # the module as imported: the text format
    assert lambda_logging.error_record(error, {}) == sink.lines[0]
    assert sink.lines[0].startswith("[ERROR] ValueError: bad order\nsecond line\rTraceback")
    assert "\u00a0\u00a0File" in sink.lines[0]


def test_error_record_json_is_lambdas(monkeypatch: pytest.MonkeyPatch) -> None:
    error = _error()
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", "JSON")
    monkeypatch.setenv("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12")
    json_bootstrap = importlib.reload(bootstrap)  # the runtime picks its format at import
    try:
        sink = _Sink()
        json_bootstrap.log_error(error, sink)
        theirs = json.loads(sink.lines[0].rstrip("\r\n"))
        ours = json.loads(lambda_logging.error_record(error))
        assert {k: v for k, v in ours.items() if k != "timestamp"} == \
            {k: v for k, v in theirs.items() if k != "timestamp"}
        assert list(ours) == list(theirs)
    finally:
        monkeypatch.delenv("AWS_LAMBDA_LOG_FORMAT")
        importlib.reload(bootstrap)


def test_error_object_leaves_the_runtime_loop_out() -> None:
    def loop() -> dict[str, Any]:
        try:
            _raise()
        except ValueError as exc:
            return lambda_logging.error_object(exc, "r", skip=__file__)
        raise AssertionError("unreachable")

    every_frame_here = loop()["stackTrace"]
    assert every_frame_here and all(__file__ in frame for frame in every_frame_here)
    error = _error()
    assert error["errorType"] == "ValueError" and error["requestId"] == "req-9"
    assert error["stackTrace"][-1].strip().endswith('raise ValueError("bad order\\nsecond line")')
