"""Signing keys, their JWKS and signed JWTs for the tests of JWT authorizers (made here with
`cryptography`, as an identity provider makes them)."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://issuer.example.org"
AUDIENCE = "client-1"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(value: int, size: int | None = None) -> str:
    length = size or max(1, (value.bit_length() + 7) // 8)
    return b64(value.to_bytes(length, "big"))


@dataclass
class SigningKey:
    kid: str
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def rsa(cls, kid: str = "rsa-1") -> SigningKey:
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def ec(cls, kid: str = "ec-1") -> SigningKey:
        return cls(kid, ec.generate_private_key(ec.SECP256R1()))

    @property
    def alg(self) -> str:
        return "RS256" if isinstance(self.key, rsa.RSAPrivateKey) else "ES256"

    def jwk(self) -> dict[str, Any]:
        if isinstance(self.key, rsa.RSAPrivateKey):
            n = self.key.public_key().public_numbers()
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": _uint(n.n), "e": _uint(n.e)}
        p = self.key.public_key().public_numbers()
        return {"kty": "EC", "kid": self.kid, "use": "sig", "crv": "P-256",
                "x": _uint(p.x, 32), "y": _uint(p.y, 32)}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        head = {"alg": self.alg, "typ": "JWT", "kid": self.kid, **header}
        signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(claims).encode())}"
        data = signing_input.encode()
        if isinstance(self.key, rsa.RSAPrivateKey):
            signature = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{b64(signature)}"


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk() for k in keys]}


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1234", "iat": now, "exp": now + 600,
            **extra}
