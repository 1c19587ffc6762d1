"""Deploys the CLI can call off (Ctrl-C during `aloft deploy`), each known by the id the CLI
gave it.

A deploy with an id runs in a task of its own. `cancel(id)` stops it if it has not reached the
switch (the stage keeps serving what it served: the deployer stops the instances it started),
or waits for it to finish if it has. A cancel that arrives before its deploy is remembered and
the deploy is refused when it comes. The last outcomes are kept, so a cancel that comes after
the end still learns how the deploy ended.

Cancelling is exact because asyncio interleaves only at awaits: the deployer marks the switch
(`switching`) with no await between its last cancellable step and the mark, and `cancel` checks
the mark before it cancels.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Literal

from aloft.errors import DeployError

State = Literal["cancelled", "completed", "failed"]
KEEP = 64
"""Outcomes remembered (ids of deploys that ended, or were cancelled before they came)."""


@dataclass(frozen=True)
class Outcome:
    state: State
    version: int | None = None  # the deployment it made (completed)


class CancellableDeploys:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[dict[str, Any]]] = {}
        self._switching: set[str] = set()
        self._outcomes: OrderedDict[str, Outcome] = OrderedDict()

    async def run(self, deploy_id: str | None,
                  work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        """Run `work` (the deploy) as `deploy_id`; without an id it is not cancellable."""
        if deploy_id is None:
            return await work
        if deploy_id in self._tasks or deploy_id in self._outcomes:
            if asyncio.iscoroutine(work):
                work.close()
            raise DeployError(f"deploy {deploy_id} was cancelled before it started (or already "
                              "ran); the stage is unchanged", fix="deploy again")
        task = asyncio.ensure_future(self._tracked(deploy_id, work))
        self._tasks[deploy_id] = task
        try:
            return await task
        except asyncio.CancelledError:
            if task.cancelled() and self._outcomes.get(deploy_id) == Outcome("cancelled"):
                raise DeployError(f"deploy {deploy_id} was cancelled before the switch; the "
                                  "previous version keeps serving", fix="deploy again") from None
            raise
        finally:
            self._tasks.pop(deploy_id, None)
            self._switching.discard(deploy_id)

    async def _tracked(self, deploy_id: str, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        try:
            result = await work
        except asyncio.CancelledError:
            self._record(deploy_id, Outcome("cancelled"))
            raise
        except BaseException:
            self._record(deploy_id, Outcome("failed"))
            raise
        self._record(deploy_id, Outcome("completed", int(result.get("version") or 0)))
        return result

    def switching(self, deploy_id: str | None) -> None:
        """The deploy reaches the switch: from now on it finishes, cancelled or not."""
        if deploy_id is not None:
            self._switching.add(deploy_id)

    async def cancel(self, deploy_id: str) -> Outcome:
        """Call the deploy off unless it is switching; wait for it; say how it ended."""
        task = self._tasks.get(deploy_id)
        if task is None:
            if deploy_id not in self._outcomes:  # not arrived yet: refuse it when it does
                self._record(deploy_id, Outcome("cancelled"))
            return self._outcomes[deploy_id]
        if deploy_id not in self._switching:
            task.cancel()
        await asyncio.wait({task})
        return self._outcomes[deploy_id]

    def _record(self, deploy_id: str, outcome: Outcome) -> None:
        self._outcomes[deploy_id] = outcome
        self._outcomes.move_to_end(deploy_id)
        while len(self._outcomes) > KEEP:
            self._outcomes.popitem(last=False)
