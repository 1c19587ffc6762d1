"""Dispatch beyond HTTP: partial batch failures, keep-warm, schedules, aloft's envelopes,
exception handling, function selection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aloft.runtime import handler as runtime
from aloft.runtime.errors import InitError
from tests.unit.runtime.runtime_helpers import ECHO_APP, RECORDER, load_event, user_module

TOOLS = '''
import sys
CALLS = []

def add(a, b, scale=1):
    print("adding", a, b)
    return (a + b) * scale

def fails():
    print("about to fail")
    raise KeyError("missing")

def opaque():
    return object()

def nightly(payload, context):
    CALLS.append((payload, context))
    return {"ran": payload}
'''

HANDLERS = '''
SEEN = []

def on_error(exc, event, context):
    SEEN.append((type(exc).__name__, str(exc), event))

def broken(event, context):
    raise ValueError("handler broke")
'''


def test_sqs_partial_batch_failures(deploy: Any, capsys: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.each"}, records="each")
    result = runtime.handler(load_event("sqs_partial_failure.json"), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}
    assert len(user_module("recorder").CALLS) == 4  # every record was tried
    assert "record refused" in capsys.readouterr().err  # tracebacks are logged


@pytest.mark.parametrize(
    ("name", "path"),
    [("kinesis.json", ("kinesis", "sequenceNumber")),
     ("dynamodb_stream.json", ("dynamodb", "SequenceNumber"))],
)
def test_stream_failures_report_sequence_numbers(
    name: str, path: tuple[str, str], deploy: Any
) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.each"}, records="each")
    event = load_event(name)
    event["Records"][1]["note"] = "fail"
    expected = event["Records"][1][path[0]][path[1]]
    assert runtime.handler(event, None) == {"batchItemFailures": [{"itemIdentifier": expected}]}


def test_sns_record_failure_fails_the_event(deploy: Any, capsys: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.each"}, records="each")
    event = load_event("sns.json")
    event["Records"][0]["Sns"]["Message"] = "fail"
    with pytest.raises(ValueError, match="record refused"):
        runtime.handler(event, None)
    # Not printed here: the runtime logs the exception it raises, and once is enough.
    assert "Traceback" not in capsys.readouterr().err


def test_batch_mode_gets_the_whole_event(deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"worker": "recorder.handle"}, records="batch")
    event = load_event("sqs_partial_failure.json")
    assert runtime.handler(event, None) == {"handled": 1}
    assert user_module("recorder").CALLS[0][0] is event


@pytest.mark.parametrize(
    "event", [{"aloft": "keep_warm"}, load_event("scheduled_keep_warm.json")]
)
def test_keep_warm_does_not_touch_the_app(event: dict[str, Any], deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    assert runtime.handler(event, None) == {"warm": True}
    assert user_module("echo").LAST == {}


def test_scheduled_rule_reaches_the_function(deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"report": "recorder.handle"})
    event = load_event("scheduled_rule.json")
    assert runtime.handler(event, None) == {"handled": 1}
    assert user_module("recorder").CALLS[0][0] is event


def test_schedule_envelope_calls_function_with_input(deploy: Any) -> None:
    deploy({"tools": TOOLS, "recorder": RECORDER}, handlers={"cron": "recorder.handle"})
    context = object()
    envelope = {"aloft": "schedule", "function": "tools.nightly", "input": {"day": 1}}
    assert runtime.handler(envelope, context) == {"ran": {"day": 1}}
    tools_calls = user_module("tools").CALLS
    assert tools_calls == [({"day": 1}, context)]
    # Without `function` it is this function's own handler.
    assert runtime.handler({"aloft": "schedule", "input": [1, 2]}, context) == {"handled": 1}
    recorded = user_module("recorder").CALLS
    assert recorded == [([1, 2], context)]


def test_command_envelope(deploy: Any) -> None:
    deploy({"echo": ECHO_APP, "tools": TOOLS}, app="echo:app")
    result = runtime.handler(
        {"aloft": "command", "function": "tools.add", "args": [2, 3], "kwargs": {"scale": 10}},
        None,
    )
    assert result == {"result": 50, "output": "adding 2 3\n"}
    failed = runtime.handler({"aloft": "command", "function": "tools.fails"}, None)
    assert failed["error"] == "KeyError: 'missing'"
    assert failed["output"].startswith("about to fail\n")
    assert "Traceback" in failed["output"] and "raise KeyError" in failed["output"]
    opaque = runtime.handler({"aloft": "command", "function": "tools.opaque"}, None)
    assert opaque["result"].startswith("<object object")


def test_raw_envelope(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app")
    assert runtime.handler({"aloft": "raw", "source": "x = 6 * 7\nprint(x)"}, None) == {
        "output": "42\n"
    }
    failed = runtime.handler({"aloft": "raw", "source": "print('hi')\n1 / 0"}, None)
    assert failed["error"] == "ZeroDivisionError: division by zero"
    assert failed["output"].startswith("hi\nTraceback")


def test_http_crash_gives_500_and_calls_exception_handler(deploy: Any, capsys: Any) -> None:
    deploy({"echo": ECHO_APP, "hooks": HANDLERS}, app="echo:app",
           exception_handler="hooks.on_error")
    event = load_event("alb_crash_single.json")
    result = runtime.handler(event, None)
    assert result["statusCode"] == 500
    assert result["statusDescription"] == "500 Internal Server Error"
    assert result["headers"] == {"Content-Type": "application/json"}
    assert json.loads(result["body"]) == {"message": "Internal Server Error"}
    [(kind, message, seen_event)] = user_module("hooks").SEEN
    assert (kind, message, seen_event) == ("RuntimeError", "boom from the app", event)
    assert "RuntimeError: boom from the app" in capsys.readouterr().err


def test_debug_adds_the_traceback(deploy: Any) -> None:
    deploy({"echo": ECHO_APP}, app="echo:app", debug=True)
    result = runtime.handler(load_event("v2_gzip.json") | {"rawPath": "/boom"}, None)
    body = json.loads(result["body"])
    assert body["message"] == "Internal Server Error"
    assert "RuntimeError: boom from the app" in body["traceback"]


def test_handler_exception_reaches_handler_and_propagates(deploy: Any, capsys: Any) -> None:
    deploy({"hooks": HANDLERS}, handlers={"fn": "hooks.broken"},
           exception_handler="hooks.on_error")
    with pytest.raises(ValueError, match="handler broke"):
        runtime.handler({"any": "payload"}, None)
    assert user_module("hooks").SEEN == [("ValueError", "handler broke", {"any": "payload"})]
    # The runtime logs what propagates (`[ERROR] ValueError: ...` and the traceback), as
    # Lambda's does: printing it here as well would show the traceback twice.
    assert "Traceback" not in capsys.readouterr().err


def test_direct_payload_and_http_event_reach_a_handler_raw(deploy: Any) -> None:
    deploy({"recorder": RECORDER}, handlers={"fn": "recorder.handle"})
    http_event = load_event("apigw_http_v2_jwt.json")
    assert runtime.handler([1, 2, 3], None) == {"handled": 1}
    assert runtime.handler(http_event, None) == {"handled": 2}
    calls = user_module("recorder").CALLS
    assert calls[0][0] == [1, 2, 3] and calls[1][0] is http_event


def test_function_selection(deploy: Any) -> None:
    modules = {"echo": ECHO_APP, "recorder": RECORDER}
    instance = deploy(modules, app="echo:app", handlers={"worker": "recorder.handle"})
    assert instance.function == "app"
    instance = deploy(modules, app="echo:app", handlers={"worker": "recorder.handle"},
                      function="worker")
    assert instance.function == "worker" and instance.app is None
    with pytest.raises(InitError, match="ALOFT_FUNCTION='nope' is not a function"):
        deploy(modules, app="echo:app", function="nope")
    with pytest.raises(InitError, match="several functions"):
        deploy(modules, handlers={"a": "recorder.handle", "b": "recorder.handle"})


def test_init_errors_are_worded_and_typed_as_lambda_does(deploy: Any) -> None:
    with pytest.raises(InitError, match="Unable to import module 'missing_mod': No module") as e:
        deploy({}, app="missing_mod:app")
    assert e.value.error_type == "Runtime.ImportModuleError"
    with pytest.raises(InitError, match="Handler 'nope' missing on module 'recorder'") as e:
        deploy({"recorder": RECORDER}, handlers={"fn": "recorder.nope"})
    assert e.value.error_type == "Runtime.HandlerNotFound"
    with pytest.raises(InitError, match="App 'application' missing on module 'echo'"):
        deploy({"echo": ECHO_APP}, app="echo:application")
    with pytest.raises(InitError, match=r"Syntax error in module 'bad': .*\(bad.py, line 2\)") as e:
        deploy({"bad": "x = 1\ndef broken(:\n"}, handlers={"fn": "bad.broken"})
    assert e.value.error_type == "Runtime.UserCodeSyntaxError"


def test_an_init_failure_is_raised_as_lambda_names_it() -> None:
    """Lambda's runtime client names an error by its class: a failed import is raised as a
    `Runtime.ImportModuleError`, with the traceback of the import that failed."""
    import traceback

    from aloft.runtime.handler import as_lambda_reports

    try:
        try:
            import module_that_is_not_there  # type: ignore[import-not-found]  # noqa: F401
        except ImportError as cause:
            raise InitError("Unable to import module 'x'", "Runtime.ImportModuleError") \
                from cause
    except InitError as exc:
        reported = as_lambda_reports(exc)
    assert type(reported).__name__ == "Runtime.ImportModuleError"
    assert isinstance(reported, InitError) and str(reported) == "Unable to import module 'x'"
    frames = traceback.extract_tb(reported.__traceback__)
    assert any("module_that_is_not_there" in (f.line or "") for f in frames)
