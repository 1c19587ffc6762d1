"""The desired and actual shapes of a stage's AWS resources, as frozen comparable records.

`desired.py` builds them from the service; `state.py` reads them back from AWS in the very same
shapes, so that planning is equality on plain data. A value that is only known once something is
created (a new layer version's ARN, a new API's id, a new table's stream ARN) is a `${ref}`
placeholder, resolved when the plan is applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ApiKind = Literal["http", "rest", "url"]


def ref(name: str) -> str:
    """A placeholder for a value known only at apply time, e.g. ref('layer') -> '${layer}'."""
    return "${" + name + "}"


@dataclass(frozen=True)
class FunctionConfig:
    """What CreateFunction / UpdateFunctionConfiguration set (compared field by field)."""

    runtime: str
    handler: str
    role: str
    memory: int
    timeout: int
    environment: tuple[tuple[str, str], ...]
    layers: tuple[str, ...]
    description: str = ""
    tracing: Literal["Active", "PassThrough"] = "PassThrough"
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    dead_letter: str | None = None  # DeadLetterConfig's target ARN
    ephemeral_storage: int = 512  # EphemeralStorage's Size (MB of /tmp)
    log_format: Literal["Text", "JSON"] = "Text"  # LoggingConfig's LogFormat
    log_level: str | None = None  # LoggingConfig's ApplicationLogLevel (JSON only)
    snap_start: bool = False  # SnapStart's ApplyOn: PublishedVersions (else None)


def snap_start(c: FunctionConfig) -> dict[str, str]:
    """Lambda's SnapStart setting: a snapshot of each published version, or none."""
    return {"ApplyOn": "PublishedVersions" if c.snap_start else "None"}


def logging_config(c: FunctionConfig) -> dict[str, str]:
    """Lambda's LoggingConfig: the format, and with JSON the application's log level (the
    runtime sets the root logger's level from it)."""
    if c.log_format != "JSON":
        return {"LogFormat": "Text"}
    return {"LogFormat": "JSON", "ApplicationLogLevel": c.log_level or "INFO",
            "SystemLogLevel": "INFO"}


@dataclass(frozen=True)
class AsyncConfig:
    retries: int
    max_event_age: int
    on_failure: str | None  # destination ARN (the stage's failure queue)
    on_success: str | None = None  # destination ARN


@dataclass(frozen=True)
class CorsSpec:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    credentials: bool
    max_age: int


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # logical name: `app` or a key of `functions`
    physical: str
    config: FunctionConfig
    architecture: Literal["x86_64", "arm64"]
    code_sha256: str  # hex sha256 of the code zip
    code_key: str
    concurrency: int | None
    async_config: AsyncConfig
    url: CorsSpec | Literal["none"] | None = None  # function URL: None = no URL
    health_path: str | None = None  # the app's health path; None: initialising is the check
    payload: Literal["2.0", "1.0"] = "2.0"  # the HTTP events it gets (REST APIs: 1.0)
    provisioned: int | None = None  # provisioned concurrency on the stage alias; None: none


@dataclass(frozen=True)
class AlbSpec:
    """An `alb` event: a target group of the function's stage alias, and the listener rule
    forwarding to it (aloft.aws.albs)."""

    function: str  # logical
    physical: str
    name: str  # the target group's
    listener: str  # the user's listener ARN
    priority: int
    conditions: str  # the rule's conditions, JSON in the API's form
    multi_value_headers: bool


@dataclass(frozen=True)
class Permission:
    """A resource-policy statement on a function's stage alias letting a service invoke it."""

    function: str  # logical
    sid: str
    principal: str
    source_arn: str | None
    action: str = "lambda:InvokeFunction"


@dataclass(frozen=True)
class RouteSpec:
    key: str  # "$default" or "GET /items/{id}" (REST: the same form)
    function: str  # logical
    payload: Literal["2.0", "1.0"] = "2.0"
    authorizer: str | None = None  # a name of ApiSpec.authorizers; None: open
    scopes: tuple[str, ...] = ()  # jwt: the token must carry one of them
    api_key: bool = False  # REST APIs: the request needs an API key of the usage plan


