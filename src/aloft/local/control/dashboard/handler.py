"""Routing for the dashboard under `/_aloft/` (the control API keeps `/_aloft/api/`).

    GET  /_aloft/?token=T                      sets the session cookie, redirects without T
    GET  /_aloft/                              services and stages
    GET  /_aloft/stages/{service}/{stage}[?window=15m|1h|6h|24h]   functions, charts,
                                               invocations, schedules, DLQ, versions
    GET  /_aloft/stages/{service}/{stage}/rollback?to=N    the confirmation page
    POST /_aloft/stages/{service}/{stage}/rollback         {csrf, to}
    POST /_aloft/stages/{service}/{stage}/redrive          {csrf, id?}
    GET  /_aloft/logs?service=&stage=&function=&filter=&request_id=
    GET  /_aloft/data/overview | stage[&window=] | logs   the JSON the pages poll
    GET  /_aloft/assets/dashboard.js | dashboard.css

Authentication: the session cookie, or the control API's bearer token (scripts). A form POST
must also carry the session's CSRF token (the cookie alone is not enough).
"""

from __future__ import annotations

import asyncio
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode

from aloft import errors
from aloft.local.control.dashboard import auth, data, views
from aloft.local.store.state import Deployment
from aloft.local.types import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from aloft.local.control.platform import Platform

PREFIX = "/_aloft/"
ASSETS_DIR = Path(__file__).parent / "assets"
_ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "
     "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    # not no-referrer: with it a browser sends `Origin: null` with the dashboard's own forms
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
]


@cache
def _asset(name: str) -> bytes | None:
    path = ASSETS_DIR / name
    if path.parent != ASSETS_DIR or path.suffix not in _ASSET_TYPES or not path.is_file():
        return None
    return path.read_bytes()


