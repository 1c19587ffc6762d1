"""Event recognition: every event is owned by exactly one source, whatever the order (the
handler relies on it to try an instance's previous source first); helpers match the stdlib."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from aloft.runtime.http import BinaryTypes, HttpResponse, remote_user
from aloft.runtime.sources import ENVELOPES, SOURCES, infer
from aloft.runtime.sources.http import _query
from tests.unit.runtime.runtime_helpers import FIXTURE_EVENTS

EVENT_FILES = sorted(FIXTURE_EVENTS.glob("*.json"))


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name)
def test_exactly_one_source_owns_each_event(path: object) -> None:
    event = json.loads(path.read_text())  # type: ignore[attr-defined]
    owners = [source.name for source in (*SOURCES, *ENVELOPES) if source.infer(event)]
    assert len(owners) == 1, owners
    assert infer(event).name == owners[0]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "envelope", ["keep_warm", "command", "raw", "manage", "task", "schedule"]
)
def test_envelopes_are_recognised_by_their_kind(envelope: str) -> None:
    source = infer({"aloft": envelope})
    assert source is not None and source.kind == envelope
    assert infer({"aloft": "unknown"}) is None
    assert infer(["not", "a", "dict"]) is None


def test_query_encoding_matches_urlencode() -> None:
    params = {
        "plain": ["value1", "value2"],
        "spaces and & =": ["a b", "c&d=e", ""],
        "ü": ["ü", "日本"],
        "safe-_.~": ["-_.~", "+/?#%"],
    }
    assert _query(params) == urlencode(params, doseq=True)


def test_binary_types_patterns_and_memo() -> None:
    binary = BinaryTypes(["image/*", "application/pdf"])
    cases = {
        ("image/png", None): True,
        ("IMAGE/SVG+XML; charset=utf-8", None): True,
        ("application/pdf", None): True,
        ("application/json", None): False,
        ("text/html; charset=utf-8", "gzip"): True,
        ("text/html", "identity"): False,
        (None, None): False,
    }
    for _ in range(2):  # second round answers from the memo
        for (content_type, encoding), expected in cases.items():
            headers = [("Content-Type", content_type)] if content_type else []
            if encoding:
                headers.append(("Content-Encoding", encoding))
            _, is_base64 = binary.encode(HttpResponse(200, headers, b"\x01ok"))
            assert is_base64 is expected, (content_type, encoding)
    assert BinaryTypes(["*/*"]).encode(HttpResponse(200, [], b"text"))[1] is True
    assert binary.encode(HttpResponse(204, [], b"")) == ("", False)


@pytest.mark.parametrize(
    ("authorizer", "user"),
    [
        ({"principalId": "alice", "integrationLatency": 3}, "alice"),
        ({"lambda": {"principalId": "bob"}}, "bob"),
        ({"jwt": {"claims": {"sub": "carol", "scope": "x"}, "scopes": None}}, "carol"),
        ({"claims": {"sub": "dave"}}, "dave"),  # Cognito user pool on a REST API
        ({"jwt": {"claims": {"claim1": "value1"}}}, None),
        ({"claims": None, "scopes": None}, None),
    ],
)
def test_remote_user_from_authorizers(authorizer: dict[str, object], user: str | None) -> None:
    assert remote_user(authorizer) == user  # type: ignore[arg-type]
