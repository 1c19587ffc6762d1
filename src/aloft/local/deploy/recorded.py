"""The parts of a deploy plan that change only what a deployment records (pure): the functions'
grants on the local AWS endpoint and the stage's event sources. A change of `secrets`,
`permissions` or a queue, topic, bucket or stream event publishes no version (as a role policy
or an event source mapping on AWS), but it is a deployment: the alias switch records it, and
the endpoint and the pollers follow it."""

from __future__ import annotations

import json
from typing import Any

from aloft.local.deploy import instructions as i
from aloft.local.triggers.pollers.bindings import Binding


def grant_changes(plan: list[i.Instruction], stage: str, desired: dict[str, Any],
                  current: dict[str, Any]) -> list[i.Instruction]:
    """`plan` plus a Grants instruction (and the alias switch that records it) when the
    functions' grants differ from the current deployment's."""
    desired = json.loads(json.dumps(desired))
    if desired == current:
        return plan
    changed = tuple(sorted({str(v[0]) for k, v in desired.items() if current.get(k) != v}))
    return i.with_switch([*plan, i.Grants(stage, changed)], stage)


def source_changes(plan: list[i.Instruction], stage: str, desired: list[dict[str, Any]],
                   current: list[dict[str, Any]]) -> list[i.Instruction]:
    """`plan` plus a Sources instruction (and the alias switch that records it) when the
    `desired` bindings differ from the `current` deployment's."""
    if desired == current:
        return plan
    added = tuple(Binding.from_json(d).describe() for d in desired if d not in current)
    removed = tuple(Binding.from_json(c).describe() for c in current if c not in desired)
    return i.with_switch([*plan, i.Sources(stage, added, removed)], stage)
