"""The daemon runs its data plane compiled with mypyc when a build of the current sources exists
(`make setup` makes it), and serves through it; `ALOFT_COMPILED=0` runs the sources. What the
daemon's log claims is checked against the extensions its process has mapped."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aloft.local import compiled
from tests.integration.local.cloud_helpers import WSGI_APP, Cloud, get, service, write_project

CONFIG = """
    service: shop
    app: app:app
"""


@pytest.fixture(scope="module")
def build() -> Path:
    try:
        return compiled.build()  # (built by `make setup` already: then it is only found)
    except compiled.CompileError as exc:  # pragma: no cover - a machine without a C compiler
        pytest.skip(f"the data plane cannot be compiled here: {exc}")


def _mapped(pid: int) -> set[str]:
    """The files the process has mapped (its loaded extensions among them)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split(None, 5)[5] for line in lines if len(line.split(None, 5)) == 6}


def _daemon_log(cloud: Cloud) -> str:
    return (cloud.home / "daemon.log").read_text()


@pytest.fixture(params=["compiled", "sources"])
def cloud(request: pytest.FixtureRequest, tmp_path: Path, build: Path) -> Iterator[Cloud]:
    env = {} if request.param == "compiled" else {"ALOFT_COMPILED": "0"}
    c = Cloud(tmp_path / "home", env)
    c.start()
    try:
        yield c
    finally:
        c.stop()


def test_the_daemon_serves_through_the_build_of_its_sources(
        cloud: Cloud, build: Path, tmp_path: Path) -> None:
    info = cloud.client.running()
    assert info is not None
    extensions = {p for p in _mapped(info.pid) if p.startswith(str(build))}
    server = build / "tree" / "local" / "http" / next(
        p.name for p in (build / "tree" / "local" / "http").iterdir()
        if p.name.startswith("server."))
    if cloud.env.get("ALOFT_COMPILED") == "0":
        assert extensions == set()
        claim = "Python sources (ALOFT_COMPILED=0)"
    else:
        assert str(server) in extensions
        claim = f"compiled with mypyc ({len(compiled.MODULES)} modules)"
    # what its log, `aloft cloud status` and the control API say
    assert f"data plane: {claim}" in _daemon_log(cloud)
    assert cloud.client.call("GET", "cloud")["data_plane"] == claim
    root = write_project(tmp_path / "shop", CONFIG, {"app.py": WSGI_APP})
    cloud.provider.deploy(service(root))
    for path in ("/a", "/b/c"):
        status, body = get(cloud.url(f"/shop/dev{path}"))
        assert (status, body) == (200, f"v1 /shop/dev {path}".encode())
    assert get(cloud.url("/shop/dev/boom"))[0] == 500


def test_a_build_of_other_sources_is_not_run(tmp_path: Path, build: Path) -> None:
    """An edit anywhere in the package makes another key: the daemon would look for another
    build, and runs the sources until it is made."""
    tree = tmp_path / "aloft"
    for name, text in {"a.py": "A = 1\n", "sub/b.py": "B = 2\n"}.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    first = compiled.sources_key(tree)
    (tree / "sub" / "b.py").write_text("B = 3\n")
    edited = compiled.sources_key(tree)
    (tree / "sub" / "b.py").rename(tree / "sub" / "c.py")
    (tree / "sub" / "c.py").write_text("B = 2\n")
    renamed = compiled.sources_key(tree)
    assert len({first, edited, renamed}) == 3
    assert build.name.endswith(compiled.sources_key()[:24])


def _in_a_fresh_process(env: dict[str, str]) -> tuple[str, str, str]:
    """What `activate` says in a process that has not imported the data plane, and where the
    server module then comes from."""
    probe = ("from aloft.local import compiled; why = compiled.activate(); "
             "import aloft.local.http.server as s; print(why, s.__file__, compiled.describe(), "
             "sep='|')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={k: v for k, v in env.items() if v}, timeout=60, check=True)
    why, where, described = done.stdout.strip().split("|")
    return why, where, described


def test_activation_puts_the_build_first_or_says_why_not(
        tmp_path: Path, build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    env = {**os.environ, "ALOFT_COMPILED": "", "ALOFT_COMPILED_DIR": ""}
    why, where, described = _in_a_fresh_process(env)
    assert why == "None" and where.startswith(str(build)) and where.endswith(".so")
    assert described.startswith("compiled with mypyc (")  # (the modules it has loaded)

    why, where, described = _in_a_fresh_process({**env, "ALOFT_COMPILED_DIR": str(tmp_path)})
    assert why == "not compiled for these sources: `python -m aloft.local.compiled` compiles them"
    assert where.endswith("server.py") and described == f"Python sources ({why})"

    why, where, _ = _in_a_fresh_process({**env, "ALOFT_COMPILED": "0"})
    assert why == "ALOFT_COMPILED=0" and where.endswith("server.py")

    # In this test process the sources are loaded: a build cannot be put before them.
    import aloft.local.http.server  # noqa: F401

    first = next(m for m in compiled.MODULES if m in sys.modules)
    monkeypatch.setattr(compiled, "_why_not", None)
    assert compiled.activate() == f"{first} was imported before the build could be put first"


def test_a_daemon_without_a_build_of_its_sources_compiles_one_in_the_background(
        tmp_path: Path, build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As after `pip install 'aloft[fast]'` (no `make setup`): the daemon runs the sources and
    starts the build in a detached child at the lowest CPU priority, which outlives it; a second
    daemon meanwhile finds it building (its lock holds its pid) and starts no other. (The build
    itself is `make setup`'s: the other tests here run it.)"""
    import os
    import re
    import signal

    from tests.waiting import wait_until

    monkeypatch.setenv("ALOFT_COMPILED_DIR", str(tmp_path / "builds"))
    lock = compiled.lock_path()
    first = Cloud(tmp_path / "first")
    second = Cloud(tmp_path / "second")
    pid = None
    try:
        first.start()
        said = re.search(r"data plane: Python sources \(not compiled for these sources[^\n]*\); "
                         r"compiling it in the background \(pid (\d+); the next start runs it "
                         r"compiled\)", _daemon_log(first))
        assert said is not None, _daemon_log(first)
        pid = int(said.group(1))
        assert first.client.call("GET", "cloud")["data_plane"].endswith(
            f"compiling it in the background (pid {pid}; the next start runs it compiled)")
        wait_until(lambda: compiled.builder(lock) == pid, timeout=20, interval=0.05,
                   message="the background build to hold its lock")
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[-3:] == [b"aloft.local.compiled", b"--background", b""], argv
        nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
        assert nice == 19
        assert os.getsid(pid) == pid  # its own session: a Ctrl-C or stop does not reach it
        second.start()
        assert f"data plane: Python sources (not compiled for these sources: `python -m " \
               f"aloft.local.compiled` compiles them); being compiled in the background " \
               f"(pid {pid})" in _daemon_log(second)
        first.stop()
        assert Path(f"/proc/{pid}").exists()  # it outlives the daemon that started it
    finally:
        for cloud in (first, second):
            if cloud.client.running() is not None:
                cloud.stop()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
