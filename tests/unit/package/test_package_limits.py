from __future__ import annotations

import os
from pathlib import Path

import pytest

from aloft.errors import PackageError
from aloft.package import Target, build, limits
from aloft.package.limits import MB, check_lambda_limits
from aloft.package.manifest import PackageSize
from tests.unit.package.package_fakes import FakePip, make_service

PACKAGES = [PackageSize(f"pkg{i}", i * MB) for i in range(1, 8)]


def test_within_limits_passes() -> None:
    check_lambda_limits(zipped=50 * MB, unzipped=250 * MB, packages=PACKAGES)


def test_unzipped_limit_names_the_five_largest_and_the_fixes() -> None:
    with pytest.raises(PackageError) as err:
        check_lambda_limits(zipped=40 * MB, unzipped=251 * MB, packages=PACKAGES, stage="prod")
    assert "251.0 MB unzipped" in err.value.message
    assert "pkg7 (7.0 MB), pkg6 (6.0 MB), pkg5 (5.0 MB), pkg4 (4.0 MB), pkg3 (3.0 MB)" in (
        err.value.message
    )
    assert "pkg2" not in err.value.message
    assert err.value.fix is not None and "slim: true" in err.value.fix


def test_zipped_limit() -> None:
    with pytest.raises(PackageError, match=r"51\.0 MB zipped"):
        check_lambda_limits(zipped=51 * MB, unzipped=100 * MB, packages=[])


def test_build_enforces_limits_for_aws_only(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "ZIPPED_LIMIT", 200_000)  # scaled down: same rule, less disk
    (project / "requirements.txt").write_text("huge==1.0\n")
    (project / "blob.bin").write_bytes(os.urandom(300_000))  # incompressible
    service = make_service(project)
    local = build(service, cache_dir=tmp_path / "c", pip=FakePip())
    assert local.code.size > 200_000
    with pytest.raises(PackageError, match="zipped"):
        build(service, cache_dir=tmp_path / "c", pip=FakePip(),
              target=Target("aws", "3.11", "manylinux2014_x86_64"))
    # The failed build leaves the previous artifact in place, not a half-written one.
    assert local.code.path.exists() and not list(local.code.path.parent.glob(".*.tmp"))
