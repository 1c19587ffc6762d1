"""The pipeline as a user meets it: a function with a reserved concurrency of 1 deployed with the
real `aloft` in a pseudo-terminal, 40 requests at once through the gateway (most of them sent
ahead to the one busy instance), and `aloft tail` showing each request's own output between its
own START and END."""

from __future__ import annotations

import json
import textwrap
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.pty.conftest import Cloud

pytestmark = pytest.mark.timeout(180)

HANDLER = """\
import json
import os
import sys


def hello(event, context):
    n = event["queryStringParameters"]["n"]
    print(f"begin {n}")
    sys.stdout.write(f"still {n}")  # finished by the next line
    print(f" end {n}")
    return {"statusCode": 200, "body": json.dumps({"n": n, "pid": os.getpid()})}
"""


def test_concurrent_requests_each_log_their_own_output(cloud: Cloud, tmp_path: Path) -> None:
    (tmp_path / "aloft.yml").write_text(textwrap.dedent("""\
        service: pipe
        functions:
          hello:
            handler: h.hello
            concurrency: 1
            events:
              - http: GET /hello
        stages:
          dev: {}
    """))
    (tmp_path / "h.py").write_text(HANDLER)
    deployed = cloud.run("deploy", "dev", cwd=tmp_path, timeout=120)
    assert deployed.code == 0, deployed.text
    url = f"http://127.0.0.1:{cloud.port}/pipe/dev/hello?n="

    def get(n: int) -> tuple[int, str, str]:
        with urllib.request.urlopen(f"{url}{n}", timeout=30) as response:
            body = json.loads(response.read())
            return response.status, body["n"], response.headers["apigw-requestid"]

    get(0)  # a first, quick request: its instance is one the gateway sends requests ahead to
    with ThreadPoolExecutor(max_workers=16) as threads:
        answers = list(threads.map(get, range(1, 41)))
    assert [(status, n) for status, n, _ in answers] == [(200, str(n)) for n in range(1, 41)]

    tailed = cloud.run("tail", "dev", "--no-follow", "--json", cwd=tmp_path, timeout=30)
    assert tailed.code == 0, tailed.text
    lines = [json.loads(line) for line in tailed.text.splitlines() if line.startswith("{")]
    for _, n, rid in answers:
        own = [line["text"] for line in lines if line.get("request_id") == rid]
        assert own[0].startswith(f"START RequestId: {rid}"), own
        assert own[1:3] == [f"begin {n}", f"still {n} end {n}"], own
        assert own[3].startswith(f"END RequestId: {rid}"), own
        assert own[4].startswith(f"REPORT RequestId: {rid}"), own
