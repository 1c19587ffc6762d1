"""Authorizers and API keys through a real daemon: a Lambda authorizer (a function of the
stage, invoked with the authorizer event, its answers cached per identity), a JWT authorizer
reading a JWKS file of the project, and REST API keys: deployed, stored, enforced, and gone
with a redeploy that drops them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from tests.integration.local.cloud_helpers import Cloud, cloud_fixture, service, write_project
from tests.jwt_tokens import AUDIENCE, ISSUER, SigningKey, claims, jwks

cloud = cloud_fixture()

CODE = """
    import json
    import os

    def handle(event, context):
        return {"statusCode": 200,
                "body": json.dumps(event["requestContext"].get("authorizer"))}

    def authorize(event, context):
        with open(os.path.join(os.environ["OUT_DIR"], "asked.log"), "a") as fh:
            fh.write(json.dumps(event) + "\\n")
        token = event["headers"].get("authorization", "")
        return {"isAuthorized": token.startswith("allow"), "context": {"who": token}}
"""


def config(out: Path, guarded: bool = True) -> str:
    auth = "authorizer: custom" if guarded else "cors: false"
    jwt = "authorizer: {name: users, scopes: [notes:write]}" if guarded else "cors: false"
    return f"""
        service: guarded
        environment:
          OUT_DIR: {out}
        authorizers:
          custom:
            type: request
            function: auth
            simple_responses: true
            ttl: 300
          users:
            issuer: {ISSUER}
            audience: {AUDIENCE}
            jwks: jwks.json
        functions:
          auth:
            handler: handler.authorize
          notes:
            handler: handler.handle
            events:
              - http: {{method: get, path: /notes, {auth}}}
              - http: {{method: post, path: /notes, {jwt}}}
              - http: GET /open
        stages:
          dev: {{}}
    """


def fetch(url: str, headers: dict[str, str] | None = None,
          method: str = "GET") -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_authorizers_guard_their_routes(cloud: Cloud, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    key = SigningKey.rsa()
    root = write_project(tmp_path / "p", config(out), {
        "handler.py": CODE, "jwks.json": json.dumps(jwks(key))})
    svc = service(root)
    url = cloud.provider.deploy(svc).url + "notes"
    asked = out / "asked.log"

    assert fetch(url) == (401, b'{"message": "Unauthorized"}')
    assert not asked.exists()  # no identity source: the authorizer is not invoked
    status, body = fetch(url, {"Authorization": "allow-ann"})
    assert status == 200 and json.loads(body) == {"lambda": {"who": "allow-ann"}}
    event = json.loads(asked.read_text().splitlines()[-1])
    assert (event["type"], event["identitySource"], event["routeKey"]) == (
        "REQUEST", ["allow-ann"], "GET /notes")
    assert fetch(url, {"Authorization": "allow-ann"})[0] == 200
    assert len(asked.read_text().splitlines()) == 1  # cached for its ttl
    assert fetch(url, {"Authorization": "deny-bob"}) == (403, b'{"message": "Forbidden"}')
    assert fetch(url.removesuffix("notes") + "open")[0] == 200

    write_token = key.sign(claims(scope="notes:write"))
    assert fetch(url, method="POST")[0] == 401
    assert fetch(url, {"Authorization": key.sign(claims())}, method="POST")[0] == 403
    status, body = fetch(url, {"Authorization": f"Bearer {write_token}"}, method="POST")
    assert status == 200 and json.loads(body)["jwt"]["scopes"] == ["notes:write"]
    lines = [line.text for line in cloud.provider.logs(svc, since=0)]
    assert any("Gateway: authorizer 'custom': the answer denies" in t for t in lines), lines

    # a redeploy without them opens the routes
    write_project(root, config(out, guarded=False), {})
    cloud.provider.deploy(service(root))
    assert fetch(url)[0] == 200 and fetch(url, method="POST")[0] == 200
    cloud.provider.undeploy(service(root))


KEYS = """
    service: keyed
    aws:
      api: rest
    api_keys:
      - name: partner
        value: partner-key-0123456789
      - other
    usage_plan:
      quota: {limit: 3, period: day}
    functions:
      api:
        handler: handler.handle
        payload: "1.0"
        events:
          - http: {method: get, path: /private, private: true}
    stages:
      dev: {}
"""


def test_api_keys_guard_private_routes(cloud: Cloud, tmp_path: Path) -> None:
    root = write_project(tmp_path, KEYS, {"handler.py": CODE})
    svc = service(root)
    url = cloud.provider.deploy(svc).url + "private"
    assert fetch(url) == (403, b'{"message": "Forbidden"}')
    headers = {"x-api-key": "partner-key-0123456789"}
    assert [fetch(url, headers)[0] for _ in range(4)] == [200, 200, 200, 429]
    assert fetch(url, headers)[1] == b'{"message": "Limit Exceeded"}'
    cloud.provider.undeploy(svc)
