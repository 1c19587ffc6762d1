"""Deploying examples/flask-hello to AWS (a moto server) with aloft beside Zappa, in one run:
a deploy from nothing, then a code-only update, health check included.

    .venv/bin/python bench/aws_deploy.py [--no-zappa]

Both tools talk to the same moto server (AWS_ENDPOINT_URL) over HTTP; moto's Lambda answers an
invoke as a healthy app does (it runs no code without Docker), so aloft's health check invokes
the new version before the alias moves, as on AWS. Zappa runs from `.venv-bench-zappa` (flask +
zappa, made once by package_build.py) with `"touch": false` (the moto server has no API
Gateway endpoint to GET) and no keep-warm; its deploy includes its packaging, as aloft's does
its build (dependencies cached for both: pip's cache for Zappa, the build cache for aloft).
Each service both tools use is called once before timing (moto sets each up on first use).
AWS itself is not reachable here, so wall times exclude network latency; API calls and bytes
uploaded are what a real account would see.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
RESULTS = ROOT / "bench" / "results" / "aws_deploy.json"
KB = 1024
REGION = "eu-west-1"
DEPLOY_TARGET, UPDATE_TARGET = 0.15, 0.10
"""aloft's wall time ≤ this times Zappa's (issue 15)."""
WARM = ("s3", "iam", "lambda", "apigatewayv2", "apigateway", "cloudformation", "logs", "sqs",
        "events", "sts")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answer_invokes() -> None:
    """moto's Lambda answers an invoke as a healthy aloft app does: an HTTP event gets a 200,
    the keep-warm ping `{"warm": true}` (in this process: the moto server runs in it)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    default_user_config["lambda"]["use_docker"] = False

    def invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: dict[str, str]) -> bytes:
        event = json.loads(body) if body else {}
        if "requestContext" in event:
            return json.dumps({"statusCode": 200, "body": "ok"}).encode()
        return json.dumps({"warm": True}).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def list_function_urls() -> None:
    """moto's server answers 404 to ListFunctionUrlConfigs, which `zappa update` calls: answer
    that the function has no URL (it has none), before the server builds its routes."""
    from moto.awslambda import urls

    def none(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, json.dumps({"FunctionUrlConfigs": []})

    urls.url_paths[r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"] \
        = none


def warm(endpoint: str) -> None:
    import boto3

    for service in WARM:
        client = boto3.client(service, region_name=REGION, endpoint_url=endpoint)
        op = {"s3": "list_buckets", "iam": "list_roles", "lambda": "list_functions",
              "apigatewayv2": "get_apis", "apigateway": "get_rest_apis",
              "cloudformation": "list_stacks", "logs": "describe_log_groups",
              "sqs": "list_queues", "events": "list_rules",
              "sts": "get_caller_identity"}[service]
        getattr(client, op)()


def aloft_run(work: Path) -> dict[str, Any]:
    from aloft.aws.client import AwsClient
    from aloft.aws.provider import AwsProvider
    from aloft.config import load_project
    from aloft.config.models import Service
    from aloft.package import Manifest, Target, build

    app = work / "flask-hello"
    shutil.copytree(ROOT / "examples" / "flask-hello", app,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    service = load_project(app).service("prod")
    clients: list[AwsClient] = []

    def client(svc: Service) -> AwsClient:
        clients.append(AwsClient(region=svc.aws.region, poll_seconds=0.0))
        return clients[-1]

    def builder(svc: Service) -> Manifest:
        return build(svc, target=Target.for_service(svc), out_dir=work / "build",
                     cache_dir=work / "cache")

    builder(service)  # the dependency layer cached, as Zappa's pip cache is
    provider = AwsProvider(client=client, builder=builder)
    started = time.perf_counter()
    first = provider.deploy(service)
    first_seconds = time.perf_counter() - started
    c1 = clients[-1]
    assert first.url and first.health, first
    with (app / "app.py").open("a") as fh:
        fh.write("\n\n@app.route('/bench')\ndef bench():\n    return 'updated'\n")
    started = time.perf_counter()
    update = provider.deploy(service)
    update_seconds = time.perf_counter() - started
    c2 = clients[-1]
    assert update.functions == {"app": 2} and update.health, update
    return {"first_seconds": first_seconds, "first_calls": c1.call_count,
            "first_bytes": c1.bytes_uploaded, "update_seconds": update_seconds,
            "update_calls": c2.call_count, "update_bytes": c2.bytes_uploaded,
            "update_calls_by_operation": dict(c2.calls),
            "first_calls_by_operation": dict(c1.calls),
            "update_steps": [s.action for s in update.plan]}


def zappa_run(work: Path, endpoint: str) -> dict[str, Any]:
    from package_build import ZAPPA_VENV, zappa_python

    python = zappa_python()
    app = work / "zappa-app"
    app.mkdir()
    shutil.copy2(ROOT / "examples" / "flask-hello" / "app.py", app / "app.py")
    (app / "zappa_settings.json").write_text(json.dumps({"prod": {
        "app_function": "app.app", "aws_region": REGION, "project_name": "flask-hello",
        "runtime": "python3.12", "s3_bucket": "zappa-bench-deployments", "touch": False,
        "keep_warm": False}}))
    env = {**os.environ, "VIRTUAL_ENV": str(ZAPPA_VENV),
           "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "AWS_ENDPOINT_URL": endpoint}
    zappa = str(python.parent / "zappa")

    def run(*args: str) -> float:
        started = time.perf_counter()
        done = subprocess.run([zappa, *args], cwd=app, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"zappa {' '.join(args)} failed:\n{done.stdout[-3000:]}\n"
                     f"{done.stderr[-3000:]}")
        return seconds

    first = run("deploy", "prod")
    with (app / "app.py").open("a") as fh:
        fh.write("\n\n@app.route('/bench')\ndef bench():\n    return 'updated'\n")
    update = run("update", "prod")
    return {"first_seconds": first, "update_seconds": update}


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION=REGION, AWS_EC2_METADATA_DISABLED="true")
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    list_function_urls()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    answer_invokes()
    work = Path(tempfile.mkdtemp(prefix="aloft-bench-aws-"))
    try:
        warm(endpoint)
        aloft = aloft_run(work)
        zappa = None if "--no-zappa" in sys.argv else zappa_run(work, endpoint)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(aloft, zappa)


def report(aloft: dict[str, Any], zappa: dict[str, Any] | None) -> None:
    def ratio(key: str) -> str:
        return f"{aloft[key] / zappa[key]:.3f}x" if zappa else "-"

    rows = [("", "aloft", "zappa", "aloft/zappa", "target")]
    for label, key, target in (("deploy from nothing", "first_seconds", DEPLOY_TARGET),
                               ("code-only update", "update_seconds", UPDATE_TARGET)):
        met = zappa is not None and aloft[key] <= target * zappa[key]
        rows.append((f"{label}: wall time", f"{aloft[key]:.2f} s",
                     f"{zappa[key]:.2f} s" if zappa else "-", ratio(key),
                     f"≤ {target}x " + ("ok" if met else "MISSED" if zappa else "")))
    rows += [
        ("deploy from nothing: API calls", str(aloft["first_calls"]), "", "", ""),
        ("code-only update: API calls", str(aloft["update_calls"]), "", "", ""),
        ("code-only update: bytes uploaded", f"{aloft['update_bytes'] / KB:.1f} KB", "", "",
         "≤ 50 KB " + ("ok" if aloft["update_bytes"] <= 50 * KB else "MISSED")),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    print("Deploying examples/flask-hello to AWS Lambda + HTTP API (a moto server; health "
          "check included)\n")
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print("\ncode-only update, API calls by operation:")
    for op, n in sorted(aloft["update_calls_by_operation"].items()):
        print(f"  {op:45} {n}")
    print("\nsteps applied by the update:", ", ".join(aloft["update_steps"]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**aloft, "zappa": zappa}, indent=2) + "\n")


if __name__ == "__main__":
    main()
