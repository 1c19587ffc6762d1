"""Values read at deploy time: `${ssm:/path}`, `${cf:stack.Output}`, `${s3:bucket/key}` and
`${aws:accountId}` are left in place when the config is loaded, and resolved by the provider.

`deferred_references(service)` lists them; `resolve_deferred(service, resolve)` replaces each
with `resolve(source, address)` (a written fallback, `${cf:a.B, 'x'}`, is used when `resolve`
returns None) and validates the result again. The ssm-only names are kept for callers that only
read parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aloft.config.models import Service
from aloft.errors import Location, NotDeployedError

_SSM = re.compile(r"\$\{ssm:([^}]+)\}")
_DEFERRED = re.compile(r"\$\{(ssm|cf|s3)(?:\(([^)]*)\))?:([^{}]+)\}|\$\{aws:accountId\}")

_MISSING_FIX = {
    "ssm": "create it (aws ssm put-parameter --type SecureString ...), or give a fallback: "
           "`${ssm:/path, 'value'}`",
    "cf": "deploy that stack first (or check the stack and output names), or give a fallback: "
          "`${cf:stack.Output, 'value'}`",
    "s3": "upload the object first, or give a fallback: `${s3:bucket/key, 'value'}`",
}
Resolve = Callable[[str, str], "str | None"]


def _missing(source: str, address: str) -> str:
    if source == "ssm":
        return f"SSM parameter {address} does not exist"
    if source == "cf":
        stack, _, output = address.partition(".")
        return f"output {output} of CloudFormation stack {stack} does not exist"
    return f"S3 object s3://{address} does not exist"
"""(source, address) -> the value, or None when it does not exist (the fallback is used)."""


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


def _split(m: re.Match[str]) -> tuple[str, str, str | None]:
    """(source, address, fallback) of one deferred variable."""
    if m.group(1) is None:
        return "aws", "accountId", None
    source, region, rest = m.group(1), m.group(2), m.group(3)
    address, _, fallback = rest.partition(",")
    address = address.strip()
    if source == "ssm":
        address = _parameter(address)
    if region:
        address = f"{region.strip()}:{address}"
    text = fallback.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return source, address, text if fallback else None


def deferred_references(service: Service) -> list[tuple[str, str]]:
    """(source, address) of every deferred value, each once, in order: ('ssm', '/a/b'),
    ('cf', 'stack.Output'), ('cf', 'eu-west-1:stack.Output'), ('aws', 'accountId')."""
    found: list[tuple[str, str]] = []
    for text in _strings(service.model_dump()):
        for m in _DEFERRED.finditer(text):
            source, address, _ = _split(m)
            if (source, address) not in found:
                found.append((source, address))
    return found


def resolve_deferred(service: Service, resolve: Resolve) -> Service:
    """A copy of `service` with every deferred value resolved, re-validated."""
    cache: dict[tuple[str, str], str | None] = {}

    def value(m: re.Match[str]) -> str:
        source, address, fallback = _split(m)
        if (source, address) not in cache:
            cache[source, address] = resolve(source, address)
        found = cache[source, address]
        if found is None:
            if fallback is None:
                raise NotDeployedError(
                    _missing(source, address),
                    where=Location(file=str(service.config_file) if service.config_file
                                   else None, stage=service.stage),
                    fix=_MISSING_FIX.get(source, "create it, or give a fallback"))
            return fallback
        return found

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            return _DEFERRED.sub(value, node)
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return Service.model_validate(walk(service.model_dump()))


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
