"""Instance and template processes, seen from the pool: spawning, forking, framing, log pipes.

An `Instance` is one worker process serving one request at a time over a stream socketpair; a
`Template` is an initialised process that forks instances on request (SnapStart-like). Both are
thin: the scheduling decisions (limits, timeouts, reaping) live in pool.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from array import array
from collections.abc import Callable
from pathlib import Path

from aloft.local.instances import credentials, isolation
from aloft.local.instances.awake import spin_seconds
from aloft.local.instances.log_framing import log_stream_name
from aloft.local.instances.log_reader import LogReader
from aloft.local.instances.worker import protocol as P
from aloft.local.instances.zygote_view import ZygoteView
from aloft.local.types import FunctionVersion, LogSink


def _instance_main() -> Path:
    """The worker's script, found by the import system rather than beside this module's file:
    compiled (see aloft.local.compiled), this module is elsewhere."""
    spec = importlib.util.find_spec("aloft.local.instances.worker.instance_main")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin)


INSTANCE_MAIN = _instance_main()
LOST = -1  # pseudo frame kind: the instance's socket closed before it answered
HEAD = P.HEADER.size


def python_path(fv: FunctionVersion, *, code: bool = True) -> list[str]:
    """sys.path as Lambda orders it: the code (/var/task), the dependency layer (/opt/python),
    the runtime's boto3 (/var/runtime), so that a boto3 the function ships wins."""
    dirs = [fv.code_dir if code else None, fv.layer_dir, fv.runtime_dir]
    return [str(d) for d in dirs if d is not None]


PROVISIONED = "provisioned-concurrency"


def instance_env(fv: FunctionVersion, stream: str, initialization: str | None = None
                 ) -> dict[str, str]:
    """The environment of an instance: the function's own, exactly, with its secret access key
    (derived now: never stored), its artifact path and its own log stream. `initialization`:
    Lambda's AWS_LAMBDA_INITIALIZATION_TYPE when not the function's (PROVISIONED)."""
    env = credentials.with_secret(fv.environment)
    env["PYTHONPATH"] = os.pathsep.join(python_path(fv))
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = stream
    env[P.PRIME_ENV] = fv.prime_path
    env[P.SNAP_START_ENV] = "1" if fv.snap_start else "0"
    if fv.snap_start:  # Lambda's word for an environment of a SnapStart function
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"
    if initialization is not None:
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = initialization
    return with_spin(env)


def with_spin(env: dict[str, str]) -> dict[str, str]:
    """`env` and the daemon's SPIN in microseconds (awake.py), for instance_main, which takes
    it out of the environment before the function's code runs (see its SPIN)."""
    env[P.SPIN_ENV] = repr(spin_seconds() * 1e6)
    return env


def with_sandbox(env: dict[str, str], spec: str | None) -> dict[str, str]:
    """`env` and the isolation spec (P.SANDBOX_ENV), when there is one."""
    if spec is not None:
        env[P.SANDBOX_ENV] = spec
    return env


def spawn(fv: FunctionVersion, mode: str, child_fd: int, log_fd: int, stream: str,
          initialization: str | None = None) -> subprocess.Popen[bytes]:
    """Start `instance_main.py` with the version's interpreter and no site-packages (-S; the
    script's own directory leaves sys.path first thing, as -P would, which 3.9 lacks), told
    what to hide of the machine (isolation.py) and its log stream (and `instance_env`'s
    `initialization`)."""
    python = fv.python or sys.executable
    argv = [python, "-S", str(INSTANCE_MAIN), mode, str(child_fd), str(fv.memory), "-"]
    return subprocess.Popen(
        argv,
        env=with_sandbox(instance_env(fv, stream, initialization), isolation.current().spec(fv)),
        cwd=fv.code_dir,
        stdin=subprocess.DEVNULL,
        stdout=log_fd,
        stderr=log_fd,
        pass_fds=(child_fd,),
        process_group=0,  # a Ctrl-C at the platform's terminal is not the function's; the same
        # session as the platform, so the same scheduling autogroup: no CPU share of its own
    )


