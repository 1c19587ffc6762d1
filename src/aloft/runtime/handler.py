"""The entry point of every function: `aloft.runtime.handler.handler(event, context)`.

`init()` loads `aloft_settings.json`, unpacks slim dependencies and imports the user's app or
handler once per instance (the local cloud calls it in an instance's init phase; `handler`
calls it lazily otherwise). Each event is then recognised by its source and dispatched on the
source's kind: one dict lookup, no chain of tests on the event's shape.
"""

from __future__ import annotations

import atexit
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aloft.runtime import user_frames
from aloft.runtime.context import LambdaContext
from aloft.runtime.errors import InitError, UnsupportedEvent
from aloft.runtime.http import AppBridge, BinaryTypes, HttpResponse, Request, error_response
from aloft.runtime.loader import import_callable, load_http_app
from aloft.runtime.settings import (
    ENV_FUNCTION,
    FunctionSpec,
    RuntimeSettings,
    load_settings,
    settings_path,
)
from aloft.runtime.sources import ENVELOPES, SOURCES, EventSource, Kind, RecordsSource
from aloft.runtime.sources.envelopes import ENVELOPE_KEY
from aloft.runtime.sources.http import HttpApiV2

ENV_BASE_PATH = "ALOFT_BASE_PATH"
"""Path prefix the app is mounted at (local cloud: `/{service}/{stage}`; custom domain paths)."""

APP_FUNCTION = "app"

Dispatcher = Callable[[Any, type[EventSource], Any], Any]


def select_function(settings: RuntimeSettings, environ: Mapping[str, str]) -> str:
    """Which entry of settings["functions"] this instance runs."""
    functions = settings["functions"]
    name = environ.get(ENV_FUNCTION)
    if name:
        if name not in functions:
            raise InitError(
                f"{ENV_FUNCTION}={name!r} is not a function of service {settings['service']!r} "
                f"(it has: {', '.join(sorted(functions)) or 'none'})"
            )
        return name
    if APP_FUNCTION in functions:
        return APP_FUNCTION
    if len(functions) == 1:
        return next(iter(functions))
    raise InitError(
        f"service {settings['service']!r} has several functions "
        f"({', '.join(sorted(functions))}): set {ENV_FUNCTION} to the one this instance runs"
    )


def _commands() -> Any:
    """The envelope runners, imported on first use: most instances never see one."""
    from aloft.runtime import commands

    return commands


def normalise_base_path(value: str | None) -> str:
    if not value:
        return ""
    value = "/" + value.strip("/")
    return "" if value == "/" else value


