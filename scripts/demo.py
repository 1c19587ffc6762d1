#!/usr/bin/env python3
"""`make demo`: package examples/flask-hello, run one request locally, deploy it, request it.

Everything goes through the real `aloft` command line in subprocesses, as a user would type it,
on this terminal (its spinners and colours show when it is one). The demo exits non-zero at the
first step that fails, saying which and why (the command's own error is printed above it);
Ctrl-C stops it with exit code 130.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "flask-hello"
_PLAIN = bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()
BOLD, DIM, GREEN, RESET = (
    ("", "", "", "") if _PLAIN else ("\033[1m", "\033[2m", "\033[32m", "\033[0m")
)


def aloft_command() -> list[str]:
    script = Path(sys.executable).parent / "aloft"
    return [str(script)] if script.exists() else [sys.executable, "-m", "aloft.cli.main"]


def heading(text: str) -> None:
    print(f"\n{BOLD}== {text}{RESET}", flush=True)


def aloft(*args: str, capture: bool = False,
          echo: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `aloft -C examples/flask-hello ARGS`, echoing the command line first; its stderr
    (progress, spinners, errors) is this terminal's."""
    if echo:
        print(f"{DIM}$ aloft {' '.join(args)}{RESET}", flush=True)
    return subprocess.run(
        [*aloft_command(), "-C", str(EXAMPLE), *args],
        stdout=subprocess.PIPE if capture else None, text=True, check=False,
    )


def show_response(payload: str) -> None:
    response = json.loads(payload)
    print(f"status {response.get('statusCode')}, "
          f"content-type {response.get('headers', {}).get('content-type')}")
    print(response.get("body", ""))


def fetch(url: str) -> tuple[int, str, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as reply:  # our own local URL
        body = reply.read().decode("utf-8", errors="replace")
        return reply.status, body, (time.perf_counter() - started) * 1000


class StepFailed(Exception):
    """A demo step failed: the message says which, and why."""


def main() -> int:
    try:
        run_demo()
    except StepFailed as exc:
        print(f"\n{BOLD}demo failed:{RESET} {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\ndemo interrupted", file=sys.stderr, flush=True)
        return 130
    return 0


def run_demo() -> None:
    heading("1. Package examples/flask-hello (dependencies are cached after the first build)")
    if aloft("package").returncode != 0:
        raise StepFailed("step 1: `aloft package` failed (its error is above)")

    heading("2. Invoke it locally with an HTTP event: one fresh process, no deploy")
    local = aloft("invoke", "--local", "app", "--path", "/", capture=True)
    if local.returncode != 0:
        raise StepFailed("step 2: `aloft invoke --local` failed (its error is above)")
    show_response(local.stdout)

    heading("3. Deploy it to the local cloud (starts on first use, no account, no Docker)")
    deployed = aloft("deploy", "dev")
    if deployed.returncode == 130:
        raise KeyboardInterrupt
    if deployed.returncode != 0:
        raise StepFailed("step 3: `aloft deploy dev` failed (its error is above; "
                         "`aloft doctor` checks the port and the local cloud)")
    status = aloft("status", "dev", "--json", capture=True, echo=False)
    if status.returncode != 0:
        raise StepFailed("step 3: `aloft status dev` failed after the deploy (its error is above)")
    url = str(json.loads(status.stdout)["url"])

    heading("4. Request it over HTTP")
    body = ""
    for label, path in (("first", ""), ("again", ""), ("JSON route", "hello/demo")):
        try:
            code, body, ms = fetch(url + path)
        except OSError as exc:
            raise StepFailed(f"step 4: GET {url + path} failed: {exc}") from None
        print(f"{label:>10}: GET {url + path} -> {code} in {ms:.1f} ms")
    print(body.strip())

    heading("Next")
    print(f"open {url} in a browser, then try:")
    print("  .venv/bin/aloft -C examples/flask-hello status dev")
    print("  .venv/bin/aloft -C examples/flask-hello tail dev")
    print("  .venv/bin/aloft -C examples/flask-hello undeploy dev --yes")


if __name__ == "__main__":
    sys.exit(main())
