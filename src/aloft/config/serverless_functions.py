"""serverless.yml `functions` as aloft functions; serverless-wsgi's function becomes the app."""

from __future__ import annotations

from typing import Any

from aloft.config.builder import Builder, unsupported
from aloft.config.models import APP_FUNCTION
from aloft.config.serverless_auth import put_gathered
from aloft.config.serverless_events import EventContext, convert_event, rest_cors
from aloft.config.serverless_provider import (
    SERVERLESS_MEMORY,
    SERVERLESS_TIMEOUT,
    environment,
    statements,
)
from aloft.config.source import KeyPath

WSGI_HANDLERS = ("wsgi_handler.handler", "wsgi.handler")
ROLES_PER_FUNCTION = "serverless-iam-roles-per-function"

_KEYS = {
    "memorySize": "memory", "timeout": "timeout", "reservedConcurrency": "concurrency",
    "provisionedConcurrency": "provisioned_concurrency", "description": "description",
    "layers": "layers", "architecture": "architecture", "maximumRetryAttempts": "retries",
    "maximumEventAge": "max_event_age", "runtime": "runtime", "onError": "dead_letter",
    "snapStart": "snapshot",
}
_WHY = {
    "name": "aloft names functions {service}-{stage}-{function}",
    "role": "aloft gives every function the stage's role; list the statements under the "
            "function's `iamRoleStatements` (serverless-iam-roles-per-function)",
    "vpc": "the VPC is set for the whole stage (`provider.vpc`)",
    "url": "set `aws.api: url` for function URLs (one per function)",
    "image": "container images are not supported; aloft deploys zip packages",
    "ephemeralStorageSize": "functions get Lambda's default /tmp size (512 MB)",
    "kmsKeyArn": "environment variables are encrypted with Lambda's own key",
    "fileSystemConfig": "EFS is not supported by aloft",
    "package": "aloft builds one bundle for all functions; set exclusions under `package`",
    "logRetentionInDays": "the log retention is set for the whole stage",
    "disableLogs": "aloft keeps every function's logs",
    "tags": "functions get the stage's tags (`provider.tags`)",
    "condition": "the function is deployed in every stage",
    "dependsOn": None,
    "iamRoleStatementsName": "aloft names the role itself",
    "iamRoleStatementsInherit": None,  # read with iamRoleStatements
    "logs": None,
}
_READ = {"handler", *_KEYS, "environment", "iamRoleStatements", "tracing", "destinations",
         "events", *_WHY}
"""A function's keys aloft reads or knows: a key close to one is a typo (`evnts`)."""


def convert_functions(
    out: Builder, functions: dict[str, Any], provider: dict[str, Any], app: str | None,
    kinds: dict[str, str], *, stage: str, per_function_iam: bool,
) -> None:
    ctx = EventContext(out, kinds, stage=stage)
    http_payload = _mapping(provider.get("httpApi")).get("payload")
    app_settings: dict[str, Any] = {}
    for name, spec in functions.items():
        at: KeyPath = ("functions", name)
        spec = _mapping(spec)
        if spec.get("handler") in WSGI_HANDLERS:
            if app is None:
                out.warn((*at, "handler"), "serverless-wsgi's handler needs `custom.wsgi.app`")
                continue
            app_settings = _app_function(out, ctx, spec, at)
            continue
        target = name if name != APP_FUNCTION else f"{APP_FUNCTION}-function"
        path: KeyPath = ("functions", target)
        out.put(path, {}, at)
        _function(out, ctx, spec, path, at, per_function_iam, str(http_payload or "2.0"))
    if app_settings:
        _app_overrides(out, app_settings, provider)
    if ctx.rest_api:
        out.put(("aws", "api"), "rest", ())
        if ctx.http_api:
            out.warn(("functions",), "both http and httpApi events: aloft deploys one API (REST)")
    _route_cors(out, ctx)
    put_gathered(out, ctx.authorizers)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _function(
    out: Builder, ctx: EventContext, spec: dict[str, Any], path: KeyPath, at: KeyPath,
    per_function_iam: bool, http_payload: str,
) -> None:
    rest_before, http_before = ctx.rest_api, ctx.http_api
    ctx.rest_api = ctx.http_api = False
    for key, value in spec.items():
        here = (*at, key)
        if key == "handler":
            out.put((*path, "handler"), _handler(value), here)
        elif key in _KEYS:
            out.put((*path, _KEYS[key]), value, here)
            if key == "snapStart":  # SnapStart on aws too, as the Serverless Framework sets it
                out.put((*path, "snap_start"), value, here)
            if key == "layers":
                out.warn(here, "layers are added on aws; the local cloud does not have their "
                         "code (list their packages in your requirements to run locally)")
        elif key == "environment":
            environment(out, value, (*path, "environment"), here)
        elif key == "iamRoleStatements":
            statements(out, value, (*path, "permissions"), here)
            if not per_function_iam:
                out.warn(here, f"applied to this function, as {ROLES_PER_FUNCTION} would (the "
                         "Serverless Framework alone ignores it)")
            elif spec.get("iamRoleStatementsInherit") is not True:
                out.warn(here, "the function also gets the service's statements (as with "
                         "`iamRoleStatementsInherit: true`)")
        elif key == "tracing":
            out.put((*path, "tracing"), value is True or value == "Active", here)
        elif key == "destinations":
            dest = _mapping(value)
            out.put((*path, "destinations"),
                    {k2: dest[k1] for k1, k2 in (("onSuccess", "on_success"),
                                                 ("onFailure", "on_failure")) if k1 in dest},
                    here)
            for extra in dest:
                if extra not in ("onSuccess", "onFailure"):
                    out.warn((*here, extra), "not supported by aloft; ignored")
        elif key == "events":
            events: list[Any] = []
            out.put((*path, "events"), events, here)
            for index, event in enumerate(value if isinstance(value, list) else [value]):
                for converted in convert_event(ctx, event, (*here, index)):
                    out.origins.set((*path, "events", len(events)), (*here, index))
                    events.append(converted)
        elif key in _WHY:
            if _WHY[key]:
                out.warn(here, str(_WHY[key]))
        else:
            out.warn(here, unsupported(key, _READ))
    if ctx.rest_api:
        out.put((*path, "payload"), "1.0", at)
    elif ctx.http_api and http_payload == "1.0":
        out.put((*path, "payload"), "1.0", ("provider", "httpApi", "payload"))
    ctx.rest_api = ctx.rest_api or rest_before
    ctx.http_api = ctx.http_api or http_before


