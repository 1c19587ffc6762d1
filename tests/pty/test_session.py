"""A user's session at a terminal, command by command, on one local cloud shared by the module:
init, validate, package, deploy, invoke, status, tail (Ctrl-C, SIGTERM), a failing deploy, Ctrl-C
during a deploy's health check and during its pip install, rollback, port conflicts, undeploy
(declined, then confirmed) and the read-only commands once the cloud is stopped.

The tests run in file order: each starts from what the previous left (one deploy shared by
all keeps the module fast). Every command has a deadline; Ctrl-C must stop it within a second
(the budget grows only when the shared machine is overloaded, and says so).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import signal
import socket
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud, free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(180)  # a hard deadline per test (the first pip install)

SPINNER = re.compile("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]")
"""rich's `dots` spinner frames: seen only when the spinner really ran in the terminal."""


def ctrl_c_budget() -> float:
    """One second; more only when the machine's load per core is above 1.5 (shared CI)."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return 1.0 if load <= 1.5 else load / 1.5


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


@pytest.fixture(scope="module")
def project(copy_example: Callable[[str], Path]) -> Path:
    """examples/flask-hello without its aloft.yml (`aloft init` writes one)."""
    root = copy_example("flask-hello")
    (root / "aloft.yml").unlink()
    return root


@pytest.fixture(scope="module")
def url(cloud: Cloud) -> str:
    return f"http://127.0.0.1:{cloud.port}/flask-hello/dev/"


@pytest.fixture
def app_changed(project: Path) -> Iterator[Path]:
    """app.py, put back as it was after the test."""
    app = project / "app.py"
    original = app.read_text()
    yield app
    app.write_text(original)


def test_init_writes_the_config(cloud: Cloud, project: Path) -> None:
    done = cloud.run("init", cwd=project, timeout=20)
    assert done.code == 0, done.text
    assert f"Wrote {project / 'aloft.yml'} for the Flask app in app.py: app:app" in done.text
    assert "service: flask-hello" in (project / "aloft.yml").read_text()


def test_validate_in_colour(cloud: Cloud, project: Path) -> None:
    done = cloud.run("validate", cwd=project, timeout=20)
    assert done.code == 0, done.text
    assert f"✓ {project / 'aloft.yml'} is valid (dev)" in done.text
    assert re.search(r"app\s+app:app\s+http ANY /\{proxy\+\}", done.text)
    assert b"\x1b[32m" in done.raw  # green: rich saw a colour terminal


def test_package_installs_and_zips(cloud: Cloud, project: Path) -> None:
    done = cloud.run("package", cwd=project, timeout=150)  # pip installs Flask once
    assert done.code == 0, done.text
    for line in ("✓ requirements requirements.txt", "✓ code", "✓ artifact"):
        assert line in done.text
    assert re.search(r"✓ dependencies (cached \()?7 packages", done.text), done.text
    assert re.search(r"layer\s+\.aloft/build/dev/layer\.zip", done.text)
    assert (project / ".aloft" / "build" / "dev" / "code.zip").is_file()


def test_deploy_shows_each_step_and_serves(cloud: Cloud, project: Path, url: str) -> None:
    done = cloud.run("deploy", "dev", cwd=project, timeout=60)
    assert done.code == 0, done.text
    assert SPINNER.search(done.text), "no spinner ran"
    for line in ("✓ uploaded", "✓ applied the changes", "✓ verified",
                 "✓ the new version passed its health check: app v1 (GET / answered 200)",
                 "deployed flask-hello to dev: version 1"):
        assert line in done.text
    # the stage's own host first, then its URL under the path prefix on the next row
    host_url = f"http://dev.flask-hello.localhost:{cloud.port}/"
    assert re.search(rf"URL\s+│\s+{re.escape(host_url)}\s+│\n│\s+│\s+{re.escape(url)}",
                     done.text), done.text
    assert "╭" in done.text  # the summary's rounded box, as on a terminal
    status, body = get(url)
    assert status == 200 and "Hello from aloft!" in body


def test_invoke_the_deployed_app(cloud: Cloud, project: Path) -> None:
    done = cloud.run("invoke", "dev", "app", "--path", "/hello/pty", cwd=project, timeout=30)
    assert done.code == 0, done.text
    assert "START RequestId" in done.text and "REPORT RequestId" in done.text
    assert '\\"message\\":\\"Hello, pty!\\"' in done.text


def test_status(cloud: Cloud, project: Path, url: str) -> None:
    done = cloud.run("status", "dev", cwd=project, timeout=20)
    assert done.code == 0, done.text
    assert re.search(rf"url\s+{re.escape(url)}", done.text)
    assert re.search(r"alias\s+dev -> version 1", done.text), done.text


def test_cloud_status_and_doctor_say_which_data_plane_runs(
        cloud: Cloud, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The running daemon's (compiled when `make setup` built it for these sources), and the
    one a daemon started now would run."""
    from aloft.local import compiled

    monkeypatch.delenv(compiled.ENV_SWITCH, raising=False)  # (the terminal's env has none)
    if compiled.unavailable() is None:
        running = f"compiled with mypyc ({len(compiled.MODULES)} modules)"
        doctor = "✓ data plane (optional): compiled with mypyc ("
    else:
        running, doctor = "Python sources (not compiled", "! data plane (optional): Python"
    done = cloud.run("cloud", "status", cwd=project, timeout=20)
    assert done.code == 0, done.text
    assert re.search(rf"data plane\s+{re.escape(running)}", done.text), done.text
    done = cloud.run("doctor", cwd=project, timeout=60)
    assert doctor in " ".join(done.text.split()), done.text  # (rich wraps at the width)


