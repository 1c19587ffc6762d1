"""Each `aloft init --template` project passes its own tests and answers `invoke --local`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from aloft.cli.scaffold import TEMPLATES
from tests.integration.cli.cli_run import Aloft

pytestmark = pytest.mark.slow

FIRST_REQUEST = {
    "function": ["hello", "--path", "/hello?name=Ada"],
    "flask": ["app", "--path", "/hello/Ada"],
    "fastapi": ["app", "--path", "/hello/Ada"],
    "django": ["app", "--path", "/"],
}


@pytest.mark.parametrize("template", TEMPLATES)
def test_scaffolded_project_tests_pass(aloft: Aloft, tmp_path: Path, template: str) -> None:
    created = aloft("init", "--template", template, "proj", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path / "proj", capture_output=True, text=True, timeout=120, check=False,
        env=_project_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout

    invoked = aloft("invoke", "--local", *FIRST_REQUEST[template], cwd=tmp_path / "proj")
    assert invoked.returncode == 0, invoked.stderr
    reply = json.loads(invoked.stdout)
    assert reply["statusCode"] == 200
    assert "Hello, Ada!" in reply["body"] or "Hello from proj!" in reply["body"]


def _project_env() -> dict[str, str]:
    # the project's own tests run as its user runs them: not with a Django settings module an
    # in-process test of this suite may have left in the environment
    return {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}


def test_the_scaffolded_django_admin_is_styled_on_the_local_cloud(
    aloft: Aloft, tmp_path: Path
) -> None:
    created = aloft("init", "--template", "django", "site", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    root = tmp_path / "site"
    assert "/static/" in (root / ".gitignore").read_text().splitlines()
    env = {"ALOFT_HOME": str(tmp_path / "home"), "ALOFT_PORT": str(_free_port())}
    try:
        deployed = aloft("deploy", "dev", "--json", cwd=root, env=env)
        assert deployed.returncode == 0, deployed.stderr
        assert (root / "static" / "admin" / "css" / "base.css").is_file()  # the build collected
        url = json.loads(deployed.stdout)["url"]
        status, headers, page = _get(url + "admin/login/")
        assert status == 200 and b"csrfmiddlewaretoken" in page
        stylesheets = re.findall(rb'href="([^"]+\.css)"', page)
        assert b"/site/dev/static/admin/css/base.css" in stylesheets
        port = env["ALOFT_PORT"]
        for href in stylesheets:
            status, headers, css = _get(f"http://127.0.0.1:{port}{href.decode()}")
            assert status == 200, href
            assert headers["content-type"].startswith("text/css"), headers
            assert css  # the file itself
        # the collected files are not in the function's code: nothing changed, nothing deployed
        again = aloft("deploy", "dev", "--json", cwd=root, env=env)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["changed"] is False
    finally:
        aloft("cloud", "stop", cwd=tmp_path, env=env, timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=60) as reply:
        return reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read()
