#!/usr/bin/env python3
"""`make demo`: package examples/flask-hello, run one request locally, deploy it, request it.

Everything goes through the real `aloft` command line in subprocesses, as a user would type it.
If the local cloud cannot deploy (no provider, port taken), the demo says why and stops after the
local invocation, which needs nothing but Python.
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


def aloft(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `aloft -C examples/flask-hello ARGS`, echoing the command line first."""
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


def main() -> int:
    heading("1. Package examples/flask-hello (dependencies are cached after the first build)")
    if aloft("package").returncode != 0:
        return 1

    heading("2. Invoke it locally with an HTTP event: one fresh process, no deploy")
    local = aloft("invoke", "--local", "app", "--path", "/", capture=True)
    if local.returncode != 0:
        return 1
    show_response(local.stdout)

    heading("3. Deploy it to the local cloud (starts on first use, no account, no Docker)")
    deployed = aloft("deploy", "dev", "--json", capture=True)
    if deployed.returncode != 0:
        print("The local cloud could not deploy (see the error above); the local invocation "
              "in step 2 is the demo for now.")
        return 0
    url = json.loads(deployed.stdout)["url"]
    print(f"deployed at {GREEN}{url}{RESET}")

    heading("4. Request it over HTTP")
    for label, path in (("first", ""), ("again", ""), ("JSON route", "hello/demo")):
        status, body, ms = fetch(url + path)
        print(f"{label:>10}: GET {url + path} -> {status} in {ms:.1f} ms")
    print(body.strip())

    heading("Next")
    print(f"open {url} in a browser, then try:")
    print("  .venv/bin/aloft -C examples/flask-hello status dev")
    print("  .venv/bin/aloft -C examples/flask-hello tail dev")
    print("  .venv/bin/aloft -C examples/flask-hello undeploy dev --yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