def test_tail_follows_then_ctrl_c_exits_130(cloud: Cloud, project: Path, url: str) -> None:
    with cloud.terminal("tail", "dev", cwd=project) as term:
        term.expect(r"app START RequestId: \S+ Version: 1", timeout=20)  # the lines so far
        # now following (tail showed the lines so far): a new request's lines come as they happen
        get(url + "hello/follow")
        # an HTTP request shows as its request line (START/END/REPORT are the health check's)
        term.expect(r"app GET /flask-hello/dev/hello/follow 200 [\d.]+ ms", timeout=10)
        pressed = term.ctrl_c()
        done = term.wait(10)
        took = time.monotonic() - pressed
    assert done.code == 130, done.text
    assert done.text.rstrip().endswith("interrupted")
    assert took < ctrl_c_budget(), f"tail stopped {took:.2f} s after Ctrl-C"


def test_sigterm_stops_tail_with_143(cloud: Cloud, project: Path) -> None:
    with cloud.terminal("tail", "dev", cwd=project) as term:
        term.expect(r"REPORT RequestId", timeout=20)
        term.proc.send_signal(signal.SIGTERM)
        done = term.wait(10)
    assert done.code == 143, done.text
    assert done.text.rstrip().endswith("terminated")


def test_a_failing_deploy_keeps_the_old_version(cloud: Cloud, project: Path, url: str,
                                                app_changed: Path) -> None:
    app_changed.write_text(app_changed.read_text() + "\nraise RuntimeError('boom at import')\n")
    done = cloud.run("deploy", "dev", cwd=project, timeout=60)
    assert done.code == 1, done.text
    assert "failed to initialise; the previous version keeps serving" in done.text
    assert "RuntimeError: boom at import" in done.text
    assert "fix: " in done.text and "Traceback (most recent call last)" not in \
        done.text.split("error:")[0]
    status, body = get(url)
    assert status == 200 and "Hello from aloft!" in body


def test_ctrl_c_in_the_health_check_keeps_the_old_version(
    cloud: Cloud, project: Path, url: str, app_changed: Path
) -> None:
    importing = project.parent / "importing"  # outside the project: not part of the code
    app_changed.write_text(f"import pathlib, time\npathlib.Path({str(importing)!r}).touch()\n"
                           "time.sleep(60)  # a slow init\n" + app_changed.read_text())
    daemon = json.loads((cloud.home / "daemon.json").read_text())["pid"]
    before = descendants(daemon)
    with cloud.terminal("deploy", "dev", cwd=project) as term:
        term.expect("applying the changes", timeout=60)
        wait_until(importing.exists, timeout=10, message="the new version to import the app")
        pressed = term.ctrl_c()
        done = term.wait(10)
        took = time.monotonic() - pressed
    assert done.code == 130, done.text
    assert "interrupted: version 2 was not published; version 1 keeps serving" in done.text
    assert took < ctrl_c_budget(), f"deploy stopped {took:.2f} s after Ctrl-C"
    status, body = get(url)
    assert status == 200 and "Hello from aloft!" in body
    wait_until(lambda: not descendants(daemon) - before, timeout=5,  # the deploy's processes
               message="the new version's processes to stop")


