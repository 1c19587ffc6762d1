"""Django's static files, collected at build time into the directory the stage serves.

A Django project gets `collectstatic` on every build, before the code zip is written, when
aloft serves its static files:

- its stage sets `static:` and its settings say `STATIC_ROOT` is that directory; or
- its stage has no `static:` (a zappa_settings.json has none) and its settings serve static
  files the way Django's defaults do: `STATIC_ROOT` within the project, `STATIC_URL` a path
  ("static/" or "/static/", no host), a file-system storage (Django's, or WhiteNoise's). aloft
  then serves STATIC_ROOT at STATIC_URL's path: `served(service, manifest)` is the stage with
  that `static:`, which both providers deploy (the local gateway serves the directory, aws
  uploads it to the stage's static bucket).

The files land in the project's STATIC_ROOT, as `python manage.py collectstatic` would put
them, so they are in the code zip too: WhiteNoise finds them in the function. collectstatic
copies only what changed, so a build with nothing new costs one short Python process (Django's
settings and app registry).

It runs the way the function does: the service's Python, only the project and its installed
dependencies on sys.path (`-S`), the app's environment. A project whose STATIC_ROOT is elsewhere
(or unset), or whose STATIC_URL is a URL (a bucket of its own through django-storages, a CDN),
is left alone: its static files are its own business.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aloft.config.models import APP_FUNCTION, Service, Static
from aloft.config.unresolved import text_environment
from aloft.errors import Location, PackageError
from aloft.package.manifest import Manifest
from aloft.package.progress import Progress
from aloft.package.python import PASS_THROUGH, interpreter

STEP = "static files"
TIMEOUT = 300.0
NOT_SERVED = 3
"""The script's exit code when aloft does not serve the project's static files (why: stdout)."""

SCRIPT = f"""
import json, os, sys
from pathlib import Path
from urllib.parse import urlsplit
from django.conf import settings
root = getattr(settings, "STATIC_ROOT", None)
wanted = os.environ.get("ALOFT_STATIC_DIR")
def leave(why):
    print(why)
    sys.exit({NOT_SERVED})
if wanted:
    if not root or Path(root).resolve() != Path(wanted).resolve():
        leave(f"its STATIC_ROOT is not {{os.environ['ALOFT_STATIC_SHOWN']}}/")
else:
    url = settings.STATIC_URL or ""
    parts = urlsplit(url)
    if not url:
        leave("no STATIC_URL in its settings")
    if not root:  # startproject's settings: the admin would be unstyled
        leave('no STATIC_ROOT in its settings: set STATIC_ROOT = BASE_DIR / "staticfiles" to '
              "have every build collect them and the stage serve them")
    if parts.scheme or parts.netloc:
        leave(f"its STATIC_URL is {{url}}")
    if not Path(root).resolve().is_relative_to(Path.cwd().resolve()):
        leave(f"its STATIC_ROOT {{root}} is outside the project")
import django
django.setup()
if not wanted:
    from django.contrib.staticfiles.storage import staticfiles_storage
    from django.core.files.storage import FileSystemStorage
    if not isinstance(staticfiles_storage, FileSystemStorage):
        leave(f"its static files storage is {{staticfiles_storage.__class__.__name__}}")
from django.core.management import call_command
args = json.loads(os.environ.get("ALOFT_COLLECT_ARGS") or "[]")
call_command("collectstatic", *args, interactive=False, verbosity=0)
print(json.dumps({{"url": urlsplit(settings.STATIC_URL).path, "root": str(root)}}))
"""


@dataclass(frozen=True)
class Collected:
    """Static files collected at build time: `count` files in `directory` (relative to the
    project when within it), served at `path`; `inferred`: from Django's settings, not from
    the stage's `static:`."""

    count: int
    path: str
    directory: str
    inferred: bool


def wants_collection(service: Service) -> bool:
    return bool(service.django_settings)


