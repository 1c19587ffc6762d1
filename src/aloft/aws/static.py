"""`static:` on AWS: the files to upload (with the hashes S3 reports back as ETags) and the
bucket policy that lets only the stage's API read them.

The bucket is never listable and grants one thing: `s3:GetObject` to requests carrying the
stage's secret `Referer`, which the API's HTTP_PROXY integration sets on every request it
forwards (clients cannot reach the bucket with it, as they never see it). docs/aws.md says why
this rather than a website endpoint or an open `GetObject` policy.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path
from typing import Any

from aloft.aws import specs as s

REFERER_REF = "static-referer"
"""The `refs` key of the secret Referer (read back from the bucket policy)."""
_SID = "AloftStaticReadThroughApi"


def content_type(name: str) -> str:
    """The Content-Type the local gateway gives the same file (text types in UTF-8)."""
    kind, _ = mimetypes.guess_type(name)
    kind = kind or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return kind


def scan(directory: Path) -> tuple[s.StaticFile, ...]:
    """Every regular file below `directory` (symlinks to files included, as the local gateway
    serves them), sorted by key; empty when the directory does not exist."""
    if not directory.is_dir():
        return ()
    root = directory.resolve()
    out = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        key = path.relative_to(root).as_posix()
        out.append(s.StaticFile(key, str(path), hashlib.md5(data, usedforsecurity=False)
                                .hexdigest(), len(data), content_type(key)))
    return tuple(out)


def bucket_policy(bucket: str, partition: str, referer: str,
                  distribution_arn: str | None = None) -> str:
    """Reads with the secret Referer (the API's), and by the stage's CloudFront distribution
    (`cdn: true`, through its origin access control)."""
    statements: list[dict[str, Any]] = [{
        "Sid": _SID, "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:{partition}:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"aws:Referer": referer}},
    }]
    if distribution_arn:
        statements.append({
            "Sid": "AloftStaticReadThroughCdn", "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
            "Resource": f"arn:{partition}:s3:::{bucket}/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def referer_of(policy: str) -> str | None:
    """The secret Referer of a policy `bucket_policy` wrote; None for any other policy."""
    try:
        doc = json.loads(policy)
    except ValueError:
        return None
    for statement in doc.get("Statement", ()):
        if isinstance(statement, dict) and statement.get("Sid") == _SID:
            value = statement.get("Condition", {}).get("StringEquals", {}).get("aws:Referer")
            return value if isinstance(value, str) else None
    return None
