"""`build`: a service's artifact, the code zip plus the dependency layer, described by a manifest.

    <out_dir>/code.zip       the project, aloft's runtime and aloft_settings.json
    <out_dir>/layer.zip      the dependencies in Lambda layer layout (a link into the cache)
    <out_dir>/manifest.json  hashes, sizes, target and the package size table
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import aloft
from aloft.config.models import Service
from aloft.errors import PackageError
from aloft.package.archive import Entry, sha256_file, write_zip
from aloft.package.cache import BuildCache, default_cache_dir
from aloft.package.code_files import code_files
from aloft.package.dependencies import (
    Dependencies,
    DependencyStep,
    Layout,
    build_dependencies,
)
from aloft.package.django_static import Collected, collect_static, wants_collection
from aloft.package.files import temp_sibling
from aloft.package.limits import check_lambda_limits
from aloft.package.manifest import MANIFEST_FILE, ArtifactFile, Manifest
from aloft.package.modules import calls_tasks, imports_zappa
from aloft.package.pip import PipRunner, SubprocessPip
from aloft.package.progress import NullProgress, Progress
from aloft.package.requirements import find_requirements
from aloft.package.settings import runtime_settings, settings_json
from aloft.package.target import Target
from aloft.package.unpack import unpack
from aloft.runtime.settings import SETTINGS_FILE

CODE_ZIP = "code.zip"
LAYER_ZIP = "layer.zip"
ZAPPA_SHIM = [
    Entry("zappa/__init__.py", data=b'"""aloft\'s stand-in for Zappa in the function: '
          b'zappa.asynchronous (tasks)."""\n'),
    Entry("zappa/asynchronous.py", data=b"from aloft.runtime.zappa_tasks import *  # noqa: F403\n"
          b"from aloft.runtime.zappa_tasks import __all__  # noqa: F401\n"),
]
"""What a project whose code imports `zappa` gets in its code zip (aloft.runtime.zappa_tasks)."""
DEPS_ZIP = "aloft_deps.zip"
"""With `slim: true`: the dependencies, zipped, at the code zip's root."""


def default_out_dir(service: Service) -> Path:
    return service.root / ".aloft" / "build" / service.stage


def runtime_entries() -> list[Entry]:
    """aloft's runtime, copied from the installed package: `aloft/__init__.py`, `aloft/runtime/`."""
    package = Path(aloft.__file__).parent
    entries = [Entry.file("aloft/__init__.py", package / "__init__.py")]
    for path in sorted((package / "runtime").rglob("*.py")):
        entries.append(Entry.file("aloft/" + path.relative_to(package).as_posix(), path))
    return entries


