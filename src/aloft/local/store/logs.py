"""Function logs: every line an instance prints, stored per function in SQLite (logs.db).

`write` (the LogSink the instance pool calls) only appends to an in-memory buffer, so it never
blocks the gateway's event loop; a background thread commits the buffer every 0.1 s. A commit
stores one row per function holding that batch's lines as a JSON array (`log_batches`): SQLite's
cost is per row, and one row per request (let alone per line) cost the gateway a tenth of its
throughput, while queries (tail, the dashboard) are rare and expand the few rows they read.

Each line gets an increasing id, `batch id << 20 | index in the batch`: a follower asks for
lines after the last id it saw (long-poll), and `wait_for` wakes it as soon as new lines are
committed. Lines older than the retention (7 days by default) are trimmed periodically, and
the oldest go first whenever the lines take more than the store's cap (1 GiB by default): a
load test writes about 420 bytes of START, END, REPORT and request lines a request, 5 GB an hour
at 12,000 requests/s, which a week's retention alone would let fill the disk. SQLite reuses
the freed pages, so the file stops growing at the cap rather than shrinking.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aloft.local.store.state import connect

log = logging.getLogger("aloft.local.logs")

DEFAULT_RETENTION = 7 * 86400
DEFAULT_MAX_BYTES = 1 << 30
_FLUSH_INTERVAL = 0.1
_TRIM_INTERVAL = 3600.0
_CAP_INTERVAL = 5.0  # seconds between looks at the store's size
_CAP_TO = 0.8  # a store over its cap is trimmed to this share of it (not a batch a flush)
_CAP_STEPS = 8  # ... in this many transactions: each one's pages pass through the WAL
_WAL_LIMIT = 64 << 20  # bytes the write-ahead log is cut back to once checkpointed
_MAX_BUFFER = 100_000  # lines kept for a retry when a write fails
SHIFT = 20  # a line's id: its batch's id << SHIFT | its index in the batch
_MAX_BATCH = 1 << SHIFT
_JSON_ESCAPED = frozenset('"\\') | frozenset(map(chr, range(32)))

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function TEXT NOT NULL,
    first_ts REAL NOT NULL,
    last_ts REAL NOT NULL,
    count INTEGER NOT NULL,
    lines TEXT NOT NULL  -- JSON: [[ts, version, request_id, text, stream], ...], a text of
    -- several lines (a request's START, END and REPORT) counting as its lines; stream: the log
    -- stream of the instance that wrote it, or null (older entries have no fifth item)
);
CREATE INDEX IF NOT EXISTS log_batches_function ON log_batches (function, id);
CREATE INDEX IF NOT EXISTS log_batches_last_ts ON log_batches (last_ts);
CREATE TABLE IF NOT EXISTS log_retention (
    function TEXT PRIMARY KEY,
    days INTEGER NOT NULL  -- CloudWatch's PutRetentionPolicy on the function's log group
);
"""

Line = tuple[float, int, str | None, str, str | None]  # ts, version, request id, text, stream
_INSERT = (
    "INSERT INTO log_batches (function, first_ts, last_ts, count, lines) VALUES (?,?,?,?,?)"
)


@dataclass(frozen=True)
class LogRecord:
    id: int
    timestamp: float
    function: str
    version: int
    request_id: str | None
    text: str
    stream: str | None = None  # the writing instance's log stream (None: the platform's)


