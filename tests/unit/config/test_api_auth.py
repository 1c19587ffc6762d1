"""`authorizers`, an http event's `authorizer` and `private`, `api_keys` and `usage_plan`: read,
checked against each other and the stage's API kind (file:line errors), and the stage model
they become."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from aloft.config import load_project
from aloft.errors import ConfigError
from aloft.stage import records as r
from aloft.stage import stage_of
from aloft.stage.names import Account

BASE = """\
service: shop
app: shop.app:app
authorizer: users
authorizers:
  users:
    issuer: https://issuer.example.org
    audience: client-1
    jwks: keys/jwks.json
  custom:
    function: auth
    identity_source: [$request.header.X-Token, $request.querystring.t]
    ttl: 60
    simple_responses: true
functions:
  auth:
    handler: shop.auth.handle
  notes:
    handler: shop.notes.handle
    events:
      - http:
          path: /notes
          method: post
          authorizer: {name: users, scopes: [notes:write]}
      - http: {path: /notes, method: get, authorizer: custom}
stages:
  dev:
"""

ACCOUNT = Account("123456789012", "eu-west-1")


def test_the_stage_model_carries_them(write: Callable[..., Path]) -> None:
    service = load_project(write(BASE), env={}).service("dev")
    stage = stage_of(service, ACCOUNT)
    auth = stage.api_auth
    assert auth.api == "http" and auth.api_keys == () and auth.usage_plan is None
    users, custom = auth.authorizer("users"), auth.authorizer("custom")
    assert (users.kind, users.issuer, users.audience, users.ttl) == (
        "jwt", "https://issuer.example.org", ("client-1",), 0)
    assert users.jwks == str(service.root / "keys" / "jwks.json")
    assert users.identity == (r.IdentitySource("header", "Authorization"),)
    assert (custom.kind, custom.physical, custom.payload, custom.simple_responses,
            custom.ttl) == ("request", "shop-dev-auth", "2.0", True, 60)
    assert [s.http_api for s in custom.identity] == ["$request.header.X-Token",
                                                     "$request.querystring.t"]
    assert [s.rest_api for s in custom.identity] == ["method.request.header.X-Token",
                                                     "method.request.querystring.t"]
    routes = {x.key: x.auth for x in stage.routes}
    assert routes["POST /notes"] == r.RouteAuth("users", ("notes:write",))
    assert routes["GET /notes"] == r.RouteAuth("custom")
    assert routes["ANY /{proxy+}"] == routes["ANY /"] == r.RouteAuth("users")


def test_rest_apis_keys_plans_and_token_authorizers(write: Callable[..., Path]) -> None:
    text = """\
    service: shop
    aws: {api: rest}
    authorizers:
      bearer: {type: token, function: auth, validation: "^Bearer .+$"}
    api_keys: [partner, {name: other, value: other-key-0123456789}]
    usage_plan:
      quota: {limit: 1000, period: month, offset: 10}
      throttle: {rate_limit: 5, burst_limit: 10}
    functions:
      auth: {handler: shop.auth.handle}
      api:
        handler: shop.api.handle
        events:
          - http: {path: /x, method: get, private: true, authorizer: bearer}
    stages: {dev: }
    """
    stage = stage_of(load_project(write(textwrap.dedent(text)), env={}).service("dev"),
                     ACCOUNT)
    auth = stage.api_auth
    bearer = auth.authorizer("bearer")
    assert (bearer.kind, bearer.payload, bearer.ttl, bearer.validation) == (
        "token", "1.0", 300, "^Bearer .+$")
    assert auth.api_keys == (r.ApiKey("partner", None), r.ApiKey("other", "other-key-0123456789"))
    assert auth.usage_plan == r.UsagePlan(1000, "MONTH", 10, 5.0, 10)
    assert stage.routes[0].auth == r.RouteAuth("bearer", (), True)


@pytest.mark.parametrize(("change", "line", "message"), [
    (("authorizer: {name: users, scopes", "authorizer: {name: userz, scopes"), 23,
     "no authorizer 'userz' in `authorizers` (declared: custom, users)"),
    (("authorizer: custom}", "authorizer: {name: custom, scopes: [a]}}"), 24,
     "scopes are checked by jwt authorizers; 'custom' is a request authorizer"),
    (("function: auth", "function: nope"), 10, "'nope' is not a key of `functions`"),
    (("method: get, authorizer: custom", "method: get, private: true"), 24,
     "API keys are REST APIs' (`aws.api: rest`); this stage's API is `http`"),
    (("ttl: 60", "ttl: 6000"), 12, "less than or equal to 3600"),
    (("[$request.header.X-Token", "[$header.X-Token"), 11, "is not one API Gateway reads"),
    (("jwks: keys/jwks.json", "jwks: https://issuer.example.org/jwks"), 8,
     "never the network"),
    (("    audience: client-1\n", ""), 6, "needs an `issuer` and an `audience`"),
])
def test_mistakes_name_their_line(write: Callable[..., Path], change: tuple[str, str],
                                  line: int, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_project(write(BASE.replace(*change)), env={}).service("dev")
    text = str(info.value)
    assert f"aloft.yml:{line}:" in text and message in text, text


def test_the_api_kind_decides_what_fits(write: Callable[..., Path]) -> None:
    rest = BASE.replace("service: shop\n", "service: shop\naws: {api: rest}\n")
    with pytest.raises(ConfigError, match="jwt authorizers are HTTP APIs'"):
        load_project(write(rest), env={}).service("dev")
    token = BASE.replace("    identity_source: [$request.header.X-Token, $request.querystring.t]",
                         "    type: token").replace("    simple_responses: true\n", "")
    with pytest.raises(ConfigError, match="token authorizers are REST APIs'"):
        load_project(write(token), env={}).service("dev")
    url = """\
