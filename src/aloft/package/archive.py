"""Deterministic zip files: the same inputs always give the same bytes.

Entries are sorted, timestamps fixed at 1980-01-01 (the zip epoch), modes normalised to 0o644 or
0o755 and the compression level fixed, so an artifact's sha256 depends on content alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aloft.errors import Location, PackageError
from aloft.package.files import temp_sibling

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6  # zlib's default: nearly the size of 9 at a fraction of the time
FILE_MODE = 0o644
EXEC_MODE = 0o755


@dataclass(frozen=True)
class Entry:
    """One file of an archive: its name inside the zip and where its bytes come from."""

    arcname: str
    source: Path | None = None  # a file on disk, or
    data: bytes | None = None  # bytes in memory
    executable: bool = False
    stored: bool = False  # already compressed (a zip inside the zip): store as is

    @classmethod
    def file(cls, arcname: str, path: Path, *, stored: bool = False) -> Entry:
        mode = path.stat().st_mode
        return cls(arcname, source=path, executable=bool(mode & 0o111), stored=stored)

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.source is not None
        return self.source.stat().st_size


def write_zip(path: Path, entries: Iterable[Entry]) -> None:
    """Write `entries` (in arcname order) to `path` atomically (temp file, then rename)."""
    ordered = sorted(entries, key=lambda e: e.arcname)
    tmp = temp_sibling(path)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for entry in ordered:
                info = zipfile.ZipInfo(entry.arcname, date_time=ZIP_EPOCH)
                info.create_system = 3  # Unix, so that external_attr carries the mode
                mode = EXEC_MODE if entry.executable else FILE_MODE
                info.external_attr = (stat.S_IFREG | mode) << 16
                if entry.stored:
                    info.compress_type = zipfile.ZIP_STORED
                else:
                    info.compress_type = zipfile.ZIP_DEFLATED
                    # ZipInfo's level attribute is private before 3.13 (an alias after).
                    setattr(info, "_compresslevel", COMPRESS_LEVEL)  # noqa: B010
                if entry.data is not None:
                    zf.writestr(info, entry.data)
                else:
                    assert entry.source is not None
                    try:
                        src = open(entry.source, "rb")  # noqa: SIM115 (closed just below)
                    except OSError as exc:
                        raise PackageError(
                            f"cannot read {entry.source}: {exc.strerror}",
                            where=Location(file=str(entry.source)),
                            fix="check the file's permissions, or leave it out with `exclude`",
                        ) from None
                    with src, zf.open(info, "w") as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def tree_entries(root: Path, prefix: str = "") -> list[Entry]:
    """Every file under `root` as an entry named `prefix + relative path`."""
    out: list[Entry] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        rel = base.relative_to(root).as_posix()
        for name in filenames:
            arc = name if rel == "." else f"{rel}/{name}"
            out.append(Entry.file(prefix + arc, base / name))
    return out
