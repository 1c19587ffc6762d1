"""The tests' one wait helper: it returns what it waited for, and a timeout says what it waited
for and what it last saw."""

from __future__ import annotations

import asyncio

import pytest

from tests.waiting import wait_until, wait_until_async


def test_returns_the_first_true_value() -> None:
    values = iter([None, [], ["x"]])
    assert wait_until(lambda: next(values), interval=0) == ["x"]


def test_a_timeout_names_what_it_waited_for_and_the_last_value() -> None:
    seen = []
    with pytest.raises(AssertionError) as failure:
        wait_until(lambda: seen.append(1) or len(seen) > 10**6, timeout=0.05, interval=0.01,
                   message=lambda: f"a million calls, after {len(seen)}")
    text = str(failure.value)
    assert text.startswith("timed out after 0.05 s waiting for a million calls, after ")
    assert text.endswith("it last returned False")
    assert len(seen) >= 2  # it polled, and called the message when it gave up


def test_ignored_exceptions_are_not_yet_and_others_propagate() -> None:
    calls = iter([OSError("refused"), OSError("refused"), "up"])

    def check() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(check, interval=0, ignoring=(OSError,)) == "up"
    with pytest.raises(AssertionError, match="it last raised OSError: refused"):
        wait_until(lambda: (_ for _ in ()).throw(OSError("refused")), timeout=0.02,
                   ignoring=(OSError,), message="a server")
    with pytest.raises(KeyError):
        wait_until(lambda: {}["missing"], timeout=1)


def test_the_async_flavour_lets_the_loop_run() -> None:
    async def scenario() -> str:
        done: list[str] = []
        asyncio.get_running_loop().call_later(0.02, done.append, "fired")
        return (await wait_until_async(lambda: done, timeout=1))[0]

    assert asyncio.run(scenario()) == "fired"
    with pytest.raises(AssertionError, match="waiting for nothing"):
        asyncio.run(wait_until_async(lambda: None, timeout=0.02, message="nothing"))
