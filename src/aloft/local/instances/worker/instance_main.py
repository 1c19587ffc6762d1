"""The program an instance (or a template) runs: `python -S instance_main.py MODE FD MEMORY_MB`.

Standard library only, and it never imports aloft.local: on sys.path the instance sees only its
artifact (the code dir, holding aloft/runtime, and the dependency layer), like a Lambda function.

MODE `instance`: initialise the handler, send READY (or INIT_ERROR), then serve INVOKE frames on
the stream socket FD, one at a time. MODE `template`: initialise the handler, freeze the heap
(`gc.freeze()`), send READY on the SOCK_SEQPACKET socket FD, then fork a new instance for every
FORK frame (which carries the new instance's socket and log pipe) and report children's exits.
MODE `zygote` (FD, then a JSON list of module names): import those modules of a dependency
layer, then fork a template for every FORK_TEMPLATE frame (an instance for every FORK_INSTANCE
frame, for a version whose template declined) and report their exits; the child imports only
its own version's code (see `_run_zygote`).
stdout and stderr are the pool's log pipe; the pool frames them with START/END/REPORT lines.
The argument after MEMORY_MB is the isolation spec (JSON, or `-` for none): a template, zygote
or instance narrows its view of the machine with it before any code of the function runs
(sandbox.py); an instance forked from a template gets its own /tmp, then no capability.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.machinery
import importlib.util
import json
import os
import resource
import select
import selectors
import signal
import socket
import sys
import sysconfig
import time
import traceback
from array import array
from collections.abc import Callable
from typing import Any, NoReturn

# What -P does on 3.11+ (and 3.9 lacks): this script's directory is not on sys.path, so that its
# siblings (protocol.py, ...) never shadow the function's own modules.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]


def _sibling(name: str) -> Any:
    """A standard-library-only sibling in this directory, loaded by path (see the docstring)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_aloft_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


P = _sibling("protocol")
R = _sibling("proxy_response")
E = _sibling("event_builders")
T = _sibling("trace_env")
C = _sibling("connections")  # what a template closes before it forks (loaded once: a zygote's
# templates find it ready)

Handler = Callable[[Any, Any], Any]
_serves_http = False  # the function is a WSGI/ASGI app (set by _initialise)
# The app's HTTP API requests: a handler answering them with the HTTP response API Gateway
# makes of its result (an instance of _raw_response), and that type; None with an artifact whose
# runtime predates them (set by _initialise).
_http_handler: Handler | None = None
_raw_response: Any = None
PRIME_AGENT = "aloft-snapshot-prime"
_prime_path = "/"  # what the template primes with: the app's health path (the pool's PRIME_ENV)
_snap_start = False  # the function declared SnapStart (the pool's SNAP_START_ENV)
ContextFactory = Callable[[str, float], Any]  # (request id, monotonic deadline) -> context
PR_SET_PDEATHSIG = 1
LAMBDA_FILES = 1024  # open files a Lambda function may have
SPIN = P.DEFAULT_SPIN_US * 1e-6
"""Seconds an instance that has answered waits for its next request awake (polling its socket,
yielding the CPU to whatever else is runnable) before it sleeps in `recv`, while requests come
back to back (the last one within BUSY of the answer before it). Waking a sleeping process is
what a request's hop to an instance costs most on a virtual machine: on bench/'s 2-vCPU one, a
round trip over a socket between two processes on two CPUs takes 30 µs of CPU (11 µs on one
CPU), and the app's caches go cold. Waiting awake there (the instances alone) made a plain
handler's one-connection p50 a third lower and flask 13-19 % faster under load
(docs/local-cloud.md, Figures). An instance whose requests are further apart than BUSY sleeps at
once: an idle or lightly used one spends nothing on it. The daemon's ALOFT_SPIN_US sets it in
microseconds (0: always sleep; aloft/local/instances/awake.py), passed on in the environment,
out of which `main` (or `_become_template`) takes it before any of the function's code runs."""
YIELDED = 20e-6
"""A `sched_yield` that took longer than this (seconds) let another process run on this CPU
(one with nothing else to run takes 1-3 µs). At the second such yield while it waits awake,
the instance sleeps: the CPU is wanted. Waiting awake pays where a CPU would idle; where other
processes want it (a machine under load), each yield is a context switch, and a plain
handler's instances made 3.4 of them per request (docs/local-cloud.md)."""
BUSY = 5e-3  # seconds from an answer to the next request within which requests are back to back
# (or within SPIN, when that is longer: a request caught by waiting awake came back to back)


_libc: Any = None
_from_zygote = False  # this template was forked from its layer's zygote
_sandbox: dict[str, Any] | None = None  # the isolation spec (main's argument), None: none
_S: Any = None  # sandbox.py, loaded once (forked children reuse it)


def _sandbox_module() -> Any:
    global _S
    if _S is None:
        _S = _sibling("sandbox")
    return _S


def _isolate(send: Callable[[bytes], Any], *, keep_privileges: bool) -> None:
    """Narrow this process's view (sandbox.narrow) before any code of the function runs; a
    failure is the init error (the process must not run with the daemon's view)."""
    if _sandbox is None:
        return
    try:
        S = _sandbox_module()
        S.narrow(_sandbox)
        if not keep_privileges:  # a template keeps them in its namespace: it mounts /tmps
            S.drop_privileges()
    except Exception as exc:
        _sandbox_failed(send, exc)


