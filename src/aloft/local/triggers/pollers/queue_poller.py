"""SQS queue → function, as Lambda's event source mapping does it: long polling, batches of
`batch_size` messages gathered for at most `window` seconds, one synchronous invocation per
batch, processed messages deleted. A failed message is left alone: it becomes visible again
after the queue's visibility timeout, and the queue's redrive policy moves it to its
dead-letter queue after maxReceiveCount receives."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aloft.local.triggers.pollers.clients import LONG_POLL_SECONDS
from aloft.local.triggers.pollers.decisions import batch_due, parallel_batches, receive_size, settle
from aloft.local.triggers.pollers.lambda_events import encode, sqs_event
from aloft.local.triggers.pollers.poller import Poller

NO_FUNCTION_WAIT = 1.0


class QueuePoller(Poller):
    url = ""
    arn = ""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._fifo = self.binding.source.endswith(".fifo")
        self._deliveries: set[asyncio.Task[None]] = set()

    async def setup(self) -> None:
        self.url, self.arn = await self.call(self.clients.queue, self.binding.source)

    def parallel(self) -> int:
        """Batches allowed in flight: never more than the function's reserved concurrency
        (more would only be throttled, and a throttled batch counts as a failed receive)."""
        fv = self.function()
        return parallel_batches(self._fifo, fv.concurrency if fv is not None else None)

    async def cycle(self) -> None:
        """Gather a batch while earlier ones are being processed (up to `parallel()`)."""
        while len(self._deliveries) >= max(1, self.parallel()):
            await asyncio.wait(set(self._deliveries), return_when=asyncio.FIRST_COMPLETED)
        if self.parallel() < 1:  # concurrency 0: the function is disabled, leave the queue be
            await asyncio.sleep(NO_FUNCTION_WAIT)
            return
        batch = await self.gather()
        if not batch:
            return
        self.status.received += len(batch)
        task = asyncio.create_task(self.deliver(batch))
        self._deliveries.add(task)
        task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        self._deliveries.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.status.state, self.status.last_error = "error", str(task.exception())

    async def drain(self, timeout: float) -> None:
        """Let batches in flight finish (their messages get deleted), then cancel the rest:
        those messages come back after the visibility timeout."""
        if self._deliveries:
            _, late = await asyncio.wait(set(self._deliveries), timeout=timeout)
            for task in late:
                task.cancel()

    async def gather(self) -> list[dict[str, Any]]:
        """One batch: long-poll until something arrives, then until the batch is full or the
        window is over. Empty when a long poll found nothing."""
        b = self.binding
        batch: list[dict[str, Any]] = []
        started = 0.0
        try:
            while True:
                waited = time.monotonic() - started if batch else 0.0
                wait = LONG_POLL_SECONDS if not batch else max(0.0, b.window - waited)
                messages = await self.call(
                    self.receive, self.url,
                    MaxNumberOfMessages=receive_size(b.batch_size, len(batch)),
                    WaitTimeSeconds=min(LONG_POLL_SECONDS, int(wait + 0.999)),
                    AttributeNames=["All"], MessageAttributeNames=["All"],
                )
                self.status.last_poll = time.time()
                if messages and not batch:
                    started = time.monotonic()
                batch.extend(messages)
                if not batch or batch_due(len(batch), b.batch_size,
                                          time.monotonic() - started, b.window):
                    return batch
        except asyncio.CancelledError:
            self.release_later(self.url, batch)  # stopped mid-window: let others have them
            raise

    async def deliver(self, batch: list[dict[str, Any]]) -> None:
        fv = self.function()
        if fv is None:  # the function went away: the messages come back after the timeout
            self.status.failed += len(batch)
            await asyncio.sleep(NO_FUNCTION_WAIT)
            return
        self.status.invocations += 1
        result = await self.invoke(fv, encode(sqs_event(batch, self.arn)))
        ids = [m["MessageId"] for m in batch]
        verdict = settle(ids, result.status == "ok", result.payload,
                         partial_failures=self.binding.partial_failures)
        done = set(verdict.succeeded)
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                   for i, m in enumerate(batch) if m["MessageId"] in done]
        for start in range(0, len(entries), 10):
            await self.call(self.clients.sqs.delete_message_batch, QueueUrl=self.url,
                            Entries=entries[start:start + 10])
        self.status.state = "polling"
        self.status.succeeded += len(verdict.succeeded)
        self.status.failed += len(verdict.failed)
        if verdict.failed:
            self.status.last_error = f"{len(verdict.failed)} message(s) failed: {result.status}"
