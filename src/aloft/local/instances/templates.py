"""Templates and zygotes, for the pool: how cold starts get an initialised process to fork.

A version's template starts on its first cold start (or at prewarm) and is shared by every
request that waits for it; a failed start is an init error, never half a template. A zygote
holds a dependency layer's imports for the templates of that layer's functions and versions (a
code-only deploy, another function of the service, or a function's first request after it went
idle skip re-importing them): it starts once a template says what it imported and stops once no
template of its layer has been alive for ALOFT_ZYGOTE_IDLE seconds (default 900).
ALOFT_ZYGOTE=0 turns zygotes off; ALOFT_ZYGOTE_SPARE=0 keeps them without a spare template.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aloft.local.instances.instance import Instance, Template, Zygote, new_view
from aloft.local.types import FunctionVersion, LogSink

ZygoteKey = tuple[str, frozenset[tuple[str, str]], str]
ZYGOTE_IDLE = 900.0  # seconds a zygote outlives the last template of its layer (ALOFT_ZYGOTE_IDLE)


def zygote_idle_from_env() -> float:
    """ALOFT_ZYGOTE_IDLE, in seconds; the default when unset or not a number >= 0."""
    raw = os.environ.get("ALOFT_ZYGOTE_IDLE", "")
    try:
        value = float(raw)
    except ValueError:
        return ZYGOTE_IDLE
    return value if value >= 0 else ZYGOTE_IDLE


@dataclass(eq=False)
class TemplateSlot:
    """Where one version's template is: running, starting, or neither."""

    fv: FunctionVersion
    template: Template | None = None
    template_starting: asyncio.Future[Template | bytes | None] | None = None
    # its template declined to fork (its init left connections the instances would share):
    # each of the version's instances runs init from now on (forked from the layer's zygote, or
    # a fresh process)
    fresh: bool = False

    @property
    def holds_template(self) -> bool:
        """A template is alive or on its way."""
        return (self.template is not None and self.template.alive) or (
            self.template_starting is not None
        )


