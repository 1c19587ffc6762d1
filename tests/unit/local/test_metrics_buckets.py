"""Per-function metrics in per-minute buckets."""

from __future__ import annotations

from aloft.local.metrics import Metrics, duration_bin, percentile


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
