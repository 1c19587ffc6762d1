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
        first = slots.queue(fv("x"), lambda: order.append("first started")).future
        await asyncio.sleep(0.1)  # it expires
        assert first.done() and first.result() is False
        second = slots.queue(fv("x"), lambda: order.append("second started")).future
        slots.release("x")
        order.append("released")
        assert await second
        order.append("second woke")
        return order

    assert asyncio.run(scenario()) == ["second started", "released", "second woke"]


def test_a_waiter_sent_ahead_is_taken_back_before_it_is_granted_or_throttled() -> None:
    """A waiter sent ahead to a busy instance (`take_back` set): granted a freed slot or
    throttled only once taken back from there; when the instance has started it, it leaves the
    queue with neither, and has that instance's slot (`transfer`: no slot taken or freed)."""
    async def scenario() -> list[str]:
        slots = ConcurrencySlots(account=2, throttle_wait=0.05)
        order: list[str] = []
        assert slots.try_take(fv("x")) and slots.try_take(fv("x"))
        taken = slots.queue(fv("x"), lambda: order.append("taken back, started"))
        taken.take_back = lambda: order.append("take back") is None  # it can be
        claimed = slots.queue(fv("x"), lambda: order.append("claimed, started"))
        claimed.take_back = lambda: order.append("cannot take back") is not None
        late = slots.queue(fv("x"), lambda: order.append("late started"))
        assert slots.next_waiting(fv("x")) is late  # the first not sent ahead
        slots.release("x")  # a slot for the first in line: it comes back, and has it
        assert await taken.future
        slots.release("x")  # the next in line was started where it was sent: the late one
        assert await late.future
        assert not claimed.future.done()  # neither granted nor throttled: it runs there
        assert slots._total == 2
        slots.transfer(claimed)  # its turn came there: the slot of the request before it
        assert await claimed.future and slots._total == 2
        expiring = slots.queue(fv("x"), lambda: order.append("never"))
        expiring.take_back = lambda: order.append("cannot take back") is not None
        await asyncio.sleep(0.1)
        assert not expiring.future.done() and not slots._waiters  # not throttled: it runs
        return order

    assert asyncio.run(scenario()) == [
        "take back", "taken back, started", "cannot take back", "late started",
        "cannot take back"]


def test_no_request_goes_ahead_of_an_older_one_that_has_the_next_slot() -> None:
    """The waiter to send ahead (next_waiting): the first of its version, unless an older one
    has the next slot that frees: one of the same function (another version), or of another
    function waiting for the account's limit. One at its own reserved limit waits for its own
    function's slot, not the next one: it does not stop the others."""
    async def scenario() -> None:
        slots = ConcurrencySlots(account=2, throttle_wait=5.0)
        capped, busy = fv("capped", concurrency=1), fv("busy", concurrency=1)
        assert slots.try_take(capped) and slots.try_take(busy)  # the account is full too
        at_its_limit = slots.queue(capped)
        mine = slots.queue(busy)
        assert slots.next_waiting(busy) is mine  # `capped` waits for its own slot
        slots.release("capped")  # ... which it gets
        assert await at_its_limit.future and slots.next_waiting(busy) is mine
        account = slots.queue(fv("other"))  # waits for the account's next slot
        later = slots.queue(busy)
        mine.take_back = lambda: True  # (sent ahead already)
        assert slots.next_waiting(busy) is None  # `other`, older, has the next slot
        account.future.cancel()
        assert slots.next_waiting(busy) is later
        another_version = slots.queue(FunctionVersion("busy", 2, Path("/c"), None, 128, 3, 1, 60))
        assert slots.next_waiting(busy) is later  # older than that version's
        assert slots.next_waiting(another_version.fv) is None  # `later` has busy's next slot
        slots.cancel_all()

    asyncio.run(scenario())
