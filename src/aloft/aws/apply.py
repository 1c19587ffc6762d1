"""Executing a plan: each step is a few AWS calls through the client façade.

Every step that creates something returns the step that deletes it; if a later step fails, the
applier runs those in reverse, so a failed run leaves no half-made stage (updates are left as
they are: the stage alias still points at the old version, and the next deploy completes them).
The steps themselves live in apply_storage, apply_functions, apply_api, apply_triggers and
apply_cdn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aloft.aws import specs as s
from aloft.aws import steps as st
from aloft.aws.apply_api import ApiSteps
from aloft.aws.apply_base import Undo
from aloft.aws.apply_cdn import CdnSteps
from aloft.aws.apply_functions import FunctionSteps
from aloft.aws.apply_storage import StorageSteps
from aloft.aws.apply_triggers import TriggerSteps
from aloft.aws.client import AwsClient
from aloft.aws.errors import AwsNotFound
from aloft.aws.record import Release
from aloft.aws.state import ActualState
from aloft.errors import AloftError, DeployError
from aloft.provider import HealthPassed


@dataclass
class ApplyResult:
    applied: list[st.Step] = field(default_factory=list)
    release: Release | None = None
    api: tuple[str, str] | None = None
    versions: dict[str, str] = field(default_factory=dict)  # logical -> alias version
    refs: dict[str, str] = field(default_factory=dict)
    health: list[HealthPassed] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Applier(StorageSteps, FunctionSteps, ApiSteps, TriggerSteps, CdnSteps):
    """Runs steps in order; each step type has one `_do_<StepName>` method."""

    def __init__(self, aws: AwsClient, desired: s.Desired, actual: ActualState,
                 action: str = "deploy") -> None:
        super().__init__(aws, desired, actual)
        self.action = action
        self.created: list[st.Step] = []  # undo steps of what this applier's runs created
        self._handlers: dict[type[st.Step], Callable[[Any], Undo]] = {
            getattr(st, name[len("_do_"):]): getattr(self, name)
            for name in dir(self) if name.startswith("_do_")
        }

    def run(self, steps: list[st.Step]) -> ApplyResult:
        undo = self.created  # shared by every run of this applier (upload, then apply)
        done: list[st.Step] = []
        for step in steps:
            try:
                undo += self._handlers[type(step)](step)
            except Exception as exc:
                self._undo(undo)
                if isinstance(exc, DeployError):
                    raise
                msg = exc.message if isinstance(exc, AloftError) else repr(exc)
                fix = exc.fix if isinstance(exc, AloftError) else None
                if self.action == "deploy":
                    raise DeployError(
                        f"deploy failed at `{step.describe()}`: {msg}; undid {len(undo)} "
                        f"resource(s) this run created, the previous version keeps serving",
                        where=getattr(exc, "where", None),
                        fix=fix or "fix the cause and deploy again: it completes what is left",
                    ) from exc
                raise DeployError(
                    f"{self.action} failed at `{step.describe()}`: {msg}",
                    where=getattr(exc, "where", None),
                    fix=fix or f"fix the cause and run `aloft {self.action}` again: it "
                               "continues where this run stopped",
                ) from exc
            done.append(step)
        return ApplyResult(done, self.release, self.api, {**self.versions}, dict(self.refs),
                           list(self.health), list(self.warnings))

    def _undo(self, undo: list[st.Step]) -> None:
        for step in reversed(undo):
            try:
                self._handlers[type(step)](step)
            except (AloftError, AwsNotFound):
                continue  # best effort: report the original failure, not the cleanup's