def exit_reason(returncode: int | None) -> str:
    """Lambda's (Go-style) words for how a runtime process ended."""
    if returncode is None:
        return "signal: killed"
    if returncode >= 0:
        return f"exit status {returncode}"
    names: dict[int, str] = {
        signal.SIGKILL: "killed",
        signal.SIGSEGV: "segmentation fault",
        signal.SIGABRT: "aborted",
        signal.SIGBUS: "bus error",
        signal.SIGTERM: "terminated",
        signal.SIGFPE: "floating point exception",
    }
    sig = -returncode
    name = names.get(sig) or (signal.strsignal(sig) or f"signal {sig}").lower()
    return f"signal: {name}"


def read_packets(
    sock: socket.socket, on_packet: Callable[[bytes], None], on_closed: Callable[[], None]
) -> None:
    """Read a template's or zygote's SOCK_SEQPACKET control socket until it would block: each
    packet to `on_packet`; its end (or an error) to `on_closed`."""
    while True:
        try:
            packet = sock.recv(P.MAX_PACKET)
        except BlockingIOError:
            return
        except ConnectionResetError:
            # It exited with packets of ours unread (a fork request sent with the template):
            # said once, before what it had sent, which is still to be read (its init error).
            continue
        except OSError:
            packet = b""
        if not packet:
            on_closed()
            return
        on_packet(packet)


class ProcessWatch:
    """Resolves `exited` with the return code when a child of ours ends (pidfd, no thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.exited: asyncio.Future[int | None] = loop.create_future()
        self._loop = loop
        self._pidfd = os.pidfd_open(proc.pid)
        loop.add_reader(self._pidfd, self._check)

    def _check(self) -> None:
        code = self.proc.poll()
        if code is not None:
            self._close()
            if not self.exited.done():
                self.exited.set_result(code)

    def _close(self) -> None:
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()


class _Connection(asyncio.Protocol):
    """The pool's end of an instance socket: splits the byte stream into frames."""

    def __init__(self, instance: Instance) -> None:
        self._instance = instance
        self._buf = bytearray()

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        if not buf and len(data) >= HEAD:  # the usual case: exactly one whole frame
            length, kind = P.HEADER.unpack_from(data)
            if len(data) == HEAD + length:
                self._instance.on_frame(kind, data[HEAD:])
                return
        buf += data
        while len(buf) >= HEAD:
            length, kind = P.HEADER.unpack_from(buf)
            end = HEAD + length
            if len(buf) < end:
                break
            payload = bytes(buf[HEAD:end])
            del buf[:end]
            self._instance.on_frame(kind, payload)

    def connection_lost(self, exc: Exception | None) -> None:
        self._instance.on_lost()