def _sandbox_failed(send: Callable[[bytes], Any], exc: BaseException) -> NoReturn:
    error = {"errorType": "Runtime.SandboxError", "requestId": "", "stackTrace": [],
             "errorMessage": f"cannot isolate the instance: {exc} (ALOFT_SANDBOX=0 on the "
                             "daemon runs instances without isolation)"}
    sys.stderr.write(f"[ERROR] Runtime.SandboxError: {error['errorMessage']}\n")
    sys.stderr.flush()
    with contextlib.suppress(OSError):
        send(P.frame(P.INIT_ERROR, P.PID.pack(os.getpid()) + json.dumps(error).encode()))
    os._exit(1)


def _unread(sock: socket.socket, wait: float = 2.0) -> None:
    """After an INIT_ERROR, read what the pool sends until it closes the socket (it does once it
    has the error), or `wait` seconds: exiting before the pool's request arrives, or with it
    unread, resets the connection, and the pool loses the error just sent (and sees a crash)."""
    sock.settimeout(wait)
    with contextlib.suppress(OSError):
        while sock.recv(1 << 16):
            pass


def _normal_scheduling() -> None:
    """Back to the normal CPU policy from the daemon's SCHED_BATCH (instances/cpu_policy.py),
    which every process it starts inherits: the function's code, and the templates and
    instances forked from this process, are scheduled as anywhere else."""
    policy = getattr(os, "SCHED_BATCH", None)  # (Linux only, as is the daemon's switch)
    with contextlib.suppress(OSError):
        if policy is not None and os.sched_getscheduler(0) == policy:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux), so that a killed
    platform never leaves instances behind. (A template's children inherit the loaded libc.)"""
    global _libc
    try:
        if _libc is None:
            import ctypes

            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the socket's EOF still stops us
        pass


def _limit_memory(memory_mb: int) -> None:
    """Cap the heap (RLIMIT_DATA counts private writable mappings: malloc arenas, pymalloc,
    mmap'd buffers) at the function's memory size. Past it, allocations raise MemoryError, which
    `_serve` turns into Lambda's Runtime.OutOfMemory; the pool's RSS watchdog covers the rest.
    Open files too: Lambda's 1,024 (the daemon raised its own limit for its connections)."""
    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):  # already lower: keep the stricter limit
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (LAMBDA_FILES, LAMBDA_FILES))


def _error(exc: BaseException, request_id: str, error_type: str | None = None,
           message: str | None = None, trace: bool = True) -> bytes:
    """Lambda's error object for an exception the handler raised (the traceback without this
    file's frames, as Lambda's runtime leaves out its bootstrap's), written to the log as
    Lambda's runtime writes it; returned JSON-encoded."""
    error = {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "requestId": request_id,
        "stackTrace": _stack(exc) if trace else [],
    }
    logs = _logs
    if logs is not None:
        text = logs.error_record(error)
    else:  # an artifact whose runtime predates aloft.runtime.lambda_logging
        text = f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
    sys.stdout.write(text)
    return json.dumps(error).encode()


def _stack(exc: BaseException) -> list[str]:
    """Lambda's stackTrace: frames as tuples (no 3.11 `^^^^` lines), this file's left out."""
    frames = [(f.filename, f.lineno or 0, f.name, f.line)
              for f in traceback.extract_tb(exc.__traceback__)]
    for i, frame in enumerate(frames):
        if frame[0] != __file__:
            return traceback.format_list(frames[i:])
    return traceback.format_list(frames)


_logs: Any = None  # aloft.runtime.lambda_logging, once the instance's logging is set up


def _setup_logging() -> None:
    """The root logger as Lambda's runtime leaves it, before any user code runs (an artifact
    built before aloft.runtime.lambda_logging existed keeps Python's defaults)."""
    global _logs
    try:
        from aloft.runtime import lambda_logging
    except ImportError:
        return
    lambda_logging.install()
    _logs = lambda_logging
    import logging

    logging.getLogger("botocore.configprovider").addFilter(_platform_endpoint_lines)


_FOUND_ENDPOINT = "Found endpoint for %s via: %s."


def _platform_endpoint_lines(record: Any) -> bool:
    """False for botocore's INFO record saying that a client took its endpoint from the
    variables the local cloud sets for every function (AWS_ENDPOINT_URL, and
    AWS_ENDPOINT_URL_LAMBDA for the lambda client): a function that logs at INFO, as AWS's
    examples set the root logger, would show a line per client that it never shows on AWS.
    An endpoint the function's own environment sets is still logged."""
    if record.msg != _FOUND_ENDPOINT or not isinstance(record.args, tuple) or \
            len(record.args) != 2:
        return True
    client, where = record.args
    return not (where == "environment_global" or
                (where == "environment_service" and client == "lambda"))


def _initialise() -> tuple[Handler, Any]:
    import aloft.runtime.handler as runtime

    global _serves_http, _http_handler, _raw_response
    instance = runtime.init()
    _serves_http = getattr(instance, "app", None) is not None
    _http_handler = getattr(instance, "handle_http", None)
    _raw_response = getattr(runtime, "HttpResponse", None)
    if _raw_response is None:
        _http_handler = None
    context_cls: Any = _Context  # an artifact without the context module: a minimal stand-in
    with contextlib.suppress(ImportError):
        from aloft.runtime.context import LambdaContext

        context_cls = LambdaContext
    return runtime.handler, context_cls


