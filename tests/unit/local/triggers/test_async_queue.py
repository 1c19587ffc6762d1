"""The async queue: the pure retry policy, and the queue's state transitions over SQLite in tmp
with an in-memory runner standing in for the instance pool."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.local.store.state import State
from aloft.local.triggers.async_queue import (
    AsyncEvent,
    AsyncQueue,
    after_failure,
    is_expired,
    retry_delay,
)
from aloft.local.types import InvokeResult


def event(**kw: object) -> AsyncEvent:
    base: dict[str, object] = {"id": "e1", "function": "svc-dev-fn", "qualifier": None,
                               "payload": b"{}", "max_retries": 2, "max_age": 3600,
                               "created": 1000.0}
    base.update(kw)
    return AsyncEvent(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pure policy


def test_retry_delay_doubles() -> None:
    assert [retry_delay(n, 1.5) for n in (1, 2, 3)] == [1.5, 3.0, 6.0]


def test_failure_retries_then_dead_letters() -> None:
    outcome, first = after_failure(event(), "error", "boom", 1000.0, 1.0)
    assert outcome == "retry" and first.attempts == 1 and first.not_before == 1001.0
    outcome, second = after_failure(first, "timeout", "slow", 1001.0, 1.0)
    assert outcome == "retry" and second.attempts == 2 and second.not_before == 1003.0
    outcome, third = after_failure(second, "crash", "segv", 1003.0, 1.0)
    assert outcome == "dead" and third.status == "dead" and third.attempts == 3
    assert third.last_error == "segv"


def test_zero_retries_dead_letters_at_once() -> None:
    outcome, after = after_failure(event(max_retries=0), "error", "boom", 1000.0, 1.0)
    assert outcome == "dead" and after.attempts == 1


def test_throttle_does_not_spend_a_retry() -> None:
    outcome, after = after_failure(event(attempts=2), "throttled", "busy", 1000.0, 1.0)
    assert outcome == "retry" and after.attempts == 2 and after.not_before > 1000.0


def test_throttled_until_max_age_dead_letters() -> None:
    outcome, after = after_failure(event(max_age=60), "throttled", "busy", 1060.0, 1.0)
    assert outcome == "dead" and after.attempts == 0


def test_retry_past_max_age_dead_letters() -> None:
    outcome, after = after_failure(event(max_age=60), "error", "boom", 1059.5, 1.0)
    assert outcome == "dead" and "expired" in (after.last_error or "")


def test_is_expired() -> None:
    assert not is_expired(event(max_age=60), 1060.0)
    assert is_expired(event(max_age=60), 1060.5)


# --------------------------------------------------------------------------- the queue


class Runner:
    """Succeeds, fails or throttles according to `script` (per payload), records calls."""

    def __init__(self, decide: Callable[[AsyncEvent, int], str]):
        self.decide = decide
        self.calls: list[tuple[str, bytes]] = []

    async def __call__(self, ev: AsyncEvent) -> InvokeResult | None:
        self.calls.append((ev.id, ev.payload))
        status = self.decide(ev, len([c for c in self.calls if c[0] == ev.id]))
        if status == "missing":
            return None
        payload = b"null" if status == "ok" else b'{"errorMessage": "boom", "errorType": "E"}'
        return InvokeResult("rid", status, payload, 1.0)  # type: ignore[arg-type]


def rows(db: Path) -> list[tuple[str, str, int]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(  # type: ignore[misc]
            "SELECT payload, status, attempts FROM async_events ORDER BY seq")]
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "state.db"
    State(path)  # creates the schema
    return path


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_success_removes_the_row(db: Path) -> None:
    runner = Runner(lambda ev, n: "ok")

    async def main() -> None:
        q = AsyncQueue(db, runner, workers=2, backoff=0.01)
        await q.start()
        ids = [await q.enqueue("svc-dev-fn", f'{{"n": {i}}}'.encode()) for i in range(5)]
        assert await q.drain(5)
        await q.flush()
        assert q.processed == 5 and len(set(ids)) == 5
        await q.stop()

    run(main())
    assert len(runner.calls) == 5
    assert rows(db) == []


def test_failures_retry_then_reach_the_dead_letter_queue_and_redrive(db: Path) -> None:
    fail = {"on": True}
    runner = Runner(lambda ev, n: "error" if fail["on"] else "ok")

    async def main() -> None:
        q = AsyncQueue(db, runner, workers=1, backoff=0.01)
        await q.start()
        event_id = await q.enqueue("svc-dev-fn", b'{"x": 1}', max_retries=2)
        assert await q.drain(5)
        dead = await q.dead(["svc-dev-fn"])
        assert [e.id for e in dead] == [event_id]
        assert dead[0].attempts == 3 and "E: boom" in (dead[0].last_error or "")
        assert len(runner.calls) == 3  # the first try and two retries
        fail["on"] = False
        assert await q.redrive(["svc-dev-fn"]) == [event_id]
        assert await q.drain(5)
        await q.flush()
        assert await q.dead(["svc-dev-fn"]) == []
        await q.stop()

    run(main())
    assert rows(db) == []


def test_redrive_only_the_ids_given(db: Path) -> None:
    runner = Runner(lambda ev, n: "error")

    async def main() -> None:
        q = AsyncQueue(db, runner, workers=2, backoff=0.01)
        await q.start()
        a = await q.enqueue("svc-dev-fn", b"1", max_retries=0)
        b = await q.enqueue("svc-dev-fn", b"2", max_retries=0)
        assert await q.drain(5)
        assert await q.redrive(["svc-dev-fn"], [b]) == [b]
        assert await q.drain(5)
        dead = {e.id: e for e in await q.dead(["svc-dev-fn"])}
        assert set(dead) == {a, b} and dead[b].attempts == 1
        await q.stop()

    run(main())


def test_missing_function_dead_letters(db: Path) -> None:
    async def main() -> None:
        q = AsyncQueue(db, Runner(lambda ev, n: "missing"), workers=1, backoff=0.01)
        await q.start()
        await q.enqueue("svc-dev-gone", b"{}")
        assert await q.drain(5)
        dead = await q.dead(["svc-dev-gone"])
        assert dead and dead[0].last_error == "function not found"
        await q.stop()

    run(main())


def test_unfinished_events_are_processed_after_a_restart(db: Path) -> None:
    """Accepted events that never ran (the platform stopped) run when a new queue starts."""
    blocked = asyncio.Event

    async def first() -> None:
        gate = blocked()

        async def never(ev: AsyncEvent) -> InvokeResult | None:
            await gate.wait()  # in progress forever: the platform "dies" here
            return None

        q = AsyncQueue(db, never, workers=2, backoff=0.01)
        await q.start()
        for i in range(10):
            await q.enqueue("svc-dev-fn", str(i).encode())
        await q.stop()  # no row was finished

    run(first())
    assert len(rows(db)) == 10
    runner = Runner(lambda ev, n: "ok")

    async def second() -> None:
        q = AsyncQueue(db, runner, workers=2, backoff=0.01)
        assert await q.start() == 10
        assert await q.drain(5)
        await q.flush()
        await q.stop()

    run(second())
    assert sorted(int(p) for _, p in runner.calls) == list(range(10))
    assert rows(db) == []


def test_throttled_events_run_again_without_spending_retries(db: Path) -> None:
    runner = Runner(lambda ev, n: "throttled" if n < 4 else "ok")

    async def main() -> None:
        q = AsyncQueue(db, runner, workers=1, backoff=0.01)
        await q.start()
        await q.enqueue("svc-dev-fn", b"{}", max_retries=0)
        assert await q.drain(5)
        await q.flush()
        assert q.processed == 1
        await q.stop()

    run(main())
    assert len(runner.calls) == 4


def test_the_outcome_of_each_event_is_told_once(db: Path) -> None:
    """Lambda's destinations hang on this: Success after a run, RetriesExhausted after the
    last retry, EventAgeExceeded for a retry past the event's age or an event too old to run;
    a function that no longer exists has no destination to tell."""
    told: list[tuple[bytes, str, int, str | None]] = []

    async def outcome(ev: AsyncEvent, result: InvokeResult | None, condition: str) -> None:
        told.append((ev.payload, condition, ev.attempts,
                     None if result is None else result.status))

    def decide(ev: AsyncEvent, n: int) -> str:
        return {b"ok": "ok", b"gone": "missing"}.get(ev.payload, "error")

    async def main() -> None:
        q = AsyncQueue(db, Runner(decide), workers=1, backoff=0.01, on_outcome=outcome)
        await q.start()
        await q.enqueue("svc-dev-fn", b"ok")
        await q.enqueue("svc-dev-fn", b"bad", max_retries=1)
        await q.enqueue("svc-dev-fn", b"gone")
        assert await q.drain(5)
        # an event older than its max age before it runs (queued, then the platform was down)
        created = time.time() - 3600
        await q._process(AsyncEvent("old", "svc-dev-fn", None, b"old", 2, 60, created=created,
                                    not_before=created))
        await q.stop()

    run(main())
    assert told == [(b"ok", "Success", 0, "ok"), (b"bad", "RetriesExhausted", 2, "error"),
                    (b"old", "EventAgeExceeded", 0, None)]


def test_a_crash_before_the_outcome_is_told_runs_the_event_again(db: Path) -> None:
    """Nothing is lost: the event's row goes only once its outcome (a destination's record) has
    been told, so a daemon that dies in between runs the event again on restart, and its
    outcome is told then (Lambda, too, may run an event and deliver its record more than
    once)."""
    told: list[str] = []
    telling = asyncio.Event()

    async def crash_while_telling(ev: AsyncEvent, result: InvokeResult | None,
                                  condition: str) -> None:
        telling.set()
        await asyncio.Future()  # the daemon dies here

    async def outcome(ev: AsyncEvent, result: InvokeResult | None, condition: str) -> None:
        told.append(condition)

    runner = Runner(lambda ev, n: "ok")

    async def main() -> None:
        first = AsyncQueue(db, runner, workers=1, on_outcome=crash_while_telling)
        await first.start()
        await first.enqueue("svc-dev-fn", b"{}")
        await asyncio.wait_for(telling.wait(), 5)
        await first.stop()  # as a kill: the worker is gone mid-outcome
        second = AsyncQueue(db, runner, workers=1, on_outcome=outcome)
        assert await second.start() == 1  # the event is still there
        assert await second.drain(5)
        await second.flush()
        await second.stop()

    run(main())
    assert told == ["Success"] and len(runner.calls) == 2
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM async_events").fetchone()[0] == 0


def test_a_failing_outcome_hook_does_not_run_the_event_again(db: Path) -> None:
    async def broken(ev: AsyncEvent, result: InvokeResult | None, condition: str) -> None:
        raise RuntimeError("a bug in the hook")

    runner = Runner(lambda ev, n: "ok")

    async def main() -> None:
        q = AsyncQueue(db, runner, workers=1, on_outcome=broken)
        await q.start()
        await q.enqueue("svc-dev-fn", b"{}")
        assert await q.drain(5)
        await q.stop()

    run(main())
    assert len(runner.calls) == 1
