"""An in-memory `aloft.provider.Provider` for the CLI unit tests: it records the calls that
reach it (`calls`) and answers with fixed data, so a test checks what a command sends to its
provider and what it prints. `install` makes `provider_for` return it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from aloft.cli import providers
from aloft.config.models import Service
from aloft.errors import NotDeployedError
from aloft.provider import (
    DeployResult,
    HealthPassed,
    InvokeOutput,
    LogLine,
    PlanStep,
    StageStatus,
    check_secret_name,
    check_secret_value,
)
from aloft.stage.names import secret_key_alias, secret_parameter
from tests.unit.cli.cli_helpers import write

URL = "http://127.0.0.1:9999/shop/dev/"
PLAN_STEP = {"action": "create", "resource": "function shop-dev-app", "memory": 512}
STATUS = {"url": URL, "version": 3, "functions": [{"name": "app", "version": 3, "instances": 1}]}


class MemorySecrets:
    """A stage's secrets in a dict (`values`: parameter path -> value)."""

    def __init__(self, values: dict[str, str], calls: list[tuple[str, Any]], service: str,
                 stage: str) -> None:
        self.values, self.calls = values, calls
        self.service, self.stage = service, stage
        self.key_alias = secret_key_alias(service, stage)

    def set(self, name: str, value: str) -> str:
        self.calls.append(("secret set", name))  # never the value
        path = secret_parameter(self.service, self.stage, check_secret_name(name, self.stage))
        self.values[path] = check_secret_value(value, self.stage)
        return path

    def names(self) -> list[str]:
        self.calls.append(("secret list", self.stage))
        prefix = f"/{self.service}/{self.stage}/"
        return sorted(p.removeprefix(prefix) for p in self.values if p.startswith(prefix))

    def delete(self, name: str) -> bool:
        self.calls.append(("secret delete", name))
        path = secret_parameter(self.service, self.stage, check_secret_name(name, self.stage))
        return self.values.pop(path, None) is not None


class MemoryProvider:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.deployed = False
        self.log_lines = [LogLine(timestamp=0.0, function="shop-dev-app", text="GET / 200\n")]
        self.secret_values: dict[str, str] = {}
        self.changes = True  # False: deploys find nothing to change
        self.health_check = True  # what the last deploy was asked

    def deploy(self, service: Service, *, plan_only: bool = False,
               steps: Any = None,  # steps: plugins' hooks (unused here)
               health_check: bool = True) -> DeployResult:
        self.calls.append(("deploy", (service.stage, plan_only)))
        self.health_check = health_check
        plan = [PlanStep("create", "function shop-dev-app", {"memory": 512}, fields=PLAN_STEP)]
        if not plan_only:
            self.deployed = True
        health = [HealthPassed("app", 3, "GET / answered 200"),
                  HealthPassed("nightly", 1, "initialised")] \
            if self.changes and health_check and not plan_only else []
        return DeployResult(url=URL, version=3, functions={"app": 3, "nightly": 1},
                            schedules=["shop-dev-nightly"], plan=plan if self.changes else [],
                            changed=self.changes, health=health, unchecked=not health_check)

    def rollback(self, service: Service, steps: int = 1, *,
                 to: int | None = None) -> DeployResult:
        self.calls.append(("rollback", steps if to is None else ("to", to)))
        version = 3 - steps if to is None else to
        return DeployResult(url=URL, version=version, functions={"app": version},
                            changed=version != 3)

    def undeploy(self, service: Service) -> None:
        self.calls.append(("undeploy", service.stage))

    def status(self, service: Service) -> StageStatus:
        if not self.deployed:
            raise NotDeployedError(f"stage {service.stage!r} is not deployed")
        return StageStatus(URL, 3, STATUS)

    def invoke(self, service: Service, function: str, event: Any, *,
               asynchronous: bool = False) -> InvokeOutput:
        self.calls.append(("invoke", (function, event, asynchronous)))
        if isinstance(event, dict) and event.get("aloft") == "manage":
            return InvokeOutput(payload={"output": "Applied 3 migrations.\n"})
        if event == {"fail": True}:
            return InvokeOutput(payload={"errorMessage": "boom"}, error="ValueError: boom",
                                logs="[ERROR] ValueError: boom\rTraceback (most recent call "
                                     "last):\r  File \"jobs.py\", line 3, in nightly\n")
        return InvokeOutput(payload={"ok": True}, logs="a log line")

    def logs(self, service: Service, *, function: str | None = None, since: float | None = None,
             filter_text: str | None = None, follow: bool = False) -> Iterator[LogLine]:
        self.calls.append(("logs", (function, since, filter_text, follow)))
        yield from self.log_lines

    def schedule(self, service: Service, enabled: bool, names: Sequence[str] = ()) -> list[str]:
        self.calls.append(("schedule", (enabled, tuple(names))))
        return ["shop-dev-nightly"]

    def secrets(self, service: Service) -> MemorySecrets:
        return MemorySecrets(self.secret_values, self.calls, service.service, service.stage)


def install(monkeypatch: pytest.MonkeyPatch, root: Path, config: str) -> MemoryProvider:
    """A project with `config` as its aloft.yml in `root`, served by a new MemoryProvider."""
    write(root, {"aloft.yml": config})
    memory = MemoryProvider()
    monkeypatch.setattr(providers, "provider_for", lambda service: memory)
    return memory
