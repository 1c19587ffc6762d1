"""Shrinks the dependency layer: drops test suites, type stubs and bytecode caches.

Enable it with `plugins: [aloft.plugins.builtin.strip_dependencies]`. Dropped: directories named
`tests` or `test` inside a package (a directory with an `__init__.py` above them, so a top-level
package called `test` stays), `*.pyi` stub files, `py.typed` markers and `__pycache__`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aloft.package.target import Target
from aloft.plugins.hookspecs import hookimpl

ALOFT_PACKAGING_VERSION = "1"
"""Part of the build cache key: bump when what is stripped changes."""

TEST_DIRS = frozenset({"tests", "test"})
STUB_SUFFIXES = (".pyi",)
MARKERS = frozenset({"py.typed"})


@dataclass(frozen=True)
class Stripped:
    files: int
    bytes: int


def strip(site: Path) -> Stripped:
    """Remove what only development needs from the installed tree `site`."""
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(site):
        base = Path(dirpath)
        for name in list(dirnames):
            sub = base / name
            if name == "__pycache__" or (name in TEST_DIRS and (base / "__init__.py").exists()):
                n, b = _tree_size(sub)
                files, size = files + n, size + b
                shutil.rmtree(sub)
                dirnames.remove(name)
        for name in filenames:
            if name.endswith(STUB_SUFFIXES) or name in MARKERS:
                path = base / name
                size += path.lstat().st_size
                files += 1
                path.unlink()
    return Stripped(files, size)


def _tree_size(root: Path) -> tuple[int, int]:
    count = total = 0
    for path in root.rglob("*"):
        if path.is_file():
            count += 1
            total += path.lstat().st_size
    return count, total


@hookimpl
def aloft_prepare_dependencies(directory: Path, target: Target) -> None:
    strip(directory)