AuthorizerKind = Literal["jwt", "request", "token"]


@dataclass(frozen=True)
class AuthorizerSpec:
    """An authorizer of the API (compared as read back: identity sources in the API's
    spelling; a REST API's have no payload version)."""

    name: str
    kind: AuthorizerKind
    identity: tuple[str, ...]
    ttl: int  # seconds an answer is cached (jwt: 0)
    function: str | None = None  # logical; the authorizer invokes its stage alias
    issuer: str | None = None  # jwt
    audience: tuple[str, ...] = ()  # jwt
    payload: Literal["1.0", "2.0"] | None = None  # HTTP API request authorizers
    simple_responses: bool = False  # HTTP API request authorizers
    validation: str | None = None  # token: identityValidationExpression


@dataclass(frozen=True)
class ApiKeySpec:
    name: str  # physical: `{service}-{stage}-{name}`
    value: str | None  # None: API Gateway makes one (any value read back matches)
    description: str = ""


@dataclass(frozen=True)
class UsagePlanSpec:
    """The REST API's usage plan (on its stage) and the API keys it meters."""

    name: str
    keys: tuple[ApiKeySpec, ...]
    quota_limit: int | None = None
    quota_period: str = "DAY"
    quota_offset: int = 0
    rate_limit: float | None = None
    burst_limit: int | None = None
    description: str = ""


@dataclass(frozen=True)
class ApiSpec:
    kind: ApiKind
    name: str
    routes: tuple[RouteSpec, ...]
    cors: CorsSpec | None
    tracing: bool = False  # X-Ray on the REST API's stage (HTTP APIs have no tracing)
    authorizers: tuple[AuthorizerSpec, ...] = ()  # those the routes name
    usage_plan: UsagePlanSpec | None = None  # REST APIs with API keys or private routes


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule: a schedule (`expression`), or an event pattern on a bus."""

    name: str
    expression: str  # rate(...) / cron(...); "" for an event pattern rule
    enabled: bool
    function: str  # logical
    input: str | None  # constant JSON input, or None for the scheduled event itself
    description: str = ""
    pattern: str | None = None  # JSON event pattern (`eventbridge` events)
    bus: str | None = None  # event bus name or ARN; None: the account's default bus
    input_path: str | None = None  # JSONPath of the part of the event sent

    @property
    def bus_name(self) -> str | None:
        """The bus's name (a bus ARN ends in `event-bus/NAME`)."""
        return self.bus.rsplit("/", 1)[-1] if self.bus else None


@dataclass(frozen=True)
class MappingSpec:
    function: str  # logical
    source_arn: str
    batch_size: int
    window: int
    partial_failures: bool
    enabled: bool
    starting_position: str | None  # streams only


@dataclass(frozen=True)
class SubscriptionSpec:
    function: str  # logical
    topic_arn: str
    filter_policy: str | None  # JSON


@dataclass(frozen=True)
class NotificationSpec:
    function: str  # logical
    events: tuple[str, ...]
    prefix: str | None
    suffix: str | None


@dataclass(frozen=True)
class BucketSpec:
    key: str
    name: str
    public: bool = False
    versioning: bool = False


@dataclass(frozen=True)
class QueueSpec:
    key: str
    name: str
    visibility_timeout: int = 30
    retention: int = 345600
    dead_letter: str | None = None  # queue name
    max_receives: int = 3
    fifo: bool = False


@dataclass(frozen=True)
class TopicSpec:
    key: str
    name: str


@dataclass(frozen=True)
class TableSpec:
    key: str
    name: str
    hash_key: str = "id"
    hash_type: str = "S"
    range_key: str | None = None
    range_type: str = "S"
    stream: str | None = None  # StreamViewType
    ttl: str | None = None


@dataclass(frozen=True)
class ParameterSpec:
    key: str
    name: str
    value: str | None
    secure: bool = False
    description: str = ""


