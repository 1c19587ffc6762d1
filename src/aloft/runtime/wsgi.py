"""The WSGI bridge: an `HttpRequest` becomes a PEP 3333 environ, the app's answer an
`HttpResponse`. Per-instance constants are built once; per request it is one dict copy."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from io import BytesIO
from typing import Any

from aloft.runtime.http import HttpRequest, HttpResponse, remote_user

WsgiCallable = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_SPECIAL = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_KEY_CACHE_LIMIT = 1024


def _latin1(text: str) -> str:
    """PEP 3333 'bytes as str': UTF-8 bytes of the decoded path, one char per byte."""
    return text.encode("utf-8").decode("latin-1")


class WsgiApp:
    """Serves `HttpRequest`s with a WSGI callable."""

    __slots__ = ("_base", "_keys", "app")

    def __init__(self, app: WsgiCallable) -> None:
        self.app = app
        self._keys: dict[str, str] = dict(_SPECIAL)  # header name -> environ key, memoised
        self._base: dict[str, Any] = {
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }

    def _key(self, name: str) -> str:
        key = "HTTP_" + name.upper().replace("-", "_")
        if len(self._keys) < _KEY_CACHE_LIMIT:
            self._keys[name] = key
        return key

    def environ(self, request: HttpRequest, event: Any, context: Any) -> dict[str, Any]:
        environ = self._base.copy()
        keys = self._keys
        for name, value in request.headers.items():
            environ[keys.get(name) or self._key(name)] = value
        body = request.body
        environ["REQUEST_METHOD"] = request.method
        script, path = request.script_name, request.path
        environ["SCRIPT_NAME"] = script if script.isascii() else _latin1(script)
        environ["PATH_INFO"] = path if path.isascii() else _latin1(path)
        environ["QUERY_STRING"] = request.query_string
        environ["SERVER_NAME"] = request.host
        environ["SERVER_PORT"] = request.port
        environ["REMOTE_ADDR"] = request.remote_addr
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.url_scheme"] = request.scheme
        environ["wsgi.input"] = BytesIO(body)
        environ["aloft.event"] = event
        environ["aloft.context"] = context
        authorizer = request.authorizer
        if authorizer:
            environ["aloft.authorizer"] = authorizer
            environ["API_GATEWAY_AUTHORIZER"] = authorizer  # the key Zappa apps read
            user = remote_user(authorizer)
            if user:
                environ["REMOTE_USER"] = user
        return environ

    def serve(self, request: HttpRequest, event: Any, context: Any) -> HttpResponse:
        chunks: list[bytes] = []
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = (status, headers)
            return chunks.append

        result = self.app(self.environ(request, event, context), start_response)
        try:
            for chunk in result:
                if chunk:
                    chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        body = b"" if request.method == "HEAD" else b"".join(chunks)
        headers = started[1]
        return HttpResponse(
            int(started[0][:3]), headers if type(headers) is list else list(headers), body
        )
