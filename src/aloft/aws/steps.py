"""Plan instructions: plain frozen data, printed by `--plan` and executed by `apply`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from aloft.aws import specs as s


@dataclass(frozen=True)
class Step:
    """Base of every instruction; `subject` is what `--plan` prints after the verb."""

    @property
    def op(self) -> str:
        return type(self).__name__

    @property
    def subject(self) -> str:
        first = dataclasses.fields(self)[0]
        value = getattr(self, first.name)
        return str(getattr(value, "name", value))

    def describe(self) -> str:
        return f"{self.op} {self.subject}"

    def to_dict(self) -> dict[str, Any]:
        """`op`, `resource` and the step's scalar settings (one level of nesting flattened;
        long documents shortened), for `--plan` and DeployResult.plan."""
        out: dict[str, Any] = {"op": self.op, "resource": self.subject}
        _flatten(self, out, depth=0)
        return out


_LONG = frozenset({"document", "record_json"})
_RESERVED = frozenset({"action", "op", "type", "resource", "name", "target", "subject"})


def _flatten(obj: Any, out: dict[str, Any], depth: int) -> None:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            if depth < 2:
                _flatten(value, out, depth + 1)
        elif (_scalar(value) and value is not None and value != out["resource"]
              and f.name not in out and f.name not in _RESERVED):
            out[f.name] = f"<{len(value)} chars>" if f.name in _LONG else value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


# -- deployment bucket, artifacts, role -------------------------------------------------------

@dataclass(frozen=True)
class CreateDeploymentBucket(Step):
    bucket: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UploadObject(Step):
    key: str
    bucket: str
    path: str
    size: int


@dataclass(frozen=True)
class PublishLayer(Step):
    name: str
    bucket: str
    key: str
    sha256: str
    runtime: str
    architectures: tuple[str, ...]


@dataclass(frozen=True)
class CreateRole(Step):
    name: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CreateSecretKey(Step):
    """The stage's KMS key (`aloft secret set` makes it too): its secrets and secure
    parameters are encrypted with it, and the role's `kms:Decrypt` names it. Kept by undeploy,
    as the secrets are."""

    alias: str


@dataclass(frozen=True)
class PutRolePolicy(Step):
    role: str
    policy_name: str
    document: str


# -- declared resources ---------------------------------------------------------------------

@dataclass(frozen=True)
class CreateBucket(Step):
    spec: s.BucketSpec
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SetBucketPublic(Step):
    """Make a declared bucket public-read (`public: true`) or private again."""

    bucket: str
    public: bool


@dataclass(frozen=True)
class CreateStaticBucket(Step):
    """The bucket of the `static:` files: not listable, readable only through the API."""

    bucket: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PutStaticPolicy(Step):
    """Give an existing static bucket its read-through-the-API policy (a new secret)."""

    bucket: str


@dataclass(frozen=True)
class SyncStatic(Step):
    """Upload the new and changed static files, delete the removed ones."""

    bucket: str
    cache_control: str
    upload: tuple[s.StaticFile, ...]
    delete: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.op} {self.bucket} (+{len(self.upload)} -{len(self.delete)})"

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "uploads": len(self.upload), "deletes": len(self.delete),
                "bytes": sum(f.size for f in self.upload)}


@dataclass(frozen=True)
class CreateQueue(Step):
    spec: s.QueueSpec
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SetQueueAttributes(Step):
    spec: s.QueueSpec


@dataclass(frozen=True)
class CreateTopic(Step):
    spec: s.TopicSpec
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CreateTable(Step):
    spec: s.TableSpec
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PutParameter(Step):
    spec: s.ParameterSpec
    tags: tuple[tuple[str, str], ...] = ()
    overwrite: bool = False


@dataclass(frozen=True)
class CreateLogGroup(Step):
    name: str
    retention: int | None
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PutRetention(Step):
    name: str
    retention: int | None


# -- functions --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateFunction(Step):
    spec: s.FunctionSpec
    bucket: str
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def subject(self) -> str:
        return self.spec.physical


@dataclass(frozen=True)
class UpdateFunctionCode(Step):
    function: str  # physical
    bucket: str
    key: str
    architecture: str
    changes: str = ""  # what `--plan` shows: old → new (aloft.aws.plan_changes)


@dataclass(frozen=True)
class UpdateFunctionConfiguration(Step):
    function: str  # physical
    config: s.FunctionConfig
    changes: str = ""


@dataclass(frozen=True)
class PublishVersion(Step):
    function: str  # logical
    physical: str
    snap_start: bool = False  # wait for the version's snapshot (Pending until it is taken)

    @property
    def subject(self) -> str:
        return self.physical


@dataclass(frozen=True)
class HealthCheck(Step):
    """Invoke the version this run published (its number, not the alias) with the health
    check's event (aloft.health); the alias moves only if it answers as required."""

    function: str  # logical
    physical: str
    path: str | None  # the app's health path: GET it; None: the initialisation ping
    payload: Literal["2.0", "1.0"]
    base_path: str  # before the app's path in the request ("/{stage}" on REST APIs)
    api_stage: str  # the API's stage in the event ("$default", or the REST stage)
    serving: str | None  # the version the alias serves now (None: nothing serves yet)
    first_deploy: bool = False  # the stage serves nothing yet (aloft.health's first-deploy rule)

    @property
    def subject(self) -> str:
        return self.physical


