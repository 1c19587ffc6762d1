"""`aloft cloud start | stop | status`: the local cloud's daemon."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from aloft.cli import render
from aloft.cli.helptext import examples

_home = click.option("--home", type=click.Path(file_okay=False, path_type=Path),
                     help="State directory (default $ALOFT_HOME or ~/.local/share/aloft).")
_port = click.option("--port", type=click.IntRange(0, 65535),
                     help="HTTP port (default $ALOFT_PORT, else the port it last had, else "
                     "8750).")


@click.group(
    "cloud",
    epilog=examples(
        "aloft cloud start                 # in the background",
        "aloft cloud start --foreground    # containers and CI: Ctrl-C stops it",
        "aloft cloud status",
        "aloft cloud stop",
    ),
)
def command() -> None:
    """Run the local cloud (deploy starts it when needed)."""


@command.command("start")
@_home
@_port
@click.option("--foreground", is_flag=True, help="Run in this terminal instead of detached.")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"pid": ..., "port": ..., "home": ..., "dashboard": ...}.')
def start(home: Path | None, port: int | None, foreground: bool, as_json: bool) -> None:
    """Start the local cloud."""
    from aloft.cli.commands.dashboard import dashboard_url
    from aloft.local.control.client import CloudClient

    client = CloudClient(home, port)
    running = client.running()
    if running is not None and as_json:
        render.print_json({"pid": running.pid, "port": running.port, "home": running.home,
                           "dashboard": dashboard_url(running.port, client.home.token() or ""),
                           "started": False})
        return
    if running is not None:
        render.note(f"the local cloud already runs on http://127.0.0.1:{running.port} "
                    f"(pid {running.pid})")
        return
    if foreground:
        # This process becomes the daemon, as `deploy` starts it: a fresh interpreter, whose data
        # plane is compiled (see aloft.local.compiled: this one has imported its sources).
        # -P: not the current directory first on sys.path (a project's own `aloft/`).
        argv = ["--home", str(client.home.root)] + (["--port", str(port)] if port else [])
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-P", "-m", "aloft.local.daemon", *argv])
    info = client.start()
    if as_json:
        render.print_json({"pid": info.pid, "port": info.port, "home": info.home,
                           "dashboard": dashboard_url(info.port, client.home.token() or ""),
                           "started": True})
        return
    render.out().print(f"local cloud on http://127.0.0.1:{info.port} (pid {info.pid}, "
                       f"home {info.home})", markup=False)


@command.command("stop", short_help="Stop the local cloud.")
@_home
@click.option("--json", "as_json", is_flag=True, help='Print {"stopped": true|false}.')
def stop(home: Path | None, as_json: bool) -> None:
    """Stop the local cloud (deployed stages come back when it starts again)."""
    from aloft.local.control.client import CloudClient

    stopped = CloudClient(home).stop()
    if as_json:
        render.print_json({"stopped": stopped})
    elif stopped:
        render.out().print("local cloud stopped", markup=False)
    else:
        render.out().print("the local cloud is not running", markup=False)


@command.command("status", short_help="Show whether the local cloud runs, and its load.")
@_home
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(home: Path | None, as_json: bool) -> None:
    """Show whether the local cloud runs, its port, stages, instances and memory."""
    from aloft.local.control.client import CloudClient

    client = CloudClient(home)
    info = client.running()
    if info is None:
        if as_json:
            render.print_json({"running": False, "home": str(client.home.root)})
        else:
            render.out().print(f"the local cloud is not running (home {client.home.root})",
                               markup=False)
        return
    from aloft.cli.commands.dashboard import dashboard_url

    data = {"running": True, **client.call("GET", "cloud"),
            "dashboard": dashboard_url(info.port, client.home.token() or "")}
    if as_json:
        render.print_json(data)
        return
    from aloft.cli import formatting

    render.sections(formatting.document_sections(data, title="local cloud"))