class _Context:
    def __init__(self, aws_request_id: str, deadline: float, **_static: Any) -> None:
        env = os.environ
        self.aws_request_id = aws_request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "aloft-local")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") or 128)
        self._deadline = deadline

    @classmethod
    def _from_environ(cls, *, request_id: str, deadline: float) -> _Context:
        return cls(request_id, deadline)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _set_client_context(context: Any, data: Any) -> None:
    """`context.client_context` (and `context.w3c()`) as Lambda's Python runtime makes them:
    `.client`, `.custom`, `.env` (an artifact whose runtime predates them gets less)."""
    if hasattr(context, "_set_client_context"):
        context._set_client_context(data)
        return
    try:
        from aloft.runtime.context import ClientContext
    except ImportError:
        import types

        context.client_context = types.SimpleNamespace(
            **{k: data.get(k) for k in ("client", "custom", "env")})
        return
    # a runtime from before `_set_client_context`, whose ClientContext had a public from_dict
    context.client_context = ClientContext.from_dict(data)  # type: ignore[attr-defined]


def _init_failed(exc: BaseException, during: str = "") -> bytes:
    """The INIT_ERROR body: this process's pid and Lambda's error object, which is also
    written to the log as Lambda writes it. `during`: what failed, before the message (a
    SnapStart runtime hook)."""
    message = f"{during}: {exc}" if during else str(exc)
    try:
        from aloft.runtime import faults  # the artifact's runtime words it as Lambda does
    except ImportError:  # an artifact built before aloft.runtime.faults existed
        error: dict[str, Any] = {
            "errorMessage": message, "errorType": f"Runtime.{type(exc).__name__}",
            "requestId": "",
            "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
        }
        log = f"[ERROR] {error['errorType']}: {message}\n"
    else:
        error = faults.init_error_object(exc)
        error["errorMessage"] = message if during else error["errorMessage"]
        log = faults.init_log_text(error)
    sys.stdout.flush()
    sys.stderr.write(log)
    sys.stderr.flush()
    pid: bytes = P.PID.pack(os.getpid())
    return pid + json.dumps(error).encode()


def _context_factory(context_cls: Any) -> ContextFactory:
    """Contexts for requests: what comes from the environment is read once per instance, not
    once per request (os.environ lookups are not free on the hot path)."""
    # `from_environ` in the runtime of artifacts built before it became private
    from_environ = getattr(context_cls, "_from_environ", None) or context_cls.from_environ
    base = from_environ(request_id="init", deadline=time.monotonic())
    static = {
        name: getattr(base, name)
        for name in (
            "function_name",
            "function_version",
            "invoked_function_arn",
            "memory_limit_in_mb",
            "log_group_name",
            "log_stream_name",
        )
        if hasattr(base, name)
    }
    try:
        context_cls(**static, aws_request_id="probe", deadline=time.monotonic())
    except TypeError:  # a context class with another constructor: the slow, general way
        return lambda rid, deadline: from_environ(request_id=rid, deadline=deadline)
    return lambda rid, deadline: context_cls(**static, aws_request_id=rid, deadline=deadline)


