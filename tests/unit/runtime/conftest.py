"""Fixtures for runtime tests: a throw-away artifact (user modules + aloft_settings.json) in a
tmp dir, initialised through the real entry point `aloft.runtime.handler`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aloft.runtime import handler as runtime
from tests.unit.runtime.runtime_helpers import make_settings

Deploy = Callable[..., runtime.Instance]


@pytest.fixture
def deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deploy]:
    """deploy({"mod": "source"}, app="mod:app" | handlers={"fn": "mod.func"}, function=...,
    records="each", env={...}, **settings) -> the initialised Instance."""
    root = tmp_path / "artifact"
    root.mkdir()

    def _deploy(
        modules: dict[str, str],
        *,
        app: str | None = None,
        handlers: dict[str, str] | None = None,
        function: str | None = None,
        records: str = "batch",
        env: dict[str, str] | None = None,
        **settings: Any,
    ) -> runtime.Instance:
        for name, source in modules.items():
            path = root / (name.replace(".", "/") + ".py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        functions: dict[str, Any] = {}
        django = settings.get("django_settings")
        if app or django:
            functions["app"] = {"handler": None, "records": "batch", "payload": "2.0"}
        for fn, ref in (handlers or {}).items():
            functions[fn] = {"handler": ref, "records": records, "payload": "2.0"}
        data = make_settings(app=app, functions=functions, **settings)
        settings_file = root / "aloft_settings.json"
        settings_file.write_text(json.dumps(data))
        monkeypatch.setenv("ALOFT_SETTINGS", str(settings_file))
        monkeypatch.delenv("ALOFT_FUNCTION", raising=False)
        monkeypatch.delenv("ALOFT_BASE_PATH", raising=False)
        monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
        if function:
            monkeypatch.setenv("ALOFT_FUNCTION", function)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        runtime.reset()
        _forget(root)
        return runtime.init()

    yield _deploy
    runtime.reset()
    _forget(root)
    if str(root) in sys.path:
        sys.path.remove(str(root))


def _forget(root: Path) -> None:
    """Drop modules imported from the artifact so the next test imports its own."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(str(root)):
            del sys.modules[name]