class Instance:
    """One worker process of one FunctionVersion, as the pool sees it."""

    def __init__(
        self,
        fv: FunctionVersion,
        log: LogReader,
        *,
        template: Template | None = None,
        watch: ProcessWatch | None = None,
    ) -> None:
        self.fv = fv
        self.log = log
        self.template = template
        self.watch = watch
        self.pid: int | None = watch.proc.pid if watch else None
        self.transport: asyncio.Transport | None = None
        self.started_at = time.perf_counter()
        self.init_ms: float | None = None  # spawn (or fork) until ready
        self.ready: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self.exited: asyncio.Future[int | None] = (
            watch.exited if watch else asyncio.get_running_loop().create_future()
        )
        self.requests = 0
        # Started ahead of any request and kept (Lambda's provisioned concurrency): not reaped
        # when idle, not evicted, and its first request is no cold start.
        self.provisioned = False
        self.last_used = time.monotonic()
        self.alive = True
        self.busy = False
        self.timed_out = False
        self.out_of_memory = False
        self.on_gone: Callable[[Instance], None] | None = None
        self.loop = asyncio.get_running_loop()
        # The request's timeout (the pool's): when it is due (time.monotonic), for how long it
        # was armed, and the timer that checks it, with the deadline it was armed for (an
        # earlier one, possibly: see InstancePool._arm)
        self.deadline = 0.0
        self.armed_for = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.timer_for = 0.0
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._kill_when_known = False
        # A pipeline (P.AHEAD): the request sent ahead's answer, once its turn comes; the pool's
        # callback as it comes (the instance has gone on to that request); the claim pipe.
        self._next: asyncio.Future[tuple[int, bytes]] | None = None
        self.on_turn: Callable[[Instance], None] | None = None
        self.turn = 0  # requests begun (or passed on to): the pool's Invocation holds its own
        self.skipping = False  # a request taken back is still in its socket (until SKIPPED)
        self.quick = False  # its last request took under AHEAD_WITHIN (the pool pipelines it)
        self._claim_r = self._claim_w = -1

    async def connect(self, sock: socket.socket) -> None:
        """Take `sock` as the instance's socket; its first frame gives the instance what a
        pipeline needs (P.CLAIM): the claim pipe's read end and a second output pipe."""
        claim_r, claim_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)  # (the two share the flag)
        log_r, log_w = os.pipe2(os.O_CLOEXEC)
        try:
            socket.send_fds(sock, [P.frame(P.CLAIM)], [claim_r, log_w])
        except OSError:
            for fd in (claim_r, claim_w, log_r):
                os.close(fd)
            raise
        finally:
            os.close(log_w)
        self._claim_r, self._claim_w = claim_r, claim_w  # both: we write it, and take it back
        self.log.add_pipe(log_r)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_unix_connection(lambda: _Connection(self), sock=sock)
        self.transport = transport

    @property
    def cold(self) -> bool:
        """Its next request is a cold start (reported with the init's duration)."""
        return not self.requests and not self.provisioned

    def set_pid(self, pid: int) -> None:
        if self.pid is None:
            self.pid = pid
            if self._kill_when_known:
                self.kill()

    def send(
        self, request_id: str, timeout: float, event: bytes, kind: int = P.INVOKE,
        trace: str = "",
    ) -> asyncio.Future[tuple[int, bytes]]:
        """Write one INVOKE frame; the future resolves with the answer's (kind, payload)."""
        waiter: asyncio.Future[tuple[int, bytes]] = self.loop.create_future()
        self._waiter = waiter
        if not self.alive or self.transport is None:
            waiter.set_result((LOST, b""))
            return waiter
        failed = self.ready.result() if self.ready.done() else None
        if failed is not None:  # its INIT_ERROR came before any request (a spare's): answer it
            waiter.set_result((P.INIT_ERROR, failed))
            return waiter
        self.transport.write(P.invoke_frame(request_id, timeout, event, kind, trace))
        return waiter

    def send_ahead(self, request_id: str, timeout: float, event: bytes, kind: int,
                   trace: str) -> bool:
        """Send a request while the instance is busy with another (P.AHEAD); `on_turn` is
        called when the instance goes on to it. False when it cannot be sent."""
        if self._waiter is None or not self.alive or self.transport is None or \
                self._next is not None or self.skipping or self.transport.is_closing():
            return False  # (no request in progress: it has answered, and is not yet idle)
        try:
            os.write(self._claim_w, b"\x01")  # first: the instance reads it before running it
        except OSError:
            return False
        self._next = self.loop.create_future()
        self.transport.write(P.invoke_frame(request_id, timeout, event, kind | P.AHEAD, trace))
        return True

    def take_back(self) -> bool:
        """Take back the request sent ahead, unless the instance has claimed it (False): then
        it runs, and `on_turn` comes with the answer before it (or the instance's end)."""
        if self._next is None:
            return True
        try:
            taken = bool(os.read(self._claim_r, 1))
        except BlockingIOError:
            taken = False
        except OSError:  # closed: the instance is gone, it never ran
            taken = True
        if taken:
            self._next = None
            self.skipping = self.alive
        return taken

    @property
    def answer(self) -> asyncio.Future[tuple[int, bytes]] | None:
        """The future of the request in progress' answer."""
        return self._waiter

    def go_on(self) -> None:
        """The request sent ahead is the one in progress now (its turn has come): its answer
        is the one awaited, and the pool is told (`on_turn`)."""
        self._waiter, self._next = self._next, None
        if self.on_turn is not None:
            self.on_turn(self)

    def on_frame(self, kind: int, payload: bytes) -> None:
        if kind >= P.RESULT_OK:  # the usual frame first
            waiter = self._waiter
            if self._next is not None and kind != P.RESULT_OOM:  # it goes on to the next
                self.go_on()
            elif waiter is not None:
                self._waiter = None
            if waiter is not None and not waiter.done():
                waiter.set_result((kind, payload))
            return
        if kind == P.SKIPPED:
            self.skipping = False
            return
        if kind == P.READY:
            pid, _ = P.READY_BODY.unpack_from(payload)
            self.set_pid(pid)
            self.init_ms = (time.perf_counter() - self.started_at) * 1000.0
            if not self.ready.done():
                self.ready.set_result(None)
            return
        if kind == P.INIT_ERROR:
            (pid,) = P.PID.unpack_from(payload)
            self.set_pid(pid)
            payload = payload[P.PID.size :]
            if not self.ready.done():
                self.ready.set_result(payload)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result((kind, payload))

    def on_lost(self) -> None:
        self.alive = False
        if not self.ready.done():
            self.ready.set_result(
                b'{"errorMessage": "Runtime exited during init", "errorType": "Runtime.ExitError"}'
            )
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            self._waiter = None
            waiter.set_result((LOST, b""))
        if self.on_gone is not None:
            self.on_gone(self)

    def set_exit(self, returncode: int | None) -> None:
        if not self.exited.done():
            self.exited.set_result(returncode)

    def stop(self) -> None:
        """Close the socket: the instance exits at its next read (it is idle, or finishing)."""
        if self.transport is not None:
            self.transport.close()
        else:
            self.kill()

    def kill(self) -> None:
        if self.pid is None:
            self._kill_when_known = True
        elif self.watch is not None:
            self.watch.kill()
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        if self.transport is not None:
            self.transport.close()

    def close_log(self) -> None:
        """Its output read and its pipes closed (it is gone or going)."""
        self.log.drain()
        self.log.close()
        if self._claim_w >= 0:
            os.close(self._claim_r)
            os.close(self._claim_w)
            self._claim_r = self._claim_w = -1


