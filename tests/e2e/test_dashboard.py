"""The dashboard in headless Chromium (Playwright) against a real local cloud: every page loads
with no console error, the charts draw real invocations over the window the picker chooses, the
overview lists each function's numbers, the log view opens at its newest line and follows,
rollback moves the alias, `aloft dev` reloads replace their version in the list, the DLQ
re-drives, and nothing loads without the token. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import re
import socket
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from aloft.config import load_project
from aloft.config.models import Service
from aloft.local.control.client import CloudClient
from aloft.local.provider import LocalProvider
from tests.e2e.scenario_helpers import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, NEEDS_CHROMIUM
from tests.waiting import wait_until

pytestmark = NEEDS_CHROMIUM

APP = """
    import traceback

    VERSION = "{version}"

    def app(environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/boom":  # what a framework does with an exception: a traceback, a 500
            try:
                1 / 0
            except ZeroDivisionError:
                traceback.print_exc()
            start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")])
            return [b"boom"]
        if path == "/missing":
            start_response("404 NOT FOUND", [("Content-Type", "text/plain")])
            return [b"no such page"]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{{VERSION}} <b>{{path}}</b>".encode()]
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
    wait_until(lambda: environment.provider.dead_letters(svc), message="the dead letter")
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


def _points(page: Any, chart: str, function: str = "app") -> int:
    sel = f'figure.chart[data-function="{function}"][data-metric="{chart}"]'
    return int(page.locator(sel).get_attribute("data-points") or 0)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def test_without_token_or_cookie_is_401(env: Env) -> None:
    """The wiring: the daemon's server hands /_aloft/ to the dashboard, which wants a session
    or the token (every page and data URL, the token link, CSRF: tests/unit/local/control)."""
    status, body = _get(env.url("/_aloft/stages/dash/dev"))
    assert status == 401 and b"aloft dashboard" in body
    assert _get(env.url("/_aloft/data/overview"))[0] == 401
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
    # every chart has its time axis: five times (UTC), the last one the end of the window
    axis = page.locator('figure.chart[data-function="app"][data-metric="invocations"] .axis span')
    axis = axis.all_inner_texts()
    assert len(axis) == 5 and all(re.fullmatch(r"\d\d:\d\d", t) for t in axis)
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


def test_charts_show_errors_latency_instances_and_memory(page: Any, env: Env) -> None:
    for path, status in (("/x", 200), ("/missing", 404), ("/missing", 404), ("/boom", 500)):
        assert _get(env.url("/dash/dev" + path))[0] == status
    page.goto(env.url("/_aloft/stages/dash/dev"))
    http = 'figure.chart[data-function="app"][data-metric="http"]'
    page.wait_for_function("(sel) => Number(document.querySelector(sel).dataset.total) >= 3",
                           arg=http, timeout=10_000)
    assert page.locator(f"{http} rect.k-4xx").count() >= 1
    assert page.locator(f"{http} rect.k-5xx").count() >= 1
    assert "UTC" in page.locator(f"{http} rect title").first.text_content()
    for chart in ("duration", "instances", "memory"):
        assert _points(page, chart) >= 1, chart
    # the duration chart has both percentiles, the memory chart the function's limit
    assert page.locator('figure[data-metric="duration"] .dot.k-p99_ms').count() >= 1
    assert page.locator('figure[data-metric="memory"]').first.get_attribute("data-limit")
    # a function's own 500 is a 5xx, not an error of the function: the recent list says 500
    assert page.locator("#recent tr.status-5xx").count() >= 1
    _shot(page, "charts")


def test_window_picker_changes_the_range(page: Any, env: Env) -> None:
    assert _get(env.url("/dash/dev/picker"))[0] == 200
    page.goto(env.url("/_aloft/stages/dash/dev"))
    chart = page.locator('figure.chart[data-function="app"][data-metric="invocations"]')
    assert page.locator('nav.windows a[aria-current="true"]').inner_text() == "1 h"
    page.wait_for_function("() => document.body.dataset.updated")
    assert chart.get_attribute("data-window") == "3600"
    for label, seconds, span in (("6 h", 21600, 6 * 60), ("24 h", 86400, 0),
                                 ("15 min", 900, 15)):
        page.click(f"nav.windows a:text-is('{label}')")
        page.wait_for_function(
            "([sel, s]) => document.querySelector(sel).dataset.window === s",
            arg=['figure.chart[data-function="app"][data-metric="invocations"]', str(seconds)],
            timeout=10_000)
        assert page.locator('nav.windows a[aria-current="true"]').inner_text() == label
        first, *_, last = chart.locator(".axis span").all_inner_texts()
        minutes = [int(t[:2]) * 60 + int(t[3:]) for t in (first, last)]
        assert (minutes[1] - minutes[0]) % (24 * 60) == span
        assert _points(page, "invocations") >= 1  # the requests are in every window
        assert f"window={label.replace(' ', '').replace('min', 'm')}" in page.url
        _shot(page, f"window-{seconds}")
    # the URL keeps the choice: a reload shows the same window
    page.goto(env.url("/_aloft/stages/dash/dev?window=24h"))
    page.wait_for_function("() => document.body.dataset.updated")
    assert chart.get_attribute("data-window") == "86400"
    assert page.locator('nav.windows a[aria-current="true"]').inner_text() == "24 h"


def test_overview_lists_each_function_with_its_numbers(page: Any, env: Env) -> None:
    for path in ("/a", "/b", "/boom"):
        _get(env.url("/dash/dev" + path))
    page.goto(env.url("/_aloft/"))
    headers = page.locator("h2:has-text('Functions') + table th").all_inner_texts()
    assert headers == ["stage", "function", "version", "invocations", "errors", "4xx", "5xx",
                       "p99", "instances"]
    rows = page.locator("#functions tr")
    assert rows.count() == 3  # app, fail, tick
    app = rows.filter(has_text="app")
    cells = app.locator("td").all_inner_texts()
    assert cells[0] == "dash / dev" and cells[1] == "app"
    assert int(cells[3]) >= 3 and int(cells[6]) >= 1  # invocations, 5xx
    assert re.fullmatch(r"[\d.]+ ms", cells[7])  # p99
    # the numbers follow new requests without a reload
    before = int(cells[3])
    for _ in range(3):
        _get(env.url("/dash/dev/more"))
    page.wait_for_function(
        "(n) => Number(document.querySelector('[data-field=\"fn-invocations\"]"
        "[data-key=\"dash/dev/app\"]').textContent) >= n", arg=before + 3, timeout=10_000)
    # the log store against its cap (ALOFT_LOG_MAX_MB's default), as the live data has it
    store = page.locator('[data-field="platform-log-store"]').inner_text()
    assert re.fullmatch(r"[\d.]+ of 1024 MB", store), store
    _shot(page, "overview-functions")


def test_log_view_opens_at_the_newest_line_and_follows(page: Any, env: Env) -> None:
    for n in range(40):  # more lines than the view shows at once
        _get(env.url(f"/dash/dev/line/{n}"))
    page.goto(env.url("/_aloft/logs?service=dash&stage=dev"))
    pre = page.locator("#log")
    at_bottom = "(el) => el.scrollHeight - el.scrollTop - el.clientHeight < 24"
    assert pre.evaluate("(el) => el.scrollHeight > el.clientHeight")
    assert pre.evaluate(at_bottom)
    assert page.locator("#follow").is_checked()
    failed = "#log .line.request.error"
    count = page.locator(failed).count()
    assert _get(env.url("/dash/dev/boom"))[0] == 500
    page.wait_for_function(f"() => document.querySelectorAll('{failed}').length > {count}",
                           timeout=10_000)
    assert "/dash/dev/boom 500" in page.locator(failed).last.inner_text()
    assert pre.evaluate(at_bottom)  # followed
    assert page.locator("#log .line.error").filter(has_text="ZeroDivisionError").count() >= 1
    _shot(page, "logs-follow")
    # scrolling up to read pauses following: new lines do not pull the view down
    pre.evaluate("(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    assert not page.locator("#follow").is_checked()
    count = page.locator("#log .line").count()
    _get(env.url("/dash/dev/paused"))
    page.wait_for_function(f"() => document.querySelectorAll('#log .line').length > {count}",
                           timeout=10_000)
    assert pre.evaluate("(el) => el.scrollTop") == 0
    page.check("#follow")
    assert pre.evaluate(at_bottom)


def test_dev_reloads_replace_their_version_in_the_list(page: Any, env: Env) -> None:
    """Runs after the rollback test (the stage serves version 1): three `aloft dev` saves make
    one version, replaced by each next save, not three."""
    from aloft.cli.devserver import DevSession

    session = DevSession(env.root, lambda: load_project(env.root).service("dev"), env.client)
    page.goto(env.url("/_aloft/stages/dash/dev"))
    before = page.locator("#versions tr").count()
    made = []
    for n in range(3):
        (env.root / "web.py").write_text(textwrap.dedent(APP.format(version=f"dev{n}")))
        made.append(session.deploy()["version"])
        assert _get(env.url("/dash/dev/"))[1].startswith(f"dev{n}".encode())
    page.goto(env.url("/_aloft/stages/dash/dev"))
    rows = page.locator("#versions tr")
    assert rows.count() == before + 1
    assert page.locator("#versions .tag").all_inner_texts() == ["aloft dev"]
    assert rows.first.locator("td").first.inner_text() == str(made[-1])
    assert f"dev -> version {made[-1]}" in page.locator("#alias").inner_text()
    assert made == [made[0], made[0] + 1, made[0] + 2]  # numbers are not reused
    _shot(page, "versions-after-dev")
