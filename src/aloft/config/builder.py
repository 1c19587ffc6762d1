"""Building aloft-shaped data from another format, recording where each value came from."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aloft.config.locate import Origins
from aloft.config.models import APP_FUNCTION
from aloft.config.source import KeyPath, format_path

_INVALID = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass
class Builder:
    """aloft.yml data under construction, its origins and the warnings of what was dropped."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: Origins = field(default_factory=Origins)
    warnings: list[str] = field(default_factory=list)

    def put(self, path: KeyPath, value: Any, source: KeyPath) -> None:
        node: Any = self.data
        for part in path[:-1]:
            if part in node and not isinstance(node[part], dict):
                return  # a wrong value is already there: validation reports it
            node = node.setdefault(part, {})
        node[path[-1]] = value
        self.origins.set(path, source)

    def get(self, path: KeyPath, default: Any = None) -> Any:
        node: Any = self.data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def warn(self, source: KeyPath, why: str) -> None:
        text = f"`{format_path(source)}`: {why}"
        if text not in self.warnings:
            self.warnings.append(text)


UNSUPPORTED = "not supported by aloft; ignored"


def unsupported(key: str, known: Iterable[str]) -> str:
    """The warning for a key that another format's section has and aloft does not read: when
    it is close to a key aloft reads there (`enviroment`), a typo, said so with the key meant
    (the key is ignored, and what the user meant to set is not set)."""
    close = difflib.get_close_matches(key, [k for k in known if k != key], n=1, cutoff=0.8)
    if close:
        return f"unknown key; ignored: did you mean `{close[0]}`?"
    return UNSUPPORTED


def items(value: Any) -> list[Any]:
    """`value` if it is a list, else no items (a wrong type is reported or warned elsewhere)."""
    return value if isinstance(value, list) else []


def resource_name(text: str) -> str:
    """A valid aloft name (function, service) made from arbitrary text."""
    name = _INVALID.sub("-", text).strip("-_") or "x"
    if not name[0].isalpha():
        name = "x" + name
    return name[:63]


def function_name(handler: str, taken: set[str]) -> str:
    """A free function name from `module.func`: `func`, then `func-2`, ..."""
    base = resource_name(handler.replace(":", ".").rsplit(".", 1)[-1])
    if base == APP_FUNCTION:
        base = f"{APP_FUNCTION}-function"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def app_reference(dotted: str) -> str:
    """zappa / serverless-wsgi's `module.attr` as aloft's `module:attr`."""
    if ":" in dotted:
        return dotted
    module, _, attr = dotted.rpartition(".")
    return f"{module}:{attr}" if module else dotted
