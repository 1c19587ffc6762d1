from __future__ import annotations

import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from aloft.errors import PackageError
from aloft.package import unpack
from aloft.package.archive import Entry, sha256_file, write_zip


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    path = tmp_path / "a.zip"
    write_zip(path, [
        Entry("pkg/__init__.py", data=b"VALUE = 1\n"),
        Entry.file("bin/run.sh", script),
        Entry("pkg/data/deep/file.txt", data=b"x" * 1000),
    ])
    return path


def test_unpacks_into_a_directory_named_by_content(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "trees"
    tree = unpack(archive, root)
    assert tree == root / sha256_file(archive)
    assert (tree / "pkg" / "__init__.py").read_text() == "VALUE = 1\n"
    assert (tree / "pkg" / "data" / "deep" / "file.txt").stat().st_size == 1000
    assert stat.S_IMODE((tree / "bin" / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((tree / "pkg" / "__init__.py").stat().st_mode) == 0o644
    assert os.listdir(root) == [tree.name]  # no temporary directory left behind


def test_idempotent_and_trusts_a_given_hash(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "trees"
    tree = unpack(archive, root)
    (tree / "pkg" / "__init__.py").write_text("edited\n")
    again = unpack(archive, root, sha256=sha256_file(archive))
    assert again == tree and (tree / "pkg" / "__init__.py").read_text() == "edited\n"


def test_an_interrupted_unpack_leaves_no_final_directory(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "trees"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:200])  # cut short, like an interrupted download
    with pytest.raises(PackageError, match="cannot unpack"):
        unpack(broken, root)
    assert os.listdir(root) == []


def test_concurrent_unpacks_agree(archive: Path, tmp_path: Path) -> None:
    root = tmp_path / "trees"
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(unpack(archive, root)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results) == 6
    assert os.listdir(root) == [results[0].name]
    assert (results[0] / "pkg" / "data" / "deep" / "file.txt").stat().st_size == 1000


def test_refuses_paths_outside_the_tree(tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(PackageError, match="unsafe path"):
        unpack(evil, tmp_path / "trees")
    assert not (tmp_path / "escape.txt").exists()
