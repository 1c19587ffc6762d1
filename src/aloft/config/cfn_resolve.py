"""Resolving CloudFormation intrinsics (aloft.config.intrinsics) to plain values. Pure.

The caller knows what a logical id stands for once a stage exists (the local cloud's queue URL,
a table's ARN on AWS) and passes it as `lookup(logical_id, attribute)`: attribute None is
`Ref`, else `Fn::GetAtt`. Pseudo parameters (`AWS::Region`, ...) are looked up the same way.
`exports` answers `Fn::ImportValue`; `conditions` are the service's named conditions for
`Fn::If`. What cannot be resolved raises `Unresolved` with a message naming it; the caller adds
where it was written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aloft.config.intrinsics import (
    And,
    Condition,
    ConditionRef,
    Equals,
    GetAtt,
    If,
    ImportValue,
    Join,
    Not,
    Or,
    Ref,
    Select,
    Split,
    Sub,
    Value,
    describe,
)

Lookup = Callable[[str, str | None], Any]
"""(logical id or pseudo parameter, attribute or None for Ref) -> value; KeyError if unknown."""


class Unresolved(ValueError):
    """An intrinsic that cannot be resolved: an unknown logical id, condition or export."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()
"""`{Ref: AWS::NoValue}`: the property is removed (and a list drops the item)."""


def resolve(
    value: Value,
    lookup: Lookup,
    *,
    conditions: Mapping[str, Condition] | None = None,
    exports: Mapping[str, str] | None = None,
) -> Any:
    """The plain value of `value`: text, a number, a list (Fn::Split) or NO_VALUE."""
    return _Resolver(lookup, conditions or {}, {} if exports is None else exports).value(value)


def evaluate(
    condition: Condition,
    lookup: Lookup,
    *,
    conditions: Mapping[str, Condition] | None = None,
) -> bool:
    """Whether a condition holds."""
    return _Resolver(lookup, conditions or {}, {}).condition(condition)


