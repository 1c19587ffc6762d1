"""Concurrency slots: reserved and account limits, first come first served, throttle_wait."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aloft.local.instances.concurrency import ACCOUNT, RESERVED, ConcurrencySlots
from aloft.local.types import FunctionVersion


def fv(name: str, concurrency: int | None = None) -> FunctionVersion:
    return FunctionVersion(name, 1, Path("/c"), None, 128, 3, concurrency, 60)


def test_limits_and_reasons() -> None:
    slots = ConcurrencySlots(account=3, throttle_wait=0.01)
    a, b = fv("a", concurrency=1), fv("b")
    assert slots.try_take(a)
    assert not slots.try_take(a)
    assert slots.throttle_reason(a) == RESERVED
    assert slots.try_take(b) and slots.try_take(b)
    assert not slots.try_take(b)
    assert slots.throttle_reason(b) == ACCOUNT
    slots.release("b")
    assert slots.try_take(b)
    assert not slots.try_take(fv("zero", concurrency=0))


def test_freed_slots_go_to_waiters_in_order() -> None:
    async def scenario() -> list[str]:
        slots = ConcurrencySlots(account=1, throttle_wait=1.0)
        order: list[str] = []
        assert slots.try_take(fv("x"))

        async def waiter(name: str) -> None:
            if await slots.wait(fv(name)):
                order.append(name)
                slots.release(name)

        tasks = [asyncio.ensure_future(waiter(n)) for n in ("first", "second", "third")]
        await asyncio.sleep(0.01)  # turns of the loop: each waiter is queued
        assert not slots.try_take(fv("late"))  # waiters come first
        slots.release("x")
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(scenario()) == ["first", "second", "third"]


def test_a_waiter_blocked_by_its_reserved_limit_does_not_block_others() -> None:
    async def scenario() -> tuple[bool, bool]:
        slots = ConcurrencySlots(account=3, throttle_wait=0.05)
        capped = fv("capped", concurrency=1)
        assert slots.try_take(capped)
        blocked = asyncio.ensure_future(slots.wait(capped))
        await asyncio.sleep(0)
        other = await slots.wait(fv("other"))  # a slot is free for it
        return other, await blocked

    assert asyncio.run(scenario()) == (True, False)  # the capped one timed out


def test_a_granted_waiters_start_runs_in_the_release_before_it_wakes() -> None:
    """The pool's handoff: a freed slot's next request starts inside `release`, not when its
    coroutine next runs; a waiter that times out never starts."""
    async def scenario() -> list[str]:
        slots = ConcurrencySlots(account=1, throttle_wait=0.05)
        order: list[str] = []
        assert slots.try_take(fv("x"))
        first = slots.queue(fv("x"), lambda: order.append("first started"))
        await asyncio.sleep(0.1)  # it expires
        assert first.done() and first.result() is False
        second = slots.queue(fv("x"), lambda: order.append("second started"))
        slots.release("x")
        order.append("released")
        assert await second
        order.append("second woke")
        return order

    assert asyncio.run(scenario()) == ["second started", "released", "second woke"]
