"""Reading config files into plain data plus a table of where every key and value was written.

YAML goes through a composer-level walk of PyYAML's node graph so that each key and value keeps
its line and column; JSON is read the same way (it is YAML) with `json` as the fallback for files
YAML cannot read; TOML has no positions (tomllib does not report them).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from aloft.errors import ConfigError, Location

KeyPath = tuple[str | int, ...]
"""A path into nested data: mapping keys and list indexes, e.g. ('functions', 'jobs', 0)."""


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class Spot:
    """Where one entry was written: its key (None for list items and the root) and its value."""

    key: Mark | None
    value: Mark


@dataclass
class Document:
    """A config file's data and the position of each entry, by key path."""

    file: Path
    data: Any
    spots: dict[KeyPath, Spot] = field(default_factory=dict)


def has_part(container: Any, part: str | int) -> bool:
    """Whether `container[part]` exists (a mapping key, or an index of a list)."""
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def format_path(path: KeyPath) -> str:
    """`functions.jobs.events[0].schedule`: the key path as users read it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# --------------------------------------------------------------------------- YAML


class MarkedLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that builds plain data from the node graph and records each node's position.

    Duplicate keys are errors (PyYAML keeps the last silently). CloudFormation short-form tags
    (`!Ref X`, `!GetAtt A.Arn`, `!Sub ...`) become their long form so serverless.yml loads.
    """

    def __init__(self, stream: str, file: Path):
        super().__init__(stream)
        self.file = file
        self.spots: dict[KeyPath, Spot] = {}

    def load_marked(self) -> Any:
        try:
            node = self.get_single_node()
        finally:
            self.dispose()
        if node is None:
            return None
        self.spots[()] = Spot(None, _mark(node))
        return self._value(node, ())

    def _value(self, node: Node, path: KeyPath) -> Any:
        tag = node.tag or ""
        if tag.startswith("!") and not tag.startswith("!!"):
            return self._cloudformation(node, path, tag[1:])
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return self._sequence(node, path)
        return self.construct_object(node, deep=True)

    def _cloudformation(self, node: Node, path: KeyPath, name: str) -> Any:
        fn = name if name in ("Ref", "Condition") else f"Fn::{name}"
        if isinstance(node, ScalarNode):
            text = str(node.value)
            inner: Any = text.split(".", 1) if fn == "Fn::GetAtt" else text
        elif isinstance(node, SequenceNode):
            inner = self._sequence(node, (*path, fn))
        elif isinstance(node, MappingNode):
            inner = self._mapping(node, (*path, fn))
        else:  # pragma: no cover - PyYAML has no other node kinds
            inner = None
        return {fn: inner}

    def _sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        items = []
        for index, child in enumerate(node.value):
            self.spots[(*path, index)] = Spot(None, _mark(child))
            items.append(self._value(child, (*path, index)))
        return items

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[Any, Any]:
        seen: dict[Any, Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise _error(self.file, _mark(key_node), path, "a mapping key must be a scalar")
            if key in seen:
                first = seen[key]
                raise _error(
                    self.file, _mark(key_node), (*path, str(key)),
                    f"duplicate key {key!r} (first written at line {first.line})",
                    "remove one of them; YAML would silently keep only the last",
                )
            seen[key] = _mark(key_node)
        # `<<: *anchor` merge keys: PyYAML inlines the merged pairs first, so own keys win.
        self.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            key = key if isinstance(key, str) else str(key) if key is not None else "null"
            child = (*path, key)
            self.spots[child] = Spot(_mark(key_node), _mark(value_node))
            out[key] = self._value(value_node, child)
        return out


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _error(
    file: Path, mark: Mark | None, path: KeyPath, message: str, fix: str | None = None
) -> ConfigError:
    where = Location(
        file=str(file),
        line=mark.line if mark else None,
        column=mark.column if mark else None,
        key_path=format_path(path) or None,
    )
    return ConfigError(message, where=where, fix=fix)


def parse_yaml(text: str, file: Path) -> Document:
    """Parse YAML text (named `file` in errors) into a Document."""
    loader = MarkedLoader(text, file)
    try:
        data = loader.load_marked()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark(mark.line + 1, mark.column + 1) if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.context}, {exc.problem}"
        raise _error(
            file, where, (), f"invalid YAML: {problem}",
            "check the indentation and quoting around this position",
        ) from None
    except yaml.YAMLError as exc:
        raise _error(file, None, (), f"invalid YAML: {exc}") from None
    return Document(file=file, data=data, spots=loader.spots)


# --------------------------------------------------------------------------- files


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            where=Location(file=str(path)),
            fix="check the path, or run `aloft init` to create aloft.yml",
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path} is a directory, not a config file", where=Location(file=str(path))
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text ({exc.reason})",
            where=Location(file=str(path)), fix="save the file as UTF-8",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc.strerror}", where=Location(file=str(path))
        ) from None


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def load_document(path: Path) -> Document:
    """Read a YAML, JSON or TOML config file (by extension) into a Document."""
    text = read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_POS.search(str(exc))
            mark = Mark(int(m.group(1)), int(m.group(2))) if m else None
            raise _error(path, mark, (), f"invalid TOML: {_TOML_POS.sub('', str(exc)).strip()}")\
                from None
        return Document(file=path, data=data, spots={})
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _error(path, Mark(exc.lineno, exc.colno), (), f"invalid JSON: {exc.msg}") \
                from None
        try:
            # JSON is YAML: read it again for the positions (duplicate keys are errors too)
            return parse_yaml(text, path)
        except ConfigError as yaml_error:
            if "duplicate key" in yaml_error.message:
                raise
            return Document(file=path, data=data, spots={})  # e.g. tabs, which YAML refuses
    return parse_yaml(text, path)
