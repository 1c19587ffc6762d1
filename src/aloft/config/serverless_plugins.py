"""Serverless Framework plugins: what aloft does instead of each, and their `custom` settings.

aloft runs no Serverless plugin. The ones Python services use are read: serverless-wsgi
(`custom.wsgi.app` is the app), serverless-python-requirements (aloft's own packaging),
serverless-offline (`aloft dev`), serverless-dotenv-plugin (.env files), serverless-iam-roles-
per-function (function statements), serverless-lift (aloft.config.serverless_lift),
serverless-domain-manager (`aws.domain`). Any other plugin is named in one warning saying what
it would have done.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aloft.config.builder import Builder, app_reference
from aloft.config.source import KeyPath

READ = {
    "serverless-wsgi": "custom.wsgi.app becomes the app",
    "serverless-python-requirements": "aloft installs the requirements itself",
    "serverless-offline": "`aloft dev` runs the stage locally",
    "serverless-dotenv-plugin": ".env files are read",
    "serverless-iam-roles-per-function": "function statements are applied per function",
    "serverless-lift": "constructs become aloft resources",
    "serverless-domain-manager": "custom.customDomain becomes `aws.domain`",
}
"""Plugins aloft reads (their settings are mapped, and warned where they differ)."""

EFFECTS = {
    "serverless-plugin-warmup": "keeps functions warm: set `keep_warm: true` (the app) instead",
    "serverless-prune-plugin": "prunes old versions: aloft keeps the releases `aloft rollback` "
                               "needs",
    "serverless-plugin-tracing": "enables X-Ray: set `provider.tracing.lambda: true`",
    "serverless-step-functions": "deploys Step Functions state machines, which aloft does not",
    "serverless-plugin-aws-alerts": "creates CloudWatch alarms, which aloft does not",
    "serverless-s3-sync": "uploads files to a bucket: use `static:` for static files",
    "serverless-finch": "deploys a static website: use `static:` for static files",
    "serverless-api-gateway-caching": "enables API Gateway caching, which aloft does not",
    "serverless-plugin-log-retention": "sets the log retention: set "
                                       "`provider.logRetentionInDays`",
    "serverless-localstack": "deploys to LocalStack: aloft's local cloud replaces it",
    "serverless-deployment-bucket": "creates the deployment bucket: aloft creates its own",
    "serverless-plugin-git-variables": "adds ${git:...} variables, which aloft does not read",
    "serverless-pseudo-parameters": "adds #{AWS::...} text: write ${AWS::Region} in Fn::Sub",
    "serverless-plugin-scripts": "runs shell commands around deploys, which aloft does not",
    "serverless-export-env": "writes a .env file of the functions' environment",
    "serverless-plugin-canary-deployments": "shifts traffic gradually: aloft switches the "
                                            "stage's alias at once",
    "serverless-apigw-binary": "sets binary media types: set `binary_types`",
    "serverless-associate-waf": "attaches a WAF, which aloft does not",
    "serverless-plugin-datadog": "instruments functions for Datadog: add its layer and "
                                 "environment yourself",
}


def plugin_list(doc: Mapping[str, Any]) -> list[str]:
    """The plugin names of a serverless.yml (`plugins: [...]` or `plugins: {modules: [...]}`)."""
    plugins = doc.get("plugins")
    names = plugins.get("modules") if isinstance(plugins, dict) else plugins
    if isinstance(names, str):
        return [names]
    return [str(n) for n in names] if isinstance(names, list) else []


def convert_plugins(out: Builder, raw: Any, plugins: list[str]) -> None:
    at: KeyPath = ("plugins", "modules") if isinstance(raw, dict) else ("plugins",)
    if isinstance(raw, dict):
        for key in raw:
            if key not in ("modules", "localPath"):
                out.warn(("plugins", key), "not read by aloft; ignored")
    for i, name in enumerate(plugins):
        if name in READ:
            continue
        effect = EFFECTS.get(name, "whatever it adds to the deployment is not created")
        out.warn((*at, i), f"plugin {name}: aloft runs no Serverless plugins; it {effect}"
                 if name in EFFECTS else f"plugin {name}: aloft runs no Serverless plugins; "
                 f"{effect}")


def convert_custom(
    out: Builder, custom: dict[str, Any], plugins: list[str], *,
    dotenv: Mapping[str, str], keep_env: bool,
) -> str | None:
    """Reads the plugins' `custom` settings; returns the serverless-wsgi app (`module:attr`)."""
    app = _wsgi(out, _mapping(custom.get("wsgi")))
    _requirements(out, _mapping(custom.get("pythonRequirements")))
    offline = custom.get("serverless-offline")
    if isinstance(offline, dict):
        _offline(out, offline)
    if "serverless-dotenv-plugin" in plugins:
        _dotenv(out, _mapping(custom.get("dotenv")), dotenv, keep_env)
    if "serverless-domain-manager" in plugins or "customDomain" in custom:
        _domain(out, custom.get("customDomain"))
    if "warmup" in custom and "serverless-plugin-warmup" in plugins:
        out.warn(("custom", "warmup"), "set `keep_warm: true` for the app (aloft pings it on a "
                 "schedule); handler functions are not kept warm")
    return app


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _wsgi(out: Builder, wsgi: dict[str, Any]) -> str | None:
    app = None
    for key, value in wsgi.items():
        at: KeyPath = ("custom", "wsgi", key)
        if key == "app" and isinstance(value, str):
            module, _, attr = value.rpartition(".")
            dotted = module.removesuffix(".py").replace("/", ".") + "." + attr if module else value
            app = app_reference(dotted)
            out.put(("app",), app, at)
        elif key == "packRequirements":
            continue  # aloft always packages the requirements (as a layer)
        elif key == "pythonBin":
            out.warn(at, "aloft runs the app with the stage's `runtime`")
        elif key == "textMimeTypes":
            out.warn(at, "aloft base64-encodes the `binary_types`; other types are text")
        else:
            out.warn(at, "not supported by aloft; ignored")
    return app


