"""convert_to_aloft_yaml: the written aloft.yml loads to the same Service per stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from aloft.config import convert_to_aloft_yaml, load_project
from aloft.config.convert import common, difference
from aloft.errors import ConfigError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"
EXCLUDE = {"root", "config_file", "warnings"}


@pytest.mark.parametrize(
    "fixture, name",
    [
        ("zappa_json", "zappa_settings.json"),
        ("zappa_toml", "zappa_settings.toml"),
        ("zappa_yml", "zappa_settings.yml"),
        ("sls_wsgi", "serverless.yml"),
        ("sls_functions", "serverless.yml"),
    ],
)
def test_round_trip(fixture: str, name: str, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_SECRET_KEY", "from-the-environment")
    project_dir = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, project_dir)
    original = load_project(project_dir / name)
    text, warnings = convert_to_aloft_yaml(project_dir / name)
    assert warnings == original.warnings or set(original.warnings) <= set(warnings)
    (project_dir / "aloft.yml").write_text(text)
    converted = load_project(project_dir)
    assert converted.kind == "aloft" and converted.file.name == "aloft.yml"
    assert converted.stages == original.stages
    assert converted.default_stage == original.default_stage
    for stage in original.stages:
        assert converted.service(stage).model_dump(exclude=EXCLUDE) == original.service(
            stage).model_dump(exclude=EXCLUDE), stage


def test_secrets_stay_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_SECRET_KEY", "do-not-copy-me")
    shutil.copytree(FIXTURES / "sls_wsgi", tmp_path / "p")
    text, _ = convert_to_aloft_yaml(tmp_path / "p" / "serverless.yml")
    assert "do-not-copy-me" not in text
    assert "${env:NOTES_SECRET_KEY, 'dev-secret'}" in text
    assert "${ssm:/flask-notes/dev/api-token}" in text


def test_zappa_extends_is_kept_and_warnings_are_listed() -> None:
    text, warnings = convert_to_aloft_yaml(FIXTURES / "zappa_json" / "zappa_settings.json")
    data = yaml.safe_load(text)
    assert data["service"] == "shop" and data["provider"] == "local"
    assert data["stages"]["production"]["extends"] == "staging"
    assert data["stages"]["production"]["memory"] == 2048
    assert "functions" not in data["stages"]["staging"]  # inherited from dev
    assert any("api_key_required" in w for w in warnings)
    assert "#   - `staging.api_key_required`" in text
    assert "provider: aws" in text.split("\n\n", 1)[0]  # the header says how to target AWS


def test_an_aloft_file_is_not_converted() -> None:
    with pytest.raises(ConfigError, match="already an aloft config"):
        convert_to_aloft_yaml(FIXTURES / "aloft_shop" / "aloft.yml")


def test_common_and_difference() -> None:
    a = {"x": 1, "m": {"p": 1, "q": 2}, "l": [1], "only_a": True}
    b = {"x": 1, "m": {"p": 1, "q": 3}, "l": [2]}
    base = common([a, b])
    assert base == {"x": 1, "m": {"p": 1}}
    assert difference(a, base) == {"m": {"q": 2}, "l": [1], "only_a": True}
    assert difference(b, base) == {"m": {"q": 3}, "l": [2]}
