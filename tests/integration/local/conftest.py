"""Fixtures of the data plane's integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.local.dataplane_helpers import LoopThread


@pytest.fixture(scope="module")
def loop() -> Iterator[LoopThread]:
    """An event loop in a thread, one per test module (its pool serves the whole module)."""
    thread = LoopThread()
    yield thread
    thread.close()
