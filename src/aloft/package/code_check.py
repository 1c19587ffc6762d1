"""What `aloft validate` checks in the project's code without running it (pure: the code is
read with `ast` beforehand, aloft.package.modules).

- Every setting that names code (`app:`, each function's `handler:`, `exception_handler:`,
  `django_settings:`) names a module of the package, which defines that name: an error at the
  setting's file:line, with a did-you-mean.
- A module the functions import (from their entry modules on; every module for Django, which
  imports its apps by name) that does not parse: an error at its line.
- Every top-level import of those modules is satisfied: by the project itself (a missing
  module or name is an error at the import's line), the standard library, or the
  requirements. An import that is none of these is a warning, since another requirement may
  install it (Flask brings Werkzeug), as is `boto3` on a local stage (Lambda provides it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aloft.config.models import Service
from aloft.config.source import KeyPath
from aloft.errors import ConfigError, Location
from aloft.package.import_names import distribution_for, provided_by
from aloft.package.modules import CodeReference, ImportRef, ModuleFacts, ProjectCode, closest

Locate = Callable[[KeyPath], Location]


@dataclass
class CodeProblems:
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def references(service: Service) -> list[tuple[KeyPath, CodeReference]]:
    """Every setting of the stage that names code, with its key path."""
    found: list[tuple[KeyPath, CodeReference]] = []
    if service.app:
        found.append((("app",), CodeReference("app", service.app)))
    for name, fn in service.functions.items():
        if fn.handler:
            found.append((("functions", name, "handler"), CodeReference("handler", fn.handler)))
    if service.exception_handler:
        found.append((("exception_handler",),
                      CodeReference("exception_handler", service.exception_handler)))
    return found


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _missing_module(code: ProjectCode, module: str) -> tuple[str, str | None]:
    """Why `module` is not there, and the module that was probably meant."""
    top = module.split(".", 1)[0]
    if top in code.unpackaged:
        return f"`{top}` is left out of the package (`exclude`, or a directory such as " \
            "tests/)", None
    return f"the project has no module `{module}`", closest(module, code.modules)


def _check_reference(
    path: KeyPath, ref: CodeReference, code: ProjectCode, locate: Locate, out: CodeProblems
) -> None:
    said = f"`{ref.key}: {ref.value}`"
    facts = code.modules.get(ref.module)
    if facts is None:
        why, meant = _missing_module(code, ref.module)
        fix = f"did you mean `{ref.with_module(meant)}`?" if meant else \
            "name a module of the project by its dotted path from the project's directory " \
            "(`app:app` for app.py, `jobs.run` for a `run` in jobs.py)"
        out.errors.append(ConfigError(f"{said}: {why}", where=locate(path), fix=fix))
        return
    if facts.syntax_error is not None:
        return  # reported once, at its own line, by the module check
    attribute = ref.attribute.split(".", 1)[0]
    if code.defines(ref.module, attribute) is False:
        rel = _rel(facts.path, code.root)
        meant = closest(attribute, facts.names)
        elsewhere = sorted(m for m, f in code.modules.items() if attribute in f.names)
        fix = f"did you mean `{ref.with_attribute(meant)}`?" if meant else \
            f"did you mean `{ref.with_module(elsewhere[0])}`?" if elsewhere else \
            f"define `{attribute}` in {rel}, or correct `{ref.key}:`"
        out.errors.append(ConfigError(f"{said}: {rel} does not define `{attribute}`",
                                      where=locate(path), fix=fix))


def _imported_modules(ref: ImportRef, code: ProjectCode) -> list[str]:
    """The project modules an import loads: `import a.b` loads a and a.b; `from a import b`
    loads a, and a.b when that is a module."""
    parts = ref.module.split(".")
    loaded = [".".join(parts[:n]) for n in range(1, len(parts) + 1)]
    loaded += [f"{ref.module}.{name}" for name in ref.names]
    return [m for m in loaded if m in code.modules]


def reachable(code: ProjectCode, entries: Iterable[str]) -> list[ModuleFacts]:
    """The project modules that importing `entries` imports at their top level."""
    seen: dict[str, ModuleFacts] = {}
    todo = [m for m in entries if m in code.modules]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        facts = seen[name] = code.modules[name]
        parts = name.split(".")
        todo.extend(".".join(parts[:n]) for n in range(1, len(parts)))  # its packages
        for ref in facts.imports:
            if not ref.optional:
                todo.extend(_imported_modules(ref, code))
    return sorted(seen.values(), key=lambda f: f.name)


def _statement(ref: ImportRef) -> str:
    if ref.names:
        return f"from {ref.module} import {', '.join(ref.names)}"
    return f"import {ref.module}"


def _check_import(
    facts: ModuleFacts, ref: ImportRef, service: Service, code: ProjectCode,
    requirements: frozenset[str], requirements_file: str, warned: set[str], out: CodeProblems,
) -> None:
    where = Location(file=str(facts.path), line=ref.line)
    top = ref.module.split(".", 1)[0]
    if ref.relative or top in code.top_level():
        target = code.modules.get(ref.module)
        if target is None:
            why, meant = _missing_module(code, ref.module)
            out.errors.append(ConfigError(
                f"`{_statement(ref)}`: {why}", where=where,
                fix=f"did you mean `{meant}`?" if meant else "correct the import"))
            return
        for name in ref.names:
            if code.defines(ref.module, name) is False:
                meant = closest(name, target.names)
                out.errors.append(ConfigError(
                    f"`{_statement(ref)}`: {_rel(target.path, code.root)} does not define "
                    f"`{name}`", where=where,
                    fix=f"did you mean `{meant}`?" if meant else "correct the import"))
        return
    source = provided_by(ref.module, requirements)
    # "aws": Lambda's runtime provides it, and so does the local cloud (aloft.package.provided)
    if top in warned or source in ("stdlib", "aloft", "requirement", "dependency", "aws"):
        return
    at = f"{_rel(facts.path, code.root)}:{ref.line}"
    warned.add(top)
    out.warnings.append(
        f"{at} imports `{top}`, which is neither in the project nor in {requirements_file}: "
        f"add `{distribution_for(top)}` to it, unless another requirement installs it")


def check_code(
    service: Service,
    code: ProjectCode,
    requirements: frozenset[str],
    locate: Locate,
    *,
    requirements_file: str = "requirements.txt",
) -> CodeProblems:
    out = CodeProblems()
    refs = references(service)
    for path, ref in refs:
        _check_reference(path, ref, code, locate, out)
    if service.django_settings:
        if service.django_settings not in code.modules:
            why, meant = _missing_module(code, service.django_settings)
            out.errors.append(ConfigError(
                f"`django_settings: {service.django_settings}`: {why}",
                where=locate(("django_settings",)),
                fix=f"did you mean `{meant}`?" if meant else "name the settings module by its "
                "dotted path from the project's directory, e.g. `mysite.settings`"))
        modules = sorted(code.modules.values(), key=lambda f: f.name)
    else:
        modules = reachable(code, [ref.module for _, ref in refs])
    warned: set[str] = set()
    for facts in modules:
        if facts.syntax_error is not None:
            out.errors.append(ConfigError(
                f"{_rel(facts.path, code.root)} does not parse: {facts.syntax_error}",
                where=Location(file=str(facts.path), line=facts.syntax_line),
                fix="correct the syntax (the function could not import it)"))
            continue
        for imported in facts.imports:
            if not imported.optional:
                _check_import(facts, imported, service, code, requirements, requirements_file,
                              warned, out)
    return out


def check_project(service: Service, locate: Locate) -> CodeProblems:
    """`check_code` on the project as `aloft package` would ship it, with its requirements."""
    from aloft.errors import AloftError
    from aloft.package.modules import read_project_code
    from aloft.package.requirements import declared_names

    problems = CodeProblems()
    try:
        names, requirements_file = declared_names(service)
    except AloftError as exc:  # a `requirements:` file that is not there
        problems.errors.append(ConfigError(exc.message, where=exc.where, fix=exc.fix))
        names, requirements_file = frozenset(), "requirements.txt"
    found = check_code(service, read_project_code(service), names, locate,
                       requirements_file=requirements_file)
    problems.errors.extend(found.errors)
    problems.warnings.extend(found.warnings)
    return problems
