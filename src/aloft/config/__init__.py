"""Reading aloft.yml (and zappa_settings / serverless.yml) into the typed service model.

The names below are imported on first use (PEP 562): `import aloft.config.source` or a CLI
command that never validates a config must not pay for pydantic and the readers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aloft.config.convert import convert_to_aloft_yaml
    from aloft.config.project import Project, find_config_file, load_project, load_service
    from aloft.config.schema import json_schema
    from aloft.config.ssm import resolve_ssm, ssm_references

_LAZY = {
    "Project": "aloft.config.project",
    "convert_to_aloft_yaml": "aloft.config.convert",
    "find_config_file": "aloft.config.project",
    "json_schema": "aloft.config.schema",
    "load_project": "aloft.config.project",
    "load_service": "aloft.config.project",
    "resolve_ssm": "aloft.config.ssm",
    "ssm_references": "aloft.config.ssm",
}

__all__ = [
    "Project",
    "convert_to_aloft_yaml",
    "find_config_file",
    "json_schema",
    "load_project",
    "load_service",
    "resolve_ssm",
    "ssm_references",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
