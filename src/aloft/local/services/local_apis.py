"""WSGI in front of moto: the operations the local cloud answers itself, by `X-Amz-Target`
(CloudWatch Logs from the log store, EventBridge's rules and PutEvents from the platform);
everything else is moto's."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any, Protocol

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LocalService(Protocol):
    prefix: str  # of the X-Amz-Target header: `Logs_20140328.`

    def answer(self, operation: str, body: bytes) -> tuple[str, bytes] | None:
        """(status line, JSON body), or None to let moto answer."""
        ...


class LocalApis:
    def __init__(self, app: WsgiApp, services: Iterable[LocalService]):
        self.app = app
        self.services = list(services)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        for service in self.services if target else ():
            if not target.startswith(service.prefix):
                continue
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length > 0 else b""
            answered = service.answer(target[len(service.prefix):], body)
            if answered is None:  # moto's after all: give it the body back
                environ["wsgi.input"] = io.BytesIO(body)
                break
            status, data = answered
            start_response(status, [("Content-Type", "application/x-amz-json-1.1"),
                                    ("Content-Length", str(len(data)))])
            return [data]
        return self.app(environ, start_response)
