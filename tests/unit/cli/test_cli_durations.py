from __future__ import annotations

import pytest

from aloft.cli.durations import parse_duration
from aloft.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), (" 5 M ", 300), ("0s", 0)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "m", "1.5h", "10 minutes", "-1m", "1w"])
def test_bad_durations_name_the_option_and_the_forms(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text, "--since")
    assert info.value.message == f"--since {text!r} is not a duration"
    assert info.value.fix and "30s, 10m, 2h or 1d" in info.value.fix
