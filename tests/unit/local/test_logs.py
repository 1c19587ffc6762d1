"""The log store: buffered writes, queries by function/time/text, cursors, retention."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from aloft.local.logs import LogStore


def test_write_is_buffered_until_flush(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    store.write("svc-dev-app", 1, "r1", "hello\n")
    assert store.query() == []
    assert store.flush() == 1
    [line] = store.query()
    assert (line.function, line.version, line.request_id, line.text) == (
        "svc-dev-app", 1, "r1", "hello")


def test_query_by_function_filter_and_cursor(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    for i in range(5):
        store.write("svc-dev-app", 1, None, f"app line {i}")
        store.write("svc-dev-worker", 1, None, f"worker ERROR {i}")
    store.flush()
    assert len(store.query(["svc-dev-app"])) == 5
    errors = store.query(filter_text="error")
    assert [r.function for r in errors] == ["svc-dev-worker"] * 5
    first = store.query(limit=3)
    assert [r.text for r in first] == ["worker ERROR 3", "app line 4", "worker ERROR 4"]
    after = store.query(after_id=first[0].id)
    assert [r.text for r in after] == ["app line 4", "worker ERROR 4"]


def test_since_and_retention(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", retention=60)
    store.write("f", 1, None, "old")
    store.flush()
    now = time.time()
    assert store.query(since=now + 1) == []
    assert store.trim(now + 61) == 1
    assert store.query() == []


def test_wait_for_wakes_on_commit(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    store.start()
    try:
        cursor = store.last_id
        threading.Timer(0.05, lambda: store.write("f", 1, None, "late")).start()
        started = time.monotonic()
        assert store.wait_for(cursor, timeout=5)
        assert time.monotonic() - started < 2
        assert [r.text for r in store.query(after_id=cursor)] == ["late"]
        assert not store.wait_for(store.last_id, timeout=0.05)
    finally:
        store.close()


def test_an_entry_of_several_lines_reads_as_its_lines(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    store.write("f", 1, "r1", "START RequestId: r1\nEND RequestId: r1\nREPORT RequestId: r1")
    store.write("f", 1, "r2", "START RequestId: r2")
    store.flush()
    lines = store.query()
    assert [r.text for r in lines] == [
        "START RequestId: r1", "END RequestId: r1", "REPORT RequestId: r1", "START RequestId: r2"]
    assert lines[0].id == lines[1].id == lines[2].id < lines[3].id
    # A filter keeps only the matching lines of an entry.
    assert [r.text for r in store.query(filter_text="report")] == ["REPORT RequestId: r1"]
    # A cursor past the entry skips all of its lines.
    assert [r.text for r in store.query(after_id=lines[0].id)] == ["START RequestId: r2"]
