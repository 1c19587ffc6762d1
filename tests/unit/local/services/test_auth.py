"""Grants on the local AWS endpoint: which function may read which parameter (pure)."""

from __future__ import annotations

import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aloft.config.models import Service
from aloft.local.deploy.instructions import describe
from aloft.local.deploy.plan import resource_changes
from aloft.local.services.account import local_stage
from aloft.local.services.actions import json_checks
from aloft.local.services.auth import (
    ACCOUNT,
    AuthMiddleware,
    access_key_of,
    function_access_key,
    function_grants,
    is_allowed,
)
from aloft.local.services.resources import desired_resources


def make(**fields: Any) -> Service:
    data: dict[str, Any] = {"service": "shop", "stage": "dev", "root": Path("/tmp"),
                            "functions": {"reader": {"handler": "h.read", "secrets": ["TOKEN"]},
                                          "other": {"handler": "h.other"}}}
    data.update(fields)
    return Service.model_validate(data)


def param(name: str) -> str:
    return ACCOUNT.arn("ssm", f"parameter{name}")


def test_secrets_grant_their_parameter_only() -> None:
    svc = make()
    stage = local_stage(svc, "http://127.0.0.1:1")
    reader = function_grants(stage.function("reader"))
    other = function_grants(stage.function("other"))
    assert is_allowed(reader, "ssm:GetParameter", param("/shop/dev/TOKEN"))
    assert not is_allowed(reader, "ssm:GetParameter", param("/shop/dev/OTHER"))
    assert not is_allowed(reader, "ssm:PutParameter", param("/shop/dev/TOKEN"))
    assert not is_allowed(other, "ssm:GetParameter", param("/shop/dev/TOKEN"))


def test_secrets_grant_the_secrets_manager_secret_of_the_same_name() -> None:
    """`secrets: [TOKEN]` grants the Secrets Manager secret named as the parameter is,
    `/shop/dev/TOKEN` (by name, or by ARN with its random suffix), as well as `shop/dev/TOKEN`;
    only the second was granted, so a secret created under the documented name was denied with
    a fix to grant it with `secrets`, which the function already had."""
    stage = local_stage(make(), "http://127.0.0.1:1")
    reader = function_grants(stage.function("reader"))
    other = function_grants(stage.function("other"))

    def secret(name: str) -> str:
        return ACCOUNT.arn("secretsmanager", f"secret:{name}")

    for name in ("/shop/dev/TOKEN", "/shop/dev/TOKEN-AbCdEf", "shop/dev/TOKEN",
                 "shop/dev/TOKEN-AbCdEf"):
        assert is_allowed(reader, "secretsmanager:GetSecretValue", secret(name)), name
        assert not is_allowed(other, "secretsmanager:GetSecretValue", secret(name)), name
    assert not is_allowed(reader, "secretsmanager:GetSecretValue", secret("/shop/dev/OTHER"))
    assert not is_allowed(reader, "secretsmanager:PutSecretValue", secret("/shop/dev/TOKEN"))


def test_permissions_allow_and_deny_wins() -> None:
    svc = make(permissions=[{"Action": "ssm:Get*", "Resource": param("/shared/*")}],
               functions={"f": {"handler": "h.f", "permissions": [
                   {"Effect": "Deny", "Action": "ssm:GetParameter",
                    "Resource": param("/shared/private")}]}})
    grants = function_grants(local_stage(svc).function("f"))
    assert is_allowed(grants, "ssm:GetParameter", param("/shared/config"))
    assert not is_allowed(grants, "ssm:GetParameter", param("/shared/private"))


def test_declared_parameters_are_readable_by_every_function() -> None:
    svc = make(resources={"parameters": {"greeting": "hello"}})
    grants = function_grants(local_stage(svc).function("other"))
    assert is_allowed(grants, "ssm:GetParameter", param("/shop/dev/greeting"))


def test_requests_name_their_key_action_and_resources() -> None:
    auth = ("AWS4-HMAC-SHA256 Credential=ALOFTFN123/20260101/us-east-1/ssm/aws4_request, "
            "SignedHeaders=host, Signature=abc")
    assert access_key_of(auth, "") == "ALOFTFN123"
    assert access_key_of("", "X-Amz-Credential=KEY%2F2026%2Fus-east-1%2Fs3") == "KEY"
    body = json.dumps({"Names": ["/a/b", "c:3"]}).encode()
    assert json_checks("AmazonSSM", "GetParameters", json.loads(body)) == [
        ("ssm:GetParameters", param("/a/b")), ("ssm:GetParameters", param("/c"))]
    assert function_access_key("shop-dev-f", 1) != function_access_key("shop-dev-f", 2)
    assert len(function_access_key("shop-dev-f", 1)) == 20


def test_middleware_denies_a_function_without_the_grant() -> None:
    calls: list[str] = []

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["wsgi.input"].read().decode())
        start_response("200 OK", [])
        return [b"{}"]

    mw = AuthMiddleware(moto, "token", lambda: None)
    key = function_access_key("shop-dev-reader", 1)
    mw.set_grants({key: ("shop-dev-reader", [{"effect": "Allow", "action": ["ssm:GetParameter"],
                                              "resource": [param("/shop/dev/TOKEN")]}])})
    statuses: list[str] = []

    def call(access_key: str, name: str) -> bytes:
        body = json.dumps({"Name": name, "WithDecryption": True}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                   "HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameter",
                   "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={access_key}/x/y/ssm/aws4"}
        return b"".join(mw(environ, lambda status, headers: statuses.append(status)))

    assert call(key, "/shop/dev/TOKEN") == b"{}"
    assert calls == [json.dumps({"Name": "/shop/dev/TOKEN", "WithDecryption": True})]
    denied = json.loads(call(key, "/shop/dev/OTHER"))
    assert denied["__type"] == "AccessDeniedException" and statuses[-1].startswith("400")
    assert "ssm:GetParameter" in denied["message"]
    unknown = function_access_key("shop-dev-other", 1)
    assert json.loads(call(unknown, "/shop/dev/TOKEN"))["__type"] == "AccessDeniedException"
    assert call("aloft-admin", "/shop/dev/OTHER") == b"{}"  # not a function's key
    assert len(calls) == 2



