"""A function that fails to initialise, through the real command line: `aloft deploy` to the
local cloud, `aloft invoke --local` and `aloft dev` each show Lambda's `errorType: message` on
one line, then the user's own frames at their project paths (nothing of aloft, of Python's
import machinery or of the unpacked artifact), once, then the probable fix."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli.cli_run import Aloft
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

CONFIG = "service: broken\napp: app:app\nstages:\n  dev:\n    provider: local\n"
APP = '''import helpers


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [helpers.greeting().encode()]
'''
HELPERS_BROKEN = '''"""Helpers."""
import requests


def greeting():
    return "hello"
'''
HELPERS_GOOD = '''"""Helpers."""


def greeting():
    return "hello"
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = (tmp_path / "broken").resolve()
    root.mkdir()
    (root / "aloft.yml").write_text(CONFIG)
    (root / "app.py").write_text(APP)
    (root / "helpers.py").write_text(HELPERS_BROKEN)
    return root


@pytest.fixture
def cloud_env(aloft: Aloft, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"ALOFT_HOME": str(tmp_path / "home"), "ALOFT_PORT": str(free_port())}
    yield env
    aloft("cloud", "stop", cwd=tmp_path, env=env, timeout=60)


def from_error(stderr: str) -> list[str]:
    """The lines from `error:` on (the progress lines before it are not the error)."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(starts) == 1, stderr
    return lines[starts[0]:]


def user_frames(root: Path, indent: str) -> list[str]:
    return [
        f'{indent}File "{root}/app.py", line 1, in <module>',
        f"{indent}  import helpers",
        f'{indent}File "{root}/helpers.py", line 2, in <module>',
        f"{indent}  import requests",
    ]


def assert_no_platform_paths(text: str) -> None:
    """Nothing of the platform in an error (progress lines name the build directory)."""
    for leak in ("artifacts/unpacked", ".aloft/", "aloft/runtime", "importlib", "Traceback"):
        assert leak not in text, (leak, text)


def test_deploy_shows_the_init_error_once_with_the_users_frames(
    aloft: Aloft, project: Path, cloud_env: dict[str, str]
) -> None:
    first = aloft("deploy", "dev", cwd=project, env=cloud_env)
    assert first.returncode == 1
    assert from_error(first.stderr) == [
        "error: function 'app', stage 'dev': version 1 of 'app' failed to initialise; "
        "nothing was deployed",
        "  Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
        *user_frames(project, "    "),
        "fix: add `requests` to requirements.txt",
    ]
    assert first.stderr.count("No module named 'requests'") == 1
    assert_no_platform_paths("\n".join(from_error(first.stderr)) + first.stdout)

    # A version that serves, then a wrong `app:` name: the old version keeps serving.
    (project / "helpers.py").write_text(HELPERS_GOOD)
    good = aloft("deploy", "dev", cwd=project, env=cloud_env)
    assert good.returncode == 0, good.stderr
    (project / "aloft.yml").write_text(CONFIG.replace("app: app:app", "app: app:ap"))
    wrong = aloft("deploy", "dev", cwd=project, env=cloud_env)
    assert wrong.returncode == 1
    assert from_error(wrong.stderr) == [
        "error: function 'app', stage 'dev': version 2 of 'app' failed to initialise; the "
        "previous version keeps serving",
        "  Runtime.HandlerNotFound: App 'ap' missing on module 'app'",
        "fix: `app: app:ap`: app.py has no `ap`: did you mean `app:app`?",
    ]


def test_invoke_local_shows_the_init_error_once(aloft: Aloft, project: Path) -> None:
    result = aloft("invoke", "--local", "app", "--path", "/", cwd=project)
    assert result.returncode == 1
    assert from_error(result.stderr) == [
        "error: function 'app', stage 'dev': failed to initialise",
        "  Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
        *user_frames(project, "    "),
        "fix: add `requests` to requirements.txt",
    ]
    assert_no_platform_paths("\n".join(from_error(result.stderr)))
    assert result.stderr.count("No module named 'requests'") == 1
    # Not a terminal: the error object is on stdout for scripts, as Lambda's.
    assert '"errorType": "Runtime.ImportModuleError"' in result.stdout


def test_dev_shows_a_broken_reload_once(
    aloft_cache: Path, project: Path, tmp_path: Path
) -> None:
    (project / "helpers.py").write_text(HELPERS_GOOD)
    port = free_port()
    env = {**os.environ, "ALOFT_HOME": str(tmp_path / "dev-home"), "ALOFT_PORT": str(port),
           "NO_COLOR": "1", "ALOFT_CACHE_DIR": str(aloft_cache)}
    script = Path(sys.executable).parent / "aloft"
    proc = subprocess.Popen([str(script), "dev", "--interval", "0.05"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or ()), daemon=True)
    reader.start()

    def wait_for(text: str) -> None:
        wait_until(lambda: any(text in line for line in output) or proc.poll() is not None,
                   timeout=120, message=lambda: f"{text!r} in:\n{''.join(output)}")
        assert proc.poll() is None, "".join(output)

    try:
        wait_for("watching")
        (project / "helpers.py").write_text(HELPERS_BROKEN)
        wait_for("reload failed")
        # A request the previous version serves: its line comes after the failed version's
        # log lines, had they been shown.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/broken/dev/marker", timeout=30):
            pass
        wait_for("GET /broken/dev/marker 200")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    text = "".join(output)
    assert proc.returncode == 130, text  # stopped by Ctrl-C (SIGINT)
    assert text.count("No module named 'requests'") == 1, text
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "reload failed" in line)
    assert lines[at].endswith("version 2 of 'app' failed to initialise; the previous version "
                              "keeps serving")
    assert lines[at + 1:at + 7] == [
        "  Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'",
        *user_frames(project, "    "),
        "  fix: add `requests` to requirements.txt",
    ]
    assert_no_platform_paths("\n".join(lines[at:]))
