"""The provider interface: the CLI talks to `local` and `aws` through this one Protocol, and
through the small capability protocols that only some providers have (`DeadLetters`,
`Certifies`, `Templates`, `LocalRuns`): a command asks for what it needs, never which provider
it holds. Providers answer with the frozen records below."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aloft.errors import Location, UsageError

if TYPE_CHECKING:  # annotations only: shell completion imports this without pydantic
    from pathlib import Path

    from aloft.config.models import Service
    from aloft.package.manifest import Manifest


@dataclass(frozen=True)
class PlanStep:
    """One instruction of a plan, as its provider describes it: what is done (`action`) to
    what (`resource`), its settings worth showing (`details`) and what the user should know
    (`note`, e.g. schedules a rollback cannot restore). `fields` is the instruction in the
    provider's own words, as `--json` prints it (scripts read those keys)."""

    action: str
    resource: str
    details: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


def plan_step(
    fields: Mapping[str, Any], *, action: str, resource: str, hidden: Collection[str] = ()
) -> PlanStep:
    """A provider's instruction (`fields`) as a PlanStep. `action` and `resource` name the keys
    that say what is done and to what; `hidden` the keys not worth showing (a digest, a name
    said twice). The details are the other keys with a value, in their order."""
    subject = fields.get(resource)
    subject = subject if isinstance(subject, str) else ""
    skip = {action, resource, "note", *hidden}
    details = {k: v for k, v in fields.items() if k not in skip and v is not None and v != subject}
    note = fields.get("note")
    return PlanStep(str(fields[action]), subject, details, None if note is None else str(note),
                    fields)


@dataclass(frozen=True)
class HealthPassed:
    """A new version that passed its health check before it served (aloft.health)."""

    function: str  # logical name
    version: int  # the function's version (on aws: Lambda's version number)
    check: str  # what it answered: `GET / answered 200`, `initialised`


@dataclass(frozen=True)
class DeployResult:
    url: str | None
    version: int
    functions: dict[str, int] = field(default_factory=dict)  # function name -> version
    schedules: list[str] = field(default_factory=list)
    plan: list[PlanStep] = field(default_factory=list)  # instructions that were applied
    # False when nothing was applied: a deploy whose artifact and configuration match what
    # the stage serves (no new version), a rollback to the version it serves. `version` and
    # `url` are then the stage's as they were.
    changed: bool = True
    # Every URL the stage answers at, the one to open first (the local cloud's stage host
    # `http://dev.shop.localhost:8750/`, then `url`); empty: only `url`.
    urls: list[str] = field(default_factory=list)
    # What the user must know although the deploy succeeded (shown in yellow): a first deploy
    # published although its health check answered a 5xx (aloft.health), say.
    warnings: list[str] = field(default_factory=list)
    # The `release:` commands that ran in the new version, each with what it printed.
    release: list[tuple[str, str]] = field(default_factory=list)
    # The health checks the new versions passed before they served (none: no new version,
    # or `health_check=False`, which `unchecked` then names).
    health: list[HealthPassed] = field(default_factory=list)
    unchecked: bool = False  # the deploy was asked to skip the health checks


@dataclass(frozen=True)
class StageStatus:
    """What a stage serves, as its provider reports it (`aloft status`). `report` is the whole
    report in the provider's own words (the local cloud's versions and metrics, AWS's releases
    and API): the sections `aloft status` shows, and what `--json` prints (scripts read its
    keys). `url` and `version` are what a command reads of it."""

    url: str | None
    version: int  # the version that serves (on aws: its release number); 0 when none does
    report: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InvokeOutput:
    payload: Any  # the function's return value (decoded JSON)
    logs: str = ""
    error: str | None = None  # set when the function raised, timed out or crashed


@dataclass(frozen=True)
class LogLine:
    timestamp: float
    function: str
    text: str
    request_id: str | None = None


class DeploySteps(Protocol):
    """What a provider calls during `deploy` so that plugins run at its phase boundaries.

    A provider builds through `build` and wraps its phases in `step("upload")`,
    `step("apply")` and `step("verify")`; hooks run before and after each, and may raise
    (`aloft.errors.PluginError`) to stop the deploy there. Absent (None), nothing changes.
    """

    def build(self, service: Service) -> Manifest: ...

    def step(self, name: str) -> AbstractContextManager[None]: ...


def phase(steps: DeploySteps | None, name: str) -> AbstractContextManager[None]:
    """`steps.step(name)`, or a no-op without steps: `with phase(steps, "upload"): ...`."""
    return steps.step(name) if steps is not None else nullcontext()