class LogStore:
    """Implements `aloft.local.types.LogSink`; queried by time, function and text."""

    def __init__(self, path: Path, *, retention: float = DEFAULT_RETENTION,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = path
        self.retention = retention
        self.max_bytes = max_bytes
        self._conn = connect(path)
        self._conn.executescript(SCHEMA)
        # SQLite keeps its write-ahead log file as large as it ever grew; a trim's deletes
        # would leave hundreds of MB of it beside the store's cap
        self._conn.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT}")
        self._page_size = int(self._conn.execute("PRAGMA page_size").fetchone()[0])
        _migrate_line_table(self._conn)
        self._read_local = threading.local()
        # Entries by function, as a batch stores them: a commit takes the lists as they are.
        self._buffer: dict[str, list[Line]] = {}
        self._lock = threading.Lock()
        self._committed = threading.Condition()
        self._last_id = self._max_id()
        self._stop = threading.Event()
        self._last_trim = 0.0
        self._last_cap = 0.0
        self._capped_at = float("-inf")  # when the cap last dropped lines (logged hourly)
        # What the flusher's last look found, for `aloft cloud status` (read by other threads:
        # the writer's connection is the flusher's own)
        self.used_bytes = self.size()
        self.dropped_lines = 0  # by the cap, since the daemon started
        self.dropped_at: float | None = None  # when the cap last dropped lines (epoch seconds)
        # (not `_thread`: mypyc names it `__thread` in C, a keyword of gcc)
        self._flusher: threading.Thread | None = None
        self.on_commit: list[Callable[[], None]] = []  # run in the flushing thread after a commit

    # -- LogSink --------------------------------------------------------------

    def write(self, function: str, version: int, request_id: str | None, text: str,
              stream: str | None = None) -> None:
        entry = (time.time(), version, request_id, text.rstrip("\n"), stream)
        with self._lock:
            entries = self._buffer.get(function)
            if entries is None:
                self._buffer[function] = [entry]
            else:
                entries.append(entry)

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> None:
        self._flusher = threading.Thread(target=self._run, name="aloft-logs", daemon=True)
        self._flusher.start()

    def close(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(_FLUSH_INTERVAL):
            try:
                self.flush()
                now = time.time()
                if now - self._last_trim > _TRIM_INTERVAL:
                    self.trim()
                if now - self._last_cap > _CAP_INTERVAL:
                    self._last_cap = now
                    self.cap()
            except sqlite3.Error as exc:  # a full disk must not stop logging for good
                log.error("writing logs failed (lines kept in memory to retry): %s", exc)
            except Exception:  # a bug of ours must not stop logging for good either
                log.exception("writing logs failed (those lines are lost)")

    def flush(self) -> int:
        """Commit buffered entries; returns how many. The buffer is taken under the commit's
        lock: a flush that finds it empty because another thread took it has waited for that
        commit (the logs API flushes, then reads)."""
        with self._committed:
            with self._lock:
                batch, self._buffer = self._buffer, {}
            if not batch:
                return 0
            rows = _batch_rows(batch)
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                last = self._last_id
                for function, first_ts, last_ts, count, entries in rows:
                    values = (function, first_ts, last_ts, count, entries)
                    try:
                        cur = conn.execute(_INSERT, _encoded(values, ascii_only=False))
                    except UnicodeEncodeError:  # a lone surrogate: UTF-8 cannot store it
                        cur = conn.execute(_INSERT, _encoded(values, ascii_only=True))
                    last = ((cur.lastrowid or 0) << SHIFT) | (count - 1)
                conn.execute("COMMIT")
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                with self._lock:  # kept (the newest, up to a limit) before newer entries
                    for function, entries in batch.items():
                        newer = self._buffer.get(function, [])
                        self._buffer[function] = entries[-_MAX_BUFFER:] + newer
                raise
            self._last_id = last
            self._committed.notify_all()
        for callback in self.on_commit:
            callback()
        return sum(len(entries) for entries in batch.values())

    def trim(self, now: float | None = None) -> int:
        """Delete lines older than the retention (whole batches); returns how many."""
        now = time.time() if now is None else now
        self._last_trim = now
        cutoff = now - self.retention
        trimmed = 0
        with self._committed:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                # a log group's own retention (PutRetentionPolicy), shorter or longer than
                # the store's, which applies to the others
                own = self._conn.execute("SELECT function, days FROM log_retention").fetchall()
                for function, days in [*own, (None, None)]:
                    where, args = ("function = ? AND last_ts < ?",
                                   (function, now - int(days) * 86400)) if function else (
                        "last_ts < ? AND function NOT IN (SELECT function FROM log_retention)",
                        (cutoff,))
                    trimmed += self._delete_batches(where, args)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return trimmed

    def size(self) -> int:
        """Bytes the store's pages hold (its file's size less the pages free for reuse)."""
        conn = self._conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * self._page_size)

    def cap(self) -> int:
        """Over `max_bytes`: delete the oldest batches, of every function, down to _CAP_TO of
        it, and say so in the daemon's log (at most hourly); returns how many lines went.
        Keeps what it found in `used_bytes`, `dropped_lines` and `dropped_at` (`status`)."""
        dropped = 0
        with self._committed:
            for _ in range(8):  # batches differ in size: each pass estimates again
                used = self.size()
                if used <= self.max_bytes:
                    break
                first, last = self._conn.execute(
                    "SELECT MIN(id), MAX(id) FROM log_batches").fetchone()
                if first is None or first == last:
                    break  # the newest batch stays, whatever its size
                share = 1.0 - _CAP_TO * self.max_bytes / used
                cut = min(last, first + max(1, int((last - first + 1) * share)))
                step = max(1, -(-(cut - first) // _CAP_STEPS))
                for below in [*range(first + step, cut, step), cut]:
                    dropped += self._drop_below(below)
            else:  # eight passes, each with deletes: what the last one left
                used = self.size()
            self.used_bytes = used
        if dropped:
            self.dropped_lines += dropped
            self.dropped_at = time.time()
        now = time.monotonic()
        if dropped and now - self._capped_at > 3600:
            self._capped_at = now
            log.warning("the log store reached its cap of %g MB: its oldest %d lines were "
                        "dropped (ALOFT_LOG_MAX_MB sets the cap)", self.max_bytes / (1 << 20),
                        dropped)
        return dropped

    def status(self) -> dict[str, Any]:
        """The store's size against its cap at the flusher's last look (every 5 s), and what
        the cap dropped since the daemon started."""
        mb = 1 << 20
        return {"size_mb": round(self.used_bytes / mb, 2), "cap_mb": round(self.max_bytes / mb, 2),
                "dropped_by_cap": self.dropped_lines, "last_dropped": self.dropped_at}

    def _drop_below(self, cut: int) -> int:
        """Delete the batches whose id is below `cut`, in one transaction; their lines."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            dropped = self._delete_batches("id < ?", (cut,))
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return dropped

    def _delete_batches(self, where: str, args: tuple[Any, ...]) -> int:
        """Delete the batches `where` selects (in the caller's transaction); their lines."""
        row = self._conn.execute(
            f"SELECT COALESCE(SUM(count), 0) FROM log_batches WHERE {where}", args
        ).fetchone()
        self._conn.execute(f"DELETE FROM log_batches WHERE {where}", args)
        return int(row[0])

    def _max_id(self) -> int:
        row = self._conn.execute(
            "SELECT id, count FROM log_batches ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return 0 if row is None else (int(row[0]) << SHIFT) | (int(row[1]) - 1)

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
        before_id: int | None = None,
        filter_text: str | None = None,
        request_id: str | None = None,
        stream: str | None = None,
        limit: int = 1000,
        oldest_first: bool = False,
    ) -> list[LogRecord]:
        """Lines of `functions` (all if empty) newer than `since` and `after_id` whose text
        contains `filter_text` (case-insensitive) and, given `request_id`, of that one
        invocation, given `stream`, of that log stream, at most `limit` of them: the first ones
        (by id) after `after_id`, or with no `after_id` the most recent ones (before
        `before_id` if given; the first ones with `oldest_first`); fewer rather than part of an
        entry (the lines written at once), unless one entry has more. They are returned
        by time, so that the lines several functions wrote in one commit interleave; a
        follower's next cursor is the largest id returned."""
        newest_first = after_id == 0 and not oldest_first
        wanted = filter_text.lower() if filter_text else None
        records: list[LogRecord] = []
        before = (1 << 62) if before_id is None else before_id
        for row_id, function, lines in self._batches(functions, since, (after_id, before),
                                                     wanted, (request_id, stream), newest_first):
            found = [
                LogRecord(line_id, ts, function, version, rid, text, own)
                for line_id, ts, version, rid, text, own in _expand(row_id, lines)
                if after_id < line_id < before
                and (since is None or ts >= since)
                and (wanted is None or wanted in text.lower())
                and (request_id is None or rid == request_id)
                and (stream is None or own == stream)
            ]
            if newest_first:
                records[:0] = found
                if len(records) >= limit:
                    return _by_time(records[_entry_start(records, len(records) - limit):])
            else:
                records += found
                if len(records) >= limit:
                    return _by_time(records[:_entry_end(records, limit)])
        return _by_time(records)

    def _batches(
        self,
        functions: Sequence[str],
        since: float | None,
        ids: tuple[int, int],
        wanted: str | None,
        exact: tuple[str | None, str | None],
        newest_first: bool,
    ) -> Iterator[tuple[int, str, list[list[Any]]]]:
        """The batches that may hold wanted lines, in id order (or newest first): lines
        between `ids` (exclusive); `exact`: a request id and a stream that the lines must have
        (None: any)."""
        where = ["id >= ?", "id <= ?"]
        args: list[object] = [ids[0] >> SHIFT, ids[1] >> SHIFT]
        if functions:
            where.append(f"function IN ({','.join('?' * len(functions))})")
            args.extend(functions)
        if since is not None:
            where.append("last_ts >= ?")
            args.append(since)
        if wanted is not None and wanted.isascii() and not _JSON_ESCAPED.intersection(wanted):
            where.append("instr(lower(lines), ?) > 0")  # a quick look before parsing
            args.append(wanted)
        for value in exact:  # as a JSON string in the batch's text
            if value is not None and not _JSON_ESCAPED.intersection(value):
                where.append("instr(lines, ?) > 0")
                args.append(json.dumps(value, ensure_ascii=False))
        order = "DESC" if newest_first else "ASC"
        cur = self._reader().execute(
            f"SELECT id, function, lines FROM log_batches WHERE {' AND '.join(where)} "
            f"ORDER BY id {order}",
            args,
        )
        try:
            while rows := cur.fetchmany(16):
                for row in rows:
                    yield int(row[0]), str(row[1]), json.loads(row[2])
        finally:
            cur.close()

    # -- CloudWatch Logs' view (services/logs_api.py) ------------------------------------

    def functions(self) -> dict[str, tuple[float, int]]:
        """Each function with lines: (its first line's time, its lines' count)."""
        rows = self._reader().execute(
            "SELECT function, MIN(first_ts), SUM(count) FROM log_batches GROUP BY function")
        return {str(r[0]): (float(r[1]), int(r[2])) for r in rows}

    def streams(self, function: str) -> list[tuple[int, str | None, float, float, int]]:
        """A function's entries by version and log stream: (version, stream or None, first
        time, last time, entries)."""
        rows = self._reader().execute(
            "SELECT json_extract(j.value, '$[1]') AS v, json_extract(j.value, '$[4]') AS s, "
            "MIN(json_extract(j.value, '$[0]')), MAX(json_extract(j.value, '$[0]')), COUNT(*) "
            "FROM log_batches b, json_each(b.lines) j WHERE b.function = ? GROUP BY v, s "
            "ORDER BY v, s", (function,))
        return [(int(r[0]), None if r[1] is None else str(r[1]), float(r[2]), float(r[3]),
                 int(r[4])) for r in rows]

    def retentions(self) -> dict[str, int]:
        """Days of retention set per function (PutRetentionPolicy), over the store's own."""
        rows = self._reader().execute("SELECT function, days FROM log_retention")
        return {str(r[0]): int(r[1]) for r in rows}

    def set_retention(self, function: str, days: int | None) -> None:
        conn = self._reader()
        if days is None:
            conn.execute("DELETE FROM log_retention WHERE function = ?", (function,))
        else:
            conn.execute("INSERT INTO log_retention (function, days) VALUES (?, ?) ON CONFLICT "
                         "(function) DO UPDATE SET days = excluded.days", (function, days))

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


def _one_entry(a: LogRecord, b: LogRecord) -> bool:
    """Whether two lines, `b` the next by id, are of one entry (written at once: an invocation's
    END, REPORT and request line are one)."""
    return b.id == a.id + 1 and b.timestamp == a.timestamp and b.request_id == a.request_id


# A page of `limit` lines ends before an entry it would cut in two (unless that entry is the
# whole page): a follower that got a REPORT without the request line written with it would
# take the invocation for one that is not an HTTP request (aloft.cli.log_view).

def _entry_end(records: list[LogRecord], end: int) -> int:
    """`end`, or earlier, where no entry is cut."""
    cut = end
    while 0 < cut < len(records) and _one_entry(records[cut - 1], records[cut]):
        cut -= 1
    return cut or end


def _entry_start(records: list[LogRecord], start: int) -> int:
    """`start`, or later, where no entry is cut."""
    cut = start
    while 0 < cut < len(records) and _one_entry(records[cut - 1], records[cut]):
        cut += 1
    return cut if cut < len(records) else start


def _by_time(records: list[LogRecord]) -> list[LogRecord]:
    return sorted(records, key=lambda r: (r.timestamp, r.id))


def _encoded(
    row: tuple[str, float, float, int, list[Line]], *, ascii_only: bool
) -> tuple[str, float, float, int, str]:
    """A row's batch as JSON text: non-ASCII as is (smaller, and a filter can look for it),
    or everything escaped (what a line with a lone surrogate needs)."""
    function, first_ts, last_ts, count, entries = row
    text = json.dumps(entries, ensure_ascii=ascii_only, separators=(",", ":"))
    return function, first_ts, last_ts, count, text


def _batch_rows(batch: dict[str, list[Line]]) -> list[tuple[str, float, float, int, list[Line]]]:
    """Buffered entries as rows: (function, first ts, last ts, line count, entries), per
    function in order. An entry of several lines is stored whole and counted as its lines."""
    rows = []
    for function, entries in batch.items():
        # the lines of all entries at once (C speed): split only for more than a batch holds
        count = "\n".join([entry[3] for entry in entries]).count("\n") + 1
        if count <= _MAX_BATCH:
            rows.append((function, entries[0][0], entries[-1][0], count, entries))
            continue
        chunk: list[Line] = []
        count = 0
        for entry in entries:
            lines = entry[3].count("\n") + 1
            if count + lines > _MAX_BATCH and chunk:
                rows.append((function, chunk[0][0], chunk[-1][0], count, chunk))
                chunk, count = [], 0
            chunk.append(entry)
            count += lines
        rows.append((function, chunk[0][0], chunk[-1][0], count, chunk))
    return rows


def _expand(
    row_id: int, entries: list[list[Any]]
) -> Iterator[tuple[int, float, int, str | None, str, str | None]]:
    """A batch's lines with their ids: (id, ts, version, request id, text, stream). `entries`
    as JSON gives them back: lists, not the Line tuples written (compiled, this module checks
    what its annotations say)."""
    line_id = row_id << SHIFT
    for entry in entries:
        ts, version, rid, text = entry[:4]
        stream = entry[4] if len(entry) > 4 else None  # older entries have none
        for part in text.split("\n") if "\n" in text else (text,):
            yield line_id, ts, version, rid, part, stream
            line_id += 1


def _migrate_line_table(conn: sqlite3.Connection) -> None:
    """Logs written by aloft 0.1 (a row per line, table `logs`) move into batches once."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'logs'").fetchone() is None:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute("SELECT ts, function, version, request_id, text FROM logs ORDER BY id")
        while rows := cur.fetchmany(50_000):  # a week of logs need not fit in memory at once
            by_function: dict[str, list[Line]] = {}
            for r in rows:
                by_function.setdefault(str(r[1]), []).append(
                    (float(r[0]), int(r[2]), r[3], str(r[4]), None))
            for row in _batch_rows(by_function):  # text from SQLite holds no lone surrogate
                conn.execute(_INSERT, _encoded(row, ascii_only=False))
        conn.execute("DROP TABLE logs")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
