"""EventBridge event patterns, matched as EventBridge matches them (pure).

A pattern is a JSON object whose leaves are arrays of what a field may be: values (strings,
numbers, booleans, null: any one matches; against an array field, any element), and filters:
`{"prefix": "x"}`, `{"suffix": "x"}`, `{"equals-ignore-case": "x"}`, `{"wildcard": "a*b"}`,
`{"anything-but": value | [values] | {"prefix": ...} | {"suffix": ...}}`,
`{"numeric": [">", 0, "<=", 5]}`, `{"exists": true | false}`, `{"cidr": "10.0.0.0/24"}`;
`"$or": [pattern, ...]` at any level. Every field of the pattern must match.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import operator
from collections.abc import Callable
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class EventPatternError(ValueError):
    """A pattern EventBridge would refuse; the message says why."""


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(pattern, dict):
        raise EventPatternError("an event pattern is a JSON object")
    for key, wanted in pattern.items():
        if key == "$or":
            if not isinstance(wanted, list) or not any(matches(p, event) for p in wanted):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(wanted, dict):
            if value is _MISSING:
                return False
            nested = value if isinstance(value, list) else [value]
            if not any(isinstance(v, dict) and matches(wanted, v) for v in nested):
                return False
        elif isinstance(wanted, list):
            if not _leaf(wanted, value):
                return False
        else:
            raise EventPatternError(f"the pattern's value of {key!r} must be an array or an "
                                    f"object, not {json.dumps(wanted)}")
    return True


def _leaf(rules: list[Any], value: Any) -> bool:
    """Whether a field (`_MISSING` when absent) matches any of a leaf's rules."""
    for rule in rules:
        if isinstance(rule, dict) and "exists" in rule:
            present = value is not _MISSING
            if present == bool(rule["exists"]):
                return True
            continue
        if value is _MISSING:
            continue
        values = value if isinstance(value, list) else [value]
        if any(_one(rule, v) for v in values):
            return True
    return False


def _one(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return bool(rule == value and type(rule) is type(value)) or (
            _number(rule) is not None and _number(rule) == _number(value))
    if len(rule) != 1:
        raise EventPatternError(f"a filter has one key: {json.dumps(rule)}")
    (kind, arg), = rule.items()
    text = value if isinstance(value, str) else None
    if kind == "prefix":
        return _affix(arg, text, str.startswith)
    if kind == "suffix":
        return _affix(arg, text, str.endswith)
    if kind == "equals-ignore-case":
        return text is not None and text.casefold() == str(arg).casefold()
    if kind == "wildcard":
        return text is not None and fnmatch.fnmatchcase(text, str(arg))
    if kind == "anything-but":
        return _anything_but(arg, value)
    if kind == "numeric":
        return _numeric(arg, value)
    if kind == "cidr":
        try:
            return text is not None and ipaddress.ip_address(text) in ipaddress.ip_network(
                str(arg), strict=False)
        except ValueError:
            return False
    raise EventPatternError(f"unknown filter {kind!r} in {json.dumps(rule)}")


def _affix(arg: Any, text: str | None, test: Callable[[str, str], bool]) -> bool:
    if text is None:
        return False
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        return test(text.casefold(), str(arg["equals-ignore-case"]).casefold())
    return test(text, str(arg))


def _anything_but(arg: Any, value: Any) -> bool:
    if isinstance(arg, dict):
        return not _one(arg, value)
    excluded = arg if isinstance(arg, list) else [arg]
    return not any(_one(e, value) for e in excluded)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _numeric(arg: Any, value: Any) -> bool:
    number = _number(value)
    if number is None or not isinstance(arg, list) or len(arg) % 2:
        return False
    for i in range(0, len(arg), 2):
        op, bound = _NUMERIC.get(str(arg[i])), _number(arg[i + 1])
        if op is None or bound is None:
            raise EventPatternError(f"numeric filter {json.dumps(arg)}: expected operator "
                                    "and number pairs")
        if not op(number, bound):
            return False
    return True
