"""Settings for django-site, all from the environment (aloft.yml's `environment:` sets them).

- DATABASE_URL: `postgres://user:pass@host:5432/name` (PostgreSQL through psycopg) or
  `sqlite:////absolute/path.sqlite3`; default SQLite in /tmp, the only writable place in a
  function instance.
- SECRET_KEY, DEBUG, CSRF_TRUSTED_ORIGINS (comma-separated origins).
- STATIC_BUCKET: serve static files from this S3 bucket (django-storages); AWS_ENDPOINT_URL
  points at a non-AWS S3 (the local cloud). Without it, static files go to STATIC_ROOT.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def database_from_url(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for a database URL."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
            # An instance serves many requests: keep its connection, checking it before reuse.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    if parts.scheme == "sqlite":
        # sqlite:////tmp/db.sqlite3 -> /tmp/db.sqlite3
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": unquote(parts.path) or ":memory:"}
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported: use postgres:// or sqlite://"
    )


def _flag(name: str, default: str = "false") -> bool:
    return os.environ.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = _flag("DEBUG")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("set SECRET_KEY (aloft.yml `environment:`) or DEBUG=true")
    SECRET_KEY = "insecure-debug-only-key"

ALLOWED_HOSTS = ["*"]  # the gateway in front decides which hosts reach the function
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# API Gateway and aloft's gateway say how the client connected.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "site_project.urls"
WSGI_APPLICATION = "site_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL") or "sqlite:////tmp/django-site.sqlite3"
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- static files

STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_BUCKET = os.environ.get("STATIC_BUCKET", "")
if STATIC_BUCKET:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if endpoint:
        # A non-AWS S3 (the local cloud): path-style URLs on its endpoint.
        parts = urlsplit(endpoint)
        url_protocol, custom_domain = f"{parts.scheme}:", f"{parts.netloc}/{STATIC_BUCKET}"
    else:
        url_protocol, custom_domain = "https:", f"{STATIC_BUCKET}.s3.amazonaws.com"
    STORAGES["staticfiles"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STATIC_BUCKET,
            "endpoint_url": endpoint or None,
            "addressing_style": "path" if endpoint else None,
            "custom_domain": custom_domain,
            "url_protocol": url_protocol,
            "querystring_auth": False,  # static files are public: plain, cacheable URLs
            "file_overwrite": True,
        },
    }
    STATIC_URL = f"{url_protocol}//{custom_domain}/"
else:
    # Relative: Django prefixes SCRIPT_NAME, i.e. the stage's base path.
    STATIC_URL = "static/"
    STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
