"""`aloft dev`: a stage on the local cloud, redeployed whenever a project file is saved.

The loop is plain: snapshot the project's file mtimes every `interval` (100 ms), and on a change
rebuild the code zip (the dependency layer comes from the build cache, so this is a code-only
zip) and deploy it to the local cloud like `aloft deploy`, which health-checks the new version
before switching the alias. A save that breaks the app is reported and the old version keeps
serving. The save→serving latency of each reload is measured and printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aloft.cli.log_view import LogView, Shown
from aloft.config.models import Service
from aloft.local.control.client import CloudClient
from aloft.local.provider import run_on
from aloft.package import build
from aloft.package.django_static import served
from aloft.provider import LogLine
from aloft.stage.names import function_name

_SKIP_DIRS = frozenset({".aloft", ".git", ".hg", "__pycache__", "node_modules", ".venv", "venv",
                        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", "build", "dist"})
MAX_FILES = 20_000
"""Beyond this many files the watcher stops looking further (a mis-rooted project)."""

Snapshot = dict[str, int]


def snapshot(root: Path) -> Snapshot:
    """mtime (ns) of every file under `root` a build may pick up, by relative path."""
    found: Snapshot = {}
    stack = [root]
    while stack and len(found) < MAX_FILES:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _SKIP_DIRS and not entry.name.endswith(".egg-info") and \
                        not os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                    stack.append(Path(entry.path))
            elif entry.is_file() and not entry.name.endswith((".pyc", ".swp", "~")):
                try:
                    found[os.path.relpath(entry.path, root)] = entry.stat().st_mtime_ns
                except OSError:
                    continue
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or modified between two snapshots, sorted."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


class InitOutputGate:
    """Passes the stage's log lines on to `emit`, but for the init output of a version that does
    not serve (yet): a version that fails its health check is reported by the deploy's error,
    with the user's frames, and its log lines would say the same again (twice when an attempt
    forked from a zygote is retried in a fresh process). Held lines are shown once their
    version serves, dropped when its deploy fails (or when the next deploy begins: what is
    still held then came from an attempt that failed)."""

    def __init__(self, emit: Callable[[dict[str, Any]], None]):
        self._emit = emit
        self._lock = threading.Lock()
        self._serving: dict[str, int] = {}  # physical function -> serving version
        self._held: list[dict[str, Any]] = []

    def _serves(self, line: dict[str, Any]) -> bool:
        return int(line.get("version") or 0) <= self._serving.get(str(line["function"]), 0)

    def line(self, line: dict[str, Any]) -> None:
        with self._lock:
            if line.get("request_id") is None and not self._serves(line):
                self._held.append(line)
                return
        self._emit(line)

    def deploying(self, now: float) -> None:
        with self._lock:
            self._held = [line for line in self._held if float(line["timestamp"]) >= now]

    def served(self, versions: dict[str, int]) -> None:
        with self._lock:
            self._serving.update(versions)
            ready = [line for line in self._held if self._serves(line)]
            self._held = [line for line in self._held if not self._serves(line)]
        for line in ready:
            self._emit(line)

    def failed(self) -> None:
        with self._lock:
            self._held.clear()


@dataclass(frozen=True)
class Reload:
    files: list[str]
    version: int | None  # None: the deploy failed and the old version keeps serving
    latency_ms: float  # from the newest save to the new version serving (or to the failure)
    error: str | None = None
    replaced: int | None = None  # the earlier `aloft dev` version this one replaced


class DevSession:
    """Deploys `load()`'s service to the local cloud behind `client`, on start and on saves."""

    def __init__(self, root: Path, load: Callable[[], Service], client: CloudClient,
                 gate: InitOutputGate | None = None):
        self.root = root
        self.load = load
        self.client = client
        self.gate = gate
        self.service: Service | None = None

    def deploy(self, *, show: bool = False) -> dict[str, Any]:
        """Build (from cache) and deploy; the daemon's answer (url, version, functions...).
        `show` displays each step's progress (packaging, uploading, waiting)."""
        from aloft.cli import render

        service = self.load()
        progress = render.StepProgress(quiet=not show)
        try:
            manifest = build(service, progress=progress if show else None)
            # Lambda's boto3 for the artifact's Python (its first install shows as a step)
            runtime, warnings = run_on(service, manifest.python_version,
                                       progress if show else None)
        finally:
            progress.close()
        service = served(service, manifest)  # Django's static files, found at build
        if show and self.service is None:  # once, not at every reload
            for warning in warnings:
                render.warning(warning)
        missing = [a for a in (manifest.code, manifest.layer)
                   if a is not None and not self.client.has_artifact(a.sha256)]
        if missing:
            size = render.human_size(sum(a.size for a in missing))
            with render.waiting(f"uploading {size}…", f"uploaded {size}", quiet=not show):
                for artifact in missing:
                    self.client.put_artifact(artifact.sha256, artifact.path)
        if self.gate is not None:
            self.gate.deploying(time.time())
        deploy_id = uuid.uuid4().hex
        try:
            with render.waiting("waiting for the new version's health check…",
                                "healthy and serving", quiet=not show):
                result: dict[str, Any] = self.client.call("POST", "deploy", {
                    "service": service.model_dump(mode="json"),
                    "code_sha256": manifest.code.sha256,
                    "layer_sha256": manifest.layer.sha256 if manifest.layer else None,
                    "tasks": manifest.tasks,
                    "plan_only": False,
                    "deploy_id": deploy_id,
                    "dev": True,  # replaces the previous `aloft dev` version, not one more
                    "runtime": runtime,
                })
        except KeyboardInterrupt:  # Ctrl-C during a reload: call it off, then stop
            self._call_off(service, deploy_id)
            raise
        except Exception:
            if self.gate is not None:
                self.gate.failed()
            raise
        if self.gate is not None:
            self.gate.served({function_name(service.service, service.stage, name): int(version)
                              for name, version in (result.get("functions") or {}).items()})
        self.service = service
        return result

    def _call_off(self, service: Service, deploy_id: str) -> None:
        """Best effort: a deploy still waiting for its health check would hold the daemon's
        stop (it lets requests in flight finish) and serve after aloft dev ended."""
        from aloft.errors import AloftError
        from aloft.local.provider import CANCEL_TIMEOUT

        with contextlib.suppress(AloftError, OSError):
            self.client.call("POST", "deploy/cancel", {
                "deploy_id": deploy_id, "service": service.service, "stage": service.stage,
            }, timeout=CANCEL_TIMEOUT, start=False)

    def watch(self, stop: threading.Event, interval: float = 0.1,
              since: Snapshot | None = None) -> Iterator[Reload]:
        """Yield one Reload per burst of saves until `stop` is set; `since`: the files as they
        were when the deploy that serves now was built (a save after it is a change, however
        soon it comes)."""
        from aloft.cli.errors import error_text
        from aloft.errors import AloftError

        seen = snapshot(self.root) if since is None else since
        while not stop.wait(interval):
            now = snapshot(self.root)
            files = changed(seen, now)
            if not files:
                continue
            time.sleep(interval / 2)  # editors write a file in several steps: let them finish
            now = snapshot(self.root)
            files = changed(seen, now)
            seen = now
            saved = max((now[f] for f in files if f in now), default=time.time_ns()) / 1e9
            try:
                result = self.deploy()
            except AloftError as exc:
                yield Reload(files, None, (time.time() - saved) * 1000, error_text(exc))
                continue
            yield Reload(files, int(result.get("version") or 0), (time.time() - saved) * 1000,
                         replaced=result.get("replaced"))


