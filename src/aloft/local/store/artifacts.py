"""Content-addressed artifacts: `artifacts/<sha256>.zip` and the directory it unpacks to.

An artifact is named by its hash, so an upload of bytes already held is skipped (the CLI asks
with HEAD first) and two stages deploying the same code share one unpacked tree. Writes go to a
temporary file that is renamed into place only once its hash is verified.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from aloft.errors import ProviderError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def valid_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))


class ArtifactStore:
    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.unpacked_root = root / "unpacked"
        self.unpacked_root.mkdir(exist_ok=True)

    def zip_path(self, sha256: str) -> Path:
        return self.root / f"{sha256}.zip"

    def has(self, sha256: str) -> bool:
        return valid_sha256(sha256) and self.zip_path(sha256).is_file()

    def put(self, sha256: str, chunks: Iterable[bytes]) -> int:
        """Store the bytes of `chunks` as artifact `sha256`; returns its size.

        Raises ProviderError when the bytes do not hash to `sha256` (a truncated upload)."""
        if not valid_sha256(sha256):
            raise ProviderError(f"{sha256!r} is not a sha256 hex digest")
        if self.has(sha256):
            return self.zip_path(sha256).stat().st_size
        tmp = self.root / f".{sha256}.{os.getpid()}.{id(chunks)}.tmp"
        digest = hashlib.sha256()
        size = 0
        with open(tmp, "wb") as fh:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        if digest.hexdigest() != sha256:
            tmp.unlink(missing_ok=True)
            raise ProviderError(
                f"uploaded artifact does not match its sha256 {sha256[:12]}…",
                fix="run the deploy again (the upload was probably cut short)",
            )
        os.replace(tmp, self.zip_path(sha256))
        return size

    def put_file(self, sha256: str, source: Path) -> int:
        """Store the artifact from a local file (read in chunks, verified like an upload)."""
        try:
            with open(source, "rb") as fh:
                return self.put(sha256, iter(lambda: fh.read(1024 * 1024), b""))
        except OSError as exc:
            raise ProviderError(
                f"cannot read artifact {source}: {exc.strerror}",
                fix="run the deploy again (the build directory changed meanwhile)",
            ) from None

    def unpacked(self, sha256: str) -> Path:
        """The artifact's unpacked directory, unpacking it on first use."""
        from aloft.package import unpack  # the packager owns the zip layout

        if not self.has(sha256):
            raise ProviderError(
                f"artifact {sha256[:12]}… is not stored on the local cloud",
                fix="deploy again: the CLI uploads missing artifacts first",
            )
        return unpack(self.zip_path(sha256), self.unpacked_root, sha256=sha256,
                      compile_bytecode=True)

    def remove(self, candidates: set[str], keep: set[str]) -> list[str]:
        """Delete the artifacts (zip and tree) in `candidates` that are not in `keep`.

        Only candidates (what removed versions used) are considered, never "everything not
        referenced": an artifact just uploaded for a deploy in progress is referenced by nothing
        yet."""
        removed: list[str] = []
        for sha in sorted(candidates - keep):
            if not valid_sha256(sha):
                continue
            self.zip_path(sha).unlink(missing_ok=True)
            shutil.rmtree(self.unpacked_root / sha, ignore_errors=True)
            removed.append(sha)
        return removed
