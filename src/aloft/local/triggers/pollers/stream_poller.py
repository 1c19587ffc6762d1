"""DynamoDB stream or Kinesis stream → function, as Lambda reads a stream: each shard in order,
batches of up to `batch_size` records (gathered for at most `window` seconds), one synchronous
invocation per batch. A failed batch is retried (with backoff) until it succeeds, the shard
waiting behind it; with partial failures, the records before the first failed one are
checkpointed and reading resumes at it. Checkpoints are in state.db, so a restart resumes
after the last record done."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from aloft.local.triggers.pollers.checkpoints import START_OF_SHARD
from aloft.local.triggers.pollers.decisions import batch_due, retry_delay, settle, stream_step
from aloft.local.triggers.pollers.lambda_events import encode
from aloft.local.triggers.pollers.poller import Poller
from aloft.local.triggers.pollers.stream_apis import DynamoDbStreams, KinesisStreams, ShardApi

POLL_INTERVAL = 0.25  # seconds between reads of a shard that had nothing (Lambda: 4 per second)
REDESCRIBE_EVERY = 30.0  # seconds between looks for new shards
READ_LIMIT = 1000  # records per GetRecords call, at most


@dataclass
class Shard:
    shard_id: str
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, not yet processed
    attempts: int = 0  # failed invocations of the batch at the head of `pending`
    not_before: float = 0.0


class StreamPoller(Poller):
    stream_arn = ""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.api: ShardApi = (KinesisStreams(self.clients) if self.binding.stream_type == "kinesis"
                              else DynamoDbStreams(self.clients))
        self.shards: dict[str, Shard] = {}
        self._described = 0.0

    def _checkpoint_key(self, shard_id: str) -> str:
        return f"{self.stream_arn}|{shard_id}"

    async def setup(self) -> None:
        self.stream_arn = await self.call(self.api.resolve, self.binding.source)
        self.shards = {}
        await self.call(self._describe)

    def _describe(self) -> None:
        """Open an iterator on every shard not read yet: after its checkpoint, or at the
        binding's starting position the first time."""
        for sid in self.api.shards(self.stream_arn):
            if sid in self.shards:
                continue
            key = self._checkpoint_key(sid)
            seq = self.deps.checkpoints.get(self.binding.key, key)
            if seq is None and self.binding.starting_position == "LATEST":
                seq = self._latest(sid)
                self.deps.checkpoints.put(self.binding.key, key, seq)
            if seq is None or seq == START_OF_SHARD:
                it = self.api.iterator(self.stream_arn, sid, "TRIM_HORIZON")
            else:
                it = self.api.iterator(self.stream_arn, sid, "AFTER_SEQUENCE_NUMBER", seq)
            self.shards[sid] = Shard(sid, it)
        self._described = time.monotonic()

    def _latest(self, shard_id: str) -> str:
        """The newest record's sequence number now (START_OF_SHARD when there is none): stored
        as the first checkpoint, so that LATEST means "from when the binding was created" even
        across a restart, and records written while the platform was down are not skipped."""
        it: str | None = self.api.iterator(self.stream_arn, shard_id, "TRIM_HORIZON")
        last = START_OF_SHARD
        while it:
            records, it = self.api.records(it, READ_LIMIT)
            if not records:
                break
            last = self.api.sequence(records[-1])
        return last

    async def cycle(self) -> None:
        if time.monotonic() - self._described > REDESCRIBE_EVERY:
            await self.call(self._describe)
        busy = False
        for shard in list(self.shards.values()):
            busy = await self._shard_cycle(shard) or busy
        if not busy:
            await asyncio.sleep(POLL_INTERVAL)

    async def _read(self, shard: Shard) -> None:
        if shard.iterator is None:
            return
        records, shard.iterator = await self.call(  # None: the shard is closed and read
            self.api.records, shard.iterator, min(READ_LIMIT, self.binding.batch_size))
        shard.pending.extend(records)
        self.status.received += len(records)

    async def _shard_cycle(self, shard: Shard) -> bool:
        """Read and process one batch of a shard; False when there was nothing to do."""
        b = self.binding
        if time.monotonic() < shard.not_before:
            return False
        started = time.monotonic()
        if len(shard.pending) < b.batch_size:
            await self._read(shard)
            while (shard.pending and shard.iterator is not None
                   and not batch_due(len(shard.pending), b.batch_size,
                                     time.monotonic() - started, b.window)):
                await asyncio.sleep(POLL_INTERVAL)
                await self._read(shard)
        self.status.last_poll = time.time()
        if not shard.pending:
            return False
        fv = self.function()
        if fv is None:
            shard.not_before = time.monotonic() + 1.0
            return False
        batch = shard.pending[:b.batch_size]
        seqs = [self.api.sequence(r) for r in batch]
        self.status.invocations += 1
        event = self.api.event(batch, self.stream_arn, shard.shard_id)
        result = await self.invoke(fv, encode(event))
        verdict = settle(seqs, result.status == "ok", result.payload,
                         partial_failures=b.partial_failures)
        step = stream_step(seqs, verdict)
        if step.checkpoint is not None:
            await self.call(self.deps.checkpoints.put, b.key, self._checkpoint_key(shard.shard_id),
                            step.checkpoint)
        done = len(batch) if step.retry_from is None else step.retry_from
        self.status.succeeded += done
        del shard.pending[:done]
        if step.retry_from is None:
            shard.attempts = 0
            self.status.state = "polling"
            return True
        shard.attempts += 1
        self.status.failed += len(batch) - done
        self.status.last_error = (f"batch of {len(batch) - done} record(s) failed "
                                  f"({result.status}); retry {shard.attempts}")
        shard.not_before = time.monotonic() + retry_delay(shard.attempts)
        return False

    async def teardown(self) -> None:
        await self.call(self.deps.checkpoints.forget, self.binding.key)
