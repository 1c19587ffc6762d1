"""moto's Lambda answering invokes as a healthy aloft function would (moto runs no code
without Docker): shared by the AWS tests and the plugin tests that deploy to moto, since every
aws deploy health-checks its new versions before an alias moves."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto.awslambda.responses import LambdaResponse
from moto.awslambda_simple.models import LambdaSimpleBackend

Answer = Callable[[dict[str, Any], str | None], tuple[Any, ...]]
"""A stand-in function: (event, qualifier) -> (its result, whether it raised[, its log])."""


class Invocations:
    """What moto's Lambda answers an invoke (it runs no code without Docker): by default what
    a healthy aloft function answers, the keep-warm ping `{"warm": true}` and an HTTP event a
    200; a test sets `answers[physical name]` to make a function answer otherwise. Every
    invocation is recorded (function, qualifier, event)."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.seen: list[tuple[str, str | None, dict[str, Any]]] = []

    def answer(self, function: str, qualifier: str | None, body: Any,
               response_headers: dict[str, str]) -> bytes:
        name = function.split(":")[-1] if function.startswith("arn:") else function
        event = json.loads(body) if body else {}
        self.seen.append((name, qualifier, event))
        answer = self.answers.get(name, healthy)
        result, errored, *log = answer(event, qualifier)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        logs = log[0] if log else "hello from the function\n"
        response_headers["x-amz-log-result"] = base64.b64encode(
            f"START RequestId: x\n{logs}END RequestId: x\n".encode()[-4096:]).decode()
        return json.dumps(result).encode()


def healthy(event: dict[str, Any], qualifier: str | None) -> tuple[Any, ...]:
    if event == {"aloft": "keep_warm"}:
        return {"warm": True}, False
    if "requestContext" in event:
        return {"statusCode": 200, "headers": {"content-type": "text/plain"},
                "body": "ok"}, False
    return event, False


@contextmanager
def answered_invokes(invocations: Invocations, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Patches moto's Lambda so that Invoke answers through `invocations`."""
    asked: list[str | None] = [None]
    respond = LambdaResponse.invoke

    def invoke_request(self: Any) -> Any:
        # moto reads a `qualifier` parameter; the SDKs send `Qualifier`
        asked[0] = (self.querystring.get("Qualifier") or [None])[0]
        return respond(self)

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: dict[str, str]) -> bytes:
        qualifier = qualifier or asked[0]
        self.get_function(function_name, qualifier)  # ResourceNotFound as Lambda says it
        return invocations.answer(function_name, qualifier, body, response_headers)

    monkeypatch.setattr(LambdaResponse, "invoke", invoke_request)
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    yield
