"""A project made by `django-admin startproject` as it comes (SQLite in BASE_DIR, which is the
function's read-only code), deployed and migrated by the real `aloft` in a terminal, as a Zappa
user switching to aloft would: `manage migrate` fails with what to do about it, not only
Django's "unable to open database file"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.pty.conftest import Cloud


def test_default_sqlite_database_fails_migrate_with_a_fix(cloud: Cloud, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    made = subprocess.run([sys.executable, "-m", "django", "startproject", "mysite", str(site)],
                          capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    (site / "requirements.txt").write_text("django\n")
    (site / "zappa_settings.json").write_text(json.dumps(
        {"dev": {"django_settings": "mysite.settings", "project_name": "mysite",
                 "runtime": "python3.11", "s3_bucket": "zappa-mysite"}}))
    settings = site / "mysite" / "settings.py"
    settings.write_text(settings.read_text().replace("ALLOWED_HOSTS = []",
                                                     'ALLOWED_HOSTS = ["*"]'))
    deployed = cloud.run("deploy", "dev", cwd=site, timeout=300)
    assert deployed.code == 0, deployed.text
    migrate = cloud.run("manage", "dev", "migrate", "--noinput", cwd=site, timeout=120)
    assert migrate.code != 0
    said = " ".join(migrate.text.split())  # (the error is wrapped to the terminal)
    assert "unable to open database file" in said
    assert "SQLite file db.sqlite3 is in the function's code" in said
    assert "which is read-only" in said
    assert "PostgreSQL" in said and "/tmp" in said