def _serve(sock: socket.socket, handler: Handler, new_context: ContextFactory) -> None:
    """Answer INVOKE frames until the pool closes the socket."""
    claim, outputs = _pipeline_fds(sock)
    output = 0  # which of `outputs` fd 1 and 2 are now
    rfile = sock.makefile("rb", buffering=65536)
    ahead, dozing, skipped, read, dup2 = P.AHEAD, P.DOZE, P.frame(P.SKIPPED), os.read, os.dup2
    header, invoke_head, result_head = P.HEADER, P.INVOKE_HEAD, P.RESULT_HEAD
    head_size, invoke_size = header.size, invoke_head.size
    ok, failed, http_ok, malformed = P.RESULT_OK, P.RESULT_ERROR, P.RESULT_HTTP, P.RESULT_MALFORMED
    http_versions = {P.INVOKE_HTTP2: "2.0", P.INVOKE_HTTP1: "1.0"}
    invoke, with_context, from_packed = P.INVOKE, P.INVOKE_CONTEXT, E.event_from_packed
    proxy_response, pack_http, not_proxy = R.proxy_response, P.pack_http, R.MalformedResponse
    http2, http_handler, raw_response = P.INVOKE_HTTP2, _http_handler, _raw_response
    http_lines, http_wire = P.http_lines, P.RESULT_HTTP_LINES
    checked_status: Any = getattr(R, "checked_status", None)
    if checked_status is None:
        http_handler = None
    out, err = sys.stdout, sys.stderr
    clock, monotonic, dumps, loads = time.perf_counter, time.monotonic, json.dumps, json.loads
    getrusage, rusage_self = resource.getrusage, resource.RUSAGE_SELF
    set_trace = T.trace_setter()
    set_request_id = _logs.set_request_id if _logs is not None else None
    ready, yield_cpu = _socket_poll(sock), getattr(os, "sched_yield", None)
    answered, gap = float("-inf"), float("inf")  # the last answer sent; how long the next took
    busy = max(BUSY, SPIN)
    doze = 0  # the pool asked for no waiting awake after the last request (P.DOZE)
    while True:
        if gap <= busy and SPIN and yield_cpu is not None and not doze:  # back to back: wait
            _wait_awake(ready, yield_cpu, clock, SPIN)  # awake (SPIN)
        head = rfile.read(head_size)
        if len(head) < head_size:
            os._exit(0)  # the pool closed our socket: stop without running atexit hooks twice
        gap = clock() - answered
        length, request_kind = header.unpack(head)
        doze = request_kind & dozing
        request_kind ^= doze
        body = rfile.read(length)
        if request_kind & ahead:  # sent ahead: run it only if the pool has not taken it back
            request_kind ^= ahead
            try:
                claimed = read(claim, 1)
            except BlockingIOError:
                claimed = b""
            if not claimed:
                sock.sendall(skipped)
                continue
            output ^= 1  # its output goes to the other pipe (the request before's was flushed)
            dup2(outputs[output], 1)
            dup2(outputs[output], 2)
        timeout, rid_len, trace_len = invoke_head.unpack_from(body)
        start = invoke_size + rid_len
        request_id = body[invoke_size:start].decode()
        if trace_len:  # Lambda sets the invocation's trace in the environment (boto3 reads it)
            set_trace(body[start : start + trace_len])
            start += trace_len
        started = clock()
        if set_request_id is not None:
            set_request_id(request_id)
        try:
            context = new_context(request_id, monotonic() + timeout)
            if request_kind == invoke:
                event = loads(body[start:])
            elif request_kind == with_context:  # the Invoke API's ClientContext came with it
                client, raw = P.split_client_context(body[start:])
                _set_client_context(context, loads(client))
                event = loads(raw)
            else:  # an HTTP request, packed by the gateway: the event is built here
                event = from_packed(body[start:], request_id)
            if request_kind == http2 and http_handler is not None:
                result = http_handler(event, context)
            else:
                result = handler(event, context)
            try:
                http = http_versions.get(request_kind)
                if http is None and type(result) is not raw_response:
                    payload = dumps(result).encode()
                    kind = ok
                else:  # an HTTP request: answer the response API Gateway would make of it
                    try:
                        if type(result) is raw_response:  # the app's, read so already
                            status, headers, data = (checked_status(result.status),
                                                     result.headers, result.body)
                        else:
                            status, headers, data = proxy_response(result, http)
                        lines = http_lines(status, headers, data)
                        if lines is not None:  # ready for the wire
                            payload, kind = lines, http_wire
                        else:
                            payload, kind = pack_http(status, headers, data), http_ok
                    except not_proxy as exc:
                        payload = str(exc).encode()
                        kind = malformed
            except (TypeError, ValueError) as exc:
                payload = _error(exc, request_id, "Runtime.MarshalError",
                                 f"Unable to marshal response: {exc}", trace=False)
                kind = failed
        except MemoryError:
            _out_of_memory(sock, request_id, clock() - started)
        except Exception as exc:
            payload = _error(exc, request_id)
            kind = failed
        duration = (clock() - started) * 1000.0
        out.flush()
        err.flush()
        maxrss = getrusage(rusage_self).ru_maxrss
        sock.sendall(
            header.pack(len(payload) + result_head.size, kind)
            + result_head.pack(duration, maxrss)
            + payload
        )
        answered = clock()


def _wait_awake(ready: Callable[[int], Any], yield_cpu: Callable[[], Any],
                clock: Callable[[], float], seconds: float) -> None:
    """Poll for the next request for up to `seconds`, yielding the CPU between polls; stop at
    the second yield that let another process run (took over YIELDED). The first is often the
    one that sends the request (the gateway, or the client, woken on this CPU); a second one
    means the CPU is wanted by more, and sleeping in `recv` gives it up."""
    now = clock()
    until = now + seconds
    switched = False
    while not ready(0) and now < until:
        yield_cpu()
        then, now = now, clock()
        if now - then > YIELDED:
            if switched:
                return
            switched = True


def _pipeline_fds(sock: socket.socket) -> tuple[int, tuple[int, int]]:
    """The claim pipe's read end and the two output pipes (the first one fd 1 and 2 write to
    now), from the pool's first frame (P.CLAIM)."""
    data, fds, _flags, _addr = socket.recv_fds(sock, P.HEADER.size, 2)
    if len(data) < P.HEADER.size:
        os._exit(0)  # the pool closed our socket
    length, kind = P.HEADER.unpack(data)
    if kind != P.CLAIM or length or len(fds) != 2:
        raise RuntimeError(f"the pool's first frame is not its pipeline's ({kind}, {fds})")
    for fd in fds:  # the platform's: not for what the function starts
        os.set_inheritable(fd, False)
    return fds[0], (os.dup(1), fds[1])


def _set_snap_start(flag: str | None) -> None:
    """Whether the function declared SnapStart, as the pool passed it (see P.SNAP_START_ENV)."""
    global _snap_start
    _snap_start = flag == "1"


def _set_prime_path(path: str | None) -> None:
    """The priming request's path as the pool passed it, out of the function's environment."""
    global _prime_path
    if path and path.startswith("/"):
        _prime_path = path


def _set_spin(micros: str | None) -> None:
    """SPIN as the pool passed it (the templates and instances forked inherit it)."""
    global SPIN
    if micros is not None:
        with contextlib.suppress(ValueError):
            SPIN = max(0.0, float(micros)) * 1e-6


