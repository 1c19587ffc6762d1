"""An instance waiting awake for its next request (instance_main._wait_awake): it polls and
yields until the request is there or SPIN is over, and stops at the second yield that let
another process run, which a clock that jumps over YIELDED stands for here."""

from __future__ import annotations

from aloft.local.instances.worker.instance_main import YIELDED, _wait_awake


class Scene:
    """A socket whose request arrives at poll number `arrives`, and a CPU on which each yield
    takes `yield_takes` seconds (of a clock only yields move)."""

    def __init__(self, arrives: int, yield_takes: float) -> None:
        self.arrives, self.yield_takes = arrives, yield_takes
        self.now = 0.0
        self.polls = self.yields = 0

    def ready(self, _timeout: int) -> list[tuple[int, int]]:
        self.polls += 1
        return [(3, 1)] if self.polls >= self.arrives else []

    def yield_cpu(self) -> None:
        self.yields += 1
        self.now += self.yield_takes

    def clock(self) -> float:
        return self.now


def test_it_polls_until_the_request_is_there() -> None:
    scene = Scene(arrives=50, yield_takes=1e-6)
    _wait_awake(scene.ready, scene.yield_cpu, scene.clock, 300e-6)
    assert (scene.polls, scene.yields) == (50, 49)


def test_it_gives_up_when_the_wait_is_over() -> None:
    scene = Scene(arrives=10**9, yield_takes=1e-6)
    _wait_awake(scene.ready, scene.yield_cpu, scene.clock, 300e-6)
    assert 299 <= scene.yields <= 301
    assert scene.now >= 300e-6


def test_the_second_yield_that_let_another_process_run_ends_the_wait() -> None:
    scene = Scene(arrives=10**9, yield_takes=YIELDED * 1.5)
    _wait_awake(scene.ready, scene.yield_cpu, scene.clock, 300e-6)
    assert scene.yields == 2


def test_after_one_such_yield_it_goes_on_polling_for_the_request() -> None:
    """The process that ran was the request's sender: the request is there at the next poll."""
    scene = Scene(arrives=2, yield_takes=YIELDED * 1.5)
    _wait_awake(scene.ready, scene.yield_cpu, scene.clock, 300e-6)
    assert (scene.polls, scene.yields) == (2, 1)

