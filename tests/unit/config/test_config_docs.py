"""docs/configuration.md documents every key of aloft.yml (it is the reference)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from aloft.config.models import ConfigFile

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        stack = [info.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _models(annotation, seen)
            stack.extend(typing.get_args(annotation))


def test_every_key_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    models: set[type[BaseModel]] = set()
    _models(ConfigFile, models)
    missing = {
        f"{m.__name__}.{key}" for m in models for key in m.model_fields if key not in documented
    }
    assert missing == set()


def test_migration_guide_names_both_tools() -> None:
    text = (DOCS / "migrating.md").read_text()
    for key in ("app_function", "keep_warm_expression", "custom.wsgi.app", "iamRoleStatements",
                "AWS::SQS::Queue", "provider: local"):
        assert key in text
