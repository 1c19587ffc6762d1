"""CloudFormation intrinsic functions as typed values of the service model.

Serverless users write `{Ref: JobsQueue}`, `!GetAtt UsersTable.Arn`, `Fn::Join`, `Fn::Sub`, ...
wherever a value is only known once the stage exists (IAM statements, environment, event ARNs).
aloft keeps them as the frozen values below through validation instead of refusing or dropping
them: the stage model resolves them (`aloft.config.cfn_resolve.resolve`) to the real names, ARNs
and URLs of a deployed stage, and the aws provider can write them into a template (`to_cfn`).

In the service model they appear through aloft.config.cfn_types (`CfnText`, `CfnCondition`),
which read the CloudFormation JSON form (`parse`) and dump back to it (`to_cfn`), so
`model_dump()` and `model_validate()` round-trip. An intrinsic aloft does not know is a
ValueError naming it (the config loader reports it at its file:line). This module needs no
pydantic: reading a serverless.yml (for `aloft --help`) does not import it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool


class _Shown:
    """Intrinsics print as they are written in YAML (`!GetAtt Users.Arn`), e.g. in
    `aloft validate`'s summary."""

    def __str__(self) -> str:
        return describe(self)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Ref(_Shown):
    """`{Ref: X}`: a resource's primary value (a queue's URL, a table's name, ...) or a pseudo
    parameter such as `AWS::Region`."""

    target: str


@dataclass(frozen=True)
class GetAtt(_Shown):
    """`{Fn::GetAtt: [X, Arn]}` or `!GetAtt X.Arn`."""

    resource: str
    attribute: str


@dataclass(frozen=True)
class Join(_Shown):
    """`{Fn::Join: [delimiter, [values...]]}` (the list may itself be an intrinsic)."""

    delimiter: str
    values: tuple[Value, ...] | Intrinsic


@dataclass(frozen=True)
class Sub(_Shown):
    """`{Fn::Sub: "text ${X} ${X.Arn}"}` or `{Fn::Sub: [text, {name: value}]}`."""

    template: str
    variables: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class Select(_Shown):
    """`{Fn::Select: [index, [values...]]}`."""

    index: int | Intrinsic
    values: tuple[Value, ...] | Intrinsic


@dataclass(frozen=True)
class Split(_Shown):
    """`{Fn::Split: [delimiter, text]}`: a list, for Select or Join."""

    delimiter: str
    source: Value


@dataclass(frozen=True)
class ImportValue(_Shown):
    """`{Fn::ImportValue: name}`: an output another stack exports."""

    name: Value


@dataclass(frozen=True)
class If(_Shown):
    """`{Fn::If: [condition, value if true, value if false]}`; the condition is a name under
    the service's `conditions`."""

    condition: str
    then: Value
    otherwise: Value


Intrinsic = Ref | GetAtt | Join | Sub | Select | Split | ImportValue | If
Value = Scalar | Intrinsic | tuple["Value", ...]
"""What an intrinsic's argument may be: text, a number, another intrinsic or a list of these."""


@dataclass(frozen=True)
class Equals:
    left: Value
    right: Value


@dataclass(frozen=True)
class And:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


@dataclass(frozen=True)
class ConditionRef:
    """`{Condition: Name}`: another named condition."""

    name: str


Condition = Equals | And | Or | Not | ConditionRef

INTRINSIC_TYPES = (Ref, GetAtt, Join, Sub, Select, Split, ImportValue, If)
CONDITION_TYPES = (Equals, And, Or, Not, ConditionRef)

SUPPORTED = ("Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub", "Fn::Select", "Fn::Split",
             "Fn::ImportValue", "Fn::If")
CONDITION_FUNCTIONS = ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition")
UNSUPPORTED = ("Fn::FindInMap", "Fn::Base64", "Fn::GetAZs", "Fn::Cidr", "Fn::Transform",
               "Fn::Length", "Fn::ToJsonString", "Fn::ForEach", "Fn::GetParam")
"""CloudFormation functions aloft recognises and refuses (rather than reading as a mapping)."""


# --------------------------------------------------------------------------- reading


def function_name(value: Any) -> str | None:
    """The function of `value` if it is written as one (`{Ref: ...}`, `{Fn::...: ...}`)."""
    if isinstance(value, dict) and len(value) == 1:
        (key,) = value
        if isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::")):
            return key
    return None


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, INTRINSIC_TYPES)


