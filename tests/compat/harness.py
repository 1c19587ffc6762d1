"""The checks run on each project of the compatibility corpus, through the real command line.

A check returns None when it passes, or the reason it does not. tests/compat/test_compat.py
asserts what each project is expected to pass (tests/compat/expected.py);
`python -m tests.compat.report` runs every check on every project and prints how many pass
(to see what a change fixes, and to write the figures down).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent / "projects"
CONFIGS = ("serverless.yml", "serverless.yaml", "zappa_settings.json", "zappa_settings.yml",
           "zappa_settings.yaml", "zappa_settings.toml")
_IGNORE = shutil.ignore_patterns(".aloft", "__pycache__", ".cache")
_COMPARED_OUT = ("root", "config_file", "warnings")


def projects() -> list[str]:
    return sorted(p.name for p in ROOT.iterdir() if p.is_dir())


def config_file(project: Path) -> Path:
    return next(project / n for n in CONFIGS if (project / n).is_file())


def aloft(cwd: Path, *args: str, env: Mapping[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed `aloft` executable, run in `cwd` with a clean environment."""
    script = Path(sys.executable).parent / "aloft"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aloft.cli.main"]
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1",
            "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    return subprocess.run([*command, *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, check=False)


def copy(project: str, scratch: Path) -> Path:
    target = scratch / project
    shutil.copytree(ROOT / project, target, ignore=_IGNORE)
    return target


def _failed(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-1500:]}"


def validated(directory: Path) -> dict[str, Any] | str:
    """`aloft validate --all-stages --json` in `directory`: its services, or why it failed."""
    done = aloft(directory, "validate", "--all-stages", "--json")
    if done.returncode != 0:
        return _failed(done)
    data = json.loads(done.stdout)
    if not data["valid"]:
        return f"invalid: {data['errors']}"
    return dict(data["services"])


def _comparable(services: Mapping[str, Any]) -> dict[str, Any]:
    return {stage: {k: v for k, v in svc.items() if k not in _COMPARED_OUT}
            for stage, svc in services.items()}


# --------------------------------------------------------------------------- the checks


def check_files(project: str, scratch: Path) -> dict[str, str | None]:
    """The checks that need no local cloud, one after the other on one copy of the project:

    - validate: `aloft validate --all-stages` accepts the project as written;
    - import: `aloft import` writes an aloft.yml that `aloft validate` accepts, with the same
      service for every stage as the original file;
    - template: that aloft.yml with `provider: aws` gives an `aloft template` (written to
      `scratch/<project>/template.json`; `lint` checks it).
    """
    directory = copy(project, scratch)
    out: dict[str, str | None] = {}
    original = validated(directory)
    out["validate"] = original if isinstance(original, str) else None
    if isinstance(original, str):
        return {**out, "import": "the original does not validate",
                "template": "the original does not validate"}
    done = aloft(directory, "import", config_file(directory).name, "-o", "aloft.yml")
    if done.returncode != 0:
        return {**out, "import": f"import failed: {_failed(done)}", "template": "no import"}
    converted = validated(directory)  # aloft.yml is found first
    out["import"] = _same(original, converted)
    config = directory / "aloft.yml"
    config.write_text(config.read_text().replace("\nprovider: local\n", "\nprovider: aws\n"))
    stage = next(iter(original))
    done = aloft(directory, "template", stage, "-o", str(directory / "template.json"))
    out["template"] = None if done.returncode == 0 else f"template failed: {_failed(done)}"
    return out


def _same(original: dict[str, Any], converted: dict[str, Any] | str) -> str | None:
    if isinstance(converted, str):
        return f"the imported aloft.yml does not validate: {converted}"
    a, b = _comparable(original), _comparable(converted)
    for stage in sorted({*a, *b}):
        if a.get(stage) != b.get(stage):
            keys = sorted(k for k in {*(a.get(stage) or {}), *(b.get(stage) or {})}
                          if (a.get(stage) or {}).get(k) != (b.get(stage) or {}).get(k))
            return f"stage {stage}: the imported service differs in {keys}"
    return None


