"""How a build reports what it is doing, without depending on any rendering library."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """A build calls `step` when a stage starts and `done` when it finishes (the CLI renders it)."""

    def step(self, name: str, detail: str = "") -> None: ...

    def done(self, name: str, detail: str = "") -> None: ...


class NullProgress:
    """Reports nothing."""

    def step(self, name: str, detail: str = "") -> None:
        pass

    def done(self, name: str, detail: str = "") -> None:
        pass
