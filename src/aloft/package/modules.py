"""The project's own Python modules as the package ships them, read with `ast` (never run):
the names each defines at its top level and the imports it makes there.

`aloft validate` checks `app:`/`handler:` references and imports against them, and a function
that failed to initialise gets its did-you-mean from them (aloft.init_report).
"""

from __future__ import annotations

import ast
import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aloft.config.models import Service


@dataclass(frozen=True)
class ImportRef:
    """One import a module makes at its top level (an absolute dotted name)."""

    module: str
    line: int
    optional: bool = False  # under `try: ... except ImportError` or `if TYPE_CHECKING:`
    relative: bool = False  # written `from . import x` / `from .m import x`
    names: tuple[str, ...] = ()  # `from module import a, b` (not `*`)


@dataclass(frozen=True)
class ModuleFacts:
    name: str  # dotted, as imported: `shop.views`
    path: Path
    names: frozenset[str] = frozenset()  # what it defines or imports at its top level
    star: bool = False  # `from x import *`: more names than `names` says
    imports: tuple[ImportRef, ...] = ()
    syntax_error: str | None = None  # `invalid syntax (line 3)` when it does not parse

    @property
    def syntax_line(self) -> int | None:
        found = re.search(r"\(line (\d+)\)$", self.syntax_error or "")
        return int(found.group(1)) if found else None


