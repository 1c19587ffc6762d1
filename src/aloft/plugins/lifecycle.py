"""A command as named steps, with the plugins' hooks before, at and after each.

    lifecycle = Lifecycle.begin("deploy", root, stage, first="validate")
    with lifecycle.step("package"):
        lifecycle.context.manifest = lifecycle.build(lifecycle.service)
    provider.deploy(lifecycle.service, steps=lifecycle)   # upload, apply, verify
    with lifecycle.step("finalize"): ...

`step(name)` runs `aloft_before_step`, then the body (aloft's own work), then `aloft_step` and
`aloft_after_step`. A hook that raises stops the command with a PluginError naming the plugin
and the step. `Lifecycle` is also the `aloft.provider.DeploySteps` a provider calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from aloft.config.models import Service
from aloft.plugins.context import Context
from aloft.plugins.loading import load_service
from aloft.plugins.manager import Plugins, stopped_at

if TYPE_CHECKING:
    from aloft.package.manifest import Manifest
    from aloft.package.progress import Progress

DEPLOY_STEPS = ("validate", "package", "upload", "apply", "verify", "finalize")
"""deploy's steps, in order; every other command has `start`, `run` and `finish`."""

PACKAGE_STEPS = frozenset({"deploy:package", "package:run"})
"""Steps at which `aloft_package(manifest, service)` runs."""

SERVING_FROM = "apply"
"""From the end of this deploy step on, the new version serves: an abort no longer keeps the
old one (it stops the command; `aloft rollback` serves the previous version again)."""


class Lifecycle:
    """One command's run: its plugins, its context and the steps done so far."""

    def __init__(self, command: str, plugins: Plugins, context: Context) -> None:
        self.command = command
        self.plugins = plugins
        self.context = context
        self.done: list[str] = []
        self.progress: Progress | None = None  # used by `build` (the CLI's progress display)
        self._built: tuple[Service, Manifest] | None = None

    @classmethod
    def begin(
        cls, command: str, root: Path, stage: str | None, *, first: str = "start",
        plan_only: bool = False, options: Mapping[str, str] | None = None,
    ) -> Lifecycle:
        """Load the stage and its plugins, then run the first step, at which `aloft_service`
        hooks change the model (before-hooks see the service as written)."""
        service, plugins = load_service(root, stage, options=options)
        return cls.started(command, service, plugins, first=first, plan_only=plan_only)

    @classmethod
    def started(
        cls, command: str, service: Service, plugins: Plugins, *, first: str = "start",
        plan_only: bool = False,
    ) -> Lifecycle:
        """Like `begin`, for a service already loaded."""
        lifecycle = cls(command, plugins, Context(command, service, plan_only=plan_only))
        with lifecycle.step(first):
            lifecycle.context.service = plugins.apply_service(
                lifecycle.context.service, f"at {command}:{first}")
        return lifecycle

    @property
    def service(self) -> Service:
        return self.context.service

    # -- steps ------------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        full = f"{self.command}:{name}"
        self._hook("aloft_before_step", "before", full, name)
        yield
        self._hook("aloft_step", "at", full, name)
        if full in PACKAGE_STEPS and self.context.manifest is not None:
            self.plugins.call("aloft_package", stopped_at(f"at {full}", self._fix(name)),
                              manifest=self.context.manifest, service=self.service)
        if self.command == "deploy" and name == "finalize" and self.context.result is not None \
                and not self.context.plan_only:
            self.plugins.call("aloft_deployed", stopped_at(f"at {full}", self._fix(name)),
                              service=self.service, result=self.context.result)
        self._hook("aloft_after_step", "after", full, name)
        self.done.append(name)

    def _hook(self, hook: str, when: str, full: str, name: str) -> None:
        self.plugins.call(hook, stopped_at(f"{when} {full}", self._fix(name, when)),
                          step=full, context=self.context)

    def _fix(self, name: str, when: str = "at") -> str:
        if self.command != "deploy" or self.context.plan_only:
            return "correct what the plugin reports, then run the command again"
        serving = SERVING_FROM in self.done or (name == SERVING_FROM and when != "before") \
            or name in ("verify", "finalize")
        if serving:
            return ("the new version is already serving; correct what the plugin reports, or "
                    f"run `aloft rollback {self.context.stage}` to serve the previous one")
        return "the previous version keeps serving; correct what the plugin reports and deploy " \
               "again"

    # -- the DeploySteps a provider calls ---------------------------------------------------

    def build(self, service: Service) -> Manifest:
        """The artifact for `service`, with the plugins' packaging steps (built once per
        service: the provider's call after the `package` step reuses it)."""
        from aloft.package import build

        if self._built is not None and self._built[0] == service:
            return self._built[1]
        manifest = build(service, progress=self.progress,
                         dependency_steps=self.plugins.dependency_steps(service))
        self._built = (service, manifest)
        return manifest