class Template:
    """An initialised process that forks instances of its version on request. It is spawned, or
    forked from a `Zygote` of its dependency layer (`zygote`), which saves it importing them."""

    def __init__(
        self,
        fv: FunctionVersion,
        sink: LogSink,
        on_child_gone: Callable[[Instance], None],
        *,
        zygote: Zygote | None = None,
        on_modules: Callable[[Template], None] | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.fv = fv
        self._sink = sink
        self._loop = loop
        self._on_child_gone = on_child_gone
        self._on_modules = on_modules
        self.zygote = zygote
        self.modules: list[str] = []  # what a zygote of its layer may preload (P.MODULES)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log_r, log_w = os.pipe()
        stream = log_stream_name(fv.version)  # its init's and snapshot priming's output
        try:
            self.watch: ProcessWatch | ForkedProcess
            if zygote is not None:
                self.watch = zygote.fork_template(fv, theirs.fileno(), log_w, stream)
            else:
                self.watch = ProcessWatch(loop, spawn(fv, "template", theirs.fileno(), log_w,
                                                      stream))
        except OSError:
            ours.close()
            os.close(log_r)
            raise
        finally:
            theirs.close()
            os.close(log_w)
        self.log = LogReader(loop, log_r, sink, fv, stream)
        ours.setblocking(False)
        self._ctl = ours
        self.started_at = time.perf_counter()
        self.init_ms: float | None = None
        self.ready: asyncio.Future[bytes | None] = loop.create_future()  # None or init error
        self.children: dict[int, Instance] = {}
        self._pending: dict[int, Instance] = {}
        self._token = 0
        self.last_used = time.monotonic()
        self.alive = True
        self.spare: Instance | None = None
        self._forking_spare: asyncio.Task[None] | None = None
        self.declined = False  # its init left connections: it will not fork (P.DECLINED)
        loop.add_reader(ours.fileno(), self._readable)

    def _readable(self) -> None:
        read_packets(self._ctl, self._on_packet, self._lost)

    def _on_packet(self, packet: bytes) -> None:
        _, kind = P.HEADER.unpack_from(packet)
        body = packet[HEAD:]
        if kind == P.READY:
            self.init_ms = (time.perf_counter() - self.started_at) * 1000.0
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == P.INIT_ERROR:
            if not self.ready.done():
                self.ready.set_result(body[P.PID.size :])
        elif kind == P.FORKED:
            token, pid = P.FORKED_BODY.unpack(body)
            child = self._pending.pop(token, None)
            if child is not None:
                self.children[pid] = child
                child.set_pid(pid)
        elif kind == P.EXITED:
            pid, status = P.EXITED_BODY.unpack(body)
            gone = self.children.pop(pid, None)
            if gone is not None:
                gone.set_exit(os.waitstatus_to_exitcode(status))
        elif kind == P.DECLINED:
            self.declined = True
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == P.MODULES:
            with contextlib.suppress(ValueError):
                self.modules = [m for m in json.loads(body) if isinstance(m, str)]
            if self._on_modules is not None and self.modules:
                self._on_modules(self)

    def _lost(self) -> None:
        if not self.alive:
            return
        self.alive = False
        self._loop.remove_reader(self._ctl.fileno())
        self._ctl.close()
        self.log.drain()
        self.log.close()
        if not self.ready.done():
            self.ready.set_result(
                b'{"errorMessage": "Runtime exited during init", "errorType": "Runtime.ExitError"}'
            )
        # Our children die with us (PR_SET_PDEATHSIG).
        for child in [*self.children.values(), *self._pending.values()]:
            child.set_exit(-signal.SIGKILL)
        self.children.clear()
        self._pending.clear()
        self.spare = None
        if self._forking_spare is not None:
            self._forking_spare.cancel()

    async def fork(self) -> Instance:
        """A new instance, forked from this template, with a log stream of its own. The caller
        may write its request at once: the socket buffers it until the child reads it."""
        ours, theirs = socket.socketpair()
        log_r, log_w = os.pipe()
        self._token = token = (self._token + 1) & 0xFFFFFFFF
        stream = log_stream_name(self.fv.version)
        try:
            fds = array("i", [theirs.fileno(), log_w])
            self._ctl.sendmsg(
                [P.frame(P.FORK, P.FORK_BODY.pack(token) + stream.encode())],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)],
            )
        finally:
            theirs.close()
            os.close(log_w)
        child = Instance(self.fv, LogReader(self._loop, log_r, self._sink, self.fv, stream,
                                            initialising=True), template=self)
        child.on_gone = self._on_child_gone
        self._pending[token] = child
        self.last_used = time.monotonic()
        await child.connect(ours)
        return child

    @property
    def busy(self) -> bool:
        """Whether instances forked from this template are alive (its spare aside)."""
        spare = 1 if self.spare is not None else 0
        return len(self.children) + len(self._pending) > spare

    def take_spare(self) -> Instance | None:
        """The child forked ahead of need, if it is alive: a cold start then costs the first
        request only, not the fork (a restored snapshot that waits, as SnapStart's do). The
        caller `refill`s once its request is done, so that the next fork does not compete with
        it for the CPU. The spare dies with the template."""
        spare, self.spare = self.spare, None
        return spare if spare is not None and spare.alive else None

    def refill(self) -> None:
        """Fork the next spare, unless one is there or on its way."""
        if self.alive and self.spare is None and self._forking_spare is None:
            self._forking_spare = self._loop.create_task(self._fork_spare())

    async def _fork_spare(self) -> None:
        try:
            spare = await self.fork()
            if self.alive:
                self.spare = spare
            else:
                spare.kill()
        except OSError:  # the template is going away: no spare
            pass
        finally:
            self._forking_spare = None

    def stop(self) -> None:
        """Close the control socket: the template kills its children (if any) and exits."""
        self._lost()

    def kill(self) -> None:
        self.watch.kill()
        self._lost()


