"""The runtime's own errors (standard library only: aloft.errors is not shipped in artifacts)."""

from __future__ import annotations


class RuntimeFault(Exception):
    """Base of the errors the runtime raises itself; each message says what and how to fix."""


class InitError(RuntimeFault):
    """The artifact cannot start: settings missing, app or handler not importable.

    `error_type` is the errorType Lambda's own Python runtime reports for the same failure
    (Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError), or
    Runtime.InitError for aloft's own settings."""

    def __init__(self, message: str, error_type: str = "Runtime.InitError") -> None:
        super().__init__(message)
        self.error_type = error_type


class UnsupportedEvent(RuntimeFault):
    """An event reached a function that cannot serve it (e.g. an SQS batch sent to the app)."""


class TaskError(RuntimeFault):
    """An `@aloft.task` call cannot be sent: arguments not JSON, payload too big, invoke failed."""
