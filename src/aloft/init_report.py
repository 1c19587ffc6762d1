"""A function that failed to initialise, as a person reads it.

An instance reports Lambda's error object (aloft.runtime.faults): its type, its message and the
stack of the user's exception, with the paths the code ran from (an unpacked artifact, a
build directory) and the frames of aloft's runtime and of Python's import machinery. What a
person needs is Lambda's `errorType: errorMessage` on one line, the frames of their own files
at their paths in the project, and the probable cause:

    Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'
      File "/home/me/shop/app.py", line 2, in <module>
        import helpers
      File "/home/me/shop/helpers.py", line 1, in <module>
        import requests
    fix: add `requests` to requirements.txt

Everything here is pure, but for `init_report_for`, which reads the project's code and
requirements for it. The local cloud's health check, `aloft dev` and `aloft invoke --local`
all show this.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aloft.config.models import Service
from aloft.package.import_names import distribution_for, provided_by
from aloft.package.modules import CodeReference, ProjectCode, closest

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line (?P<line>\d+)(?:, in (?P<function>.+))?$')
_NO_MODULE = re.compile(r"No module named '([^']+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")
_MISSING_ON = re.compile(r"'([^']+)' missing on module '([^']+)'")
_TOOLING_DIRS = frozenset({".aloft", ".venv", "venv", ".tox", "site-packages"})


@dataclass(frozen=True)
class Frame:
    file: str
    line: int | None
    function: str | None = None
    code: str | None = None

    def lines(self) -> list[str]:
        head = f'  File "{self.file}", line {self.line}'
        head += f", in {self.function}" if self.function else ""
        return [head] + ([f"    {self.code}"] if self.code else [])


@dataclass(frozen=True)
class FunctionError:
    """Lambda's error object, parsed."""

    error_type: str
    message: str
    frames: tuple[Frame, ...] = ()


@dataclass(frozen=True)
class InitReport:
    headline: str  # `errorType: errorMessage`
    frames: tuple[Frame, ...]  # the user's own, at their project paths
    fix: str | None  # the probable cause and what to do

    def detail(self) -> str:
        """The headline and the user's frames, one per line (the fix is shown apart)."""
        lines = [self.headline]
        for frame in self.frames:
            lines.extend(frame.lines())
        return "\n".join(lines)


def parse_frames(entries: Iterable[object]) -> list[Frame]:
    """`traceback.format_list` entries (Lambda's `stackTrace`) as Frames."""
    frames = []
    for entry in entries:
        lines = str(entry).splitlines()
        match = _FRAME.match(lines[0]) if lines else None
        if match is None:
            continue
        code = next((text.strip() for text in lines[1:]
                     if text.strip() and not set(text.strip()) <= set("^~ ")), None)
        frames.append(Frame(match["file"], int(match["line"]), match["function"], code))
    return frames


def parse_error(payload: bytes | str | Mapping[str, Any]) -> FunctionError | None:
    """Lambda's error object from a function's result; None when it is not one."""
    data: Any = payload
    if isinstance(payload, bytes | str):
        try:
            data = json.loads(payload)
        except ValueError:
            return None
    if not isinstance(data, Mapping) or "errorMessage" not in data:
        return None
    trace = data.get("stackTrace") or []
    return FunctionError(
        str(data.get("errorType") or "Error"), str(data["errorMessage"]),
        tuple(parse_frames(trace if isinstance(trace, list) else [trace])),
    )


def project_frames(
    frames: Iterable[Frame], code_dirs: Iterable[str | Path], project_root: Path
) -> tuple[Frame, ...]:
    """The frames in the user's own files, with their paths in the project.

    A frame in one of `code_dirs` (where the function's code ran from: the unpacked artifact,
    the build directory) is the project file at the same relative path, but for aloft's
    runtime shipped there (`aloft/`). A frame already in the project is kept (but for its
    tooling: `.aloft/`, virtualenvs). Everything else (Python, the dependencies, aloft itself)
    is dropped, and so is a frame repeated right after itself."""
    roots = [os.path.normpath(str(d)) for d in code_dirs]
    project = os.path.normpath(str(project_root))
    kept: list[Frame] = []
    for frame in frames:
        path = os.path.normpath(frame.file)
        mapped = None
        for root in roots:
            if path.startswith(root + os.sep):
                rel = path[len(root) + 1:]
                if rel.split(os.sep, 1)[0] != "aloft":
                    mapped = os.path.join(project, rel)
                break
        else:
            if path.startswith(project + os.sep):
                parts = path[len(project) + 1:].split(os.sep)
                if not _TOOLING_DIRS & set(parts[:-1]):
                    mapped = path
        if mapped is not None:
            shown = replace(frame, file=mapped)
            if not kept or kept[-1] != shown:
                kept.append(shown)
    return tuple(kept)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _missing_module_fix(
    missing: str, code: ProjectCode | None, requirements: frozenset[str],
    requirements_file: str, ref: CodeReference | None,
) -> str:
    top = missing.split(".", 1)[0]
    modules = code.modules if code else {}
    tops = code.top_level() if code else frozenset()
    if ref is not None and (missing == ref.module or ref.module.startswith(missing + ".")) \
            and missing not in modules:
        # The module the setting names is not in the project: another one close to it?
        close = closest(ref.module, modules)
        if close is not None:
            return f"`{ref.key}: {ref.value}` names module `{ref.module}`, which is not in " \
                f"the project: did you mean `{ref.with_module(close)}`?"
        if code is not None and top in code.unpackaged:
            return f"`{top}` is in the project but not in the package: take it out of " \
                "`exclude` in aloft.yml (or out of a directory aloft leaves out, like tests/)"
        return f"`{ref.key}: {ref.value}` names module `{ref.module}`, which is not in the " \
            "project: correct it in aloft.yml"
    if top in tops:
        close = closest(missing, modules)
        hint = f": did you mean `{close}`?" if close else ""
        return f"the project has no module `{missing}`{hint}"
    if code is not None and top in code.unpackaged:
        return f"`{top}` is in the project but not in the package: take it out of `exclude` " \
            "in aloft.yml (or out of a directory aloft leaves out, like tests/)"
    source = provided_by(top, requirements)
    if source in ("requirement", "dependency"):
        return f"`{top}` comes with {requirements_file} but was not importable: check what " \
            "`aloft package` installs (the version, and whether it has a wheel for Linux)"
    return f"add `{distribution_for(top)}` to {requirements_file}"


