"""Per-function metrics in per-minute buckets."""

from __future__ import annotations

from aloft.local.store.metrics import Metrics, duration_bin, percentile


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000 * 60.0

    def __call__(self) -> float:
        return self.now


def test_summary_counts_and_percentiles() -> None:
    clock = Clock()
    metrics = Metrics(clock)
    for ms in range(1, 101):  # 1..100 ms
        metrics.record("f", float(ms), error=ms % 10 == 0, cold=ms <= 2)
    metrics.throttled("f")
    metrics.instances("f", 2)
    summary = metrics.summary("f")
    assert summary["invocations"] == 100
    assert summary["errors"] == 10
    assert summary["cold_starts"] == 2
    assert summary["throttles"] == 1
    assert summary["concurrent_instances"] == 2
    assert abs(summary["p50_ms"] - 50) <= 50 * 0.05
    assert abs(summary["p99_ms"] - 99) <= 99 * 0.05
    assert metrics.summary("unknown")["invocations"] == 0


def test_series_per_minute_for_the_last_hour() -> None:
    clock = Clock()
    metrics = Metrics(clock)
    metrics.record("f", 5.0, error=False, cold=True)
    clock.now += 60
    metrics.record("f", 7.0, error=True, cold=False)
    metrics.record("f", 9.0, error=False, cold=False)
    series = metrics.series("f")
    assert [b["invocations"] for b in series] == [1, 2]
    assert series[1]["time"] - series[0]["time"] == 60
    assert series[1]["errors"] == 1
    clock.now += 3600  # an hour later, those minutes are gone
    assert metrics.series("f") == []
    assert metrics.summary("f")["invocations"] == 0


def test_histogram_resolution() -> None:
    hist = [0] * 400
    for ms in (0.5, 2.0, 2.0, 300.0):
        hist[duration_bin(ms)] += 1
    assert abs(percentile(hist, 4, 0.5) - 2.0) < 0.1  # type: ignore[operator]
    assert abs(percentile(hist, 4, 1.0) - 300.0) < 15  # type: ignore[operator]
    assert percentile(hist, 0, 0.5) is None


def test_http_4xx_and_5xx_apart_from_function_errors() -> None:
    clock = Clock()
    metrics = Metrics(clock)
    metrics.record("f", 1.0, error=False, cold=False, request_id="a", status="ok")
    metrics.response("f", 500, "a")  # a Flask 500: the function answered, the client got a 5xx
    metrics.record("f", 1.0, error=True, cold=False, request_id="b", status="error")
    metrics.response("f", 502, "b")  # a function error: both
    metrics.record("f", 1.0, error=False, cold=False, request_id="c", status="ok")
    metrics.response("f", 404, "c")
    summary = metrics.summary("f")
    assert (summary["errors"], summary["4xx"], summary["5xx"]) == (1, 1, 2)
    # the recent invocations show the HTTP status of an answered request, not "ok"
    assert [i.status for i in metrics.recent()] == ["404", "error", "500"]


def test_memory_used_is_the_maximum_of_the_period() -> None:
    clock = Clock()
    metrics = Metrics(clock)
    for mb in (40, 95, 60):
        metrics.record("f", 1.0, error=False, cold=False, memory_mb=mb)
    assert metrics.series("f")[-1]["memory_mb"] == 95


def test_longer_windows_roll_minutes_up() -> None:
    clock = Clock()
    start = clock.now = 900 * 70_000.0  # at the start of a 15-minute period
    metrics = Metrics(clock)
    # one invocation a minute for 24 hours, 10 ms each, plus a 4xx every hour
    for minute in range(24 * 60):
        clock.now = start + minute * 60 + 1
        metrics.record("f", 10.0, error=minute % 60 == 0, cold=False)
        if minute % 60 == 0:
            metrics.response("f", 404)
    quarter = metrics.series("f", 900)
    assert len(quarter) == 15 and {p["time"] for p in quarter} == {
        start + m * 60 for m in range(24 * 60 - 15, 24 * 60)}
    assert len(metrics.series("f", 3600)) == 60
    six = metrics.series("f", 6 * 3600)
    assert len(six) == 72 and all(p["invocations"] == 5 for p in six)
    assert [p["time"] - q["time"] for p, q in zip(six[1:], six, strict=False)] == [300] * 71
    day = metrics.series("f", 86400)
    assert len(day) == 96 and all(p["invocations"] == 15 for p in day)
    assert sum(p["errors"] for p in day) == 24 and sum(p["4xx"] for p in day) == 24
    assert all(abs(p["p99_ms"] - 10) < 0.5 for p in day)
    # the minute in progress counts in the longer windows before it is rolled up
    clock.now = start + 24 * 3600 + 1
    metrics.record("f", 10.0, error=False, cold=False)
    assert metrics.series("f", 86400)[-1]["invocations"] == 1
    assert metrics.series("f", 6 * 3600)[-1]["invocations"] == 1
    # another minute later, the same: rolled into its period with nothing counted twice
    clock.now += 60
    metrics.record("f", 10.0, error=False, cold=False)
    assert metrics.series("f", 86400)[-1]["invocations"] == 2
    # a day and more later, nothing is left
    clock.now += 2 * 86400
    assert metrics.series("f", 86400) == []


def test_a_window_between_the_supported_ones_takes_the_next_longer() -> None:
    from aloft.local.store.metrics import window_step

    assert window_step(60) == (900, 60)
    assert window_step(7200) == (21600, 300)
    assert window_step(10**9) == (86400, 900)