class LogPrinter:
    """The control API's log lines shown as `aloft.cli.log_view` shows them (an HTTP request's
    output under its request line). Thread-safe: the follower feeds it, and so does the gate
    when a version's held init output may show."""

    def __init__(self, prefix: str, show: Callable[[Shown], None]):
        self.prefix, self.show = prefix, show
        self._view = LogView()
        self._lock = threading.RLock()  # (`batch` holds it while `line` takes it again)

    def batch(self) -> contextlib.AbstractContextManager[object]:
        """Held while one poll's lines are fed: a flush (Ctrl-C) cannot come between an
        invocation's REPORT and its request line, which come in the same poll, and show its
        START/END/REPORT lines as if it were not an HTTP request."""
        return self._lock

    def line(self, line: dict[str, Any]) -> None:
        with self._lock:
            self._show(self._view.feed(LogLine(
                timestamp=float(line["timestamp"]),
                function=str(line["function"]).removeprefix(self.prefix),
                text=str(line["text"]), request_id=line.get("request_id"))))

    def tick(self) -> None:
        """Show the lines that waited long enough for a request line."""
        with self._lock:
            self._show(self._view.due())

    def flush(self) -> None:
        with self._lock:
            self._show(self._view.flush())

    def _show(self, shown: list[Shown]) -> None:
        for item in shown:
            self.show(item)


class LogFollower(threading.Thread):
    """Long-polls the stage's log lines and hands each to `emit` until stopped; `tick` runs
    after every poll (at least every `wait` seconds)."""

    def __init__(self, client: CloudClient, service: str, stage: str,
                 emit: Callable[[dict[str, Any]], None],
                 tick: Callable[[], None] | None = None, *, wait: float = 0.5,
                 batch: Callable[[], contextlib.AbstractContextManager[object]] | None = None):
        super().__init__(name="aloft-dev-logs", daemon=True)
        self.client, self.service, self.stage, self.emit = client, service, stage, emit
        self.tick = tick
        self.batch = batch or contextlib.nullcontext  # held while one poll's lines are emitted
        self.wait = wait
        self.stop = threading.Event()

    def run(self) -> None:
        query: dict[str, Any] = {"service": self.service, "stage": self.stage,
                                 "since": time.time()}
        cursor = 0
        while not self.stop.is_set():
            # A plain request, not `client.call`: that would start a daemon that is gone, and
            # this thread must never outlive (or revive) the cloud aloft dev stops.
            path = "/_aloft/api/logs?" + urlencode({**query, "after": cursor, "wait": self.wait})
            try:
                status, _, body = self.client.request("GET", path, timeout=10)
                data = json.loads(body) if status == 200 else None
            except (OSError, ValueError):
                data = None
            if not isinstance(data, dict):  # not deployed yet, or the daemon is stopping
                self.stop.wait(0.5)
            else:
                cursor = max(cursor, int(data.get("cursor") or 0))
                with self.batch():
                    for line in data.get("lines") or []:
                        self.emit(line)
            if self.tick is not None:
                self.tick()
