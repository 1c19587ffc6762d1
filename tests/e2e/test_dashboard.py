"""The dashboard in headless Chromium (Playwright) against a real local cloud: every page loads
with no console error, the charts move after invocations, rollback moves the alias, the DLQ
re-drives, and nothing loads without the token. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import re
import shutil
import socket
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from aloft.config import load_project
from aloft.config.models import Service
from aloft.local.client import CloudClient
from aloft.local.provider import LocalProvider

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
               "--no-first-run"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="chromium is not installed (apt-get install chromium)")

APP = """
    VERSION = "{version}"

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{{VERSION}} <b>{{environ.get('PATH_INFO')}}</b>".encode()]
"""

JOBS = """
    def fail(event, context):
        raise RuntimeError("fails <on purpose>")
"""

CONFIG = """
    service: dash
    app: web:app
    functions:
      fail:
        handler: jobs.fail
        retries: 0
      tick:
        handler: jobs.fail
        events:
          - schedule:
              rate: 1 day
    stages:
      dev: {}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Env:
    def __init__(self, home: Path, root: Path):
        self.port = _free_port()
        self.client = CloudClient(home, self.port)
        self.provider = LocalProvider(home, self.port)
        self.root = root

    def deploy(self, version: str) -> Service:
        (self.root / "web.py").write_text(textwrap.dedent(APP.format(version=version)))
        svc = load_project(self.root).service("dev")
        self.provider.deploy(svc)
        return svc

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def aloft(self, *args: str) -> Any:
        from click.testing import CliRunner

        from aloft.cli.main import cli

        return CliRunner().invoke(cli, [*args, "--home", str(self.client.home.root)])

    def dashboard_link(self) -> str:
        result = self.aloft("dashboard", "--no-open", "--json")
        assert result.exit_code == 0, result.output
        return str(json.loads(result.stdout)["url"])

    @property
    def token(self) -> str:
        token = self.client.home.token()
        assert token
        return token


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("dash")
    (root / "aloft.yml").write_text(textwrap.dedent(CONFIG))
    (root / "jobs.py").write_text(textwrap.dedent(JOBS))
    environment = Env(tmp_path_factory.mktemp("home"), root)
    environment.client.start()
    environment.deploy("v1")
    svc = environment.deploy("v2")
    assert _get(environment.url("/dash/dev/"))[1].startswith(b"v2")
    # one event in the dead-letter queue (no retries)
    environment.provider.invoke(svc, "fail", {"n": 1}, asynchronous=True)
    deadline = time.monotonic() + 20
    while not environment.provider.dead_letters(svc) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield environment
    environment.client.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, env: Env) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: problems.append(str(exc)))
    pg.problems = problems
    pg.goto(env.dashboard_link())  # what `aloft dashboard` prints
    yield pg
    context.close()
    assert problems == [], f"console errors: {problems}"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_without_token_or_cookie_is_401(env: Env) -> None:
    for path in ("/_aloft/", "/_aloft/stages/dash/dev", "/_aloft/logs?service=dash&stage=dev"):
        status, body = _get(env.url(path))
        assert status == 401 and b"aloft dashboard" in body
    assert _get(env.url("/_aloft/data/overview"))[0] == 401
    assert _get(env.url("/_aloft/?token=wrong"))[0] == 401
    # scripts may use the control API's bearer token
    status, body = _get(env.url("/_aloft/data/overview"),
                        {"Authorization": f"Bearer {env.token}"})
    assert status == 200 and json.loads(body)["stages"][0]["service"] == "dash"


