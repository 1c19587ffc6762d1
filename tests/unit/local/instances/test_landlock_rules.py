"""The paths Landlock's rules are laid on when instances run without user namespaces: every
hidden directory cut out of what may be read or written, and only rights the kernel knows."""

from __future__ import annotations

from pathlib import Path

from aloft.local.instances.worker import sandbox as S


def test_a_hidden_directory_is_cut_out_of_the_roots(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".aloft"
    (home / "artifacts").mkdir(parents=True)
    (tmp_path / "home" / "project").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "home" / "link").symlink_to(home)
    roots = S._around([str(tmp_path)], [str(home)])
    assert sorted(roots) == sorted([str(tmp_path / "other"), str(tmp_path / "home" / "project"),
                                    str(tmp_path / "home" / "notes.txt"),
                                    str(tmp_path / "home" / "link")])
    # nothing beneath a returned root is hidden, and every visible sibling is returned
    assert not [r for r in roots if S._under(str(home), [r])]
    assert S._around([str(tmp_path / "other")], [str(home)]) == [str(tmp_path / "other")]
    assert S._around([str(home / "artifacts")], [str(home)]) == []


def test_rights_follow_the_kernels_abi() -> None:
    first = (1 << 13) - 1
    assert S.fs_rights(1) == first
    assert S.fs_rights(2) == first | S.FS_REFER
    assert S.fs_rights(4) == first | S.FS_REFER | S.FS_TRUNCATE
    assert S.fs_rights(7) == first | S.FS_REFER | S.FS_TRUNCATE | S.FS_IOCTL_DEV
    assert S.READ_RIGHTS & S.fs_rights(1) == S.FS_EXECUTE | S.FS_READ_FILE | S.FS_READ_DIR


def test_the_interpreter_is_kept_when_the_users_home_holds_it() -> None:
    """A Python installed in the home (pyenv, a project's venv) is bound back into the hidden
    home: instances run on it."""
    import os
    import sys

    prefix = os.path.realpath(sys.base_prefix)
    kept = S._kept({"keep": []}, [os.path.dirname(prefix)])
    assert any(prefix == k or prefix.startswith(k + "/") for k in kept)
    assert S._kept({"keep": []}, ["/nonexistent-home"]) == []
