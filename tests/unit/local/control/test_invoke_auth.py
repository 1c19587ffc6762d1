"""Who may call the Invoke API (in process, over the fake platform): SigV4 with the user's own
credentials or a function version's key, AWS's 403s for everything else, and a function's
`lambda:InvokeFunction` grant. boto3 and @aloft.task on a real daemon:
tests/integration/local/control/test_invoke_security.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aloft.local.services.user_credentials import UserCredentials
from aloft.local.types import HttpResponse
from aloft.runtime.sigv4 import Credentials
from tests.unit.local.control.platform_fakes import (
    CALLER,
    USER,
    Fakes,
    call,
    caller_may,
    header,
    platform,
    signed,
)

PATH = "/2015-03-31/functions/{}/invocations"
WORKER_ARN = "arn:aws:lambda:us-east-1:000000000000:function:shop-dev-worker"


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return platform(tmp_path, endpoint=True)


def grant(effect: str, *resources: str, action: str = "lambda:InvokeFunction") -> dict[str, object]:
    return {"effect": effect, "action": [action], "resource": list(resources)}


def invoke(fakes: Fakes, name: str = "shop-dev-worker", query: str = "",
           credentials: Credentials | None = USER, body: bytes = b"{}",
           headers: dict[str, str] | None = None, **sign_options: object) -> HttpResponse:
    path = PATH.format(name)
    sent = dict(headers or {})
    if credentials is not None:
        sent = signed("POST", path, query, body, sent, credentials, **sign_options)
    return call(fakes, "POST", path, query=query, body=body, token=None, headers=sent)


def error_of(response: HttpResponse) -> tuple[int, str | None, str]:
    """(status, X-Amzn-ErrorType, message) as botocore reads them."""
    body = json.loads(response.body)
    assert header(response, "x-amzn-requestid")
    return response.status, header(response, "x-amzn-errortype"), body.get(
        "message", body.get("Message"))


def test_the_users_own_credentials_may_invoke(fakes: Fakes) -> None:
    assert invoke(fakes).status == 200
    assert fakes.pool.invoked == [("shop-dev-worker", 1, b"{}")]


def test_an_unsigned_request_is_refused(fakes: Fakes) -> None:
    assert error_of(invoke(fakes, credentials=None)) == (
        403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    assert fakes.pool.invoked == []


def test_a_key_nobody_was_given_is_unrecognized(fakes: Fakes) -> None:
    for key in ("AKIANOBODYKNOWS00001", "aloft-admin", "ALOFTFNNOTAVERSION01"):
        assert error_of(invoke(fakes, credentials=Credentials(key, "whatever"))) == (
            403, "UnrecognizedClientException",
            "The security token included in the request is invalid.")
    assert fakes.pool.invoked == []


def test_a_wrong_secret_or_a_changed_request_is_an_invalid_signature(fakes: Fakes) -> None:
    wrong = Credentials(USER.access_key, "not-the-secret")
    status, kind, message = error_of(invoke(fakes, credentials=wrong))
    assert (status, kind) == (403, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match")
    # signed for one body, sent with another
    path = PATH.format("shop-dev-worker")
    headers = signed("POST", path, "", b'{"a": 1}', {})
    response = call(fakes, "POST", path, body=b'{"a": 2}', token=None, headers=headers)
    assert error_of(response)[:2] == (403, "InvalidSignatureException")
    # ... or for another function
    headers = signed("POST", PATH.format("shop-dev-app"), "", b"{}", {})
    response = call(fakes, "POST", path, body=b"{}", token=None, headers=headers)
    assert error_of(response)[:2] == (403, "InvalidSignatureException")
    assert fakes.pool.invoked == []


def test_a_function_cannot_sign_with_another_functions_key(fakes: Fakes) -> None:
    caller_may(fakes, grant("Allow", "*"))
    stolen = Credentials(CALLER.access_key, "guessed-secret")  # the key id is no secret
    assert error_of(invoke(fakes, credentials=stolen))[:2] == (403, "InvalidSignatureException")


def test_the_signature_must_be_for_lambda_and_recent(fakes: Fakes) -> None:
    path = PATH.format("shop-dev-worker")
    from aloft.runtime.sigv4 import sign

    s3 = sign("POST", f"http://127.0.0.1:8750{path}", {}, b"{}", credentials=USER,
              region="us-east-1", service="s3")
    del s3["Host"]
    response = call(fakes, "POST", path, body=b"{}", token=None, headers=s3)
    assert error_of(response) == (403, "InvalidSignatureException",
                                  "Credential should be scoped to correct service: 'lambda'.")
    old = datetime.now(UTC) - timedelta(minutes=6)
    status, kind, message = error_of(invoke(fakes, now=old))
    assert (status, kind) == (403, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {old.strftime('%Y%m%dT%H%M%SZ')} is now "
                              "earlier than")
    soon = datetime.now(UTC) + timedelta(minutes=6)
    assert "Signature not yet current" in error_of(invoke(fakes, now=soon))[2]
    # within AWS's five minutes either way
    assert invoke(fakes, now=datetime.now(UTC) - timedelta(minutes=4)).status == 200
    assert invoke(fakes, now=datetime.now(UTC) + timedelta(minutes=4)).status == 200


def test_a_malformed_authorization_header_is_incomplete(fakes: Fakes) -> None:
    response = invoke(fakes, credentials=None, headers={"Authorization": "Bearer s3cret-token"})
    assert error_of(response)[:2] == (403, "IncompleteSignatureException")


def test_a_function_needs_a_grant_to_invoke_another(fakes: Fakes) -> None:
    caller_may(fakes)  # no grant at all
    status, kind, message = error_of(invoke(fakes, credentials=CALLER, query="Qualifier=dev"))
    assert (status, kind) == (403, "AccessDeniedException")
    assert message.startswith(
        "User: arn:aws:sts::000000000000:assumed-role/shop-dev-lambda/shop-dev-app is not "
        "authorized to perform: lambda:InvokeFunction on resource: "
        f"{WORKER_ARN}:dev because no identity-based policy allows the lambda:InvokeFunction "
        "action")
    assert fakes.pool.invoked == []
    # what @aloft.task adds for its target: the function and its qualifiers
    caller_may(fakes, grant("Allow", WORKER_ARN, WORKER_ARN + ":*"))
    assert invoke(fakes, credentials=CALLER, query="Qualifier=dev").status == 200
    assert invoke(fakes, credentials=CALLER).status == 200
    assert invoke(fakes, "shop-dev-app", credentials=CALLER).status == 403  # not itself either
    # an explicit Deny wins, as in IAM
    caller_may(fakes, grant("Allow", "*"), grant("Deny", WORKER_ARN + "*"))
    assert invoke(fakes, credentials=CALLER).status == 403
    assert invoke(fakes, "shop-dev-app", credentials=CALLER).status == 200


def test_access_is_decided_before_the_function_is_looked_up(fakes: Fakes) -> None:
    """A caller without the grant learns nothing of what is deployed (AWS answers the same)."""
    caller_may(fakes)
    assert error_of(invoke(fakes, "shop-dev-nope", credentials=CALLER))[:2] == (
        403, "AccessDeniedException")
    assert error_of(invoke(fakes, "shop-dev-nope"))[:2] == (404, "ResourceNotFoundException")


def test_user_credentials_come_from_the_shared_files_and_follow_them(tmp_path: Path) -> None:
    aws = tmp_path / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULT000000001\naws_secret_access_key = one\n"
        "[work]\naws_access_key_id = AKIAWORK000000000001\naws_secret_access_key = two\n")
    (aws / "config").write_text("[profile sso]\nsso_start_url = https://x\n"
                                "[profile keys]\naws_access_key_id = AKIACONFIG0000000001\n"
                                "aws_secret_access_key = three\n")
    creds = UserCredentials({"HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "AKIAENV",
                             "AWS_SECRET_ACCESS_KEY": "four"})
    assert [creds.secret(k) for k in ("AKIADEFAULT000000001", "AKIAWORK000000000001",
                                      "AKIACONFIG0000000001", "AKIAENV", "AKIAOTHER")] == [
        "one", "two", "three", "four", None]
    # `aloft config credentials --profile new` adds a profile: seen without a restart
    with (aws / "credentials").open("a") as fh:
        fh.write("[new]\naws_access_key_id = AKIANEW0000000000001\naws_secret_access_key = 5\n")
    assert creds.secret("AKIANEW0000000000001") == "5"
    (aws / "credentials").unlink()
    assert creds.secret("AKIAWORK000000000001") is None
    explicit = tmp_path / "elsewhere"
    explicit.write_text("[x]\naws_access_key_id = AKIAX\naws_secret_access_key = six\n")
    assert UserCredentials({"AWS_SHARED_CREDENTIALS_FILE": str(explicit),
                            "HOME": str(tmp_path)}).secret("AKIAX") == "six"
