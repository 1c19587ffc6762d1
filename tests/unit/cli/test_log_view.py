"""How tail and dev show log lines: an HTTP request's output under its request line."""

from __future__ import annotations

import pytest
from rich.console import Console

from aloft.access_log import parse, request_line
from aloft.cli.log_view import GRACE, HOLD, CarriageReturns, LogView, Shown, readable, render
from aloft.provider import LogLine


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def line(text: str, rid: str | None = "r1", ts: float = 1000.0) -> LogLine:
    return LogLine(timestamp=ts, function="app", text=text, request_id=rid)


def invocation(rid: str, *printed: str, init: bool = False) -> list[LogLine]:
    report = f"REPORT RequestId: {rid}\tDuration: 2.00 ms\tBilled Duration: 2 ms\t" \
             "Memory Size: 512 MB\tMax Memory Used: 40 MB"
    if init:
        report += "\tInit Duration: 231.50 ms"
    return [line(f"START RequestId: {rid} Version: 3", rid),
            *(line(text, rid) for text in printed),
            line(f"END RequestId: {rid}", rid), line(report, rid)]


def texts(shown: list[Shown]) -> list[tuple[str, str, bool]]:
    return [(s.kind, s.line.text, s.nested) for s in shown]


def plain(shown: Shown) -> str:
    console = Console(width=200, no_color=True, force_terminal=False)
    with console.capture() as capture:
        console.print(render(shown, "app"), soft_wrap=True)
    return capture.get().rstrip("\n")


def test_the_request_line_round_trips() -> None:
    text = request_line("POST", "/shop/dev/orders/7", 500, 12.3456, "8a1b-2c")
    assert text == "REQUEST POST /shop/dev/orders/7 500 12.35 ms RequestId: 8a1b-2c"
    parsed = parse(text)
    assert parsed is not None and parsed.as_dict() == {
        "method": "POST", "path": "/shop/dev/orders/7", "status": 500, "latency_ms": 12.35,
        "request_id": "8a1b-2c"}
    assert parse("REQUEST from a user's print") is None
    assert parse("GET / 200") is None
    assert parse(request_line("GET", "/" + "x" * 5000, 200, 1, "r")) is not None


def test_an_http_request_shows_its_line_then_its_output() -> None:
    clock = Clock()
    view = LogView(clock)
    shown = []
    for item in invocation("r1", "Traceback (most recent call last):", "ZeroDivisionError: x",
                           init=True):
        shown += view.feed(item)
    assert shown == []  # held until the request line comes
    shown = view.feed(line(request_line("GET", "/svc/dev/boom", 500, 245.0, "r1"), ts=1000.0))
    assert texts(shown) == [
        ("request", "REQUEST GET /svc/dev/boom 500 245.00 ms RequestId: r1", False),
        ("output", "Traceback (most recent call last):", True),
        ("output", "ZeroDivisionError: x", True)]
    assert shown[0].init_ms == 231.5
    first = plain(shown[0])
    # the time the request came in (its line is written when it is answered)
    assert first == "00:16:39.755 app GET /svc/dev/boom 500 245 ms (cold start 232 ms) r1"
    assert plain(shown[1]) == "00:16:40.000 app   Traceback (most recent call last):"
    clock.now += 10
    assert view.due() == [] and view.flush() == []


def test_request_lines_are_yellow_for_4xx_and_red_for_5xx() -> None:
    def styles(status: int) -> set[str]:
        request = parse(request_line("GET", "/x", status, 1.0, "r"))
        text = render(Shown(line("", "r"), "request", request), "app")
        return {str(span.style) for span in text.spans}

    assert "yellow" in styles(404) and "red" not in styles(404)
    assert "red" in styles(502) and "yellow" not in styles(502)
    assert not {"red", "yellow"} & styles(200)


def test_an_invocation_without_a_request_line_shows_as_it_is_after_the_grace() -> None:
    clock = Clock()
    view = LogView(clock)
    for item in invocation("r2", "processed 3 records"):
        assert view.feed(item) == []
    clock.now += GRACE / 2
    assert view.due() == []
    clock.now += GRACE
    shown = view.due()
    assert [s.kind for s in shown] == ["runtime", "output", "runtime", "runtime"]
    assert not any(s.nested for s in shown)
    assert plain(shown[1]) == "00:16:40.000 app processed 3 records"
    # a request line coming later anyway (a slow commit) still shows, alone
    late = view.feed(line(request_line("GET", "/", 200, 1.0, "r2")))
    assert texts(late) == [("request", "REQUEST GET / 200 1.00 ms RequestId: r2", False)]


