"""Building artifacts: the code zip, the dependency layer, the build cache and unpacking.

`build(service)` is what `aloft package` and both providers call; `unpack` turns an archive into
a content-addressed directory the local cloud runs from.
"""

from __future__ import annotations

from aloft.package.build import build, default_out_dir
from aloft.package.cache import default_cache_dir, default_unpack_root
from aloft.package.limits import UNZIPPED_LIMIT, ZIPPED_LIMIT
from aloft.package.manifest import HANDLER, ArtifactFile, Manifest, PackageSize
from aloft.package.pip import PipOutcome, PipRunner, SubprocessPip
from aloft.package.progress import NullProgress, Progress
from aloft.package.settings import runtime_settings
from aloft.package.target import Target
from aloft.package.unpack import unpack

__all__ = [
    "HANDLER",
    "UNZIPPED_LIMIT",
    "ZIPPED_LIMIT",
    "ArtifactFile",
    "Manifest",
    "NullProgress",
    "PackageSize",
    "PipOutcome",
    "PipRunner",
    "Progress",
    "SubprocessPip",
    "Target",
    "build",
    "default_cache_dir",
    "default_out_dir",
    "default_unpack_root",
    "runtime_settings",
    "unpack",
]
