"""examples/functions through the real command line: `aloft deploy dev` binds its worker to the
`jobs` queue; a job sent with boto3 is processed (its log line appears), a failing job's error
is logged, and `aloft status` lists the binding."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from aloft.local.services.supervisor import client_kwargs, wait_for_endpoint
from tests.integration.local.cloud_helpers import Cloud, service
from tests.waiting import wait_until

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "functions"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    c = Cloud(tmp_path_factory.mktemp("home"))
    yield c
    if c.client.running() is not None:
        c.stop()


def aloft(cloud: Cloud, project: Path, *args: str) -> str:
    script = Path(sys.executable).parent / "aloft"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aloft.cli.main"]
    env = {"ALOFT_HOME": str(cloud.home), "ALOFT_PORT": str(cloud.port), "NO_COLOR": "1",
           "ALOFT_CACHE_DIR": str(project / ".cache"), "PATH": "/usr/bin:/bin",
           "ALOFT_RUNTIME_LAYERS": os.environ["ALOFT_RUNTIME_LAYERS"]}  # installed once
    done = subprocess.run([*command, *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"aloft {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_example_worker_consumes_its_queue(cloud: Cloud, tmp_path: Path) -> None:
    project = tmp_path / "functions"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    deployed = json.loads(aloft(cloud, project, "deploy", "dev", "--json"))
    assert deployed["url"].startswith(f"http://127.0.0.1:{cloud.port}/")
    svc = service(project)

    def polling() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = cloud.provider.status(svc).report["event_sources"]
        return rows if rows and rows[0]["state"] == "polling" else None

    rows = wait_until(polling, timeout=30, interval=0.1, message=lambda: "the queue's poller: "
                      f"{cloud.provider.status(svc).report['event_sources']}")
    assert [(r["kind"], r["source"], r["function"]) for r in rows] == [
        ("queue", "functions-dev-jobs", "functions-dev-worker")]

    sqs = boto3.client("sqs", **client_kwargs(wait_for_endpoint(cloud.client), cloud.home / "aws"))
    url = sqs.get_queue_url(QueueName="functions-dev-jobs")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": 1, "task": "resize"}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": 2, "fail": True}))

    def logged() -> str:
        return "\n".join(line.text for line in cloud.provider.logs(svc, function="worker"))

    wait_until(lambda: "processed job 1: resize" in logged() and "job 2 asked to fail" in logged(),
               timeout=30, interval=0.2, message=lambda: f"jobs 1 and 2 in:\n{logged()}")
    text = aloft(cloud, project, "status", "dev")
    assert "event sources" in text and "functions-dev-jobs" in text

    # Deploying again unchanged is a no-op; changing only the queue event records a new
    # deployment (same function versions) whose binding replaces the old one.
    again = json.loads(aloft(cloud, project, "deploy", "dev", "--json"))
    assert again["version"] == deployed["version"]
    config = project / "aloft.yml"
    config.write_text(config.read_text().replace(
        "      - queue: jobs", "      - queue: {name: jobs, batch_size: 2}"))
    plan = aloft(cloud, project, "deploy", "dev", "--plan")
    assert "sources" in plan and "publish" not in plan
    changed = json.loads(aloft(cloud, project, "deploy", "dev", "--json"))
    assert changed["version"] == deployed["version"] + 1
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": 3, "task": "after"}))
    wait_until(lambda: "processed job 3: after" in logged(), timeout=30, interval=0.2,
               message=lambda: f"job 3 in:\n{logged()}")
    aloft(cloud, project, "undeploy", "dev", "--yes")
