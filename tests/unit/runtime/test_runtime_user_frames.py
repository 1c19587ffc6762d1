"""A failing handler's `stackTrace` (and the traceback logged with it) starts at the handler's
own frame, as Lambda's runtime shows the error of a handler it calls itself: aloft's entry point
and dispatch, between the two, are left out (aloft.runtime.user_frames). Lambda's own runtime
client (awslambdaric) calls aloft's entry point here, as on AWS; an error raised by aloft's own
code keeps its frames."""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

from awslambdaric import bootstrap
from awslambdaric.lambda_runtime_marshaller import LambdaMarshaller

from aloft.runtime import handler as runtime
from aloft.runtime import user_frames
from aloft.runtime.context import LambdaContext
from aloft.runtime.errors import UnsupportedEvent
from tests.unit.runtime.runtime_helpers import (
    ECHO_APP,
    LAMBDA_FUNCTION,
    ORDER_ERROR,
    ORDER_EVENT,
    handler_frame,
    load_event,
    user_module,
)

HOOKS = '''
SEEN = []

def on_error(exc, event, context):
    SEEN.append((exc, event))
'''


class _RuntimeApi:
    """What awslambdaric posts an invocation's answer to."""

    marshaller = LambdaMarshaller()

    def __init__(self) -> None:
        self.error: dict[str, Any] | None = None

    def post_invocation_error(self, invoke_id: str, error: str, xray_fault: str,
                              invocation_id: str | None = None) -> None:
        self.error = json.loads(error)

    def post_invocation_result(self, invoke_id: str, result: Any, content_type: str,
                               invocation_id: str | None = None) -> None:
        self.error = None


class _Sink:
    def __init__(self) -> None:
        self.errors: list[list[str]] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        pass

    def log_error(self, message_lines: list[str]) -> None:
        self.errors.append(message_lines)


def on_lambda(event: Any) -> tuple[dict[str, Any], list[str]]:
    """Lambda's runtime client invoking aloft's entry point with `event`, which fails: its error
    object and the lines of the error it logs."""
    api, sink = _RuntimeApi(), _Sink()
    bootstrap.handle_event_request(
        api, runtime.handler, "req-1", json.dumps(event).encode(), "application/json", None,
        None, "arn:aws:lambda:us-east-1:123456789012:function:f", 2**42, None, sink)
    assert api.error is not None, "the invocation did not fail"
    [logged] = sink.errors
    return api.error, logged


def _fail() -> None:
    raise ValueError("noted, then caught")


def test_the_trace_starts_at_the_handlers_own_frame(deploy: Any) -> None:
    deploy({"lambda_function": LAMBDA_FUNCTION},
           handlers={"orders": "lambda_function.lambda_handler"})
    file = user_module("lambda_function").__file__
    error, logged = on_lambda(ORDER_EVENT)
    assert (error["errorType"], error["errorMessage"]) == ORDER_ERROR
    trace = error["stackTrace"]
    assert trace[0] == handler_frame(file)
    assert len(trace) == 2 and f'File "{file}", line ' in trace[1]  # parse_order's raise
    # The log record: `[ERROR] Type: message`, then the same frames, the handler's first.
    assert logged[:3] == [f"[ERROR] {ORDER_ERROR[0]}: {ORDER_ERROR[1]}",
                          "Traceback (most recent call last):",
                          handler_frame(file).splitlines()[0].replace(" ", "\u00a0", 2)]
    assert not any("aloft" in line for line in logged)


def test_the_exception_handler_still_sees_every_exception(deploy: Any) -> None:
    deploy({"lambda_function": LAMBDA_FUNCTION, "hooks": HOOKS},
           handlers={"orders": "lambda_function.lambda_handler"},
           exception_handler="hooks.on_error")
    error, _ = on_lambda(ORDER_EVENT)
    [(exc, event)] = user_module("hooks").SEEN
    assert (type(exc).__name__, str(exc)) == ORDER_ERROR and event == ORDER_EVENT
    assert error["stackTrace"][0] == handler_frame(user_module("lambda_function").__file__)


def test_a_failing_record_a_schedule_and_a_task_start_at_the_users_frame(deploy: Any) -> None:
    """SNS has no partial-batch answer: the first record's error fails the event. A schedule
    envelope calls the function's handler with its input; a task envelope the task's body."""
    deploy({"lambda_function": LAMBDA_FUNCTION},
           handlers={"orders": "lambda_function.lambda_handler"}, records="each")
    file = user_module("lambda_function").__file__
    record_error, _ = on_lambda(load_event("sns.json"))
    assert record_error["errorType"] == "KeyError"  # an SNS record has no "body"
    assert record_error["stackTrace"] == [handler_frame(file)]
    scheduled, _ = on_lambda({"aloft": "schedule", "input": ORDER_EVENT})
    assert (scheduled["errorType"], scheduled["errorMessage"]) == ORDER_ERROR
    assert scheduled["stackTrace"][0] == handler_frame(file)
    task, _ = on_lambda({"aloft": "task", "function": "lambda_function.parse_order",
                         "args": [ORDER_EVENT["body"]]})
    assert (task["errorType"], task["errorMessage"]) == ORDER_ERROR
    [raised] = task["stackTrace"]
    assert raised.startswith(f'  File "{file}", line ') and ", in parse_order\n" in raised


def test_aloft_own_errors_keep_their_frames(deploy: Any) -> None:
    """An error raised by aloft's code, not the user's, shows where it came from: from the
    entry point to the raise (an app function cannot serve an SQS batch)."""
    deploy({"echo": ECHO_APP}, app="echo:app")
    error, _ = on_lambda(load_event("sqs.json"))
    assert error["errorType"] == "UnsupportedEvent"
    runtime_file = runtime.__file__
    assert error["stackTrace"][0].startswith(f'  File "{runtime_file}", line ')
    assert ", in handler\n" in error["stackTrace"][0]
    assert ", in _require_func\n" in error["stackTrace"][-1]


def test_a_note_trims_only_its_own_exception() -> None:
    """A noted exception that never reached an entry point (the user's code caught it) does
    not trim the next one, which aloft raised; a note is taken once."""
    try:
        _fail()
    except ValueError as exc:
        caught = exc
    user_frames.note(caught)
    try:
        raise UnsupportedEvent("raised by aloft")
    except UnsupportedEvent as exc:
        assert not user_frames.trim(exc)
        assert exc.__traceback__ is not None and exc.__traceback__.tb_next is None
    assert not user_frames.trim(caught)  # the note went with that trim
    user_frames.note(caught)
    assert user_frames.trim(caught)
    assert [f.name for f in traceback.extract_tb(caught.__traceback__)] == ["_fail"]
    assert user_frames.trim(caught) is False


def test_the_local_clouds_http_entry_point(deploy: Any) -> None:
    """The local cloud sends an HTTP API request for a function with a handler through
    `Instance.handle_http`: the same trace as through `handler`."""
    instance = deploy({"lambda_function": LAMBDA_FUNCTION},
                      handlers={"orders": "lambda_function.lambda_handler"})
    event = load_event("v2_empty_post.json") | {"body": ORDER_EVENT["body"]}
    context = LambdaContext._from_environ()
    try:
        instance.handle_http(event, context)
    except ValueError as exc:
        frames = traceback.format_list(
            [(f.filename, f.lineno or 0, f.name, f.line)
             for f in traceback.extract_tb(exc.__traceback__)])
    else:
        raise AssertionError("the handler did not fail")
    assert frames[0].startswith(f'  File "{__file__}"')  # this test's frame, then the user's
    assert frames[1] == handler_frame(str(Path(user_module("lambda_function").__file__)))
