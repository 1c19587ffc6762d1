"""A Django 5 project configured only by zappa_settings.json (tests/e2e/zappa_django: Django's
startproject settings, PostgreSQL, STATIC_URL "static/" and STATIC_ROOT in the project, no
aloft key anywhere), as a Zappa user switching to aloft runs it: deploy (the database is not
migrated yet: the first deploy publishes anyway and says so), `manage migrate`, `manage
collectstatic`, a superuser with `invoke --raw`, then the admin in Chromium under the path
prefix and at the stage host, styled: its stylesheets answer 200 and apply. The test creates
and drops its own database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright import sync_api as playwright_api

from tests.e2e.scenario_helpers import (
    NEEDS_CHROMIUM,
    Cli,
    chromium_page,
    copy_project,
    create_superuser,
    database_fixture,
    http,
    log_into_admin,
    needs_postgres,
    scenario_cli,
)

PROJECT = Path(__file__).parent / "zappa_django"
PASSWORD = "e2e-" + uuid.uuid4().hex[:12]

pytestmark = [NEEDS_CHROMIUM, needs_postgres()]
database = database_fixture("aloft_zappa")


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("zappa-django")
    site = copy_project(PROJECT, root / "site", "staticfiles")
    settings_file = site / "zappa_settings.json"
    settings = json.loads(settings_file.read_text())
    settings["dev"]["environment_variables"]["DB_NAME"] = database
    settings_file.write_text(json.dumps(settings, indent=4))
    with scenario_cli(root, site, {"DJANGO_SECRET_KEY": uuid.uuid4().hex}) as c:
        yield c


def fetch(url: str) -> tuple[int, bytes]:
    """GET `url`, a stage host's too (`*.localhost`, which browsers resolve to the loopback
    address and the system resolver may not): the request goes to 127.0.0.1 with its Host."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.hostname.endswith(".localhost"):
        return http(url)
    loopback = parts._replace(netloc=f"127.0.0.1:{parts.port}").geturl()
    return http(loopback, headers={"Host": parts.netloc})


def styled(page: playwright_api.Page, stylesheets: dict[str, int], url: str) -> None:
    """`url` (the admin's login page) loads with the admin's stylesheet, which applies."""
    stylesheets.clear()
    page.goto(url)
    assert page.title().startswith("Log in")
    css = [u for u in stylesheets if u.endswith("/admin/css/base.css")]
    assert css and stylesheets[css[0]] == 200, stylesheets
    assert fetch(css[0])[0] == 200
    # The admin's CSS applied: the header is the admin's colour, not the browser's default
    # (transparent), and the login box has the width login.css gives it.
    assert page.evaluate("getComputedStyle(document.querySelector('#header'))"
                         ".backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.evaluate("getComputedStyle(document.querySelector('#container')).width") \
        != page.evaluate("getComputedStyle(document.body).width")


def test_zappa_django_admin_is_styled_after_deploy_migrate_and_superuser(
        cli: Cli, database: str) -> None:
    first = cli("deploy", "dev")
    # Not migrated yet: GET / reads auth_user and answers 500; the first deploy publishes.
    assert "published anyway" in first.stdout + first.stderr
    hosts = [line.split()[-1] for line in first.stdout.splitlines()
             if "localhost" in line or "127.0.0.1" in line]
    stage_host = next(h for h in hosts if ".localhost:" in h)
    assert stage_host == f"http://dev.zapsite.localhost:{cli.port}/"
    migrated = cli("manage", "dev", "migrate", "--noinput")
    assert "Applying auth.0001_initial... OK" in migrated.stdout + migrated.stderr
    collected = cli("manage", "dev", "collectstatic", "--noinput")
    assert "served at /static/" in collected.stdout + collected.stderr
    create_superuser(cli, database, PASSWORD)
    assert http(cli.url("/zapsite/dev/")) == (200, b"1 users\n")

    with chromium_page() as (page, stylesheets):
        styled(page, stylesheets, f"{stage_host}admin/login/")
        assert f"{stage_host}static/admin/css/base.css" in stylesheets
        styled(page, stylesheets, cli.url("/zapsite/dev/admin/login/"))
        assert cli.url("/zapsite/dev/static/admin/css/base.css") in stylesheets
        log_into_admin(page, PASSWORD, "zappa-django-admin.png")
        assert page.url == cli.url("/zapsite/dev/admin/")
