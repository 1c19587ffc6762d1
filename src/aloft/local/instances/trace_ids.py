"""X-Ray trace ids, as API Gateway and Lambda hand them on (pure).

Every request through the gateway, and every other invocation, gets a trace: the gateway keeps
the `Root` of a valid incoming `X-Amzn-Trace-Id` header (API Gateway continues the caller's
trace) or starts one; the function sees it in its event's `x-amzn-trace-id` header and, per
invocation, in `_X_AMZN_TRACE_ID` (`Root=...;Parent=...;Sampled=...`), which boto3 sends on
with each call it makes. The local cloud records no X-Ray segments: the ids only tie a
request's logs, its invocation and its AWS calls together.
"""

from __future__ import annotations

import random
import re
import time

_ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


def new_root(now: float | None = None) -> str:
    """`1-{epoch seconds, 8 hex}-{96 random bits, 24 hex}`: X-Ray's trace id format."""
    seconds = int(time.time() if now is None else now)
    return f"1-{seconds & 0xFFFFFFFF:08x}-{random.getrandbits(96):024x}"


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
    return f"Root={root};Parent={random.getrandbits(64):016x};Sampled={1 if sampled else 0}"


def root_of(trace: str) -> str:
    """The Root of an `_X_AMZN_TRACE_ID` value (or the value itself when it is a bare root)."""
    if trace.startswith("Root="):
        return trace[5:].split(";", 1)[0]
    return trace
