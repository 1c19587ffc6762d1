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
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = (status, headers)
            return chunks.append

        result = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not started:
            raise RuntimeError("the WSGI app returned without calling start_response")
        status, headers = started
        return _new_response(
            HttpResponse,
            (
                int(status[:3]),
                headers if type(headers) is list else list(headers),
                b"" if environ["REQUEST_METHOD"] == "HEAD" else b"".join(chunks),
            ),
        )
