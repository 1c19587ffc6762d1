"""The contract between the packager and the runtime: `aloft_settings.json` in every artifact.

The packager (`aloft.package`) writes this file at the root of the code zip from the resolved
service; the runtime reads it once per instance. Standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Literal, TypedDict

SETTINGS_FILE = "aloft_settings.json"
"""File name at the artifact root."""

ENV_SETTINGS = "ALOFT_SETTINGS"
"""Environment variable: explicit path to the settings file (overrides the artifact root)."""

ENV_FUNCTION = "ALOFT_FUNCTION"
"""Environment variable: which entry of `functions` this instance runs (default `app`)."""


class FunctionSpec(TypedDict):
    handler: str | None  # `module.func`; None means the service's app (WSGI/ASGI/Django)
    records: Literal["batch", "each"]  # `each`: the handler is called per record
    payload: Literal["2.0", "1.0"]


class RuntimeSettings(TypedDict):
    service: str
    stage: str
    app: str | None  # `module:attr` of a WSGI or ASGI app
    django_settings: str | None
    functions: dict[str, FunctionSpec]  # includes "app" when the service has one
    exception_handler: str | None  # `module.func(exception, event, context)`
    binary_types: list[str]  # content types sent base64-encoded (`image/*` patterns)
    debug: bool  # include tracebacks in 500 bodies
    task_function: str | None  # function that runs @task calls; None = the calling function
    slim: bool  # dependencies shipped as an archive to unpack at cold start


def settings_path() -> Path:
    """Where this artifact's settings live: $ALOFT_SETTINGS, else the artifact root."""
    explicit = os.environ.get(ENV_SETTINGS)
    if explicit:
        return Path(explicit)
    # The artifact root holds aloft/runtime/settings.py, so it is two parents up from here.
    return Path(__file__).resolve().parent.parent.parent / SETTINGS_FILE


def load_settings(path: Path | None = None) -> RuntimeSettings:
    with open(path or settings_path(), encoding="utf-8") as fh:
        data: RuntimeSettings = json.load(fh)
    return data
