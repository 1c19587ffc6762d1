"""CloudFormation logical ids, spelled one way for every part of the template."""

from __future__ import annotations

import re


def logical_id(*parts: str) -> str:
    """A CloudFormation logical id: `worker`, `schedule` -> `WorkerSchedule`."""
    words = re.split(r"[^A-Za-z0-9]+", " ".join(parts))
    return "".join(w[:1].upper() + w[1:] for w in words if w)[:255]
