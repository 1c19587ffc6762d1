"""Atomic file-system moves: everything the packager writes appears complete or not at all."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


def temp_sibling(path: Path) -> Path:
    """A unique hidden name beside `path` (same filesystem: renaming it over `path` is atomic)."""
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp")


def rename_into(src: Path, dest: Path) -> None:
    """Rename `src` to `dest` unless `dest` exists already (then another build won: drop ours)."""
    if dest.exists():
        shutil.rmtree(src, ignore_errors=True)
        return
    try:
        os.rename(src, dest)
    except OSError:
        if not dest.exists():
            raise
        shutil.rmtree(src, ignore_errors=True)


def discard(path: Path) -> None:
    """Move `path` aside atomically, then delete it (a reader never sees it half-deleted)."""
    trash = temp_sibling(path)
    try:
        os.rename(path, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