def build(
    service: Service,
    *,
    target: Target | None = None,
    out_dir: Path | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    pip: PipRunner | None = None,
    dependency_steps: Sequence[DependencyStep] = (),
) -> Manifest:
    """Build the artifact for `service` and return its manifest (also written to out_dir).

    `dependency_steps` (packaging plugins) change the installed dependencies before the zip.
    """
    started = time.perf_counter()
    target = target or Target.for_service(service)
    out_dir = (out_dir or default_out_dir(service)).absolute()  # the manifest's paths too
    cache = BuildCache(cache_dir or default_cache_dir())
    progress = progress or NullProgress()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackageError(f"cannot create the build directory {out_dir}: {exc.strerror}",
                           fix="check the directory's permissions, or pass another out_dir"
                           ) from None

    deps = _dependencies(service, target, cache, progress, pip, dependency_steps)
    collected = None
    if wants_collection(service):  # before the code zip: the static directory may be in it
        collected = collect_static(service, _unpacked(deps, cache), progress,
                                   python_version=target.python_version)

    progress.step("code")
    files = code_files(service, skip=[out_dir])
    entries = code_entries(service, deps if service.slim else None, files=files)
    partial = temp_sibling(out_dir / CODE_ZIP)  # unique: concurrent builds do not collide
    layer_archive = deps.archive if deps is not None and not service.slim else None
    packages = deps.archive.packages if deps is not None else []
    code_path = out_dir / CODE_ZIP
    try:  # a limit exceeded, or Ctrl-C: no partial zip is left behind
        write_zip(partial, entries)
        code_size = partial.stat().st_size
        code_unzipped = sum(e.size() for e in entries)
        progress.done("code", f"{len(entries)} files")
        if target.provider == "aws":
            check_lambda_limits(
                zipped=code_size + (layer_archive.size if layer_archive else 0),
                unzipped=code_unzipped + (layer_archive.unzipped_size if layer_archive else 0),
                packages=packages, stage=service.stage,
            )
        os.replace(partial, code_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    code = ArtifactFile(code_path, code_size, sha256_file(code_path))
    layer: ArtifactFile | None = None
    layer_path = out_dir / LAYER_ZIP
    if layer_archive is not None:
        _link(layer_archive.path, layer_path)
        layer = ArtifactFile(layer_path, layer_archive.size, layer_archive.sha256)
    else:
        layer_path.unlink(missing_ok=True)  # from an earlier build with dependencies

    manifest = Manifest(
        code=code,
        layer=layer,
        python_version=target.python_version,
        platform=target.platform,
        provider=target.provider,
        packages=list(packages),
        build_seconds=round(time.perf_counter() - started, 3),
        cached_layer=deps.cached if deps is not None else False,
        tasks=calls_tasks(files),
        static=(collected.path, collected.directory) if collected else None,
    )
    manifest.write(out_dir / MANIFEST_FILE)
    progress.done("artifact", f"{out_dir}")
    return manifest


def collect_static_files(
    service: Service,
    args: Sequence[str] = (),
    *,
    target: Target | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    pip: PipRunner | None = None,
) -> Collected | None:
    """`collectstatic` (with its options `args`) on this machine, as a build runs it: what
    `aloft manage STAGE collectstatic` does for a project whose static files aloft serves.
    None when aloft does not serve them (or the project is not Django's)."""
    if not wants_collection(service):
        return None
    target = target or Target.for_service(service)
    cache = BuildCache(cache_dir or default_cache_dir())
    progress = progress or NullProgress()
    deps = _dependencies(service, target, cache, progress, pip, ())
    return collect_static(service, _unpacked(deps, cache), progress, tuple(args),
                          target.python_version)


def _dependencies(service: Service, target: Target, cache: BuildCache, progress: Progress,
                  pip: PipRunner | None,
                  dependency_steps: Sequence[DependencyStep]) -> Dependencies | None:
    progress.step("requirements")
    requirements = find_requirements(service)
    if requirements is None or requirements.empty:
        progress.done("requirements", "no dependencies")
        return None
    progress.done("requirements", _shown(requirements.source, service.root))
    layout: Layout = "slim" if service.slim else "layer"
    return build_dependencies(requirements, target, layout, cache, pip or SubprocessPip(),
                              progress, dependency_steps)


def _unpacked(deps: Dependencies | None, cache: BuildCache) -> Path | None:
    """The dependencies' directory, unpacked once per content (Django is imported from it)."""
    if deps is None:
        return None
    return unpack(deps.archive.path, cache.unpacked, sha256=deps.archive.sha256)


def code_entries(service: Service, slim_deps: Dependencies | None, *,
                 files: list[tuple[str, Path]]) -> list[Entry]:
    """The code zip: the project's `files`, aloft's runtime, the settings (and slim
    dependencies)."""
    entries = [Entry.file(rel, path) for rel, path in files]
    entries += runtime_entries()
    if imports_zappa(files):  # Zappa's @task, on aloft's (Zappa itself is not shipped)
        entries += ZAPPA_SHIM
    entries.append(Entry(SETTINGS_FILE, data=settings_json(runtime_settings(service))))
    if slim_deps is not None:
        entries.append(Entry.file(DEPS_ZIP, slim_deps.archive.path, stored=True))
    return entries


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _link(src: Path, dest: Path) -> None:
    """Make `dest` the same file as `src`: a hard link (instant), else a copy; atomically."""
    try:
        if dest.exists() and os.path.samefile(src, dest):
            return
    except OSError:
        pass
    tmp = temp_sibling(dest)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
