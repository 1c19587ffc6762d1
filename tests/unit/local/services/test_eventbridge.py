"""EventBridge on the local cloud: event patterns as EventBridge matches them, and PutEvents
entries turned into the deliveries of the stage's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from aloft.local.services.event_patterns import EventPatternError, matches
from aloft.local.services.eventbridge import EventRuleRecord, put_events

EVENT: dict[str, Any] = {
    "source": "shop.orders", "detail-type": "created", "account": "000000000000",
    "detail": {"id": "o-17", "total": 42.5, "items": ["a", "b"], "state": "paid",
               "customer": {"tier": "gold", "ip": "10.0.0.7"}, "note": None},
}


@pytest.mark.parametrize(("pattern", "expected"), [
    ({"source": ["shop.orders"]}, True),
    ({"source": ["shop.other", "shop.orders"]}, True),
    ({"source": ["shop"]}, False),
    ({"source": [{"prefix": "shop."}]}, True),
    ({"source": [{"suffix": ".orders"}]}, True),
    ({"detail-type": [{"equals-ignore-case": "CREATED"}]}, True),
    ({"source": [{"wildcard": "shop.*"}]}, True),
    ({"detail": {"state": [{"anything-but": "refunded"}]}}, True),
    ({"detail": {"state": [{"anything-but": ["paid", "refunded"]}]}}, False),
    ({"detail": {"state": [{"anything-but": {"prefix": "pa"}}]}}, False),
    ({"detail": {"total": [{"numeric": [">", 40, "<=", 50]}]}}, True),
    ({"detail": {"total": [{"numeric": [">", 50]}]}}, False),
    ({"detail": {"total": [42.5]}}, True),
    ({"detail": {"items": ["b"]}}, True),  # an array field: any element
    ({"detail": {"missing": [{"exists": False}]}}, True),
    ({"detail": {"id": [{"exists": True}]}}, True),
    ({"detail": {"id": [{"exists": False}]}}, False),
    ({"detail": {"note": [None]}}, True),
    ({"detail": {"customer": {"tier": ["gold"]}}}, True),
    ({"detail": {"customer": {"ip": [{"cidr": "10.0.0.0/24"}]}}}, True),
    ({"detail": {"customer": {"tier": ["silver"]}}}, False),
    ({"source": ["shop.orders"], "detail-type": ["deleted"]}, False),
    ({"$or": [{"source": ["x"]}, {"detail": {"state": ["paid"]}}]}, True),
])
def test_patterns(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


def test_a_bad_pattern_says_why() -> None:
    with pytest.raises(EventPatternError):
        matches({"source": "shop.orders"}, EVENT)  # a value must be in an array
    with pytest.raises(EventPatternError):
        matches({"source": [{"sounds-like": "x"}]}, EVENT)


def rule(name: str, pattern: dict[str, Any], **kwargs: Any) -> EventRuleRecord:
    fields: dict[str, Any] = {"bus": None, "input": None, "input_path": None, "enabled": True,
                              "description": ""}
    return EventRuleRecord(name, f"shop-dev-{name}", json.dumps(pattern), **{**fields, **kwargs})


def test_put_events_delivers_to_the_matching_rules_of_the_bus() -> None:
    rules = [
        rule("all", {"source": ["shop.orders"]}),
        rule("big", {"detail": {"total": [{"numeric": [">=", 100]}]}}),
        rule("ids", {"source": ["shop.orders"]}, input_path="$.detail.id"),
        rule("fixed", {"source": ["shop.orders"]}, input='{"k": 1}'),
        rule("off", {"source": ["shop.orders"]}, enabled=False),
        rule("other", {"source": ["shop.orders"]}, bus="arn:aws:events:us-east-1:0:event-bus/x"),
    ]
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    answer, queued = put_events({"Entries": [
        {"Source": "shop.orders", "DetailType": "created", "Detail": '{"id": "o-1", "total": 5}'},
        {"Source": "shop.orders", "DetailType": "created", "Detail": "not json"},
        {"Source": "shop.orders", "DetailType": "created", "Detail": "{}", "EventBusName": "x"},
    ]}, rules, now)
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][1] == {"ErrorCode": "MalformedDetail",
                                    "ErrorMessage": "Detail is malformed."}
    targets = [(function, payload) for function, payload in queued]
    assert [f for f, _ in targets] == ["shop-dev-all", "shop-dev-ids", "shop-dev-fixed",
                                      "shop-dev-other"]
    event = json.loads(targets[0][1])
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert (event["source"], event["detail-type"], event["time"], event["account"]) == (
        "shop.orders", "created", "2026-01-02T03:04:05Z", "000000000000")
    assert json.loads(targets[1][1]) == "o-1" and json.loads(targets[2][1]) == {"k": 1}
