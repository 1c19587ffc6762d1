"""The JSON Schema of aloft.yml, for `aloft schema` and editors."""

from __future__ import annotations

from typing import Any

from aloft.config.models import ConfigFile

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The schema of aloft.yml as written (`ConfigFile`), with each key's description."""
    schema = ConfigFile.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "aloft.yml",
        **{k: v for k, v in schema.items() if k != "title"},
    }
