"""Which Python runs a service's code on this machine, and what it inherits from ours."""

from __future__ import annotations

import shutil
import sys

from aloft.errors import PackageError

PASS_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
"""The only variables a process running the service's code inherits from the caller: it must
not see the user's shell."""


def interpreter(version: str) -> str:
    """A Python matching the artifact's runtime: this one if it matches, else pythonX.Y."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found:
        return found
    raise PackageError(
        f"the service runs on Python {version} but no python{version} is installed here",
        fix=f"install Python {version}, or set `runtime: "
        f"'{sys.version_info.major}.{sys.version_info.minor}'` in aloft.yml",
    )
