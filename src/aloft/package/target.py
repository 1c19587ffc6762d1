"""What an artifact is built for: provider, Python version and pip platform tag."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from dataclasses import dataclass
from typing import Literal

from aloft.config.models import Service
from aloft.package.python import local_python_version

_AWS_PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def host_platform() -> str:
    """pip's platform tag for this machine, e.g. `linux_x86_64`."""
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


def _host_manylinux() -> tuple[str, ...]:
    """The manylinux tags this machine's glibc runs, newest first (pip does not widen a
    `--platform manylinux_2_36_x86_64` to older glibc versions itself)."""
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        return ()
    name, _, version = libc.partition(" ")
    major, _, minor = version.partition(".")
    arch = platform.machine()
    if name != "glibc" or major != "2" or not minor.isdigit() or not sys.platform.startswith(
            "linux"):
        return ()
    tags = [f"manylinux_2_{m}_{arch}" for m in range(int(minor), 16, -1)]
    return (*tags, *(f"{legacy}_{arch}" for legacy in ("manylinux2014", "manylinux2010",
                                                        "manylinux1")))


def host_python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class Target:
    provider: Literal["local", "aws"]
    python_version: str  # "3.11"
    platform: str  # pip platform tag

    @classmethod
    def for_service(cls, service: Service) -> Target:
        if service.provider == "aws":
            return cls("aws", service.runtime, _AWS_PLATFORMS[service.aws.architecture])
        # The local cloud runs functions on the declared Python when it is installed here, else
        # on ours (aloft.package.python.runtime_warning says so).
        return cls("local", local_python_version(service.runtime), host_platform())

    @property
    def is_host(self) -> bool:
        """True when pip installs for the running interpreter (no cross-platform flags)."""
        return (
            self.provider == "local"
            and self.python_version == host_python_version()
            and self.platform == host_platform()
        )

    @property
    def pip_platforms(self) -> tuple[str, ...]:
        """Platform tags pip may pick wheels for.

        Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so newer manylinux
        wheels are usable there too; pip expands each tag to the older glibc versions itself.
        """
        if self.provider != "aws":
            # Another Python on this machine (a declared runtime found here): wheels built for
            # this machine's glibc serve it too, as they would a native pip of that Python.
            return (self.platform,) + (() if self.is_host else _host_manylinux())
        arch = "x86_64" if self.platform.endswith("x86_64") else "aarch64"
        major, minor = (int(p) for p in self.python_version.split(".")[:2])
        if (major, minor) >= (3, 12):
            return (self.platform, f"manylinux_2_34_{arch}")
        return (self.platform,)

    def __str__(self) -> str:
        return f"{self.provider} (CPython {self.python_version}, {self.platform})"
