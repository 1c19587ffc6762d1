"""`aloft config credentials`: AWS CLI files, mode 0600, the secret never printed."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from aloft.cli.main import cli

KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    creds, conf = tmp_path / "aws" / "credentials", tmp_path / "aws" / "config"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(conf))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return creds, conf


def ini(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_prompts_hide_the_secret_and_the_files_are_private(files: tuple[Path, Path]) -> None:
    creds, conf = files
    result = CliRunner().invoke(cli, ["config", "credentials", "--profile", "work",
                                      "--region", "eu-west-1"], input=f"{KEY}\n{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output and KEY not in result.output
    assert "****************MPLE" in result.output
    assert ini(creds)["work"]["aws_access_key_id"] == KEY
    assert ini(creds)["work"]["aws_secret_access_key"] == SECRET
    assert ini(conf)["profile work"]["region"] == "eu-west-1"
    assert mode(creds) == 0o600 and mode(conf) == 0o600


def test_no_answer_at_a_prompt_writes_nothing(files: tuple[Path, Path]) -> None:
    creds, conf = files
    for typed in ("", f"{KEY}\n"):  # the input ends (Ctrl-D) at the key's, the secret's prompt
        result = CliRunner().invoke(cli, ["config", "credentials", "--profile", "work"],
                                    input=typed)
        assert result.exit_code == 1, result.output
        assert result.stderr == "aborted: profile work was not written\n"
        assert "Aborted!" not in result.output and "Traceback" not in result.output
    assert not creds.exists() and not conf.exists()


def test_other_profiles_are_kept_and_default_has_no_prefix(files: tuple[Path, Path]) -> None:
    creds, conf = files
    creds.parent.mkdir()
    creds.write_text("[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\n"
                     "aws_secret_access_key = s\n")
    creds.chmod(0o644)
    result = CliRunner().invoke(cli, ["config", "credentials", "--key", KEY, "--secret", SECRET,
                                      "--region", "us-east-1"])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    parsed = ini(creds)
    assert parsed["other"]["aws_access_key_id"] == "AKIAOTHEROTHEROTHER1"
    assert parsed["default"]["aws_secret_access_key"] == SECRET
    assert ini(conf)["default"]["region"] == "us-east-1"
    assert mode(creds) == 0o600  # tightened on rewrite


def test_a_malformed_key_writes_nothing(files: tuple[Path, Path]) -> None:
    creds, _ = files
    result = CliRunner().invoke(cli, ["config", "credentials", "--key", "not a key",
                                      "--secret", SECRET])
    assert result.exit_code == 2
    assert "access key id" in result.output and SECRET not in result.output
    assert not creds.exists()
