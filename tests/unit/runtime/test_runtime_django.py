"""Django through `django_settings`: WSGI requests with the stage mounted as SCRIPT_NAME, and
management commands through the manage envelope. Django configures itself once per process, so
one settings module (in a tmp dir) serves every test here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aloft.runtime import handler as runtime
from tests.unit.runtime.runtime_helpers import load_event

SETTINGS = '''
from pathlib import Path
SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "aloftdj.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth",
                  "django.contrib.staticfiles"]
MIDDLEWARE = ["aloftdj.urls.ReadsStaticUrl"]
STATIC_URL = "static/"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": str(Path(__file__).resolve().parent / "db.sqlite3")}}
USE_TZ = True
'''

URLS = '''
from django.conf import settings
from django.http import JsonResponse
from django.templatetags.static import static
from django.urls import path


class ReadsStaticUrl:
    """Reads STATIC_URL when it loads, outside any request, as WhiteNoise's middleware does."""

    def __init__(self, get_response):
        self.prefix = settings.STATIC_URL
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


def css(request):
    return JsonResponse({"url": static("admin/css/base.css"), "setting": settings.STATIC_URL})

def hello(request, name):
    return JsonResponse({"name": name, "script_name": request.META["SCRIPT_NAME"],
                         "path": request.path, "path_info": request.path_info,
                         "absolute": request.build_absolute_uri(),
                         "remote": request.META["REMOTE_ADDR"]})

def boom(request):
    raise ValueError("django boom")

urlpatterns = [path("items/<str:name>", hello), path("boom", boom), path("css", css)]
'''


@pytest.fixture
def django_site(deploy: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from django.conf import settings

    # Django configures itself once per process: no other in-process test may configure it.
    assert not settings.configured or settings.SETTINGS_MODULE == "aloftdj.settings", (
        f"Django was already configured with {settings.SETTINGS_MODULE!r} in this process"
    )
    # What the runtime sets (os.environ.setdefault), set here so that it is undone afterwards:
    # a later subprocess (a scaffolded Django project's own tests) must not inherit it.
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "aloftdj.settings")
    return deploy(
        {"aloftdj.__init__": "", "aloftdj.settings": SETTINGS, "aloftdj.urls": URLS},
        django_settings="aloftdj.settings",
    )


def test_django_request_with_stage_mount(django_site: Any) -> None:
    event = load_event("v2_stage_prefix.json") | {"rawPath": "/prod/items/café"}
    result = runtime.handler(event, None)
    assert result["statusCode"] == 200, result
    assert json.loads(result["body"]) == {
        "name": "café",
        "script_name": "/prod",
        "path": "/prod/items/café",
        "path_info": "/items/café",
        "absolute": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/items/caf%C3%A9"
        "?expand=true",
        "remote": "203.0.113.9",
    }


def test_django_view_error_is_a_500(django_site: Any) -> None:
    result = runtime.handler(load_event("v2_gzip.json") | {"rawPath": "/boom"}, None)
    # Django catches view errors itself and answers its own 500 page.
    assert result["statusCode"] == 500


def test_manage_envelope_runs_migrate(django_site: Any, tmp_path: Path) -> None:
    result = runtime.handler({"aloft": "manage", "args": ["migrate", "--noinput"]}, None)
    assert "error" not in result, result
    assert "Applying auth.0001_initial... OK" in result["output"]
    shown = runtime.handler({"aloft": "manage", "args": ["showmigrations", "auth"]}, None)
    assert "[X] 0001_initial" in shown["output"]
    bad = runtime.handler({"aloft": "manage", "args": ["no_such_command"]}, None)
    assert "Unknown command" in bad["error"]


def test_static_urls_follow_each_requests_mount(django_site: Any) -> None:
    # One instance serves the stage host (no SCRIPT_NAME) and the path prefix: Django caches
    # the prefixed STATIC_URL at its first access (here the middleware's, at load, with no
    # prefix); each request's links must still be under its own mount.
    mounted = load_event("v2_stage_prefix.json") | {"rawPath": "/prod/css"}
    at_root = load_event("v2_stage_prefix.json") | {"rawPath": "/css"}
    at_root["requestContext"] = at_root["requestContext"] | {"stage": "$default"}
    answers = [json.loads(runtime.handler(event, None)["body"])
               for event in (mounted, at_root, mounted, mounted)]
    assert [a["url"] for a in answers] == [
        "/prod/static/admin/css/base.css", "/static/admin/css/base.css",
        "/prod/static/admin/css/base.css", "/prod/static/admin/css/base.css"]
    assert answers[0]["setting"] == "/prod/static/"
    # a management command reads it without a prefix in between; the next request is mounted
    runtime.handler({"aloft": "manage", "args": ["findstatic", "admin/css/base.css"]}, None)
    assert json.loads(runtime.handler(mounted, None)["body"])["url"] == \
        "/prod/static/admin/css/base.css"


def test_sqlite_in_the_read_only_code_gets_a_hint(django_site: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from django.conf import settings
    from django.db.utils import OperationalError

    from aloft.runtime.commands import database_hint

    where = Path(settings.DATABASES["default"]["NAME"])
    error = OperationalError("unable to open database file")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(where.parent.parent))  # the code holds the file
    hint = database_hint(error)
    assert hint is not None and f"SQLite file {where.parent.name}/{where.name} is in" in hint
    assert "read-only" in hint and "PostgreSQL" in hint and "/tmp" in hint
    assert database_hint(ValueError("unable to open database file")) is None
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")  # a database outside the code
    assert database_hint(error) is None
