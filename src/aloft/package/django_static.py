"""Django's static files, collected at build time into the directory `static:` serves.

A Django project whose stage sets `static:` and whose settings say `STATIC_ROOT` is that
directory gets `collectstatic` on every build, before the code zip is written: the local
gateway serves the directory under `static.path`, an aws stage uploads it to its bucket, and
the admin is styled with no step to remember. collectstatic copies only what changed, so a build
with nothing new costs one short Python process (Django's settings and app registry).

It runs the way the function does: the service's Python, only the project and its installed
dependencies on sys.path (`-S`), the app's environment. A project whose STATIC_ROOT is elsewhere
(or unset) is left alone: its static files are its own business (WhiteNoise, a bucket of its
own through django-storages, ...).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from aloft.config.models import APP_FUNCTION, Service
from aloft.config.unresolved import text_environment
from aloft.errors import Location, PackageError
from aloft.package.progress import Progress
from aloft.package.python import PASS_THROUGH, interpreter

STEP = "static files"
TIMEOUT = 300.0
NOT_SERVED = 3
"""The script's exit code when STATIC_ROOT is not the directory `static:` serves."""

SCRIPT = f"""
import os, sys
from pathlib import Path
from django.conf import settings
root = getattr(settings, "STATIC_ROOT", None)
if not root or Path(root).resolve() != Path(os.environ["ALOFT_STATIC_DIR"]).resolve():
    sys.exit({NOT_SERVED})
import django
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
"""


def wants_collection(service: Service) -> bool:
    return bool(service.django_settings) and service.static is not None


def collect_static(service: Service, deps_dir: Path | None, progress: Progress) -> int | None:
    """Run collectstatic for `service` (a no-op unless `wants_collection`); the number of files
    in the static directory afterwards, None when it did not run. `deps_dir`: the unpacked
    dependencies (layer or slim layout) Django is imported from."""
    if not wants_collection(service):
        return None
    assert service.static is not None
    progress.step(STEP, "collectstatic")
    target = (service.root / service.static.directory).resolve()
    path = [str(service.root)]
    if deps_dir is not None:
        path.append(str(deps_dir / "python" if (deps_dir / "python").is_dir() else deps_dir))
    env = {key: os.environ[key] for key in PASS_THROUGH if key in os.environ}
    env.update(text_environment(service.function(APP_FUNCTION).environment))
    env.update({"PYTHONPATH": os.pathsep.join(path), "PYTHONDONTWRITEBYTECODE": "1",
                "DJANGO_SETTINGS_MODULE": str(service.django_settings),
                "ALOFT_STATIC_DIR": str(target)})
    where = Location(file=str(service.config_file) if service.config_file else None,
                     key_path="static", stage=service.stage)
    try:
        python = interpreter(service.runtime)
    except PackageError:  # e.g. an aws stage on Python 3.12 built where only 3.11 is
        progress.done(STEP, f"not collected: no python{service.runtime} here to run "
                            "collectstatic with")
        return None
    try:
        done = subprocess.run([python, "-S", "-P", "-c", SCRIPT],
                              cwd=service.root, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise PackageError(f"collectstatic ran for more than {TIMEOUT:.0f} s", where=where,
                           fix="run `python manage.py collectstatic` to see why") from None
    if done.returncode == NOT_SERVED:
        progress.done(STEP, f"left to the project (its STATIC_ROOT is not "
                            f"{service.static.directory}/)")
        return None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-12:])
        raise PackageError(
            f"collecting Django's static files into {service.static.directory}/ failed:\n{tail}",
            where=where,
            fix="fix the error above (`python manage.py collectstatic` shows it too), or set "
                "STATIC_ROOT to another directory to manage static files yourself")
    count = sum(1 for p in target.rglob("*") if p.is_file()) if target.is_dir() else 0
    progress.done(STEP, f"{count} in {service.static.directory}/")
    return count
