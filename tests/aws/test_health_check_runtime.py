"""The health check on AWS against the code as Lambda runs it: moto holds the stage, and each
invocation runs the deployed artifact (built by aloft.package, as `aloft deploy` builds it)
under Lambda's own runtime client, awslambdaric (tests/lambda_runtime_api.py). What the check
sends is what the runtime answers; what fails is reported as Lambda reports it."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.aws import health
from aloft.aws.client import AwsClient
from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import DeployError
from aloft.package import Manifest, Target, build
from tests.aws.conftest import Invocations, boto
from tests.lambda_runtime_api import LambdaRuntime

APP = """\
def app(environ, start_response):
    if environ["PATH_INFO"] == "/broken":
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"the database is not migrated"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok " + environ["PATH_INFO"].encode()]
"""
JOBS = "def work(event, context):\n    return 'worked'\n"


class Runtimes:
    """One awslambdaric instance per function, running the version the deploy uploaded."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.code: Path | None = None  # the code zip of the last build
        self.running: dict[tuple[str, str], LambdaRuntime] = {}

    def unpacked(self, physical: str, version: str) -> Path:
        """Where a version's code runs (Lambda's /var/task)."""
        return self.root / f"{physical}-{version}"

    def answer(self, physical: str) -> Callable[[dict[str, Any], str | None], tuple[Any, ...]]:
        def run(event: dict[str, Any], qualifier: str | None) -> tuple[Any, ...]:
            version = str(qualifier)
            key = (physical, version)
            if key not in self.running:
                conf = boto("lambda").get_function_configuration(FunctionName=physical,
                                                                 Qualifier=version)
                unpacked = self.unpacked(physical, version)
                assert self.code is not None
                with zipfile.ZipFile(self.code) as zf:
                    zf.extractall(unpacked)
                self.running[key] = LambdaRuntime(unpacked, conf["Handler"],
                                                  conf["Environment"]["Variables"])
            got = self.running[key].invoke(event)
            return json.loads(got.payload), got.errored, got.logs

        return run

    def close(self) -> None:
        for runtime in self.running.values():
            runtime.close()


@pytest.fixture
def runtimes(tmp_path: Path, invocations: Invocations) -> Iterator[Runtimes]:
    found = Runtimes(tmp_path / "lambda")
    for physical in ("site-prod-app", "site-prod-worker"):
        invocations.answers[physical] = found.answer(physical)
    yield found
    found.close()


@pytest.fixture
def site(tmp_path: Path, moto: None, runtimes: Runtimes) -> tuple[AwsProvider, Service]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "jobs.py").write_text(JOBS)
    service = Service.model_validate({
        "service": "site", "stage": "prod", "root": root, "provider": "aws",
        "aws": {"region": "eu-west-1"}, "runtime": "3.11", "app": "app:app",
        "functions": {"worker": {"handler": "jobs.work"}}})

    def builder(svc: Service) -> Manifest:
        manifest = build(svc, target=Target.for_service(svc), out_dir=tmp_path / "build",
                         cache_dir=tmp_path / "cache")
        runtimes.code = manifest.code.path
        return manifest

    provider = AwsProvider(client=lambda svc: AwsClient(region="eu-west-1", poll_seconds=0),
                           builder=builder)
    return provider, service


def test_the_real_runtime_answers_the_health_checks(site: tuple[AwsProvider, Service]) -> None:
    provider, service = site
    result = provider.deploy(service)
    assert {(x.function, x.check) for x in result.health} == {
        ("app", "GET / answered 200"), ("worker", "initialised")}


def test_an_import_error_is_reported_as_lambda_reports_it(
        site: tuple[AwsProvider, Service], runtimes: Runtimes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    provider, service = site
    provider.deploy(service)
    # Lambda runs the code from /var/task; here from the directory the runtime unpacked it to
    monkeypatch.setattr(health, "TASK_ROOT", str(runtimes.unpacked("site-prod-worker", "2")))
    jobs = service.root / "jobs.py"
    jobs.write_text("import requests_not_installed\n\n" + JOBS)
    with pytest.raises(DeployError) as failed:
        provider.deploy(service)
    err = failed.value
    assert "version 2 of 'worker' failed its health check (failed to initialise); " \
           "version 1 keeps serving" in err.message
    assert err.detail is not None
    lines = err.detail.splitlines()
    assert lines[0] == ("Runtime.ImportModuleError: Unable to import module 'jobs': "
                        "No module named 'requests_not_installed'")
    assert f'  File "{jobs}", line 1, in <module>' in lines  # the project's file
    assert err.fix == "add `requests-not-installed` to requirements.txt"
    tail = err.detail.split("log tail:\n", 1)[1]
    assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'jobs'" in tail
    assert boto("lambda").get_alias(FunctionName="site-prod-worker",
                                    Name="prod")["FunctionVersion"] == "1"


def test_a_health_path_answering_500_keeps_the_old_version(
        site: tuple[AwsProvider, Service]) -> None:
    provider, service = site
    provider.deploy(service)
    broken = service.model_copy(update={"health_path": "/broken"})
    (service.root / "app.py").write_text(APP + "\n# v2\n")
    with pytest.raises(DeployError) as failed:
        provider.deploy(broken)
    assert failed.value.message.startswith(
        "version 2 of 'app' failed its health check (GET /broken answered 500)")
    assert failed.value.detail is not None
    assert "the database is not migrated" in failed.value.detail
