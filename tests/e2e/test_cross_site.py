"""Cross-site requests in headless Chromium against a real local cloud: a page served on another
port (another origin of the same site) cannot run a function through the Invoke API or roll a
stage back through the dashboard, with forms or fetch; a name that resolves to 127.0.0.1 (DNS
rebinding, through Chromium's host resolver rules) gets 421; the user's own signed request
still runs the function."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from tests.e2e import scenario_helpers
from tests.integration.local.cloud_helpers import (
    USER,
    Cloud,
    read_lines,
    service,
    signed_invoke,
    write_project,
)
from tests.waiting import wait_until

REBOUND = "rebound.test"  # the attacker's name, resolving to 127.0.0.1
LAUNCH_ARGS = [*scenario_helpers.LAUNCH_ARGS, f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"]

pytestmark = scenario_helpers.NEEDS_CHROMIUM

MARK = """
    import json
    import os

    def mark(event, context):
        with open(os.path.join(os.environ["OUT_DIR"], "ran.log"), "a") as fh:
            fh.write(json.dumps(event) + "\\n")
        return "ran"
"""


class Attacker:
    """Pages of another origin (127.0.0.1 on another port) that aim at the local cloud."""

    def __init__(self, target: int) -> None:
        invoke = f"http://127.0.0.1:{target}/2015-03-31/functions/xs-dev-mark/invocations"
        rollback = f"http://127.0.0.1:{target}/_aloft/stages/xs/dev/rollback"
        control = f"http://127.0.0.1:{target}/_aloft/api/invoke"
        self.pages = {
            # a form needs no CORS: text/plain makes the body `{"via":"form","x":"="}`-like
            "/form.html": f"""<form method="POST" action="{invoke}" enctype="text/plain">
                <input name='{{"via": "form", "x": "' value='"}}'></form>
                <script>document.forms[0].submit()</script>""",
            "/fetch.html": f"""<script>
                Promise.all([
                  fetch("{invoke}", {{method: "POST", mode: "no-cors",
                                      body: '{{"via": "fetch"}}'}}),
                  fetch("{control}", {{method: "POST", mode: "no-cors", body: JSON.stringify(
                    {{service: "xs", stage: "dev", function: "mark", event: {{via: "api"}}}})}}),
                ]).finally(() => {{ document.title = "sent"; }});
                </script>""",
            "/rollback.html": f"""<form method="POST" action="{rollback}">
                <input name="to" value="1"></form>
                <script>document.forms[0].submit()</script>""",
        }
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Path]]:
    c = Cloud(tmp_path_factory.mktemp("home"), env=USER)
    c.start()
    root = tmp_path_factory.mktemp("project")
    out = tmp_path_factory.mktemp("out")  # not in the project, which functions cannot see
    write_project(root, f"""
        service: xs
        functions:
          mark:
            handler: fns.mark
        environment:
          OUT_DIR: {out}
        stages:
          dev: {{}}
    """, {"fns.py": MARK})
    c.provider.deploy(service(root))
    (root / "fns.py").write_text(textwrap.dedent(MARK) + "# version 2\n")
    c.provider.deploy(service(root))  # a version 1 to roll back to
    yield c, out
    c.stop()


@pytest.fixture(scope="module")
def attacker(cloud: tuple[Cloud, Path]) -> Iterator[Attacker]:
    a = Attacker(cloud[0].port)
    yield a
    a.server.shutdown()


@pytest.fixture
def page(cloud: tuple[Cloud, Path]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=scenario_helpers.CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context()
        yield context.new_page()
        browser.close()


def test_a_page_on_another_port_cannot_run_a_function(
    page: Any, cloud: tuple[Cloud, Path], attacker: Attacker,
) -> None:
    c, out = cloud
    with page.expect_response(lambda r: r.url.endswith("/invocations")) as answered:
        page.goto(attacker.url("/form.html"))
    response = answered.value
    assert response.status == 403
    reason = json.loads(response.body())["reason"]
    assert f"Origin http://127.0.0.1:{attacker.port} is not this server's" in reason
    page.goto(attacker.url("/fetch.html"))
    page.wait_for_function("document.title === 'sent'")
    # the user's own signed request runs it: the marker works, and nothing else ran before
    url = c.url("/2015-03-31/functions/xs-dev-mark/invocations")
    import urllib.request

    with urllib.request.urlopen(signed_invoke(url, b'{"via": "user"}'), timeout=30) as resp:
        assert resp.status == 200
    assert wait_until(lambda: read_lines(out / "ran.log"), message="the user's invocation")
    assert [json.loads(line)["via"] for line in read_lines(out / "ran.log")] == ["user"]


def test_a_page_on_another_port_cannot_use_the_dashboard(
    page: Any, cloud: tuple[Cloud, Path], attacker: Attacker,
) -> None:
    c, _ = cloud
    # the user is signed in to the dashboard (the cookie is SameSite=Strict, but another port
    # of 127.0.0.1 is the same site: the browser sends it)
    page.goto(c.url(f"/_aloft/?token={c.client.home.token()}"))
    assert any(k["name"] == "aloft_session" for k in page.context.cookies())
    # the attacker's form POST, not a poll the dashboard page sent while the browser left it
    with page.expect_response(lambda r: r.url.startswith(c.url("/_aloft/"))
                              and r.request.method == "POST") as answered:
        page.goto(attacker.url("/rollback.html"))
    assert answered.value.status == 403
    assert "cross-site" in json.loads(answered.value.body())["reason"]
    status = c.client.call("GET", "status", query={"service": "xs", "stage": "dev"})
    assert status["version"] == 2  # not rolled back


def test_a_rebound_name_gets_421(page: Any, cloud: tuple[Cloud, Path]) -> None:
    """The attacker's name now resolves to 127.0.0.1: its page could read the local cloud's
    answers (same origin for the browser), but the server answers only to its own names."""
    c, _ = cloud
    response = page.goto(f"http://{REBOUND}:{c.port}/_aloft/")
    assert response is not None and response.status == 421
    body = json.loads(textwrap.dedent(page.inner_text("body")))
    assert "answers only to" in body["reason"]
    response = page.goto(f"http://localhost:{c.port}/xs/dev/")  # its own names still work
    assert response is not None and response.status != 421
