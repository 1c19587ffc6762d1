"""Build-time collection of a Django project's static files (aloft.package.django_static), run
for real: a fresh interpreter sees the project and the dependencies (here: the Django this test
environment has, standing in for the layer), nothing else."""

from __future__ import annotations

from pathlib import Path

import django
import pytest

from aloft.config import load_project
from aloft.config.models import Service
from aloft.errors import PackageError
from aloft.package.django_static import collect_static, served
from aloft.package.manifest import ArtifactFile, Manifest
from aloft.package.progress import NullProgress

SITE_PACKAGES = Path(django.__file__).resolve().parent.parent

CONFIG = """\
service: site
django_settings: mysite.settings
environment:
  STATIC_FROM_ENV: "{static_root}"
{static}
stages:
  dev: {{}}
"""

SETTINGS = """\
import os
from pathlib import Path
BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "test"
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages",
                  "django.contrib.staticfiles"]
STATIC_URL = "static/"
STATIC_ROOT = os.environ["STATIC_FROM_ENV"] or None  # the app's environment reaches it
"""


def project(root: Path, *, static_root: str, static: str = "static: {}",
            settings: str = SETTINGS) -> Service:
    (root / "mysite").mkdir(parents=True)
    (root / "mysite" / "__init__.py").write_text("")
    (root / "mysite" / "settings.py").write_text(settings)
    (root / "aloft.yml").write_text(CONFIG.format(static_root=static_root, static=static))
    return load_project(root).service("dev")


def progress() -> tuple[list[tuple[str, str]], object]:
    seen: list[tuple[str, str]] = []

    class Recorder(NullProgress):
        def done(self, name: str, detail: str = "") -> None:
            seen.append((name, detail))

    return seen, Recorder()


def test_the_admin_files_are_collected_into_the_served_directory(tmp_path: Path) -> None:
    service = project(tmp_path, static_root=str(tmp_path / "static"))
    seen, recorder = progress()
    collected = collect_static(service, SITE_PACKAGES, recorder)  # type: ignore[arg-type]
    css = tmp_path / "static" / "admin" / "css" / "base.css"
    assert css.is_file() and b"body" in css.read_bytes()
    assert collected is not None and not collected.inferred
    count = collected.count
    assert count == sum(1 for p in (tmp_path / "static").rglob("*") if p.is_file()) > 50
    assert seen == [("static files", f"{count} in static/")]
    # again: nothing new to copy, the same files (collectstatic keeps what is up to date)
    mtime = css.stat().st_mtime_ns
    again = collect_static(service, SITE_PACKAGES, NullProgress())
    assert again is not None and again.count == count
    assert css.stat().st_mtime_ns == mtime


def test_a_static_root_elsewhere_is_left_to_the_project(tmp_path: Path) -> None:
    service = project(tmp_path, static_root=str(tmp_path / "assets"))
    seen, recorder = progress()
    assert collect_static(service, SITE_PACKAGES, recorder) is None  # type: ignore[arg-type]
    assert not (tmp_path / "assets").exists() and not (tmp_path / "static").exists()
    assert seen == [("static files", "left to the project (its STATIC_ROOT is not static/)")]


def test_without_static_django_settings_decide(tmp_path: Path) -> None:
    # A zappa_settings.json has no `static:`: Django's own STATIC_ROOT (within the project)
    # and STATIC_URL are what aloft serves, and the build's manifest says so.
    service = project(tmp_path, static_root=str(tmp_path / "collected"), static="")
    seen, recorder = progress()
    collected = collect_static(service, SITE_PACKAGES, recorder)  # type: ignore[arg-type]
    assert collected is not None and collected.inferred
    assert (collected.path, collected.directory) == ("/static", "collected")
    assert (tmp_path / "collected" / "admin" / "css" / "base.css").is_file()
    assert seen == [("static files", f"{collected.count} in collected/, served at /static/")]
    manifest = Manifest(code=ArtifactFile(tmp_path / "code.zip", 1, "0"), layer=None,
                        python_version="3.11", platform="x", provider="local",
                        static=(collected.path, collected.directory))
    assert Manifest.from_dict(manifest.to_dict()).static == ("/static", "collected")
    static = served(service, manifest).static
    assert static is not None and (static.path, static.directory) == ("/static", "collected")


@pytest.mark.parametrize(("settings", "why"), [
    (SETTINGS.replace('STATIC_URL = "static/"', 'STATIC_URL = "https://cdn.example.com/s/"'),
     "its STATIC_URL is https://cdn.example.com/s/"),
    (SETTINGS + "STATIC_ROOT = '/tmp'\n", "its STATIC_ROOT /tmp is outside the project"),
    (SETTINGS + "STORAGES = {'staticfiles': {'BACKEND': "
                "'django.core.files.storage.InMemoryStorage'}}\n",
     "its static files storage is InMemoryStorage"),
])
def test_without_static_other_settings_are_left_alone(tmp_path: Path, settings: str,
                                                      why: str) -> None:
    service = project(tmp_path, static_root=str(tmp_path / "static"), static="",
                      settings=settings)
    seen, recorder = progress()
    assert collect_static(service, SITE_PACKAGES, recorder) is None  # type: ignore[arg-type]
    assert seen == [("static files", f"left to the project ({why})")]
    assert not (tmp_path / "static").exists()


def test_settings_without_static_root_say_what_to_set(tmp_path: Path) -> None:
    """startproject's settings have STATIC_URL and no STATIC_ROOT: the build says which one is
    missing and what to write, since the admin is otherwise served unstyled."""
    service = project(tmp_path, static_root="", static="")
    seen, recorder = progress()
    assert collect_static(service, SITE_PACKAGES, recorder) is None  # type: ignore[arg-type]
    assert seen == [("static files", 'left to the project (no STATIC_ROOT in its settings: set '
                     'STATIC_ROOT = BASE_DIR / "staticfiles" to have every build collect them '
                     "and the stage serve them)")]


def test_a_service_without_django_collects_nothing(tmp_path: Path) -> None:
    (tmp_path / "aloft.yml").write_text("service: api\napp: app:app\nstages:\n  dev: {}\n")
    service = load_project(tmp_path).service("dev")
    assert collect_static(service, SITE_PACKAGES, NullProgress()) is None


def test_a_failing_collection_stops_the_build_and_says_why(tmp_path: Path) -> None:
    broken = SETTINGS + "INSTALLED_APPS.append('no_such_app')\n"
    service = project(tmp_path, static_root=str(tmp_path / "static"), settings=broken)
    with pytest.raises(PackageError) as failure:
        collect_static(service, SITE_PACKAGES, NullProgress())
    assert "collecting Django's static files into static/ failed" in failure.value.message
    assert "No module named 'no_such_app'" in failure.value.message
    assert failure.value.fix is not None and "STATIC_ROOT" in failure.value.fix


def test_django_comes_from_the_dependencies_only(tmp_path: Path) -> None:
    # -S: the interpreter's own site-packages are not searched; without the layer, no Django
    service = project(tmp_path, static_root=str(tmp_path / "static"))
    with pytest.raises(PackageError, match="No module named 'django'"):
        collect_static(service, None, NullProgress())
