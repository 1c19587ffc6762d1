"""thread_safe_ast: once installed, no two threads are inside `ast.parse` at the same time
(CPython 3.11's AST state is shared between threads; see the module)."""

from __future__ import annotations

import ast
import threading
import time
from typing import Any

import pytest

from aloft.local.services import thread_safe_ast


class SlowParse:
    """An `ast.parse` that takes 20 ms and records how many threads were in it at once."""

    def __init__(self) -> None:
        self.inside = self.peak = 0
        self._guard = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> ast.Module:
        with self._guard:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        time.sleep(0.02)
        with self._guard:
            self.inside -= 1
        return ast.Module(body=[], type_ignores=[])


def parse_in_threads(count: int) -> None:
    threads = [threading.Thread(target=lambda: ast.parse("x = 1")) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("installed", [True, False])
def test_one_thread_at_a_time_in_parse(monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    slow = SlowParse()
    monkeypatch.setattr(ast, "parse", slow)  # (tests/conftest.py installed the lock already)
    monkeypatch.setattr(thread_safe_ast, "_installed", False)
    if installed:
        thread_safe_ast.install()
        thread_safe_ast.install()  # a second install does not wrap it again
    parse_in_threads(4)
    if installed:
        assert slow.peak == 1 and ast.parse is not slow
    else:  # the threads overlap in a bare parse
        assert slow.peak > 1
