"""The dependency archive: pip install for the target, tidy, zip, cache.

Two layouts: a Lambda layer (everything under `python/`, which Lambda puts on sys.path from
/opt/python) or, with `slim: true`, the packages at the archive's root (`aloft_deps.zip`, which
the runtime extracts at cold start and puts on sys.path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aloft.package.archive import sha256_file, tree_entries, unzipped_size, write_zip
from aloft.package.cache import BuildCache, CachedArchive, cache_key
from aloft.package.installed import AWS_PROVIDED, package_sizes, tidy
from aloft.package.pip import PipRunner, install_args
from aloft.package.pip_errors import pip_failure
from aloft.package.progress import Progress
from aloft.package.requirements import Requirements, requirement_name
from aloft.package.target import Target

Layout = Literal["layer", "slim"]
LAYER_PREFIX = "python/"


@dataclass(frozen=True)
class Dependencies:
    archive: CachedArchive
    cached: bool


@dataclass(frozen=True)
class DependencyStep:
    """A change to the installed dependency tree before it is zipped (a packaging plugin)."""

    key: str  # names the step and its version: part of the cache key, so a change rebuilds
    run: Callable[[Path, Target], None]  # (the pip --target directory, the target)


def dependency_key(
    requirements: Requirements, target: Target, layout: Layout,
    steps: Sequence[DependencyStep] = (),
) -> str:
    parts: dict[str, object] = {
        "requirements": list(requirements.lines),
        "included": list(requirements.key_material),
        "provider": target.provider,
        "python": target.python_version,
        "platform": target.platform,
        "layout": layout,
        "dropped": sorted(_dropped(target, requirements)),
    }
    if steps:  # absent without plugins: existing cache entries stay valid
        parts["steps"] = [step.key for step in steps]
    return cache_key(parts)


def _dropped(target: Target, requirements: Requirements) -> frozenset[str]:
    """What the artifact leaves to Lambda's runtime: boto3 and its kin, unless the project pins
    one itself (`boto3==1.40.0` in a requirements file): on Lambda a shipped boto3 wins, and
    the local cloud runs the pin too."""
    if target.provider != "aws":
        return frozenset()
    return AWS_PROVIDED - pinned(requirements)


def pinned(requirements: Requirements) -> frozenset[str]:
    """The names requirements.txt or pyproject.toml pin with `==` (a lock pins all it resolved,
    wanted or not: none counts)."""
    if requirements.kind not in ("requirements", "pyproject"):
        return frozenset()
    return frozenset(name for line in requirements.lines if "==" in line
                     and (name := requirement_name(line)) is not None)


def build_dependencies(
    requirements: Requirements,
    target: Target,
    layout: Layout,
    cache: BuildCache,
    pip: PipRunner,
    progress: Progress,
    steps: Sequence[DependencyStep] = (),
) -> Dependencies:
    """The dependency archive for `requirements`, from the cache or freshly installed."""
    key = dependency_key(requirements, target, layout, steps)
    cached = cache.lookup(key)
    if cached is not None:
        progress.done("dependencies", f"cached ({len(cached.packages)} packages)")
        return Dependencies(cached, cached=True)
    progress.step("dependencies", f"pip install from {requirements.source.name} for {target}")
    with cache.staging() as work:
        req_file = work / "requirements.txt"
        req_file.write_text(requirements.text(), encoding="utf-8")
        # The unpacked tree is built in its final shape (`python/...` for a layer).
        unpacked = work / "unpacked"
        site = unpacked / LAYER_PREFIX.rstrip("/") if layout == "layer" else unpacked
        site.mkdir(parents=True)
        outcome = pip(install_args(target, req_file, site))
        if outcome.returncode != 0:
            raise pip_failure(outcome.output, requirements, target)
        tidy(site, drop=_dropped(target, requirements))
        for step in steps:
            step.run(site, target)
        packages = package_sizes(site)
        progress.step("dependencies", f"zip {len(packages)} packages")
        archive = work / "archive.zip"
        write_zip(archive, tree_entries(unpacked))
        meta = CachedArchive(
            path=archive, sha256=sha256_file(archive), size=archive.stat().st_size,
            unzipped_size=unzipped_size(archive), packages=packages,
        )
        stored = cache.store(key, archive, meta, unpacked)
    progress.done("dependencies", f"{len(packages)} packages")
    return Dependencies(stored, cached=False)
