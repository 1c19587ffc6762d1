"""Content-addressed extraction: each archive is unpacked once, into a directory named by hash."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from aloft.errors import Location, PackageError
from aloft.package.archive import sha256_file
from aloft.package.files import rename_into


def unpack(zip_path: Path, dest_root: Path, *, sha256: str | None = None,
           compile_bytecode: bool = False) -> Path:
    """Extract `zip_path` into `dest_root/<sha256>/` unless it is there already; return that dir.

    The archive is extracted into a temporary sibling and renamed into place, so a reader never
    sees a half-extracted tree and concurrent unpacks of the same archive end with one copy.
    Pass `sha256` (from the manifest) to skip hashing the archive. `compile_bytecode`: write
    the .pyc files of this interpreter into the tree first (the local cloud's instances see it
    read-only, as Lambda's /var/task, so they could not cache what they compile).
    """
    digest = sha256 or sha256_file(zip_path)
    final = dest_root / digest
    if final.is_dir():
        return final
    dest_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{digest[:16]}-", dir=dest_root))
    try:
        try:
            with zipfile.ZipFile(zip_path) as zf:
                for info in zf.infolist():
                    _extract(zf, info, work, zip_path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(
                f"cannot unpack {zip_path}: {exc}",
                where=Location(file=str(zip_path)),
                fix="rebuild the artifact with `aloft package`",
            ) from None
        work.chmod(0o755)
        if compile_bytecode:
            import compileall

            compileall.compile_dir(work, quiet=2, ddir=final, workers=1)
        rename_into(work, final)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return final


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, work: Path, zip_path: Path) -> None:
    name = PurePosixPath(info.filename)
    if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
        raise PackageError(
            f"{zip_path} holds an unsafe path {info.filename!r}",
            where=Location(file=str(zip_path)),
            fix="rebuild the artifact with `aloft package`; do not unpack archives from elsewhere",
        )
    target = work.joinpath(*name.parts)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    mode = (info.external_attr >> 16) & 0o777
    target.chmod(0o755 if mode & 0o111 else 0o644)