class ForkedProcess:
    """A process forked by a zygote (not our child): killed by pid once the pid is known."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self._kill_when_known = False

    def set_pid(self, pid: int) -> None:
        self.pid = pid
        if self._kill_when_known:
            self.kill()

    def kill(self) -> None:
        if self.pid is None:
            self._kill_when_known = True
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def new_view(fv: FunctionVersion) -> ZygoteView | None:
    """A new zygote's view of the artifact store, holding `fv`'s code (the zygote imports aloft's
    runtime from it) and a place for its layer; None where zygotes keep the whole store (no
    namespaces: see isolation.Isolation.spec). Raises OSError when it cannot be made. (Linking
    a large code tree takes a while: the pool makes it in a worker thread.)"""
    current = isolation.current()
    if current.views is None or current.artifacts is None or fv.layer_dir is None:
        return None
    view = ZygoteView(Path(current.views), Path(current.artifacts))
    try:
        view.show(fv.code_dir)
        view.mount_point(fv.layer_dir)
    except OSError:
        view.remove()
        raise
    return view


class Zygote:
    """A process that has imported a dependency layer's modules (those an earlier template of
    the layer had imported: standard library and layer only) and forks templates of new
    versions using that layer, which then import only their own code: a code-only deploy, or
    a function's first request after it went idle, skips re-importing its dependencies. Runs
    with `environment`, what the functions and versions sharing it have alike (the pool keys
    zygotes by layer and that environment, so that nothing imported under another one is
    reused). Where instances are isolated in namespaces, it sees of the artifact store only its
    own view (zygote_view.py): its layer and the code of the versions it forks, which are
    linked in before it forks them."""

    def __init__(self, fv: FunctionVersion, layer_dir: Path, modules: list[str],
                 environment: dict[str, str], *, spare: bool = True,
                 on_declined: Callable[[list[str]], None] | None = None,
                 view: ZygoteView | bool | None = True) -> None:
        """`on_declined`: its imports left connections (their peers, HOST:PORT): it exits.
        `view`: its view of the artifact store (`new_view(fv)`, made beforehand), or True to
        make it here; it goes with the zygote."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.fv = fv  # (aloft's runtime comes from its code: see below)
        self.modules = modules
        self.layer_dir = layer_dir
        self.view = new_view(fv) if view is True else view or None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = with_spin(dict(environment))
        # the layers alone: no code dir, no user module
        env["PYTHONPATH"] = os.pathsep.join(python_path(fv, code=False))
        # aloft's runtime from `fv`'s code dir (the template that listed `modules`): of that
        # code, the zygote imports its aloft directory only
        runtime = (str(fv.code_dir / "aloft"),)
        with_sandbox(env, isolation.current().spec(fv, zygote=True, also=runtime,
                                                   view=self.view))
        argv = [fv.python or sys.executable, "-S", str(INSTANCE_MAIN), "zygote",
                str(theirs.fileno()), str(fv.memory), "-",
                json.dumps(modules), str(fv.code_dir), "spare" if spare else "-"]
        try:
            self.watch = ProcessWatch(loop, subprocess.Popen(
                argv, env=env, cwd=layer_dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), process_group=0,
            ))
        except OSError:
            ours.close()
            if self.view is not None:
                self.view.remove()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        self._ctl = ours
        self.ready: asyncio.Future[bool] = loop.create_future()
        self.alive = True
        self._token = 0
        self._forking: dict[int, ForkedProcess | Instance] = {}
        self.children: dict[int, Instance] = {}  # instances it forked (fork_instance), by pid
        self.declined = False  # its imports left a connection: it exited (P.DECLINED)
        self._on_declined = on_declined
        self._spares = spare  # whether it keeps a template forked ahead of need
        self._spare = spare  # it forks one once ready
        loop.add_reader(ours.fileno(), self._readable)

    def _readable(self) -> None:
        read_packets(self._ctl, self._on_packet, self.stop)

    def _on_packet(self, packet: bytes) -> None:
        _, kind = P.HEADER.unpack_from(packet)
        if kind == P.READY and not self.ready.done():
            self.ready.set_result(True)
        elif kind == P.DECLINED:
            self.declined = True
            if self._on_declined is not None:
                with contextlib.suppress(ValueError):
                    self._on_declined([str(p) for p in json.loads(packet[HEAD:])])
        elif kind == P.FORKED:
            token, pid = P.FORKED_BODY.unpack_from(packet, HEAD)
            forked = self._forking.pop(token, None)
            if forked is not None:
                forked.set_pid(pid)
                if isinstance(forked, Instance):
                    self.children[pid] = forked
        elif kind == P.EXITED:  # (of a template or spare too: not ours to wait for)
            pid, status = P.EXITED_BODY.unpack_from(packet, HEAD)
            child = self.children.pop(pid, None)
            if child is not None:
                child.set_exit(os.waitstatus_to_exitcode(status))

    def fork_template(self, fv: FunctionVersion, sock_fd: int, log_fd: int, stream: str
                      ) -> ForkedProcess:
        """Ask for a template of `fv` on `sock_fd` (SOCK_SEQPACKET) writing to `log_fd` (as
        log stream `stream`); its frames then come on that socket as a spawned template's do.
        Raises OSError when the zygote is gone."""
        forked = ForkedProcess()
        self._fork(P.FORK_TEMPLATE, fv, sock_fd, log_fd, stream, forked)
        return forked

    def fork_instance(self, fv: FunctionVersion, sock_fd: int, log_fd: int, stream: str,
                      instance: Instance, initialization: str | None = None) -> None:
        """Ask for `instance`, of a version whose template declined (its init leaves
        connections) or a provisioned one (`initialization`, as `instance_env` takes it), on
        `sock_fd` (a stream socket) writing to `log_fd`: it runs the version's init itself, as
        a fresh process would, without starting Python and importing the layer again. Its
        pid, and how it ends, come from here. Raises OSError when the zygote is gone."""
        self._fork(P.FORK_INSTANCE, fv, sock_fd, log_fd, stream, instance, initialization)

    def shows(self, fv: FunctionVersion) -> bool:
        """Whether `fv`'s code is in the zygote's view (see `show`)."""
        return self.view is None or self.view.shows(fv.code_dir)

    def show(self, fv: FunctionVersion) -> None:
        """Link `fv`'s code into the zygote's view, if it has one and the code is not there
        yet (in a worker thread: a few ms for a large tree); raises OSError when it cannot
        be (then fork the version from elsewhere)."""
        if self.view is not None:
            self.view.show(fv.code_dir)

    @property
    def busy(self) -> bool:
        """Whether instances it forked are alive (it must outlive them: they die with it)."""
        return bool(self.children) or any(isinstance(f, Instance) for f in self._forking.values())

    def _fork(self, kind: int, fv: FunctionVersion, sock_fd: int, log_fd: int, stream: str,
              forked: ForkedProcess | Instance, initialization: str | None = None) -> None:
        if not self.alive:
            raise OSError("the zygote has stopped")
        self.show(fv)  # (done already in a worker thread, unless an instance is forked)
        paths = python_path(fv)
        env = instance_env(fv, stream, initialization)
        spec = {"env": env, "cwd": str(fv.code_dir), "path": paths, "memory": fv.memory,
                "sandbox": isolation.current().template_spec(fv)}
        self._token = token = (self._token + 1) & 0xFFFFFFFF
        body = P.FORK_BODY.pack(token) + json.dumps(spec).encode()
        fds = array("i", [sock_fd, log_fd])
        self._ctl.sendmsg([P.frame(kind, body)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        self._forking[token] = forked
        self._spare = False  # it becomes this template or instance (or there was none)

    def refill(self) -> None:
        """Have the next spare forked: a template of ours has answered its first request (so
        the fork does not compete with it for the CPU)."""
        if self.alive and self._spares and not self._spare:
            self._spare = True
            with contextlib.suppress(OSError):
                self._ctl.send(P.frame(P.REFILL))

    def stop(self) -> None:
        """Close the control socket: the zygote exits (and so would templates it forked, which
        is why the pool stops a zygote only once none of its layer's templates is alive)."""
        if self.alive:
            self.alive = False
            self._loop.remove_reader(self._ctl.fileno())
            self._ctl.close()
            if not self.ready.done():
                self.ready.set_result(False)
            for forked in self._forking.values():
                forked.kill()
            # Its children die with it (PR_SET_PDEATHSIG), and no EXITED will come.
            for child in [*self.children.values(), *self._forking.values()]:
                if isinstance(child, Instance):
                    child.set_exit(-signal.SIGKILL)
            self._forking.clear()
            self.children.clear()
            if self.view is not None:  # what it forked, whose code is there, dies with it
                self.view.remove()

    def kill(self) -> None:
        self.watch.kill()
        self.stop()
