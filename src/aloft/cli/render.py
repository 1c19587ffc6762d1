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
    from rich.console import Console, Group
    from rich.live import Live
    from rich.table import Table

    from aloft.cli.formatting import Section
    from aloft.config.models import Service
    from aloft.package.manifest import Manifest
    from aloft.provider import DeployResult, DeploySteps

_PLAIN_WIDTH = 200
"""Width used when the stream is not a terminal (rich would otherwise assume 80 and wrap)."""


_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")


class _Stream:
    """The stream a console writes to, bound when the console is made, without the trailing
    spaces rich pads table cells with.

    Bound, not looked up at each write: while a spinner runs, nothing may swap sys.stderr under
    the console (rich's Live would, with its redirect on), or a write would re-enter the very
    display it is drawing into. CliRunner's swapped streams get consoles of their own (the
    console cache is keyed by the stream object)."""

    def __init__(self, target: TextIO) -> None:
        self._target = target

    def write(self, text: str) -> int:
        return self._target.write(_TRAILING_SPACE.sub("", text))

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return hasattr(self._target, "isatty") and self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._target, "encoding", None) or "utf-8"


_CONSOLES: dict[tuple[object, ...], Console] = {}
_STYLE_ENV = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TERM")


def _console(stderr: bool) -> Console:
    """The console of a stream: one per stream object, remade only when the environment that
    styles it (NO_COLOR, FORCE_COLOR, ...) changes (tests change it between commands)."""
    target = sys.stderr if stderr else sys.stdout
    key = (stderr, id(target), *(os.environ.get(name) for name in _STYLE_ENV))
    console = _CONSOLES.get(key)
    # An id can be reused once its stream is gone: check that the console still holds it.
    if console is None or getattr(console.file, "_target", None) is not target:
        if len(_CONSOLES) > 32:  # streams swapped per test: keep the cache small
            _CONSOLES.clear()
        console = _CONSOLES[key] = _make_console(_Stream(target),
                                                 bool(os.environ.get("NO_COLOR")))
    return console


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
    """A simple table; cells are shown as text (markup in values is not interpreted), values
    that are not text as aloft.cli.formatting.cell shows them (yes/no, `app: 1`, `-`)."""
    from rich.markup import escape
    from rich.table import Table

    from aloft.cli.formatting import cell as human

    result = Table(title=title, title_justify="left", header_style="bold", box=None,
                   pad_edge=False, show_header=header)
    cells = [[c if isinstance(c, str) else human(c) for c in row] for row in rows]
    for index, column in enumerate(columns):
        numeric = bool(cells) and all(_NUMBER.match(row[index]) for row in cells
                                      if index < len(row))
        justify = "right" if numeric or column.lower() in _RIGHT else "left"
        result.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in cells:
        result.add_row(*(escape(text) for text in row))
    return result


_RIGHT = {"size", "unzipped", "version", "count"}
_NUMBER = re.compile(r"^(-|-?\d+(\.\d+)?)$")
"""A cell of a right-aligned column: a number, or `-` for none."""


def sections(parts: Sequence[Section]) -> None:
    """Print a document made by aloft.cli.formatting: tables, key/value blocks and lines, a
    blank line between them."""
    console = out()
    for index, part in enumerate(parts):
        if index:
            console.print()
        if part.line is not None:
            console.print(part.line, markup=False)
        elif part.columns:
            console.print(table(part.title, part.columns, part.rows))
        else:
            console.print(table(part.title, ["", ""], part.rows, header=False))


