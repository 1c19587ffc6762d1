"""A stand-in for pip used where a test is about caching or errors, not about pip itself.

It installs what a requirements file names as tiny distributions with real dist-info metadata
(METADATA and RECORD), the way pip lays them out in a --target directory, and counts its calls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aloft.config.models import Service
from aloft.package import PipOutcome


def make_service(root: Path, **extra: Any) -> Service:
    return Service(service="x", stage="dev", root=root, app="app:app", **extra)


class FakePip:
    def __init__(self, sizes: dict[str, int] | None = None, fail_with: str | None = None):
        self.sizes = sizes or {}
        self.fail_with = fail_with
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> PipOutcome:
        self.calls.append(list(args))
        if self.fail_with is not None:
            return PipOutcome(1, self.fail_with)
        target = Path(args[args.index("--target") + 1])
        requirements = Path(args[args.index("--requirement") + 1]).read_text().splitlines()
        for line in requirements:
            if not line or line.startswith("-"):
                continue
            name, _, version = re.split(r"\s*;", line)[0].partition("==")
            install(target, name.strip(), version or "1.0", self.sizes.get(name.strip(), 100))
        return PipOutcome(0, "Successfully installed")


def install(target: Path, name: str, version: str, size: int) -> None:
    module = name.replace("-", "_").lower()
    dist = target / f"{module}-{version}.dist-info"
    (target / module / "__pycache__").mkdir(parents=True, exist_ok=True)
    dist.mkdir(parents=True, exist_ok=True)
    (target / module / "__init__.py").write_text("x" * size)
    (target / module / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0" * 50)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (target / "bin").mkdir(exist_ok=True)
    (target / "bin" / module).write_text("#!/usr/bin/python\n")
    (dist / "RECORD").write_text(
        f"{module}/__init__.py,sha256=x,{size}\n"
        f"{dist.name}/METADATA,,\n{dist.name}/RECORD,,\n../../bin/{module},,\n"
    )
