"""The health check on AWS (moto, its invoke answered by tests/aws/conftest.py's `Invocations`):
each new version is invoked by its number, not the alias, with the health check's event, and
the alias moves only when it answers as required; otherwise the old version keeps serving and
the error shows the function's own error with its log tail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from aloft.errors import DeployError
from aloft.provider import HealthPassed
from tests.aws.conftest import Invocations, boto

FUNCTIONS = {"worker": {"handler": "jobs.work"}}


@pytest.fixture
def service(make_service: Callable[..., Service]) -> Service:
    return make_service(app="app:app", health_path="/healthz", functions=FUNCTIONS)


def _alias(physical: str) -> str:
    return str(boto("lambda").get_alias(FunctionName=physical, Name="prod")["FunctionVersion"])


def _answer(result: Any, errored: bool = False) -> Callable[..., tuple[Any, bool]]:
    return lambda event, qualifier: (result, errored)


def test_each_new_version_is_invoked_by_number_before_it_serves(
        provider: AwsProvider, service: Service, invocations: Invocations) -> None:
    result = provider.deploy(service)
    assert sorted(result.health, key=lambda x: x.function) == [
        HealthPassed("app", 1, "GET /healthz answered 200"),
        HealthPassed("worker", 1, "initialised")]
    checks = {name: (qualifier, event) for name, qualifier, event in invocations.seen}
    assert checks["shop-prod-worker"] == ("1", {"aloft": "keep_warm"})
    qualifier, event = checks["shop-prod-app"]
    assert qualifier == "1"  # the version, not the `prod` alias
    assert event["version"] == "2.0" and event["rawPath"] == "/healthz"
    assert event["requestContext"]["http"]["method"] == "GET"
    assert event["requestContext"]["stage"] == "$default"


def test_an_app_answering_5xx_does_not_serve(
        provider: AwsProvider, service: Service, invocations: Invocations,
        builds: Any) -> None:
    provider.deploy(service)
    builds.code = "broken = True\n"
    invocations.answers["shop-prod-app"] = _answer(
        {"statusCode": 500, "body": "database is down"})
    with pytest.raises(DeployError) as failed:
        provider.deploy(service)
    err = failed.value
    assert err.message == ("version 2 of 'app' failed its health check (GET /healthz answered "
                           "500); version 1 keeps serving")
    assert err.detail is not None and "database is down" in err.detail
    assert "hello from the function" in err.detail  # the log tail
    assert err.fix is not None and "health_path" in err.fix
    assert _alias("shop-prod-app") == "1"
    assert _alias("shop-prod-worker") == "1"  # no alias moved: the deploy stopped first
    assert provider.status(service).version == 1

    del invocations.answers["shop-prod-app"]  # fixed: the next deploy completes
    again = provider.deploy(service)
    assert again.functions["app"] > 1 and again.functions["worker"] == 2
    assert _alias("shop-prod-app") == str(again.functions["app"])


def test_a_function_that_cannot_import_shows_its_own_error(
        provider: AwsProvider, service: Service, invocations: Invocations, builds: Any,
        tmp_path: Path) -> None:
    (tmp_path / "jobs.py").write_text("import requests\n\ndef work(event, context):\n    pass\n")
    provider.deploy(service)
    builds.code = "changed = True\n"
    invocations.answers["shop-prod-worker"] = _answer({
        "errorType": "Runtime.ImportModuleError",
        "errorMessage": "Unable to import module 'jobs': No module named 'requests'",
        "stackTrace": ['  File "/var/task/jobs.py", line 1, in <module>\n'
                       '    import requests\n']}, errored=True)
    with pytest.raises(DeployError) as failed:
        provider.deploy(service)
    err = failed.value
    assert err.message == ("version 2 of 'worker' failed its health check (failed to "
                           "initialise); version 1 keeps serving")
    assert err.detail is not None
    assert err.detail.splitlines()[:3] == [
        "Runtime.ImportModuleError: Unable to import module 'jobs': No module named 'requests'",
        f'  File "{tmp_path / "jobs.py"}", line 1, in <module>',  # at the project's path
        "    import requests"]
    assert "hello from the function" in err.detail
    assert err.fix == "add `requests` to requirements.txt"
    assert _alias("shop-prod-worker") == "1"


def test_a_first_deploy_that_cannot_initialise_leaves_nothing(
        provider: AwsProvider, service: Service, invocations: Invocations) -> None:
    invocations.answers["shop-prod-worker"] = _answer(
        {"errorType": "KeyError", "errorMessage": "'DATABASE_URL'"}, errored=True)
    with pytest.raises(DeployError, match="nothing was deployed"):
        provider.deploy(service)
    assert boto("lambda").list_functions()["Functions"] == []


def test_a_first_deploy_answering_5xx_serves_with_a_warning(
        provider: AwsProvider, service: Service, invocations: Invocations,
        builds: Any) -> None:
    """aloft.health's rule, as on the local cloud: a stage's first deploy publishes an app
    that initialised but answers 5xx (a database not migrated yet); later ones do not."""
    invocations.answers["shop-prod-app"] = _answer({"statusCode": 500, "body": "no table"})
    first = provider.deploy(service)
    assert first.functions == {"app": 1, "worker": 1}
    [warning] = first.warnings
    assert "answered GET /healthz with 500: published anyway" in warning and "no table" in warning
    assert [x.function for x in first.health] == ["worker"]
    builds.code = "v2 = True\n"
    with pytest.raises(DeployError, match="version 1 keeps serving"):
        provider.deploy(service)


def test_no_health_check_invokes_nothing(
        provider: AwsProvider, service: Service, invocations: Invocations) -> None:
    invocations.answers["shop-prod-app"] = _answer({"statusCode": 500, "body": "down"})
    result = provider.deploy(service, health_check=False)
    assert result.unchecked and result.health == []
    assert invocations.seen == []
    assert _alias("shop-prod-app") == "1"
    plan = provider.deploy(service, plan_only=True).plan
    assert plan == []  # nothing changed; a plan with changes lists its checks (test_plan)


def test_a_rest_api_gets_a_payload_1_event_under_its_stage(
        provider: AwsProvider, make_service: Callable[..., Service],
        invocations: Invocations) -> None:
    service = make_service(app="app:app", aws={"region": "eu-west-1", "api": "rest"})
    provider.deploy(service)
    (_, qualifier, event), = invocations.seen
    assert qualifier == "1"
    assert (event["version"], event["httpMethod"], event["path"]) == ("1.0", "GET", "/")
    assert event["requestContext"]["stage"] == "prod"
    assert event["requestContext"]["path"] == "/prod/"
