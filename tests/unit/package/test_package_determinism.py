from __future__ import annotations

import os
import time
from pathlib import Path

from aloft.package import build
from aloft.package.archive import sha256_file
from tests.unit.package.package_fakes import FakePip, make_service


def test_same_inputs_give_identical_bytes(project: Path, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    (project / "pkg").mkdir()
    (project / "pkg" / "a.py").write_text("A = 1\n")
    service = make_service(project)
    first = build(service, out_dir=tmp_path / "one", cache_dir=tmp_path / "c1", pip=FakePip())
    # Different mtimes, a different cache and output directory: content alone decides the bytes.
    future = time.time() + 3600
    os.utime(project / "pkg" / "a.py", (future, future))
    second = build(service, out_dir=tmp_path / "two", cache_dir=tmp_path / "c2", pip=FakePip())
    assert first.code.sha256 == second.code.sha256 == sha256_file(second.code.path)
    assert first.layer is not None and second.layer is not None
    assert first.layer.sha256 == second.layer.sha256 == sha256_file(second.layer.path)


def test_a_code_change_changes_the_code_hash_only(project: Path, tmp_path: Path) -> None:
    (project / "requirements.txt").write_text("flask==3.0.0\n")
    service = make_service(project)
    before = build(service, cache_dir=tmp_path / "c", pip=FakePip())
    (project / "app.py").write_text("app = None\n")
    after = build(service, cache_dir=tmp_path / "c", pip=FakePip())
    assert before.code.sha256 != after.code.sha256
    assert before.layer == after.layer
