"""A route's own `cors:` on AWS (against moto): honoured when the routes come down to one CORS
configuration per HTTP API (per function URL), refused before anything is touched otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aloft.aws.provider import AwsProvider
from aloft.aws.template import template, template_json
from aloft.config.models import Service
from aloft.errors import ConfigError
from tests.aws.conftest import boto
from tests.aws_stage import cfn_errors


def http(method: str, path: str, cors: bool | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"method": method, "path": path}
    if cors is not None:
        event["cors"] = cors
    return {"http": event}


def fn(*events: dict[str, Any]) -> dict[str, Any]:
    return {"handler": "h.h", "events": list(events)}


def api_cors() -> dict[str, Any] | None:
    apis = boto("apigatewayv2").get_apis()["Items"]
    assert len(apis) == 1
    cors: dict[str, Any] | None = apis[0].get("CorsConfiguration")
    return cors


def test_cors_true_on_every_route_gives_the_api_the_default_policy(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    svc = make_service(functions={"a": fn(http("GET", "/a", True)),
                                  "b": fn(http("POST", "/b", True), http("GET", "/b", True))})
    provider.deploy(svc)
    cors = api_cors()
    assert cors is not None
    assert cors["AllowOrigins"] == ["*"] and cors["AllowHeaders"] == ["*"]
    assert cors["AllowMethods"] == ["GET", "POST", "OPTIONS"]
    assert provider.deploy(svc).plan == []  # read back as deployed
    props = template(svc)["Resources"]
    api = next(r["Properties"] for r in props.values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    assert api["CorsConfiguration"]["AllowMethods"] == ["GET", "POST", "OPTIONS"]


def test_overrides_that_agree_with_the_service_keep_its_cors(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    provider.deploy(make_service(cors="https://shop.example", app="app:app",
                                 functions={"a": fn(http("GET", "/a", True))}))
    cors = api_cors()
    assert cors is not None and cors["AllowOrigins"] == ["https://shop.example"]
    # cors: false everywhere on a service without CORS: no CORS, as without the keys
    provider.deploy(make_service(app="app:app", functions={"a": fn(http("GET", "/a", False))}))
    assert api_cors() is None


@pytest.mark.parametrize(("fields", "said"), [
    ({"cors": True, "app": "app:app", "functions": {"a": fn(http("GET", "/a", False))}},
     "route `GET /a` sets `cors: false`"),
    ({"app": "app:app", "functions": {"a": fn(http("GET", "/a", True))}},
     "the app's catch-all route has no CORS"),
    ({"functions": {"a": fn(http("GET", "/a", True)), "b": fn(http("GET", "/b"))}},
     "`GET /b` has no CORS"),
])
def test_routes_that_disagree_are_refused_before_any_call(
    provider: AwsProvider, make_service: Callable[..., Service], fields: dict[str, Any],
    said: str,
) -> None:
    with pytest.raises(ConfigError) as info:
        provider.deploy(make_service(**fields))
    text = str(info.value)
    assert said in text and "functions.a.events[0].http.cors" in text
    assert info.value.fix and "cors" in info.value.fix
    assert boto("apigatewayv2").get_apis()["Items"] == []
    assert boto("lambda").list_functions()["Functions"] == []


def test_function_urls_take_their_functions_own_cors(
    provider: AwsProvider, make_service: Callable[..., Service]
) -> None:
    svc = make_service(app="app:app", aws={"region": "eu-west-1", "api": "url"},
                       functions={"a": fn(http("GET", "/a", True), http("PUT", "/a", True))})
    provider.deploy(svc)
    lam = boto("lambda")
    a = lam.get_function_url_config(FunctionName="shop-prod-a", Qualifier="prod")
    assert a["Cors"]["AllowOrigins"] == ["*"] and a["Cors"]["AllowMethods"] == ["GET", "PUT"]
    app = lam.get_function_url_config(FunctionName="shop-prod-app", Qualifier="prod")
    assert not app.get("Cors", {}).get("AllowOrigins")
    assert provider.deploy(svc).plan == []
    assert cfn_errors(template_json(svc)) == []
    with pytest.raises(ConfigError, match="whole function URL"):
        provider.deploy(make_service(
            aws={"region": "eu-west-1", "api": "url"},
            functions={"a": fn(http("GET", "/a", True), http("PUT", "/a"))}))