class TemplateManager:
    """The templates of the pool's versions and the zygotes of their layers."""

    def __init__(
        self,
        sink: LogSink,
        on_child_gone: Callable[[Instance], None],
        on_process: Callable[[], None],
    ) -> None:
        """`on_child_gone`: an instance forked from a template ended; `on_process`: a template
        or zygote started (the pool's reaper watches them)."""
        self._sink = sink
        self._on_child_gone = on_child_gone
        self._on_process = on_process
        self.zygotes_enabled = os.environ.get("ALOFT_ZYGOTE", "1") != "0"
        self.zygote_spares = os.environ.get("ALOFT_ZYGOTE_SPARE", "1") != "0"
        self.zygote_idle = zygote_idle_from_env()
        self._zygotes: dict[ZygoteKey, Zygote] = {}
        self._zygotes_starting: set[ZygoteKey] = set()  # their views being made (a thread)
        self._zygote_tasks: set[asyncio.Task[None]] = set()
        self._zygote_used: dict[ZygoteKey, float] = {}  # when a template of its layer last lived
        # zygotes started before the isolation last hid more (retire_zygotes): no template is
        # forked from them; each stops once nothing it forked (instance, template) is alive
        self._retired: set[Zygote] = set()
        # layers whose zygote declined (a module connected as it was imported): none again
        self._declined: set[ZygoteKey] = set()
        self._starting: set[asyncio.Task[Template | bytes | None]] = set()  # start_beside's
        self._closed = False

    async def get(self, slot: TemplateSlot) -> Template | bytes | None:
        """The slot's template, started if needed; the init error's payload if it failed; None
        when it declined (the version's instances run init: see zygote_for_fresh)."""
        if slot.fresh:
            return None
        template = slot.template
        if template is not None and template.alive:
            return template
        if slot.template_starting is None:
            return await self._start(slot)
        return await asyncio.shield(slot.template_starting)

    async def _start(self, slot: TemplateSlot) -> Template | bytes | None:
        fv = slot.fv
        starting: asyncio.Future[Template | bytes | None] = \
            asyncio.get_running_loop().create_future()
        slot.template_starting = starting
        zygote = self._zygote_for(fv)
        template = None
        try:
            if zygote is not None and not zygote.shows(fv):
                zygote = await _shown(zygote, fv)
            template = self._new_template(fv, zygote)
            template.refill()  # its first fork request waits in its socket (see below)
            error = await template.ready
            if error is not None and zygote is not None:
                # Whatever went wrong, a fresh process decides: a zygote only saves time.
                template.kill()
                template = self._new_template(fv, None)
                template.refill()
                error = await template.ready
        except OSError as exc:  # no interpreter, no code dir: nothing to run
            slot.template_starting = None
            starting.set_result(cannot_start(fv, exc))
            return cannot_start(fv, exc)
        except asyncio.CancelledError:  # called off (a deploy's health check on Ctrl-C)
            if template is not None:
                template.kill()  # no half-initialised template is left running
            slot.template_starting = None
            starting.set_result(called_off(fv))  # whoever else waited: an error
            raise
        slot.template_starting = None
        if error is not None:
            template.kill()
            starting.set_result(error)
            return error
        if template.declined:  # its process has said why (its log) and exited
            slot.fresh = True
            template.kill()
            starting.set_result(None)
            return None
        slot.template = template
        # The spare was asked for with the template: the template forks it right after READY,
        # without waiting for the pool's next message, and the request that started the
        # template takes it; the next spare follows its answer (not to compete with it).
        starting.set_result(template)
        self._on_process()
        return template

    def zygote_for_fresh(self, slot: TemplateSlot) -> Zygote | None:
        """The zygote to fork the slot's next instance from when its template declined (the
        instance then runs init itself, but skips Python's start and the layer's imports)."""
        return self._zygote_for(slot.fv) if slot.fresh else None

    def zygote_for_provisioned(self, slot: TemplateSlot) -> Zygote | None:
        """The zygote to fork a provisioned instance of the slot's version from (it runs init
        itself, as provisioned-concurrency), if its layer's is ready; not for SnapStart,
        whose instances are restored from the snapshot."""
        return None if slot.fv.snap_start else self._zygote_for(slot.fv)

    def zygote_after_idle(self, slot: TemplateSlot) -> Zygote | None:
        """A cold start after idle: no template (none starting either) but a ready zygote of
        the version's layer that shows its code. The request's instance is forked from it and
        runs init itself (as when a template declined); once that init is done the template
        starts beside it for the cold starts that follow, so the template's snapshot prime and
        second fork are off the request's path and do not take its CPU. Not for SnapStart,
        whose every instance is restored from the snapshot."""
        if slot.fresh or slot.fv.snap_start or slot.template_starting is not None or (
                slot.template is not None and slot.template.alive):
            return None
        zygote = self._zygote_for(slot.fv)
        return zygote if zygote is not None and zygote.shows(slot.fv) else None

    def start_beside(self, slot: TemplateSlot) -> None:
        """Start the slot's template without waiting for it (a failed init is the next cold
        start's to report: it starts another)."""
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self.get(slot))
        self._starting.add(task)
        task.add_done_callback(self._started_beside)

    def _started_beside(self, task: asyncio.Task[Template | bytes | None]) -> None:
        self._starting.discard(task)
        if not task.cancelled():
            task.exception()  # (retrieved: an OSError there is the next cold start's too)

    def running(self, slot: TemplateSlot) -> Template | None:
        """The slot's template if it is alive (a cold start forks from it)."""
        template = slot.template
        return template if template is not None and template.alive else None

    def forget(self, slot: TemplateSlot) -> None:
        """The slot's template failed to fork: kill it; the next cold start starts another."""
        if slot.template is not None:
            slot.template.kill()
            slot.template = None

    def stop(self, slot: TemplateSlot) -> None:
        if slot.template is not None:
            slot.template.stop()
            slot.template = None
            self._touch_zygote(slot.fv)

    def reap(self, slot: TemplateSlot, now: float, instances_live: bool) -> None:
        """Forget a dead template; stop one idle past its version's keep_alive (when no
        instance of the version is alive: forked ones die with it)."""
        template = slot.template
        if template is None:
            return
        if not template.alive:
            slot.template = None
        elif (
            not template.busy
            and now - template.last_used >= slot.fv.keep_alive
            and not instances_live
        ):
            template.stop()
            slot.template = None
            self._touch_zygote(slot.fv)

    def close(self, slots: Iterable[TemplateSlot]) -> None:
        """Kill the slots' templates and every zygote."""
        self._closed = True
        for slot in slots:
            if slot.template is not None:
                slot.template.kill()
        for zygote in [*self._zygotes.values(), *self._retired]:
            zygote.kill()
        self._zygotes.clear()
        self._retired.clear()
        for task in self._zygote_tasks:
            task.cancel()
        for started in self._starting:
            started.cancel()

    # -- zygotes: a layer's imports kept for the next version's template -------------------------

    def _new_template(self, fv: FunctionVersion, zygote: Zygote | None) -> Template:
        return Template(fv, self._sink, self._on_child_gone, zygote=zygote,
                        on_modules=self._template_modules if self.zygotes_enabled else None)

    def _zygote_for(self, fv: FunctionVersion) -> Zygote | None:
        """The ready zygote for `fv`'s layer and environment, if there is one."""
        if fv.layer_dir is None or not self.zygotes_enabled:
            return None
        key = zygote_key(fv)
        zygote = self._zygotes.get(key)
        if zygote is None or not zygote.alive or not zygote.ready.done():
            return None
        self._zygote_used[key] = time.monotonic()
        return zygote

    def _template_modules(self, template: Template) -> None:
        """A template said what it imported: start its layer's zygote, for the next version."""
        fv = template.fv
        if fv.layer_dir is None or self._closed:
            return
        key = zygote_key(fv)
        current = self._zygotes.get(key)
        if key in self._declined or (current is not None and current.alive):
            return
        self._zygote_later(key, fv, template.modules)

    def _zygote_later(self, key: ZygoteKey, fv: FunctionVersion, modules: list[str]) -> None:
        """Start the zygote of `key` (importing `modules`, aloft's runtime from `fv`'s code)
        unless one is starting."""
        def declined(peers: list[str]) -> None:
            self._declined.add(key)
            self._sink.write(fv.function, fv.version, None, (
                f"aloft: importing the dependency layer opened a connection ({', '.join(peers)}) "
                "that every process forked from its zygote would share: this layer's templates "
                "and instances start fresh instead, each importing it (docs/local-cloud.md: "
                "Zygotes)"))

        if key in self._zygotes_starting:
            return
        # Its view of the artifact store (the version's code linked in: a large tree takes a
        # while) is made in a worker thread, not on the event loop, before it starts.
        self._zygotes_starting.add(key)
        task = asyncio.get_running_loop().create_task(
            self._start_zygote(key, fv, modules, declined))
        self._zygote_tasks.add(task)
        task.add_done_callback(self._zygote_tasks.discard)

    async def _start_zygote(self, key: ZygoteKey, fv: FunctionVersion, modules: list[str],
                            declined: Callable[[list[str]], None]) -> None:
        assert fv.layer_dir is not None
        try:
            view = await asyncio.to_thread(new_view, fv)
        except OSError:
            return
        finally:
            self._zygotes_starting.discard(key)
        current = self._zygotes.get(key)
        if self._closed or key in self._declined or (current is not None and current.alive):
            if view is not None:
                view.remove()
            return
        try:
            self._zygotes[key] = Zygote(fv, fv.layer_dir, modules, zygote_env(fv),
                                        spare=self.zygote_spares, on_declined=declined,
                                        view=view)
        except OSError:
            return
        self._zygote_used[key] = time.monotonic()
        self._on_process()

    def retire_zygotes(self, templates: Iterable[Template]) -> int:
        """The isolation hides more than when the zygotes started (a project was deployed:
        the pool's renarrow): they saw it, and a layer's import-time code runs in them. None
        forks again: a new zygote of each layer starts in its place at once (the layer's cold
        starts after idle stay forks), narrowed to the new view. Each stops now, or once what
        it forked is gone (that dies with it: the pool stops those once they have answered):
        instances, and of `templates` (those still alive), its forks. Returns how many were
        retired."""
        retired = list(self._zygotes.items())
        self._zygotes.clear()
        self._zygote_used.clear()
        self._retired.update(zygote for _, zygote in retired)
        self._stop_retired(templates)
        if not self._closed:
            for key, zygote in retired:
                if key not in self._declined:
                    self._zygote_later(key, zygote.fv, zygote.modules)
        return len(retired)

    @property
    def retiring(self) -> bool:
        """Whether a retired zygote waits for what it forked (instances, templates) to end."""
        return bool(self._retired)

    def _stop_retired(self, templates: Iterable[Template]) -> None:
        forked = {t.zygote for t in templates if t.alive}
        for zygote in list(self._retired):
            if not zygote.alive or not (zygote.busy or zygote in forked):
                zygote.stop()
                self._retired.discard(zygote)

    def _touch_zygote(self, fv: FunctionVersion) -> None:
        """A template of `fv`'s layer was alive until now: its zygote's idle time starts."""
        if self._zygotes and fv.layer_dir is not None:
            key = zygote_key(fv)
            if key in self._zygotes:
                self._zygote_used[key] = time.monotonic()

    def next_zygote_stop(self, now: float) -> float | None:
        """Seconds until the first zygote is due to stop if no template uses it; None when
        there is no zygote; 0 while a retired one waits for what it forked to end."""
        if self._retired:
            return 0.0
        if not self._zygotes:
            return None
        used = min(self._zygote_used.get(key, 0.0) for key in self._zygotes)
        return max(0.0, used + self.zygote_idle - now)

    def stop_unused_zygotes(self, slots: Iterable[TemplateSlot], now: float,
                            others: Iterable[Template] = ()) -> None:
        """A zygote lives while a template of its layer and environment does, or an instance
        it forked (what it forked dies with it), and `zygote_idle` seconds after the last one
        stopped: the layer's functions then have no process of their own, and the first
        request of any of them is a template forked from the zygote (importing its own code
        only) and its first fork. A retired zygote stops once nothing it forked lives: no
        instance, no template of `slots` or of `others` (templates the pool stops)."""
        slots = list(slots)
        if self._retired:  # (the reaper's every pass: nothing built when none is retired)
            self._stop_retired([*(s.template for s in slots if s.template is not None),
                                *others])
        if not self._zygotes:
            return
        for slot in slots:
            if slot.fv.layer_dir is not None and slot.holds_template:
                key = zygote_key(slot.fv)
                if key in self._zygotes:
                    self._zygote_used[key] = now
        for key, zygote in list(self._zygotes.items()):
            if zygote.busy:  # instances it forked live (they would die with it)
                self._zygote_used[key] = now
            if not zygote.alive or now - self._zygote_used.get(key, 0.0) >= self.zygote_idle:
                zygote.stop()
                del self._zygotes[key]
                self._zygote_used.pop(key, None)