def test_token_link_sets_cookie_and_drops_token(page: Any, env: Env) -> None:
    assert page.url == env.url("/_aloft/")  # redirected: the token left the address bar
    cookie = next(c for c in page.context.cookies() if c["name"] == "aloft_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert env.token not in cookie["value"]
    page.get_by_role("link", name=env.url("/dash/dev/")).wait_for()
    _shot(page, "overview")


def test_stage_page_chart_moves_after_invocations(page: Any, env: Env) -> None:
    page.goto(env.url("/_aloft/stages/dash/dev"))
    chart = page.locator('figure.chart[data-function="app"][data-metric="invocations"]')
    page.wait_for_function("() => document.body.dataset.updated")
    before = float(chart.get_attribute("data-total") or 0)
    for _ in range(5):
        assert _get(env.url("/dash/dev/x"))[0] == 200
    page.wait_for_function(
        "([sel, n]) => Number(document.querySelector(sel).dataset.total) >= n",
        arg=['figure.chart[data-function="app"][data-metric="invocations"]', before + 5],
        timeout=10_000)
    assert page.locator("figure.chart svg rect").count() > 0
    # the recent invocations table shows them, each linking to its log lines
    first = page.locator("#recent tr").first
    assert "ok" in first.inner_text()
    # functions table: configuration and live instances
    assert "app" in page.locator("table").first.inner_text()
    _shot(page, "stage")
    first.locator("a").click()
    page.wait_for_url(re.compile(r"/_aloft/logs\?.*request_id="))
    assert page.locator("#log .line").filter(has_text="REPORT RequestId").count() == 1
    _shot(page, "invocation-logs")


def test_schedules_and_escaping(page: Any, env: Env) -> None:
    page.goto(env.url("/_aloft/stages/dash/dev"))
    schedules = page.locator("h2:has-text('Schedules') + table")
    assert "rate(1 day)" in schedules.inner_text()
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", schedules.inner_text())
    # the DLQ error has angle brackets: shown as text, not markup
    dlq = page.locator("h2:has-text('Dead-letter queue') ~ table").first
    assert "fails <on purpose>" in dlq.inner_text()


def test_log_stream_filters_and_follows(page: Any, env: Env) -> None:
    page.goto(env.url("/_aloft/logs?service=dash&stage=dev"))
    page.fill("input[name=filter]", "REPORT")
    page.click("form.filter button")
    page.wait_for_url(re.compile(r"filter=REPORT"))
    lines = page.locator("#log .line")
    count = lines.count()
    assert count > 0 and all("REPORT" in t for t in lines.all_inner_texts())
    assert _get(env.url("/dash/dev/follow"))[0] == 200
    page.wait_for_function(f"() => document.querySelectorAll('#log .line').length > {count}",
                           timeout=10_000)
    _shot(page, "logs")


def test_redrive_from_the_dlq(page: Any, env: Env) -> None:
    page.goto(env.url("/_aloft/stages/dash/dev"))
    page.click("button:has-text('Re-drive all')")
    page.wait_for_url(re.compile(r"notice="))
    assert "re-driven 1 event(s)" in page.locator(".notice").inner_text()


def test_post_without_csrf_is_refused(page: Any, env: Env) -> None:
    response = page.request.post(env.url("/_aloft/stages/dash/dev/rollback"),
                                 form={"to": "1"}, max_redirects=0)
    assert response.status == 403
    assert _get(env.url("/dash/dev/"))[1].startswith(b"v2")


def test_rollback_is_confirmed_then_moves_the_alias(page: Any, env: Env) -> None:
    page.goto(env.url("/_aloft/stages/dash/dev"))
    assert "dev -> version 2" in page.locator("#alias").inner_text()
    page.click("a:has-text('Roll back to 1')")
    page.wait_for_url(re.compile(r"/rollback\?to=1"))
    assert _get(env.url("/dash/dev/"))[1].startswith(b"v2")  # nothing happened yet
    _shot(page, "rollback-confirm")
    page.click("button:has-text('Yes, roll back to 1')")
    page.wait_for_url(re.compile(r"/_aloft/stages/dash/dev\?notice="))
    assert "dev -> version 1" in page.locator("#alias").inner_text()
    assert _get(env.url("/dash/dev/"))[1].startswith(b"v1")
    _shot(page, "rollback-done")


def test_cli_links_and_doctor_see_the_running_cloud(env: Env) -> None:
    link = env.dashboard_link()
    assert link == env.url(f"/_aloft/?token={env.token}")
    status = env.aloft("cloud", "status", "--json")
    assert json.loads(status.stdout)["dashboard"] == link
    started = json.loads(env.aloft("cloud", "start", "--json").stdout)
    assert started["started"] is False and started["dashboard"] == link
    assert started["port"] == env.port
    doctor = env.aloft("doctor", "--port", str(env.port), "--json")
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["local cloud"]["status"] == "ok"
    assert checks["local cloud"]["detail"].startswith(f"running on {env.url('')}")
    assert checks["port"]["detail"].startswith(f"{env.port} is the local cloud's")
    assert checks["token"]["status"] == "ok"