def _socket_poll(sock: socket.socket) -> Callable[[int], list[tuple[int, int]]]:
    """`poll(timeout_ms)` of the socket's readability (non-empty: a request is waiting)."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return poller.poll


def _out_of_memory(sock: socket.socket, request_id: str, seconds: float) -> NoReturn:
    """The heap limit was hit: report Lambda's OutOfMemory shape, then exit like a killed
    runtime. The pool replaces this instance."""
    msg = f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"
    payload = json.dumps({"errorMessage": msg, "errorType": "Runtime.OutOfMemory"}).encode()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    body = P.RESULT_HEAD.pack(seconds * 1000.0, maxrss) + payload
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        sock.sendall(P.HEADER.pack(len(body), P.RESULT_OOM) + body)
    finally:
        os._exit(137)


def _init_done() -> None:
    """Mark the end of the init's output in the log pipe (the pool logs what comes before it
    as the init's, with no request id, as Lambda's INIT and RESTORE phases are logged)."""
    with contextlib.suppress(OSError, ValueError):  # the function closed them: no output
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, f"{P.INIT_DONE}\n".encode())


def _run_instance(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    _isolate(sock.sendall, keep_privileges=False)
    started = time.perf_counter()
    _setup_logging()
    try:
        handler, context_cls = _initialise()
    except BaseException as exc:
        sock.sendall(P.frame(P.INIT_ERROR, _init_failed(exc)))
        os._exit(1)
    init_ms = (time.perf_counter() - started) * 1000.0
    _init_done()
    sock.sendall(P.frame(P.READY, P.READY_BODY.pack(os.getpid(), init_ms)))
    _serve(sock, handler, _context_factory(context_cls))


def _run_template(fd: int) -> None:
    ctl = socket.socket(fileno=fd)
    _isolate(ctl.send, keep_privileges=True)
    started = time.perf_counter()
    before = C.open_fds()  # what is ours: the function's code has not run yet
    _setup_logging()
    try:
        handler, context_cls = _initialise()
    except BaseException as exc:
        ctl.send(P.frame(P.INIT_ERROR, _init_failed(exc)))
        os._exit(1)
    new_context = _context_factory(context_cls)
    _prime(handler, new_context)
    try:
        _snapshot_hooks(before_snapshot=True)
    except Exception as exc:  # as on Lambda, the version cannot be published
        ctl.send(P.frame(P.INIT_ERROR, _init_failed(exc, "a @register_before_snapshot hook "
                                                          "raised")))
        os._exit(1)
    left = C.shared(before)  # every instance would share them
    if left and not _snap_start:  # a fork would not be invisible: no snapshot, as on Lambda
        peers = ", ".join(left.values())
        sys.stderr.write(
            f"aloft: init or the priming request opened a connection ({peers}) that every "
            "instance forked from the template would share: each of this version's instances "
            "runs init instead, and opens its own, as on Lambda without SnapStart "
            "(docs/local-cloud.md: Snapshots and connections)\n")
        sys.stderr.flush()
        if not _from_zygote:  # its layer's zygote forks the version's instances instead
            with contextlib.suppress(OSError):
                ctl.send(P.frame(P.MODULES, _shareable_modules()))
        ctl.send(P.frame(P.DECLINED, json.dumps(list(left.values())).encode()))
        os._exit(0)
    for peer in C.cut(left):
        sys.stderr.write(
            f"aloft: closed the connection to {peer} that init or the priming request opened "
            "in the template: every instance forked from it would have shared it. Each "
            "instance opens its own, as after a SnapStart restore (docs/local-cloud.md: "
            "Snapshots and connections)\n")
    init_ms = (time.perf_counter() - started) * 1000.0
    # Everything imported so far is shared copy-on-write with the children: keep the collector
    # from touching (and so copying) those pages in every child.
    gc.collect()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    ctl.send(P.frame(P.READY, P.READY_BODY.pack(os.getpid(), init_ms)))
    if not _from_zygote:  # a zygote's template: its layer has one (and the list costs ms)
        with contextlib.suppress(OSError):
            ctl.send(P.frame(P.MODULES, _shareable_modules()))

    selector = _watch_children(ctl)
    children: set[int] = set()
    while True:
        for key, _ in selector.select():
            if key.fileobj is ctl:
                msg, fds = _receive(ctl, 256)
                if not msg:  # the pool closed us: stop with our children
                    for pid in children:
                        _kill(pid)
                    os._exit(0)
                (token,) = P.FORK_BODY.unpack_from(msg, P.HEADER.size)
                stream = msg[P.HEADER.size + P.FORK_BODY.size :].decode()
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    ctl.close()
                    _unwatch()
                    if stream:  # the instance's own log stream, not the template's
                        os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
                        new_context = _context_factory(context_cls)
                    _run_child(fds[0], fds[1], handler, new_context)
                children.add(pid)
                for child_fd in fds:
                    os.close(child_fd)
                ctl.send(P.frame(P.FORKED, P.FORKED_BODY.pack(token, pid)))
            else:
                _woken()
                _reap(ctl, children)


def _receive(ctl: socket.socket, size: int) -> tuple[bytes, list[int]]:
    """One packet of the pool's and the file descriptors with it; b"" once the pool has closed
    the socket (a reset too: the pool closes it with our EXITED packets unread when it stops a
    template whose instances just ended)."""
    try:
        msg, fds, _flags, _addr = socket.recv_fds(ctl, size, 2)
    except ConnectionResetError:
        return b"", []
    return msg, fds


def _shareable_modules() -> bytes:
    """The imported modules a zygote may import for the next version (JSON list, in import
    order): those of the standard library and of the dependency layer, and aloft's runtime
    (in the code dir: the zygote imports it from this template's and each template it forks
    checks that its own files are the same), never the function's own code nor anything else
    on sys.path."""
    code_dir = os.path.realpath(os.getcwd()) + os.sep
    roots = {os.path.realpath(p) + os.sep for p in os.environ.get("PYTHONPATH", "").split(
        os.pathsep) if p and os.path.realpath(p) + os.sep != code_dir}
    for key in ("stdlib", "platstdlib"):
        roots.add(os.path.realpath(sysconfig.get_paths()[key]) + os.sep)
    names: list[str] = []
    size = 0
    for name, module in list(sys.modules.items()):
        if name == "__main__" or name.startswith("_aloft_"):
            continue
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue  # built in (already there) or a namespace package (imported with its parts)
        path = os.path.realpath(file)
        if name.split(".")[0] == "aloft":  # aloft's runtime: the zygote compares the files
            if not path.startswith(code_dir):
                continue
        elif path.startswith(code_dir) or not any(path.startswith(r) for r in roots):
            continue
        size += len(name) + 4
        if size > P.MAX_PACKET - 1024:
            break
        names.append(name)
    return json.dumps(names).encode()


_runtime: dict[str, tuple[str, bytes]] = {}
"""aloft's runtime modules a zygote imported: name -> (file relative to the code dir, source)."""


