"""Where the compiled data plane's builds go, and which are kept (aloft.local.compiled)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aloft.local import compiled


def test_builds_go_to_the_checkout_the_env_or_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(compiled.ENV_DIR, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    checkout = tmp_path / "checkout"
    (checkout / "src" / "aloft").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("[project]\nname = 'aloft'\n")
    assert compiled.builds_dir(checkout / "src" / "aloft") == checkout / "build" / "compiled"
    installed = tmp_path / "site-packages" / "aloft"
    installed.mkdir(parents=True)
    assert compiled.builds_dir(installed) == tmp_path / "home" / ".cache" / "aloft" / "compiled"
    monkeypatch.setenv(compiled.ENV_DIR, str(tmp_path / "elsewhere"))
    assert compiled.builds_dir(installed) == tmp_path / "elsewhere"


def test_a_build_is_named_after_its_interpreter_and_sources(tmp_path: Path) -> None:
    tree = tmp_path / "src" / "aloft"
    tree.mkdir(parents=True)
    (tree / "m.py").write_text("X = 1\n")
    name = compiled.build_dir(tree).name
    (tree / "m.py").write_text("X = 2\n")
    assert compiled.build_dir(tree).name != name
    assert name.startswith(compiled._tag() + "-")


def test_the_newest_builds_are_kept(tmp_path: Path) -> None:
    tag = compiled._tag()
    builds = []
    for age in range(5):  # the oldest first
        build = tmp_path / f"{tag}-{age}"
        build.mkdir()
        os.utime(build, (1_000_000 + age, 1_000_000 + age))
        builds.append(build)
    other = tmp_path / "cpython-399-elsewhere-1"  # another interpreter's: not ours to remove
    other.mkdir()
    staging = tmp_path / ".building-x"  # a build being made
    staging.mkdir()
    compiled._prune(builds[-1])
    kept = {p.name for p in tmp_path.iterdir()}
    assert kept == {builds[4].name, builds[3].name, builds[2].name, other.name, staging.name}


def _ill_typed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package of one module that mypy rejects, compiled (as MODULES) into tmp_path/builds."""
    package = tmp_path / "src" / "aloft"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text('COUNT: int = "three"\n')
    monkeypatch.setattr(compiled, "package_root", lambda: package)
    monkeypatch.setattr(compiled, "MODULES", ("aloft.bad",))
    monkeypatch.setenv(compiled.ENV_DIR, str(tmp_path / "builds"))
    return package


def test_a_failed_compile_says_why_and_leaves_no_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mypy's error, not mypyc's last lines, and nothing where the daemon would look."""
    _ill_typed_package(tmp_path, monkeypatch)
    with pytest.raises(compiled.CompileError) as failed:
        compiled.build()
    message = str(failed.value)
    assert message.startswith("mypyc failed (exit 1); the daemon runs the Python sources")
    assert 'aloft/bad.py:1: error: Incompatible types in assignment (expression has type "str"' \
        in message
    # (but the lock it was built under, released: another build may go ahead)
    assert [p.name for p in (tmp_path / "builds").iterdir()] == [compiled.lock_path().name]
    assert compiled.builder(compiled.lock_path()) is None


def test_a_failed_background_build_is_not_tried_at_every_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon's background build that fails says why in a file beside the builds; the next
    daemons do not start it again (each would spend a minute of CPU to fail the same way), but
    say so; `python -m aloft.local.compiled` tries again."""
    package = _ill_typed_package(tmp_path, monkeypatch)
    monkeypatch.delenv(compiled.ENV_SWITCH, raising=False)
    assert compiled.main(["--background"]) == 1
    failed = compiled.failed_path()
    assert "Incompatible types in assignment" in failed.read_text()
    said = compiled.compile_later(tmp_path / "compile.log")
    assert said == (f"its build failed ({failed}); `python -m aloft.local.compiled` tries "
                    "again")
    assert not (tmp_path / "compile.log").exists()  # nothing was started
    (package / "bad.py").write_text("COUNT: int = 3\n")  # fixed: a new key, a new build
    assert not compiled.failed_path().exists()
