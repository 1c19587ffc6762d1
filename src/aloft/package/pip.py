"""Running pip to install dependencies into a directory, for the host or a Lambda platform.

The runner is a small Protocol so that tests can count or fake installs; the real one runs
`python -m pip` in a subprocess with the interpreter aloft runs under.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aloft.errors import PackageError
from aloft.package.target import Target


@dataclass(frozen=True)
class PipOutcome:
    returncode: int
    output: str  # stdout and stderr, interleaved


class PipRunner(Protocol):
    def __call__(self, args: Sequence[str]) -> PipOutcome:
        """Run `pip <args>` and report how it went (never raises for a failed install)."""
        ...


class SubprocessPip:
    """`<python> -m pip ...` as a child process (default: the interpreter running aloft)."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python

    def __call__(self, args: Sequence[str]) -> PipOutcome:
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
        try:
            done = subprocess.run(
                [self.python, "-m", "pip", *args],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                check=False,
            )
        except OSError as exc:
            raise PackageError(
                f"cannot run pip with {self.python}: {exc.strerror}",
                fix="check that the Python interpreter running aloft has pip (python -m ensurepip)",
            ) from None
        return PipOutcome(done.returncode, done.stdout)


def install_args(target: Target, requirements_file: Path, dest: Path) -> list[str]:
    """pip arguments installing `requirements_file` into `dest` for `target`."""
    args = [
        "install", "--target", str(dest), "--requirement", str(requirements_file),
        "--no-compile",  # bytecode is written at run time, for the right interpreter
        "--no-warn-script-location", "--disable-pip-version-check", "--no-input",
    ]
    if not target.is_host:
        # Cross-install: wheels only, chosen for the target's interpreter and platform.
        for platform in target.pip_platforms:
            args += ["--platform", platform]
        args += [
            "--python-version", target.python_version, "--implementation", "cp",
            "--only-binary=:all:",
        ]
    return args
