"""Helpers for the data plane's integration tests: artifact dirs holding the real runtime, a log
sink that records, and an event loop in a thread so that one pool serves a whole module."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal, TypeVar

import flask

from aloft.local.types import FunctionVersion

SRC = Path(__file__).resolve().parents[3] / "src" / "aloft"
SITE_PACKAGES = Path(flask.__file__).resolve().parent.parent  # Flask and friends: a "layer"
T = TypeVar("T")


def build_artifact(
    root: Path,
    modules: Mapping[str, str],
    functions: Mapping[str, str | None],
    *,
    app: str | None = None,
) -> Path:
    """A code dir like the packager's: aloft/ (the real runtime), aloft_settings.json, modules."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "aloft").mkdir()
    shutil.copy(SRC / "__init__.py", root / "aloft" / "__init__.py")
    shutil.copytree(SRC / "runtime", root / "aloft" / "runtime",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name, source in modules.items():
        (root / name).write_text(source)
    settings = {
        "service": "svc",
        "stage": "dev",
        "app": app,
        "django_settings": None,
        "functions": {
            name: {"handler": handler, "records": "batch", "payload": "2.0"}
            for name, handler in functions.items()
        },
        "exception_handler": None,
        "binary_types": [],
        "debug": False,
        "task_function": None,
        "slim": False,
    }
    (root / "aloft_settings.json").write_text(json.dumps(settings))
    return root


def function_version(
    code_dir: Path,
    name: str,
    *,
    version: int = 1,
    memory: int = 256,
    timeout: int = 5,
    concurrency: int | None = None,
    keep_alive: int = 600,
    snapshot: bool = True,
    layer_dir: Path | None = None,
    payload: Literal["2.0", "1.0"] = "2.0",
    physical: str | None = None,
) -> FunctionVersion:
    physical = physical or f"svc-dev-{name}"
    env = {
        "ALOFT_FUNCTION": name,
        "AWS_LAMBDA_FUNCTION_NAME": physical,
        "AWS_LAMBDA_FUNCTION_VERSION": str(version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "ALOFT_BASE_PATH": "/svc/dev",
    }
    return FunctionVersion(
        function=physical,
        version=version,
        code_dir=code_dir,
        layer_dir=layer_dir,
        memory=memory,
        timeout=timeout,
        concurrency=concurrency,
        keep_alive=keep_alive,
        environment=env,
        snapshot=snapshot,
        payload=payload,
    )


class RecordingSink:
    """A LogSink keeping (function, version, request_id, line) in memory, an entry of several
    lines as its lines (as the log store reads them back)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, int, str | None, str]] = []
        self.entries: list[str | None] = []  # the request id of each entry
        self.streams: dict[str | None, set[str | None]] = {}  # request id -> its entries'

    def write(self, function: str, version: int, request_id: str | None, text: str,
              stream: str | None = None) -> None:
        self.entries.append(request_id)
        self.streams.setdefault(request_id, set()).add(stream)
        self.lines.extend((function, version, request_id, line) for line in text.split("\n"))

    def for_request(self, request_id: str) -> list[str]:
        return [text for _, _, rid, text in self.lines if rid == request_id]


class LoopThread:
    """An event loop running in a thread: module-scoped async fixtures without plugins."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.submit(coro).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 60) -> T:
        """Run `fn` on the loop's thread: the pool's file descriptors belong to that thread
        (a call from another thread races the loop's own readers)."""

        async def on_loop() -> T:
            return fn()

        return self.run(on_loop(), timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()
