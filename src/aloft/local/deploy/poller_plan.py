"""The event-source part of a deploy plan (pure): a `sources` instruction when the stage's
bindings change, so that a deploy changing only a function's queue, topic, bucket or stream
events is not a no-op (it records a new deployment, which the pollers follow)."""

from __future__ import annotations

from typing import Any

from aloft.local.triggers.pollers.bindings import Binding

Instruction = dict[str, Any]


def source_changes(
    plan: list[Instruction], stage: str, desired: list[dict[str, Any]],
    current: list[dict[str, Any]],
) -> list[Instruction]:
    """`plan` plus a `sources` instruction (and the alias switch that records it, if the plan
    had none) when `desired` bindings differ from the `current` deployment's."""
    if desired == current:
        return plan
    added = [Binding.from_json(d).describe() for d in desired if d not in current]
    removed = [Binding.from_json(c).describe() for c in current if c not in desired]
    out = [*plan, {"action": "sources", "name": stage, "add": added, "remove": removed}]
    if not any(i["action"] == "switch_alias" for i in plan):
        alias = {i["name"]: i["version"] for i in plan if i["action"] == "keep"}
        out.append({"action": "switch_alias", "name": stage, "functions": alias})
    return out
