"""Values as people read them: the text of every table cell and status line the CLI prints.

Pure functions, no rich: `yes`/`no` for booleans, `app: 1, tick: 2` for mappings, `2 min ago`
(or a local date and time, for older things) for timestamps, `3 h 12 min` for durations. The
providers' data stays raw (`--json` prints it as it is); only human output goes through here.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aloft.provider import PlanStep

NONE = "-"
"""The cell of a missing value (None)."""

TIME_KEYS = frozenset({
    "created", "deployed", "deployed_at", "next_fire", "last_poll", "timestamp", "updated",
    "started", "last_modified", "last_dropped",
})
"""Keys whose values are moments (epoch seconds, or ISO text), shown relative to now."""

DURATION_KEYS = frozenset({"uptime_s", "age_s"})
"""Keys whose values are seconds elapsed."""

RECENT = 24 * 3600
"""Moments closer to now than this read `2 min ago` / `in 3 h`; older ones as a local time."""

_UNITS = (("_ms", " ms"), ("_mb", " MB"), ("_s", ""))
_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|UTC|[+-]\d{2}:?\d{2})?$")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def label(key: str) -> str:
    """A data key as a heading: `cold_starts` → `cold starts`, `p99_ms` → `p99 ms`."""
    for suffix, unit in _UNITS:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)].replace("_", " ") + unit
    return key.replace("_", " ")


def number(value: float) -> str:
    """A measurement, to a sensible precision: 3, 0.28, 56.3, 1234."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value):
        return str(int(value))
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 1 else 2
    return f"{value:.{digits}f}"


def moment(value: object) -> float | None:
    """Epoch seconds from a timestamp: a number, or ISO text (`2024-05-01 14:03:00 UTC`,
    `2024-05-01T14:03:00+00:00`); None when it is neither (text without a zone is UTC)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _ISO.match(value.strip())
    if match is None:
        return None
    day, clock, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z", "UTC") else zone
    if len(zone) == 5:  # +0100
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}{zone}").timestamp()
    except ValueError:
        return None


def local_time(epoch: float, zone: tzinfo | None = None) -> str:
    """`2024-05-01 16:03 CEST`: the moment in the local time zone (or `zone`)."""
    when = datetime.fromtimestamp(epoch, UTC).astimezone(zone)
    return when.strftime("%Y-%m-%d %H:%M %Z").strip()


def ago(epoch: float, now: float | None = None, zone: tzinfo | None = None) -> str:
    """A moment relative to now: `just now`, `40 s ago`, `2 min ago`, `3 h ago`, `in 5 min`;
    a local time when it is a day or more away."""
    now = time.time() if now is None else now
    delta = now - epoch
    if abs(delta) >= RECENT:
        return local_time(epoch, zone)
    if abs(delta) < 1:
        return "just now"
    text = duration(abs(delta), parts=1)
    return f"{text} ago" if delta > 0 else f"in {text}"


def duration(seconds: float, parts: int = 2) -> str:
    """Seconds as `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h` (at most `parts` units)."""
    if seconds < 60:
        return f"{int(seconds)} s"
    out: list[str] = []
    rest = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if rest >= size or out:
            count, rest = divmod(rest, size)
            if count or not out:
                out.append(f"{count} {unit}")
            if len(out) == parts:
                break
    return " ".join(out)


def time_cell(value: object, now: float | None = None, zone: tzinfo | None = None) -> str:
    """A timestamp cell: relative or local time, `-` for None, the value itself otherwise."""
    if value is None:
        return NONE
    epoch = moment(value)
    return str(value) if epoch is None else ago(epoch, now, zone)


def cell(value: object, key: str | None = None, *, now: float | None = None,
         zone: tzinfo | None = None) -> str:
    """Any value as table text; `key` (the column or field it is under) says if it is a time
    or a duration."""
    if key in TIME_KEYS and not isinstance(value, Mapping | list | tuple):
        return time_cell(value, now, zone)
    if value is None:
        return NONE
    if isinstance(value, bool):
        return yes_no(value)
    if key in DURATION_KEYS and isinstance(value, int | float):
        return duration(float(value))
    if isinstance(value, float):
        return number(value)
    if isinstance(value, Mapping):
        return mapping(value, now=now, zone=zone)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(cell(item, key, now=now, zone=zone) for item in items) or NONE
    return str(value)


def mapping(value: Mapping[Any, Any], *, now: float | None = None,
            zone: tzinfo | None = None) -> str:
    """`app: 1, tick: 2`; an HTTP route as `GET /path`; `-` when empty."""
    if {"method", "path"} <= value.keys():
        return f"{value['method']} {value['path']}"
    return ", ".join(f"{label(str(k))}: {cell(v, str(k), now=now, zone=zone)}"
                     for k, v in value.items()) or NONE


# -- status-like documents: a dict of scalars, lists and tables, as sections ------------------


@dataclass(frozen=True)
class Section:
    """One part of a printed document: a table (`columns` and `rows`; no columns: key/value
    rows without a header) or a line (`line`)."""

    title: str | None = None
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    line: str | None = None


def _is_table(value: object) -> bool:
    """A non-empty list of dicts, or a dict whose values are all dicts."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, Mapping) for v in value)
    if isinstance(value, Mapping):
        return bool(value) and all(isinstance(v, Mapping) for v in value.values())
    return False


def table_section(title: str | None, value: list[Any] | Mapping[str, Any], *,
                  first: str = "name", now: float | None = None,
                  zone: tzinfo | None = None) -> Section:
    """A list of records (or a dict of them, keyed by `first`) as a table; the columns are
    every key any record has, in the order they first appear."""
    if isinstance(value, Mapping):
        records = [{first: k, **{c: v for c, v in dict(r).items() if c != first}}
                   for k, r in value.items()]
    else:
        records = [dict(r) for r in value]
    keys = list(dict.fromkeys(k for r in records for k in r))
    rows = tuple(tuple(cell(r.get(k), k, now=now, zone=zone) for k in keys) for r in records)
    return Section(title=title, columns=tuple(label(k) for k in keys), rows=rows)


def document_sections(data: Mapping[str, Any], *, title: str | None = None,
                      now: float | None = None, zone: tzinfo | None = None) -> list[Section]:
    """A status-like dict as sections: its scalars (and short lists) as key/value rows first,
    then each table-like entry as its own table, then each small mapping as key/value rows."""
    scalars: list[tuple[str, ...]] = []
    tables: list[Section] = []
    for key, value in data.items():
        if _is_table(value):
            first = key[:-1] if key.endswith("s") else "name"  # functions: one per function
            tables.append(table_section(key.replace("_", " "), value, first=first, now=now,
                                        zone=zone))
        elif isinstance(value, Mapping) and value:
            rows = tuple((label(str(k)), cell(v, str(k), now=now, zone=zone))
                         for k, v in value.items())
            tables.append(Section(title=key.replace("_", " "), rows=rows))
        else:
            scalars.append((label(key), cell(value, key, now=now, zone=zone)))
    return ([Section(title=title, rows=tuple(scalars))] if scalars else []) + tables


# -- plan instructions ------------------------------------------------------------------------

def instruction_row(step: PlanStep) -> tuple[str, str, str]:
    """(action, resource, details) of one plan step."""
    shown = dict(step.details) if step.note is None else {**step.details, "note": step.note}
    # `;` between fields: a field's own value may be a list or mapping joined with `,`
    details = "; ".join(f"{label(k)}: {cell(v, k)}" for k, v in shown.items())
    return step.action, step.resource, details


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 event`, `3 events`."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
