"""The stage model's records: what one stage of a service is, worked out once (frozen data).

`aloft.stage.build.stage_of` computes a `Stage` from the config's `Service` and an `Account`;
the providers only translate it (the local cloud into its platform records and plan
instructions, aws into plan steps and a CloudFormation template). Text that is only known once
the stage exists holds `${...}` placeholders (aloft.stage.late).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aloft.stage.names import Account, StageNames

Payload = Literal["2.0", "1.0"]
Architecture = Literal["x86_64", "arm64"]
Env = tuple[tuple[str, str], ...]


# -- grants ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """An IAM condition: `{operator: {key: values}}`."""

    operator: str  # StringEquals, ForAnyValue:StringEquals, ...
    key: str  # kms:ViaService, kms:ResourceAliases, ...
    values: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """One IAM statement: `actions` on `resources` (wildcards as IAM reads them)."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: Literal["Allow", "Deny"] = "Allow"
    conditions: tuple[Condition, ...] = ()


# -- functions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsyncSettings:
    """How Lambda retries an asynchronous invocation, and where its record goes after."""

    retries: int = 2
    max_event_age: int = 21600
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None  # destination ARN; None: the platform's dead-letter list


DEFAULT_ASYNC = AsyncSettings()
"""Lambda's defaults: two retries, events live six hours."""


@dataclass(frozen=True)
class Function:
    """One function of the stage (`app` or a key of `functions`), with the service's defaults."""

    name: str  # logical
    physical: str
    arn: str
    handler: str | None  # None: the app (`app:` / `django_settings`)
    runtime: str  # the Python version, "3.12"
    memory: int
    timeout: int
    keep_alive: int
    concurrency: int | None
    provisioned_concurrency: int | None
    architecture: Architecture | None  # None: the provider's default
    tracing: bool
    layers: tuple[str, ...]
    payload: Payload
    snapshot: bool
    description: str | None
    environment: Env  # what the function's configuration sets (Lambda adds its own)
    log_group: str
    log_format: Literal["text", "json"]  # Lambda's LoggingConfig: LogFormat
    log_level: str | None  # LoggingConfig's ApplicationLogLevel (json only); None: Python's
    ephemeral_storage: int  # MB of /tmp
    snap_start: bool  # Lambda SnapStart on aws (the local cloud's templates: `snapshot`)
    async_settings: AsyncSettings
    dead_letter: str | None  # ARN of the queue or topic of Lambda's dead-letter config
    grants: tuple[Grant, ...]

    @property
    def env(self) -> dict[str, str]:
        return dict(self.environment)


# -- API authorization -------------------------------------------------------------------------


IdentityKind = Literal["header", "querystring", "context", "stageVariables"]


@dataclass(frozen=True)
class IdentitySource:
    """Where an authorizer finds the caller's identity; each API kind writes it its own way."""

    kind: IdentityKind
    name: str

    @property
    def http_api(self) -> str:
        """HTTP APIs' spelling: `$request.header.Authorization`, `$context.requestId`."""
        prefix = "$request." if self.kind in ("header", "querystring") else "$"
        return f"{prefix}{self.kind}.{self.name}"

    @property
    def rest_api(self) -> str:
        """REST APIs' spelling: `method.request.header.Authorization`, `context.requestId`."""
        prefix = "method.request." if self.kind in ("header", "querystring") else ""
        return f"{prefix}{self.kind}.{self.name}"


@dataclass(frozen=True)
class Authorizer:
    """An authorizer of the stage's API: `jwt`, or a function of the stage (`request`,
    `token`) invoked with API Gateway's authorizer event."""

    name: str
    kind: Literal["jwt", "request", "token"]
    identity: tuple[IdentitySource, ...]
    ttl: int  # seconds an answer is cached per identity (Lambda authorizers; 0: not cached)
    function: str | None = None  # logical
    physical: str | None = None
    issuer: str | None = None  # jwt
    audience: tuple[str, ...] = ()
    jwks: str | None = None  # jwt, local cloud: a JWKS file (absolute) or loopback URL
    payload: Payload = "1.0"  # the request authorizer's event (token: always 1.0)
    simple_responses: bool = False  # HTTP APIs: `{isAuthorized, context}` answers
    validation: str | None = None  # token: the regular expression the token must match


@dataclass(frozen=True)
class RouteAuth:
    """What a route needs before its function runs: an authorizer's yes, an API key."""

    authorizer: str | None = None  # a name of Stage.authorizers
    scopes: tuple[str, ...] = ()  # jwt: the token must carry one of them
    api_key: bool = False  # REST APIs' `private: true`


@dataclass(frozen=True)
class ApiKey:
    name: str  # as written; its AWS name is `{service}-{stage}-{name}`
    value: str | None  # None: API Gateway makes one (the local cloud derives one)
    description: str = ""


@dataclass(frozen=True)
class UsagePlan:
    """What each API key may use: a quota per period and a throttle (requests per second)."""

    quota_limit: int | None = None
    quota_period: Literal["DAY", "WEEK", "MONTH"] = "DAY"
    quota_offset: int = 0
    rate_limit: float | None = None
    burst_limit: int | None = None
    description: str = ""


