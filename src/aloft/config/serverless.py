"""serverless.yml (Serverless Framework, Python services) read as aloft stages.

One file describes every stage: the stage comes from `--stage` (options) or `provider.stage`;
`params.<stage>` (v3) adds stages and the values `${param:key}` reads. Variables are resolved
first (`${opt:...}`, `${sls:stage}`, `${self:...}`, `${env:...}`, `${file(...)}`), then the
resolved document is mapped onto aloft keys. serverless-wsgi's `custom.wsgi.app` becomes `app`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aloft.config.builder import Builder, app_reference
from aloft.config.locate import Locator
from aloft.config.models import APP_FUNCTION
from aloft.config.native import DEFAULT_STAGE, check_stage
from aloft.config.reader import Kind, StageTree
from aloft.config.serverless_events import EventContext, convert_event
from aloft.config.serverless_resources import convert_resources
from aloft.config.source import Document, KeyPath
from aloft.config.stages import type_name
from aloft.config.variables import SERVERLESS_SOURCES, Resolver, VariableContext
from aloft.errors import ConfigError

WSGI_HANDLERS = ("wsgi_handler.handler", "wsgi.handler")
SERVERLESS_MEMORY = 1024
SERVERLESS_TIMEOUT = 6
KNOWN_PLUGINS = ("serverless-wsgi", "serverless-python-requirements", "serverless-offline")
_META = {"frameworkVersion", "variablesResolutionMode", "configValidationMode",
         "deprecationNotificationMode", "disabledDeprecations", "params"}


class ServerlessReader:
    """Reads a serverless.yml; its stages are provider.stage (or dev) and those in `params`."""

    kind: Kind = "serverless"

    def __init__(self, doc: Document):
        if not isinstance(doc.data, dict):
            raise Locator(doc).error(
                (), f"serverless.yml must be a mapping, not {type_name(doc.data)}",
                "start with `service: my-service`",
            )
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self._default = self._provider_stage()
        params = self.data.get("params")
        self.params: dict[str, Any] = params if isinstance(params, dict) else {}
        named = [str(s) for s in self.params if s != "default" and s != self._default]
        self.stages = [self._default, *named]
        self.warnings: list[str] = []

    def _provider_stage(self) -> str:
        provider = self.data.get("provider")
        stage = provider.get("stage") if isinstance(provider, dict) else None
        if stage is None:
            return DEFAULT_STAGE
        # `${opt:stage, 'dev'}` with no --stage: the fallback is the default stage.
        ctx = VariableContext(stage=DEFAULT_STAGE, env={}, base_dir=self.doc.file.parent,
                              sources=frozenset({"opt", "self"}), cloudformation=True)
        try:
            value = Resolver(self.data, ctx, Locator(self.doc)).text(
                str(stage), ("provider", "stage"))
        except ConfigError:  # e.g. `${env:STAGE}` unset: serverless' own default
            return DEFAULT_STAGE
        return str(value) if isinstance(value, str) and value else DEFAULT_STAGE

    @property
    def default_stage(self) -> str:
        return self._default

    def stage_tree(
        self,
        stage: str,
        *,
        env: Mapping[str, str],
        options: Mapping[str, str],
        keep: frozenset[str] = frozenset(),
    ) -> StageTree:
        check_stage(stage, self.stages, self.doc, allow_any=False,
                    how=f"add `params: {{{stage}: {{}}}}` or set provider.stage")
        params = {**_mapping(self.params.get("default")), **_mapping(self.params.get(stage))}
        ctx = VariableContext(
            stage=stage, env=env, base_dir=self.doc.file.parent,
            options={**options, "stage": stage}, params=params,
            sources=SERVERLESS_SOURCES, keep=keep, cloudformation=True,
        )
        locator = Locator(self.doc, stage=stage)
        root = {k: v for k, v in self.data.items() if k != "params"}
        resolved = Resolver(root, ctx, locator).resolve_all()
        built = convert_serverless(resolved, self.doc.file.parent)
        locator.origins = built.origins
        return StageTree(built.data, locator, built.warnings)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def convert_serverless(doc: dict[str, Any], root: Path) -> Builder:
    """A resolved serverless.yml (one stage) as aloft data."""
    out = Builder()
    out.put(("provider",), "local", ())
    service = doc.get("service")
    if isinstance(service, dict):
        service = service.get("name")
    out.put(("service",), service, ("service",))
    provider = _mapping(doc.get("provider"))
    _provider(out, provider)
    kinds = convert_resources(out, doc.get("resources"), ("resources",))
    custom = _mapping(doc.get("custom"))
    app = _custom(out, custom)
    _functions(out, _mapping(doc.get("functions")), provider, app, kinds)
    _package(out, _mapping(doc.get("package")))
    _plugins(out, doc.get("plugins"))
    for key in doc:
        if key not in _META and key not in (
            "service", "provider", "functions", "custom", "resources", "package", "plugins"
        ):
            why = {"useDotenv": "aloft does not read .env files; export the variables",
                   "app": "the Serverless Dashboard is not used",
                   "org": "the Serverless Dashboard is not used"}.get(key, "not supported; ignored")
            out.warn((key,), why)
    return out


# --------------------------------------------------------------------------- provider


def _provider(out: Builder, provider: dict[str, Any]) -> None:
    p: KeyPath = ("provider",)
    simple = {
        "runtime": ("runtime",), "region": ("aws", "region"), "profile": ("aws", "profile"),
        "memorySize": ("memory",), "timeout": ("timeout",),
        "logRetentionInDays": ("aws", "log_retention_days"),
        "architecture": ("aws", "architecture"), "layers": ("layers",),
    }
    out.put(("memory",), SERVERLESS_MEMORY, (*p, "memorySize"))
    out.put(("timeout",), SERVERLESS_TIMEOUT, (*p, "timeout"))
    for key, value in provider.items():
        at = (*p, key)
        if key in simple:
            out.put(simple[key], value, at)
        elif key == "name":
            if value != "aws":
                out.warn(at, f"provider {value!r}: aloft reads AWS services only")
        elif key == "stage":
            continue
        elif key == "environment":
            _environment(out, value, ("environment",), at)
        elif key in ("iamRoleStatements",):
            out.put(("permissions",), [*out.get(("permissions",), []), *_list(value)], at)
        elif key == "iam":
            _iam(out, _mapping(value), at)
        elif key == "role":
            _role(out, value, at)
        elif key == "httpApi":
            _http_api(out, _mapping(value), at)
        elif key == "apiGateway":
            _api_gateway(out, _mapping(value), at)
        elif key == "vpc":
            vpc = _mapping(value)
            out.put(("aws", "vpc"), {"subnet_ids": vpc.get("subnetIds", []),
                                     "security_group_ids": vpc.get("securityGroupIds", [])}, at)
        elif key in ("tags", "stackTags"):
            out.put(("aws", "tags"), {**out.get(("aws", "tags"), {}), **_mapping(value)}, at)
        elif key == "tracing":
            lam = _mapping(value).get("lambda")
            out.put(("aws", "tracing"), lam is True or lam == "Active", at)
        elif key == "deploymentBucket":
            name = value.get("name") if isinstance(value, dict) else value
            out.put(("aws", "bucket"), name, at)
        else:
            out.warn(at, "not supported by aloft; ignored")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _environment(out: Builder, value: Any, path: KeyPath, at: KeyPath) -> None:
    if not isinstance(value, dict):
        out.put(path, value, at)
        return
    for name, text in value.items():
        if isinstance(text, dict | list):
            out.warn((*at, name), "CloudFormation values are not supported in environment; ignored")
            continue
        out.put((*path, str(name)), text, (*at, name))


def _iam(out: Builder, iam: dict[str, Any], at: KeyPath) -> None:
    for key, value in iam.items():
        if key != "role":
            out.warn((*at, key), "not supported by aloft; ignored")
        elif isinstance(value, str):
            out.put(("aws", "role"), value, (*at, key))
        else:
            for part, item in _mapping(value).items():
                if part == "statements":
                    out.put(("permissions",), [*out.get(("permissions",), []), *_list(item)],
                            (*at, key, part))
                else:
                    out.warn((*at, key, part), "not supported by aloft; ignored")


def _role(out: Builder, value: Any, at: KeyPath) -> None:
    if isinstance(value, str) and value.startswith("arn:"):
        out.put(("aws", "role"), value, at)
    else:
        out.warn(at, "only a role ARN is supported; ignored")


def _http_api(out: Builder, http: dict[str, Any], at: KeyPath) -> None:
    for key, value in http.items():
        if key == "cors":
            out.put(("cors",), _cors(value), (*at, key))
        elif key == "payload":
            out.put(("payload",), str(value), (*at, key))
        else:
            out.warn((*at, key), "not supported by aloft; ignored")


def _cors(value: Any) -> Any:
    if not isinstance(value, dict):
        return bool(value)
    names = {"allowedOrigins": "origins", "allowedMethods": "methods",
             "allowedHeaders": "headers", "exposedResponseHeaders": "expose_headers",
             "allowCredentials": "credentials", "maxAge": "max_age"}
    return {names.get(k, k): v for k, v in value.items()}


def _api_gateway(out: Builder, api: dict[str, Any], at: KeyPath) -> None:
    for key, value in api.items():
        if key == "binaryMediaTypes":
            out.put(("binary_types",), value, (*at, key))
        else:
            out.warn((*at, key), "not supported by aloft; ignored")


# --------------------------------------------------------------------------- custom, package


def _custom(out: Builder, custom: dict[str, Any]) -> str | None:
    """Reads the plugins' settings; returns the serverless-wsgi app (`module:attr`) if any."""
    app = None
    wsgi = _mapping(custom.get("wsgi"))
    for key, value in wsgi.items():
        at: KeyPath = ("custom", "wsgi", key)
        if key == "app" and isinstance(value, str):
            module, _, attr = value.rpartition(".")
            dotted = module.removesuffix(".py").replace("/", ".") + "." + attr if module else value
            app = app_reference(dotted)
            out.put(("app",), app, at)
        else:
            out.warn(at, "not supported by aloft; ignored")
    requirements = _mapping(custom.get("pythonRequirements"))
    for key, value in requirements.items():
        at = ("custom", "pythonRequirements", key)
        if key == "fileName":
            out.put(("requirements",), value, at)
        elif key == "zip":
            out.put(("slim",), bool(value), at)
        elif key == "dockerizePip":
            if value:
                out.warn(at, "aloft installs wheels for the Lambda platform without Docker")
        elif key == "slim":
            if value:
                out.warn(at, "aloft does not strip installed packages; ignored")
        else:
            out.warn(at, "not supported by aloft; ignored")
    return app


