"""The frames the instance pool exchanges with instances and templates.

Standard library only: `instance_main.py` loads this file by path inside instances, where the
`aloft` package on sys.path is the artifact's copy (the runtime), not aloft.local.

Every frame is `!IB` (payload length, kind) followed by the payload. Instances speak it over a
stream socketpair; templates over a SOCK_SEQPACKET socketpair (one frame per packet), where FORK
carries the new instance's socket and log pipe as SCM_RIGHTS file descriptors.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct("!IB")  # payload length, kind
PRIME_ENV = "ALOFT_PRIME_PATH"  # the path a template primes its app with (its health path)
SNAP_START_ENV = "ALOFT_SNAP_START"  # "1": the function declared SnapStart (a template then cuts
# the connections its init left, as SnapStart does, rather than declining: see DECLINED)
SANDBOX_ENV = "ALOFT_SANDBOX_SPEC"  # the isolation spec (JSON, isolation.py) a process narrows
# itself with: in its environment, which only it can read, not in its argv, which `ps` shows to
# every process on the machine, functions included (taken out before any of the function's code)
SPIN_ENV = "ALOFT_SPIN_US"  # waiting awake (instances/awake.py): how the pool tells an instance
DEFAULT_SPIN_US = 300.0

# pool -> instance
INVOKE = 1  # INVOKE_HEAD + request id + trace + event JSON; answered with RESULT_OK/ERROR/OOM
INVOKE_HTTP2 = 2  # INVOKE_HEAD + request id + trace + an HTTP request packed by event_builders (the
INVOKE_HTTP1 = 3  # instance builds the event); the result is answered as RESULT_HTTP (or
# RESULT_MALFORMED), read as an HTTP API 2.0 / REST 1.0 integration would
INVOKE_CONTEXT = 4  # INVOKE_HEAD + request id + trace + CONTEXT_LENGTH + ClientContext JSON + event
# timeout in seconds, request id length, trace length (the invocation's _X_AMZN_TRACE_ID, ASCII)
INVOKE_HEAD = struct.Struct("!dHH")
CONTEXT_LENGTH = struct.Struct("!I")
CLAIM = 5  # the first frame an instance gets (no payload), with two fds attached (SCM_RIGHTS):
# the claim pipe's read end, which decides who has a request sent ahead (AHEAD), and a second
# output pipe's write end: a request sent ahead writes its output to the pipe the request
# before it did not, so that the pool tells their output apart without a mark between them
AHEAD = 0x40
"""OR'ed into an INVOKE kind: a request sent ahead, while the instance is still busy with the one
before it (a pipeline: the instance goes on to it without sleeping in between). It is still the
pool's to take back (throttled after its wait, called off, the request before it failed): the
pool writes one byte into the claim pipe as it sends it, and whoever reads that byte first has
it: the instance before it runs the request, or the pool taking it back. An instance that finds
no byte answers SKIPPED and does not run it."""
DOZE = 0x20
"""OR'ed into an INVOKE kind: after this request, sleep until the next one rather than wait for it
awake (instance_main.SPIN). The pool sets it on queued requests while its event loop's thread
is saturated (awake.Spinner.doze): then the loop bounds the throughput, requests come at its
pace, and an instance polling for its next one only takes CPU the loop wants."""
SKIPPED = 9  # instance -> pool: a request sent ahead was taken back before it started

# instance or template -> pool
READY = 10  # READY_BODY
INIT_DONE = "\x00aloft: init done\x00"
"""An instance's last line of init output (written to its log pipe before READY): what comes
after it in the pipe is its requests' output."""
READY_BODY = struct.Struct("!id")  # pid, init milliseconds
INIT_ERROR = 11  # pid (!i) + Lambda error object JSON
RESULT_OK = 12  # RESULT_HEAD + the handler's JSON result
RESULT_ERROR = 13  # RESULT_HEAD + Lambda error object JSON
RESULT_OOM = 14  # RESULT_HEAD + error JSON; the instance exits after sending it
RESULT_HTTP = 15  # RESULT_HEAD + HTTP_HEAD + headers (HTTP_HEADER + name + value) + body
RESULT_MALFORMED = 16  # RESULT_HEAD + why the result is not a proxy response (UTF-8)
RESULT_HTTP_LINES = 17  # RESULT_HEAD + LINES_HEAD + header lines as the gateway writes them
# (`name: value\r\n`, lower-case names, latin-1, checked, no hop-by-hop header) + body: what
# `http_lines` makes of a response, when it can
RESULT_HEAD = struct.Struct("!dI")  # handler duration in ms, max RSS in KiB
LINES_HEAD = struct.Struct("!HI")  # status, length of the header lines
HTTP_HEAD = struct.Struct("!HH")  # status, header count
HTTP_HEADER = struct.Struct("!HI")  # name length, value length (latin-1)