class SecretStore(Protocol):
    """A stage's secrets (`aloft secret`): SecureString parameters `/{service}/{stage}/{NAME}`
    encrypted with the stage's KMS key (`key_alias`, created on first use). Names only come
    back out: a value is never returned, logged or put in an error message."""

    @property
    def key_alias(self) -> str: ...

    def set(self, name: str, value: str) -> str:
        """Store (or overwrite) NAME; returns its parameter path."""
        ...

    def names(self) -> list[str]:
        """The stage's secret names, sorted."""
        ...

    def delete(self, name: str) -> bool:
        """False when the stage had no such secret."""
        ...


_SECRET_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def check_secret_name(name: str, stage: str) -> str:
    """`name` if it can be a secret's NAME (the last part of its parameter path)."""
    if not _SECRET_NAME.match(name):
        raise UsageError(
            f"secret name {name!r} may only use letters, digits, '_', '-' and '.'",
            where=Location(stage=stage), fix="e.g. `aloft secret set dev API_TOKEN`")
    return name


def check_secret_value(value: str, stage: str) -> str:
    if not value:
        raise UsageError("the secret's value is empty", where=Location(stage=stage),
                         fix="pipe the value on stdin or type it at the prompt")
    return value


class Provider(Protocol):
    def deploy(
        self, service: Service, *, plan_only: bool = False, steps: DeploySteps | None = None,
        health_check: bool = True,
    ) -> DeployResult:
        """Plan and apply. A new version serves only once it passed its health check
        (aloft.health), unless `health_check` is False (`--no-health-check`)."""
        ...

    def rollback(self, service: Service, steps: int = 1, *, to: int | None = None
                 ) -> DeployResult:
        """Serve the version `steps` back, or version `to` (a UsageError listing the versions
        there are when the stage has no version `to`)."""
        ...

    def undeploy(self, service: Service) -> None: ...

    def status(self, service: Service) -> StageStatus: ...

    def invoke(
        self, service: Service, function: str, event: Any, *, asynchronous: bool = False
    ) -> InvokeOutput: ...

    def logs(
        self,
        service: Service,
        *,
        function: str | None = None,
        since: float | None = None,
        filter_text: str | None = None,
        follow: bool = False,
    ) -> Iterator[LogLine]: ...

    def schedule(self, service: Service, enabled: bool, names: Sequence[str] = ()) -> list[str]: ...

    def secrets(self, service: Service) -> SecretStore: ...


# -- capabilities: what only some providers do ------------------------------------------------
# `isinstance(provider, DeadLetters)` and so on: a command that needs one says so when the
# stage's provider lacks it, in the capability's words.


@dataclass(frozen=True)
class DeadLetter:
    """An asynchronous event that failed every retry (`aloft dlq`)."""

    id: str
    function: str  # its physical name
    qualifier: str | None
    attempts: int
    created: float  # epoch seconds
    status: str
    error: str | None  # the last attempt's error
    payload: str  # the event, as JSON text


@runtime_checkable
class DeadLetters(Protocol):
    """A provider that keeps the async events that failed every retry, and queues them again."""

    def dead_letters(self, service: Service) -> list[DeadLetter]: ...

    def redrive(self, service: Service, ids: Sequence[str] = ()) -> list[str]:
        """Queue the stage's dead letters again (all, or `ids`); the ids queued."""
        ...


@dataclass(frozen=True)
class Certified:
    """A stage's custom domain, certified and mapped to its API (`aloft certify`)."""

    domain: str
    certificate_arn: str
    target: str  # the domain the alias record points at (e.g. API Gateway's regional domain)
    url: str


@runtime_checkable
class Certifies(Protocol):
    """A provider that gives a stage's API its custom domain (a certificate and DNS)."""

    def certify(self, service: Service, *, timeout: float = 600.0) -> Certified: ...


@dataclass(frozen=True)
class StaticPublished:
    """A stage's static files after `collectstatic` (`aloft manage STAGE collectstatic`)."""

    url: str  # where they are served: the stage's URL and the static path
    where: str  # what serves them, as people read it
    uploaded: int = 0  # files uploaded (new or changed)
    deleted: int = 0  # files removed from the bucket


@runtime_checkable
class PublishesStatic(Protocol):
    """A provider that publishes a stage's `static:` files collected on this machine."""

    def publish_static(self, service: Service) -> StaticPublished:
        """Serve `service.static`'s directory as it is now (the stage must be deployed)."""
        ...


@runtime_checkable
class Templates(Protocol):
    """A provider that writes a stage as an infrastructure template (CloudFormation)."""

    def template(self, service: Service, manifest: Manifest | None) -> str:
        """The template as text; `manifest`: the last build's (None: assume a layer)."""
        ...


@runtime_checkable
class LocalRuns(Protocol):
    """A provider whose stages run on this machine, in the local cloud kept in `home` (where
    `aloft dev` runs a stage of any provider: it says so when the stage's is another)."""

    @property
    def home(self) -> Path: ...
