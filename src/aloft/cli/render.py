"""Output: one rich Console per stream, tables, and the build progress display.

NO_COLOR (https://no-color.org) turns every style off, not only colours, so that piped or
logged output stays plain. Machine-readable output (`--json`) bypasses rich entirely.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

# rich is imported by the functions that draw: a command that fails before printing, or
# prints JSON, does not pay for it.
if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.table import Table

    from aloft.config.models import Service
    from aloft.package.manifest import Manifest
    from aloft.provider import DeploySteps

_PLAIN_WIDTH = 200
"""Width used when the stream is not a terminal (rich would otherwise assume 80 and wrap)."""


_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")


class _Stream:
    """sys.stdout or sys.stderr as they are at each write (CliRunner swaps them), without the
    trailing spaces rich pads table cells with."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr

    def _target(self) -> TextIO:
        return sys.stderr if self._stderr else sys.stdout

    def write(self, text: str) -> int:
        return self._target().write(_TRAILING_SPACE.sub("", text))

    def flush(self) -> None:
        self._target().flush()

    def isatty(self) -> bool:
        target = self._target()
        return hasattr(target, "isatty") and target.isatty()

    def fileno(self) -> int:
        return self._target().fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._target(), "encoding", None) or "utf-8"


_CONSOLES: dict[tuple[object, ...], Console] = {}
_STYLE_ENV = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")


def _console(stderr: bool) -> Console:
    """The console of a stream: one per stream, remade only when the environment that styles
    it (NO_COLOR, FORCE_COLOR, ...) or the stream's terminal-ness changes (tests change them
    between commands in one process)."""
    stream = _Stream(stderr)
    no_color = bool(os.environ.get("NO_COLOR"))
    key = (stderr, stream.isatty(), *(os.environ.get(name) for name in _STYLE_ENV))
    if key not in _CONSOLES:
        _CONSOLES[key] = _make_console(stream, no_color)
    return _CONSOLES[key]


def _make_console(stream: _Stream, no_color: bool) -> Console:
    from rich.console import Console

    width = None if stream.isatty() or os.environ.get("COLUMNS") else _PLAIN_WIDTH
    return Console(
        file=stream,  # type: ignore[arg-type]
        no_color=no_color,
        color_system=None if no_color else "auto",
        width=width,
        highlight=False,
        soft_wrap=False,
    )


def out() -> Console:
    """The console for results (stdout)."""
    return _console(stderr=False)


def err() -> Console:
    """The console for progress, logs and diagnostics (stderr)."""
    return _console(stderr=True)


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, never styled or wrapped."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
    header: bool = True,
) -> Table:
    """A simple table; cells are shown as text (markup in values is not interpreted)."""
    from rich.markup import escape
    from rich.table import Table

    result = Table(title=title, title_justify="left", header_style="bold", box=None,
                   pad_edge=False, show_header=header)
    for column in columns:
        justify = "right" if column.lower() in {"size", "unzipped", "version", "count"} else "left"
        result.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        result.add_row(*(escape(str(cell)) for cell in row))
    return result


def human_size(size: int) -> str:
    """Bytes as a short human string: 512 B, 1.2 kB, 14.3 MB."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


class StepProgress:
    """Progress display for long operations (implements aloft.package's Progress protocol).

    On a terminal the running step shows as a spinner; finished steps print one `✓` line each
    (unless `quiet`, used where the result matters more than the build, as in `invoke --local`).
    Everything goes to stderr, so stdout stays the command's result.
    """

    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self._console = console or err()
        self._quiet = quiet
        self._status: Status | None = None

    def step(self, name: str, detail: str = "") -> None:
        from rich.markup import escape

        if not self._console.is_terminal:
            return
        text = f"{escape(name)} [dim]{escape(detail)}[/dim]" if detail else escape(name)
        if self._status is None:
            self._status = self._console.status(text)
            self._status.start()
        else:
            self._status.update(text)

    def done(self, name: str, detail: str = "") -> None:
        from rich.markup import escape

        self.close()
        if not self._quiet:
            suffix = f" [dim]{escape(detail)}[/dim]" if detail else ""
            self._console.print(f"[green]✓[/green] {escape(name)}{suffix}")

    def close(self) -> None:
        """Stop the spinner (also when the build failed half-way)."""
        if self._status is not None:
            self._status.stop()
            self._status = None


def warning(text: str) -> None:
    """A warning on stderr (the text is shown as is, never parsed as markup)."""
    from rich.markup import escape

    err().print(f"[yellow]warning:[/yellow] {escape(text)}")


def note(text: str) -> None:
    """A plain informational line on stderr."""
    err().print(text, markup=False)


@contextlib.contextmanager
def waiting(doing: str, done: str, *, quiet: bool = False) -> Iterator[None]:
    """A spinner on stderr while a step runs (`uploading…`, `waiting for the health check…`),
    then one `✓ done (1.2 s)` line; nothing is printed if the step raises."""
    from rich.markup import escape

    console = err()
    started = time.perf_counter()
    status = console.status(escape(doing)) if console.is_terminal else None
    if status is not None:
        status.start()
    try:
        yield
    finally:
        if status is not None:
            status.stop()
    if not quiet:
        seconds = time.perf_counter() - started
        console.print(f"[green]✓[/green] {escape(done)} [dim]({seconds:.1f} s)[/dim]")


_PHASES = {
    "upload": ("uploading the artifact…", "uploaded"),
    "apply": ("applying: waiting for the new version's health check…",
              "applied: the new version passed its health check"),
    "verify": ("verifying that the stage serves it…", "verified"),
}


class DeployProgress:
    """A provider's `DeploySteps` with a spinner while each phase runs (upload, apply, verify)
    and one timed `✓` line when it is done; everything else is the wrapped steps'."""

    def __init__(self, steps: DeploySteps, *, quiet: bool = False) -> None:
        self._steps = steps
        self._quiet = quiet

    def build(self, service: Service) -> Manifest:
        return self._steps.build(service)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        doing, done = _PHASES.get(name, (f"{name}…", name))
        with waiting(doing, done, quiet=self._quiet), self._steps.step(name):
            yield


def deploy_summary(
    title: str, url: str | None, version: int, functions: Mapping[str, int],
    schedules: Sequence[str] = (),
) -> Table:
    """The closing table of a deploy or rollback: URL, version, functions and schedules."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    plain = bool(os.environ.get("NO_COLOR")) or not out().is_terminal
    result = Table(title=title, title_justify="left", title_style="bold", show_header=False,
                   box=None if plain else box.ROUNDED, pad_edge=not plain)
    result.add_column("", style="dim")
    result.add_column("")
    if url:
        result.add_row("URL", f"[bold]{escape(url)}[/bold]")
    result.add_row("version", str(version))
    listed = ", ".join(f"{name} v{v}" for name, v in sorted(functions.items()))
    result.add_row("functions", escape(listed or "none"))
    result.add_row("schedules", escape(", ".join(schedules) or "none"))
    return result
