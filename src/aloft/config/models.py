"""The service model: aloft.yml for one resolved stage, typed and validated (pydantic v2).

`ConfigFile` is the file as written (top-level settings plus `stages`); `Service` is what every
other layer consumes: one stage, `extends` applied, variables resolved, defaults filled in.
Shorthands (`http: "GET /items"`, `schedule: "rate(5 minutes)"`, `queue: jobs`) are normalised here
so that consumers only ever see the long form.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aloft.config.api_auth import ApiKey, Authorizer, RouteAuthorizer, UsagePlan
from aloft.config.cfn_types import CfnCondition, CfnText
from aloft.config.cron import cron_problem

APP_FUNCTION = "app"
"""The name of the implicit function that serves `app` / `django_settings`."""

DEFAULT_MEMORY = 512
DEFAULT_TIMEOUT = 30
DEFAULT_EPHEMERAL_STORAGE = 512  # MB of /tmp, as Lambda
DEFAULT_KEEP_ALIVE = 600

_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
_DOTTED = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
_APP_REF = r"^[A-Za-z_][A-Za-z0-9_.]*[:.][A-Za-z_][A-Za-z0-9_.]*$"
_DOTTED_FUNCTION = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"


class Model(BaseModel):
    """Base: unknown keys are errors (the loader turns them into 'did you mean' hints).

    `defer_build`: validators are built on first use, not at import, so commands that never
    validate a config (`aloft --help`, completion) skip that cost.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=False, populate_by_name=True, defer_build=True
    )


# --------------------------------------------------------------------------- events


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")


class HttpEvent(Model):
    """`http: {path: /items/{id}, method: get}` or the shorthand `http: "GET /items/{id}"`."""

    path: str = Field(description="URL path; `{param}` captures one segment, `{proxy+}` the rest.")
    method: str = Field("ANY", description="HTTP method, or ANY.")
    cors: bool | None = Field(None, description="Override the service's CORS for this route.")
    authorizer: RouteAuthorizer | None = Field(
        None, description="An authorizer of `authorizers` (name, or {name, scopes}).")
    private: bool = Field(False, description="REST APIs: callers need a key of `api_keys`.")

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


PER_FUNCTION = "per_function"
"""`aws.role: per_function`: one IAM role per function."""

_RATE = re.compile(r"^(\d+)\s+(minute|minutes|hour|hours|day|days)$")