def _html(status: int, text: str, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    headers = [("Content-Type", "text/html; charset=utf-8"), *_SECURITY_HEADERS, *(extra or [])]
    return HttpResponse(status, headers, text.encode())


def _json(status: int, value: Any) -> HttpResponse:
    body = json.dumps(value, default=str).encode()
    return HttpResponse(status, [("Content-Type", "application/json"), *_SECURITY_HEADERS], body)


def _redirect(location: str, extra: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(303, [("Location", location), *_SECURITY_HEADERS, *(extra or [])])


async def handle(p: Platform, request: HttpRequest) -> HttpResponse:
    """Answer one request under `/_aloft/` (other than the control API)."""
    path = request.path
    query = dict(parse_qsl(request.query, keep_blank_values=True))
    if path.startswith(PREFIX + "assets/"):
        return _serve_asset(path[len(PREFIX + "assets/"):])
    if "token" in query:  # the link `aloft dashboard` prints: trade the token for a cookie
        if not auth.token_ok(p.token, query.pop("token")):
            return _html(401, views.unauthorised())
        location = path + ("?" + urlencode(query) if query else "")
        return _redirect(location, [("Set-Cookie", auth.set_cookie(auth.new_session(p.token)))])
    sid = auth.session_id(p.token, auth.parse_cookies(request.header("cookie")).get(auth.COOKIE))
    bearer = auth.token_ok(p.token, (request.header("authorization") or "")
                           .removeprefix("Bearer "))
    is_data = path.startswith(PREFIX + "data/")
    if sid is None and not bearer:
        if is_data:
            return _json(401, {"error": "open the link `aloft dashboard` prints"})
        return _html(401, views.unauthorised())
    csrf = auth.csrf_token(p.token, sid) if sid else ""
    try:
        if request.method == "POST":
            form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
            given = form.get(auth.CSRF_FIELD) or request.header(auth.CSRF_HEADER)
            if sid is not None and not auth.csrf_ok(p.token, sid, given):
                return _html(403, views.page("Forbidden", "<h1>Forbidden</h1><p>This form is "
                             "stale: go back, reload the page and try again.</p>", csrf=csrf))
            return await _post(p, path, form)
        if request.method not in ("GET", "HEAD"):
            return _html(405, views.page("Not allowed", "<h1>Use GET or POST</h1>", csrf=csrf))
        return await _get(p, path, query, csrf)
    except errors.NotDeployedError as exc:
        if is_data:
            return _json(404, {"error": exc.message})
        body = f"<h1>Not found</h1><p>{views.e(exc.message)}</p>"
        return _html(404, views.page("Not found", body, csrf=csrf))


def _serve_asset(name: str) -> HttpResponse:
    content = _asset(name)
    if content is None:
        return HttpResponse(404, [("Content-Type", "text/plain")], b"no such asset")
    kind = _ASSET_TYPES[Path(name).suffix]
    return HttpResponse(200, [("Content-Type", kind), ("X-Content-Type-Options", "nosniff"),
                              ("Cache-Control", "no-cache")], content)


def _stage_path(path: str) -> tuple[str, str, str] | None:
    """(service, stage, action) of `/_aloft/stages/{service}/{stage}[/{action}]`."""
    parts = path[len(PREFIX):].strip("/").split("/")
    if len(parts) not in (3, 4) or parts[0] != "stages":
        return None
    return unquote(parts[1]), unquote(parts[2]), parts[3] if len(parts) == 4 else ""


async def _get(p: Platform, path: str, q: dict[str, str], csrf: str) -> HttpResponse:
    route = path[len(PREFIX):].strip("/")
    if route == "":
        return _html(200, views.overview(data.overview(p), csrf=csrf))
    if route == "data/overview":
        return _json(200, data.overview(p))
    if route == "data/stage":
        return _json(200, await data.stage(p, q.get("service", ""), q.get("stage", ""),
                                           data.window_name(q.get("window"))))
    if route in ("logs", "data/logs"):
        found = await data.logs(
            p, q.get("service", ""), q.get("stage", ""), function=q.get("function") or None,
            text=q.get("filter") or None, request_id=q.get("request_id") or None,
            after=int(q.get("after") or 0) if q.get("after", "").isdigit() else 0)
        if route == "data/logs":
            return _json(200, found)
        return _html(200, views.logs(
            q.get("service", ""), q.get("stage", ""), found, function=q.get("function") or None,
            text=q.get("filter") or None, request_id=q.get("request_id") or None, csrf=csrf))
    target = _stage_path(path)
    if target is not None:
        service, stage, action = target
        if action == "":
            found = await data.stage(p, service, stage, data.window_name(q.get("window")))
            return _html(200, views.stage(found, csrf=csrf, notice=q.get("notice") or None))
        if action == "rollback":
            history, current = await _history(p, service, stage)
            to = int(q["to"]) if q.get("to", "").isdigit() else -1
            chosen = next((d for d in history if d.number == to), None)
            if chosen is None:
                raise errors.NotDeployedError(f"{service} {stage} has no version {q.get('to')}")
            return _html(200, views.confirm_rollback(service, stage, current.number, to,
                                                     chosen.functions, csrf=csrf))
    return _html(404, views.page("Not found", "<h1>Not found</h1>", csrf=csrf))


async def _history(p: Platform, service: str, stage: str) -> tuple[list[Deployment], Deployment]:
    history = await asyncio.to_thread(p.state.deployments, service, stage)
    current = await asyncio.to_thread(p.state.current_deployment, service, stage)
    if current is None:
        raise errors.NotDeployedError(f"{service} stage {stage!r} is not deployed")
    return history, current


async def _post(p: Platform, path: str, form: dict[str, str]) -> HttpResponse:
    target = _stage_path(path)
    if target is None or target[2] not in ("rollback", "redrive"):
        return _html(404, views.page("Not found", "<h1>Not found</h1>", csrf=""))
    service, stage, action = target
    back = views.stage_href(service, stage)
    try:
        if action == "rollback":
            history, current = await _history(p, service, stage)
            numbers = [d.number for d in history]
            to = int(form["to"]) if form.get("to", "").isdigit() else -1
            if to not in numbers:
                raise errors.UsageError(f"{service} {stage} has no version {form.get('to')}")
            steps = numbers.index(current.number) - numbers.index(to)
            if steps == 0:
                notice = f"{stage} already serves version {to}"
            else:
                result = await p.deployer.rollback(service, stage, steps)
                notice = f"rolled back: {stage} -> version {result['version']}"
        else:
            physical = sorted({ph for d in (await _history(p, service, stage))[0]
                               for ph in d.physical.values()})
            ids = [form["id"]] if form.get("id") else []
            redriven = await p.asyncq.redrive(physical, ids)
            notice = f"re-driven {len(redriven)} event(s)"
    except errors.AloftError as exc:
        notice = f"failed: {exc.message}"
    return _redirect(back + "?" + urlencode({"notice": notice}))
