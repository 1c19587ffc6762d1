"""The dashboard's routes (`/_aloft/`) in process over a fake platform: nothing without the
token or the session cookie, the token link traded for a cookie, forms that need their CSRF
token, the JSON the pages poll, and the headers every page carries. The pages in a browser
against a real daemon: tests/e2e/test_dashboard.py."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import pytest

from aloft.local.control.dashboard import auth
from aloft.local.triggers.async_queue import AsyncEvent
from aloft.local.types import HttpResponse
from tests.unit.local.control.platform_fakes import TOKEN, Fakes, call, header, platform

PAGES = ("/_aloft/", "/_aloft/stages/shop/dev", "/_aloft/logs?service=shop&stage=dev",
         "/_aloft/stages/shop/dev/rollback?to=1")
DATA = ("overview", "stage?service=shop&stage=dev&window=24h", "logs?service=shop&stage=dev")


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return platform(tmp_path)


def get(fakes: Fakes, url: str, *, token: str | None = None, cookie: str | None = None,
        method: str = "GET", form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None) -> HttpResponse:
    path, _, query = url.partition("?")
    extra = dict(headers or {})
    if cookie is not None:
        extra["Cookie"] = f"{auth.COOKIE}={cookie}"
    return call(fakes, method, path, query=query, token=token, headers=extra,
                body=urlencode(form).encode() if form is not None else None)


def session(fakes: Fakes) -> tuple[str, str]:
    """A browser's session: the cookie the token link sets, and its CSRF token."""
    response = get(fakes, f"/_aloft/?token={TOKEN}")
    cookie = (header(response, "set-cookie") or "").split(";")[0].split("=", 1)[1]
    sid = auth.session_id(TOKEN, cookie)
    assert sid is not None
    return cookie, auth.csrf_token(TOKEN, sid)


def test_nothing_shows_without_the_token_or_a_session(fakes: Fakes) -> None:
    for page in PAGES:
        response = get(fakes, page)
        assert response.status == 401 and b"aloft dashboard" in response.body, page
        assert header(response, "content-type") == "text/html; charset=utf-8"
    for data in DATA:
        response = get(fakes, f"/_aloft/data/{data}")
        assert response.status == 401, data
        assert json.loads(response.body) == {"error": "open the link `aloft dashboard` prints"}
    assert get(fakes, "/_aloft/?token=wrong").status == 401
    assert get(fakes, "/_aloft/", cookie="forged.cookie").status == 401
    assert get(fakes, "/_aloft/", token="wrong").status == 401


def test_the_token_link_sets_a_cookie_and_leaves_the_address_bar(fakes: Fakes) -> None:
    response = get(fakes, f"/_aloft/stages/shop/dev?window=6h&token={TOKEN}")
    assert response.status == 303
    assert header(response, "location") == "/_aloft/stages/shop/dev?window=6h"
    cookie = header(response, "set-cookie") or ""
    assert TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_aloft/" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert get(fakes, "/_aloft/stages/shop/dev", cookie=value).status == 200


def test_scripts_may_use_the_bearer_token(fakes: Fakes) -> None:
    response = get(fakes, "/_aloft/data/overview", token=TOKEN)
    assert response.status == 200
    data = json.loads(response.body)
    assert [(s["service"], s["stage"], s["version"]) for s in data["stages"]] == [
        ("shop", "dev", 1)]
    assert [f["function"] for f in data["functions"]] == ["app", "worker"]
    assert set(data["platform"]) == {"pid", "port", "home", "uptime_s", "instances",
                                     "async_processed", "schedules_fired", "log_store"}
    size = fakes.platform.logs.status()["size_mb"]
    assert data["platform"]["log_store"] == f"{size:g} of 1024 MB" and size > 0


def test_every_page_carries_its_security_headers(fakes: Fakes) -> None:
    cookie, _ = session(fakes)
    for page in (*PAGES, *(f"/_aloft/data/{d}" for d in DATA)):
        response = get(fakes, page, cookie=cookie)
        assert response.status == 200, page
        assert "frame-ancestors 'none'" in (header(response, "content-security-policy") or "")
        assert header(response, "x-frame-options") == "DENY"
        assert header(response, "x-content-type-options") == "nosniff"
        assert header(response, "cache-control") == "no-store"


