"""Which files of the project go into the code zip.

Everything under the service's root except tooling and environments (VCS data, virtualenvs,
caches, tests, build output), the config file itself and the user's `exclude` globs.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aloft.config.models import Service
from aloft.errors import Location, PackageError

EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", ".tox", ".nox", "__pycache__", "tests", "node_modules",
    ".aloft", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".idea", ".vscode",
})
"""Directory names left out at any depth."""
EXCLUDED_TOP_DIRS = frozenset({"venv", "env", "virtualenvs", "dist", "build"})
"""Left out at the project root only: deeper, such names may be the user's own packages."""
EXCLUDED_DIR_GLOBS = ("*.egg-info",)
EXCLUDED_FILE_GLOBS = ("*.pyc", "*.pyo", ".DS_Store")
CONFIG_FILES = ("aloft.yml", "aloft.yaml")
RESERVED = ("aloft", "aloft.py", "aloft_settings.json", "aloft_deps.zip")
"""Top-level names the artifact's runtime uses; a project may not ship its own."""


@dataclass(frozen=True)
class ExcludeRules:
    """The user's `exclude` globs, gitignore-style.

    A glob without `/` matches a file or directory name at any depth (`*.log`, `fixtures`); one
    with `/` matches the path from the project root (`docs/*.md`, `/scripts`). A trailing `/`
    matches directories only.
    """

    globs: tuple[str, ...]

    def excludes(self, rel: str, name: str, is_dir: bool) -> bool:
        for glob in self.globs:
            pattern = glob.strip()
            dir_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            if not pattern or (dir_only and not is_dir):
                continue
            if "/" in pattern:
                if fnmatch.fnmatchcase(rel, pattern.lstrip("/")):
                    return True
            elif fnmatch.fnmatchcase(name, pattern):
                return True
        return False


def _builtin_excluded_dir(path: Path, name: str, top: bool) -> bool:
    if name in EXCLUDED_DIRS or (top and name in EXCLUDED_TOP_DIRS):
        return True
    if any(fnmatch.fnmatchcase(name, g) for g in EXCLUDED_DIR_GLOBS):
        return True
    return (path / "pyvenv.cfg").exists()  # a virtualenv under any name


def _config_names(service: Service) -> set[str]:
    names = set(CONFIG_FILES)
    if service.config_file is not None:
        config, root = service.config_file.resolve(), service.root.resolve()
        if config.is_relative_to(root):  # else it lives outside the project: nothing to drop
            names.add(config.relative_to(root).as_posix())
    return names


def code_files(service: Service, *, skip: Iterable[Path] = ()) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) for every project file that ships, sorted by name.

    `skip`: directories left out too (the build's own output directory when it is inside).
    """
    root = service.root.resolve()
    skipped = {p.resolve() for p in skip}
    if not root.is_dir():
        raise PackageError(
            f"project directory {root} does not exist",
            where=Location(stage=service.stage),
            fix="run aloft from the directory that holds aloft.yml",
        )
    rules = ExcludeRules(tuple(service.exclude))
    skip_files = _config_names(service)
    out: list[tuple[str, Path]] = []
    # Symlinked directories are followed (a shared library linked into the project ships), each
    # real directory once, so that a link to an ancestor cannot loop.
    visited = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        base = Path(dirpath)
        rel_dir = base.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = []
        for name in dirnames:
            path = base / name
            if path in skipped or _builtin_excluded_dir(path, name, top=not prefix):
                continue
            if rules.excludes(prefix + name, name, True):
                continue
            real = os.path.realpath(path)
            if real in visited:
                continue
            visited.add(real)
            kept.append(name)
        dirnames[:] = sorted(kept)
        for name in filenames:
            rel = prefix + name
            if rel in skip_files or any(fnmatch.fnmatchcase(name, g) for g in EXCLUDED_FILE_GLOBS):
                continue
            if rules.excludes(rel, name, False):
                continue
            path = base / name
            if not path.is_file():  # a dangling symlink, socket or fifo
                continue
            out.append((rel, path))
    out.sort()
    _check_reserved(service, (rel for rel, _ in out))
    return out


def _check_reserved(service: Service, names: Iterable[str]) -> None:
    for rel in names:
        top = rel.split("/", 1)[0]
        if top in RESERVED:
            raise PackageError(
                f"the project ships {rel!r}, but {top!r} is reserved for aloft's runtime in the "
                "artifact",
                where=Location(file=str(service.root / top), stage=service.stage),
                fix=f"rename it, or add `{top}` to `exclude` in aloft.yml",
            )
