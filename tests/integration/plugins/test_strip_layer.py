"""The strip_dependencies packaging plugin on a real build of examples/fastapi-items (pip
installs fastapi): the layer loses its stubs and markers, and enabling the plugin builds a new
cache entry instead of reusing the plain layer."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.integration.plugins.plugin_helpers import run_aloft

pytestmark = pytest.mark.slow


def layer(root: Path, env: dict[str, str]) -> tuple[dict[str, Any], list[zipfile.ZipInfo]]:
    built = run_aloft(["package", "--json"], cwd=root, env=env, timeout=600)
    assert built.returncode == 0, built.stderr
    manifest = json.loads(built.stdout)
    with zipfile.ZipFile(manifest["layer"]["path"]) as zf:
        return manifest, zf.infolist()


def test_the_plugin_shrinks_the_fastapi_layer(repo_root: Path, tmp_path: Path,
                                              aloft_cache: Path) -> None:
    root = tmp_path / "fastapi-items"
    shutil.copytree(repo_root / "examples" / "fastapi-items", root,
                    ignore=shutil.ignore_patterns(".aloft", "__pycache__"))
    env = {"ALOFT_CACHE_DIR": str(aloft_cache), "NO_COLOR": "1"}
    plain, plain_files = layer(root, env)

    config = root / "aloft.yml"
    config.write_text(config.read_text()
                      + "plugins: [aloft.plugins.builtin.strip_dependencies]\n")
    stripped, stripped_files = layer(root, env)

    assert stripped["cached_layer"] is False  # the plain layer's cache entry is not reused
    names = [i.filename for i in stripped_files]
    assert not [n for n in names if n.endswith((".pyi", "/py.typed")) or "/__pycache__/" in n]
    assert any(n.endswith(".pyi") for n in (i.filename for i in plain_files))
    assert "python/fastapi/applications.py" in names  # the code itself stays
    assert len(stripped_files) < len(plain_files)
    assert sum(i.file_size for i in stripped_files) < sum(i.file_size for i in plain_files)
    assert stripped["layer"]["size"] < plain["layer"]["size"]

    again, _ = layer(root, env)
    assert again["cached_layer"] is True and again["layer"] == stripped["layer"]
