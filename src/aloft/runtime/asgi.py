"""The ASGI bridge: one event loop per instance, lifespan started once per instance, and the HTTP
cycle of one request run to completion on that loop.

A request's cycle is one task. The bridge runs the loop's ready callbacks itself, as the loop's
own pass would, until the task is done: an app that does not wait on I/O (most requests) costs
no `run_forever` (about 6 µs: its setup and teardown, a selector poll, a second pass for the
task's done callback); one that waits is finished by `run_until_complete`. The "disconnect" a
second `receive()` waits for is a future made only when an app asks for it.

Lifespan is "auto": an app that does not speak lifespan (raises on the lifespan scope, or returns
without answering) is served anyway, as uvicorn and mangum do.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import traceback
from asyncio import events
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from aloft.runtime.errors import InitError
from aloft.runtime.http import (
    _HEADER_KEYS,
    Environ,
    HttpResponse,
    Request,
    _latin1,
    addresses,
    header_key,
)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiCallable = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

_ASGI = {"version": "3.0", "spec_version": "2.3"}
SHUTDOWN_TIMEOUT_S = 5.0
_NAMES_LIMIT = 2048
_UNSEEN = b"\0"  # not a key of _HEADER_NAMES (compared by identity)
_HEADER_NAMES: dict[str, bytes | None] = {}
"""Environ key -> the ASGI header name it carries (None: not a header), memoised: the keys
repeat from request to request."""


def _header_name(key: str) -> bytes | None:
    """`HTTP_X_FORWARDED_FOR` -> b"x-forwarded-for"; CONTENT_TYPE/-LENGTH too; else None."""
    if key.startswith("HTTP_"):
        name: bytes | None = key[5:].replace("_", "-").lower().encode("latin-1")
    elif key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
        name = key.replace("_", "-").lower().encode("latin-1")
    else:
        name = None
    if len(_HEADER_NAMES) < _NAMES_LIMIT:
        _HEADER_NAMES[key] = name
    return name



def _asgi_headers(environ: Mapping[str, Any]) -> list[tuple[bytes, bytes]]:
    """An environ's headers (HTTP_*, CONTENT_TYPE, a non-zero CONTENT_LENGTH) as ASGI's pairs,
    in the environ's order."""
    pairs: list[tuple[bytes, bytes]] = []
    names = _HEADER_NAMES
    for key, value in environ.items():
        name = names.get(key, _UNSEEN)
        if name is _UNSEEN:
            name = _header_name(key)
        if name is None or (name == b"content-length" and value == "0"):
            continue
        pairs.append((name, str(value).encode("latin-1", "replace")))
    return pairs


