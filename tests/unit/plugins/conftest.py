"""Project plugins are imported from the project directory: each test gets its own module names
and leaves sys.path and sys.modules as it found them."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def clean_imports() -> Iterator[None]:
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if not name.startswith(("aloft", "pydantic", "click", "pluggy")):
            del sys.modules[name]


@pytest.fixture
def project(tmp_path: Path) -> Callable[..., Path]:
    """project(config, {"file.py": text}) -> the project directory (dedented files)."""

    def write(config: str, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / "proj"
        root.mkdir(exist_ok=True)
        (root / "aloft.yml").write_text(textwrap.dedent(config).lstrip())
        (root / "app.py").write_text("def app(environ, start_response):\n    return [b'']\n")
        for name, text in (files or {}).items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(textwrap.dedent(text))
        return root

    return write
