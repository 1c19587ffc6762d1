"""aloft's one error hierarchy.

Every user-facing error says *what* went wrong, *where* (file:line:column, key path, function,
stage) and *how to fix it*. Library code raises these; only the CLI's top level turns them into
exit codes. Foreign exceptions (botocore, OSError, pydantic) are translated at the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file position and/or a logical place (key path, function, stage)."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    key_path: str | None = None
    function: str | None = None
    stage: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            pos = self.file
            if self.line is not None:
                pos += f":{self.line}"
                if self.column is not None:
                    pos += f":{self.column}"
            parts.append(pos)
        if self.key_path:
            parts.append(f"at {self.key_path}")
        if self.function:
            parts.append(f"function {self.function!r}")
        if self.stage:
            parts.append(f"stage {self.stage!r}")
        return ", ".join(parts)


class AloftError(Exception):
    """Base of every error aloft reports to a user."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        where: Location | None = None,
        fix: str | None = None,
        detail: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix
        self.detail = detail
        """Lines shown as they are between the error and its fix (a function's init error and
        the user's frames); the message itself stays one line."""

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where and str(self.where) else self.message
        if self.detail:
            text += "\n" + "\n".join("  " + line for line in self.detail.splitlines())
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class UsageError(AloftError):
    """The command line itself is wrong (exit code 2)."""

    exit_code = 2


class ConfigError(AloftError):
    """aloft.yml (or an imported zappa/serverless config) is invalid."""


class ConfigErrors(ConfigError):
    """Several config problems found at once; each is a ConfigError."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, where=first.where, fix=first.fix)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class PackageError(AloftError):
    """Building the artifact failed (dependency without a wheel, size limits, ...)."""


class DeployError(AloftError):
    """A deploy could not be completed; the previous version keeps serving."""


class ProviderError(AloftError):
    """A provider (local platform or AWS) refused or failed an operation."""


class NotDeployedError(ProviderError):
    """The stage (or function) has not been deployed."""


class InvokeError(AloftError):
    """Invoking a function failed (the function raised, timed out or crashed)."""


class PluginError(AloftError):
    """A plugin could not be loaded or stopped the command."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT, exit code 130) or SIGTERM (143) stopped a command.

    A KeyboardInterrupt, so that everything unwinding on Ctrl-C (`finally`, `with`) treats both
    signals alike. `detail` says what state the command left behind, checked after the fact
    ("version 3 was not published; version 2 keeps serving"); the CLI prints it.
    """

    def __init__(self, detail: str = "", *, exit_code: int = 130):
        super().__init__(detail)
        self.detail = detail
        self.exit_code = exit_code


def interrupt_exit_code(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (an Interrupted says which)."""
    return exc.exit_code if isinstance(exc, Interrupted) else 130
