"""`aloft init`: find what a directory holds and write the matching aloft.yml.

Detection reads source files as text (nothing is imported or executed): a module creating
`Flask(` or `FastAPI(`, a Django project (manage.py naming its settings module), or functions taking
`(event, context)` such as `handler` / `lambda_handler` (named after their module).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aloft.errors import Location, UsageError

_SKIP_DIRS = {
    ".git", ".hg", ".venv", "venv", "env", ".env", "node_modules", "__pycache__", ".aloft",
    "build", "dist", "site-packages", ".tox", ".nox", ".mypy_cache", ".pytest_cache", "tests",
    "test", "migrations",
}
_MAX_DEPTH = 3  # project layouts nest the app at most a couple of packages deep

_APP_ASSIGN = {
    "flask": re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=\s*(?:flask\.)?Flask\(", re.M),
    "fastapi": re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=\n]+)?=\s*(?:fastapi\.)?FastAPI\(", re.M),
}
_HANDLER = re.compile(
    r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(\s*event\b[^)]*?,\s*context\b", re.M
)
_GENERIC_HANDLERS = ("handler", "lambda_handler")  # named after their module instead
_FACTORY_APP = re.compile(r"^[ \t]+[A-Za-z_]\w*\s*(?::[^=\n]+)?=\s*(?:flask\.|fastapi\.)?"
                          r"(Flask|FastAPI)\(", re.M)
_FACTORY_DEF = re.compile(r"^def\s+((?:create|make|build)_\w*app\w*)\s*\(", re.M)
_DJANGO_SETTINGS = re.compile(
    r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([A-Za-z_][\w.]*)['"]"""
)
# Conventional module names first when several files define an app.
_PREFERRED = ("app", "main", "application", "wsgi", "asgi", "server", "api")


@dataclass(frozen=True)
class Detection:
    """What `aloft init` found: the kind, the config keys to write, and a note for the user."""

    kind: str  # flask | fastapi | django | functions
    source: str  # the file it was found in, relative to the project
    app: str | None = None
    django_settings: str | None = None
    handlers: dict[str, str] = field(default_factory=dict)  # function name -> module.func
    others: tuple[str, ...] = ()  # further candidates that were not chosen


