"""The log reader's attribution of an instance's output to requests in a pipeline: a request sent
ahead writes to the pipe the request before it does not, so each pipe's output is its
request's whatever order the two are read in; an unfinished line stays with the request that
printed it; a request taken back never begins."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aloft.local.instances.log_reader import LogReader
from aloft.local.instances.worker import protocol as P


@dataclass
class _Fv:
    function: str = "fn"
    version: int = 1


class _Sink:
    def __init__(self) -> None:
        self.lines: list[tuple[str | None, str]] = []

    def write(self, function: str, version: int, request_id: str | None, text: str,
              stream: str | None = None) -> None:
        self.lines.extend((request_id, line) for line in text.split("\n"))

    def of(self, request_id: str | None) -> list[str]:
        return [line for rid, line in self.lines if rid == request_id]


@dataclass
class _Pipes:
    reader: LogReader
    sink: _Sink
    first: int  # write ends
    second: int


@pytest.fixture
def pipes() -> Iterator[_Pipes]:
    loop = asyncio.new_event_loop()
    first_r, first_w = os.pipe()
    second_r, second_w = os.pipe()
    sink = _Sink()
    reader = LogReader(loop, first_r, sink, _Fv(), "stream")  # type: ignore[arg-type]
    reader.add_pipe(second_r)
    yield _Pipes(reader, sink, first_w, second_w)
    reader.close()
    os.close(first_w)
    os.close(second_w)
    loop.close()


def test_each_pipe_is_its_requests_whatever_order_they_are_read_in(pipes: _Pipes) -> None:
    reader, sink = pipes.reader, pipes.sink
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    os.write(pipes.second, b"h says\n")  # read first (the answer before it not yet)
    reader.drain()
    os.write(pipes.first, b"n says\n")
    reader.passed_on()  # n's answer: h has begun
    assert sink.of("n") == ["START n", "n says"]
    assert sink.of("h") == ["START h", "h says"]
    assert reader.end("n") is None  # its START was written with its output
    reader.drain("h")
    assert reader.end("h") is None


def test_a_silent_request_keeps_its_start_for_its_end(pipes: _Pipes) -> None:
    reader, sink = pipes.reader, pipes.sink
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    reader.passed_on()
    reader.drain("n")  # (read already, when h began: nothing more)
    reader.say("a line of the platform's about n", "n")
    assert reader.end("n") is None
    reader.say("about h")
    assert sink.lines == [("n", "START n"), ("n", "a line of the platform's about n"),
                          ("h", "START h"), ("h", "about h")]
    assert reader.end("h") is None


def test_unfinished_lines_stay_with_their_requests(pipes: _Pipes) -> None:
    reader, sink = pipes.reader, pipes.sink
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    os.write(pipes.first, b"n's last, unfinished")
    os.write(pipes.second, b"h be")
    reader.passed_on()  # n has answered: its unfinished line is its last
    reader.drain("n")
    assert reader.end("n") is None
    os.write(pipes.second, b"gins\n")
    reader.drain("h")
    assert sink.of("n") == ["START n", "n's last, unfinished"]
    assert sink.of("h") == ["START h", "h begins"]


def test_the_pipes_alternate_along_a_pipeline(pipes: _Pipes) -> None:
    reader, sink = pipes.reader, pipes.sink
    reader.begin("r1", "START r1")
    reader.ahead("r2", "START r2")
    reader.passed_on()  # r2 writes to the second pipe
    reader.ahead("r3", "START r3")  # ... and r3 will write to the first
    os.write(pipes.first, b"r3 says\n")
    os.write(pipes.second, b"r2 says\n")
    reader.passed_on()
    reader.drain("r3")
    assert [reader.end(r) for r in ("r1", "r2", "r3")] == ["START r1", None, None]
    assert sink.of("r2") == ["START r2", "r2 says"]
    assert sink.of("r3") == ["START r3", "r3 says"]


def test_a_request_ends_after_the_next_one_and_another_began(pipes: _Pipes) -> None:
    """The callers wake in any order: the request sent ahead ends, the idle instance gets a
    new request, and only then does the first one's caller end it: with its own START."""
    reader, sink = pipes.reader, pipes.sink
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    reader.passed_on()
    os.write(pipes.second, b"h says\n")
    reader.drain("h")
    assert reader.end("h") is None
    reader.begin("w", "START w")  # the instance was idle again
    assert reader.end("n") == "START n"
    os.write(pipes.second, b"w says\n")
    reader.drain("w")
    assert reader.end("w") is None
    assert sink.of("w") == ["START w", "w says"]


def test_a_request_taken_back_never_begins(pipes: _Pipes) -> None:
    reader, sink = pipes.reader, pipes.sink
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    reader.cancel_ahead("h")
    os.write(pipes.first, b"n says\n")
    reader.drain("n")
    assert reader.end("n") is None
    os.write(pipes.second, b"a thread, later\n")
    reader.drain()
    assert sink.lines == [("n", "START n"), ("n", "n says"), (None, "a thread, later")]


def test_init_output_comes_before_the_first_request(pipes: _Pipes) -> None:
    loop = asyncio.new_event_loop()
    read, write = os.pipe()
    sink = _Sink()
    reader = LogReader(loop, read, sink, _Fv(), "s", initialising=True)  # type: ignore[arg-type]
    try:
        reader.begin("first", "START first")
        os.write(write, f"importing\n{P.INIT_DONE}\nhandled\n".encode())
        reader.drain("first")
        assert sink.lines == [(None, "importing"), ("first", "START first"),
                              ("first", "handled")]
    finally:
        reader.close()
        os.close(write)
        loop.close()
