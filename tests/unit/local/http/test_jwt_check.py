"""JWT authorizers' checks (aloft.local.http.jwt_check): signatures (RS256, ES256), the
claims an HTTP API checks, scopes, and the context the integration receives."""

from __future__ import annotations

import time

import pytest

from aloft.local.http.jwks import keys_of
from aloft.local.http.jwt_check import JwtRejected, claims_context, verify
from tests.jwt_tokens import AUDIENCE, ISSUER, SigningKey, claims, jwks

RSA, EC = SigningKey.rsa(), SigningKey.ec()
KEYS = keys_of(jwks(RSA, EC))


def check(token: str, scopes: tuple[str, ...] = (), now: float | None = None,
          audience: tuple[str, ...] = (AUDIENCE,)) -> dict[str, object]:
    return verify(token, KEYS, issuer=ISSUER, audience=audience, scopes=scopes,
                  now=time.time() if now is None else now)


def rejected(token: str, **kw: object) -> JwtRejected:
    with pytest.raises(JwtRejected) as info:
        check(token, **kw)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize("key", [RSA, EC], ids=["RS256", "ES256"])
def test_a_valid_token_passes_with_its_claims(key: SigningKey) -> None:
    assert check(key.sign(claims(scope="notes:read notes:write")))["sub"] == "u-1234"


def test_each_claim_is_checked() -> None:
    now = time.time()
    cases = {
        "the token has expired": claims(exp=int(now) - 1),
        "the token is not valid yet": claims(nbf=int(now) + 60),
        "the token has no exp claim": {k: v for k, v in claims().items() if k != "exp"},
        "the token's issuer is not the authorizer's": claims(iss="https://other.example"),
        "the token's audience is not the authorizer's": claims(aud="someone-else"),
    }
    for reason, body in cases.items():
        error = rejected(RSA.sign(body))
        assert (error.description, error.status) == (reason, 401)
        assert error.www_authenticate == (
            f'Bearer scope="" error="invalid_token" error_description="{reason}"')
    # an access token without aud names its client (Cognito's): client_id is checked
    body = {k: v for k, v in claims(client_id=AUDIENCE).items() if k != "aud"}
    assert check(RSA.sign(body))["client_id"] == AUDIENCE
    assert check(RSA.sign(claims(aud=["x", AUDIENCE])))["sub"] == "u-1234"


def test_signatures_keys_and_algorithms() -> None:
    token = RSA.sign(claims())
    head, _body, sig = token.split(".")
    forged = RSA.sign(claims(sub="admin")).split(".")[1]
    assert rejected(f"{head}.{forged}.{sig}").description == "signature is invalid"
    assert rejected(SigningKey.rsa("rsa-1").sign(claims())).description == \
        "signature is invalid"  # same kid, another key
    assert rejected(SigningKey.rsa("unknown").sign(claims())).description == \
        "the token's kid is not one of the issuer's keys"
    assert "does not fit its key" in rejected(RSA.sign(claims(), alg="ES256")).description
    assert rejected(RSA.sign(claims(), alg="none")).status == 401
    assert rejected("not-a-jwt").description == "the token is not a JWT"
    assert rejected("a.b.c").description == "the token is not a JWT"


def test_a_route_with_scopes_needs_one_of_them() -> None:
    token = RSA.sign(claims(scope="notes:read"))
    assert check(token, scopes=("notes:read", "admin"))
    error = rejected(token, scopes=("notes:write",))
    assert error.status == 403
    assert 'error="insufficient_scope"' in error.www_authenticate
    assert check(EC.sign(claims(scp=["notes:write"])), scopes=("notes:write",))
    assert rejected(EC.sign(claims()), scopes=("notes:write",)).scope


def test_the_integration_sees_the_claims_as_text_and_the_scopes() -> None:
    body = {"sub": "u-1", "exp": 1700000000, "admin": True, "groups": ["a", "b"],
            "scope": "notes:write other"}
    assert claims_context(body) == {
        "claims": {"sub": "u-1", "exp": "1700000000", "admin": "true", "groups": "[a b]",
                   "scope": "notes:write other"},
        "scopes": ["notes:write", "other"]}
    assert claims_context({"sub": "x"})["scopes"] is None
