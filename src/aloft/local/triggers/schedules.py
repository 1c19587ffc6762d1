"""Schedule maths: when does `rate(...)` or AWS's 6-field `cron(...)` fire next (UTC).

Pure functions over datetimes; the scheduler (scheduler.py) is the thin shell that sleeps and
fires. AWS cron differs from Unix cron: six fields (minutes hours day-of-month month day-of-week
year), `?` for "no specific value", day-of-week numbered 1-7 from Sunday, `L`, `W` and `#`.
We translate it to croniter's 7-field form (with seconds and year) rather than reimplement it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import croniter

from aloft.errors import ConfigError

_RATE = re.compile(r"^(\d+)\s+(minute|minutes|hour|hours|day|days)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DOW_NAMES = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}


def rate_seconds(rate: str) -> int:
    """`5 minutes` (or `rate(5 minutes)`) as seconds."""
    text = rate.strip()
    if text.startswith("rate(") and text.endswith(")"):
        text = text[5:-1].strip()
    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise ConfigError(
            f"rate {rate!r} is not a valid schedule rate",
            fix="write e.g. 'rate(5 minutes)', 'rate(1 hour)' or 'rate(2 days)'",
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def _dow_item(item: str) -> str:
    """One comma-separated item of AWS's day-of-week field, in croniter's numbering."""
    upper = item.upper()
    if upper in ("*", "?"):
        return "*"
    if upper == "L":  # the last day of the week: Saturday
        return "6"
    if upper.endswith("L") and upper[:-1].isdigit():  # 6L: the last Friday of the month
        return f"L{int(upper[:-1]) - 1}"
    if "#" in upper:  # 6#3: the third Friday
        day, nth = upper.split("#", 1)
        return f"{_dow_number(day)}#{nth}"
    step = ""
    if "/" in upper:
        upper, step_n = upper.split("/", 1)
        step = "/" + step_n
    if "-" in upper:
        low, high = upper.split("-", 1)
        return f"{_dow_number(low)}-{_dow_number(high)}{step}"
    return _dow_number(upper) + step


def _dow_number(day: str) -> str:
    if day in _DOW_NAMES:
        return day
    if not day.isdigit() or not 1 <= int(day) <= 7:
        raise ValueError(f"day-of-week {day!r} must be 1-7 (1 = Sunday) or SUN-SAT")
    return str(int(day) - 1)


def aws_cron_to_croniter(expression: str) -> str:
    """AWS `0 12 ? * MON-FRI *` → croniter's `0 12 * * MON-FRI 0 *` (minute first, then
    seconds and year as the 6th and 7th fields)."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1].strip()
    fields = text.split()
    if len(fields) != 6:
        raise ConfigError(
            f"cron {expression!r} has {len(fields)} fields; AWS cron has 6",
            fix="write minutes hours day-of-month month day-of-week year, e.g. '0 12 * * ? *'",
        )
    minute, hour, dom, month, dow, year = fields
    if dom.upper() == "LW":
        raise ConfigError(
            f"cron {expression!r}: 'LW' (last weekday of the month) is not supported locally",
            fix="use 'L' (last day) or a day-of-week expression such as '6L' (last Friday)",
        )
    dom = "*" if dom == "?" else dom
    try:
        dow = ",".join(_dow_item(item) for item in dow.split(","))
    except ValueError as exc:
        raise ConfigError(f"cron {expression!r}: {exc}") from None
    year = "*" if year == "?" else year
    return " ".join((minute, hour, dom, month, dow, "0", year))


def schedule_next_fire(
    expression: str, after: datetime, *, anchor: datetime | None = None
) -> datetime:
    """The first fire time strictly after `after`, in UTC.

    `rate(N unit)` fires every N units counted from `anchor` (when the schedule was created;
    `after` if not given), as EventBridge does; `cron(...)` fires on its calendar.
    """
    after = _utc(after)
    text = expression.strip()
    if text.startswith("rate("):
        period = rate_seconds(text)
        start = _utc(anchor) if anchor is not None else after
        if start > after:
            return start
        elapsed = (after - start).total_seconds()
        steps = int(elapsed // period) + 1
        return start + timedelta(seconds=steps * period)
    if text.startswith("cron("):
        spec = aws_cron_to_croniter(text)
        try:
            it = croniter(spec, after, second_at_beginning=False)
            nxt = it.get_next(datetime)
        except (ValueError, KeyError) as exc:
            raise ConfigError(
                f"cron {expression!r} is not valid: {exc}",
                fix="see AWS's cron syntax: minutes hours day-of-month month day-of-week year",
            ) from None
        return _utc(nxt)
    raise ConfigError(
        f"schedule {expression!r} is neither rate(...) nor cron(...)",
        fix="write e.g. 'rate(5 minutes)' or 'cron(0 12 * * ? *)'",
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
