"""`aloft doctor`: check what aloft needs on this machine and say how to fix what is missing.

Each check is a small function returning a `Check`; required ones failing make the exit code 1.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import click
from rich.markup import escape

from aloft.cli import render
from aloft.cli.helptext import examples

Status = Literal["ok", "warn", "fail"]
MIN_PYTHON = (3, 11)
MIN_FREE_BYTES = 500 * 10**6  # a dependency layer or two, the build cache, logs
LOW_FREE_BYTES = 2 * 10**9


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str | None = None
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.status == "fail" and self.required


def check_python(version: tuple[int, int, int] | None = None) -> Check:
    v = version or (sys.version_info.major, sys.version_info.minor, sys.version_info.micro)
    text = ".".join(map(str, v))
    if v[:2] >= MIN_PYTHON:
        return Check("python", "ok", f"{text} ({sys.executable})")
    return Check("python", "fail", f"{text} is too old",
                 fix="install Python 3.11 or newer and reinstall aloft with it")


def check_pip() -> Check:
    try:
        done = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True,
                              text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("pip", "fail", f"cannot run pip: {exc}",
                     fix=f"{sys.executable} -m ensurepip --upgrade")
    if done.returncode != 0:
        return Check("pip", "fail", "pip is not installed for this Python (packaging needs it)",
                     fix=f"{sys.executable} -m ensurepip --upgrade")
    return Check("pip", "ok", " ".join(done.stdout.split()[:2]))


def check_venv() -> Check:
    if sys.prefix != sys.base_prefix:
        return Check("venv", "ok", sys.prefix, required=False)
    return Check("venv", "warn", "aloft runs outside a virtual environment", required=False,
                 fix="python -m venv .venv && .venv/bin/pip install aloft")


def check_platform(home: Path) -> Check:
    from aloft.local.control.client import CloudClient

    client = CloudClient(home)
    info = client.running()
    if info is None:
        return Check("local cloud", "ok", "not running (deploy and dev start it)")
    try:
        status, _, _ = client.request("GET", "/_aloft/api/health", port=info.port, timeout=3)
    except OSError as exc:
        status, why = 0, str(exc)
    else:
        why = f"answered {status}"
    if status == 200:
        return Check("local cloud", "ok", f"running on http://127.0.0.1:{info.port} "
                     f"(pid {info.pid})")
    if status == 401:
        return Check("local cloud", "fail", f"pid {info.pid} refuses the token in {home}",
                     fix="aloft cloud stop, then run the command again")
    return Check("local cloud", "fail", f"pid {info.pid} runs but is not reachable on port "
                 f"{info.port} ({why})", fix=f"aloft cloud stop (or kill {info.pid}); see "
                 f"{client.home.daemon_log}")


def check_token(home: Path) -> Check:
    path = home / "token"
    if not path.exists():
        return Check("token", "ok", f"{path} does not exist yet (created at first start)")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check("token", "fail", f"{path} is readable by others (mode {mode:04o})",
                     fix=f"chmod 600 {path}")
    if path.stat().st_uid != os.getuid():
        return Check("token", "fail", f"{path} belongs to another user",
                     fix=f"chown {os.getuid()} {path}, or use your own ALOFT_HOME")
    return Check("token", "ok", f"{path} (mode 0600)")


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def check_port(home: Path, port: int) -> Check:
    from aloft.local.store.home import Home

    info = Home(home).read_pid()
    if info is not None and info.port == port:
        return Check("port", "ok", f"{port} is the local cloud's (pid {info.pid})")
    if not port_in_use(port):
        return Check("port", "ok", f"{port} is free")
    from aloft.local.http.ports import port_taken_error

    taken = port_taken_error(port)  # who holds it: another aloft cloud, or which program
    return Check("port", "fail", taken.message.removeprefix("port "), fix=taken.fix)


def check_chromium() -> Check:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return Check("chromium", "ok", f"{found} (for the dashboard's browser tests)",
                     required=False)
    return Check("chromium", "warn", "not found: only the dashboard's browser tests need it",
                 fix="apt-get install -y chromium", required=False)


def check_disk(home: Path, usage: Callable[[str], tuple[int, int, int]] = shutil.disk_usage,
               ) -> Check:
    probe = home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = usage(str(probe))[2]
    text = f"{render.human_size(free)} free under {probe}"
    if free < MIN_FREE_BYTES:
        return Check("disk", "fail", text, fix="free some space (the build cache is "
                     "~/.cache/aloft; `aloft undeploy` removes a stage's artifacts)")
    if free < LOW_FREE_BYTES:
        return Check("disk", "warn", text, fix="free some space soon", required=False)
    return Check("disk", "ok", text)


def check_isolation(probe: Callable[[], tuple[str, str]] | None = None) -> Check:
    """Whether the local cloud's instances can be isolated here (namespaces, or Landlock where
    user namespaces are off), or see its files."""
    if probe is None:
        from aloft.local.instances import isolation

        probe = isolation.probe
    mode, detail = probe()
    if mode != "none":
        return Check("isolation", "ok", detail, required=False)
    fix = None
    if sys.platform.startswith("linux") and "ALOFT_SANDBOX" not in detail:
        fix = ("allow unprivileged user namespaces: sysctl user.max_user_namespaces=15000 "
               "(Debian: kernel.unprivileged_userns_clone=1; Ubuntu 24.04: "
               "kernel.apparmor_restrict_unprivileged_userns=0)")
    return Check("isolation", "warn", f"none: {detail}", fix=fix, required=False)


def check_data_plane() -> Check:
    """Whether a daemon started now runs its data plane compiled (aloft.local.compiled)."""
    from aloft.local import compiled

    build = compiled.build_dir()
    why = compiled.unavailable(build)
    if why is None:
        return Check("data plane", "ok", f"compiled with mypyc ({build})", required=False)
    if why == f"{compiled.ENV_SWITCH}=0":
        return Check("data plane", "ok", f"Python sources ({why})", required=False)
    building = compiled.builder(compiled.lock_path(build))
    if building is not None:
        return Check("data plane", "ok", f"Python sources: being compiled in the background "
                     f"(pid {building}); the next start of the local cloud runs it compiled",
                     required=False)
    failed = compiled.failed_path(build)
    if failed.is_file():
        why = (failed.read_text().strip().splitlines() or ["?"])[0]
        return Check("data plane", "warn", f"Python sources: the background build failed: {why}",
                     required=False, fix="python -m aloft.local.compiled (it says why in full "
                     "and tries again), then `aloft cloud stop` so that the next start runs it")
    return Check("data plane", "warn", "Python sources: not compiled for these sources (the "
                 "gateway takes a fifth to a third more CPU per request)", required=False,
                 fix="pip install 'aloft[fast]' (mypy) and a C compiler: the local cloud's "
                 "next start compiles it in the background; or now: python -m "
                 "aloft.local.compiled, then `aloft cloud stop` so that the next start runs it")


def run_checks(home: Path, port: int) -> list[Check]:
    return [check_python(), check_pip(), check_venv(), check_platform(home), check_token(home),
            check_port(home, port), check_isolation(), check_data_plane(), check_chromium(),
            check_disk(home)]


_MARK = {"ok": "[green]✓[/green]", "warn": "[yellow]![/yellow]", "fail": "[red]✗[/red]"}


@click.command(
    "doctor",
    short_help="Check this machine: python, pip, the local cloud, token, port, disk.",
    epilog=examples("aloft doctor",
                    "aloft doctor --json | jq '.checks[] | select(.status != \"ok\")'"),
)
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              help="State directory (default $ALOFT_HOME or ~/.local/share/aloft).")
@click.option("--port", type=click.IntRange(1, 65535),
              help="The local cloud's port (default $ALOFT_PORT, else the port it last "
              "had, else 8750).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def command(home: Path | None, port: int | None, as_json: bool) -> None:
    """Check what aloft needs and say how to fix each problem; exits 1 if a required check
    fails (optional ones only warn)."""
    from aloft.local.store.home import Home, resolve_home, resolve_port

    root = resolve_home(home)
    checks = run_checks(root, resolve_port(port, Home(root)))
    ok = not any(c.failed for c in checks)
    if as_json:
        render.print_json({"ok": ok, "checks": [{**asdict(c), "failed": c.failed}
                                                for c in checks]})
    else:
        console = render.out()
        for c in checks:
            optional = "" if c.required else " [dim](optional)[/dim]"
            console.print(f"{_MARK[c.status]} [bold]{c.name}[/bold]{optional}: "
                          f"{escape(c.detail)}")
            if c.fix and c.status != "ok":
                console.print(f"    [dim]fix:[/dim] {escape(c.fix)}")
        console.print("everything aloft needs is here" if ok else
                      "some required checks failed: see the fixes above", markup=False)
    if not ok:
        raise click.exceptions.Exit(1)
