"""Lambda's destinations for asynchronous invocations on the local cloud: once an event has run
(`Success`) or failed for good (`RetriesExhausted`, `EventAgeExceeded`), its invocation record
goes to the function's `destinations.on_success` / `on_failure`: another function (an async
invocation of it), a queue, a topic (through the local AWS endpoint) or an event bus (its
rules, as PutEvents would). The record is Lambda's: version 1.0, the request's context and
payload, the response's context and payload. A failed event itself goes to the function's
`dead_letter` queue or topic (Lambda's DeadLetterConfig), as it was sent, with the request id,
error code and message as message attributes.

A record that cannot be delivered (the target is gone) is logged and dropped, as Lambda drops
it; the event itself has run, or sits in the dead-letter list (`aloft dlq`) either way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aloft.local.services.account import ACCOUNT_ID, REGION
from aloft.local.triggers.async_queue import AsyncEvent, Condition
from aloft.local.types import InvokeResult

log = logging.getLogger(__name__)

Targets = Callable[[str], tuple[str | None, ...]]
"""physical function -> (on_success, on_failure, dead_letter) ARNs, from the deployments."""
Enqueue = Callable[[str, bytes], Awaitable[None]]
"""An async invocation of a function (physical name) with a payload."""
PutEvents = Callable[[dict[str, Any]], Awaitable[None]]
"""EventBridge's PutEvents body, matched against the deployments' rules."""


def _json(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode(errors="replace")


def invocation_record(event: AsyncEvent, result: InvokeResult | None, condition: Condition,
                      now: datetime) -> dict[str, Any]:
    """Lambda's invocation record of `event` (`result`: its last attempt's, None when it never
    ran)."""
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": event.id,
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{event.function}:"
                           f"{event.qualifier or '$LATEST'}",
            "condition": condition,
            "approximateInvokeCount": event.attempts + (1 if condition == "Success" else 0),
        },
        "requestPayload": _json(event.payload),
    }
    if result is not None:
        context: dict[str, Any] = {"statusCode": 200,
                                   "executedVersion": str(result.version or "$LATEST")}
        if result.status != "ok":
            context["functionError"] = "Unhandled"
        record["responseContext"] = context
        record["responsePayload"] = _json(result.payload)
    return record


class Destinations:
    def __init__(self, targets: Targets, enqueue: Enqueue, put_events: PutEvents,
                 aws: Callable[[str], Any] | None) -> None:
        """`aws`: a boto3 client of the local endpoint for a service name (None: no endpoint,
        so no queue or topic target)."""
        self.targets = targets
        self.enqueue = enqueue
        self.put_events = put_events
        self.aws = aws
        self.delivered = 0

    async def deliver(self, event: AsyncEvent, result: InvokeResult | None,
                      condition: Condition) -> None:
        on_success, on_failure, dead_letter = self.targets(event.function)
        if dead_letter and condition != "Success":
            try:
                await asyncio.to_thread(self._dead_letter, dead_letter, event, result)
            except Exception as exc:
                log.warning("async event %s (%s) could not reach its dead-letter target %s: %s",
                            event.id, event.function, dead_letter, exc)
        target = on_success if condition == "Success" else on_failure
        if not target:
            return
        record = invocation_record(event, result, condition, datetime.now(UTC))
        try:
            await self._send(target, record, condition)
            self.delivered += 1
        except Exception as exc:  # the target is gone, or the endpoint is: Lambda drops it too
            log.warning("the %s record of async event %s (%s) could not reach %s: %s",
                        condition, event.id, event.function, target, exc)

    async def _send(self, target: str, record: Mapping[str, Any], condition: Condition) -> None:
        parts = target.split(":")
        service, resource = parts[2], ":".join(parts[5:])
        body = json.dumps(record)
        if service == "lambda":  # function:NAME[:QUALIFIER]
            await self.enqueue(resource.split(":")[1], body.encode())
        elif service == "events":  # event-bus/NAME
            kind = "Success" if condition == "Success" else "Failure"
            await self.put_events({"Entries": [{
                "Source": "lambda", "DetailType": f"Lambda Function Invocation Result - {kind}",
                "Detail": body, "EventBusName": target, "Resources": []}]})
        elif service in ("sqs", "sns"):
            await asyncio.to_thread(self._publish, service, target, resource, body)
        else:
            raise ValueError(f"no {service} target on the local cloud")

    def _dead_letter(self, arn: str, event: AsyncEvent, result: InvokeResult | None) -> None:
        """The event as it was sent, with Lambda's three attributes."""
        error = _json(result.payload) if result is not None and result.status != "ok" else None
        message = str(error.get("errorMessage", "")) if isinstance(error, dict) else \
            (event.last_error or "")
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": message[:1024] or "-"},
        }
        service = arn.split(":")[2]
        if service not in ("sqs", "sns"):
            raise ValueError(f"no {service} dead-letter target on the local cloud")
        self._publish(service, arn, arn.split(":")[5], event.payload.decode(errors="replace"),
                      attributes)

    def _publish(self, service: str, arn: str, name: str, body: str,
                 attributes: dict[str, Any] | None = None) -> None:
        """A message to queue `name` (`service` sqs) or a notification to topic `arn` (sns)."""
        if self.aws is None:
            raise ValueError("the local cloud runs without its AWS endpoint")
        client = self.aws(service)
        extra = {"MessageAttributes": attributes} if attributes else {}
        if service == "sqs":
            url = client.get_queue_url(QueueName=name)["QueueUrl"]
            client.send_message(QueueUrl=url, MessageBody=body, **extra)
        else:
            client.publish(TopicArn=arn, Message=body, **extra)