class Instance:
    """One initialised function instance: its settings, its user code, its dispatchers."""

    def __init__(
        self,
        settings: RuntimeSettings,
        function: str,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.settings = settings
        self.function = function
        self.spec: FunctionSpec = settings["functions"][function]
        self.debug = bool(settings.get("debug", False))
        self.binary = BinaryTypes(settings.get("binary_types") or ())
        self.base_path = normalise_base_path(env.get(ENV_BASE_PATH))
        ref = settings.get("exception_handler")
        self.exception_handler = import_callable(ref, "exception_handler") if ref else None
        handler_ref = self.spec.get("handler")
        self.func: Callable[..., Any] | None = None
        self.app: AppBridge | None = None
        if handler_ref:
            self.func = import_callable(handler_ref, f"function {function!r} handler")
        else:
            self.app = load_http_app(settings.get("app"), settings.get("django_settings"))
            self.app.start()  # ASGI lifespan: once per instance, in the init phase
            atexit.register(self.app.close)
        # An ASGI app's requests skip the WSGI environ (see handle_http)
        self._serve_request: Callable[[Request, str | None], HttpResponse] | None = getattr(
            self.app, "serve_request", None)
        self.each = self.spec.get("records") == "each"
        self._last: type[EventSource] | None = None
        self._dispatch: dict[Kind, Dispatcher] = {
            "http": self._http,
            "records": self._records,
            "event": self._event,
            "keep_warm": self._keep_warm,
            "command": lambda event, source, context: _commands().run_command(event),
            "raw": lambda event, source, context: _commands().run_raw(event),
            "manage": lambda event, source, context: _commands().run_manage(
                event, settings.get("django_settings")
            ),
            "task": lambda event, source, context: _commands().run_task(event),
            "schedule": lambda event, source, context: _commands().run_schedule(
                event, context, self.func
            ),
        }

    @classmethod
    def load(cls, path: Path | None = None) -> Instance:
        """Read the settings, prepare sys.path (artifact root, slim deps), import user code."""
        path = path or settings_path()
        try:
            settings = load_settings(path)
        except FileNotFoundError as exc:
            raise InitError(
                f"{path} not found: this code was not packaged by aloft (or set ALOFT_SETTINGS)"
            ) from exc
        except ValueError as exc:
            raise InitError(f"{path} is not valid JSON: {exc}; rebuild the package") from exc
        root = path.resolve().parent
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        if settings.get("slim"):
            from aloft.runtime.slim import activate_slim  # zipfile & co. only when needed

            activate_slim(root)
        return cls(settings, select_function(settings, os.environ))

    # ------------------------------------------------------------------ dispatch

    def handle(self, event: Any, context: Any) -> Any:
        if type(event) is not dict:
            return self._event(event, None, context)
        # Sources are mutually exclusive and an instance mostly sees one kind of event, so the
        # previous event's source is tried first.
        source = self._last
        if source is None or not source.infer(event):
            for candidate in ENVELOPES if ENVELOPE_KEY in event else SOURCES:
                if candidate.infer(event):
                    source = self._last = candidate
                    break
            else:
                return self._event(event, None, context)
        app = self.app
        if source.kind == "http" and app is not None:
            # The HTTP path, inline: this is every request of a web app.
            http: Any = source  # an HttpSource (kind "http")
            environ = http.environ(event, context, self.base_path)
            try:
                response = app.serve(environ)
            except Exception as exc:
                response = self._crash(exc, event, context)
            return http.response(response, event, self.binary)
        return self._dispatch[source.kind](event, source, context)

    def handle_http(self, event: Any, context: Any) -> Any:
        """`handle`, for the local cloud's gateway: an HTTP API (2.0) request to the app is
        answered with the `HttpResponse` API Gateway would make of `handle`'s result
        (`HttpApiV2.proxied`), skipping the result dict and its reading; anything else is
        answered as `handle` answers it (an entry point as `handler` is: an exception of the
        user's function leaves it with the user's frames first)."""
        app = self.app
        if app is None or self._last is not HttpApiV2 or type(event) is not dict or \
                not HttpApiV2.infer(event):
            try:
                return self.handle(event, context)
            except Exception as exc:
                # 3.9, 3.10: a bare raise would keep every frame (aloft.runtime.user_frames)
                if user_frames.trim(exc) and not user_frames.RERAISE_KEEPS_TRACEBACK:
                    raise exc
                raise
        serve_request = self._serve_request
        if serve_request is not None:  # an ASGI app: its scope without an environ between
            request, cookie = HttpApiV2.request(event, context, self.base_path)
            try:
                response = serve_request(request, cookie)
            except Exception as exc:
                response = self._crash(exc, event, context)
        else:
            environ = HttpApiV2.environ(event, context, self.base_path)
            try:
                response = app.serve(environ)
            except Exception as exc:
                response = self._crash(exc, event, context)
        return HttpApiV2.proxied(response)

    def _http(self, event: Any, source: type[EventSource], context: Any) -> Any:
        """An HTTP event for a function with a handler: Lambda semantics, the raw event."""
        return self._call(event, context)

    def _records(self, event: Any, source: type[EventSource], context: Any) -> Any:
        if not self.each:
            return self._event(event, source, context)
        func = self._require_func(source)
        assert issubclass(source, RecordsSource)
        failures: list[dict[str, str]] = []
        fatal: Exception | None = None
        for record in event["Records"]:
            try:
                func(record, context)
            except Exception as exc:
                item = source.item_id(record)
                # The first record failing an event that has no partial-batch answer is
                # raised below, and logged by the runtime then.
                raised = item is None and fatal is None
                self._report(exc, record, context, log=not raised)
                if item is None:
                    fatal = fatal or exc
                else:
                    failures.append({"itemIdentifier": item})
        if fatal is not None:  # SNS/S3 have no partial-batch answer: fail the event
            user_frames.note(fatal)  # its traceback still starts at the call above
            raise fatal
        return {"batchItemFailures": failures}

    def _event(self, event: Any, source: type[EventSource] | None, context: Any) -> Any:
        self._require_func(source)
        return self._call(event, context)

    @staticmethod
    def _keep_warm(event: Any, source: type[EventSource], context: Any) -> Any:
        return {"warm": True}

    # ------------------------------------------------------------------ helpers

    def _require_func(self, source: type[EventSource] | None) -> Callable[..., Any]:
        if self.func is None:
            what = f"a {source.name} event" if source else "an event that is not an HTTP request"
            raise UnsupportedEvent(
                f"function {self.function!r} serves the app over HTTP but received {what}; "
                "bind this event to a function with a `handler` in aloft.yml"
            )
        return self.func

    def _call(self, event: Any, context: Any) -> Any:
        func = self._require_func(None)
        try:
            return func(event, context)
        except Exception as exc:
            # It propagates: the runtime logs it as Lambda's does (`[ERROR] Type: message` and
            # the traceback), so printing it here too would log the traceback twice. The entry
            # point leaves aloft's frames out of that traceback (aloft.runtime.user_frames).
            self._report(exc, event, context, log=False)
            user_frames.note(exc)
            raise

    def _report(self, exc: Exception, event: Any, context: Any, log: bool = True) -> None:
        """Log the traceback to stderr (unless `log` is false: an exception that propagates
        is logged by the runtime) and give the user's exception_handler its look."""
        if log:
            traceback.print_exception(exc, file=sys.stderr)
        if self.exception_handler is not None:
            try:
                self.exception_handler(exc, event, context)
            except Exception:
                print("aloft: the exception_handler itself failed:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)

    def _crash(self, exc: Exception, event: Any, context: Any) -> HttpResponse:
        self._report(exc, event, context)
        detail = "".join(traceback.format_exception(exc)) if self.debug else None
        return error_response(500, "Internal Server Error", detail)


_instance: Instance | None = None


def init() -> Instance:
    """Initialise this instance once (settings, slim deps, user code); return it."""
    global _instance
    if _instance is None:
        _instance = Instance.load()
    return _instance


def as_lambda_reports(exc: InitError) -> InitError:
    """`exc` as Lambda's own Python runtime reports a failed init: Lambda's runtime client
    names an error by its exception's class, so the class is named like Lambda's errorType
    (`Runtime.ImportModuleError`, ...), and its traceback is the user's code's, the cause's
    (aloft.init_report maps those frames back to the project)."""
    root: BaseException = exc
    while root.__cause__ is not None:
        root = root.__cause__
    kind = type(exc.error_type, (type(exc),), {})
    reported: InitError = kind(str(exc), exc.error_type)
    return reported.with_traceback(root.__traceback__)


def handler(event: Any, context: Any = None) -> Any:
    """The Lambda entry point of every aloft function. An exception of the user's function
    leaves it with the user's frames first, as Lambda's runtime shows an exception of a handler
    it calls itself (aloft.runtime.user_frames)."""
    instance = _instance
    if instance is None:
        try:
            instance = init()
        except InitError as exc:
            raise as_lambda_reports(exc) from None
    if context is None:
        context = LambdaContext._from_environ()
    try:
        return instance.handle(event, context)
    except Exception as exc:
        # 3.9, 3.10: a bare raise would keep every frame (aloft.runtime.user_frames)
        if user_frames.trim(exc) and not user_frames.RERAISE_KEEPS_TRACEBACK:
            raise exc
        raise


def reset() -> None:
    """Forget the initialised instance (tests; a new settings file or function)."""
    global _instance
    if _instance is not None and _instance.app is not None:
        atexit.unregister(_instance.app.close)
        _instance.app.close()
    _instance = None
