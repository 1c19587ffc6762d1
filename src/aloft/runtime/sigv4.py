"""AWS Signature Version 4 with hashlib and hmac: enough to call the Lambda Invoke API from
inside a function without shipping botocore (the runtime is standard library only)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None = None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    """The URL's query, already percent-encoded by whoever built the URL, sorted by name."""
    pairs = [part.partition("=")[::2] for part in query.split("&")] if query else []
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _host(url_netloc: str, scheme: str) -> str:
    default = ":443" if scheme == "https" else ":80"
    return url_netloc[: -len(default)] if url_netloc.endswith(default) else url_netloc


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date, X-Amz-Security-Token and Authorization, every header
    given being signed."""
    utc = timezone.utc  # noqa: UP017 (datetime.UTC is 3.11+; the runtime runs on 3.9+)
    when = (now or datetime.now(utc)).astimezone(utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    parts = urlsplit(url)
    signed: dict[str, str] = dict(headers)
    signed["Host"] = _host(parts.netloc, parts.scheme)
    signed["X-Amz-Date"] = amz_date
    if credentials.token:
        signed["X-Amz-Security-Token"] = credentials.token

    canonical = {k.lower(): " ".join(str(v).split()) for k, v in signed.items()}
    names = sorted(canonical)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method.upper(),
            quote(parts.path or "/", safe="/~"),
            _canonical_query(parts.query),
            "".join(f"{name}:{canonical[name]}\n" for name in names),
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + credentials.secret_key).encode("utf-8"), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    signed["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return signed
