"""What every config format provides: its stages, and one stage as aloft-shaped data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aloft.config.locate import Locator
from aloft.config.source import Document

Kind = Literal["aloft", "zappa", "serverless"]


@dataclass
class StageTree:
    """One stage as aloft.yml keys (variables resolved), where each came from, what was dropped."""

    data: dict[str, Any]
    locator: Locator
    warnings: list[str] = field(default_factory=list)


class ConfigReader(Protocol):
    kind: Kind
    doc: Document
    stages: list[str]
    warnings: list[str]

    @property
    def default_stage(self) -> str: ...

    def stage_tree(
        self,
        stage: str,
        *,
        env: Mapping[str, str],
        options: Mapping[str, str],
        keep: frozenset[str] = frozenset(),
    ) -> StageTree:
        """Stage `stage` as aloft data; `keep` names variable sources left as `${...}` text."""
        ...
