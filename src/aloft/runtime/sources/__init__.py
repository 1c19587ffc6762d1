"""Event recognition: the source whose `infer(event)` is true owns the event.

The sources are mutually exclusive where shapes overlap (function URLs and HTTP API v2 events,
authorizer and HTTP requests, keep-warm rules and other schedules, schedules and other
EventBridge events each tell themselves apart), so order only decides speed, and an instance
may try the source of its previous event first.
"""

from __future__ import annotations

from aloft.runtime.sources.base import Event, EventSource, HttpSource, Kind, RecordsSource
from aloft.runtime.sources.envelopes import (
    ENVELOPE_KEY,
    Command,
    KeepWarm,
    Manage,
    Raw,
    Schedule,
    Task,
)
from aloft.runtime.sources.events import (
    Authorizer,
    CloudWatchLogs,
    EventBridge,
    KeepWarmRule,
    ScheduledEvent,
)
from aloft.runtime.sources.http import Alb, ApiGatewayV1, FunctionUrl, HttpApiV2
from aloft.runtime.sources.records import S3, DynamoDbStream, Kinesis, Sns, Sqs

ENVELOPES: tuple[type[EventSource], ...] = (KeepWarm, Command, Raw, Manage, Task, Schedule)

SOURCES: tuple[type[EventSource], ...] = (
    HttpApiV2,
    ApiGatewayV1,
    FunctionUrl,
    Alb,
    Sqs,
    Sns,
    S3,
    DynamoDbStream,
    Kinesis,
    Authorizer,
    KeepWarmRule,
    ScheduledEvent,
    EventBridge,
    CloudWatchLogs,
)


def infer(event: object) -> type[EventSource] | None:
    """The source of `event`, or None for anything else (a direct invocation's own payload)."""
    if type(event) is not dict:
        return None
    candidates = ENVELOPES if ENVELOPE_KEY in event else SOURCES
    for source in candidates:
        if source.infer(event):
            return source
    return None


__all__ = [
    "ENVELOPES",
    "SOURCES",
    "Event",
    "EventSource",
    "HttpSource",
    "Kind",
    "RecordsSource",
    "infer",
]
