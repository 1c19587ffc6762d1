"""An instance's (or template's) output, read from its pipes and logged per request.

The process writes its stdout and stderr to a pipe; each line goes to the log sink tagged with
the request whose output the pipe carries (None between requests: the init's, or a background
thread's) and the process's log stream. Lines and each invocation's output are capped
(output.py): reading stays linear and bounded.

A request's START line waits here (`begin`) until the request prints something or ends
(`end`): most requests print nothing, and their START, END and REPORT lines then reach the sink
as one entry instead of three (the log store's cost is on every request's path).

An instance's init output (a fresh one's imports, a forked one's after-restore hooks) is its
own, with no request id, before the START of the request that came while it started, as Lambda
logs its INIT and RESTORE phases: from `initialising` until the instance's mark in the pipe
(P.INIT_DONE).

A pipeline (P.AHEAD) gives an instance a second pipe (`add_pipe`): a request sent ahead writes
to the pipe the request before it does not, so that two requests' output never shares a pipe
and needs no mark between them. The instance switches pipes as it starts a request sent ahead;
the pool says so (`passed_on`) when the answer before it arrives, after which the first pipe's
output is all read.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import select

from aloft.local.instances.output import OutputLines
from aloft.local.instances.worker import protocol as P
from aloft.local.types import FunctionVersion, LogSink

PIPE_BYTES = 1 << 20
"""The size of an instance's (first) output pipe, and of one read from it."""
MAX_ENDED = 16
"""Requests whose output has ended and whose `end` has not come yet, kept at most (a request
called off after its output ended never ends here)."""


class _Pipe:
    """One output pipe of the process, and the request whose output it carries now."""

    __slots__ = ("fd", "lines", "poll", "request_id", "start")

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.lines = OutputLines()
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN)
        self.request_id: str | None = None
        self.start: str | None = None  # the request's START line, not yet written


