"""Durations on the command line: `30s`, `10m`, `2h`, `1d`."""

from __future__ import annotations

import re

from aloft.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$", re.IGNORECASE)


def parse_duration(text: str, option: str = "duration") -> int:
    """Seconds in `text`; a UsageError names the option and shows the accepted forms."""
    match = _DURATION.match(text)
    if not match:
        raise UsageError(
            f"{option} {text!r} is not a duration",
            fix="write a whole number and a unit: 30s, 10m, 2h or 1d",
        )
    return int(match.group(1)) * _UNITS[match.group(2).lower()]