def service_name(directory: Path) -> str:
    """A valid service name from a directory name: `My App!` -> `my-app`."""
    name = re.sub(r"[^A-Za-z0-9-]+", "-", directory.name.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = f"app-{name}" if name else "app"
    return name[:63].rstrip("-")


def _python_files(root: Path) -> Iterator[Path]:
    def walk(directory: Path, depth: int) -> Iterator[Path]:
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            return
        for entry in entries:
            if entry.is_file() and entry.suffix == ".py":
                yield entry
        if depth < _MAX_DEPTH:
            for entry in entries:
                if entry.is_dir() and entry.name not in _SKIP_DIRS and not entry.name.startswith(
                    "."
                ) and not (entry / "pyvenv.cfg").exists():
                    yield from walk(entry, depth + 1)

    yield from walk(root, 0)


def _module(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if len(parts) > 1 and parts[-1] == "__init__":
        parts = parts[:-1]  # a package's own module is imported by the package name
    return ".".join(parts)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _rank(module: str) -> tuple[int, int, str]:
    last = module.rsplit(".", 1)[-1]
    preferred = _PREFERRED.index(last) if last in _PREFERRED else len(_PREFERRED)
    return (module.count("."), preferred, module)


def _detect_django(root: Path) -> Detection | None:
    manage = root / "manage.py"
    if not manage.is_file():
        return None
    match = _DJANGO_SETTINGS.search(_read(manage))
    if match:
        return Detection("django", "manage.py", django_settings=match.group(1))
    candidates = sorted(_module(root, p) for p in root.glob("*/settings.py"))
    if candidates:
        return Detection("django", "manage.py", django_settings=candidates[0],
                         others=tuple(candidates[1:]))
    raise UsageError(
        "manage.py does not name a settings module (DJANGO_SETTINGS_MODULE)",
        where=Location(file=str(manage)),
        fix="write aloft.yml by hand with `django_settings: yourproject.settings`",
    )


def detect(root: Path) -> Detection:
    """The app or functions in `root`; a UsageError with the fix when there is nothing."""
    django = _detect_django(root)
    if django:
        return django
    apps: list[tuple[str, str, str, str]] = []  # (module, attribute, kind, file)
    handlers: dict[str, str] = {}
    first_handler_file = ""
    factories: list[tuple[str, str, str]] = []  # (file, framework, factory function)
    for path in _python_files(root):
        text = _read(path)
        module = _module(root, path)
        factory = _FACTORY_APP.search(text)
        if factory:
            made_by = _FACTORY_DEF.search(text)
            factories.append((str(path.relative_to(root)), factory.group(1),
                              f"{module}.{made_by.group(1)}" if made_by else ""))
        for kind, pattern in _APP_ASSIGN.items():
            for match in pattern.finditer(text):
                apps.append((module, match.group(1), kind, str(path.relative_to(root))))
        for match in _HANDLER.finditer(text):
            if match.group(1).startswith("_"):
                continue
            name = _function_name(module, match.group(1), handlers)
            handlers[name] = f"{module}.{match.group(1)}"
            first_handler_file = first_handler_file or str(path.relative_to(root))
    if apps:
        apps.sort(key=lambda item: _rank(item[0]))
        module, attribute, kind, source = apps[0]
        return Detection(
            kind,
            source,
            app=f"{module}:{attribute}",
            others=tuple(f"{m}:{a}" for m, a, _, _ in apps[1:]),
        )
    if handlers:
        return Detection("functions", first_handler_file, handlers=handlers)
    if factories:
        file, framework, function = factories[0]
        module, _, name = function.rpartition(".")
        call = f"from {module} import {name}; app = {name}()" if function else "app = <factory>()"
        raise UsageError(
            f"found a {framework} app created inside a function (an app factory) in {file}, "
            "but no app at module level",
            fix=f"create it at module level, e.g. a wsgi.py with `{call}`, then run "
            "`aloft init` again (or write `app: wsgi:app` in aloft.yml)",
        )
    raise UsageError(
        f"found no Flask, FastAPI or Django app and no function(event, context) in {root}",
        fix="start a new project with `aloft init --template function|flask|fastapi|django`",
    )


def _function_name(module: str, func: str, taken: dict[str, str]) -> str:
    source = module.rsplit(".", 1)[-1] if func in _GENERIC_HANDLERS else func
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", source).strip("-_") or "handler"
    if not base[0].isalpha() or base == "app":
        base = f"fn-{base}" if base != "app" else "handler"
    name, n = base[:60], 2
    while name in taken:
        name, n = f"{base[:58]}-{n}", n + 1
    return name


def render_config(detection: Detection, service: str) -> str:
    """aloft.yml for a detection, with comments pointing at what to edit next."""
    what = {
        "flask": "a Flask app", "fastapi": "a FastAPI app", "django": "a Django project",
        "functions": "function handlers",
    }[detection.kind]
    lines = [
        f"# aloft.yml: written by `aloft init` ({what} found in {detection.source}).",
        "# Every key is described in docs/configuration.md; check it with `aloft validate`.",
        f"service: {service}",
    ]
    if detection.app:
        lines.append(f"app: {detection.app}")
    if detection.django_settings:
        lines.append(f"django_settings: {detection.django_settings}")
    if detection.handlers:
        lines.append("functions:")
        for index, (name, handler) in enumerate(detection.handlers.items()):
            lines += [f"  {name}:", f"    handler: {handler}"]
            if index == 0:  # one commented example is enough
                lines += [
                    "    # events:",
                    '    #   - http: "GET /hello"',
                    '    #   - schedule: "rate(5 minutes)"',
                ]
    lines += [
        "stages:",
        "  dev:",
        "    provider: local",
        "  # prod:",
        "  #   provider: aws",
        "  #   aws: {region: eu-west-1}",
        "",
    ]
    return "\n".join(lines)
