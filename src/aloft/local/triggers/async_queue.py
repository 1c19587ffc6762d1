"""Durable asynchronous invocations (Invoke with Event, `invoke --async`, `@task`, schedules).

An event is accepted only once its row is committed to SQLite; a writer thread groups the rows
of concurrent callers into one transaction (batched commits), so durability costs one commit per
batch, not per event. Workers (asyncio tasks) run events through the instance pool; a failure is
retried `max_retries` times with exponential backoff, an event older than its `max_age` or out of
retries moves to the dead-letter queue (`status = 'dead'`), which can be re-driven. A row is
deleted only after its invocation finished, so after a crash (kill -9) every accepted event that
was not finished (queued, waiting for a retry or in progress) is loaded again and processed.

The retry policy is pure (`after_failure`); the queue is the shell around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import queue
import sqlite3
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from aloft.local.store.state import connect
from aloft.local.types import InvokeResult

log = logging.getLogger("aloft.local.asyncq")

DEFAULT_BACKOFF = 1.0
"""Seconds before the first retry; doubled for each next one (Lambda waits 1 and 2 minutes; a
local cloud serves development, so its default is seconds: ALOFT_ASYNC_BACKOFF changes it)."""
THROTTLE_DELAY = 0.05
"""A throttled event waits this long and does not spend a retry (as on Lambda)."""


@dataclass(frozen=True)
class AsyncEvent:
    id: str
    function: str  # physical name
    qualifier: str | None  # alias (stage) or version; None: the stage alias
    payload: bytes
    max_retries: int
    max_age: int  # seconds
    created: float
    attempts: int = 0
    not_before: float = 0.0
    status: Literal["queued", "dead"] = "queued"
    last_error: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "function": self.function, "qualifier": self.qualifier,
            "attempts": self.attempts, "created": self.created, "status": self.status,
            "error": self.last_error, "payload": self.payload.decode("utf-8", "replace"),
        }


# --------------------------------------------------------------------------- pure policy


def retry_delay(attempts: int, backoff: float) -> float:
    """Delay before retry number `attempts` (1-based): backoff, 2 * backoff, 4 * backoff..."""
    return backoff * float(2 ** max(0, attempts - 1))


Outcome = Literal["done", "retry", "dead"]


def after_failure(
    event: AsyncEvent, status: str, error: str, now: float, backoff: float
) -> tuple[Outcome, AsyncEvent]:
    """What happens to `event` after an invocation ending in `status` (not "ok")."""
    if status == "throttled":
        if now + THROTTLE_DELAY - event.created > event.max_age:
            return "dead", replace(event, status="dead", last_error=f"{error} (event expired)")
        return "retry", replace(event, not_before=now + THROTTLE_DELAY, last_error=error)
    attempts = event.attempts + 1
    failed = replace(event, attempts=attempts, last_error=error)
    if attempts > event.max_retries:
        return "dead", replace(failed, status="dead")
    not_before = now + retry_delay(attempts, backoff)
    if not_before - event.created > event.max_age:
        return "dead", replace(failed, status="dead", last_error=f"{error} (event expired)")
    return "retry", replace(failed, not_before=not_before)


def is_expired(event: AsyncEvent, now: float) -> bool:
    return now - event.created > event.max_age


# --------------------------------------------------------------------------- the writer


@dataclass
class _Op:
    sql: str
    args: Any  # one parameter tuple, or a list of them when `many`
    done: asyncio.Future[None] | None = None
    many: bool = False


class _BatchWriter:
    """One thread, one connection: runs queued statements in as few transactions as it can."""

    _STOP = _Op("", ())

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop, max_batch: int = 2000):
        self.path = path
        self.loop = loop
        self.max_batch = max_batch
        self.ops: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="aloft-asyncq-writer", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.ops.put(self._STOP)
        self.thread.join(timeout=10)

    def submit(self, sql: str, args: tuple[Any, ...], *, wait: bool) -> asyncio.Future[None] | None:
        fut: asyncio.Future[None] | None = self.loop.create_future() if wait else None
        self.ops.put(_Op(sql, args, fut))
        return fut

    def submit_many(
        self, sql: str, rows: list[tuple[Any, ...]], done: asyncio.Future[None] | None
    ) -> None:
        self.ops.put(_Op(sql, rows, done, many=True))

    def _run(self) -> None:
        conn = connect(self.path)
        stopping = False
        while not stopping:
            batch = [self.ops.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.ops.get_nowait())
                except queue.Empty:
                    break
            if any(op is self._STOP for op in batch):
                stopping = True
                batch = [op for op in batch if op is not self._STOP]
            if not batch:
                continue
            error: BaseException | None = None
            try:
                conn.execute("BEGIN IMMEDIATE")
                for op in batch:
                    if op.many:
                        conn.executemany(op.sql, op.args)
                    else:
                        conn.execute(op.sql, op.args)
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                error = exc
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                log.error("async queue write failed: %s", exc)
            futures = [op.done for op in batch if op.done is not None]
            if futures:
                self.loop.call_soon_threadsafe(_resolve, futures, error)
        conn.close()


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in futures:
        if fut.done():
            continue
        if error is None:
            fut.set_result(None)
        else:
            fut.set_exception(error)


# --------------------------------------------------------------------------- the queue

_INSERT = (
    "INSERT INTO async_events (id, function, qualifier, payload, status, attempts, max_retries, "
    "max_age, created, not_before, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


Runner = Callable[[AsyncEvent], Awaitable[InvokeResult | None]]
"""Runs one event; returns None when its function no longer exists."""
Condition = Literal["Success", "RetriesExhausted", "EventAgeExceeded"]
OutcomeHook = Callable[[AsyncEvent, "InvokeResult | None", Condition], Awaitable[None]]
"""Told of an event's end: `Success`, `RetriesExhausted` or `EventAgeExceeded` (with its last
attempt's result, None when it never ran): Lambda's destinations (triggers/destinations.py)."""


class AsyncQueue:
    def __init__(
        self,
        db_path: Path,
        run: Runner,
        *,
        workers: int = 16,
        backoff: float = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.time,
        on_outcome: OutcomeHook | None = None,
    ):
        self.db_path = db_path
        self.run = run
        self.on_outcome = on_outcome
        self.workers = workers
        self.backoff = backoff
        self.clock = clock
        self.processed = 0
        self.failed = 0
        self._ready: asyncio.Queue[AsyncEvent] = asyncio.Queue()
        self._delayed: list[tuple[float, int, AsyncEvent]] = []
        self._seq = 0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._writer: _BatchWriter | None = None
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._inserts: list[tuple[Any, ...]] = []
        self._insert_done: asyncio.Future[None] | None = None
        self._deletes: list[tuple[Any, ...]] = []

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> int:
        """Start the writer and workers; load every unfinished event. Returns how many."""
        loop = asyncio.get_running_loop()
        self._writer = _BatchWriter(self.db_path, loop)
        self._writer.start()
        pending, self._seq = await asyncio.to_thread(self._load_pending)
        for event in pending:
            self._schedule(event)
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.workers)]
        self._tasks.append(asyncio.create_task(self._timer()))
        return len(pending)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._writer is not None:
            await asyncio.to_thread(self._writer.stop)

    def _load_pending(self) -> tuple[list[AsyncEvent], int]:
        """Unfinished events in the order they were accepted, and the last sequence number."""
        conn = connect(self.db_path)
        try:
            rows = conn.execute(
                "SELECT * FROM async_events WHERE status = 'queued' ORDER BY seq, created"
            ).fetchall()
            last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM async_events").fetchone()[0]
            return [_event(r) for r in rows], int(last)
        finally:
            conn.close()

    # -- accepting --------------------------------------------------------------

    async def enqueue(
        self,
        function: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        max_retries: int = 2,
        max_age: int = 21600,
        event_id: str | None = None,
    ) -> str:
        """Durably queue an invocation; returns its id once committed."""
        assert self._writer is not None, "AsyncQueue.start() first"
        now = self.clock()
        self._seq += 1
        event = AsyncEvent(
            id=event_id or str(uuid.uuid4()), function=function, qualifier=qualifier,
            payload=payload, max_retries=max_retries, max_age=max_age, created=now,
            not_before=now,
        )
        # Rows queued in the same turn of the event loop go to the writer as one operation.
        if self._insert_done is None:
            self._insert_done = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_soon(self._flush_inserts)
        done = self._insert_done
        self._inserts.append((event.id, function, qualifier, payload, "queued", 0, max_retries,
                              max_age, now, now, self._seq))
        await asyncio.shield(done)
        self._schedule(event)
        return event.id

    def _flush_inserts(self) -> None:
        assert self._writer is not None
        rows, done = self._inserts, self._insert_done
        self._inserts, self._insert_done = [], None
        self._writer.submit_many(_INSERT, rows, done)

    def _delete(self, event_id: str) -> None:
        """Forget a finished event; deletes of one loop turn go to the writer together."""
        if not self._deletes:
            asyncio.get_running_loop().call_soon(self._flush_deletes)
        self._deletes.append((event_id,))

    def _flush_deletes(self) -> None:
        assert self._writer is not None
        rows, self._deletes = self._deletes, []
        self._writer.submit_many("DELETE FROM async_events WHERE id = ?", rows, None)

    def _schedule(self, event: AsyncEvent) -> None:
        self._idle.clear()
        if event.not_before <= self.clock():
            self._ready.put_nowait(event)
        else:
            self._seq += 1
            heapq.heappush(self._delayed, (event.not_before, self._seq, event))
            self._wake.set()

    # -- processing ---------------------------------------------------------------

    async def _timer(self) -> None:
        """Moves delayed events (retries) to the ready queue when they are due."""
        while True:
            now = self.clock()
            while self._delayed and self._delayed[0][0] <= now:
                self._ready.put_nowait(heapq.heappop(self._delayed)[2])
            timeout = min(self._delayed[0][0] - now, 1.0) if self._delayed else 1.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(timeout, 0.005))

    async def _worker(self) -> None:
        while True:
            event = await self._ready.get()
            self._inflight += 1
            try:
                await self._process(event)
            except Exception:  # a bug here must not kill the worker; the event stays queued
                log.exception("async event %s failed to process", event.id)
                self._schedule(replace(event, not_before=self.clock() + self.backoff))
            finally:
                self._inflight -= 1
                if self._inflight == 0 and self._ready.empty() and not self._delayed:
                    self._idle.set()

    async def _process(self, event: AsyncEvent) -> None:
        assert self._writer is not None
        now = self.clock()
        # The outcome is told before the event's row changes: a crash between the two runs the
        # event again (as Lambda may) rather than losing its destination's record.
        if is_expired(event, now):
            await self._outcome(event, None, "EventAgeExceeded")
            self._dead(replace(event, status="dead", last_error="event expired before it ran"))
            return
        result = await self.run(event)
        if result is None:
            self._dead(replace(event, status="dead", last_error="function not found"))
            return
        if result.status == "ok":
            await self._outcome(event, result, "Success")
            self.processed += 1
            self._delete(event.id)
            return
        error = _error_text(result)
        outcome, after = after_failure(event, result.status, error, self.clock(), self.backoff)
        if outcome == "dead":
            expired = (after.last_error or "").endswith("(event expired)")
            await self._outcome(after, result, "EventAgeExceeded" if expired
                                else "RetriesExhausted")
            self._dead(after)
            return
        self._writer.submit(
            "UPDATE async_events SET attempts = ?, not_before = ?, last_error = ? WHERE id = ?",
            (after.attempts, after.not_before, after.last_error, event.id),
            wait=False,
        )
        self._schedule(after)

    async def _outcome(self, event: AsyncEvent, result: InvokeResult | None,
                       condition: Condition) -> None:
        if self.on_outcome is None:
            return
        try:
            await self.on_outcome(event, result, condition)
        except Exception:  # a bug there must not run the event again
            log.exception("telling the outcome of async event %s failed", event.id)

    def _dead(self, event: AsyncEvent) -> None:
        assert self._writer is not None
        self.failed += 1
        log.warning("async event %s for %s moved to the dead-letter queue: %s",
                    event.id, event.function, event.last_error)
        self._writer.submit(
            "UPDATE async_events SET status = 'dead', attempts = ?, last_error = ? WHERE id = ?",
            (event.attempts, event.last_error, event.id),
            wait=False,
        )

    async def drain(self, timeout: float) -> bool:
        """Wait until nothing is ready, delayed or running (tests and benchmarks)."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    # -- dead-letter queue ---------------------------------------------------------

    async def flush(self) -> None:
        """Wait until every write submitted so far is committed."""
        assert self._writer is not None
        fut = self._writer.submit("SELECT 1", (), wait=True)
        assert fut is not None
        await fut

    async def dead(self, functions: Sequence[str]) -> list[AsyncEvent]:
        await self.flush()
        return await asyncio.to_thread(self._select, functions, "dead")

    async def pending_count(self, functions: Sequence[str]) -> int:
        await self.flush()
        return len(await asyncio.to_thread(self._select, functions, "queued"))

    def _select(self, functions: Sequence[str], status: str) -> list[AsyncEvent]:
        if not functions:
            return []
        conn = connect(self.db_path)
        try:
            marks = ",".join("?" * len(functions))
            rows = conn.execute(
                f"SELECT * FROM async_events WHERE status = ? AND function IN ({marks}) "
                "ORDER BY created",
                (status, *functions),
            ).fetchall()
            return [_event(r) for r in rows]
        finally:
            conn.close()

    async def redrive(self, functions: Sequence[str], ids: Sequence[str] = ()) -> list[str]:
        """Queue dead events again (all of `functions`', or only `ids`) with fresh retries."""
        assert self._writer is not None
        chosen = [e for e in await self.dead(functions) if not ids or e.id in ids]
        now = self.clock()
        futures = []
        for event in chosen:
            fut = self._writer.submit(
                "UPDATE async_events SET status = 'queued', attempts = 0, created = ?, "
                "not_before = ?, last_error = NULL WHERE id = ?",
                (now, now, event.id),
                wait=True,
            )
            assert fut is not None
            futures.append(fut)
        await asyncio.gather(*futures)
        for event in chosen:
            self._schedule(replace(event, status="queued", attempts=0, created=now,
                                   not_before=now, last_error=None))
        return [e.id for e in chosen]


def _event(row: sqlite3.Row) -> AsyncEvent:
    return AsyncEvent(
        id=row["id"], function=row["function"], qualifier=row["qualifier"],
        payload=bytes(row["payload"]), max_retries=row["max_retries"], max_age=row["max_age"],
        created=row["created"], attempts=row["attempts"], not_before=row["not_before"],
        status=row["status"], last_error=row["last_error"],
    )


def _error_text(result: InvokeResult) -> str:
    import json

    try:
        data = json.loads(result.payload)
        if isinstance(data, dict) and "errorMessage" in data:
            return f"{data.get('errorType', result.status)}: {data['errorMessage']}"
    except ValueError:
        pass
    return f"{result.status}: {result.payload[:500].decode('utf-8', 'replace')}"
