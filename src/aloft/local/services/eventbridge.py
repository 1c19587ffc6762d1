"""EventBridge on the local cloud: the stage's `eventbridge` rules (the stage model's, stored with
each deployment) and PutEvents entries turned into the events the rules deliver (pure).

The endpoint process answers PutEvents by handing the entries to the daemon (control API
`POST events`), which matches them here and queues each delivery as an asynchronous invocation
of the rule's function: the target's async semantics (retries, maximum age, the dead-letter
list), as EventBridge invokes a Lambda target.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from aloft.local.services.event_patterns import EventPatternError, matches
from aloft.local.types import ACCOUNT_ID
from aloft.stage import Stage

EXTRA_KEY = "event_rules"
"""Key of a Deployment's `extra` holding its EventBridge rules (`EventRuleRecord`s as dicts)."""
REGION = "us-east-1"
DEFAULT_BUS = "default"
MAX_ENTRIES = 10


@dataclass(frozen=True)
class EventRuleRecord:
    name: str
    physical: str  # the target function
    pattern: str  # JSON text
    bus: str | None  # name or ARN; None: the default bus
    input: str | None
    input_path: str | None
    enabled: bool
    description: str

    @property
    def bus_name(self) -> str:
        return bus_name(self.bus)

    @property
    def arn(self) -> str:
        bus = "" if self.bus_name == DEFAULT_BUS else f"{self.bus_name}/"
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{bus}{self.name}"


def bus_name(bus: str | None) -> str:
    """`default` for None, the name of a bus ARN (`...:event-bus/NAME`), or the name."""
    if not bus:
        return DEFAULT_BUS
    return bus.rsplit("event-bus/", 1)[-1] if bus.startswith("arn:") else bus


def rules_json(stage: Stage) -> list[dict[str, Any]]:
    """What the deployer stores in `Deployment.extra["event_rules"]`."""
    return [asdict(EventRuleRecord(r.name, r.physical, r.pattern, r.bus, r.input, r.input_path,
                                   r.enabled, r.description)) for r in stage.event_rules]


def rules_from_extras(extras: Iterable[dict[str, Any]]) -> list[EventRuleRecord]:
    return [EventRuleRecord(**item) for extra in extras for item in extra.get(EXTRA_KEY) or ()]


@dataclass(frozen=True)
class Entry:
    """One PutEvents entry, checked."""

    source: str
    detail_type: str
    detail: Any
    bus: str
    resources: list[str]
    time: datetime


class EntryError(ValueError):
    """An entry EventBridge answers with an error code of its own (the others still go)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def read_entry(data: dict[str, Any], now: datetime) -> Entry:
    source, detail_type = data.get("Source"), data.get("DetailType")
    if not source or not detail_type:
        raise EntryError("InvalidArgument", "Parameters Source and DetailType are required")
    try:
        detail = json.loads(data.get("Detail") or "{}")
    except ValueError:
        raise EntryError("MalformedDetail", "Detail is malformed.") from None
    if not isinstance(detail, dict):
        raise EntryError("MalformedDetail", "Detail is malformed.")
    when = data.get("Time")
    moment = now if when is None else (datetime.fromtimestamp(float(when), UTC) if isinstance(
        when, int | float) else datetime.fromisoformat(str(when).replace("Z", "+00:00")))
    return Entry(str(source), str(detail_type), detail, bus_name(data.get("EventBusName")),
                 [str(r) for r in data.get("Resources") or []], moment)


def event_of(entry: Entry, event_id: str | None = None) -> dict[str, Any]:
    """The event EventBridge delivers for an entry."""
    return {
        "version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": entry.detail_type,
        "source": entry.source, "account": ACCOUNT_ID,
        "time": entry.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
        "resources": entry.resources, "detail": entry.detail,
    }


def deliveries(rules: Iterable[EventRuleRecord], entry: Entry, event: dict[str, Any]
               ) -> list[tuple[EventRuleRecord, bytes]]:
    """(rule, payload) for each enabled rule of the entry's bus whose pattern matches."""
    out = []
    for rule in rules:
        if not rule.enabled or rule.bus_name != entry.bus:
            continue
        try:
            if not matches(json.loads(rule.pattern), event):
                continue
        except (EventPatternError, ValueError):
            continue  # the deploy checked it; a rule that cannot match matches nothing
        out.append((rule, payload_of(rule, event)))
    return out


def payload_of(rule: EventRuleRecord, event: dict[str, Any]) -> bytes:
    """The target's input: the rule's constant `input`, the part at its `input_path`
    (`$.detail.order`), or the event."""
    if rule.input is not None:
        return rule.input.encode()
    if rule.input_path:
        value: Any = event
        for part in rule.input_path.removeprefix("$").strip(".").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return json.dumps(value).encode()
    return json.dumps(event).encode()


def put_events(body: dict[str, Any], rules: list[EventRuleRecord], now: datetime
               ) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """PutEvents: (its answer, the (function, payload) deliveries to queue). An entry that is
    not valid gets its error code in the answer; the others go on, as on EventBridge."""
    answers: list[dict[str, Any]] = []
    queued: list[tuple[str, bytes]] = []
    for data in body.get("Entries") or []:
        try:
            entry = read_entry(data if isinstance(data, dict) else {}, now)
        except (EntryError, ValueError) as exc:
            code = exc.code if isinstance(exc, EntryError) else "InvalidArgument"
            answers.append({"ErrorCode": code, "ErrorMessage": str(exc)})
            continue
        event_id = str(uuid.uuid4())
        event = event_of(entry, event_id)
        queued += [(rule.physical, payload) for rule, payload in deliveries(rules, entry, event)]
        answers.append({"EventId": event_id})
    failed = sum(1 for a in answers if "ErrorCode" in a)
    return {"FailedEntryCount": failed, "Entries": answers}, queued
