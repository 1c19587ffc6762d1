"""slim: the dependency archive is unpacked once per content into <dir>/<sha256>/ and put on
sys.path before the app is imported."""

from __future__ import annotations

import hashlib
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest

from aloft.runtime import handler as runtime
from aloft.runtime.errors import InitError
from aloft.runtime.slim import DEPS_ARCHIVE, unpack_deps
from tests.unit.runtime.runtime_helpers import load_event

APP = '''
import slimdep

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [slimdep.GREETING.encode()]
'''


def _archive(path: Path, greeting: str = "hello from the archive") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("slimdep/__init__.py", f"GREETING = {greeting!r}\n")
    return path


def test_slim_deps_unpacked_once_and_importable(
    deploy: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    deps_root = tmp_path / "deps"
    artifact = tmp_path / "artifact"
    archive = _archive(artifact / DEPS_ARCHIVE)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()

    deploy({"slimapp": APP}, app="slimapp:app", slim=True, env={"ALOFT_DEPS_DIR": str(deps_root)})
    result = runtime.handler(load_event("v2_head.json") | {"requestContext": {
        "stage": "$default", "http": {"method": "GET"}}}, None)
    assert result["body"] == "hello from the archive"
    target = deps_root / digest
    assert (target / "slimdep" / "__init__.py").is_file()
    assert str(target) in sys.path
    assert sys.path.index(str(target)) == sys.path.index(str(artifact)) + 1  # after the code
    assert sorted(p.name for p in deps_root.iterdir()) == [digest]  # no scratch left

    marker = target / "marker"
    marker.write_text("kept")
    sys.modules.pop("slimdep")
    deploy({"slimapp": APP}, app="slimapp:app", slim=True, env={"ALOFT_DEPS_DIR": str(deps_root)})
    assert marker.read_text() == "kept"  # a second cold start reuses the unpacked tree
    sys.modules.pop("slimdep", None)


def test_concurrent_cold_starts_share_one_tree(tmp_path: Path) -> None:
    archive = _archive(tmp_path / DEPS_ARCHIVE)
    root = tmp_path / "deps"
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(unpack_deps(archive, root)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1 and len(results) == 4
    assert [p.name for p in root.iterdir()] == [results[0].name]
    # Another archive content gets its own directory.
    other = unpack_deps(_archive(tmp_path / "other.zip", "other"), root)
    assert other != results[0] and (other / "slimdep" / "__init__.py").read_text().count("other")


def test_slim_without_archive_is_an_init_error(deploy: Any, tmp_path: Path) -> None:
    with pytest.raises(InitError, match=r"aloft_deps\.zip is missing"):
        deploy({"slimapp": APP}, app="slimapp:app", slim=True,
               env={"ALOFT_DEPS_DIR": str(tmp_path / "deps")})