def _package(out: Builder, package: dict[str, Any]) -> None:
    for key, value in package.items():
        at: KeyPath = ("package", key)
        if key == "patterns":
            for i, pattern in enumerate(_list(value)):
                if isinstance(pattern, str) and pattern.startswith("!"):
                    out.put(("exclude",), [*out.get(("exclude",), []), pattern[1:]], at)
                else:
                    out.warn((*at, i), "aloft decides what is included; only `!pattern` "
                             "exclusions are read")
        elif key == "exclude":
            out.put(("exclude",), [*out.get(("exclude",), []), *_list(value)], at)
        else:
            out.warn(at, "not supported by aloft; ignored")


def _plugins(out: Builder, plugins: Any) -> None:
    names = plugins.get("modules") if isinstance(plugins, dict) else plugins
    for i, name in enumerate(_list(names) if names else []):
        if name not in KNOWN_PLUGINS:
            out.warn(("plugins", i), f"plugin {name} is not supported by aloft; ignored")


# --------------------------------------------------------------------------- functions


_FUNCTION_KEYS = {
    "memorySize": "memory", "timeout": "timeout", "reservedConcurrency": "concurrency",
    "description": "description", "layers": "layers", "architecture": "architecture",
    "maximumRetryAttempts": "retries", "maximumEventAge": "max_event_age",
}


