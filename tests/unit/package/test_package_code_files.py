from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from aloft.errors import PackageError
from aloft.package import build
from aloft.package.code_files import code_files
from tests.unit.package.package_fakes import FakePip, make_service


def touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)


def shipped(root: Path, **extra: object) -> list[str]:
    return [rel for rel, _ in code_files(make_service(root, **extra))]


def test_tooling_environments_and_caches_stay_out(project: Path) -> None:
    touch(
        project,
        "pkg/__init__.py", "pkg/views.py", "templates/index.html", "static/app.css",
        ".git/HEAD", ".venv/lib/x.py", "venv/lib/x.py", "env/lib/x.py", "virtualenvs/a/x.py",
        "pkg/__pycache__/views.cpython-311.pyc", "pkg/old.pyc", "tests/test_app.py",
        "pkg/tests/test_views.py", "node_modules/x/index.js", ".aloft/build/dev/code.zip",
        "dist/x.whl", "build/lib/x.py", "proj.egg-info/PKG-INFO", ".mypy_cache/x",
        ".pytest_cache/x", ".ruff_cache/x", "aloft.yml",
    )
    # A virtualenv is recognised by its pyvenv.cfg whatever its name.
    touch(project, "myenv/pyvenv.cfg", "myenv/lib/site.py")
    assert shipped(project) == [
        "app.py", "pkg/__init__.py", "pkg/views.py", "static/app.css", "templates/index.html",
    ]


def test_build_dist_env_names_are_only_tooling_at_the_root(project: Path) -> None:
    touch(project, "pkg/build/__init__.py", "pkg/env/__init__.py", "build/x.py")
    assert shipped(project) == ["app.py", "pkg/build/__init__.py", "pkg/env/__init__.py"]


def test_user_exclude_globs(project: Path) -> None:
    touch(project, "notes.md", "docs/a.md", "docs/b.txt", "pkg/data.log", "pkg/keep.py",
          "fixtures/big.bin", "pkg/fixtures/x.json", "scripts/run.sh")
    files = shipped(project, exclude=["*.md", "*.log", "fixtures/", "docs/*.txt", "/scripts"])
    assert files == ["app.py", "pkg/keep.py"]


def test_config_file_under_another_name_stays_out(project: Path) -> None:
    touch(project, "deploy/aloft.prod.yml")
    service = make_service(project, config_file=project / "deploy" / "aloft.prod.yml")
    assert [rel for rel, _ in code_files(service)] == ["app.py"]


def test_a_project_may_not_ship_its_own_aloft_package(project: Path) -> None:
    touch(project, "aloft/__init__.py")
    with pytest.raises(PackageError) as err:
        shipped(project)
    assert "reserved" in err.value.message and "exclude" in (err.value.fix or "")


def test_code_zip_holds_runtime_settings_and_keeps_executable_bits(
    project: Path, cache_dir: Path
) -> None:
    touch(project, "bin/run.sh")
    os.chmod(project / "bin" / "run.sh", 0o750)
    manifest = build(make_service(project), cache_dir=cache_dir, pip=FakePip())
    with zipfile.ZipFile(manifest.code.path) as zf:
        names = zf.namelist()
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        times = {i.date_time for i in zf.infolist()}
    assert names == sorted(names)
    assert {"app.py", "bin/run.sh", "aloft/__init__.py", "aloft/runtime/__init__.py",
            "aloft/runtime/settings.py", "aloft_settings.json"} <= set(names)
    assert not any("__pycache__" in n for n in names)
    assert modes["bin/run.sh"] == 0o755 and modes["app.py"] == 0o644
    assert times == {(1980, 1, 1, 0, 0, 0)}


def test_symlinked_directories_ship_once_without_looping(project: Path, tmp_path: Path) -> None:
    touch(tmp_path, "shared/util.py")
    (project / "shared").symlink_to(tmp_path / "shared")
    (project / "pkg").mkdir()
    (project / "pkg" / "loop").symlink_to(project)  # a link back to the project root
    touch(project, "pkg/mod.py")
    assert shipped(project) == ["app.py", "pkg/mod.py", "shared/util.py"]
