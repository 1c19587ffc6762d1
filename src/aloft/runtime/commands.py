"""Running aloft's envelopes inside a deployed function: commands, raw code, Django management
commands, @task bodies and schedules. Output is captured so the caller sees what was printed."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from aloft.runtime import user_frames
from aloft.runtime.errors import UnsupportedEvent
from aloft.runtime.loader import import_callable


@contextlib.contextmanager
def _captured(stderr_too: bool = False) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(buffer))
        if stderr_too:
            stack.enter_context(contextlib.redirect_stderr(buffer))
        yield buffer


def _jsonable(value: Any) -> Any:
    """The value if JSON can carry it, else its repr (a command's result must reach the CLI)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _failure(exc: BaseException, output: str) -> dict[str, Any]:
    text = "".join(traceback.format_exception(exc))
    return {"error": f"{type(exc).__name__}: {exc}", "output": output + text}


def _arguments(event: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    args = event.get("args") or []
    kwargs = event.get("kwargs") or {}
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise UnsupportedEvent("an aloft envelope's `args` must be a list and `kwargs` an object")
    return args, kwargs


def run_command(event: dict[str, Any]) -> dict[str, Any]:
    """`{"aloft": "command", "function": "pkg.mod.func", "args", "kwargs"}` -> result + output."""
    func = import_callable(str(event.get("function") or ""), "command function")
    args, kwargs = _arguments(event)
    with _captured() as out:
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            return _failure(exc, out.getvalue())
    return {"result": _jsonable(result), "output": out.getvalue()}


def run_raw(event: dict[str, Any]) -> dict[str, Any]:
    """`{"aloft": "raw", "source": "..."}`: exec the code, return what it printed."""
    source = event.get("source")
    if not isinstance(source, str):
        raise UnsupportedEvent("a raw envelope needs `source`: the Python code to run")
    namespace: dict[str, Any] = {"__name__": "__aloft_raw__"}
    with _captured() as out:
        try:
            exec(compile(source, "<aloft raw>", "exec"), namespace)
        except Exception as exc:
            return _failure(exc, out.getvalue())
    return {"output": out.getvalue()}


def run_manage(event: dict[str, Any], django_settings: str | None) -> dict[str, Any]:
    """`{"aloft": "manage", "args": ["migrate", "--noinput"]}`: Django's call_command."""
    args = event.get("args") or []
    if not args or not isinstance(args, list):
        raise UnsupportedEvent("a manage envelope needs `args`, e.g. [\"migrate\", \"--noinput\"]")
    if not django_settings and "DJANGO_SETTINGS_MODULE" not in os.environ:
        raise UnsupportedEvent(
            "manage needs a Django service: set `django_settings` in aloft.yml"
        )
    if django_settings:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", django_settings)
    django = importlib.import_module("django")
    django.setup()
    management = importlib.import_module("django.core.management")
    with _captured(stderr_too=True) as out:
        try:
            management.call_command(*[str(a) for a in args], stdout=out, stderr=out)
        except BaseException as exc:  # CommandError raises SystemExit in some commands
            if isinstance(exc, KeyboardInterrupt):
                raise
            failure = _failure(exc, out.getvalue())
            hint = database_hint(exc)
            if hint is not None:
                failure["hint"] = hint
            return failure
    return {"output": out.getvalue()}


def database_hint(exc: BaseException) -> str | None:
    """How to mend a Django database error whose cause is known: SQLite in the function's code
    (Django's default, `BASE_DIR / "db.sqlite3"`), which is read-only, as /var/task is on
    Lambda. None for any other error."""
    if type(exc).__name__ != "OperationalError":
        return None
    try:
        database = importlib.import_module("django.conf").settings.DATABASES["default"]
    except Exception:  # Django not set up, or no default database: nothing known
        return None
    root, name = os.environ.get("LAMBDA_TASK_ROOT"), str(database.get("NAME") or "")
    if "sqlite3" not in str(database.get("ENGINE")) or not root or not os.path.isabs(name):
        return None
    root, path = os.path.realpath(root), os.path.realpath(name)
    if os.path.commonpath([path, root]) != root:
        return None
    return (f"DATABASES' SQLite file {os.path.relpath(path, root)} is in the function's code, "
            "which is read-only (as /var/task is on Lambda): point DATABASES at a database "
            "server (PostgreSQL: django.db.backends.postgresql), or at a file under /tmp for a "
            "database that lasts as long as one instance")


def run_task(event: dict[str, Any]) -> Any:
    """`{"aloft": "task", ...}`: run an @task's body here (never re-dispatch it)."""
    target = import_callable(str(event.get("function") or ""), "task function")
    body: Callable[..., Any] = getattr(target, "sync", target)
    args, kwargs = _arguments(event)
    try:
        return body(*args, **kwargs)
    except Exception as exc:
        user_frames.note(exc)  # the entry point shows the body's frames first
        raise


def run_schedule(event: dict[str, Any], context: Any, default: Callable[..., Any] | None) -> Any:
    """`{"aloft": "schedule", "function"?, "input"}`: func(input, context)."""
    ref = event.get("function")
    func = import_callable(str(ref), "schedule function") if ref else default
    if func is None:
        raise UnsupportedEvent(
            "a schedule envelope reached the app without `function`: name the function to run"
        )
    try:
        return func(event.get("input"), context)
    except Exception as exc:
        user_frames.note(exc)  # the entry point shows the function's frames first
        raise