@dataclass(frozen=True)
class Resources:
    buckets: tuple[BucketSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    topics: tuple[TopicSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    parameters: tuple[ParameterSpec, ...] = ()


STATIC_ROUTE = "@static"
"""The `RouteSpec.function` of the routes that proxy to the static bucket (not a function)."""


@dataclass(frozen=True)
class StaticFile:
    key: str  # object key: the path below the static directory, `/`-separated
    path: str  # the local file
    md5: str  # hex; the ETag S3 gives a single-part upload of these bytes
    size: int
    content_type: str


@dataclass(frozen=True)
class StaticSpec:
    """`static:` on an HTTP API: files in a bucket of the stage, proxied under `path`."""

    bucket: str
    region: str
    path: str  # URL prefix without a trailing slash, e.g. "/static"
    files: tuple[StaticFile, ...]
    cache_control: str = "no-cache"  # like the local gateway: revalidate with the ETag
    prefix: str = ""  # of the object keys: with a CDN, the URL path (`static/`)

    @property
    def origin(self) -> str:
        """The bucket's HTTPS REST endpoint (path-style when the name has a dot: the
        wildcard certificate covers one label only)."""
        region = self.region
        if "." in self.bucket:
            return f"https://s3.{region}.amazonaws.com/{self.bucket}"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com"

    @property
    def route_keys(self) -> tuple[str, str]:
        return (f"GET {self.path}/{{proxy+}}", f"HEAD {self.path}/{{proxy+}}")


@dataclass(frozen=True)
class RoleSpec:
    name: str
    arn: str
    policy: str  # JSON policy document (sorted keys: compared as text)


@dataclass(frozen=True)
class CdnSpec:
    """A CloudFront distribution: the API (`${api}`'s host) forwarded uncached, the static
    bucket (through an origin access control) cached under `static_path`."""

    reference: str  # CallerReference: one distribution per stage
    comment: str
    api_domain: str  # `{api}.execute-api.{region}.amazonaws.com` (placeholder until created)
    api_path: str  # the REST API's `/{stage}`; "" for an HTTP API's $default stage
    static_bucket: str | None = None  # the bucket's REST host, when `static:` is served
    static_path: str | None = None  # `/static`
    domain: str | None = None  # `aws.domain`, attached by `aloft certify`


@dataclass(frozen=True)
class Desired:
    """Everything one stage should be, computed from the Service and the built artifact."""

    service: str
    stage: str
    region: str
    account_id: str
    partition: str
    bucket: str
    create_bucket: bool  # False when `aws.bucket` names an existing bucket
    code_key: str
    code_path: str
    code_size: int
    code_sha256: str
    layer_key: str | None
    layer_path: str | None
    layer_size: int
    layer_sha256: str | None
    layer_name: str
    roles: tuple[RoleSpec, ...]  # the stage's, or one per function; () with `aws.role` ARN
    role_arn: str  # the stage's role (or the user's); a function's own is in its config
    functions: tuple[FunctionSpec, ...]
    api: ApiSpec | None
    permissions: tuple[Permission, ...]
    rules: tuple[RuleSpec, ...]
    mappings: tuple[MappingSpec, ...]
    subscriptions: tuple[SubscriptionSpec, ...]
    notifications: tuple[tuple[str, tuple[NotificationSpec, ...]], ...]  # bucket -> configs
    resources: Resources
    log_groups: tuple[tuple[str, int | None], ...]  # name, retention days
    tags: tuple[tuple[str, str], ...] = field(default=())
    domain: str | None = None  # custom domain (mapped by `aloft certify`)
    static: StaticSpec | None = None  # `static:` served from a bucket (HTTP APIs)
    secret_key: str | None = None  # the stage key's alias, when its secrets or grants use it
    cdn: CdnSpec | None = None  # `cdn: true`: CloudFront in front of the API and static files
    albs: tuple[AlbSpec, ...] = ()  # `alb` events

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    def alias_arn(self, physical: str) -> str:
        return self.arn("lambda", f"function:{physical}:{self.stage}")

    @property
    def state_key(self) -> str:
        return f"aloft/{self.service}/{self.stage}/state.json"
