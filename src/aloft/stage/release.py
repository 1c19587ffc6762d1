"""A stage's release phase: the `release:` commands, as the events that run them in the app.

Each runs in the app's new version, in order, after it initialised and before it serves (both
providers): `manage ARGS` is a Django management command (the `manage` envelope, as `aloft
manage` sends it), `package.module.function ARGS` calls that function with the words after it
(the `command` envelope). The runtime answers each with what it printed, and an `error` or a
non-zero `exit_code` when it failed (aloft.runtime.commands).
"""

from __future__ import annotations

import shlex

from aloft.config.models import Service
from aloft.stage.records import ReleaseCommand


def release_commands(service: Service) -> tuple[ReleaseCommand, ...]:
    out = []
    for text in service.release:
        words = shlex.split(text)
        if words[0] == "manage":
            event = {"aloft": "manage", "args": words[1:]}
        else:
            event = {"aloft": "command", "function": words[0], "args": words[1:]}
        out.append(ReleaseCommand(text, event))
    return tuple(out)


def release_failure(payload: object) -> str | None:
    """Why a release command's reply says it failed, or None when it ran to the end."""
    if not isinstance(payload, dict):
        return None
    if payload.get("error"):
        return str(payload["error"])
    code = payload.get("exit_code")
    if code not in (None, 0):
        return f"exit code {code}"
    return None


def release_output(payload: object) -> str:
    """What a release command printed, from its reply."""
    if isinstance(payload, dict):
        return "".join(str(payload[k]) for k in ("output", "stdout", "stderr") if payload.get(k))
    return "" if payload is None else str(payload)
