"""The rules of Lambda's event source mappings, as pure functions over plain data: when a batch
is complete, which messages a result settles, where a stream's checkpoint moves, how long to
wait before a retry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

SQS_MAX_RECEIVE = 10  # ReceiveMessage returns at most ten messages per call


def batch_due(count: int, batch_size: int, waited: float, window: float) -> bool:
    """A batch is handed to the function when it is full, or when it has something and the
    batching window is over (no window: as soon as anything arrived)."""
    return count >= batch_size or (count > 0 and waited >= window)


def receive_size(batch_size: int, have: int) -> int:
    return max(1, min(SQS_MAX_RECEIVE, batch_size - have))


PARALLEL_BATCHES = 5
"""Batches of one queue in flight at once: Lambda starts with five pollers per queue."""


def parallel_batches(fifo: bool, concurrency: int | None) -> int:
    """How many batches of a queue may be in flight: one for a FIFO queue (its order), never
    more than the function's reserved concurrency (more would be throttled, and a throttled
    batch spends a receive); 0 when the function is disabled (`concurrency: 0`)."""
    limit = 1 if fifo else PARALLEL_BATCHES
    return limit if concurrency is None else max(0, min(limit, concurrency))


@dataclass(frozen=True)
class Verdict:
    """Which items of a batch succeeded and which must be retried (ids in batch order)."""

    succeeded: tuple[str, ...]
    failed: tuple[str, ...]


def settle(
    ids: Sequence[str], ok: bool, payload: bytes, *, partial_failures: bool
) -> Verdict:
    """The outcome of one invocation for the items of its batch, as Lambda decides it.

    A function error fails the whole batch. With ReportBatchItemFailures, an ok result with
    `batchItemFailures` fails only the items named; an empty or null list (or no response) is a
    complete success; an invalid response or an identifier that is empty or not in the batch
    fails the whole batch."""
    everything = tuple(ids)
    if not ok:
        return Verdict((), everything)
    if not partial_failures:
        return Verdict(everything, ())
    failed = batch_item_failures(payload, everything)
    if failed is None:
        return Verdict((), everything)
    return Verdict(tuple(i for i in everything if i not in failed),
                   tuple(i for i in everything if i in failed))


def batch_item_failures(payload: bytes, ids: Sequence[str]) -> set[str] | None:
    """The ids named in a `{"batchItemFailures": [{"itemIdentifier": id}]}` response; None when
    the response makes the whole batch a failure."""
    if not payload.strip():
        return set()
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if data is None:
        return set()
    if not isinstance(data, dict):
        return set()  # any other return value (a string, a list): no failure reported
    items = data.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    known = set(ids)
    failed: set[str] = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not ident or str(ident) not in known:
            return None
        failed.add(str(ident))
    return failed


@dataclass(frozen=True)
class StreamStep:
    """Where a shard's reader goes after a batch: the sequence number to checkpoint (None:
    unchanged) and the index in the batch to read again from (None: the batch is done)."""

    checkpoint: str | None
    retry_from: int | None


def stream_step(sequence_numbers: Sequence[str], verdict: Verdict) -> StreamStep:
    """Records of a shard are processed in order: a failure stops the shard at the first failed
    record; the records before it are checkpointed, it and the rest are read again."""
    if not verdict.failed:
        return StreamStep(sequence_numbers[-1] if sequence_numbers else None, None)
    failed = set(verdict.failed)
    first = next(i for i, seq in enumerate(sequence_numbers) if seq in failed)
    return StreamStep(sequence_numbers[first - 1] if first > 0 else None, first)


def retry_delay(attempt: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds before retrying a failed stream batch: doubling from `base`, at most `cap`."""
    return float(min(cap, base * (2 ** max(0, attempt - 1))))
