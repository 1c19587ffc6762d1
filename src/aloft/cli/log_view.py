"""How `aloft tail` and `aloft dev` show a stage's log lines.

An HTTP request shows as one request line (time, method, path, status, latency, request id;
4xx yellow, 5xx red) with what the app printed while answering it underneath, a 5xx's
traceback included, instead of its START, END and REPORT lines. Lines come in the order the
function wrote them, the request line last (aloft.access_log), so a request's lines are held
until its request line arrives. When the function's REPORT came without one for GRACE seconds,
or a line written after it came first, the invocation was not an HTTP request and its lines
show as they are; a request still running after HOLD seconds shows its lines as they come, its
request line when it ends.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from rich.text import Text

from aloft import access_log
from aloft.access_log import RequestLine
from aloft.provider import LogLine

HOLD = 1.0  # seconds a running request's lines wait for its request line
GRACE = 0.3  # seconds after a REPORT before its invocation counts as not an HTTP request
_REMEMBERED = 1000  # request ids remembered after their lines showed (late lines go with them)
_RUNTIME = ("START RequestId", "END RequestId", "REPORT RequestId")
_INIT = re.compile(r"\tInit Duration: (\d+(?:\.\d+)?) ms")
_ERROR = re.compile(r"\[ERROR\]|Traceback|Error:|Exception|Task timed out|Runtime exited")

Kind = Literal["request", "runtime", "output"]


@dataclass(frozen=True)
class Shown:
    """A line to show. `nested`: output of the request whose request line came before it."""

    line: LogLine
    kind: Kind
    request: RequestLine | None = None
    init_ms: float | None = None  # a cold start's init duration, on a request line
    nested: bool = False


@dataclass
class _Held:
    since: float
    lines: list[LogLine] = field(default_factory=list)
    reported: float | None = None  # when its REPORT line came
    reported_at: float = 0.0  # the REPORT line's own timestamp


def kind_of(text: str) -> Kind:
    if text.startswith(_RUNTIME):
        return "runtime"
    return "request" if access_log.parse(text) is not None else "output"


class LogView:
    """Feed it lines as they come (`feed`), ask it now and then for what waited long enough
    (`due`), and for the rest at the end (`flush`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, _Held] = {}
        # request ids whose lines showed already: "answered" (under their request line) or not
        self._done: OrderedDict[str, bool] = OrderedDict()

    def feed(self, line: LogLine) -> list[Shown]:
        # Lines come in the order they were written, and a request line is written in the same
        # step as its REPORT (in the same entry, or the next one): a line of another invocation
        # written after a REPORT means that REPORT's invocation has no request line. So does
        # a line written HOLD after a running request's first line, for that request (it shows
        # as it comes).
        overdue = [rid for rid, held in self._held.items() if rid != line.request_id and (
            line.timestamp > held.reported_at if held.reported is not None
            else line.timestamp - held.lines[0].timestamp >= HOLD)]
        out = [shown for rid in overdue for shown in self._release(rid)]
        return out + self._feed(line) if out else self._feed(line)

    def _feed(self, line: LogLine) -> list[Shown]:
        rid = line.request_id
        request = access_log.parse(line.text)
        if rid is None:
            return [Shown(line, "request" if request else kind_of(line.text), request)]
        held = self._held.get(rid)
        if held is not None:
            if request is not None:  # the request ended: its line, then what it printed
                del self._held[rid]
                self._remember(rid, True)
                return self._grouped(line, request, held.lines)
            held.lines.append(line)
            if line.text.startswith("REPORT RequestId"):
                held.reported, held.reported_at = self._clock(), line.timestamp
            return []
        answered = self._done.get(rid)
        if answered is None:  # a new invocation (or a request line alone: a throttle)
            if request is not None:
                self._remember(rid, True)
                return [Shown(line, "request", request)]
            self._held[rid] = _Held(self._clock(), [line])
            return []
        if request is not None:
            self._remember(rid, True)
            return [Shown(line, "request", request)]
        kind = kind_of(line.text)
        if answered and kind == "runtime":  # its request line showed: START/END/REPORT go
            return []
        return [Shown(line, kind, nested=answered)]

    def due(self) -> list[Shown]:
        """The lines of invocations that waited long enough for a request line."""
        now = self._clock()
        out: list[Shown] = []
        for rid, held in list(self._held.items()):
            if (now - held.reported >= GRACE if held.reported is not None
                    else now - held.since >= HOLD):
                out += self._release(rid)
        return out

    def flush(self) -> list[Shown]:
        out: list[Shown] = []
        for rid in list(self._held):
            out += self._release(rid)
        return out

    def _release(self, rid: str) -> list[Shown]:
        held = self._held.pop(rid)
        self._remember(rid, False)
        return [Shown(line, kind_of(line.text)) for line in held.lines]

    def _grouped(self, line: LogLine, request: RequestLine, held: list[LogLine]) -> list[Shown]:
        init_ms = None
        output = []
        for h in held:
            if h.text.startswith(_RUNTIME):
                found = _INIT.search(h.text)
                if found is not None:
                    init_ms = float(found.group(1))
            else:
                output.append(Shown(h, "output", nested=True))
        return [Shown(line, "request", request, init_ms), *output]

    def _remember(self, rid: str, answered: bool) -> None:
        self._done[rid] = answered
        self._done.move_to_end(rid)
        while len(self._done) > _REMEMBERED:
            self._done.popitem(last=False)