class ScheduleEvent(Model):
    """`schedule: {rate: 5 minutes}`, `{cron: "0 12 * * ? *"}` or `schedule: "rate(5 minutes)"`."""

    rate: str | None = Field(None, description="`N minute(s)|hour(s)|day(s)` (a `cron(...)` here "
                             "is the cron, as in serverless.yml).")
    cron: str | None = Field(None, description="AWS's 6-field cron, in UTC.")
    input: Any = Field(None, description="Constant JSON the function receives as its event.")
    enabled: bool = Field(True, description="Set false to pause the schedule.")
    name: str | None = Field(None, description="Rule name; derived from the function if omitted.")
    description: str | None = Field(None, description="Free text.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = {"expression": value}
        rate = value.get("rate") if isinstance(value, dict) else None
        if (isinstance(rate, str) and rate.strip().startswith("cron(")
                and "cron" not in value and "expression" not in value):
            # the Serverless Framework's `rate:` takes a cron(...) too, as `rate: rate(...)`
            # is read here: it is the schedule's cron, not a malformed rate
            value = {k: v for k, v in value.items() if k != "rate"} | {"expression": rate}
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
        problem = cron_problem(text)
        if problem:
            raise ValueError(problem)
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

    name: CfnText = Field(
        description="The queue resource's key, or a queue ARN (text or `!ImportValue ...`)."
    )
    batch_size: int = Field(10, ge=1, le=10000, description="Messages per invocation, at most.")
    window: int = Field(0, ge=0, le=300, description="Maximum batching window, seconds.")
    partial_failures: bool = Field(True, description="Report batchItemFailures (retry only those).")
    enabled: bool = Field(True, description="Set false to pause delivery.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _named(value)


class TopicEvent(Model):
    """`topic: alerts` or `topic: {name: alerts, filter_policy: {...}}`."""

    name: CfnText = Field(
        description="The topic resource's key, or a topic ARN (text or `!Ref Topic`)."
    )
    filter_policy: dict[str, Any] | None = Field(
        None, description="SNS filter policy on message attributes."
    )

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

    name: str = Field(description="The bucket resource's key, or a bucket name.")
    events: list[str] = Field(
        default_factory=lambda: ["s3:ObjectCreated:*"],
        description="`created`, `removed` or S3 event types such as s3:ObjectCreated:Put.",
    )
    prefix: str | None = Field(None, description="Only objects whose key starts with this.")
    suffix: str | None = Field(None, description="Only objects whose key ends with this.")

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

    type: Literal["dynamodb", "kinesis"] = Field("dynamodb", description="dynamodb or kinesis.")
    name: CfnText = Field(
        description="The table (dynamodb) or stream (kinesis) name, or its ARN."
    )
    batch_size: int = Field(100, ge=1, le=10000, description="Records per invocation, at most.")
    window: int = Field(0, ge=0, le=300, description="Maximum batching window, seconds.")
    starting_position: Literal["LATEST", "TRIM_HORIZON"] = Field(
        "LATEST", description="Where a new consumer starts reading."
    )
    partial_failures: bool = Field(True, description="Report batchItemFailures (retry only those).")
    enabled: bool = Field(True, description="Set false to pause delivery.")

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


class EventBridgeEvent(Model):
    """`eventbridge: {pattern: {source: [shop.orders]}}`: events of a bus that match a pattern."""

    pattern: dict[str, Any] = Field(description="EventBridge event pattern, e.g. {source: [x]}.")
    bus: CfnText | None = Field(
        None, description="Event bus name or ARN; default: the account's default bus."
    )
    input: Any = Field(None, description="Constant JSON the function receives instead.")
    input_path: str | None = Field(None, description="JSONPath of the part of the event sent.")
    enabled: bool = Field(True, description="Set false to pause the rule.")
    name: str | None = Field(None, description="Rule name; derived from the function if omitted.")
    description: str | None = Field(None, description="Free text.")


class AlbEvent(Model):
    """`alb: {listener: arn, priority: 1, paths: [/api/*]}`: a target of a load balancer."""

    listener: CfnText = Field(description="The ALB listener's ARN.")
    priority: int = Field(ge=1, le=50000, description="Rule priority on the listener.")
    paths: list[str] = Field(default_factory=list, description="Path patterns (`/api/*`).")
    methods: list[str] = Field(default_factory=list, description="HTTP methods; default all.")
    hosts: list[str] = Field(default_factory=list, description="Host header patterns.")
    headers: dict[str, list[str]] = Field(
        default_factory=dict, description="Header name -> accepted values."
    )
    query: dict[str, str] = Field(default_factory=dict, description="Query string conditions.")
    multi_value_headers: bool = Field(
        False, description="Send multiValueHeaders (the target group's setting)."
    )


EVENT_KINDS = ("http", "schedule", "queue", "topic", "bucket", "stream", "eventbridge", "alb")


class Event(Model):
    """One trigger of a function: exactly one of its keys is set."""

    http: HttpEvent | None = Field(None, description="An HTTP route.")
    schedule: ScheduleEvent | None = Field(None, description="A rate or cron schedule.")
    queue: QueueEvent | None = Field(None, description="Messages of a queue, in batches.")
    topic: TopicEvent | None = Field(None, description="Messages published to a topic.")
    bucket: BucketEvent | None = Field(None, description="Object changes in a bucket.")
    stream: StreamEvent | None = Field(
        None, description="Records of a DynamoDB table stream or a Kinesis stream."
    )
    eventbridge: EventBridgeEvent | None = Field(
        None, description="EventBridge events that match a pattern."
    )
    alb: AlbEvent | None = Field(None, description="Requests an Application Load Balancer sends.")

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

    effect: Literal["Allow", "Deny"] = Field("Allow", description="Allow or Deny.")
    action: list[str] = Field(description="IAM actions, e.g. s3:GetObject.")
    resource: list[CfnText] = Field(
        default_factory=lambda: list[CfnText](["*"]),
        description="ARNs the actions apply to (text, or `!GetAtt Table.Arn`, `!Ref`, ...).",
    )

    @model_validator(mode="before")
    @classmethod
    def _iam_case(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = {str(k).lower(): v for k, v in value.items()}
            for key in ("action", "resource"):
                # one action or resource: text, or one CloudFormation function (`!Ref Topic`)
                if isinstance(value.get(key), str | dict):
                    value[key] = [value[key]]
        return value


def _python_version(value: Any) -> str:
    text = str(value).strip().lower()
    text = text.removeprefix("python")
    if not re.match(r"^3\.\d{1,2}$", text):
        raise ValueError(f"runtime {value!r} must be a Python version such as '3.12'")
    return text


class Destinations(Model):
    """Where Lambda sends the record of an asynchronous invocation (a function, queue, topic or
    bus: a key of this service or an ARN)."""

    on_success: CfnText | None = Field(None, description="After a successful invocation.")
    on_failure: CfnText | None = Field(None, description="After the last failed attempt.")


class FunctionSettings(Model):
    """Settings a function may set, and the service may set as defaults for all of them."""

    memory: int | None = Field(None, ge=128, le=10240, description="Memory limit in MB.")
    timeout: int | None = Field(None, ge=1, le=900, description="Timeout in seconds.")
    concurrency: int | None = Field(None, ge=0, description="Reserved concurrency.")
    keep_alive: int | None = Field(None, ge=0, description="Idle seconds before an instance stops.")
    environment: dict[str, CfnText] = Field(
        default_factory=dict,
        description="Environment variables: text, or a CloudFormation function (`!Ref Queue`).",
    )
    dead_letter: CfnText | None = Field(
        None, description="Queue or topic (key or ARN) receiving async events that failed "
        "every retry; default: aloft's dead-letter list (`aloft dlq`)."
    )
    ephemeral_storage: int | None = Field(
        None, ge=512, le=10240,
        description="MB of writable /tmp per instance (Lambda's EphemeralStorage); default 512.",
    )
    log_format: Literal["text", "json"] | None = Field(
        None, description="Lambda's log format (LoggingConfig LogFormat): `text` (default) or "
        "`json` records.",
    )
    log_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] | None = Field(
        None, description="The root logger's level (LoggingConfig ApplicationLogLevel; needs "
        "`log_format: json`, as on Lambda); default: Python's (WARNING).",
    )
    snap_start: bool | None = Field(
        None, description="Lambda SnapStart on aws (Python 3.12+, billed by AWS): each "
        "published version is initialised once and cold starts restore its snapshot, running "
        "`snapshot_restore_py`'s hooks; default off. The local cloud snapshots always "
        "(`snapshot`).",
    )

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("environment", mode="before")
    @classmethod
    def _env_strings(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): ("" if v is None else v if isinstance(v, dict) else _env_str(v))
                    for k, v in value.items()}
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
    description: str | None = Field(None, description="Free text shown by `aloft status`.")
    events: list[Event] = Field(default_factory=list, description="What triggers the function.")
    secrets: list[str] = Field(default_factory=list, description="Secrets this function may read.")
    permissions: list[Statement] = Field(
        default_factory=list, description="Extra IAM statements for this function."
    )
    payload: Literal["2.0", "1.0"] = Field(
        "2.0", description="HTTP event format: 2.0 (HTTP API) or 1.0 (REST API v1)."
    )
    records: Literal["batch", "each"] = Field(
        "batch", description="`each` calls the handler once per record and reports failures."
    )
    snapshot: bool | None = Field(None, description="Fork instances from an initialised template.")
    retries: int = Field(2, ge=0, le=2, description="Async invocation retries.")
    max_event_age: int = Field(21600, ge=60, le=21600, description="Seconds an async event lives.")
    architecture: Literal["x86_64", "arm64"] | None = Field(
        None, description="CPU architecture; default from `aws.architecture`."
    )
    layers: list[str] = Field(
        default_factory=list,
        description="Lambda layer ARNs (aws); default: the service's `layers`.",
    )
    runtime: str | None = Field(
        None, description="This function's Python version; default: the service's `runtime`."
    )
    provisioned_concurrency: int | None = Field(
        None, ge=0, description="Instances kept initialised on aws (Lambda provisioned "
        "concurrency)."
    )
    tracing: bool | None = Field(
        None, description="X-Ray tracing of this function; default: `aws.tracing`."
    )
    destinations: Destinations | None = Field(
        None, description="Where the results of asynchronous invocations go."
    )

    @field_validator("runtime", mode="before")
    @classmethod
    def _function_runtime(cls, value: Any) -> Any:
        return None if value is None else _python_version(value)

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

    function: str | None = Field(
        None, description="Function that runs tasks; default: the calling function."
    )


class KeepWarm(Model):
    """Ping the app on a schedule so that an instance stays initialised."""

    enabled: bool = Field(True, description="Ping the app on a schedule.")
    rate: str = Field("4 minutes", description="How often: `N minute(s)|hour(s)`.")

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

    path: str = Field("/static", description="URL path prefix.")
    directory: str = Field("static", description="Directory of the files, relative to the project.")
    bucket: str | None = Field(
        None, description="Bucket serving the files on aws; default one per stage."
    )
    cdn: bool = Field(
        False, description="On aws, a CloudFront distribution in front of the files (cached) "
        "and the API (forwarded); the local cloud serves the files directly.")


class Cors(Model):
    enabled: bool = Field(True, description="Answer CORS preflights and add CORS headers.")
    origins: list[str] = Field(
        default_factory=lambda: ["*"], description="Allowed origins (`*` for any)."
    )
    methods: list[str] = Field(default_factory=lambda: ["*"], description="Allowed methods.")
    headers: list[str] = Field(
        default_factory=lambda: ["*"], description="Allowed request headers."
    )
    expose_headers: list[str] = Field(
        default_factory=list, description="Response headers the browser may read."
    )
    credentials: bool = Field(False, description="Allow cookies and credentials.")
    max_age: int = Field(600, description="Seconds a browser caches the preflight answer.")

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
    public: bool = Field(False, description="Allow public reads of the objects.")
    versioning: bool = Field(False, description="Keep every version of each object.")


class QueueResource(Model):
    name: str | None = Field(None, description="Physical name; default {service}-{stage}-{key}.")
    visibility_timeout: int = Field(
        30, ge=0, le=43200, description="Seconds a received message stays hidden."
    )
    retention: int = Field(345600, ge=60, le=1209600, description="Seconds a message is kept.")
    dead_letter: str | bool | None = Field(
        None, description="true creates {queue}-dlq; a string names another queue resource."
    )
    max_receives: int = Field(
        3, ge=1, le=1000, description="Receives before a message moves to the dead-letter queue."
    )
    fifo: bool = Field(False, description="First-in-first-out queue.")


class TopicResource(Model):
    name: str | None = Field(None, description="Physical name; default {service}-{stage}-{key}.")


class TableResource(Model):
    name: str | None = Field(None, description="Physical name; default {service}-{stage}-{key}.")
    hash_key: str = Field("id", description="Partition key attribute.")
    hash_type: Literal["S", "N", "B"] = Field(
        "S", description="S (string), N (number) or B (binary)."
    )
    range_key: str | None = Field(None, description="Sort key attribute.")
    range_type: Literal["S", "N", "B"] = Field(
        "S", description="S (string), N (number) or B (binary)."
    )
    stream: (
        Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"] | bool | None
    ) = Field(None, description="Stream view type, or true for NEW_AND_OLD_IMAGES.")
    ttl: str | None = Field(None, description="Attribute holding each item's expiry time.")


class ParameterResource(Model):
    name: str | None = Field(None, description="Parameter path; default /{service}/{stage}/{key}.")
    value: str | None = Field(None, description="The parameter's value.")
    secure: bool = Field(False, description="Store encrypted (SecureString).")
    description: str | None = Field(None, description="Free text.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"value": str(value)} if isinstance(value, str | int | float) else value


class Resources(Model):
    buckets: dict[str, BucketResource] = Field(default_factory=dict, description="Buckets by key.")
    queues: dict[str, QueueResource] = Field(default_factory=dict, description="Queues by key.")
    topics: dict[str, TopicResource] = Field(default_factory=dict, description="Topics by key.")
    tables: dict[str, TableResource] = Field(default_factory=dict, description="Tables by key.")
    parameters: dict[str, ParameterResource] = Field(
        default_factory=dict, description="Parameters (configuration values) by key."
    )

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
    subnet_ids: list[str] = Field(default_factory=list, description="Subnet ids.")
    security_group_ids: list[str] = Field(default_factory=list, description="Security group ids.")


class AwsSettings(Model):
    region: str | None = Field(
        None, description="AWS region, e.g. eu-west-1; default from the AWS profile."
    )
    profile: str | None = Field(None, description="AWS credentials profile name.")
    bucket: str | None = Field(None, description="Deployment bucket; default one per stage.")
    vpc: Vpc | None = Field(
        None, description="Run functions inside these subnets and security groups."
    )
    domain: str | None = Field(None, description="Custom domain name served by the API.")
    certificate: str | None = Field(None, description="ACM certificate ARN for `domain`.")
    tags: dict[str, str] = Field(
        default_factory=dict, description="Tags added to every AWS resource."
    )
    api: Literal["http", "rest", "url"] = Field(
        "http",
        description="HTTP front door: `http` (HTTP API), `rest` (REST API) or `url` "
        "(function URL).",
    )
    tracing: bool = Field(False, description="Enable AWS X-Ray tracing.")
    architecture: Literal["x86_64", "arm64"] = Field(
        "x86_64", description="Lambda CPU architecture."
    )
    log_retention_days: int | None = Field(
        14, description="Days CloudWatch keeps logs; null keeps them forever."
    )
    role: str | None = Field(
        None, description="An IAM role ARN to use instead of creating one, or `per_function`: "
        "one role per function, each allowing only what its function may do (by default one "
        "role serves the stage, with what any of its functions may do).")

    @property
    def existing_role(self) -> str | None:
        """The ARN of the user's own role, when the stage uses one."""
        return self.role if self.role and self.role != PER_FUNCTION else None


class LocalSettings(Model):
    health_path: str | None = Field(None, description="Overrides the service's health_path.")


class StageSettings(Model):
    """Keys only a stage sets (besides overriding any service key)."""

    extends: str | None = Field(
        None, description="Another stage whose settings this stage starts from."
    )
    provider: Literal["local", "aws"] = Field(
        "local", description="`local` (embedded cloud, the default) or `aws`."
    )
    aws: AwsSettings = Field(
        default_factory=AwsSettings, description="Settings used when provider is aws."
    )
    local: LocalSettings = Field(
        default_factory=LocalSettings, description="Settings used when provider is local."
    )
    debug: bool = Field(False, description="Show tracebacks in error responses.")


class ServiceSettings(FunctionSettings):
    """Everything that may appear at the top level of aloft.yml and be overridden by a stage."""

    service: str = Field(pattern=_NAME, description="Service name; part of every resource name.")
    runtime: str = Field(
        default_factory=lambda: f"{sys.version_info.major}.{sys.version_info.minor}",
        description="Python version, e.g. '3.12'.",
    )
    app: str | None = Field(None, description="`module:attr` of a WSGI or ASGI app.")
    django_settings: str | None = Field(None, description="Django settings module.")
    functions: dict[str, Function] = Field(
        default_factory=dict,
        description="Handler functions by name (the app is the implicit `app`).",
    )
    tasks: Tasks = Field(default_factory=Tasks, description="Where `@aloft.task` functions run.")
    keep_warm: KeepWarm = Field(
        default_factory=lambda: KeepWarm(enabled=False),
        description="Keep an app instance initialised: true, a rate or a mapping.",
    )
    static: Static | None = Field(None, description="Serve static files.")
    cdn: bool = Field(
        False, description="On aws, a CloudFront distribution in front of the API (and the "
        "static files, cached); `static.cdn` says the same.")
    cors: Cors = Field(
        default_factory=lambda: Cors(enabled=False),
        description="CORS for the HTTP API: true, an origin or a mapping.",
    )
    secrets: list[str] = Field(default_factory=list, description="Secrets the app may read.")
    permissions: list[Statement] = Field(
        default_factory=list, description="IAM statements the app (and every function) is allowed."
    )
    resources: Resources = Field(
        default_factory=Resources,
        description="Buckets, queues, topics, tables and parameters to create.",
    )
    exception_handler: str | None = Field(
        None, description="`module.func(exception, event, context)` called on errors."
    )
    binary_types: list[str] = Field(
        default_factory=lambda: [
            "image/*", "audio/*", "video/*", "font/*", "application/octet-stream",
            "application/pdf", "application/zip", "application/gzip",
        ],
        description="Response content types sent base64-encoded.",
    )
    health_path: str = Field("/", description="Path checked before a new version serves.")
    release: list[str] = Field(
        default_factory=list,
        description="Commands run in the app's new version before it serves (a release "
        "phase): `manage migrate --noinput` (Django) or `package.module.function [args]`; one "
        "failing keeps the previous version serving.",
    )
    exclude: list[str] = Field(
        default_factory=list, description="Glob patterns left out of the code bundle."
    )
    requirements: str | None = Field(None, description="Requirements file; detected if omitted.")
    slim: bool = Field(False, description="Ship dependencies as an archive unpacked at cold start.")
    snapshot: bool = Field(True, description="Fork instances from an initialised template (local).")
    plugins: list[str] = Field(
        default_factory=list, description="aloft plugins (importable module names)."
    )
    payload: Literal["2.0", "1.0"] = Field(
        "2.0", description="HTTP event format of the app: 2.0 (HTTP API) or 1.0 (REST API)."
    )
    layers: list[str] = Field(
        default_factory=list, description="Lambda layer ARNs added to every function (aws)."
    )
    dotenv: bool | list[str] = Field(
        False, description="Read .env files for `${env:...}`: true reads .env.{stage}.local, "
        ".env.{stage}, .env.local and .env (the first one that sets a name wins); or a list of "
        "files. The process environment wins over them.",
    )
    conditions: dict[str, CfnCondition] = Field(
        default_factory=dict,
        description="CloudFormation conditions by name, for `Fn::If` in values (Fn::Equals, "
        "Fn::And, Fn::Or, Fn::Not).",
    )
    authorizers: dict[str, Authorizer] = Field(
        default_factory=dict, description="The API's authorizers by name (JWT or Lambda)."
    )
    authorizer: RouteAuthorizer | None = Field(
        None, description="The authorizer of the app's routes (name, or {name, scopes})."
    )
    api_keys: list[ApiKey] = Field(
        default_factory=list, description="REST APIs: the keys `private` routes accept."
    )
    usage_plan: UsagePlan | None = Field(
        None, description="REST APIs: the quota and rate each API key may use."
    )

    @field_validator("release")
    @classmethod
    def _release(cls, value: list[str]) -> list[str]:
        for command in value:
            try:
                words = shlex.split(command)
            except ValueError as exc:
                raise ValueError(f"release command {command!r}: {exc}") from None
            if not words or (words[0] == "manage" and len(words) == 1):
                raise ValueError(f"release command {command!r} is empty: write `manage "
                                 "migrate --noinput` or `package.module.function`")
            if words[0] != "manage" and not re.match(_DOTTED_FUNCTION, words[0]):
                raise ValueError(
                    f"release command {command!r} must start with `manage` (a Django "
                    "management command) or name a function as `package.module.function`")
        return value

    @field_validator("app")
    @classmethod
    def _app(cls, value: str | None) -> str | None:
        if value is not None and not re.match(_APP_REF, value):
            raise ValueError(f"app {value!r} must be `module:attribute`, e.g. `app:app`")
        return value

    @field_validator("runtime", mode="before")
    @classmethod
    def _runtime(cls, value: Any) -> Any:
        return _python_version(value)

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

    stage: str = Field(pattern=_NAME, description="The stage's name.")
    root: Path = Field(description="The project directory (holds the config file).")
    config_file: Path | None = Field(None, description="The file the service was read from.")
    warnings: list[str] = Field(default_factory=list, description="Keys read but not supported.")
    app_events: list[Event] = Field(
        default_factory=list,
        description="Events of the app function added by plugins (e.g. the keep-warm schedule).",
    )
    plugin_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Plugins' config sections by name, each validated by its plugin's model.",
    )

    @model_validator(mode="after")
    def _check(self) -> Service:
        if self.app and self.django_settings:
            raise ValueError("set `app` or `django_settings`, not both")
        if not self.app and not self.django_settings and not self.functions:
            raise ValueError(
                "nothing to deploy: set `app: module:attr`, `django_settings` or `functions`"
            )
        if self.release and not self.has_app:
            raise ValueError("`release` commands run in the app: set `app` or "
                             "`django_settings`")
        if not self.django_settings and any(c.split()[0] == "manage" for c in self.release):
            raise ValueError("`release: manage ...` runs a Django management command: set "
                             "`django_settings`")
        for name, fn in self.functions.items():
            if fn.handler is None:
                raise ValueError(f"function {name!r} needs a `handler` (module.function)")
        if self.tasks.function and self.tasks.function not in self.all_function_names():
            raise ValueError(f"tasks.function {self.tasks.function!r} is not a function")
        check_api_auth(self)
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
                events=list(self.app_events),
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
                "dead_letter": base.dead_letter if base.dead_letter is not None
                else self.dead_letter,
                "ephemeral_storage": base.ephemeral_storage or self.ephemeral_storage
                or DEFAULT_EPHEMERAL_STORAGE,
                "log_format": base.log_format or self.log_format,
                "log_level": base.log_level or self.log_level,
                "snap_start": base.snap_start if base.snap_start is not None
                else bool(self.snap_start),
            }
        )

    def resolved_functions(self) -> dict[str, Function]:
        return {name: self.function(name) for name in self.all_function_names()}

    @property
    def uses_cdn(self) -> bool:
        """`cdn: true` or `static: {cdn: true}`: a CloudFront distribution on aws."""
        return self.cdn or (self.static is not None and self.static.cdn)

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
    provider: Literal["local", "aws"] = Field(
        "local", description="`local` (embedded cloud, the default) or `aws`."
    )
    aws: AwsSettings = Field(
        default_factory=AwsSettings, description="Settings used when provider is aws."
    )
    local: LocalSettings = Field(
        default_factory=LocalSettings, description="Settings used when provider is local."
    )
    debug: bool = Field(False, description="Show tracebacks in error responses.")


