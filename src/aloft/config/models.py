"""The service model: aloft.yml for one resolved stage, typed and validated (pydantic v2).

`ConfigFile` is the file as written (top-level settings plus `stages`); `Service` is what every
other layer consumes: one stage, `extends` applied, variables resolved, defaults filled in.
Shorthands (`http: "GET /items"`, `schedule: "rate(5 minutes)"`, `queue: jobs`) are normalised here
so that consumers only ever see the long form.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

APP_FUNCTION = "app"
"""The name of the implicit function that serves `app` / `django_settings`."""

DEFAULT_MEMORY = 512
DEFAULT_TIMEOUT = 30
DEFAULT_KEEP_ALIVE = 600

_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
_DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
_APP_REF = r"^[A-Za-z_][A-Za-z0-9_.]*[:.][A-Za-z_][A-Za-z0-9_.]*$"


class Model(BaseModel):
    """Base: unknown keys are errors (the loader turns them into 'did you mean' hints)."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


# --------------------------------------------------------------------------- events


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")


class HttpEvent(Model):
    """`http: {path: /items/{id}, method: get}` or the shorthand `http: "GET /items/{id}"`."""

    path: str = Field(description="URL path; `{param}` captures one segment, `{proxy+}` the rest.")
    method: str = Field("ANY", description="HTTP method, or ANY.")
    cors: bool | None = Field(None, description="Override the service's CORS for this route.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.split(None, 1)
            if len(parts) == 2:
                return {"method": parts[0], "path": parts[1]}
            return {"path": value}
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper == "*":
            upper = "ANY"
        if upper not in HTTP_METHODS:
            raise ValueError(f"unknown HTTP method {value!r}; use one of {', '.join(HTTP_METHODS)}")
        return upper

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            value = "/" + value
        if value.count("{") != value.count("}"):
            raise ValueError(f"unbalanced braces in path {value!r}")
        return value


_RATE = re.compile(r"^(\d+)\s+(minute|minutes|hour|hours|day|days)$")


class ScheduleEvent(Model):
    """`schedule: {rate: 5 minutes}`, `{cron: "0 12 * * ? *"}` or `schedule: "rate(5 minutes)"`."""

    rate: str | None = Field(None, description="`N minute(s)|hour(s)|day(s)`.")
    cron: str | None = Field(None, description="AWS's 6-field cron, in UTC.")
    input: Any = Field(None, description="Constant JSON the function receives as its event.")
    enabled: bool = True
    name: str | None = Field(None, description="Rule name; derived from the function if omitted.")
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = {"expression": value}
        if isinstance(value, dict) and "expression" in value:
            value = dict(value)
            expr = str(value.pop("expression")).strip()
            if expr.startswith("rate(") and expr.endswith(")"):
                value["rate"] = expr[5:-1]
            elif expr.startswith("cron(") and expr.endswith(")"):
                value["cron"] = expr[5:-1]
            else:
                raise ValueError(
                    f"schedule {expr!r} is neither rate(...) nor cron(...); "
                    "write e.g. 'rate(5 minutes)' or 'cron(0 12 * * ? *)'"
                )
        return value

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if text.startswith("rate(") and text.endswith(")"):
            text = text[5:-1].strip()
        m = _RATE.match(text)
        if not m:
            raise ValueError(f"rate {value!r} must look like '5 minutes', '1 hour' or '2 days'")
        count, unit = int(m.group(1)), m.group(2)
        if count < 1:
            raise ValueError("a rate must be at least 1")
        singular = unit.rstrip("s")
        return f"{count} {singular if count == 1 else singular + 's'}"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if text.startswith("cron(") and text.endswith(")"):
            text = text[5:-1].strip()
        fields = text.split()
        if len(fields) != 6:
            raise ValueError(
                f"cron {value!r} has {len(fields)} fields; AWS cron has 6: "
                "minutes hours day-of-month month day-of-week year, e.g. '0 12 * * ? *'"
            )
        return text

    @model_validator(mode="after")
    def _one_of(self) -> ScheduleEvent:
        if (self.rate is None) == (self.cron is None):
            raise ValueError("a schedule needs exactly one of `rate` or `cron`")
        return self

    @property
    def expression(self) -> str:
        """The AWS schedule expression: `rate(5 minutes)` or `cron(0 12 * * ? *)`."""
        return f"rate({self.rate})" if self.rate is not None else f"cron({self.cron})"


def _named(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class QueueEvent(Model):
    """`queue: jobs` or `queue: {name: jobs, batch_size: 10}`; name is a resource or an ARN."""

    name: str
    batch_size: int = Field(10, ge=1, le=10000)
    window: int = Field(0, ge=0, le=300, description="Maximum batching window, seconds.")
    partial_failures: bool = Field(True, description="Report batchItemFailures (retry only those).")
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _named(value)


class TopicEvent(Model):
    """`topic: alerts` or `topic: {name: alerts, filter_policy: {...}}`."""

    name: str
    filter_policy: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _named(value)


_BUCKET_EVENTS = {
    "created": "s3:ObjectCreated:*",
    "removed": "s3:ObjectRemoved:*",
    "deleted": "s3:ObjectRemoved:*",
}


class BucketEvent(Model):
    """`bucket: {name: uploads, events: [created], prefix: in/, suffix: .csv}`."""

    name: str
    events: list[str] = Field(default_factory=lambda: ["s3:ObjectCreated:*"])
    prefix: str | None = None
    suffix: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _named(value)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            normal = _BUCKET_EVENTS.get(item.lower(), item)
            if not normal.startswith("s3:Object"):
                raise ValueError(
                    f"bucket event {item!r} is not known; use created, removed or an S3 event "
                    "type such as s3:ObjectCreated:Put"
                )
            out.append(normal)
        return out


class StreamEvent(Model):
    """`stream: {table: items}` (DynamoDB) or `stream: {kinesis: name-or-arn}`."""

    type: Literal["dynamodb", "kinesis"] = "dynamodb"
    name: str = Field(description="The table (dynamodb) or stream (kinesis) name, or its ARN.")
    batch_size: int = Field(100, ge=1, le=10000)
    window: int = Field(0, ge=0, le=300)
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = "LATEST"
    partial_failures: bool = True
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            kind = "kinesis" if ":kinesis:" in value else "dynamodb"
            return {"type": kind, "name": value}
        if isinstance(value, dict):
            value = dict(value)
            if "table" in value:
                value.setdefault("type", "dynamodb")
                value["name"] = value.pop("table")
            elif "kinesis" in value:
                value["type"] = "kinesis"
                value["name"] = value.pop("kinesis")
            elif "arn" in value and "name" not in value:
                arn = str(value.pop("arn"))
                value.setdefault("type", "kinesis" if ":kinesis:" in arn else "dynamodb")
                value["name"] = arn
        return value


EVENT_KINDS = ("http", "schedule", "queue", "topic", "bucket", "stream")


class Event(Model):
    """One trigger of a function: exactly one of its keys is set."""

    http: HttpEvent | None = None
    schedule: ScheduleEvent | None = None
    queue: QueueEvent | None = None
    topic: TopicEvent | None = None
    bucket: BucketEvent | None = None
    stream: StreamEvent | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Event:
        set_kinds = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        if len(set_kinds) != 1:
            raise ValueError(
                f"an event has exactly one of {', '.join(EVENT_KINDS)}; found "
                f"{', '.join(set_kinds) or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in EVENT_KINDS if getattr(self, k) is not None)


# --------------------------------------------------------------------------- functions


class Statement(Model):
    """An IAM-style permission statement (`Effect`/`Action`/`Resource` also accepted)."""

    effect: Literal["Allow", "Deny"] = "Allow"
    action: list[str]
    resource: list[str] = Field(default_factory=lambda: ["*"])

    @model_validator(mode="before")
    @classmethod
    def _iam_case(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = {str(k).lower(): v for k, v in value.items()}
            for key in ("action", "resource"):
                if isinstance(value.get(key), str):
                    value[key] = [value[key]]
        return value


class FunctionSettings(Model):
    """Settings a function may set, and the service may set as defaults for all of them."""

    memory: int | None = Field(None, ge=128, le=10240, description="Memory limit in MB.")
    timeout: int | None = Field(None, ge=1, le=900, description="Timeout in seconds.")
    concurrency: int | None = Field(None, ge=0, description="Reserved concurrency.")
    keep_alive: int | None = Field(None, ge=0, description="Idle seconds before an instance stops.")
    environment: dict[str, str] = Field(default_factory=dict)

    @field_validator("environment", mode="before")
    @classmethod
    def _env_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): ("" if v is None else _env_str(v)) for k, v in value.items()}
        return value


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Function(FunctionSettings):
    """A function: a handler (`module.func`) plus its events and settings."""

    handler: str | None = Field(
        None, description="`module.func` called as func(event, context); omitted for the app."
    )
    description: str | None = None
    events: list[Event] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list, description="Secrets this function may read.")
    permissions: list[Statement] = Field(default_factory=list)
    payload: Literal["2.0", "1.0"] = Field(
        "2.0", description="HTTP event format: 2.0 (HTTP API) or 1.0 (REST API v1)."
    )
    records: Literal["batch", "each"] = Field(
        "batch", description="`each` calls the handler once per record and reports failures."
    )
    snapshot: bool | None = Field(None, description="Fork instances from an initialised template.")
    retries: int = Field(2, ge=0, le=2, description="Async invocation retries.")
    max_event_age: int = Field(21600, ge=60, le=21600, description="Seconds an async event lives.")
    architecture: Literal["x86_64", "arm64"] | None = None
    layers: list[str] = Field(default_factory=list)

    @field_validator("handler")
    @classmethod
    def _handler(cls, value: str | None) -> str | None:
        if value is not None and not re.match(_APP_REF, value):
            raise ValueError(f"handler {value!r} must be `module.function` (e.g. `jobs.handle`)")
        return value

    @property
    def is_app(self) -> bool:
        return self.handler is None


# --------------------------------------------------------------------------- service-wide


class Tasks(Model):
    """Where `@aloft.task` functions run: the calling function (default) or a named one."""

    function: str | None = None


class KeepWarm(Model):
    """Ping the app on a schedule so that an instance stays initialised."""

    enabled: bool = True
    rate: str = "4 minutes"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"enabled": value}
        if isinstance(value, int):
            return {"rate": f"{value} minutes"}
        if isinstance(value, str):
            return {"rate": value}
        return value

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str) -> str:
        checked = ScheduleEvent(rate=value).rate
        assert checked is not None
        return checked