_NO_DEPLOY_DEFAULT = {"boto3", "botocore", "docutils", "jmespath", "pip", "python-dateutil",
                      "s3transfer", "setuptools", "six"}


def _requirements(out: Builder, requirements: dict[str, Any]) -> None:
    for key, value in requirements.items():
        at: KeyPath = ("custom", "pythonRequirements", key)
        if key == "fileName":
            out.put(("requirements",), value, at)
        elif key == "zip":
            out.put(("slim",), bool(value), at)
        elif key == "layer":
            continue  # aloft always ships the dependencies as a layer
        elif key in ("dockerizePip", "dockerImage", "dockerFile", "dockerSsh", "dockerEnv",
                     "dockerBuildCmdExtraArgs", "dockerRunCmdExtraArgs", "useDocker"):
            if value:
                out.warn(at, "ignored: aloft installs wheels for the Lambda platform without "
                         "Docker")
        elif key in ("slim", "strip", "slimPatterns", "slimPatternsAppendDefaults"):
            if value:
                out.warn(at, "aloft does not strip installed packages (tests, *.pyc, "
                         "dist-info stay); use `zip: true` (aloft's `slim`) for large ones")
        elif key == "noDeploy":
            extra = [v for v in (value if isinstance(value, list) else [value])
                     if str(v) not in _NO_DEPLOY_DEFAULT]
            if extra:
                names = ", ".join(map(str, extra))
                out.warn(at, f"aloft installs every requirement: remove {names} from the "
                         "requirements file to leave them out")
        elif key == "pythonBin":
            out.warn(at, "aloft installs for the stage's `runtime` with its own pip")
        elif key in ("usePipenv", "usePoetry", "usePdm", "useUv"):
            if value:
                out.warn(at, "aloft reads requirements.txt (or `requirements:`): export the "
                         "locked requirements to it")
        elif key in ("useStaticCache", "useDownloadCache", "cacheLocation",
                     "staticCacheMaxVersions", "invalidateCaches", "pipCmdExtraArgs",
                     "installer", "requirePoetryLockFile"):
            continue  # aloft's build cache and installer replace these
        else:
            out.warn(at, "not supported by aloft; ignored")


