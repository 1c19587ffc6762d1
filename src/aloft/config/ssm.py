"""`${ssm:/path}` values: left in place at load time, resolved by the provider at deploy time."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aloft.config.models import Service

_SSM = re.compile(r"\$\{ssm:([^}]+)\}")


def _parameter(written: str) -> str:
    # serverless' old `${ssm:/path~true}` asked for decryption; aloft always decrypts.
    return written.strip().removesuffix("~true").removesuffix("~false")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def ssm_references(service: Service) -> list[str]:
    """The SSM parameter paths the service's values refer to, each once, in order."""
    found: list[str] = []
    for text in _strings(service.model_dump()):
        for m in _SSM.finditer(text):
            name = _parameter(m.group(1))
            if name not in found:
                found.append(name)
    return found


def resolve_ssm(service: Service, resolve: Callable[[str], str]) -> Service:
    """A copy of `service` with every `${ssm:/path}` replaced by `resolve(path)`, re-validated."""
    cache: dict[str, str] = {}

    def value(m: re.Match[str]) -> str:
        name = _parameter(m.group(1))
        if name not in cache:
            cache[name] = resolve(name)
        return cache[name]

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return _SSM.sub(value, node)
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return Service.model_validate(walk(service.model_dump()))
