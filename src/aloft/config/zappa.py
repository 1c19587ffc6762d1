"""zappa_settings.json / .yml / .yaml / .toml read as aloft stages.

Every top-level key is a stage; `extends` copies another stage's settings (a shallow update, as
zappa does). Every setting of Zappa's documented settings table is known (ZAPPA_SETTINGS): it
maps to an aloft key, or is named in a warning saying what to do instead (ADVICE). Stages get
`provider: local` (so `aloft deploy dev` needs no account); their AWS settings are kept under
`aws:` for `provider: aws`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aloft.config.builder import Builder, app_reference, function_name, items, resource_name
from aloft.config.locate import Locator
from aloft.config.native import DEFAULT_STAGE, check_stage
from aloft.config.reader import Kind, StageTree
from aloft.config.source import Document, KeyPath
from aloft.config.stages import suggest, type_name

Settings = dict[str, Any]
Sources = dict[str, KeyPath]
"""For each setting of a stage, where it was written: (defining stage, key)."""

_API = "aloft has no API keys or API Gateway authorizers yet; check the caller in your app"
_LOGS = "aloft does not configure API Gateway logging; `aloft tail` shows the app's logs"
_CERT = "use `certificate_arn` (ACM), or `aloft certify STAGE` to request one"
ADVICE: dict[str, str] = {
    "additional_text_mimetypes": "aloft base64-encodes the response types in `binary_types` "
                                 "and sends the others as text: list binary types there",
    "alb_enabled": "aloft does not create load balancers; the app is served by API Gateway or "
                   "a function URL",
    "alb_vpc_config": "aloft does not create load balancers",
    "api_key_required": _API,
    "api_key": _API,
    "apigateway_description": "aloft describes the API itself",
    "apigateway_enabled": "without API Gateway nor a function URL the app gets no HTTP traffic",
    "apigateway_policy": "aloft sets no API Gateway resource policy; check the caller in your "
                         "app",
    "assume_policy": "aloft's role is assumed by Lambda only; list extra permissions in "
                     "`extra_permissions`",
    "attach_policy": "list the permissions in `extra_permissions` (aloft attaches no policy "
                     "files)",
    "async_source": "aloft's tasks invoke the function directly (no SNS transport); "
                    "`from zappa.asynchronous import task` works as `from aloft import task`",
    "async_resources": "aloft creates no SNS topic or DynamoDB table for tasks",
    "async_response_table": "aloft does not store task responses (capture_response); write "
                            "the result to a table of yours",
    "async_response_table_read_capacity": "aloft does not store task responses",
    "async_response_table_write_capacity": "aloft does not store task responses",
    "authorizer": _API,
    "aws_endpoint_urls": "the local cloud provides the AWS services locally "
                         "(AWS_ENDPOINT_URL), replacing LocalStack endpoints",
    "aws_kms_key_arn": "environment variables are encrypted with Lambda's own key",
    "base_path": "the custom domain serves the API at its root",
    "cache_cluster_enabled": "aloft does not enable API Gateway caching",
    "cache_cluster_size": "aloft does not enable API Gateway caching",
    "cache_cluster_ttl": "aloft does not enable API Gateway caching",
    "cache_cluster_encrypted": "aloft does not enable API Gateway caching",
    "callbacks": "write an aloft plugin with hooks around the deploy steps (docs/plugins.md)",
    "certificate": _CERT,
    "certificate_key": _CERT,
    "certificate_chain": _CERT,
    "cloudwatch_log_level": _LOGS,
    "cloudwatch_data_trace": _LOGS,
    "cloudwatch_metrics_enabled": "aloft does not enable API Gateway metrics; the dashboard "
                                  "shows the stage's figures",
    "cognito": "Cognito triggers are not supported by aloft",
    "context_header_mappings": "read the request context in your app (the event is in the "
                               "WSGI environ as `aloft.event`)",
    "delete_local_zip": "aloft keeps artifacts in its content-addressed build cache",
    "delete_s3_zip": "aloft keeps artifacts in its content-addressed build cache",
    "endpoint_configuration": "aloft's APIs are regional",
    "ephemeral_storage": "functions get Lambda's default /tmp size (512 MB)",
    "function_url_config": "a function URL gets the stage's `cors:`; its auth type is NONE",
    "iam_authorization": _API,
    "include": "aloft puts the project and its dependencies on the path; nothing to include",
    "lambda_description": "aloft describes its functions itself (`aloft SERVICE STAGE app`)",
    "lambda_handler": "aloft's own handler runs the app (a custom handler is a `functions:` "
                      "entry)",
    "lets_encrypt_key": _CERT,
    "log_level": "set the log level in your app (logging.basicConfig)",
    "manage_roles": "aloft always creates the role unless `role_arn` (`aws.role`) is set",
    "num_retained_versions": "aloft keeps the versions its releases need for `aloft rollback`",
    "payload_compression": "aloft does not compress API Gateway payloads; compress in the app",
    "payload_minimum_compression_size": "aloft does not compress API Gateway payloads",
    "prebuild_script": "run the script before `aloft deploy`, or write an aloft plugin's "
                       "package hook (docs/plugins.md)",
    "remote_env": "aloft does not load environment files from S3: set the variables in "
                  "`environment_variables`, with `${ssm:/path}` for secrets",
    "role_name": "aloft names the role it creates; set `role_arn` to use an existing one",
    "route53_enabled": "aloft does not update Route 53; point the domain at the API yourself",
    "settings_file": "Django reads `django_settings`; other settings go in environment "
                     "variables",
    "touch": "aloft always health-checks a new version before it serves (`touch_path`)",
    "use_precompiled_packages": "aloft installs wheels for the Lambda platform",
    "use_apigateway": "without API Gateway nor a function URL the app gets no HTTP traffic",
}
"""What to do instead, for each setting aloft does not map (or maps only in part)."""
_IGNORED_DEFAULTS: dict[str, Any] = {
    "async_source": "lambda", "async_resources": False, "api_key_required": False,
    "manage_roles": True, "touch": True, "delete_local_zip": True, "delete_s3_zip": True,
    "use_precompiled_packages": True, "apigateway_enabled": True, "use_apigateway": True,
    "alb_enabled": False, "iam_authorization": False, "cache_cluster_enabled": False,
    "cloudwatch_log_level": "OFF", "cloudwatch_data_trace": False,
    "cloudwatch_metrics_enabled": False, "route53_enabled": True, "payload_compression": True,
    "payload_minimum_compression_size": 0, "num_retained_versions": None, "log_level": "DEBUG",
}
"""Settings whose value here is what aloft does anyway: no warning."""


class ZappaReader:
    """Reads a zappa_settings file: each top-level key is a stage."""

    kind: Kind = "zappa"

    def __init__(self, doc: Document):
        self.doc = doc
        if not isinstance(doc.data, dict) or not doc.data:
            raise Locator(doc).error(
                (), "zappa settings must be a mapping of stage names to settings, "
                f"not {type_name(doc.data)}", 'write e.g. {"dev": {"app_function": "app.app"}}',
            )
        self.data: dict[str, Any] = doc.data
        for stage, settings in self.data.items():
            if not isinstance(settings, dict):
                raise Locator(doc).error(
                    (stage,), f"zappa stage {stage!r} must be a mapping, not {type_name(settings)}"
                )
        self.stages = [str(s) for s in self.data]
        self.extends: dict[str, str] = {
            str(s): str(v["extends"]) for s, v in self.data.items() if v.get("extends")
        }
        self.warnings: list[str] = []
        for stage in self.stages:
            for warning in self._build(stage).warnings:
                if warning not in self.warnings:
                    self.warnings.append(warning)

    @property
    def default_stage(self) -> str:
        return DEFAULT_STAGE if DEFAULT_STAGE in self.stages else self.stages[0]

    def stage_tree(
        self,
        stage: str,
        *,
        env: Mapping[str, str],
        options: Mapping[str, str],
        keep: frozenset[str] = frozenset(),
    ) -> StageTree:
        check_stage(stage, self.stages, self.doc, allow_any=False,
                    how=f"add a `{stage}` stage to {self.doc.file.name}")
        built = self._build(stage)
        locator = Locator(self.doc, origins=built.origins, stage=stage)
        return StageTree(built.data, locator, built.warnings)

    def _build(self, stage: str) -> Builder:
        settings, sources = self._settings(stage)
        return convert_zappa(settings, sources, self.doc.file.parent)

    def _settings(self, stage: str) -> tuple[Settings, Sources]:
        """The stage's settings with `extends` applied, and the source of each one."""
        chain = [stage]
        while (parent := self.data[chain[-1]].get("extends")) is not None:
            where: KeyPath = (chain[-1], "extends")
            if not isinstance(parent, str):
                raise Locator(self.doc, stage=stage).error(
                    where, f"`extends` must be a stage name, not {type_name(parent)}"
                )
            if parent in chain:
                cycle = " -> ".join([*chain[chain.index(parent) :], parent])
                raise Locator(self.doc, stage=stage).error(
                    where, f"zappa stages extend each other in a cycle: {cycle}",
                    "remove `extends` from one of these stages",
                )
            if parent not in self.data:
                hint = suggest(str(parent), self.stages)
                raise Locator(self.doc, stage=stage).error(
                    where, f"stage {chain[-1]!r} extends {parent!r}, which is not a stage",
                    hint or f"stages: {', '.join(self.stages)}",
                )
            chain.append(parent)
        settings: Settings = {}
        sources: Sources = {}
        for name in reversed(chain):
            for key, value in self.data[name].items():
                if key != "extends":
                    settings[key] = value
                    sources[key] = (name, key)
        return settings, sources


