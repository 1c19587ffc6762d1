"""`slim: true`: dependencies ship as `aloft_deps.zip` inside the code zip and are unpacked once
per content at cold start, into `/tmp/aloft_deps/<sha256>/`, then put on sys.path.

Unpacking goes to a temporary directory renamed into place, so two instances starting together
never see a half-written tree: the loser of the rename race just uses the winner's copy.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from aloft.runtime.errors import InitError

DEPS_ARCHIVE = "aloft_deps.zip"
ENV_DEPS_DIR = "ALOFT_DEPS_DIR"
"""Where archives are unpacked (default /tmp/aloft_deps: Lambda's only writable place)."""
DEFAULT_DEPS_DIR = "/tmp/aloft_deps"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unpack_deps(archive: Path, root: Path | None = None) -> Path:
    """The directory holding `archive`'s contents, unpacking it first if no instance has."""
    root = root or Path(os.environ.get(ENV_DEPS_DIR) or DEFAULT_DEPS_DIR)
    target = root / file_sha256(archive)
    if target.is_dir():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name[:12]}-", dir=root))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(scratch)
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(scratch, ignore_errors=True)  # another instance won the race
    except (OSError, zipfile.BadZipFile) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise InitError(
            f"slim: cannot unpack {archive} into {root}: {exc}. Rebuild the package; "
            f"set {ENV_DEPS_DIR} to a writable directory if {root} is not."
        ) from exc
    return target


def activate_slim(artifact_root: Path) -> Path:
    """Unpack the artifact's dependency archive and put it on sys.path after the code."""
    archive = artifact_root / DEPS_ARCHIVE
    if not archive.is_file():
        raise InitError(
            f"slim is on but {archive} is missing: the package was built without it; rebuild"
        )
    deps = unpack_deps(archive)
    entry = str(deps)
    if entry not in sys.path:
        root = str(artifact_root)
        index = sys.path.index(root) + 1 if root in sys.path else 0
        sys.path.insert(index, entry)
    return deps
