"""Scenario 2 (examples/django-site): Django's admin on PostgreSQL, static files in a bucket of
the local AWS endpoint. Deploy, migrate, collectstatic, create the superuser with `invoke --raw`,
then log in with headless Chromium: the page comes from the function, its stylesheet from the
bucket's URL. The test creates and drops its own database."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright import sync_api as playwright_api

from tests.e2e.scenario_helpers import ARTIFACTS, Cli, copy_example, http

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu",
               "--no-first-run"]
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "e2e-" + uuid.uuid4().hex[:12]


def _postgres_up() -> bool:
    try:
        psycopg.connect(SERVER, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed "
                       "(make browser)"),
    pytest.mark.skipif(not _postgres_up(), reason="no PostgreSQL on 127.0.0.1:5432"),
]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    name = f"aloft_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("django")
    c = Cli(root / "home", copy_example("django-site", root / "site"), root / "cache",
            env={"DATABASE_URL": database, "DJANGO_SECRET_KEY": uuid.uuid4().hex})
    yield c
    c.stop()


def test_django_admin_with_static_files_in_a_bucket(cli: Cli, database: str) -> None:
    cli("deploy", "dev")
    migrated = cli("manage", "dev", "migrate", "--noinput")
    assert "Applying auth" in migrated.stdout + migrated.stderr
    collected = cli("manage", "dev", "collectstatic", "--noinput")
    assert "static files copied" in collected.stdout + collected.stderr
    cli("invoke", "dev", "--raw",  # the exact command: FUNCTION defaults to app
        "from django.contrib.auth.models import User; "
        f"User.objects.create_superuser('admin', 'admin@example.com', '{PASSWORD}')")
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT username, is_superuser FROM auth_user").fetchone()
    assert row == ("admin", True)

    status = json.loads(cli("cloud", "status", "--json").stdout)
    endpoint = status["aws_endpoint"]["url"]
    bucket_url = f"{endpoint}/django-site-dev-static/"
    code, css = http(bucket_url + "admin/css/base.css")
    assert code == 200 and b"body" in css

    login = cli.url("/django-site/dev/admin/login/")
    stylesheets: dict[str, int] = {}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.on("response", lambda r: stylesheets.__setitem__(r.url, r.status)
                    if r.request.resource_type == "stylesheet" else None)
            page.goto(login)
            assert page.title().startswith("Log in")
            base = bucket_url + "admin/css/base.css"
            assert stylesheets.get(base) == 200, stylesheets
            # The stylesheet applied: the login box is laid out by the admin's CSS.
            width = page.evaluate("getComputedStyle(document.querySelector('#container'))"
                                  ".width")
            assert width != "auto"
            page.fill("#id_username", "admin")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector("text=Site administration")
            page.screenshot(path=str(ARTIFACTS / "django-admin.png"), full_page=True)
            assert "/django-site/dev/admin/" in page.url
        finally:
            browser.close()