def convert_zappa(settings: Settings, sources: Sources, root: Path) -> Builder:
    """One zappa stage's settings as aloft data."""
    out = Builder()
    out.put(("provider",), "local", ())
    if "project_name" in settings:
        out.put(("service",), settings["project_name"], sources["project_name"])
    else:
        # zappa's default: the project directory's name
        out.put(("service",), resource_name(root.resolve().name).lower(), ())
    for key in settings:
        handler = _SETTINGS.get(key)
        src = sources[key]
        if handler is not None:
            handler(out, settings[key], src, settings, sources)
        elif key in _SECONDARY:
            continue  # read together with another key
        elif key in _IGNORED_DEFAULTS and settings[key] == _IGNORED_DEFAULTS[key]:
            continue
        else:
            why = ADVICE.get(key) or "not a Zappa setting aloft knows; ignored"
            out.warn(src, why)
    if "keep_warm" not in settings and _has_app(settings):
        _keep_warm(out, True, (), settings, sources)  # zappa keeps warm by default
    return out


def _has_app(settings: Settings) -> bool:
    return bool(settings.get("app_function") or settings.get("django_settings"))


Handler = Callable[[Builder, Any, KeyPath, Settings, Sources], None]


def _to(path: KeyPath, convert: Callable[[Any], Any] = lambda v: v) -> Handler:
    def handler(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
        out.put(path, convert(value), src)

    return handler


def _app_function(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    out.put(("app",), app_reference(value) if isinstance(value, str) else value, src)


def _environment(out: Builder, value: Any, src: KeyPath, settings: Settings, c: Sources) -> None:
    if not isinstance(value, dict):
        out.put(("environment",), value, src)  # validation reports the type
        return
    if src[-1] == "aws_environment_variables" and isinstance(
        settings.get("environment_variables"), dict
    ):
        # zappa applies environment_variables last: they win over aws_environment_variables
        value = {k: v for k, v in value.items() if k not in settings["environment_variables"]}
    for name, text in value.items():
        out.put(("environment", str(name)), text, (*src, name))


def _keep_warm(out: Builder, value: Any, src: KeyPath, settings: Settings, c: Sources) -> None:
    warm: dict[str, Any] = {"enabled": bool(value)}
    expression = settings.get("keep_warm_expression")
    if isinstance(expression, str):
        text = expression.strip()
        if text.startswith("rate(") and text.endswith(")"):
            warm["rate"] = text[5:-1].strip()
        else:
            out.warn(c["keep_warm_expression"], "only rate(...) is supported; using 4 minutes")
    out.put(("keep_warm",), warm, src)


def _binary_support(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    if value is False:
        out.put(("binary_types",), [], src)


def _exclude(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    items = value if isinstance(value, list) else [value]
    out.put(("exclude",), [*out.get(("exclude",), []), *items], src)


def _vpc(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    if not isinstance(value, dict):
        out.put(("aws", "vpc"), value, src)
        return
    vpc = {"subnet_ids": value.get("SubnetIds", []),
           "security_group_ids": value.get("SecurityGroupIds", [])}
    out.put(("aws", "vpc"), vpc, src)


def _http(out: Builder, value: Any, src: KeyPath, settings: Settings, c: Sources) -> None:
    if src[-1] == "function_url_enabled":
        if value:
            out.put(("aws", "api"), "url", src)
        return
    if value is False and not settings.get("function_url_enabled"):
        out.warn(src, str(ADVICE["apigateway_enabled"]))


def _snap_start(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    # SnapStart on aws as Zappa set it, and the local cloud's templates
    out.put(("snapshot",), value == "PublishedVersions", src)
    out.put(("snap_start",), value == "PublishedVersions", src)


def _events(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    if not isinstance(value, list):
        out.warn(src, "`events` must be a list; ignored")
        return
    by_handler: dict[str, str] = {}
    taken: set[str] = set()
    for index, event in enumerate(value):
        at = (*src, index)
        if not isinstance(event, dict) or not isinstance(event.get("function"), str):
            out.warn(at, "an event needs a `function` (module.function); ignored")
            continue
        handler = event["function"]
        converted = _event(out, event, at)
        if not converted:
            continue
        name = by_handler.get(handler)
        if name is None:
            name = by_handler[handler] = function_name(handler, taken)
            out.put(("functions", name, "handler"), handler, (*at, "function"))
            out.put(("functions", name, "events"), [], at)
        events: list[Any] = out.get(("functions", name, "events"))
        for item in converted:
            out.origins.set(("functions", name, "events", len(events)), at)
            events.append(item)


def _event(out: Builder, event: dict[str, Any], at: KeyPath) -> list[dict[str, Any]]:
    """One zappa event as aloft events (a schedule with several expressions gives several)."""
    for key in event:
        if key not in ("function", "expression", "expressions", "event_source", "name",
                       "description"):
            out.warn((*at, key), "not supported by aloft; ignored")
    expressions = event.get("expressions") or (
        [event["expression"]] if "expression" in event else []
    )
    if not isinstance(expressions, list):
        expressions = [expressions]
    if expressions:
        schedules = []
        for expression in expressions:
            schedule: dict[str, Any] = {"expression": expression}
            if len(expressions) == 1 and event.get("name"):
                schedule["name"] = event["name"]
            if event.get("description"):
                schedule["description"] = event["description"]
            schedules.append({"schedule": schedule})
        return schedules
    source = event.get("event_source")
    if isinstance(source, dict):
        converted = _event_source(out, source, (*at, "event_source"))
        return [converted] if converted else []
    out.warn(at, "an event needs `expression` or `event_source`; ignored")
    return []


_S3_ARN = re.compile(r"arn:aws(?:-[a-z-]+)?:s3:::(.+)")  # any partition: aws-cn, aws-us-gov


def _event_source(out: Builder, source: dict[str, Any], at: KeyPath) -> dict[str, Any] | None:
    arn = str(source.get("arn", ""))
    enabled = source.get("enabled", True)
    known = {"arn", "events", "batch_size", "starting_position", "key_filters", "enabled",
             "batch_window", "maximum_batching_window_in_seconds", "function_response_types",
             "filters"}
    for key in source:
        if key not in known:
            out.warn((*at, key), "not supported by aloft; ignored")
    partial = "ReportBatchItemFailures" in items(source.get("function_response_types"))
    window = source.get("batch_window", source.get("maximum_batching_window_in_seconds", 0))
    s3 = _S3_ARN.match(arn)
    if s3 is not None:
        bucket: dict[str, Any] = {"name": s3.group(1)}
        if source.get("events"):
            bucket["events"] = source["events"]
        for rule in items(source.get("key_filters")):
            if isinstance(rule, dict) and rule.get("type") in ("prefix", "suffix"):
                bucket[rule["type"]] = rule.get("value")
        return {"bucket": bucket}
    if ":sqs:" in arn:
        queue = {"name": arn, "batch_size": source.get("batch_size", 10), "window": window,
                 "partial_failures": partial, "enabled": enabled}
        return {"queue": queue}
    if ":sns:" in arn:
        topic: dict[str, Any] = {"name": arn}
        if isinstance(source.get("filters"), dict):
            topic["filter_policy"] = source["filters"]
        return {"topic": topic}
    if ":dynamodb:" in arn or ":kinesis:" in arn:
        stream = {"type": "kinesis" if ":kinesis:" in arn else "dynamodb", "name": arn,
                  "batch_size": source.get("batch_size", 100), "window": window,
                  "starting_position": source.get("starting_position", "LATEST"),
                  "partial_failures": partial, "enabled": enabled}
        return {"stream": stream}
    out.warn((*at, "arn"), f"event source {arn!r} is not an S3, SQS, SNS, DynamoDB or Kinesis ARN")
    return None


def _permissions(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    out.put(("permissions",), value if isinstance(value, list) else [value], src)


def _cors(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    """`cors: true`, or {allowed_origin, allowed_headers, allowed_methods}."""
    if not isinstance(value, dict):
        out.put(("cors",), value, src)
        return
    names = {"allowed_origin": "origins", "allowed_origins": "origins",
             "allowed_headers": "headers", "allowed_methods": "methods"}
    cors: dict[str, Any] = {}
    for key, item in value.items():
        if key in names:
            cors[names[key]] = item if isinstance(item, list) else [item]
        else:
            out.warn((*src, key), "not a Zappa CORS setting aloft knows; ignored")
    out.put(("cors",), cors, src)


def _dead_letter(out: Builder, value: Any, src: KeyPath, _s: Settings, _c: Sources) -> None:
    out.put(("dead_letter",), value, src)


_SETTINGS: dict[str, Handler] = {
    "app_function": _app_function,
    "django_settings": _to(("django_settings",)),
    "runtime": _to(("runtime",)),
    "aws_region": _to(("aws", "region")),
    "profile_name": _to(("aws", "profile")),
    "s3_bucket": _to(("aws", "bucket")),
    "memory_size": _to(("memory",)),
    "timeout_seconds": _to(("timeout",)),
    "keep_warm": _keep_warm,
    "aws_environment_variables": _environment,
    "environment_variables": _environment,
    "events": _events,
    "vpc_config": _vpc,
    "cors": _cors,
    "lambda_concurrency": _to(("concurrency",)),
    "dead_letter_arn": _dead_letter,
    "binary_support": _binary_support,
    "exception_handler": _to(("exception_handler",)),
    "exclude": _exclude,
    "exclude_glob": _exclude,
    "slim_handler": _to(("slim",)),
    "certificate_arn": _to(("aws", "certificate")),
    "domain": _to(("aws", "domain")),
    "xray_tracing": _to(("aws", "tracing")),
    "apigateway_enabled": _http,
    "use_apigateway": _http,
    "function_url_enabled": _http,
    "tags": _to(("aws", "tags")),
    "role_arn": _to(("aws", "role")),
    "layers": _to(("layers",)),
    "architecture": _to(("aws", "architecture")),
    "debug": _to(("debug",)),
    "touch_path": _to(("health_path",)),
    "extra_permissions": _permissions,
    "snap_start": _snap_start,
}
_SECONDARY = {"project_name", "keep_warm_expression"}

ZAPPA_SETTINGS = (
    "additional_text_mimetypes", "alb_enabled", "alb_vpc_config", "api_key_required", "api_key",
    "apigateway_enabled", "apigateway_description", "assume_policy", "attach_policy",
    "apigateway_policy", "app_function", "architecture", "async_source", "async_resources",
    "async_response_table", "async_response_table_read_capacity",
    "async_response_table_write_capacity", "authorizer", "aws_endpoint_urls",
    "aws_environment_variables", "aws_kms_key_arn", "aws_region", "base_path",
    "binary_support", "cache_cluster_enabled", "cache_cluster_encrypted", "cache_cluster_size",
    "cache_cluster_ttl", "callbacks", "certificate", "certificate_arn", "certificate_chain",
    "certificate_key", "cloudwatch_data_trace", "cloudwatch_log_level",
    "cloudwatch_metrics_enabled", "cognito", "context_header_mappings", "cors",
    "dead_letter_arn", "debug", "delete_local_zip", "delete_s3_zip", "django_settings",
    "domain", "endpoint_configuration", "environment_variables", "ephemeral_storage", "events",
    "exception_handler", "exclude", "exclude_glob", "extends", "extra_permissions",
    "function_url_config", "function_url_enabled", "iam_authorization", "include", "keep_warm",
    "keep_warm_expression", "lambda_concurrency", "lambda_description", "lambda_handler",
    "layers", "lets_encrypt_key", "log_level", "manage_roles", "memory_size",
    "num_retained_versions", "payload_compression", "payload_minimum_compression_size",
    "prebuild_script", "profile_name", "project_name", "remote_env", "role_arn", "role_name",
    "route53_enabled", "runtime", "s3_bucket", "settings_file", "slim_handler", "snap_start",
    "tags", "timeout_seconds", "touch", "touch_path", "use_apigateway",
    "use_precompiled_packages", "vpc_config", "xray_tracing",
)
"""Zappa's documented settings (its README's settings table, and `architecture`,
`function_url_*`, `snap_start`): each is mapped (_SETTINGS) or has ADVICE."""

