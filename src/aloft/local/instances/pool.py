"""The instance pool: runs invocations on worker processes with Lambda's semantics.

One request per instance at a time; instances start cold (forked from a per-version template,
or a fresh process) up to the function's reserved concurrency and the account's limit; past
them a request waits `throttle_wait` seconds for a slot, then is throttled. Timeouts and memory
limits kill the instance; idle instances and templates stop after the function's keep_alive.
Templates and zygotes are `templates.TemplateManager`'s business, the log lines around a
request `log_framing`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from aloft.local.instances.awake import Spinner
from aloft.local.instances.concurrency import ConcurrencySlots, Waiter
from aloft.local.instances.instance import (
    LOST,
    PROVISIONED,
    Instance,
    ProcessWatch,
    Template,
    Zygote,
    exit_reason,
)
from aloft.local.instances.instance import spawn as spawn_process
from aloft.local.instances.log_framing import (
    log_stream_name,
    report_text,
    runtime_error_line,
    runtime_exit_message,
    start_line,
    timeout_line,
)
from aloft.local.instances.log_reader import LogReader
from aloft.local.instances.memory import WATCHDOG_INTERVAL, over_limit
from aloft.local.instances.templates import TemplateManager, TemplateSlot, cannot_start
from aloft.local.instances.trace_ids import new_trace, root_of
from aloft.local.instances.worker import protocol as P
from aloft.local.store.metrics import Metrics
from aloft.local.types import (
    FunctionVersion,
    HttpResponse,
    InvokeResult,
    InvokeStatus,
    LogSink,
)

RESULT_HEAD, RESULT_SIZE = P.RESULT_HEAD, P.RESULT_HEAD.size
LINES_HEAD = P.LINES_HEAD
LINES_START = RESULT_SIZE + LINES_HEAD.size  # where a RESULT_HTTP_LINES frame's lines begin
INIT_LIMIT = 10.0  # seconds an instance may take to initialise, on top of the timeout (Lambda's)
EXIT_STATUS_WAIT = 1.0  # seconds to wait for a crashed instance's exit status
IDLE_CHECK = 0.25  # seconds between keep_alive checks
INTERNAL_ERROR = b'{"message": "Internal Server Error"}'  # API Gateway's 502 body
TIMER_LATE = 0.001
"""Seconds a timeout's timer is armed past the deadline: uvloop counts timers in whole
milliseconds, and one that fires early only arms itself again (see _deadline)."""
AHEAD_WITHIN = 5.0
"""ms: an instance whose last request took less is sent the next waiting request ahead (a
pipeline; slower requests gain nothing from it and would hold a waiting request back)."""
PIPELINE = os.environ.get("ALOFT_PIPELINE", "1") != "0"
"""Whether requests are sent ahead to busy instances (ALOFT_PIPELINE=0: never)."""


@dataclass(eq=False)
class _Version(TemplateSlot):
    """The processes of one FunctionVersion: its template (the slot) and its instances."""

    idle: list[Instance] = field(default_factory=list)  # a stack: the warmest on top
    live: set[Instance] = field(default_factory=set)
    retired: bool = False
    running: int = 0  # requests in progress: the reaper must not drop this record meanwhile
    emptied: asyncio.Event = field(default_factory=asyncio.Event)
    provisioned: int = 0  # instances to keep initialised (provisioned concurrency)
    filling: asyncio.Task[None] | None = None  # starting them
    provision_error: str | None = None  # why the last one failed to initialise

    def provisioned_count(self) -> int:
        return sum(1 for i in self.live if i.provisioned)


class Invocation:
    """One request on its instance: what its result, log lines and metrics need. One is made
    per request: a plain class (compiled, its __init__ is native; a dataclass's stays
    Python)."""

    __slots__ = ("cold", "init_extra", "instance", "request_id", "trace", "turn", "version")

    def __init__(self, version: _Version, instance: Instance, request_id: str,
                 init_extra: float, cold: bool, trace: str, turn: int) -> None:
        self.version = version
        self.instance = instance
        self.request_id = request_id
        self.init_extra = init_extra  # ms it waited for its version's template to initialise
        self.cold = cold  # the instance's first request
        self.trace = trace  # the X-Ray trace id's Root
        self.turn = turn  # the instance's `turn` while this is its request: once it differs,
        # the instance has gone on to a request sent ahead, which has this one's slot


class _Handoff:
    """A queued request, ready to be sent the moment its slot is granted (`start`, called by
    ConcurrencySlots before the waiting coroutine wakes up): the instance that just answered
    gets its next request without waiting for the previous one's bookkeeping and response."""

    __slots__ = ("abandoned", "ahead", "answer", "call", "event", "fv", "kind", "pool", "rid",
                 "root", "trace", "version", "waiter")

    def __init__(self, pool: InstancePool, fv: FunctionVersion, event: bytes, rid: str,
                 kind: int, trace: str, root: str) -> None:
        self.pool, self.fv, self.event, self.rid = pool, fv, event, rid
        self.kind, self.trace, self.root = kind, trace, root
        self.call: Invocation | None = None
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None
        self.waiter: Waiter | None = None
        # sent ahead to this busy instance of this version (a pipeline, see _send_ahead)
        self.ahead: Instance | None = None
        self.version: _Version | None = None
        self.abandoned = False  # called off after its instance had started it

    def start(self) -> None:
        """Send the request to an idle instance of its version, if one is waiting (else the
        caller starts one when it wakes up)."""
        pool = self.pool
        version = pool._versions.get(self.fv.key)
        if version is None or version.retired or not version.idle:
            return
        instance = version.idle.pop()
        version.running += 1
        cold = instance.cold
        self.answer = pool._send(instance, self.event, self.rid,
                                 self.kind | pool.spinner.doze(), self.trace, self.root)
        self.call = Invocation(version, instance, self.rid, 0.0, cold, self.root, instance.turn)

    def take_back(self) -> bool:
        """Take the request back from the instance it was sent ahead to (True), unless that
        instance has started it (False: it runs there, see InstancePool._pass_on)."""
        instance = self.ahead
        if instance is None:
            return True
        if not instance.take_back():
            return False
        self.ahead = None
        del self.pool._ahead[instance]
        instance.log.cancel_ahead(self.rid)
        if self.waiter is not None:
            self.waiter.take_back = None
        return True