def parse(value: Any) -> Value:
    """A value as written (CloudFormation JSON form) as a typed Value; ValueError if it is not
    one aloft reads."""
    if isinstance(value, INTRINSIC_TYPES):
        return value
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return tuple(parse(v) for v in value)
    name = function_name(value)
    if name is None:
        raise ValueError(f"a mapping is not a value here ({short(value)}); write text, or a "
                         f"CloudFormation function: {', '.join(SUPPORTED)}")
    arg = value[name]
    if name == "Ref":
        return Ref(_text(arg, name))
    if name == "Fn::GetAtt":
        return _get_att(arg)
    if name == "Fn::Join":
        delimiter, values = _pair(arg, name, "[delimiter, [values]]")
        return Join(_text(delimiter, name), _list(values, name))
    if name == "Fn::Sub":
        return _sub(arg)
    if name == "Fn::Select":
        index, values = _pair(arg, name, "[index, [values]]")
        return Select(_index(index), _list(values, name))
    if name == "Fn::Split":
        delimiter, source = _pair(arg, name, "[delimiter, text]")
        return Split(_text(delimiter, name), parse(source))
    if name == "Fn::ImportValue":
        return ImportValue(parse(arg))
    if name == "Fn::If":
        if not isinstance(arg, list) or len(arg) != 3:
            raise ValueError("Fn::If takes [condition name, value if true, value if false]")
        return If(_text(arg[0], name), parse(arg[1]), parse(arg[2]))
    if name in CONDITION_FUNCTIONS:
        raise ValueError(f"{name} is a condition: it belongs under `conditions` (serverless: "
                         "resources.Conditions), and `Fn::If` names it")
    known = "is not supported by aloft" if name in UNSUPPORTED else "is not a CloudFormation " \
        "function aloft knows"
    raise ValueError(f"{name} {known}; aloft reads {', '.join(SUPPORTED)}")


def parse_condition(value: Any) -> Condition:
    """A condition as written under `Conditions` (Fn::Equals, Fn::And, Fn::Or, Fn::Not,
    Condition); ValueError otherwise."""
    if isinstance(value, CONDITION_TYPES):
        return value
    name = function_name(value)
    if name is None or name not in CONDITION_FUNCTIONS:
        raise ValueError("a condition is one of Fn::Equals, Fn::And, Fn::Or, Fn::Not or "
                         f"Condition (got {short(value)})")
    arg = value[name]
    if name == "Condition":
        return ConditionRef(_text(arg, name))
    if name == "Fn::Equals":
        left, right = _pair(arg, name, "[a, b]")
        return Equals(parse(left), parse(right))
    if name == "Fn::Not":
        if not isinstance(arg, list) or len(arg) != 1:
            raise ValueError("Fn::Not takes a list of one condition")
        return Not(parse_condition(arg[0]))
    if not isinstance(arg, list) or not 2 <= len(arg) <= 10:
        raise ValueError(f"{name} takes a list of 2 to 10 conditions")
    parts = tuple(parse_condition(c) for c in arg)
    return And(parts) if name == "Fn::And" else Or(parts)


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} takes text here, not {short(value)}")
    return value


def _pair(arg: Any, name: str, shape: str) -> tuple[Any, Any]:
    if not isinstance(arg, list) or len(arg) != 2:
        raise ValueError(f"{name} takes {shape}")
    return arg[0], arg[1]


def _list(values: Any, name: str) -> tuple[Value, ...] | Intrinsic:
    if isinstance(values, list):
        return tuple(parse(v) for v in values)
    parsed = parse(values)
    if not is_intrinsic(parsed):
        raise ValueError(f"{name} takes a list of values (or a function giving one)")
    assert isinstance(parsed, INTRINSIC_TYPES)
    return parsed


def _index(value: Any) -> int | Intrinsic:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = parse(value)
    if not isinstance(parsed, INTRINSIC_TYPES):
        raise ValueError(f"Fn::Select's index must be a whole number, not {short(value)}")
    return parsed


def _get_att(arg: Any) -> GetAtt:
    if isinstance(arg, str) and "." in arg:
        resource, attribute = arg.split(".", 1)
        return GetAtt(resource, attribute)
    if (isinstance(arg, list) and len(arg) == 2
            and all(isinstance(a, str) for a in arg)):
        return GetAtt(arg[0], arg[1])
    raise ValueError("Fn::GetAtt takes [LogicalId, Attribute] or `LogicalId.Attribute`")


def _sub(arg: Any) -> Sub:
    if isinstance(arg, str):
        return Sub(arg)
    if (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)
            and isinstance(arg[1], dict)):
        return Sub(arg[0], tuple((str(k), parse(v)) for k, v in arg[1].items()))
    raise ValueError("Fn::Sub takes text, or [text, {name: value}]")


# --------------------------------------------------------------------------- writing


