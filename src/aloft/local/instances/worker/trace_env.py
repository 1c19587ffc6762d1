"""How an instance puts each invocation's `_X_AMZN_TRACE_ID` in its environment, as Lambda's
runtime does (boto3 and the X-Ray SDK read it from `os.environ`; a child process inherits it),
without the leak of doing it with `os.environ[...] = ...` (standard library only: loaded by
instance_main as a sibling).

`os.environ`'s assignment calls glibc's `setenv`, which keeps every distinct string it was ever
given for the life of the process (so that what `getenv` returned stays valid): about 140 bytes
a request, since every request has a trace of its own. Under sustained load that took an
instance serving 6,000 requests/s up by 0.86 MB/s, to its function's memory size (the pool then
replaces it, failing the request it ran). Here the C environment points at one buffer of this
process (`putenv` takes the string itself, not a copy), rewritten in place for each invocation,
and `os.environ`'s mapping is given the same value without a `setenv`.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

NAME = "_X_AMZN_TRACE_ID"
ROOM = 256  # bytes of value the buffer holds; a longer trace is set the usual way


def trace_setter() -> Callable[[bytes], None]:
    """`set(value)`: `_X_AMZN_TRACE_ID` = value (ASCII bytes) in os.environ and in the C
    environment. Where os.environ has no mapping to write to or there is no putenv, the usual
    assignment."""
    environ = os.environ
    data = getattr(environ, "_data", None)
    key = getattr(environ, "encodekey", str)(NAME)
    try:
        putenv = ctypes.CDLL(None).putenv
    except (OSError, AttributeError):  # no C library to ask
        data = None
    if not isinstance(data, dict) or not isinstance(key, bytes):
        return lambda value: environ.__setitem__(NAME, value.decode())
    prefix = NAME.encode() + b"="
    buf = ctypes.create_string_buffer(prefix, len(prefix) + ROOM + 1)
    at, memmove = ctypes.addressof(buf) + len(prefix), ctypes.memmove
    last: list[bytes | None] = [None]  # the value set here last (None: not in the buffer)

    def set_trace(value: bytes) -> None:
        if len(value) > ROOM:
            environ[NAME] = value.decode()
            last[0] = None
            return
        memmove(at, value + b"\0", len(value) + 1)
        if last[0] is None or data.get(key) is not last[0]:
            # The first time, or the function's code set or removed it since (os.environ's
            # setenv or unsetenv took the buffer out of the C environment): put it back.
            putenv(buf)
        data[key] = last[0] = value

    return set_trace
