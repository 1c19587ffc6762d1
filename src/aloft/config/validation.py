"""Validating a resolved stage as a `Service`, with pydantic's errors translated into ConfigErrors.

Each pydantic error becomes one ConfigError naming the file:line:column where the value (or the
unknown key) was written, its key path, what is wrong and how to fix it. Unknown keys suggest the
closest known key of the model at that place.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from aloft.config.locate import Locator
from aloft.config.models import Service
from aloft.config.source import KeyPath
from aloft.config.stages import suggest
from aloft.errors import ConfigError, ConfigErrors

INTERNAL_KEYS = frozenset({"stage", "root", "config_file", "warnings", "app_events",
                           "plugin_config"})
"""Service fields aloft fills in itself; users do not write them."""

_FIXES = {
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "int_from_float": "write a whole number",
    "float_parsing": "write a number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it if YAML reads it as a number or boolean)",
    "dict_type": "write a mapping (indented `key: value` lines)",
    "model_type": "write a mapping (indented `key: value` lines)",
    "model_attributes_type": "write a mapping (indented `key: value` lines)",
    "list_type": "write a list (`- item` lines, or `[a, b]`)",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "string_pattern_mismatch": "use letters, digits, '-' or '_', starting with a letter",
}

_VALUE_FIXES = {
    "handler": "write `module.function`, e.g. `jobs.handle` for `def handle(event, context)` "
    "in jobs.py",
    "schedule": "write `rate(5 minutes)` or `cron(0 12 * * ? *)`",
    "rate": "write `rate: 5 minutes` (minute(s), hour(s) or day(s))",
    "cron": "write AWS's 6-field cron, e.g. `cron: 0 12 * * ? *`",
    "app": "write `module:attribute`, e.g. `app:app` for `app = Flask(...)` in app.py",
    "runtime": "write a Python version such as '3.12'",
    "method": "use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY",
}


def validate_service(data: Mapping[str, Any], locator: Locator, **fields: Any) -> Service:
    """`data` (one resolved stage) plus aloft's own `fields` as a Service, or ConfigError(s)."""
    problems: list[ConfigError] = []
    for key in data:
        if key in INTERNAL_KEYS:
            problems.append(
                locator.error((key,), f"`{key}` is set by aloft, not in the config file",
                              f"remove `{key}`", at_key=True)
            )
    if problems:
        raise _one_or_many(problems)
    try:
        return Service.model_validate({**data, **fields})
    except ValidationError as exc:
        raise _one_or_many(translate(exc, data, locator)) from None


def _one_or_many(problems: list[ConfigError]) -> ConfigError:
    return problems[0] if len(problems) == 1 else ConfigErrors(problems)


def translate(exc: ValidationError, data: Mapping[str, Any], locator: Locator) -> list[ConfigError]:
    """One ConfigError per distinct place; union alternatives at one place are merged."""
    grouped: dict[KeyPath, list[dict[str, Any]]] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            path = (*model_path(Service, loc[:-1])[0], loc[-1])
        else:
            path = model_path(Service, loc)[0]
        grouped.setdefault(path, []).append(dict(error))
    return [_problem(path, errors, locator) for path, errors in grouped.items()]


def _problem(path: KeyPath, errors: list[dict[str, Any]], locator: Locator) -> ConfigError:
    first = errors[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        key = str(path[-1])
        known = known_keys(path[:-1])
        hint = suggest(key, known)
        return locator.error(
            path, f"unknown key `{key}`",
            hint or f"remove it; keys allowed here: {', '.join(known)}", at_key=True,
        )
    if kind == "missing":
        key = str(path[-1])
        return locator.error(path[:-1], f"`{key}` is required here", f"add `{key}: ...`")
    if not path:
        return _service_check(_message(first), locator)
    messages = list(dict.fromkeys(_message(e) for e in errors))
    message = " or ".join(messages) if len(messages) > 1 else messages[0]
    got = first.get("input")
    # Show the value only when it is written as is: a value from a variable may be a secret.
    written = locator.written(path)
    shown = isinstance(got, str | int | float) and not isinstance(got, bool) and written == got
    if shown and kind != "value_error" and len(str(got)) <= 60:
        message += f" (got {got!r})"
    fix: str | None = _FIXES.get(kind)
    if kind == "value_error" or fix is None:
        fix = next((_VALUE_FIXES[p] for p in reversed(path) if p in _VALUE_FIXES), fix)
    if kind == "literal_error":
        fix = f"use {first.get('ctx', {}).get('expected', 'one of the allowed values')}"
    return locator.error(path, message, fix)


def _message(error: Mapping[str, Any]) -> str:
    text = str(error["msg"])
    return text.removeprefix("Value error, ").removeprefix("Assertion failed, ")


_SERVICE_CHECKS = (
    (re.compile(r"function '([^']+)' needs a `handler`"), lambda m: ("functions", m.group(1))),
    (re.compile(r"tasks\.function"), lambda m: ("tasks", "function")),
    (re.compile(r"set `app` or `django_settings`"), lambda m: ("django_settings",)),
)
_AT_KEY = re.compile(r"^`([A-Za-z0-9_.\[\]-]+)`: ")
"""A check's message that starts with the key it is about (the error names it: cut)."""


def _dotted(text: str) -> KeyPath:
    """`functions.f.events[0].http` as a key path."""
    out: list[str | int] = []
    for part in text.split("."):
        name, *indexes = part.split("[")
        out.append(name)
        out += [int(i.rstrip("]")) for i in indexes]
    return tuple(out)


def _service_check(message: str, locator: Locator) -> ConfigError:
    """Errors of Service's whole-model check, placed on the key they are about."""
    for pattern, where in _SERVICE_CHECKS:
        m = pattern.search(message)
        if m:
            return locator.error(where(m), message, at_key=True)
    m = _AT_KEY.match(message)
    if m is not None:
        return locator.error(_dotted(m.group(1)), message[m.end():], at_key=True)
    return locator.error((), message)


# --------------------------------------------------------------------------- model walking


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    return [annotation]


def _step(annotation: Any, part: str | int) -> Any | None:
    """The annotation one step below `annotation` along `part`, or None if `part` is no step."""
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            if isinstance(part, str) and part in member.model_fields:
                return member.model_fields[part].annotation
        elif origin is list and isinstance(part, int):
            return typing.get_args(member)[0]
        elif origin is dict and isinstance(part, str):
            return typing.get_args(member)[1]
    return None


def model_path(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[KeyPath, Any]:
    """pydantic's `loc` without union tags (`str`, `function-after[...]`), and the annotation."""
    kept: list[str | int] = []
    annotation: Any = model
    for part in loc:
        below = _step(annotation, part)
        if below is None:
            continue  # a union member's tag: not a place in the file
        kept.append(part)
        annotation = below
    return tuple(kept), annotation


def known_keys(path: KeyPath) -> list[str]:
    """The keys a mapping at `path` may hold (for suggestions)."""
    _, annotation = model_path(Service, path)
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            keys = [k for k in member.model_fields if not (not path and k in INTERNAL_KEYS)]
            return [*keys, "stages"] if not path else keys
    return []