async def _shown(zygote: Zygote, fv: FunctionVersion) -> Zygote | None:
    """`zygote`, once `fv`'s code is in its view (linked in a worker thread: a new version's
    first template); None when it cannot be, or the zygote stopped meanwhile (the template
    starts fresh)."""
    try:
        await asyncio.to_thread(zygote.show, fv)
    except OSError:
        return None
    return zygote if zygote.alive else None


def called_off(fv: FunctionVersion) -> bytes:
    """The error of an init that was called off (its deploy was cancelled)."""
    message = f"the start of {fv.function} version {fv.version} was called off"
    return json.dumps({"errorMessage": message, "errorType": "Runtime.StartError"}).encode()


def cannot_start(fv: FunctionVersion, exc: OSError) -> bytes:
    """Lambda's error object for a runtime process that could not even be started."""
    message = (
        f"cannot start an instance of {fv.function} version {fv.version} "
        f"(code in {fv.code_dir}): {exc.strerror or exc}"
    )
    return json.dumps({"errorMessage": message, "errorType": "Runtime.StartError"}).encode()


# What differs between two versions of one function even when only its code changed, and
# between two functions of one service: not part of a zygote's key, nor in its environment (the
# version, its log stream and credentials, its code dir and the loader path holding it; the
# function's name, memory, log group: read when used, not when a dependency is imported; the
# template that the zygote forks has its own values).
_PER_VERSION_ENV = frozenset({
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    "LD_LIBRARY_PATH", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "ALOFT_FUNCTION",
})


def zygote_env(fv: FunctionVersion) -> dict[str, str]:
    """The environment a zygote of `fv`'s layer imports its modules in: what every function and
    version sharing it has alike (its key's)."""
    return {k: v for k, v in fv.environment.items() if k not in _PER_VERSION_ENV}


def zygote_key(fv: FunctionVersion) -> ZygoteKey:
    """Layer, shared environment, and interpreter with Lambda's runtime layer (one layer may
    serve two Pythons when its packages are pure)."""
    runtime = f"{fv.python or ''}:{fv.runtime_dir or ''}"
    return str(fv.layer_dir), frozenset(zygote_env(fv).items()), runtime
