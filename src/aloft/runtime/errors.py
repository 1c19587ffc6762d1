"""The runtime's own errors (standard library only: aloft.errors is not shipped in artifacts)."""

from __future__ import annotations


class RuntimeFault(Exception):
    """Base of the errors the runtime raises itself; each message says what and how to fix."""


class InitError(RuntimeFault):
    """The artifact cannot start: settings missing, app or handler not importable."""


class UnsupportedEvent(RuntimeFault):
    """An event reached a function that cannot serve it (e.g. an SQS batch sent to the app)."""


class TaskError(RuntimeFault):
    """An `@aloft.task` call cannot be sent: arguments not JSON, payload too big, invoke failed."""