def _preload_runtime(code_dir: str, names: list[str]) -> None:
    """Import aloft's runtime modules `names` from `code_dir` (the code of the template that
    started this zygote; only its `aloft` directory is visible here), remembering each file's
    source: a template forked later uses them if its own code dir holds the same files
    (`_adopt_runtime`). The code dir comes last on sys.path, and only for these imports; if
    anything else of it was imported, all of it is forgotten (no user code in a zygote)."""
    before = set(sys.modules)
    sys.path.append(code_dir)
    try:
        for name in names:
            importlib.import_module(name)
    except BaseException:  # an artifact's runtime that does not import alone: not preloaded
        pass
    finally:
        sys.path.remove(code_dir)
    root = os.path.join(os.path.realpath(code_dir), "")
    new = [name for name in sys.modules if name not in before]
    found: dict[str, tuple[str, bytes]] = {}
    for name in new:
        file = getattr(sys.modules[name], "__file__", None)
        path = os.path.realpath(file) if isinstance(file, str) else ""
        ours = name.split(".")[0] == "aloft"
        if not path.startswith(root):
            if ours:  # an aloft from elsewhere (the layer's?): not the template's runtime
                break
            continue  # the standard library's or the layer's
        if not ours or not path.endswith(".py"):
            break  # the function's own code: never in a zygote
        try:
            with open(path, "rb") as source:
                found[name] = (path[len(root):], source.read())
        except OSError:
            break
    else:
        _runtime.update(found)
        return
    for name in new:  # aloft's and the code dir's (the standard library's may stay)
        file = getattr(sys.modules[name], "__file__", None)
        if name.split(".")[0] == "aloft" or (
            isinstance(file, str) and os.path.realpath(file).startswith(root)
        ):
            del sys.modules[name]


