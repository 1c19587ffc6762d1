"""Function logs: every line an instance prints, stored per function in SQLite (logs.db).

`write` (the LogSink the instance pool calls) only appends to an in-memory buffer, so it never
blocks the gateway's event loop; a background thread commits the buffer in batches. Each stored
line gets an increasing id: a follower asks for lines after the last id it saw (long-poll), and
`wait_for` wakes it as soon as new lines are committed. Lines older than the retention (7 days
by default) are trimmed periodically.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aloft.local.state import connect

log = logging.getLogger("aloft.local.logs")

DEFAULT_RETENTION = 7 * 86400
_FLUSH_INTERVAL = 0.1
_TRIM_INTERVAL = 3600.0
_MAX_BUFFER = 100_000  # lines kept for a retry when a write fails

SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    function TEXT NOT NULL,
    version INTEGER NOT NULL,
    request_id TEXT,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_function ON logs (function, id);
CREATE INDEX IF NOT EXISTS logs_ts ON logs (ts);
"""
_INSERT = "INSERT INTO logs (ts, function, version, request_id, text) VALUES (?,?,?,?,?)"
# A whole batch in one statement: sqlite3 releases the GIL around each step, so `executemany`
# hands the GIL back and forth with the gateway's event loop once per line (a convoy that cost
# the gateway a fifth of its throughput); one step per batch lets SQLite work beside the loop.
_INSERT_BATCH = (
    "INSERT INTO logs (ts, function, version, request_id, text) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]') "
    "FROM json_each(?)"
)


@dataclass(frozen=True)
class LogRecord:
    id: int
    timestamp: float
    function: str
    version: int
    request_id: str | None
    text: str


class LogStore:
    """Implements `aloft.local.types.LogSink`; queried by time, function and text."""

    def __init__(self, path: Path, *, retention: float = DEFAULT_RETENTION):
        self.path = path
        self.retention = retention
        self._conn = connect(path)
        self._conn.executescript(SCHEMA)
        self._batch_insert = _has_json(self._conn)
        self._read_local = threading.local()
        self._buffer: list[tuple[float, str, int, str | None, str]] = []
        self._lock = threading.Lock()
        self._committed = threading.Condition()
        self._last_id = self._max_id()
        self._stop = threading.Event()
        self._last_trim = 0.0
        self._thread: threading.Thread | None = None
        self.on_commit: list[Callable[[], None]] = []  # run in the flushing thread after a commit

    # -- LogSink --------------------------------------------------------------

    def write(self, function: str, version: int, request_id: str | None, text: str) -> None:
        entry = (time.time(), function, version, request_id, text.rstrip("\n"))
        with self._lock:
            self._buffer.append(entry)

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="aloft-logs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(_FLUSH_INTERVAL):
            try:
                self.flush()
                if time.time() - self._last_trim > _TRIM_INTERVAL:
                    self.trim()
            except sqlite3.Error as exc:  # a full disk must not stop logging for good
                log.error("writing logs failed (lines kept in memory to retry): %s", exc)

    def flush(self) -> int:
        """Commit buffered lines; returns how many."""
        with self._lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        with self._committed:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                if self._batch_insert:
                    self._conn.execute(_INSERT_BATCH, (json.dumps(batch),))
                else:
                    self._conn.executemany(_INSERT, batch)
                self._conn.execute("COMMIT")
            except sqlite3.Error:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                with self._lock:
                    self._buffer[:0] = batch[-_MAX_BUFFER:]
                raise
            self._last_id = self._max_id()
            self._committed.notify_all()
        for callback in self.on_commit:
            callback()
        return len(batch)

    def trim(self, now: float | None = None) -> int:
        """Delete lines older than the retention; returns how many."""
        now = time.time() if now is None else now
        self._last_trim = now
        with self._committed:
            cur = self._conn.execute("DELETE FROM logs WHERE ts < ?", (now - self.retention,))
        return cur.rowcount

    def _max_id(self) -> int:
        row = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM logs").fetchone()
        return int(row[0])

    # -- queries --------------------------------------------------------------

    @property
    def last_id(self) -> int:
        return self._last_id

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._read_local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._read_local.conn = conn
        return conn

    def query(
        self,
        functions: Sequence[str] = (),
        *,
        since: float | None = None,
        after_id: int = 0,
        filter_text: str | None = None,
        limit: int = 1000,
    ) -> list[LogRecord]:
        """Lines of `functions` (all if empty) newer than `since` and `after_id`, oldest first,
        whose text contains `filter_text` (case-insensitive). With `since` and no `after_id`, the
        most recent `limit` entries are returned. `limit` counts stored entries: the lines of
        one entry are returned together, so more than `limit` lines may come back."""
        where = ["id > ?"]
        args: list[object] = [after_id]
        if functions:
            where.append(f"function IN ({','.join('?' * len(functions))})")
            args.extend(functions)
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        if filter_text:
            where.append("instr(lower(text), lower(?)) > 0")
            args.append(filter_text)
        order = "DESC" if after_id == 0 else "ASC"
        sql = f"SELECT * FROM logs WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?"
        rows = self._reader().execute(sql, (*args, limit)).fetchall()
        if order == "DESC":
            rows.reverse()
        wanted = filter_text.lower() if filter_text else None
        records = []
        for r in rows:
            text: str = r["text"]
            # An entry of several lines (a request's START, END and REPORT) reads as its lines,
            # which share its id.
            for line in text.split("\n") if "\n" in text else (text,):
                if wanted is None or wanted in line.lower():
                    records.append(
                        LogRecord(r["id"], r["ts"], r["function"], r["version"],
                                  r["request_id"], line)
                    )
        return records

    def wait_for(self, after_id: int, timeout: float) -> bool:
        """Block (in a worker thread) until a line newer than `after_id` is committed."""
        deadline = time.monotonic() + timeout
        with self._committed:
            while self._last_id <= after_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._committed.wait(remaining)
        return True


def _has_json(conn: sqlite3.Connection) -> bool:
    """SQLite's JSON functions are built in since 3.38 (and usually compiled in before)."""
    try:
        conn.execute("SELECT count(*) FROM json_each('[]')").fetchone()
    except sqlite3.OperationalError:
        return False
    return True