def served(service: Service, build: Manifest | Collected | object) -> Service:
    """`service` with the `static:` its build (a Manifest, or a `Collected`) found in Django's
    settings (unchanged when it has its own, or when aloft does not serve the project's static
    files)."""
    found = build.static if isinstance(build, Manifest) else \
        (build.path, build.directory) if isinstance(build, Collected) else None
    if service.static is not None or not found:
        return service
    path, directory = found
    return service.model_copy(update={"static": Static(path=path, directory=directory)})


def collect_static(service: Service, deps_dir: Path | None, progress: Progress,
                   args: tuple[str, ...] = (), python_version: str | None = None
                   ) -> Collected | None:
    """Run collectstatic for `service` (a no-op unless `wants_collection`) when aloft serves
    its static files; None when it did not run. `deps_dir`: the unpacked dependencies (layer
    or slim layout) Django is imported from; `args`: collectstatic's own options;
    `python_version`: the Python the dependencies are for (the build target's; default the
    service's runtime)."""
    if not wants_collection(service):
        return None
    progress.step(STEP, "collectstatic")
    path = [str(service.root)]
    if deps_dir is not None:
        path.append(str(deps_dir / "python" if (deps_dir / "python").is_dir() else deps_dir))
    env = {key: os.environ[key] for key in PASS_THROUGH if key in os.environ}
    env.update(text_environment(service.function(APP_FUNCTION).environment))
    env.update({"PYTHONPATH": os.pathsep.join(path), "PYTHONDONTWRITEBYTECODE": "1",
                "DJANGO_SETTINGS_MODULE": str(service.django_settings),
                "ALOFT_COLLECT_ARGS": json.dumps(list(args))})
    if service.static is not None:
        env["ALOFT_STATIC_DIR"] = str((service.root / service.static.directory).resolve())
        env["ALOFT_STATIC_SHOWN"] = service.static.directory
    where = Location(file=str(service.config_file) if service.config_file else None,
                     key_path="static" if service.static else "django_settings",
                     stage=service.stage)
    try:
        python = interpreter(python_version or service.runtime)
    except PackageError:  # e.g. an aws stage on Python 3.12 built where only 3.11 is
        progress.done(STEP, f"not collected: no python{python_version or service.runtime} "
                            "here to run collectstatic with")
        return None
    done = _run(python, service, env, where)
    if done.returncode == NOT_SERVED:
        why = done.stdout.strip().splitlines()[-1:] or ["its settings"]
        progress.done(STEP, f"left to the project ({why[0]})")
        return None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-12:])
        shown = f"{service.static.directory}/" if service.static else "STATIC_ROOT"
        raise PackageError(
            f"collecting Django's static files into {shown} failed:\n{tail}",
            where=where,
            fix="fix the error above (`python manage.py collectstatic` shows it too), or set "
                "STATIC_ROOT to another directory to manage static files yourself")
    if service.static is not None:
        found = Collected(0, "/" + service.static.path.strip("/"), service.static.directory,
                          inferred=False)
    else:
        report = json.loads(done.stdout.strip().splitlines()[-1])
        root = Path(report["root"]).resolve()
        base = service.root.resolve()
        directory = root.relative_to(base).as_posix() if root.is_relative_to(base) else str(root)
        found = Collected(0, "/" + report["url"].strip("/"), directory, inferred=True)
    target = service.root / found.directory
    count = sum(1 for p in target.rglob("*") if p.is_file()) if target.is_dir() else 0
    shown = f"{count} in {found.directory}/"
    progress.done(STEP, shown + (f", served at {found.path}/" if found.inferred else ""))
    return Collected(count, found.path, found.directory, found.inferred)


def _run(python: str, service: Service, env: dict[str, str],
         where: Location) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([python, "-S", "-c", SCRIPT],  # no -P: Python 3.9 lacks it
                              cwd=service.root, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise PackageError(f"collectstatic ran for more than {TIMEOUT:.0f} s", where=where,
                           fix="run `python manage.py collectstatic` to see why") from None
