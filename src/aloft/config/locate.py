"""Mapping a path in a resolved stage back to where the user wrote it.

Stage merges and importers move values around: `stages.prod.memory` becomes `memory`, zappa's
`memory_size` becomes `memory`. Each records an origin (resolved path -> written path); a
Locator turns a resolved path into a `Location` with the file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aloft.config.source import Document, KeyPath, Spot, format_path, has_part
from aloft.errors import ConfigError, Location


@dataclass
class Origins:
    """Resolved path -> written path; a path with no entry (nor ancestor) was written as is."""

    table: dict[KeyPath, KeyPath] = field(default_factory=dict)

    def set(self, path: KeyPath, source: KeyPath) -> None:
        self.table[path] = source

    def source(self, path: KeyPath) -> KeyPath:
        for cut in range(len(path), -1, -1):
            found = self.table.get(path[:cut])
            if found is not None:
                return (*found, *path[cut:])
        return path


@dataclass
class Locator:
    """Turns resolved key paths into user-facing Locations in one document."""

    doc: Document
    origins: Origins = field(default_factory=Origins)
    stage: str | None = None

    def spot(self, source: KeyPath) -> tuple[KeyPath, Spot | None]:
        """The nearest written ancestor of `source` (or itself) and its position."""
        for cut in range(len(source), -1, -1):
            found = self.doc.spots.get(source[:cut])
            if found is not None:
                return source[:cut], found
        return (), None

    def written(self, path: KeyPath) -> Any:
        """The value as written in the file for resolved `path` (None if not written there)."""
        node: Any = self.doc.data
        for part in self.origins.source(path):
            if not has_part(node, part):
                return None
            node = node[part]
        return node

    def where(self, path: KeyPath, *, at_key: bool = False) -> Location:
        source = self.origins.source(path)
        written, spot = self.spot(source)
        mark = None
        if spot is not None:
            mark = spot.key if at_key and written == source and spot.key else spot.value
        function = None
        if len(path) >= 2 and path[0] == "functions":
            function = str(path[1])
        return Location(
            file=str(self.doc.file),
            line=mark.line if mark else None,
            column=mark.column if mark else None,
            key_path=format_path(source) or None,
            function=function,
            stage=self.stage,
        )

    def error(
        self, path: KeyPath, message: str, fix: str | None = None, *, at_key: bool = False
    ) -> ConfigError:
        return ConfigError(message, where=self.where(path, at_key=at_key), fix=fix)
