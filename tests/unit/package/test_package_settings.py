from __future__ import annotations

import json
import zipfile
from pathlib import Path

from aloft.package import build, runtime_settings
from tests.unit.package.package_fakes import FakePip, make_service


def test_settings_carry_what_the_runtime_needs(project: Path) -> None:
    service = make_service(
        project,
        functions={"jobs": {"handler": "jobs.run", "records": "each"}},
        exception_handler="errors.report",
        binary_types=["image/png"],
        debug=True,
        tasks={"function": "jobs"},
        payload="1.0",
    )
    settings = runtime_settings(service)
    assert settings == {
        "service": "x",
        "stage": "dev",
        "app": "app:app",
        "django_settings": None,
        "functions": {
            "app": {"handler": None, "records": "batch", "payload": "1.0"},
            "jobs": {"handler": "jobs.run", "records": "each", "payload": "2.0"},
        },
        "exception_handler": "errors.report",
        "binary_types": ["image/png"],
        "debug": True,
        "task_function": "jobs",
        "slim": False,
    }


def test_settings_file_in_the_code_zip(project: Path, tmp_path: Path) -> None:
    service = make_service(project, slim=True)
    manifest = build(service, cache_dir=tmp_path / "c", pip=FakePip())
    with zipfile.ZipFile(manifest.code.path) as zf:
        written = json.loads(zf.read("aloft_settings.json"))
    assert written == json.loads(json.dumps(runtime_settings(service)))
    assert written["slim"] is True