class LogReader:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, fd: int, sink: LogSink, fv: FunctionVersion,
        stream: str, *, initialising: bool = False,
    ) -> None:
        with contextlib.suppress(OSError):  # fewer wake-ups for a function that prints a lot
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._loop, self._sink = loop, sink
        self._function, self._version = fv.function, fv.version
        self.stream = stream  # what the process was told (AWS_LAMBDA_LOG_STREAM_NAME)
        self._pipes: list[_Pipe] = []
        self._current = self._add(fd)  # the pipe the process writes to now
        self._init = initialising  # what comes on the first pipe is init output
        # requests whose output ended when the next one's began (a pipeline), until their
        # `end`: request id -> their START line, if still unwritten
        self._ended: dict[str, str | None] = {}

    def add_pipe(self, fd: int) -> None:
        """The process's second pipe, which a request sent ahead writes to (a pipeline). (At
        the pipe's default size: a 1 MB pipe counts against the user's pipe pages.)"""
        self._add(fd)

    def _add(self, fd: int) -> _Pipe:
        pipe = _Pipe(fd)
        self._pipes.append(pipe)
        self._loop.add_reader(fd, self._readable, pipe)
        return pipe

    def _other(self) -> _Pipe:
        pipes = self._pipes
        return pipes[1] if pipes[0] is self._current else pipes[0]

    # -- the requests ---------------------------------------------------------------------------

    def begin(self, request_id: str, start_line: str) -> None:
        """A request sent to the idle process: its output comes on the current pipe. (A
        request whose output ended when the next one's began may not have ended yet: its
        caller has not woken since. It keeps its START in `_ended`.)"""
        pipe = self._current
        pipe.request_id, pipe.start = request_id, start_line
        pipe.lines.reset()

    def ahead(self, request_id: str, start_line: str) -> None:
        """A request sent ahead: its output will come on the other pipe."""
        pipe = self._other()
        pipe.request_id, pipe.start = request_id, start_line
        pipe.lines.reset()

    def cancel_ahead(self, request_id: str) -> None:
        """The request sent ahead was taken back: it will write nothing."""
        pipe = self._other()
        if pipe.request_id == request_id:
            pipe.request_id = pipe.start = None

    def passed_on(self) -> None:
        """The process answered and went on to the request sent ahead (on the other pipe): the
        output of the one that answered is all in its pipe, read now."""
        pipe = self._current
        self._read(pipe)
        self._flush(pipe)
        if pipe.request_id is not None:
            ended = self._ended
            if len(ended) >= MAX_ENDED:  # one whose caller went away without its `end`
                del ended[next(iter(ended))]
            ended[pipe.request_id] = pipe.start
        pipe.request_id = pipe.start = None
        self._current = self._other()

    def say(self, text: str, request_id: str | None = None) -> None:
        """A line of the platform's own about a request (the current one unless `request_id`
        says another), after its START."""
        rid: str | None
        if request_id is not None and request_id in self._ended:  # its output has ended
            rid, start = request_id, self._ended[request_id]
            self._ended[request_id] = None
        else:
            pipe = self._current
            rid, start, pipe.start = pipe.request_id, pipe.start, None
        if start is not None:
            text = f"{start}\n{text}"
        self._sink.write(self._function, self._version, rid, text, self.stream)

    def end(self, request_id: str | None = None) -> str | None:
        """A request (the current one unless `request_id` says another) is over: its START line
        if it is still unwritten (the caller writes it with the END and REPORT lines)."""
        if request_id is not None and request_id in self._ended:
            return self._ended.pop(request_id)
        pipe = self._current
        start, pipe.start, pipe.request_id = pipe.start, None, None
        pipe.lines.reset()
        self._init = False  # it answered: its mark was read (or cut with init output past 10 MB)
        return start

    def drain(self, request_id: str | None = None) -> None:
        """Read what is left in the pipes. The process writes a request's output before its
        answer, so when the answer has arrived all of that output is in the pipe already. An
        unfinished line is the request's last (with `request_id`: unless its output ended
        already, read when the request sent ahead began)."""
        if request_id is not None:  # an answer: its output is on the current pipe
            if request_id not in self._ended:
                self._read(self._current)
                self._flush(self._current)
            return
        for pipe in self._pipes:
            self._read(pipe)
        self._flush(self._current)

    def close(self) -> None:
        """Stop reading (what is unread is lost: `drain` first)."""
        for pipe in self._pipes:
            self._close(pipe)

    # -- reading --------------------------------------------------------------------------------

    def _readable(self, pipe: _Pipe) -> None:
        try:
            data = os.read(pipe.fd, PIPE_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._emit(pipe, data)
        else:
            self._close(pipe)

    def _read(self, pipe: _Pipe) -> None:
        """Read all the pipe holds. Most requests print nothing: a poll says so without the
        failed read's exception."""
        if pipe.fd < 0 or not pipe.poll.poll(0):
            return
        while pipe.fd >= 0:
            try:
                data = os.read(pipe.fd, PIPE_BYTES)
            except (BlockingIOError, OSError):
                return
            if not data:
                self._close(pipe)
                return
            self._emit(pipe, data)

    def _close(self, pipe: _Pipe) -> None:
        if pipe.fd >= 0:
            self._loop.remove_reader(pipe.fd)
            os.close(pipe.fd)
            pipe.fd = -1

    def _emit(self, pipe: _Pipe, data: bytes) -> None:
        lines = pipe.lines.feed(data)
        if self._init and pipe is self._pipes[0]:
            lines = self._init_output(lines)
            if self._init:
                return
        write, rid, stream = self._sink.write, pipe.request_id, self.stream
        if pipe.start is not None and (lines or pipe.lines.pending):
            write(self._function, self._version, rid, pipe.start, stream)
            pipe.start = None
        for line in lines:
            write(self._function, self._version, rid, line, stream)

    def _flush(self, pipe: _Pipe) -> None:
        """The pipe's unfinished line, as its request's last."""
        rid = None if self._init and pipe is self._pipes[0] else pipe.request_id
        for line in pipe.lines.flush():
            self._sink.write(self._function, self._version, rid, line, self.stream)

    def _init_output(self, lines: list[str]) -> list[str]:
        """Write the init's lines, up to the instance's mark (P.INIT_DONE, written before its
        READY: the order in the pipe is what tells the two apart, not when either is read);
        the lines after it."""
        rest: list[str] = []
        for at, line in enumerate(lines):
            if line.endswith(P.INIT_DONE):
                self._init = False
                line, rest = line[: -len(P.INIT_DONE)], lines[at + 1 :]
                lines = [*lines[:at], line] if line else lines[:at]
                break
        for line in lines:
            self._sink.write(self._function, self._version, None, line, self.stream)
        return rest