@dataclass(frozen=True)
class CreateAlias(Step):
    function: str  # logical
    physical: str
    alias: str

    @property
    def subject(self) -> str:
        return f"{self.physical}:{self.alias}"


@dataclass(frozen=True)
class UpdateAlias(Step):
    """Point the stage alias at `version`, or at the version this run published when None."""

    function: str  # logical
    physical: str
    alias: str
    version: str | None = None
    previous: str | None = None

    @property
    def subject(self) -> str:
        return f"{self.physical}:{self.alias}"


@dataclass(frozen=True)
class PutConcurrency(Step):
    function: str  # physical
    reserved: int | None  # None removes the reservation


@dataclass(frozen=True)
class CreateAlbTarget(Step):
    """A target group of the stage alias, the alias registered in it, and the listener rule
    forwarding to it (the invoke permission is added before: _permissions)."""

    spec: s.AlbSpec
    alias_arn: str
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def subject(self) -> str:
        return f"{self.spec.name} ({self.spec.function}, priority {self.spec.priority})"


@dataclass(frozen=True)
class UpdateAlbTarget(Step):
    """New conditions or multi-value headers; the rule made again if it was deleted."""

    spec: s.AlbSpec
    target_group: str  # ARN
    rule: str | None  # ARN; None: gone
    alias_arn: str


@dataclass(frozen=True)
class DeleteAlbTarget(Step):
    name: str
    target_group: str  # ARN
    rule: str | None


@dataclass(frozen=True)
class PutProvisionedConcurrency(Step):
    """Provisioned concurrency on the stage alias (it follows the alias to each version it
    points at; Lambda allocates it in the background, in minutes)."""

    function: str  # physical
    alias: str
    executions: int | None  # None removes it


@dataclass(frozen=True)
class PutEventInvokeConfig(Step):
    function: str  # physical
    alias: str
    config: s.AsyncConfig


@dataclass(frozen=True)
class PutFunctionUrl(Step):
    function: str  # physical
    alias: str
    cors: s.CorsSpec | None
    exists: bool


@dataclass(frozen=True)
class DeleteFunctionUrl(Step):
    function: str
    alias: str


# -- API, permissions, triggers ---------------------------------------------------------------

@dataclass(frozen=True)
class CreateApi(Step):
    spec: s.ApiSpec
    stage: str
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UpdateHttpApi(Step):
    api_id: str
    spec: s.ApiSpec
    remove_routes: tuple[str, ...]
    add_routes: tuple[s.RouteSpec, ...]
    keep_cors: bool = False  # a rollback changes routes only: the API's CORS stays
    changes: str = ""


@dataclass(frozen=True)
class PutRestRoutes(Step):
    api_id: str
    spec: s.ApiSpec
    stage: str
    changes: str = ""


@dataclass(frozen=True)
class SetApiTracing(Step):
    """X-Ray tracing on the REST API's stage (`tracing: true`)."""

    api_id: str
    stage: str
    enabled: bool


@dataclass(frozen=True)
class DeleteApi(Step):
    api_id: str
    kind: str


