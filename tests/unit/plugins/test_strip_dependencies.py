"""The strip_dependencies packaging plugin: what it removes from an installed tree, and that
enabling it changes the dependency cache key (so a layer is rebuilt, not reused)."""

from __future__ import annotations

from pathlib import Path

from aloft.config.models import Service
from aloft.package.dependencies import dependency_key
from aloft.package.requirements import Requirements
from aloft.package.target import Target
from aloft.plugins import load_plugins
from aloft.plugins.builtin.strip_dependencies import strip


def tree(site: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)


def test_strips_tests_stubs_and_caches_and_keeps_the_code(tmp_path: Path) -> None:
    tree(tmp_path, {
        "pkg/__init__.py": "", "pkg/core.py": "x = 1\n", "pkg/core.pyi": "x: int\n",
        "pkg/py.typed": "", "pkg/tests/__init__.py": "", "pkg/tests/test_core.py": "t" * 500,
        "pkg/sub/__init__.py": "", "pkg/sub/test/data.txt": "d" * 100,
        "pkg/__pycache__/core.cpython-311.pyc": "c" * 50,
        "test/__init__.py": "",  # a top-level package named `test`: someone's real code
        "pkg-1.0.dist-info/RECORD": "pkg/core.py,,\n",
    })
    stripped = strip(tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["pkg-1.0.dist-info/RECORD", "pkg/__init__.py", "pkg/core.py",
                    "pkg/sub/__init__.py", "test/__init__.py"]
    assert stripped.files == 6 and stripped.bytes == 500 + 100 + 50 + len("x: int\n")


def test_enabling_it_changes_the_layer_cache_key(tmp_path: Path) -> None:
    reqs = Requirements(source=tmp_path / "requirements.txt", kind="requirements",
                        lines=("flask==3.0.0",))
    target = Target("local", "3.11", "linux_x86_64")
    plain = load_plugins([], tmp_path)
    stripping = load_plugins(["aloft.plugins.builtin.strip_dependencies"], tmp_path)
    svc = Service.model_validate({"service": "s", "stage": "dev", "root": tmp_path,
                                  "app": "app:app"})
    assert plain.dependency_steps(svc) == []
    steps = stripping.dependency_steps(svc)
    assert [s.key for s in steps] == ["aloft.plugins.builtin.strip_dependencies:1"]
    assert dependency_key(reqs, target, "layer") == dependency_key(reqs, target, "layer", [])
    assert dependency_key(reqs, target, "layer") != dependency_key(reqs, target, "layer", steps)
