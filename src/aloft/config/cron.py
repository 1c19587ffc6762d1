"""AWS's 6-field cron, checked field by field as EventBridge checks it: a value out of range or
a misplaced special character is a config error at its line, not a failed deploy.

Fields: minutes (0-59), hours (0-23), day-of-month (1-31, `?`, `L`, `LW`, `nW`), month (1-12
or JAN-DEC), day-of-week (1-7 or SUN-SAT, `?`, `L`, `nL`, `n#k`), year (1970-2199). Each is
`*` or a comma-separated list of values, ranges `a-b` and steps `x/n`; one of day-of-month
and day-of-week must be `?`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()


FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTHS),
    _Field("day-of-week", 1, 7, DAYS),
    _Field("year", 1970, 2199),
)


def _value(text: str, field: _Field) -> str | None:
    """Why `text` is not a value of `field` (None if it is)."""
    upper = text.upper()
    if upper in field.names:
        return None
    if not text.isdigit():
        named = f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
        return f"{text!r} is not a number{named}"
    if not field.low <= int(text) <= field.high:
        return f"{text} is out of range ({field.low}-{field.high})"
    return None


def _item(item: str, field: _Field) -> str | None:
    if field.name == "day-of-month":
        if item in ("L", "LW"):
            return None
        if item.endswith("W"):
            return _value(item[:-1], field)
    if field.name == "day-of-week":
        if item == "L":
            return None
        if re.fullmatch(r"\w+L", item):
            return _value(item[:-1], field)
        if "#" in item:
            day, _, nth = item.partition("#")
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                return f"{item!r}: the week after '#' must be 1-5"
            return _value(day, field)
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or int(step) < 1:
            return f"{item!r}: the step after '/' must be a whole number from 1"
        if base == "*":
            return None
    if base == "*" and not slash:
        return None
    low, dash, high = base.partition("-")
    for part in (low, high) if dash else (low,):
        problem = _value(part, field)
        if problem:
            return problem
    return None


def cron_problem(text: str) -> str | None:
    """What is wrong with the AWS cron `text` (its 6 fields, without `cron(...)`), or None."""
    fields = text.split()
    if len(fields) != len(FIELDS):
        return (f"cron {text!r} has {len(fields)} fields; AWS cron has 6: minutes hours "
                "day-of-month month day-of-week year, e.g. '0 12 * * ? *'")
    for value, field in zip(fields, FIELDS, strict=True):
        if value == "?":
            if field.name not in ("day-of-month", "day-of-week"):
                return (f"cron {text!r}: '?' is only for day-of-month or day-of-week, "
                        f"not {field.name}")
            continue
        for item in value.split(","):
            problem = _item(item, field) if item else f"an empty item in {value!r}"
            if problem:
                return f"cron {text!r}: {field.name} {problem}"
    if (fields[2] == "?") == (fields[4] == "?"):
        return (f"cron {text!r}: one of day-of-month and day-of-week must be '?' (and only one), "
                "e.g. '0 12 * * ? *' (every day) or '0 12 ? * MON *' (Mondays)")
    return None