@dataclass(frozen=True)
class ApiAuth:
    """The stage's API authorization: its authorizers, API keys and usage plan."""

    api: Literal["http", "rest", "url"]  # the API kind whose semantics apply (`aws.api`)
    authorizers: tuple[Authorizer, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()
    usage_plan: UsagePlan | None = None

    def authorizer(self, name: str) -> Authorizer:
        return next(a for a in self.authorizers if a.name == name)


# -- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """An HTTP route: an `http` event, or the app's catch-all (`ANY /` and `ANY /{proxy+}`)."""

    method: str
    path: str
    function: str  # logical
    physical: str
    payload: Payload
    cors: bool | None = None  # the route's own `cors:`; None: the service's
    auth: RouteAuth | None = None  # its authorizer and API key; None: open

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Schedule:
    """A `schedule` event as a rule (keep-warm is one too)."""

    name: str  # the rule's name: `{service}-{stage}-{name or function-schedule[-i]}`
    function: str  # logical
    physical: str
    expression: str  # rate(...) or cron(...)
    input: str | None  # constant JSON text; None: EventBridge's Scheduled Event
    enabled: bool
    description: str
    keep_warm: bool


@dataclass(frozen=True)
class Binding:
    """An event source feeding a function: a queue or stream mapping, a topic subscription or a
    bucket notification."""

    kind: Literal["queue", "topic", "bucket", "stream"]
    function: str  # logical
    physical: str
    source: str  # the source's physical name, or its ARN when written as one
    arn: str  # the source's ARN (a declared table's stream: a `${stream:table}` placeholder)
    batch_size: int = 10
    window: int = 0
    partial_failures: bool = True
    enabled: bool = True
    filter_policy: str | None = None  # topic: the SNS filter policy as JSON text
    events: tuple[str, ...] = ()  # bucket: s3:ObjectCreated:* ...
    prefix: str | None = None
    suffix: str | None = None
    stream_type: Literal["dynamodb", "kinesis"] = "dynamodb"
    starting_position: Literal["LATEST", "TRIM_HORIZON"] | None = None  # streams only


@dataclass(frozen=True)
class EventRule:
    """An `eventbridge` event: events of a bus that match a pattern."""

    name: str  # the rule's name, as schedules' (`{function}-events[-i]` unless named)
    function: str  # logical
    physical: str
    pattern: str  # JSON text
    bus: str | None  # name or ARN; None: the account's default bus
    input: str | None
    input_path: str | None
    enabled: bool
    description: str


@dataclass(frozen=True)
class AlbTarget:
    """An `alb` event: the function as a target of a load balancer's listener rule."""

    function: str  # logical
    physical: str
    listener: str  # ARN
    priority: int
    conditions: str  # the rule's conditions as JSON text (paths, methods, hosts, ...)
    multi_value_headers: bool


# -- resources ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    key: str
    name: str
    arn: str
    public: bool = False
    versioning: bool = False


@dataclass(frozen=True)
class Queue:
    key: str  # `{key}-dlq` for the queue `dead_letter: true` creates
    name: str
    arn: str
    url: str
    visibility_timeout: int = 30
    retention: int = 345600
    dead_letter: str | None = None  # the dead-letter queue's name
    max_receives: int = 3
    fifo: bool = False
    declared: bool = True  # False: the queue `dead_letter: true` creates


@dataclass(frozen=True)
class Topic:
    key: str
    name: str
    arn: str


@dataclass(frozen=True)
class Table:
    key: str
    name: str
    arn: str
    hash_key: str = "id"
    hash_type: str = "S"
    range_key: str | None = None
    range_type: str = "S"
    stream: str | None = None  # StreamViewType
    ttl: str | None = None


@dataclass(frozen=True)
class Parameter:
    key: str
    name: str  # the path, /{service}/{stage}/{key}
    arn: str
    value: str | None
    secure: bool = False
    description: str = ""


@dataclass(frozen=True)
class Resources:
    """The declared resources (a queue's `dead_letter: true` queue right before it)."""

    buckets: tuple[Bucket, ...] = ()
    queues: tuple[Queue, ...] = ()
    topics: tuple[Topic, ...] = ()
    tables: tuple[Table, ...] = ()
    parameters: tuple[Parameter, ...] = ()


# -- the stage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Static:
    """`static:` files: served under `path` from `directory` (absolute)."""

    path: str
    directory: str
    bucket: str | None  # `static.bucket`


@dataclass(frozen=True)
class ReleaseCommand:
    """A `release:` command and the event that runs it in the app (aloft.stage.release)."""

    command: str
    event: Mapping[str, Any]


@dataclass(frozen=True)
class Stage:
    service: str
    stage: str
    account: Account
    functions: tuple[Function, ...]
    routes: tuple[Route, ...]  # `http` events first (most specific), then the app's catch-all
    schedules: tuple[Schedule, ...]
    bindings: tuple[Binding, ...]
    event_rules: tuple[EventRule, ...]
    alb_targets: tuple[AlbTarget, ...]
    resources: Resources
    static: Static | None
    secret_key_alias: str
    release: tuple[ReleaseCommand, ...] = ()
    api_auth: ApiAuth = ApiAuth("http")

    @property
    def names(self) -> StageNames:
        return StageNames(self.service, self.stage, self.account)

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(name)

    def grants(self) -> tuple[Grant, ...]:
        """Every function's grants, once each (the stage role's on aws)."""
        return tuple(dict.fromkeys(g for f in self.functions for g in f.grants))
