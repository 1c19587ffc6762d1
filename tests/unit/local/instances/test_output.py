"""An instance's output as log lines: split linearly, a long line and a long output cut with a
marker, the cap starting again with each invocation."""

from __future__ import annotations

import time

from aloft.local.instances.output import (
    MAX_LINE_BYTES,
    MAX_OUTPUT_BYTES,
    OutputLines,
    line_cut_marker,
    output_cut_marker,
)


def test_lines_across_chunks_and_utf8_split_between_them() -> None:
    out = OutputLines()
    text = "héllo wörld\nsecond\n".encode()
    lines = [line for i in range(len(text)) for line in out.feed(text[i:i + 1])]
    assert lines == ["héllo wörld", "second"]
    assert out.feed(b"no newline yet") == []
    assert out.pending
    assert out.flush() == ["no newline yet"]
    assert not out.pending and out.flush() == []


def test_a_line_over_256_kb_is_cut_with_a_marker() -> None:
    out = OutputLines()
    lines = out.feed(b"x" * (MAX_LINE_BYTES + 1000) + b"\nnext\n")
    assert lines == ["x" * MAX_LINE_BYTES + line_cut_marker(1000), "next"]


def test_an_invocations_output_over_the_cap_is_cut_and_says_so() -> None:
    out = OutputLines(max_line=100, max_output=1000)
    lines = [line for _ in range(30) for line in out.feed(b"y" * 59 + b"\n")]
    assert lines[:16] == ["y" * 59] * 16
    assert lines[16:] == ["y" * 40, output_cut_marker(1000)]  # what fits, then the marker
    assert out.feed(b"more\n") == []  # dropped until the invocation ends
    out.reset()
    assert out.feed(b"next invocation\n") == ["next invocation"]


def test_forty_megabytes_without_a_newline_take_linear_time() -> None:
    out = OutputLines()
    chunk = b"z" * 65536
    started = time.perf_counter()
    lines = [line for _ in range(640) for line in out.feed(chunk)]
    elapsed = time.perf_counter() - started
    assert lines == ["z" * MAX_LINE_BYTES + line_cut_marker(MAX_OUTPUT_BYTES - MAX_LINE_BYTES),
                     output_cut_marker(MAX_OUTPUT_BYTES)]
    assert elapsed < 0.5, f"40 MB took {elapsed:.2f} s"
