from __future__ import annotations

from pathlib import Path

import pytest

from aloft.cli.scaffold import TEMPLATES
from aloft.config import load_project
from tests.unit.cli.cli_helpers import Run


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_is_a_complete_valid_project(run: Run, tmp_path: Path, template: str) -> None:
    result = run("init", "--template", template, "new-project")
    assert result.exit_code == 0, result.output
    root = tmp_path / "new-project"
    names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {"aloft.yml", "requirements.txt"} <= names
    assert any(n.startswith("tests/test_") for n in names), names
    assert not any(n.endswith(".tmpl") for n in names)
    service = load_project(root).service()
    assert service.service == "new-project"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "__SERVICE__" not in text
        compile(text, str(path), "exec")  # valid Python


def test_template_refuses_to_overwrite(run: Run, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("mine\n")
    result = run("init", "--template", "flask")
    assert result.exit_code == 2
    assert "already exist" in result.stderr and "--force" in result.stderr
    assert (tmp_path / "app.py").read_text() == "mine\n"


def test_unknown_template_is_a_usage_error(run: Run) -> None:
    result = run("init", "--template", "rails")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