class _Resolver:
    def __init__(self, lookup: Lookup, conditions: Mapping[str, Condition],
                 exports: Mapping[str, str]) -> None:
        self.lookup = lookup
        self.conditions = conditions
        self.exports = exports
        self.active: list[str] = []

    def value(self, value: Value) -> Any:
        if isinstance(value, tuple):
            items = [self.value(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if isinstance(value, Ref):
            if value.target == "AWS::NoValue":
                return NO_VALUE
            return self._look(value.target, None, value)
        if isinstance(value, GetAtt):
            return self._look(value.resource, value.attribute, value)
        if isinstance(value, Join):
            parts = self._list(value.values, value)
            return value.delimiter.join(self._text(p, value) for p in parts)
        if isinstance(value, Sub):
            return self._sub(value)
        if isinstance(value, Select):
            index = self.value(value.index)
            parts = self._list(value.values, value)
            try:
                return parts[int(index)]
            except (IndexError, ValueError, TypeError):
                raise Unresolved(f"{describe(value)}: index {index!r} is not in a list of "
                                 f"{len(parts)}") from None
        if isinstance(value, Split):
            return self._text(self.value(value.source), value).split(value.delimiter)
        if isinstance(value, ImportValue):
            name = self._text(self.value(value.name), value)
            if name not in self.exports:
                raise Unresolved(f"Fn::ImportValue {name!r}: no stack exports {name!r}")
            return self.exports[name]
        if isinstance(value, If):
            chosen = value.then if self.named(value.condition) else value.otherwise
            return self.value(chosen)
        return value

    def _look(self, name: str, attribute: str | None, written: Value) -> Any:
        try:
            return self.lookup(name, attribute)
        except KeyError:
            what = f"{name}.{attribute}" if attribute else name
            raise Unresolved(f"{describe(written)}: {what} is not known") from None

    def _list(self, values: Any, written: Value) -> list[Any]:
        resolved = self.value(values)
        if not isinstance(resolved, list):
            raise Unresolved(f"{describe(written)} needs a list, got {resolved!r}")
        return resolved

    def _text(self, value: Any, written: Value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise Unresolved(f"{describe(written)} needs text, got {value!r}")

    def _sub(self, sub: Sub) -> str:
        names = {k: v for k, v in sub.variables}
        out, pos, text = "", 0, sub.template
        while (start := text.find("${", pos)) != -1:
            end = text.find("}", start)
            if end == -1:
                break
            out += text[pos:start]
            name = text[start + 2 : end].strip()
            pos = end + 1
            if name.startswith("!"):
                out += "${" + name[1:] + "}"
            elif name in names:
                out += self._text(self.value(names[name]), sub)
            elif name.startswith("AWS::") or "." not in name:
                out += self._text(self._look(name, None, sub), sub)
            else:
                resource, attribute = name.split(".", 1)
                out += self._text(self._look(resource, attribute, sub), sub)
        return out + text[pos:]

    # -- conditions ------------------------------------------------------------------------

    def named(self, name: str) -> bool:
        if name not in self.conditions:
            known = ", ".join(self.conditions) or "none"
            raise Unresolved(f"condition {name!r} is not defined (conditions: {known})")
        if name in self.active:
            cycle = " -> ".join([*self.active[self.active.index(name):], name])
            raise Unresolved(f"conditions refer to each other in a cycle: {cycle}")
        self.active.append(name)
        try:
            return self.condition(self.conditions[name])
        finally:
            self.active.pop()

    def condition(self, condition: Condition) -> bool:
        if isinstance(condition, ConditionRef):
            return self.named(condition.name)
        if isinstance(condition, Equals):
            return _same(self.value(condition.left), self.value(condition.right))
        if isinstance(condition, And):
            return all(self.condition(c) for c in condition.conditions)
        if isinstance(condition, Or):
            return any(self.condition(c) for c in condition.conditions)
        if isinstance(condition, Not):
            return not self.condition(condition.condition)
        raise Unresolved(f"not a condition: {condition!r}")  # pragma: no cover - typed


def _same(left: Any, right: Any) -> bool:
    """Fn::Equals compares as CloudFormation does: values as text (`1` equals `"1"`)."""
    def norm(v: Any) -> Any:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return str(v)
        if isinstance(v, list):
            return [norm(x) for x in v]
        return v

    return bool(norm(left) == norm(right))


def fold(
    raw: Any,
    known: Mapping[str, Any],
    conditions: Mapping[str, Condition] | None = None,
) -> Any:
    """`raw` (data as written) with every intrinsic that only needs `known` names (pseudo
    parameters such as AWS::Region) replaced by its value; `Fn::If` is folded when its condition
    only needs them too, and `AWS::NoValue` removes the key or list item. Anything else is
    returned as written, for the model to keep typed."""
    from aloft.config.intrinsics import function_name, parse

    def lookup(name: str, attribute: str | None) -> Any:
        if attribute is None and name in known:
            return known[name]
        raise KeyError(name)

    def walk(value: Any) -> Any:
        if function_name(value) is not None:
            try:
                return resolve(parse(value), lookup, conditions=conditions)
            except (Unresolved, ValueError):
                return value
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in (walk(x) for x in value) if v is not NO_VALUE]
        return value

    return walk(raw)


def static_conditions(
    written: Mapping[str, Any], known: Mapping[str, Any]
) -> tuple[dict[str, Condition], dict[str, bool]]:
    """The conditions as typed values (those that parse), and the truth of each one that only
    needs `known` names."""
    from aloft.config.intrinsics import parse_condition

    typed: dict[str, Condition] = {}
    for name, value in written.items():
        try:
            typed[str(name)] = parse_condition(value)
        except ValueError:
            continue  # the model reports it where it was written

    def lookup(name: str, attribute: str | None) -> Any:
        if attribute is None and name in known:
            return known[name]
        raise KeyError(name)

    truth: dict[str, bool] = {}
    for name in typed:
        try:
            truth[name] = evaluate(ConditionRef(name), lookup, conditions=typed)
        except Unresolved:
            continue
    return typed, truth
