from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aloft.config.models import Service
from aloft.errors import PackageError
from aloft.package import (
    HANDLER,
    Manifest,
    Target,
    build,
    default_cache_dir,
    default_out_dir,
)
from aloft.package.target import host_platform, host_python_version
from tests.unit.package.package_fakes import FakePip, make_service


def test_manifest_round_trips_through_its_file(project: Path, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    manifest = build(make_service(project), cache_dir=tmp_path / "c", pip=FakePip())
    path = project / ".aloft" / "build" / "dev" / "manifest.json"
    assert Manifest.read(path) == manifest
    assert Manifest.from_dict(manifest.to_dict()) == manifest
    assert manifest.handler == HANDLER == "aloft.runtime.handler.handler"
    assert manifest.code.path == project / ".aloft" / "build" / "dev" / "code.zip"
    assert manifest.build_seconds > 0


def test_missing_or_broken_manifest_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(PackageError) as err:
        Manifest.read(tmp_path / "manifest.json")
    assert err.value.fix is not None and "aloft package" in err.value.fix
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(PackageError, match="unreadable"):
        Manifest.read(tmp_path / "manifest.json")


def test_target_for_service(tmp_path: Path) -> None:
    def service(**extra: object) -> Service:
        return make_service(tmp_path, **extra)

    assert Target.for_service(service()) == Target(
        "local", host_python_version(), host_platform()
    )
    assert Target.for_service(service(provider="aws", runtime="3.12")) == Target(
        "aws", "3.12", "manylinux2014_x86_64"
    )
    arm = Target.for_service(service(provider="aws", runtime="3.11", aws={"architecture": "arm64"}))
    assert arm == Target("aws", "3.11", "manylinux2014_aarch64")
    assert arm.pip_platforms == ("manylinux2014_aarch64",)
    assert Target("aws", "3.13", "manylinux2014_x86_64").pip_platforms == (
        "manylinux2014_x86_64", "manylinux_2_34_x86_64",
    )


def test_default_locations(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path / "from-env"))
    assert default_cache_dir() == tmp_path / "from-env"
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    manifest = build(make_service(project), pip=FakePip())
    assert manifest.layer is not None
    assert (tmp_path / "from-env" / "unpacked" / manifest.layer.sha256).is_dir()
    assert manifest.code.path.parent == default_out_dir(make_service(project))
    monkeypatch.delenv("ALOFT_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "aloft"


def test_another_local_python_takes_the_machines_manylinux_wheels() -> None:
    # A declared python3.X found here is not the host's: pip cross-installs for it, and must
    # accept the manylinux wheels this machine's glibc runs (pip does not widen the tag itself).
    other = "3.12" if host_python_version() != "3.12" else "3.11"
    platforms = Target("local", other, host_platform()).pip_platforms
    assert platforms[0] == host_platform()
    if sys.platform.startswith("linux"):
        assert any(p.startswith("manylinux2014_") for p in platforms)
        assert any(p.startswith("manylinux_2_28_") for p in platforms)
    assert Target("local", host_python_version(), host_platform()).pip_platforms == (
        host_platform(),)