@dataclass(frozen=True)
class CodeReference:
    """A setting that names code: `app: app:app`, `handler: handlers.hello`."""

    key: str  # the key as written in aloft.yml: `app`, `handler`, `exception_handler`
    value: str

    @property
    def module(self) -> str:
        return self.value.partition(":")[0] if ":" in self.value \
            else self.value.rpartition(".")[0]

    @property
    def attribute(self) -> str:
        return self.value.partition(":")[2] if ":" in self.value \
            else self.value.rpartition(".")[2]

    def with_module(self, module: str) -> str:
        return f"{module}{':' if ':' in self.value else '.'}{self.attribute}"

    def with_attribute(self, attribute: str) -> str:
        return f"{self.module}{':' if ':' in self.value else '.'}{attribute}"


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate `word` was most likely meant to be (difflib), if any is close enough."""
    found = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None


@dataclass(frozen=True)
class ProjectCode:
    root: Path
    modules: Mapping[str, ModuleFacts] = field(default_factory=dict)
    unpackaged: frozenset[str] = frozenset()
    """Top-level modules or packages that are in the project directory but that the package
    leaves out (`exclude`, or a built-in exclusion such as `tests/`)."""

    def top_level(self) -> frozenset[str]:
        """The names `import x` finds in the project (modules, packages, namespace dirs)."""
        return frozenset(name.split(".", 1)[0] for name in self.modules)

    def defines(self, module: str, name: str) -> bool | None:
        """Whether `module` defines `name` at its top level; None when it cannot be known (no
        such module, a syntax error, a `*` import, or a package whose submodule it may be)."""
        facts = self.modules.get(module)
        if facts is None or facts.syntax_error is not None:
            return None
        if name in facts.names or f"{module}.{name}" in self.modules:
            return True
        return None if facts.star else False


def module_name(rel: str) -> str | None:
    """`shop/views.py` -> `shop.views`, `shop/__init__.py` -> `shop`; None when the path is
    not importable as a module (not .py, or a directory name that is not an identifier)."""
    if not rel.endswith(".py"):
        return None
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def _guards_imports(handlers: Iterable[ast.ExceptHandler]) -> bool:
    for handler in handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for kind in kinds:
            if kind is None or (isinstance(kind, ast.Name) and kind.id in (
                    "ImportError", "ModuleNotFoundError", "Exception", "BaseException")):
                return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(target: ast.expr) -> Iterable[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _targets(element)
    elif isinstance(target, ast.Starred):
        yield from _targets(target.value)


def _resolve(module: str | None, level: int, package: str) -> str:
    """The absolute name of `from <level dots><module> import ...` in `package`."""
    base = package.split(".") if package else []
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def module_facts(name: str, path: Path, source: str, *, is_package: bool = False) -> ModuleFacts:
    """What `source` (the module `name`) defines and imports at its top level."""
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        return ModuleFacts(name, path, syntax_error=f"{exc.msg} (line {exc.lineno})")
    package = name if is_package else name.rpartition(".")[0]
    names: set[str] = set()
    imports: list[ImportRef] = []
    star = False

    def visit(statements: Iterable[ast.stmt], optional: bool) -> None:
        nonlocal star
        for node in statements:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(_targets(target))
            elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                names.update(_targets(node.target))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    names.add(alias.asname or alias.name.split(".", 1)[0])
                    imports.append(ImportRef(alias.name, node.lineno, optional))
            elif isinstance(node, ast.ImportFrom):
                relative = node.level > 0
                imported = _resolve(node.module, node.level, package) if relative \
                    else node.module or ""
                if imported:
                    imports.append(ImportRef(
                        imported, node.lineno, optional, relative,
                        tuple(a.name for a in node.names if a.name != "*")))
                for alias in node.names:
                    if alias.name == "*":
                        star = True
                    else:
                        names.add(alias.asname or alias.name)
            elif isinstance(node, ast.If):
                checking = _is_type_checking(node.test)
                visit(node.body, optional or checking)
                visit(node.orelse, optional)
            elif isinstance(node, ast.Try | ast.TryStar):
                guarded = _guards_imports(node.handlers)
                visit(node.body, optional or guarded)
                for handler in node.handlers:
                    visit(handler.body, optional)
                visit(node.orelse, optional)
                visit(node.finalbody, optional)
            elif isinstance(node, ast.With | ast.AsyncWith | ast.For | ast.AsyncFor | ast.While):
                visit(node.body, optional)
                visit(getattr(node, "orelse", []), optional)

    visit(tree.body, False)
    return ModuleFacts(name, path, frozenset(names), star, tuple(imports))


def project_code(root: Path, files: Iterable[tuple[str, Path]]) -> ProjectCode:
    """The facts of every module among `files` (the package's (relative path, file) pairs)."""
    modules: dict[str, ModuleFacts] = {}
    for rel, path in files:
        name = module_name(rel)
        if name is None:
            continue
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        modules[name] = module_facts(name, path, source, is_package=rel.endswith("__init__.py"))
        # A namespace package (a directory without __init__.py) is importable too; a real
        # __init__.py read later replaces this stand-in.
        parts = name.split(".")
        for cut in range(1, len(parts)):
            prefix = ".".join(parts[:cut])
            if prefix not in modules:
                modules[prefix] = ModuleFacts(prefix, root.joinpath(*parts[:cut]), star=True)
    shipped = frozenset(name.split(".", 1)[0] for name in modules)
    return ProjectCode(root, modules, _unpackaged(root, shipped))


def _unpackaged(root: Path, shipped: frozenset[str]) -> frozenset[str]:
    try:
        entries = os.listdir(root)
    except OSError:
        return frozenset()
    found = set()
    for entry in entries:
        path = root / entry
        name = entry[:-3] if entry.endswith(".py") and path.is_file() else entry \
            if path.is_dir() and (path / "__init__.py").is_file() else None
        if name and name.isidentifier() and name not in shipped:
            found.add(name)
    return frozenset(found)


_TASK_IMPORT = re.compile(
    r"^[ \t]*(?:import[ \t]+(?:aloft|zappa)\b"
    r"|from[ \t]+aloft(?:\.runtime(?:\.tasks)?)?[ \t]+import\b"
    r"|from[ \t]+zappa(?:\.asynchronous)?[ \t]+import\b)",
    re.MULTILINE)
_ZAPPA_IMPORT = re.compile(
    r"^[ \t]*(?:(?:import|from)[ \t]+zappa\.asynchronous\b|from[ \t]+zappa[ \t]+import[ \t]+"
    r"\(?[ \t]*asynchronous\b)", re.MULTILINE)


def calls_tasks(files: Iterable[tuple[str, Path]]) -> bool:
    """Whether the project's code imports `aloft` (for `@aloft.task`) or Zappa's tasks,
    anywhere in a module: its functions may then invoke their task target
    (aloft.stage.grants)."""
    return _any_module(files, _TASK_IMPORT)


def imports_zappa(files: Iterable[tuple[str, Path]]) -> bool:
    """Whether the project's code imports `zappa.asynchronous` (Zappa's `@task`, which
    aloft.runtime.zappa_tasks stands in for) and has no `zappa` package of its own."""
    listed = list(files)
    if any(rel.startswith("zappa/") or rel == "zappa.py" for rel, _ in listed):
        return False
    return _any_module(listed, _ZAPPA_IMPORT)


def _any_module(files: Iterable[tuple[str, Path]], pattern: re.Pattern[str]) -> bool:
    for rel, path in files:
        if not rel.endswith(".py") or rel.startswith("aloft/"):
            continue
        try:
            if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False


def read_project_code(service: Service) -> ProjectCode:
    """The project's modules as `aloft package` would ship them (its `exclude` applied)."""
    from aloft.package.code_files import code_files

    return project_code(service.root, code_files(service))
