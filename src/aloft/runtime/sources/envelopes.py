"""aloft's own envelopes: a dict whose `aloft` key names what to do in the deployed function.

    {"aloft": "keep_warm"}
    {"aloft": "command", "function": "pkg.mod.func", "args": [...], "kwargs": {...}}
    {"aloft": "raw", "source": "print(1)"}
    {"aloft": "manage", "args": ["migrate", "--noinput"]}
    {"aloft": "task", "function": "pkg.mod.func", "args": [...], "kwargs": {...}}
    {"aloft": "schedule", "function": "pkg.mod.func", "input": ...}
"""

from __future__ import annotations

from typing import ClassVar

from aloft.runtime.sources.base import Event, EventSource, Kind

ENVELOPE_KEY = "aloft"


class Envelope(EventSource):
    """Matches `{"aloft": <kind>}` for its own kind."""

    @classmethod
    def infer(cls, event: Event) -> bool:
        return event.get(ENVELOPE_KEY) == cls.kind


class KeepWarm(Envelope):
    name = "aloft-keep-warm"
    kind: ClassVar[Kind] = "keep_warm"


class Command(Envelope):
    name = "aloft-command"
    kind: ClassVar[Kind] = "command"


class Raw(Envelope):
    name = "aloft-raw"
    kind: ClassVar[Kind] = "raw"


class Manage(Envelope):
    name = "aloft-manage"
    kind: ClassVar[Kind] = "manage"


class Task(Envelope):
    name = "aloft-task"
    kind: ClassVar[Kind] = "task"


class Schedule(Envelope):
    name = "aloft-schedule"
    kind: ClassVar[Kind] = "schedule"