class AsgiApp:
    """Serves `HttpRequest`s with an ASGI 3 callable on the instance's own event loop."""

    def __init__(self, app: AsgiCallable) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.state: dict[str, Any] = {}  # lifespan state, shared (shallow copy) with requests
        self.lifespan_supported = False
        self._lifespan_inbox: asyncio.Queue[Message] | None = None
        self._lifespan_task: asyncio.Task[None] | None = None
        self._shutdown_done: asyncio.Future[None] | None = None
        self._started = False

    # ------------------------------------------------------------------ lifespan

    def start(self) -> None:
        """Run lifespan startup once; later calls do nothing."""
        if self._started:
            return
        self._started = True
        self.lifespan_supported = self.loop.run_until_complete(self._startup())

    async def _startup(self) -> bool:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        started: asyncio.Future[bool] = loop.create_future()
        shutdown: asyncio.Future[None] = loop.create_future()
        self._lifespan_inbox, self._shutdown_done = inbox, shutdown

        async def send(message: Message) -> None:
            kind = str(message.get("type", ""))
            if kind == "lifespan.startup.complete" and not started.done():
                started.set_result(True)
            elif kind == "lifespan.startup.failed" and not started.done():
                started.set_exception(
                    InitError(f"the ASGI app's lifespan startup failed: {message.get('message')}")
                )
            elif kind.startswith("lifespan.shutdown.") and not shutdown.done():
                shutdown.set_result(None)

        async def main() -> None:
            scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
            try:
                await self.app(scope, inbox.get, send)
            except BaseException:
                if started.done():  # a failure after startup: show it, keep serving
                    traceback.print_exc(file=sys.stderr)
            finally:
                if not started.done():
                    started.set_result(False)  # no lifespan support: fine in auto mode
                if not shutdown.done():
                    shutdown.set_result(None)

        self._lifespan_task = loop.create_task(main())
        await inbox.put({"type": "lifespan.startup"})
        return await started

    def shutdown(self) -> None:
        """Lifespan shutdown, best effort (an instance has no goodbye on AWS)."""
        if not self.lifespan_supported or self._lifespan_inbox is None or self.loop.is_closed():
            return
        inbox, done = self._lifespan_inbox, self._shutdown_done
        assert done is not None

        async def stop() -> None:
            await inbox.put({"type": "lifespan.shutdown"})
            await asyncio.wait_for(asyncio.shield(done), SHUTDOWN_TIMEOUT_S)

        with contextlib.suppress(TimeoutError, RuntimeError):
            self.loop.run_until_complete(stop())
        self.lifespan_supported = False

    def close(self) -> None:
        """Shut the lifespan down and release the loop (the instance is going away)."""
        self.shutdown()
        if not self.loop.is_closed():
            self.loop.close()
        with contextlib.suppress(RuntimeError):
            if asyncio.get_event_loop_policy().get_event_loop() is self.loop:
                asyncio.set_event_loop(None)  # as asyncio.run() leaves it

    # ------------------------------------------------------------------ HTTP

    def scope(self, environ: Environ) -> dict[str, Any]:
        """The ASGI scope of the request an event source built as a WSGI environ."""
        headers = _asgi_headers(environ)
        # ASGI's `path` includes `root_path` (the mount point), unlike WSGI's PATH_INFO; both
        # are text, where the environ holds UTF-8 bytes as latin-1 characters.
        raw_path = (environ["SCRIPT_NAME"] + environ["PATH_INFO"]).encode("latin-1")
        port = environ["SERVER_PORT"]
        return {
            "type": "http",
            "asgi": _ASGI,
            "http_version": "1.1",
            "method": environ["REQUEST_METHOD"],
            "scheme": environ["wsgi.url_scheme"],
            "root_path": environ["SCRIPT_NAME"].encode("latin-1").decode("utf-8", "replace"),
            "path": raw_path.decode("utf-8", "replace"),
            "raw_path": raw_path,
            "query_string": environ["QUERY_STRING"].encode("latin-1", "replace"),
            "headers": headers,
            "server": (environ["SERVER_NAME"], int(port) if port.isdigit() else 443),
            "client": (environ["REMOTE_ADDR"], 0),
            "state": dict(self.state),
            "aws.event": environ["aloft.event"],
            "aws.context": environ["aloft.context"],
        }

    def request_scope(self, request: Request, cookie: str | None = None) -> dict[str, Any]:
        """`scope(build_environ(request))` (with `cookie` as the environ's HTTP_COOKIE), made
        without the environ: the same headers in the same order, path, server and client."""
        (method, script, path, query, headers, body, source_ip, domain, event, context,
         _authorizer) = request
        keyed: dict[str, Any] = {}  # the environ's header keys, in its order
        keys = _HEADER_KEYS
        for name, value in headers.items():
            keyed[keys.get(name) or header_key(name)] = value
        scheme, host, port, remote = addresses(keyed, domain, source_ip)
        keyed["CONTENT_LENGTH"] = str(len(body)) if body else "0"
        if cookie is not None:
            keyed["HTTP_COOKIE"] = cookie
        script = script if script.isascii() else _latin1(script)
        raw_path = (script + (path if path.isascii() else _latin1(path))).encode("latin-1")
        return {
            "type": "http",
            "asgi": _ASGI,
            "http_version": "1.1",
            "method": method,
            "scheme": scheme,
            "root_path": script.encode("latin-1").decode("utf-8", "replace"),
            "path": raw_path.decode("utf-8", "replace"),
            "raw_path": raw_path,
            "query_string": query.encode("latin-1", "replace"),
            "headers": _asgi_headers(keyed),
            "server": (host, int(port) if port.isdigit() else 443),
            "client": (remote, 0),
            "state": dict(self.state),
            "aws.event": event,
            "aws.context": context,
        }

    def serve_request(self, request: Request, cookie: str | None = None) -> HttpResponse:
        """`serve(build_environ(request))`, without the environ (see request_scope)."""
        return self._serve(self.request_scope(request, cookie), request.body, request.method)

    def serve(self, environ: Environ) -> HttpResponse:
        return self._serve(self.scope(environ), environ["wsgi.input"].getvalue(),
                           environ["REQUEST_METHOD"])

    def _serve(self, scope: dict[str, Any], body: bytes, method: str) -> HttpResponse:
        if not self._started:
            self.start()
        loop = self.loop
        task = loop.create_task(self._cycle(scope, body, method))
        ready: Any = getattr(loop, "_ready", None)  # BaseEventLoop's queue of ready callbacks
        if ready is not None and not loop.is_running():
            # What run_forever does around its passes (the running loop, the thread it runs
            # in, async generators' hooks), with the ready callbacks run here, in order.
            hooks = sys.get_asyncgen_hooks()
            sys.set_asyncgen_hooks(firstiter=loop._asyncgen_firstiter_hook,  # type: ignore
                                   finalizer=loop._asyncgen_finalizer_hook)  # type: ignore
            loop._thread_id = threading.get_ident()  # type: ignore[attr-defined]
            events._set_running_loop(loop)
            try:
                while ready and not task.done():
                    handle = ready.popleft()
                    if not handle._cancelled:
                        handle._run()
            finally:
                events._set_running_loop(None)
                loop._thread_id = None  # type: ignore[attr-defined]
                sys.set_asyncgen_hooks(*hooks)
        if not task.done():  # it waits on I/O or a timer
            try:
                loop.run_until_complete(task)
            finally:
                if not task.done():  # interrupted (KeyboardInterrupt): the task goes too
                    task.cancel()
        return task.result()

    async def _cycle(self, scope: dict[str, Any], body: bytes, method: str) -> HttpResponse:
        status: int | None = None
        headers: list[tuple[str, str]] = []
        chunks: list[bytes] = []
        complete = False
        disconnected: asyncio.Future[None] | None = None
        delivered = False

        def finish() -> None:
            nonlocal complete
            complete = True
            if disconnected is not None and not disconnected.done():
                disconnected.set_result(None)

        async def receive() -> Message:
            nonlocal delivered, disconnected
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            if not complete:  # the client "disconnects" once the response is complete
                if disconnected is None:
                    disconnected = asyncio.get_running_loop().create_future()
                await asyncio.shield(disconnected)
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = int(message["status"])
                headers.extend(
                    (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                    for k, v in message.get("headers") or ()
                )
            elif kind == "http.response.body":
                chunk = message.get("body", b"")
                if chunk:
                    chunks.append(bytes(chunk))
                if not message.get("more_body", False):
                    finish()

        try:
            await self.app(scope, receive, send)
        except BaseException:
            if not complete:
                raise
            traceback.print_exc(file=sys.stderr)  # the response went out whole: keep it
        finally:
            finish()
        if status is None:
            raise RuntimeError("the ASGI app returned without sending http.response.start")
        return HttpResponse(status, headers, b"" if method == "HEAD" else b"".join(chunks))
