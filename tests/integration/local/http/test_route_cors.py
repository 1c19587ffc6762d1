"""A route's own `cors:` through a real daemon: deployed, stored, and applied by the gateway."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.integration.local.cloud_helpers import (
    WSGI_APP,
    Cloud,
    cloud_fixture,
    service,
    write_project,
)

cloud = cloud_fixture()

HOOKS = """
    def hook(event, context):
        return {"statusCode": 200, "body": "hook " + event["routeKey"]}
"""


def config(cors: str) -> str:
    return f"""
        service: routecors
        app: app:app
        functions:
          hook:
            handler: hooks.hook
            events:
              - http: {{method: get, path: /hook{cors}}}
              - http: {{method: get, path: /closed, cors: false}}
        stages:
          dev: {{}}
    """


def request(url: str, method: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def test_a_routes_cors_is_served_and_follows_redeploys(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(tmp_path, config(", cors: true"),
                         {"app.py": WSGI_APP, "hooks.py": HOOKS})
    url = cloud.provider.deploy(service(root)).url
    origin = {"Origin": "https://app.example"}
    preflight = {**origin, "Access-Control-Request-Method": "GET"}

    status, headers = request(url + "hook", "OPTIONS", preflight)
    assert status == 204
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == "GET, OPTIONS"
    status, headers = request(url + "hook", "GET", origin)
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    for path in ("closed", "anything"):  # cors: false, and the app's catch-all: no CORS
        status, headers = request(url + path, "GET", origin)
        assert status == 200 and "access-control-allow-origin" not in headers, path
        status, headers = request(url + path, "OPTIONS", preflight)
        assert "access-control-allow-origin" not in headers, path

    # Without the route's `cors: true` the next deploy serves the route without CORS.
    write_project(root, config(""), {})
    cloud.provider.deploy(service(root))
    status, headers = request(url + "hook", "GET", origin)
    assert status == 200 and "access-control-allow-origin" not in headers
    cloud.provider.undeploy(service(root))
