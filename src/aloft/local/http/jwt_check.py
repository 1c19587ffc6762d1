"""JWT authorizers' checks, as an HTTP API makes them (pure; `cryptography` verifies).

A token is accepted when its signature verifies with the issuer's key named by its `kid`
(RS256/384/512, ES256/384/512), `exp` is in the future, `nbf` (if present) is past, `iss` is the
authorizer's issuer, and its `aud` (or, without one, its `client_id`) is one of the
authorizer's audiences; a route with scopes also needs one of them in the token's `scope`
(space-separated) or `scp` claim. `JwtRejected` says why, in the words API Gateway puts in its
`WWW-Authenticate` header.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}


class JwtRejected(Exception):
    """Why a token is refused: 401 `invalid_token`, or 403 `insufficient_scope`."""

    def __init__(self, description: str, *, scope: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.scope = scope

    @property
    def status(self) -> int:
        return 403 if self.scope else 401

    @property
    def www_authenticate(self) -> str:
        error = "insufficient_scope" if self.scope else "invalid_token"
        return f'Bearer scope="" error="{error}" error_description="{self.description}"'


@dataclass(frozen=True)
class Token:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _int(value: str) -> int:
    return int.from_bytes(_b64(value), "big")


def parse(token: str) -> Token:
    """The token's parts, decoded (not verified)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtRejected("the token is not a JWT")
    try:
        header, claims = json.loads(_b64(parts[0])), json.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, binascii.Error):
        raise JwtRejected("the token is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtRejected("the token is not a JWT")
    return Token(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """An RSA or EC public key of a JWKS. ValueError for any other."""
    kty = jwk.get("kty")
    try:
        if kty == "RSA":
            return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
        if kty == "EC" and jwk.get("crv") in _CURVES:
            curve = _CURVES[jwk["crv"]]()
            return ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]),
                                                 curve).public_key()
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ValueError(f"a JWKS key without its {exc}") from None
    raise ValueError(f"a JWKS key of type {kty!r} (RSA and EC keys are read)")


def verify_signature(token: Token, key: PublicKey) -> None:
    alg = str(token.header.get("alg", ""))
    digest = _HASHES.get(alg[2:])
    try:
        if alg.startswith("RS") and digest and isinstance(key, rsa.RSAPublicKey):
            key.verify(token.signature, token.signing_input, padding.PKCS1v15(), digest())
            return
        if alg.startswith("ES") and digest and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(token.signature) // 2  # JWS: r and s, each as long as the curve's order
            r, s = (int.from_bytes(token.signature[:half], "big"),
                    int.from_bytes(token.signature[half:], "big"))
            key.verify(encode_dss_signature(r, s), token.signing_input, ec.ECDSA(digest()))
            return
    except InvalidSignature:
        raise JwtRejected("signature is invalid") from None
    raise JwtRejected(f"the token's alg {alg!r} does not fit its key")


def check_claims(claims: Mapping[str, Any], *, issuer: str, audience: Sequence[str],
                 now: float) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        raise JwtRejected("the token has no exp claim")
    if exp <= now:
        raise JwtRejected("the token has expired")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and nbf > now:
        raise JwtRejected("the token is not valid yet")
    if claims.get("iss") != issuer:
        raise JwtRejected("the token's issuer is not the authorizer's")
    aud = claims.get("aud", claims.get("client_id"))
    auds = aud if isinstance(aud, list) else [aud]
    if not any(a in audience for a in auds if isinstance(a, str)):
        raise JwtRejected("the token's audience is not the authorizer's")


def scopes_of(claims: Mapping[str, Any]) -> list[str] | None:
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return None


def check_scopes(claims: Mapping[str, Any], wanted: Sequence[str]) -> None:
    if wanted and not set(wanted) & set(scopes_of(claims) or ()):
        raise JwtRejected("the token does not have the required scope", scope=True)


def verify(token: str, keys: Mapping[str, PublicKey], *, issuer: str, audience: Sequence[str],
           scopes: Sequence[str], now: float) -> dict[str, Any]:
    """The claims of a token that passes every check; JwtRejected otherwise. `keys`: the
    issuer's keys by `kid`."""
    parsed = parse(token)
    kid = parsed.header.get("kid")
    key = keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise JwtRejected("the token's kid is not one of the issuer's keys")
    verify_signature(parsed, key)
    check_claims(parsed.claims, issuer=issuer, audience=audience, now=now)
    check_scopes(parsed.claims, scopes)
    return parsed.claims


def claims_context(claims: Mapping[str, Any]) -> dict[str, Any]:
    """`requestContext.authorizer.jwt` as HTTP APIs give it: every claim as text (a list as
    `[a b]`), and the token's scopes."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, list):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, dict):
            out[name] = json.dumps(value, separators=(",", ":"))
        elif isinstance(value, float) and value.is_integer():
            out[name] = str(int(value))
        else:
            out[name] = str(value)
    return {"claims": out, "scopes": scopes_of(claims)}
