from __future__ import annotations

import shutil
from pathlib import Path

from aloft.config import load_project
from tests.unit.cli.cli_helpers import Run


def zappa_project(repo_root: Path, tmp_path: Path) -> Path:
    source = repo_root / "tests" / "fixtures" / "configs" / "zappa_json" / "zappa_settings.json"
    shutil.copy(source, tmp_path / "zappa_settings.json")
    return tmp_path


def test_import_writes_an_equivalent_aloft_yml(run: Run, repo_root: Path,
                                               tmp_path: Path) -> None:
    root = zappa_project(repo_root, tmp_path)
    result = run("import", "zappa_settings.json")
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.stderr and "warning:" in result.stderr
    assert "zappa_settings.json: `base.lambda_description`" in result.stderr
    imported = load_project(root / "aloft.yml")
    original = load_project(root / "zappa_settings.json")
    assert imported.stages == original.stages
    service = imported.service("dev")
    assert (service.service, service.app) == ("shop", "shop.app:app")


def test_import_refuses_to_overwrite_and_can_print(run: Run, repo_root: Path,
                                                   tmp_path: Path) -> None:
    root = zappa_project(repo_root, tmp_path)
    (root / "aloft.yml").write_text("service: mine\napp: a:b\n")
    refused = run("import", "zappa_settings.json")
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert (root / "aloft.yml").read_text() == "service: mine\napp: a:b\n"
    printed = run("import", "zappa_settings.json", "-o", "-")
    assert printed.exit_code == 0
    assert "service: shop" in printed.stdout
    assert run("import", "zappa_settings.json", "--force").exit_code == 0
    assert "service: shop" in (root / "aloft.yml").read_text()


def test_import_of_a_missing_file(run: Run) -> None:
    result = run("import", "serverless.yml")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "does not exist" in result.stderr
