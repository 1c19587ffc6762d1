"""An instance's output as log lines, read in linear time and bounded (pure).

What a function prints reaches the log store line by line. Two caps keep one noisy function
from costing the platform memory or time (a print of 40 MB without a newline must not):

- a line over `MAX_LINE_BYTES` (256 KB, CloudWatch Logs' largest event) is cut there, with a
  marker saying how much was left out;
- an invocation's output over `MAX_OUTPUT_BYTES` is cut there, with a marker line; the rest of
  that invocation's output is read and dropped (the instance is never blocked on its pipe).

Bytes are split on newlines before decoding (a newline byte is never part of a UTF-8
sequence), and an unfinished line is kept as a list of chunks, so each byte is looked at once.
"""

from __future__ import annotations

MAX_LINE_BYTES = 256 * 1024
"""A longer line is cut there (CloudWatch Logs' limit on one event)."""

MAX_OUTPUT_BYTES = 10 * 1024 * 1024
"""What one invocation (or one init) may print before the rest of its output is dropped."""


def line_cut_marker(dropped: int) -> str:
    return f" [aloft: line cut at {MAX_LINE_BYTES // 1024} KB: {dropped} more bytes not logged]"


def output_cut_marker(limit: int) -> str:
    return (f"[aloft: output cut: this invocation printed more than {limit // (1024 * 1024)} MB;"
            " the rest of its output is not logged]")


class OutputLines:
    """Bytes in, finished lines out; `reset` when an invocation starts or ends."""

    def __init__(self, max_line: int = MAX_LINE_BYTES, max_output: int = MAX_OUTPUT_BYTES):
        self._max_line, self._max_output = max_line, max_output
        self._parts: list[bytes] = []  # the unfinished line (its first max_line bytes)
        self._kept = 0
        self._dropped = 0  # bytes of the unfinished line past max_line
        self._printed = 0  # bytes this invocation printed so far
        self._cut = False  # over max_output: the rest of the invocation's output is dropped

    @property
    def pending(self) -> bool:
        """An unfinished line is waiting for its newline."""
        return bool(self._parts) or self._dropped > 0

    def reset(self) -> None:
        """A new invocation: its output may fill the cap again."""
        self._printed, self._cut = 0, False

    def feed(self, data: bytes) -> list[str]:
        """The lines that `data` finishes (and the output cap's marker when it is reached)."""
        if self._cut:
            return []
        room = self._max_output - self._printed
        self._printed += len(data)
        over = len(data) > room
        if over:
            data = data[:room]
        lines: list[str] = []
        start = 0
        find = data.find
        while (newline := find(b"\n", start)) >= 0:
            self._add(data[start:newline])
            lines.append(self._take())
            start = newline + 1
        if start < len(data):
            self._add(data[start:])
        if over:
            self._cut = True
            lines.extend(self.flush())
            lines.append(output_cut_marker(self._max_output))
        return lines

    def flush(self) -> list[str]:
        """The unfinished line, as it is (the invocation ended without its newline)."""
        return [self._take()] if self.pending else []

    def _add(self, chunk: bytes) -> None:
        room = self._max_line - self._kept
        if len(chunk) > room:
            self._dropped += len(chunk) - room
            chunk = chunk[:room]
        if chunk:
            self._parts.append(chunk)
            self._kept += len(chunk)

    def _take(self) -> str:
        parts, dropped = self._parts, self._dropped
        line = (parts[0] if len(parts) == 1 else b"".join(parts)).decode("utf-8", "replace")
        self._parts, self._kept, self._dropped = [], 0, 0
        return line + line_cut_marker(dropped) if dropped else line
