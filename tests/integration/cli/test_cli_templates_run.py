"""Each `aloft init --template` project passes its own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_run import Aloft

from aloft.cli.scaffold import TEMPLATES

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("template", TEMPLATES)
def test_scaffolded_project_tests_pass(aloft: Aloft, tmp_path: Path, template: str) -> None:
    created = aloft("init", "--template", template, "proj", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "proj", capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
