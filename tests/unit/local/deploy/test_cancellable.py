"""Calling a deploy off (Ctrl-C in `aloft deploy`): before the switch it stops, after it it
finishes, a cancel that comes first refuses the deploy, and every outcome is reported."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aloft.errors import DeployError
from aloft.local.deploy.cancellable import KEEP, CancellableDeploys, Outcome


class FakeDeploy:
    """A deploy that waits for its health check, then switches (like Deployer._apply)."""

    def __init__(self, deploys: CancellableDeploys, deploy_id: str) -> None:
        self.deploys, self.deploy_id = deploys, deploy_id
        self.healthy = asyncio.Event()
        self.switch = asyncio.Event()
        self.checking = asyncio.Event()
        self.switched = False
        self.cleaned_up = False

    async def __call__(self) -> dict[str, Any]:
        try:
            self.checking.set()
            await self.healthy.wait()
        except asyncio.CancelledError:
            self.cleaned_up = True
            raise
        self.deploys.switching(self.deploy_id)
        await self.switch.wait()  # the switch takes a while (SQLite, registry)
        self.switched = True
        return {"version": 7}


def test_cancel_before_the_switch_stops_the_deploy() -> None:
    async def scenario() -> None:
        deploys = CancellableDeploys()
        work = FakeDeploy(deploys, "a")
        running = asyncio.ensure_future(deploys.run("a", work()))
        await work.checking.wait()
        assert await deploys.cancel("a") == Outcome("cancelled")
        assert work.cleaned_up and not work.switched
        with pytest.raises(DeployError, match="cancelled before the switch"):
            await running

    asyncio.run(scenario())


def test_cancel_after_the_switch_waits_for_it() -> None:
    async def scenario() -> None:
        deploys = CancellableDeploys()
        work = FakeDeploy(deploys, "b")
        running = asyncio.ensure_future(deploys.run("b", work()))
        await work.checking.wait()
        work.healthy.set()
        await asyncio.sleep(0)  # it reaches the switch
        await asyncio.sleep(0)
        cancel = asyncio.ensure_future(deploys.cancel("b"))
        await asyncio.sleep(0.01)  # turns of the loop: a cancel that did not wait is done now
        assert not cancel.done()  # waiting for the switch to finish, not cutting it
        work.switch.set()
        assert await cancel == Outcome("completed", 7)
        assert work.switched and (await running)["version"] == 7

    asyncio.run(scenario())


def test_a_cancel_that_comes_first_refuses_the_deploy() -> None:
    async def scenario() -> None:
        deploys = CancellableDeploys()
        assert await deploys.cancel("c") == Outcome("cancelled")
        work = FakeDeploy(deploys, "c")
        with pytest.raises(DeployError, match="cancelled before it started"):
            await deploys.run("c", work())
        assert not work.checking.is_set()

    asyncio.run(scenario())


def test_outcomes_of_ended_deploys_are_kept() -> None:
    async def scenario() -> None:
        deploys = CancellableDeploys()

        async def fails() -> dict[str, Any]:
            raise DeployError("unhealthy")

        with pytest.raises(DeployError):
            await deploys.run("d", fails())
        assert await deploys.cancel("d") == Outcome("failed")
        for n in range(KEEP + 5):
            await deploys.cancel(f"x{n}")
        assert "d" not in deploys._outcomes and len(deploys._outcomes) == KEEP

    asyncio.run(scenario())


def test_without_an_id_a_deploy_just_runs() -> None:
    async def scenario() -> None:
        async def work() -> dict[str, Any]:
            return {"version": 1}

        assert await CancellableDeploys().run(None, work()) == {"version": 1}

    asyncio.run(scenario())
