"""For tests of what functions cannot see: where the machine could isolate them and did not, the
test fails (it must not pass by skipping); only where it cannot is it skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def no_isolation(described: str) -> None:
    """Isolation is not in force: a failure where this machine has user namespaces (the
    sandbox should have worked), else a skip."""
    try:
        allowed = int(Path("/proc/sys/user/max_user_namespaces").read_text())
    except (OSError, ValueError):
        allowed = 0
    if Path("/proc/self/ns/user").exists() and allowed > 0 \
            and os.environ.get("ALOFT_SANDBOX") != "0":
        pytest.fail(f"isolation is off on a machine with user namespaces: {described}")
    pytest.skip(f"no isolation on this machine: {described}")
