"""`LocalProvider`: the `aloft.provider.Provider` of the embedded local cloud.

It runs in the CLI process: it builds the artifact (from the build cache), uploads what the
daemon lacks (HEAD first: unchanged artifacts are not sent), then asks the daemon, which starts
on first use, to plan and apply. Everything stateful happens in the daemon.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aloft import errors
from aloft.config.models import Service
from aloft.errors import DeployError, Interrupted, Location, UsageError, interrupt_exit_code
from aloft.local.control.client import CloudClient
from aloft.local.services.secrets import LocalSecrets
from aloft.package.progress import Progress
from aloft.provider import (
    DeadLetter,
    DeployResult,
    DeploySteps,
    HealthPassed,
    InvokeOutput,
    LogLine,
    PlanStep,
    StageStatus,
    StaticPublished,
    phase,
    plan_step,
)
from aloft.stage.names import stage_prefix

FOLLOW_WAIT = 20.0
CANCEL_TIMEOUT = 10.0
"""How long Ctrl-C waits for the daemon to call a deploy off (it stops the new version's
instances: a fraction of a second)."""


def called_off_message(data: dict[str, Any], stage: str) -> str:
    """What an interrupted deploy left, from the daemon's answer to `deploy/cancel`."""
    serving, outcome = int(data.get("serving") or 0), data.get("outcome")
    keeps = (f"version {serving} keeps serving" if serving else
             f"stage {stage} stays undeployed")
    if outcome == "completed":
        return (f"the deploy had already switched: version {data.get('version')} serves "
                f"(`aloft rollback {stage}` serves the previous one)")
    if outcome == "failed":
        return f"the deploy failed before it could be called off; {keeps}"
    return f"version {data.get('next')} was not published; {keeps}"


def _deploy_result(data: dict[str, Any]) -> DeployResult:
    return DeployResult(
        url=data.get("url"),
        version=int(data.get("version") or 0),
        functions={str(k): int(v) for k, v in (data.get("functions") or {}).items()},
        schedules=list(data.get("schedules") or []),
        plan=[as_plan_step(i) for i in data.get("plan") or []],
        changed=bool(data.get("changed", True)),
        urls=[str(u) for u in data.get("urls") or []],
        warnings=[str(w) for w in data.get("warnings") or []],
        release=[(str(r["command"]), str(r.get("output") or ""))
                 for r in data.get("release") or []],
        health=[HealthPassed(str(x["function"]), int(x["version"]), str(x["check"]))
                for x in data.get("health") or []],
        unchecked=bool(data.get("unchecked", False)),
    )


def as_plan_step(instruction: dict[str, Any]) -> PlanStep:
    """One of the daemon's plan instructions: `action` on `name` (`function` is its physical
    name, `config_hash` a digest, `resource` the resource's whole spec: not shown)."""
    hidden: tuple[str, ...] = ("function", "config_hash", "resource")
    if instruction.get("changes"):  # what changes, not the whole new list
        hidden = (*hidden, "routes")
    return plan_step(instruction, action="action", resource="name", hidden=hidden)


def run_on(service: Service, python_version: str, progress: Progress | None = None,
           ) -> tuple[dict[str, Any], list[str]]:
    """What the functions of a local deploy run on (the deploy request's `runtime`: the
    artifact's Python and Lambda's runtime layer for it, and the same for each Python that a
    function declares as its own), and the warnings to show: a declared Python is not
    installed here, a layer could not be installed."""
    from aloft.package.provided import local_runtime
    from aloft.package.python import find_interpreter, runtime_warning

    runtime, layer_warning = local_runtime(python_version, progress)
    warnings = [w for w in (runtime_warning(service.runtime), layer_warning) if w]
    versions: dict[str, dict[str, str | None]] = {}
    for name, fn in service.functions.items():
        version = fn.runtime
        if not version or version in (python_version, service.runtime) or version in versions:
            continue
        if find_interpreter(version) is None:
            warnings.append(
                f"`functions.{name}.runtime`: Python {version} is not installed here, so the "
                f"local cloud runs {name} with Python {python_version} (install it, e.g. `uv "
                f"python install {version}`)")
            continue
        versions[version], layer_warning = local_runtime(version, progress)
        warnings += [layer_warning] if layer_warning else []
    return {**runtime, **({"versions": versions} if versions else {})}, warnings