def check_api_auth(service: Service) -> None:
    """Authorizers, routes and keys fit each other and the stage's API (`aws.api`): what
    passes here runs on the local cloud and on AWS alike. Messages start with the key path."""
    kind = service.aws.api
    for name, auth in service.authorizers.items():
        at = f"authorizers.{name}"
        if auth.function is not None and auth.function not in service.functions:
            raise ValueError(f"`{at}.function`: {auth.function!r} is not a key of `functions`")
        if auth.type == "jwt" and kind != "http":
            raise ValueError(f"`{at}.type`: jwt authorizers are HTTP APIs' (`aws.api: http`); "
                             f"this stage's API is `{kind}`")
        if auth.type == "token" and kind != "rest":
            raise ValueError(f"`{at}.type`: token authorizers are REST APIs' (`aws.api: rest`); "
                             "write `type: request` for an HTTP API")
        if kind == "rest" and (auth.simple_responses or auth.payload == "2.0"):
            raise ValueError(f"`{at}`: REST APIs' authorizers answer with an IAM policy "
                             "(payload 1.0): drop `simple_responses` and `payload`")
    routes: list[tuple[str, RouteAuthorizer | None, bool]] = []
    if service.has_app:
        routes.append(("authorizer", service.authorizer, False))
    for fname, fn in service.functions.items():
        for i, event in enumerate(fn.events):
            if event.http is not None:
                at = f"functions.{fname}.events[{i}].http"
                routes.append((f"{at}.authorizer", event.http.authorizer, event.http.private))
    for at, route_auth, private in routes:
        if private and kind != "rest":
            raise ValueError(f"`{at.removesuffix('.authorizer')}.private`: API keys are REST "
                             f"APIs' (`aws.api: rest`); this stage's API is `{kind}`")
        if private and not service.api_keys:
            raise ValueError(f"`{at.removesuffix('.authorizer')}.private`: the route needs an "
                             "API key, and `api_keys` declares none")
        if route_auth is None:
            continue
        if kind == "url":  # AWS would serve the route open: refused on both providers
            raise ValueError(f"`{at}`: function URLs (`aws.api: url`) have no authorizers; "
                             "use `aws.api: http` (or `rest`) for routes that need one")
        found = service.authorizers.get(route_auth.name)
        if found is None:
            known = ", ".join(sorted(service.authorizers)) or "none"
            raise ValueError(f"`{at}`: no authorizer {route_auth.name!r} in `authorizers` "
                             f"(declared: {known})")
        if route_auth.scopes and found.type != "jwt":
            raise ValueError(f"`{at}.scopes`: scopes are checked by jwt authorizers; "
                             f"{route_auth.name!r} is a {found.type} authorizer")
    if service.usage_plan is not None and kind != "rest":
        raise ValueError(f"`usage_plan`: usage plans are REST APIs' (`aws.api: rest`); this "
                         f"stage's API is `{kind}`")
    names = [k.name for k in service.api_keys]
    if len(set(names)) != len(names):
        raise ValueError("`api_keys`: two keys have one name")