def human_size(size: int) -> str:
    """Bytes as a short human string: 512 B, 1.2 kB, 14.3 MB."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


class Spinner:
    """One line with a spinner on a terminal console (nothing elsewhere), updated in place.

    rich's `Console.status` runs a `Live` that swaps sys.stdout and sys.stderr for proxies
    writing back into the console; aloft's consoles are bound to the real streams instead, and
    the Live here redirects nothing, so a write can never re-enter the display. Lines printed
    through the console while it spins appear above it (rich's Live coordinates that).
    """

    def __init__(self, text: str, console: Console | None = None) -> None:
        self._console = console or err()
        self._text = text
        self._live: Live | None = None

    def start(self) -> Spinner:
        if self._console.is_terminal and self._live is None:
            from rich.live import Live
            from rich.spinner import Spinner as RichSpinner

            self._spinner = RichSpinner("dots", text=self._text, style="status.spinner")
            self._live = Live(self._spinner, console=self._console, transient=True,
                              refresh_per_second=12.5, redirect_stdout=False,
                              redirect_stderr=False)
            self._live.start()
        return self

    def update(self, text: str) -> None:
        self._text = text
        if self._live is not None:
            self._spinner.update(text=text)

    def stop(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def __enter__(self) -> Spinner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spinner(text: str) -> Spinner:
    """A spinner on stderr while a block runs (`with render.spinner("planning…"):`); the text
    is rich markup."""
    return Spinner(text)


class StepProgress:
    """Progress display for long operations (implements aloft.package's Progress protocol).

    On a terminal the running step shows as a spinner; finished steps print one `✓` line each
    (unless `quiet`, used where the result matters more than the build, as in `invoke --local`).
    Everything goes to stderr, so stdout stays the command's result.
    """

    def __init__(self, console: Console | None = None, *, quiet: bool = False) -> None:
        self._console = console or err()
        self._quiet = quiet
        self._status: Spinner | None = None

    def step(self, name: str, detail: str = "") -> None:
        from rich.markup import escape

        if not self._console.is_terminal:
            return
        text = f"{escape(name)} [dim]{escape(detail)}[/dim]" if detail else escape(name)
        if self._status is None:
            self._status = Spinner(text, self._console).start()
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
    with Spinner(escape(doing), console):
        yield
    if not quiet:
        seconds = time.perf_counter() - started
        console.print(f"[green]✓[/green] {escape(done)} [dim]({seconds:.1f} s)[/dim]")


_PHASES = {
    "upload": ("uploading the artifact…", "uploaded"),
    # publishing, health-checking the new versions and switching (render.health_checked says
    # what each new version answered: the provider's DeployResult.health)
    "apply": ("applying the changes…", "applied the changes"),
    "verify": ("verifying that the stage serves it…", "verified"),
}


def health_checked(result: DeployResult) -> None:
    """The `✓ passed its health check` line of a deploy: what each new version answered before
    it served, as the provider checked it (nothing when no version was published)."""
    from rich.markup import escape

    if result.unchecked and result.changed:
        warning("the new version serves without a health check (--no-health-check)")
        return
    if not result.health:
        return
    passed = ", ".join(f"{x.function} v{x.version} ({x.check})"
                       for x in sorted(result.health, key=lambda x: x.function))
    what = "version passed its" if len(result.health) == 1 else "versions passed their"
    err().print(f"[green]✓[/green] the new {what} health check: {escape(passed)}")


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
    schedules: Sequence[str] = (), urls: Sequence[str] = (),
) -> Group:
    """The closing table of a deploy or rollback: URL(s), version, functions and schedules,
    under a headline (its own line: a table's title would wrap at the table's width). `urls`:
    every URL the stage answers at, the first one first (else `url`)."""
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    plain = bool(os.environ.get("NO_COLOR")) or not out().is_terminal
    result = Table(show_header=False, box=None if plain else box.ROUNDED, pad_edge=not plain)
    result.add_column("", style="dim")
    result.add_column("")
    shown = list(urls) or ([url] if url else [])
    for index, each in enumerate(shown):
        result.add_row("URL" if index == 0 else "", f"[bold]{escape(each)}[/bold]"
                       if index == 0 else escape(each))
    result.add_row("version", str(version))
    listed = ", ".join(f"{name} v{v}" for name, v in sorted(functions.items()))
    result.add_row("functions", escape(listed or "none"))
    result.add_row("schedules", escape(", ".join(schedules) or "none"))
    return Group(Text(title, style="bold"), result)
