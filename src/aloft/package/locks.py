"""Exporting pinned requirements from lock files (uv.lock, poetry.lock), without dev groups.

Both formats list every locked package; which of them the deployed app needs is found by walking
the dependency graph from the project's runtime dependencies (uv, Poetry 1.x), or read from the
`groups`/`category` each package carries (Poetry 1.0/2.x).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Markers:
    """The markers under which a package is needed: unconditional once any path needs it."""

    def __init__(self) -> None:
        self.by_package: dict[str, list[str] | None] = {}

    def add(self, key: str, marker: str | None) -> str | None:
        """Record a path to `key` under `marker`; returns the marker to walk its edges with."""
        if key in self.by_package and self.by_package[key] is None:
            return None
        known = self.by_package.get(key) or []
        if marker is None:
            self.by_package[key] = None
        elif marker not in known:
            self.by_package[key] = [*known, marker]
        return marker

    def line(self, key: str, pin: str) -> str:
        markers = self.by_package.get(key)
        if not markers:
            return pin
        if len(markers) == 1:
            return f"{pin} ; {markers[0]}"
        return f"{pin} ; " + " or ".join(f"({m})" for m in markers)


def _combine(outer: str | None, inner: str | None) -> str | None:
    if outer and inner:
        return f"({outer}) and ({inner})"
    return outer or inner


# -- uv.lock --------------------------------------------------------------------


def uv_lock_lines(
    lock: dict[str, Any], project_dir: Path, *, skip: frozenset[str] = frozenset()
) -> list[str]:
    """`name==version` lines for the runtime dependencies of the root project in a uv.lock.

    Packages named in `skip` are left out together with what only they need.
    """
    packages: list[dict[str, Any]] = [p for p in lock.get("package", []) if isinstance(p, dict)]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for pkg in packages:
        by_name.setdefault(_norm(str(pkg.get("name", ""))), []).append(pkg)

    def is_local(pkg: dict[str, Any]) -> bool:
        source = pkg.get("source", {})
        return isinstance(source, dict) and bool({"editable", "virtual"} & set(source))

    roots = [p for p in packages if is_local(p) and "." in p["source"].values()]
    if not roots:  # a lock without a root project: every non-local package is needed
        return sorted(_uv_pin(p, project_dir) for p in packages
                      if not is_local(p) and _norm(str(p.get("name", ""))) not in skip)

    def key(pkg: dict[str, Any]) -> str:
        return f"{_norm(pkg['name'])}=={pkg.get('version', '')}"

    def resolve(dep: dict[str, Any]) -> dict[str, Any] | None:
        candidates = by_name.get(_norm(str(dep.get("name", ""))), [])
        if "version" in dep:
            candidates = [c for c in candidates if c.get("version") == dep["version"]]
        return candidates[0] if candidates else None

    def edges(pkg: dict[str, Any], extras: Iterable[str]) -> list[dict[str, Any]]:
        deps = list(pkg.get("dependencies", []))
        optional = pkg.get("optional-dependencies", {})
        for extra in extras:
            deps += optional.get(extra, [])
        return [d for d in deps if isinstance(d, dict)]

    markers = _Markers()
    chosen: dict[str, dict[str, Any]] = {}
    root_keys = {key(r) for r in roots}
    stack: list[tuple[dict[str, Any], tuple[str, ...], str | None]] = [
        (r, (), None) for r in roots
    ]
    walked: set[tuple[str, tuple[str, ...], str | None]] = set()
    while stack:
        pkg, extras, marker = stack.pop()
        for dep in edges(pkg, extras):
            target = resolve(dep)
            if target is None or _norm(str(target.get("name", ""))) in skip:
                continue
            dep_marker = _combine(marker, dep.get("marker"))
            k = key(target)
            dep_marker = markers.add(k, dep_marker)
            chosen[k] = target
            visit = (k, tuple(sorted(dep.get("extra", []))), dep_marker)
            if visit not in walked:
                walked.add(visit)
                stack.append((target, visit[1], dep_marker))
    return [markers.line(k, _uv_pin(pkg, project_dir))
            for k, pkg in sorted(chosen.items()) if k not in root_keys]


def _uv_pin(pkg: dict[str, Any], project_dir: Path) -> str:
    """How pip installs one locked package: from the index, a git commit, a URL or a path."""
    source = pkg.get("source", {})
    source = source if isinstance(source, dict) else {}
    name = str(pkg["name"])
    if "git" in source:  # "https://host/repo?rev=main#<commit>": pin the locked commit
        url, _, commit = str(source["git"]).partition("#")
        url = url.split("?", 1)[0]
        return f"{name} @ git+{url}@{commit}" if commit else f"{name} @ git+{url}"
    if "url" in source:
        return f"{name} @ {source['url']}"
    for kind in ("path", "directory", "editable", "virtual"):
        if kind in source:
            return str((project_dir / str(source[kind])).resolve())
    return f"{name}=={pkg.get('version', '')}".rstrip("=")


# -- poetry.lock ----------------------------------------------------------------


def poetry_lock_lines(
    lock: dict[str, Any], pyproject: dict[str, Any] | None, *, skip: frozenset[str] = frozenset()
) -> list[str]:
    """`name==version` lines for the main group of a poetry.lock (without the `skip` packages;
    what only they need is left out too where the lock's graph is walked)."""
    packages: list[dict[str, Any]] = [
        p for p in lock.get("package", [])
        if isinstance(p, dict) and _norm(str(p.get("name", ""))) not in skip
    ]

    def pin(pkg: dict[str, Any]) -> str:
        line = f"{pkg['name']}=={pkg['version']}"
        marker = pkg.get("markers")
        if isinstance(marker, dict):  # Poetry 2 keys markers by group
            marker = marker.get("main")
        return f"{line} ; {marker}" if isinstance(marker, str) and marker else line

    if any("groups" in p for p in packages):  # Poetry 2: each package says its groups
        return sorted(pin(p) for p in packages if "main" in p.get("groups", []))
    if any("category" in p for p in packages):  # Poetry 1.0/1.1
        return sorted(pin(p) for p in packages if p.get("category") == "main")
    roots = _poetry_roots(pyproject)
    if roots is None:  # no pyproject to say which are runtime dependencies: take them all
        return sorted(pin(p) for p in packages)
    by_name = {_norm(str(p.get("name", ""))): p for p in packages}
    needed: set[str] = set()
    stack = list(roots)
    while stack:
        name = _norm(stack.pop())
        if name in needed or name not in by_name:
            continue
        needed.add(name)
        for dep, spec in by_name[name].get("dependencies", {}).items():
            specs = spec if isinstance(spec, list) else [spec]
            if all(isinstance(s, dict) and s.get("optional") for s in specs):
                continue  # only needed for an extra nobody asked for
            stack.append(dep)
    return sorted(pin(by_name[n]) for n in needed)


def _poetry_roots(pyproject: dict[str, Any] | None) -> list[str] | None:
    if pyproject is None:
        return None
    poetry = pyproject.get("tool", {}).get("poetry", {})
    deps = poetry.get("dependencies")
    roots: list[str] = []
    if isinstance(deps, dict):
        roots = [n for n in deps if n.lower() != "python"]
    project_deps = pyproject.get("project", {}).get("dependencies")
    if isinstance(project_deps, list):
        roots += [re.split(r"[\s<>=!~;\[(@]", str(d).strip(), maxsplit=1)[0] for d in project_deps]
    return roots if (isinstance(deps, dict) or isinstance(project_deps, list)) else None