class Static(Model):
    """Static files: served by the gateway (local) or from a bucket (aws) at `path`."""

    path: str = "/static"
    directory: str = "static"
    bucket: str | None = None


class Cors(Model):
    enabled: bool = True
    origins: list[str] = Field(default_factory=lambda: ["*"])
    methods: list[str] = Field(default_factory=lambda: ["*"])
    headers: list[str] = Field(default_factory=lambda: ["*"])
    expose_headers: list[str] = Field(default_factory=list)
    credentials: bool = False
    max_age: int = 600

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return {"enabled": value}
        if isinstance(value, str):
            return {"origins": [value]}
        return value


# --------------------------------------------------------------------------- resources


class BucketResource(Model):
    name: str | None = Field(None, description="Physical name; default {service}-{stage}-{key}.")
    public: bool = False
    versioning: bool = False


class QueueResource(Model):
    name: str | None = None
    visibility_timeout: int = Field(30, ge=0, le=43200)
    retention: int = Field(345600, ge=60, le=1209600)
    dead_letter: str | bool | None = Field(
        None, description="true creates {queue}-dlq; a string names another queue resource."
    )
    max_receives: int = Field(3, ge=1, le=1000)
    fifo: bool = False


class TopicResource(Model):
    name: str | None = None


class TableResource(Model):
    name: str | None = None
    hash_key: str = "id"
    hash_type: Literal["S", "N", "B"] = "S"
    range_key: str | None = None
    range_type: Literal["S", "N", "B"] = "S"
    stream: (
        Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | bool | None
    ) = None
    ttl: str | None = None


