"""Importing user code named in settings: `module:attr` apps, `module.func` handlers, Django."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

from aloft.runtime.errors import InitError
from aloft.runtime.http import AppBridge
from aloft.runtime.wsgi import WsgiApp


def import_string(ref: str, what: str) -> Any:
    """`pkg.mod:attr.sub` or `pkg.mod.attr` -> the object. Failures are InitErrors worded and
    typed as Lambda's own runtime reports them; an exception raised by the module's own code
    while it is imported propagates as it is (Lambda reports it under its own type too)."""
    if ":" in ref:
        module_name, _, attr_path = ref.partition(":")
    else:
        module_name, _, attr_path = ref.rpartition(".")
    if not module_name or not attr_path:
        raise InitError(f"{what} {ref!r} must be `module.function` or `module:attribute`")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise InitError(f"Unable to import module {module_name!r}: {exc}",
                        "Runtime.ImportModuleError") from exc
    except SyntaxError as exc:
        raise InitError(f"Syntax error in module {module_name!r}: {exc}",
                        "Runtime.UserCodeSyntaxError") from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            # "Handler 'x' missing on module 'y'" (or "App ..."), as Lambda words it.
            label = "App" if what == "app" else "Handler" if what.endswith(" handler") \
                else what.replace("_", " ").capitalize()
            raise InitError(f"{label} {attr_path!r} missing on module {module_name!r}",
                            "Runtime.HandlerNotFound") from exc
    return obj


def import_callable(ref: str, what: str) -> Callable[..., Any]:
    obj = import_string(ref, what)
    if not callable(obj):
        raise InitError(f"{what} {ref!r} is a {type(obj).__name__}, not a callable")
    return obj  # type: ignore[no-any-return]


def is_asgi(app: Any) -> bool:
    """ASGI 3 apps are coroutine functions, or objects whose `__call__` is one."""
    import inspect  # only at init, and only for apps

    if inspect.iscoroutinefunction(app):
        return True
    call = getattr(app, "__call__", None)  # noqa: B004 - the attribute itself is inspected
    return call is not None and inspect.iscoroutinefunction(call)


def django_wsgi_app(settings_module: str) -> Any:
    """Django's WSGI application for `settings_module` (django.setup() included)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    try:
        wsgi = importlib.import_module("django.core.wsgi")
    except ImportError as exc:
        raise InitError(
            f"django_settings {settings_module!r} is set but Django is not installed: "
            "add django to your requirements"
        ) from exc
    return wsgi.get_wsgi_application()


def load_http_app(app_ref: str | None, django_settings: str | None) -> AppBridge:
    """The service's app wrapped in its bridge, ASGI or WSGI decided by its shape."""
    if app_ref:
        app = import_string(app_ref, "app")
    elif django_settings:
        app = django_wsgi_app(django_settings)
    else:
        raise InitError(
            "this function serves the app but the settings have neither `app` nor "
            "`django_settings`; set one in aloft.yml"
        )
    if not callable(app):
        raise InitError(f"app {app_ref!r} is a {type(app).__name__}, not a WSGI/ASGI app")
    if is_asgi(app):
        from aloft.runtime.asgi import AsgiApp  # asyncio is imported only for ASGI apps

        return AsgiApp(app)
    from aloft.runtime.django_prefix import ScriptPrefixed, is_django

    return WsgiApp(ScriptPrefixed(app) if is_django(app) else app)
