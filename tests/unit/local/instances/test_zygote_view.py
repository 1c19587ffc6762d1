"""A zygote's view of the artifact store (hard links of the code it forks, a place for its
layer), the build caches instances do not see, and the specs a zygote and an instance narrow
themselves with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aloft.local.instances import isolation
from aloft.local.instances.zygote_view import ZygoteView, sweep
from aloft.local.types import FunctionVersion


def _code(root: Path) -> Path:
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "app.py").write_text("X = 1\n")
    (root / "pkg" / "sub" / "mod.py").write_text("Y = 2\n")
    (root / "pkg" / "link.py").symlink_to("sub/mod.py")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    return root


def test_a_code_dir_is_linked_into_the_view_once(tmp_path: Path) -> None:
    store = tmp_path / "artifacts" / "unpacked"
    code = _code(store / "c0de")
    (store / "other").mkdir()
    view = ZygoteView(tmp_path / "artifacts" / "zygote-views", store)
    assert not view.shows(code)
    view.show(code)
    linked = view.path / "c0de"
    assert view.shows(code)
    assert (linked / "app.py").stat().st_ino == (code / "app.py").stat().st_ino  # no copy
    assert (linked / "pkg" / "sub" / "mod.py").read_text() == "Y = 2\n"
    assert os.readlink(linked / "pkg" / "link.py") == "sub/mod.py"
    assert os.access(linked / "run.sh", os.X_OK)
    assert sorted(p.name for p in view.path.iterdir()) == ["c0de"]  # not the other one
    view.show(code)  # again: nothing to do
    view.mount_point(store / "1a7e" / "python")
    assert sorted(p.name for p in view.path.iterdir()) == ["1a7e", "c0de"]
    assert list((view.path / "1a7e" / "python").iterdir()) == []
    outside = _code(tmp_path / "elsewhere")
    assert view.shows(outside)  # not in the store: nothing to link
    view.show(outside)
    assert not (view.path / "elsewhere").exists()
    view.remove()
    assert not view.path.exists()
    assert (code / "app.py").read_text() == "X = 1\n"  # the store's files stay


def test_a_code_dir_that_cannot_be_linked_is_an_error(tmp_path: Path) -> None:
    store = tmp_path / "unpacked"
    view = ZygoteView(tmp_path / "views", store)
    with pytest.raises(OSError):
        view.show(store / "gone")
    assert not view.shows(store / "gone")
    assert list(view.path.iterdir()) == []  # no half-made tree


def test_a_view_removed_while_a_tree_is_linked_goes_once_that_is_done(tmp_path: Path) -> None:
    """The zygote stops (on the event loop) while a worker thread links a version's code: the
    loop does not wait, the thread deletes the view when done, and links nothing more."""
    store = tmp_path / "unpacked"
    first, second = _code(store / "one"), _code(store / "two")
    view = ZygoteView(tmp_path / "views", store)
    view.show(first)
    with view._lock:  # as the worker thread holds it while linking
        view.remove()
        assert view.path.is_dir()  # not now: the linking thread deletes it
    with pytest.raises(FileNotFoundError):
        view.show(second)
    assert not view.path.exists()
    assert list((tmp_path / "views").iterdir()) == []


def test_a_new_daemon_sweeps_the_views_of_an_old_one(tmp_path: Path) -> None:
    left = ZygoteView(tmp_path / "views", tmp_path / "unpacked")
    (left.path / "c0de").mkdir()
    assert sweep(tmp_path / "views") == tmp_path / "views"
    assert list((tmp_path / "views").iterdir()) == []


def test_the_build_caches_are_hidden_unless_they_hold_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ALOFT_CACHE_DIR", str(tmp_path / "cache"))
    assert isolation.build_caches() == (str(tmp_path / "cache"), str(home / ".cache" / "aloft"))
    assert isolation.hidden_dirs(tmp_path / "aloft-home")[2:] == isolation.build_caches()
    monkeypatch.delenv("ALOFT_CACHE_DIR")
    assert isolation.build_caches() == (str(home / ".cache" / "aloft"),)
    for broad in (home, tmp_path, Path("/")):
        monkeypatch.setenv("ALOFT_CACHE_DIR", str(broad))
        assert isolation.build_caches() == (str(home / ".cache" / "aloft"),)


def _fv(tmp_path: Path) -> FunctionVersion:
    store = tmp_path / "artifacts" / "unpacked"
    return FunctionVersion(
        function="svc-dev-f", version=1, code_dir=store / "c0de",
        layer_dir=store / "1a7e" / "python", memory=128, timeout=3, concurrency=None,
        keep_alive=60, runtime_dir=tmp_path / "cache" / "runtime" / "python3.12")


def test_a_zygote_maps_its_view_where_the_store_is(tmp_path: Path) -> None:
    fv = _fv(tmp_path)
    store = str(tmp_path / "artifacts" / "unpacked")
    iso = isolation.Isolation(isolation.NAMESPACES, "test", ("/home",), store, (),
                              str(tmp_path / "views"))
    view = ZygoteView(tmp_path / "views", Path(store))
    zygote = json.loads(iso.spec(fv, zygote=True, also=("extra",), view=view) or "")
    assert zygote["map"] == [[str(view.path), store]]
    assert zygote["keep"] == [str(fv.layer_dir), str(fv.runtime_dir), "extra"]  # not the store
    without = json.loads(iso.spec(fv, zygote=True) or "")  # (Landlock: no view)
    assert "map" not in without and store in without["keep"]
    instance = json.loads(iso.spec(fv) or "")
    assert instance["keep"] == [str(fv.code_dir), str(fv.layer_dir), str(fv.runtime_dir)]
    assert "map" not in instance


def test_the_users_home_is_hidden_but_never_root_or_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = Path("/var/tmp")
    monkeypatch.setenv("HOME", str(outside))
    assert isolation.user_home() == os.path.realpath(outside)
    assert isolation.hidden_dirs(tmp_path / "aloft-home")[-1] == os.path.realpath(outside)
    for none in ("/", "/tmp", str(tmp_path), "/nonexistent-home"):
        monkeypatch.setenv("HOME", none)
        assert isolation.user_home() is None
        assert none not in isolation.hidden_dirs(tmp_path / "aloft-home")


def test_an_environment_value_naming_a_hidden_path_is_unseen(tmp_path: Path) -> None:
    """Isolation.unseen: paths (bare, sqlite:////..., file://...) that exist in a hidden
    directory and are not shared from inside it; a share around the hidden directory does not
    show it (the sandbox covers it again there)."""
    home = tmp_path / "user"
    (home / "shop").mkdir(parents=True)
    (home / "shop" / "dev.db").write_text("")
    (home / "efs").mkdir()
    (home / "efs" / "data.json").write_text("{}")
    db = str(home / "shop" / "dev.db")
    found = isolation.Isolation("namespaces", "", hide=(str(home),),
                                share=(str(home / "efs"), str(tmp_path)))
    assert found.unseen(db) == db
    assert found.unseen(f"sqlite:///{db}") == db  # sqlite:////abs/path
    assert found.unseen(f"file://{db}") == db
    assert found.unseen(f"  {db}\n") == db
    for seen in (str(home / "efs" / "data.json"), "sqlite:///dev.db", "/usr", "relative/x",
                 str(home / "shop" / "missing.db"), "postgresql://u@127.0.0.1/db", ""):
        assert found.unseen(seen) is None, seen
    assert isolation.Isolation("none", "", hide=(str(home),)).unseen(db) is None
