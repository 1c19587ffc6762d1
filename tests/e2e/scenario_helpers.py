"""Helpers for the end-to-end scenarios: the real `aloft` command line in subprocesses against a
private local cloud (its own ALOFT_HOME and a free port), private copies of projects, a
PostgreSQL database of their own, and headless Chromium (Django's admin, logged into)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from playwright import sync_api as playwright_api

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
               "--no-first-run"]
NEEDS_CHROMIUM = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                    reason="chromium is not installed (make browser)")
POSTGRES = "postgres://postgres@127.0.0.1:5432/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cli:
    """`cli("deploy", "dev")` runs aloft in `project` with the private home and port."""

    def __init__(self, home: Path, project: Path, cache: Path, env: Mapping[str, str] = {}):
        self.home, self.project, self.port = home, project, free_port()
        script = Path(sys.executable).parent / "aloft"
        self.command = [str(script)] if script.exists() else [sys.executable, "-m",
                                                               "aloft.cli.main"]
        self.env = {**os.environ, "ALOFT_HOME": str(home), "ALOFT_PORT": str(self.port),
                    "ALOFT_CACHE_DIR": str(cache), "NO_COLOR": "1", **env}

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True,
                 timeout: float = 900) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.command, *args], cwd=self.project, env=self.env,
                              input=stdin, capture_output=True, text=True, timeout=timeout,
                              check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"aloft {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stdout}\n{done.stderr}")
        return done

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self("cloud", "stop", check=False, timeout=60)


@contextmanager
def scenario_cli(root: Path, project: Path, env: Mapping[str, str] = {}) -> Iterator[Cli]:
    """A Cli for `project` with its home and cache under `root`; its cloud stopped after."""
    cli = Cli(root / "home", project, root / "cache", env)
    yield cli
    cli.stop()


def copy_project(source: Path, target: Path, *ignore: str) -> Path:
    """A private copy of a project, without what a run of it left (and the `ignore` patterns)."""
    shutil.copytree(source, target,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__", *ignore))
    return target


def copy_example(name: str, target: Path) -> Path:
    return copy_project(REPO_ROOT / "examples" / name, target)


def http(url: str, *, method: str = "GET", body: bytes | None = None,
         headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def needs_postgres() -> pytest.MarkDecorator:
    """Skips a scenario where no PostgreSQL answers on 127.0.0.1:5432 (asked when called)."""
    try:
        psycopg.connect(POSTGRES + "postgres", connect_timeout=3).close()
        up = True
    except psycopg.OperationalError:
        up = False
    return pytest.mark.skipif(not up, reason="no PostgreSQL on 127.0.0.1:5432")


def database_fixture(prefix: str) -> Any:
    """A module-scoped `database` fixture: a new PostgreSQL database (its name), dropped after,
    connections and all. In a test module: `database = database_fixture("aloft_e2e")`."""

    @pytest.fixture(scope="module")
    def database() -> Iterator[str]:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES + "postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        yield name
        with psycopg.connect(POSTGRES + "postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return database


def create_superuser(cli: Cli, database: str, password: str) -> None:
    """Django's superuser `admin` created by `aloft invoke dev --raw` (the function's Python),
    then found in the database."""
    cli("invoke", "dev", "--raw",  # FUNCTION defaults to app
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser('admin', 'admin@example.com', '{password}')")
    with psycopg.connect(POSTGRES + database) as conn:
        row = conn.execute("SELECT username, is_superuser FROM auth_user").fetchone()
    assert row == ("admin", True)


@contextmanager
def chromium_page() -> Iterator[tuple[playwright_api.Page, dict[str, int]]]:
    """A page of headless Chromium, and the stylesheets it loads (URL: status)."""
    stylesheets: dict[str, int] = {}
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.on("response", lambda r: stylesheets.__setitem__(r.url, r.status)
                    if r.request.resource_type == "stylesheet" else None)
            yield page, stylesheets
        finally:
            browser.close()


def log_into_admin(page: playwright_api.Page, password: str, screenshot: str) -> None:
    """Log into Django's admin from its login page as `admin`; a screenshot in ARTIFACTS."""
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_selector("text=Site administration")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