def _adopt_runtime(code_dir: str) -> None:
    """A template forked from a zygote uses the zygote's aloft modules if its code dir holds
    the same files, each repointed to its file there (for the package's modules imported
    later, and for tracebacks' source lines); otherwise it forgets them and imports its own."""
    if not _runtime:
        return
    same = True
    for rel, source in _runtime.values():
        try:
            fd = os.open(os.path.join(code_dir, rel), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            same = False
        else:  # (a regular file: one read has it all, and one byte more says it is longer)
            try:
                same = os.read(fd, len(source) + 1) == source
            finally:
                os.close(fd)
        if not same:
            break
    for name, (rel, _) in _runtime.items():
        module = sys.modules.get(name)
        if module is None:
            continue
        if not same:
            del sys.modules[name]
            continue
        path = os.path.join(code_dir, rel)
        loader = importlib.machinery.SourceFileLoader(name, path)
        cached = importlib.util.cache_from_source(path)
        module.__file__, module.__loader__ = path, loader
        module.__dict__["__cached__"] = cached
        spec = module.__spec__
        if spec is not None:
            spec.origin, spec.loader, spec.cached = path, loader, cached
        if hasattr(module, "__path__"):
            module.__path__ = [os.path.dirname(path)]
            if spec is not None:
                spec.submodule_search_locations = module.__path__
    _runtime.clear()


def _run_zygote(fd: int, modules: list[str], runtime_from: str | None, spares: bool) -> None:
    """Import `modules` (what an earlier template of this layer had imported, failures
    ignored; aloft's runtime from `runtime_from`, that template's code dir), freeze the heap,
    send READY; then fork a template for each FORK_TEMPLATE frame, or an instance for each
    FORK_INSTANCE frame (or hand it to the spare forked ahead of need, with `spares`). The
    child takes on the new version's environment, directory and sys.path, then initialises
    like any template or fresh instance: only the version's own code (and what it imports
    beyond the preloaded set) is imported afresh. Nothing of the user's code is ever imported
    here."""
    ctl = socket.socket(fileno=fd)
    _isolate(ctl.send, keep_privileges=True)  # its templates narrow themselves further
    started = time.perf_counter()
    before = C.open_fds()
    ours = [name for name in modules if name.split(".")[0] == "aloft"]
    for name in modules:
        if name in ours:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # a module that needs the app: the template's job
            sys.modules.pop(name, None)
    if ours and runtime_from:
        _preload_runtime(runtime_from, ours)
    left = C.shared(before)
    if left:  # a module connected as it was imported: all we fork would share the socket
        ctl.send(P.frame(P.DECLINED, json.dumps(list(left.values())).encode()))
        os._exit(0)
    gc.collect()
    gc.freeze()
    init_ms = (time.perf_counter() - started) * 1000.0
    sys.stdout.flush()
    sys.stderr.flush()
    ctl.send(P.frame(P.READY, P.READY_BODY.pack(os.getpid(), init_ms)))
    selector = _watch_children(ctl)
    children: set[int] = set()  # reaped here, each end said to the pool (EXITED)
    spare = _fork_spare(ctl) if spares else None
    if spare is not None:
        children.add(spare[0])
    while True:
        for key, _ in selector.select():
            if key.fileobj is not ctl:
                _woken()
                _reap(ctl, children)
                continue
            msg, fds = _receive(ctl, P.MAX_PACKET)
            if not msg:
                os._exit(0)  # the pool closed us; our children die with us (PR_SET_PDEATHSIG)
            _, kind = P.HEADER.unpack_from(msg)
            if kind == P.REFILL:  # the template that took the spare has answered its request
                if spare is None and spares:
                    spare = _fork_spare(ctl)
                    if spare is not None:
                        children.add(spare[0])
                continue
            (token,) = P.FORK_BODY.unpack_from(msg, P.HEADER.size)
            pid = _hand_over(spare, msg, fds) if spare is not None else 0
            spare = None
            if not pid:
                spec = json.loads(msg[P.HEADER.size + P.FORK_BODY.size :])
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    ctl.close()
                    _become_template(fds[0], fds[1], spec, serve=kind == P.FORK_INSTANCE)
                children.add(pid)
            for child_fd in fds:
                os.close(child_fd)
            ctl.send(P.frame(P.FORKED, P.FORKED_BODY.pack(token, pid)))


_watch: tuple[selectors.BaseSelector, int, int] | None = None
"""A template's or zygote's selector and SIGCHLD wake-up pipe (read end, write end): its
children close them (`_unwatch`)."""


def _watch_children(ctl: socket.socket) -> selectors.BaseSelector:
    """A selector for a template's or zygote's control socket and for its children's ends
    (SIGCHLD, through a wake-up pipe): it reaps them, and tells the pool how each ended (an
    instance's exit status is Lambda's `Runtime exited with error: ...`)."""
    global _watch
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    selector = selectors.DefaultSelector()
    selector.register(ctl, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    _watch = (selector, wake_r, wake_w)
    return selector


def _unwatch() -> None:
    """In a forked child: its parent's selector and wake-up pipe closed, SIGCHLD as by
    default."""
    global _watch
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if _watch is not None:
        selector, wake_r, wake_w = _watch
        selector.close()
        os.close(wake_r)
        os.close(wake_w)
        _watch = None


def _woken() -> None:
    """Empty the wake-up pipe (its bytes only say that a signal came)."""
    assert _watch is not None
    try:
        while os.read(_watch[1], 512):
            pass
    except BlockingIOError:
        pass


Spare = tuple[int, socket.socket]
"""A zygote's child forked ahead of need (its pid, the zygote's end of its socket)."""


def _fork_spare(ctl: socket.socket) -> Spare | None:
    """Fork a child that waits for its first FORK_TEMPLATE (or FORK_INSTANCE) message: the
    next template (or instance) of the layer skips the zygote's fork (a few ms of page tables
    and scheduling) on its way. Named `aloft-spare` until then (a layer's process, not a
    function's)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        return None
    if pid == 0:
        ctl.close()
        ours.close()
        _name(b"aloft-spare")
        _prepare_template()
        msg, fds = _receive(theirs, P.MAX_PACKET)
        if not msg:
            os._exit(0)  # the zygote is gone
        theirs.close()
        _name(_comm)
        spec = json.loads(msg[P.HEADER.size + P.FORK_BODY.size :])
        _, kind = P.HEADER.unpack_from(msg)
        _become_template(fds[0], fds[1], spec, prepared=True, serve=kind == P.FORK_INSTANCE)
    theirs.close()
    return pid, ours


def _hand_over(spare: Spare, msg: bytes, fds: list[int]) -> int:
    """Pass a FORK_TEMPLATE message and its descriptors to the spare: its pid, or 0 if it is
    gone (the caller forks instead)."""
    pid, sock = spare
    try:
        sock.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array("i", fds))])
    except OSError:
        pid = 0
    sock.close()
    return pid


PR_SET_NAME = 15
_comm = b""  # this program's process name (/proc/PID/comm), as the zygote started


def _name(name: bytes) -> None:
    with contextlib.suppress(OSError, AttributeError):
        if _libc is not None and name:
            _libc.prctl(PR_SET_NAME, name[:15], 0, 0, 0)


def _prepare_template() -> None:
    """What a zygote's child does before it knows which template it becomes (a spare, while
    it waits): its own process group (as a spawned template has), death with the zygote, the
    import system's caches of the zygote's directories re-read."""
    _unwatch()  # the zygote's
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _die_with_parent()
    importlib.invalidate_caches()


def _become_template(
    sock_fd: int, log_fd: int, spec: dict[str, Any], *, prepared: bool = False,
    serve: bool = False,
) -> NoReturn:
    """A zygote's child takes on a version's environment, directory and sys.path, then
    initialises as its template; or, with `serve` (its template declined: P.FORK_INSTANCE), as
    one of its instances, which imports the version's code itself and serves on `sock_fd`."""
    global _from_zygote, _sandbox
    _from_zygote = True
    if not prepared:
        _prepare_template()
    sandbox = spec.get("sandbox")
    _sandbox = json.loads(sandbox) if sandbox else None  # _run_template narrows with it
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    env, environ = spec["env"], os.environ
    for key in [key for key in environ if key not in env]:  # the zygote's, not the version's
        del environ[key]
    for key, value in env.items():
        if environ.get(key) != value:
            environ[key] = value
    _set_spin(environ.pop(P.SPIN_ENV, None))
    _set_prime_path(environ.pop(P.PRIME_ENV, None))
    _set_snap_start(environ.pop(P.SNAP_START_ENV, None))
    os.chdir(spec["cwd"])
    sys.path[:0] = [p for p in spec["path"] if p not in sys.path]
    _adopt_runtime(spec["cwd"])
    _limit_memory(int(spec["memory"]))
    try:
        if serve:
            _run_instance(sock_fd)
        else:
            _run_template(sock_fd)
    finally:
        os._exit(1)


def _snapshot_hooks(*, before_snapshot: bool) -> None:
    """SnapStart's runtime hooks, as Lambda's runtime runs them: the callables the function's
    code registered with `snapshot_restore_py` (which Lambda's Python runtime provides, and the
    runtime layer here too). `before_snapshot`: in the template, after init and priming, before
    its first fork, in the reverse order of registration; else in each instance forked from it,
    before its first request, in the order of registration. Not imported: nothing registered."""
    hooks = sys.modules.get("snapshot_restore_py")
    if hooks is None:
        return
    if before_snapshot:
        before = hooks.get_before_snapshot()
        while before:
            func, args, kwargs = before.pop()
            func(*args, **kwargs)
    else:
        for func, args, kwargs in hooks.get_after_restore():
            func(*args, **kwargs)
    sys.stdout.flush()
    sys.stderr.flush()


def _prime(handler: Handler, new_context: ContextFactory) -> None:
    """Serve one GET of the app's health path (`/` unless the service sets `health_path`)
    through the app before the snapshot, so that what an app builds on its first request (URL
    maps, lazy imports, caches) is built once, in the template, instead of in every forked
    instance (SnapStart's "priming"). The health path, because the deploy calls it anyway and a
    user who keeps `/` from running at every deploy (a write, a mail) sets it to a harmless one.
    Plain handlers are not primed: only an HTTP app has a request that is safe to make up."""
    if not _serves_http:
        return
    # as the stage's own host serves it (`$default`)
    path, _, query = _prime_path.partition("?")
    now = time.time()
    headers = {"host": "127.0.0.1", "user-agent": PRIME_AGENT, "x-forwarded-proto": "http"}
    event = {
        "version": "2.0",
        "routeKey": "ANY /{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": PRIME_AGENT,
            },
            "requestId": "snapshot-prime",
            "routeKey": "ANY /{proxy+}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    context = new_context("snapshot-prime", time.monotonic() + 10)
    try:
        json.dumps(handler(event, context))
    except Exception as exc:  # the app's business: its first real request will tell
        sys.stderr.write(f"aloft: priming the snapshot with GET {path} failed: {exc!r}\n")


def _run_child(
    sock_fd: int, log_fd: int, handler: Handler, new_context: ContextFactory
) -> NoReturn:
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    _die_with_parent()
    sock = socket.socket(fileno=sock_fd)
    if _sandbox is not None:  # its own /tmp, no capability (as _isolate's, once per instance)
        try:
            S = _sandbox_module()
            if _sandbox.get("mode") != S.LANDLOCK:  # (no namespace: no /tmp of its own)
                S.fresh_tmp(_sandbox)
            S.drop_privileges()
            S.confine(keep=False)  # nested in its template's: no signal to it, nor to siblings
        except Exception as exc:
            _sandbox_failed(sock.sendall, exc)
    try:
        _snapshot_hooks(before_snapshot=False)
    except Exception as exc:  # Lambda's SnapStartException: the request fails, so does the next
        sock.sendall(P.frame(P.INIT_ERROR, _init_failed(exc, "a @register_after_restore hook "
                                                             "raised")))
        _unread(sock)
        os._exit(1)
    _init_done()  # the hooks' output is the restore's
    sock.sendall(P.frame(P.READY, P.READY_BODY.pack(os.getpid(), 0.0)))
    try:
        _serve(sock, handler, new_context)
    finally:
        os._exit(1)


def _reap(ctl: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        ctl.send(P.frame(P.EXITED, P.EXITED_BODY.pack(pid, status)))


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> None:
    global _sandbox, _comm
    mode, fd, memory_mb = argv[1], int(argv[2]), int(argv[3])
    spec = os.environ.pop(P.SANDBOX_ENV, None)  # (argv[4]: "-", the slot it had)
    _sandbox = json.loads(spec) if spec else None
    _set_spin(os.environ.pop(P.SPIN_ENV, None))
    _set_prime_path(os.environ.pop(P.PRIME_ENV, None))
    _set_snap_start(os.environ.pop(P.SNAP_START_ENV, None))
    _normal_scheduling()
    _die_with_parent()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if mode == "zygote":  # no memory limit of its own: each template sets its function's
        with contextlib.suppress(OSError), open("/proc/self/comm", "rb") as comm:
            _comm = comm.read().strip()
        _run_zygote(fd, json.loads(argv[5]), argv[6] if len(argv) > 6 else None,
                    len(argv) > 7 and argv[7] == "spare")
        return
    _limit_memory(memory_mb)
    if mode == "template":
        _run_template(fd)
    else:
        _run_instance(fd)


if __name__ == "__main__":
    main(sys.argv)
