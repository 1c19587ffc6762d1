"""The FastAPI and Django examples answer `aloft invoke --local` (their own dependencies)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli.cli_run import Aloft

pytestmark = pytest.mark.slow


def reply(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


def test_fastapi_items_lifespan_and_crud(aloft: Aloft, example: Callable[[str], Path]) -> None:
    root = example("fastapi-items")
    listed = aloft("invoke", "--local", "app", "--path", "/items", cwd=root)
    assert listed.returncode == 0, listed.stderr
    items = json.loads(reply(listed.stdout)["body"])
    assert [item["name"] for item in items] == ["teapot"]  # seeded by the lifespan handler
    created = aloft("invoke", "--local", "app", "--path", "/items", "--method", "POST",
                    "-H", "content-type: application/json",
                    "--body", '{"name": "kettle", "price": 30}', cwd=root)
    assert created.returncode == 0, created.stderr
    answer = reply(created.stdout)
    assert answer["statusCode"] == 201
    assert json.loads(answer["body"]) == {"name": "kettle", "price": 30.0, "tags": [], "id": 2}
    missing = aloft("invoke", "--local", "app", "--path", "/items/99", cwd=root)
    assert reply(missing.stdout)["statusCode"] == 404


def test_django_site_migrates_and_serves_the_admin(aloft: Aloft, example: Callable[[str], Path],
                                                   tmp_path: Path) -> None:
    root = example("django-site")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    migrate = aloft("invoke", "--local", "app", "--data",
                    '{"aloft": "manage", "args": ["migrate", "--noinput"]}', cwd=root, env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert "Applying auth.0001_initial... OK" in reply(migrate.stdout)["output"]
    home = aloft("invoke", "--local", "app", "--path", "/", cwd=root, env=env)
    assert home.returncode == 0, home.stderr
    page = reply(home.stdout)
    assert page["statusCode"] == 200
    assert "Hello from Django on aloft!" in page["body"]
    # STATIC_BUCKET is wired from resources.buckets.static: static URLs point at the bucket.
    assert "django-site-dev-static" in page["body"]
    login = aloft("invoke", "--local", "app", "--path", "/admin/login/", cwd=root, env=env)
    assert reply(login.stdout)["statusCode"] == 200
    health = aloft("invoke", "--local", "app", "--path", "/health", cwd=root, env=env)
    assert reply(health.stdout)["body"] == "ok"