# pool <-> template
FORK = 20  # FORK_BODY + the instance's log stream name (UTF-8), with two fds attached: the
# instance's socket and its log pipe
FORK_BODY = struct.Struct("!I")  # token
FORKED = 21  # FORKED_BODY
FORKED_BODY = struct.Struct("!Ii")  # token, pid
EXITED = 22  # EXITED_BODY: a child of the template (or of the zygote) ended
EXITED_BODY = struct.Struct("!ii")  # pid, wait status
PID = struct.Struct("!i")
MODULES = 23  # template -> pool, after READY (or before DECLINED): JSON list of the modules a
# zygote may preload
DECLINED = 26  # template -> pool, instead of READY: JSON list of the connections (HOST:PORT)
# its init left open, which forked instances would share: each of the version's instances runs init
# (forked from its layer's zygote: FORK_INSTANCE; or a fresh process). A zygote whose imports left
# a connection says so instead of READY, and exits: that layer's templates start fresh

# pool <-> zygote (a process that has imported a dependency layer's modules and forks the
# templates of new versions that use that layer: only their own code is imported afresh)
FORK_TEMPLATE = 24  # FORK_BODY + JSON {"env", "cwd", "path", "memory"}; fds: template's socket
# and log pipe; answered with FORKED (token, pid)
REFILL = 25  # pool -> zygote: fork the next spare (the last one's template answered a request)
FORK_INSTANCE = 27  # as FORK_TEMPLATE, for a version whose template DECLINED: the child initialises
# the version and serves as an instance (fds: the instance's stream socket and log pipe); the
# zygote answers FORKED, and EXITED (EXITED_BODY) when that child ends
MAX_PACKET = 65536  # the largest packet the pool reads from a template or zygote


def frame(kind: int, payload: bytes = b"") -> bytes:
    return HEADER.pack(len(payload), kind) + payload


_INVOKE_PREFIX = struct.Struct("!IBdHH")  # HEADER + INVOKE_HEAD in one pack


def invoke_frame(request_id: str, timeout: float, event: bytes, kind: int = INVOKE,
                 trace: str = "") -> bytes:
    rid, tid = request_id.encode(), trace.encode()
    size = INVOKE_HEAD.size + len(rid) + len(tid) + len(event)
    return _INVOKE_PREFIX.pack(size, kind, timeout, len(rid), len(tid)) + rid + tid + event


def with_client_context(client_context: bytes, event: bytes) -> bytes:
    """An INVOKE_CONTEXT frame's event part: the Invoke API's ClientContext, then the event."""
    return CONTEXT_LENGTH.pack(len(client_context)) + client_context + event


def split_client_context(data: bytes) -> tuple[bytes, bytes]:
    """(ClientContext JSON, event JSON) of an INVOKE_CONTEXT frame's event part."""
    (size,) = CONTEXT_LENGTH.unpack_from(data)
    start = CONTEXT_LENGTH.size
    return data[start : start + size], data[start + size :]


def pack_http(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """The HTTP part of a RESULT_HTTP frame."""
    parts = [HTTP_HEAD.pack(status, len(headers))]
    for name, value in headers:
        key, val = name.encode("latin-1", "replace"), value.encode("latin-1", "replace")
        parts += (HTTP_HEADER.pack(len(key), len(val)), key, val)
    parts.append(body)
    return b"".join(parts)


_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def http_lines(status: int, headers: list[tuple[str, str]], body: bytes) -> bytes | None:
    """The HTTP part of a RESULT_HTTP_LINES frame; None when the headers need the gateway's
    reading (a hop-by-hop one other than a Content-Length of the body's own length, a CR or LF
    inside one, a character latin-1 lacks): then a RESULT_HTTP frame (`pack_http`) says it."""
    lines = []
    for name, value in headers:
        key = name.lower()
        if key in _HOP_BY_HOP:
            if key == "content-length" and value == str(len(body)):
                continue  # the gateway's own says the same
            return None
        lines.append(f"{key}: {value}\r\n")
    text = "".join(lines)
    if text.count("\n") != len(lines) or text.count("\r") != len(lines):
        return None
    try:
        block = text.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return LINES_HEAD.pack(status, len(block)) + block + body


def unpack_http(data: bytes, offset: int) -> tuple[int, list[tuple[str, str]], bytes]:
    status, count = HTTP_HEAD.unpack_from(data, offset)
    offset += HTTP_HEAD.size
    headers = []
    for _ in range(count):
        key_len, val_len = HTTP_HEADER.unpack_from(data, offset)
        offset += HTTP_HEADER.size
        end = offset + key_len
        headers.append(
            (data[offset:end].decode("latin-1"), data[end : end + val_len].decode("latin-1"))
        )
        offset = end + val_len
    return status, headers, data[offset:]
