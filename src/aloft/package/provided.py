"""What Lambda's Python runtime provides beside the standard library: boto3 and botocore, and
snapshot_restore_py (SnapStart's runtime hooks), as a runtime layer that aloft installs once
per Python version and shares between projects.

On Lambda they live in /var/runtime, on sys.path after the function's code and layers: a
boto3 that the function ships itself (a pin in requirements.txt) wins. The local cloud, `aloft
dev` and `aloft invoke --local` put this layer in the same place (after the dependency layer).
It is never part of an artifact.

    <cache>/runtime/python3.12-boto3-1.38.36-.../   boto3, botocore, their dependencies, and
                                                   snapshot_restore_py
    ($ALOFT_RUNTIME_LAYERS replaces <cache>/runtime)
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aloft.errors import PackageError
from aloft.package.cache import default_cache_dir
from aloft.package.files import rename_into, temp_sibling
from aloft.package.installed import tidy
from aloft.package.pip import PipRunner, SubprocessPip, install_args
from aloft.package.progress import Progress
from aloft.package.target import Target, host_platform

LAMBDA_SDK = {"boto3": "1.38.36", "botocore": "1.38.36", "snapshot-restore-py": "1.0.0"}
"""boto3 and botocore as Lambda's Python runtimes ship them. python3.12 and python3.13 both
shipped 1.38.36 in August 2025 (what a function printing `boto3.__version__` reported: AWS
updates its runtimes' SDK without notice and no longer publishes the versions). One set for
every Python version (the Amazon Linux 2 runtimes, 3.9 to 3.11, had older ones at times).
snapshot-restore-py: the library of SnapStart's runtime hooks, "included in Python managed
runtimes" (Lambda's documentation); a template of the local cloud runs the hooks registered
with it. Bump any here: the next local run installs the new layer beside the old one."""

ENV_RUNTIME_LAYERS = "ALOFT_RUNTIME_LAYERS"


def layers_root() -> Path:
    """$ALOFT_RUNTIME_LAYERS, else `runtime/` in the build cache."""
    explicit = os.environ.get(ENV_RUNTIME_LAYERS)
    return Path(explicit).expanduser() if explicit else default_cache_dir() / "runtime"


def layer_dir(python_version: str, root: Path | None = None) -> Path:
    """Where the runtime layer of `python_version` is (installed or not)."""
    pins = "-".join(f"{name}-{version}" for name, version in LAMBDA_SDK.items())
    return (root or layers_root()) / f"python{python_version}-{pins}"


def ensure_layer(
    python_version: str, *, progress: Progress | None = None, root: Path | None = None,
    pip: PipRunner | None = None,
) -> Path:
    """The runtime layer of `python_version`, installed from PyPI the first time (pip install
    --target a temporary directory renamed into place: readers see a whole layer or none)."""
    dest = layer_dir(python_version, root)
    if dest.is_dir():
        return dest
    pins = [f"{name}=={version}" for name, version in LAMBDA_SDK.items()]
    if progress is not None:
        progress.step("runtime", f"install Lambda's {' '.join(pins)} for Python "
                                 f"{python_version} (once)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = temp_sibling(dest)
    work.mkdir()
    try:
        requirements = work / "requirements.txt"
        requirements.write_text("\n".join(pins) + "\n", encoding="utf-8")
        site = work / "site"
        target = Target("local", python_version, host_platform())
        outcome = (pip or SubprocessPip())(install_args(target, requirements, site))
        if outcome.returncode != 0:
            older = earlier_layer(python_version, root)
            if older is not None:  # offline after an upgrade: the boto3 it had, not none
                if progress is not None:
                    progress.done("runtime", f"kept {older.name}: cannot install "
                                             f"{' '.join(pins)} now (offline?)")
                return older
            raise PackageError(
                f"cannot install Lambda's runtime layer ({', '.join(pins)}) for Python "
                f"{python_version}:\n{_tail(outcome.output)}",
                fix="check the connection to the package index (pip needs it once); "
                    "functions that import boto3 fail until then")
        tidy(site)
        rename_into(site, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if progress is not None:
        progress.done("runtime", f"boto3 {LAMBDA_SDK['boto3']} in {dest}")
    return dest


def earlier_layer(python_version: str, root: Path | None = None) -> Path | None:
    """The newest runtime layer of `python_version` that an earlier aloft installed (other
    pins): what functions get when this one's layer cannot be installed (offline), rather than
    no boto3 at all. What it lacks (a newer pin) fails to import until the next install."""
    base = root or layers_root()
    found = [p for p in base.glob(f"python{python_version}-*")
             if p.is_dir() and not p.name.startswith(".")]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def _tail(output: str, lines: int = 10) -> str:
    return "\n".join(output.strip().splitlines()[-lines:])


def local_runtime(
    python_version: str, progress: Progress | None = None,
) -> tuple[dict[str, str | None], str | None]:
    """What a local deploy's functions run on (the deploy request's `runtime`): the interpreter
    of `python_version` and its runtime layer; and a warning when the layer cannot be had (the
    deploy goes on: functions run, those that import boto3 fail)."""
    from aloft.package.python import find_interpreter

    python = find_interpreter(python_version)
    try:
        layer: str | None = str(ensure_layer(python_version, progress=progress))
        warning = None
    except PackageError as exc:
        layer, warning = None, f"{exc.message}; {exc.fix}"
    return {"python": python, "layer": layer}, warning