def _functions(
    out: Builder, functions: dict[str, Any], provider: dict[str, Any], app: str | None,
    kinds: dict[str, str],
) -> None:
    ctx = EventContext(out, kinds)
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
        _function(out, ctx, spec, path, at)
    if app_settings:
        _app_overrides(out, app_settings, provider)
    if ctx.rest_api:
        out.put(("aws", "api"), "rest", ())
        if ctx.http_api:
            out.warn(("functions",), "both http and httpApi events: aloft deploys one API (REST)")


def _function(
    out: Builder, ctx: EventContext, spec: dict[str, Any], path: KeyPath, at: KeyPath
) -> None:
    rest_before = ctx.rest_api
    ctx.rest_api = False
    for key, value in spec.items():
        here = (*at, key)
        if key == "handler":
            out.put((*path, "handler"), _handler(value), here)
        elif key in _FUNCTION_KEYS:
            out.put((*path, _FUNCTION_KEYS[key]), value, here)
        elif key == "environment":
            _environment(out, value, (*path, "environment"), here)
        elif key == "iamRoleStatements":
            out.put((*path, "permissions"), _list(value), here)
        elif key == "events":
            events: list[Any] = []
            out.put((*path, "events"), events, here)
            for index, event in enumerate(_list(value)):
                for converted in convert_event(ctx, event, (*here, index)):
                    out.origins.set((*path, "events", len(events)), (*here, index))
                    events.append(converted)
        else:
            out.warn(here, "not supported by aloft; ignored")
    if ctx.rest_api:
        out.put((*path, "payload"), "1.0", at)
    ctx.rest_api = ctx.rest_api or rest_before


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
            for index, event in enumerate(_list(value)):
                kind = next(iter(event), None) if isinstance(event, dict) else None
                if kind in ("http", "httpApi"):
                    for converted in convert_event(ctx, event, (*here, index)):
                        route = converted["http"]["path"]
                        if route not in ("/", "/{proxy+}"):
                            out.warn((*here, index), f"route {route}: aloft sends every path "
                                     "to the app")
                else:
                    out.warn((*here, index), "only http events reach the wsgi app; ignored")
        else:
            out.warn(here, "not supported by aloft; ignored")
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
        out.warn(at, "the app's reserved concurrency is not supported; ignored")
    if "layers" in settings:
        value, at = settings["layers"]
        out.put(("layers",), value, at)
    if "environment" in settings:
        value, at = settings["environment"]
        if out.get(("functions",)):
            out.warn(at, "the wsgi function's environment now applies to every function")
        _environment(out, value, ("environment",), at)