def _handler(value: Any) -> Any:
    """`src/handlers/jobs.handle` -> `src.handlers.jobs.handle`."""
    if not isinstance(value, str):
        return value
    module, _, func = value.rpartition(".")
    return f"{module.replace('/', '.')}.{func}" if module else value


def _app_function(
    out: Builder, ctx: EventContext, spec: dict[str, Any], at: KeyPath
) -> dict[str, Any]:
    """The serverless-wsgi function: its routes are the app's; returns its settings."""
    settings: dict[str, Any] = {}
    rest_before, ctx.rest_api = ctx.rest_api, False
    for key, value in spec.items():
        here = (*at, key)
        if key == "handler":
            continue
        if key in ("memorySize", "timeout", "reservedConcurrency", "environment", "layers"):
            settings[key] = (value, here)
        elif key == "events":
            for index, event in enumerate(value if isinstance(value, list) else [value]):
                kind = next(iter(event), None) if isinstance(event, dict) else None
                if kind in ("http", "httpApi"):
                    objects = len(ctx.route_cors)
                    for converted in convert_event(ctx, event, (*here, index)):
                        http = converted["http"]
                        if "authorizer" in http:  # the app's routes are guarded together
                            out.put(("authorizer",), http.pop("authorizer"), (*here, index))
                        if http.pop("private", False):
                            out.warn((*here, index), "the app's routes take no API key in "
                                     "aloft; make the route a function's to keep `private`")
                        if http["path"] not in ("/", "/{proxy+}"):
                            out.warn((*here, index), f"route {http['path']}: aloft sends every "
                                     "path to the app")
                        if http.get("cors") and len(ctx.route_cors) == objects:
                            # the app's routes are the service's: its CORS is the service's
                            out.put(("cors",), out.get(("cors",), True), (*here, index))
                else:
                    out.warn((*here, index), "only http events reach the wsgi app; ignored")
        elif key in _WHY:
            if _WHY[key]:
                out.warn(here, str(_WHY[key]))
        else:
            out.warn(here, unsupported(key, _READ))
    if ctx.rest_api:
        out.put(("payload",), "1.0", at)
    ctx.rest_api = ctx.rest_api or rest_before
    return settings


def _app_overrides(out: Builder, settings: dict[str, Any], provider: dict[str, Any]) -> None:
    """The wsgi function's own settings become the service's; other functions keep theirs."""
    for key, target, default in (("memorySize", "memory", SERVERLESS_MEMORY),
                                 ("timeout", "timeout", SERVERLESS_TIMEOUT)):
        if key not in settings:
            continue
        for name, fn in out.get(("functions",), {}).items():
            if target not in fn:
                out.put(("functions", name, target), provider.get(key, default),
                        ("provider", key))
        value, at = settings[key]
        out.put((target,), value, at)
    if "reservedConcurrency" in settings:
        value, at = settings["reservedConcurrency"]
        out.put(("concurrency",), value, at)
        for name, fn in out.get(("functions",), {}).items():
            if "concurrency" not in fn:
                out.warn(at, "the app's reserved concurrency is the service's default: set "
                         f"`reservedConcurrency` on {name} too if it should differ")
                break
    if "layers" in settings:
        value, at = settings["layers"]
        out.put(("layers",), value, at)
    if "environment" in settings:
        value, at = settings["environment"]
        if out.get(("functions",)):
            out.warn(at, "the wsgi function's environment now applies to every function")
        environment(out, value, ("environment",), at)


def _route_cors(out: Builder, ctx: EventContext) -> None:
    """http events' `cors:` objects: aloft has one CORS configuration per API. The first object
    becomes the service's `cors:` (unless it has one); routes without `cors` keep none."""
    if not ctx.route_cors:
        return
    first, where = ctx.route_cors[0]
    for other, at in ctx.route_cors[1:]:
        if rest_cors(other) != rest_cors(first):
            out.warn(at, "aloft has one CORS configuration per API: this route gets the one "
                     f"of `{'.'.join(str(p) for p in where)}`")
    if out.get(("cors",)) in (None, False):
        out.put(("cors",), rest_cors(first), where)
        for name, fn in out.get(("functions",), {}).items():
            for i, event in enumerate(fn.get("events", [])):
                http = event.get("http") if isinstance(event, dict) else None
                if isinstance(http, dict) and "cors" not in http:
                    http["cors"] = False
                    out.origins.set(("functions", name, "events", i, "http", "cors"), where)
