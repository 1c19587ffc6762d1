"""Event recognition: the first source whose `infer(event)` is true owns the event.

Order matters only where shapes overlap: function URLs look like HTTP API v2 events, keep-warm
rules like other schedules, schedules like other EventBridge events. (Authorizer requests look
like HTTP requests too; the HTTP sources exclude them by their ARN key.) HTTP comes first because
it is the hot path.
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
    FunctionUrl,
    HttpApiV2,
    Alb,
    ApiGatewayV1,
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
