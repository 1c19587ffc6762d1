"""`aloft init --template`: copy a project template from `aloft/templates/<name>/`.

Template files end in `.tmpl` (so that linters and test runners leave them alone) and may use
`__SERVICE__`, replaced by the service name.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from aloft.errors import Location, UsageError

TEMPLATES = ("function", "flask", "fastapi", "django")
_SUFFIX = ".tmpl"
BUILD_DIR_PATTERN = ".aloft/"
"""What `aloft init` puts in .gitignore: builds, unpacked artifacts and bytecode live there."""
TEMPLATE_IGNORES: dict[str, tuple[str, ...]] = {"django": ("/static/",)}
"""More .gitignore lines for a template's generated files (Django's collected static files:
every build collects them again)."""


def _template_files(name: str) -> list[tuple[str, str]]:
    """(relative path without .tmpl, text) for every file of a template."""
    root = files("aloft").joinpath("templates", name)
    found: list[tuple[str, str]] = []

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.is_dir():
                if child.name != "__pycache__":
                    walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(_SUFFIX):
                found.append((prefix + child.name[: -len(_SUFFIX)], child.read_text("utf-8")))

    walk(root, "")
    return found


def scaffold(name: str, target: Path, service: str, *, force: bool = False) -> list[Path]:
    """Write template `name` into `target`; refuses to overwrite files unless `force`."""
    if name not in TEMPLATES:
        raise UsageError(f"unknown template {name!r}", fix=f"use one of: {', '.join(TEMPLATES)}")
    planned = [(target / rel, text.replace("__SERVICE__", service))
               for rel, text in _template_files(name)]
    if not planned:
        raise UsageError(f"template {name!r} is empty in this installation",
                         fix="reinstall aloft: pip install --force-reinstall aloft")
    existing = [path for path, _ in planned if path.exists()]
    if existing and not force:
        raise UsageError(
            f"{len(existing)} file(s) already exist, e.g. {existing[0]}",
            where=Location(file=str(target)),
            fix="choose an empty directory: aloft init --template NAME DIR, or pass --force",
        )
    for path, text in planned:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in planned]


def _spellings(pattern: str) -> set[str]:
    """The lines that ignore what `pattern` does: `.aloft`, `/.aloft/`, `.aloft/*`..."""
    name = pattern.strip("/")
    return {f"{lead}{name}{tail}" for lead in ("", "/") for tail in ("", "/", "/*")}


def add_ignores(root: Path, patterns: tuple[str, ...] = (BUILD_DIR_PATTERN,)) -> list[str]:
    """Add each of `patterns` to root/.gitignore (created if missing) unless a line already
    ignores it; returns those added. The rest of the file is kept byte for byte."""
    path = root / ".gitignore"
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", where=Location(file=str(path)),
                         fix=f"add the lines {' '.join(patterns)} to it yourself") from None
    present = {line.strip() for line in text.splitlines()}
    added = [p for p in patterns if not present & _spellings(p)]
    if added:
        separator = "" if not text or text.endswith("\n") else "\n"
        with path.open("a", encoding="utf-8") as out:
            out.write(separator + "".join(f"{p}\n" for p in added))
    return added
