"""SigV4 signatures of function calls on the local AWS endpoint.

Each function version's secret access key is derived from its access key id and the home's
signing key (`function_secret`), so the endpoint can check that a call made with a function's
key was signed by that function, and a function cannot pass for another one by putting its key
id in a request. Only what the grant checks need is verified: header-signed requests (boto3's
way for SSM, Secrets Manager and KMS); the date is not checked against the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<scope>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)")


def signing_key(directory: Path) -> bytes:
    """The home's signing key (`aws/signing.key`, mode 0600), created on first use."""
    path = directory / "signing.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value.hex())
    os.replace(tmp, path)
    return value


def function_secret(key: bytes, access_key: str) -> str:
    """The secret access key that goes with a function version's access key id."""
    return hmac.new(key, access_key.encode(), hashlib.sha256).hexdigest()[:40]


def _environ_header(environ: dict[str, Any], name: str) -> str:
    if name in ("content-type", "content-length"):
        value = environ.get(name.upper().replace("-", "_"), "")
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    return " ".join(str(value).split())


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_by(environ: dict[str, Any], body: bytes, secret: str) -> bool:
    """Whether the request's SigV4 `Authorization` header was made with `secret`."""
    m = _AUTH.match(str(environ.get("HTTP_AUTHORIZATION", "")))
    if m is None:
        return False
    names = m.group("headers").split(";")
    canonical_headers = "".join(f"{n}:{_environ_header(environ, n)}\n" for n in names)
    query = sorted(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                               for k, v in query)
    payload = str(environ.get("HTTP_X_AMZ_CONTENT_SHA256") or hashlib.sha256(body).hexdigest())
    canonical = "\n".join([
        str(environ.get("REQUEST_METHOD", "GET")),
        quote(str(environ.get("PATH_INFO", "/")) or "/", safe="/~"),
        canonical_query, canonical_headers, m.group("headers"), payload])
    scope = m.group("scope")
    parts = scope.split("/")
    if len(parts) != 4:
        return False
    date, region, service, terminator = parts
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", _environ_header(environ, "x-amz-date"), scope,
        hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, terminator):
        k = _hmac(k, part)
    expected = hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, m.group("signature"))
