"""Django's static and media URLs under the mount each request came through.

One instance serves a stage at two mounts: the stage host (`http://dev.site.localhost:8750/`,
no SCRIPT_NAME) and the path prefix (`/site/dev/`, SCRIPT_NAME `/site/dev`); on AWS an API's
stage and a custom domain's base path do the same. Django prefixes a relative STATIC_URL or
MEDIA_URL ("static/") with the script prefix of the moment and then caches the result (in
`settings`, and as the storages' `base_url`), so the first access wins for the instance's whole
life. That first access is often outside any request, with no prefix at all: WhiteNoise reads
STATIC_URL when the middleware loads, a management command's storage when it runs. Pages served
under the prefix then link to `/static/...`, outside the stage.

`ScriptPrefixed` drops those caches whenever a request's SCRIPT_NAME differs from the previous
one (the first request included), so `{% static %}` answers for the request's own mount. It
costs nothing while the mount stays the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

PREFIXED = ("STATIC_URL", "MEDIA_URL")


def is_django(app: Any) -> bool:
    return type(app).__module__.startswith("django.core.handlers")


def forget_prefixed_urls() -> None:
    """Make Django compute STATIC_URL and MEDIA_URL (and the storages built on them) again."""
    from django.conf import settings  # type: ignore[import-untyped]

    for name in PREFIXED:
        settings.__dict__.pop(name, None)  # LazySettings caches the prefixed value there
    try:
        from django.contrib.staticfiles import storage as static  # type: ignore[import-untyped]
        from django.core.files import storage  # type: ignore[import-untyped]
        from django.utils.functional import empty  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a Django without these modules
        return
    handler = getattr(storage, "storages", None)  # Django 4.2+: the STORAGES backends
    if handler is not None and isinstance(getattr(handler, "_storages", None), dict):
        handler._storages = {}
    for lazy in (getattr(storage, "default_storage", None),
                 getattr(static, "staticfiles_storage", None)):
        if lazy is not None:
            lazy._wrapped = empty


class ScriptPrefixed:
    """A Django WSGI application whose prefixed URLs follow each request's SCRIPT_NAME."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.script: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        script = environ.get("SCRIPT_NAME", "")
        if script != self.script:
            forget_prefixed_urls()
            self.script = script
        return self.app(environ, start_response)