@dataclass(frozen=True)
class PutUsagePlan(Step):
    """Create or update the REST API's usage plan on its stage, and its API keys: the new
    ones made and added, the removed or changed ones deleted (a key's value cannot change)."""

    spec: s.UsagePlanSpec
    stage: str
    changes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "keys": [k.name for k in self.spec.keys]}


@dataclass(frozen=True)
class DeleteUsagePlan(Step):
    """The usage plan (taken off its stages first) and its API keys."""

    plan_id: str
    keys: tuple[tuple[str, str], ...]  # (name, id)


@dataclass(frozen=True)
class AddPermission(Step):
    permission: s.Permission
    physical: str
    alias: str

    @property
    def subject(self) -> str:
        return f"{self.permission.sid} on {self.physical}:{self.alias}"


@dataclass(frozen=True)
class RemovePermission(Step):
    sid: str
    physical: str
    alias: str


@dataclass(frozen=True)
class PutRule(Step):
    spec: s.RuleSpec
    target_arn: str
    exists: bool = False
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DeleteRule(Step):
    name: str
    bus: str | None = None  # None: the default bus


@dataclass(frozen=True)
class CreateEventSourceMapping(Step):
    spec: s.MappingSpec
    alias_arn: str

    @property
    def subject(self) -> str:
        return f"{self.spec.source_arn} -> {self.spec.function}"


@dataclass(frozen=True)
class UpdateEventSourceMapping(Step):
    uuid: str
    spec: s.MappingSpec


@dataclass(frozen=True)
class DeleteEventSourceMapping(Step):
    uuid: str


@dataclass(frozen=True)
class Subscribe(Step):
    spec: s.SubscriptionSpec
    alias_arn: str

    @property
    def subject(self) -> str:
        return f"{self.spec.topic_arn} -> {self.spec.function}"


@dataclass(frozen=True)
class SetSubscriptionFilter(Step):
    arn: str
    filter_policy: str | None


@dataclass(frozen=True)
class Unsubscribe(Step):
    arn: str


@dataclass(frozen=True)
class PutBucketNotifications(Step):
    bucket: str
    configs: tuple[tuple[s.NotificationSpec, str], ...]  # (spec, alias ARN)


# -- deletions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeleteFunction(Step):
    function: str  # physical


@dataclass(frozen=True)
class DeleteLogGroup(Step):
    name: str


@dataclass(frozen=True)
class DeleteRole(Step):
    name: str
    policy_name: str


@dataclass(frozen=True)
class DeleteLayerVersion(Step):
    arn: str


@dataclass(frozen=True)
class DeleteBucket(Step):
    """Empty (every object version) and delete a bucket."""

    bucket: str


@dataclass(frozen=True)
class DeleteObjects(Step):
    """Delete every object (all versions) under `prefix` of a bucket aloft does not own."""

    bucket: str
    prefix: str


@dataclass(frozen=True)
class DeleteQueue(Step):
    name: str


@dataclass(frozen=True)
class DeleteTopic(Step):
    arn: str


@dataclass(frozen=True)
class DeleteTable(Step):
    name: str


@dataclass(frozen=True)
class DeleteParameter(Step):
    name: str


@dataclass(frozen=True)
class DeleteDomainName(Step):
    """The API Gateway custom domain `aloft certify` made (its API mappings go with it)."""

    domain: str


@dataclass(frozen=True)
class CreateDistribution(Step):
    """CloudFront in front of the stage (`cdn: true`), with the static bucket's access
    control and the bucket policy that lets this distribution read it."""

    spec: s.CdnSpec
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def subject(self) -> str:
        return self.spec.comment


@dataclass(frozen=True)
class UpdateDistribution(Step):
    distribution: str
    spec: s.CdnSpec


@dataclass(frozen=True)
class DeleteDistribution(Step):
    """Disabled, then deleted once CloudFront has applied that (minutes on AWS); the access
    control and the bucket's CloudFront statement go with it."""

    distribution: str
    oac: str = ""
    static_bucket: str = ""


@dataclass(frozen=True)
class WriteState(Step):
    """Record what the stage holds now (the release is appended when versions are known)."""

    bucket: str
    key: str
    record_json: str
    release: bool  # append a release (something was published, or the schedules changed)
    rules: tuple[s.RuleSpec, ...] = ()  # the schedule rules the appended release declares
    routes: tuple[s.RouteSpec, ...] | None = None  # its API's routes (() no API)
