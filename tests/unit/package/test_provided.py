"""Lambda's runtime layer (boto3 and botocore at Lambda's versions): installed once per Python
version, whole or not at all, with a clear error when pip cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from aloft.errors import PackageError
from aloft.package.provided import LAMBDA_SDK, ensure_layer, layer_dir
from tests.unit.package.package_fakes import FakePip


def test_installed_once_per_python_version(tmp_path: Path) -> None:
    pip = FakePip()
    first = ensure_layer("3.12", root=tmp_path, pip=pip)
    assert first == layer_dir("3.12", tmp_path)
    assert first.name == f"python3.12-boto3-{LAMBDA_SDK['boto3']}-botocore-" \
                         f"{LAMBDA_SDK['botocore']}-snapshot-restore-py-" \
                         f"{LAMBDA_SDK['snapshot-restore-py']}"
    assert (first / "boto3" / "__init__.py").exists()
    assert (first / f"boto3-{LAMBDA_SDK['boto3']}.dist-info").is_dir()
    assert not list(first.rglob("__pycache__"))  # tidied: bytecode is the interpreter's
    args = pip.calls[0]
    assert "--python-version" in args and args[args.index("--python-version") + 1] == "3.12"
    assert ensure_layer("3.12", root=tmp_path, pip=pip) == first
    ensure_layer("3.9", root=tmp_path, pip=pip)
    assert len(pip.calls) == 2  # 3.12 once, 3.9 once


def test_a_failed_install_says_so_and_leaves_nothing(tmp_path: Path) -> None:
    pip = FakePip(fail_with="ERROR: Could not find a version that satisfies boto3==1.38.36")
    with pytest.raises(PackageError) as failed:
        ensure_layer("3.12", root=tmp_path, pip=pip)
    assert "cannot install Lambda's runtime layer (boto3==" in failed.value.message
    assert "Could not find a version" in failed.value.message
    assert failed.value.fix is not None and "package index" in failed.value.fix
    assert list(tmp_path.iterdir()) == []  # no half-installed layer for the next run to trust


def test_offline_after_an_upgrade_keeps_the_earlier_layer(tmp_path: Path) -> None:
    """A new pin (a newer aloft) cannot be installed without the package index: functions keep
    the boto3 of the layer an earlier aloft installed rather than none."""
    earlier = tmp_path / "python3.12-boto3-1.0.0-botocore-1.0.0"
    (earlier / "boto3").mkdir(parents=True)
    (tmp_path / "python3.13-boto3-9.9.9").mkdir()  # another Python's: never taken
    (tmp_path / ".python3.12-x.tmp").mkdir()  # an interrupted install: never taken
    pip = FakePip(fail_with="ERROR: No matching distribution (network unreachable)")
    assert ensure_layer("3.12", root=tmp_path, pip=pip) == earlier
    with pytest.raises(PackageError):
        ensure_layer("3.11", root=tmp_path, pip=pip)  # nothing earlier for 3.11