def test_a_call_made_before_the_daemons_grants_came_waits_for_them() -> None:
    """After a restart the endpoint is up a moment before the daemon has pushed its grants: a
    function that called then was refused AccessDenied. Its call now waits for them (up to
    `grants_wait`); without any grants by then, it is refused as before."""

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"{}"]

    key = function_access_key("shop-dev-reader", 1)
    grants = {key: ("shop-dev-reader", [{"effect": "Allow", "action": ["ssm:GetParameter"],
                                         "resource": [param("/shop/dev/TOKEN")]}])}

    def call(mw: AuthMiddleware) -> bytes:
        body = json.dumps({"Name": "/shop/dev/TOKEN"}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                   "HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameter",
                   "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={key}/x/y/ssm/aws4"}
        return b"".join(mw(environ, lambda status, headers: None))

    mw = AuthMiddleware(moto, "token", lambda: None, grants_wait=5.0)
    with ThreadPoolExecutor(1) as pool:
        early = pool.submit(call, mw)  # before the grants
        time.sleep(0.2)
        assert not early.done()  # waiting for them, not refused
        mw.set_grants(grants)
        assert early.result(timeout=5) == b"{}"
    assert call(mw) == b"{}"  # and at once from then on
    started = time.monotonic()
    late = AuthMiddleware(moto, "token", lambda: None, grants_wait=0.2)
    assert json.loads(call(late))["__type"] == "AccessDeniedException"  # none came
    assert 0.2 <= time.monotonic() - started < 3
    assert json.loads(call(AuthMiddleware(moto, "token", lambda: None)))["__type"] == \
        "AccessDeniedException"  # (no wait: unit tests, and the default)

def test_resources_plan_add_update_remove() -> None:
    svc = make(resources={"queues": {"jobs": {"dead_letter": True, "max_receives": 2}},
                          "buckets": {"files": {}}})
    wanted = desired_resources(local_stage(svc, "http://127.0.0.1:9"))
    ids = [f"{r['kind']}:{r['physical']}" for r in wanted]
    assert ids == ["bucket:shop-dev-files", "queue:shop-dev-jobs-dlq", "queue:shop-dev-jobs"]
    jobs = wanted[2]["spec"]
    assert jobs["dead_letter"] == ACCOUNT.arn("sqs", "shop-dev-jobs-dlq")
    assert [i["action"] for i in describe(resource_changes(wanted, {}))] == ["resource_add"] * 3
    current = {f"{r['kind']}:{r['physical']}": r for r in wanted}
    assert resource_changes(wanted, current) == []
    changed = make(resources={"queues": {"jobs": {"dead_letter": True, "max_receives": 5}}})
    steps = describe(resource_changes(desired_resources(local_stage(changed, "")), current))
    assert [(s["action"], s["name"]) for s in steps] == [
        ("resource_update", "queue:shop-dev-jobs"), ("resource_remove", "bucket:shop-dev-files")]


def test_secure_parameter_values_stay_out_of_plans() -> None:
    svc = make(resources={"parameters": {"key": {"value": "s3cret", "secure": True}}})
    (res,) = desired_resources(local_stage(svc, ""))
    assert "s3cret" not in json.dumps(res) and res["spec"]["value_sha256"]


def test_serverless_yml_resources_become_local_resources() -> None:
    from aloft.config import load_project

    root = Path(__file__).resolve().parents[3] / "fixtures" / "configs" / "sls_functions"
    svc = load_project(root).service("dev")
    wanted = {(r["kind"], r["physical"]): r["spec"]
              for r in desired_resources(local_stage(svc, ""))}
    assert wanted[("bucket", "orders-dev-uploads")]["versioning"] is True
    assert wanted[("queue", "orders-dev-orders")]["dead_letter"] == ACCOUNT.arn(
        "sqs", "orders-dev-OrdersDLQ")
    assert wanted[("table", "orders-dev")]["stream"] == "NEW_AND_OLD_IMAGES"
    assert ("topic", "orders-alerts") in wanted


def test_a_function_key_must_sign_with_its_own_secret() -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from aloft.local.services.sigv4 import function_secret

    signing = b"k" * 32
    key = function_access_key("shop-dev-reader", 1)
    mw = AuthMiddleware(lambda environ, start: (start("200 OK", []), [b"{}"])[1], "t",
                        lambda: None, signing)
    mw.set_grants({key: ("shop-dev-reader", [{"effect": "Allow", "action": ["ssm:*"],
                                              "resource": ["*"]}])})

    def call(secret: str) -> bytes:
        body = json.dumps({"Name": "/x"}).encode()
        req = AWSRequest(method="POST", url="http://127.0.0.1:9/", data=body, headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AmazonSSM.GetParameter"})
        SigV4Auth(Credentials(key, secret, "token"), "ssm", "us-east-1").add_auth(req)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-amz-json-1.1", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "HTTP_HOST": "127.0.0.1:9"}
        for name, value in req.headers.items():
            if name.lower() != "content-type":
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return b"".join(mw(environ, lambda status, headers: None))

    assert call(function_secret(signing, key)) == b"{}"
    assert json.loads(call("aloft-local"))["__type"] == "InvalidSignatureException"
