"""The gateway loop's Spinner: polls (never blocking in epoll) for SPIN after a kick, only while
at most one instance is busy, and not at all with ALOFT_SPIN_US=0."""

from __future__ import annotations

import asyncio
import time

import pytest

from aloft.local.instances.awake import DEFAULT_SPIN_US, Spinner, spin_seconds


def passes_after_kick(spinner: Spinner, wait: float) -> int:
    async def run() -> int:
        spinner.kick()
        await asyncio.sleep(wait)
        return spinner.passes

    return asyncio.run(run())


def test_a_kick_keeps_the_loop_polling_for_the_window_then_it_stops() -> None:
    spinner = Spinner(lambda: 1, spin=0.02)

    async def run() -> tuple[int, int, int]:
        started = time.perf_counter()
        spinner.kick()
        await asyncio.sleep(0.01)
        during = spinner.passes
        await asyncio.sleep(0.05)  # the window is over: no more passes
        after = spinner.passes
        await asyncio.sleep(0.02)
        assert time.perf_counter() - started >= 0.08
        return during, after, spinner.passes

    during, after, later = asyncio.run(run())
    assert during > 0  # loop passes (each yields the CPU: few of them on a busy machine)
    assert after >= during and later == after


def test_no_polling_while_two_instances_are_busy() -> None:
    assert passes_after_kick(Spinner(lambda: 2, spin=0.02), 0.03) == 0


def test_no_polling_when_spin_is_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALOFT_SPIN_US", "0")
    assert spin_seconds() == 0.0
    assert passes_after_kick(Spinner(lambda: 0), 0.01) == 0


@pytest.mark.parametrize(("value", "seconds"), [
    ("150", 150e-6), ("-5", 0.0), ("soon", DEFAULT_SPIN_US * 1e-6), (None, DEFAULT_SPIN_US * 1e-6),
])
def test_the_setting(monkeypatch: pytest.MonkeyPatch, value: str | None, seconds: float) -> None:
    if value is None:
        monkeypatch.delenv("ALOFT_SPIN_US", raising=False)
    else:
        monkeypatch.setenv("ALOFT_SPIN_US", value)
    assert spin_seconds() == pytest.approx(seconds)


def test_doze_while_the_loops_thread_is_saturated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spinner.doze looks at the thread's CPU over each window (LOOK_EVERY): DOZE from
    SATURATED, none again only below SATURATED - 0.2 (no flapping around the line)."""
    from aloft.local.instances import awake

    clock = {"wall": 100.0, "cpu": 5.0}
    monkeypatch.setattr(awake, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(awake, "thread_time", lambda: clock["cpu"])
    spinner = Spinner(lambda: 2, spin=0.02)

    def window(share: float) -> int:
        clock["wall"] += awake.LOOK_EVERY * 1.01
        clock["cpu"] += awake.LOOK_EVERY * 1.01 * share
        return spinner.doze()

    assert spinner.doze() == 0  # the first look only takes the baseline
    assert window(0.5) == 0
    assert window(0.9) == awake.DOZE
    clock["wall"] += awake.LOOK_EVERY / 4  # within a window: no new look
    clock["cpu"] += awake.LOOK_EVERY / 4 * 0.7
    assert spinner.doze() == awake.DOZE
    assert window(0.7) == awake.DOZE  # between the two lines: as it was
    assert window(0.5) == 0
    assert window(0.7) == 0
    clock["wall"] += 5.0  # idle, then a burst: the long window is mostly idle
    clock["cpu"] += 0.01
    assert spinner.doze() == 0