def test_a_long_request_shows_its_lines_as_they_come_after_the_hold() -> None:
    clock = Clock()
    view = LogView(clock)
    assert view.feed(line("START RequestId: r3 Version: 1", "r3")) == []
    assert view.feed(line("working…", "r3")) == []
    clock.now += HOLD
    assert [s.line.text for s in view.due()] == ["START RequestId: r3 Version: 1", "working…"]
    assert texts(view.feed(line("still working", "r3"))) == [("output", "still working", False)]
    end = [view.feed(x) for x in (line("END RequestId: r3", "r3"),
                                  line(request_line("GET", "/slow", 504, 30000, "r3"), "r3"))]
    assert [s.kind for s in end[0]] == ["runtime"] and [s.kind for s in end[1]] == ["request"]


def test_a_request_answered_before_its_function_ended() -> None:
    """API Gateway's 30 s: the 504 comes while the function runs on; its later lines follow
    the request line, START/END/REPORT are left out."""
    view = LogView(Clock())
    assert view.feed(line("START RequestId: r4 Version: 1", "r4")) == []
    shown = view.feed(line(request_line("GET", "/slow", 504, 30000, "r4"), "r4"))
    assert [s.kind for s in shown] == ["request"]
    assert texts(view.feed(line("done at last", "r4"))) == [("output", "done at last", True)]
    assert view.feed(line("END RequestId: r4", "r4")) == []


@pytest.mark.parametrize("text", ["plain text", "START RequestId: x"])
def test_lines_without_a_request_id_show_at_once(text: str) -> None:
    view = LogView(Clock())
    assert [s.line.text for s in view.feed(line(text, None))] == [text]


def test_throttled_requests_have_a_request_line_only() -> None:
    view = LogView(Clock())
    shown = view.feed(line(request_line("GET", "/", 429, 500.0, "r5"), "r5"))
    assert [s.kind for s in shown] == ["request"] and shown[0].request is not None
    assert shown[0].request.status == 429


def test_flush_shows_whatever_is_still_held() -> None:
    view = LogView(Clock())
    for item in invocation("r6", "hello"):
        view.feed(item)
    view.feed(line("START RequestId: r7 Version: 1", "r7"))
    assert len(view.flush()) == 5 and view.flush() == []


def test_lines_written_after_the_grace_release_what_waits_in_their_order() -> None:
    """`tail --no-follow` gets every line at once: an invocation without a request line shows
    where it happened, not at the end."""
    view = LogView(Clock())
    shown = []
    for item in invocation("h1"):  # a health check at t=1000
        shown += view.feed(item)
    later = request_line("GET", "/", 200, 1.0, "r9")
    after = 1000.008  # 8 ms later, a request: the health check had no request line
    shown += view.feed(line("START RequestId: r9 Version: 1", "r9", ts=after))
    shown += view.feed(line(later, "r9", ts=after))
    assert [s.line.request_id for s in shown] == ["h1"] * 3 + ["r9"]
    assert shown[-1].kind == "request"
    # a request's first line followed by lines HOLD later: shown as it is, in order
    view.feed(line("START RequestId: r10 Version: 1", "r10", ts=2000))
    shown = view.feed(line("unrelated", None, ts=2000 + HOLD))
    assert [s.line.text for s in shown] == ["START RequestId: r10 Version: 1", "unrelated"]


def test_an_error_record_of_lambdas_runtime_shows_one_row_per_line() -> None:
    record = "[ERROR] KeyError: 'id'\rTraceback (most recent call last):\r\u00a0\u00a0File \"x.py\""
    shown = plain(Shown(line(record), "output"))
    rows = shown.split("\n")
    assert rows[0].endswith("app [ERROR] KeyError: 'id'") and len(rows) == 3
    assert rows[1].strip() == "Traceback (most recent call last):"
    assert rows[1].index("Traceback") == rows[0].index("[ERROR]")  # under the record's start
    assert "\r" not in shown


def test_an_error_record_streamed_to_the_terminal_has_line_breaks() -> None:
    """`aloft invoke` shows a function's logs as they come: a CR joining an error's lines must
    not move the cursor back over them (the traceback overwrote itself on a terminal)."""
    record = "[ERROR] KeyError: 'id'\rTraceback (most recent call last):\r  File \"x.py\"\n"
    assert readable(record) == ("[ERROR] KeyError: 'id'\nTraceback (most recent call last):\n"
                                "  File \"x.py\"\n")
    lines = CarriageReturns()  # in chunks: a CR at a chunk's end may be a CRLF's first half
    chunks = ["printed\r", "\nnext [ERROR] a\r", "Traceback\r", ""]
    assert "".join(lines.feed(c) for c in chunks) + lines.end() == \
        "printed\nnext [ERROR] a\nTraceback\n"
    assert readable("windows\r\nline\r") == "windows\nline\n"
