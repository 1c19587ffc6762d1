"""X-Ray trace ids, as API Gateway and Lambda hand them on (pure).

Every request through the gateway, and every other invocation, gets a trace: the gateway keeps
the `Root` of a valid incoming `X-Amzn-Trace-Id` header (API Gateway continues the caller's
trace) or starts one; the function sees it in its event's `x-amzn-trace-id` header and, per
invocation, in `_X_AMZN_TRACE_ID` (`Root=...;Parent=...;Sampled=...`), which boto3 sends on
with each call it makes. The local cloud records no X-Ray segments: the ids only tie a
request's logs, its invocation and its AWS calls together.
"""

from __future__ import annotations

import re
import time
from random import getrandbits

_ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


_epoch: tuple[int, str] = (-1, "")


def new_root(now: float | None = None) -> str:
    """`1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}`: X-Ray's trace id format."""
    return new_trace(now)[0]


def new_trace(now: float | None = None) -> tuple[str, str]:
    """A new trace: (its Root, the first invocation's `_X_AMZN_TRACE_ID`). Made for every
    request that brings none, so it is cheap: one draw of random bits, the time's hex cached
    per second."""
    global _epoch
    seconds = int(time.time() if now is None else now)
    if _epoch[0] != seconds:
        _epoch = (seconds, f"{seconds & 0xFFFFFFFF:08x}")
    bits = getrandbits(160).to_bytes(20, "big").hex()
    root = f"1-{_epoch[1]}-{bits[:24]}"
    return root, f"Root={root};Parent={bits[24:]};Sampled=0"


def incoming_root(header: str | None) -> tuple[str, bool] | None:
    """(Root, sampled) of an `X-Amzn-Trace-Id` header (`Root=1-...;Parent=...;Sampled=1`),
    or None when it has no valid Root (a new trace is started instead)."""
    if not header:
        return None
    root, sampled = None, False
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == "Root" and _ROOT.fullmatch(value):
            root = value
        elif key == "Sampled":
            sampled = value == "1"
    return None if root is None else (root, sampled)


def lambda_trace(root: str, sampled: bool = False) -> str:
    """`_X_AMZN_TRACE_ID` of one invocation: the trace's root, a new parent segment id."""
    parent = getrandbits(64).to_bytes(8, "big").hex()
    return f"Root={root};Parent={parent};Sampled={1 if sampled else 0}"


def root_of(trace: str) -> str:
    """The Root of an `_X_AMZN_TRACE_ID` value (or the value itself when it is a bare root)."""
    if trace.startswith("Root="):
        return trace[5:].split(";", 1)[0]
    return trace
