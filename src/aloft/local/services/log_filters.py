"""CloudWatch Logs filter patterns, matched as CloudWatch matches them (pure).

- terms: `ERROR timeout` matches messages that contain every term (case-sensitive);
- quoted phrases: `"took too long"`;
- alternatives: `?ERROR ?WARN` matches messages that contain any of them;
- exclusions: `ERROR -health` (with at least one term to include);
- JSON: `{ $.level = "ERROR" }`, `{ $.latency > 100 && $.path != "/health" }`, comparisons
  `= != < <= > >=` of a selector with a string (`*` a wildcard) or a number, `IS TRUE`,
  `IS FALSE`, `IS NULL`, `NOT EXISTS`, `EXISTS`, joined by `&&` and `||` with parentheses.

Space-delimited patterns (`[ip, user, ...]`) are refused with a clear message.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from collections.abc import Callable, Iterable
from typing import Any

Matcher = Callable[[str], bool]


class FilterPatternError(ValueError):
    """A pattern the local cloud cannot read; the message says why."""


def compile_pattern(pattern: str | None) -> Matcher:
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise FilterPatternError(f"Invalid filter pattern {pattern!r}: a JSON pattern ends "
                                     "with '}'")
        test = _JsonParser(text[1:-1]).parse()
        return lambda message: _json_match(test, message)
    if text.startswith("["):
        raise FilterPatternError("space-delimited filter patterns ([a, b, ...]) are not "
                                 "supported by the local cloud: use terms or a JSON pattern")
    return _terms(text)


def _terms(text: str) -> Matcher:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise FilterPatternError(f"Invalid filter pattern {text!r}: {exc}") from None
    optional = [w[1:] for w in words if w.startswith("?") and len(w) > 1]
    excluded = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
    required = [w for w in words if not w.startswith(("?", "-")) or len(w) == 1]
    if optional:
        return lambda m: any(t in m for t in optional) and not any(t in m for t in excluded)
    return lambda m: all(t in m for t in required) and not any(t in m for t in excluded)


# -- JSON patterns --------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(?:(?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))|(?P<sel>\$[\w.\[\]]*)|
                        (?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|
                        (?P<word>[A-Za-z_*][\w*./-]*))""", re.X)
Test = Callable[[Any], bool]
_MISSING = object()


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FilterPatternError(f"Invalid filter pattern near {text[pos:]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _JsonParser:
    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.pos = 0

    def parse(self) -> Test:
        test = self._or()
        if self.pos != len(self.tokens):
            raise FilterPatternError(f"Invalid filter pattern: unexpected {self._peek()[1]!r}")
        return test

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        self.pos += 1
        return token

    def _or(self) -> Test:
        return self._chain("||", self._and, any)

    def _and(self) -> Test:
        return self._chain("&&", self._term, all)

    def _chain(self, op: str, operand: Callable[[], Test],
               join: Callable[[Iterable[bool]], bool]) -> Test:
        """`operand (op operand)*`, joined by `any` (||) or `all` (&&): both stop at the first
        operand that decides, as || and && do."""
        tests = [operand()]
        while self._peek() == ("op", op):
            self._next()
            tests.append(operand())
        if len(tests) == 1:
            return tests[0]
        return lambda doc: join(test(doc) for test in tests)

    def _term(self) -> Test:
        kind, value = self._next()
        if (kind, value) == ("op", "("):
            inner = self._or()
            if self._next() != ("op", ")"):
                raise FilterPatternError("Invalid filter pattern: a '(' is not closed")
            return inner
        if kind != "sel":
            raise FilterPatternError(f"Invalid filter pattern: expected a selector ($.field), "
                                     f"got {value!r}")
        path = _path(value)
        kind, op = self._next()
        if kind == "word":
            return self._keyword(path, op.upper())
        if kind != "op" or op not in ("=", "!=", "<", "<=", ">", ">="):
            raise FilterPatternError(f"Invalid filter pattern: expected a comparison after "
                                     f"{value}, got {op!r}")
        kind, operand = self._next()
        return _comparison(path, op, kind, operand)

    def _keyword(self, path: list[str], word: str) -> Test:
        if word == "IS":
            _, what = self._next()
            expected = {"TRUE": True, "FALSE": False, "NULL": None}.get(what.upper(), _MISSING)
            if expected is _MISSING:
                raise FilterPatternError(f"Invalid filter pattern: IS {what}")
            return lambda doc: _select(doc, path) is expected
        if word == "NOT":
            if self._next()[1].upper() != "EXISTS":
                raise FilterPatternError("Invalid filter pattern: NOT must be NOT EXISTS")
            return lambda doc: _select(doc, path) is _MISSING
        if word == "EXISTS":
            return lambda doc: _select(doc, path) is not _MISSING
        raise FilterPatternError(f"Invalid filter pattern: unexpected {word!r}")


def _path(selector: str) -> list[str]:
    parts = re.findall(r"\.([^.\[\]]+)|\[(\d+|\*)\]", selector[1:])
    return [name or index for name, index in parts]


def _select(doc: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return _MISSING
    return doc


def _comparison(path: list[str], op: str, kind: str, operand: str) -> Test:
    if kind == "num":
        number = float(operand)
        compare: Callable[[float], bool] = {
            "=": number.__eq__, "!=": number.__ne__, "<": number.__gt__, "<=": number.__ge__,
            ">": number.__lt__, ">=": number.__le__}[op]  # v < number is number > v

        def numeric(doc: Any) -> bool:
            value = _select(doc, path)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            return compare(float(value))

        return numeric
    if op not in ("=", "!="):
        raise FilterPatternError(f"Invalid filter pattern: {op} compares numbers only")
    if kind == "str":
        text = json.loads(operand)
    elif kind == "word":
        text = operand
    else:
        raise FilterPatternError(f"Invalid filter pattern: expected a value after {op}")

    def textual(doc: Any) -> bool:
        value = _select(doc, path)
        if value is _MISSING or isinstance(value, dict | list):
            return op == "!=" and value is not _MISSING
        shown = json.dumps(value) if not isinstance(value, str) else value
        same = fnmatch.fnmatchcase(shown, text) if "*" in text else shown == text
        return same if op == "=" else not same

    return textual


def _json_match(test: Test, message: str) -> bool:
    start = message.find("{")
    if start < 0:
        return False
    try:
        doc = json.loads(message[start:])
    except ValueError:
        return False
    return isinstance(doc, dict) and test(doc)
