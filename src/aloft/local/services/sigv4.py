"""SigV4 signatures of function calls on the local AWS endpoint.

Each function version's secret access key is derived from its access key id and the home's
signing key (`function_secret`), so the endpoint can check that a call made with a function's
key was signed by that function, and a function cannot pass for another one by putting its key
id in a request. Only what the grant checks need is verified: header-signed requests (boto3's
way for every service) and presigned URLs (S3's `generate_presigned_url`, SigV4 or SigV2);
the date and a presigned URL's expiry are not checked against the clock.

`Authorization` and `header_signature_ok` check a header-signed HTTP request given as its parts
(Lambda's Invoke API on the daemon: aloft.local.control.invoke_auth), the date included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
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


def _canonical_path(environ: dict[str, Any], service: str) -> str:
    """S3 signs its path as sent (botocore does not normalise it): the raw request URI's;
    other services sign the quoted path."""
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if service == "s3" and raw.startswith("/"):
        return raw.split("?", 1)[0]
    return quote(str(environ.get("PATH_INFO", "/")) or "/", safe="/~")


def _signature(secret: str, scope: str, amz_date: str, canonical: str) -> str | None:
    parts = scope.split("/")
    if len(parts) != 4:
        return None
    date, region, service, terminator = parts
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, terminator):
        k = _hmac(k, part)
    return hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _presigned_v2(environ: dict[str, Any], params: dict[str, str], secret: str) -> bool:
    """An S3 URL presigned with signature version 2 (boto3's default for S3 in us-east-1):
    HMAC-SHA1 of the method, standard headers, expiry, x-amz-* headers and the resource."""
    from botocore.auth import HmacV1Auth  # type: ignore[import-untyped]

    sub = sorted((k, v) for k, v in parse_qsl(str(environ.get("QUERY_STRING", "")),
                                              keep_blank_values=True)
                 if k in HmacV1Auth.QSAOfInterest)
    resource = _canonical_path(environ, "s3")
    if sub:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in sub)
    custom = sorted((k[5:].lower().replace("_", "-"), " ".join(str(v).split()))
                    for k, v in environ.items() if k.startswith("HTTP_X_AMZ_"))
    text = "\n".join([str(environ.get("REQUEST_METHOD", "GET")).upper(),
                      _environ_header(environ, "content-md5"),
                      _environ_header(environ, "content-type"), params.get("Expires", ""),
                      *(f"{k}:{v}" for k, v in custom), resource])
    expected = base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest())
    return hmac.compare_digest(expected.decode(), params.get("Signature", ""))


def signed_by(environ: dict[str, Any], body: bytes, secret: str) -> bool:
    """Whether the request's SigV4 signature (its `Authorization` header, or the query of a
    presigned URL) was made with `secret`. `body` is read only without x-amz-content-sha256."""
    query = parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    m = _AUTH.match(str(environ.get("HTTP_AUTHORIZATION", "")))
    if m is None and any(k == "AWSAccessKeyId" for k, _ in query):
        return _presigned_v2(environ, dict(query), secret)
    if m is not None:
        scope, headers, given = m.group("scope"), m.group("headers"), m.group("signature")
        amz_date = _environ_header(environ, "x-amz-date")
        payload = str(environ.get("HTTP_X_AMZ_CONTENT_SHA256") or
                      hashlib.sha256(body).hexdigest())
    else:
        params = dict(query)
        credential = params.get("X-Amz-Credential", "")
        if params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "/" not in credential:
            return False
        scope, headers = credential.split("/", 1)[1], params.get("X-Amz-SignedHeaders", "host")
        given, amz_date = params.get("X-Amz-Signature", ""), params.get("X-Amz-Date", "")
        query = [(k, v) for k, v in query if k != "X-Amz-Signature"]
        payload = "UNSIGNED-PAYLOAD" if scope.split("/")[2:3] == ["s3"] else \
            hashlib.sha256(body).hexdigest()
    canonical_headers = "".join(f"{n}:{_environ_header(environ, n)}\n"
                                for n in headers.split(";"))
    canonical = "\n".join([
        str(environ.get("REQUEST_METHOD", "GET")),
        _canonical_path(environ, scope.split("/")[2] if scope.count("/") == 3 else ""),
        _canonical_query(query), canonical_headers, headers, payload])
    expected = _signature(secret, scope, amz_date, canonical)
    return expected is not None and hmac.compare_digest(expected, given)


@dataclass(frozen=True)
class Authorization:
    """What a SigV4 `Authorization` header says: who signed, for which scope, what."""

    access_key: str
    scope: str  # date/region/service/aws4_request
    signed_headers: str  # `host;x-amz-date;...`
    signature: str

    @classmethod
    def parse(cls, header: str) -> Authorization | None:
        m = _AUTH.match(header.strip())
        if m is None:
            return None
        return cls(m.group("key"), m.group("scope"), m.group("headers"), m.group("signature"))

    @property
    def service(self) -> str:
        parts = self.scope.split("/")
        return parts[2] if len(parts) == 4 else ""


def header_signature_ok(auth: Authorization, method: str, path: str, query: str,
                        headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Whether `auth` is the signature of this request with `secret`, as botocore (and
    aloft.runtime.sigv4) make it. `path` as sent (percent-encoded; botocore encodes it once
    more), `query` raw, `headers` by lower-case name, the payload hashed from `body`."""
    canonical_headers = "".join(
        f"{name}:{' '.join(headers.get(name, '').split())}\n"
        for name in auth.signed_headers.split(";"))
    canonical = "\n".join([
        method, quote(path or "/", safe="/~"),
        _canonical_query(parse_qsl(query, keep_blank_values=True)), canonical_headers,
        auth.signed_headers, hashlib.sha256(body).hexdigest()])
    expected = _signature(secret, auth.scope, headers.get("x-amz-date", ""), canonical)
    return expected is not None and hmac.compare_digest(expected, auth.signature)