def _handler_fix(attribute: str, module: str, code: ProjectCode | None,
                 ref: CodeReference | None) -> str:
    ref = ref or CodeReference("handler", f"{module}.{attribute}")
    modules = code.modules if code else {}
    facts = modules.get(module)
    top = module.split(".", 1)[0]
    if facts is not None and top in sys.stdlib_module_names:
        where = _relative(facts.path, code.root) if code else module
        return f"`{top}` is also a module of Python's standard library, which was imported " \
            f"instead of {where} (on Lambda too): rename it, e.g. to {top}_app, and " \
            f"`{ref.key}:` with it"
    close = closest(attribute, facts.names) if facts else None
    if facts is not None and close is not None:
        where = _relative(facts.path, code.root) if code else module
        return f"`{ref.key}: {ref.value}`: {where} has no `{attribute}`: did you mean " \
            f"`{ref.with_attribute(close)}`?"
    elsewhere = sorted(m for m, f in modules.items() if attribute in f.names)
    if elsewhere:
        return f"`{ref.key}: {ref.value}`: module `{module}` has no `{attribute}`: did you " \
            f"mean `{ref.with_module(elsewhere[0])}`?"
    return f"define `{attribute}` in module `{module}`, or correct `{ref.key}:` in aloft.yml"


def probable_fix(
    error: FunctionError,
    frames: tuple[Frame, ...],
    *,
    code: ProjectCode | None = None,
    requirements: frozenset[str] = frozenset(),
    requirements_file: str = "requirements.txt",
    ref: CodeReference | None = None,
) -> str | None:
    """What most likely went wrong and what to do about it; None when nothing more precise than
    the error itself can be said."""
    message = error.message
    if error.error_type == "Runtime.ImportModuleError":
        missing = _NO_MODULE.search(message)
        if missing:
            return _missing_module_fix(missing[1], code, requirements, requirements_file, ref)
        cannot = _CANNOT_IMPORT.search(message)
        if cannot:
            name, module = cannot[1], cannot[2]
            facts = code.modules.get(module) if code else None
            close = closest(name, facts.names) if facts else None
            if close:
                return f"module `{module}` has no `{name}`: did you mean `{close}`?"
            if facts is None:
                return f"`{module}` has no `{name}`: check the version of " \
                    f"`{distribution_for(module)}` in {requirements_file}"
            return f"define `{name}` in module `{module}`, or import it from where it is"
    if error.error_type == "Runtime.HandlerNotFound":
        missing_on = _MISSING_ON.search(message)
        if missing_on:
            return _handler_fix(missing_on[1], missing_on[2], code, ref)
    if error.error_type == "Runtime.UserCodeSyntaxError" and frames:
        return f"correct the syntax at {frames[-1].file}:{frames[-1].line}"
    if not frames or error.error_type.startswith("Runtime."):
        return None
    last = frames[-1]
    if error.error_type == "KeyError" and last.code and "environ" in last.code:
        name = message.strip("'\"")
        return f"the environment variable `{name}` is not set: add it under `environment:` " \
            "in aloft.yml (or read it with a default)"
    return f"correct the code at {last.file}:{last.line}: it runs when the module is " \
        "imported, in every cold start"


def describe_init_failure(
    payload: bytes | str | Mapping[str, Any],
    *,
    code_dirs: Iterable[str | Path],
    project_root: Path,
    code: ProjectCode | None = None,
    requirements: frozenset[str] = frozenset(),
    requirements_file: str = "requirements.txt",
    ref: CodeReference | None = None,
) -> InitReport | None:
    """The report for Lambda's error object `payload`; None when it is not one."""
    error = parse_error(payload)
    if error is None:
        return None
    frames = project_frames(error.frames, code_dirs, project_root)
    fix = probable_fix(error, frames, code=code, requirements=requirements,
                       requirements_file=requirements_file, ref=ref)
    return InitReport(f"{error.error_type}: {error.message}", frames, fix)


def reference_of(service: Service, function: str) -> CodeReference | None:
    """The setting that names `function`'s code."""
    try:
        spec = service.function(function)
    except KeyError:
        return None
    if spec.handler:
        return CodeReference("handler", spec.handler)
    return CodeReference("app", service.app) if service.app else None


def init_report_for(
    service: Service, function: str, payload: bytes | str | Mapping[str, Any],
    code_dirs: Iterable[str | Path],
) -> InitReport | None:
    """`describe_init_failure` with what the project says: its modules and requirements (read
    here; a project that cannot be read gives a report without the did-you-means)."""
    from aloft.errors import AloftError
    from aloft.package.modules import read_project_code
    from aloft.package.requirements import declared_names

    code: ProjectCode | None
    try:
        code = read_project_code(service)
    except (AloftError, OSError):
        code = None
    try:
        names, requirements_file = declared_names(service)
    except (AloftError, OSError):
        names, requirements_file = frozenset(), "requirements.txt"
    return describe_init_failure(
        payload, code_dirs=code_dirs, project_root=service.root, code=code,
        requirements=names, requirements_file=requirements_file,
        ref=reference_of(service, function),
    )
