"""CloudWatch Logs filter patterns as CloudWatch matches them: terms, phrases, alternatives,
exclusions and JSON patterns."""

from __future__ import annotations

import pytest

from aloft.local.services.log_filters import FilterPatternError, compile_pattern

LINES = [
    '{"level": "ERROR", "latency": 150, "path": "/a", "ok": false}',
    '{"level": "INFO", "latency": 50, "path": "/health", "ok": true, "user": {"id": 7}}',
    "[WARN]\t2024-05-01T00:00:00Z\treq-1\ttook too long",
    "plain ERROR in text",
]


def matching(pattern: str) -> list[int]:
    match = compile_pattern(pattern)
    return [n for n, line in enumerate(LINES) if match(line)]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("", [0, 1, 2, 3]),
    ("ERROR", [0, 3]),
    ("error", []),  # terms are case-sensitive
    ("ERROR text", [3]),
    ('"took too long"', [2]),
    ("took long", [2]),
    ("?WARN ?text", [2, 3]),
    ("ERROR -plain", [0]),
    ('{ $.level = "ERROR" }', [0]),
    ("{ $.level = ERROR }", [0]),
    ('{ $.level != "ERROR" }', [1]),
    ('{ $.path = "/h*" }', [1]),
    ("{ $.latency > 100 }", [0]),
    ("{ $.latency <= 50 }", [1]),
    ('{ $.latency > 10 && $.path != "/health" }', [0]),
    ('{ ($.level = "ERROR" || $.level = "INFO") && $.latency < 100 }', [1]),
    ('{ $.level = "INFO" || $.level = "ERROR" && $.latency < 100 }', [1]),  # && binds tighter
    ('{ $.latency = 1 || $.latency = 2 || $.path = "/a" }', [0]),
    ("{ $.latency > 10 && $.latency < 200 && $.ok IS TRUE }", [1]),
    ("{ $.ok IS TRUE }", [1]),
    ("{ $.user.id = 7 }", [1]),
    ("{ $.user NOT EXISTS }", [0]),
    ("{ $.user EXISTS }", [1]),
])
def test_patterns(pattern: str, expected: list[int]) -> None:
    assert matching(pattern) == expected


@pytest.mark.parametrize("pattern", ["[ip, user]", "{ $.a = 1", "{ level = 1 }",
                                     '{ $.a > "x" }', '"unclosed', "{ $.a IS MAYBE }"])
def test_bad_patterns_say_why(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        compile_pattern(pattern)
