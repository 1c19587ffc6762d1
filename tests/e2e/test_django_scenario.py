"""Scenario 2 (examples/django-site): Django's admin on PostgreSQL, static files in a bucket of
the local AWS endpoint. Deploy, migrate, collectstatic, create the superuser with `invoke --raw`,
then log in with headless Chromium: the page comes from the function, its stylesheet from the
bucket's URL. The test creates and drops its own database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.scenario_helpers import (
    NEEDS_CHROMIUM,
    POSTGRES,
    Cli,
    chromium_page,
    copy_example,
    create_superuser,
    database_fixture,
    http,
    log_into_admin,
    needs_postgres,
    scenario_cli,
)

PASSWORD = "e2e-" + uuid.uuid4().hex[:12]

pytestmark = [NEEDS_CHROMIUM, needs_postgres()]
database = database_fixture("aloft_e2e")


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, database: str) -> Iterator[Cli]:
    root = tmp_path_factory.mktemp("django")
    with scenario_cli(root, copy_example("django-site", root / "site"),
                      {"DATABASE_URL": POSTGRES + database,
                       "DJANGO_SECRET_KEY": uuid.uuid4().hex}) as c:
        yield c


def test_django_admin_with_static_files_in_a_bucket(cli: Cli, database: str) -> None:
    cli("deploy", "dev")
    migrated = cli("manage", "dev", "migrate", "--noinput")
    assert "Applying auth" in migrated.stdout + migrated.stderr
    collected = cli("manage", "dev", "collectstatic", "--noinput")
    assert "static files copied" in collected.stdout + collected.stderr
    create_superuser(cli, database, PASSWORD)  # the exact command

    status = json.loads(cli("cloud", "status", "--json").stdout)
    endpoint = status["aws_endpoint"]["url"]
    bucket_url = f"{endpoint}/django-site-dev-static/"
    code, css = http(bucket_url + "admin/css/base.css")
    assert code == 200 and b"body" in css

    login = cli.url("/django-site/dev/admin/login/")
    with chromium_page() as (page, stylesheets):
        page.goto(login)
        assert page.title().startswith("Log in")
        base = bucket_url + "admin/css/base.css"
        assert stylesheets.get(base) == 200, stylesheets
        # The stylesheet applied: the login box is laid out by the admin's CSS.
        width = page.evaluate("getComputedStyle(document.querySelector('#container')).width")
        assert width != "auto"
        log_into_admin(page, PASSWORD, "django-admin.png")
        assert "/django-site/dev/admin/" in page.url
