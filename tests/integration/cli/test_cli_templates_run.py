"""Each `aloft init --template` project passes its own tests and answers `invoke --local`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aloft.cli.scaffold import TEMPLATES
from tests.integration.cli.cli_run import Aloft

pytestmark = pytest.mark.slow

FIRST_REQUEST = {
    "function": ["hello", "--path", "/hello?name=Ada"],
    "flask": ["app", "--path", "/hello/Ada"],
    "fastapi": ["app", "--path", "/hello/Ada"],
    "django": ["app", "--path", "/"],
}


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

    invoked = aloft("invoke", "--local", *FIRST_REQUEST[template], cwd=tmp_path / "proj")
    assert invoked.returncode == 0, invoked.stderr
    reply = json.loads(invoked.stdout)
    assert reply["statusCode"] == 200
    assert "Hello, Ada!" in reply["body"] or "Hello from proj!" in reply["body"]
