"""The log reader's attribution of an instance's output to requests in a pipeline: a request sent
ahead begins at its mark in the pipe (P.NEXT), or when the request before it ends if that comes
first; a request taken back never begins; an unfinished line stays with the request that
printed it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from aloft.local.instances.instance import LogReader
from aloft.local.instances.worker import protocol as P

MARK = f"{P.NEXT}\n".encode()


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


@pytest.fixture
def pipe() -> Iterator[tuple[LogReader, _Sink, int]]:
    loop = asyncio.new_event_loop()
    read, write = os.pipe()
    sink = _Sink()
    reader = LogReader(loop, read, sink, _Fv(), "stream")  # type: ignore[arg-type]
    yield reader, sink, write
    reader.close()
    os.close(write)
    loop.close()


def test_the_mark_before_the_request_before_ends(pipe: tuple[LogReader, _Sink, int]) -> None:
    reader, sink, write = pipe
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    os.write(write, b"n says\n" + MARK + b"h says\n")
    reader.drain()
    assert sink.lines == [("n", "START n"), ("n", "n says"), ("h", "START h"), ("h", "h says")]
    assert reader.end("n") is None  # its START was written with its output
    assert reader.end("h") is None


def test_a_silent_request_before_keeps_its_start_for_its_end(
        pipe: tuple[LogReader, _Sink, int]) -> None:
    reader, sink, write = pipe
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    os.write(write, MARK + b"h says\n")
    reader.drain()
    reader.say("a line of the platform's about n", "n")
    assert reader.end("n") is None
    assert sink.lines == [("h", "START h"), ("h", "h says"), ("n", "START n"),
                          ("n", "a line of the platform's about n")]
    reader.say("about h")
    assert sink.lines[-1] == ("h", "about h")


def test_the_mark_after_the_request_before_ended(pipe: tuple[LogReader, _Sink, int]) -> None:
    reader, sink, write = pipe
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    os.write(write, b"n says\n")
    reader.drain()
    assert reader.end("n") is None
    os.write(write, b"h" + MARK + b"h says\n")  # (a piece of a line before the mark: h's)
    reader.drain()
    assert sink.lines == [("n", "START n"), ("n", "n says"), ("h", "START h"), ("h", "h"),
                          ("h", "h says")]
    assert reader.end("h") is None
    os.write(write, b"between\n")
    reader.drain()
    assert sink.lines[-1] == (None, "between")


def test_two_requests_ahead_and_a_line_unfinished_at_a_drain(
        pipe: tuple[LogReader, _Sink, int]) -> None:
    reader, sink, write = pipe
    reader.begin("n", "START n")
    reader.ahead("h1", "START h1")
    reader.ahead("h2", "START h2")  # sent when h1's turn came, before h1's mark was read
    os.write(write, b"n says\n" + MARK + b"h1 says\n" + MARK + b"h2 be")
    reader.drain("n")  # (n's answer: h2's unfinished line is not n's to end)
    assert reader.end("n") is None
    assert reader.end("h1") is None
    os.write(write, b"gins\n")
    reader.drain()
    assert sink.lines == [("n", "START n"), ("n", "n says"), ("h1", "START h1"),
                          ("h1", "h1 says"), ("h2", "START h2"), ("h2", "h2 begins")]


def test_a_request_taken_back_never_begins(pipe: tuple[LogReader, _Sink, int]) -> None:
    reader, sink, write = pipe
    reader.begin("n", "START n")
    reader.ahead("h", "START h")
    reader.cancel_ahead("h")
    os.write(write, b"n says\n")
    reader.drain()
    assert reader.end("n") is None
    os.write(write, b"later\n")
    reader.drain()
    assert sink.lines == [("n", "START n"), ("n", "n says"), (None, "later")]
