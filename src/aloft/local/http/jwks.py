"""The issuers' signing keys (JWKS) for the local gateway's JWT authorizers.

API Gateway fetches `{issuer}/.well-known/openid-configuration` and its `jwks_uri`; the local
cloud has no network, so it reads an authorizer's `jwks`: a JSON file (re-read when it
changes) or a URL on this machine (http://127.0.0.1:PORT/...); without `jwks`, the issuer's
discovery document when the issuer itself is on this machine. Fetched keys are kept, and
fetched again when a token names a `kid` they lack (at most every REFETCH seconds). Reads run in
a worker thread: the gateway's loop never blocks on them.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aloft.local.http.jwt_check import PublicKey, public_key

LOOPBACK = ("127.0.0.1", "localhost", "::1")
REFETCH = 10.0  # seconds between fetches of one URL when a token names an unknown kid
TIMEOUT = 5.0


class KeysUnavailable(Exception):
    """The keys cannot be read: the reason, for the function's log."""


def keys_of(document: Any) -> dict[str, PublicKey]:
    """`{kid: key}` of a JWKS document (`{"keys": [...]}`); keys aloft cannot read are left out."""
    out: dict[str, PublicKey] = {}
    for jwk in (document.get("keys") if isinstance(document, dict) else None) or []:
        if isinstance(jwk, dict) and isinstance(jwk.get("kid"), str) \
                and jwk.get("use", "sig") == "sig":
            try:
                out[jwk["kid"]] = public_key(jwk)
            except ValueError:
                continue
    return out


def on_this_machine(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK


def _fetch_json(url: str) -> Any:
    if not on_this_machine(url):
        raise KeysUnavailable(f"{url} is not on this machine: the local cloud reads keys only "
                              "from a file or a loopback URL (set the authorizer's `jwks`)")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError) as exc:
        raise KeysUnavailable(f"reading {url} failed: {exc}") from None


def load(jwks: str | None, issuer: str) -> dict[str, PublicKey]:
    """The keys, read now (blocking: call it in a thread)."""
    if jwks is not None and "://" not in jwks:
        try:
            with open(jwks, encoding="utf-8") as fh:
                return keys_of(json.load(fh))
        except (OSError, ValueError) as exc:
            raise KeysUnavailable(f"reading the JWKS file {jwks} failed: {exc}") from None
    if jwks is not None:
        return keys_of(_fetch_json(jwks))
    discovery = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
    if not isinstance(uri, str):
        raise KeysUnavailable(f"{issuer}'s openid-configuration has no jwks_uri")
    return keys_of(_fetch_json(uri))


class KeyCache:
    """Each (jwks, issuer)'s keys, kept until a file changes or a token names a new kid."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._keys: dict[tuple[str | None, str], tuple[float, float, dict[str, PublicKey]]] = {}

    def _stamp(self, jwks: str | None) -> float:
        if jwks is not None and "://" not in jwks:
            try:
                return os.stat(jwks).st_mtime
            except OSError:
                return -1.0
        return 0.0

    async def keys(self, jwks: str | None, issuer: str, kid: str | None
                   ) -> Mapping[str, PublicKey]:
        """The keys; fetched again when `kid` is not among them (not more often than
        REFETCH) or the file changed. KeysUnavailable when they cannot be read."""
        slot = (jwks, issuer)
        cached = self._keys.get(slot)
        stamp = self._stamp(jwks)
        now = self._clock()
        if cached is not None:
            fetched, seen_stamp, keys = cached
            fresh = seen_stamp == stamp and (kid in keys or now - fetched < REFETCH)
            if fresh:
                return keys
        keys = await asyncio.to_thread(load, jwks, issuer)
        self._keys[slot] = (now, stamp, keys)
        return keys
