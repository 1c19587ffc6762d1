from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aloft.cli.main import cli
from tests.unit.cli.cli_helpers import Run


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`run("validate", cwd=dir)`: the aloft command line in-process, in `cwd` (default tmp),
    `input` its stdin."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    # Builds cache under pytest's tmp, outside the project (it would be packaged otherwise).
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path.parent / f"{tmp_path.name}-cache"))

    def invoke(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
               input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["-C", str(cwd or tmp_path), *args], env=env, input=input)

    return invoke
