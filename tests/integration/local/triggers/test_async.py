"""Async invocations on a real daemon: retries into the dead-letter queue, redrive, and kill -9
with queued events (every accepted event is processed after a restart)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aloft.config.models import Service
from tests.integration.local.cloud_helpers import (
    JOBS,
    Cloud,
    deployed_project,
    read_lines,
    service,
    signed_invoke,
    write_project,
)
from tests.waiting import wait_until

TASKS = """
    import json
    import os

    import aloft

    @aloft.task
    def remember(value):
        with open(os.path.join(os.environ["OUT_DIR"], "task.log"), "a") as fh:
            fh.write(json.dumps({"value": value, "by": os.environ["ALOFT_FUNCTION"]}) + "\\n")

    def caller(event, context):
        remember(event["value"])  # returns at once: the body runs in another invocation
        return "queued"
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cloud, Service, Path]]:
    yield from deployed_project(tmp_path_factory, lambda out: f"""
        service: asy
        functions:
          flaky:
            handler: jobs.flaky
            retries: 2
          record:
            handler: jobs.record
            concurrency: 2
          caller:
            handler: tasks.caller
        environment:
          OUT_DIR: {out}
        stages:
          dev: {{}}
    """, {"jobs.py": JOBS, "tasks.py": TASKS}, env={"ALOFT_ASYNC_BACKOFF": "0.05"})


def test_retries_then_dead_letter_then_redrive(env: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, out = env
    assert cloud.provider.invoke(svc, "flaky", {"job": 1}, asynchronous=True).error is None
    # the first attempt and two retries, then the dead-letter queue
    wait_until(lambda: len(cloud.provider.dead_letters(svc)) == 1,
               message=lambda: f"one dead letter: {cloud.provider.dead_letters(svc)}")
    assert len(read_lines(out / "flaky-attempts.log")) == 3
    [dead] = cloud.provider.dead_letters(svc)
    assert dead.attempts == 3 and "not fixed yet" in (dead.error or "")
    assert json.loads(dead.payload) == {"job": 1}
    assert read_lines(out / "flaky.log") == []

    (out / "fixed").write_text("")
    assert cloud.provider.redrive(svc, [dead.id]) == [dead.id]
    wait_until(lambda: len(read_lines(out / "flaky.log")) == 1,
               message=lambda: f"one success in flaky.log: {read_lines(out / 'flaky.log')}")
    wait_until(lambda: cloud.provider.dead_letters(svc) == [],
               message=lambda: f"an empty DLQ: {cloud.provider.dead_letters(svc)}")
    status = cloud.provider.status(svc).report
    assert status["async"] == {"queued": 0, "dead_letter": 0}


def test_kill_9_loses_no_accepted_event(env: tuple[Cloud, Service, Path]) -> None:
    cloud, svc, out = env
    url = cloud.url("/2015-03-31/functions/asy-dev-record/invocations")
    total = 40

    def send(i: int) -> int:
        request = signed_invoke(url, json.dumps({"n": i, "sleep": 0.2}).encode(),
                                {"X-Amz-Invocation-Type": "Event"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return int(resp.status)

    with ThreadPoolExecutor(8) as workers:
        statuses = list(workers.map(send, range(total)))
    assert statuses == [202] * total
    # concurrency 2 and 0.2 s each: most events are still queued (some in progress) now
    done_before = len(read_lines(out / "record.log"))
    assert done_before < total
    cloud.kill9()
    cloud.start()
    def recorded() -> set[int]:
        return {json.loads(x)["n"] for x in read_lines(out / "record.log")}

    wait_until(lambda: recorded() == set(range(total)), timeout=60,
               message=lambda: f"every event recorded; missing {set(range(total)) - recorded()}")
    wait_until(lambda: cloud.provider.status(svc).report["async"]["queued"] == 0,
               message=lambda: f"an empty queue: {cloud.provider.status(svc).report['async']}")


def test_task_goes_through_the_invoke_api(env: tuple[Cloud, Service, Path]) -> None:
    """`@aloft.task` inside a deployed function: an Event invocation of the local cloud's Invoke
    API, signed with the function's own credentials (the platform gives them, with
    AWS_ENDPOINT_URL_LAMBDA), which may invoke its task target."""
    cloud, svc, out = env
    result = cloud.provider.invoke(svc, "caller", {"value": 42})
    assert result.error is None and result.payload == "queued"
    wait_until(lambda: read_lines(out / "task.log"), message="the task's line in task.log")
    assert [json.loads(x) for x in read_lines(out / "task.log")] == [
        {"value": 42, "by": "caller"}]


WEB = """
    import json
    import os

    import aloft

    @aloft.task
    def visited(path):
        version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        with open(os.path.join(os.environ["OUT_DIR"], "visits.log"), "a") as fh:
            fh.write(json.dumps({"path": path, "version": version}) + "\\n")

    def app(environ, start_response):
        visited(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
"""


def test_a_first_deploys_health_check_may_send_tasks(
    env: tuple[Cloud, Service, Path], tmp_path: Path
) -> None:
    """The stage's alias exists only once its first deploy's health check has passed: a task
    the checked request sends goes to the version being checked (not a 404 that fails the
    check and publishes the version with a warning)."""
    cloud, _, _ = env
    out = tmp_path / "out"
    out.mkdir()
    root = write_project(tmp_path / "web", f"""
        service: web
        app: webapp:app
        environment:
          OUT_DIR: {out}
        stages:
          dev: {{}}
    """, {"webapp.py": WEB})
    result = cloud.provider.deploy(service(root))
    assert not result.warnings, result.warnings
    wait_until(lambda: read_lines(out / "visits.log"), message="the health check's task")
    assert {"path": "/", "version": "1"} in [json.loads(x) for x in read_lines(out / "visits.log")]
