"""aloft.cli.formatting: the text of table cells and status documents (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aloft.cli import formatting as f

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC).timestamp()
PARIS = timezone(timedelta(hours=1), "CET")


@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "just now"), (-0.4, "just now"), (40, "40 s ago"), (119, "1 min ago"),
    (150, "2 min ago"), (3 * 3600 + 50, "3 h ago"), (-300, "in 5 min"), (-7200, "in 2 h"),
])
def test_recent_moments_are_relative(seconds: float, text: str) -> None:
    assert f.ago(NOW - seconds, NOW) == text


def test_older_moments_are_a_local_time() -> None:
    two_days_ago = NOW - 2 * 86400
    assert f.ago(two_days_ago, NOW, UTC) == "2025-03-12 12:00 UTC"
    assert f.ago(two_days_ago, NOW, PARIS) == "2025-03-12 13:00 CET"
    assert f.ago(NOW + 3 * 86400, NOW, UTC) == "2025-03-17 12:00 UTC"  # far ahead too


@pytest.mark.parametrize("text", [
    "2025-03-14 11:58:00 UTC", "2025-03-14T11:58:00Z", "2025-03-14T11:58:00+00:00",
    "2025-03-14T12:58:00+01:00", "2025-03-14 12:58:00+0100", "2025-03-14 11:58",
])
def test_iso_text_reads_as_a_moment(text: str) -> None:
    assert f.moment(text) == NOW - 120
    assert f.time_cell(text, NOW) == "2 min ago"


@pytest.mark.parametrize("value", ["soon", "", True, None, [1]])
def test_what_is_not_a_moment(value: object) -> None:
    assert f.moment(value) is None


def test_time_cells() -> None:
    assert f.time_cell(None, NOW) == "-"
    assert f.time_cell("next week", NOW) == "next week"  # not a time: shown as it is
    assert f.cell(NOW - 5, "deployed_at", now=NOW) == "5 s ago"
    assert f.cell(NOW + 3540, "next_fire", now=NOW) == "in 59 min"
    assert f.cell(None, "last_poll", now=NOW) == "-"


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 s"), (59.9, "59 s"), (60, "1 min"), (754, "12 min"), (3600, "1 h"),
    (3 * 3600 + 12 * 60 + 5, "3 h 12 min"), (2 * 86400 + 4 * 3600 + 60, "2 d 4 h"),
    (86400 + 30, "1 d"),
])
def test_durations(seconds: float, text: str) -> None:
    assert f.duration(seconds) == text


def test_cells_are_for_people() -> None:
    assert f.cell(True) == "yes" and f.cell(False) == "no"
    assert f.cell(None) == "-"
    assert f.cell({"app": 1, "tick": 2}) == "app: 1, tick: 2"
    assert f.cell({}) == "-" and f.cell([]) == "-"
    assert f.cell(["a", "b"]) == "a, b"
    assert f.cell({"ready": True, "start_ms": 329.62}) == "ready: yes, start ms: 330"
    assert f.cell([{"method": "GET", "path": "/x"}, {"method": "ANY", "path": "/"}]) \
        == "GET /x, ANY /"
    assert f.cell(0.2834) == "0.28" and f.cell(56.34) == "56.3" and f.cell(3.0) == "3"
    assert f.cell(1234.4) == "1234"
    assert f.cell(42) == "42" and f.cell("text") == "text"
    assert f.cell(125.0, "uptime_s") == "2 min"
    # a count under a key that is not a time stays a number
    assert f.cell(0, "queued") == "0"


def test_labels() -> None:
    assert f.label("cold_starts") == "cold starts"
    assert f.label("p99_ms") == "p99 ms"
    assert f.label("rss_mb") == "rss MB"
    assert f.label("uptime_s") == "uptime"
    assert f.label("version") == "version"


def test_a_status_document_becomes_sections() -> None:
    status = {
        "url": "http://127.0.0.1:8750/shop/dev/", "version": 2,
        "deployed": "2025-03-14 11:59:00 UTC",
        "versions": [
            {"version": 1, "deployed": NOW - 7200, "current": False, "functions": {"app": 1}},
            {"version": 2, "deployed": NOW - 60, "current": True, "functions": {"app": 2}},
        ],
        "async": {"queued": 0, "dead_letter": 1},
        "routes": ["ANY /", "ANY /{proxy+}"],
        "api": None,
        "event_sources": [],
    }
    top, versions, queue = f.document_sections(status, now=NOW)
    assert top.title is None and top.columns == ()
    assert top.rows == (("url", "http://127.0.0.1:8750/shop/dev/"), ("version", "2"),
                        ("deployed", "1 min ago"), ("routes", "ANY /, ANY /{proxy+}"),
                        ("api", "-"), ("event sources", "-"))
    assert versions.title == "versions"
    assert versions.columns == ("version", "deployed", "current", "functions")
    assert versions.rows == (("1", "2 h ago", "no", "app: 1"), ("2", "1 min ago", "yes", "app: 2"))
    assert queue.title == "async" and queue.rows == (("queued", "0"), ("dead letter", "1"))


def test_a_mapping_of_records_is_a_table_keyed_by_its_first_column() -> None:
    status = {"functions": {"app": {"name": "shop-prod-app", "version": "3", "memory": 512},
                            "tick": {"name": "shop-prod-tick", "version": "1", "memory": 256}},
              "schedules": {"shop-prod-tick": "enabled"}}
    functions, schedules = f.document_sections(status, now=NOW)
    assert functions.columns == ("function", "name", "version", "memory")
    assert functions.rows == (("app", "shop-prod-app", "3", "512"),
                              ("tick", "shop-prod-tick", "1", "256"))
    assert schedules.columns == () and schedules.rows == (("shop-prod-tick", "enabled"),)


def test_a_title_names_the_first_section() -> None:
    [only] = f.document_sections({"running": True, "uptime_s": 30}, title="local cloud")
    assert only.title == "local cloud" and only.rows == (("running", "yes"), ("uptime", "30 s"))


@pytest.mark.parametrize(("instruction", "row"), [
    ({"action": "publish", "name": "app", "function": "shop-dev-app", "version": 2,
      "reason": "code changed", "config_hash": "ab" * 32},
     ("publish", "app", "version: 2; reason: code changed")),
    ({"action": "switch_alias", "name": "dev", "functions": {"app": 2, "tick": 1}},
     ("switch_alias", "dev", "functions: app: 2, tick: 1")),
    ({"action": "health_check", "name": "tick", "function": "x", "version": 1, "path": None},
     ("health_check", "tick", "version: 1")),
    ({"action": "routes", "name": "/shop/dev",
      "routes": [{"method": "ANY", "path": "/", "function": "shop-dev-app"}]},
     ("routes", "/shop/dev", "routes: ANY /")),
    ({"action": "resource_add", "name": "queue:shop-dev-jobs",
      "resource": {"kind": "queue", "physical": "shop-dev-jobs"}},
     ("resource_add", "queue:shop-dev-jobs", "")),
    ({"op": "PutRule", "resource": "shop-prod-tick", "expression": "rate(1 hour)",
      "enabled": True, "exists": False},
     ("PutRule", "shop-prod-tick", "expression: rate(1 hour); enabled: yes; exists: no")),
])
def test_plan_instructions(instruction: dict[str, object], row: tuple[str, str, str]) -> None:
    # each provider reads its own instructions (the local daemon's `action`, AWS steps' `op`)
    from aloft.aws.provider import as_plan_step as aws_step
    from aloft.local.provider import as_plan_step as local_step

    step = aws_step(instruction) if "op" in instruction else local_step(instruction)
    assert f.instruction_row(step) == row


def test_counts() -> None:
    assert f.count(1, "event") == "1 event" and f.count(0, "event") == "0 events"
    assert f.count(2, "entry", "entries") == "2 entries"
