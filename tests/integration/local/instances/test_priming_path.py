"""A template primes its app with the service's health path (`health_path`), not `/`: the
deploy calls that path anyway, and a user whose `/` does something at every call (a write, a
mail) keeps it from running at each template start by setting a harmless health path."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from aloft.local.instances.pool import InstancePool
from aloft.local.types import FunctionVersion
from tests.integration.local.dataplane_helpers import (
    SITE_PACKAGES,
    LoopThread,
    RecordingSink,
    build_artifact,
    function_version,
)

APP = '''
import os

from flask import Flask, jsonify, request

app = Flask(__name__)
calls = []


@app.get("/")
def index():
    calls.append(["/", request.query_string.decode(), request.user_agent.string])
    return "side effect"


@app.get("/health")
def health():
    calls.append(["/health", request.query_string.decode(), request.user_agent.string])
    return "ok"


@app.get("/calls")
def seen():
    return jsonify(calls=calls, told=os.environ.get("ALOFT_PRIME_PATH"))
'''


def _event(path: str) -> bytes:
    return json.dumps({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"host": "127.0.0.1"},
        "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                                    "sourceIp": "127.0.0.1", "userAgent": "test"},
                           "stage": "$default", "requestId": "r", "routeKey": "$default"},
        "isBase64Encoded": False,
    }).encode()


@pytest.mark.parametrize(("prime", "expected"), [
    ("/health?deep=1", [["/health", "deep=1", "aloft-snapshot-prime"]]),
    ("/", [["/", "", "aloft-snapshot-prime"]]),
])
def test_the_template_primes_with_the_health_path(
    tmp_path: Path, prime: str, expected: list[list[str]]
) -> None:
    code = build_artifact(tmp_path / "code", {"app.py": APP}, {"app": None}, app="app:app")
    fv: FunctionVersion = dataclasses.replace(
        function_version(code, "app", layer_dir=SITE_PACKAGES), prime_path=prime)
    sink, loop = RecordingSink(), LoopThread()
    try:
        pool = InstancePool(sink)
        try:
            result = loop.run(pool.invoke(fv, _event("/calls")))
        finally:
            loop.run(pool.close())
    finally:
        loop.close()
    assert result.status == "ok", (result.payload, sink.lines)
    answer = json.loads(json.loads(result.payload)["body"])
    # what the template served before the fork, and nothing else
    assert answer["calls"] == expected
    assert answer["told"] is None  # the platform's word to the template, not the function's
