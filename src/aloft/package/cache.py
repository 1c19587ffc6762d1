"""The build cache: dependency archives stored under a key derived from what went into them.

    <cache>/layers/<key>/archive.zip   the dependency zip (layer layout or slim layout)
    <cache>/layers/<key>/meta.json     its sha256, sizes and package table (never re-hashed)
    <cache>/unpacked/<sha256>/         the same content unpacked (see `unpack`)

An entry appears by renaming a finished temporary directory into place, so a reader sees a
complete entry or none, and two builders racing for the same key both end with one good entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aloft
from aloft.errors import PackageError
from aloft.package.files import discard, rename_into
from aloft.package.manifest import PackageSize

PACKAGING_VERSION = 1
"""Bump when the layout or content of dependency archives changes: old cache entries go stale."""

ENV_CACHE_DIR = "ALOFT_CACHE_DIR"


def default_cache_dir() -> Path:
    """$ALOFT_CACHE_DIR, else ~/.cache/aloft."""
    explicit = os.environ.get(ENV_CACHE_DIR)
    return Path(explicit).expanduser() if explicit else Path.home() / ".cache" / "aloft"


def default_unpack_root(cache_dir: Path | None = None) -> Path:
    """Where the cache keeps unpacked archives: pass it to `unpack` to reuse them."""
    return (cache_dir or default_cache_dir()) / "unpacked"


def cache_key(parts: dict[str, Any]) -> str:
    """sha256 of the inputs that determine an archive (plus aloft's packaging version)."""
    material = {"packaging": PACKAGING_VERSION, "aloft": aloft.__version__, **parts}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CachedArchive:
    path: Path
    sha256: str
    size: int
    unzipped_size: int
    packages: list[PackageSize]


class BuildCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.layers = root / "layers"
        self.unpacked = root / "unpacked"

    def lookup(self, key: str) -> CachedArchive | None:
        entry = self.layers / key
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            archive = entry / "archive.zip"
            if not archive.is_file():
                return None
            return CachedArchive(
                path=archive,
                sha256=str(meta["sha256"]),
                size=int(meta["size"]),
                unzipped_size=int(meta["unzipped_size"]),
                packages=[PackageSize(str(n), int(b)) for n, b in meta["packages"]],
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent or damaged: rebuild it

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A scratch directory on the cache's filesystem (so that renames are atomic)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for parent in (self.root, self.layers, self.unpacked):
            _sweep(parent)
        work = Path(tempfile.mkdtemp(prefix=".build-", dir=self.root))
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def store(self, key: str, archive: Path, meta: CachedArchive, unpacked: Path) -> CachedArchive:
        """Move `archive` (and its unpacked tree) into the cache; returns the stored entry."""
        self.layers.mkdir(parents=True, exist_ok=True)
        self.unpacked.mkdir(parents=True, exist_ok=True)
        rename_into(unpacked, self.unpacked / meta.sha256)
        entry = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=self.layers))
        os.replace(archive, entry / "archive.zip")
        (entry / "meta.json").write_text(json.dumps({
            "sha256": meta.sha256,
            "size": meta.size,
            "unzipped_size": meta.unzipped_size,
            "packages": [[p.name, p.bytes] for p in meta.packages],
        }), encoding="utf-8")
        entry.chmod(0o755)
        final = self.layers / key
        if final.exists() and self.lookup(key) is None:
            discard(final)  # a damaged entry (interrupted by hand, disk full): replace it
        rename_into(entry, final)
        stored = self.lookup(key)
        if stored is None:
            raise PackageError(
                f"the build cache entry {final} cannot be read back",
                fix=f"delete {self.root} (or set {ENV_CACHE_DIR} elsewhere) and build again",
            )
        return stored


STALE_SECONDS = 24 * 3600


def _sweep(parent: Path) -> None:
    """Delete hidden scratch directories a killed build left behind (a day old: surely dead)."""
    if not parent.is_dir():
        return
    cutoff = time.time() - STALE_SECONDS
    for path in parent.iterdir():
        try:
            if path.name.startswith(".") and path.is_dir() and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue
