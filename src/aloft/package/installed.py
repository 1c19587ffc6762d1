"""A pip --target directory: tidying it for shipping and measuring what each package weighs."""

from __future__ import annotations

import csv
import email.parser
import os
import shutil
from pathlib import Path

from aloft.package.manifest import PackageSize
from aloft.package.requirements import normalize_name

AWS_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})
"""In every Lambda Python runtime already: shipping them only adds ~25 MB."""


def _distributions(site: Path) -> list[Path]:
    return sorted(p for p in site.glob("*.dist-info") if p.is_dir())


def _dist_name(dist_info: Path) -> str:
    try:
        with open(dist_info / "METADATA", encoding="utf-8", errors="replace") as fh:
            headers = email.parser.Parser().parse(fh, headersonly=True)
        name = headers.get("Name")
    except OSError:
        name = None
    return str(name) if name else dist_info.name.split("-")[0]


def _record_files(site: Path, dist_info: Path) -> list[Path]:
    """Files a distribution installed, from its RECORD (only those inside `site`)."""
    try:
        with open(dist_info / "RECORD", encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError:
        return [p for p in dist_info.rglob("*") if p.is_file()]
    files = []
    for row in rows:
        if not row or row[0].startswith(("/", "..")):
            continue  # scripts outside the target (../../bin/flask)
        files.append(site / row[0])
    return files


def tidy(site: Path, *, drop: frozenset[str] = frozenset()) -> None:
    """Remove what should not ship: bytecode, host-bound scripts and the distributions in `drop`.

    Modes are normalised (0o644/0o755) so that the unpacked tree matches the zip made from it.
    """
    for dist_info in _distributions(site):
        if normalize_name(_dist_name(dist_info)) in drop:
            for file in _record_files(site, dist_info):
                file.unlink(missing_ok=True)
            shutil.rmtree(dist_info, ignore_errors=True)
    shutil.rmtree(site / "bin", ignore_errors=True)  # scripts point at the build host's python
    for dirpath, dirnames, filenames in os.walk(site, topdown=False):
        base = Path(dirpath)
        for name in filenames:
            path = base / name
            if name.endswith((".pyc", ".pyo")):
                path.unlink()
                continue
            mode = path.lstat().st_mode
            path.chmod(0o755 if mode & 0o111 else 0o644)
        for name in dirnames:
            sub = base / name
            if name == "__pycache__" or not any(sub.iterdir()):
                shutil.rmtree(sub)
            else:
                sub.chmod(0o755)


def package_sizes(site: Path) -> list[PackageSize]:
    """Unzipped bytes of each installed distribution, largest first."""
    sizes = []
    for dist_info in _distributions(site):
        total = 0
        for file in _record_files(site, dist_info):
            try:
                total += file.stat().st_size
            except OSError:
                continue  # listed but removed (bytecode)
        sizes.append(PackageSize(_dist_name(dist_info), total))
    return sorted(sizes, key=lambda p: (-p.bytes, p.name.lower()))