class LocalProvider:
    """The Provider, and the capabilities `DeadLetters` and `LocalRuns`."""

    def __init__(self, home: str | Path | None = None, port: int | None = None):
        self.client = CloudClient(home, port)

    @property
    def home(self) -> Path:
        """The local cloud's state directory."""
        return self.client.home.root

    # -- deployments ---------------------------------------------------------------------

    def deploy(
        self, service: Service, *, plan_only: bool = False, steps: DeploySteps | None = None,
        health_check: bool = True,
    ) -> DeployResult:
        from aloft.package import build
        from aloft.package.django_static import served

        manifest = steps.build(service) if steps is not None else build(service)
        service = served(service, manifest)  # Django's static files, found at build
        runtime, warnings = run_on(service, manifest.python_version)
        self.client.ensure_running()
        request = {
            "runtime": runtime,  # the declared Python (when installed) and Lambda's boto3
            "service": service.model_dump(mode="json"),
            "code_sha256": manifest.code.sha256,
            "layer_sha256": manifest.layer.sha256 if manifest.layer else None,
            "tasks": manifest.tasks,  # the code calls @aloft.task: its functions may invoke
            "plan_only": plan_only,
            "deploy_id": uuid.uuid4().hex,  # by which Ctrl-C calls this deploy off
            "health_check": health_check,
        }
        planned = _deploy_result(self.client.call("POST", "deploy", {
            **request, "plan_only": True, "deploy_id": None}))  # a plan: nothing to call off
        planned.warnings[:0] = warnings
        if plan_only or not planned.changed:
            # Nothing to upload, apply or verify: the stage serves this artifact and
            # configuration already (the daemon plans again under its lock when applying).
            return planned
        try:
            with phase(steps, "upload"):
                for artifact in (manifest.code, manifest.layer):
                    if artifact is not None and not self.client.has_artifact(artifact.sha256):
                        self.client.put_artifact(artifact.sha256, artifact.path)
            with phase(steps, "apply"):  # publish, health-check, switch the alias (in the daemon)
                result = _deploy_result(self.client.call("POST", "deploy", request))
        except KeyboardInterrupt as exc:
            raise Interrupted(self._called_off(service, str(request["deploy_id"])),
                              exit_code=interrupt_exit_code(exc)) from None
        with phase(steps, "verify"):
            self._verify(service, result)
        result.warnings[:0] = warnings
        return result

    def _called_off(self, service: Service, deploy_id: str) -> str:
        """After Ctrl-C: call the deploy off in the daemon (unless it already switched) and
        say what the stage serves, as the daemon reports it."""
        try:
            data = self.client.call("POST", "deploy/cancel", {
                "deploy_id": deploy_id, "service": service.service, "stage": service.stage,
            }, timeout=CANCEL_TIMEOUT, start=False)
        except (errors.AloftError, OSError) as exc:
            why = exc.message if isinstance(exc, errors.AloftError) else str(exc)
            return (f"the deploy may not have been called off ({why}); "
                    f"`aloft status {service.stage}` shows which version serves")
        return called_off_message(data, service.stage)

    def _verify(self, service: Service, result: DeployResult) -> None:
        """The stage's alias points at the version just deployed (read back from the daemon)."""
        serving = self.status(service).version
        if serving != result.version:
            raise DeployError(
                f"{service.service} {service.stage} serves version {serving} after deploying "
                f"version {result.version}", where=Location(stage=service.stage),
                fix="another deploy or rollback ran at the same time: check `aloft status`",
            )

    def rollback(self, service: Service, steps: int = 1, *, to: int | None = None
                 ) -> DeployResult:
        return _deploy_result(self.client.call("POST", "rollback", {
            "service": service.service, "stage": service.stage, "steps": steps, "to": to}))

    def undeploy(self, service: Service) -> None:
        self.client.call("POST", "undeploy", {"service": service.service,
                                              "stage": service.stage})

    def status(self, service: Service) -> StageStatus:
        data: dict[str, Any] = self.client.call(
            "GET", "status", query={"service": service.service, "stage": service.stage},
            start=False)  # read-only: a cloud that is not running is said so, not started
        return StageStatus(url=data.get("url"), version=int(data.get("version") or 0),
                           report=data)

    def publish_static(self, service: Service) -> StaticPublished:
        """The gateway serves the stage's `static:` directory as it is: nothing to upload, once
        a deploy has told it which directory (checked: what the stage serves is said)."""
        assert service.static is not None
        report = self.status(service).report
        path = "/" + service.static.path.strip("/")
        directory = str((service.root / service.static.directory).resolve())
        # (a daemon older than the "static" key reports nothing to check against)
        if "static" in report and report["static"] != {"path": path, "directory": directory}:
            raise DeployError(
                f"the deployed version does not serve {service.static.directory}/ at {path}/ "
                "yet", where=Location(stage=service.stage),
                fix=f"run `aloft deploy {service.stage}`: the stage then serves them")
        return StaticPublished(url=str(report["url"]).rstrip("/") + path + "/",
                               where=f"the local gateway, from {service.static.directory}/")

    # -- invocations -----------------------------------------------------------------------

    def invoke(
        self, service: Service, function: str, event: Any, *, asynchronous: bool = False
    ) -> InvokeOutput:
        if function not in service.all_function_names():
            raise UsageError(
                f"{service.service} has no function {function!r}",
                where=Location(stage=service.stage, function=function),
                fix=f"functions: {', '.join(service.all_function_names())}",
            )
        data = self.client.call("POST", "invoke", {
            "service": service.service, "stage": service.stage, "function": function,
            "event": event, "async": asynchronous,
        })
        if asynchronous:
            return InvokeOutput(payload=None, logs="", error=None)
        return InvokeOutput(payload=data.get("payload"), logs=data.get("logs") or "",
                            error=data.get("error"))

    def logs(
        self,
        service: Service,
        *,
        function: str | None = None,
        since: float | None = None,
        filter_text: str | None = None,
        follow: bool = False,
    ) -> Iterator[LogLine]:
        query: dict[str, Any] = {"service": service.service, "stage": service.stage,
                                 "function": function, "filter": filter_text,
                                 "since": since if since is not None else time.time() - 600}
        prefix = stage_prefix(service.service, service.stage) + "-"
        data = self.client.call("GET", "logs", query=query, start=False)
        yield from _lines(data, prefix)
        cursor = int(data.get("cursor") or 0)
        while follow:
            data = self.client.call("GET", "logs", query={**query, "after": cursor,
                                                         "wait": FOLLOW_WAIT}, start=False)
            yield from _lines(data, prefix)
            cursor = max(cursor, int(data.get("cursor") or 0))

    def schedule(self, service: Service, enabled: bool, names: Sequence[str] = ()) -> list[str]:
        data = self.client.call("POST", "schedules", {
            "service": service.service, "stage": service.stage, "enabled": enabled,
            "names": list(names)})
        return list(data.get("changed") or [])

    def secrets(self, service: Service) -> LocalSecrets:
        return LocalSecrets(self.client, service.service, service.stage)

    # -- the dead-letter queue (aloft dlq) ------------------------------------------------------

    def dead_letters(self, service: Service) -> list[DeadLetter]:
        data = self.client.call("GET", "dlq", query={"service": service.service,
                                                     "stage": service.stage}, start=False)
        return [_dead_letter(e) for e in data.get("events") or []]

    def redrive(self, service: Service, ids: Sequence[str] = ()) -> list[str]:
        data = self.client.call("POST", "dlq/redrive", {
            "service": service.service, "stage": service.stage, "ids": list(ids)})
        return list(data.get("redriven") or [])


def _dead_letter(event: dict[str, Any]) -> DeadLetter:
    return DeadLetter(id=str(event["id"]), function=str(event["function"]),
                      qualifier=event.get("qualifier"), attempts=int(event.get("attempts") or 0),
                      created=float(event.get("created") or 0.0),
                      status=str(event.get("status") or "dead"), error=event.get("error"),
                      payload=str(event.get("payload") or ""))


def _lines(data: dict[str, Any], prefix: str) -> Iterator[LogLine]:
    """Log lines with the function's logical name (`app`, not `svc-dev-app`)."""
    for line in data.get("lines") or []:
        yield LogLine(timestamp=float(line["timestamp"]),
                      function=str(line["function"]).removeprefix(prefix),
                      text=str(line["text"]), request_id=line.get("request_id"))
