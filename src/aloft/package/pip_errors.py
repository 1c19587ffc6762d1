"""Turning pip's failure output into an error that names the package and the fix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aloft.errors import Location, PackageError
from aloft.package.requirements import Requirements
from aloft.package.target import Target

_NO_VERSION = re.compile(
    r"Could not find a version that satisfies the requirement (?P<req>\S+)"
    r"(?: \(from (?!versions:)(?P<parent>[^)]*)\))?"
    r"(?: \(from versions: (?P<versions>[^)]*)\))?"
)
_BUILD_FAILED = (  # the wordings of pip 26, 24-25 and older releases
    re.compile(r"Failed to build '(?P<names>[^']+)'"),
    re.compile(r"Failed to build installable wheels for some pyproject\.toml based projects "
               r"\((?P<names>[^)]*)\)"),
    re.compile(r"Failed building wheel for (?P<names>\S+)"),
    re.compile(r"^ERROR: Failed to build (?P<names>[A-Za-z0-9._\-]+(?: [A-Za-z0-9._\-]+)*)\s*$",
               re.M),
)
_CONFLICT = re.compile(r"Cannot install (?P<what>.+?) because these package versions have "
                       r"conflicting dependencies")

ALTERNATIVES = {
    "psycopg2": "psycopg2-binary, or psycopg[binary]",
    "mysqlclient": "PyMySQL",
    "pycrypto": "pycryptodome",
    "python-ldap": "ldap3",
}
"""Packages that ship only source code, and what provides the same with wheels."""


@dataclass(frozen=True)
class MissingWheel:
    requirement: str  # as pip printed it: `psycopg2==2.9.9`
    name: str
    parent: str | None  # the package that pulled it in, when it is transitive
    versions: list[str]  # versions that do have a usable wheel


def parse_missing_wheel(output: str) -> MissingWheel | None:
    match = _NO_VERSION.search(output)
    if match is None:
        return None
    req = match.group("req")
    name = re.split(r"[<>=!~;\[@]", req, maxsplit=1)[0]
    versions_text = (match.group("versions") or "").strip()
    versions = [] if versions_text in ("", "none") else [
        v.strip() for v in versions_text.split(",")
    ]
    return MissingWheel(req, name, match.group("parent"), versions)


_UNREACHABLE = re.compile(r"NewConnectionError|Failed to establish a new connection|"
                          r"Could not fetch URL|ProxyError|SSLError|Read timed out")


def _unreachable(output: str) -> str:
    """What to add to the fix when pip could not reach an index (then it finds no version
    of anything, and the package is not to blame)."""
    if _UNREACHABLE.search(output) is None:
        return ""
    return "; pip could not reach the package index, which may be the cause:\n" + _tail(output, 5)


def _tail(output: str, lines: int = 15) -> str:
    kept = [ln for ln in output.splitlines() if "is ignored: it is neither a file" not in ln]
    return "\n".join(kept[-lines:])


def pip_failure(output: str, requirements: Requirements, target: Target) -> PackageError:
    """The user-facing error for a failed `pip install`, from pip's output."""
    source = requirements.source
    if "No module named pip" in output:
        return PackageError(
            "the Python running aloft has no pip, which installs the dependencies",
            fix="run `python -m ensurepip` with the interpreter that runs aloft (in a uv-made "
            "venv: `uv pip install pip`)",
        )
    missing = parse_missing_wheel(output)
    if missing is not None:
        declared = missing.parent.split()[0] if missing.parent else missing.name
        where = Location(file=str(source), line=requirements.line_of(declared))
        via = f" (required by {missing.parent})" if missing.parent else ""
        shown = ", ".join(missing.versions[-8:])
        if target.is_host:
            # pip may build from source here: no version at all means no such release
            what = f"no release of {missing.requirement}{via} can be installed for {target}"
            if missing.versions:
                fix = f"pin a version of {missing.name} that installs here ({shown})"
            else:
                fix = (f"the package index has no release of {missing.name} for Python "
                       f"{target.python_version}: check its name in {source.name} (as spelt "
                       "on PyPI) and that it supports this Python")
            return PackageError(what, where=where, fix=fix + _unreachable(output))
        what = f"{missing.requirement}{via} has no wheel for {target}"
        if missing.versions:
            fix = f"pin a version of {missing.name} that has wheels for this target ({shown})"
        else:
            fix = (f"{missing.name} publishes no wheel for this target (only source code, which "
                   "cannot be compiled for Lambda here), or is not on the package index under "
                   "this name (check its spelling): pin a version that has wheels")
        alternative = ALTERNATIVES.get(missing.name.lower())
        fix += f", or use a pure-Python/binary alternative ({alternative or 'pure Python'})"
        return PackageError(what, where=where, fix=fix + _unreachable(output))
    built = next((m for p in _BUILD_FAILED if (m := p.search(output))), None)
    if built is not None:
        names = built.group("names").strip()
        first = re.split(r"[,\s]+", names)[0]
        return PackageError(
            f"building {names} from source failed for {target}",
            where=Location(file=str(source), line=requirements.line_of(first)),
            fix="pin a version that publishes wheels for your platform, or install the system "
            f"libraries it needs to compile. pip said:\n{_tail(output)}",
        )
    conflict = _CONFLICT.search(output)
    if conflict is not None:
        return PackageError(
            f"the requirements in {source.name} conflict: {conflict.group('what')}",
            where=Location(file=str(source)),
            fix=f"relax or align the version pins. pip said:\n{_tail(output)}",
        )
    return PackageError(
        f"installing the dependencies from {source.name} for {target} failed",
        where=Location(file=str(source)),
        fix=f"read pip's output below and fix the requirement it names:\n{_tail(output)}",
    )
