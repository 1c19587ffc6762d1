"""Schedule maths: rate(...) anchored on creation, AWS's 6-field cron translated to croniter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aloft.errors import ConfigError
from aloft.local.triggers.schedules import aws_cron_to_croniter, rate_seconds, schedule_next_fire


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


MONDAY = utc(2026, 11, 23, 10, 30)  # a Monday


@pytest.mark.parametrize(
    ("rate", "seconds"),
    [("1 minute", 60), ("5 minutes", 300), ("rate(2 hours)", 7200), ("1 day", 86400)],
)
def test_rate_seconds(rate: str, seconds: int) -> None:
    assert rate_seconds(rate) == seconds


@pytest.mark.parametrize("bad", ["0 minutes", "5 weeks", "minutes", "rate()"])
def test_bad_rate_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError):
        rate_seconds(bad)


def test_rate_counts_from_its_anchor() -> None:
    anchor = utc(2026, 11, 23, 10, 0, 7)
    after = utc(2026, 11, 23, 10, 12, 0)
    assert schedule_next_fire("rate(5 minutes)", after, anchor=anchor) == utc(
        2026, 11, 23, 10, 15, 7
    )


def test_rate_is_strictly_after() -> None:
    anchor = utc(2026, 11, 23, 10, 0)
    assert schedule_next_fire("rate(5 minutes)", utc(2026, 11, 23, 10, 5), anchor=anchor) == utc(
        2026, 11, 23, 10, 10
    )


def test_rate_skips_missed_periods() -> None:
    anchor = utc(2026, 11, 1)
    nxt = schedule_next_fire("rate(1 hour)", MONDAY, anchor=anchor)
    assert nxt == utc(2026, 11, 23, 11, 0)


def test_rate_without_anchor_counts_from_after() -> None:
    assert schedule_next_fire("rate(1 minute)", MONDAY) == utc(2026, 11, 23, 10, 31)


def test_cron_daily_noon_with_question_mark() -> None:
    assert schedule_next_fire("cron(0 12 * * ? *)", MONDAY) == utc(2026, 11, 23, 12, 0)
    assert schedule_next_fire("cron(0 12 * * ? *)", utc(2026, 11, 23, 12, 0)) == utc(
        2026, 11, 24, 12, 0
    )


def test_cron_day_of_week_is_numbered_from_sunday() -> None:
    # AWS: 1 = Sunday, 2 = Monday; croniter: 0 = Sunday.
    assert aws_cron_to_croniter("0 8 ? * 2 *").split()[4] == "1"
    assert schedule_next_fire("cron(0 8 ? * 2 *)", MONDAY) == utc(2026, 11, 30, 8, 0)
    assert schedule_next_fire("cron(0 8 ? * 1 *)", MONDAY) == utc(2026, 11, 29, 8, 0)


def test_cron_weekday_names_and_ranges() -> None:
    assert schedule_next_fire("cron(0 9 ? * MON-FRI *)", utc(2026, 11, 27, 10)) == utc(
        2026, 11, 30, 9, 0
    )  # Friday after 9 -> Monday
    assert schedule_next_fire("cron(0 9 ? * 2-6 *)", utc(2026, 11, 27, 10)) == utc(
        2026, 11, 30, 9, 0
    )


def test_cron_last_day_of_month() -> None:
    assert schedule_next_fire("cron(0 0 L * ? *)", MONDAY) == utc(2026, 11, 30, 0, 0)
    assert schedule_next_fire("cron(0 0 L * ? *)", utc(2026, 11, 30, 1)) == utc(2026, 12, 31)


def test_cron_last_friday_and_nth_weekday() -> None:
    assert schedule_next_fire("cron(0 12 ? * 6L *)", MONDAY) == utc(2026, 11, 27, 12)
    # the second Tuesday (AWS 3#2) of December 2026 is the 8th
    assert schedule_next_fire("cron(0 12 ? * 3#2 *)", MONDAY) == utc(2026, 12, 8, 12)


def test_cron_nearest_weekday() -> None:
    # 15W in August 2026: the 15th is a Saturday, so Friday the 14th
    assert schedule_next_fire("cron(0 12 15W * ? *)", utc(2026, 8, 1)) == utc(2026, 8, 14, 12)


def test_cron_year_field() -> None:
    assert schedule_next_fire("cron(0 12 1 1 ? 2028)", MONDAY) == utc(2028, 1, 1, 12)
    assert schedule_next_fire("cron(30 6 * * ? 2027-2028)", MONDAY) == utc(2027, 1, 1, 6, 30)


def test_cron_every_five_minutes() -> None:
    assert schedule_next_fire("cron(0/5 * * * ? *)", MONDAY) == utc(2026, 11, 23, 10, 35)


@pytest.mark.parametrize(
    "bad",
    ["cron(0 12 * * *)", "cron(0 12 * * 9 *)", "cron(0 12 LW * ? *)", "every day",
     "cron(x y z a b c)"],
)
def test_bad_cron_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError):
        schedule_next_fire(bad, MONDAY)


def test_naive_datetimes_are_utc() -> None:
    naive = datetime(2026, 11, 23, 10, 30)
    assert schedule_next_fire("cron(0 12 * * ? *)", naive) == utc(2026, 11, 23, 12)