class ParameterResource(Model):
    name: str | None = Field(None, description="Parameter path; default /{service}/{stage}/{key}.")
    value: str | None = None
    secure: bool = False
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"value": str(value)} if isinstance(value, str | int | float) else value


class Resources(Model):
    buckets: dict[str, BucketResource] = Field(default_factory=dict)
    queues: dict[str, QueueResource] = Field(default_factory=dict)
    topics: dict[str, TopicResource] = Field(default_factory=dict)
    tables: dict[str, TableResource] = Field(default_factory=dict)
    parameters: dict[str, ParameterResource] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _none_entries(cls, value: Any) -> Any:
        # `queues: {jobs: }` in YAML gives None: treat as all defaults.
        if isinstance(value, dict):
            return {
                kind: ({k: (v if v is not None else {}) for k, v in entries.items()}
                       if isinstance(entries, dict) else entries)
                for kind, entries in value.items()
            }
        return value


# --------------------------------------------------------------------------- providers


class Vpc(Model):
    subnet_ids: list[str] = Field(default_factory=list)
    security_group_ids: list[str] = Field(default_factory=list)


class AwsSettings(Model):
    region: str | None = None
    profile: str | None = None
    bucket: str | None = Field(None, description="Deployment bucket; default one per stage.")
    vpc: Vpc | None = None
    domain: str | None = None
    certificate: str | None = Field(None, description="ACM certificate ARN for `domain`.")
    tags: dict[str, str] = Field(default_factory=dict)
    api: Literal["http", "rest", "url"] = "http"
    tracing: bool = False
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    log_retention_days: int | None = 14
    role: str | None = Field(None, description="Use this IAM role ARN instead of creating one.")


