"""`aloft dev`'s log follower and Ctrl-C: the lines of one poll are shown as one step, so the
final flush at Ctrl-C cannot come between an HTTP request's REPORT and its request line (both
come in the same poll) and show the request's START, END and REPORT lines as if it were not an
HTTP request (what a full test run once printed)."""

from __future__ import annotations

import json
import threading
from typing import Any

from aloft.access_log import request_line
from aloft.cli.devserver import LogFollower, LogPrinter
from aloft.cli.log_view import Shown

RID = "43d1f3ef-e48b-48f7-becc-45be0eb90984"
TEXTS = [f"START RequestId: {RID} Version: 4",
         f"END RequestId: {RID}",
         f"REPORT RequestId: {RID}\tDuration: 0.82 ms\tBilled Duration: 1 ms",
         request_line("GET", "/flask-hello/dev/", 200, 1.4, RID)]


class _OnePage:
    """A control API that answers one page of lines, then none."""

    def __init__(self, follower: list[LogFollower]):
        self._follower = follower
        self._pages = 0

    def request(self, method: str, path: str, timeout: float) -> tuple[int, dict[str, str], bytes]:
        self._pages += 1
        if self._pages > 1:
            self._follower[0].stop.set()
            return 200, {}, json.dumps({"cursor": 1, "lines": []}).encode()
        lines = [{"timestamp": 1000.0, "function": "shop-dev-app", "text": text,
                  "request_id": RID, "version": 4} for text in TEXTS]
        return 200, {}, json.dumps({"cursor": 1, "lines": lines}).encode()


def test_ctrl_c_between_a_report_and_its_request_line_shows_one_request_line() -> None:
    shown: list[Shown] = []
    printer = LogPrinter("shop-dev-", shown.append)
    reported, interrupted = threading.Event(), threading.Event()

    def emit(line: dict[str, Any]) -> None:
        printer.line(line)
        if line["text"].startswith("REPORT"):  # Ctrl-C comes now, before the request line
            reported.set()
            interrupted.wait(5)

    holder: list[LogFollower] = []
    follower = LogFollower(_OnePage(holder), "shop", "dev", emit, wait=0.0,  # type: ignore[arg-type]
                           batch=printer.batch)
    holder.append(follower)
    follower.start()
    assert reported.wait(5)
    flushed = threading.Thread(target=printer.flush)  # aloft dev's `finally` on Ctrl-C
    flushed.start()
    flushed.join(0.2)  # it waits for the poll's lines to be shown...
    interrupted.set()  # ...which now go on
    flushed.join(5)
    follower.join(5)
    assert not flushed.is_alive() and not follower.is_alive()
    assert [(s.kind, s.line.text) for s in shown] == [("request", TEXTS[3])]
