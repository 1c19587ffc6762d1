"""A function version's secret access key: derived when one of its processes starts, never
stored (state.db keeps the access key id only).

The secret is HMAC(the home's signing key, the access key id) (services/sigv4.py); the daemon
`configure`s the derivation once it has the key. An instance's environment then holds it, as a
Lambda instance's holds its role's session credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Derive = Callable[[str], "str | None"]  # access key id -> its secret, None: not a function key
_derive: Derive | None = None
SECRET = "AWS_SECRET_ACCESS_KEY"


def configure(derive: Derive | None) -> None:
    global _derive
    _derive = derive


def with_secret(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the secret of its function key (unless it holds a secret of its own)."""
    out = dict(env)
    key = out.get("AWS_ACCESS_KEY_ID")
    if _derive is not None and key and SECRET not in out:
        secret = _derive(key)
        if secret is not None:
            out[SECRET] = secret
    return out
