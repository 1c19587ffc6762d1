"""Single AWS events a function handler receives as they are: EventBridge (scheduled or not),
CloudWatch Logs subscriptions, API Gateway authorizer requests."""

from __future__ import annotations

from typing import ClassVar

from aloft.runtime.sources.base import Event, EventSource, Kind

KEEP_WARM_SUFFIX = "-keep-warm"
"""Rules whose name ends with this only keep an instance warm (aloft names them so)."""


def _is_scheduled(event: Event) -> bool:
    return event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events"


def _is_keep_warm(event: Event) -> bool:
    resources = event.get("resources") or []
    return any(str(arn).endswith(KEEP_WARM_SUFFIX) for arn in resources)


class KeepWarmRule(EventSource):
    """The scheduled event of aloft's keep-warm rule: answered without touching the app."""

    name = "keep-warm-rule"
    kind: ClassVar[Kind] = "keep_warm"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _is_scheduled(event) and _is_keep_warm(event)


class ScheduledEvent(EventSource):
    """An EventBridge schedule rule without constant input: the function gets the event."""

    name = "schedule"
    kind: ClassVar[Kind] = "event"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return _is_scheduled(event) and not _is_keep_warm(event)


class EventBridge(EventSource):
    name = "eventbridge"
    kind: ClassVar[Kind] = "event"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return (
            "detail-type" in event
            and "source" in event
            and "detail" in event
            and not _is_scheduled(event)
        )


class CloudWatchLogs(EventSource):
    """A logs subscription: `awslogs.data` is base64 gzip JSON, passed on untouched."""

    name = "cloudwatch-logs"
    kind: ClassVar[Kind] = "event"

    @classmethod
    def infer(cls, event: Event) -> bool:
        logs = event.get("awslogs")
        return isinstance(logs, dict) and "data" in logs


class Authorizer(EventSource):
    """A request to a Lambda authorizer (REST TOKEN/REQUEST or HTTP API REQUEST). It looks like
    an HTTP request but is a question for a handler, so it is matched before the HTTP sources."""

    name = "authorizer"
    kind: ClassVar[Kind] = "event"

    @classmethod
    def infer(cls, event: Event) -> bool:
        return event.get("type") in ("TOKEN", "REQUEST") and (
            "methodArn" in event or "routeArn" in event
        )
