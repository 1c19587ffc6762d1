"""Stages: the top level is the base; `stages.<name>` overrides it and may `extends` another.

Mappings merge deeply, lists and scalars are replaced. Every value a stage sets records its origin
so that errors point at the stage's line, not at the merged result.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from aloft.config.locate import Locator, Origins
from aloft.config.source import KeyPath

STAGES_KEY = "stages"
EXTENDS_KEY = "extends"


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """` (did you mean `x`?)` or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else ""


def stage_entries(data: Mapping[str, Any], locator: Locator) -> dict[str, dict[str, Any]]:
    """The `stages` mapping with every entry a mapping (`prod:` alone means no overrides)."""
    raw = data.get(STAGES_KEY)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise locator.error(
            (STAGES_KEY,), f"`stages` must be a mapping of stage names, not {type_name(raw)}",
            "write `stages:` followed by indented stage names, e.g. `  prod: {memory: 1024}`",
        )
    out: dict[str, dict[str, Any]] = {}
    for name, entry in raw.items():
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise locator.error(
                (STAGES_KEY, name), f"stage {name!r} must be a mapping, not {type_name(entry)}",
                f"write the overrides of stage {name!r} as indented keys, or leave it empty",
            )
        out[str(name)] = entry
    return out


def stage_chain(name: str, stages: Mapping[str, Mapping[str, Any]], locator: Locator) -> list[str]:
    """`name` and its `extends` ancestors, root-most first."""
    chain = [name]
    current = name
    while True:
        parent = stages[current].get(EXTENDS_KEY)
        if parent is None:
            break
        path: KeyPath = (STAGES_KEY, current, EXTENDS_KEY)
        if not isinstance(parent, str):
            raise locator.error(path, f"`extends` must be a stage name, not {type_name(parent)}")
        if parent in chain:
            cycle = " -> ".join([*chain[chain.index(parent) :], parent])
            raise locator.error(
                path, f"stages extend each other in a cycle: {cycle}",
                "remove `extends` from one of these stages",
            )
        if parent not in stages:
            hint = suggest(parent, list(stages))
            raise locator.error(
                path, f"stage {current!r} extends {parent!r}, which is not a stage",
                (hint + " " if hint else "") + f"stages: {', '.join(stages) or 'none'}",
            )
        chain.append(parent)
        current = parent
    return list(reversed(chain))


def merged_stage(
    data: Mapping[str, Any], name: str, locator: Locator
) -> tuple[dict[str, Any], Origins]:
    """The base with stage `name` (and its ancestors) applied; `stages` and `extends` removed."""
    stages = stage_entries(data, locator)
    base = {k: v for k, v in data.items() if k != STAGES_KEY}
    origins = Origins()
    if name not in stages:
        return base, origins
    merged: dict[str, Any] = base
    for stage in stage_chain(name, stages, locator):
        overrides = {k: v for k, v in stages[stage].items() if k != EXTENDS_KEY}
        merged = deep_merge(merged, overrides, (), (STAGES_KEY, stage), origins)
    return merged, origins


def deep_merge(
    base: Mapping[str, Any],
    override: Mapping[str, Any],
    path: KeyPath,
    source: KeyPath,
    origins: Origins,
) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        here, there = (*path, key), (*source, key)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value, here, there, origins)
        else:
            out[key] = value
            origins.set(here, there)
    return out


def type_name(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
