"""`tracing: true` on AWS (moto): Lambda's active tracing on every function, X-Ray on the REST
API's stage (HTTP APIs have no X-Ray), the role's xray permissions; read back, so turning it
off is a change and a redeploy with it on is none."""

from __future__ import annotations

import json
from collections.abc import Callable

from aloft.aws.provider import AwsProvider
from aloft.config.models import Service
from tests.aws.conftest import REGION, boto

ROUTES = {"h": {"handler": "h.h", "events": [{"http": "GET /h"}]}}


def _stage(make: Callable[..., Service], tracing: bool, api: str = "rest") -> Service:
    return make(functions=ROUTES, aws={"region": REGION, "api": api, "tracing": tracing})


def _rest_tracing() -> bool:
    gw = boto("apigateway")
    [api] = gw.get_rest_apis()["items"]
    return bool(gw.get_stage(restApiId=api["id"], stageName="prod").get("tracingEnabled"))


def test_tracing_on_a_rest_api_stage_and_its_functions(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(_stage(make_service, True))
    assert _rest_tracing()
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod-h",
                                                     Qualifier="prod")
    assert conf["TracingConfig"]["Mode"] == "Active"
    doc = boto("iam").get_role_policy(RoleName="shop-prod-lambda",
                                      PolicyName="aloft")["PolicyDocument"]
    policy = json.loads(doc) if isinstance(doc, str) else doc
    actions = {a for st in policy["Statement"] for a in st["Action"]}
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} <= actions
    assert provider.deploy(_stage(make_service, True)).plan == []  # read back

    plan = provider.deploy(_stage(make_service, False), plan_only=True).plan
    assert [(p.action, p.details["enabled"]) for p in plan
            if p.action == "SetApiTracing"] == [("SetApiTracing", False)]
    # (moto's UpdateFunctionConfiguration keeps TracingConfig: the plan is what is checked)
    [update] = [p for p in plan if p.action == "UpdateFunctionConfiguration"]
    assert "tracing Active → PassThrough" in str(update.details)
    provider.deploy(_stage(make_service, False))
    assert not _rest_tracing()


def test_a_route_change_keeps_the_rest_stage_traced(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(_stage(make_service, True))
    more = {**ROUTES, "g": {"handler": "h.g", "events": [{"http": "GET /g"}]}}
    provider.deploy(make_service(functions=more,
                                 aws={"region": REGION, "api": "rest", "tracing": True}))
    assert _rest_tracing()  # the new deployment of the stage is still traced


def test_an_http_api_has_no_stage_tracing(
        provider: AwsProvider, make_service: Callable[..., Service]) -> None:
    provider.deploy(_stage(make_service, True, api="http"))
    conf = boto("lambda").get_function_configuration(FunctionName="shop-prod-h",
                                                     Qualifier="prod")
    assert conf["TracingConfig"]["Mode"] == "Active"
    assert provider.deploy(_stage(make_service, True, api="http")).plan == []
