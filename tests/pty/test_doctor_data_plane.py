"""`aloft doctor` in a terminal, as a person who pip-installed aloft sees it: while the local
cloud compiles its data plane in the background, and once that build has failed (each read
off the builds directory: the builder's lock and pid, the failure's note)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from aloft.local import compiled
from tests.pty.conftest import Cloud

pytestmark = pytest.mark.timeout(120)


def _doctor(cloud: Cloud, builds: Path, cwd: Path) -> str:
    done = cloud.run("doctor", cwd=cwd, timeout=60, ALOFT_COMPILED_DIR=str(builds))
    assert "Traceback" not in done.text, done.text
    return " ".join(done.text.split())  # (rich wraps at the terminal's width)


def test_doctor_says_the_data_plane_is_being_compiled(
        cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = tmp_path / "builds"
    builds.mkdir()
    monkeypatch.setenv(compiled.ENV_DIR, str(builds))
    fd = os.open(compiled.lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:  # held as a background build holds it, with its pid
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, str(os.getpid()).encode())
        text = _doctor(cloud, builds, tmp_path)
    finally:
        os.close(fd)
    assert (f"✓ data plane (optional): Python sources: being compiled in the background (pid "
            f"{os.getpid()}); the next start of the local cloud runs it compiled") in text, text
    # the lock released (the build ended without a build: it failed or was killed)
    assert "! data plane (optional): Python sources: not compiled for these sources" in \
        _doctor(cloud, builds, tmp_path)


def test_doctor_says_the_background_build_failed_and_how_to_retry(
        cloud: Cloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds = tmp_path / "builds"
    builds.mkdir()
    monkeypatch.setenv(compiled.ENV_DIR, str(builds))
    compiled.failed_path().write_text(
        "mypy found a type error in aloft/local/http/gateway.py:12\nthe rest of its output\n")
    text = _doctor(cloud, builds, tmp_path)
    assert ("! data plane (optional): Python sources: the background build failed: mypy found "
            "a type error in aloft/local/http/gateway.py:12") in text, text
    assert "the rest of its output" not in text
    assert ("python -m aloft.local.compiled (it says why in full and tries again), then `aloft "
            "cloud stop` so that the next start runs it") in text, text
