"""Trace ids through a real daemon: each request's X-Amzn-Trace-Id (in and out), the
invocation's _X_AMZN_TRACE_ID (set per request, as Lambda does), its START line, and the
header boto3 sends on with the function's calls to the local AWS endpoint."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project

cloud = cloud_fixture()

CODE = """
    import json
    import os

    import boto3


    def traced(event, context):
        sent = {}

        def capture(request, **_):
            value = request.headers.get("X-Amzn-Trace-Id")
            sent["header"] = value.decode() if isinstance(value, bytes) else value

        sqs = boto3.client("sqs")
        sqs.meta.events.register("before-send.sqs.*", capture)
        try:
            sqs.list_queues()
        except Exception as exc:  # what it answers does not matter: what it sent does
            sent["error"] = type(exc).__name__
        header = event["headers"].get("x-amzn-trace-id")
        return {"statusCode": 200, "body": json.dumps({
            "env": os.environ.get("_X_AMZN_TRACE_ID"), "header": header,
            "boto3": sent.get("header")})}
"""

CONFIG = """
    service: traces
    functions:
      traced:
        handler: handler.traced
        events:
          - http: GET /traced
    stages:
      dev: {}
"""

ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.headers["x-amzn-trace-id"], json.loads(resp.read())


def test_a_request_carries_its_trace_id_to_the_function_its_logs_and_its_aws_calls(
    cloud: Cloud, tmp_path: Path
) -> None:
    root = write_project(tmp_path, CONFIG, {"handler.py": CODE,
                                            "requirements.txt": "boto3\n"})
    svc = service(root)
    url = cloud.provider.deploy(svc).url + "traced"
    roots = []
    for headers in ({}, {}, {"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793"}):
        answered, seen = fetch(url, headers)
        trace_root = answered.removeprefix("Root=")
        assert ROOT.fullmatch(trace_root), answered
        assert seen["header"] == answered
        # a new segment of the request's trace, set for this invocation only
        assert re.fullmatch(rf"Root={trace_root};Parent=[0-9a-f]{{16}};Sampled=0", seen["env"])
        assert seen["boto3"] == seen["env"]
        roots.append(trace_root)
    assert len(set(roots)) == 3 and roots[2] == "1-5759e988-bd862e3fe1be46a994272793"
    starts = [line.text for line in cloud.provider.logs(svc, since=0)
              if line.text.startswith("START RequestId")]
    for trace_root in roots:
        assert any(text.endswith(f" TraceId: {trace_root}") for text in starts), starts
    cloud.provider.undeploy(svc)
