"""AWS cron checked field by field: values in range, names, special characters where AWS
allows them, and exactly one of day-of-month / day-of-week as `?`; wrong ones are config
errors at the schedule's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.config.cron import cron_problem
from aloft.errors import ConfigError


@pytest.mark.parametrize("text", [
    "0 12 * * ? *", "0/5 * * * ? *", "30 6 * * ? 2027-2028", "0 9 ? * MON-FRI *",
    "0 9 ? * 2-6 *", "0 12 LW * ? *", "0 12 ? * 6L *", "0 12 ? * 3#2 *", "0 12 15W * ? *",
    "0 12 1 1 ? 2028", "0 0 L * ? *", "0,15,30,45 8-17 ? JAN-MAR,DEC sun *", "5/10 */2 1 * ? *",
])
def test_valid_expressions(text: str) -> None:
    assert cron_problem(text) is None


@pytest.mark.parametrize(("text", "why"), [
    ("0 12 * *", "has 4 fields"),
    ("61 12 * * ? *", "minutes 61 is out of range (0-59)"),
    ("0 24 * * ? *", "hours 24 is out of range (0-23)"),
    ("0 12 32 * ? *", "day-of-month 32 is out of range (1-31)"),
    ("0 12 0 * ? *", "day-of-month 0 is out of range (1-31)"),
    ("0 12 * 13 ? *", "month 13 is out of range (1-12)"),
    ("0 12 * JUNE ? *", "month 'JUNE' is not a number or JAN-DEC"),
    ("0 12 ? * 8 *", "day-of-week 8 is out of range (1-7)"),
    ("0 12 ? * 3#6 *", "the week after '#' must be 1-5"),
    ("0 12 * * ? 1969", "year 1969 is out of range (1970-2199)"),
    ("0/0 * * * ? *", "the step after '/' must be a whole number from 1"),
    ("? 12 * * ? *", "'?' is only for day-of-month or day-of-week"),
    ("0 12 * * * *", "one of day-of-month and day-of-week must be '?'"),
    ("0 12 ? * ? *", "one of day-of-month and day-of-week must be '?'"),
    ("0 12 1,,2 * ? *", "an empty item"),
])
def test_invalid_expressions_say_which_field(text: str, why: str) -> None:
    problem = cron_problem(text)
    assert problem is not None and why in problem


def test_a_cron_out_of_range_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "aloft.yml").write_text(
        "service: s\nfunctions:\n  nightly:\n    handler: jobs.run\n    events:\n"
        "      - schedule:\n          cron: 0 25 * * ? *\n")
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path, env={}).service("dev")
    where = caught.value.where
    assert where is not None and where.line == 7 and where.file == str(tmp_path / "aloft.yml")
    assert "hours 25 is out of range (0-23)" in caught.value.message