class LocalSettings(Model):
    health_path: str | None = Field(None, description="Overrides the service's health_path.")


class StageSettings(Model):
    """Keys only a stage sets (besides overriding any service key)."""

    extends: str | None = None
    provider: Literal["local", "aws"] = "local"
    aws: AwsSettings = Field(default_factory=AwsSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    debug: bool = False


class ServiceSettings(FunctionSettings):
    """Everything that may appear at the top level of aloft.yml and be overridden by a stage."""

    service: str = Field(pattern=_NAME, description="Service name; part of every resource name.")
    runtime: str = Field(
        default_factory=lambda: f"{sys.version_info.major}.{sys.version_info.minor}",
        description="Python version, e.g. '3.12'.",
    )
    app: str | None = Field(None, description="`module:attr` of a WSGI or ASGI app.")
    django_settings: str | None = Field(None, description="Django settings module.")
    functions: dict[str, Function] = Field(default_factory=dict)
    tasks: Tasks = Field(default_factory=Tasks)
    keep_warm: KeepWarm = Field(default_factory=lambda: KeepWarm(enabled=False))
    static: Static | None = None
    cors: Cors = Field(default_factory=lambda: Cors(enabled=False))
    secrets: list[str] = Field(default_factory=list, description="Secrets the app may read.")
    permissions: list[Statement] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    exception_handler: str | None = None
    binary_types: list[str] = Field(
        default_factory=lambda: [
            "image/*", "audio/*", "video/*", "font/*", "application/octet-stream",
            "application/pdf", "application/zip", "application/gzip",
        ]
    )
    health_path: str = "/"
    exclude: list[str] = Field(default_factory=list)
    requirements: str | None = Field(None, description="Requirements file; detected if omitted.")
    slim: bool = Field(False, description="Ship dependencies as an archive unpacked at cold start.")
    snapshot: bool = True
    plugins: list[str] = Field(default_factory=list)
    payload: Literal["2.0", "1.0"] = "2.0"
    layers: list[str] = Field(
        default_factory=list, description="Lambda layer ARNs added to every function (aws)."
    )

    @field_validator("app")
    @classmethod
    def _app(cls, value: str | None) -> str | None:
        if value is not None and not re.match(_APP_REF, value):
            raise ValueError(f"app {value!r} must be `module:attribute`, e.g. `app:app`")
        return value

    @field_validator("runtime", mode="before")
    @classmethod
    def _runtime(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        text = text.removeprefix("python")
        if not re.match(r"^3\.\d{1,2}$", text):
            raise ValueError(f"runtime {value!r} must be a Python version such as '3.12'")
        return text

    @field_validator("functions", mode="before")
    @classmethod
    def _function_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name in value:
                if not re.match(_NAME, str(name)):
                    raise ValueError(
                        f"function name {name!r} must start with a letter and use letters, "
                        "digits, '-' or '_' (at most 63)"
                    )
                if name == APP_FUNCTION:
                    raise ValueError(f"'{APP_FUNCTION}' is reserved for the `app` function")
            return {k: (v if v is not None else {}) for k, v in value.items()}
        return value


class Service(ServiceSettings, StageSettings):
    """One stage of a service, fully resolved: what package and the providers consume."""

    stage: str = Field(pattern=_NAME)
    root: Path = Field(description="The project directory (holds the config file).")
    config_file: Path | None = None
    warnings: list[str] = Field(default_factory=list, description="Keys read but not supported.")

    @model_validator(mode="after")
    def _check(self) -> Service:
        if self.app and self.django_settings:
            raise ValueError("set `app` or `django_settings`, not both")
        if not self.app and not self.django_settings and not self.functions:
            raise ValueError(
                "nothing to deploy: set `app: module:attr`, `django_settings` or `functions`"
            )
        for name, fn in self.functions.items():
            if fn.handler is None:
                raise ValueError(f"function {name!r} needs a `handler` (module.function)")
        if self.tasks.function and self.tasks.function not in self.all_function_names():
            raise ValueError(f"tasks.function {self.tasks.function!r} is not a function")
        return self

    # -- derived views (no state of their own) -------------------------------

    @property
    def has_app(self) -> bool:
        return bool(self.app or self.django_settings)

    def all_function_names(self) -> list[str]:
        names = [APP_FUNCTION] if self.has_app else []
        return names + list(self.functions)

    def function(self, name: str) -> Function:
        """The function `name` with the service's defaults filled in (`app` included)."""
        if name == APP_FUNCTION and self.has_app:
            base = Function(
                environment={}, secrets=list(self.secrets), permissions=list(self.permissions),
                payload=self.payload, snapshot=self.snapshot, layers=list(self.layers),
            )
        elif name in self.functions:
            base = self.functions[name]
        else:
            raise KeyError(name)
        return base.model_copy(
            update={
                "memory": base.memory or self.memory or DEFAULT_MEMORY,
                "timeout": base.timeout or self.timeout or DEFAULT_TIMEOUT,
                "keep_alive": base.keep_alive if base.keep_alive is not None
                else (self.keep_alive if self.keep_alive is not None else DEFAULT_KEEP_ALIVE),
                "concurrency": base.concurrency if base.concurrency is not None
                else self.concurrency,
                "environment": {**self.environment, **base.environment},
                "snapshot": self.snapshot if base.snapshot is None else base.snapshot,
                "layers": base.layers or list(self.layers),
            }
        )

    def resolved_functions(self) -> dict[str, Function]:
        return {name: self.function(name) for name in self.all_function_names()}

    def physical_name(self, name: str) -> str:
        """Deployed name of a function or resource: `{service}-{stage}-{name}`."""
        return f"{self.service}-{self.stage}-{name}"

    @property
    def effective_health_path(self) -> str:
        return self.local.health_path or self.health_path


class StageEntry(StageSettings):
    """A stage as written under `stages:`: its own keys plus overrides of any service key.

    Overrides are validated after merging, as part of `Service`, so this model allows extras.
    """

    model_config = ConfigDict(extra="allow")


class ConfigFile(ServiceSettings):
    """aloft.yml as written: service-wide settings plus `stages`."""

    stages: dict[str, StageEntry | None] = Field(
        default_factory=dict, description="Stages by name; each may `extends` another."
    )
    provider: Literal["local", "aws"] = "local"
    aws: AwsSettings = Field(default_factory=AwsSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    debug: bool = False