service: shop
aws: {api: url}
authorizers:
  custom: {function: auth}
functions:
  auth: {handler: shop.auth.handle}
  notes:
    handler: shop.notes.handle
    events:
      - http: {path: /notes, method: get, authorizer: custom}
stages:
  dev:
"""
    with pytest.raises(ConfigError, match=r"function URLs \(`aws.api: url`\) have no authorizers"):
        load_project(write(url), env={}).service("dev")


SERVERLESS_HTTP_API = """\
service: notes
provider:
  name: aws
  runtime: python3.12
  httpApi:
    authorizers:
      users:
        identitySource: $request.header.Authorization
        issuerUrl: https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC
        audience: [client-1]
      custom:
        type: request
        functionName: auth
        enableSimpleResponses: true
        resultTtlInSeconds: 60
        identitySource: [$request.header.X-Token]
      outside:
        type: request
        functionArn: arn:aws:lambda:eu-west-1:123456789012:function:elsewhere
functions:
  auth:
    handler: auth.handle
  notes:
    handler: notes.handle
    events:
      - httpApi:
          method: post
          path: /notes
          authorizer: {name: users, scopes: [notes:write]}
      - httpApi: {method: get, path: /notes, authorizer: {name: custom}}
      - httpApi: {method: get, path: /iam, authorizer: {type: aws_iam}}
"""

SERVERLESS_REST = """\
service: orders
provider:
  name: aws
  runtime: python3.12
  apiGateway:
    apiKeys: [partner, {name: mobile, value: mobile-key-0123456789, customerId: c1}]
    usagePlan:
      quota: {limit: 5000, offset: 2, period: MONTH}
      throttle: {burstLimit: 200, rateLimit: 100}
functions:
  auth:
    handler: auth.handle
  orders:
    handler: orders.handle
    events:
      - http: {path: orders, method: get, authorizer: auth, private: true}
      - http:
          path: orders
          method: post
          authorizer:
            name: byHeader
            functionName: auth
            type: request
            identitySource: method.request.header.X-Token, method.request.querystring.t
            resultTtlInSeconds: 0
      - http: {path: cognito, method: get, authorizer: {name: pool, type: COGNITO_USER_POOLS,
                                                         arn: "arn:aws:cognito-idp:x"}}
"""


def test_serverless_http_api_authorizers(write: Callable[..., Path]) -> None:
    project = load_project(write(SERVERLESS_HTTP_API, "serverless.yml"), env={})
    service = project.service("dev")
    users, custom = service.authorizers["users"], service.authorizers["custom"]
    assert (users.type, users.audience) == ("jwt", ["client-1"])
    assert (custom.type, custom.function, custom.simple_responses, custom.ttl,
            custom.identity_source) == ("request", "auth", True, 60, ["$request.header.X-Token"])
    assert "outside" not in service.authorizers
    events = [e.http for e in service.functions["notes"].events]
    assert events[0] is not None and events[0].authorizer is not None
    assert (events[0].authorizer.name, events[0].authorizer.scopes) == ("users", ["notes:write"])
    assert events[1] is not None and events[1].authorizer is not None
    assert events[1].authorizer.name == "custom"
    assert events[2] is not None and events[2].authorizer is None
    warned = "\n".join(service.warnings)
    assert "authorizers.outside" in warned and "events[2].httpApi.authorizer" in warned


def test_serverless_rest_authorizers_and_api_keys(write: Callable[..., Path]) -> None:
    service = load_project(write(SERVERLESS_REST, "serverless.yml"), env={}).service("dev")
    assert service.aws.api == "rest"
    token, request = service.authorizers["auth"], service.authorizers["byHeader"]
    assert (token.type, token.function, token.ttl) == ("token", "auth", 300)
    assert (request.type, request.ttl, request.identity_source) == (
        "request", 0, ["method.request.header.X-Token", "method.request.querystring.t"])
    assert "pool" not in service.authorizers
    http = [e.http for e in service.functions["orders"].events]
    assert http[0] is not None and http[0].private and http[0].authorizer is not None
    assert http[1] is not None and http[1].authorizer is not None
    assert http[1].authorizer.name == "byHeader"
    assert [(k.name, k.value) for k in service.api_keys] == [
        ("partner", None), ("mobile", "mobile-key-0123456789")]
    plan = service.usage_plan
    assert plan is not None and plan.quota is not None and plan.throttle is not None
    assert (plan.quota.limit, plan.quota.offset, plan.quota.period) == (5000, 2, "MONTH")
    assert (plan.throttle.rate_limit, plan.throttle.burst_limit) == (100, 200)
    warned = "\n".join(service.warnings)
    assert "apiKeys.1.customerId" in warned or "apiKeys[1].customerId" in warned, warned
    assert "events[2].http.authorizer" in warned
