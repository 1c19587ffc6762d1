"""The stage's failure queue on AWS (`aloft dlq` on an aws stage).

Every function's asynchronous invocations send the events that failed every retry (or grew
older than `max_event_age`) to the stage's SQS queue `{service}-{stage}-aloft-failed`, as
Lambda's on-failure destination: one invocation record per event (Lambda's JSON: the request
context, the event as `requestPayload`, the function's error as `responsePayload`). Listing
reads the queue without consuming it (each message read is made visible again after the walk);
re-driving invokes the function's stage alias asynchronously with the event, then deletes
the message, so an event is never lost between the two. A message's id is SQS's MessageId.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from aloft.aws.client import AwsClient
from aloft.provider import DeadLetter

MAX_READS = 100
"""Receive calls per listing (10 messages each): a listing shows at most ~1,000 events."""
REDRIVE_VISIBILITY = 60
"""Seconds a message being re-driven is hidden from another `aloft dlq` run."""


def dead_letter(message: dict[str, Any]) -> DeadLetter:
    """One SQS message of the failure queue as a dead letter (a body that is not Lambda's
    invocation record is shown as it is, with no function)."""
    body = str(message.get("Body") or "")
    try:
        record = json.loads(body)
    except ValueError:
        record = None
    if not isinstance(record, dict) or "requestContext" not in record:
        return DeadLetter(str(message["MessageId"]), "", None, 0, _sent(message), "dead",
                          "not a Lambda invocation record", body)
    context = record.get("requestContext") or {}
    function, _, qualifier = str(context.get("functionArn", "")).partition(
        ":function:")[2].partition(":")
    return DeadLetter(
        id=str(message["MessageId"]), function=function, qualifier=qualifier or None,
        attempts=int(context.get("approximateInvokeCount") or 0),
        created=_time(record.get("timestamp")) or _sent(message),
        status="dead", error=_error(record),
        payload=json.dumps(record.get("requestPayload")),
    )


def _error(record: dict[str, Any]) -> str | None:
    condition = (record.get("requestContext") or {}).get("condition")
    if condition == "EventAgeExceeded":
        return "the event grew older than max_event_age before it could run"
    answer = record.get("responsePayload")
    if isinstance(answer, dict) and (answer.get("errorMessage") or answer.get("errorType")):
        kind, text = answer.get("errorType"), answer.get("errorMessage")
        return f"{kind}: {text}" if kind and text else str(kind or text)
    function_error = (record.get("responseContext") or {}).get("functionError")
    return str(function_error or condition) if function_error or condition else None


def _time(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _sent(message: dict[str, Any]) -> float:
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return int(sent) / 1000.0 if sent else 0.0


class FailureQueue:
    """The stage's failure queue, through the client façade."""

    def __init__(self, aws: AwsClient, queue: str, stage: str) -> None:
        self.aws, self.queue, self.stage = aws, queue, stage

    def _url(self) -> str | None:
        got = self.aws.find("sqs", "get_queue_url", QueueName=self.queue)
        return None if got is None else str(got["QueueUrl"])

    def _messages(self, url: str, visibility: int) -> Iterator[dict[str, Any]]:
        """Each message once, hidden for `visibility` seconds while the queue is walked (a
        receive answers at most 10; SQS's short polls may answer none while some are left:
        two empty answers in a row end the walk)."""
        seen: set[str] = set()
        empty = 0
        for _ in range(MAX_READS):
            got = self.aws.call("sqs", "receive_message", QueueUrl=url,
                                MaxNumberOfMessages=10, VisibilityTimeout=visibility,
                                WaitTimeSeconds=0, AttributeNames=["SentTimestamp"])
            batch = [m for m in got.get("Messages", ()) if m["MessageId"] not in seen]
            empty = 0 if batch else empty + 1
            if empty == 2:
                return
            for m in batch:
                seen.add(m["MessageId"])
                yield m

    def read(self) -> list[DeadLetter]:
        """The events, oldest first; the queue is left as it was (every message visible)."""
        url = self._url()
        if url is None:
            return []
        messages = list(self._messages(url, REDRIVE_VISIBILITY))
        self._release(url, messages)
        return sorted((dead_letter(m) for m in messages), key=lambda e: e.created)

    def redrive(self, ids: Sequence[str] = ()) -> list[str]:
        """Invoke each event's function again (asynchronously, at the stage alias: it has its
        retries and this queue again), then delete its message; the ids re-driven. A message
        that is not an invocation record is left for the user to read."""
        url = self._url()
        if url is None:
            return []
        done: list[str] = []
        keep: list[dict[str, Any]] = []
        for m in list(self._messages(url, REDRIVE_VISIBILITY)):
            event = dead_letter(m)
            if (ids and event.id not in ids) or not event.function:
                keep.append(m)
                continue
            self.aws.call("lambda", "invoke", FunctionName=event.function,
                          Qualifier=self.stage, InvocationType="Event",
                          Payload=event.payload.encode())
            self.aws.call("sqs", "delete_message", QueueUrl=url,
                          ReceiptHandle=m["ReceiptHandle"])
            done.append(event.id)
        self._release(url, keep)
        return done

    def _release(self, url: str, messages: list[dict[str, Any]]) -> None:
        """Make messages visible again at once (once the walk is over: a message visible
        again during it would be received again instead of the next ones)."""
        for i in range(0, len(messages), 10):
            self.aws.call("sqs", "change_message_visibility_batch", QueueUrl=url, Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for n, m in enumerate(messages[i:i + 10])])