# -- rendering --------------------------------------------------------------------------------


def stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S.%f")[:-3]


def status_style(status: int) -> str | None:
    if status >= 500:
        return "red"
    if status >= 400:
        return "yellow"
    return None


def output_style(text: str) -> str | None:
    """START/END/REPORT dimmed, errors red, the rest as is."""
    if text.startswith(_RUNTIME):
        return "dim"
    if _ERROR.search(text):
        return "red"
    return None


def render(shown: Shown, function: str) -> Text:
    """One shown line as styled text (plain where the console has no colour):

        12:01:07.114 app GET /shop/dev/orders 500 12.3 ms (cold start 231 ms) 8a1b2c3d-…
        12:01:07.116 app   Traceback (most recent call last):
    """
    line, request = shown.line, shown.request
    text = Text(no_wrap=False)
    if request is not None:  # the time the request came in, as access logs have it
        text.append(stamp(line.timestamp - request.latency_ms / 1000), "dim")
        text.append(" ")
        text.append(function, "cyan")
        style = status_style(request.status)
        text.append(f" {request.method} {request.path} ", style or "bold")
        text.append(str(request.status), style or "green")
        text.append(f" {_ms(request.latency_ms)}", style)
        if shown.init_ms is not None:
            text.append(f" (cold start {_ms(shown.init_ms)})", style or "dim")
        text.append(f" {request.request_id}", "dim")
        return text
    text.append(stamp(line.timestamp), "dim")
    text.append(" ")
    text.append(function, "cyan")
    text.append("   " if shown.nested else " ")
    # Lambda's runtime writes an error's lines as one log line joined by CR: one per row here
    indent = " " * (len(text.plain))
    body = line.text.rstrip().replace("\r", "\n" + indent)
    text.append(body, output_style(body))
    return text


class CarriageReturns:
    """Lambda's runtime writes an error's lines as one log line joined by CR (`[ERROR] Type:
    message\rTraceback ...\r  File ...`): on a terminal each CR moves back to the start of the
    row, and the traceback overwrites itself. `feed` gives text with each lone CR a line break
    (a CRLF stays one), across chunks of a stream; `end` what is left."""

    def __init__(self) -> None:
        self._pending = False  # the last chunk ended in CR: a LF may follow in the next

    def feed(self, text: str) -> str:
        if self._pending:
            text = "\r" + text
            self._pending = False
        if text.endswith("\r"):
            text, self._pending = text[:-1], True
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def end(self) -> str:
        pending, self._pending = self._pending, False
        return "\n" if pending else ""


def readable(logs: str) -> str:
    """`logs` with the CRs that join an error's lines made line breaks (CarriageReturns)."""
    lines = CarriageReturns()
    return lines.feed(logs) + lines.end()


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"