def to_cfn(value: Value | Condition) -> Any:
    """The CloudFormation JSON form of a value or condition (what `parse` reads)."""
    if isinstance(value, tuple):
        return [to_cfn(v) for v in value]
    if isinstance(value, Ref):
        return {"Ref": value.target}
    if isinstance(value, GetAtt):
        return {"Fn::GetAtt": [value.resource, value.attribute]}
    if isinstance(value, Join):
        return {"Fn::Join": [value.delimiter, to_cfn(value.values)]}
    if isinstance(value, Sub):
        if not value.variables:
            return {"Fn::Sub": value.template}
        return {"Fn::Sub": [value.template, {k: to_cfn(v) for k, v in value.variables}]}
    if isinstance(value, Select):
        return {"Fn::Select": [to_cfn(value.index), to_cfn(value.values)]}
    if isinstance(value, Split):
        return {"Fn::Split": [value.delimiter, to_cfn(value.source)]}
    if isinstance(value, ImportValue):
        return {"Fn::ImportValue": to_cfn(value.name)}
    if isinstance(value, If):
        return {"Fn::If": [value.condition, to_cfn(value.then), to_cfn(value.otherwise)]}
    if isinstance(value, Equals):
        return {"Fn::Equals": [to_cfn(value.left), to_cfn(value.right)]}
    if isinstance(value, And | Or):
        name = "Fn::And" if isinstance(value, And) else "Fn::Or"
        return {name: [to_cfn(c) for c in value.conditions]}
    if isinstance(value, Not):
        return {"Fn::Not": [to_cfn(value.condition)]}
    if isinstance(value, ConditionRef):
        return {"Condition": value.name}
    return value


def describe(value: Value | Condition) -> str:
    """A short, readable form for messages: `!GetAtt UsersTable.Arn`, `!Ref Queue`."""
    if isinstance(value, Ref):
        return f"!Ref {value.target}"
    if isinstance(value, GetAtt):
        return f"!GetAtt {value.resource}.{value.attribute}"
    if isinstance(value, ImportValue) and isinstance(value.name, str):
        return f"!ImportValue {value.name}"
    if isinstance(value, Sub) and not value.variables:
        return f"!Sub '{value.template}'"
    cfn = to_cfn(value)
    if isinstance(cfn, dict):
        ((name, _),) = cfn.items()
        return f"!{name.removeprefix('Fn::')} ..."
    return str(cfn)


def references(value: Value | Condition) -> Iterator[tuple[str, str | None]]:
    """Every (logical id, attribute or None) that `value` refers to, `Fn::Sub` text included."""
    if isinstance(value, Ref):
        yield value.target, None
    elif isinstance(value, GetAtt):
        yield value.resource, value.attribute
    elif isinstance(value, Sub):
        names = {k for k, _ in value.variables}
        for ref in sub_references(value.template):
            if ref[0] not in names:
                yield ref
        for _, v in value.variables:
            yield from references(v)
    elif isinstance(value, tuple):
        for v in value:
            yield from references(v)
    elif isinstance(value, Join):
        yield from references(value.values)
    elif isinstance(value, Select):
        yield from references(value.index)
        yield from references(value.values)
    elif isinstance(value, Split):
        yield from references(value.source)
    elif isinstance(value, ImportValue):
        yield from references(value.name)
    elif isinstance(value, If):
        yield from references(value.then)
        yield from references(value.otherwise)
    elif isinstance(value, Equals):
        yield from references(value.left)
        yield from references(value.right)
    elif isinstance(value, And | Or):
        for c in value.conditions:
            yield from references(c)
    elif isinstance(value, Not):
        yield from references(value.condition)


def sub_references(template: str) -> list[tuple[str, str | None]]:
    """The `${X}` / `${X.Attr}` references of an Fn::Sub template (`${!Literal}` is text)."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    while (start := template.find("${", pos)) != -1:
        end = template.find("}", start)
        if end == -1:
            break
        name = template[start + 2 : end].strip()
        pos = end + 1
        if not name or name.startswith("!"):
            continue
        if name.startswith("AWS::") or "." not in name:
            out.append((name, None))
        else:
            resource, attribute = name.split(".", 1)
            out.append((resource, attribute))
    return out


def condition_names(value: Value | Condition) -> Iterator[str]:
    """The named conditions `value` uses (Fn::If's and {Condition: X})."""
    if isinstance(value, If):
        yield value.condition
        yield from condition_names(value.then)
        yield from condition_names(value.otherwise)
    elif isinstance(value, ConditionRef):
        yield value.name
    elif isinstance(value, And | Or):
        for c in value.conditions:
            yield from condition_names(c)
    elif isinstance(value, Not):
        yield from condition_names(value.condition)
    elif isinstance(value, tuple):
        for v in value:
            yield from condition_names(v)
    elif isinstance(value, Join | Select):
        yield from condition_names(value.values)
    elif isinstance(value, Split):
        yield from condition_names(value.source)
    elif isinstance(value, Sub):
        for _, v in value.variables:
            yield from condition_names(v)
    elif isinstance(value, ImportValue):
        yield from condition_names(value.name)
