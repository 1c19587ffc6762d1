"""Steps and hooks without a provider: order, model changes, aborts and their messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aloft.config.models import Service
from aloft.errors import PluginError
from aloft.plugins import Abort, Context, Lifecycle, Plugins, hookimpl


def service(**fields: Any) -> Service:
    return Service.model_validate({"service": "shop", "stage": "dev", "root": Path("/tmp/shop"),
                                   "app": "app:app", **fields})


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def aloft_before_step(self, step: str) -> None:
        self.calls.append(f"before {step}")

    @hookimpl
    def aloft_step(self, step: str, context: Context) -> None:
        self.calls.append(f"at {step}")

    @hookimpl
    def aloft_after_step(self, step: str) -> None:
        self.calls.append(f"after {step}")


def test_every_step_runs_before_at_after_in_order() -> None:
    recorder = Recorder()
    lifecycle = Lifecycle.started("rollback", service(), Plugins([("rec", recorder)]))
    with lifecycle.step("run"):
        recorder.calls.append("aloft's own work")
    assert recorder.calls == [
        "before rollback:start", "at rollback:start", "after rollback:start",
        "before rollback:run", "aloft's own work", "at rollback:run", "after rollback:run",
    ]
    assert lifecycle.done == ["start", "run"]


class AddsEnvironment:
    @hookimpl
    def aloft_service(self, service: Service) -> Service:
        return service.model_copy(update={"environment": {**service.environment,
                                                          "GREETING": "hi"}})


class ReadsEnvironment:
    seen: str | None = None

    @hookimpl(trylast=True)
    def aloft_service(self, service: Service) -> None:
        ReadsEnvironment.seen = service.environment.get("GREETING")


def test_model_hooks_chain_and_the_app_sees_the_change() -> None:
    plugins = Plugins([("adds", AddsEnvironment()), ("reads", ReadsEnvironment())])
    lifecycle = Lifecycle.started("deploy", service(), plugins, first="validate")
    assert lifecycle.service.function("app").environment["GREETING"] == "hi"
    assert ReadsEnvironment.seen == "hi"  # trylast: after the plugin that added it


def test_a_model_hook_returning_something_else_is_an_error() -> None:
    class Wrong:
        @hookimpl
        def aloft_service(self, service: Service) -> dict[str, str]:
            return {"service": "x"}

    with pytest.raises(PluginError, match="'wrong' returned dict from aloft_service"):
        Lifecycle.started("deploy", service(), Plugins([("wrong", Wrong())]), first="validate")


class Guard:
    def __init__(self, at: str, exc: BaseException) -> None:
        self.at, self.exc = at, exc

    @hookimpl
    def aloft_before_step(self, step: str) -> None:
        if f"before {step}" == self.at:
            raise self.exc

    @hookimpl
    def aloft_after_step(self, step: str) -> None:
        if f"after {step}" == self.at:
            raise self.exc


def test_an_abort_before_apply_names_plugin_and_step_and_keeps_the_old_version() -> None:
    guard = Guard("before deploy:apply", Abort("prod is frozen", fix="wait until Monday"))
    lifecycle = Lifecycle.started("deploy", service(), Plugins([("guard", guard)]),
                                  first="validate")
    ran = []
    with pytest.raises(PluginError) as err, lifecycle.step("apply"):
        ran.append("apply")
    assert ran == []  # the step's own work never started
    assert err.value.message == "plugin 'guard' stopped before deploy:apply: prod is frozen"
    assert err.value.fix == "wait until Monday"


def test_an_abort_without_a_fix_says_what_still_serves() -> None:
    plugins = Plugins([("guard", Guard("before deploy:upload", Abort("no")))])
    lifecycle = Lifecycle.started("deploy", service(), plugins, first="validate")
    with pytest.raises(PluginError) as err, lifecycle.step("upload"):
        pass
    assert err.value.fix is not None and "previous version keeps serving" in err.value.fix

    plugins = Plugins([("guard", Guard("after deploy:verify", Abort("slow")))])
    lifecycle = Lifecycle.started("deploy", service(), plugins, first="validate")
    with lifecycle.step("apply"):
        pass
    with pytest.raises(PluginError) as err, lifecycle.step("verify"):
        pass
    assert err.value.fix is not None and "aloft rollback dev" in err.value.fix


def test_a_crashing_hook_is_a_plugin_error_not_a_traceback() -> None:
    plugins = Plugins([("buggy", Guard("after rollback:run", KeyError("x")))])
    lifecycle = Lifecycle.started("rollback", service(), plugins)
    with pytest.raises(PluginError, match="plugin 'buggy' failed after rollback:run: "
                                          "KeyError"), lifecycle.step("run"):
        pass


def test_deployed_and_package_hooks_run_at_their_steps() -> None:
    seen: list[str] = []

    class Watcher:
        @hookimpl
        def aloft_deployed(self, service: Service, result: Any) -> None:
            seen.append(f"deployed v{result.version}")

    from aloft.provider import DeployResult

    lifecycle = Lifecycle.started("deploy", service(), Plugins([("w", Watcher())]),
                                  first="validate")
    lifecycle.context.result = DeployResult(url=None, version=3)
    with lifecycle.step("finalize"):
        seen.append("finalize")
    assert seen == ["finalize", "deployed v3"]


def test_a_package_hook_sees_the_built_artifact_and_can_refuse_it(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def app(environ, start_response):\n    return [b'']\n")
    sizes: list[int] = []

    class SizeGate:
        @hookimpl
        def aloft_package(self, manifest: Any, service: Service) -> None:
            sizes.append(manifest.code.size)
            if manifest.code.size > 10:
                raise Abort(f"code zip is {manifest.code.size} bytes", fix="make it smaller")

    svc = service(root=tmp_path)
    lifecycle = Lifecycle.started("deploy", svc, Plugins([("gate", SizeGate())]),
                                  first="validate")
    with pytest.raises(PluginError) as err, lifecycle.step("package"):
        lifecycle.context.manifest = lifecycle.build(svc)
    assert sizes and sizes[0] == lifecycle.context.manifest.code.size  # type: ignore[union-attr]
    assert err.value.message.startswith("plugin 'gate' stopped at deploy:package: code zip is")
    assert err.value.fix == "make it smaller"  # the plugin's own fix wins