def test_ctrl_c_in_the_pip_install_changes_nothing(cloud: Cloud, project: Path,
                                                   url: str) -> None:
    requirements = project / "requirements.txt"
    original = requirements.read_text()
    requirements.write_text(original + "itsdangerous>=2\n")  # a new install, not the cache
    try:
        with cloud.terminal("deploy", "dev", cwd=project) as term:
            term.expect("dependencies pip install from requirements.txt", timeout=30)
            pressed = term.ctrl_c()
            done = term.wait(10)
            took = time.monotonic() - pressed
    finally:
        requirements.write_text(original)
    assert done.code == 130, done.text
    assert "interrupted: nothing was deployed; version 1 keeps serving" in done.text
    assert took < ctrl_c_budget(), f"deploy stopped {took:.2f} s after Ctrl-C"
    assert not list(cloud.cache.glob(".build-*")), "a half-built layer was left in the cache"
    status, body = get(url)
    assert status == 200 and "Hello from aloft!" in body


def test_rollback(cloud: Cloud, project: Path, url: str, app_changed: Path) -> None:
    app_changed.write_text(app_changed.read_text().replace("Hello from aloft!", "Hello v2!"))
    done = cloud.run("deploy", "dev", cwd=project, timeout=60)
    assert done.code == 0 and "deployed flask-hello to dev: version 2" in done.text, done.text
    assert "Hello v2!" in get(url)[1]
    done = cloud.run("rollback", "dev", cwd=project, timeout=30)
    assert done.code == 0, done.text
    assert "rolled flask-hello dev back to version 1" in done.text
    assert "Hello from aloft!" in get(url)[1]
    done = cloud.run("rollback", "dev", "--to", "1", cwd=project, timeout=30)  # it serves 1
    assert done.code == 0, done.text
    assert "no changes: flask-hello dev is already at version 1; nothing was rolled back" \
        in done.text and "rolled flask-hello" not in done.text


def test_port_taken_by_another_aloft_cloud(cloud: Cloud, project: Path,
                                           tmp_path: Path) -> None:
    daemon = json.loads((cloud.home / "daemon.json").read_text())["pid"]
    other = Cloud(tmp_path / "other-home", cloud.port, cloud.cache)
    done = other.run("status", "dev", cwd=project, timeout=20)  # read-only: never starts one
    assert done.code == 1 and "the local cloud is not running" in done.text, done.text
    done = other.run("cloud", "start", cwd=project, timeout=20)
    assert done.code == 1, done.text
    assert (f"error: port {cloud.port} is taken by another aloft local cloud "
            f"(home {cloud.home}, pid {daemon})") in done.text
    assert f"ALOFT_HOME={cloud.home} aloft cloud stop" in done.text
    # the fix it gives works: another port
    port = free_port()
    done = other.run("--port", str(port), "cloud", "start", cwd=project, timeout=30)
    assert done.code == 0 and f"local cloud on http://127.0.0.1:{port}" in done.text, done.text
    other.stop()
    log = (tmp_path / "other-home" / "daemon.log").read_text()  # its start and stop, at INFO
    assert f"INFO aloft.local.daemon: aloft local cloud on http://127.0.0.1:{port} " in log
    assert "INFO aloft.local.daemon: stopped after" in log and "WARNING" not in log