class InstancePool:
    def __init__(
        self,
        log_sink: LogSink,
        *,
        account_concurrency: int = 10,
        throttle_wait: float = 0.5,
    ) -> None:
        self.metrics = Metrics()
        self.log_sink = self._sink = log_sink
        self._versions: dict[str, _Version] = {}
        self._retiring: set[_Version] = set()
        self._slots = ConcurrencySlots(account_concurrency, throttle_wait)
        self._live_by_function: dict[str, int] = {}
        self._live_total = 0
        self._busy: set[Instance] = set()
        self._owner: dict[Instance, _Version] = {}
        self._ahead: dict[Instance, _Handoff] = {}  # the request sent ahead to a busy instance
        # started before the isolation last hid more (renarrow): stopped once they have answered,
        # their templates with their last instance
        self._stale: set[Instance] = set()
        self._stale_templates: set[Template] = set()
        self._reaper: asyncio.Task[None] | None = None
        self._zygote_check: asyncio.TimerHandle | None = None  # the reaper's return for zygotes
        self._closed = False
        self.templates = TemplateManager(log_sink, self._child_gone, self._ensure_reaper)
        self.spinner = Spinner(self._busy.__len__)  # the loop awake for a quick answer

    @property
    def account_concurrency(self) -> int:
        return self._slots.account

    @property
    def throttle_wait(self) -> float:
        return self._slots.throttle_wait

    # -- public API ---------------------------------------------------------------------------

    async def invoke(
        self,
        fv: FunctionVersion,
        event: bytes,
        *,
        request_id: str | None = None,
        http: bool = False,
        client_context: bytes | None = None,
        trace: str | None = None,
    ) -> InvokeResult:
        """Run one invocation; never raises for the function's failures (see InvokeResult).
        `http`: the event is an HTTP request (fv.payload's format); an ok result then carries
        the HTTP response in `response`, read from the return value inside the instance.
        `client_context`: the Invoke API's ClientContext (JSON), the handler's
        `context.client_context`. `trace`: the invocation's `_X_AMZN_TRACE_ID`
        (trace_ids.lambda_trace); a new trace when None, as Lambda starts one."""
        rid = request_id or new_request_id()
        if trace is None:
            trace = new_trace()[1]
        root = root_of(trace)
        kind = (P.INVOKE_HTTP1 if fv.payload == "1.0" else P.INVOKE_HTTP2) if http else P.INVOKE
        if client_context is not None:
            event, kind = P.with_client_context(client_context, event), P.INVOKE_CONTEXT
        slots = self._slots
        call: Invocation | None = None
        answer: asyncio.Future[tuple[int, bytes]] | None = None
        if not slots.try_take(fv):
            # Queued (under load, most requests are): when a slot frees, the request goes to
            # the instance just freed at once, not after this coroutine wakes up.
            handoff = _Handoff(self, fv, event, rid, kind, trace, root)
            waiter = handoff.waiter = slots.queue(fv, handoff.start, handoff)
            granted = waiter.future
            if not granted.done() and PIPELINE:
                self._send_ahead(fv)
            try:
                got = await granted
            except asyncio.CancelledError:
                self._called_off(handoff)
                raise
            # The handoff and its waiter refer to each other (the waiter's tag and callback):
            # parted here, both are freed by reference counting when the request ends, not
            # left to the garbage collector, whose passes over every request's leftovers
            # cost the gateway more than its own time (issue 16's tenth round).
            handoff.waiter = None
            if not got:
                return self._throttled(fv, rid)
            call, answer = handoff.call, handoff.answer
        # One coroutine from here to the instance's answer (not invoke -> _run -> ...): each
        # level is resumed on every wake-up of the request.
        if call is not None:  # sent by the handoff (its version's running count taken)
            version, instance = call.version, call.instance
        else:
            version = self._versions.get(fv.key) or self._version(fv)
            version.running += 1
        try:
            if call is None:
                if version.idle:  # the hot path: a warm instance
                    instance, init_extra = version.idle.pop(), 0.0
                else:
                    cold_start = await self._cold_start(version, rid, root)
                    if isinstance(cold_start, InvokeResult):
                        return cold_start
                    instance, init_extra = cold_start
                cold = instance.cold
                answer = self._send(instance, event, rid, kind, trace, root)
                call = Invocation(version, instance, rid, init_extra, cold, root, instance.turn)
            assert answer is not None  # sent here or by the handoff
            try:
                kind, payload = await answer
            except asyncio.CancelledError:  # called off (a deploy's health check on Ctrl-C)
                if instance.turn == call.turn:  # (else it has answered, and gone on)
                    self._discard(instance)  # its answer is not wanted: stop it, free its slot
                raise
            finally:
                if instance.turn == call.turn:  # it has not gone on to a request sent ahead
                    self._busy.discard(instance)
                    instance.busy = False  # (its timeout's timer finds it so: see _deadline)
            result = self._answered(call, kind, payload)
            if result is None:  # the instance is gone: find out why
                result = self._finish(call, *await self._lost(instance, rid))
            if instance.template is not None and instance.requests == 1:
                self._refill(instance.template)
            return result
        finally:
            version.running -= 1
            if version.retired and not version.running and not version.live:
                self.templates.stop(version)  # retired while this request started it
            if call is None or call.instance.turn == call.turn:  # (else passed on with it)
                slots.release(fv.function)

    def _called_off(self, handoff: _Handoff) -> None:
        """A request waiting for a slot was called off (its caller went away)."""
        granted = handoff.waiter.future if handoff.waiter is not None else None
        if handoff.call is not None:  # sent already: its answer is not wanted
            self._abandon(handoff.call)
        elif not handoff.take_back():  # started where it was sent ahead: stop it there
            handoff.abandoned = True  # (when its turn comes, see _pass_on)
        elif granted is not None and granted.done() and not granted.cancelled() and \
                granted.result():
            self._slots.release(handoff.fv.function)

    @staticmethod
    def _refill(template: Template) -> None:
        """A spare for the template's next cold start (and one for the layer's next template),
        forked now that it no longer competes with a request (the first one's answered)."""
        template.refill()
        if template.zygote is not None:
            template.zygote.refill()

    def _abandon(self, call: Invocation) -> None:
        """A request sent by a handoff was called off before its caller woke up: what invoke's
        own cancellation does (the instance stopped, its slot and counts given back)."""
        instance, version = call.instance, call.version
        self._discard(instance)
        self._busy.discard(instance)
        instance.busy = False
        version.running -= 1
        if version.retired and not version.running and not version.live:
            self.templates.stop(version)
        self._slots.release(version.fv.function)

    async def prewarm(self, fv: FunctionVersion) -> InvokeResult:
        """Start a template (or an idle instance) of `fv`; report whether its init succeeded."""
        rid = new_request_id()
        version = self._version(fv)
        started = time.perf_counter()
        template = await self.templates.get(version) if fv.snapshot else None
        if isinstance(template, bytes):
            init_ms = (time.perf_counter() - started) * 1000.0
            return InvokeResult(rid, "init_error", template, 0.0, init_ms, version=fv.version)
        if template is not None:
            self._refill(template)  # the first cold start finds a forked child waiting
            return InvokeResult(rid, "ok", b"null", 0.0, template.init_ms, version=fv.version)
        try:
            instance = await self._start(version)
        except OSError as exc:
            return InvokeResult(rid, "init_error", cannot_start(fv, exc), 0.0, version=fv.version)
        try:
            error = await instance.ready
        except asyncio.CancelledError:  # the deploy was called off: no half-started instance
            self._discard(instance)
            raise
        if error is not None:
            self._discard(instance)
            return InvokeResult(rid, "init_error", error, 0.0, instance.init_ms, version=fv.version)
        self._idle(version, instance)
        return InvokeResult(rid, "ok", b"null", 0.0, instance.init_ms, version=fv.version)

    async def retire(self, function: str, keep_versions: set[int]) -> None:
        """Stop the instances and templates of `function`'s versions not in `keep_versions`,
        after their in-flight requests finish."""
        gone = [
            v
            for v in self._versions.values()
            if v.fv.function == function and v.fv.version not in keep_versions
        ]
        for version in gone:
            del self._versions[version.fv.key]
            version.retired = True
            self._retiring.add(version)
            while version.idle:
                instance = version.idle.pop()
                self._discard(instance)
                instance.stop()
        for version in gone:
            if version.live:
                await version.emptied.wait()
            self.templates.stop(version)
            self._retiring.discard(version)

    def drop_idle(self, function: str, *, templates: bool = False) -> int:
        """Stop `function`'s idle instances now, keeping its templates (the next request is a
        cold start from the fork path) unless `templates` (then as after keep_alive: a cold
        start from the layer's zygote, or from nothing); returns how many instances stopped.
        For benchmarks and tests."""
        stopped = 0
        for version in self._versions.values():
            if version.fv.function == function:
                while version.idle:
                    instance = version.idle.pop()
                    self._discard(instance)
                    instance.stop()
                    stopped += 1
                if templates and not version.live:
                    self.templates.stop(version)
        return stopped

    def renarrow(self) -> int:
        """The isolation hides more than when the running processes started (a project was
        deployed: isolation.hide_projects): stop every idle instance now, and every template
        once none of its instances is busy; busy instances stop once they have answered (no
        request fails); and every layer's zygote, once what it forked is gone, a new one of
        its layer starting in its place (TemplateManager.retire_zygotes). What starts next
        narrows to the new view. Returns how many processes were told to stop, or will be."""
        told = 0
        for version in [*self._versions.values(), *self._retiring]:
            while version.idle:
                instance = version.idle.pop()
                self._discard(instance)
                instance.stop()
                told += 1
            self._stale.update(version.live)
            told += len(version.live)
            template = version.template
            if template is not None:
                version.template = None  # the next cold start starts another
                self._stale_templates.add(template)
                self._stop_stale_template(template, version)
                told += 1
        told += self.templates.retire_zygotes(self._stale_templates)
        if self.templates.retiring:
            self._ensure_reaper()  # a retired zygote stops once what it forked has
        return told

    def _stop_stale_template(self, template: Template | None, version: _Version) -> None:
        """Stop a template renarrow replaced once none of `version`'s live instances is its
        fork (it kills its forks when it stops)."""
        if template is None or template not in self._stale_templates:
            return
        if not any(i.template is template for i in version.live):
            self._stale_templates.discard(template)
            template.stop()

    async def close(self) -> None:
        self._closed = True
        if self._zygote_check is not None:
            self._zygote_check.cancel()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        versions = [*self._versions.values(), *self._retiring]
        for version in versions:
            if version.filling is not None:  # provisioned instances still starting
                version.filling.cancel()
            for instance in list(version.live):
                instance.kill()
                self._discard(instance)
        self.templates.close(versions)
        self._versions.clear()
        self._slots.cancel_all()
        await asyncio.sleep(0)  # let the transports' close callbacks run

    def instances(self) -> dict[str, int]:
        """function -> live instance count (templates not included)."""
        return {f: n for f, n in self._live_by_function.items() if n}

    # -- throttling -----------------------------------------------------------------------------

    def _throttled(self, fv: FunctionVersion, rid: str) -> InvokeResult:
        body = {
            "Reason": self._slots.throttle_reason(fv),
            "Type": "User",
            "message": "Rate Exceeded.",
        }
        self.metrics.throttled(fv.function, rid, fv.version)
        return InvokeResult(rid, "throttled", json.dumps(body).encode(), 0.0, version=fv.version)

    # -- running one request --------------------------------------------------------------------

    async def _cold_start(
        self, version: _Version, rid: str, root: str
    ) -> tuple[Instance, float] | InvokeResult:
        """A new instance for a request, and the template init it waited for (ms); or the
        init_error result when the version's code cannot start."""
        fv = version.fv
        init_extra = 0.0
        zygote = self.templates.zygote_after_idle(version) if fv.snapshot else None
        if zygote is not None:
            try:
                instance = await self._start(version, zygote=zygote)
            except OSError:  # the zygote just stopped: as any cold start
                pass
            else:  # the template once the instance's init is done (not to compete with it)
                instance.ready.add_done_callback(
                    lambda ready: self._template_beside(version, ready))
                return instance, init_extra
        if fv.snapshot:
            started = time.perf_counter()
            template = await self.templates.get(version)
            if isinstance(template, bytes):
                spent = (time.perf_counter() - started) * 1000.0
                return self._init_failed(fv, rid, template, spent, start_line(fv, rid, root))
            if template is not None and template.init_ms is not None and \
                    template.started_at >= started:
                init_extra = template.init_ms  # this request waited for the template
        try:
            return await self._start(version), init_extra
        except OSError as exc:
            return self._init_failed(fv, rid, cannot_start(fv, exc), 0.0,
                                     start_line(fv, rid, root))

    def _template_beside(self, version: _Version, ready: asyncio.Future[bytes | None]) -> None:
        """The version's template, after a cold start after idle whose own init succeeded (a
        failed one is the next cold start's to try again)."""
        if not version.retired and not ready.cancelled() and ready.result() is None:
            self.templates.start_beside(version)

    def _send(
        self, instance: Instance, event: bytes, rid: str, request_kind: int, trace: str,
        root: str,
    ) -> asyncio.Future[tuple[int, bytes]]:
        """Send one request to `instance` (with START logged and its timeout armed); the future
        resolves with the answer's (kind, payload)."""
        fv = instance.fv
        # The request goes out first: the instance works on it while we do the bookkeeping.
        answer = instance.send(rid, float(fv.timeout), event, request_kind, trace)
        instance.turn += 1
        instance.requests += 1
        instance.busy = True
        self._busy.add(instance)
        self.spinner.kick()
        instance.log.begin(rid, start_line(fv, rid, root))
        if instance.ready.done():
            self._arm(instance, fv.timeout)
        else:  # init has its own allowance; the timeout counts from the end of init
            self._arm(instance, INIT_LIMIT + fv.timeout)
            instance.ready.add_done_callback(lambda _: self._rearm(instance))
        if instance.quick and PIPELINE:  # a request waiting for a slot goes ahead to it
            self._next_ahead(instance)
        return answer

    # -- a pipeline: requests sent ahead to busy instances ------------------------------------

    def _send_ahead(self, fv: FunctionVersion) -> None:
        """A request of `fv` has to wait for a slot: the first one waiting (see next_waiting)
        goes ahead to a busy instance of its version that has none waiting yet, if one is
        pipelined (its last request took under AHEAD_WITHIN). The instance goes on to it
        without sleeping in between; it still waits for its slot here, from where it is taken
        back if it must be (see Waiter)."""
        version = self._versions.get(fv.key)
        if version is None or version.retired:
            return
        ahead = self._ahead
        for instance in version.live:
            if instance.busy and instance.quick and instance not in ahead and \
                    self._next_ahead(instance):
                return

    def _next_ahead(self, instance: Instance) -> bool:
        """Send the first request waiting for its version ahead to `instance` (busy); whether
        one was sent."""
        version = self._owner.get(instance)
        if version is None or version.retired or instance in self._ahead:
            return False
        waiter = self._slots.next_waiting(version.fv)
        return waiter is not None and \
            self._ahead_to(cast(_Handoff, waiter.tag), instance, version)

    def _ahead_to(self, handoff: _Handoff, instance: Instance, version: _Version) -> bool:
        fv, rid, waiter = instance.fv, handoff.rid, handoff.waiter
        if waiter is None or instance.timed_out or not instance.send_ahead(
                rid, float(fv.timeout), handoff.event, handoff.kind | self.spinner.doze(),
                handoff.trace):
            return False
        handoff.ahead, handoff.version = instance, version
        waiter.take_back = handoff.take_back
        self._ahead[instance] = handoff
        instance.log.ahead(rid, start_line(fv, rid, handoff.root))
        return True

    def _pass_on(self, instance: Instance) -> None:
        """`instance` has answered and gone on to the request sent ahead to it (called as the
        answer arrives, before its caller wakes): that request has the slot of the one before
        it, its timeout starts now, and the next waiting request goes ahead to it."""
        handoff = self._ahead.pop(instance)
        version, waiter = handoff.version, handoff.waiter
        assert version is not None and waiter is not None
        handoff.ahead = None
        instance.log.passed_on()  # (before the next request can write to the answer's pipe)
        instance.turn += 1
        instance.requests += 1
        version.running += 1
        call = Invocation(version, instance, handoff.rid, 0.0, False, handoff.root, instance.turn)
        handoff.call, handoff.answer = call, instance.answer
        self._arm(instance, instance.fv.timeout)
        self._slots.transfer(waiter)
        if handoff.abandoned:  # called off after its instance had started it
            self._abandon(call)
        else:
            self._next_ahead(instance)

    def _drop_ahead(self, instance: Instance) -> None:
        """`instance` is going: the request sent ahead to it is taken back (it waits for a slot
        again), or, when the instance had started it, ends with the instance."""
        handoff = self._ahead[instance]
        if handoff.take_back():
            return
        instance.go_on()  # (-> _pass_on)
        answer = instance.answer
        if answer is not None and not answer.done():
            answer.set_result((LOST, b""))

    def _answered(self, call: Invocation, kind: int, payload: bytes) -> InvokeResult | None:
        """The result of the instance's answer; None when it ended without one (see _lost)."""
        instance, fv = call.instance, call.version.fv
        instance.log.drain(call.request_id)
        response = None
        if kind == P.RESULT_HTTP_LINES:  # the hot path of the gateway
            duration, maxrss = RESULT_HEAD.unpack_from(payload)
            code, size = LINES_HEAD.unpack_from(payload, RESULT_SIZE)
            start = LINES_START + size
            response = HttpResponse(code, [], payload[start:], payload[LINES_START:start])
            self._free(call)
            return self._finish(call, "ok", b"", duration, maxrss, response)
        if kind == P.RESULT_HTTP:
            duration, maxrss = RESULT_HEAD.unpack_from(payload)
            response = HttpResponse(*P.unpack_http(payload, RESULT_SIZE))
            self._free(call)
            return self._finish(call, "ok", b"", duration, maxrss, response)
        status: InvokeStatus
        if kind == P.RESULT_OK or kind == P.RESULT_ERROR:
            duration, maxrss = RESULT_HEAD.unpack_from(payload)
            body = payload[RESULT_SIZE:]
            status = "ok" if kind == P.RESULT_OK else "error"
            self._free(call)
        elif kind == P.RESULT_MALFORMED:
            duration, maxrss = RESULT_HEAD.unpack_from(payload)
            why = payload[RESULT_SIZE:].decode(errors="replace")
            instance.log.say(f"Gateway: malformed Lambda proxy response ({why}): answered 502",
                             call.request_id)
            response = HttpResponse(502, [("content-type", "application/json")], INTERNAL_ERROR)
            body, status = b"", "ok"
            self._free(call)
        elif kind == P.RESULT_OOM:
            duration, maxrss = RESULT_HEAD.unpack_from(payload)
            body = payload[RESULT_SIZE:]
            status = "crash"
            maxrss = max(maxrss, fv.memory * 1024)
            instance.log.say(runtime_error_line(body))
            self._discard(instance)
        elif kind == P.INIT_ERROR:
            self._discard(instance)
            spent = instance.init_ms or (time.perf_counter() - instance.started_at) * 1000.0
            return self._init_failed(fv, call.request_id, payload, spent, instance.log.end(),
                                     instance.log.stream)
        else:
            return None
        return self._finish(call, status, body, duration, maxrss, response)

    def _finish(
        self,
        call: Invocation,
        status: InvokeStatus,
        body: bytes,
        duration: float,
        maxrss: int,
        response: HttpResponse | None = None,
    ) -> InvokeResult:
        """END and REPORT logged (left in the result for the gateway with an HTTP response),
        metrics recorded: the invocation's result."""
        instance, rid, cold, fv = call.instance, call.request_id, call.cold, call.version.fv
        instance.quick = duration < AHEAD_WITHIN
        start = instance.log.end(rid)
        init_ms = (instance.init_ms or 0.0) + call.init_extra if cold else None
        report = report_text(fv, rid, duration, maxrss, init_ms, start)
        stream = instance.log.stream
        if response is None:
            self._sink.write(fv.function, fv.version, rid, report, stream)
        self.metrics.record(fv.function, duration, error=status != "ok", cold=cold,
                            request_id=rid, status=status, version=fv.version,
                            memory_mb=maxrss // 1024, trace=call.trace)
        return InvokeResult(rid, status, body, duration, init_ms, maxrss // 1024, fv.version,
                            response, None if response is None else report, stream)

    def _arm(self, instance: Instance, seconds: float) -> None:
        """The request in progress times out in `seconds`. Its deadline is kept on the
        instance, and one timer per instance, armed for the earliest deadline, checks it:
        each request's deadline is later than its predecessor's, so a request arms no timer
        of its own (a timer armed and cancelled per request cost the gateway 1-2 µs)."""
        deadline = instance.deadline = time.monotonic() + seconds
        instance.armed_for = seconds
        timer = instance.timer
        if timer is None or instance.timer_for > deadline:
            if timer is not None:
                timer.cancel()
            instance.timer_for = deadline
            instance.timer = instance.loop.call_later(seconds + TIMER_LATE, self._deadline,
                                                      instance)

    def _deadline(self, instance: Instance) -> None:
        """An instance's timer: its request in progress times out, or the deadline has moved
        on (a later request, or the timer came early): armed again for it. Never before the
        deadline: a request that ends within its timeout is not cut short."""
        instance.timer = None
        if not instance.busy or not instance.alive:
            return
        left = instance.deadline - time.monotonic()
        if left <= 0:
            self._timed_out(instance)
        else:
            instance.timer_for = instance.deadline
            instance.timer = instance.loop.call_later(left + TIMER_LATE, self._deadline,
                                                      instance)

    def _rearm(self, instance: Instance) -> None:
        if instance.busy:
            self._arm(instance, instance.fv.timeout)

    async def _lost(self, instance: Instance, rid: str) -> tuple[InvokeStatus, bytes, float, int]:
        """The instance's socket closed before it answered: timeout, out of memory or crash."""
        fv = instance.fv
        self._discard(instance)
        elapsed = _running_ms(instance)
        if instance.timed_out:
            line = timeout_line(rid, fv.timeout)
            instance.log.say(line)
            body = json.dumps({"errorMessage": line, "errorType": "Sandbox.Timedout"}).encode()
            return "timeout", body, fv.timeout * 1000.0, 0
        if instance.out_of_memory:
            reason, error_type = "signal: killed", "Runtime.OutOfMemory"
            maxrss = fv.memory * 1024
        else:
            try:
                code = await asyncio.wait_for(asyncio.shield(instance.exited), EXIT_STATUS_WAIT)
            except TimeoutError:
                code = None
            reason, error_type, maxrss = exit_reason(code), "Runtime.ExitError", 0
        message = runtime_exit_message(rid, reason)
        body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        instance.log.say(f"{message}\n{error_type}")
        return "crash", body, min(elapsed, fv.timeout * 1000.0), maxrss

    def _init_failed(
        self,
        fv: FunctionVersion,
        rid: str,
        error: bytes,
        init_ms: float,
        start: str | None,
        stream: str | None = None,
    ) -> InvokeResult:
        """`start`: the request's START line when it is not written yet, else None; `stream`:
        the failed instance's log stream, if one started."""
        line = runtime_error_line(error)
        text = line if start is None else f"{start}\n{line}"
        self._sink.write(fv.function, fv.version, rid, text, stream)
        self._sink.write(fv.function, fv.version, rid, report_text(fv, rid, 0.0, 0, init_ms, None),
                         stream)
        self.metrics.record(fv.function, 0.0, error=True, cold=True, request_id=rid,
                            status="init_error", version=fv.version)
        return InvokeResult(rid, "init_error", error, 0.0, init_ms, version=fv.version)

    def _timed_out(self, instance: Instance) -> None:
        instance.timed_out = True
        instance.kill()

    # -- instances and templates --------------------------------------------------------------

    def _version(self, fv: FunctionVersion) -> _Version:
        version = self._versions.get(fv.key)
        if version is None:
            version = self._versions[fv.key] = _Version(fv)
        return version

    async def _start(self, version: _Version, *, provisioned: bool = False,
                     zygote: Zygote | None = None) -> Instance:
        """A new instance of the version: forked from its template or a fresh process; from
        `zygote` when given (it runs init). A `provisioned` one runs init itself (see
        _provision_one): forked from `zygote` when given, else fresh."""
        if self._live_total >= self.account_concurrency:
            self._evict_one()
        template = None if provisioned or zygote else self.templates.running(version)
        initialization = PROVISIONED if provisioned else None
        instance = None
        if zygote is not None:
            try:
                instance = await self._spawn(version.fv, initialization, zygote=zygote)
            except OSError:  # the zygote just stopped: a fresh process, below
                if not provisioned:
                    raise
        if template is not None:
            try:
                instance = template.take_spare() or await template.fork()
            except OSError:  # the template just died: start a fresh process this time
                self.templates.forget(version)
        if instance is None and not provisioned:
            zygote = self.templates.zygote_for_fresh(version)
            if zygote is not None:
                with contextlib.suppress(OSError):  # the zygote just stopped: start fresh
                    instance = await self._spawn(version.fv, zygote=zygote)
        if instance is None:
            instance = await self._spawn(version.fv, initialization)
        instance.on_gone = self._child_gone
        instance.on_turn = self._pass_on
        version.live.add(instance)
        version.emptied.clear()
        self._owner[instance] = version
        self._count(version.fv.function, +1)
        self._ensure_reaper()
        return instance

    async def _spawn(self, fv: FunctionVersion, initialization: str | None = None, *,
                     zygote: Zygote | None = None) -> Instance:
        """A new instance that runs init itself: a fresh process, or forked from `zygote` (its
        layer's, for a version whose template declined)."""
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        log_r, log_w = os.pipe()
        stream = log_stream_name(fv.version)
        log = LogReader(loop, log_r, self._sink, fv, stream, initialising=True)
        try:
            if zygote is None:
                instance = Instance(fv, log, watch=ProcessWatch(loop, spawn_process(
                    fv, "instance", theirs.fileno(), log_w, stream, initialization)))
            else:
                instance = Instance(fv, log)
                zygote.fork_instance(fv, theirs.fileno(), log_w, stream, instance,
                                     initialization)
        except OSError:
            ours.close()
            log.close()
            raise
        finally:
            theirs.close()
            os.close(log_w)
        try:
            await instance.connect(ours)
        except BaseException:  # cancelled (or failed) before anyone holds it: stop it here
            instance.kill()
            instance.close_log()
            raise
        return instance

    def _free(self, call: Invocation) -> None:
        """Its instance is idle after the call, unless it has gone on to a request sent ahead."""
        if call.instance.turn == call.turn:
            self._idle(call.version, call.instance)

    def _idle(self, version: _Version, instance: Instance) -> None:
        instance.last_used = time.monotonic()
        if version.retired or not instance.alive or self._closed or (
                self._stale and instance in self._stale):
            self._discard(instance)
            instance.stop()
        else:
            version.idle.append(instance)

    def _discard(self, instance: Instance) -> None:
        """Forget an instance that is gone or going (idempotent)."""
        version = self._owner.pop(instance, None)
        if version is None:  # never claimed (a template's spare) or already forgotten
            instance.close_log()
            return
        if instance in self._ahead:
            self._drop_ahead(instance)
        version.live.discard(instance)
        with contextlib.suppress(ValueError):
            version.idle.remove(instance)
        self._count(instance.fv.function, -1)
        if instance.alive:
            instance.kill()
        instance.close_log()
        if self._stale:
            self._stale.discard(instance)
            self._stop_stale_template(instance.template, version)
        if not version.live:
            version.emptied.set()
        if instance.provisioned:  # lost (a crash, a timeout): another takes its place
            self._fill(version)

    def _child_gone(self, instance: Instance) -> None:
        # An idle instance may die on its own (os._exit in a thread, its template killed): forget
        # it. A busy one is handled by the request waiting on it.
        if not instance.busy:
            self._discard(instance)

    def _count(self, function: str, delta: int) -> None:
        count = self._live_by_function.get(function, 0) + delta
        self._live_by_function[function] = count
        self._live_total += delta
        self.metrics.instances(function, count)

    def _evict_one(self) -> None:
        """Stop the least recently used idle instance, to keep processes under the account
        limit when another function needs one."""
        candidates = [i for v in self._versions.values() for i in v.idle if not i.provisioned]
        if candidates:
            oldest = min(candidates, key=lambda i: i.last_used)
            self._discard(oldest)
            oldest.stop()

    # -- provisioned concurrency --------------------------------------------------------------

    def provision(self, current: Iterable[FunctionVersion]) -> None:
        """Keep `fv.provisioned` instances of each version of `current` (what the stages'
        aliases point at) initialised, as Lambda's provisioned concurrency does: started now,
        in the background, and again when one is lost. Those of a version no longer among
        them become ordinary instances (stopped once idle for keep_alive)."""
        wanted = {fv.key: fv for fv in current if fv.provisioned > 0}
        now = time.monotonic()
        for key, version in self._versions.items():
            if key not in wanted and version.provisioned:
                version.provisioned = 0
                for instance in version.live:
                    if instance.provisioned:
                        instance.provisioned, instance.last_used = False, now
        for fv in wanted.values():
            version = self._version(fv)
            # no more than the function's reserved concurrency and the account's limit allow
            version.provisioned = min(fv.provisioned, self.account_concurrency,
                                      fv.concurrency if fv.concurrency is not None
                                      else fv.provisioned)
            version.provision_error = None
            surplus = version.provisioned_count() - version.provisioned
            for instance in sorted(version.live, key=lambda i: i.busy):  # idle ones first
                if surplus <= 0:
                    break
                if instance.provisioned:  # fewer wanted: an ordinary instance from now on
                    instance.provisioned, instance.last_used, surplus = False, now, surplus - 1
            self._fill(version)

    def provisioned(self, fv: FunctionVersion) -> tuple[int, int, str | None]:
        """How many provisioned instances `fv` is to have (capped), how many it has, and why
        the last one failed to initialise (None: none failed)."""
        version = self._versions.get(fv.key)
        if version is None:
            return 0, 0, None
        return version.provisioned, version.provisioned_count(), version.provision_error

    def _fill(self, version: _Version) -> None:
        if self._closed or version.retired or version.filling is not None or \
                version.provisioned_count() >= version.provisioned:
            return
        version.filling = asyncio.get_running_loop().create_task(self._filling(version))

    async def _filling(self, version: _Version) -> None:
        try:
            while not self._closed and not version.retired and \
                    version.provisioned_count() < version.provisioned:
                if not await self._provision_one(version):
                    return  # its init fails: tried again at the next deploy or restart
        finally:
            version.filling = None

    async def _provision_one(self, version: _Version) -> bool:
        """Start one provisioned instance; False when its init failed (said in the function's
        log). Not a template's fork: its init runs with Lambda's
        AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency, as on Lambda (and ahead of any
        request, so its time is nobody's cold start); forked from its layer's zygote when one
        is ready (the layer's modules imported already, their pages shared), else fresh."""
        fv = version.fv
        zygote = self.templates.zygote_for_provisioned(version)
        while True:
            try:
                instance = await self._start(version, provisioned=True, zygote=zygote)
            except OSError as exc:
                error = cannot_start(fv, exc)
                break
            failed = await instance.ready
            if failed is None:
                instance.provisioned = True
                self._idle(version, instance)
                return True
            error = failed
            self._discard(instance)
            if zygote is None:
                break
            zygote = None  # an init that failed in a zygote's fork is tried once fresh, as a
            # zygote's template is: what it reports is the function's, not the zygote's
        version.provision_error = runtime_error_line(error)
        self._sink.write(fv.function, fv.version, None,
                         "Provisioned concurrency: an instance failed to initialise: "
                         f"{version.provision_error}")
        return False

    # -- reaper: keep_alive and the memory watchdog ----------------------------------------------

    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(self._reap_loop())

    async def _reap_loop(self) -> None:
        last_idle_check = 0.0
        while not self._closed:
            await asyncio.sleep(WATCHDOG_INTERVAL if self._busy else IDLE_CHECK)
            for instance in list(self._busy):
                if instance.pid is not None and over_limit(instance.pid, instance.fv.memory):
                    instance.out_of_memory = True
                    instance.kill()
            now = time.monotonic()
            if now - last_idle_check >= IDLE_CHECK:
                last_idle_check = now
                if not self._reap_idle(now):
                    self._check_zygotes_later()
                    return

    def _check_zygotes_later(self) -> None:
        """Only zygotes are left: the reaper stops (an idle platform does not wake four times
        a second for 15 minutes) and comes back when the first may be due to stop."""
        if self._zygote_check is not None:
            self._zygote_check.cancel()
            self._zygote_check = None
        wait = self.templates.next_zygote_stop(time.monotonic())
        if wait is not None and not self._closed:
            loop = asyncio.get_running_loop()
            self._zygote_check = loop.call_later(wait + IDLE_CHECK, self._ensure_reaper)

    def _reap_idle(self, now: float) -> bool:
        """Stop what idled past keep_alive; False when nothing is left to watch."""
        anything = False
        for key, version in list(self._versions.items()):
            keep = version.fv.keep_alive
            for instance in [i for i in version.idle
                             if now - i.last_used >= keep and not i.provisioned]:
                self._discard(instance)
                instance.stop()
            self.templates.reap(version, now, instances_live=bool(version.live))
            if (
                not version.live
                and version.template is None
                and version.template_starting is None
                and not version.running
            ):
                del self._versions[key]
            else:
                anything = True
        self.templates.stop_unused_zygotes([*self._versions.values(), *self._retiring], now,
                                           self._stale_templates)
        return anything or bool(self._retiring)


# A version 4 UUID's fixed bits: version 4 (bits 76-79), RFC 4122 variant (bits 62-63).
_UUID4_KEEP = ~(0xF000 << 64) & ~(0xC000 << 48) & ((1 << 128) - 1)
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random (version 4) UUID, as Lambda's request ids are; cheaper than uuid.uuid4() (it
    is made for every request)."""
    h = "%032x" % (random.getrandbits(128) & _UUID4_KEEP | _UUID4_SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _running_ms(instance: Instance) -> float:
    """How long the request in progress has run: billed from when it was sent, or from the end
    of init when it waited for one (Lambda's Duration leaves init out), not from when the
    instance started. Read off the request's deadline, set at those moments (see _arm), so
    that the hot path keeps no clock of its own."""
    if not instance.deadline:
        return 0.0
    started = instance.deadline - instance.armed_for
    return max(0.0, (time.monotonic() - started) * 1000.0)
