"""Deploying examples/flask-hello to AWS (moto, in-process): from nothing, then a code-only update.

    .venv/bin/python bench/aws_deploy.py

Figures: API calls and wall time of a deploy from nothing to a working stage; bytes uploaded and
API calls of a code-only update (target ≤ 50 KB; Zappa's `update` uploads its whole package
again: its size is read from bench/results/package_build.json when that benchmark has run).
AWS itself is not reachable here: moto stands in, so wall times exclude network latency.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "aws_deploy.json"
KB = 1024
MIB = 1024 * 1024


def main() -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="eu-west-1", AWS_EC2_METADATA_DISABLED="true")
    from moto import mock_aws

    from aloft.aws.client import AwsClient
    from aloft.aws.provider import AwsProvider
    from aloft.config import load_project
    from aloft.config.models import Service
    from aloft.package import Manifest, Target, build

    work = Path(tempfile.mkdtemp(prefix="aloft-bench-aws-"))
    try:
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

        builder(service)  # warm the dependency cache: the figures are about deploying
        with mock_aws(config={"lambda": {"use_docker": False}}):
            provider = AwsProvider(client=client, builder=builder)
            started = time.perf_counter()
            first = provider.deploy(service)
            first_seconds = time.perf_counter() - started
            c1 = clients[-1]
            assert first.url and provider.status(service)["functions"]["app"]["version"] == "1"

            with (app / "app.py").open("a") as fh:
                fh.write("\n\n@app.route('/bench')\ndef bench():\n    return 'updated'\n")
            started = time.perf_counter()
            update = provider.deploy(service)
            update_seconds = time.perf_counter() - started
            c2 = clients[-1]
            assert update.functions == {"app": 2}, update.functions
    finally:
        shutil.rmtree(work, ignore_errors=True)

    zappa_bytes = None
    package_results = ROOT / "bench" / "results" / "package_build.json"
    if package_results.exists():
        zappa_bytes = json.loads(package_results.read_text()).get("zappa_bytes")
    zappa = f"{zappa_bytes / MIB:.1f} MiB" if zappa_bytes else "(run package_build.py)"
    ok = c2.bytes_uploaded <= 50 * KB
    rows = [
        ("", "aloft", "zappa", "target"),
        ("code-only update: bytes uploaded", f"{c2.bytes_uploaded / KB:.1f} KB", zappa,
         "≤ 50 KB " + ("ok" if ok else "MISSED")),
        ("code-only update: API calls", str(c2.call_count), "-", ""),
        ("code-only update: wall time", f"{update_seconds:.2f} s", "-", "(moto, no network)"),
        ("deploy from nothing: API calls", str(c1.call_count), "-", ""),
        ("deploy from nothing: bytes uploaded", f"{c1.bytes_uploaded / KB:.1f} KB", "-", ""),
        ("deploy from nothing: wall time", f"{first_seconds:.2f} s", "-", "(moto, no network)"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print("Deploying examples/flask-hello to AWS Lambda + HTTP API (moto in-process)\n")
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print("\ncode-only update, API calls by operation:")
    for op, n in sorted(c2.calls.items()):
        print(f"  {op:45} {n}")
    print("\ndeploy from nothing, API calls by operation:")
    for op, n in sorted(c1.calls.items()):
        print(f"  {op:45} {n}")
    print("\nsteps applied by the update:", ", ".join(s.action for s in update.plan))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "update_bytes": c2.bytes_uploaded, "update_calls": c2.call_count,
        "update_calls_by_operation": dict(c2.calls), "update_seconds": update_seconds,
        "first_calls": c1.call_count, "first_bytes": c1.bytes_uploaded,
        "first_seconds": first_seconds, "zappa_bytes": zappa_bytes,
    }, indent=2) + "\n")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
