"""Trace ids through a real daemon: each request's X-Amzn-Trace-Id (in and out), the
invocation's _X_AMZN_TRACE_ID (set per request, as Lambda does), its START line, and the
header boto3 sends on with the function's calls to the local AWS endpoint."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

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


LOAD_CODE = """
    import ctypes
    import json
    import os
    import subprocess



    class Mallinfo2(ctypes.Structure):  # glibc's: what malloc holds
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost")]


    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    libc.mallinfo2.restype = Mallinfo2


    def traced(event, context):
        seen = {"env": os.environ.get("_X_AMZN_TRACE_ID"),
                "c": (libc.getenv(b"_X_AMZN_TRACE_ID") or b"").decode(),
                "heap": libc.mallinfo2().uordblks}
        if event.get("queryStringParameters"):  # ?child=1: what a process the function starts sees
            seen["child"] = subprocess.run(["sh", "-c", "echo $_X_AMZN_TRACE_ID"],
                                           capture_output=True, text=True).stdout.strip()
        return {"statusCode": 200, "body": json.dumps(seen)}
"""


def test_each_invocations_trace_reaches_its_children_and_costs_the_instance_no_memory(
    cloud: Cloud, tmp_path: Path
) -> None:
    """Every request has a trace of its own; glibc's setenv keeps every string it was given,
    which took an instance's heap up by about 140 bytes a request, towards its memory size."""
    root = write_project(tmp_path, CONFIG, {"handler.py": LOAD_CODE})
    svc = service(root)
    url = urllib.parse.urlsplit(cloud.provider.deploy(svc).url + "traced")
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def get(query: str = "") -> tuple[str, dict[str, Any]]:
        conn.request("GET", url.path + query)
        resp = conn.getresponse()
        body = json.loads(resp.read())
        return resp.headers["x-amzn-trace-id"].removeprefix("Root="), body

    requests = 6000
    heaps = []
    for n in range(requests):
        trace_root, seen = get("?child=1" if n in (0, requests - 1) else "")
        # the invocation's own trace, in os.environ and in the C environment alike
        env = seen.get("env")
        assert env == seen.get("c") and f"Root={trace_root};" in str(env), seen
        if "child" in seen:
            assert seen["child"] == seen["env"], seen
        if n in (1000, requests - 1):
            heaps.append(seen["heap"])
    conn.close()
    # (before: 700 KB more for these 5,000 requests)
    assert heaps[1] - heaps[0] < 100_000, heaps
    cloud.provider.undeploy(svc)
