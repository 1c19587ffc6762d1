"""aloft.yml: the base settings, `stages` with `extends`, and variables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aloft.config.dotenv import dotenv_files, load_dotenv
from aloft.config.locate import Locator
from aloft.config.reader import Kind, StageTree
from aloft.config.source import Document
from aloft.config.stages import merged_stage, stage_entries, suggest, type_name
from aloft.config.variables import ALOFT_SOURCES, Resolver, VariableContext
from aloft.errors import ConfigError, Location

DEFAULT_STAGE = "dev"
EXTENSION_PREFIX = "x-"


class AloftReader:
    """Reads one aloft.yml document."""

    kind: Kind = "aloft"

    def __init__(self, doc: Document):
        if doc.data is None:
            raise ConfigError(
                f"{doc.file} is empty", where=Location(file=str(doc.file)),
                fix="write at least `service: name` and `app: module:attr`, or run `aloft init`",
            )
        if not isinstance(doc.data, dict):
            raise Locator(doc).error(
                (), f"the config must be a mapping of settings, not {type_name(doc.data)}",
                "start with `service: my-service` on the first line",
            )
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.stages = list(stage_entries(self.data, Locator(doc)))
        self.warnings: list[str] = []

    @property
    def default_stage(self) -> str:
        if DEFAULT_STAGE in self.stages or not self.stages:
            return DEFAULT_STAGE
        return self.stages[0]

    def stage_tree(
        self,
        stage: str,
        *,
        env: Mapping[str, str],
        options: Mapping[str, str],
        keep: frozenset[str] = frozenset(),
    ) -> StageTree:
        check_stage(
            stage, self.stages, self.doc, allow_any=not self.stages,
            how=f"add `{stage}:` under `stages:`",
        )
        locator = Locator(self.doc, stage=stage)
        merged, locator.origins = merged_stage(self.data, stage, locator)
        env = {**dotenv_values(merged.get("dotenv"), self.doc.file.parent, stage, env), **env}
        ctx = VariableContext(
            stage=stage, env=env, options={**options, "stage": stage},
            base_dir=self.doc.file.parent, sources=ALOFT_SOURCES, keep=keep,
        )
        resolved = Resolver(merged, ctx, locator).resolve_all()
        # `x-...` keys hold the user's own values (for `${self:x-...}` and YAML anchors)
        data = {k: v for k, v in resolved.items() if not str(k).startswith(EXTENSION_PREFIX)}
        return StageTree(data, locator)


def dotenv_values(setting: Any, root: Path, stage: str,
                  env: Mapping[str, str]) -> dict[str, str]:
    """The variables of the .env files `dotenv:` names (true: the usual four, by stage)."""
    if setting is True:
        files = dotenv_files(root, stage)
    elif isinstance(setting, list) and all(isinstance(n, str) for n in setting):
        files = [root / n.replace("${stage}", stage) for n in setting]
        files = [f for f in files if f.is_file()]
    else:
        return {}  # false, or a wrong type the model reports
    return load_dotenv(files, env)


def check_stage(
    stage: str, stages: list[str], doc: Document, *, allow_any: bool, how: str
) -> None:
    if stage in stages or allow_any:
        return
    hint = suggest(stage, stages)
    raise ConfigError(
        f"stage {stage!r} is not defined; stages: {', '.join(stages)}",
        where=Location(file=str(doc.file), stage=stage),
        fix=(hint + " " if hint else "") + f"{how}, or use one of these stages",
    )