def lint(templates: list[Path]) -> dict[Path, str | None]:
    """cfn-lint on every template at once: the problems found in each (None: clean)."""
    if not templates:
        return {}
    done = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"),
                           *map(str, templates)],
                          capture_output=True, text=True, timeout=600, check=False)
    found: dict[Path, list[str]] = {t: [] for t in templates}
    block: list[str] = []
    for line in done.stdout.splitlines():
        block.append(line)
        for template in templates:
            if line.startswith(str(template)):
                found[template].append("\n".join(block))
        if not line.strip():
            block = []
    return {t: ("cfn-lint: " + "\n".join(p)[-1500:] if p else None) for t, p in found.items()}


@dataclass(frozen=True)
class Call:
    """A request to a deployed stage and what its answer holds."""

    path: str
    status: int = 200
    contains: str = ""
    method: str = "GET"
    body: bytes | None = None


def check_deploy(project: str, scratch: Path, *, home: Path, port: int,
                 call: Call | None, cache: Path | None = None) -> str | None:
    """`aloft deploy` to the local cloud (a running daemon at `port`), then one request. The
    build cache is `cache` (projects with the same requirements share their layer), else one
    of its own in `scratch`."""
    directory = copy(project, scratch)
    env = {"ALOFT_HOME": str(home), "ALOFT_PORT": str(port),
           "ALOFT_CACHE_DIR": str(cache or scratch / "cache")}
    done = aloft(directory, "validate", "--json")
    if done.returncode != 0:
        return f"validate failed: {_failed(done)}"
    stage = next(iter(json.loads(done.stdout)["services"]))  # the default stage
    done = aloft(directory, "deploy", stage, "--json", env=env, timeout=300)
    if done.returncode != 0:
        return f"deploy failed: {_failed(done)}"
    if call is None:
        return None
    # The URL deploy prints first: the stage host (`{stage}.{service}.localhost`, the app at
    # the root as API Gateway's $default stage has it), reached at 127.0.0.1 with its Host.
    deployed = json.loads(done.stdout)
    url = str((deployed.get("urls") or [deployed["url"]])[0]).rstrip("/") + call.path
    parts = urllib.parse.urlsplit(url)
    headers = {}
    if parts.hostname and parts.hostname.endswith(".localhost"):
        headers["Host"] = parts.netloc
        parts = parts._replace(netloc=f"127.0.0.1:{parts.port}")
    request = urllib.request.Request(parts.geturl(), data=call.body, method=call.method,
                                     headers=headers)

    def answer() -> tuple[int, str]:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    try:  # an answer, whatever its status; a refused connection is "not yet"
        status, text = wait_until(answer, interval=0.2, ignoring=(OSError,))
    except AssertionError as exc:
        return f"{call.method} {url}: {exc}"
    if status != call.status or call.contains not in text:
        return f"{call.method} {url}: {status} {text[:300]!r}"
    return None


CHECKS = ("validate", "import", "template", "deploy")


def check_all(names: list[str], scratch: Path, threads: int = 4
              ) -> dict[tuple[str, str], str | None]:
    """validate, import and template (linted) for each project, `threads` projects at a time."""
    def run(project: str) -> dict[str, str | None]:
        where = scratch / project
        where.mkdir(parents=True)
        return check_files(project, where)

    with ThreadPoolExecutor(threads) as pool:
        found = dict(zip(names, pool.map(run, names), strict=True))
    templates = {p: scratch / p / p / "template.json" for p in names
                 if found[p]["template"] is None}
    linted = lint(list(templates.values()))
    for project, template in templates.items():
        found[project]["template"] = linted[template]
    return {(p, c): why for p, checks in found.items() for c, why in checks.items()}
