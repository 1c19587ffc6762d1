"""The WSGI bridge: the environ an event source built goes to the app as is; the app's answer
becomes an `HttpResponse`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from aloft.runtime.http import Environ, HttpResponse

WsgiCallable = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_new_response = tuple.__new__  # the NamedTuple without its Python-level __new__ (hot path)


class WsgiApp:
    """Serves requests with a WSGI callable."""

    __slots__ = ("app",)

    def __init__(self, app: WsgiCallable) -> None:
        self.app = app

    def start(self) -> None:
        pass  # WSGI has no startup protocol

    def close(self) -> None:
        pass

    def serve(self, environ: Environ) -> HttpResponse:
        chunks: list[bytes] = []
        status: str | None = None
        headers: list[tuple[str, str]] = []

        def start_response(
            new_status: str, new_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            nonlocal status, headers
            if exc_info is not None and status is not None:
                raise exc_info[1].with_traceback(exc_info[2])
            status, headers = new_status, new_headers
            return chunks.append

        result = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if status is None:
            raise RuntimeError("the WSGI app returned without calling start_response")
        return _new_response(
            HttpResponse,
            (
                int(status[:3]),
                headers if type(headers) is list else list(headers),
                b"" if environ["REQUEST_METHOD"] == "HEAD" else b"".join(chunks),
            ),
        )