_OFFLINE = {
    "httpPort": "run `aloft dev --port N` (the local cloud's port)",
    "port": "run `aloft dev --port N` (the local cloud's port)",
    "host": "the local cloud listens on 127.0.0.1 only",
    "lambdaPort": "the Lambda Invoke API is on the local cloud's port (`aloft dev --port`)",
    "noPrependStageInUrl": "the local URL is http://127.0.0.1:PORT/{service}/{stage}/",
    "prefix": "the local URL is http://127.0.0.1:PORT/{service}/{stage}/",
    "noTimeout": "functions keep their timeout locally, as on Lambda",
    "useDocker": "instances run as local processes; no Docker",
    "dockerNetwork": "instances run as local processes; no Docker",
    "reloadHandler": None,  # aloft dev reloads on every save
    "useChildProcesses": None,
    "useWorkerThreads": None,
    "useInProcess": None,
    "allowCache": None,
    "printOutput": None,  # aloft dev streams the logs
    "corsAllowOrigin": "set `cors:` (it applies locally and on aws)",
    "corsAllowHeaders": "set `cors:` (it applies locally and on aws)",
    "corsAllowCredentials": "set `cors:` (it applies locally and on aws)",
    "corsExposedHeaders": "set `cors:` (it applies locally and on aws)",
    "corsDisallowCredentials": "set `cors:` (it applies locally and on aws)",
    "websocketPort": "websocket APIs are not supported yet",
    "httpsProtocol": "the local cloud serves HTTP on 127.0.0.1",
    "ignoreJWTSignature": "authorizers are not supported yet",
    "noAuth": "authorizers are not supported yet",
    "resourceRoutes": "proxied routes are not supported",
    "disableCookieValidation": None,
    "enforceSecureCookies": None,
    "localEnvironment": None,  # aloft dev uses the stage's environment
    "terminateIdleLambdaTime": "instances stop after `keep_alive` idle seconds",
    "layersDir": "the local cloud builds the dependency layer itself",
}


def _offline(out: Builder, offline: dict[str, Any]) -> None:
    """serverless-offline's settings as `aloft dev`'s (a note for each one that differs)."""
    for key in offline:
        at: KeyPath = ("custom", "serverless-offline", key)
        why = _OFFLINE.get(key, "not supported by `aloft dev`; ignored")
        if why:
            out.warn(at, why)


def _dotenv(out: Builder, settings: dict[str, Any], values: Mapping[str, str],
            keep_env: bool) -> None:
    """serverless-dotenv-plugin: every variable of the .env files goes into the functions'
    environment (or those of `include`, less `exclude`)."""
    include = settings.get("include")
    exclude = settings.get("exclude") if isinstance(settings.get("exclude"), list) else []
    assert isinstance(exclude, list)
    for key in settings:
        if key not in ("path", "basePath", "include", "exclude", "logging", "required",
                       "variableExpansion", "v4BreakingChanges", "dotenvParser"):
            out.warn(("custom", "dotenv", key), "not supported by aloft; ignored")
    if "dotenvParser" in settings:
        out.warn(("custom", "dotenv", "dotenvParser"), "aloft reads .env files with its own "
                 "parser (KEY=value, quotes, ${VAR} expansion)")
    names = [n for n in values if (include is None or (isinstance(include, list) and n in include))
             and n not in exclude]
    for name in names:
        value = "${env:" + name + "}" if keep_env else values[name]
        if out.get(("environment", name)) is None:
            out.put(("environment", name), value, ("custom", "dotenv"))


def _domain(out: Builder, domain: Any) -> None:
    at: KeyPath = ("custom", "customDomain")
    if not isinstance(domain, dict):
        return
    for key, value in domain.items():
        here = (*at, key)
        if key == "domainName":
            out.put(("aws", "domain"), value, here)
        elif key == "certificateArn":
            out.put(("aws", "certificate"), value, here)
        elif key in ("createRoute53Record", "endpointType", "stage", "enabled",
                     "autoDomain", "apiType", "securityPolicy"):
            continue
        elif key == "certificateName":
            out.warn(here, "set `certificateArn` (aloft looks up no certificate by name); "
                     "`aloft certify` requests one")
        else:
            out.warn(here, "not supported by aloft; ignored")