def test_the_stage_data_the_page_polls(fakes: Fakes) -> None:
    cookie, _ = session(fakes)
    data = json.loads(get(fakes, "/_aloft/data/stage?service=shop&stage=dev&window=6h",
                          cookie=cookie).body)
    assert data["window"]["name"] == "6h" and data["window"]["seconds"] == 21600
    assert (data["service"], data["stage"], data["version"]) == ("shop", "dev", 1)
    app = next(f for f in data["functions"] if f["function"] == "app")
    assert len(app["series"]) == 72  # 6 h in 5-minute points
    assert set(app) >= {"concurrency", "keep_alive", "payload", "snapshot"}
    assert data["recent"] == [] and data["dlq"] == []
    unknown = json.loads(get(fakes, "/_aloft/data/stage?service=shop&stage=dev&window=2y",
                             cookie=cookie).body)
    assert unknown["window"]["name"] == "1h"


def test_the_log_data_of_a_stage(fakes: Fakes) -> None:
    fakes.platform.logs.write("shop-dev-app", 1, "r1", "GET / 200")
    fakes.platform.logs.write("shop-dev-worker", 1, "r2", "REPORT RequestId: r2")
    fakes.platform.logs.flush()
    cookie, _ = session(fakes)
    data = json.loads(get(fakes, "/_aloft/data/logs?service=shop&stage=dev&request_id=r2",
                          cookie=cookie).body)
    assert [(x["function"], x["text"]) for x in data["lines"]] == [
        ("worker", "REPORT RequestId: r2")]
    assert data["functions"] == ["app", "worker"] and data["cursor"] >= data["lines"][0]["id"]


def test_what_is_not_deployed_is_a_404(fakes: Fakes) -> None:
    cookie, _ = session(fakes)
    page = get(fakes, "/_aloft/stages/shop/prod", cookie=cookie)
    assert page.status == 404 and b"not deployed" in page.body
    data = get(fakes, "/_aloft/data/stage?service=shop&stage=prod", cookie=cookie)
    assert data.status == 404 and "not deployed" in json.loads(data.body)["error"]
    assert get(fakes, "/_aloft/stages/shop/dev/rollback?to=9", cookie=cookie).status == 404
    assert get(fakes, "/_aloft/nowhere", cookie=cookie).status == 404


def test_other_methods_are_refused(fakes: Fakes) -> None:
    cookie, _ = session(fakes)
    assert get(fakes, "/_aloft/", cookie=cookie, method="DELETE").status == 405


def test_a_form_without_its_csrf_token_changes_nothing(fakes: Fakes) -> None:
    cookie, csrf = session(fakes)
    for form in ({"to": "1"}, {"to": "1", auth.CSRF_FIELD: "forged"},
                 {"to": "1", auth.CSRF_FIELD: auth.csrf_token("another-token", "x")}):
        response = get(fakes, "/_aloft/stages/shop/dev/rollback", cookie=cookie,
                       method="POST", form=form)
        assert response.status == 403 and b"stale" in response.body
    assert fakes.deployer.calls == []
    # the page's own token, as a form field or as the header the page's scripts send
    posted = get(fakes, "/_aloft/stages/shop/dev/redrive", cookie=cookie, method="POST",
                 form={}, headers={auth.CSRF_HEADER: csrf})
    assert posted.status == 303


def test_rollback_needs_a_kept_version_and_redirects_with_a_notice(fakes: Fakes) -> None:
    cookie, csrf = session(fakes)

    def post(action: str, **form: str) -> str:
        response = get(fakes, f"/_aloft/stages/shop/dev/{action}", cookie=cookie,
                       method="POST", form={auth.CSRF_FIELD: csrf, **form})
        assert response.status == 303
        location = header(response, "location") or ""
        assert location.startswith("/_aloft/stages/shop/dev?notice=")
        return location

    assert "already+serves+version+1" in post("rollback", to="1")
    assert "failed%3A+shop+dev+has+no+version+7" in post("rollback", to="7")
    assert fakes.deployer.calls == []
    current = fakes.platform.state.current_deployment("shop", "dev")
    assert current is not None
    fakes.platform.state.record_deployment(replace(current, id=0), [], [])  # version 2
    fakes.deployer.result = {"version": 1}
    assert "rolled+back%3A+dev+-%3E+version+1" in post("rollback", to="1")
    assert fakes.deployer.calls == [("rollback", ("shop", "dev", 1), {})]
    fakes.queue.dead_events.append(AsyncEvent("e1", "shop-dev-worker", None, b"{}", 0, 60, 1.0,
                                              status="dead"))
    assert "re-driven+1+event" in post("redrive", id="e1")
    assert fakes.queue.redriven == [(["shop-dev-app", "shop-dev-worker"], ["e1"])]


def test_assets_are_served_without_a_session_and_nothing_else_is(fakes: Fakes) -> None:
    script = get(fakes, "/_aloft/assets/dashboard.js")
    assert script.status == 200 and header(script, "content-type") == (
        "text/javascript; charset=utf-8")
    for name in ("../handler.py", "nope.js", "dashboard.py"):
        assert get(fakes, f"/_aloft/assets/{name}").status == 404
