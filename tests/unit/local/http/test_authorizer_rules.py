"""Lambda authorizers' events, answers and policies, and API keys' usage plans, as API
Gateway makes and judges them (the pure parts of the local gateway's guard)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aloft.local.http.api_keys import KeyMeter, period_start
from aloft.local.http.authorizer_answers import (
    MalformedAnswer,
    integration_context,
    judge,
    read_answer,
)
from aloft.local.http.authorizer_events import (
    cache_key,
    identity_values,
    request_event,
    route_arn,
    token_event,
)
from aloft.local.types import HttpRequest
from aloft.stage.records import Authorizer, IdentitySource, UsagePlan

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "events"
ARN = route_arn("local", "dev", "GET", "/orders/42")
AUTH = IdentitySource("header", "Authorization")


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def authorizer(**kw: Any) -> Authorizer:
    base: dict[str, Any] = {"name": "custom", "kind": "request", "identity": (AUTH,),
                            "ttl": 300, "function": "auth", "physical": "svc-dev-auth"}
    return Authorizer(**{**base, **kw})


def policy(effect: str, resource: Any, action: Any = "execute-api:Invoke") -> bytes:
    return json.dumps({"principalId": "user-81", "context": {"plan": "gold"},
                       "policyDocument": {"Version": "2012-10-17", "Statement": [
                           {"Effect": effect, "Action": action, "Resource": resource}]}}
                      ).encode()


REQUEST = HttpRequest("GET", "/svc/dev/orders/42", "status=open&token=t%201",
                      [("host", "127.0.0.1:8750"), ("authorization", "allow-me"),
                       ("user-agent", "curl/8.5.0"), ("cookie", "session=s3ss10n")])


def test_method_arns_and_identity_sources() -> None:
    assert ARN == "arn:aws:execute-api:us-east-1:000000000000:local/dev/GET/orders/42"
    assert identity_values(REQUEST, (IdentitySource("header", "AUTHORIZATION"),
                                     IdentitySource("querystring", "token"),
                                     IdentitySource("context", "stage")),
                           {"stage": "dev"}) == ("allow-me", "t 1", "dev")
    for missing in (IdentitySource("header", "x-token"), IdentitySource("querystring", "nope"),
                    IdentitySource("stageVariables", "v")):
        assert identity_values(REQUEST, (AUTH, missing), {}) is None
    assert cache_key(authorizer(), ("allow-me",)) == ("custom", "allow-me")
    assert cache_key(authorizer(ttl=0), ("allow-me",)) is None
    assert cache_key(authorizer(identity=()), ()) is None


def test_the_events_have_api_gateways_shapes() -> None:
    token = token_event("Bearer allow-token-123", ARN)
    assert set(token) == set(fixture("authorizer_token.json"))
    def event(payload: str) -> dict[str, Any]:
        return request_event(authorizer(payload=payload), REQUEST, route_path="/orders/{id}",
                             route_key="GET /orders/{id}", path="/orders/42",
                             path_parameters={"id": "42"}, stage="dev", request_id="r1",
                             api_id="local", arn=ARN, identity=("allow-me",))

    v1 = event("1.0")
    sample = fixture("authorizer_request.json")
    assert set(v1) == set(sample)
    assert (v1["type"], v1["methodArn"], v1["resource"], v1["pathParameters"]) == (
        "REQUEST", ARN, "/orders/{id}", {"id": "42"})
    assert v1["headers"]["Authorization"] == "allow-me"
    assert v1["queryStringParameters"] == {"status": "open", "token": "t 1"}
    assert set(sample["requestContext"]) <= set(v1["requestContext"])
    v2 = event("2.0")
    sample = fixture("authorizer_http_v2.json")
    assert set(v2) == set(sample)
    assert (v2["type"], v2["routeArn"], v2["identitySource"], v2["cookies"]) == (
        "REQUEST", ARN, ["allow-me"], ["session=s3ss10n"])
    assert set(sample["requestContext"]) <= set(v2["requestContext"])


def test_policies_are_judged_against_the_method_arn() -> None:
    a = authorizer(payload="1.0")
    assert judge(read_answer(policy("Allow", ARN), a), ARN) == "allow"
    assert judge(read_answer(policy("Allow", "arn:aws:execute-api:*:*:local/dev/GET/*"), a),
                 ARN) == "allow"
    assert judge(read_answer(policy("Allow", "arn:aws:execute-api:*:*:local/dev/POST/*"), a),
                 ARN) == "implicit_deny"  # a cached policy for another route
    assert judge(read_answer(policy("Allow", "*", "execute-api:*"), a), ARN) == "allow"
    assert judge(read_answer(policy("Allow", "*", "EXECUTE-API:invoke"), a), ARN) == "allow"
    assert judge(read_answer(policy("Allow", "*", "s3:GetObject"), a), ARN) == "implicit_deny"
    assert judge(read_answer(policy("Allow", ["arn:aws:execute-api:us-east-1:000000000000:"
                                              "local/dev/GE?/orders/42"]), a), ARN) == "allow"
    both = json.loads(policy("Allow", "*"))
    both["policyDocument"]["Statement"].append(
        {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": ARN})
    assert judge(read_answer(json.dumps(both).encode(), a), ARN) == "deny"


def test_simple_responses_and_what_api_gateway_cannot_read() -> None:
    simple = authorizer(payload="2.0", simple_responses=True)
    yes = read_answer(b'{"isAuthorized": true, "context": {"team": "finance"}}', simple)
    assert judge(yes, ARN) == "allow" and yes.context == {"team": "finance"}
    assert judge(read_answer(b'{"isAuthorized": false}', simple), ARN) == "deny"
    rest = authorizer(payload="1.0")
    bad = [(simple, b'{"isAuthorized": "yes"}'), (simple, b"[1]"), (simple, b"not json"),
           (rest, b'{"policyDocument": {"Statement": []}}'),  # no principalId
           (rest, b'{"principalId": "u"}'),
           (rest, b'{"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Maybe",'
                  b' "Action": "*", "Resource": "*"}]}}'),
           (rest, json.dumps({**json.loads(policy("Allow", "*")),
                              "context": {"nested": {"no": 1}}}).encode())]
    for who, payload in bad:
        with pytest.raises(MalformedAnswer):
            read_answer(payload, who)


def test_the_integration_receives_the_context_in_its_payloads_place() -> None:
    answer = read_answer(policy("Allow", "*"), authorizer(payload="1.0"))
    assert integration_context(answer, "1.0", 12) == fixture(
        "apigw_rest_authorized.json")["requestContext"]["authorizer"]
    assert integration_context(answer, "2.0", 12) == {
        "lambda": {"plan": "gold", "principalId": "user-81"}}


def test_api_keys_their_rate_and_their_quota() -> None:
    now = [1_700_000_000.0]
    meter = KeyMeter({"partner": "k" * 20, "other": "o" * 20},
                     UsagePlan(quota_limit=5, quota_period="DAY", rate_limit=1.0,
                               burst_limit=2), clock=lambda: now[0])
    assert meter.admit(None) == ("forbidden", None)
    assert meter.admit("x" * 20) == ("forbidden", None)
    assert [meter.admit("k" * 20)[0] for _ in range(3)] == ["ok", "ok", "throttled"]
    now[0] += 1.0  # one token back
    assert [meter.admit("k" * 20)[0] for _ in range(2)] == ["ok", "throttled"]
    now[0] += 10.0
    assert [meter.admit("k" * 20)[0] for _ in range(3)] == ["ok", "ok", "quota"]
    assert meter.admit("o" * 20) == ("ok", "other")  # each key has its own
    now[0] = period_start(now[0], "DAY") + 86400 + 5  # the next day: the quota starts afresh
    assert meter.admit("k" * 20) == ("ok", "partner")
    unmetered = KeyMeter({"partner": "k" * 20}, None)
    assert all(unmetered.admit("k" * 20)[0] == "ok" for _ in range(100))


def test_a_quota_offset_counts_in_the_first_period_only() -> None:
    now = [1_700_000_000.0]
    meter = KeyMeter({"p": "k" * 20}, UsagePlan(quota_limit=3, quota_offset=2,
                                                quota_period="WEEK"), clock=lambda: now[0])
    assert [meter.admit("k" * 20)[0] for _ in range(2)] == ["ok", "quota"]
    now[0] = period_start(now[0], "WEEK") + 7 * 86400 + 1
    assert [meter.admit("k" * 20)[0] for _ in range(4)] == ["ok", "ok", "ok", "quota"]
    assert period_start(1_700_000_000.0, "MONTH") == 1698796800.0  # 2023-11-01
    assert period_start(1_700_000_000.0, "WEEK") == 1699833600.0  # Monday 2023-11-13
