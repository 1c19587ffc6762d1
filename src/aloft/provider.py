"""The provider interface: the CLI talks to `local` and `aws` through this one Protocol."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aloft.errors import Location, UsageError

if TYPE_CHECKING:  # annotations only: shell completion imports this without pydantic
    from aloft.config.models import Service
    from aloft.package.manifest import Manifest


@dataclass(frozen=True)
class DeployResult:
    url: str | None
    version: int
    functions: dict[str, int] = field(default_factory=dict)  # function name -> version
    schedules: list[str] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)  # instructions that were applied
    # False when nothing was applied: a deploy whose artifact and configuration match what
    # the stage serves (no new version), a rollback to the version it serves. `version` and
    # `url` are then the stage's as they were.
    changed: bool = True


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
        self, service: Service, *, plan_only: bool = False, steps: DeploySteps | None = None
    ) -> DeployResult: ...

    def rollback(self, service: Service, steps: int = 1, *, to: int | None = None
                 ) -> DeployResult:
        """Serve the version `steps` back, or version `to` (a UsageError listing the versions
        there are when the stage has no version `to`)."""
        ...

    def undeploy(self, service: Service) -> None: ...

    def status(self, service: Service) -> dict[str, Any]: ...

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
