"""The log store: buffered writes, queries by function/time/text, cursors, retention."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from aloft.local.store.logs import LogStore


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
    # one commit stores a batch per function: ids run function by function within it
    first = store.query(limit=3)
    assert [r.text for r in first] == ["worker ERROR 2", "worker ERROR 3", "worker ERROR 4"]
    after = store.query(after_id=first[0].id)
    assert [r.text for r in after] == ["worker ERROR 3", "worker ERROR 4"]


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
    assert [r.request_id for r in lines] == ["r1", "r1", "r1", "r2"]
    assert lines[0].id < lines[1].id < lines[2].id < lines[3].id
    assert [r.text for r in store.query(filter_text="report")] == ["REPORT RequestId: r1"]
    assert [r.text for r in store.query(after_id=lines[1].id)] == [
        "REPORT RequestId: r1", "START RequestId: r2"]


def test_cursors_and_limits_across_batches(tmp_path: Path) -> None:
    """Lines are stored a batch per function per commit; ids, cursors and limits are per line."""
    store = LogStore(tmp_path / "logs.db")
    for commit in range(3):
        for i in range(4):
            store.write("a", 1, None, f"a{commit}.{i}")
            store.write("b", 1, None, f"b{commit}.{i}")
        store.flush()
    assert store.last_id == max(r.id for r in store.query(limit=100))
    newest = store.query(["a"], limit=6)  # the most recent six, oldest first
    assert [r.text for r in newest] == ["a1.2", "a1.3", "a2.0", "a2.1", "a2.2", "a2.3"]
    page = store.query(["b"], after_id=1, limit=5)  # the oldest five after the cursor
    assert [r.text for r in page] == ["b0.0", "b0.1", "b0.2", "b0.3", "b1.0"]
    rest = store.query(["b"], after_id=page[-1].id, limit=100)
    assert [r.text for r in rest][:2] == ["b1.1", "b1.2"] and len(rest) == 7
    # filters: a plain one is looked up in SQL first; one with JSON-escaped text is not
    store.write("a", 1, None, 'said "hi"\tthere')
    store.write("a", 1, None, "Ünïcode LINE")
    store.flush()
    assert [r.text for r in store.query(filter_text='"hi"\t')] == ['said "hi"\tthere']
    assert [r.text for r in store.query(filter_text="ünïcode")] == ["Ünïcode LINE"]
    assert [r.text for r in store.query(filter_text="a2.1")] == ["a2.1"]
    # reopened: the ids go on from the last one
    last = store.last_id
    reopened = LogStore(tmp_path / "logs.db")
    assert reopened.last_id == last
    reopened.write("a", 1, None, "after reopening")
    reopened.flush()
    assert [r.text for r in reopened.query(after_id=last)] == ["after reopening"]


def test_lines_of_the_row_per_line_table_move_into_batches(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "logs.db")
    conn.executescript(
        "CREATE TABLE logs (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "
        "function TEXT NOT NULL, version INTEGER NOT NULL, request_id TEXT, text TEXT NOT NULL);"
        "INSERT INTO logs (ts, function, version, request_id, text) VALUES "
        "(1.0, 'f', 1, 'r', 'one'), (2.0, 'g', 2, NULL, 'two'), (3.0, 'f', 1, 'r', 'three');"
    )
    conn.commit()
    conn.close()
    store = LogStore(tmp_path / "logs.db")
    assert [(r.function, r.text) for r in store.query(["f"])] == [("f", "one"), ("f", "three")]
    assert [r.version for r in store.query(["g"])] == [2]
    tables = store._reader().execute("SELECT name FROM sqlite_master WHERE type='table'")
    assert "logs" not in {row[0] for row in tables}


def test_a_line_with_a_lone_surrogate_is_kept(tmp_path: Path) -> None:
    """UTF-8 cannot store a lone surrogate: its batch is stored escaped, not lost."""
    store = LogStore(tmp_path / "logs.db")
    store.write("f", 1, None, "bad \udc80 byte")
    store.write("f", 1, None, "ünïcode")
    store.flush()
    assert [r.text for r in store.query()] == ["bad \udc80 byte", "ünïcode"]
    assert [r.text for r in store.query(filter_text="BYTE")] == ["bad \udc80 byte"]


def test_functions_lines_of_one_commit_come_back_by_time(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    for i in range(3):
        store.write("a", 1, None, f"a{i}")
        store.write("b", 1, None, f"b{i}")
    store.flush()
    lines = store.query()
    assert [r.text for r in lines] == ["a0", "b0", "a1", "b1", "a2", "b2"]
    # A page cut by the limit: its largest id is the cursor; nothing is skipped or repeated.
    page = store.query(after_id=1, limit=4)
    rest = store.query(after_id=max(r.id for r in page))
    assert sorted(r.text for r in page + rest) == sorted(r.text for r in lines)


def test_one_invocations_lines(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    for i in range(50):
        rid = f"rid-{i}"
        store.write("f", 1, rid, f"START RequestId: {rid}\nEND RequestId: {rid}")
        if i % 10 == 0:
            store.flush()  # several batches
    store.write("f", 1, None, "rid-7 is only mentioned here")
    store.flush()
    lines = store.query(["f"], request_id="rid-7", limit=5)
    assert [r.text for r in lines] == ["START RequestId: rid-7", "END RequestId: rid-7"]
    assert store.query(["f"], request_id="nobody") == []


def test_a_failed_commit_keeps_its_lines_before_newer_ones(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    store.write("a", 1, "r1", "one")
    store.write("b", 1, "r2", "two")
    store._conn.execute("PRAGMA query_only = ON")  # the commit fails, as on a full disk
    with pytest.raises(sqlite3.Error):
        store.flush()
    store.write("a", 1, "r3", "three")
    store._conn.execute("PRAGMA query_only = OFF")
    assert store.flush() == 3
    assert [r.text for r in store.query(["a"])] == ["one", "three"]
    assert [r.text for r in store.query(["b"])] == ["two"]


def test_each_entry_keeps_its_instances_stream(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db")
    store.write("f", 1, "r1", "START\nEND", "2026/12/06/[1]aa")
    store.write("f", 1, "r2", "hello", "2026/12/06/[1]bb")
    store.write("f", 1, None, "Gateway: refused")  # about no instance
    store.write("f", 2, "r3", "v2", "2026/12/06/[2]cc")
    store.flush()
    # an entry stored before streams were (four items) reads as the platform's
    store._conn.execute("INSERT INTO log_batches (function, first_ts, last_ts, count, lines) "
                        "VALUES ('f', 1.0, 1.0, 1, '[[1.0, 1, null, \"old\"]]')")
    lines = {r.text: r.stream for r in store.query(["f"], oldest_first=True)}
    assert lines == {"START": "2026/12/06/[1]aa", "END": "2026/12/06/[1]aa",
                     "hello": "2026/12/06/[1]bb", "Gateway: refused": None,
                     "v2": "2026/12/06/[2]cc", "old": None}
    streams = [(v, s, n) for v, s, _first, _last, n in store.streams("f")]
    assert streams == [(1, None, 2), (1, "2026/12/06/[1]aa", 1), (1, "2026/12/06/[1]bb", 1),
                       (2, "2026/12/06/[2]cc", 1)]


class _SlowCommits:
    """The store's connection, with commits that take `delay` seconds (a large batch on a busy
    machine), and an event set when one starts."""

    def __init__(self, conn: sqlite3.Connection, delay: float) -> None:
        self._conn, self._delay = conn, delay
        self.committing = threading.Event()

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "COMMIT":
            self.committing.set()
            time.sleep(self._delay)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


def test_a_flush_waits_for_the_commit_another_thread_is_making(tmp_path: Path) -> None:
    """The logs API flushes before it reads; when the background thread has just taken the
    buffer and is committing it, that flush must not return before the lines are readable
    (else a query right after a request misses them)."""
    store = LogStore(tmp_path / "logs.db")
    slow = _SlowCommits(store._conn, 0.3)
    store._conn = slow  # type: ignore[assignment]
    store.write("svc-dev-app", 1, "r1", "a line")
    background = threading.Thread(target=store.flush)
    background.start()
    assert slow.committing.wait(5)
    store.flush()  # the buffer is empty now: this one only waits
    assert [r.text for r in store.query(["svc-dev-app"])] == ["a line"]
    background.join()


def test_a_page_never_cuts_an_entry_in_two(tmp_path: Path) -> None:
    """An invocation's START, END, REPORT and request line, written as one entry, come in one
    page: a follower that got the REPORT without its request line would show the invocation's
    START/END/REPORT lines as if it were not an HTTP request (`aloft dev` did, under load)."""
    store = LogStore(tmp_path / "logs.db")
    invocation = "START RequestId: r{0}\nEND RequestId: r{0}\nREPORT RequestId: r{0}\nGET / 200"
    for i in range(6):
        store.write("f", 1, f"r{i}", invocation.format(i))
    store.flush()
    got: list[list[str]] = []
    cursor = 0
    while page := store.query(["f"], after_id=cursor, oldest_first=True, limit=6):  # 1.5 entries
        assert len(page) <= 6
        got.append([r.text for r in page])
        cursor = page[-1].id
    assert [len(page) for page in got] == [4] * 6  # whole entries, one a page
    # the most recent lines: the partial entry at the page's start is left out too
    newest = store.query(["f"], limit=6)
    assert [r.request_id for r in newest] == ["r5"] * 4
    # an entry longer than the page is cut, or a follower would never get past it
    store.write("g", 1, "big", "\n".join(f"line {i}" for i in range(10)))
    store.flush()
    assert len(store.query(["g"], after_id=0, oldest_first=True, limit=4)) == 4
    assert len(store.query(["g"], limit=4)) == 4


def _fill(store: LogStore, batches: int, start: int = 0) -> None:
    """`batches` commits of 20 lines of about 230 bytes, two functions taking turns."""
    for batch in range(start, start + batches):
        for i in range(20):
            store.write("f" if batch % 2 else "g", 1, f"r{batch}", f"{batch}:{i} " + "x" * 220)
        store.flush()


def _checkpointed_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def test_the_oldest_lines_go_when_the_store_outgrows_its_cap(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cap = 256 * 1024
    store = LogStore(tmp_path / "logs.db", max_bytes=cap)
    _fill(store, 60)  # 1,200 lines, about 280 KB of text
    assert store.size() > cap
    assert store.status()["dropped_by_cap"] == 0 and store.status()["last_dropped"] is None
    before = time.time()
    dropped = store.cap()
    assert store.size() <= cap
    # what `aloft cloud status` shows: the size the cap left, the cap, what it dropped and when
    status = store.status()
    assert status["size_mb"] == round(store.size() / (1 << 20), 2) and status["cap_mb"] == 0.25
    assert status["dropped_by_cap"] == dropped and status["last_dropped"] >= before
    kept = [int(r.text.split(":")[0]) for r in store.query(limit=10_000, oldest_first=True)]
    # whole batches of every function, the newest ones, in order
    assert kept == sorted(kept) and kept[-1] == 59 and 0 not in kept
    assert set(kept) == set(range(kept[0], 60)) and len(kept) == 20 * (60 - kept[0])
    assert dropped == 1200 - len(kept) > 0
    # the freed pages are reused: writing on, the file stops growing at the cap and what one
    # round writes between two looks (its pages moved from the write-ahead log into it, as
    # SQLite does every 1,000 pages on its own)
    sizes = []
    for round_ in range(4):
        _fill(store, 40, start=60 + 40 * round_)
        sizes.append(_checkpointed_size(tmp_path / "logs.db"))
        store.cap()
        assert store.size() <= cap
    assert sizes[3] <= sizes[1] * 1.05, sizes
    assert store.status()["dropped_by_cap"] > dropped  # counted since the store opened
    assert any("reached its cap of 0.25 MB" in r.getMessage() for r in caplog.records)


def test_a_store_under_its_cap_keeps_everything(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", max_bytes=1 << 20)
    _fill(store, 10)
    assert store.cap() == 0
    assert len(store.query(limit=10_000)) == 200
    assert store.status() == {"size_mb": round(store.size() / (1 << 20), 2), "cap_mb": 1.0,
                              "dropped_by_cap": 0, "last_dropped": None}
    assert store.size() > 40_000  # (the 200 lines: the size is a measure, not a constant)
