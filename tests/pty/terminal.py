"""A pseudo-terminal for the real `aloft` executable: what a user at a terminal sees.

The command runs in a session of its own with the pty as its controlling terminal, so rich
sees a terminal (colours, spinners, the window's width) and Ctrl-C is a real `\\x03` typed into
the terminal: the line discipline sends SIGINT to the foreground process group (aloft, and a
pip it runs), exactly as at a shell. Standard library only (pty, termios).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# CSI (colours, cursor moves), OSC (titles, links), and two-byte escapes.
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def plain(raw: bytes) -> str:
    """What the terminal showed, as text: escapes removed, every carriage return a new line
    (a spinner's frames each become a line; nothing a user saw is lost)."""
    text = _ANSI.sub(b"", raw).decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class Finished:
    """A command that ran to its end in the terminal."""

    code: int
    raw: bytes
    seconds: float

    @property
    def text(self) -> str:
        return plain(self.raw)


class Terminal:
    """One command in a pseudo-terminal of `cols` x `rows`."""

    def __init__(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                 cols: int = 120, rows: int = 40) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                list(argv), cwd=cwd, env=dict(env), stdin=slave, stdout=slave, stderr=slave,
                start_new_session=True,  # then the pty becomes its controlling terminal:
                preexec_fn=_take_terminal, close_fds=True,
            )
        finally:
            os.close(slave)
        self._master = master
        self._raw = bytearray()
        self._cursor = 0  # expect() looks after what it matched last
        self._changed = threading.Condition()
        self._eof = False
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: every process holding the terminal is gone
                data = b""
            with self._changed:
                if not data:
                    self._eof = True
                    self._changed.notify_all()
                    return
                self._raw.extend(data)
                self._changed.notify_all()

    @property
    def raw(self) -> bytes:
        with self._changed:
            return bytes(self._raw)

    @property
    def text(self) -> str:
        return plain(self.raw)

    def expect(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Wait until `pattern` (a regex) shows after the previous match; fail with the screen
        after `timeout` seconds, or if the command ends without showing it."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = regex.search(plain(bytes(self._raw)), self._cursor)
                if found is not None:
                    self._cursor = found.end()
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    why = "ended" if self._eof else f"did not show it within {timeout} s"
                    raise AssertionError(f"expected {pattern!r}; the terminal {why}:\n"
                                         f"{plain(bytes(self._raw))}")
                self._changed.wait(min(left, 0.1))

    def send(self, text: str) -> None:
        """Type `text` (a line needs its "\\r", as the Enter key sends)."""
        os.write(self._master, text.encode())

    def ctrl_c(self) -> float:
        """Press Ctrl-C; returns when (time.monotonic) it was pressed."""
        os.write(self._master, b"\x03")
        return time.monotonic()

    def wait(self, timeout: float) -> Finished:
        """The command's end (exit code, all it printed); fails if it runs past `timeout`."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            text = self.text
            self.close()
            raise AssertionError(f"{self.proc.args} still ran after {timeout} s:\n{text}"
                                 ) from None
        seconds = time.monotonic() - self.started
        self._reader.join(timeout=5)  # the rest of its output
        return Finished(code, self.raw, seconds)

    def close(self) -> None:
        """Kill what still runs in its session (a test that failed half-way)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        self._reader.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._master)


def _take_terminal() -> None:
    """In the child, after setsid: the pty (its stdin) becomes the controlling terminal, and
    the command starts as a shell starts it: no signal blocked, Ctrl-C's and the others'
    default actions (a blocked or ignored signal survives exec; pytest's process may have
    one from a library a test used)."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
