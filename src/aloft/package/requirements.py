"""Finding a project's dependencies: which file declares them, and the pip lines they amount to.

Detection order: `requirements` in aloft.yml, requirements.txt, pyproject.toml
`[project].dependencies`, uv.lock, poetry.lock. Requirement files are flattened (`-r` includes
inlined, relative paths made absolute) so that the lines alone describe the install and can key
the build cache.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aloft.config.models import Service
from aloft.errors import Location, PackageError
from aloft.package.locks import poetry_lock_lines, uv_lock_lines

SourceKind = Literal["requirements", "pyproject", "uv.lock", "poetry.lock"]


@dataclass(frozen=True)
class Requirements:
    """What pip installs: `lines` of a requirements file, and where they were declared."""

    source: Path
    kind: SourceKind
    lines: tuple[str, ...]
    key_material: tuple[str, ...] = ()  # content pip reads that `lines` only point at (-c files)

    @property
    def empty(self) -> bool:
        return not any(_is_requirement(line) for line in self.lines)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)

    def line_of(self, package: str) -> int | None:
        """The line of `source` that declares `package` (for error locations), if any."""
        wanted = normalize_name(package)
        try:
            text = self.source.read_text(encoding="utf-8")
        except OSError:
            return None
        for number, line in enumerate(text.splitlines(), 1):
            for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9._-]*", line):
                if normalize_name(token) == wanted:
                    return number
        return None


def normalize_name(name: str) -> str:
    """PEP 503 normalisation: `Foo_Bar.baz` and `foo-bar-baz` are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_requirement(line: str) -> bool:
    return bool(line) and not line.startswith("-")


def find_requirements(service: Service) -> Requirements | None:
    """The project's dependency declaration, or None when it declares none."""
    root = service.root
    if service.requirements:
        path = (root / service.requirements).resolve()
        if not path.is_file():
            raise PackageError(
                f"requirements file {service.requirements!r} does not exist ({path})",
                where=Location(key_path="requirements", stage=service.stage),
                fix="fix the path in aloft.yml (relative to the project), or remove the key to "
                "detect requirements.txt / pyproject.toml / uv.lock / poetry.lock",
            )
        return read_source(path, pyproject=root / "pyproject.toml")
    for name in ("requirements.txt", "pyproject.toml", "uv.lock", "poetry.lock"):
        path = root / name
        if path.is_file():
            found = read_source(path, pyproject=root / "pyproject.toml")
            if found is not None:
                return found
    return None


SHIPPED_BY_ALOFT = frozenset({"aloft"})
"""Projects listed as dependencies (so that `import aloft` works locally) that the artifact has
already: its runtime copy of aloft. Installing them would pull in the whole CLI's dependencies."""


def requirement_name(line: str) -> str | None:
    """The normalised project name a requirement line installs (None for options and paths)."""
    match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:[\[<>=!~;@(]|$)", line)
    return normalize_name(match.group(1)) if match else None


def declared_names(service: Service) -> tuple[frozenset[str], str]:
    """The normalised names of the project's requirements, and the file (relative to the
    project) that declares them, `requirements.txt` when none does."""
    found = find_requirements(service)
    if found is None:
        return frozenset(), "requirements.txt"
    try:
        shown = found.source.relative_to(service.root).as_posix()
    except ValueError:
        shown = str(found.source)
    return frozenset(n for n in map(requirement_name, found.lines) if n), shown


def _without_aloft(lines: list[str]) -> tuple[str, ...]:
    return tuple(line for line in lines if requirement_name(line) not in SHIPPED_BY_ALOFT)


def read_source(path: Path, *, pyproject: Path) -> Requirements | None:
    """Read one declaration file; None for a pyproject.toml that declares no dependencies."""
    name = path.name
    skip = SHIPPED_BY_ALOFT
    if name == "pyproject.toml":
        deps = _project_dependencies(path)
        return None if deps is None else Requirements(path, "pyproject", _without_aloft(deps))
    if name == "uv.lock":
        lines = uv_lock_lines(_toml(path), path.parent, skip=skip)
        return Requirements(path, "uv.lock", tuple(lines))
    if name == "poetry.lock":
        project = _toml(pyproject) if pyproject.is_file() else None
        lines = poetry_lock_lines(_toml(path), project, skip=skip)
        return Requirements(path, "poetry.lock", tuple(lines))
    lines, material = _flatten(path, seen=())
    return Requirements(path, "requirements", _without_aloft(lines), tuple(material))


def _toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise PackageError(
            f"{path.name} is not valid TOML: {exc}",
            where=Location(file=str(path)),
            fix=f"fix the syntax of {path.name} (or regenerate it)",
        ) from None


def _project_dependencies(path: Path) -> list[str] | None:
    project = _toml(path).get("project")
    if not isinstance(project, dict) or "dependencies" not in project:
        return None
    deps = project["dependencies"]
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise PackageError(
            "[project].dependencies must be a list of requirement strings",
            where=Location(file=str(path), key_path="project.dependencies"),
            fix='write e.g. dependencies = ["flask>=3"]',
        )
    return [d.strip() for d in deps]


# -- requirements files ---------------------------------------------------------

_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s+|=)(.+)$")
_CONSTRAINT = re.compile(r"^(?:-c|--constraint)(?:\s+|=)(.+)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s+|=)(.+)$")
_PATH_OPTION = re.compile(r"^(-f|--find-links)(?:\s+|=)(.+)$")


def _logical_lines(path: Path) -> list[str]:
    """Lines with comments removed and `\\` continuations joined, as pip reads them."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PackageError(
            f"cannot read requirements file {path}: {exc.strerror}",
            where=Location(file=str(path)),
            fix="check that the file exists and is readable",
        ) from None
    out: list[str] = []
    pending = ""
    for line in raw.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = re.sub(r"\s+", " ", pending + line).strip()
        pending = ""
        if line:
            out.append(line)
    if pending.strip():
        out.append(pending.strip())
    return out


def _local_path(value: str, base: Path) -> str | None:
    """`value` made absolute when it names a local path (`./lib`, `../pkg.whl`), else None."""
    if value.startswith(("./", "../", ".\\", "..\\")) or value in (".", ".."):
        return str((base / value).resolve())
    if value.startswith("file:"):
        return None
    if value.startswith("/"):
        return value
    return None


def _flatten(path: Path, seen: tuple[Path, ...]) -> tuple[list[str], list[str]]:
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(str(p) for p in (*seen, resolved))
        raise PackageError(
            f"requirements files include each other in a loop: {chain}",
            where=Location(file=str(path)),
            fix="remove one of the `-r` lines",
        )
    base = resolved.parent
    lines: list[str] = []
    material: list[str] = []
    for line in _logical_lines(resolved):
        if m := _INCLUDE.match(line):
            sub_lines, sub_material = _flatten(base / m.group(1).strip(), (*seen, resolved))
            lines += sub_lines
            material += sub_material
        elif m := _CONSTRAINT.match(line):
            target = (base / m.group(1).strip()).resolve()
            lines.append(f"-c {target}")
            material += _logical_lines(target)
        elif m := _EDITABLE.match(line):
            # pip cannot install editable projects into --target: install the project itself.
            value = m.group(1).strip()
            lines.append(_local_path(value, base) or value)
        elif m := _PATH_OPTION.match(line):
            value = m.group(2).strip()
            lines.append(f"{m.group(1)} {_local_path(value, base) or value}")
        else:
            first, _, rest = line.partition(" ")
            local = _local_path(first, base)
            lines.append(f"{local} {rest}".strip() if local else line)
    return lines, material
