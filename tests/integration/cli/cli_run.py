"""Types for the CLI integration tests (imported by name: this directory is on sys.path)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

Aloft = Callable[..., subprocess.CompletedProcess[str]]