def test_port_taken_by_another_program(cloud: Cloud, project: Path, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        other = Cloud(tmp_path / "other-home", port, cloud.cache)
        done = other.run("cloud", "start", cwd=project, timeout=20)
        assert done.code == 1, done.text
        assert (f"error: port {port} is taken by another program (pid {os.getpid()}: "
                in done.text)  # this test process holds it
        assert "fix: use another port: `aloft --port" in done.text and "ALOFT_PORT=" in done.text
        # a command that starts the cloud, and the cloud in the foreground, fail the same way
        django = tmp_path / "site"
        django.mkdir()
        (django / "aloft.yml").write_text("service: site\ndjango_settings: site.settings\n"
                                          "stages:\n  dev:\n    provider: local\n")
        for args in (("manage", "dev", "migrate"), ("cloud", "start", "--foreground")):
            failed = other.run(*args, cwd=django, timeout=20)
            assert failed.code == 1, failed.text
            assert f"port {port} is taken by another program" in failed.text, failed.text
    # none of them left anything: no home, no artifacts/ (the home did not exist before)
    assert not (tmp_path / "other-home").exists()


def test_undeploy_declined_then_confirmed(cloud: Cloud, project: Path, url: str) -> None:
    # no, Enter (the default: no), Ctrl-D: exit 1, one line on a line of its own, nothing done
    for key in ("n\r", "\r", "\x04"):
        with cloud.terminal("undeploy", "dev", cwd=project) as term:
            term.expect(r"Delete flask-hello stage dev \(local\)\? \[y/N\]: ", timeout=20)
            term.send(key)
            done = term.wait(10)
        assert done.code == 1, (key, done.text)
        assert done.text.splitlines()[-1] == "aborted: nothing was undeployed", (key, done.text)
        for noise in ("Aborted!", "Traceback", "error"):
            assert noise not in done.text, (key, done.text)
        assert get(url)[0] == 200
    with cloud.terminal("undeploy", "dev", cwd=project) as term:  # Ctrl-C: 130, the same
        term.expect(r"\[y/N\]: ", timeout=20)
        # As a person presses it, not within microseconds of the prompt: Python writes the
        # prompt, then reads; a SIGINT handled in between leaves the read waiting for a line
        # (CPython's input(), not aloft: once in ten full runs on a loaded machine).
        time.sleep(0.3)
        term.ctrl_c()
        done = term.wait(10)
    assert done.code == 130, done.text
    assert done.text.splitlines()[-1] == "interrupted: nothing was undeployed", done.text
    assert get(url)[0] == 200
    with cloud.terminal("undeploy", "dev", cwd=project) as term:
        term.expect(r"\[y/N\]: ", timeout=20)
        term.send("y\r")
        done = term.wait(20)
    assert done.code == 0, done.text
    assert "undeployed flask-hello dev" in done.text
    assert get(url)[0] == 404


def test_read_only_commands_never_start_a_cloud(cloud: Cloud, project: Path) -> None:
    cloud.stop()
    for args in (("status", "dev"), ("tail", "dev"), ("dashboard", "--no-open")):
        done = cloud.run(*args, cwd=project, timeout=20)
        assert done.code == 1, done.text
        assert f"error: the local cloud is not running (home {cloud.home})" in done.text
        assert "fix: start it with `aloft cloud start`" in done.text
        assert not (cloud.home / "daemon.json").exists()


def test_foreground_cloud_stops_on_ctrl_c(cloud: Cloud, project: Path, tmp_path: Path) -> None:
    fg = Cloud(tmp_path / "fg-home", free_port(), cloud.cache)
    with fg.terminal("cloud", "start", "--foreground", cwd=project) as term:
        term.expect(rf"INFO aloft.local.daemon: aloft local cloud on "
                    rf"http://127.0.0.1:{fg.port} ", timeout=30)
        pressed = term.ctrl_c()
        done = term.wait(10)
        took = time.monotonic() - pressed
    assert done.code == 130, done.text
    assert "INFO aloft.local.daemon: stopped after" in done.text
    assert "ERROR" not in done.text and "Traceback" not in done.text  # a clean stop
    assert took < ctrl_c_budget(), f"the cloud stopped {took:.2f} s after Ctrl-C"
    assert not (fg.home / "daemon.json").exists()


def test_runs_with_a_recent_rich() -> None:
    """The terminal output above came from the rich pip installed, unpinned (rich 14+ swapped
    sys.stderr under a running spinner: aloft's own consoles must cope with whatever is new)."""
    version = importlib.metadata.version("rich")
    assert int(version.split(".")[0]) >= 14, version
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    rich = next(d for d in pyproject["project"]["dependencies"] if d.startswith("rich"))
    assert "<" not in rich, f"rich is capped ({rich}): the tests must run with a recent one"
