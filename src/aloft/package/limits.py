"""AWS Lambda's deployment package limits, checked before anything is uploaded."""

from __future__ import annotations

from aloft.errors import Location, PackageError
from aloft.package.manifest import PackageSize

MB = 1024 * 1024
ZIPPED_LIMIT = 50 * MB  # a zip uploaded directly (code + layers)
UNZIPPED_LIMIT = 250 * MB  # code and all layers, unpacked


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def check_lambda_limits(
    *, zipped: int, unzipped: int, packages: list[PackageSize], stage: str | None = None
) -> None:
    """Raise PackageError when the artifact exceeds what Lambda accepts."""
    if zipped <= ZIPPED_LIMIT and unzipped <= UNZIPPED_LIMIT:
        return
    if unzipped > UNZIPPED_LIMIT:
        what = f"the artifact is {_mb(unzipped)} unzipped; Lambda allows {_mb(UNZIPPED_LIMIT)}"
    else:
        what = f"the artifact is {_mb(zipped)} zipped; Lambda allows {_mb(ZIPPED_LIMIT)}"
    largest = sorted(packages, key=lambda p: -p.bytes)[:5]
    if largest:
        shown = ", ".join(f"{p.name} ({_mb(p.bytes)})" for p in largest)
        what += f"; the largest packages: {shown}"
    raise PackageError(
        what,
        where=Location(stage=stage),
        fix="set `slim: true` in aloft.yml (dependencies ship zipped and unpack at cold start), "
        "drop packages the functions do not need from the requirements, or leave large files "
        "out with `exclude`",
    )
